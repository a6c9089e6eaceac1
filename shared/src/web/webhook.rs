//! What every carrier webhook does before its own work, whichever function serves it (delivery
//! reports in `dlr`, inbound SMS in `inbound`): find the carrier, read the body within the
//! limit, make the carrier's secrets ready and check its signature. And every way such a call
//! can fail, mapped in one place to its status code and the JSON error body: carriers retry on
//! 5xx, and 4xx tells them to stop.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::carriers::{CarrierWebhooks, WebhookError, WebhookRequest};
use crate::services::Services;

/// Largest webhook body we read; carriers send a few hundred bytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

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
        super::error(status, code, self.to_string(), None)
    }
}

#[derive(Serialize)]
struct Ack {
    ok: bool,
}

/// `200 {"ok":true}`: the carrier may stop sending this call.
pub fn ack() -> Response {
    super::json(StatusCode::OK, &Ack { ok: true })
}

/// What a webhook function runs with: its services and the base URL carriers call it at.
pub struct Hooks {
    pub svc: Services,
    /// The externally visible base URL carriers call, if configured (they sign the full URL).
    public_url: Option<String>,
}

impl Hooks {
    /// `public_url` is the base URL carriers call this stack at, as they see it; without one it
    /// is rebuilt from the request's forwarded protocol and host.
    pub fn new(svc: Services, public_url: Option<String>) -> Arc<Hooks> {
        Arc::new(Hooks {
            svc,
            public_url: public_url.map(|u| u.trim().trim_end_matches('/').to_owned()),
        })
    }

    /// Finds the carrier, reads the body, and checks the carrier's signature (or token).
    pub async fn verified(&self, carrier: &str, req: Request) -> Result<Verified, WebhookFailure> {
        let hooks = self
            .svc
            .webhooks_for(carrier)
            .cloned()
            .ok_or(WebhookFailure::UnknownCarrier)?;
        let url = called_url(&req, self.public_url.as_deref());
        let (method, headers) = (req.method().clone(), req.headers().clone());
        let body = Bytes::from_request(req, &())
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => WebhookFailure::TooLarge,
                _ => WebhookFailure::BrokenBody,
            })?;
        let call = WebhookRequest {
            method: method.as_str(),
            url: &url,
            headers: &headers,
            body: &body,
        };
        // Before the secrets: a call that does not even carry a signature is refused without
        // a secret-store request, so an anonymous flood cannot throttle our own SSM.
        if !hooks.carries_signature(&call) {
            tracing::warn!(carrier, "webhook without the carrier's signature");
            crate::metrics::emit(crate::metrics::Count::WebhookRejected, 1, Some(carrier));
            return Err(WebhookFailure::Unauthorized);
        }
        match hooks.ready().await {
            Ok(()) => {}
            Err(WebhookError::NotConfigured(e)) => {
                tracing::warn!(carrier, error = %e, "webhook of a carrier without credentials");
                return Err(WebhookFailure::UnknownCarrier);
            }
            Err(e) => {
                // 5xx: the carrier calls again later, by when the secrets may be reachable.
                tracing::error!(carrier, error = %e, "carrier secrets unavailable");
                return Err(WebhookFailure::Unavailable);
            }
        }
        if let Err(e) = hooks.verify(&call, self.svc.clock.now()) {
            tracing::warn!(carrier, error = %e, "webhook rejected");
            crate::metrics::emit(crate::metrics::Count::WebhookRejected, 1, Some(carrier));
            return Err(WebhookFailure::Unauthorized);
        }
        Ok(Verified { hooks, body })
    }
}

/// A webhook call whose carrier is known and whose signature holds: its webhooks and body.
pub struct Verified {
    pub hooks: Arc<dyn CarrierWebhooks>,
    pub body: Bytes,
}

/// The URL the carrier called, as it saw it: the configured public base URL if there is one,
/// else rebuilt from the forwarded protocol and host headers.
pub fn called_url(req: &Request, public_base: Option<&str>) -> String {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if let Some(base) = public_base {
        return format!("{}{}", base.trim_end_matches('/'), path_and_query);
    }
    let headers = req.headers();
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("https");
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(req.uri().host())
        .unwrap_or("localhost");
    format!("{proto}://{host}{path_and_query}")
}
