//! Carrier webhooks: delivery reports (`POST /webhooks/{carrier}/dlr`) and inbound SMS
//! (`POST /webhooks/{carrier}/inbound`). Authenticates the carrier's call, then maps a report
//! onto our statuses and applies it as a conditional write, so late or repeated reports change
//! nothing, or stores an inbound SMS once as a practice's reply (`inbound`).

pub mod inbound;

use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use praxis_shared::carriers::{
    CarrierWebhooks, DeliveryReport, ReportTarget, WebhookError, WebhookRequest,
};
use praxis_shared::domain::Status;
use praxis_shared::domain::message::Transition;
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;
use serde_json::json;

/// Largest webhook body we read; carriers send a few hundred bytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

fn respond(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut res = Response::new(Body::Text(body.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    res
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    respond(
        status,
        json!({ "error": { "code": code, "message": message } }),
    )
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

/// Handles a webhook call. `public_base` is the externally visible base URL, if configured.
pub async fn handle(svc: &Services, req: Request, public_base: Option<&str>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let Some(pos) = parts.iter().position(|p| *p == "webhooks") else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such webhook");
    };
    let (carrier, kind) = match &parts[pos + 1..] {
        [carrier, kind] => (*carrier, *kind),
        _ => return error(StatusCode::NOT_FOUND, "not_found", "no such webhook"),
    };
    let Some(hooks) = svc.webhooks_for(carrier) else {
        return error(StatusCode::NOT_FOUND, "not_found", "unknown carrier");
    };
    if req.method() != Method::POST {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use POST",
        );
    }
    let body: &[u8] = req.body().as_ref();
    if body.len() > MAX_WEBHOOK_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "body too large",
        );
    }
    let url = called_url(&req, public_base);
    let call = WebhookRequest {
        method: req.method().as_str(),
        url: &url,
        headers: req.headers(),
        body,
    };
    match hooks.ready().await {
        Ok(()) => {}
        Err(WebhookError::NotConfigured(e)) => {
            tracing::warn!(carrier, error = %e, "webhook of a carrier without credentials");
            return error(StatusCode::NOT_FOUND, "not_found", "unknown carrier");
        }
        Err(e) => {
            // 5xx: the carrier calls again later, by when the secrets may be reachable.
            tracing::error!(carrier, error = %e, "carrier secrets unavailable");
            return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again");
        }
    }
    let now = svc.clock.now();
    if let Err(e) = hooks.verify(&call, now) {
        tracing::warn!(carrier, error = %e, "webhook rejected");
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "webhook not authenticated",
        );
    }
    match kind {
        "dlr" => delivery_reports(svc, carrier, hooks.as_ref(), body).await,
        "inbound" => inbound_sms(svc, carrier, hooks.as_ref(), body).await,
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such webhook"),
    }
}

async fn inbound_sms(
    svc: &Services,
    carrier: &str,
    hooks: &dyn CarrierWebhooks,
    body: &[u8],
) -> Response<Body> {
    let sms = match hooks.parse_inbound(body) {
        Ok(Some(sms)) => sms,
        Ok(None) => return respond(StatusCode::OK, json!({ "ok": true })),
        Err(e) => {
            tracing::warn!(carrier, error = %e, "inbound SMS not understood");
            return error(
                StatusCode::BAD_REQUEST,
                "bad_payload",
                "inbound SMS not understood",
            );
        }
    };
    match inbound::receive(svc, carrier, &sms).await {
        Ok(_) => respond(StatusCode::OK, json!({ "ok": true })),
        Err(e) => {
            // A 5xx makes the carrier send it again; storing it twice is harmless.
            tracing::error!(carrier, error = %e, "inbound SMS not stored");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
        }
    }
}

async fn delivery_reports(
    svc: &Services,
    carrier: &str,
    hooks: &dyn CarrierWebhooks,
    body: &[u8],
) -> Response<Body> {
    let reports = match hooks.parse_reports(body) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(carrier, error = %e, "delivery report not understood");
            return error(
                StatusCode::BAD_REQUEST,
                "bad_payload",
                "delivery report not understood",
            );
        }
    };
    for report in &reports {
        if let Err(e) = apply_report(svc, carrier, report).await {
            // A 5xx makes the carrier send the report again; applying it twice is harmless.
            tracing::error!(carrier, error = %e, "delivery report not stored");
            return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again");
        }
    }
    respond(StatusCode::OK, json!({ "ok": true }))
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
