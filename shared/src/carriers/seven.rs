//! seven.io (formerly sms77.io): hands SMS to its HTTP API and reads its signed delivery-report
//! webhooks. Protocol as documented at docs.seven.io and in its official clients.
//!
//! Sending: `POST {api_url}/api/sms`, JSON body, key in `X-Api-Key`. seven.io answers 200 with a
//! return code in `success` (and per message in `messages[].error`), or with a bare code such as
//! `900`; HTTP errors, timeouts and dropped connections are ours to classify.
//!
//! Webhooks: `X-Signature` is the hex HMAC-SHA256, keyed with the account's signing key, of
//! `X-Timestamp \n X-Nonce \n METHOD \n full URL \n md5hex(body)`.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::client::{self, Secret, Timeouts, text_of};
use super::{
    CarrierWebhooks, DeliveryReport, InboundSms, ReportTarget, WebhookError, WebhookRequest,
};
use crate::domain::{Reason, Status};
use crate::ports::{Carrier, OutboundSms, SubmitError, Submitted};

pub const NAME: &str = "seven";
pub const DEFAULT_API_URL: &str = "https://gateway.seven.io";
/// How far a webhook's `X-Timestamp` may be from our clock before the call is refused.
pub const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

pub const ENV_API_URL: &str = "SEVEN_API_URL";
pub const ENV_API_KEY: &str = "SEVEN_API_KEY";
pub const ENV_SIGNING_KEY: &str = "SEVEN_SIGNING_KEY";

const HEADER_SIGNATURE: &str = "x-signature";
const HEADER_TIMESTAMP: &str = "x-timestamp";
const HEADER_NONCE: &str = "x-nonce";

