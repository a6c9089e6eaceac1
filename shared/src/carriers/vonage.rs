//! Vonage's SMS API (formerly Nexmo): hands SMS to `POST {api_url}/sms/json` and reads its signed
//! delivery-report and inbound webhooks. Protocol as in Vonage's OpenAPI file
//! (`Nexmo/api-specification`, `definitions/sms.yml`) and its official SDKs.
//!
//! Sending: a form-encoded POST with `api_key`, `api_secret`, `from`, `to` (E.164 without `+`),
//! `text`, `type=unicode` for texts outside GSM-7, and `client-ref` = our message id. Vonage
//! answers 200 with `{"message-count","messages":[{"status","message-id","error-text",…}]}`: one
//! entry per SMS part, `status` `"0"` when that part was taken.
//!
//! Webhooks (SMS API "signed webhooks"): the parameters themselves carry `timestamp`, `nonce`
//! and `sig`. `sig` is computed over every other parameter, sorted by name, as
//! `&name=value…` with `&` and `=` in values replaced by `_`: for the HMAC methods the hex
//! HMAC of that string keyed with the signature secret, for "MD5 hash" the hex MD5 of that string
//! followed by the secret (`verifySignature` in `@vonage/sms`, `Client.signature` in the Python
//! SDK). Hex case is not significant.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::client::{self, Secret, Timeouts, text_of};
use super::{
    CarrierWebhooks, Concat, DeliveryReport, InboundSms, ReportTarget, WebhookError, WebhookRequest,
};
use crate::domain::text::is_gsm7;
use crate::domain::{Reason, Status};
use crate::ports::{Carrier, OutboundSms, SubmitError, Submitted};

pub const NAME: &str = "vonage";
pub const DEFAULT_API_URL: &str = "https://rest.nexmo.com";
/// How far a webhook's `timestamp` may be from our clock before the call is refused.
pub const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

pub const ENV_API_URL: &str = "VONAGE_API_URL";
pub const ENV_API_KEY: &str = "VONAGE_API_KEY";
pub const ENV_API_SECRET: &str = "VONAGE_API_SECRET";
pub const ENV_SIGNATURE_SECRET: &str = "VONAGE_SIGNATURE_SECRET";
/// The signature method chosen in Vonage's dashboard: `sha256` (default), `sha512`, `md5`
/// (MD5 HMAC) or `md5hash` (Vonage's own default, the weakest).
pub const ENV_SIGNATURE_METHOD: &str = "VONAGE_SIGNATURE_METHOD";

/// How Vonage signs webhooks; set per account in its dashboard. SHA-1 HMAC, which Vonage also
/// offers, is not supported (no SHA-1 implementation in this build).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethod {
    /// MD5 over the parameter string followed by the secret.
    Md5Hash,
    Md5Hmac,
    Sha256Hmac,
    Sha512Hmac,
}

