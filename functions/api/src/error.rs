//! Every way an API request can fail, and the one place that turns a failure into a status
//! code and the JSON error body of docs/contract.md ("Errors").

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use praxis_shared::ports::PortError;
use praxis_shared::web::{self, Failure};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The request is not of the API's form: a field it does not know, one given twice, a body
    /// that broke off. 400, where `Invalid` (422) is a well-formed request with a bad value.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Gone(&'static str),
    #[error("this Idempotency-Key was used with a different request body")]
    IdempotencyKeyReused,
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body must be JSON, sent with `Content-Type: application/json`")]
    UnsupportedMediaType,
    /// The practice's daily cap would be passed; nothing was stored. A new day's cap begins
    /// in `retry_after` seconds (the practice's local midnight).
    #[error(
        "the practice's daily limit of {cap} SMS would be exceeded; nothing was stored, retry after local midnight"
    )]
    DailyLimitReached { cap: u32, retry_after: u64 },
    /// The practice made its requests of this minute; nothing was done. The next minute
    /// begins in `retry_after` seconds.
    #[error(
        "too many requests: at most {limit} a minute per practice; nothing was done, retry after the minute"
    )]
    RateLimited { limit: u32, retry_after: u64 },
    #[error("temporarily unavailable, please retry")]
    Unavailable(#[source] PortError),
    #[error("internal error")]
    Internal(#[source] PortError),
}

impl ApiError {
    pub fn invalid(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::Invalid {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::IdempotencyKeyReused => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::DailyLimitReached { .. } | ApiError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BadRequest { code, .. } | ApiError::Invalid { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::Forbidden(_) => "invalid_link",
            ApiError::Gone(_) => "link_expired",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::DailyLimitReached { .. } => "daily_limit_reached",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { field, .. } | ApiError::Invalid { field, .. } => {
                field.as_deref()
            }
            _ => None,
        }
    }

    /// The `{"error": {...}}` object (also a failed item's place in a batch answer).
    pub fn body(&self) -> Failure {
        Failure::new(
            self.code(),
            self.to_string(),
            self.field().map(str::to_owned),
        )
    }

    /// Prefixes the field path, for items inside a batch.
    pub fn in_item(self, index: usize) -> ApiError {
        let at = |field: Option<String>| {
            Some(match field {
                Some(f) => format!("messages[{index}].{f}"),
                None => format!("messages[{index}]"),
            })
        };
        match self {
            ApiError::Invalid {
                code,
                message,
                field,
            } => ApiError::Invalid {
                code,
                message,
                field: at(field),
            },
            ApiError::BadRequest {
                code,
                message,
                field,
            } => ApiError::BadRequest {
                code,
                message,
                field: at(field),
            },
            other => other,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(e) => tracing::error!(error = %e, "request failed"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "backend unavailable"),
            _ => {}
        }
        let mut res = web::json(self.status(), &self.body());
        if matches!(self, ApiError::Unauthorized) {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::DailyLimitReached { retry_after, .. }
        | ApiError::RateLimited { retry_after, .. } = self
        {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        res
    }
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Unavailable(_) | PortError::Conflict(_) => ApiError::Unavailable(e),
            PortError::Corrupt(_) => ApiError::Internal(e),
        }
    }
}
