//! What only the AWS backend has: the DynamoDB items behind a message sent through
//! `serve --backend aws` carry the TTL that deletes them 60 days on. (On the embedded backend
//! the housekeeping purge does that; see the store conformance suite.)

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use reqwest::Method;
use serde_json::json;

use praxis_shared::domain::Region;

use crate::helpers::{Stack, id_of, mobile, on_aws, send};

const SIXTY_DAYS: i64 = 60 * 24 * 60 * 60;

#[tokio::test]
async fn a_messages_items_carry_a_ttl_sixty_days_ahead() {
    if !on_aws() {
        eprintln!("runs with PRAXIS_E2E_BACKEND=aws only");
        return;
    }
    let stack = Stack::start();
    let before = Utc::now().timestamp();
    let accepted = send(
        stack
            .req_as(&stack.key, Method::POST, "/v1/messages")
            .header("Idempotency-Key", "ttl-check-1")
            .json(&json!({ "to": mobile(42), "text": "Erinnerung: Termin morgen" })),
    )
    .await
    .expect(202);
    let id = id_of(&accepted);
    stack.wait_for_final(&id).await;
    let after = Utc::now().timestamp();
    let stored = stack.stored(&id).await;
    let carrier_ref = stored.carrier_ref.expect("the sim's reference is stored");

    let config = praxis_shared::adapters::aws::sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let table = stack.aws_table().expect("the stack's table");
    let ttl = dynamo
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .expect("describe TTL")
        .time_to_live_description
        .expect("TTL description");
    assert_eq!(ttl.attribute_name(), Some("expires_at"));

    // The table of this stack only: one practice, one message.
    let items = dynamo
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let text = |item: &std::collections::HashMap<String, AttributeValue>, k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut checked = Vec::new();
    for item in &items {
        let (pk, sk) = (text(item, "PK"), text(item, "SK"));
        let personal = pk.contains(&id)
            || pk.contains(&carrier_ref)
            || pk.contains("ttl-check-1")
            || sk.contains("ttl-check-1");
        if !personal {
            continue;
        }
        let expires: i64 = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{pk}/{sk} holds personal data but has no expires_at"));
        assert!(
            (before + SIXTY_DAYS - 5..=after + SIXTY_DAYS + 5).contains(&expires),
            "{pk}/{sk}: expires_at {expires} is not 60 days after {before}..{after}"
        );
        checked.push(format!("{pk}/{sk}"));
    }
    // The message, its carrier reference and the idempotency key.
    assert!(
        checked.len() >= 3,
        "expected the message, carrier-reference and idempotency items, found {checked:?} among {} items",
        items.len()
    );
}

/// `praxis-sms aws redrive`: a job that sits in the dispatch queue's dead-letter queue goes
/// back to the queue, and its message is delivered, once. The message is fresh, so the
/// sweeper (which sends stranded messages again after five minutes) has no part in it.
#[tokio::test]
async fn aws_redrive_moves_dead_jobs_back_and_their_messages_are_delivered_once() {
    if !on_aws() {
        eprintln!("runs with PRAXIS_E2E_BACKEND=aws only");
        return;
    }
    let stack = Stack::start();
    let org = stack.store().await.list_orgs().await.expect("orgs")[0].id;
    let now = Utc::now();
    let m = praxis_shared::domain::message::Message::accepted(
        praxis_shared::domain::MessageId::new(now),
        org,
        praxis_shared::domain::PhoneNumber::parse("+4917612345679", Region::DE).expect("number"),
        praxis_shared::domain::SenderId::parse("DemoPraxis").expect("sender"),
        praxis_shared::domain::MessageText::parse("Bitte rufen Sie uns an", false).expect("text"),
        None,
        now,
    );
    stack
        .store()
        .await
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    // Its job is in the dead-letter queue, as after five failed receives.
    let config = praxis_shared::adapters::aws::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = stack.aws_env("PRAXIS_SMS_QUEUE_URL").expect("queue url");
    let queue = praxis_shared::adapters::aws::SqsQueue::new(sqs.clone(), queue_url.clone());
    let dead = queue
        .dead_letter_queue()
        .await
        .expect("redrive policy")
        .expect("a dead-letter queue");
    sqs.send_message()
        .queue_url(dead.url())
        .message_body(json!({ "id": m.id.to_string() }).to_string())
        .send()
        .await
        .expect("dead job");

    let out = stack.cli(&["aws", "redrive"]);
    assert_eq!(out["moved"], 1, "{out}");
    assert_eq!(out["queue"], queue_url.as_str());
    let id = m.id.to_string();
    stack
        .wait_for_status(
            &id,
            |s| s == "delivered",
            std::time::Duration::from_secs(20),
        )
        .await;
    assert_eq!(stack.submission_counts().get(&id), Some(&1));
    // Nothing is left to move.
    assert_eq!(stack.cli(&["aws", "redrive"])["moved"], 0);
}
