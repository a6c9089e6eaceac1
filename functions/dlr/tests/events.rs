//! The delivery-report handler fed with the sample events of `events/dlr/`: the sim carrier's
//! reports. (Inbound SMS are the inbound function's: its tests use `events/inbound/`.)

use axum::body::Bytes;
use http::Response;
use lambda_http::Request;
use praxis_shared::domain::message::Transition;
use praxis_shared::domain::{MessageId, Region, Status};
use praxis_shared::services::Services;
use praxis_shared::testing::{SIM_TOKEN, TestBackend, call, event, pending_message, practice};

/// The router, called with the event as `lambda_http::run` calls it.
async fn handle(svc: &Services, req: Request, public_url: Option<&str>) -> Response<Bytes> {
    call(
        praxis_dlr::router(svc.clone(), public_url.map(str::to_owned)),
        req,
    )
    .await
}

async fn sent_message(t: &TestBackend) -> MessageId {
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    let msg = pending_message(org.id, "+4917612345678");
    let (id, now) = (msg.id, msg.created_at);
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
    let res = handle(t.svc(), dlr(id, SIM_TOKEN), None).await;
    assert_eq!(res.status(), 200);
    let m = t.svc().store.get_message(id).await.expect("get");
    assert_eq!(m.map(|m| m.status), Some(Status::Delivered));
}

#[tokio::test]
async fn report_with_a_wrong_token_is_401_and_changes_nothing() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let id = sent_message(&t).await;
    let res = handle(t.svc(), dlr(id, "forged"), None).await;
    assert_eq!(res.status(), 401);
    let m = t.svc().store.get_message(id).await.expect("get");
    assert_eq!(m.map(|m| m.status), Some(Status::Sent));
}

#[tokio::test]
async fn report_for_an_unknown_message_is_acknowledged() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let res = handle(
        t.svc(),
        dlr(MessageId::new(chrono::Utc::now()), SIM_TOKEN),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn inbound_sms_are_not_this_functions() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let mut req = dlr(MessageId::new(chrono::Utc::now()), SIM_TOKEN);
    *req.uri_mut() = "https://abc123.execute-api.eu-central-1.amazonaws.com/webhooks/sim/inbound"
        .parse()
        .expect("uri");
    let res = handle(t.svc(), req, None).await;
    assert_eq!(res.status(), 404);
}
