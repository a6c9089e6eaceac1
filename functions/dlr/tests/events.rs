//! The webhook handler fed with the sample events of `events/dlr/`: a delivery report and an
//! inbound SMS from the sim carrier (a reply, and the STOP and START keywords).

use axum::body::Bytes;
use chrono::Utc;
use http::Response;
use lambda_http::Request;
use praxis_shared::domain::message::Transition;
use praxis_shared::domain::{MessageId, OrgId, PhoneNumber, Region, Status};
use praxis_shared::ports::ReplyQuery;
use praxis_shared::services::Services;
use praxis_shared::testing::{
    SIM_TOKEN, TestBackend, call, event, pending_message, practice, practice_with_reply_number,
};

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

const REPLY_NUMBER: &str = "+4915112340000";

fn inbound(to: &str, sms_id: &str, token: &str) -> Request {
    lambda_http::request::from_str(&event(
        "dlr/sim-inbound.json",
        &[
            ("REPLY_NUMBER", to),
            ("SMS_ID", sms_id),
            ("SIM_TOKEN", token),
        ],
    ))
    .expect("an API Gateway event")
}

async fn replies_of(t: &TestBackend, org: OrgId) -> Vec<praxis_shared::domain::reply::Reply> {
    let q = ReplyQuery {
        since: Utc::now() - chrono::Duration::days(1),
        until: None,
        after: None,
        limit: 100,
    };
    t.svc()
        .store
        .list_replies(org, &q)
        .await
        .expect("list")
        .items
}

#[tokio::test]
async fn inbound_sms_is_stored_once_as_a_reply_to_the_last_message_sent() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) =
        practice_with_reply_number(t.svc(), "Praxis", Region::DE, Some(REPLY_NUMBER)).await;
    let msg = pending_message(org.id, "+4917612345678");
    let id = msg.id;
    t.svc().store.insert_messages(&[msg]).await.expect("insert");
    let sent = Transition::new(id, Status::Sent, Utc::now()).with_carrier("sim", "sim-1");
    assert!(t.svc().store.apply(&sent).await.expect("sent"));

    for _ in 0..2 {
        // The second post is the carrier resending its webhook.
        let res = handle(t.svc(), inbound(REPLY_NUMBER, "in-1", SIM_TOKEN), None).await;
        assert_eq!(res.status(), 200);
    }
    let replies = replies_of(&t, org.id).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    let r = &replies[0];
    assert_eq!(r.from.as_str(), "+4917612345678");
    assert_eq!(r.to.as_str(), REPLY_NUMBER);
    assert_eq!(r.text, "Ja, ich komme. Bis morgen!");
    assert_eq!(r.in_reply_to, Some(id));
    assert_eq!(
        (r.carrier.as_str(), r.carrier_ref.as_str()),
        ("sim", "in-1")
    );
}

#[tokio::test]
async fn inbound_sms_with_a_wrong_token_is_401_and_stores_nothing() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) =
        practice_with_reply_number(t.svc(), "Praxis", Region::DE, Some(REPLY_NUMBER)).await;
    let res = handle(t.svc(), inbound(REPLY_NUMBER, "in-1", "forged"), None).await;
    assert_eq!(res.status(), 401);
    assert!(replies_of(&t, org.id).await.is_empty());
}

#[tokio::test]
async fn inbound_sms_to_a_number_no_practice_has_is_acknowledged_and_not_stored() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) =
        practice_with_reply_number(t.svc(), "Praxis", Region::DE, Some(REPLY_NUMBER)).await;
    let res = handle(t.svc(), inbound("+4915112349999", "in-1", SIM_TOKEN), None).await;
    assert_eq!(res.status(), 200);
    assert!(replies_of(&t, org.id).await.is_empty());
}

#[tokio::test]
async fn inbound_sms_the_carrier_could_not_have_sent_is_400() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) =
        practice_with_reply_number(t.svc(), "Praxis", Region::DE, Some(REPLY_NUMBER)).await;
    let mut req = inbound(REPLY_NUMBER, "in-1", SIM_TOKEN);
    *req.body_mut() = lambda_http::Body::from(r#"{"to": "+4915112340000"}"#);
    let res = handle(t.svc(), req, None).await;
    assert_eq!(res.status(), 400);
    assert!(replies_of(&t, org.id).await.is_empty());
}

fn inbound_text(sms_id: &str, text: &str) -> Request {
    let mut req = inbound(REPLY_NUMBER, sms_id, SIM_TOKEN);
    let body = serde_json::json!({
        "from": "+4917612345678",
        "to": REPLY_NUMBER,
        "text": text,
        "id": sms_id,
    });
    *req.body_mut() = lambda_http::Body::from(body.to_string());
    req
}

async fn opted_out(t: &TestBackend, org: OrgId) -> bool {
    let patient = PhoneNumber::parse("+4917612345678", Region::DE).expect("number");
    !t.svc()
        .store
        .opted_out(org, &[patient])
        .await
        .expect("opted out")
        .is_empty()
}

#[tokio::test]
async fn a_stop_reply_is_stored_and_opts_the_number_out_and_start_opts_it_back_in() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) =
        practice_with_reply_number(t.svc(), "Praxis", Region::DE, Some(REPLY_NUMBER)).await;
    let (other, _) =
        practice_with_reply_number(t.svc(), "Andere", Region::DE, Some("+4915112341111")).await;
    for _ in 0..2 {
        // The second post is the carrier resending its webhook: applied again, harmlessly.
        let res = handle(t.svc(), inbound_text("in-stop", " Stopp! "), None).await;
        assert_eq!(res.status(), 200);
    }
    assert!(opted_out(&t, org.id).await);
    assert!(!opted_out(&t, other.id).await);
    // Still a reply like any other, forwarded like any other.
    let texts: Vec<String> = replies_of(&t, org.id)
        .await
        .into_iter()
        .map(|r| r.text)
        .collect();
    assert_eq!(texts, vec![" Stopp! ".to_owned()]);

    let res = handle(t.svc(), inbound_text("in-chat", "STOP bitte morgen"), None).await;
    assert_eq!(res.status(), 200);
    let res = handle(t.svc(), inbound_text("in-start", "start"), None).await;
    assert_eq!(res.status(), 200);
    assert!(!opted_out(&t, org.id).await);
    assert_eq!(replies_of(&t, org.id).await.len(), 3);
}
