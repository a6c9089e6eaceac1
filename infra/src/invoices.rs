//! `praxis-sms invoices run --month YYYY-MM`: the invoice function's code for every practice,
//! in this process (plan and jobs at once, no queue), on either backend. Prints one JSON line
//! per practice and a summary; running it again for the same month changes nothing.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use praxis_invoice::{InvoiceSettings, Outcome, run_all, run_for};
use praxis_shared::adapters::embedded::{FileBlobs, OutboxMailer, SqliteStore};
use praxis_shared::domain::{Month, OrgId};
use praxis_shared::invoice_links::{InvoiceLinks, LinkKey};
use praxis_shared::ports::SystemClock;
use praxis_shared::services::{Services, Settings};
use praxis_shared::wiring::Unwired;
use serde_json::json;

use crate::local::{LocalSecrets, load_secrets, prepare_dir};
use crate::{Backend, Common};

#[derive(Subcommand)]
pub enum InvoicesCommand {
    /// Makes every practice's invoice for a month (PDF stored, practice e-mailed), once.
    Run {
        /// The month invoiced, e.g. 2026-11.
        #[arg(long)]
        month: String,
        /// The stack's public URL, which the e-mails' download links point at.
        #[arg(
            long,
            env = "PRAXIS_SMS_PUBLIC_URL",
            default_value = "http://127.0.0.1:3000"
        )]
        public_url: String,
        /// Practices worked on at once.
        #[arg(long, default_value_t = 8)]
        parallel: usize,
        /// Only this practice (repeatable); default every practice.
        #[arg(long = "org")]
        orgs: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// The link key of this data directory's stack: what its `serve` checks links with.
pub fn invoice_links(secrets: &LocalSecrets) -> Arc<InvoiceLinks> {
    Arc::new(InvoiceLinks::fixed(LinkKey::derived_from(
        secrets.blob_key.as_bytes(),
    )))
}

async fn services(common: &Common, public_url: &str) -> anyhow::Result<Services> {
    let dir = prepare_dir(&common.data_dir)?;
    let secrets = load_secrets(&dir)?;
    if common.backend == Backend::Aws {
        return aws_services(&secrets).await;
    }
    let store = SqliteStore::open(&dir.join("praxis.sqlite3"))
        .with_context(|| format!("cannot open the store in {}", dir.display()))?;
    Ok(Services {
        store: Arc::new(store),
        queue: Arc::new(Unwired("queue")),
        carrier: Arc::new(Unwired("carrier")),
        webhooks: Vec::new(),
        mailer: Arc::new(OutboxMailer::new(
            dir.join("outbox"),
            "noreply@praxis-sms.local",
        )?),
        blobs: Arc::new(FileBlobs::new(
            dir.join("blobs"),
            public_url,
            secrets.blob_key.as_bytes().to_vec(),
        )?),
        invoice_jobs: Arc::new(Unwired("invoice queue")),
        invoice_links: invoice_links(&secrets),
        clock: Arc::new(SystemClock),
        settings: Settings::default(),
    })
}

#[cfg(feature = "aws")]
async fn aws_services(secrets: &LocalSecrets) -> anyhow::Result<Services> {
    use praxis_shared::invoice_links::{ENV_LINK_KEY, ENV_LINK_KEY_PARAMETER};
    let wiring = praxis_shared::wiring::Wiring::from_lookup(crate::aws::env_with_defaults)
        .await?
        .with_mailer()?
        .with_blobs()?;
    // The deployed stack's key if it is named; else this data directory's, which its `serve
    // --backend aws` checks links with.
    let named = [ENV_LINK_KEY, ENV_LINK_KEY_PARAMETER]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| !v.trim().is_empty()));
    if named {
        return Ok(wiring.with_invoice_links()?.build());
    }
    let mut svc = wiring.build();
    svc.invoice_links = invoice_links(secrets);
    Ok(svc)
}

#[cfg(not(feature = "aws"))]
async fn aws_services(_: &LocalSecrets) -> anyhow::Result<Services> {
    anyhow::bail!("this build has no aws backend (cargo feature `aws`); use --backend embedded")
}

pub async fn run(cmd: InvoicesCommand) -> anyhow::Result<()> {
    let InvoicesCommand::Run {
        month,
        public_url,
        parallel,
        orgs,
        common,
    } = cmd;
    let orgs = orgs
        .iter()
        .map(|o| OrgId::parse(o).with_context(|| format!("--org {o}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let month = Month::parse(&month).context("--month")?;
    if month.last_day() >= chrono::Utc::now().date_naive() {
        // Allowed (a demo, a test), but the invoice is final: what the month sends after
        // this run is never billed.
        tracing::warn!(%month, "the month has not ended: its invoices bill the usage so far, for good");
    }
    let public_url = public_url.trim().trim_end_matches('/').to_owned();
    let svc = services(&common, &public_url).await?;
    let billing = InvoiceSettings::billing_from(
        |n| std::env::var(n).ok(),
        Some(&common.data_dir.join("billing.json")),
    )
    .map_err(anyhow::Error::msg)?;
    let settings = InvoiceSettings {
        billing: Arc::new(billing),
        public_url,
    };
    let started = std::time::Instant::now();
    let outcomes = if orgs.is_empty() {
        run_all(&svc, &settings, month, parallel).await?
    } else {
        run_for(&svc, &settings, month, &orgs, parallel).await?
    };
    let (mut created, mut unchanged, mut inactive) = (0, 0, 0);
    for o in &outcomes {
        match o {
            Outcome::Created { .. } => created += 1,
            Outcome::Unchanged { .. } => unchanged += 1,
            Outcome::NotActive { .. } | Outcome::NoSuchPractice { .. } => inactive += 1,
        }
        println!("{}", serde_json::to_string(o)?);
    }
    println!(
        "{}",
        json!({
            "event": "invoices_run",
            "month": month,
            "created": created,
            "unchanged": unchanged,
            "not_active": inactive,
            "millis": started.elapsed().as_millis() as u64,
        })
    );
    Ok(())
}
