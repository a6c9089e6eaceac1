//! `GET /v1/replies`: patients' replies of the last 60 days, newest first, cursor-paginated
//! like messages.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use http::StatusCode;
use praxis_shared::domain::ReplyId;
use praxis_shared::ports::ReplyQuery;
use praxis_shared::services::Services;
use praxis_shared::web;

use crate::auth::Practice;
use crate::error::ApiError;
use crate::request::{self, ListParams};
use crate::views::{ReplyPage, ReplyView};

pub async fn list(
    State(svc): State<Services>,
    Practice(org): Practice,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = request::query::<ListParams>(q.as_deref())?.without_status()?;
    let w = params.window(svc.clock.now(), |c| ReplyId::parse(c).ok())?;
    let q = ReplyQuery {
        since: w.since,
        until: w.until,
        after: w.after,
        limit: w.limit,
    };
    let page = svc.store.list_replies(org.id, &q).await?;
    Ok(web::json(
        StatusCode::OK,
        &ReplyPage {
            replies: page.items.iter().map(ReplyView::from).collect(),
            next_cursor: page.next.map(|c| c.to_string()),
        },
    ))
}
