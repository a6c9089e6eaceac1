//! The e-mail that forwards a patient's reply to the practice, in German, as plain text and as
//! simple HTML: who wrote (the number as the practice writes it), when (the practice's local
//! time), the text, the message it answers, an opt-out it caused, and that appointments are
//! changed by phone and an answer to the e-mail does not reach the patient.

use praxis_shared::domain::message::Message;
use praxis_shared::domain::org::Org;
use praxis_shared::domain::reply::Reply;
use praxis_shared::markup::escape;
use praxis_shared::ports::Email;

use crate::local_time::{german, local_time};
use crate::optout::Keyword;

/// The sender's display name on every forwarded reply. ASCII on purpose: a longer non-ASCII
/// name (a practice's, say) is split into several RFC 2047 words, which Python's `email` (3.11)
/// and some other readers show with a stray space inside a word.
pub const FROM_NAME: &str = "praxis-sms SMS-Antworten";

/// What the e-mail is made of.
pub struct ReplyMail<'a> {
    pub org: &'a Org,
    pub reply: &'a Reply,
    /// The message the reply answers, if there is one.
    pub answers: Option<&'a Message>,
    /// The opt-out keyword the reply is, if it is one.
    pub keyword: Option<Keyword>,
}

const NOT_FOUND: &str = "Zu dieser Nummer wurde in den letzten 60 Tagen keine SMS Ihrer Praxis gefunden, auf die sich die Antwort beziehen könnte.";
const PHONE_NOTE: &str = "Bitte vereinbaren, verschieben oder sagen Sie Termine telefonisch mit dem Patienten ab. Eine Antwort auf diese E-Mail erreicht den Patienten nicht.";

impl ReplyMail<'_> {
    pub fn subject(&self) -> String {
        format!("SMS-Antwort von {}", self.number())
    }

    fn number(&self) -> String {
        self.reply.from.display_for(self.org.region)
    }

    fn when(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        german(local_time(self.org.region, at))
    }

    fn change_line(&self) -> Option<&'static str> {
        self.keyword.map(Keyword::notice_de)
    }

    /// The earlier message as "vom <time>" and its text, if it was sent.
    fn answered(&self) -> Option<(String, &str)> {
        let m = self.answers?;
        let sent = m.sent_at.unwrap_or(m.created_at);
        Some((self.when(sent), m.text.as_str()))
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "Ein Patient hat auf eine SMS Ihrer Praxis geantwortet.\n\n\
             Von:      {}\n\
             Erhalten: {}\n\n\
             {}\n",
            self.number(),
            self.when(self.reply.received_at),
            quoted(&self.reply.text),
        );
        match self.answered() {
            Some((sent, text)) => out.push_str(&format!(
                "\nDie Antwort bezieht sich auf Ihre SMS vom {sent}:\n\n{}\n",
                quoted(text)
            )),
            None => out.push_str(&format!("\n{NOT_FOUND}\n")),
        }
        if let Some(line) = self.change_line() {
            out.push_str(&format!("\n{line}\n"));
        }
        out.push_str(&format!(
            "\n{PHONE_NOTE}\n\n-- \nWeitergeleitet von praxis-sms für {}\n",
            self.org.name.as_str()
        ));
        out
    }

    pub fn html(&self) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
             <body style=\"font-family: sans-serif\">\n\
             <p>Ein Patient hat auf eine SMS Ihrer Praxis geantwortet.</p>\n\
             <table>\n<tr><td>Von:</td><td><strong>{}</strong></td></tr>\n\
             <tr><td>Erhalten:</td><td>{}</td></tr>\n</table>\n\
             <blockquote style=\"border-left: 3px solid #888; margin-left: 0; padding-left: 1em\">{}</blockquote>\n",
            escape(&self.subject()),
            escape(&self.number()),
            escape(&self.when(self.reply.received_at)),
            lines(&self.reply.text),
        );
        match self.answered() {
            Some((sent, text)) => out.push_str(&format!(
                "<p>Die Antwort bezieht sich auf Ihre SMS vom {}:</p>\n\
                 <blockquote style=\"color: #555; margin-left: 0; padding-left: 1em\">{}</blockquote>\n",
                escape(&sent),
                lines(text)
            )),
            None => out.push_str(&format!("<p>{}</p>\n", escape(NOT_FOUND))),
        }
        if let Some(line) = self.change_line() {
            out.push_str(&format!("<p><strong>{}</strong></p>\n", escape(line)));
        }
        out.push_str(&format!(
            "<p><em>{}</em></p>\n<p style=\"color: #888\">Weitergeleitet von praxis-sms für {}</p>\n</body></html>\n",
            escape(PHONE_NOTE),
            escape(self.org.name.as_str())
        ));
        out
    }

    pub fn email(&self) -> Email {
        Email {
            to: self.org.reply_address().as_str().to_owned(),
            from_name: FROM_NAME.to_owned(),
            subject: self.subject(),
            text: self.text(),
            html: Some(self.html()),
        }
    }
}

