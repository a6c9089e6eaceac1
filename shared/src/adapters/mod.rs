//! Implementations of the ports: `embedded` for the local stack, `aws` for production.

#[cfg(feature = "embedded")]
pub mod embedded;
