//! The dispatcher fed with the SQS sample batch of `events/dispatch/`: the same message twice
//! (SQS delivers at least once) and a poison record; and a message whose recipient opted out
//! after it was accepted.

use aws_lambda_events::event::sqs::SqsEvent;
use praxis_dispatch::Outcome;
use praxis_shared::domain::message::{HistoryEntry, Message};
use praxis_shared::domain::optout::{OptOut, Source};
use praxis_shared::domain::{Encoding, MessageId, PhoneNumber, Reason, Region, SenderId, Status};
use praxis_shared::testing::{TestBackend, event, pending_message, practice};

#[tokio::test]
async fn duplicate_records_submit_once_and_only_the_poison_record_fails() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    let now = chrono::Utc::now();
    let msg = Message {
        id: MessageId::new(now),
        org_id: org.id,
        to: PhoneNumber::parse("+4917612345678", Region::DE).expect("number"),
        sender: SenderId::parse("Praxis").expect("sender"),
        text: "Terminerinnerung".into(),
        reference: None,
        encoding: Encoding::Gsm7,
        segments: 1,
        status: Status::Pending,
        reason: None,
        created_at: now,
        sent_at: None,
        carrier: None,
        carrier_ref: None,
        history: vec![HistoryEntry {
            status: Status::Pending,
            at: now,
        }],
    };
    t.svc()
        .store
        .insert_messages(std::slice::from_ref(&msg))
        .await
        .expect("insert");

    let raw = event(
        "dispatch/sqs-batch.json",
        &[("MESSAGE_ID", &msg.id.to_string())],
    );
    let batch: SqsEvent = serde_json::from_str(&raw).expect("an SQS event");
    let poison = batch.records[2].message_id.clone().unwrap_or_default();
    let res = praxis_dispatch::handle_sqs(t.svc(), batch, None).await;

    let failed: Vec<String> = res
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![poison]);
    let submitted: Vec<_> = t
        .submissions()
        .into_iter()
        .filter(|s| s["id"] == msg.id.to_string())
        .collect();
    assert_eq!(submitted.len(), 1, "submitted once despite two records");
    let stored = t.svc().store.get_message(msg.id).await.expect("get");
    assert_eq!(stored.map(|m| m.status), Some(Status::Sent));
}

#[tokio::test]
async fn a_message_whose_recipient_opted_out_while_it_waited_is_not_sent() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    let waiting = pending_message(org.id, "+4917612345678");
    let other = pending_message(org.id, "+4917611115678");
    t.svc()
        .store
        .insert_messages(&[waiting.clone(), other.clone()])
        .await
        .expect("insert");
    // The patient answers STOP before the dispatcher gets to the message.
    let stop = OptOut::new(
        org.id,
        waiting.to.clone(),
        chrono::Utc::now(),
        Source::Keyword,
    );
    assert!(t.svc().store.record_opt_out(&stop).await.expect("opt out"));

    let outcome = praxis_dispatch::dispatch_one(t.svc(), waiting.id).await;
    assert!(matches!(outcome, Ok(Outcome::OptedOut)), "{outcome:?}");
    let stored = t.svc().store.get_message(waiting.id).await.expect("get");
    let stored = stored.expect("the message is kept");
    assert_eq!(stored.status, Status::Undelivered);
    assert_eq!(stored.reason, Some(Reason::OptedOut));
    // The job again (SQS delivers twice) changes nothing.
    let again = praxis_dispatch::dispatch_one(t.svc(), waiting.id).await;
    assert!(matches!(again, Ok(Outcome::Skipped)), "{again:?}");

    let outcome = praxis_dispatch::dispatch_one(t.svc(), other.id).await;
    assert!(matches!(outcome, Ok(Outcome::Sent)), "{outcome:?}");
    let submitted: Vec<String> = t
        .submissions()
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(submitted, vec![other.id.to_string()]);
}

#[tokio::test]
async fn a_report_that_came_before_sent_was_recorded_still_delivers_the_message() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    let msg = pending_message(org.id, "+4917612345678");
    t.svc()
        .store
        .insert_messages(std::slice::from_ref(&msg))
        .await
        .expect("insert");
    // The carrier's report, by its reference, reaches the webhook before the dispatcher has
    // written `sent` (the sim's references are `sim-<our id>`).
    let early = praxis_shared::carriers::DeliveryReport {
        target: praxis_shared::carriers::ReportTarget::CarrierRef(format!("sim-{}", msg.id)),
        status: Some(Status::Delivered),
        reason: None,
    };
    praxis_dlr::apply_report(t.svc(), "sim", &early)
        .await
        .expect("report kept");
    let before = t.svc().store.get_message(msg.id).await.expect("get");
    assert_eq!(before.map(|m| m.status), Some(Status::Pending));

    let outcome = praxis_dispatch::dispatch_one(t.svc(), msg.id).await;
    assert_eq!(outcome.expect("dispatch"), Outcome::Sent);
    let after = t.svc().store.get_message(msg.id).await.expect("get");
    let after = after.expect("stored");
    assert_eq!(after.status, Status::Delivered);
    let statuses: Vec<Status> = after.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![
            Status::Pending,
            Status::Queued,
            Status::Sent,
            Status::Delivered
        ]
    );
}
