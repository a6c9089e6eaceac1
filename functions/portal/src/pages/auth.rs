//! Signing in and out, "Passwort vergessen" and the one-time set-password links (also how a
//! new practice's main account and invited team members get their first password).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use http::{HeaderMap, StatusCode, header};
use maud::{Markup, html};
use praxis_shared::domain::account::{Account, PasswordToken, Secret, login_key};
use praxis_shared::domain::org::EmailAddress;
use praxis_shared::ports::{Accounts, Email, PortResult};
use praxis_shared::services::Services;
use sha2::{Digest, Sha256};

use crate::Portal;
use crate::error::PortalError;
use crate::form::{Fields, Form, PublicForm};
use crate::layout::{self, notice};
use crate::password;
use crate::session::{self, FORM_COOKIE, Signed};

/// Failed sign-ins allowed per account and per client within [`THROTTLE_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// "Passwort vergessen" e-mails per address within [`THROTTLE_WINDOW`]; more requests get the
/// same answer and no mail (no one can flood a practice's inbox through the form).
pub const MAX_RESET_MAILS: u32 = 3;
/// How long a "Passwort vergessen" link works.
pub const RESET_TTL: Duration = Duration::minutes(30);
/// How long an invitation's or a new practice's link works.
pub const WELCOME_TTL: Duration = Duration::days(7);

const WRONG: &str = "E-Mail-Adresse oder Passwort ist falsch.";
const THROTTLED: &str = "Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie 15 Minuten \
     und versuchen Sie es dann erneut, oder setzen Sie Ihr Passwort über „Passwort vergessen“ neu.";

/// The token of the pre-session forms: the one in the browser's cookie, or a new one.
fn form_token(headers: &HeaderMap) -> (String, bool) {
    match session::cookie(headers, FORM_COOKIE).filter(|t| t.len() >= 32) {
        Some(t) => (t.to_owned(), false),
        None => (Secret::generate().expose().to_owned(), true),
    }
}

/// A pre-session page, with the form cookie set when it is new.
fn public_page(
    portal: &Portal,
    headers: &HeaderMap,
    status: StatusCode,
    title: &str,
    content: impl FnOnce(&str) -> Markup,
) -> Response {
    let (token, new) = form_token(headers);
    let mut res = (status, layout::bare(title, content(&token))).into_response();
    if new {
        res.headers_mut().append(
            header::SET_COOKIE,
            session::set_cookie(portal, FORM_COOKIE, &token, 86_400),
        );
    }
    res
}

fn sign_in_form(token: &str, email: &str, message: Option<(&str, bool)>) -> Markup {
    html! {
        h1 { "Anmelden" }
        @if let Some((text, ok)) = message { (notice(text, ok)) }
        form method="post" action="/anmelden" {
            input type="hidden" name="csrf" value=(token);
            label for="email" { "E-Mail-Adresse" }
            input id="email" name="email" type="email" autocomplete="username" required value=(email);
            label for="password" { "Passwort" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Anmelden" }
        }
        p { a href="/passwort-vergessen" { "Passwort vergessen?" } }
    }
}

pub async fn sign_in_page(
    State(portal): State<Portal>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = Fields::parse(q.unwrap_or_default().as_bytes());
    let message = match q.get("hinweis") {
        "abgemeldet" => Some(("Sie sind abgemeldet.", true)),
        "passwort" => Some(("Ihr Passwort ist gesetzt. Bitte melden Sie sich an.", true)),
        _ => None,
    };
    public_page(&portal, &headers, StatusCode::OK, "Anmelden", |t| {
        sign_in_form(t, "", message)
    })
}

/// The client a request comes from: API Gateway appends the caller's address to
/// `X-Forwarded-For`, so its last entry is the one a caller cannot forge.
fn client_of(headers: &HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "local".into())
}

/// The throttle's key of an address: hashed, so the store holds no e-mail in clear here.
fn account_key(raw_email: &str) -> String {
    let login = EmailAddress::parse(raw_email)
        .map(|e| login_key(&e))
        .unwrap_or_else(|_| raw_email.trim().to_lowercase());
    format!("account:{}", hex::encode(Sha256::digest(login.as_bytes())))
}

