//! AWS SDK failures in the ports' terms, for every adapter here: the service's error code and
//! message when it answered, never a request's values. DynamoDB's failed conditions are answers
//! (the write did not happen), not errors.

// Every SDK crate re-exports these same smithy types; the DynamoDB crate's serve all services.
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::ports::{PortError, PortResult};

/// An SDK failure reduced to what an adapter decides on: the service's error code, if any.
pub(super) struct SdkFailure {
    pub code: Option<String>,
    pub detail: String,
}

impl SdkFailure {
    /// `service` names the service in the detail ("DynamoDB", "SQS", …).
    pub fn new<E, R>(service: &str, e: SdkError<E, R>) -> SdkFailure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match e.as_service_error() {
            Some(err) => SdkFailure {
                code: err.code().map(str::to_owned),
                detail: format!(
                    "{service} {}: {}",
                    err.code().unwrap_or("error"),
                    err.message().unwrap_or("no message")
                ),
            },
            None => SdkFailure {
                code: None,
                detail: format!("{service} request failed: {}", DisplayErrorContext(&e)),
            },
        }
    }

    fn is_condition_failure(&self) -> bool {
        self.code.as_deref() == Some("ConditionalCheckFailedException")
    }
}

/// Throttling, 5xx, timeouts and dispatch failures are all worth retrying; other service
/// errors (a missing table, a rejected request) are not, but the port has no better word and
/// the detail says which. Messages carry codes and AWS's text, never item values.
impl From<SdkFailure> for PortError {
    fn from(f: SdkFailure) -> PortError {
        PortError::Unavailable(f.detail)
    }
}

/// Any SDK failure as `PortError::Unavailable`, with the service's code and message when it
/// answered.
pub(super) fn sdk_unavailable<E, R>(service: &str, e: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    SdkFailure::new(service, e).into()
}

/// A DynamoDB request the SDK would not build.
pub(super) fn request(e: BuildError) -> PortError {
    PortError::Unavailable(format!("cannot build DynamoDB request: {e}"))
}

/// A conditional write's outcome: `None` when its condition did not hold.
pub(super) fn conditional<T, E, R>(r: Result<T, SdkError<E, R>>) -> PortResult<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match r {
        Ok(out) => Ok(Some(out)),
        Err(e) => {
            let f = SdkFailure::new("DynamoDB", e);
            if f.is_condition_failure() {
                Ok(None)
            } else {
                Err(f.into())
            }
        }
    }
}

/// For a transaction cancelled by conditions: which of its items failed theirs.
pub(super) fn failed_conditions<R>(e: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<bool>> {
    let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error()
    else {
        return None;
    };
    let flags: Vec<bool> = c
        .cancellation_reasons()
        .iter()
        .map(|r| r.code() == Some("ConditionalCheckFailed"))
        .collect();
    // Cancelled for another reason (a conflicting transaction, throttling): worth a retry.
    flags.contains(&true).then_some(flags)
}
