//! `serve --carrier seven` against a seven.io on loopback that speaks its documented protocol:
//! what arrives there, how refusals and server errors end, and that only correctly signed
//! delivery reports move a message.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use praxis_shared::carriers::seven;
use reqwest::Method;
use serde_json::{Value, json};

use crate::carriers::{FakeCarrier, Plan};
use crate::helpers::{BIN, Resp, SETTLE, Stack, id_of, send, status_of};

const API_KEY: &str = "e2e-seven-api-key";
pub const SIGNING_KEY: &str = "e2e-seven-signing-key";
/// Longer than the local dispatcher's pause before it takes a failed job again.
const RETRY_WINDOW: Duration = Duration::from_millis(2500);

async fn stack_with_seven() -> (Stack, FakeCarrier) {
    let seven = FakeCarrier::seven().await;
    let stack = Stack::start_with(
        &["--carrier", "seven"],
        &[
            ("SEVEN_API_URL", seven.url.as_str()),
            ("SEVEN_API_KEY", API_KEY),
            ("SEVEN_SIGNING_KEY", SIGNING_KEY),
        ],
    );
    (stack, seven)
}

/// How a webhook call is signed (or not).
#[derive(Debug, Clone, Copy)]
pub enum Signed {
    Correctly,
    Not,
    WithAnotherKey,
    /// Correctly, but six minutes ago.
    Stale,
    /// Correctly, for another URL than the one called.
    ForAnotherUrl,
    /// Correctly, over another body than the one sent.
    OverAnotherBody,
}

static NONCES: AtomicU64 = AtomicU64::new(1);

fn dlr(msg_id: &str, status: &str) -> Vec<u8> {
    json!({
        "data": { "msg_id": msg_id, "status": status, "timestamp": "2026-01-01 10:00:00.000000" },
        "webhook_event": "dlr",
        "webhook_timestamp": "2026-01-01T10:00:00+01:00"
    })
    .to_string()
    .into_bytes()
}

/// Posts a delivery report to `/webhooks/seven/dlr` as seven.io (or an impostor) would.
async fn post_report(stack: &Stack, body: &[u8], signed: Signed) -> Resp {
    post_webhook(stack, "/webhooks/seven/dlr", body, signed).await
}

/// Posts a webhook call to `path` as seven.io (or an impostor) would, signed with
/// [`SIGNING_KEY`].
pub async fn post_webhook(stack: &Stack, path: &str, body: &[u8], signed: Signed) -> Resp {
    let url = format!("{}{path}", stack.url);
    let mut timestamp = chrono::Utc::now().timestamp();
    let mut key = SIGNING_KEY;
    let mut signed_url = url.clone();
    let mut signed_body = body.to_vec();
    match signed {
        Signed::Correctly | Signed::Not => {}
        Signed::WithAnotherKey => key = "not-the-signing-key",
        Signed::Stale => timestamp -= 6 * 60,
        Signed::ForAnotherUrl => signed_url = format!("https://elsewhere.example{path}"),
        Signed::OverAnotherBody => signed_body.extend_from_slice(b" "),
    }
    let nonce = format!("{:032}", NONCES.fetch_add(1, Ordering::Relaxed));
    let ts = timestamp.to_string();
    let mut rb = stack
        .unauthenticated(Method::POST, path)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if !matches!(signed, Signed::Not) {
        let signature = seven::sign(key, &ts, &nonce, "POST", &signed_url, &signed_body);
        rb = rb
            .header("X-Signature", signature)
            .header("X-Timestamp", ts)
            .header("X-Nonce", nonce);
    }
    send(rb).await
}

async fn sent_message(stack: &Stack, to: &str, text: &str) -> (String, Value) {
    let m = stack.send_one(to, text).await;
    let id = id_of(&m);
    let sent = stack.wait_for_status(&id, |s| s == "sent", SETTLE).await;
    (id, sent)
}

#[tokio::test]
async fn seven_receives_key_recipient_sender_text_and_our_id() {
    let (stack, seven) = stack_with_seven().await;
    let text = "Grüß Gott! Ihr Termin bei Dr. Öztürk: Di 9:30 Uhr 🦷😀 Bitte 10 Min. früher.";
    let (id, _) = sent_message(&stack, "0176 1234 5678", text).await;

    let subs = seven.submissions_for(&id);
    assert_eq!(subs.len(), 1, "{subs:?}");
    let s = &subs[0];
    assert_eq!(s.api_key.as_deref(), Some(API_KEY));
    assert_eq!(s.body["to"], "+4917612345678");
    assert_eq!(s.body["from"], "DemoPraxis");
    assert_eq!(s.body["text"], text);
    assert_eq!(s.body["foreign_id"], id.as_str());
}

#[tokio::test]
async fn seven_refusal_ends_undelivered_with_its_reason_and_is_not_retried() {
    let (stack, seven) = stack_with_seven().await;
    seven.plan("+4917612340202", &[Plan::Code("202")]);
    let m = stack.send_one("+4917612340202", "Termin").await;
    let id = id_of(&m);
    let done = stack.wait_for_final(&id).await;
    assert_eq!(status_of(&done), "undelivered", "{done}");
    assert_eq!(done["reason"], "unknown_subscriber", "{done}");
    tokio::time::sleep(RETRY_WINDOW).await;
    assert_eq!(
        seven.submissions_for(&id).len(),
        1,
        "a refused message went to seven.io again"
    );
}

