//! The dispatcher: takes a queued message id, claims the message with a conditional write (so a
//! duplicate job never reaches the carrier twice), submits it unless its recipient has opted
//! out since it was accepted, and records the outcome.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use praxis_shared::carriers::client::CALL_TIMEOUT;
use praxis_shared::domain::MessageId;
use praxis_shared::domain::message::{EARLY_REPORT_TTL, Transition, retention_cutoff};
use praxis_shared::domain::{Reason, Status};
use praxis_shared::metrics::{self, Count};
use praxis_shared::ports::{OutboundSms, PortError, SubmitError, Submitted};
use praxis_shared::services::Services;

/// What became of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The carrier took the message.
    Sent,
    /// The carrier took the message but `sent` could not be written (the store kept failing).
    /// The job is done all the same: handing it back would send the SMS again.
    SentUnrecorded,
    /// The carrier refused it for good; it is `undelivered` with a reason.
    Refused,
    /// Its recipient opted out of the practice's SMS after it was accepted: not sent,
    /// `undelivered` with reason `opted_out`.
    OptedOut,
    /// Someone else holds it, or it is past dispatch: a duplicate or late job, nothing to do.
    Skipped,
    /// The carrier kept failing transiently; the job must come back later.
    RetryLater,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("store: {0}")]
    Store(#[from] PortError),
    #[error("job body is not a message id: {0:?}")]
    BadJob(String),
}

/// The dispatch function's timeout (template.yaml's `DispatchFunction`, which
/// tests/template_matches_code.py checks against this): the budget of one SQS batch. It holds
/// the calls a slow carrier needs ([`CALL_TIMEOUT`] each) and stays below the claim's lease
/// (`Settings::dispatch_lease`, 120 s), so no other dispatcher takes a message over while
/// this one may still be calling.
pub const FUNCTION_TIMEOUT_SECONDS: u64 = 90;
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(FUNCTION_TIMEOUT_SECONDS);

/// Kept free after the last carrier call for recording its outcome (`sent` is retried with
/// backoff within it, [`RECORD_TRIES`]).
pub const RECORD_RESERVE: Duration = Duration::from_secs(5);
/// Tries of the `sent` write once the carrier took the message: 100 ms, doubling, about 3 s.
pub const RECORD_TRIES: u32 = 5;

/// Handles one job within its claim's lease. Safe to call any number of times for the same id,
/// concurrently too.
pub async fn dispatch_one(svc: &Services, id: MessageId) -> Result<Outcome, DispatchError> {
    dispatch_before(svc, id, None).await
}

/// Handles one job, starting carrier calls only while a whole call ([`CALL_TIMEOUT`]) and
/// the time to record its outcome fit before `deadline` (the Lambda invocation's) and before
/// the claim's lease runs out; a job the time did not suffice for comes back later.
#[tracing::instrument(skip(svc, id, deadline), fields(message_id = %id))]
pub async fn dispatch_before(
    svc: &Services,
    id: MessageId,
    deadline: Option<Instant>,
) -> Result<Outcome, DispatchError> {
    let now = svc.clock.now();
    let lease = chrono::Duration::from_std(svc.settings.dispatch_lease)
        .unwrap_or(chrono::Duration::seconds(60));
    let claimed_at = Instant::now();
    let Some(msg) = svc.store.claim_for_dispatch(id, now, now + lease).await? else {
        tracing::debug!("not claimable (duplicate job or already dispatched)");
        return Ok(Outcome::Skipped);
    };
    // Nobody else may take the message over before the lease ends: no call may run past it.
    let lease_end = claimed_at + svc.settings.dispatch_lease;
    let deadline = deadline.map_or(lease_end, |d| d.min(lease_end));
    if msg.created_at < retention_cutoff(now) {
        // Personal data past retention must not go out; the purge removes it.
        return Ok(Outcome::Skipped);
    }
    // A point read per message: the API refused the number if it had opted out before, so
    // this catches only a STOP that arrived while the message waited.
    let opted_out = svc
        .store
        .opted_out(msg.org_id, std::slice::from_ref(&msg.to))
        .await?;
    if !opted_out.is_empty() {
        let t =
            Transition::new(id, Status::Undelivered, svc.clock.now()).with_reason(Reason::OptedOut);
        svc.store.apply(&t).await?;
        tracing::info!(practice = %msg.org_id, to = %msg.to.masked(), "recipient opted out; not sent");
        return Ok(Outcome::OptedOut);
    }
    let sms = OutboundSms {
        id: msg.id,
        to: &msg.to,
        sender: &msg.sender,
        text: &msg.text,
        segments: msg.segments,
    };
    let carrier = svc.carrier.name().to_owned();
    let mut pause = svc.settings.retry_backoff;
    for attempt in 1..=svc.settings.submit_attempts.max(1) {
        if Instant::now() + CALL_TIMEOUT + RECORD_RESERVE > deadline {
            tracing::warn!(
                attempt,
                "no time left for another carrier call; the job comes back"
            );
            break;
        }
        match svc.carrier.submit(&sms).await {
            Ok(done) => return record_sent(svc, id, &done, attempt).await,
            Err(SubmitError::Permanent { reason, detail }) => {
                let t =
                    Transition::new(id, Status::Undelivered, svc.clock.now()).with_reason(reason);
                svc.store.apply(&t).await?;
                metrics::emit(Count::Undelivered, 1, Some(&carrier));
                tracing::info!(carrier = %carrier, %reason, detail = %detail, "refused by carrier");
                return Ok(Outcome::Refused);
            }
            Err(SubmitError::Operator(e)) => {
                tracing::error!(carrier = %carrier, attempt, error = %e, "carrier account problem; will retry");
            }
            Err(SubmitError::Transient(e)) => {
                tracing::warn!(carrier = %carrier, attempt, error = %e, "transient carrier failure");
            }
        }
        if attempt < svc.settings.submit_attempts {
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
        }
    }
    // Hand the claim back so the job's next delivery can take it without waiting for the lease.
    svc.store.release_claim(id).await?;
    Ok(Outcome::RetryLater)
}

