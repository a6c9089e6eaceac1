//! The inbound handler fed with the sample events of `events/inbound/` (the sim carrier's
//! inbound SMS, whole and in parts) on the local backend, whose mailer is the `.eml` outbox:
//! each reply is stored once and e-mailed once, also when the mailer fails for a while.

use std::path::PathBuf;

use axum::body::Bytes;
use chrono::{Duration, Utc};
use http::Response;
use lambda_http::Request;
use praxis_shared::domain::message::Transition;
use praxis_shared::domain::reply::Reply;
use praxis_shared::domain::{MessageId, OrgId, PhoneNumber, Region, Status};
use praxis_shared::ports::ReplyQuery;
use praxis_shared::services::Services;
use praxis_shared::testing::{
    SIM_TOKEN, TestBackend, call, event, pending_message, practice_with_reply_number,
};

const REPLY_NUMBER: &str = "+4915112340000";
const PATIENT: &str = "+4917612345678";

/// The router, called with the event as `lambda_http::run` calls it.
async fn handle(svc: &Services, req: Request) -> Response<Bytes> {
    call(praxis_inbound::router(svc.clone(), None), req).await
}

fn inbound(to: &str, sms_id: &str, token: &str) -> Request {
    lambda_http::request::from_str(&event(
        "inbound/sim-inbound.json",
        &[
            ("REPLY_NUMBER", to),
            ("SMS_ID", sms_id),
            ("SIM_TOKEN", token),
        ],
    ))
    .expect("an API Gateway event")
}

fn part(n: u32, total: u32, text: &str) -> Request {
    lambda_http::request::from_str(&event(
        "inbound/sim-inbound-part.json",
        &[
            ("REPLY_NUMBER", REPLY_NUMBER),
            ("SMS_ID", &format!("part-{n}")),
            ("SIM_TOKEN", SIM_TOKEN),
            ("PART", &n.to_string()),
            ("TOTAL", &total.to_string()),
            ("TEXT", text),
        ],
    ))
    .expect("an API Gateway event")
}

async fn replies_of(t: &TestBackend, org: OrgId) -> Vec<Reply> {
    let q = ReplyQuery {
        since: Utc::now() - Duration::days(1),
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

fn outbox(t: &TestBackend) -> PathBuf {
    t.dir().join("outbox")
}

/// The e-mails in the outbox, as text.
fn emails(t: &TestBackend) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(outbox(t)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = dir
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).expect("readable .eml"))
        .collect();
    out.sort();
    out
}

/// A practice with the reply number that sent the patient a reminder.
async fn practice_that_wrote(t: &TestBackend) -> (OrgId, MessageId) {
    let (org, _) =
        practice_with_reply_number(t.svc(), "Praxis", Region::DE, Some(REPLY_NUMBER)).await;
    let msg = pending_message(org.id, PATIENT);
    let id = msg.id;
    t.svc().store.insert_messages(&[msg]).await.expect("insert");
    let sent = Transition::new(id, Status::Sent, Utc::now()).with_carrier("sim", "sim-1");
    assert!(t.svc().store.apply(&sent).await.expect("sent"));
    (org.id, id)
}

#[tokio::test]
async fn inbound_sms_is_stored_and_emailed_once_as_a_reply_to_the_last_message_sent() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, id) = practice_that_wrote(&t).await;
    for _ in 0..2 {
        // The second post is the carrier resending its webhook.
        let res = handle(t.svc(), inbound(REPLY_NUMBER, "in-1", SIM_TOKEN)).await;
        assert_eq!(res.status(), 200);
    }
    let replies = replies_of(&t, org).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    let r = &replies[0];
    assert_eq!(r.from.as_str(), PATIENT);
    assert_eq!(r.to.as_str(), REPLY_NUMBER);
    assert_eq!(r.text, "Ja, ich komme. Bis morgen!");
    assert_eq!(r.in_reply_to, Some(id));
    assert!(r.forwarded_at.is_some(), "{r:?}");
    let mails = emails(&t);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("To: praxis@example.de"), "{}", mails[0]);
    assert!(
        mails[0].contains(&format!("Message-ID: <{}@", r.id)),
        "{}",
        mails[0]
    );
    // A sweep afterwards finds nothing to do.
    let swept = praxis_inbound::forward_pending(t.svc(), Utc::now())
        .await
        .expect("sweep");
    assert_eq!(swept.forwarded, 0);
    assert_eq!(emails(&t).len(), 1);
}

