//! The sweep `serve` runs on its housekeeping timer (the sweeper function's code): a message
//! whose job was lost is delivered without a restart; a message 72 hours past sending is
//! stored as `undelivered`/`expired`, found by the status filter, and no later report moves it.
//! The messages are written straight into the stack's store, as a failed API call or an old
//! send leaves them.

use std::time::Duration;

use chrono::Utc;
use praxis_shared::domain::message::{Message, Transition};
use praxis_shared::domain::{MessageId, MessageText, OrgId, PhoneNumber, Region, SenderId, Status};
use serde_json::json;

use crate::helpers::{Stack, id_of, status_of};

/// The demo practice, the only one of a fresh stack.
async fn demo_practice(stack: &Stack) -> OrgId {
    let orgs = stack.store().await.list_orgs().await.expect("list orgs");
    assert_eq!(orgs.len(), 1, "a fresh stack has its demo practice only");
    orgs[0].id
}

fn accepted(org: OrgId, at: chrono::DateTime<Utc>) -> Message {
    Message::accepted(
        MessageId::new(at),
        org,
        PhoneNumber::parse("+4917612345678", Region::DE).expect("number"),
        SenderId::parse("DemoPraxis").expect("sender"),
        MessageText::parse("Terminerinnerung: 19.08. um 16:30 Uhr", false).expect("text"),
        None,
        at,
    )
}

#[tokio::test]
async fn a_pending_message_without_a_job_is_delivered_by_the_next_sweep() {
    let stack = Stack::start_with(&["--sweep-every", "2"], &[]);
    let org = demo_practice(&stack).await;
    // Stored ten minutes ago, its job never enqueued (the API died in between).
    let m = accepted(org, Utc::now() - chrono::Duration::minutes(10));
    let store = stack.store().await;
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let id = m.id.to_string();
    let done = stack
        .wait_for_status(&id, |s| s == "delivered", Duration::from_secs(20))
        .await;
    assert_eq!(status_of(&done), "delivered");
    // Sweeps went on meanwhile; the message still reached the carrier once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(stack.submission_counts().get(&id), Some(&1));
}

#[tokio::test]
async fn a_message_sent_73_hours_ago_is_stored_expired_and_a_late_report_changes_nothing() {
    let stack = Stack::start_with(&["--sweep-every", "1"], &[]);
    let org = demo_practice(&stack).await;
    let sent_at = Utc::now() - chrono::Duration::hours(73);
    let m = accepted(org, sent_at - chrono::Duration::seconds(5));
    let id = m.id.to_string();
    let store = stack.store().await;
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let sent =
        Transition::new(m.id, Status::Sent, sent_at).with_carrier("sim", &format!("sim-{id}"));
    assert!(store.apply(&sent).await.expect("sent"));

    // Found by the filter once the sweep stored it.
    let deadline = std::time::Instant::now() + Duration::from_secs(20) * crate::helpers::patience();
    loop {
        let found = stack
            .list_all(&stack.key, &[("status", "undelivered")])
            .await;
        if found.iter().any(|f| id_of(f) == id) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the expired message is not listed under ?status=undelivered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let stored = stack.stored(&id).await;
    assert_eq!(stored.status, Status::Undelivered);
    assert_eq!(stored.reason.map(|r| r.as_str()), Some("expired"));

    let before = stack.message(&id).await;
    assert_eq!(before["reason"], "expired");
    let token = stack.sim_token();
    let r = stack
        .post_dlr(
            Some(&token),
            &json!({ "id": id, "carrier_ref": format!("sim-{id}"), "status": "delivered",
                     "at": Utc::now().to_rfc3339() }),
        )
        .await;
    assert!((200..300).contains(&r.status), "{} {}", r.status, r.body);
    assert_eq!(
        stack.message(&id).await,
        before,
        "a late report moved an expired message"
    );
}
