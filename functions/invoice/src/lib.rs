//! The monthly invoices: the document (PDF/A-3b with Factur-X XML).

pub mod document;
