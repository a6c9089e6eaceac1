//! The sweep on the local backend: a message whose job was lost is enqueued again and then
//! dispatched once; a message 72 hours past sending is stored as expired.

use chrono::{Duration, Utc};
use praxis_dispatch::{Outcome, dispatch_one};
use praxis_shared::domain::message::Transition;
use praxis_shared::domain::{Reason, Region, Status};
use praxis_shared::testing::{TestBackend, pending_message, practice};

#[tokio::test]
async fn a_message_whose_job_was_lost_is_enqueued_again_and_sent_once() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    // Stored as the API does, but its job never reached the queue (the API timed out between).
    let lost = pending_message(org.id, "+4917612345678");
    let fresh = pending_message(org.id, "+4917612345679");
    t.svc()
        .store
        .insert_messages(&[lost.clone(), fresh.clone()])
        .await
        .expect("insert");
    let later = Utc::now() + praxis_sweeper::STRANDED_AFTER + Duration::seconds(1);
    let swept = praxis_sweeper::sweep(t.svc(), later).await.expect("sweep");
    assert_eq!(swept.requeued, 2);

    // A second sweep at once enqueues nothing: the first holds them.
    let again = praxis_sweeper::sweep(t.svc(), later).await.expect("sweep");
    assert_eq!(again.requeued, 0);
    // Their own jobs turn up after all (they were only slow): the claim lets one through.
    t.svc()
        .queue
        .enqueue(&[lost.id, fresh.id])
        .await
        .expect("enqueue");
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let id = t.backend.jobs.next().await.expect("a job");
        outcomes.push((id, dispatch_one(t.svc(), id).await.expect("dispatch")));
    }
    for m in [&lost, &fresh] {
        let sent = outcomes
            .iter()
            .filter(|(id, o)| *id == m.id && *o == Outcome::Sent)
            .count();
        assert_eq!(sent, 1, "each message goes out once");
    }
    assert_eq!(t.submissions().len(), 2);
    // Nothing is stranded any more, hold or no hold.
    let after_hold = later + praxis_sweeper::REQUEUE_HOLD + Duration::seconds(1);
    let swept = praxis_sweeper::sweep(t.svc(), after_hold)
        .await
        .expect("sweep");
    assert_eq!(swept.requeued, 0);
}

#[tokio::test]
async fn a_message_just_accepted_is_left_to_its_job() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    let m = pending_message(org.id, "+4917612345678");
    t.svc().store.insert_messages(&[m]).await.expect("insert");
    let swept = praxis_sweeper::sweep(t.svc(), Utc::now())
        .await
        .expect("sweep");
    assert_eq!(swept.requeued, 0);
}

#[tokio::test]
async fn a_sent_message_without_a_report_for_72_hours_is_stored_expired() {
    let t = TestBackend::new("http://127.0.0.1:9");
    let (org, _) = practice(t.svc(), "Praxis", Region::DE).await;
    let m = pending_message(org.id, "+4917612345678");
    t.svc()
        .store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let sent = Transition::new(m.id, Status::Sent, Utc::now()).with_carrier("sim", "ref-1");
    assert!(t.svc().store.apply(&sent).await.expect("sent"));
    let swept = praxis_sweeper::sweep(t.svc(), Utc::now() + Duration::hours(73))
        .await
        .expect("sweep");
    assert_eq!(swept.expired, 1);
    let stored = t.svc().store.get_message(m.id).await.expect("get");
    let stored = stored.expect("stored");
    assert_eq!(stored.status, Status::Undelivered);
    assert_eq!(stored.reason, Some(Reason::Expired));
}
