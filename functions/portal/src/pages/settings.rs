//! Einstellungen (main account only): default sender (the sender rules of sending, checked as
//! one types and on submit), reply e-mail address, region, password change, sign-out
//! everywhere, and the team members (invite by e-mail, remove).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::header;
use maud::{Markup, html};
use praxis_shared::domain::account::{Account, Role};
use praxis_shared::domain::org::{EmailAddress, OrgChanges};
use praxis_shared::domain::{AccountId, Region, SenderError, SenderId};

use crate::Portal;
use crate::error::PortalError;
use crate::form::{Fields, Form};
use crate::layout::{self, Nav, csrf, notice};
use crate::pages::auth::{WELCOME_TTL, password_link, send_link};
use crate::password;
use crate::session::{self, Owner, Signed};

/// The sender rule in the FAQ's words, then what is wrong with this one.
pub fn sender_problem(e: &SenderError) -> String {
    let what = match e {
        SenderError::Empty => "Bitte geben Sie einen Absender ein.".to_owned(),
        SenderError::TooManyDigits { count } => {
            format!("Eine Rufnummer als Absender hat höchstens 16 Ziffern, diese hat {count}.")
        }
        SenderError::TooLong { len } => {
            format!("Ein Name als Absender hat höchstens 11 Zeichen, dieser hat {len}.")
        }
        SenderError::NoLetter => {
            "Eine Rufnummer als Absender besteht nur aus Ziffern, ohne Leerzeichen.".to_owned()
        }
        SenderError::MisplacedPlus => {
            "Ein „+“ ist nur am Anfang einer Rufnummer erlaubt.".to_owned()
        }
        SenderError::NonAsciiLetter { ch } => format!(
            "„{ch}“ ist nicht erlaubt: viele Netze lehnen Umlaute ab (schreiben Sie z. B. „ae“ für „ä“)."
        ),
        SenderError::BadCharacter { ch } => format!("„{ch}“ ist im Absender nicht erlaubt."),
    };
    format!(
        "{what} Zulässig sind 16 Ziffern (z. B. +4912341234567) oder 11 Buchstaben (oder eine \
         Kombination aus Buchstaben und Zahlen)."
    )
}

struct Values<'a> {
    sender: &'a str,
    reply_email: &'a str,
    region: &'a str,
}

