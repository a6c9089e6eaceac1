//! Mail on the local stack: each e-mail becomes an RFC 5322 `.eml` file in `<data-dir>/outbox/`,
//! the bytes SES would get (`adapters::mime`), named by its idempotency key so that sending
//! twice writes one file.

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::adapters::mime::{id_part, mime};
use crate::ports::{Email, Mailer, PortError, PortResult};

#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
    from: String,
}

impl OutboxMailer {
    /// `from` is the sender's address (its display name comes with each e-mail).
    pub fn new(dir: PathBuf, from: impl Into<String>) -> PortResult<OutboxMailer> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            PortError::Unavailable(format!("cannot create outbox {}: {e}", dir.display()))
        })?;
        Ok(OutboxMailer {
            dir,
            from: from.into(),
        })
    }
}

/// A name no other write of this process or another uses: two sends of one key at once (which
/// the callers' leases make rare) must not write into one temporary file.
fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, idempotency_key: &str, mail: &Email) -> PortResult<()> {
        let path = self.dir.join(format!("{}.eml", id_part(idempotency_key)));
        let eml = mime(&self.from, mail, idempotency_key, SystemTime::now())?;
        tokio::task::spawn_blocking(move || {
            // Written under a temporary name and renamed, so the outbox never shows half an
            // e-mail and a failed write leaves nothing that would pass for a sent one.
            let tmp = path.with_extension(format!("{}.tmp", unique()));
            if path.exists() {
                return Ok(());
            }
            let written = std::fs::File::create(&tmp).and_then(|mut f| {
                f.write_all(&eml)?;
                f.sync_all()
            });
            match written.and_then(|()| std::fs::hard_link(&tmp, &path)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(PortError::Unavailable(format!("outbox: {e}")));
                }
            }
            let _ = std::fs::remove_file(&tmp);
            Ok(())
        })
        .await
        .map_err(|e| PortError::Unavailable(format!("outbox task: {e}")))?
    }
}
