//! Patients' replies reach the practice by e-mail, exactly once: through `praxis-sms sim
//! inbound`, the reply is e-mailed (the `.eml` outbox, or SES on `--backend aws`, which moto
//! records) with the patient's number, the reply and the reminder it answers, in German that
//! Python's `email` package reads with its umlauts; a resent webhook sends nothing again; a
//! mailer that fails loses nothing and sends once it works again.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{SETTLE, Stack, id_of, on_aws, parse_eml, patience};

const REPLY_NUMBER: &str = "+4915112340000";
const PATIENT: &str = "+4917612345678";
const REMINDER: &str = "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. Bei Verhinderung absagen unter 01234-567890";
const ANSWER: &str = "Jö, ich komme gerne – Grüße!";

/// The address the stack sends from: `aws bootstrap`'s sender, or the outbox's.
fn sender_address() -> &'static str {
    if on_aws() {
        "noreply@praxis-e2e.example"
    } else {
        "noreply@praxis-sms.local"
    }
}

/// A practice with the reply number and an address no other test's practice has (moto's SES
/// records every stack's mail together). Returns its key and address.
fn practice(stack: &Stack) -> (String, String) {
    let mut raw = [0u8; 4];
    getrandom::fill(&mut raw).expect("random");
    let email = format!("praxis-{}@example.org", hex::encode(raw));
    let org = stack.cli(&[
        "org",
        "create",
        "--name",
        "Zahnarztpraxis Dr. Müller",
        "--email",
        &email,
        "--reply-number",
        "0151 12340000",
    ]);
    (org["api_key"].as_str().expect("api_key").to_owned(), email)
}

/// The practice sends the reminder and it is delivered.
async fn send_reminder(stack: &Stack, key: &str) -> String {
    let m = stack
        .post_as(
            key,
            "/v1/messages",
            &json!({ "to": "0176 12345678", "text": REMINDER }),
        )
        .await
        .expect(202);
    assert_eq!(m["sender"], REPLY_NUMBER, "{m}");
    let id = id_of(&m);
    stack
        .wait_for_status_as(key, &id, |s| s == "delivered", SETTLE)
        .await;
    id
}

fn sim_inbound(stack: &Stack, id: &str) -> Value {
    stack.cli(&[
        "sim",
        "inbound",
        "--to",
        REPLY_NUMBER,
        "--from",
        "0176 12345678",
        "--text",
        ANSWER,
        "--id",
        id,
        "--addr",
        &stack.url,
    ])
}

/// Polls until `n` e-mails to `to` are there; panics with what there is otherwise.
async fn wait_for_emails(stack: &Stack, to: &str, n: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + SETTLE * patience();
    loop {
        let got = stack.emails_to(to).await;
        if got.len() >= n || Instant::now() > deadline {
            assert_eq!(got.len(), n, "e-mails to {to}");
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn replies(stack: &Stack, key: &str) -> Vec<Value> {
    let page = stack.get_as(key, "/v1/replies").await.expect(200);
    page["replies"].as_array().expect("replies").clone()
}

#[tokio::test]
async fn a_reply_is_emailed_once_in_german_with_the_reminder_it_answers() {
    let stack = Stack::start();
    let (key, email) = practice(&stack);
    let message_id = send_reminder(&stack, &key).await;

    assert_eq!(sim_inbound(&stack, "reply-mail-1")["status"], 200);
    let mails = wait_for_emails(&stack, &email, 1).await;
    let mail = parse_eml(&mails[0]);
    assert_eq!(mail["subject"], "SMS-Antwort von 0176 12345678", "{mail}");
    assert_eq!(mail["to"], json!([email]));
    assert_eq!(mail["from_name"], "praxis-sms SMS-Antworten");
    assert_eq!(mail["from_address"], sender_address());
    assert_eq!(mail["content_type"], "multipart/alternative", "{mail}");
    assert!(
        mail["date"].as_str().is_some() && mail["message_id"].as_str().is_some(),
        "{mail}"
    );
    for body in ["text", "html"] {
        let b = mail[body]
            .as_str()
            .unwrap_or_else(|| panic!("no {body} part: {mail}"));
        assert!(b.contains("0176 12345678"), "{body}: {b}");
        assert!(b.contains(ANSWER), "{body}: {b}");
        assert!(
            b.contains("Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr"),
            "{body}: {b}"
        );
        assert!(b.contains("telefonisch"), "{body}: {b}");
    }

    let got = replies(&stack, &key).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["text"], ANSWER);
    assert_eq!(got[0]["from"], PATIENT);
    assert_eq!(got[0]["in_reply_to"], message_id.as_str());

    // The carrier resends the webhook (same id): acknowledged, still one reply, one e-mail.
    assert_eq!(sim_inbound(&stack, "reply-mail-1")["status"], 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(stack.emails_to(&email).await.len(), 1);
    assert_eq!(replies(&stack, &key).await.len(), 1);
}

#[tokio::test]
async fn a_reply_to_a_number_no_practice_has_sends_no_email() {
    let stack = Stack::start();
    let (key, email) = practice(&stack);
    let out = stack.cli(&[
        "sim",
        "inbound",
        "--to",
        "0151 12349999",
        "--from",
        "0176 12345678",
        "--text",
        "Hallo?",
        "--addr",
        &stack.url,
    ]);
    assert_eq!(out["status"], 200, "{out}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(stack.emails_to(&email).await.is_empty());
    assert!(
        stack.emails_to("praxis@example.com").await.is_empty(),
        "the demo practice's"
    );
    assert!(replies(&stack, &key).await.is_empty());
    assert!(replies(&stack, &stack.key).await.is_empty());
}

#[tokio::test]
async fn while_the_mailer_fails_the_reply_is_kept_and_goes_out_once_it_works() {
    let dead_ses = [("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:9")];
    let mut stack = if on_aws() {
        Stack::start_with(&["--sweep-every", "1"], &dead_ses)
    } else {
        Stack::start_with(&["--sweep-every", "1"], &[])
    };
    let outbox = stack.data_dir().join("outbox");
    if !on_aws() {
        // A file where the outbox was: nothing can be written there (root ignores modes).
        std::fs::remove_dir_all(&outbox).expect("remove the outbox");
        std::fs::write(&outbox, b"in the way").expect("block the outbox");
    }
    let (key, email) = practice(&stack);
    send_reminder(&stack, &key).await;
    assert_eq!(
        sim_inbound(&stack, "reply-mail-2")["status"],
        200,
        "stored: the carrier is done"
    );
    // Several sweeps fail meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(replies(&stack, &key).await.len(), 1);
    assert!(stack.emails_to(&email).await.is_empty());

    if on_aws() {
        // Killed, maybe in the middle of an attempt: that attempt's lease (30 s) runs out
        // before the restarted stack may forward the reply.
        stack.restart_with_env(&[("AWS_ENDPOINT_URL_SESV2", None)]);
    } else {
        std::fs::remove_file(&outbox).expect("unblock");
        std::fs::create_dir(&outbox).expect("the outbox again");
    }
    let mails = wait_for_emails(&stack, &email, 1).await;
    assert!(
        parse_eml(&mails[0])["text"]
            .as_str()
            .is_some_and(|t| t.contains(ANSWER))
    );
    // More sweeps, a resent webhook: still one.
    assert_eq!(sim_inbound(&stack, "reply-mail-2")["status"], 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(stack.emails_to(&email).await.len(), 1);
    assert_eq!(replies(&stack, &key).await.len(), 1);
}