#[tokio::test]
async fn while_the_mailer_fails_the_reply_waits_and_then_goes_out_once() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice_that_wrote(&t).await;
    // The outbox cannot be written (a file where its directory was; root ignores modes).
    std::fs::remove_dir_all(outbox(&t)).expect("remove outbox");
    std::fs::write(outbox(&t), b"not a directory").expect("block outbox");
    let res = handle(t.svc(), inbound(REPLY_NUMBER, "in-2", SIM_TOKEN)).await;
    assert_eq!(res.status(), 200, "the SMS is stored: the carrier is done");
    let replies = replies_of(&t, org).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].forwarded_at, None);
    let swept = praxis_inbound::forward_pending(t.svc(), Utc::now())
        .await
        .expect("sweep");
    assert_eq!((swept.forwarded, swept.failed, swept.overdue), (0, 1, 0));
    // An hour on it is overdue, and counted as such.
    let later = Utc::now() + Duration::hours(2);
    let swept = praxis_inbound::forward_pending(t.svc(), later)
        .await
        .expect("sweep");
    assert_eq!((swept.failed, swept.overdue), (1, 1));

    std::fs::remove_file(outbox(&t)).expect("unblock");
    std::fs::create_dir(outbox(&t)).expect("outbox back");
    let swept = praxis_inbound::forward_pending(t.svc(), Utc::now())
        .await
        .expect("sweep");
    assert_eq!((swept.forwarded, swept.failed), (1, 0));
    let swept = praxis_inbound::forward_pending(t.svc(), Utc::now())
        .await
        .expect("sweep");
    assert_eq!(swept.forwarded, 0);
    assert_eq!(emails(&t).len(), 1);
    assert!(replies_of(&t, org).await[0].forwarded_at.is_some());
}

#[tokio::test]
async fn the_parts_of_a_long_sms_become_one_reply_and_one_email() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice_that_wrote(&t).await;
    for (n, text) in [
        (2, "wie besprochen, "),
        (3, "bis morgen."),
        (1, "Ja, ich komme, "),
    ] {
        let res = handle(t.svc(), part(n, 3, text)).await;
        assert_eq!(res.status(), 200);
    }
    // Part 3 again: the carrier resending it.
    assert_eq!(
        handle(t.svc(), part(3, 3, "bis morgen.")).await.status(),
        200
    );
    let replies = replies_of(&t, org).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(
        replies[0].text,
        "Ja, ich komme, wie besprochen, bis morgen."
    );
    assert!(replies[0].in_reply_to.is_some());
    assert_eq!(emails(&t).len(), 1);
}

#[tokio::test]
async fn a_long_sms_whose_parts_stop_coming_is_forwarded_with_what_arrived() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice_that_wrote(&t).await;
    for (n, text) in [(1, "Ja, ich komme, "), (3, "bis morgen.")] {
        assert_eq!(handle(t.svc(), part(n, 3, text)).await.status(), 200);
    }
    assert!(replies_of(&t, org).await.is_empty());
    // Not yet: the parts are waited for a few minutes.
    let swept = praxis_inbound::forward_pending(t.svc(), Utc::now())
        .await
        .expect("sweep");
    assert_eq!(swept.assembled, 0);
    let later = Utc::now() + Duration::minutes(10);
    let swept = praxis_inbound::forward_pending(t.svc(), later)
        .await
        .expect("sweep");
    assert_eq!((swept.assembled, swept.forwarded), (1, 1));
    let replies = replies_of(&t, org).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].text, "Ja, ich komme, […] bis morgen.");
    assert_eq!(emails(&t).len(), 1);
    // Again: nothing new.
    let swept = praxis_inbound::forward_pending(t.svc(), later)
        .await
        .expect("sweep");
    assert_eq!(swept, praxis_inbound::Swept::default());
}

