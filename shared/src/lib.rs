//! praxis-sms's shared library: the domain rules, the ports the handlers depend on, their
//! adapters, and the carriers. The Lambda functions and the local stack are built from it.

pub mod adapters;
pub mod carriers;
pub mod domain;
pub mod http;
pub mod invoice_links;
pub mod markup;
pub mod metrics;
pub mod ports;
pub mod services;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "web")]
pub mod web;
pub mod wiring;
