//! The API's routes, one module per resource; `crate::router` puts them together.

pub mod invoices;
pub mod key_check;
pub mod messages;
pub mod opt_outs;
pub mod preview;
pub mod replies;
