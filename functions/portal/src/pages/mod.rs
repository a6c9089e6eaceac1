//! The portal's pages, one module each: handlers that read through the ports and render with
//! maud.

pub mod apikey;
pub mod auth;
pub mod checker;
pub mod invoices;
pub mod messages;
pub mod overview;
pub mod replies;
pub mod settings;

use maud::Markup;

/// A rendered page: maud's `Markup` answers `text/html; charset=utf-8`.
pub type Html = Markup;
