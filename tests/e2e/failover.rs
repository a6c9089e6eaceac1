//! `serve --carrier seven --fallback-carrier vonage` against two loopback carriers: while seven.io
//! answers 500, messages go out through Vonage and its signed receipts deliver them; once seven.io
//! is back, new messages go to it again. The store records which carrier took each message.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use praxis_shared::carriers::{seven, vonage};
use reqwest::Method;
use serde_json::json;

use crate::carriers::FakeCarrier;
use crate::helpers::{Resp, SETTLE, Stack, id_of, mobile, send, status_of};

const SEVEN_KEY: &str = "e2e-seven-api-key";
const SEVEN_SIGNING: &str = "e2e-seven-signing-key";
const VONAGE_KEY: &str = "e2ekey01";
const VONAGE_SECRET: &str = "e2e-vonage-api-secret";
const VONAGE_SIGNATURE: &str = "e2e-vonage-signature-secret";
/// The breaker's cool-down for this stack (serve's default is 30 s).
const COOL_DOWN_SECS: u64 = 2;

static NONCES: AtomicU64 = AtomicU64::new(1);

/// A Vonage delivery receipt, signed as Vonage signs it (SHA-256 HMAC, serve's default method).
async fn vonage_receipt(stack: &Stack, message_id: &str, status: &str) -> Resp {
    let mut p: BTreeMap<String, String> = [
        ("msisdn", "4917612345678"),
        ("to", "DemoPraxis"),
        ("network-code", "26203"),
        ("messageId", message_id),
        ("price", "0.03330000"),
        ("status", status),
        ("scts", "2001011400"),
        ("err-code", "0"),
        ("api-key", VONAGE_KEY),
        ("message-timestamp", "2026-01-01 10:00:00"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    p.insert(
        "timestamp".into(),
        chrono::Utc::now().timestamp().to_string(),
    );
    p.insert(
        "nonce".into(),
        format!("nonce-{}", NONCES.fetch_add(1, Ordering::Relaxed)),
    );
    let sig = vonage::sign(vonage::SignatureMethod::Sha256Hmac, VONAGE_SIGNATURE, &p);
    p.insert("sig".into(), sig);
    send(
        stack
            .unauthenticated(Method::POST, "/webhooks/vonage/dlr")
            .json(&p),
    )
    .await
}

/// A seven.io delivery report, signed as seven.io signs it.
async fn seven_report(stack: &Stack, msg_id: &str, status: &str) -> Resp {
    let body = json!({
        "data": { "msg_id": msg_id, "status": status, "timestamp": "2026-01-01 10:00:00.000000" },
        "webhook_event": "dlr",
        "webhook_timestamp": "2026-01-01T10:00:00+01:00"
    })
    .to_string();
    let url = format!("{}/webhooks/seven/dlr", stack.url);
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = format!("{:032}", NONCES.fetch_add(1, Ordering::Relaxed));
    let sig = seven::sign(SEVEN_SIGNING, &ts, &nonce, "POST", &url, body.as_bytes());
    send(
        stack
            .unauthenticated(Method::POST, "/webhooks/seven/dlr")
            .header("content-type", "application/json")
            .header("X-Signature", sig)
            .header("X-Timestamp", ts)
            .header("X-Nonce", nonce)
            .body(body),
    )
    .await
}

/// `carrier` and `carrier_ref` as the store holds them (the API does not show which carrier
/// took a message).
async fn assert_stored(stack: &Stack, id: &str, carrier: &str, carrier_ref: &str) {
    let stored = stack.stored(id).await;
    assert_eq!(
        (stored.carrier.as_deref(), stored.carrier_ref.as_deref()),
        (Some(carrier), Some(carrier_ref)),
        "the store must say which carrier took {id}"
    );
}

#[tokio::test]
async fn while_seven_is_down_vonage_delivers_and_traffic_returns_when_seven_recovers() {
    let seven = FakeCarrier::seven().await;
    let vonage = FakeCarrier::vonage(VONAGE_KEY, VONAGE_SECRET).await;
    let cool_down = COOL_DOWN_SECS.to_string();
    let stack = Stack::start_with(
        &["--carrier", "seven", "--fallback-carrier", "vonage"],
        &[
            ("SEVEN_API_URL", seven.url.as_str()),
            ("SEVEN_API_KEY", SEVEN_KEY),
            ("SEVEN_SIGNING_KEY", SEVEN_SIGNING),
            ("VONAGE_API_URL", vonage.url.as_str()),
            ("VONAGE_API_KEY", VONAGE_KEY),
            ("VONAGE_API_SECRET", VONAGE_SECRET),
            ("VONAGE_SIGNATURE_SECRET", VONAGE_SIGNATURE),
            ("PRAXIS_SMS_FAILOVER_COOL_DOWN_SECS", cool_down.as_str()),
        ],
    );

    // seven.io answers 500: every message goes out through Vonage, each exactly once.
    seven.set_down(true);
    let mut during = Vec::new();
    for n in 0..5 {
        let m = stack
            .send_one(&mobile(100 + n), "Ihr Termin ist morgen.")
            .await;
        let id = id_of(&m);
        stack.wait_for_status(&id, |s| s == "sent", SETTLE).await;
        during.push(id);
    }
    for id in &during {
        assert_eq!(
            vonage.submissions_for(id).len(),
            1,
            "{id} submitted to vonage more than once"
        );
        assert!(seven.taken(id).is_none());
        let vonage_id = vonage.taken(id).expect("vonage took it");
        assert_stored(&stack, id, "vonage", &vonage_id).await;
        let r = vonage_receipt(&stack, &vonage_id, "delivered").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let m = stack.message(id).await;
        assert_eq!(status_of(&m), "delivered", "{m}");
    }
    // The breaker spared the dead primary: only the failures that opened it reached it.
    assert!(
        seven.submission_count() <= 3,
        "seven.io got {} requests while down: a retry storm",
        seven.submission_count()
    );

    // seven.io recovers; after the cool-down a trial goes to it, and traffic returns to it.
    seven.set_down(false);
    tokio::time::sleep(Duration::from_secs(COOL_DOWN_SECS) + Duration::from_millis(500)).await;
    let vonage_before = vonage.submission_count();
    for n in 0..3 {
        let m = stack
            .send_one(&mobile(200 + n), "Ihr Termin ist morgen.")
            .await;
        let id = id_of(&m);
        stack.wait_for_status(&id, |s| s == "sent", SETTLE).await;
        let seven_id = seven.taken(&id).expect("seven took it after recovering");
        assert_eq!(seven.submissions_for(&id).len(), 1);
        assert_stored(&stack, &id, "seven", &seven_id).await;
        let r = seven_report(&stack, &seven_id, "DELIVERED").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(status_of(&stack.message(&id).await), "delivered");
    }
    assert_eq!(
        vonage.submission_count(),
        vonage_before,
        "vonage still got traffic after seven.io recovered"
    );

    // A Vonage receipt for a message seven.io took is not applied to it.
    let last = stack.send_one(&mobile(300), "Termin").await;
    let id = id_of(&last);
    let before = stack.wait_for_status(&id, |s| s == "sent", SETTLE).await;
    let seven_id = seven.taken(&id).expect("seven took it");
    let r = vonage_receipt(&stack, &seven_id, "delivered").await;
    assert!((200..300).contains(&r.status), "{}", r.body);
    assert_eq!(stack.message(&id).await, before);
}