#[derive(Debug, thiserror::Error)]
pub enum SevenSetupError {
    #[error("{0} is not set; the seven carrier needs {ENV_API_KEY} and {ENV_SIGNING_KEY}")]
    Missing(&'static str),
    #[error("{ENV_API_URL} must be an http(s) URL, got {0:?}")]
    BadUrl(String),
    #[error("{0} contains characters that cannot go into an HTTP header")]
    BadKey(&'static str),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Where seven.io is and the account's two secrets.
#[derive(Debug, Clone)]
pub struct SevenConfig {
    /// Base URL without `/api`, e.g. `https://gateway.seven.io`.
    pub api_url: String,
    pub api_key: Secret,
    /// Signs seven.io's webhooks (Developer area, API settings).
    pub signing_key: Secret,
}

impl SevenConfig {
    /// Reads `SEVEN_API_URL` (default [`DEFAULT_API_URL`]), `SEVEN_API_KEY`, `SEVEN_SIGNING_KEY`.
    pub fn from_env() -> Result<SevenConfig, SevenSetupError> {
        SevenConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`SevenConfig::from_env`], with `get` standing in for the environment.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<SevenConfig, SevenSetupError> {
        let set = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let api_url =
            client::api_url(set(ENV_API_URL), DEFAULT_API_URL).map_err(SevenSetupError::BadUrl)?;
        let api_key = set(ENV_API_KEY).ok_or(SevenSetupError::Missing(ENV_API_KEY))?;
        let signing_key = set(ENV_SIGNING_KEY).ok_or(SevenSetupError::Missing(ENV_SIGNING_KEY))?;
        Ok(SevenConfig {
            api_url,
            api_key: Secret::new(api_key.trim()),
            signing_key: Secret::new(signing_key.trim()),
        })
    }
}

/// The sending side. Holds one HTTP client (and so one connection pool) for the process.
pub struct SevenCarrier {
    http: reqwest::Client,
    endpoint: String,
    /// Marked sensitive, so HTTP-level debug output hides it.
    api_key: http::HeaderValue,
}

impl SevenCarrier {
    pub fn new(config: &SevenConfig) -> Result<SevenCarrier, SevenSetupError> {
        SevenCarrier::with_timeouts(config, Timeouts::default())
    }

    /// From `SEVEN_API_URL` (default [`DEFAULT_API_URL`]) and `SEVEN_API_KEY` alone: sending
    /// needs nothing else, so the dispatcher never reads the webhook signing key.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<SevenCarrier, SevenSetupError> {
        let set = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let api_url =
            client::api_url(set(ENV_API_URL), DEFAULT_API_URL).map_err(SevenSetupError::BadUrl)?;
        let api_key = set(ENV_API_KEY).ok_or(SevenSetupError::Missing(ENV_API_KEY))?;
        SevenCarrier::build(&api_url, api_key.trim(), Timeouts::default())
    }

    pub fn with_timeouts(
        config: &SevenConfig,
        timeouts: Timeouts,
    ) -> Result<SevenCarrier, SevenSetupError> {
        SevenCarrier::build(&config.api_url, config.api_key.expose(), timeouts)
    }

    fn build(
        api_url: &str,
        api_key: &str,
        timeouts: Timeouts,
    ) -> Result<SevenCarrier, SevenSetupError> {
        let http = client::build(timeouts).map_err(|e| SevenSetupError::Client(e.to_string()))?;
        let mut api_key = http::HeaderValue::from_str(api_key)
            .map_err(|_| SevenSetupError::BadKey(ENV_API_KEY))?;
        api_key.set_sensitive(true);
        Ok(SevenCarrier {
            http,
            endpoint: format!("{api_url}/api/sms"),
            api_key,
        })
    }
}

#[async_trait]
impl Carrier for SevenCarrier {
    fn name(&self) -> &str {
        NAME
    }

    async fn submit(&self, sms: &OutboundSms<'_>) -> Result<Submitted, SubmitError> {
        let body = serde_json::json!({
            "to": sms.to.as_str(),
            "from": sms.sender.as_str(),
            "text": sms.text,
            "foreign_id": sms.id.to_string(),
        });
        let request = self
            .http
            .post(&self.endpoint)
            .header("X-Api-Key", self.api_key.clone())
            .header(http::header::ACCEPT, "application/json")
            .json(&body);
        client::submit(NAME, request, interpret_answer).await
    }
}

/// seven.io's answer to `POST /api/sms` (fields beyond these are ignored).
#[derive(Debug, Deserialize)]
struct SmsAnswer {
    success: Value,
    #[serde(default)]
    messages: Vec<SmsAnswerMessage>,
}

#[derive(Debug, Deserialize)]
struct SmsAnswerMessage {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    success: Value,
    #[serde(default)]
    error: Value,
}

/// Reads the answer to one submission: the message id on success, else the classified error.
fn interpret_answer(body: &[u8]) -> Result<Submitted, SubmitError> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    // Errors before the request is understood (auth, IP) may come as a bare code.
    if !trimmed.is_empty() && trimmed.len() <= 4 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return match trimmed {
            "100" | "101" => Err(SubmitError::Operator(format!(
                "seven: code {trimmed} without message details; cannot track the message"
            ))),
            code => answer_to(code),
        };
    }
    let answer: SmsAnswer = serde_json::from_str(trimmed).map_err(|_| {
        SubmitError::Operator(format!(
            "seven: answer not understood ({} bytes; is {ENV_API_URL} right?)",
            body.len()
        ))
    })?;
    let code = text_of(&answer.success).unwrap_or_default();
    if code != "100" && code != "101" {
        return answer_to(&code);
    }
    // One recipient per call, so one message entry.
    let Some(m) = answer.messages.first() else {
        return Err(SubmitError::Operator(format!(
            "seven: code {code} without message details"
        )));
    };
    let accepted =
        matches!(m.success, Value::Bool(true)) || text_of(&m.success).as_deref() == Some("true");
    if !accepted {
        return match text_of(&m.error) {
            Some(e) => answer_to(&e),
            None => Err(SubmitError::Operator(format!(
                "seven: code {code}, message refused without a reason"
            ))),
        };
    }
    match text_of(&m.id) {
        Some(id) => Ok(Submitted {
            carrier: NAME.to_owned(),
            carrier_ref: Some(id),
        }),
        // Debug mode accepts without sending and without an id.
        None => Err(SubmitError::Operator(
            "seven: accepted without a message id (debug mode?); nothing was sent".into(),
        )),
    }
}

/// A return code other than success. `402` is seven.io's reload lock: it took this same SMS
/// (recipient and text) within the last 180 seconds, so the message *was* sent; this answer
/// comes to a retry after a timeout or to a job redelivered after our write of `sent` failed,
/// and counts as sent, without the reference the first answer carried.
fn answer_to(code: &str) -> Result<Submitted, SubmitError> {
    match code {
        "402" => Ok(Submitted {
            carrier: NAME.to_owned(),
            carrier_ref: None,
        }),
        _ => Err(classify(code)),
    }
}

