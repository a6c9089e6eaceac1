//! The sweeper: the work no request triggers. On a schedule (EventBridge in a deployed stack,
//! `serve`'s housekeeping timer locally) it enqueues again the messages whose job was lost,
//! stores the 72-hour expiry, and forwards the replies not yet e-mailed. Every step is a set
//! of conditional writes, so two sweeps at once, or a sweep racing the dispatcher, never send
//! anything twice.

use chrono::{DateTime, Duration, Utc};
use praxis_shared::domain::Status;
use praxis_shared::metrics::{self, Count};
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;

/// How long a message may wait `pending` (or `queued` without a live lease) before its job
/// counts as lost. Jobs normally reach the dispatcher within seconds; a job that is merely
/// slow is harmless to duplicate (the dispatcher's claim lets one through).
pub const STRANDED_AFTER: Duration = Duration::minutes(5);

/// How long a message the sweeper enqueued again is left alone by later sweeps, so a backlog
/// in the queue is not taken for lost jobs again and again. The hold is the sweeper's own mark:
/// a dispatcher claims a held message at once.
pub const REQUEUE_HOLD: Duration = Duration::minutes(10);

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Messages enqueued again because their job was lost.
    pub requeued: usize,
    /// Messages stored as `undelivered`/`expired` (no final report within 72 hours).
    pub expired: usize,
    /// The replies' share: assembled, forwarded, failed, overdue.
    pub replies: praxis_inbound::Swept,
}

impl Swept {
    /// The sweep as the Lambda's answer and its log line.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "requeued": self.requeued,
            "expired": self.expired,
            "replies_assembled": self.replies.assembled,
            "replies_forwarded": self.replies.forwarded,
            "replies_failed": self.replies.failed,
            "replies_overdue": self.replies.overdue,
        })
    }
}

/// Which steps of a sweep failed; the others still ran.
#[derive(Debug, thiserror::Error)]
#[error("sweep incomplete; failed: {}", .0.join(", "))]
pub struct SweepError(pub Vec<&'static str>);

/// One sweep at `now`. The three steps are independent: one failing (logged) does not keep the
/// others from running, and the error names it so the invocation counts as failed.
pub async fn sweep(svc: &Services, now: DateTime<Utc>) -> Result<Swept, SweepError> {
    let mut failed = Vec::new();
    let requeued = requeue_stranded(svc, now).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot enqueue stranded messages again");
        failed.push("requeue");
        0
    });
    let expired = svc.store.expire_overdue(now).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot store the 72-hour expiry");
        failed.push("expire");
        0
    });
    let replies = praxis_inbound::forward_pending(svc, now)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot forward pending replies");
            failed.push("forward");
            praxis_inbound::Swept::default()
        });
    let swept = Swept {
        requeued,
        expired,
        replies,
    };
    if swept != Swept::default() {
        tracing::info!(swept = %swept.to_json(), "swept");
    }
    // Every sweep reports these, zero included, so the alarms see data while all is well.
    metrics::emit(Count::Requeued, requeued as u64, None);
    metrics::emit(Count::Expired, expired as u64, None);
    metrics::emit(Count::RepliesNotForwarded, replies.overdue as u64, None);
    if failed.is_empty() {
        Ok(swept)
    } else {
        Err(SweepError(failed))
    }
}

/// Enqueues again what was accepted but whose job is gone. A job enqueued twice is harmless:
/// the dispatcher claims the message with a conditional write, and a message someone holds (a
/// live lease) is not stranded.
async fn requeue_stranded(svc: &Services, now: DateTime<Utc>) -> Result<usize, PortError> {
    let ids = svc.store.stranded(now - STRANDED_AFTER, now).await?;
    let until = now + REQUEUE_HOLD;
    let mut held = Vec::new();
    for id in ids {
        // The hold is a conditional write: of two sweeps at once, one enqueues.
        if let Some(Status::Pending | Status::Queued) =
            svc.store.hold_for_requeue(id, now, until).await?
        {
            held.push(id);
        }
    }
    if !held.is_empty() {
        svc.queue.enqueue(&held).await?;
    }
    let n = held.len();
    if n > 0 {
        tracing::warn!(count = n, "stranded messages enqueued again");
    }
    Ok(n)
}
