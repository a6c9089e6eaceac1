//! Rechnungen: number, month and amounts of every invoice, and its PDF through the same
//! short-lived presigned link the API hands out (main account only).

use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use praxis_shared::domain::InvoiceId;

use crate::Portal;
use crate::error::PortalError;
use crate::layout::{self, Nav};
use crate::session::Owner;

/// As the API's: long enough to follow the redirect.
const PRESIGNED_TTL: Duration = Duration::from_secs(15 * 60);

pub async fn page(
    State(portal): State<Portal>,
    Owner(signed): Owner,
) -> Result<Markup, PortalError> {
    let invoices = portal.svc.store.list_invoices(signed.org.id).await?;
    let content = html! {
        p.lead { "Alle Rechnungen; mit einem Klick auf das Download-Symbol laden Sie die Rechnung als PDF-Datei herunter (auch eine E-Rechnung nach ZUGFeRD)." }
        @if invoices.is_empty() {
            p.empty { "Noch keine Rechnungen. Die erste kommt am 1. des Monats nach Ihrem ersten Monat." }
        } @else {
            div.table-wrap { table.invoices {
                thead { tr {
                    th scope="col" { "Nummer" }
                    th scope="col" { "Monat" }
                    th scope="col" .num { "Netto" }
                    th scope="col" .num { "Brutto" }
                    th scope="col" { "PDF" }
                } }
                tbody {
                    @for i in &invoices {
                        tr {
                            td data-label="Nummer" { (i.number.to_string()) }
                            td data-label="Monat" { (i.month.german()) }
                            td.num data-label="Netto" { (i.doc.computed.net.german()) }
                            td.num data-label="Brutto" { (i.doc.computed.gross.german()) }
                            td data-label="PDF" {
                                @if i.delivered_at.is_some() {
                                    a.download href={ "/rechnungen/" (i.id) "/pdf" } aria-label={ "Rechnung " (i.number.to_string()) " als PDF herunterladen" } {
                                        span aria-hidden="true" { "⬇" } " PDF"
                                    }
                                } @else {
                                    "wird erstellt"
                                }
                            }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page("Rechnungen", &signed, Nav::Invoices, content))
}

pub async fn pdf(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, PortalError> {
    let id = id
        .ok()
        .and_then(|Path(id)| InvoiceId::parse(&id).ok())
        .ok_or(PortalError::NotFound)?;
    let invoice = portal
        .svc
        .store
        .get_invoice(id)
        .await?
        .filter(|i| i.org_id == signed.org.id && i.delivered_at.is_some())
        .ok_or(PortalError::NotFound)?;
    let url = portal
        .svc
        .blobs
        .presign_get(&invoice.pdf_key(), PRESIGNED_TTL)
        .await?;
    Ok(Redirect::to(&url).into_response())
}
