//! The local stack's HTTP front: what API Gateway and S3 do for a deployed stack. It mounts the
//! functions' own routers (the API at `/v1` and `/invoices/`, inbound SMS at `/webhooks/{carrier}/inbound`, the
//! other carrier webhooks at `/webhooks/`) unchanged,
//! reads each body whole before a function sees it, as API Gateway does, and serves the
//! embedded backend's blobs through signed links, as S3's presigned URLs do.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use praxis_shared::adapters::embedded::FileBlobs;
use praxis_shared::ports::Blobs;
use praxis_shared::services::Services;
use praxis_shared::web;
use tower::ServiceExt;

/// Bodies up to this size are read whole, so a function's own limit answers 413 and the client,
/// having finished sending, reads it (closing early breaks its write with EPIPE instead).
/// API Gateway's own limit is 10 MB.
const GATEWAY_LIMIT: usize = 16 * 1024 * 1024;

/// The whole local stack's routes. `blobs`: the embedded backend's, served under `/blobs/`; on
/// AWS, links lead to S3 instead.
pub fn router(svc: Services, public_url: String, blobs: Option<FileBlobs>) -> Router {
    let functions = Functions {
        api: praxis_api::router(svc.clone()),
        inbound: praxis_inbound::router(svc.clone(), Some(public_url.clone())),
        webhooks: praxis_dlr::router(svc, Some(public_url)),
    };
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback(move |req: Request| functions.clone().call(req));
    if let Some(blobs) = blobs {
        router = router.merge(
            Router::new()
                .route("/blobs/{*key}", get(blob))
                .with_state(blobs),
        );
    }
    router.layer(from_fn(read_whole_body))
}

/// The functions behind the gateway, each with its own router, reached by path prefix as API
/// Gateway's routes reach them (`/v1/...` and `/invoices/...` the API, `/webhooks/{carrier}/inbound` the inbound
/// function, the rest of `/webhooks/...` the delivery reports').
#[derive(Clone)]
struct Functions {
    api: Router,
    inbound: Router,
    webhooks: Router,
}

impl Functions {
    async fn call(self, req: Request) -> Response {
        let path = req.uri().path();
        // `/invoices/…`: the e-mails' signed download links, which the API function serves.
        let function =
            if path == "/v1" || path.starts_with("/v1/") || path.starts_with("/invoices/") {
                self.api
            } else if is_inbound(path) {
                self.inbound
            } else if path.starts_with("/webhooks/") {
                self.webhooks
            } else {
                return web::no_route().await;
            };
        match function.oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        }
    }
}

/// `/webhooks/{carrier}/inbound`: one segment between the two, as API Gateway's route has it.
fn is_inbound(path: &str) -> bool {
    path.strip_prefix("/webhooks/")
        .and_then(|rest| rest.strip_suffix("/inbound"))
        .is_some_and(|carrier| !carrier.is_empty() && !carrier.contains('/'))
}

/// The gateway's part: a function gets the body whole, or the client gets 413.
async fn read_whole_body(req: Request, next: Next) -> Response {
    use futures_util::StreamExt;
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return web::error(
                StatusCode::BAD_REQUEST,
                "broken_body",
                "request body broken off",
                None,
            );
        };
        if buf.len() + chunk.len() > GATEWAY_LIMIT {
            let mut res = web::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is larger than {GATEWAY_LIMIT} bytes"),
                None,
            );
            // The rest of the body is still on the wire: close the connection, or the client's
            // next request on it would be read from the middle of this body.
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return res;
        }
        buf.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, Body::from(buf))).await
}

/// Serves a blob through a signed URL, like an S3 presigned GET.
async fn blob(
    State(blobs): State<FileBlobs>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut expires = 0i64;
    let mut signature = String::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "expires" => expires = v.parse().unwrap_or(0),
            "signature" => signature = v.into_owned(),
            _ => {}
        }
    }
    if !blobs.verify(&key, expires, &signature) {
        return web::error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "link expired or invalid",
            None,
        );
    }
    match blobs.get(&key).await {
        Ok(Some(bytes)) => {
            let mut r = Response::new(Body::from(bytes));
            let ct = if key.ends_with(".pdf") {
                "application/pdf"
            } else {
                "application/octet-stream"
            };
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            r
        }
        Ok(None) => web::no_route().await,
        Err(_) => web::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "try again",
            None,
        ),
    }
}