impl SignatureMethod {
    pub fn parse(s: &str) -> Option<SignatureMethod> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "md5hash" => Some(SignatureMethod::Md5Hash),
            "md5" | "md5hmac" => Some(SignatureMethod::Md5Hmac),
            "sha256" | "sha256hmac" => Some(SignatureMethod::Sha256Hmac),
            "sha512" | "sha512hmac" => Some(SignatureMethod::Sha512Hmac),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VonageSetupError {
    #[error(
        "{0} is not set; the vonage carrier needs {ENV_API_KEY}, {ENV_API_SECRET} and {ENV_SIGNATURE_SECRET}"
    )]
    Missing(&'static str),
    #[error("{ENV_API_URL} must be an http(s) URL, got {0:?}")]
    BadUrl(String),
    #[error("{ENV_SIGNATURE_METHOD} must be one of sha256, sha512, md5, md5hash; got {0:?}")]
    BadMethod(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Where Vonage is and the account's credentials.
#[derive(Debug, Clone)]
pub struct VonageConfig {
    /// Base URL without `/sms/json`, e.g. `https://rest.nexmo.com`.
    pub api_url: String,
    /// Identifies the account (Vonage puts it in its webhooks too); not a secret.
    pub api_key: String,
    pub api_secret: Secret,
    /// Signs Vonage's webhooks (dashboard, API settings).
    pub signature_secret: Secret,
    pub signature_method: SignatureMethod,
}

impl VonageConfig {
    /// Reads `VONAGE_API_URL` (default [`DEFAULT_API_URL`]), `VONAGE_API_KEY`,
    /// `VONAGE_API_SECRET`, `VONAGE_SIGNATURE_SECRET`, `VONAGE_SIGNATURE_METHOD` (default sha256).
    pub fn from_env() -> Result<VonageConfig, VonageSetupError> {
        VonageConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`VonageConfig::from_env`], with `get` standing in for the environment.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<VonageConfig, VonageSetupError> {
        let set = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let api_url =
            client::api_url(set(ENV_API_URL), DEFAULT_API_URL).map_err(VonageSetupError::BadUrl)?;
        let api_key = set(ENV_API_KEY).ok_or(VonageSetupError::Missing(ENV_API_KEY))?;
        let api_secret = set(ENV_API_SECRET).ok_or(VonageSetupError::Missing(ENV_API_SECRET))?;
        let signature_secret =
            set(ENV_SIGNATURE_SECRET).ok_or(VonageSetupError::Missing(ENV_SIGNATURE_SECRET))?;
        let signature_method = match set(ENV_SIGNATURE_METHOD) {
            None => SignatureMethod::Sha256Hmac,
            Some(m) => SignatureMethod::parse(&m).ok_or(VonageSetupError::BadMethod(m))?,
        };
        Ok(VonageConfig {
            api_url,
            api_key: api_key.trim().to_owned(),
            api_secret: Secret::new(api_secret.trim()),
            signature_secret: Secret::new(signature_secret.trim()),
            signature_method,
        })
    }
}

/// The sending side. Holds one HTTP client (and so one connection pool) for the process.
pub struct VonageCarrier {
    http: reqwest::Client,
    endpoint: String,
    api_key: String,
    api_secret: Secret,
}

impl VonageCarrier {
    pub fn new(config: &VonageConfig) -> Result<VonageCarrier, VonageSetupError> {
        VonageCarrier::with_timeouts(config, Timeouts::default())
    }

    /// From `VONAGE_API_URL` (default [`DEFAULT_API_URL`]), `VONAGE_API_KEY` and
    /// `VONAGE_API_SECRET` alone: sending needs nothing else, so the dispatcher never reads the
    /// webhook signature secret.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<VonageCarrier, VonageSetupError> {
        let set = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let api_url =
            client::api_url(set(ENV_API_URL), DEFAULT_API_URL).map_err(VonageSetupError::BadUrl)?;
        let api_key = set(ENV_API_KEY).ok_or(VonageSetupError::Missing(ENV_API_KEY))?;
        let api_secret = set(ENV_API_SECRET).ok_or(VonageSetupError::Missing(ENV_API_SECRET))?;
        VonageCarrier::build(
            &api_url,
            api_key.trim(),
            Secret::new(api_secret.trim()),
            Timeouts::default(),
        )
    }

    pub fn with_timeouts(
        config: &VonageConfig,
        timeouts: Timeouts,
    ) -> Result<VonageCarrier, VonageSetupError> {
        VonageCarrier::build(
            &config.api_url,
            &config.api_key,
            config.api_secret.clone(),
            timeouts,
        )
    }

    fn build(
        api_url: &str,
        api_key: &str,
        api_secret: Secret,
        timeouts: Timeouts,
    ) -> Result<VonageCarrier, VonageSetupError> {
        let http = client::build(timeouts).map_err(|e| VonageSetupError::Client(e.to_string()))?;
        Ok(VonageCarrier {
            http,
            endpoint: format!("{api_url}/sms/json"),
            api_key: api_key.to_owned(),
            api_secret,
        })
    }
}

impl VonageCarrier {
    /// The form body of one submission (built apart from `submit`: the serializer is not `Send`).
    fn form(&self, sms: &OutboundSms<'_>, from: &str) -> String {
        let id = sms.id.to_string();
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("api_key", &self.api_key)
            .append_pair("api_secret", self.api_secret.expose())
            .append_pair("from", from)
            .append_pair("to", sms.to.as_str().trim_start_matches('+'))
            .append_pair("text", sms.text)
            .append_pair("client-ref", &id)
            .append_pair("status-report-req", "1");
        if !sms.text.chars().all(is_gsm7) {
            // Without it Vonage sends the text as GSM-7 and the patient sees question marks.
            form.append_pair("type", "unicode");
        }
        form.finish()
    }
}

#[async_trait]
impl Carrier for VonageCarrier {
    fn name(&self) -> &str {
        NAME
    }

    async fn submit(&self, sms: &OutboundSms<'_>) -> Result<Submitted, SubmitError> {
        let sender = sms.sender.as_str();
        // Numeric senders go in E.164 without `+`, like recipients.
        let from = match sender.strip_prefix('+') {
            Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => digits,
            _ => sender,
        };
        let body = self.form(sms, from);
        let request = self
            .http
            .post(&self.endpoint)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(body);
        client::submit(NAME, request, interpret_answer).await
    }
}

/// Vonage's answer to `POST /sms/json` (fields beyond these are ignored).
#[derive(Debug, Deserialize)]
struct SmsAnswer {
    #[serde(default)]
    messages: Vec<SmsAnswerMessage>,
}

#[derive(Debug, Deserialize)]
struct SmsAnswerMessage {
    #[serde(default)]
    status: Value,
    #[serde(default, rename = "message-id")]
    message_id: Value,
    #[serde(default, rename = "error-text")]
    error_text: Value,
}

/// Reads the answer to one submission: Vonage's message id on success, else the classified
/// error. A long text is split by Vonage into parts, each with its own entry; the first part
/// taken names the message (its id is the one kept for delivery reports).
fn interpret_answer(body: &[u8]) -> Result<Submitted, SubmitError> {
    let answer: SmsAnswer = serde_json::from_slice(body).map_err(|_| {
        SubmitError::Operator(format!(
            "vonage: answer not understood ({} bytes; is {ENV_API_URL} right?)",
            body.len()
        ))
    })?;
    let Some(first) = answer.messages.first() else {
        return Err(SubmitError::Operator(
            "vonage: answer without message entries".into(),
        ));
    };
    let taken = answer
        .messages
        .iter()
        .find(|m| text_of(&m.status).as_deref() == Some("0"));
    let Some(taken) = taken else {
        let code = text_of(&first.status).unwrap_or_default();
        let text = text_of(&first.error_text).unwrap_or_default();
        return Err(classify(&code, &text));
    };
    let refused = answer
        .messages
        .iter()
        .filter(|m| text_of(&m.status).as_deref() != Some("0"))
        .count();
    if refused > 0 {
        // Some parts went out: sending again would repeat them, so the message counts as taken.
        tracing::warn!(
            refused,
            parts = answer.messages.len(),
            "vonage took only some parts of a long SMS"
        );
    }
    match text_of(&taken.message_id) {
        Some(id) => Ok(Submitted {
            carrier: NAME.to_owned(),
            carrier_ref: Some(id),
        }),
        None => Err(SubmitError::Operator(
            "vonage: status 0 without a message-id; cannot track the message".into(),
        )),
    }
}

/// What a Vonage send status means for the message (`x-errors` in Vonage's OpenAPI file).
///
/// | code | Vonage says | we say | why |
/// |---|---|---|---|
/// | 1 | throttled | transient | over the account's rate; the same request works later |
/// | 2 | missing parameters | operator | we always send them; a missing one is our bug or config (empty secret), not the practice's |
/// | 3 | invalid parameters | permanent, rejected | a value of this message (recipient, sender) Vonage will not take |
/// | 4 | invalid credentials | operator | wrong or disabled key/secret |
/// | 5 | internal error | transient | Vonage's platform failed; "if it persists, contact support" |
/// | 6 | invalid message (e.g. unknown number prefix) | permanent, unknown_subscriber | the number cannot be routed |
/// | 7 | number barred | permanent, rejected | the recipient may not receive SMS |
/// | 8 | partner account barred | operator | our account is suspended |
/// | 9 | partner quota violation | operator | no credit; topping up fixes it |
/// | 10 | too many existing binds | transient | Vonage: "back-off and retry" |
/// | 11 | account not enabled for HTTP | operator | account provisioning |
/// | 12 | message too long | permanent, rejected | this text will never fit |
/// | 14 | invalid signature | operator | we do not sign requests; a proxy or config problem |
/// | 15 | invalid sender address | permanent, rejected | this practice's sender is not allowed for the destination |
/// | 22 | invalid network code | operator | we send none; our request is wrong |
/// | 23 | invalid callback URL | operator | configuration |
/// | 29 | non-whitelisted destination | operator | the account is still in demo mode: fixed by the operator, and another carrier can take the message meanwhile |
/// | 32 | signature and api secret disallowed | operator | account set to require signed requests |
/// | 33 | number de-activated | permanent, unknown_subscriber | the number is no longer in service |
/// | other | | operator | retried and logged loudly rather than failing a patient's message on a guess |
fn classify(code: &str, error_text: &str) -> SubmitError {
    let what = |default: &str| {
        if error_text.is_empty() {
            default.to_owned()
        } else {
            error_text.to_owned()
        }
    };
    let permanent = |reason: Reason, default: &str| SubmitError::Permanent {
        reason,
        detail: format!("vonage: status {code}: {}", what(default)),
    };
    let transient =
        |default: &str| SubmitError::Transient(format!("vonage: status {code}: {}", what(default)));
    let operator =
        |default: &str| SubmitError::Operator(format!("vonage: status {code}: {}", what(default)));
    match code {
        "1" => transient("throttled"),
        "2" => operator("missing parameters"),
        "3" => permanent(Reason::Rejected, "invalid parameters"),
        "4" => operator("invalid credentials"),
        "5" => transient("internal error"),
        "6" => permanent(Reason::UnknownSubscriber, "invalid message"),
        "7" => permanent(Reason::Rejected, "number barred"),
        "8" => operator("partner account barred"),
        "9" => operator("partner quota violation (credit)"),
        "10" => transient("too many existing binds"),
        "11" => operator("account not enabled for HTTP"),
        "12" => permanent(Reason::Rejected, "message too long"),
        "14" => operator("invalid signature"),
        "15" => permanent(Reason::Rejected, "invalid sender address"),
        "22" => operator("invalid network code"),
        "23" => operator("invalid callback url"),
        "29" => operator("non-whitelisted destination (demo account)"),
        "32" => operator("signature and api secret disallowed"),
        "33" => permanent(Reason::UnknownSubscriber, "number de-activated"),
        "" => SubmitError::Operator("vonage: answer without a status".into()),
        _ => operator("unknown status"),
    }
}

/// The string Vonage signs: every parameter but `sig`, sorted by name, as `&name=value`, with
/// `&` and `=` in values replaced by `_`.
pub fn signing_string(params: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in params {
        if k == "sig" {
            continue;
        }
        out.push('&');
        out.push_str(k);
        out.push('=');
        out.push_str(&v.replace(['&', '='], "_"));
    }
    out
}

fn digest(method: SignatureMethod, secret: &str, params: &BTreeMap<String, String>) -> Vec<u8> {
    let data = signing_string(params);
    fn hmac_of<M: Mac + hmac::digest::KeyInit>(secret: &str, data: &str) -> Vec<u8> {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    match method {
        SignatureMethod::Md5Hash => {
            let mut h = Md5::new();
            h.update(data.as_bytes());
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
        SignatureMethod::Md5Hmac => hmac_of::<Hmac<Md5>>(secret, &data),
        SignatureMethod::Sha256Hmac => hmac_of::<Hmac<Sha256>>(secret, &data),
        SignatureMethod::Sha512Hmac => hmac_of::<Hmac<Sha512>>(secret, &data),
    }
}

/// Vonage's `sig` over `params` (lower-case hex); `sig` itself, if present, is left out.
pub fn sign(method: SignatureMethod, secret: &str, params: &BTreeMap<String, String>) -> String {
    hex::encode(digest(method, secret, params))
}

/// A webhook's parameters: from the body (a JSON object or a form) when there is one, else
/// from the query string (Vonage's GET webhooks).
pub fn webhook_params(url: &str, body: &[u8]) -> Result<BTreeMap<String, String>, WebhookError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        return Ok(form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect());
    }
    if trimmed.starts_with(b"{") {
        let map: serde_json::Map<String, Value> = serde_json::from_slice(trimmed)
            .map_err(|e| WebhookError::BadPayload(format!("JSON body: {e}")))?;
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                Value::Array(_) | Value::Object(_) => {
                    return Err(WebhookError::BadPayload(format!(
                        "parameter {k:?} is not a plain value"
                    )));
                }
            };
            out.insert(k, v);
        }
        return Ok(out);
    }
    if std::str::from_utf8(trimmed).is_err() {
        return Err(WebhookError::BadPayload("body is not UTF-8".into()));
    }
    Ok(form_urlencoded::parse(trimmed)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// The webhook side: checks Vonage's signature and reads its delivery reports and inbound SMS.
pub struct VonageWebhooks {
    signature_secret: Secret,
    method: SignatureMethod,
}

impl VonageWebhooks {
    pub fn new(config: &VonageConfig) -> VonageWebhooks {
        VonageWebhooks {
            signature_secret: config.signature_secret.clone(),
            method: config.signature_method,
        }
    }

    /// From `VONAGE_SIGNATURE_SECRET` and `VONAGE_SIGNATURE_METHOD` alone: verifying a webhook
    /// needs nothing else, so a function that only takes webhooks never reads the API secret.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<VonageWebhooks, VonageSetupError> {
        let set = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let signature_secret =
            set(ENV_SIGNATURE_SECRET).ok_or(VonageSetupError::Missing(ENV_SIGNATURE_SECRET))?;
        let method = match set(ENV_SIGNATURE_METHOD) {
            None => SignatureMethod::Sha256Hmac,
            Some(m) => SignatureMethod::parse(&m).ok_or(VonageSetupError::BadMethod(m))?,
        };
        Ok(VonageWebhooks {
            signature_secret: Secret::new(signature_secret.trim()),
            method,
        })
    }
}

