//! Inbound SMS as one axum `Router`: `POST /webhooks/{carrier}/inbound`. After the carrier's call
//! is authenticated (`praxis_shared::web::webhook`), an SMS to a practice's reply number is
//! stored once as its reply (`receive`, which also joins the parts of a long SMS), the carrier
//! is answered, and the reply is e-mailed to the practice once (`forward`). What could not be
//! e-mailed is retried by [`forward_pending`], which the local stack's housekeeping runs and a
//! scheduled sweeper function is to call.

pub mod forward;
/// The practice's local time (in the shared domain: the daily cap counts in it too).
pub use praxis_shared::domain::local_time;
pub mod mail;
pub mod optout;
pub mod receive;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::response::Response;
use axum::routing::post;
use praxis_shared::services::Services;
use praxis_shared::web;
use praxis_shared::web::webhook::{Hooks, MAX_WEBHOOK_BYTES, Verified, WebhookFailure, ack};

pub use forward::{Swept, forward_pending};
pub use receive::Received;

/// The inbound route. `public_url` is the base URL carriers call this stack at, as they see
/// it; without one it is rebuilt from the request's forwarded protocol and host.
pub fn router(svc: Services, public_url: Option<String>) -> Router {
    Router::new()
        .route("/webhooks/{carrier}/inbound", post(inbound_sms))
        .fallback(web::no_route)
        .method_not_allowed_fallback(web::wrong_method)
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(Hooks::new(svc, public_url))
}

async fn inbound_sms(
    State(h): State<Arc<Hooks>>,
    Path(carrier): Path<String>,
    req: Request,
) -> Result<Response, WebhookFailure> {
    let Verified { hooks, body } = h.verified(&carrier, req).await?;
    let sms = match hooks.parse_inbound(&body) {
        Ok(Some(sms)) => sms,
        Ok(None) => return Ok(ack()),
        Err(e) => {
            tracing::warn!(carrier, error = %e, "inbound SMS not understood");
            return Err(WebhookFailure::BadPayload("inbound SMS"));
        }
    };
    let received = match receive::receive(&h.svc, &carrier, &sms).await {
        Ok(received) => received,
        Err(e) => {
            // A 5xx makes the carrier send it again; storing it twice is harmless.
            tracing::error!(carrier, error = %e, "inbound SMS not stored");
            return Err(WebhookFailure::Unavailable);
        }
    };
    // The SMS is safe with us now: whatever the mailer does, the carrier gets its 200, and a
    // reply the mailer did not take stays unforwarded for `forward_pending` to retry.
    if let Received::Stored(reply) = &received {
        forward::forward(&h.svc, reply).await;
    }
    Ok(ack())
}
