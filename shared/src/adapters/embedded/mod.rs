//! The embedded backend: everything the local stack needs on one machine, with no services
//! to run. A SQLite file, an in-process queue, an outbox of `.eml` files and file blobs.

mod blobs;
mod mailer;
mod queue;
mod store;

pub use blobs::FileBlobs;
pub use mailer::OutboxMailer;
pub use queue::{ChannelQueue, JobReceiver, channel_queue};
pub use store::SqliteStore;

use std::path::Path;
use std::sync::Arc;

use crate::invoice_links::{InvoiceLinks, LinkKey};

use crate::carriers::sim::{SimCarrier, SimWebhooks};
use crate::ports::{PortError, PortResult, SystemClock};
use crate::services::{Services, Settings};

/// Everything the local stack runs on, wired together: the services the handlers use, the
/// dispatcher's end of the queue, and the parts `serve` needs beyond the ports.
pub struct LocalBackend {
    pub services: Services,
    pub jobs: JobReceiver,
    pub sim: Arc<SimCarrier>,
    pub blobs: FileBlobs,
}

impl LocalBackend {
    /// Opens (or creates) the backend in `dir`. `base_url` is where this stack's HTTP server
    /// is reachable: the sim carrier reports to it and blob links point at it.
    pub fn open(
        dir: &Path,
        base_url: &str,
        sim_token: &str,
        blob_key: &[u8],
    ) -> PortResult<LocalBackend> {
        let store = SqliteStore::open(&dir.join("praxis.sqlite3"))?;
        let (queue, jobs) = channel_queue();
        let sim = Arc::new(
            SimCarrier::for_stack(dir, base_url, sim_token)
                .map_err(|e| PortError::Unavailable(format!("sim carrier: {e}")))?,
        );
        let blobs = FileBlobs::new(dir.join("blobs"), base_url, blob_key.to_vec())?;
        let services = Services {
            store: Arc::new(store),
            queue: Arc::new(queue),
            carrier: sim.clone(),
            webhooks: vec![Arc::new(SimWebhooks::new(sim_token.to_owned()))],
            mailer: Arc::new(OutboxMailer::new(
                dir.join("outbox"),
                "noreply@praxis-sms.local",
            )?),
            blobs: Arc::new(blobs.clone()),
            // `invoices run` makes every practice's invoice in-process, so there is no queue.
            invoice_jobs: Arc::new(crate::wiring::Unwired("invoice queue")),
            invoice_links: Arc::new(InvoiceLinks::fixed(LinkKey::derived_from(blob_key))),
            clock: Arc::new(SystemClock),
            settings: Settings::default(),
        };
        Ok(LocalBackend {
            services,
            jobs,
            sim,
            blobs,
        })
    }
}
