//! `POST /v1/messages/preview`: the checks and counts of sending, with nothing stored or sent.

use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use praxis_shared::services::Services;
use praxis_shared::web;

use crate::auth::Practice;
use crate::error::ApiError;
use crate::request::{self, JsonBody};
use crate::views::{Batch, Item, PreviewView};

/// A message to a number that opted out of the practice's SMS gets the error sending it would.
pub async fn preview(
    State(svc): State<Services>,
    Practice(org): Practice,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut checked = request::check_send(&org, &body, svc.settings.max_batch)?;
    let opted_out = request::opted_out(&svc, &org, &checked.recipients(|_| true)).await?;
    checked.refuse_opted_out(&opted_out, |_| true)?;
    if checked.single {
        // A single message that fails has failed the request above.
        let m = checked
            .items
            .into_iter()
            .next()
            .ok_or(ApiError::NotFound("message"))??;
        return Ok(web::json(StatusCode::OK, &PreviewView::from(&m)));
    }
    let messages = checked
        .items
        .iter()
        .map(|c| match c {
            Ok(m) => Item::Ok(PreviewView::from(m)),
            Err(e) => Item::Failed(e.body()),
        })
        .collect();
    Ok(web::json(
        StatusCode::OK,
        &Batch {
            messages,
            error: None,
        },
    ))
}
