//! The Vonage adapter against a real HTTP server on loopback that speaks Vonage's documented SMS
//! API, and its webhook check against signatures computed here from the documented algorithm.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use praxis_shared::carriers::client::Timeouts;
use praxis_shared::carriers::vonage::{self, VonageCarrier, VonageConfig, VonageWebhooks};
use praxis_shared::carriers::{CarrierWebhooks, ReportTarget, WebhookError, WebhookRequest};
use praxis_shared::domain::{MessageId, PhoneNumber, Reason, Region, SenderId, Status};
use praxis_shared::ports::{Carrier, OutboundSms, SubmitError};
use serde_json::Value;
use sha2::{Sha256, Sha512};
use tokio::net::TcpListener;

mod support;

use support::carriers::{
    Answer, FakeCarrier, VONAGE_API_KEY as API_KEY, VONAGE_API_SECRET as API_SECRET,
    VONAGE_SIGNATURE_SECRET as SIGNATURE_SECRET, vonage_config,
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
        Sms::from_sender("Praxis Weh", text)
    }

    fn from_sender(sender: &str, text: &str) -> Sms {
        Sms {
            id: MessageId::new(Utc::now()),
            to: PhoneNumber::parse("0176 12345678", Region::DE).expect("number"),
            sender: SenderId::parse(sender).expect("sender"),
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
    let carrier = VonageCarrier::with_timeouts(&fake.vonage_config(), quick()).expect("carrier");
    let sms = Sms::new("Ihr Termin ist morgen um 9 Uhr.");
    carrier
        .submit(&sms.outbound())
        .await
        .map(|s| s.carrier_ref.unwrap_or_default())
}

#[tokio::test]
async fn submission_carries_credentials_recipient_sender_text_and_our_id() {
    let fake = FakeCarrier::vonage().await;
    let carrier = VonageCarrier::new(&fake.vonage_config()).expect("carrier");
    let sms = Sms::new("Ihr Termin: Dienstag 9:30 Uhr. Bitte 10 Min. früher & pünktlich = gut");
    let done = carrier.submit(&sms.outbound()).await.expect("accepted");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/sms/json");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = r.form();
    assert_eq!(form["api_key"], API_KEY);
    assert_eq!(form["api_secret"], API_SECRET);
    assert_eq!(form["to"], "4917612345678", "E.164 without +");
    assert_eq!(form["from"], "Praxis Weh");
    assert_eq!(form["text"], sms.text);
    assert_eq!(form["client-ref"], sms.id.to_string());
    assert_eq!(form["status-report-req"], "1");
    // Every character here is in GSM 03.38 (ü, é and & included): no unicode type.
    assert!(!form.contains_key("type"), "{form:?}");
    assert_eq!(carrier.name(), "vonage");
    assert_eq!(done.carrier, "vonage");
    // Vonage's own id is what its delivery receipts name.
    assert_eq!(done.carrier_ref.as_deref(), Some("0A0000000123AB01"));
}

#[tokio::test]
async fn a_text_outside_gsm7_goes_as_unicode_and_numeric_senders_lose_the_plus() {
    let fake = FakeCarrier::vonage().await;
    let carrier = VonageCarrier::new(&fake.vonage_config()).expect("carrier");
    let sms = Sms::from_sender("+4930123456", "Grüß Gott 🦷 – „bis morgen“");
    carrier.submit(&sms.outbound()).await.expect("accepted");
    let form = fake.requests()[0].form();
    assert_eq!(form["type"], "unicode");
    assert_eq!(form["text"], sms.text);
    assert_eq!(form["from"], "4930123456");
}

#[tokio::test]
async fn each_status_code_maps_to_its_error_class() {
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
        ("1", Class::Transient),
        ("2", Class::Operator),
        ("3", Class::Permanent(Reason::Rejected)),
        ("4", Class::Operator),
        ("5", Class::Transient),
        ("6", Class::Permanent(Reason::UnknownSubscriber)),
        ("7", Class::Permanent(Reason::Rejected)),
        ("8", Class::Operator),
        ("9", Class::Operator),
        ("10", Class::Transient),
        ("11", Class::Operator),
        ("12", Class::Permanent(Reason::Rejected)),
        ("14", Class::Operator),
        ("15", Class::Permanent(Reason::Rejected)),
        ("22", Class::Operator),
        ("23", Class::Operator),
        ("29", Class::Operator),
        ("32", Class::Operator),
        ("33", Class::Permanent(Reason::UnknownSubscriber)),
        ("99", Class::Operator),
    ];
    let fake = FakeCarrier::vonage().await;
    let carrier = VonageCarrier::with_timeouts(&fake.vonage_config(), quick()).expect("carrier");
    let sms = Sms::new("Termin");
    for (code, want) in &table {
        fake.then([Answer::Status(code)]);
        let err = carrier
            .submit(&sms.outbound())
            .await
            .expect_err(&format!("status {code} must fail"));
        assert_eq!(&class(&err), want, "status {code}: {err}");
        assert!(
            err.to_string().contains(&format!("status {code}")),
            "{code}: {err}"
        );
        assert!(!err.to_string().contains(API_SECRET), "secret in {err}");
    }
}

