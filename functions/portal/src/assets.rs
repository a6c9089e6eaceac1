//! The portal's two assets, compiled in: one stylesheet and one small script (progressive:
//! every page works without it).

use axum::response::IntoResponse;
use http::{HeaderValue, header};

const CSS: &str = include_str!("../assets/portal.css");
const JS: &str = include_str!("../assets/portal.js");

fn asset(body: &'static str, content_type: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
}

pub async fn css() -> impl IntoResponse {
    asset(CSS, "text/css; charset=utf-8")
}

pub async fn js() -> impl IntoResponse {
    asset(JS, "text/javascript; charset=utf-8")
}
