//! The practice's invoices: `GET /v1/invoices` (newest month first), `GET /v1/invoices/{id}/pdf`
//! (a redirect to a presigned URL of at most 15 minutes), and the e-mails' link
//! `GET /invoices/{id}/pdf?expires=…&signature=…`, which needs no API key: its signature is
//! the authorization, and it redirects to a fresh presigned URL every time.

use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use praxis_shared::domain::InvoiceId;
use praxis_shared::domain::invoice::Invoice;
use praxis_shared::invoice_links::LinkCheck;
use praxis_shared::services::Services;
use praxis_shared::web;
use serde::Deserialize;

use crate::auth::Practice;
use crate::error::ApiError;
use crate::request;
use crate::views::{InvoicePage, InvoiceView};

/// How long a download URL handed out works: long enough to follow the redirect.
pub const PRESIGNED_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

pub async fn list(
    State(svc): State<Services>,
    Practice(org): Practice,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    request::query::<NoParams>(q.as_deref())?;
    let invoices = svc.store.list_invoices(org.id).await?;
    Ok(web::json(
        StatusCode::OK,
        &InvoicePage {
            invoices: invoices.iter().map(InvoiceView::from).collect(),
            next_cursor: None,
        },
    ))
}

fn invoice_id(id: Result<Path<String>, PathRejection>) -> Result<InvoiceId, ApiError> {
    id.ok()
        .and_then(|Path(id)| InvoiceId::parse(&id).ok())
        .ok_or(ApiError::NotFound("invoice"))
}

async fn redirect_to_pdf(svc: &Services, invoice: &Invoice) -> Result<Response, ApiError> {
    let url = svc
        .blobs
        .presign_get(&invoice.pdf_key(), PRESIGNED_TTL)
        .await?;
    let mut res = Response::new(axum::body::Body::empty());
    *res.status_mut() = StatusCode::FOUND;
    let location = HeaderValue::from_str(&url).map_err(|_| {
        ApiError::Internal(praxis_shared::ports::PortError::Corrupt(
            "a presigned URL that is no header value".into(),
        ))
    })?;
    res.headers_mut().insert(header::LOCATION, location);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub async fn pdf(
    State(svc): State<Services>,
    Practice(org): Practice,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = invoice_id(id)?;
    let invoice = svc
        .store
        .get_invoice(id)
        .await?
        .filter(|i| i.org_id == org.id && i.delivered_at.is_some())
        .ok_or(ApiError::NotFound("invoice"))?;
    redirect_to_pdf(&svc, &invoice).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkParams {
    /// Read as text: a link whose time does not parse is a broken link (403), not bad input.
    expires: Option<String>,
    signature: Option<String>,
}

/// The e-mail's link. A wrong or missing signature is 403, an expired link 410 (the practice
/// then takes the invoice from the API or asks for a new e-mail); the invoice id is checked
/// only after the signature, so the route tells nobody which ids exist.
pub async fn signed_pdf(
    State(svc): State<Services>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let forbidden = || ApiError::Forbidden("the link is not valid");
    let params = request::query::<LinkParams>(q.as_deref())?;
    let (Some(expires), Some(signature)) = (params.expires, params.signature) else {
        return Err(forbidden());
    };
    let expires: i64 = expires.parse().map_err(|_| forbidden())?;
    let id = invoice_id(id).map_err(|_| forbidden())?;
    match svc
        .invoice_links
        .check(id, expires, &signature, svc.clock.now())
        .await?
    {
        LinkCheck::Invalid => return Err(forbidden()),
        LinkCheck::Expired => return Err(ApiError::Gone("the link has expired")),
        LinkCheck::Valid => {}
    }
    let invoice = svc
        .store
        .get_invoice(id)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    redirect_to_pdf(&svc, &invoice).await
}
