//! Forwarding replies to their practice by e-mail, exactly once but for one window. The right to
//! forward is taken with a conditional write (a lease), the mailer gets the e-mail with the
//! reply's id as its idempotency key, and then the reply is recorded as forwarded with another
//! conditional write: a resent webhook or a sweep racing the first attempt finds the lease
//! taken or the reply forwarded and sends nothing. A mailer that fails leaves the reply
//! unforwarded (the lease given back) for [`forward_pending`] to retry. Only a crash (or a
//! mailer call that failed after the mailer took the e-mail) between the mailer taking it and
//! our record of it can send it twice; the local outbox absorbs even that, SES does not.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use praxis_shared::domain::ReplyId;
use praxis_shared::domain::reply::Reply;
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;

use crate::mail::ReplyMail;
use crate::optout;
use crate::receive::assemble_stale;

/// How long a forwarding attempt holds its reply: beyond anything one attempt may take (the
/// mailer gets 5 s, the Lambda 10 s in all), short enough that the reply of an attempt that
/// died is retried soon after.
pub const FORWARD_LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// How long the parts of a long SMS are waited for before it is forwarded with what arrived.
pub const PARTS_WAIT: chrono::Duration = chrono::Duration::minutes(3);
/// A reply not forwarded after this long is logged as an error (a count, no personal data).
pub const OVERDUE: chrono::Duration = chrono::Duration::hours(1);
/// The mailer's share of the webhook's time: past it the attempt is given up and left to the
/// sweep, so the carrier still gets its answer in time.
const MAIL_TIMEOUT: Duration = Duration::from_secs(5);

/// How one attempt to forward a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// The mailer took the e-mail and it is recorded.
    Sent,
    /// Forwarded before, or another attempt holds it right now.
    NotOurs,
    /// The mailer (or the store) failed; the reply waits for the next sweep.
    Failed,
}

/// Forwards one stored reply, if nobody else does or did. Failures are logged (without
/// personal data) and leave the reply to the sweep.
pub async fn forward(svc: &Services, reply: &Reply) -> Forwarded {
    match try_forward(svc, reply).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(reply_id = %reply.id, practice = %reply.org_id, error = %e, "reply not forwarded yet");
            Forwarded::Failed
        }
    }
}

async fn try_forward(svc: &Services, reply: &Reply) -> Result<Forwarded, PortError> {
    let now = svc.clock.now();
    if !svc
        .store
        .claim_forwarding(reply, now, now + FORWARD_LEASE)
        .await?
    {
        return Ok(Forwarded::NotOurs);
    }
    let sent = async {
        let email = compose(svc, reply).await?;
        match tokio::time::timeout(MAIL_TIMEOUT, svc.mailer.send(&reply.id.to_string(), &email))
            .await
        {
            Ok(sent) => sent,
            Err(_) => Err(PortError::Unavailable(format!(
                "the mailer did not answer within {MAIL_TIMEOUT:?}"
            ))),
        }
    }
    .await;
    if let Err(e) = sent {
        // Given back, so the next sweep need not wait for the lease to run out.
        if let Err(release) = svc.store.release_forwarding(reply).await {
            tracing::warn!(reply_id = %reply.id, error = %release, "forwarding lease not given back");
        }
        return Err(e);
    }
    let at = svc.clock.now();
    svc.store.mark_forwarded(reply, at).await?;
    tracing::info!(reply_id = %reply.id, practice = %reply.org_id, "reply forwarded by e-mail");
    Ok(Forwarded::Sent)
}

/// The e-mail for `reply`, with the practice and the message it answers from the store.
async fn compose(svc: &Services, reply: &Reply) -> Result<praxis_shared::ports::Email, PortError> {
    let org = svc.store.get_org(reply.org_id).await?.ok_or_else(|| {
        PortError::Corrupt(format!(
            "practice {} of reply {} is gone",
            reply.org_id, reply.id
        ))
    })?;
    let answers = match reply.in_reply_to {
        Some(id) => svc.store.get_message(id).await?,
        None => None,
    };
    let mail = ReplyMail {
        org: &org,
        reply,
        answers: answers.as_ref(),
        keyword: optout::Keyword::of(&reply.text),
    };
    Ok(mail.email())
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Long SMS assembled with the parts that arrived.
    pub assembled: usize,
    pub forwarded: usize,
    /// Replies the mailer (or the store) did not take this time.
    pub failed: usize,
    /// Replies still not forwarded more than an hour after they came.
    pub overdue: usize,
}

/// Forwards every reply not forwarded yet, after assembling the long SMS whose missing parts
/// are given up on. Safe to run at any time and in parallel with the webhook and other sweeps
/// (every reply is claimed first). `serve` runs it on its housekeeping timer; in a deployed
/// stack the scheduled sweeper function is to call it (not built yet).
pub async fn forward_pending(svc: &Services, now: DateTime<Utc>) -> Result<Swept, PortError> {
    let assembled = assemble_stale(svc, now - PARTS_WAIT).await?;
    let mut swept = Swept {
        assembled: assembled.len(),
        ..Swept::default()
    };
    // The replies just assembled first: the store's list of unforwarded replies may not show
    // them yet (on DynamoDB it is an index, which lags).
    let just_made: HashSet<ReplyId> = assembled.iter().map(|r| r.id).collect();
    let unforwarded = svc.store.unforwarded_replies().await?;
    let pending = assembled.into_iter().chain(
        unforwarded
            .into_iter()
            .filter(|r| !just_made.contains(&r.id)),
    );
    for reply in pending {
        match forward(svc, &reply).await {
            Forwarded::Sent => swept.forwarded += 1,
            Forwarded::NotOurs => {}
            Forwarded::Failed => {
                swept.failed += 1;
                if reply.received_at <= now - OVERDUE {
                    swept.overdue += 1;
                }
            }
        }
    }
    if swept.overdue > 0 {
        tracing::error!(
            count = swept.overdue,
            "replies not forwarded to their practice for over an hour"
        );
    }
    Ok(swept)
}
