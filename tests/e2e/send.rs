//! Sending: numbers as practices type them, batches up to 1000, preview, and retries with an
//! `Idempotency-Key`.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, SETTLE, Stack, id_of, is_final, mobile, send};

fn items(batch: &Value) -> &Vec<Value> {
    batch["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages array in {batch}"))
}

#[tokio::test]
async fn numbers_are_normalized_to_e164_with_the_practices_region() {
    let stack = Stack::start();
    for (typed, e164) in [
        ("0176 12345678", "+4917612345678"),
        ("+49 (0) 176 12345678", "+4917612345678"),
        ("0049 176 12345678", "+4917612345678"),
        ("004367612345678", "+4367612345678"),
    ] {
        let m = stack.send_one(typed, "Termin").await;
        assert_eq!(m["to"], e164, "{typed:?}: {m}");
        let stored = stack.message(&id_of(&m)).await;
        assert_eq!(stored["to"], e164, "{typed:?} as stored: {stored}");
    }

    let austria = stack.org_create(
        "Zahnarzt Wien",
        &["--region", "AT", "--sender", "PraxisWien"],
    );
    let key = austria["api_key"].as_str().expect("api_key");
    let m = stack
        .post_as(
            key,
            "/v1/messages",
            &json!({ "to": "0676 1234567", "text": "Termin" }),
        )
        .await
        .expect(202);
    assert_eq!(m["to"], "+436761234567", "{m}");
    assert_eq!(m["sender"], "PraxisWien", "{m}");
}

#[tokio::test]
async fn a_batch_of_1000_is_accepted_in_order_and_delivered_once_each() {
    let stack = Stack::start();
    let numbers: Vec<String> = (0..1000).map(mobile).collect();
    let batch: Vec<Value> = numbers
        .iter()
        .enumerate()
        .map(|(i, to)| json!({ "to": to, "text": "Recall: bitte Termin vereinbaren", "reference": format!("r{i}") }))
        .collect();
    let accepted = stack
        .post("/v1/messages", &json!({ "messages": batch }))
        .await
        .expect(202);
    let accepted = items(&accepted);
    assert_eq!(accepted.len(), 1000);
    for (i, m) in accepted.iter().enumerate() {
        assert_eq!(m["to"], numbers[i], "item {i} out of order: {m}");
        assert_eq!(m["reference"], format!("r{i}"), "item {i}: {m}");
    }
    let ids: HashSet<String> = accepted.iter().map(id_of).collect();
    assert_eq!(ids.len(), 1000, "ids are not distinct");

    stack
        .wait_for_count("delivered", 1000, Duration::from_secs(60))
        .await;
    let submitted = stack.submission_counts();
    let twice: Vec<_> = submitted.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "submitted more than once: {twice:?}");
    assert_eq!(
        submitted.keys().cloned().collect::<HashSet<_>>(),
        ids,
        "submissions.jsonl is not exactly the accepted ids"
    );
}

#[tokio::test]
async fn a_mixed_batch_stores_only_its_good_items() {
    let stack = Stack::start();
    let batch = json!({ "messages": [
        { "to": mobile(1), "text": "gut" },
        { "to": "0176 abc", "text": "falsche Nummer" },
        { "to": mobile(2), "text": "auch gut", "sender": "Praxis Nord" },
        { "to": mobile(3) },
        { "to": mobile(4), "text": "falscher Absender", "sender": "Zahnarztpraxis Dr. Mustermann" },
        { "to": 4917612345678u64, "text": "Nummer als Zahl" },
        "kein Objekt",
    ]});
    let r = stack.post("/v1/messages", &batch).await;
    let answer = r.expect(202);
    let out = items(&answer);
    assert_eq!(out.len(), 7, "{answer}");
    let expected_fields = [
        None,
        Some("messages[1].to"),
        None,
        Some("messages[3].text"),
        Some("messages[4].sender"),
        Some("messages[5].to"),
        Some("messages[6]"),
    ];
    let mut good = Vec::new();
    for (i, (item, field)) in out.iter().zip(expected_fields).enumerate() {
        match field {
            None => {
                assert_eq!(item["status"], "pending", "item {i}: {item}");
                good.push(id_of(item));
            }
            Some(field) => {
                let e = Resp {
                    status: 202,
                    body: item.clone(),
                };
                assert_eq!(e.error()["field"], field, "item {i}: {item}");
                assert!(item.get("id").is_none(), "item {i} has an id: {item}");
            }
        }
    }
    assert_eq!(out[2]["sender"], "Praxis Nord");

    let listed: HashSet<String> = stack
        .list_all(&stack.key, &[])
        .await
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(
        listed,
        good.iter().cloned().collect(),
        "only good items stored"
    );
    for id in &good {
        stack.wait_for_final(id).await;
    }
    let submitted: HashSet<String> = stack.submission_counts().into_keys().collect();
    assert_eq!(submitted, good.into_iter().collect());
}