pub async fn sign_in(
    State(portal): State<Portal>,
    headers: HeaderMap,
    PublicForm(form): PublicForm,
) -> Result<Response, PortalError> {
    let svc = &portal.svc;
    let now = svc.clock.now();
    let raw_email = form.get("email");
    let keys = [
        account_key(raw_email),
        format!("client:{}", client_of(&headers)),
    ];
    let answer = |status: StatusCode, text: &'static str| {
        public_page(&portal, &headers, status, "Anmelden", |t| {
            sign_in_form(t, raw_email, Some((text, false)))
        })
    };
    for key in &keys {
        if svc
            .accounts
            .sign_in_failures(key, now, THROTTLE_WINDOW)
            .await?
            >= MAX_FAILURES
        {
            return Ok(answer(StatusCode::TOO_MANY_REQUESTS, THROTTLED));
        }
    }
    let account = match EmailAddress::parse(raw_email) {
        Ok(email) => svc.accounts.find_account_by_email(&email).await?,
        Err(_) => None,
    };
    // Unknown addresses are checked against a dummy hash: the same answer, the same time.
    let pw = form.get("password").to_owned();
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, stored.as_deref()))
        .await
        .unwrap_or(false);
    let Some(account) = account.filter(|_| ok) else {
        for key in &keys {
            svc.accounts
                .note_sign_in_failure(key, now, THROTTLE_WINDOW)
                .await?;
        }
        tracing::info!("sign-in failed");
        return Ok(answer(StatusCode::OK, WRONG));
    };
    let cookie = session::begin(&portal, &account).await?;
    tracing::info!(account = %account.id, "signed in");
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

pub async fn sign_out(
    State(portal): State<Portal>,
    signed: Signed,
    Form(_): Form,
) -> Result<Response, PortalError> {
    portal
        .svc
        .accounts
        .delete_session(&signed.session.token_hash)
        .await?;
    Ok(signed_out(&portal))
}

pub async fn sign_out_everywhere(
    State(portal): State<Portal>,
    signed: Signed,
    Form(_): Form,
) -> Result<Response, PortalError> {
    let now = portal.svc.clock.now();
    portal
        .svc
        .accounts
        .end_sessions(signed.org.id, signed.account.id, now)
        .await?;
    portal
        .svc
        .accounts
        .delete_session(&signed.session.token_hash)
        .await?;
    Ok(signed_out(&portal))
}

fn signed_out(portal: &Portal) -> Response {
    let mut res = Redirect::to("/anmelden?hinweis=abgemeldet").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        session::clear_cookie(portal, session::COOKIE),
    );
    res
}

pub async fn forgot_page(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    public_page(
        &portal,
        &headers,
        StatusCode::OK,
        "Passwort vergessen",
        |t| forgot_form(t, None),
    )
}

fn forgot_form(token: &str, message: Option<&str>) -> Markup {
    html! {
        h1 { "Passwort vergessen" }
        @if let Some(m) = message { (notice(m, true)) }
        p { "Wir schicken Ihnen einen Link, mit dem Sie ein neues Passwort setzen. Er gilt 30 Minuten und nur einmal." }
        form method="post" action="/passwort-vergessen" {
            input type="hidden" name="csrf" value=(token);
            label for="email" { "E-Mail-Adresse" }
            input id="email" name="email" type="email" autocomplete="username" required;
            button type="submit" { "Link schicken" }
        }
        p { a href="/anmelden" { "Zurück zur Anmeldung" } }
    }
}

pub async fn forgot(
    State(portal): State<Portal>,
    headers: HeaderMap,
    PublicForm(form): PublicForm,
) -> Result<Response, PortalError> {
    let requests = portal
        .svc
        .accounts
        .note_sign_in_failure(
            &format!("reset:{}", account_key(form.get("email"))),
            portal.svc.clock.now(),
            THROTTLE_WINDOW,
        )
        .await?;
    if requests <= MAX_RESET_MAILS
        && let Ok(email) = EmailAddress::parse(form.get("email"))
        && let Some(account) = portal.svc.accounts.find_account_by_email(&email).await?
    {
        let link = password_link(
            portal.svc.accounts.as_ref(),
            portal.svc.clock.now(),
            &portal.config.base_url(&headers),
            &account,
            RESET_TTL,
        )
        .await?;
        send_link(
            &portal.svc,
            &account,
            "Ihr Link zum neuen Passwort",
            &format!(
                "Guten Tag,\n\nmit diesem Link setzen Sie ein neues Passwort für Ihren Zugang \
                 zu praxis-sms. Er gilt 30 Minuten und nur einmal:\n\n{link}\n\nHaben Sie \
                 keinen neuen Link angefordert, können Sie diese E-Mail löschen.\n"
            ),
        )
        .await?;
    }
    // The same answer whether or not the address has an account.
    Ok(public_page(
        &portal,
        &headers,
        StatusCode::OK,
        "Passwort vergessen",
        |t| {
            forgot_form(
                t,
                Some(
                    "Falls zu dieser Adresse ein Zugang besteht, haben wir Ihnen einen Link geschickt.",
                ),
            )
        },
    ))
}

