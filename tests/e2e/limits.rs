//! A practice's daily cap (`org create|update --daily-cap`, default `PRAXIS_SMS_DAILY_CAP`):
//! over it `POST /v1/messages` answers 429 `daily_limit_reached` with `Retry-After`, and nothing
//! of the refused request is stored. The cap protects a practice from a runaway loop in its
//! own software.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::Stack;

/// The seconds of a 429's `Retry-After`.
fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds")
}

fn batch(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({ "to": format!("+4917612345{i:03}"), "text": "Terminerinnerung" }))
        .collect();
    json!({ "messages": items })
}

#[tokio::test]
async fn over_the_daily_cap_a_send_is_429_and_nothing_is_stored() {
    let stack = Stack::start();
    let org = stack.org_create("Praxis Limit", &["--sender", "Praxis", "--daily-cap", "3"]);
    assert_eq!(org["daily_cap"], 3);
    let key = org["api_key"].as_str().expect("api_key").to_owned();

    stack
        .post_as(&key, "/v1/messages", &batch(2))
        .await
        .expect(202);
    // Two more would make four: the whole batch is refused, not the part that fits.
    let res = stack
        .req_as(&key, Method::POST, "/v1/messages")
        .json(&batch(2))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 429);
    let retry_after = retry_after(&res);
    assert!((1..=25 * 3600).contains(&retry_after), "{retry_after}");
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "daily_limit_reached", "{body}");
    assert_eq!(
        stack.list_all(&key, &[]).await.len(),
        2,
        "nothing of it was stored"
    );

    // The third still fits; a fourth does not.
    stack
        .post_as(&key, "/v1/messages", &batch(1))
        .await
        .expect(202);
    let over = stack.post_as(&key, "/v1/messages", &batch(1)).await;
    assert_eq!(over.status, 429);
    assert_eq!(over.error()["code"], "daily_limit_reached");
    assert_eq!(stack.list_all(&key, &[]).await.len(), 3);

    // Other practices have their own count.
    let other = stack.new_practice("Praxis Nebenan");
    stack
        .post_as(&other, "/v1/messages", &batch(4))
        .await
        .expect(202);

    // Raised by `org update`, the practice may send again today.
    let id = org["id"].as_str().expect("id");
    let updated = stack.cli(&["org", "update", "--org", id, "--daily-cap", "5"]);
    assert_eq!(updated["daily_cap"], 5, "{updated}");
    stack
        .post_as(&key, "/v1/messages", &batch(2))
        .await
        .expect(202);
}

#[tokio::test]
async fn the_stacks_default_cap_applies_to_a_practice_without_its_own() {
    let stack = Stack::start_with(&[], &[("PRAXIS_SMS_DAILY_CAP", "2")]);
    let over = stack.post("/v1/messages", &batch(3)).await;
    assert_eq!(over.status, 429);
    assert_eq!(over.error()["code"], "daily_limit_reached");
    assert!(stack.list_all(&stack.key, &[]).await.is_empty());
    stack.post("/v1/messages", &batch(2)).await.expect(202);
}

#[tokio::test]
async fn past_the_practices_requests_per_minute_the_api_answers_429_and_does_nothing() {
    let stack = Stack::start_with(&[], &[("PRAXIS_SMS_RATE_LIMIT", "3")]);
    // The four requests below must fall into one minute (serve counts by the UTC minute).
    let into_minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        % 60;
    if into_minute > 45 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }
    for _ in 0..3 {
        stack.get("/v1/key-check").await.expect(200);
    }
    let res = stack
        .req_as(&stack.key, Method::POST, "/v1/messages")
        .json(&batch(1))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 429);
    let retry_after = retry_after(&res);
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // The next minute serves the practice again, and the refused request stored nothing.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert!(stack.list_all(&stack.key, &[]).await.is_empty());
    stack.post("/v1/messages", &batch(1)).await.expect(202);
}
