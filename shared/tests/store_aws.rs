//! The store conformance suite against DynamoDB on moto over HTTP (scripts/moto.sh starts it),
//! plus what only the AWS store has: TTL attributes and raw items. One fresh table per test.

#![cfg(feature = "aws")]

mod conformance;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use chrono::{DateTime, Duration, Utc};
use praxis_shared::adapters::aws::{DynamoStore, create_table, sdk_config};
use praxis_shared::domain::message::Transition;
use praxis_shared::domain::{OrgId, Status};
use praxis_shared::ports::{IdempotencyRecord, PortError, Store};

use conformance::{message, reply, t0};

type Item = HashMap<String, AttributeValue>;

/// A client for the emulator, or `None` (with a notice) when the run asked to skip AWS tests.
async fn client() -> Option<Client> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if std::env::var("PRAXIS_SKIP_AWS").as_deref() == Ok("1") {
            eprintln!("PRAXIS_SKIP_AWS=1: skipping the DynamoDB store tests");
            return None;
        }
        panic!(
            "AWS_ENDPOINT_URL is not set. Run these tests through scripts/moto.sh, which starts \
             moto and sets it: scripts/moto.sh cargo test -p praxis-shared --features aws \
             --test store_aws (or set PRAXIS_SKIP_AWS=1 to skip them)"
        );
    }
    Some(Client::new(&sdk_config().await))
}

/// Creates a table no other test uses; moto keeps them until it stops.
async fn fresh_table(client: &Client) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let table = format!(
        "praxis-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    create_table(client, &table).await.expect("create table");
    table
}

conformance_suite!({
    let Some(client) = client().await else {
        return;
    };
    let table = fresh_table(&client).await;
    Box::new(DynamoStore::new(client, table)) as Box<dyn Store>
});

accounts_suite!({
    let Some(client) = client().await else {
        return;
    };
    let table = fresh_table(&client).await;
    Box::new(DynamoStore::new(client, table)) as Box<dyn praxis_shared::ports::Accounts>
});

async fn raw_item(client: &Client, table: &str, pk: String, sk: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
}

fn expires_at(item: &Item) -> i64 {
    match item.get("expires_at") {
        Some(AttributeValue::N(n)) => n.parse().expect("expires_at is an integer"),
        other => panic!("expires_at missing or not a number: {other:?}"),
    }
}

fn sixty_days_after(t: DateTime<Utc>) -> i64 {
    (t + Duration::days(60)).timestamp()
}

#[tokio::test]
async fn the_table_deletes_items_by_ttl_on_expires_at() {
    let Some(client) = client().await else {
        return;
    };
    let table = fresh_table(&client).await;
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .expect("describe TTL")
        .time_to_live_description
        .expect("TTL description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
}

#[tokio::test]
async fn messages_replies_and_their_pointers_carry_a_ttl_60_days_after_creation() {
    let Some(client) = client().await else {
        return;
    };
    let table = fresh_table(&client).await;
    let store = DynamoStore::new(client.clone(), table.clone());
    let org = OrgId::new(t0());
    let m = message(org, t0(), "5678");
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let sent = Transition::new(m.id, Status::Sent, t0()).with_carrier("sim", "sim-ttl");
    assert!(store.apply(&sent).await.expect("sent"));
    store
        .claim_idempotency_key(&IdempotencyRecord {
            org_id: org,
            key: "k-ttl".into(),
            fingerprint: "f".into(),
            created_at: t0(),
        })
        .await
        .expect("claim");
    let r = reply(org, t0(), "in-ttl");
    assert!(store.insert_reply(&r).await.expect("reply"));

    let items = [
        (format!("MSG#{}", m.id), "MSG"),
        ("CREF#sim#sim-ttl".to_owned(), "CREF"),
        (format!("IDEM#{org}#k-ttl"), "IDEM"),
        ("REPLY#sim#in-ttl".to_owned(), "REPLY"),
        (format!("LAST#{org}#{}", m.to.as_str()), "LAST"),
    ];
    for (pk, sk) in items {
        let item = raw_item(&client, &table, pk.clone(), sk)
            .await
            .unwrap_or_else(|| panic!("item {pk} exists"));
        assert_eq!(expires_at(&item), sixty_days_after(m.created_at), "{pk}");
    }
}

#[tokio::test]
async fn a_message_that_no_longer_parses_is_reported_corrupt() {
    let Some(client) = client().await else {
        return;
    };
    let table = fresh_table(&client).await;
    let store = DynamoStore::new(client.clone(), table.clone());
    let m = message(OrgId::new(t0()), t0(), "5678");
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    client
        .update_item()
        .table_name(&table)
        .key("PK", AttributeValue::S(format!("MSG#{}", m.id)))
        .key("SK", AttributeValue::S("MSG".into()))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", AttributeValue::S("zugestellt".into()))
        .send()
        .await
        .expect("corrupt the item");
    assert!(matches!(
        store.get_message(m.id).await,
        Err(PortError::Corrupt(_))
    ));
}
