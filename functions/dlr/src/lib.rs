//! The delivery-report webhook as one axum `Router`: `POST /webhooks/{carrier}/dlr`. After the
//! carrier's call is authenticated (`praxis_shared::web::webhook`), maps each report onto our
//! statuses and applies it as a conditional write, so late or repeated reports change nothing.
//! (Inbound SMS have their own function, `praxis-inbound`.)

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::response::Response;
use axum::routing::post;
use praxis_shared::carriers::{DeliveryReport, ReportTarget};
use praxis_shared::domain::Status;
use praxis_shared::domain::message::{EarlyReport, Transition};
use praxis_shared::metrics::{self, Count};
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;
use praxis_shared::web;
use praxis_shared::web::webhook::{Hooks, MAX_WEBHOOK_BYTES, Verified, WebhookFailure, ack};

type Shared = State<Arc<Hooks>>;

/// The delivery-report route. `public_url` is the base URL carriers call this stack at, as
/// they see it; without one it is rebuilt from the request's forwarded protocol and host.
pub fn router(svc: Services, public_url: Option<String>) -> Router {
    Router::new()
        .route("/webhooks/{carrier}/dlr", post(delivery_reports))
        .fallback(web::no_route)
        .method_not_allowed_fallback(web::wrong_method)
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(Hooks::new(svc, public_url))
}

async fn delivery_reports(
    State(h): Shared,
    Path(carrier): Path<String>,
    req: Request,
) -> Result<Response, WebhookFailure> {
    let Verified { hooks, body } = h.verified(&carrier, req).await?;
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

/// Applies one report. A report for a carrier reference no message has yet overtook the
/// dispatcher's write of `sent`: it is kept for the dispatcher to apply after that write
/// (`praxis_dispatch`); a report for a message we do not know is acknowledged and logged (the
/// carrier must stop).
pub async fn apply_report(
    svc: &Services,
    carrier: &str,
    report: &DeliveryReport,
) -> Result<(), PortError> {
    let Some(status) = report.status else {
        tracing::debug!(carrier, "report without news");
        return Ok(());
    };
    // History times are when we learned of a change, on our own clock: a carrier's timestamp
    // may be skewed and would let a report sort before the `sent` we wrote ourselves.
    let at = svc.clock.now();
    let id = match &report.target {
        ReportTarget::Ours(id) => *id,
        ReportTarget::CarrierRef(r) => match svc.store.find_by_carrier_ref(carrier, r).await? {
            Some(id) => id,
            None => {
                let early = EarlyReport {
                    carrier: carrier.to_owned(),
                    carrier_ref: r.clone(),
                    status,
                    reason: report.reason,
                    received_at: at,
                };
                svc.store.park_report(&early).await?;
                // The dispatcher reads the kept reports after its write of `sent`; if that
                // write came between our lookup and the park, it has read them already, and
                // this second lookup finds the message. Both reads are consistent.
                match svc.store.find_by_carrier_ref(carrier, r).await? {
                    Some(id) => id,
                    None => {
                        tracing::info!(carrier, status = %status, "report before its message's sent; kept");
                        return Ok(());
                    }
                }
            }
        },
    };
    let mut changed = false;
    for t in Transition::for_report(id, status, report.reason, at) {
        changed = svc.store.apply(&t).await?;
    }
    match status {
        Status::Delivered if changed => metrics::emit(Count::Delivered, 1, Some(carrier)),
        Status::Undelivered if changed => metrics::emit(Count::Undelivered, 1, Some(carrier)),
        _ => {}
    }
    tracing::info!(message_id = %id, carrier, status = %status, changed, "delivery report");
    Ok(())
}
