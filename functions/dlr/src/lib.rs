//! Carrier webhooks as one axum `Router`: delivery reports (`POST /webhooks/{carrier}/dlr`) and
//! inbound SMS (`POST /webhooks/{carrier}/inbound`). Authenticates the carrier's call, then maps
//! a report onto our statuses and applies it as a conditional write, so late or repeated reports
//! change nothing, or stores an inbound SMS once as a practice's reply (`inbound`).

pub mod error;
pub mod inbound;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::response::Response;
use axum::routing::post;
use http::StatusCode;
use praxis_shared::carriers::{
    CarrierWebhooks, DeliveryReport, ReportTarget, WebhookError, WebhookRequest,
};
use praxis_shared::domain::Status;
use praxis_shared::domain::message::Transition;
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;
use praxis_shared::web;
use serde::Serialize;

pub use crate::error::WebhookFailure;

/// Largest webhook body we read; carriers send a few hundred bytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

/// What the webhook routes run with.
struct Hooks {
    svc: Services,
    /// The externally visible base URL carriers call, if configured (they sign the full URL).
    public_url: Option<String>,
}

type Shared = State<Arc<Hooks>>;

/// The webhook routes. `public_url` is the base URL carriers call this stack at, as they see
/// it; without one it is rebuilt from the request's forwarded protocol and host.
pub fn router(svc: Services, public_url: Option<String>) -> Router {
    let hooks = Arc::new(Hooks {
        svc,
        public_url: public_url.map(|u| u.trim().trim_end_matches('/').to_owned()),
    });
    Router::new()
        .route("/webhooks/{carrier}/dlr", post(delivery_reports))
        .route("/webhooks/{carrier}/inbound", post(inbound_sms))
        .fallback(web::no_route)
        .method_not_allowed_fallback(web::wrong_method)
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(hooks)
}

#[derive(Serialize)]
struct Ack {
    ok: bool,
}

fn ack() -> Response {
    web::json(StatusCode::OK, &Ack { ok: true })
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
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(req.uri().host())
        .unwrap_or("localhost");
    format!("{proto}://{host}{path_and_query}")
}

/// A webhook call whose carrier is known and whose signature holds: its webhooks and body.
struct Verified {
    hooks: Arc<dyn CarrierWebhooks>,
    body: Bytes,
}

/// Finds the carrier, reads the body, and checks the carrier's signature (or token).
async fn verified(h: &Hooks, carrier: &str, req: Request) -> Result<Verified, WebhookFailure> {
    let hooks = h
        .svc
        .webhooks_for(carrier)
        .cloned()
        .ok_or(WebhookFailure::UnknownCarrier)?;
    let url = called_url(&req, h.public_url.as_deref());
    let (method, headers) = (req.method().clone(), req.headers().clone());
    let body = Bytes::from_request(req, &())
        .await
        .map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => WebhookFailure::TooLarge,
            _ => WebhookFailure::BrokenBody,
        })?;
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
    let call = WebhookRequest {
        method: method.as_str(),
        url: &url,
        headers: &headers,
        body: &body,
    };
    if let Err(e) = hooks.verify(&call, h.svc.clock.now()) {
        tracing::warn!(carrier, error = %e, "webhook rejected");
        return Err(WebhookFailure::Unauthorized);
    }
    Ok(Verified { hooks, body })
}

async fn inbound_sms(
    State(h): Shared,
    Path(carrier): Path<String>,
    req: Request,
) -> Result<Response, WebhookFailure> {
    let Verified { hooks, body } = verified(&h, &carrier, req).await?;
    let sms = match hooks.parse_inbound(&body) {
        Ok(Some(sms)) => sms,
        Ok(None) => return Ok(ack()),
        Err(e) => {
            tracing::warn!(carrier, error = %e, "inbound SMS not understood");
            return Err(WebhookFailure::BadPayload("inbound SMS"));
        }
    };
    match inbound::receive(&h.svc, &carrier, &sms).await {
        Ok(_) => Ok(ack()),
        Err(e) => {
            // A 5xx makes the carrier send it again; storing it twice is harmless.
            tracing::error!(carrier, error = %e, "inbound SMS not stored");
            Err(WebhookFailure::Unavailable)
        }
    }
}

async fn delivery_reports(
    State(h): Shared,
    Path(carrier): Path<String>,
    req: Request,
) -> Result<Response, WebhookFailure> {
    let Verified { hooks, body } = verified(&h, &carrier, req).await?;
    let reports = hooks.parse_reports(&body).map_err(|e| {
        tracing::warn!(carrier, error = %e, "delivery report not understood");
        WebhookFailure::BadPayload("delivery report")
    })?;
    for report in &reports {
        if let Err(e) = apply_report(&h.svc, &carrier, report).await {
            // A 5xx makes the carrier send the report again; applying it twice is harmless.
            tracing::error!(carrier, error = %e, "delivery report not stored");
            return Err(WebhookFailure::Unavailable);
        }
    }
    Ok(ack())
}

/// Applies one report. Unknown messages are acknowledged and logged (the carrier must stop).
pub async fn apply_report(
    svc: &Services,
    carrier: &str,
    report: &DeliveryReport,
) -> Result<(), PortError> {
    let id = match &report.target {
        ReportTarget::Ours(id) => Some(*id),
        ReportTarget::CarrierRef(r) => svc.store.find_by_carrier_ref(carrier, r).await?,
    };
    let Some(id) = id else {
        tracing::warn!(
            carrier,
            "delivery report for an unknown message; acknowledged"
        );
        return Ok(());
    };
    let Some(status) = report.status else {
        tracing::debug!(message_id = %id, "report without news");
        return Ok(());
    };
    // History times are when we learned of a change, on our own clock: a carrier's timestamp
    // may be skewed and would let a report sort before the `sent` we wrote ourselves.
    let at = svc.clock.now();
    // A report proves the carrier took the message; if it overtook the dispatcher's own
    // record, `sent` is written first so the history keeps its order.
    if matches!(
        status,
        Status::Buffered | Status::Delivered | Status::Undelivered
    ) {
        svc.store
            .apply(&Transition::new(id, Status::Sent, at))
            .await?;
    }
    let mut t = Transition::new(id, status, at);
    if let Some(r) = report.reason {
        t = t.with_reason(r);
    }
    let changed = svc.store.apply(&t).await?;
    tracing::info!(message_id = %id, carrier, status = %status, changed, "delivery report");
    Ok(())
}