/// What a seven.io return code means for the message. Codes we do not know are an operator
/// matter: retried and logged loudly rather than failing a patient's message on a guess.
fn classify(code: &str) -> SubmitError {
    let permanent = |reason: Reason, what: &str| SubmitError::Permanent {
        reason,
        detail: format!("seven: code {code}: {what}"),
    };
    match code {
        "11" => SubmitError::Transient(format!(
            "seven: code {code}: SMS carrier temporarily unavailable"
        )),
        "201" | "306" => permanent(Reason::Rejected, "invalid sender"),
        "202" => permanent(Reason::UnknownSubscriber, "invalid recipient number"),
        "301" => permanent(Reason::UnknownSubscriber, "recipient missing"),
        "305" => permanent(Reason::Rejected, "text missing or invalid"),
        "401" => permanent(Reason::Rejected, "text too long"),
        // Never reached: `answer_to` takes 402 (the reload lock) as sent.
        "402" => SubmitError::Operator(format!("seven: code {code}: reload lock")),
        // seven.io's per-recipient daily limit: this SMS was not sent and will not be today;
        // an appointment reminder a day late is no use, so it ends here, visibly.
        "403" => permanent(Reason::Rejected, "daily limit for this recipient reached"),
        "500" => SubmitError::Operator(format!("seven: code {code}: not enough credit")),
        "600" => SubmitError::Transient(format!("seven: code {code}: carrier delivery failed")),
        "700" => SubmitError::Transient(format!("seven: code {code}: unknown error at seven")),
        "900" => SubmitError::Operator(format!(
            "seven: code {code}: authentication failed (API key)"
        )),
        "901" => {
            SubmitError::Operator(format!("seven: code {code}: signature verification failed"))
        }
        "902" => SubmitError::Operator(format!(
            "seven: code {code}: API key has no access to this endpoint"
        )),
        "903" => SubmitError::Operator(format!("seven: code {code}: server IP not allowed")),
        "" => SubmitError::Operator("seven: answer without a return code".into()),
        _ => SubmitError::Operator(format!("seven: unknown return code {code}")),
    }
}

/// seven.io's signature over a webhook call (or a request to it): hex HMAC-SHA256 with the
/// signing key over `timestamp \n nonce \n METHOD \n url \n md5hex(body)`.
pub fn sign(
    signing_key: &str,
    timestamp: &str,
    nonce: &str,
    method: &str,
    url: &str,
    body: &[u8],
) -> String {
    hex::encode(
        mac_over(signing_key, timestamp, nonce, method, url, body)
            .finalize()
            .into_bytes(),
    )
}

fn mac_over(
    signing_key: &str,
    timestamp: &str,
    nonce: &str,
    method: &str,
    url: &str,
    body: &[u8],
) -> Hmac<Sha256> {
    let body_md5 = hex::encode(Md5::digest(body));
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signing_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    let upper = method.to_ascii_uppercase();
    for (i, part) in [timestamp, nonce, &upper, url].into_iter().enumerate() {
        if i > 0 {
            mac.update(b"\n");
        }
        mac.update(part.as_bytes());
    }
    mac.update(b"\n");
    mac.update(body_md5.as_bytes());
    mac
}

/// The webhook side: checks seven.io's signature and reads its delivery reports.
pub struct SevenWebhooks {
    signing_key: Secret,
}

impl SevenWebhooks {
    pub fn new(config: &SevenConfig) -> SevenWebhooks {
        SevenWebhooks {
            signing_key: config.signing_key.clone(),
        }
    }

    /// From `SEVEN_SIGNING_KEY` alone: verifying a webhook needs nothing else, so a function
    /// that only takes webhooks never reads the API key.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<SevenWebhooks, SevenSetupError> {
        let signing_key = get(ENV_SIGNING_KEY)
            .filter(|v| !v.trim().is_empty())
            .ok_or(SevenSetupError::Missing(ENV_SIGNING_KEY))?;
        Ok(SevenWebhooks {
            signing_key: Secret::new(signing_key.trim()),
        })
    }
}

impl fmt::Debug for SevenWebhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SevenWebhooks")
            .field("signing_key", &self.signing_key)
            .finish()
    }
}

