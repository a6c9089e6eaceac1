//! Implementations of the ports: `embedded` for the local stack, `aws` for production.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "embedded")]
pub mod embedded;
