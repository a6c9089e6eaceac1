//! The portal's SMS page on the embedded backend (a benchmark, not a test): a practice with
//! 1,000 messages of the last days, `GET /sms?pro_seite=1000` (all of them on one page) and the
//! default page of 50, through the portal's router as `serve` and Lambda call it (session
//! check, store read, HTML rendered), in this process on a fresh SQLite file.
//!
//! Run it with `cargo bench -p praxis-infra --bench portal` (release build), or with
//! `--profile dev` for a quick figure on a debug build. `BENCH_MESSAGES` (default 1000) and
//! `BENCH_RUNS` (default 30) change the run.

use std::time::{Duration, Instant};

use axum::body::Body;
use chrono::{Duration as Span, Utc};
use http::{Request, StatusCode, header};
use praxis_shared::adapters::embedded::LocalBackend;
use praxis_shared::domain::account::{Account, Role, Secret, Session};
use praxis_shared::domain::message::{Message, Transition};
use praxis_shared::domain::org::{EmailAddress, Org, OrgName};
use praxis_shared::domain::{
    AccountId, MessageId, MessageText, OrgId, PhoneNumber, Region, SenderId, Status,
};
use tower::ServiceExt;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn run(messages: usize, runs: usize) -> Res<()> {
    let dir = tempfile::tempdir()?;
    let backend = LocalBackend::open(dir.path(), "http://127.0.0.1:9", "bench", b"bench-key")?;
    let svc = backend.services.clone();
    let now = Utc::now();
    let org = Org {
        id: OrgId::new(now),
        name: OrgName::parse("Zahnarztpraxis Dr. Müller")?,
        email: EmailAddress::parse("praxis@example.de")?,
        reply_email: None,
        default_sender: Some(SenderId::parse("Praxis")?),
        region: Region::DE,
        reply_number: None,
        activated_on: now.date_naive(),
        address: None,
        daily_cap: None,
        created_at: now,
    };
    svc.store.create_org(&org).await?;
    let account = Account {
        id: AccountId::new(now),
        org_id: org.id,
        email: org.email.clone(),
        role: Role::Owner,
        password_hash: None,
        sessions_valid_after: now - Span::minutes(1),
        created_at: now,
    };
    svc.accounts.create_account(&account).await?;
    let secret = Secret::generate();
    svc.accounts
        .create_session(&Session {
            token_hash: secret.hash(),
            account_id: account.id,
            org_id: org.id,
            csrf: Secret::generate().expose().to_owned(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Span::hours(12),
        })
        .await?;
    let text = MessageText::parse(
        "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. Bei Verhinderung absagen unter 01234-567890",
        false,
    )?;
    let mut batch = Vec::new();
    for i in 0..messages {
        let at = now - Span::minutes(i as i64 * 7);
        batch.push(Message::accepted(
            MessageId::new(at),
            org.id,
            PhoneNumber::parse(&format!("+4917612{:06}", i), Region::DE)?,
            SenderId::parse("Praxis")?,
            text.clone(),
            None,
            at,
        ));
    }
    svc.store.insert_messages(&batch).await?;
    for m in &batch {
        svc.store
            .apply(&Transition::new(m.id, Status::Queued, now))
            .await?;
    }
    let router = praxis_portal::router(
        svc.clone(),
        praxis_portal::PortalConfig::new("http://127.0.0.1:3000"),
    );
    let cookie = format!("praxis_session={}", secret.expose());
    for (path, rows) in [
        (format!("/sms?pro_seite={messages}"), messages),
        ("/sms".to_owned(), 50),
    ] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..runs {
            let req = Request::get(&path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())?;
            let t = Instant::now();
            let res = router.clone().oneshot(req).await?;
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            times.push(t.elapsed());
            if status != StatusCode::OK {
                return Err(format!("{path}: {status}").into());
            }
            let shown = String::from_utf8_lossy(&body).matches("<tr>").count() - 1;
            if shown != rows.min(messages) {
                return Err(format!("{path}: {shown} rows, expected {rows}").into());
            }
            bytes = body.len();
        }
        println!(
            "{}",
            serde_json::json!({
                "event": "portal_sms_page",
                "path": path,
                "messages_in_store": messages,
                "rows": rows.min(messages),
                "median_ms": median(times.clone()).as_secs_f64() * 1000.0,
                "max_ms": times.iter().max().map(|d| d.as_secs_f64() * 1000.0),
                "html_bytes": bytes,
                "runs": runs,
            })
        );
    }
    Ok(())
}

fn main() -> Res<()> {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(env("BENCH_MESSAGES", 1000), env("BENCH_RUNS", 30)))
}
