//! The seven.io adapter against a real HTTP server on loopback that speaks seven.io's documented
//! protocol, and its webhook check against signatures computed here from the documented formula.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use praxis_shared::carriers::client::Timeouts;
use praxis_shared::carriers::seven::{self, SevenCarrier, SevenConfig, SevenWebhooks};
use praxis_shared::carriers::{CarrierWebhooks, WebhookError, WebhookRequest};
use praxis_shared::domain::{MessageId, PhoneNumber, Reason, Region, SenderId};
use praxis_shared::ports::{Carrier, OutboundSms, SubmitError};
use serde_json::json;
use sha2::Sha256;
use tokio::net::TcpListener;

mod support;

use support::carriers::{
    Answer, FakeCarrier, SEVEN_API_KEY as API_KEY, SEVEN_SIGNING_KEY as SIGNING_KEY, seven_config,
};

// ---------------------------------------------------------------------------------------------
// Sending.

struct Sms {
    id: MessageId,
    to: PhoneNumber,
    sender: SenderId,
    text: String,
}

impl Sms {
    fn new(text: &str) -> Sms {
        Sms {
            id: MessageId::new(Utc::now()),
            to: PhoneNumber::parse("0176 12345678", Region::DE).expect("number"),
            sender: SenderId::parse("Praxis Weh").expect("sender"),
            text: text.to_owned(),
        }
    }

    fn outbound(&self) -> OutboundSms<'_> {
        OutboundSms {
            id: self.id,
            to: &self.to,
            sender: &self.sender,
            text: &self.text,
            segments: 1,
        }
    }
}

fn quick() -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(500),
        request: Duration::from_millis(400),
    }
}

async fn submit_once(fake: &FakeCarrier) -> Result<String, SubmitError> {
    let carrier = SevenCarrier::with_timeouts(&fake.seven_config(), quick()).expect("carrier");
    let sms = Sms::new("Ihr Termin ist morgen um 9 Uhr.");
    carrier
        .submit(&sms.outbound())
        .await
        .map(|s| s.carrier_ref.unwrap_or_default())
}

#[tokio::test]
async fn submission_carries_key_recipient_sender_text_and_our_id() {
    let fake = FakeCarrier::seven().await;
    let carrier = SevenCarrier::new(&fake.seven_config()).expect("carrier");
    let sms =
        Sms::new("Grüß Gott, Frau Müller! Ihr Termin: Dienstag 9:30 Uhr 🦷😀 — Ihre Zahnärztin");
    let done = carrier.submit(&sms.outbound()).await.expect("accepted");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/sms");
    assert_eq!(r.header("x-api-key"), Some(API_KEY));
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("accept"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["to"], "+4917612345678");
    assert_eq!(body["from"], "Praxis Weh");
    assert_eq!(body["text"], sms.text.as_str());
    assert_eq!(body["foreign_id"], sms.id.to_string());
    assert_eq!(carrier.name(), "seven");
    // seven.io's own id is what its delivery reports name.
    assert_eq!(done.carrier_ref.as_deref(), Some("77149843701"));
}

#[tokio::test]
async fn each_return_code_maps_to_its_error_class() {
    #[derive(Debug, PartialEq)]
    enum Class {
        Permanent(Reason),
        Transient,
        Operator,
    }
    fn class(e: &SubmitError) -> Class {
        match e {
            SubmitError::Permanent { reason, .. } => Class::Permanent(*reason),
            SubmitError::Transient(_) => Class::Transient,
            SubmitError::Operator(_) => Class::Operator,
        }
    }
    let table = [
        ("11", Class::Transient),
        ("201", Class::Permanent(Reason::Rejected)),
        ("202", Class::Permanent(Reason::UnknownSubscriber)),
        ("301", Class::Permanent(Reason::UnknownSubscriber)),
        ("305", Class::Permanent(Reason::Rejected)),
        ("401", Class::Permanent(Reason::Rejected)),
        ("403", Class::Permanent(Reason::Rejected)),
        ("500", Class::Operator),
        ("600", Class::Transient),
        ("700", Class::Transient),
        ("900", Class::Operator),
        ("901", Class::Operator),
        ("902", Class::Operator),
        ("903", Class::Operator),
        ("999", Class::Operator),
    ];
    let fake = FakeCarrier::seven().await;
    let carrier = SevenCarrier::with_timeouts(&fake.seven_config(), quick()).expect("carrier");
    let sms = Sms::new("Termin");
    for (code, want) in &table {
        for answer in [
            Answer::Code(code),
            Answer::MessageError(code),
            Answer::Bare(code),
        ] {
            fake.then([answer.clone()]);
            let err = carrier
                .submit(&sms.outbound())
                .await
                .expect_err(&format!("{answer:?} must fail"));
            assert_eq!(&class(&err), want, "{answer:?}: {err}");
            assert!(err.to_string().contains(code), "{answer:?}: {err}");
        }
    }
}

