//! The e-mail that announces an invoice: German, plain text and simple HTML, the invoice's
//! number, month and amount, and a link that downloads the PDF without an API key.

use praxis_shared::domain::invoice::Invoice;
use praxis_shared::domain::org::Org;
use praxis_shared::ports::Email;

pub const FROM_NAME: &str = "praxis-sms Rechnungen";

pub struct InvoiceMail<'a> {
    pub org: &'a Org,
    pub invoice: &'a Invoice,
    pub link: &'a str,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl InvoiceMail<'_> {
    pub fn subject(&self) -> String {
        format!(
            "Ihre Rechnung {} für {}",
            self.invoice.number,
            self.invoice.month.german()
        )
    }

    fn amount_line(&self) -> String {
        let c = &self.invoice.doc.computed;
        if c.gross.get() <= 0 {
            format!(
                "Der Rechnungsbetrag ist {}: Ihr erster Monat ist kostenlos.",
                c.gross.german()
            )
        } else {
            format!(
                "Rechnungsbetrag: {} (netto {} zzgl. {} % USt. {}), zahlbar bis zum {}.",
                c.gross.german(),
                c.net.german(),
                c.vat_percent,
                c.vat.german(),
                self.invoice.doc.due_date.format("%d.%m.%Y")
            )
        }
    }

    pub fn text(&self) -> String {
        format!(
            "Guten Tag,\n\n\
             Ihre Rechnung {} für die Nutzung von praxis-sms im {} liegt bereit.\n\n\
             {}\n\n\
             Rechnung als PDF herunterladen (ZUGFeRD/Factur-X, für Ihre Buchhaltung):\n{}\n\n\
             Der Link funktioniert ohne Anmeldung und ist 400 Tage gültig; die Rechnung finden \
             Sie außerdem jederzeit über die API (GET /v1/invoices).\n\n\
             Mit freundlichen Grüßen\n{}\n",
            self.invoice.number,
            self.invoice.month.german(),
            self.amount_line(),
            self.link,
            self.invoice.doc.seller.name,
        )
    }

    pub fn html(&self) -> String {
        format!(
            "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
             <body style=\"font-family: sans-serif\"><p>Guten Tag,</p>\
             <p>Ihre Rechnung <strong>{number}</strong> für die Nutzung von praxis-sms im {month} liegt bereit.</p>\
             <p>{amount}</p>\
             <p><a href=\"{link}\">Rechnung als PDF herunterladen</a> (ZUGFeRD/Factur-X, für Ihre Buchhaltung)</p>\
             <p style=\"color:#555\">Der Link funktioniert ohne Anmeldung und ist 400 Tage gültig; die Rechnung \
             finden Sie außerdem jederzeit über die API (GET /v1/invoices).</p>\
             <p>Mit freundlichen Grüßen<br>{seller}</p></body></html>",
            subject = html_escape(&self.subject()),
            number = html_escape(&self.invoice.number.to_string()),
            month = html_escape(&self.invoice.month.german()),
            amount = html_escape(&self.amount_line()),
            link = html_escape(self.link),
            seller = html_escape(&self.invoice.doc.seller.name),
        )
    }

    pub fn email(&self) -> Email {
        Email {
            to: self.org.email.as_str().to_owned(),
            from_name: FROM_NAME.to_owned(),
            subject: self.subject(),
            text: self.text(),
            html: Some(self.html()),
        }
    }
}
