//! `POST /v1/messages/preview`: the checks and counts of sending, with nothing stored or sent.

use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use praxis_shared::services::Services;
use praxis_shared::web;

use crate::auth::Practice;
use crate::error::ApiError;
use crate::request::{self, JsonBody, SendBody};
use crate::views::{Batch, Item, PreviewView};

pub async fn preview(
    State(svc): State<Services>,
    Practice(org): Practice,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    match request::parse_send(&body, svc.settings.max_batch)? {
        SendBody::One(m) => {
            let m = request::new_message(&org, &m)?;
            Ok(web::json(StatusCode::OK, &PreviewView::from(&m)))
        }
        SendBody::Batch(items) => {
            let checked: Vec<Result<_, ApiError>> = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    item.and_then(|m| request::new_message(&org, &m).map_err(|e| e.in_item(i)))
                })
                .collect();
            let messages = checked
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
    }
}
