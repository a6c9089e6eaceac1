//! `GET /v1/key-check`: the "Key-Check" button of the practice software.

use axum::response::Response;
use http::StatusCode;
use praxis_shared::web;

use crate::auth::Practice;
use crate::views::KeyCheckView;

pub async fn get(Practice(org): Practice) -> Response {
    web::json(StatusCode::OK, &KeyCheckView::from(&org))
}
