//! The invoice function fed with the sample events of `events/invoice/`: the schedule's event
//! is told from the queue's, and a batch that carries one practice's job twice (SQS delivers
//! at least once) makes one invoice, one PDF and one e-mail.

use std::sync::Arc;

use chrono::{Duration, Utc};
use praxis_invoice::{Event, InvoiceSettings, handle_sqs, month_before};
use praxis_shared::domain::Month;
use praxis_shared::domain::Region;
use praxis_shared::domain::invoice::BillingConfig;
use praxis_shared::testing::{TestBackend, event, practice};

fn settings() -> InvoiceSettings {
    InvoiceSettings {
        billing: Arc::new(BillingConfig::example()),
        public_url: "https://sms.example.de".into(),
    }
}

#[test]
fn the_schedule_event_plans_the_month_before() {
    let parsed: Event = serde_json::from_str(&event("invoice/schedule.json", &[])).expect("parses");
    let Event::Schedule {
        time: Some(time),
        month: None,
    } = parsed
    else {
        panic!("not the schedule: {parsed:?}");
    };
    assert_eq!(month_before(time).to_string(), "2026-11");
    let by_hand: Event = serde_json::from_str(r#"{"month":"2026-10"}"#).expect("parses");
    assert!(
        matches!(by_hand, Event::Schedule { month: Some(m), .. } if m.to_string() == "2026-10")
    );
}

#[tokio::test]
async fn a_job_delivered_twice_makes_one_invoice_and_one_email() {
    let backend = TestBackend::new("http://127.0.0.1:9");
    let svc = backend.svc();
    let (org, _) = practice(svc, "Praxis Doppelt", Region::DE).await;
    let month = Month::of((Utc::now() - Duration::days(40)).date_naive()).to_string();
    // The practice is active since today: its earlier month has no invoice; this month's does.
    let this_month = Month::of(Utc::now().date_naive()).to_string();
    for (m, expected) in [(&month, 0), (&this_month, 1)] {
        let raw = event(
            "invoice/sqs-jobs.json",
            &[("ORG_ID", &org.id.to_string()), ("MONTH", m)],
        );
        let Event::Sqs(sqs) = serde_json::from_str(&raw).expect("parses") else {
            panic!("not the SQS event");
        };
        let answer = handle_sqs(svc, &settings(), sqs).await;
        assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
        assert_eq!(
            svc.store.list_invoices(org.id).await.expect("list").len(),
            expected
        );
    }
    let outbox: Vec<_> = std::fs::read_dir(backend.dir().join("outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(outbox.len(), 1);
    let invoice = &svc.store.list_invoices(org.id).await.expect("list")[0];
    assert!(invoice.delivered_at.is_some());
    assert!(backend.dir().join("blobs").join(invoice.pdf_key()).exists());
}

#[tokio::test]
async fn a_job_that_is_no_job_is_dropped_not_retried() {
    let backend = TestBackend::new("http://127.0.0.1:9");
    let raw = event(
        "invoice/sqs-jobs.json",
        &[("ORG_ID", "not-an-id"), ("MONTH", "2026-11")],
    );
    let Event::Sqs(sqs) = serde_json::from_str(&raw).expect("parses") else {
        panic!("not the SQS event");
    };
    let answer = handle_sqs(backend.svc(), &settings(), sqs).await;
    assert!(answer.batch_item_failures.is_empty());
}