async fn view(
    portal: &Portal,
    signed: &Signed,
    values: Option<Values<'_>>,
    message: Option<(String, bool)>,
    sender_error: Option<String>,
) -> Result<Markup, PortalError> {
    let org = &signed.org;
    let default_sender = org.default_sender.as_ref().map_or("", |s| s.as_str());
    let values = values.unwrap_or(Values {
        sender: default_sender,
        reply_email: org.reply_email.as_ref().map_or("", |e| e.as_str()),
        region: org.region.as_str(),
    });
    let team: Vec<Account> = portal.svc.accounts.list_accounts(org.id).await?;
    let content = html! {
        @if let Some((text, ok)) = &message { (notice(text, *ok)) }
        section.card aria-labelledby="practice" {
            h2 id="practice" { "Versand" }
            form method="post" action="/einstellungen" novalidate {
                (csrf(signed))
                label for="sender" { "Standard-Absender" }
                input id="sender" name="sender" type="text" value=(values.sender) maxlength="17"
                    aria-describedby="sender-help sender-check" data-sender-check autocomplete="off"
                    aria-invalid=[sender_error.as_ref().map(|_| "true")];
                p id="sender-help" .help { "Zu empfehlen ist die Rufnummer Ihrer Praxis (im Format +4912341234567) oder Ihr Praxisname. 16 Ziffern oder 11 Buchstaben (oder eine Kombination aus Buchstaben und Zahlen) sind zulässig." }
                p id="sender-check" .field-error aria-live="polite" { @if let Some(e) = &sender_error { (e) } }
                @if org.reply_number.is_some() {
                    p.help { "Ihre SMS gehen mit Ihrer Antwort-Rufnummer als Absender hinaus, damit Antworten Sie erreichen." }
                }
                label for="reply_email" { "E-Mail-Adresse für Antworten" }
                input id="reply_email" name="reply_email" type="email" value=(values.reply_email) placeholder=(org.email.as_str());
                p.help { "Leer lassen: Antworten gehen an " (org.email.as_str()) "." }
                label for="region" { "Land für Rufnummern ohne Vorwahl" }
                select id="region" name="region" {
                    @for (code, name) in [("DE", "Deutschland"), ("AT", "Österreich"), ("CH", "Schweiz")] {
                        option value=(code) selected[values.region == code] { (name) }
                    }
                    // A region set elsewhere (`org update --region`) stays what it is.
                    @if !["DE", "AT", "CH"].contains(&values.region) {
                        option value=(values.region) selected { (values.region) }
                    }
                }
                button type="submit" { "Speichern" }
            }
        }
        section.card aria-labelledby="pw" {
            h2 id="pw" { "Passwort ändern" }
            form method="post" action="/einstellungen/passwort" {
                (csrf(signed))
                label for="current" { "Bisheriges Passwort" }
                input id="current" name="current" type="password" autocomplete="current-password" required;
                label for="new" { "Neues Passwort (mindestens " (password::MIN_CHARS) " Zeichen)" }
                input id="new" name="new" type="password" autocomplete="new-password" required minlength=(password::MIN_CHARS);
                button type="submit" { "Passwort ändern" }
            }
            form method="post" action="/ueberall-abmelden" {
                (csrf(signed))
                p.help { "Melden Sie alle Geräte ab, auf denen Sie angemeldet sind – auch dieses." }
                button.secondary type="submit" { "Überall abmelden" }
            }
        }
        section.card aria-labelledby="team" {
            h2 id="team" { "Team" }
            p.help { "Teammitglieder sehen SMS und Antworten, nicht aber API-Key, Rechnungen und Einstellungen." }
            ul.team {
                @for a in &team {
                    li {
                        span { (a.email.as_str()) }
                        " "
                        span.badge { @if a.role == Role::Owner { "Hauptzugang" } @else { "Team" } }
                        @if a.password_hash.is_none() { " " span.badge.open { "eingeladen" } }
                        @if a.role == Role::Team {
                            form.inline method="post" action={ "/einstellungen/team/" (a.id) "/entfernen" } {
                                (csrf(signed))
                                button.link.danger type="submit" aria-label={ (a.email.as_str()) " entfernen" } { "Entfernen" }
                            }
                        }
                    }
                }
            }
            form method="post" action="/einstellungen/team" {
                (csrf(signed))
                label for="invite" { "E-Mail-Adresse des neuen Teammitglieds" }
                input id="invite" name="email" type="email" required;
                button type="submit" { "Einladen" }
            }
        }
    };
    Ok(layout::page(
        "Einstellungen",
        signed,
        Nav::Settings,
        content,
    ))
}

pub async fn page(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    RawQuery(q): RawQuery,
) -> Result<Markup, PortalError> {
    let q = Fields::parse(q.unwrap_or_default().as_bytes());
    let message = match q.get("hinweis") {
        "gespeichert" => Some(("Gespeichert.".to_owned(), true)),
        "passwort" => Some((
            "Ihr Passwort ist geändert. Andere Geräte sind abgemeldet.".to_owned(),
            true,
        )),
        "eingeladen" => Some(("Die Einladung ist verschickt.".to_owned(), true)),
        "entfernt" => Some(("Das Teammitglied ist entfernt.".to_owned(), true)),
        _ => None,
    };
    view(&portal, &signed, None, message, None).await
}

