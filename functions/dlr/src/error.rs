//! Every way a webhook call can fail, and the one place that turns a failure into its status
//! code and the JSON error body. Carriers retry on 5xx; 4xx tells them to stop.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use praxis_shared::web;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookFailure {
    /// No such carrier here, or one whose credentials this deployment does not have.
    #[error("unknown carrier")]
    UnknownCarrier,
    #[error("body too large")]
    TooLarge,
    #[error("request body broken off")]
    BrokenBody,
    #[error("webhook not authenticated")]
    Unauthorized,
    /// What the carrier sent is not what it documents; the name says which kind of call.
    #[error("{0} not understood")]
    BadPayload(&'static str),
    /// Our side cannot take it now (store or secrets down): the carrier should call again.
    #[error("try again")]
    Unavailable,
}

impl WebhookFailure {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            WebhookFailure::UnknownCarrier => (StatusCode::NOT_FOUND, "not_found"),
            WebhookFailure::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            WebhookFailure::BrokenBody => (StatusCode::BAD_REQUEST, "broken_body"),
            WebhookFailure::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            WebhookFailure::BadPayload(_) => (StatusCode::BAD_REQUEST, "bad_payload"),
            WebhookFailure::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }
}

impl IntoResponse for WebhookFailure {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        web::error(status, code, self.to_string(), None)
    }
}
