//! The set of ports a handler runs with, built once per process (Lambda init or `serve`) and
//! shared by every invocation, plus the limits the handlers enforce.

use std::sync::Arc;
use std::time::Duration;

use crate::carriers::CarrierWebhooks;
use crate::invoice_links::InvoiceLinks;
use crate::ports::{Accounts, Blobs, Carrier, Clock, InvoiceJobs, Mailer, Queue, Store};

#[derive(Debug, Clone)]
pub struct Settings {
    /// Request bodies above this get 413 before they are parsed.
    pub max_body_bytes: usize,
    /// Messages per `POST /v1/messages` batch.
    pub max_batch: usize,
    /// How long a dispatcher holds a claimed message before another may take it over: longer
    /// than the dispatch function may run (90 s), and the dispatcher starts no carrier call
    /// that could outlast it.
    pub dispatch_lease: Duration,
    /// In-handler attempts at a carrier before the job is handed back to the queue.
    pub submit_attempts: u32,
    /// The pause before the first retry; doubled each time.
    pub retry_backoff: Duration,
    /// SMS a practice may send per local day unless it has its own cap (`Org::daily_cap`).
    pub daily_cap: u32,
    /// API requests a practice may make per minute; over it, 429 `rate_limited`. Keeps one
    /// practice's runaway client from using up the stage's throttle the others share.
    pub rate_limit: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body_bytes: 1024 * 1024,
            max_batch: 1000,
            dispatch_lease: Duration::from_secs(120),
            submit_attempts: 4,
            retry_backoff: Duration::from_millis(50),
            // Generous: a busy practice sends a few hundred a day; this stops a runaway loop.
            daily_cap: 10_000,
            // 20 a second on average: Dentport sends a day's reminders in a few batches and
            // polls statuses in pages; a loop gone wrong makes thousands.
            rate_limit: 1_200,
        }
    }
}

#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    /// The portal's accounts and sessions: the same store, through its own port.
    pub accounts: Arc<dyn Accounts>,
    pub queue: Arc<dyn Queue>,
    pub carrier: Arc<dyn Carrier>,
    pub webhooks: Vec<Arc<dyn CarrierWebhooks>>,
    pub mailer: Arc<dyn Mailer>,
    pub blobs: Arc<dyn Blobs>,
    /// The invoice queue (the `invoice` function's fan-out).
    pub invoice_jobs: Arc<dyn InvoiceJobs>,
    /// Signs and checks the invoice e-mails' download links.
    pub invoice_links: Arc<InvoiceLinks>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

impl Services {
    pub fn webhooks_for(&self, carrier: &str) -> Option<&Arc<dyn CarrierWebhooks>> {
        self.webhooks.iter().find(|w| w.name() == carrier)
    }

    /// Accepts `hooks` too, replacing any of the same carrier name.
    pub fn accept_webhooks(&mut self, hooks: Arc<dyn CarrierWebhooks>) {
        self.webhooks.retain(|w| w.name() != hooks.name());
        self.webhooks.push(hooks);
    }
}
