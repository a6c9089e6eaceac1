//! The webhook handler fed with the sample delivery report of `events/dlr/`.

use lambda_http::Request;
use praxis_shared::domain::message::{HistoryEntry, Message, Transition};
use praxis_shared::domain::{Encoding, MessageId, PhoneNumber, Region, SenderId, Status};
use praxis_shared::testing::{SIM_TOKEN, TestBackend, event, practice};

async fn sent_message(t: &TestBackend) -> MessageId {
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    let now = chrono::Utc::now();
    let id = MessageId::new(now);
    let msg = Message {
        id,
        org_id: org.id,
        to: PhoneNumber::parse("+4917612345678", Region::DE).expect("number"),
        sender: SenderId::parse("Praxis").expect("sender"),
        text: "Terminerinnerung".into(),
        reference: None,
        encoding: Encoding::Gsm7,
        segments: 1,
        status: Status::Pending,
        reason: None,
        created_at: now,
        sent_at: None,
        carrier: None,
        carrier_ref: None,
        history: vec![HistoryEntry {
            status: Status::Pending,
            at: now,
        }],
    };
    t.svc().store.insert_messages(&[msg]).await.expect("insert");
    let sent = Transition::new(id, Status::Sent, now).with_carrier("sim", &format!("sim-{id}"));
    assert!(t.svc().store.apply(&sent).await.expect("sent"));
    id
}

fn dlr(id: MessageId, token: &str) -> Request {
    lambda_http::request::from_str(&event(
        "dlr/sim-dlr.json",
        &[("MESSAGE_ID", &id.to_string()), ("SIM_TOKEN", token)],
    ))
    .expect("an API Gateway event")
}

#[tokio::test]
async fn signed_report_delivers_the_message() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let id = sent_message(&t).await;
    let res = praxis_dlr::handle(t.svc(), dlr(id, SIM_TOKEN), None).await;
    assert_eq!(res.status(), 200);
    let m = t.svc().store.get_message(id).await.expect("get");
    assert_eq!(m.map(|m| m.status), Some(Status::Delivered));
}

#[tokio::test]
async fn report_with_a_wrong_token_is_401_and_changes_nothing() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let id = sent_message(&t).await;
    let res = praxis_dlr::handle(t.svc(), dlr(id, "forged"), None).await;
    assert_eq!(res.status(), 401);
    let m = t.svc().store.get_message(id).await.expect("get");
    assert_eq!(m.map(|m| m.status), Some(Status::Sent));
}

#[tokio::test]
async fn report_for_an_unknown_message_is_acknowledged() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let res = praxis_dlr::handle(
        t.svc(),
        dlr(MessageId::new(chrono::Utc::now()), SIM_TOKEN),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
}
