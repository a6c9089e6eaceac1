//! The API handler fed with the API Gateway (HTTP API v2) sample events of `events/api/`, as
//! Lambda would call it.

use axum::body::Bytes;
use http::Response;
use lambda_http::Request;
use praxis_shared::domain::optout::{OptOut, Source};
use praxis_shared::domain::{OrgId, PhoneNumber, Region};
use praxis_shared::services::Services;
use praxis_shared::testing::{TestBackend, call, event, practice};
use serde_json::Value;

const NOBODY: &str = "http://127.0.0.1:9";

fn request(name: &str, vars: &[(&str, &str)]) -> Request {
    lambda_http::request::from_str(&event(name, vars))
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway event: {e}"))
}

/// The router, called with the event as `lambda_http::run` calls it.
async fn handle(svc: &Services, req: Request) -> Response<Bytes> {
    call(praxis_api::router(svc.clone()), req).await
}

fn json(res: &Response<Bytes>) -> Value {
    serde_json::from_slice(res.body().as_ref()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn key_check_event_answers_with_the_practice() {
    let t = TestBackend::new(NOBODY);
    let (org, key) = practice(t.svc(), "Praxis Dr. Muster", Region::DE).await;
    let res = handle(
        t.svc(),
        request("api/key-check.json", &[("API_KEY", key.expose())]),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(json(&res)["name"], org.name.as_str());
    assert_eq!(json(&res)["default_sender"], "Praxis");
}

#[tokio::test]
async fn key_check_event_with_an_unknown_key_is_401() {
    let t = TestBackend::new(NOBODY);
    practice(t.svc(), "Praxis", Region::DE).await;
    let other = praxis_shared::domain::apikey::ApiKey::generate();
    let res = handle(
        t.svc(),
        request("api/key-check.json", &[("API_KEY", other.expose())]),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert_eq!(json(&res)["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn send_event_is_accepted_normalized_and_queued_once_per_idempotency_key() {
    let t = TestBackend::new(NOBODY);
    let (_, key) = practice(t.svc(), "Praxis", Region::DE).await;
    let send = || request("api/send-message.json", &[("API_KEY", key.expose())]);
    let first = handle(t.svc(), send()).await;
    assert_eq!(first.status(), 202);
    let body = json(&first);
    assert_eq!(body["to"], "+4917612345678");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["status_text"], "ausstehend");
    assert_eq!(body["encoding"], "GSM-7");
    assert_eq!(body["segments"], 1);
    let queued = t.backend.jobs.next().await.map(|id| id.to_string());
    assert_eq!(queued.as_deref(), body["id"].as_str());

    // The same event again (a client retry with the same Idempotency-Key) gives the same id.
    let second = handle(t.svc(), send()).await;
    assert_eq!(second.status(), 202);
    assert_eq!(json(&second)["id"], body["id"]);
}

#[tokio::test]
async fn batch_event_accepts_good_items_and_explains_bad_ones() {
    let t = TestBackend::new(NOBODY);
    let (_, key) = practice(t.svc(), "Praxis", Region::DE).await;
    let res = handle(
        t.svc(),
        request("api/send-batch.json", &[("API_KEY", key.expose())]),
    )
    .await;
    assert_eq!(res.status(), 202);
    let items = json(&res)["messages"].clone();
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[1]["error"]["field"], "messages[1].to");
    assert_eq!(items[1]["error"]["code"], "number_not_allowed");
}

#[tokio::test]
async fn preview_event_uses_the_practice_region_and_smart_encoding() {
    let t = TestBackend::new(NOBODY);
    let (_, key) = practice(t.svc(), "Praxis Wien", Region::parse("AT").expect("AT")).await;
    let res = handle(
        t.svc(),
        request("api/preview.json", &[("API_KEY", key.expose())]),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = json(&res);
    assert_eq!(body["to"], "+436761234567");
    assert_eq!(body["encoding"], "GSM-7");
    assert_eq!(body["ucs2_characters"], serde_json::json!([]));
}

#[tokio::test]
async fn get_and_list_events_show_only_the_practices_own_messages() {
    let t = TestBackend::new(NOBODY);
    let (_, key) = practice(t.svc(), "Praxis A", Region::DE).await;
    let (_, other) = practice(t.svc(), "Praxis B", Region::DE).await;
    let sent = handle(
        t.svc(),
        request("api/send-message.json", &[("API_KEY", key.expose())]),
    )
    .await;
    let id = json(&sent)["id"].as_str().unwrap_or_default().to_owned();

    let own = handle(
        t.svc(),
        request(
            "api/get-message.json",
            &[("API_KEY", key.expose()), ("MESSAGE_ID", &id)],
        ),
    )
    .await;
    assert_eq!(own.status(), 200);
    assert_eq!(json(&own)["history"][0]["status"], "pending");
    let foreign = handle(
        t.svc(),
        request(
            "api/get-message.json",
            &[("API_KEY", other.expose()), ("MESSAGE_ID", &id)],
        ),
    )
    .await;
    assert_eq!(foreign.status(), 404);

    let list = handle(
        t.svc(),
        request("api/list-messages.json", &[("API_KEY", key.expose())]),
    )
    .await;
    assert_eq!(list.status(), 200);
    assert_eq!(json(&list)["messages"][0]["id"], id.as_str());
    let other_list = handle(
        t.svc(),
        request("api/list-messages.json", &[("API_KEY", other.expose())]),
    )
    .await;
    assert_eq!(json(&other_list)["messages"], serde_json::json!([]));
}

/// Records that `number` opted out of `org`'s SMS `minutes_ago`, as a STOP reply would.
async fn opt_out(svc: &Services, org: OrgId, number: &str, minutes_ago: i64) {
    let n = PhoneNumber::parse(number, Region::DE).expect("number");
    let at = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
    let o = OptOut::new(org, n, at, Source::Keyword);
    assert!(svc.store.record_opt_out(&o).await.expect("opt out"));
}

#[tokio::test]
async fn a_retry_shows_the_message_its_first_request_stored_though_the_number_opted_out_since() {
    let t = TestBackend::new(NOBODY);
    let (org, key) = practice(t.svc(), "Praxis", Region::DE).await;
    let send = || request("api/send-message.json", &[("API_KEY", key.expose())]);
    let first = handle(t.svc(), send()).await;
    assert_eq!(first.status(), 202);
    opt_out(t.svc(), org.id, "+4917612345678", 0).await;

    // The retry answers as the first request did; the dispatcher will not send it.
    let retry = handle(t.svc(), send()).await;
    assert_eq!(retry.status(), 202, "{:?}", json(&retry));
    assert_eq!(json(&retry)["id"], json(&first)["id"]);
    // The same message without the key is a new request, and refused.
    let mut fresh = send();
    fresh.headers_mut().remove("idempotency-key");
    let refused = handle(t.svc(), fresh).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(json(&refused)["error"]["code"], "recipient_opted_out");
    assert_eq!(json(&refused)["error"]["field"], "to");
}

#[tokio::test]
async fn opt_out_events_list_and_lift_only_the_practices_own() {
    let t = TestBackend::new(NOBODY);
    let (org, key) = practice(t.svc(), "Praxis A", Region::DE).await;
    let (other, other_key) = practice(t.svc(), "Praxis B", Region::DE).await;
    opt_out(t.svc(), org.id, "+4917612345678", 2).await;
    opt_out(t.svc(), org.id, "+4917611112222", 1).await;
    opt_out(t.svc(), other.id, "+4917699998888", 0).await;
    let list = |key: &str, limit: &str| {
        request(
            "api/list-opt-outs.json",
            &[("API_KEY", key), ("LIMIT", limit)],
        )
    };
    let delete = |key: &str, number: &str| {
        request(
            "api/delete-opt-out.json",
            &[("API_KEY", key), ("NUMBER", number)],
        )
    };

    let page = handle(t.svc(), list(key.expose(), "1")).await;
    assert_eq!(page.status(), 200);
    let page = json(&page);
    assert_eq!(page["opt_outs"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["opt_outs"][0]["number"], "+4917611112222");
    assert_eq!(page["opt_outs"][0]["source"], "keyword");
    assert!(page["next_cursor"].is_string(), "{page}");

    // Another practice's opt-out is not found, and stays.
    let foreign = handle(t.svc(), delete(key.expose(), "+4917699998888")).await;
    assert_eq!(foreign.status(), 404);
    assert_eq!(json(&foreign)["error"]["code"], "not_found");
    // API Gateway hands the path over decoded: a client's `%2B` arrives as `+`.
    let lifted = handle(t.svc(), delete(key.expose(), "+4917612345678")).await;
    assert_eq!(lifted.status(), 204);
    assert!(lifted.body().is_empty());
    let again = handle(t.svc(), delete(key.expose(), "+4917612345678")).await;
    assert_eq!(again.status(), 404);
    // A national number, read in the practice's region.
    let national = handle(t.svc(), delete(key.expose(), "0176 11112222")).await;
    assert_eq!(national.status(), 204);
    let nothing = handle(t.svc(), delete(key.expose(), "kein-nummer")).await;
    assert_eq!(nothing.status(), 404);

    let page = json(&handle(t.svc(), list(key.expose(), "100")).await);
    assert_eq!(page["opt_outs"], serde_json::json!([]), "{page}");
    let theirs = json(&handle(t.svc(), list(other_key.expose(), "100")).await);
    assert_eq!(
        theirs["opt_outs"][0]["number"], "+4917699998888",
        "{theirs}"
    );
}