/// A one-time link that sets `account`'s password, valid for `ttl` from `now`.
pub async fn password_link(
    accounts: &dyn Accounts,
    now: DateTime<Utc>,
    public_url: &str,
    account: &Account,
    ttl: Duration,
) -> PortResult<String> {
    let secret = Secret::generate();
    accounts
        .put_password_token(&PasswordToken {
            token_hash: secret.hash(),
            account_id: account.id,
            org_id: account.org_id,
            expires_at: now + ttl,
        })
        .await?;
    Ok(format!(
        "{}/passwort-setzen?token={}",
        public_url.trim_end_matches('/'),
        secret.expose()
    ))
}

/// E-mails a link to the account's address.
pub async fn send_link(
    svc: &Services,
    account: &Account,
    subject: &str,
    text: &str,
) -> PortResult<()> {
    let key = format!(
        "portal-link-{}",
        hex::encode(&Sha256::digest(text.as_bytes())[..12])
    );
    svc.mailer
        .send(
            &key,
            &Email {
                to: account.email.as_str().to_owned(),
                from_name: "praxis-sms".into(),
                subject: subject.into(),
                text: text.into(),
                html: None,
            },
        )
        .await
}

fn set_password_form(form_token: &str, link: &str, message: Option<&str>) -> Markup {
    html! {
        h1 { "Passwort setzen" }
        @if let Some(m) = message { (notice(m, false)) }
        form method="post" action="/passwort-setzen" {
            input type="hidden" name="csrf" value=(form_token);
            input type="hidden" name="token" value=(link);
            label for="password" { "Neues Passwort (mindestens " (password::MIN_CHARS) " Zeichen)" }
            input id="password" name="password" type="password" autocomplete="new-password" required minlength=(password::MIN_CHARS);
            button type="submit" { "Passwort speichern" }
        }
    }
}

pub async fn set_password_page(
    State(portal): State<Portal>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = Fields::parse(q.unwrap_or_default().as_bytes());
    let link = q.get("token").to_owned();
    public_page(&portal, &headers, StatusCode::OK, "Passwort setzen", |t| {
        set_password_form(t, &link, None)
    })
}

pub async fn set_password(
    State(portal): State<Portal>,
    headers: HeaderMap,
    PublicForm(form): PublicForm,
) -> Result<Response, PortalError> {
    let link = form.get("token").to_owned();
    let again = |message: String| {
        public_page(
            &portal,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Passwort setzen",
            |t| set_password_form(t, &link, Some(&message)),
        )
    };
    // The password is checked before the link is used up.
    let pw = form.get("password").to_owned();
    let hashed = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| PortalError::BadRequest("hashing"))?;
    let hashed = match hashed {
        Ok(h) => h,
        Err(e) => return Ok(again(e.to_string())),
    };
    let now = portal.svc.clock.now();
    let taken = match Secret::parse(&link) {
        Some(secret) => {
            portal
                .svc
                .accounts
                .take_password_token(&secret.hash(), now)
                .await?
        }
        None => None,
    };
    let Some(token) = taken else {
        return Ok(again(
            "Dieser Link ist abgelaufen oder wurde schon benutzt. Fordern Sie über „Passwort \
             vergessen“ einen neuen an."
                .into(),
        ));
    };
    portal
        .svc
        .accounts
        .set_password(token.org_id, token.account_id, &hashed, now)
        .await?;
    tracing::info!(account = %token.account_id, "password set by link");
    Ok(Redirect::to("/anmelden?hinweis=passwort").into_response())
}
