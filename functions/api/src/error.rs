//! Every way an API request can fail, and the one place that turns a failure into a status
//! code and the JSON error body of DESIGN.md.

use http::StatusCode;
use lambda_http::{Body, Response};
use praxis_shared::ports::PortError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
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
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("this Idempotency-Key was used with a different request body")]
    IdempotencyKeyReused,
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
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
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::IdempotencyKeyReused => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::Invalid { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The `{"error": {...}}` object (also used for failed items of a batch).
    pub fn body(&self) -> serde_json::Value {
        let mut e = json!({ "code": self.code(), "message": self.to_string() });
        if let Some(f) = self.field() {
            e["field"] = json!(f);
        }
        json!({ "error": e })
    }

    pub fn into_response(self) -> Response<Body> {
        match &self {
            ApiError::Internal(e) => tracing::error!(error = %e, "request failed"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "backend unavailable"),
            _ => {}
        }
        let mut res = crate::json_response(self.status(), &self.body());
        if matches!(self, ApiError::Unauthorized) {
            res.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }

    /// Prefixes the field path, for items inside a batch.
    pub fn in_item(self, index: usize) -> ApiError {
        match self {
            ApiError::Invalid {
                code,
                message,
                field,
            } => ApiError::Invalid {
                code,
                message,
                field: Some(match field {
                    Some(f) => format!("messages[{index}].{f}"),
                    None => format!("messages[{index}]"),
                }),
            },
            other => other,
        }
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
