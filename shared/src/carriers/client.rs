//! The HTTP client side the carrier adapters share: their credentials ([`Secret`]), their
//! limits ([`Timeouts`]), one pooled client per carrier, and one submission sent and its
//! transport failures and HTTP status classified into [`SubmitError`]. What a carrier's answer
//! body means stays with its adapter.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::ports::{SubmitError, Submitted};

/// A credential: usable, but never printed by `Debug` or `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// How long one call to a carrier may take in all. Generous on purpose: a carrier that takes
/// 15 s and then accepts must not be cut off, since the retry would be a second SMS to the
/// patient. The dispatcher starts a call only while this much of its budget is left.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(25);

/// Limits on every call to a carrier. The dispatcher fits its attempts into its claim's lease
/// and its function's deadline (`praxis_dispatch`), so no second dispatcher takes a message
/// over while a call is still running.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// The whole call: connect, send, and read the answer.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: CALL_TIMEOUT,
        }
    }
}

/// A carrier's API base URL from its configuration, or `default`; `Err` carries the given
/// value when it is not an http(s) URL.
pub(crate) fn api_url(configured: Option<String>, default: &str) -> Result<String, String> {
    let url = configured
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| default.to_owned());
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err(url)
    }
}

/// The HTTP client of one carrier adapter (and so one connection pool for the process).
pub(crate) fn build(timeouts: Timeouts) -> Result<reqwest::Client, reqwest::Error> {
    crate::http::client_builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(32)
        .user_agent(concat!("praxis-sms/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends one submission to carrier `name` and hands a successful answer's body to `interpret`.
/// Transport failures and HTTP 5xx/429 are transient; any other non-2xx status is an operator
/// matter: carriers report their own errors with 200 and a code, so another 4xx means we are
/// talking to them wrongly (URL, proxy, credentials).
pub(crate) async fn submit(
    name: &str,
    request: reqwest::RequestBuilder,
    interpret: impl FnOnce(&[u8]) -> Result<Submitted, SubmitError>,
) -> Result<Submitted, SubmitError> {
    let res = request
        .send()
        .await
        .map_err(|e| SubmitError::Transient(describe(name, &e)))?;
    let status = res.status();
    // Read the body before judging the status: a connection dropped mid-answer is transient.
    let bytes = res
        .bytes()
        .await
        .map_err(|e| SubmitError::Transient(describe(name, &e)))?;
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(SubmitError::Transient(format!("{name}: HTTP {status}")));
    }
    if !status.is_success() {
        return Err(SubmitError::Operator(format!("{name}: HTTP {status}")));
    }
    interpret(&bytes)
}

fn describe(name: &str, e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "answer broken off"
    } else {
        "request failed"
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    format!("{name}: {what} ({detail})")
}

/// A string or number in a carrier's JSON answer as its text; null and the rest as None
/// (carriers send both forms).
pub(crate) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
