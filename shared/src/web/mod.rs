//! What every HTTP function answers with: JSON bodies, the one error shape
//! `{"error":{"code","message","field"?}}` (docs/contract.md, "Errors"), and the answers for
//! routes and methods that do not exist, so axum's own rejections never leave a bare body.
//! `webhook` is what every carrier webhook does before its own work: authenticate the call.

pub mod webhook;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// The inside of every error answer: a stable `code` for programs, a `message` for people and,
/// where one input is to blame, the `field` (a JSON path such as `messages[3].to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `{"error": …}`: a failed request's body, and a failed item's place in a batch answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub error: ErrorBody,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>, field: Option<String>) -> Failure {
        Failure {
            error: ErrorBody {
                code,
                message: message.into(),
                field,
            },
        }
    }
}

/// `value` as a JSON answer with `status`.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut res = Response::new(Body::from(bytes));
            *res.status_mut() = status;
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            res
        }
        Err(e) => {
            // Our view types always serialize; if one ever does not, say so without a panic.
            tracing::error!(error = %e, "response not serializable");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
                None,
            )
        }
    }
}

/// An error answer in the one shape.
pub fn error(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
    field: Option<String>,
) -> Response {
    json(status, &Failure::new(code, message, field))
}

/// The fallback of every router: a path it does not serve.
pub async fn no_route() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "route not found", None)
}

/// The method fallback of every router: axum adds the `Allow` header RFC 9110 requires.
pub async fn wrong_method() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed",
        None,
    )
}