impl fmt::Debug for VonageWebhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VonageWebhooks")
            .field("signature_secret", &self.signature_secret)
            .field("method", &self.method)
            .finish()
    }
}

/// Whether a call carries Vonage's `sig` and `timestamp` parameters (before any secret is
/// read).
pub fn carries_signature(req: &WebhookRequest<'_>) -> bool {
    webhook_params(req.url, req.body).is_ok_and(|p| {
        ["sig", "timestamp"]
            .iter()
            .all(|k| p.get(*k).is_some_and(|v| !v.trim().is_empty()))
    })
}

impl CarrierWebhooks for VonageWebhooks {
    fn name(&self) -> &str {
        NAME
    }

    fn carries_signature(&self, req: &WebhookRequest<'_>) -> bool {
        carries_signature(req)
    }

    fn verify(&self, req: &WebhookRequest<'_>, now: DateTime<Utc>) -> Result<(), WebhookError> {
        let params = webhook_params(req.url, req.body)
            .map_err(|_| WebhookError::Unauthorized("parameters not readable"))?;
        let given = params
            .get("sig")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or(WebhookError::Unauthorized("missing sig"))?;
        let sent_at: i64 = params
            .get("timestamp")
            .ok_or(WebhookError::Unauthorized("missing timestamp"))?
            .trim()
            .parse()
            .map_err(|_| WebhookError::Unauthorized("malformed timestamp"))?;
        let skew = now.timestamp().saturating_sub(sent_at).saturating_abs();
        if skew > MAX_CLOCK_SKEW.num_seconds() {
            return Err(WebhookError::Unauthorized(
                "timestamp too far from our clock",
            ));
        }
        let given =
            hex::decode(given).map_err(|_| WebhookError::Unauthorized("malformed signature"))?;
        let expected = digest(self.method, self.signature_secret.expose(), &params);
        if bool::from(expected.ct_eq(&given)) {
            Ok(())
        } else {
            Err(WebhookError::Unauthorized("wrong signature"))
        }
    }

