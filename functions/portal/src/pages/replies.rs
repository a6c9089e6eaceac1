//! Antworten: patients' replies of the last 60 days with the message each answers, and the
//! numbers that opted out, each with a button that lifts its opt-out.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use praxis_shared::domain::PhoneNumber;
use praxis_shared::domain::message::retention_cutoff;
use praxis_shared::ports::{OptOutQuery, ReplyQuery};

use crate::Portal;
use crate::error::PortalError;
use crate::form::Form;
use crate::layout::{self, Nav, csrf, notice};
use crate::session::Signed;

const SHOWN: usize = 200;

pub async fn page(
    State(portal): State<Portal>,
    signed: Signed,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Markup, PortalError> {
    let svc = &portal.svc;
    let now = svc.clock.now();
    let org = &signed.org;
    let replies = svc
        .store
        .list_replies(
            org.id,
            &ReplyQuery {
                since: retention_cutoff(now),
                until: None,
                after: None,
                limit: SHOWN,
            },
        )
        .await?
        .items;
    let answered: Vec<_> = replies.iter().filter_map(|r| r.in_reply_to).collect();
    let originals = svc.store.get_messages(&answered).await?;
    let opt_outs = svc
        .store
        .list_opt_outs(
            org.id,
            &OptOutQuery {
                after: None,
                limit: SHOWN,
            },
        )
        .await?
        .items;
    let lifted = q.as_deref() == Some("aufgehoben=1");
    let content = html! {
        @if lifted { (notice("Die Sperre ist aufgehoben: diese Nummer bekommt wieder SMS.", true)) }
        @if replies.is_empty() {
            p.empty { "Noch keine Antworten in den vergangenen 60 Tagen." }
        } @else {
            ul.replies {
                @for r in &replies {
                    li.card {
                        p.meta { (r.from.display_for(org.region)) " · " (layout::time(r.received_at)) }
                        p.sms-text { (r.text) }
                        @if let Some(m) = r.in_reply_to.and_then(|id| originals.iter().find(|m| m.id == id && m.org_id == org.id)) {
                            p.answers { "Antwort auf: " a href={ "/sms/" (m.id) } { (m.text.chars().take(100).collect::<String>()) } }
                        }
                    }
                }
            }
        }
        h2 { "Abgemeldete Nummern" }
        p { "Diese Patienten haben mit STOP geantwortet und bekommen keine SMS mehr, bis Sie die Sperre aufheben oder sie mit START antworten." }
        @if opt_outs.is_empty() {
            p.empty { "Keine." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Rufnummer" } th scope="col" { "seit" } th scope="col" { span.visually-hidden { "Aktion" } } } }
                tbody {
                    @for o in &opt_outs {
                        tr {
                            td data-label="Rufnummer" { (o.number.display_for(org.region)) }
                            td data-label="seit" { (layout::time(o.since)) }
                            td {
                                form method="post" action="/antworten/sperre-aufheben" {
                                    (csrf(&signed))
                                    input type="hidden" name="number" value=(o.number.as_str());
                                    button.secondary type="submit" { "Sperre aufheben" }
                                }
                            }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page("Antworten", &signed, Nav::Replies, content))
}

pub async fn lift_opt_out(
    State(portal): State<Portal>,
    signed: Signed,
    Form(form): Form,
) -> Result<Response, PortalError> {
    let number = PhoneNumber::parse(form.get("number"), signed.org.region)
        .map_err(|_| PortalError::NotFound)?;
    if !portal
        .svc
        .store
        .lift_opt_out(signed.org.id, &number)
        .await?
    {
        return Err(PortalError::NotFound);
    }
    tracing::info!(practice = %signed.org.id, number = %number.masked(), "opt-out lifted in the portal");
    Ok(Redirect::to("/antworten?aufgehoben=1").into_response())
}
