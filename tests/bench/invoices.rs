//! Invoices on the embedded backend (a benchmark, not a test): the time and size of one
//! invoice PDF (PDF/A-3b with its Factur-X XML, the font subset in), and the time of an
//! invoice run over 1,000 practices (usage read, number allocated, PDF printed and stored,
//! e-mail written to the outbox), in this process on a fresh SQLite file.
//!
//! Run it with `cargo bench -p praxis-infra --bench invoices` (release build), or with
//! `--profile dev` for a quick figure on a debug build. `BENCH_PRACTICES` (default 1000) and
//! `BENCH_PARALLEL` (default 8) change the run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use praxis_invoice::{InvoiceSettings, Outcome, document, run_all};
use praxis_shared::adapters::embedded::{FileBlobs, OutboxMailer, SqliteStore};
use praxis_shared::domain::invoice::{BillingConfig, DailyUsage, InvoiceNumber, NewInvoice};
use praxis_shared::domain::message::{Message, Transition};
use praxis_shared::domain::org::{EmailAddress, Org, OrgName, PostalAddress};
use praxis_shared::domain::{
    MessageId, MessageText, Month, OrgId, PhoneNumber, Region, SenderId, Status,
};
use praxis_shared::invoice_links::{InvoiceLinks, LinkKey};
use praxis_shared::ports::{Store, SystemClock};
use praxis_shared::services::{Services, Settings};
use praxis_shared::wiring::Unwired;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn org(i: usize) -> Res<Org> {
    let now = Utc::now();
    Ok(Org {
        id: OrgId::new(now),
        name: OrgName::parse(&format!("Zahnarztpraxis Dr. Müller {i}"))?,
        email: EmailAddress::parse(&format!("praxis{i}@example.de"))?,
        reply_email: None,
        default_sender: Some(SenderId::parse("Praxis")?),
        region: Region::DE,
        reply_number: None,
        activated_on: NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("date")?,
        address: Some(PostalAddress::parse("Königsallee 1, 40212 Düsseldorf")?),
        daily_cap: None,
        created_at: now,
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn one_pdf() -> Res<()> {
    let o = org(1)?;
    let usage = [DailyUsage {
        day: Utc::now().date_naive(),
        parts: 1234,
        messages: 1000,
    }];
    let invoice = NewInvoice::issue(
        &o,
        Month::of(Utc::now().date_naive()),
        &BillingConfig::example(),
        &usage,
        Utc::now(),
    )
    .ok_or("active")?
    .numbered(InvoiceNumber::new(2026, 123));
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let pdf = document::render(&invoice)?;
        times.push(t.elapsed());
        size = pdf.len();
    }
    println!(
        "{}",
        serde_json::json!({
            "event": "invoice_pdf",
            "median_ms": median(times.clone()).as_secs_f64() * 1000.0,
            "max_ms": times.iter().max().map(|d| d.as_secs_f64() * 1000.0),
            "bytes": size,
            "runs": times.len(),
        })
    );
    Ok(())
}

async fn run_over_practices(n: usize, parallel: usize) -> Res<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("praxis.sqlite3"))?);
    let now = Utc::now();
    // Each practice sent three messages of 1, 2 and 1 parts this month.
    for i in 0..n {
        let o = org(i)?;
        store.create_org(&o).await?;
        let mut msgs = Vec::new();
        for (k, text) in ["Hallo", &"x".repeat(200), "Bis morgen"].iter().enumerate() {
            msgs.push(Message::accepted(
                MessageId::new(now),
                o.id,
                PhoneNumber::parse(
                    &format!("+491761234{:04}", (i * 3 + k) % 10_000),
                    Region::DE,
                )?,
                SenderId::parse("Praxis")?,
                MessageText::parse(text, false)?,
                None,
                now,
            ));
        }
        store.insert_messages(&msgs).await?;
        for m in &msgs {
            store
                .apply(&Transition::new(m.id, Status::Sent, now))
                .await?;
        }
    }
    let svc = Services {
        store: store.clone(),
        accounts: store.clone(),
        queue: Arc::new(Unwired("queue")),
        carrier: Arc::new(Unwired("carrier")),
        webhooks: Vec::new(),
        mailer: Arc::new(OutboxMailer::new(
            dir.path().join("outbox"),
            "noreply@praxis-sms.local",
        )?),
        blobs: Arc::new(FileBlobs::new(
            dir.path().join("blobs"),
            "http://127.0.0.1:3000",
            b"k".to_vec(),
        )?),
        invoice_jobs: Arc::new(Unwired("invoice queue")),
        invoice_links: Arc::new(InvoiceLinks::fixed(LinkKey::derived_from(b"bench"))),
        clock: Arc::new(SystemClock),
        settings: Settings::default(),
    };
    let settings = InvoiceSettings {
        billing: Arc::new(BillingConfig::example()),
        public_url: "http://127.0.0.1:3000".into(),
    };
    let month = Month::of(now.date_naive());
    let t = Instant::now();
    let outcomes = run_all(&svc, &settings, month, parallel).await?;
    let first = t.elapsed();
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Created { .. }))
        .count();
    if created != n {
        return Err(format!("{created} of {n} invoices created").into());
    }
    if let Some(Outcome::Created { invoice }) = outcomes.first()
        && invoice.net_cents != 2900 + 4 * 9
    {
        return Err(format!("unexpected net {}", invoice.net_cents).into());
    }
    let t = Instant::now();
    let again = run_all(&svc, &settings, month, parallel).await?;
    let second = t.elapsed();
    if again
        .iter()
        .any(|o| !matches!(o, Outcome::Unchanged { .. }))
    {
        return Err("the second run changed something".into());
    }
    println!(
        "{}",
        serde_json::json!({
            "event": "invoice_run",
            "practices": n,
            "parallel": parallel,
            "run_s": first.as_secs_f64(),
            "per_practice_ms": first.as_secs_f64() * 1000.0 / n as f64,
            "rerun_s": second.as_secs_f64(),
        })
    );
    Ok(())
}

fn main() -> Res<()> {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    one_pdf()?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run_over_practices(
        env("BENCH_PRACTICES", 1000),
        env("BENCH_PARALLEL", 8),
    ))
}