    fn parse_reports(&self, body: &[u8]) -> Result<Vec<DeliveryReport>, WebhookError> {
        let p = webhook_params("", body)?;
        let Some(message_id) = p
            .get("messageId")
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        else {
            return Err(WebhookError::BadPayload(
                "delivery receipt without messageId".into(),
            ));
        };
        let Some(raw_status) = p.get("status") else {
            if p.contains_key("text") {
                // An inbound SMS sent to the DLR address: acknowledged so Vonage stops.
                tracing::info!("vonage webhook is an inbound SMS, not a delivery receipt; ignored");
                return Ok(Vec::new());
            }
            return Err(WebhookError::BadPayload(
                "delivery receipt without status".into(),
            ));
        };
        let err_code = p.get("err-code").map(|c| c.trim()).unwrap_or_default();
        let (status, reason) = map_status(raw_status, err_code);
        if status.is_none() && !raw_status.trim().eq_ignore_ascii_case("unknown") {
            tracing::warn!(status = %raw_status, "vonage DLR status not known; ignored");
        }
        Ok(vec![DeliveryReport {
            target: ReportTarget::CarrierRef(message_id.to_owned()),
            status,
            reason,
        }])
    }

    /// Reads an inbound SMS (`POST /webhooks/vonage/inbound`), after [`CarrierWebhooks::verify`].
    fn parse_inbound(&self, body: &[u8]) -> Result<Option<InboundSms>, WebhookError> {
        let p = webhook_params("", body)?;
        if p.contains_key("status") && !p.contains_key("msisdn") {
            // A delivery receipt sent to the inbound address: acknowledged so Vonage stops.
            tracing::info!("vonage webhook is a delivery receipt, not an inbound SMS; ignored");
            return Ok(None);
        }
        let need = |k: &str| {
            p.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| WebhookError::BadPayload(format!("inbound SMS without {k}")))
        };
        let concat = match (
            p.get("concat-ref"),
            p.get("concat-total").and_then(|v| v.parse().ok()),
            p.get("concat-part").and_then(|v| v.parse().ok()),
        ) {
            (Some(r), Some(total), Some(part)) => Some(Concat {
                reference: r.clone(),
                total,
                part,
            }),
            _ => None,
        };
        Ok(Some(InboundSms {
            from: format!("+{}", need("msisdn")?.trim_start_matches('+')),
            to: format!("+{}", need("to")?.trim_start_matches('+')),
            message_id: need("messageId")?,
            text: p.get("text").cloned().unwrap_or_default(),
            concat,
        }))
    }
}