#[tokio::test]
async fn inbound_sms_with_a_wrong_token_is_401_and_stores_nothing() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice_that_wrote(&t).await;
    let res = handle(t.svc(), inbound(REPLY_NUMBER, "in-1", "forged")).await;
    assert_eq!(res.status(), 401);
    assert!(replies_of(&t, org).await.is_empty());
    assert!(emails(&t).is_empty());
}

#[tokio::test]
async fn inbound_sms_to_a_number_no_practice_has_is_acknowledged_and_not_stored() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice_that_wrote(&t).await;
    let res = handle(t.svc(), inbound("+4915112349999", "in-1", SIM_TOKEN)).await;
    assert_eq!(res.status(), 200);
    assert!(replies_of(&t, org).await.is_empty());
    assert!(emails(&t).is_empty());
}

#[tokio::test]
async fn inbound_sms_the_carrier_could_not_have_sent_is_400() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice_that_wrote(&t).await;
    let mut req = inbound(REPLY_NUMBER, "in-1", SIM_TOKEN);
    *req.body_mut() = lambda_http::Body::from(r#"{"to": "+4915112340000"}"#);
    let res = handle(t.svc(), req).await;
    assert_eq!(res.status(), 400);
    assert!(replies_of(&t, org).await.is_empty());
}

#[tokio::test]
async fn delivery_reports_are_not_this_functions() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let mut req = inbound(REPLY_NUMBER, "in-1", SIM_TOKEN);
    *req.uri_mut() = "https://abc123.execute-api.eu-central-1.amazonaws.com/webhooks/sim/dlr"
        .parse()
        .expect("uri");
    assert_eq!(handle(t.svc(), req).await.status(), 404);
}

fn inbound_text(sms_id: &str, text: &str) -> Request {
    let mut req = inbound(REPLY_NUMBER, sms_id, SIM_TOKEN);
    let body = serde_json::json!({
        "from": PATIENT,
        "to": REPLY_NUMBER,
        "text": text,
        "id": sms_id,
    });
    *req.body_mut() = lambda_http::Body::from(body.to_string());
    req
}

async fn opted_out(t: &TestBackend, org: OrgId) -> bool {
    let patient = PhoneNumber::parse(PATIENT, Region::DE).expect("number");
    !t.svc()
        .store
        .opted_out(org, &[patient])
        .await
        .expect("opted out")
        .is_empty()
}

#[tokio::test]
async fn a_stop_reply_opts_the_number_out_is_emailed_as_such_and_start_opts_it_back_in() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice_that_wrote(&t).await;
    let (other, _) =
        practice_with_reply_number(t.svc(), "Andere", Region::DE, Some("+4915112341111")).await;
    for _ in 0..2 {
        // The second post is the carrier resending its webhook: applied again, harmlessly.
        let res = handle(t.svc(), inbound_text("in-stop", " Stopp! ")).await;
        assert_eq!(res.status(), 200);
    }
    assert!(opted_out(&t, org).await);
    assert!(!opted_out(&t, other.id).await);
    // Still a reply like any other, e-mailed once, saying what it did.
    let mails = emails(&t);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("abgemeldet"), "{}", mails[0]);

    let res = handle(t.svc(), inbound_text("in-chat", "STOP bitte morgen")).await;
    assert_eq!(res.status(), 200);
    assert!(opted_out(&t, org).await, "a sentence is no keyword");
    let res = handle(t.svc(), inbound_text("in-start", "start")).await;
    assert_eq!(res.status(), 200);
    assert!(!opted_out(&t, org).await);
    assert_eq!(replies_of(&t, org).await.len(), 3);
    assert_eq!(emails(&t).len(), 3);
}
