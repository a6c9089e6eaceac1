//! The practices' web portal: server-rendered German HTML (maud) for signing in, the SMS of 60
//! days, replies and opt-outs, invoices, API keys, settings and a text checker, as one axum
//! `Router`. The same router runs behind API Gateway (`lambda_http::run`) and inside `serve`.
//! docs/portal.md describes accounts, sessions, CSRF, throttles and the routes.

pub mod accounts;
pub mod assets;
pub mod error;
pub mod form;
pub mod layout;
pub mod pages;
pub mod password;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use http::{HeaderValue, header};
use praxis_shared::services::Services;

/// Where the stack (portal and API, one HTTP API) is reached from outside.
#[derive(Debug, Clone, Default)]
pub struct PortalConfig {
    /// The stack's root URL without a trailing slash (links in e-mails, the URL Dentport
    /// takes); `None`: the `Host` the request came to, over https (API Gateway's own domain).
    pub public_url: Option<String>,
}

impl PortalConfig {
    pub fn new(public_url: &str) -> PortalConfig {
        PortalConfig {
            public_url: Some(public_url.trim_end_matches('/').to_owned()),
        }
    }

    /// The URL each request came to (behind API Gateway, always https).
    pub fn from_requests() -> PortalConfig {
        PortalConfig::default()
    }

    /// The session cookie is `Secure` unless the stack is reached over plain http (`serve`).
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_none_or(|u| u.starts_with("https://"))
    }

    /// The stack's root URL for a request with these headers.
    pub fn base_url(&self, headers: &http::HeaderMap) -> String {
        if let Some(u) = &self.public_url {
            return u.clone();
        }
        let host = headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| {
                h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
            })
            .unwrap_or("localhost");
        format!("https://{host}")
    }
}

/// What every handler gets: the services and the portal's configuration.
#[derive(Clone)]
pub struct Portal {
    pub svc: Services,
    pub config: Arc<PortalConfig>,
}

/// Forms are small; a larger body is refused before it is read.
const BODY_LIMIT: usize = 64 * 1024;

/// Every route of the portal. Pages behind sign-in pass through [`session::require`]; the
/// sign-in pages and the assets do not.
pub fn router(svc: Services, config: PortalConfig) -> Router {
    let portal = Portal {
        svc,
        config: Arc::new(config),
    };
    use pages::{apikey, auth, checker, invoices, messages, overview, replies, settings};
    let signed_in = Router::new()
        .route("/", get(overview::page))
        .route("/sms", get(messages::list))
        .route("/sms/export.csv", get(messages::csv))
        .route("/sms/{id}", get(messages::detail))
        .route("/antworten", get(replies::page))
        .route("/antworten/sperre-aufheben", post(replies::lift_opt_out))
        .route("/rechnungen", get(invoices::page))
        .route("/rechnungen/{id}/pdf", get(invoices::pdf))
        .route(
            "/organization/apikey",
            get(apikey::page).post(apikey::create),
        )
        .route(
            "/organization/apikey/{id}/widerrufen",
            get(apikey::confirm_revoke).post(apikey::revoke),
        )
        .route("/einstellungen", get(settings::page).post(settings::save))
        .route(
            "/einstellungen/absender-pruefen",
            get(settings::check_sender),
        )
        .route("/einstellungen/passwort", post(settings::change_password))
        .route("/einstellungen/team", post(settings::invite))
        .route(
            "/einstellungen/team/{id}/entfernen",
            post(settings::remove_member),
        )
        .route("/textpruefer", get(checker::page).post(checker::submit))
        .route("/textpruefer/zaehlen", post(checker::count))
        .route("/abmelden", post(auth::sign_out))
        .route("/ueberall-abmelden", post(auth::sign_out_everywhere))
        .layer(from_fn_with_state(portal.clone(), session::require));
    Router::new()
        .route("/anmelden", get(auth::sign_in_page).post(auth::sign_in))
        .route(
            "/passwort-vergessen",
            get(auth::forgot_page).post(auth::forgot),
        )
        .route(
            "/passwort-setzen",
            get(auth::set_password_page).post(auth::set_password),
        )
        .route("/assets/portal.css", get(assets::css))
        .route("/assets/portal.js", get(assets::js))
        .merge(signed_in)
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(security_headers))
        .with_state(portal)
}

/// The Content-Security-Policy allows only our own stylesheet and script (and its fetches to
/// us, for the live checks): no inline code, no
/// other origin, no framing, forms posting only here.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_configured_url_links_point_at_the_host_the_request_came_to() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("abc123.execute-api.eu-central-1.amazonaws.com"),
        );
        let behind_gateway = PortalConfig::from_requests();
        assert_eq!(
            behind_gateway.base_url(&headers),
            "https://abc123.execute-api.eu-central-1.amazonaws.com"
        );
        assert!(behind_gateway.secure_cookies());
        headers.insert(header::HOST, HeaderValue::from_static("evil\"host/x"));
        assert_eq!(behind_gateway.base_url(&headers), "https://localhost");

        let local = PortalConfig::new("http://127.0.0.1:3000/");
        assert_eq!(local.base_url(&headers), "http://127.0.0.1:3000");
        assert!(!local.secure_cookies());
    }
}
