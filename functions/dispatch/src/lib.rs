//! The dispatcher: takes a queued message id, claims the message with a conditional write (so a
//! duplicate job never reaches the carrier twice), submits it unless its recipient has opted
//! out since it was accepted, and records the outcome.

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use praxis_shared::domain::MessageId;
use praxis_shared::domain::message::{Transition, retention_cutoff};
use praxis_shared::domain::{Reason, Status};
use praxis_shared::ports::{OutboundSms, PortError, SubmitError};
use praxis_shared::services::Services;

/// What became of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The carrier took the message.
    Sent,
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

/// Handles one job. Safe to call any number of times for the same id, concurrently too.
#[tracing::instrument(skip(svc, id), fields(message_id = %id))]
pub async fn dispatch_one(svc: &Services, id: MessageId) -> Result<Outcome, DispatchError> {
    let now = svc.clock.now();
    let lease = chrono::Duration::from_std(svc.settings.dispatch_lease)
        .unwrap_or(chrono::Duration::seconds(60));
    let Some(msg) = svc.store.claim_for_dispatch(id, now, now + lease).await? else {
        tracing::debug!("not claimable (duplicate job or already dispatched)");
        return Ok(Outcome::Skipped);
    };
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
        match svc.carrier.submit(&sms).await {
            Ok(done) => {
                let t = Transition::new(id, Status::Sent, svc.clock.now())
                    .with_carrier(&done.carrier, &done.carrier_ref);
                if !svc.store.apply(&t).await? {
                    // A delivery report overtook us and already recorded the carrier's
                    // acceptance; the carrier reference still needs to be kept.
                    tracing::debug!("sent already recorded by a delivery report");
                }
                tracing::info!(carrier = %done.carrier, attempt, "submitted");
                return Ok(Outcome::Sent);
            }
            Err(SubmitError::Permanent { reason, detail }) => {
                let t =
                    Transition::new(id, Status::Undelivered, svc.clock.now()).with_reason(reason);
                svc.store.apply(&t).await?;
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
/// are reported, so one bad message never repeats or fails the others.
pub async fn handle_sqs(svc: &Services, event: SqsEvent) -> SqsBatchResponse {
    let jobs = event.records.into_iter().map(|record| async move {
        let msg_id = record.message_id.clone().unwrap_or_default();
        let result = match parse_job(record.body.as_deref().unwrap_or_default()) {
            Ok(id) => dispatch_one(svc, id).await,
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

/// How long the local runner waits before retrying a job the carrier kept failing.
pub const LOCAL_RETRY_DELAY: Duration = Duration::from_secs(2);
