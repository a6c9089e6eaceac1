//! The Dentport-facing HTTP API (`/v1`): key check, sending, preview, status and listing,
//! replies and opt-outs, as one axum `Router`. The same router runs behind API Gateway (`lambda_http::run`) and inside
//! `praxis-sms serve`.

pub mod auth;
pub mod error;
pub mod request;
pub mod routes;
pub mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use praxis_shared::services::Services;
use praxis_shared::web;

/// Every route of the API. Authentication is a layer around all of them, the fallbacks
/// included, so without a valid key every path answers 401 alike.
pub fn router(svc: Services) -> Router {
    let body_limit = svc.settings.max_body_bytes;
    Router::new()
        .route("/v1/key-check", get(routes::key_check::get))
        .route(
            "/v1/messages",
            post(routes::messages::send).get(routes::messages::list),
        )
        .route("/v1/messages/preview", post(routes::preview::preview))
        .route("/v1/messages/{id}", get(routes::messages::get_one))
        .route("/v1/replies", get(routes::replies::list))
        .route("/v1/invoices", get(routes::invoices::list))
        .route("/v1/invoices/{id}/pdf", get(routes::invoices::pdf))
        .route("/v1/opt-outs", get(routes::opt_outs::list))
        .route("/v1/opt-outs/{number}", delete(routes::opt_outs::remove))
        .fallback(web::no_route)
        .method_not_allowed_fallback(web::wrong_method)
        .layer(from_fn_with_state(svc.clone(), auth::authenticate))
        // The e-mails' download links carry their own signature instead of an API key.
        .merge(Router::new().route("/invoices/{id}/pdf", get(routes::invoices::signed_pdf)))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(svc)
}
