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

/// A secret store that counts its fetches and has only what it is given.
#[derive(Default)]
struct CountingParameters {
    values: std::collections::HashMap<String, String>,
    fetches: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl praxis_shared::carriers::config::ParameterStore for CountingParameters {
    async fn fetch(
        &self,
        names: &[String],
    ) -> Result<std::collections::HashMap<String, String>, praxis_shared::carriers::lazy::LoadError>
    {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        names
            .iter()
            .map(|n| {
                self.values
                    .get(n)
                    .map(|v| (n.clone(), v.clone()))
                    .ok_or_else(|| {
                        praxis_shared::carriers::lazy::LoadError::NotConfigured(format!(
                            "no parameter {n}"
                        ))
                    })
            })
            .collect()
    }
}

fn post(path: &str, headers: &[(&str, &str)], body: &str) -> http::Request<axum::body::Body> {
    let mut req = http::Request::post(format!("https://api.example{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(axum::body::Body::from(body.to_owned()))
        .expect("request")
}

#[tokio::test]
async fn unsigned_webhook_calls_make_no_secret_store_call() {
    use praxis_shared::carriers::config::{self, CarrierKind, ParameterStore};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    let t = TestBackend::new("http://127.0.0.1:9");
    let params = Arc::new(CountingParameters {
        values: [("/p/seven/signing".to_owned(), "signing-key".to_owned())].into(),
        ..CountingParameters::default()
    });
    let names = |name: &str| match name {
        "PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER" => Some("/p/seven/signing".to_owned()),
        // Named in the template, never created: Vonage is not configured.
        "PRAXIS_SMS_VONAGE_SIGNATURE_SECRET_PARAMETER" => Some("/p/vonage/sig".to_owned()),
        _ => None,
    };
    let mut svc = t.svc().clone();
    for kind in [CarrierKind::Seven, CarrierKind::Vonage] {
        let store: Arc<dyn ParameterStore> = params.clone();
        svc.accept_webhooks(config::webhooks(kind, &names, Some(store)).expect("webhooks"));
    }
    let body = r#"{"webhook_event":"dlr","data":{"msg_id":"77","status":"DELIVERED"}}"#;

    // A flood without signatures: refused, and the secrets are never fetched.
    for path in ["/webhooks/seven/dlr", "/webhooks/vonage/dlr"] {
        for _ in 0..200 {
            let res = call(praxis_dlr::router(svc.clone(), None), post(path, &[], body)).await;
            assert_eq!(res.status(), 401, "{path}");
        }
    }
    assert_eq!(params.fetches.load(Ordering::SeqCst), 0);

    // Calls that look signed to a carrier whose parameters do not exist: the absence is
    // looked up once and remembered.
    let vonage_body = "messageId=0A1&status=delivered&sig=abc&timestamp=1700000000";
    for _ in 0..50 {
        let res = call(
            praxis_dlr::router(svc.clone(), None),
            post(
                "/webhooks/vonage/dlr",
                &[("content-type", "application/x-www-form-urlencoded")],
                vonage_body,
            ),
        )
        .await;
        assert_eq!(res.status(), 404);
    }
    assert_eq!(params.fetches.load(Ordering::SeqCst), 1);
}
