//! The invoice document: one German PDF/A-3b page (or two) carrying the same invoice as
//! Factur-X / ZUGFeRD XML (`factur-x.xml`, EN 16931). Both are printed from the stored
//! invoice alone, so printing an invoice again gives the same document (the PDF's dates and
//! id come from the invoice, not from the clock).

mod pdf;
pub mod xml;
mod xmp;

use praxis_shared::domain::Cents;
use praxis_shared::domain::invoice::Invoice;

/// The name the embedded XML must have (Factur-X 1.0, §6.2.2).
pub const XML_NAME: &str = "factur-x.xml";

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("PDF: {0}")]
    Pdf(String),
}

/// The invoice as a PDF/A-3b with its Factur-X XML embedded.
pub fn render(invoice: &Invoice) -> Result<Vec<u8>, DocumentError> {
    let xml = xml::cii(invoice);
    let pdf = pdf::render(invoice, xml.into_bytes())?;
    xmp::declare_factur_x(pdf)
}

/// The payment sentence both documents carry.
pub(crate) fn payment_terms(invoice: &Invoice) -> String {
    let doc = &invoice.doc;
    if doc.computed.gross <= Cents::ZERO {
        return "Es ist nichts zu zahlen.".to_owned();
    }
    format!(
        "Zahlbar ohne Abzug bis zum {} per Überweisung unter Angabe der Rechnungsnummer {}.",
        doc.due_date.format("%d.%m.%Y"),
        invoice.number
    )
}
