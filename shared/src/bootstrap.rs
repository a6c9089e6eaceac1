//! Building the services a Lambda function runs with, once per cold start, from its
//! environment. Production Lambdas use the AWS adapters; a binary built without them says so
//! at init instead of running on a backend that cannot work in Lambda.

use crate::services::Services;

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("this binary was built without the AWS backend (cargo feature `aws`)")]
    NoAwsBackend,
    #[error("configuration: {0}")]
    Config(String),
}

/// The services of a Lambda function, from its environment variables.
pub async fn lambda_services() -> Result<Services, BootstrapError> {
    Err(BootstrapError::NoAwsBackend)
}