pub async fn save(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    Form(form): Form,
) -> Result<Response, PortalError> {
    let values = Values {
        sender: form.get("sender"),
        reply_email: form.get("reply_email"),
        region: form.get("region"),
    };
    let mut changes = OrgChanges::default();
    let sender = SenderId::parse(values.sender);
    let mut problems = Vec::new();
    match &sender {
        Ok(s) => changes.default_sender = Some(s.clone()),
        Err(_) => problems.push("Der Absender ist nicht zulässig."),
    }
    if !values.reply_email.trim().is_empty() {
        match EmailAddress::parse(values.reply_email) {
            Ok(e) => changes.reply_email = Some(e),
            Err(_) => problems.push("Die E-Mail-Adresse für Antworten ist nicht gültig."),
        }
    }
    match Region::parse(values.region) {
        Ok(r) => changes.region = Some(r),
        Err(_) => problems.push("Bitte wählen Sie ein Land."),
    }
    if !problems.is_empty() {
        // Nothing is saved when anything is wrong.
        let sender_error = sender.err().map(|e| sender_problem(&e));
        let page = view(
            &portal,
            &signed,
            Some(values),
            Some((format!("Nicht gespeichert: {}", problems.join(" ")), false)),
            sender_error,
        )
        .await?;
        return Ok((http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    portal.svc.store.update_org(signed.org.id, &changes).await?;
    tracing::info!(practice = %signed.org.id, "settings changed in the portal");
    Ok(Redirect::to("/einstellungen?hinweis=gespeichert").into_response())
}

/// The live check behind the sender field: the same rule as on submit, as JSON.
pub async fn check_sender(Owner(_): Owner, RawQuery(q): RawQuery) -> Response {
    let q = Fields::parse(q.unwrap_or_default().as_bytes());
    let body = match SenderId::parse(q.get("absender")) {
        Ok(_) => serde_json::json!({ "ok": true, "message": "" }),
        Err(e) => serde_json::json!({ "ok": false, "message": sender_problem(&e) }),
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub async fn change_password(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    Form(form): Form,
) -> Result<Response, PortalError> {
    let current = form.get("current").to_owned();
    let new = form.get("new").to_owned();
    let stored = signed.account.password_hash.clone();
    let checked = tokio::task::spawn_blocking(move || {
        if !password::verify(&current, stored.as_deref()) {
            return Err("Das bisherige Passwort stimmt nicht.".to_owned());
        }
        password::hash(&new).map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| PortalError::BadRequest("hashing"))?;
    let hashed = match checked {
        Ok(h) => h,
        Err(message) => {
            let page = view(&portal, &signed, None, Some((message, false)), None).await?;
            return Ok((http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = portal.svc.clock.now();
    portal
        .svc
        .accounts
        .set_password(signed.org.id, signed.account.id, &hashed, now)
        .await?;
    // Every session ended with the change; this browser gets a new one.
    let cookie = session::begin(&portal, &signed.account).await?;
    let mut res = Redirect::to("/einstellungen?hinweis=passwort").into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

pub async fn invite(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    headers: http::HeaderMap,
    Form(form): Form,
) -> Result<Response, PortalError> {
    let Ok(email) = EmailAddress::parse(form.get("email")) else {
        let page = view(
            &portal,
            &signed,
            None,
            Some(("Diese E-Mail-Adresse ist nicht gültig.".into(), false)),
            None,
        )
        .await?;
        return Ok((http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let now = portal.svc.clock.now();
    let member = Account {
        id: AccountId::new(now),
        org_id: signed.org.id,
        email,
        role: Role::Team,
        password_hash: None,
        sessions_valid_after: now,
        created_at: now,
    };
    if !portal.svc.accounts.create_account(&member).await? {
        let page = view(
            &portal,
            &signed,
            None,
            Some((
                "Zu dieser E-Mail-Adresse gibt es schon einen Zugang.".into(),
                false,
            )),
            None,
        )
        .await?;
        return Ok((http::StatusCode::CONFLICT, page).into_response());
    }
    let link = password_link(
        portal.svc.accounts.as_ref(),
        now,
        &portal.config.base_url(&headers),
        &member,
        WELCOME_TTL,
    )
    .await?;
    send_link(
        &portal.svc,
        &member,
        &format!("Einladung zu praxis-sms von {}", signed.org.name.as_str()),
        &format!(
            "Guten Tag,\n\n{} hat Sie zum SMS-Portal eingeladen. Mit diesem Link setzen Sie \
             Ihr Passwort; er gilt 7 Tage und nur einmal:\n\n{link}\n",
            signed.org.name.as_str()
        ),
    )
    .await?;
    tracing::info!(practice = %signed.org.id, account = %member.id, "team member invited");
    Ok(Redirect::to("/einstellungen?hinweis=eingeladen").into_response())
}

pub async fn remove_member(
    State(portal): State<Portal>,
    Owner(signed): Owner,
    id: Result<Path<String>, PathRejection>,
    Form(_): Form,
) -> Result<Response, PortalError> {
    let id = id
        .ok()
        .and_then(|Path(id)| AccountId::parse(&id).ok())
        .ok_or(PortalError::NotFound)?;
    if !portal
        .svc
        .accounts
        .delete_team_member(signed.org.id, id)
        .await?
    {
        return Err(PortalError::NotFound);
    }
    Ok(Redirect::to("/einstellungen?hinweis=entfernt").into_response())
}
