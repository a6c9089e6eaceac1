//! Zugang > API-Key (`/organization/apikey`, the address the FAQ gives): the practice's keys,
//! a new key shown once with a copy button, revoking with a confirmation step, and the values
//! Dentport's SMS settings take. Main account only.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use maud::{Markup, html};
use praxis_shared::domain::KeyId;
use praxis_shared::domain::apikey::{ApiKey, ApiKeyRecord};

use crate::Portal;
use crate::error::PortalError;
use crate::form::Form;
use crate::layout::{self, Nav, csrf, notice};
use crate::session::{Owner, Signed};

type LastUsed = Vec<(KeyId, chrono::DateTime<chrono::Utc>)>;

fn view(
    base_url: &str,
    signed: &Signed,
    keys: &[ApiKeyRecord],
    last_used: &LastUsed,
    new: Option<&ApiKey>,
    revoked: bool,
) -> Markup {
    let sender = signed
        .org
        .default_sender
        .as_ref()
        .map_or("(noch keiner – unter Einstellungen festlegen)", |s| {
            s.as_str()
        });
    let content = html! {
        @if revoked { (notice("Der API-Key ist widerrufen. Anfragen mit ihm werden abgelehnt.", true)) }
        @if let Some(key) = new {
            section.card.fresh aria-labelledby="new-key" {
                h2 id="new-key" { "Ihr neuer API-Key" }
                p { strong { "Wir zeigen ihn nur dieses eine Mal." } " Kopieren Sie ihn jetzt und tragen Sie ihn in Dentport ein." }
                div.copy {
                    label for="api-key" .visually-hidden { "Neuer API-Key" }
                    input id="api-key" type="text" readonly value=(key.expose()) data-copy;
                    button.secondary type="button" data-copy-target="api-key" hidden { "Kopieren" }
                }
            }
        }
        section aria-labelledby="dentport" {
            h2 id="dentport" { "Einrichtung in Dentport" }
            ol.steps {
                li { "Öffnen Sie " strong { "Stammdaten > System > Konfiguration > Hardware > SMS-Versand" } " in Dentport." }
                li { "Wählen Sie im Feld „SMS - Dienst“ " strong { "„dentportSMS von SUMUS Software“" } "." }
                li { "Feld „URL“: " code.value { (base_url) } }
                li { "Feld „Key“: Ihr API-Key (wird nur beim Erstellen angezeigt)." }
                li { "Mit „Key-Check“ prüfen Sie die Richtigkeit." }
                li { "Feld „Absender“: " code.value { (sender) } " – 16 Ziffern oder 11 Buchstaben (oder eine Kombination aus Buchstaben und Zahlen) sind zulässig." }
                li { "Sichern Sie die Einstellung und senden Sie eine Test-SMS an Ihre eigene Mobilfunkrufnummer." }
            }
        }
        section aria-labelledby="keys" {
            h2 id="keys" { "Ihre API-Keys" }
            @if keys.is_empty() {
                p.empty { "Noch kein API-Key." }
            } @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Key" } th scope="col" { "erstellt" } th scope="col" { "zuletzt benutzt" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Aktion" } } } }
                    tbody {
                        @for k in keys {
                            tr {
                                td data-label="Key" { code { (k.hint) "…" } }
                                td data-label="erstellt" { (layout::time(k.created_at)) }
                                td data-label="zuletzt benutzt" {
                                    @match last_used.iter().find(|(id, _)| *id == k.id) {
                                        Some((_, at)) => (layout::time(*at)),
                                        None => "noch nie",
                                    }
                                }
                                td data-label="Status" {
                                    @if let Some(at) = k.revoked_at { "widerrufen am " (layout::time(at)) } @else { span.badge.delivered { "aktiv" } }
                                }
                                td {
                                    @if k.revoked_at.is_none() {
                                        a.button.danger href={ "/organization/apikey/" (k.id) "/widerrufen" } { "Widerrufen…" }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            form method="post" action="/organization/apikey" {
                (csrf(signed))
                button type="submit" { "Neuen API-Key erstellen" }
            }
        }
    };
    layout::page("Zugang > API-Key", signed, Nav::ApiKey, content)
}

pub async fn page(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    headers: HeaderMap,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Markup, PortalError> {
    let (keys, last_used) = keys_of(&portal, &signed).await?;
    let revoked = q.as_deref() == Some("widerrufen=1");
    let base = portal.config.base_url(&headers);
    Ok(view(&base, &signed, &keys, &last_used, None, revoked))
}

pub async fn create(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    headers: HeaderMap,
    Form(_): Form,
) -> Result<Markup, PortalError> {
    let (key, record) = ApiKeyRecord::issue(signed.org.id, portal.svc.clock.now());
    portal.svc.store.put_api_key(&record).await?;
    tracing::info!(practice = %signed.org.id, key = %record.id, "API key created in the portal");
    let (keys, last_used) = keys_of(&portal, &signed).await?;
    let base = portal.config.base_url(&headers);
    Ok(view(&base, &signed, &keys, &last_used, Some(&key), false))
}

/// The practice's keys and when each was last used.
async fn keys_of(
    portal: &Portal,
    signed: &Signed,
) -> Result<(Vec<ApiKeyRecord>, LastUsed), PortalError> {
    let keys = portal.svc.store.list_api_keys(signed.org.id).await?;
    let ids: Vec<KeyId> = keys.iter().map(|k| k.id).collect();
    let last_used = portal.svc.accounts.api_keys_last_used(&ids).await?;
    Ok((keys, last_used))
}

/// The practice's key `id`; another practice's is not found.
async fn own_key(
    portal: &Portal,
    signed: &Signed,
    id: Result<Path<String>, PathRejection>,
) -> Result<ApiKeyRecord, PortalError> {
    let id = id
        .ok()
        .and_then(|Path(id)| KeyId::parse(&id).ok())
        .ok_or(PortalError::NotFound)?;
    portal
        .svc
        .store
        .list_api_keys(signed.org.id)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or(PortalError::NotFound)
}

pub async fn confirm_revoke(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    id: Result<Path<String>, PathRejection>,
) -> Result<Markup, PortalError> {
    let key = own_key(&portal, &signed, id).await?;
    let content = html! {
        p { "Wollen Sie den API-Key " code { (key.hint) "…" } " wirklich widerrufen? Dentport kann dann mit diesem Key keine SMS mehr senden, bis Sie dort einen neuen eintragen." }
        form method="post" action={ "/organization/apikey/" (key.id) "/widerrufen" } {
            (csrf(&signed))
            button.danger type="submit" { "Ja, widerrufen" }
            " "
            a.button.secondary href="/organization/apikey" { "Abbrechen" }
        }
    };
    Ok(layout::page(
        "API-Key widerrufen",
        &signed,
        Nav::ApiKey,
        content,
    ))
}

pub async fn revoke(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    id: Result<Path<String>, PathRejection>,
    Form(_): Form,
) -> Result<Response, PortalError> {
    let key = own_key(&portal, &signed, id).await?;
    portal
        .svc
        .store
        .revoke_api_key(key.id, portal.svc.clock.now())
        .await?;
    tracing::info!(practice = %signed.org.id, key = %key.id, "API key revoked in the portal");
    Ok(Redirect::to("/organization/apikey?widerrufen=1").into_response())
}