#[tokio::test]
async fn seven_server_errors_are_retried_until_it_takes_the_message_once() {
    let (stack, seven) = stack_with_seven().await;
    // More failures than one dispatch attempt makes, so the job also comes back through the queue.
    seven.plan("+4917612340500", &[Plan::Http500; 5]);
    let (id, _) = sent_message(&stack, "+4917612340500", "Termin").await;
    tokio::time::sleep(RETRY_WINDOW).await;
    let subs = seven.submissions_for(&id);
    assert_eq!(subs.len(), 6, "5 failures and 1 success: {subs:?}");
    let accepted = subs.iter().filter(|s| s.accepted_as.is_some()).count();
    assert_eq!(accepted, 1, "seven.io took the message more than once");
    // The id kept is the one seven.io gave the accepted submission.
    let r = post_report(
        &stack,
        &dlr(&seven.msg_id(&id), "DELIVERED"),
        Signed::Correctly,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = stack.message(&id).await;
    assert_eq!(status_of(&m), "delivered", "{m}");
}

#[tokio::test]
async fn seven_signed_reports_move_the_message_forward_and_late_ones_change_nothing() {
    let (stack, seven) = stack_with_seven().await;
    let (id, _) = sent_message(&stack, "+4917612345678", "Termin").await;
    let msg_id = seven.msg_id(&id);

    let r = post_report(&stack, &dlr(&msg_id, "BUFFERED"), Signed::Correctly).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status_of(&stack.message(&id).await), "buffered");

    let r = post_report(&stack, &dlr(&msg_id, "DELIVERED"), Signed::Correctly).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let delivered = stack.message(&id).await;
    assert_eq!(status_of(&delivered), "delivered", "{delivered}");

    for late in ["BUFFERED", "TRANSMITTED", "EXPIRED", "UNKNOWN"] {
        let r = post_report(&stack, &dlr(&msg_id, late), Signed::Correctly).await;
        assert!(
            (200..300).contains(&r.status),
            "late {late}: {} {}",
            r.status,
            r.body
        );
    }
    assert_eq!(
        stack.message(&id).await,
        delivered,
        "a late report changed a delivered message"
    );
}

#[tokio::test]
async fn seven_expired_report_ends_undelivered_with_reason() {
    let (stack, seven) = stack_with_seven().await;
    let (id, _) = sent_message(&stack, "+4917612345679", "Termin").await;
    let r = post_report(
        &stack,
        &dlr(&seven.msg_id(&id), "EXPIRED"),
        Signed::Correctly,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = stack.message(&id).await;
    assert_eq!(status_of(&m), "undelivered", "{m}");
    assert_eq!(m["reason"], "expired", "{m}");
}

#[tokio::test]
async fn seven_reports_not_signed_right_get_401_and_change_nothing() {
    let (stack, seven) = stack_with_seven().await;
    let (id, before) = sent_message(&stack, "+4917612345670", "Termin").await;
    let msg_id = seven.msg_id(&id);
    let body = dlr(&msg_id, "DELIVERED");
    for how in [
        Signed::Not,
        Signed::WithAnotherKey,
        Signed::Stale,
        Signed::ForAnotherUrl,
        Signed::OverAnotherBody,
    ] {
        let r = post_report(&stack, &body, how).await;
        assert_eq!(r.status, 401, "{how:?}: {}", r.body);
        r.error();
        let text = r.body.to_string();
        assert!(!text.contains(SIGNING_KEY), "{how:?}: the key was echoed");
    }
    assert_eq!(
        stack.message(&id).await,
        before,
        "a report without a valid signature changed the message"
    );
    // The same report, signed as seven.io signs it, is taken.
    let r = post_report(&stack, &body, Signed::Correctly).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status_of(&stack.message(&id).await), "delivered");
}

#[tokio::test]
async fn seven_report_for_an_unknown_message_is_acknowledged() {
    let (stack, _seven) = stack_with_seven().await;
    let r = post_report(&stack, &dlr("123456789", "DELIVERED"), Signed::Correctly).await;
    assert!(
        (200..300).contains(&r.status),
        "unknown msg_id: {} {}",
        r.status,
        r.body
    );
}

#[test]
fn serve_with_seven_but_without_its_keys_says_what_is_missing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--carrier",
            "seven",
            "--data-dir",
        ])
        .arg(tmp.path().join("data"))
        .env_remove("SEVEN_API_KEY")
        .env_remove("SEVEN_SIGNING_KEY")
        .env("PRAXIS_SMS_LOG", "warn")
        .output()
        .expect("run praxis-sms");
    assert!(!out.status.success(), "serve started without SEVEN_API_KEY");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SEVEN_API_KEY"), "{stderr}");
}

#[tokio::test]
async fn seven_reload_lock_on_a_retried_submission_leaves_the_message_sent() {
    let (stack, seven) = stack_with_seven().await;
    // The first answer is lost to us (seven.io took the SMS; we saw a 500), so the dispatcher
    // tries again, and seven.io's reload lock answers 402: the same SMS within 180 s.
    seven.plan("+4917612340402", &[Plan::Http500, Plan::Code("402")]);
    let m = stack.send_one("+4917612340402", "Termin").await;
    let id = id_of(&m);
    let sent = stack
        .wait_for_status(&id, |s| s != "pending" && s != "queued", SETTLE)
        .await;
    assert_eq!(status_of(&sent), "sent", "{sent}");
    assert!(sent["reason"].is_null(), "{sent}");
    tokio::time::sleep(RETRY_WINDOW).await;
    assert_eq!(seven.submissions_for(&id).len(), 2);
    assert_eq!(status_of(&stack.message(&id).await), "sent");
}
