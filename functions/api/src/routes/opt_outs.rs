//! `GET /v1/opt-outs`: the numbers that opted out of the practice's SMS, newest first, with
//! when and how; `DELETE /v1/opt-outs/{number}` lifts one. Another practice's opt-outs are
//! invisible: they are neither listed nor lifted.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use praxis_shared::domain::{OptOutId, PhoneNumber};
use praxis_shared::ports::OptOutQuery;
use praxis_shared::services::Services;
use praxis_shared::web;

use crate::auth::Practice;
use crate::error::ApiError;
use crate::request::{self, PageParams};
use crate::views::{OptOutPage, OptOutView};

pub async fn list(
    State(svc): State<Services>,
    Practice(org): Practice,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params: PageParams = request::query(q.as_deref())?;
    let (after, limit) = params.page(|c| OptOutId::parse(c).ok())?;
    let page = svc
        .store
        .list_opt_outs(org.id, &OptOutQuery { after, limit })
        .await?;
    Ok(web::json(
        StatusCode::OK,
        &OptOutPage {
            opt_outs: page.items.iter().map(OptOutView::from).collect(),
            next_cursor: page.next.map(|c| c.to_string()),
        },
    ))
}

/// The number as the practice writes it (its region's rules) or in E.164, its `+` encoded as
/// `%2B`. One that is no number, or not opted out, is not found, as for message ids.
pub async fn remove(
    State(svc): State<Services>,
    Practice(org): Practice,
    number: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let number = number
        .ok()
        .and_then(|Path(n)| PhoneNumber::parse(&n, org.region).ok())
        .ok_or(ApiError::NotFound("opt-out"))?;
    if !svc.store.lift_opt_out(org.id, &number).await? {
        return Err(ApiError::NotFound("opt-out"));
    }
    tracing::info!(practice = %org.id, number = %number.masked(), "opt-out lifted by the practice");
    Ok(StatusCode::NO_CONTENT.into_response())
}