#[tokio::test]
async fn preview_counts_without_storing_or_sending() {
    let stack = Stack::start();
    let gsm = stack
        .post(
            "/v1/messages/preview",
            &json!({ "to": "0176 12345678", "text": "Ihr Termin am Montag um 9 Uhr. Kosten: 5€" }),
        )
        .await
        .expect(200);
    assert_eq!(gsm["to"], "+4917612345678", "{gsm}");
    assert_eq!(gsm["encoding"], "GSM-7", "{gsm}");
    assert_eq!(gsm["segments"], 1, "{gsm}");
    assert_eq!(gsm["characters"], 41, "{gsm}");
    assert_eq!(gsm["ucs2_characters"], json!([]), "{gsm}");

    let long = "a".repeat(161);
    let two = stack
        .post(
            "/v1/messages/preview",
            &json!({ "to": mobile(1), "text": long }),
        )
        .await
        .expect(200);
    assert_eq!(two["segments"], 2, "{two}");

    let emoji = stack
        .post(
            "/v1/messages/preview",
            &json!({ "to": mobile(1), "text": "Bis morgen 😀" }),
        )
        .await
        .expect(200);
    assert_eq!(emoji["encoding"], "UCS-2", "{emoji}");
    assert_eq!(emoji["segments"], 1, "{emoji}");
    assert_eq!(emoji["ucs2_characters"], json!(["😀"]), "{emoji}");

    let typographic = "„Hallo“ – bis morgen…";
    let plain = stack
        .post(
            "/v1/messages/preview",
            &json!({ "to": mobile(1), "text": typographic }),
        )
        .await
        .expect(200);
    assert_eq!(plain["encoding"], "UCS-2", "{plain}");
    let forcing: HashSet<&str> = plain["ucs2_characters"]
        .as_array()
        .expect("ucs2_characters")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(forcing, HashSet::from(["„", "“", "–", "…"]), "{plain}");
    let smart = stack
        .post(
            "/v1/messages/preview",
            &json!({ "to": mobile(1), "text": typographic, "smart_encoding": true }),
        )
        .await
        .expect(200);
    assert_eq!(smart["encoding"], "GSM-7", "{smart}");
    assert_eq!(smart["ucs2_characters"], json!([]), "{smart}");

    let batch = stack
        .post(
            "/v1/messages/preview",
            &json!({ "messages": [ { "to": mobile(1), "text": "a" }, { "to": "123", "text": "b" } ] }),
        )
        .await
        .expect(200);
    assert_eq!(items(&batch)[0]["encoding"], "GSM-7", "{batch}");
    assert_eq!(
        items(&batch)[1]["error"]["field"],
        "messages[1].to",
        "{batch}"
    );

    assert!(
        stack.list_all(&stack.key, &[]).await.is_empty(),
        "preview stored a message"
    );
    assert!(stack.submissions().is_empty(), "preview sent a message");
}

async fn post_with_key(stack: &Stack, api_key: &str, idem: &str, body: &Value) -> Resp {
    send(
        stack
            .req_as(api_key, Method::POST, "/v1/messages")
            .header("Idempotency-Key", idem)
            .json(body),
    )
    .await
}

fn ids(answer: &Value) -> Vec<String> {
    items(answer).iter().map(id_of).collect()
}

#[tokio::test]
async fn idempotency_key_makes_a_retry_return_the_same_messages() {
    let stack = Stack::start();
    let body = json!({ "messages": [
        { "to": mobile(1), "text": "Termin Montag" },
        { "to": mobile(2), "text": "Termin Dienstag" },
    ]});
    let first = post_with_key(&stack, &stack.key, "recall-2026-11", &body)
        .await
        .expect(202);
    let retry = post_with_key(&stack, &stack.key, "recall-2026-11", &body)
        .await
        .expect(202);
    assert_eq!(ids(&first), ids(&retry), "a retry created new messages");
    for id in ids(&first) {
        stack.wait_for_final(&id).await;
    }
    // A retry after dispatch must not dispatch again.
    let late = post_with_key(&stack, &stack.key, "recall-2026-11", &body)
        .await
        .expect(202);
    assert_eq!(ids(&first), ids(&late));

    let changed = json!({ "messages": [ { "to": mobile(1), "text": "Termin Mittwoch" } ] });
    let r = post_with_key(&stack, &stack.key, "recall-2026-11", &changed).await;
    assert_eq!(r.status, 409, "{}", r.body);
    r.error();

    // Another practice may use the same key for its own request.
    let other = stack.new_practice("Praxis Zwei");
    let theirs = post_with_key(&stack, &other, "recall-2026-11", &body)
        .await
        .expect(202);
    let theirs = ids(&theirs);
    assert!(
        theirs.iter().all(|id| !ids(&first).contains(id)),
        "practices share idempotent ids"
    );
    for id in &theirs {
        stack.wait_for_status_as(&other, id, is_final, SETTLE).await;
    }
    assert_eq!(stack.list_all(&stack.key, &[]).await.len(), 2);
    assert_eq!(stack.list_all(&other, &[]).await.len(), 2);

    let submitted = stack.submission_counts();
    for id in ids(&first).iter().chain(&theirs) {
        assert_eq!(submitted.get(id), Some(&1), "submissions of {id}");
    }
    assert_eq!(submitted.len(), 4, "{submitted:?}");
}

#[tokio::test]
async fn idempotency_key_works_for_a_single_message() {
    let stack = Stack::start();
    let body = json!({ "to": mobile(7), "text": "Ihr Termin" });
    let first = post_with_key(&stack, &stack.key, "one-1", &body)
        .await
        .expect(202);
    let retry = post_with_key(&stack, &stack.key, "one-1", &body)
        .await
        .expect(202);
    assert_eq!(id_of(&first), id_of(&retry));
    stack.wait_for_final(&id_of(&first)).await;
    assert_eq!(stack.list_all(&stack.key, &[]).await.len(), 1);
    assert_eq!(stack.submission_counts().get(&id_of(&first)), Some(&1));
}