/// A Vonage DLR `status` (and `err-code`) in our terms; `None` where it says nothing new.
///
/// `err-code` refines why a message failed (Vonage's DLR error code list): 3 "absent subscriber
/// – permanent" and 12 "destination unreachable – confirm the number" are a number that does
/// not work; 4 barred by user, 6 anti-spam, 9 illegal number (opted out of the service),
/// 10 illegal message, 13 age restriction, 14 blocked by carrier and 50–54 filters are refusals;
/// the rest (1 unknown, 2/7 temporarily absent or busy, 5 portability, 8 network, 11
/// unroutable, 15/16 quota, 99 general) take the status's own meaning. Vonage's code 1 means
/// "no reason could be determined", not "unknown subscriber", so it is not read as one.
fn map_status(status: &str, err_code: &str) -> (Option<Status>, Option<Reason>) {
    let refined = match err_code {
        "3" | "12" => Some(Reason::UnknownSubscriber),
        "4" | "6" | "9" | "10" | "13" | "14" | "50" | "51" | "52" | "53" | "54" => {
            Some(Reason::Rejected)
        }
        _ => None,
    };
    match status.trim().to_ascii_lowercase().as_str() {
        "accepted" => (Some(Status::Sent), None),
        "buffered" => (Some(Status::Buffered), None),
        "delivered" => (Some(Status::Delivered), None),
        "expired" => (Some(Status::Undelivered), Some(Reason::Expired)),
        "failed" => (
            Some(Status::Undelivered),
            Some(refined.unwrap_or(Reason::NetworkError)),
        ),
        "rejected" => (
            Some(Status::Undelivered),
            Some(refined.unwrap_or(Reason::Rejected)),
        ),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<VonageConfig, VonageSetupError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        VonageConfig::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    const ALL: [(&str, &str); 3] = [
        (ENV_API_KEY, "abcd1234"),
        (ENV_API_SECRET, "secret-0123456789"),
        (ENV_SIGNATURE_SECRET, "sig-secret-987654"),
    ];

    #[test]
    fn config_needs_the_secrets_and_defaults_url_and_method() {
        let c = config(&ALL).expect("config");
        assert_eq!(c.api_url, DEFAULT_API_URL);
        assert_eq!(c.signature_method, SignatureMethod::Sha256Hmac);
        for missing in [ENV_API_KEY, ENV_API_SECRET, ENV_SIGNATURE_SECRET] {
            let vars: Vec<_> = ALL.iter().copied().filter(|(k, _)| *k != missing).collect();
            let e = config(&vars).expect_err("missing");
            assert!(e.to_string().contains(missing), "{e}");
        }
        let mut vars = ALL.to_vec();
        vars.push((ENV_SIGNATURE_METHOD, "md5hash"));
        assert_eq!(
            config(&vars).expect("config").signature_method,
            SignatureMethod::Md5Hash
        );
        let mut bad = ALL.to_vec();
        bad.push((ENV_SIGNATURE_METHOD, "crc32"));
        assert!(matches!(config(&bad), Err(VonageSetupError::BadMethod(_))));
        let mut url = ALL.to_vec();
        url.push((ENV_API_URL, "rest.nexmo.com"));
        assert!(matches!(config(&url), Err(VonageSetupError::BadUrl(_))));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = config(&ALL).expect("config");
        let printed = format!("{c:?} {:?}", VonageWebhooks::new(&c));
        assert!(!printed.contains("secret-0123456789"), "{printed}");
        assert!(!printed.contains("sig-secret-987654"), "{printed}");
    }

    #[test]
    fn the_python_sdk_test_vector_matches() {
        // vonage-python-sdk tests: {"a":"1","b":"2","timestamp":"1461605396"} with secret
        // "secret" and the default MD5-hash method sign to this.
        let p: BTreeMap<String, String> = [("a", "1"), ("b", "2"), ("timestamp", "1461605396")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(
            sign(SignatureMethod::Md5Hash, "secret", &p),
            "6af838ef94998832dbfc29020b564830"
        );
        assert_eq!(signing_string(&p), "&a=1&b=2&timestamp=1461605396");
    }

    #[test]
    fn dlr_statuses_map_onto_ours() {
        assert_eq!(map_status("accepted", "0"), (Some(Status::Sent), None));
        assert_eq!(map_status("buffered", "0"), (Some(Status::Buffered), None));
        assert_eq!(
            map_status("delivered", "0"),
            (Some(Status::Delivered), None)
        );
        assert_eq!(
            map_status("expired", "1"),
            (Some(Status::Undelivered), Some(Reason::Expired))
        );
        assert_eq!(
            map_status("failed", "8"),
            (Some(Status::Undelivered), Some(Reason::NetworkError))
        );
        assert_eq!(
            map_status("failed", "3"),
            (Some(Status::Undelivered), Some(Reason::UnknownSubscriber))
        );
        assert_eq!(
            map_status("rejected", "1"),
            (Some(Status::Undelivered), Some(Reason::Rejected))
        );
        assert_eq!(
            map_status("rejected", "6"),
            (Some(Status::Undelivered), Some(Reason::Rejected))
        );
        assert_eq!(map_status("unknown", "1"), (None, None));
    }

    #[test]
    fn answers_are_classified() {
        let ok = br#"{"message-count":"1","messages":[{"to":"4917612345678","message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.14","message-price":"0.0333","network":"26203"}]}"#;
        assert_eq!(
            interpret_answer(ok),
            Ok(Submitted {
                carrier: NAME.into(),
                carrier_ref: Some("0A0000000123ABCD1".into())
            })
        );
        let numeric = br#"{"message-count":1,"messages":[{"message-id":"0A1","status":0}]}"#;
        assert_eq!(
            interpret_answer(numeric).map(|s| s.carrier_ref),
            Ok(Some("0A1".into()))
        );
        let refused =
            br#"{"message-count":"1","messages":[{"status":"6","error-text":"Unroutable"}]}"#;
        assert!(matches!(
            interpret_answer(refused),
            Err(SubmitError::Permanent {
                reason: Reason::UnknownSubscriber,
                ..
            })
        ));
        assert!(matches!(
            interpret_answer(b"<html>portal</html>"),
            Err(SubmitError::Operator(_))
        ));
        assert!(matches!(
            interpret_answer(br#"{"message-count":"0","messages":[]}"#),
            Err(SubmitError::Operator(_))
        ));
    }

    #[test]
    fn inbound_sms_is_read_from_json_and_form() {
        let c = config(&ALL).expect("config");
        let hooks = VonageWebhooks::new(&c);
        let json = br#"{"msisdn":"4917612345678","to":"4915712345678","messageId":"0A0000001","text":"Stop bitte","type":"text","keyword":"STOP","message-timestamp":"2020-01-01 12:00:00"}"#;
        let form = b"msisdn=4917612345678&to=4915712345678&messageId=0A0000001&text=Stop+bitte&type=text&keyword=STOP&message-timestamp=2020-01-01+12%3A00%3A00";
        for body in [&json[..], &form[..]] {
            let sms = hooks.parse_inbound(body).expect("inbound").expect("an SMS");
            assert_eq!(sms.from, "+4917612345678");
            assert_eq!(sms.to, "+4915712345678");
            assert_eq!(sms.text, "Stop bitte");
        }
        // An inbound SMS posted to the DLR address is acknowledged without a report, and a
        // receipt posted to the inbound address without a reply.
        assert!(hooks.parse_reports(json).expect("parse").is_empty());
        let receipt = br#"{"messageId":"0A1","msisdn_to":"x","to":"4915712345678","status":"delivered","err-code":"0"}"#;
        assert_eq!(hooks.parse_inbound(receipt).expect("parse"), None);
    }
}