/// The carrier took the message: `sent` is written, retried with backoff, and whatever
/// happens the job is done. Handing it back would submit the SMS a second time; if the store
/// stays down, the message stays `queued` until its lease ends and the sweeper enqueues it
/// again (a carrier that deduplicates, like seven.io's reload lock, then answers "sent").
async fn record_sent(
    svc: &Services,
    id: MessageId,
    done: &Submitted,
    attempt: u32,
) -> Result<Outcome, DispatchError> {
    let mut t = Transition::new(id, Status::Sent, svc.clock.now());
    if let Some(r) = &done.carrier_ref {
        t = t.with_carrier(&done.carrier, r);
    }
    let mut pause = Duration::from_millis(100);
    for tries in 1..=RECORD_TRIES {
        match svc.store.apply(&t).await {
            Ok(recorded) => {
                if !recorded {
                    // A delivery report overtook us and already recorded the acceptance.
                    tracing::debug!("sent already recorded by a delivery report");
                }
                tracing::info!(carrier = %done.carrier, attempt, "submitted");
                metrics::emit(Count::Sent, 1, Some(&done.carrier));
                if let Some(r) = &done.carrier_ref {
                    apply_early_reports(svc, id, &done.carrier, r).await;
                }
                return Ok(Outcome::Sent);
            }
            // Another message has this carrier reference: retrying cannot help.
            Err(PortError::Conflict(e)) => {
                tracing::error!(carrier = %done.carrier, error = %e, "sent, but its carrier reference is taken");
                return Ok(Outcome::SentUnrecorded);
            }
            Err(e) if tries < RECORD_TRIES => {
                tracing::warn!(tries, error = %e, "cannot record sent yet; retrying");
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            Err(e) => {
                tracing::error!(carrier = %done.carrier, error = %e, "sent, but not recorded; the sweeper takes it up after the lease");
                metrics::emit(Count::Sent, 1, Some(&done.carrier));
            }
        }
    }
    Ok(Outcome::SentUnrecorded)
}

/// Applies the delivery reports that came for `carrier_ref` before it was recorded (the
/// `dlr` function kept them). Best effort: a report not applied now leaves the message `sent`
/// until the 72-hour expiry, and the carrier's next report for it (if any) applies normally.
async fn apply_early_reports(svc: &Services, id: MessageId, carrier: &str, carrier_ref: &str) {
    let since = svc.clock.now() - EARLY_REPORT_TTL;
    let reports = match svc.store.parked_reports(carrier, carrier_ref, since).await {
        Ok(reports) => reports,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read early delivery reports");
            return;
        }
    };
    for report in reports {
        let at = svc.clock.now();
        for t in Transition::for_report(id, report.status, report.reason, at) {
            if let Err(e) = svc.store.apply(&t).await {
                tracing::warn!(error = %e, "cannot apply an early delivery report");
            }
        }
        tracing::info!(status = %report.status, "early delivery report applied");
    }
}

/// The job body on the queue: the message id, as JSON `{"id": "…"}` or as the bare id.
pub fn parse_job(body: &str) -> Result<MessageId, DispatchError> {
    #[derive(serde::Deserialize)]
    struct Job {
        id: MessageId,
    }
    let trimmed = body.trim();
    serde_json::from_str::<Job>(trimmed)
        .map(|j| j.id)
        .or_else(|_| MessageId::parse(trimmed))
        .map_err(|_| DispatchError::BadJob(trimmed.chars().take(64).collect()))
}

pub fn job_body(id: MessageId) -> String {
    serde_json::json!({ "id": id.to_string() }).to_string()
}

/// The SQS handler: each record on its own, concurrently; only the records that must come back
/// are reported, so one bad message never repeats or fails the others. `deadline` is when the
/// invocation is cut off ([`deadline_of`]); no carrier call starts that could outlast it.
pub async fn handle_sqs(
    svc: &Services,
    event: SqsEvent,
    deadline: Option<Instant>,
) -> SqsBatchResponse {
    let jobs = event.records.into_iter().map(|record| async move {
        let msg_id = record.message_id.clone().unwrap_or_default();
        let result = match parse_job(record.body.as_deref().unwrap_or_default()) {
            Ok(id) => dispatch_before(svc, id, deadline).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(Outcome::RetryLater) => Some(msg_id),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(sqs_message_id = %msg_id, error = %e, "job failed");
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

/// The Lambda context's deadline (milliseconds since the epoch) as an instant of this process.
pub fn deadline_of(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let left = u128::from(deadline_ms).saturating_sub(now_ms);
    Instant::now() + Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX / 2))
}

/// How long the local runner waits before retrying a job the carrier kept failing.
pub const LOCAL_RETRY_DELAY: Duration = Duration::from_secs(2);
