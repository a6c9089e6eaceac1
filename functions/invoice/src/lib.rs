//! The monthly invoices: `plan` (the schedule's event) hands one job per practice to the
//! invoice queue; `issue` (each job) makes one practice's invoice for one month: computed from
//! its usage, stored with its number, printed (`document`: PDF/A-3b with Factur-X XML), the
//! PDF put into the blob store under the practice and month, and the practice e-mailed a
//! download link. Every step may run twice: the invoice is created once (a conditional write),
//! the PDF put under the same key, the e-mail sent once per invoice id.

pub mod document;
pub mod mail;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use praxis_shared::domain::invoice::{BillingConfig, Invoice, NewInvoice};
use praxis_shared::domain::{Month, OrgId};
use praxis_shared::invoice_links::LINK_VALIDITY;
use praxis_shared::ports::{InvoiceCreated, PortError};
use praxis_shared::services::Services;
use serde::{Deserialize, Serialize};

/// How the stack's invoices are made: prices and seller, and where the e-mails' links point.
#[derive(Clone)]
pub struct InvoiceSettings {
    pub billing: Arc<BillingConfig>,
    /// The stack's public base URL (`https://api.example.de`), without a trailing slash.
    pub public_url: String,
}

/// The environment variable holding the billing configuration as JSON.
pub const ENV_BILLING: &str = "PRAXIS_SMS_BILLING";
/// The environment variable naming a file that holds it.
pub const ENV_BILLING_FILE: &str = "PRAXIS_SMS_BILLING_FILE";

impl InvoiceSettings {
    /// The billing configuration from `PRAXIS_SMS_BILLING` (JSON) or the file
    /// `PRAXIS_SMS_BILLING_FILE` names, else `default_file` if it exists, else the documented
    /// example (docs/invoices.md).
    pub fn billing_from(
        get: impl Fn(&str) -> Option<String>,
        default_file: Option<&std::path::Path>,
    ) -> Result<BillingConfig, String> {
        let json = match (get(ENV_BILLING), get(ENV_BILLING_FILE)) {
            (Some(json), _) if !json.trim().is_empty() => json,
            (_, Some(path)) if !path.trim().is_empty() => std::fs::read_to_string(path.trim())
                .map_err(|e| format!("{ENV_BILLING_FILE} {path}: {e}"))?,
            _ => match default_file.filter(|p| p.exists()) {
                Some(p) => {
                    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?
                }
                None => return Ok(BillingConfig::example()),
            },
        };
        BillingConfig::from_json(&json).map_err(|e| e.to_string())
    }
}

/// What `issue` did for one practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Created now (or found created but not yet delivered), stored, printed and e-mailed.
    Created { invoice: InvoiceSummary },
    /// The practice has its invoice for the month, delivered: nothing changed.
    Unchanged { invoice: InvoiceSummary },
    /// Not yet active in that month: no invoice.
    NotActive { org_id: OrgId },
    /// No such practice (deleted since the plan): nothing to do.
    NoSuchPractice { org_id: OrgId },
}

/// What `invoices run` prints per invoice (the API's invoice fields and the practice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceSummary {
    pub id: String,
    pub org_id: OrgId,
    pub number: String,
    pub month: Month,
    pub net_cents: i64,
    pub vat_cents: i64,
    pub gross_cents: i64,
    pub created_at: DateTime<Utc>,
    pub pdf_key: String,
}