/// A text set off by indentation, line by line.
fn quoted(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A text as HTML with its line breaks kept.
fn lines(text: &str) -> String {
    text.lines().map(escape).collect::<Vec<_>>().join("<br>\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use praxis_shared::domain::org::{EmailAddress, OrgName};
    use praxis_shared::domain::{
        MessageId, MessageText, OrgId, PhoneNumber, Region, ReplyId, SenderId,
    };

    fn at(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, min, 0)
            .single()
            .expect("time")
    }

    fn org(region: &str) -> Org {
        Org {
            id: OrgId::new(at(1, 1, 0, 0)),
            name: OrgName::parse("Zahnarztpraxis Dr. Mustermann").expect("name"),
            email: EmailAddress::parse("praxis@example.de").expect("email"),
            reply_email: None,
            default_sender: None,
            region: Region::parse(region).expect("region"),
            reply_number: Some(PhoneNumber::parse("+4915112340000", Region::DE).expect("n")),
            activated_on: at(1, 1, 0, 0).date_naive(),
            address: None,
            created_at: at(1, 1, 0, 0),
            daily_cap: None,
        }
    }

    fn reply(from: &str, text: &str) -> Reply {
        Reply {
            id: ReplyId::new(at(11, 17, 9, 15)),
            org_id: OrgId::new(at(1, 1, 0, 0)),
            from: PhoneNumber::parse(from, Region::DE).expect("from"),
            to: PhoneNumber::parse("+4915112340000", Region::DE).expect("to"),
            text: text.into(),
            received_at: at(11, 17, 9, 15),
            carrier: "sim".into(),
            carrier_ref: "in-1".into(),
            in_reply_to: None,
            forwarded_at: None,
        }
    }

    fn reminder() -> Message {
        let m = Message::accepted(
            MessageId::new(at(11, 16, 8, 0)),
            OrgId::new(at(1, 1, 0, 0)),
            PhoneNumber::parse("+4917612345678", Region::DE).expect("to"),
            SenderId::parse("+4915112340000").expect("sender"),
            MessageText::parse(
                "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr",
                false,
            )
            .expect("text"),
            None,
            at(11, 16, 8, 0),
        );
        Message {
            sent_at: Some(at(11, 16, 8, 0)),
            ..m
        }
    }

    #[test]
    fn the_reply_with_the_message_it_answers_in_german_and_local_time() {
        let (o, r, m) = (
            org("DE"),
            reply("+4917612345678", "Ja, ich komme. Grüße"),
            reminder(),
        );
        let mail = ReplyMail {
            org: &o,
            reply: &r,
            answers: Some(&m),
            keyword: None,
        };
        assert_eq!(mail.subject(), "SMS-Antwort von 0176 12345678");
        let text = mail.text();
        assert!(text.contains("Von:      0176 12345678\n"), "{text}");
        // 09:15 UTC in November is 10:15 in Berlin.
        assert!(
            text.contains("Erhalten: Dienstag, 17.11.2026, 10:15 Uhr\n"),
            "{text}"
        );
        assert!(text.contains("\n    Ja, ich komme. Grüße\n"), "{text}");
        assert!(
            text.contains("Ihre SMS vom Montag, 16.11.2026, 09:00 Uhr:\n\n    Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr\n"),
            "{text}"
        );
        assert!(text.contains("telefonisch"), "{text}");
        assert!(
            text.contains("Eine Antwort auf diese E-Mail erreicht den Patienten nicht."),
            "{text}"
        );
        assert!(!text.contains("abgemeldet"), "{text}");
        let email = mail.email();
        assert_eq!(email.to, "praxis@example.de");
        assert_eq!(email.from_name, FROM_NAME);
        let html = email.html.expect("html");
        assert!(html.contains("<strong>0176 12345678</strong>"), "{html}");
        assert!(html.contains("Terminerinnerung Silvana Müller"), "{html}");
    }

    #[test]
    fn without_an_earlier_message_it_says_none_was_found() {
        let (o, r) = (org("DE"), reply("+4917612345678", "Wer ist da?"));
        let mail = ReplyMail {
            org: &o,
            reply: &r,
            answers: None,
            keyword: None,
        };
        assert!(mail.text().contains(NOT_FOUND), "{}", mail.text());
        assert!(mail.html().contains("keine SMS Ihrer Praxis gefunden"));
    }

    #[test]
    fn a_foreign_number_is_international_and_an_austrian_practice_gets_vienna_time() {
        let (o, r) = (org("AT"), reply("+4917612345678", "Ja"));
        let mail = ReplyMail {
            org: &o,
            reply: &r,
            answers: None,
            keyword: None,
        };
        assert_eq!(mail.subject(), "SMS-Antwort von +49 176 12345678");
        assert!(
            mail.text()
                .contains("Erhalten: Dienstag, 17.11.2026, 10:15 Uhr")
        );
    }

    #[test]
    fn the_practices_reply_address_wins_over_its_email() {
        let mut o = org("DE");
        o.reply_email = Some(EmailAddress::parse("empfang@example.de").expect("email"));
        let r = reply("+4917612345678", "Ja");
        let mail = ReplyMail {
            org: &o,
            reply: &r,
            answers: None,
            keyword: None,
        };
        assert_eq!(mail.email().to, "empfang@example.de");
    }

    #[test]
    fn an_opt_out_is_said_and_html_is_escaped() {
        let (o, r) = (org("DE"), reply("+4917612345678", "STOP <b>&</b>\nbitte"));
        let mail = ReplyMail {
            org: &o,
            reply: &r,
            answers: None,
            keyword: Some(Keyword::Stop),
        };
        assert!(mail.text().contains("abgemeldet"), "{}", mail.text());
        let html = mail.html();
        assert!(
            html.contains("STOP &lt;b&gt;&amp;&lt;/b&gt;<br>\nbitte"),
            "{html}"
        );
        assert!(!html.contains("<b>&</b>"), "{html}");
        let back = ReplyMail {
            org: &o,
            reply: &r,
            answers: None,
            keyword: Some(Keyword::Start),
        };
        assert!(back.text().contains("wieder"), "{}", back.text());
    }
}
