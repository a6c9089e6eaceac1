//! Implementations of the ports: `embedded` for the local stack, `aws` for production, and
//! what both mailers share: the e-mail as MIME bytes (`mime`).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod mime;