#[tokio::test]
async fn a_long_text_partly_taken_counts_as_sent_under_its_first_part() {
    let fake = FakeCarrier::vonage().await;
    fake.then([Answer::PartlyTaken]);
    let id = submit_once(&fake).await.expect("taken");
    assert_eq!(id, "0A0000000123AB01");
}

#[tokio::test]
async fn server_errors_and_overload_are_transient() {
    let fake = FakeCarrier::vonage().await;
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
async fn other_http_errors_and_foreign_answers_are_an_operator_problem() {
    let fake = FakeCarrier::vonage().await;
    for status in [400, 401, 403, 404] {
        fake.then([Answer::Http(status)]);
        let err = submit_once(&fake).await.expect_err("must fail");
        assert!(
            matches!(err, SubmitError::Operator(_)),
            "HTTP {status}: {err}"
        );
    }
    fake.then([Answer::Bare("<html>portal</html>")]);
    let err = submit_once(&fake).await.expect_err("must fail");
    assert!(matches!(err, SubmitError::Operator(_)), "{err}");
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transient() {
    let fake = FakeCarrier::vonage().await;
    fake.then([Answer::Slow(Duration::from_secs(5))]);
    let start = Instant::now();
    let err = submit_once(&fake).await.expect_err("must time out");
    assert!(matches!(err, SubmitError::Transient(_)), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn dropped_broken_off_and_refused_connections_are_transient() {
    let fake = FakeCarrier::vonage().await;
    for answer in [Answer::Drop, Answer::BrokenOff] {
        fake.then([answer.clone()]);
        let err = submit_once(&fake).await.expect_err("must fail");
        assert!(
            matches!(err, SubmitError::Transient(_)),
            "{answer:?}: {err}"
        );
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let carrier = VonageCarrier::with_timeouts(&vonage_config(&url), quick()).expect("carrier");
    let err = carrier
        .submit(&Sms::new("Termin").outbound())
        .await
        .expect_err("nobody listening");
    assert!(matches!(err, SubmitError::Transient(_)), "{err}");
}

#[tokio::test]
async fn connections_are_reused() {
    let fake = FakeCarrier::vonage().await;
    let carrier = VonageCarrier::new(&fake.vonage_config()).expect("carrier");
    let sms = Sms::new("Termin");
    for _ in 0..5 {
        carrier.submit(&sms.outbound()).await.expect("accepted");
    }
    assert_eq!(
        fake.connections(),
        1,
        "five sends should share one connection"
    );
}

// ---------------------------------------------------------------------------------------------
// Webhooks. Signatures are computed here from Vonage's documented algorithm, not with the
// adapter's code: all parameters but `sig`, sorted by name, as `&name=value` with `&` and `=`
// in values replaced by `_`; HMAC keyed with the signature secret, or MD5 of that string
// followed by the secret ("MD5 hash").

const DLR_URL: &str = "https://praxis.example/webhooks/vonage/dlr";

#[derive(Debug, Clone, Copy)]
enum Algo {
    Md5Hash,
    Sha256,
    Sha512,
}

fn vonage_signs(algo: Algo, secret: &str, params: &[(&str, String)]) -> String {
    let mut sorted: Vec<&(&str, String)> = params.iter().filter(|(k, _)| *k != "sig").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut s = String::new();
    for (k, v) in sorted {
        s.push_str(&format!("&{k}={}", v.replace(['&', '='], "_")));
    }
    match algo {
        Algo::Md5Hash => hex::encode(Md5::digest(format!("{s}{secret}").as_bytes())),
        Algo::Sha256 => {
            let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
            m.update(s.as_bytes());
            hex::encode(m.finalize().into_bytes())
        }
        Algo::Sha512 => {
            let mut m = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("key");
            m.update(s.as_bytes());
            hex::encode(m.finalize().into_bytes())
        }
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now")
}

/// A delivery receipt as Vonage sends it (`DeliveryReceipt` in `definitions/sms.yml`), without
/// the signature parameters.
fn receipt(
    message_id: &str,
    status: &str,
    err_code: &str,
    timestamp: i64,
) -> Vec<(&'static str, String)> {
    vec![
        ("msisdn", "4917612345678".into()),
        ("to", "Praxis Weh".into()),
        ("network-code", "26203".into()),
        ("messageId", message_id.into()),
        ("price", "0.03330000".into()),
        ("status", status.into()),
        ("scts", "2001011400".into()),
        ("err-code", err_code.into()),
        ("api-key", API_KEY.into()),
        ("client-ref", "01JTESTCLIENTREF&x=1".into()),
        ("message-timestamp", "2020-01-01 12:00:00".into()),
        ("timestamp", timestamp.to_string()),
        ("nonce", "ec11dd3e-1e7f-4db5-9467-82b02cd223b9".into()),
    ]
}

fn signed(
    mut params: Vec<(&'static str, String)>,
    algo: Algo,
    secret: &str,
) -> Vec<(&'static str, String)> {
    let sig = vonage_signs(algo, secret, &params);
    params.push(("sig", sig));
    params
}

fn as_json(params: &[(&str, String)]) -> Vec<u8> {
    let map: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect();
    Value::Object(map).to_string().into_bytes()
}

fn as_form(params: &[(&str, String)]) -> Vec<u8> {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        f.append_pair(k, v);
    }
    f.finish().into_bytes()
}

fn hooks_with(method: &str) -> VonageWebhooks {
    let method = method.to_owned();
    VonageWebhooks::new(
        &VonageConfig::from_lookup(move |name| match name {
            vonage::ENV_API_KEY => Some(API_KEY.into()),
            vonage::ENV_API_SECRET => Some(API_SECRET.into()),
            vonage::ENV_SIGNATURE_SECRET => Some(SIGNATURE_SECRET.into()),
            vonage::ENV_SIGNATURE_METHOD => Some(method.clone()),
            _ => None,
        })
        .expect("config"),
    )
}

fn verify_with(
    hooks: &VonageWebhooks,
    url: &str,
    body: &[u8],
    content_type: &'static str,
) -> Result<(), WebhookError> {
    let mut h = http::HeaderMap::new();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    hooks.verify(
        &WebhookRequest {
            method: "POST",
            url,
            headers: &h,
            body,
        },
        now(),
    )
}

fn verify_json(params: &[(&str, String)]) -> Result<(), WebhookError> {
    verify_with(
        &hooks_with("sha256"),
        DLR_URL,
        &as_json(params),
        "application/json",
    )
}

fn assert_refused(what: &str, result: Result<(), WebhookError>) {
    match result {
        Err(WebhookError::Unauthorized(why)) => {
            assert!(
                !why.contains(SIGNATURE_SECRET),
                "{what}: the secret was echoed"
            );
        }
        other => panic!("{what}: expected Unauthorized, got {other:?}"),
    }
}

#[test]
fn the_sdk_test_vector_verifies() {
    // vonage-python-sdk's test: these parameters with secret "secret", MD5 hash.
    let want = "6af838ef94998832dbfc29020b564830";
    let params = [
        ("a", "1".to_owned()),
        ("b", "2".into()),
        ("timestamp", "1461605396".into()),
    ];
    assert_eq!(vonage_signs(Algo::Md5Hash, "secret", &params), want);
    let hooks = VonageWebhooks::new(
        &VonageConfig::from_lookup(|name| match name {
            vonage::ENV_API_KEY => Some("k".into()),
            vonage::ENV_API_SECRET => Some("s".into()),
            vonage::ENV_SIGNATURE_SECRET => Some("secret".into()),
            vonage::ENV_SIGNATURE_METHOD => Some("md5hash".into()),
            _ => None,
        })
        .expect("config"),
    );
    let body = b"a=1&b=2&timestamp=1461605396&sig=6AF838EF94998832DBFC29020B564830";
    let h = http::HeaderMap::new();
    let req = WebhookRequest {
        method: "POST",
        url: DLR_URL,
        headers: &h,
        body,
    };
    let at = DateTime::from_timestamp(1_461_605_396, 0).expect("time");
    assert_eq!(hooks.verify(&req, at), Ok(()));
}

#[test]
fn correctly_signed_receipts_pass_as_json_form_or_query() {
    let t = now().timestamp();
    for (method, algo) in [
        ("sha256", Algo::Sha256),
        ("sha512", Algo::Sha512),
        ("md5hash", Algo::Md5Hash),
    ] {
        let hooks = hooks_with(method);
        let p = signed(
            receipt("0A0000000123AB01", "delivered", "0", t),
            algo,
            SIGNATURE_SECRET,
        );
        assert_eq!(
            verify_with(&hooks, DLR_URL, &as_json(&p), "application/json"),
            Ok(()),
            "{method} JSON"
        );
        assert_eq!(
            verify_with(
                &hooks,
                DLR_URL,
                &as_form(&p),
                "application/x-www-form-urlencoded"
            ),
            Ok(()),
            "{method} form"
        );
        let query = format!(
            "{DLR_URL}?{}",
            String::from_utf8(as_form(&p)).expect("utf8")
        );
        assert_eq!(
            verify_with(&hooks, &query, b"", "text/plain"),
            Ok(()),
            "{method} GET-style"
        );
    }
    // Hex case does not matter (Vonage's sample receipts carry upper-case signatures).
    let mut p = signed(
        receipt("0A0000000123AB01", "delivered", "0", t),
        Algo::Sha256,
        SIGNATURE_SECRET,
    );
    if let Some(sig) = p.iter_mut().find(|(k, _)| *k == "sig") {
        sig.1 = sig.1.to_ascii_uppercase();
    }
    assert_eq!(verify_json(&p), Ok(()));
    // Within five minutes either way is fine.
    for skew in [-299, 299] {
        let p = signed(
            receipt("0A1", "delivered", "0", t + skew),
            Algo::Sha256,
            SIGNATURE_SECRET,
        );
        assert_eq!(verify_json(&p), Ok(()), "skew {skew}");
    }
}

#[test]
fn unsigned_and_partly_signed_receipts_are_refused() {
    let t = now().timestamp();
    assert_refused(
        "unsigned",
        verify_json(&receipt("0A1", "delivered", "0", t)),
    );
    let full = signed(
        receipt("0A1", "delivered", "0", t),
        Algo::Sha256,
        SIGNATURE_SECRET,
    );
    let without = |name: &str| -> Vec<(&'static str, String)> {
        full.iter().filter(|(k, _)| *k != name).cloned().collect()
    };
    assert_refused("no timestamp", verify_json(&without("timestamp")));
    assert_refused("no nonce", verify_json(&without("nonce")));
    let mut empty = without("sig");
    empty.push(("sig", String::new()));
    assert_refused("empty sig", verify_json(&empty));
    let mut not_hex = without("sig");
    not_hex.push(("sig", "zz-not-hex".into()));
    assert_refused("not hex", verify_json(&not_hex));
    let mut short = without("sig");
    let sig = full
        .iter()
        .find(|(k, _)| *k == "sig")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    short.push(("sig", sig[..32].to_owned()));
    assert_refused("truncated", verify_json(&short));
    assert_refused(
        "empty body",
        verify_with(&hooks_with("sha256"), DLR_URL, b"", "application/json"),
    );
    assert_refused(
        "broken JSON",
        verify_with(
            &hooks_with("sha256"),
            DLR_URL,
            b"{\"sig\":",
            "application/json",
        ),
    );
}

#[test]
fn a_signature_with_another_secret_or_method_is_refused() {
    let t = now().timestamp();
    let p = signed(
        receipt("0A1", "delivered", "0", t),
        Algo::Sha256,
        "someone-elses-secret",
    );
    assert_refused("wrong secret", verify_json(&p));
    let p = signed(
        receipt("0A1", "delivered", "0", t),
        Algo::Md5Hash,
        SIGNATURE_SECRET,
    );
    assert_refused("md5 hash where sha256 is configured", verify_json(&p));
}

#[test]
fn a_tampered_parameter_is_refused() {
    let t = now().timestamp();
    let p = signed(
        receipt("0A1", "buffered", "0", t),
        Algo::Sha256,
        SIGNATURE_SECRET,
    );
    for (name, forged) in [
        ("status", "delivered"),
        ("messageId", "0A2"),
        ("err-code", "3"),
        ("timestamp", &(t + 1).to_string()),
        ("nonce", "00000000-0000-0000-0000-000000000000"),
    ] {
        let changed: Vec<(&'static str, String)> = p
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    if *k == name {
                        forged.to_owned()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect();
        assert_refused(&format!("tampered {name}"), verify_json(&changed));
    }
    let mut added = p.clone();
    added.push(("extra", "1".into()));
    assert_refused("added parameter", verify_json(&added));
}

#[test]
fn a_stale_or_future_timestamp_is_refused() {
    for skew in [-301, 301, -86_400, 86_400] {
        let p = signed(
            receipt("0A1", "delivered", "0", now().timestamp() + skew),
            Algo::Sha256,
            SIGNATURE_SECRET,
        );
        assert_refused(&format!("skew {skew}"), verify_json(&p));
    }
    let mut p = receipt("0A1", "delivered", "0", 0);
    if let Some(ts) = p.iter_mut().find(|(k, _)| *k == "timestamp") {
        ts.1 = "yesterday".into();
    }
    assert_refused(
        "not a number",
        verify_json(&signed(p, Algo::Sha256, SIGNATURE_SECRET)),
    );
}

#[test]
fn receipts_name_vonages_message_id_and_map_status_and_err_code() {
    let hooks = hooks_with("sha256");
    let cases = [
        ("accepted", "0", Some(Status::Sent), None),
        ("buffered", "0", Some(Status::Buffered), None),
        ("delivered", "0", Some(Status::Delivered), None),
        (
            "expired",
            "0",
            Some(Status::Undelivered),
            Some(Reason::Expired),
        ),
        (
            "failed",
            "8",
            Some(Status::Undelivered),
            Some(Reason::NetworkError),
        ),
        (
            "failed",
            "3",
            Some(Status::Undelivered),
            Some(Reason::UnknownSubscriber),
        ),
        (
            "rejected",
            "1",
            Some(Status::Undelivered),
            Some(Reason::Rejected),
        ),
        (
            "rejected",
            "6",
            Some(Status::Undelivered),
            Some(Reason::Rejected),
        ),
        ("unknown", "1", None, None),
    ];
    let t = now().timestamp();
    for (status, err, want_status, want_reason) in cases {
        let p = signed(
            receipt("0A0000000123AB01", status, err, t),
            Algo::Sha256,
            SIGNATURE_SECRET,
        );
        for body in [as_json(&p), as_form(&p)] {
            let reports = hooks.parse_reports(&body).expect("parse");
            assert_eq!(reports.len(), 1);
            let r = &reports[0];
            assert_eq!(
                r.target,
                ReportTarget::CarrierRef("0A0000000123AB01".into())
            );
            assert_eq!(r.status, want_status, "{status}/{err}");
            assert_eq!(r.reason, want_reason, "{status}/{err}");
        }
    }
    assert!(matches!(
        hooks.parse_reports(b"status=delivered"),
        Err(WebhookError::BadPayload(_))
    ));
}

#[test]
fn signed_inbound_sms_verifies_and_parses() {
    let hooks = hooks_with("sha256");
    let t = now().timestamp();
    let p = signed(
        vec![
            ("msisdn", "4917612345678".into()),
            ("to", "4915712345678".into()),
            ("messageId", "0A0000001".into()),
            ("text", "STOP bitte, a=b & c".into()),
            ("type", "text".into()),
            ("keyword", "STOP".into()),
            ("api-key", API_KEY.into()),
            ("message-timestamp", "2020-01-01 12:00:00".into()),
            ("timestamp", t.to_string()),
            ("nonce", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into()),
        ],
        Algo::Sha256,
        SIGNATURE_SECRET,
    );
    let url = "https://praxis.example/webhooks/vonage/inbound";
    for body in [as_json(&p), as_form(&p)] {
        assert_eq!(verify_with(&hooks, url, &body, "application/json"), Ok(()));
        let sms = hooks
            .parse_inbound(&body)
            .expect("inbound")
            .expect("an SMS");
        assert_eq!(sms.from, "+4917612345678");
        assert_eq!(sms.text, "STOP bitte, a=b & c");
    }
}