impl From<&Invoice> for InvoiceSummary {
    fn from(i: &Invoice) -> Self {
        let c = &i.doc.computed;
        InvoiceSummary {
            id: i.id.to_string(),
            org_id: i.org_id,
            number: i.number.to_string(),
            month: i.month,
            net_cents: c.net.get(),
            vat_cents: c.vat.get(),
            gross_cents: c.gross.get(),
            created_at: i.created_at,
            pdf_key: i.pdf_key(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("document: {0}")]
    Document(#[from] document::DocumentError),
    #[error("bad job: {0}")]
    BadJob(String),
}

/// One job of the invoice queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceJob {
    pub org_id: OrgId,
    pub month: Month,
}

/// Makes (or finishes) `org`'s invoice for `month`.
pub async fn issue(
    svc: &Services,
    settings: &InvoiceSettings,
    org_id: OrgId,
    month: Month,
) -> Result<Outcome, InvoiceError> {
    let Some(org) = svc.store.get_org(org_id).await? else {
        tracing::warn!(org_id = %org_id, "invoice job for a practice that does not exist");
        return Ok(Outcome::NoSuchPractice { org_id });
    };
    let usage = svc.store.usage(org_id, month).await?;
    let now = svc.clock.now();
    let Some(new) = NewInvoice::issue(&org, month, &settings.billing, &usage, now) else {
        return Ok(Outcome::NotActive { org_id });
    };
    let invoice = match svc.store.create_invoice(&new).await? {
        InvoiceCreated::New(i) => {
            tracing::info!(invoice_id = %i.id, number = %i.number, org_id = %org_id, %month, "invoice created");
            i
        }
        InvoiceCreated::Existing(i) if i.delivered_at.is_some() => {
            return Ok(Outcome::Unchanged {
                invoice: InvoiceSummary::from(&i),
            });
        }
        // A run that stopped between storing and delivering: finish it, with the invoice as
        // stored (its numbers, its date), never a new computation.
        InvoiceCreated::Existing(i) => i,
    };
    deliver(svc, settings, &org, &invoice).await?;
    Ok(Outcome::Created {
        invoice: InvoiceSummary::from(&invoice),
    })
}

/// Prints the invoice, stores the PDF and e-mails the practice; each step repeatable.
async fn deliver(
    svc: &Services,
    settings: &InvoiceSettings,
    org: &praxis_shared::domain::org::Org,
    invoice: &Invoice,
) -> Result<(), InvoiceError> {
    let pdf = document::render(invoice)?;
    svc.blobs
        .put(&invoice.pdf_key(), "application/pdf", pdf)
        .await?;
    let path = svc
        .invoice_links
        .path(invoice.id, invoice.created_at + LINK_VALIDITY)
        .await?;
    let link = format!("{}{path}", settings.public_url.trim_end_matches('/'));
    let mail = mail::InvoiceMail {
        org,
        invoice,
        link: &link,
    }
    .email();
    svc.mailer
        .send(&format!("invoice-{}", invoice.id), &mail)
        .await?;
    svc.store
        .mark_invoice_delivered(invoice.id, svc.clock.now())
        .await?;
    Ok(())
}

/// The schedule's event: one job per practice for `month`. Practices not yet active then are
/// skipped by their job, so the plan needs no more than the list.
pub async fn plan(svc: &Services, month: Month) -> Result<usize, InvoiceError> {
    let orgs: Vec<OrgId> = svc.store.list_orgs().await?.iter().map(|o| o.id).collect();
    svc.invoice_jobs.enqueue_invoices(month, &orgs).await?;
    tracing::info!(%month, practices = orgs.len(), "invoice jobs enqueued");
    Ok(orgs.len())
}

/// The month a schedule firing at `at` invoices: the one before (the schedule runs on the 1st).
pub fn month_before(at: DateTime<Utc>) -> Month {
    Month::of(at.date_naive()).previous()
}

/// `praxis-sms invoices run`: plan and jobs in one process, `parallel` practices at a time.
pub async fn run_all(
    svc: &Services,
    settings: &InvoiceSettings,
    month: Month,
    parallel: usize,
) -> Result<Vec<Outcome>, InvoiceError> {
    let orgs: Vec<OrgId> = svc.store.list_orgs().await?.iter().map(|o| o.id).collect();
    run_for(svc, settings, month, &orgs, parallel).await
}

/// `praxis-sms invoices run --org …`: the same for the practices named.
pub async fn run_for(
    svc: &Services,
    settings: &InvoiceSettings,
    month: Month,
    orgs: &[OrgId],
    parallel: usize,
) -> Result<Vec<Outcome>, InvoiceError> {
    let results: Vec<Result<Outcome, InvoiceError>> =
        futures_util::stream::iter(orgs.iter().copied())
            .map(|org| issue(svc, settings, org, month))
            .buffered(parallel.max(1))
            .collect()
            .await;
    results.into_iter().collect()
}

/// The SQS side of the function: each record one practice's job; failed ones go back.
pub async fn handle_sqs(
    svc: &Services,
    settings: &InvoiceSettings,
    event: SqsEvent,
) -> SqsBatchResponse {
    let jobs = event.records.into_iter().map(|record| async move {
        let msg_id = record.message_id.clone().unwrap_or_default();
        let job = serde_json::from_str::<InvoiceJob>(record.body.as_deref().unwrap_or_default())
            .map_err(|e| InvoiceError::BadJob(e.to_string()));
        let result = match job {
            Ok(job) => issue(svc, settings, job.org_id, job.month).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(_) => None,
            // A body that never parses would only come back; it is logged and dropped.
            Err(InvoiceError::BadJob(e)) => {
                tracing::error!(sqs_message_id = %msg_id, error = %e, "invoice job dropped");
                None
            }
            Err(e) => {
                tracing::error!(sqs_message_id = %msg_id, error = %e, "invoice job failed");
                Some(msg_id)
            }
        }
    });
    let failures = futures_util::future::join_all(jobs).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .flatten()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// The function's two events, told apart by their shape.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Event {
    Sqs(SqsEvent),
    /// EventBridge's scheduled event: `time` is when it fired; `month` may be given to re-plan
    /// a month by hand (`{"month":"2026-11"}`).
    Schedule {
        time: Option<DateTime<Utc>>,
        month: Option<Month>,
    },
}
