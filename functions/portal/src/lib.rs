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

/// Where the portal and the API are reached from outside.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// The portal's root URL without a trailing slash: links in e-mails start with it, and
    /// the session cookie is `Secure` when it is https.
    pub public_url: String,
    /// The API's base URL, as Dentport's "URL" field takes it.
    pub api_url: String,
}

impl PortalConfig {
    pub fn new(public_url: &str, api_url: &str) -> PortalConfig {
        PortalConfig {
            public_url: public_url.trim_end_matches('/').to_owned(),
            api_url: api_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
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
