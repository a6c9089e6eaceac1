//! The embedded backend: everything the local stack needs on one machine, with no services
//! to run. A SQLite file, an in-process queue, an outbox of `.eml` files and file blobs.

mod blobs;
mod mailer;
mod queue;
mod store;

pub use blobs::FileBlobs;
pub use mailer::{OutboxMailer, render_eml};
pub use queue::{ChannelQueue, JobReceiver, channel_queue};
pub use store::SqliteStore;