#[tokio::test]
async fn the_reload_lock_means_seven_took_this_sms_already() {
    // 402: the same SMS reached seven.io within the last 180 s (a retry after a timeout, or a
    // job redelivered after our write of `sent` failed). The patient gets it; it is sent.
    let fake = FakeCarrier::seven().await;
    let carrier = SevenCarrier::with_timeouts(&fake.seven_config(), quick()).expect("carrier");
    let sms = Sms::new("Termin");
    for answer in [
        Answer::Code("402"),
        Answer::MessageError("402"),
        Answer::Bare("402"),
    ] {
        fake.then([answer.clone()]);
        let done = carrier
            .submit(&sms.outbound())
            .await
            .unwrap_or_else(|e| panic!("{answer:?} counts as sent, got {e}"));
        assert_eq!(done.carrier, "seven");
        assert_eq!(done.carrier_ref, None, "{answer:?}: seven names no message");
    }
}

#[tokio::test]
async fn a_carrier_taking_15_seconds_is_waited_for_with_the_default_timeouts() {
    // A slow carrier that does take the message must not be cut off and asked again: that
    // would be a second SMS to the patient.
    let fake = FakeCarrier::seven().await;
    fake.then([Answer::Slow(Duration::from_secs(15))]);
    let carrier = SevenCarrier::new(&fake.seven_config()).expect("carrier");
    let sms = Sms::new("Termin");
    let done = carrier.submit(&sms.outbound()).await.expect("accepted");
    assert!(done.carrier_ref.is_some());
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_and_overload_are_transient() {
    let fake = FakeCarrier::seven().await;
    for status in [500, 502, 503, 504, 429] {
        fake.then([Answer::Http(status)]);
        let err = submit_once(&fake).await.expect_err("must fail");
        assert!(
            matches!(err, SubmitError::Transient(_)),
            "HTTP {status}: {err}"
        );
    }
}

#[tokio::test]
async fn other_http_errors_are_an_operator_problem() {
    let fake = FakeCarrier::seven().await;
    for status in [400, 401, 403, 404] {
        fake.then([Answer::Http(status)]);
        let err = submit_once(&fake).await.expect_err("must fail");
        assert!(
            matches!(err, SubmitError::Operator(_)),
            "HTTP {status}: {err}"
        );
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transient() {
    let fake = FakeCarrier::seven().await;
    fake.then([Answer::Slow(Duration::from_secs(5))]);
    let start = Instant::now();
    let err = submit_once(&fake).await.expect_err("must time out");
    assert!(matches!(err, SubmitError::Transient(_)), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "the request timeout did not apply: {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_dropped_connection_is_transient() {
    let fake = FakeCarrier::seven().await;
    fake.then([Answer::Drop]);
    let err = submit_once(&fake).await.expect_err("must fail");
    assert!(matches!(err, SubmitError::Transient(_)), "{err}");
}

#[tokio::test]
async fn an_answer_broken_off_is_transient() {
    let fake = FakeCarrier::seven().await;
    fake.then([Answer::BrokenOff]);
    let err = submit_once(&fake).await.expect_err("must fail");
    assert!(matches!(err, SubmitError::Transient(_)), "{err}");
}

#[tokio::test]
async fn nobody_listening_is_transient() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let carrier = SevenCarrier::with_timeouts(&seven_config(&url), quick()).expect("carrier");
    let sms = Sms::new("Termin");
    let err = carrier
        .submit(&sms.outbound())
        .await
        .expect_err("must fail");
    assert!(matches!(err, SubmitError::Transient(_)), "{err}");
}

#[tokio::test]
async fn an_answer_that_is_not_sevens_is_an_operator_problem() {
    let fake = FakeCarrier::seven().await;
    // A 200 that is not seven.io's shape: a wrong SEVEN_API_URL, or debug mode (no id).
    fake.then([Answer::Bare("<html>portal</html>")]);
    let err = submit_once(&fake).await.expect_err("must fail");
    assert!(matches!(err, SubmitError::Operator(_)), "{err}");
}

#[tokio::test]
async fn connections_are_reused_and_survive_failures() {
    let fake = FakeCarrier::seven().await;
    let carrier = SevenCarrier::new(&fake.seven_config()).expect("carrier");
    let sms = Sms::new("Termin");
    for _ in 0..5 {
        carrier.submit(&sms.outbound()).await.expect("accepted");
    }
    assert_eq!(
        fake.connections(),
        1,
        "five sends should share one connection"
    );
    fake.then([Answer::Drop]);
    assert!(carrier.submit(&sms.outbound()).await.is_err());
    carrier
        .submit(&sms.outbound())
        .await
        .expect("a new connection after a dropped one");
    assert_eq!(fake.requests().len(), 7);
}

// ---------------------------------------------------------------------------------------------
// Webhooks. The signature is computed here from docs.seven.io's formula, not with the adapter's
// code: hex HMAC-SHA256(signing key, timestamp \n nonce \n METHOD \n URL \n md5hex(body)).

const URL: &str = "https://praxis.example/webhooks/seven/dlr";
const NONCE: &str = "fpPRhAd1s8GXacfR39mWqKPynmmXfJnc";

fn seven_signs(
    key: &str,
    timestamp: i64,
    nonce: &str,
    method: &str,
    url: &str,
    body: &[u8],
) -> String {
    let md5 = hex::encode(Md5::digest(body));
    let to_sign = format!("{timestamp}\n{nonce}\n{method}\n{url}\n{md5}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn dlr(msg_id: &str, status: &str) -> Vec<u8> {
    json!({
        "data": { "msg_id": msg_id, "status": status, "timestamp": "2021-08-24 08:08:00.000000" },
        "webhook_event": "dlr",
        "webhook_timestamp": "2021-08-24T08:08:00+02:00"
    })
    .to_string()
    .into_bytes()
}

fn headers(
    signature: Option<&str>,
    timestamp: Option<i64>,
    nonce: Option<&str>,
) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if let Some(s) = signature {
        h.insert("X-Signature", s.parse().expect("header"));
    }
    if let Some(t) = timestamp {
        h.insert("X-Timestamp", t.to_string().parse().expect("header"));
    }
    if let Some(n) = nonce {
        h.insert("X-Nonce", n.parse().expect("header"));
    }
    h
}

fn webhooks() -> SevenWebhooks {
    SevenWebhooks::new(&seven_config("http://127.0.0.1:9"))
}

fn verify(
    method: &str,
    url: &str,
    h: &http::HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    webhooks().verify(
        &WebhookRequest {
            method,
            url,
            headers: h,
            body,
        },
        now,
    )
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now")
}

#[test]
fn the_documented_formula_gives_a_known_signature() {
    // Computed independently with Python's hmac/hashlib from the same inputs.
    let body = br#"{"data":{"msg_id":"77149843739","status":"DELIVERED","timestamp":"2021-08-24 08:08:00.000000"},"webhook_event":"dlr","webhook_timestamp":"2021-08-24T08:08:00+02:00"}"#;
    let want = "8638398b31436faec90ab8906a3ae1f012361149d8375ea6cb7fda28f6fc231f";
    assert_eq!(
        hex::encode(Md5::digest(body)),
        "dc8dabdfd340f497265ebb0b1338d407"
    );
    assert_eq!(
        seven_signs("my-signing-key", 1_634_641_200, NONCE, "POST", URL, body),
        want
    );
    assert_eq!(
        seven::sign("my-signing-key", "1634641200", NONCE, "POST", URL, body),
        want
    );
    let hooks = SevenWebhooks::new(
        &SevenConfig::from_lookup(|name| match name {
            seven::ENV_API_KEY => Some("k".into()),
            seven::ENV_SIGNING_KEY => Some("my-signing-key".into()),
            _ => None,
        })
        .expect("config"),
    );
    let h = headers(Some(want), Some(1_634_641_200), Some(NONCE));
    let at = DateTime::from_timestamp(1_634_641_200, 0).expect("time");
    let req = WebhookRequest {
        method: "POST",
        url: URL,
        headers: &h,
        body,
    };
    assert_eq!(hooks.verify(&req, at), Ok(()));
}

#[test]
fn a_correct_signature_passes() {
    let body = dlr("77149843739", "DELIVERED");
    let t = now().timestamp();
    let sig = seven_signs(SIGNING_KEY, t, NONCE, "POST", URL, &body);
    assert_eq!(
        verify(
            "POST",
            URL,
            &headers(Some(&sig), Some(t), Some(NONCE)),
            &body,
            now()
        ),
        Ok(())
    );
    // Hex case does not matter (seven.io's own verifier compares case-insensitively).
    let upper = sig.to_ascii_uppercase();
    assert_eq!(
        verify(
            "POST",
            URL,
            &headers(Some(&upper), Some(t), Some(NONCE)),
            &body,
            now()
        ),
        Ok(())
    );
    // Within five minutes either way is fine.
    for skew in [-299, 299] {
        let t = now().timestamp() + skew;
        let sig = seven_signs(SIGNING_KEY, t, NONCE, "POST", URL, &body);
        assert_eq!(
            verify(
                "POST",
                URL,
                &headers(Some(&sig), Some(t), Some(NONCE)),
                &body,
                now()
            ),
            Ok(()),
            "skew {skew} s"
        );
    }
}

fn assert_refused(what: &str, result: Result<(), WebhookError>) {
    match result {
        Err(WebhookError::Unauthorized(why)) => {
            assert!(!why.contains(SIGNING_KEY), "{what}: the key was echoed");
        }
        other => panic!("{what}: expected Unauthorized, got {other:?}"),
    }
}

#[test]
fn unsigned_or_partly_signed_calls_are_refused() {
    let body = dlr("77149843739", "DELIVERED");
    let t = now().timestamp();
    let sig = seven_signs(SIGNING_KEY, t, NONCE, "POST", URL, &body);
    assert_refused(
        "no headers",
        verify("POST", URL, &headers(None, None, None), &body, now()),
    );
    assert_refused(
        "no signature",
        verify(
            "POST",
            URL,
            &headers(None, Some(t), Some(NONCE)),
            &body,
            now(),
        ),
    );
    assert_refused(
        "no timestamp",
        verify(
            "POST",
            URL,
            &headers(Some(&sig), None, Some(NONCE)),
            &body,
            now(),
        ),
    );
    assert_refused(
        "no nonce",
        verify(
            "POST",
            URL,
            &headers(Some(&sig), Some(t), None),
            &body,
            now(),
        ),
    );
    assert_refused(
        "empty signature",
        verify(
            "POST",
            URL,
            &headers(Some(""), Some(t), Some(NONCE)),
            &body,
            now(),
        ),
    );
    assert_refused(
        "not hex",
        verify(
            "POST",
            URL,
            &headers(Some("zz-not-hex"), Some(t), Some(NONCE)),
            &body,
            now(),
        ),
    );
    assert_refused(
        "truncated",
        verify(
            "POST",
            URL,
            &headers(Some(&sig[..32]), Some(t), Some(NONCE)),
            &body,
            now(),
        ),
    );
}

#[test]
fn a_signature_with_another_key_is_refused() {
    let body = dlr("77149843739", "DELIVERED");
    let t = now().timestamp();
    let sig = seven_signs("someone-elses-key", t, NONCE, "POST", URL, &body);
    assert_refused(
        "wrong key",
        verify(
            "POST",
            URL,
            &headers(Some(&sig), Some(t), Some(NONCE)),
            &body,
            now(),
        ),
    );
}

#[test]
fn a_tampered_body_is_refused() {
    let body = dlr("77149843739", "BUFFERED");
    let t = now().timestamp();
    let sig = seven_signs(SIGNING_KEY, t, NONCE, "POST", URL, &body);
    let forged = dlr("77149843739", "DELIVERED");
    assert_refused(
        "tampered body",
        verify(
            "POST",
            URL,
            &headers(Some(&sig), Some(t), Some(NONCE)),
            &forged,
            now(),
        ),
    );
    let mut spaced = body.clone();
    spaced.push(b' ');
    assert_refused(
        "one byte more",
        verify(
            "POST",
            URL,
            &headers(Some(&sig), Some(t), Some(NONCE)),
            &spaced,
            now(),
        ),
    );
}

#[test]
fn a_signature_for_another_url_method_or_nonce_is_refused() {
    let body = dlr("77149843739", "DELIVERED");
    let t = now().timestamp();
    let sig = seven_signs(SIGNING_KEY, t, NONCE, "POST", URL, &body);
    let h = headers(Some(&sig), Some(t), Some(NONCE));
    for other in [
        "http://praxis.example/webhooks/seven/dlr",
        "https://evil.example/webhooks/seven/dlr",
        "https://praxis.example/webhooks/seven/inbound",
        "https://praxis.example/webhooks/seven/dlr?x=1",
    ] {
        assert_refused(other, verify("POST", other, &h, &body, now()));
    }
    assert_refused("GET", verify("GET", URL, &h, &body, now()));
    assert_refused("PUT", verify("PUT", URL, &h, &body, now()));
    let other_nonce = headers(
        Some(&sig),
        Some(t),
        Some("0000000000000000000000000000000a"),
    );
    assert_refused(
        "other nonce",
        verify("POST", URL, &other_nonce, &body, now()),
    );
    let other_time = headers(Some(&sig), Some(t - 1), Some(NONCE));
    assert_refused(
        "other timestamp",
        verify("POST", URL, &other_time, &body, now()),
    );
}

#[test]
fn a_timestamp_more_than_five_minutes_off_is_refused() {
    let body = dlr("77149843739", "DELIVERED");
    for skew in [-301, 301, -86_400, 86_400] {
        let t = now().timestamp() + skew;
        let sig = seven_signs(SIGNING_KEY, t, NONCE, "POST", URL, &body);
        assert_refused(
            &format!("skew {skew} s"),
            verify(
                "POST",
                URL,
                &headers(Some(&sig), Some(t), Some(NONCE)),
                &body,
                now(),
            ),
        );
    }
    let mut h = headers(None, None, Some(NONCE));
    h.insert("X-Signature", "00".parse().expect("header"));
    h.insert("X-Timestamp", "yesterday".parse().expect("header"));
    assert_refused("not a number", verify("POST", URL, &h, &body, now()));
}

#[test]
fn signed_reports_name_sevens_message_id() {
    use praxis_shared::carriers::ReportTarget;
    use praxis_shared::domain::Status;
    let hooks = webhooks();
    let cases = [
        ("ACCEPTED", Some(Status::Sent), None),
        ("BUFFERED", Some(Status::Buffered), None),
        ("DELIVERED", Some(Status::Delivered), None),
        ("EXPIRED", Some(Status::Undelivered), Some(Reason::Expired)),
        (
            "REJECTED",
            Some(Status::Undelivered),
            Some(Reason::Rejected),
        ),
        ("UNKNOWN", None, None),
    ];
    for (seven_status, status, reason) in cases {
        let reports = hooks
            .parse_reports(&dlr("77149843739", seven_status))
            .expect("parse");
        assert_eq!(reports.len(), 1, "{seven_status}");
        assert_eq!(
            reports[0].target,
            ReportTarget::CarrierRef("77149843739".into())
        );
        assert_eq!(reports[0].status, status, "{seven_status}");
        assert_eq!(reports[0].reason, reason, "{seven_status}");
    }
}
