//! Sessions: a random token in an `HttpOnly; SameSite=Lax` cookie (`Secure` over https),
//! stored only as its SHA-256 hash, with an idle and an absolute end; the CSRF token of a
//! session's forms; and the layer that lets only signed-in browsers through.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use http::{HeaderMap, HeaderValue, header};
use praxis_shared::domain::account::{Account, Role, Secret, Session};
use praxis_shared::domain::org::Org;
use praxis_shared::ports::PortResult;
use subtle::ConstantTimeEq;

use crate::Portal;
use crate::error::PortalError;

pub const COOKIE: &str = "praxis_session";
/// The sign-in forms' CSRF token, before there is a session (double submit).
pub const FORM_COOKIE: &str = "praxis_form";
/// A session unused this long is over.
pub const IDLE: Duration = Duration::minutes(60);
/// A session is over this long after sign-in, however active.
pub const ABSOLUTE: Duration = Duration::hours(12);

/// The signed-in account of a request, its practice and session.
#[derive(Debug, Clone)]
pub struct Signed {
    pub org: Org,
    pub account: Account,
    pub session: Session,
}

impl Signed {
    pub fn is_owner(&self) -> bool {
        self.account.role == Role::Owner
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PortalError> {
        // Only missing on a route served without the layer: fail closed.
        parts
            .extensions
            .get::<Signed>()
            .cloned()
            .ok_or(PortalError::NotFound)
    }
}

/// The signed-in main account: team members get 404 on the pages only it may see.
pub struct Owner(pub Signed);

impl<S: Send + Sync> FromRequestParts<S> for Owner {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, PortalError> {
        let signed = Signed::from_request_parts(parts, s).await?;
        if signed.is_owner() {
            Ok(Owner(signed))
        } else {
            Err(PortalError::NotFound)
        }
    }
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Constant-time equality of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The layer before every signed-in page: a live session, or a redirect to the sign-in page.
pub async fn require(State(portal): State<Portal>, mut req: Request, next: Next) -> Response {
    match resolve(&portal, req.headers()).await {
        Ok(Some(signed)) => {
            req.extensions_mut().insert(signed);
            next.run(req).await
        }
        Ok(None) => {
            let mut res = Redirect::to("/anmelden").into_response();
            // A cookie of a session that is over is cleared.
            if cookie(req.headers(), COOKIE).is_some() {
                res.headers_mut()
                    .append(header::SET_COOKIE, clear_cookie(&portal, COOKIE));
            }
            res
        }
        Err(e) => PortalError::from(e).into_response(),
    }
}

async fn resolve(portal: &Portal, headers: &HeaderMap) -> PortResult<Option<Signed>> {
    let Some(secret) = cookie(headers, COOKIE).and_then(Secret::parse) else {
        return Ok(None);
    };
    let accounts = &portal.svc.accounts;
    let hash = secret.hash();
    let now = portal.svc.clock.now();
    let Some(session) = accounts.get_session(&hash).await? else {
        return Ok(None);
    };
    if !accounts.touch_session(&hash, now, IDLE).await? {
        return Ok(None);
    }
    let Some(account) = accounts
        .get_account(session.org_id, session.account_id)
        .await?
    else {
        return Ok(None);
    };
    // "Überall abmelden" and a new password end every session begun before.
    if session.created_at < account.sessions_valid_after {
        return Ok(None);
    }
    let Some(org) = portal.svc.store.get_org(session.org_id).await? else {
        return Ok(None);
    };
    Ok(Some(Signed {
        org,
        account,
        session,
    }))
}

/// Begins a new session for `account` and returns its cookie header.
pub async fn begin(portal: &Portal, account: &Account) -> PortResult<HeaderValue> {
    let secret = Secret::generate();
    let now: DateTime<Utc> = portal.svc.clock.now();
    let session = Session {
        token_hash: secret.hash(),
        account_id: account.id,
        org_id: account.org_id,
        csrf: Secret::generate().expose().to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + ABSOLUTE,
    };
    portal.svc.accounts.create_session(&session).await?;
    Ok(set_cookie(
        portal,
        COOKIE,
        secret.expose(),
        ABSOLUTE.num_seconds(),
    ))
}

pub fn set_cookie(portal: &Portal, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if portal.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(portal: &Portal, name: &str) -> HeaderValue {
    set_cookie(portal, name, "", 0)
}
