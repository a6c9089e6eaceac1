//! Patients' replies: an SMS to a practice's reply number arrives through a carrier's inbound
//! webhook (seven.io's signed `sms_mo`, the sim's through `praxis-sms sim inbound`), is stored
//! once with the message it answers, and shows in that practice's `GET /v1/replies` only.

use serde_json::{Value, json};

use crate::helpers::{SETTLE, Stack, id_of};
use crate::seven::{SIGNING_KEY, Signed, post_webhook};

const REPLY_NUMBER: &str = "+4915112340000";
const PATIENT: &str = "+4917612345678";
const INBOUND: &str = "/webhooks/seven/inbound";

/// Sends through the sim; seven.io stands behind it as fallback, so its webhooks are accepted.
fn stack() -> Stack {
    Stack::start_with(
        &["--fallback-carrier", "seven"],
        &[
            ("SEVEN_API_URL", "http://127.0.0.1:9"),
            ("SEVEN_API_KEY", "e2e-seven-api-key"),
            ("SEVEN_SIGNING_KEY", SIGNING_KEY),
        ],
    )
}

/// seven.io's `sms_mo` webhook: `sender` and `system` are international digits without `+`.
fn sms_mo(id: &str, sender: &str, system: &str, text: &str) -> Vec<u8> {
    json!({
        "data": {
            "id": id,
            "message_type": "SMS",
            "sender": sender.trim_start_matches('+'),
            "system": system.trim_start_matches('+'),
            "text": text,
            "time": chrono::Utc::now().timestamp().to_string(),
        },
        "webhook_event": "sms_mo",
        "webhook_timestamp": "2026-11-02 10:00:00",
    })
    .to_string()
    .into_bytes()
}

async fn replies(stack: &Stack, key: &str) -> Vec<Value> {
    let page = stack.get_as(key, "/v1/replies").await.expect(200);
    assert!(page["next_cursor"].is_null(), "{page}");
    page["replies"].as_array().expect("replies array").clone()
}

/// A practice with the reply number, and a message it sent to the patient, delivered.
async fn practice_that_wrote_to_the_patient(stack: &Stack) -> (String, String) {
    let org = stack.org_create("Praxis Antwort", &["--reply-number", "0151 12340000"]);
    let key = org["api_key"].as_str().expect("api_key").to_owned();
    let m = stack
        .post_as(
            &key,
            "/v1/messages",
            &json!({ "to": PATIENT, "text": "Termin morgen 9 Uhr. Kommen Sie?" }),
        )
        .await
        .expect(202);
    assert_eq!(m["sender"], REPLY_NUMBER, "{m}");
    let id = id_of(&m);
    stack
        .wait_for_status_as(&key, &id, |s| s == "delivered", SETTLE)
        .await;
    (key, id)
}

#[tokio::test]
async fn a_patients_reply_is_stored_once_and_shown_with_the_message_it_answers() {
    let stack = stack();
    let (key, message_id) = practice_that_wrote_to_the_patient(&stack).await;
    let other = stack.org_create("Praxis Andere", &["--reply-number", "+4915112341111"]);
    let other_key = other["api_key"].as_str().expect("api_key");

    let body = sms_mo("681590", PATIENT, REPLY_NUMBER, "Ja, ich komme 👍");
    let r = post_webhook(&stack, INBOUND, &body, Signed::Correctly).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = replies(&stack, &key).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let reply = &got[0];
    assert_eq!(reply["from"], PATIENT);
    assert_eq!(reply["to"], REPLY_NUMBER);
    assert_eq!(reply["text"], "Ja, ich komme 👍");
    assert_eq!(reply["in_reply_to"], message_id.as_str());
    assert!(reply["received_at"].as_str().is_some(), "{reply}");

    // seven.io resends the webhook (same id): acknowledged, still one reply.
    let r = post_webhook(&stack, INBOUND, &body, Signed::Correctly).await;
    assert!(
        (200..300).contains(&r.status),
        "resent: {} {}",
        r.status,
        r.body
    );
    assert_eq!(replies(&stack, &key).await, got);

    // Neither the other practice nor the demo practice sees it.
    assert!(replies(&stack, other_key).await.is_empty());
    assert!(replies(&stack, &stack.key).await.is_empty());
}

#[tokio::test]
async fn inbound_calls_not_signed_right_get_401_and_store_nothing() {
    let stack = stack();
    let (key, _) = practice_that_wrote_to_the_patient(&stack).await;
    let body = sms_mo("681591", PATIENT, REPLY_NUMBER, "Nein");
    for how in [Signed::Not, Signed::WithAnotherKey, Signed::OverAnotherBody] {
        let r = post_webhook(&stack, INBOUND, &body, how).await;
        assert_eq!(r.status, 401, "{how:?}: {}", r.body);
        r.error();
    }
    // The sim's inbound webhook wants its token.
    let sim = stack
        .unauthenticated(reqwest::Method::POST, "/webhooks/sim/inbound")
        .json(&json!({ "from": PATIENT, "to": REPLY_NUMBER, "text": "Nein" }));
    assert_eq!(crate::helpers::send(sim).await.status, 401);
    assert!(replies(&stack, &key).await.is_empty());
}

#[tokio::test]
async fn an_sms_to_a_number_no_practice_has_is_acknowledged_and_not_stored() {
    let stack = stack();
    let (key, _) = practice_that_wrote_to_the_patient(&stack).await;
    let body = sms_mo("681592", PATIENT, "+4915112349999", "Hallo?");
    let r = post_webhook(&stack, INBOUND, &body, Signed::Correctly).await;
    assert!((200..300).contains(&r.status), "{} {}", r.status, r.body);
    assert!(replies(&stack, &key).await.is_empty());
    assert!(replies(&stack, &stack.key).await.is_empty());
    // A signed call that is no SMS is refused as such.
    let r = post_webhook(
        &stack,
        INBOUND,
        br#"{"webhook_event":"sms_mo"}"#,
        Signed::Correctly,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn sim_inbound_from_the_command_line_reaches_the_practice() {
    let stack = stack();
    let (key, message_id) = practice_that_wrote_to_the_patient(&stack).await;
    let args = |id: &'static str| {
        [
            "sim",
            "inbound",
            "--to",
            REPLY_NUMBER,
            "--from",
            "0176 12345678",
            "--text",
            "Passt, danke!",
            "--id",
            id,
            "--addr",
        ]
    };
    for _ in 0..2 {
        let mut a = args("sim-in-1").to_vec();
        a.push(&stack.url);
        let out = stack.cli(&a);
        assert_eq!(out["status"], 200, "{out}");
    }
    let got = replies(&stack, &key).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["from"], PATIENT);
    assert_eq!(got[0]["text"], "Passt, danke!");
    assert_eq!(got[0]["in_reply_to"], message_id.as_str());
}