fn header<'a>(req: &'a WebhookRequest<'_>, name: &str) -> Option<&'a str> {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Whether a call carries seven.io's three signature headers (before any secret is read).
pub fn carries_signature(req: &WebhookRequest<'_>) -> bool {
    [HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_NONCE]
        .iter()
        .all(|h| req.headers.get(*h).is_some_and(|v| !v.is_empty()))
}

impl CarrierWebhooks for SevenWebhooks {
    fn name(&self) -> &str {
        NAME
    }

    fn carries_signature(&self, req: &WebhookRequest<'_>) -> bool {
        carries_signature(req)
    }

    fn verify(&self, req: &WebhookRequest<'_>, now: DateTime<Utc>) -> Result<(), WebhookError> {
        let (Some(signature), Some(timestamp), Some(nonce)) = (
            header(req, HEADER_SIGNATURE),
            header(req, HEADER_TIMESTAMP),
            header(req, HEADER_NONCE),
        ) else {
            return Err(WebhookError::Unauthorized("missing signature headers"));
        };
        let sent_at: i64 = timestamp
            .parse()
            .map_err(|_| WebhookError::Unauthorized("malformed timestamp"))?;
        let skew = now.timestamp().saturating_sub(sent_at).saturating_abs();
        if skew > MAX_CLOCK_SKEW.num_seconds() {
            return Err(WebhookError::Unauthorized(
                "timestamp too far from our clock",
            ));
        }
        let given = hex::decode(signature)
            .map_err(|_| WebhookError::Unauthorized("malformed signature"))?;
        mac_over(
            self.signing_key.expose(),
            timestamp,
            nonce,
            req.method,
            req.url,
            req.body,
        )
        .verify_slice(&given)
        .map_err(|_| WebhookError::Unauthorized("wrong signature"))
    }

    fn parse_reports(&self, body: &[u8]) -> Result<Vec<DeliveryReport>, WebhookError> {
        let hook = Hook::read(body)?;
        if hook.webhook_event != "dlr" {
            // Another event type sent to the DLR address: acknowledged so seven.io stops.
            tracing::info!(event = %hook.webhook_event, "seven webhook is not a delivery report; ignored");
            return Ok(Vec::new());
        }
        let msg_id = text_of(&hook.data["msg_id"])
            .ok_or_else(|| WebhookError::BadPayload("dlr without data.msg_id".into()))?;
        let raw_status = hook.data["status"]
            .as_str()
            .ok_or_else(|| WebhookError::BadPayload("dlr without data.status".into()))?;
        let (status, reason) = map_status(raw_status);
        if status.is_none() && !raw_status.trim().eq_ignore_ascii_case("UNKNOWN") {
            tracing::warn!(status = %raw_status, "seven DLR status not known; ignored");
        }
        Ok(vec![DeliveryReport {
            target: ReportTarget::CarrierRef(msg_id),
            status,
            reason,
        }])
    }

    /// `sms_mo`: `data` has seven.io's `id` of the SMS, `sender` (the patient, international
    /// digits), `system` (our inbound number), `text` and `time` (Unix seconds, not read).
    fn parse_inbound(&self, body: &[u8]) -> Result<Option<InboundSms>, WebhookError> {
        let hook = Hook::read(body)?;
        if hook.webhook_event != "sms_mo" {
            // Another event type sent to the inbound address: acknowledged so seven.io stops.
            tracing::info!(event = %hook.webhook_event, "seven webhook is not an inbound SMS; ignored");
            return Ok(None);
        }
        let need = |k: &str| {
            text_of(&hook.data[k])
                .ok_or_else(|| WebhookError::BadPayload(format!("sms_mo without data.{k}")))
        };
        Ok(Some(InboundSms {
            from: need("sender")?,
            to: need("system")?,
            message_id: need("id")?,
            text: hook.data["text"].as_str().unwrap_or_default().to_owned(),
            concat: None,
        }))
    }
}

/// The envelope of every seven.io webhook.
#[derive(Deserialize)]
struct Hook {
    webhook_event: String,
    data: Value,
}

impl Hook {
    fn read(body: &[u8]) -> Result<Hook, WebhookError> {
        serde_json::from_slice(body).map_err(|e| WebhookError::BadPayload(e.to_string()))
    }
}

/// A seven.io DLR status in our terms; `None` where it says nothing new.
fn map_status(status: &str) -> (Option<Status>, Option<Reason>) {
    match status.trim().to_ascii_uppercase().as_str() {
        "ACCEPTED" | "TRANSMITTED" => (Some(Status::Sent), None),
        "BUFFERED" => (Some(Status::Buffered), None),
        "DELIVERED" => (Some(Status::Delivered), None),
        // seven.io's generic "could not be delivered": in practice an unknown or inactive number
        // (a phone that is merely off ends in EXPIRED).
        "NOTDELIVERED" => (Some(Status::Undelivered), Some(Reason::UnknownSubscriber)),
        "EXPIRED" => (Some(Status::Undelivered), Some(Reason::Expired)),
        "REJECTED" => (Some(Status::Undelivered), Some(Reason::Rejected)),
        "FAILED" => (Some(Status::Undelivered), Some(Reason::NetworkError)),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<SevenConfig, SevenSetupError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SevenConfig::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn config_needs_both_keys_and_defaults_the_url() {
        let c = config(&[(ENV_API_KEY, "k"), (ENV_SIGNING_KEY, "s")]).expect("config");
        assert_eq!(c.api_url, DEFAULT_API_URL);
        let missing = config(&[(ENV_SIGNING_KEY, "s")]).expect_err("no api key");
        assert!(missing.to_string().contains(ENV_API_KEY), "{missing}");
        let blank = config(&[(ENV_API_KEY, "k"), (ENV_SIGNING_KEY, " ")]).expect_err("blank");
        assert!(blank.to_string().contains(ENV_SIGNING_KEY), "{blank}");
        let bad = config(&[
            (ENV_API_URL, "gateway.seven.io"),
            (ENV_API_KEY, "k"),
            (ENV_SIGNING_KEY, "s"),
        ]);
        assert!(matches!(bad, Err(SevenSetupError::BadUrl(_))));
        let trailing = config(&[
            (ENV_API_URL, "http://127.0.0.1:9/"),
            (ENV_API_KEY, "k"),
            (ENV_SIGNING_KEY, "s"),
        ])
        .expect("config");
        assert_eq!(trailing.api_url, "http://127.0.0.1:9");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = config(&[(ENV_API_KEY, "key-123456"), (ENV_SIGNING_KEY, "sig-654321")])
            .expect("config");
        let printed = format!("{c:?} {:?}", SevenWebhooks::new(&c));
        assert!(!printed.contains("key-123456"), "{printed}");
        assert!(!printed.contains("sig-654321"), "{printed}");
    }

    #[test]
    fn dlr_statuses_map_onto_ours() {
        assert_eq!(map_status("ACCEPTED"), (Some(Status::Sent), None));
        assert_eq!(map_status("TRANSMITTED"), (Some(Status::Sent), None));
        assert_eq!(map_status("BUFFERED"), (Some(Status::Buffered), None));
        assert_eq!(map_status("DELIVERED"), (Some(Status::Delivered), None));
        assert_eq!(
            map_status("NOTDELIVERED"),
            (Some(Status::Undelivered), Some(Reason::UnknownSubscriber))
        );
        assert_eq!(
            map_status("EXPIRED"),
            (Some(Status::Undelivered), Some(Reason::Expired))
        );
        assert_eq!(
            map_status("REJECTED"),
            (Some(Status::Undelivered), Some(Reason::Rejected))
        );
        assert_eq!(
            map_status("FAILED"),
            (Some(Status::Undelivered), Some(Reason::NetworkError))
        );
        assert_eq!(map_status("UNKNOWN"), (None, None));
        assert_eq!(map_status("SOMETHING_NEW"), (None, None));
    }

    #[test]
    fn parses_the_documented_dlr() {
        let c = config(&[(ENV_API_KEY, "k"), (ENV_SIGNING_KEY, "s")]).expect("config");
        let body = br#"{"data":{"msg_id":"77149843739","status":"TRANSMITTED","timestamp":"2021-08-24 08:08:00.000000"},"webhook_event":"dlr","webhook_timestamp":"2021-08-24T08:08:00+02:00"}"#;
        let reports = SevenWebhooks::new(&c).parse_reports(body).expect("parse");
        assert_eq!(reports.len(), 1);
        assert_eq!(
            reports[0].target,
            ReportTarget::CarrierRef("77149843739".into())
        );
        assert_eq!(reports[0].status, Some(Status::Sent));
    }

    #[test]
    fn numeric_msg_ids_are_read_as_text() {
        let c = config(&[(ENV_API_KEY, "k"), (ENV_SIGNING_KEY, "s")]).expect("config");
        let body = br#"{"data":{"msg_id":77149843739,"status":"DELIVERED"},"webhook_event":"dlr"}"#;
        let reports = SevenWebhooks::new(&c).parse_reports(body).expect("parse");
        assert_eq!(
            reports[0].target,
            ReportTarget::CarrierRef("77149843739".into())
        );
    }

    #[test]
    fn other_events_are_acknowledged_without_reports() {
        let c = config(&[(ENV_API_KEY, "k"), (ENV_SIGNING_KEY, "s")]).expect("config");
        let body = br#"{"data":{"id":"1","sender":"49171","system":"49157","text":"Hi","time":"1605878104"},"webhook_event":"sms_mo"}"#;
        assert!(
            SevenWebhooks::new(&c)
                .parse_reports(body)
                .expect("parse")
                .is_empty()
        );
        assert!(matches!(
            SevenWebhooks::new(&c).parse_reports(b"not json"),
            Err(WebhookError::BadPayload(_))
        ));
    }

    #[test]
    fn parses_the_documented_inbound_sms() {
        let c = config(&[(ENV_API_KEY, "k"), (ENV_SIGNING_KEY, "s")]).expect("config");
        let hooks = SevenWebhooks::new(&c);
        let body = br#"{"data":{"id":"681590","message_type":"SMS","sender":"4917612345678","system":"4915112340000","text":"Ja, ich komme","time":"1605878104"},"webhook_event":"sms_mo","webhook_timestamp":"2020-11-20 14:15:04"}"#;
        let sms = hooks
            .parse_inbound(body)
            .expect("parse")
            .expect("an inbound SMS");
        assert_eq!(sms.from, "4917612345678");
        assert_eq!(sms.to, "4915112340000");
        assert_eq!(sms.message_id, "681590");
        assert_eq!(sms.text, "Ja, ich komme");
        // A delivery report at the inbound address is not an SMS; a broken sms_mo is refused.
        let dlr = br#"{"data":{"msg_id":"1","status":"DELIVERED"},"webhook_event":"dlr"}"#;
        assert_eq!(hooks.parse_inbound(dlr).expect("parse"), None);
        let no_sender =
            br#"{"data":{"id":"1","system":"49151","text":"x"},"webhook_event":"sms_mo"}"#;
        assert!(matches!(
            hooks.parse_inbound(no_sender),
            Err(WebhookError::BadPayload(_))
        ));
    }

    #[test]
    fn bare_codes_and_json_answers_are_classified() {
        assert!(matches!(
            interpret_answer(b"900"),
            Err(SubmitError::Operator(_))
        ));
        assert!(matches!(
            interpret_answer(b"<html>proxy</html>"),
            Err(SubmitError::Operator(_))
        ));
        let ok = br#"{"success":"100","total_price":0.075,"balance":10,"debug":"false","sms_type":"direct","messages":[{"id":"77229318745","sender":"Praxis","recipient":"4917612345678","text":"Hi","encoding":"gsm","label":null,"parts":1,"udh":null,"is_binary":false,"price":0.075,"success":true,"error":null,"error_text":null}]}"#;
        assert_eq!(
            interpret_answer(ok),
            Ok(Submitted {
                carrier: NAME.into(),
                carrier_ref: Some("77229318745".into())
            })
        );
        let numeric = br#"{"success":100,"messages":[{"id":77229318745,"success":true}]}"#;
        assert_eq!(
            interpret_answer(numeric).map(|s| s.carrier_ref),
            Ok(Some("77229318745".into()))
        );
        let refused = br#"{"success":"101","messages":[{"id":null,"success":false,"error":"202","error_text":"Invalid recipient"}]}"#;
        assert!(matches!(
            interpret_answer(refused),
            Err(SubmitError::Permanent {
                reason: Reason::UnknownSubscriber,
                ..
            })
        ));
        let debug = br#"{"success":"100","debug":"true","messages":[{"id":null,"success":true}]}"#;
        assert!(matches!(
            interpret_answer(debug),
            Err(SubmitError::Operator(_))
        ));
    }
}
