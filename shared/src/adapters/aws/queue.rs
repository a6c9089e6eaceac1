//! The dispatch queue on SQS: a standard queue with a dead-letter queue. Each job is one message
//! whose body is `{"id":"<message id>"}` (the format `praxis_dispatch::job_body` produces and its
//! handler parses); sends go in batches of 10, SQS's maximum.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, SendMessageBatchRequestEntry,
};

use crate::domain::{MessageId, Month, OrgId};
use crate::ports::{InvoiceJobs, PortError, PortResult, Queue};

use super::error::sdk_unavailable;

/// SendMessageBatch takes at most 10 entries.
const BATCH_SIZE: usize = 10;
/// Attempts for entries SQS reports as failed (throttling, internal errors) before giving up.
const SEND_ATTEMPTS: u32 = 4;
/// SQS delays a message by at most 15 minutes.
const MAX_DELAY_SECONDS: u64 = 900;

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: String) -> SqsQueue {
        SqsQueue { client, queue_url }
    }

    /// Sends one batch of at most 10 jobs, retrying the entries SQS failed; entries failed by
    /// the sender's fault (a malformed request) are not retried.
    async fn send_batch(&self, ids: &[MessageId], delay_seconds: Option<i32>) -> PortResult<()> {
        let bodies: Vec<String> = ids.iter().map(|id| job_body(*id)).collect();
        self.send_bodies(&bodies, delay_seconds).await
    }

    async fn send_bodies(&self, bodies: &[String], delay_seconds: Option<i32>) -> PortResult<()> {
        // The batch-local entry id is the index, so a failed entry maps back to its job.
        let mut pending: HashMap<String, SendMessageBatchRequestEntry> = HashMap::new();
        for (i, body) in bodies.iter().enumerate() {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .set_delay_seconds(delay_seconds)
                .build()
                .map_err(|e| PortError::Unavailable(format!("SQS batch entry: {e}")))?;
            pending.insert(i.to_string(), entry);
        }
        let mut last_error = String::new();
        for attempt in 0..SEND_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(pending.values().cloned().collect()))
                .send()
                .await
                .map_err(|e| sdk_unavailable("SQS", e))?;
            let mut retry = HashMap::new();
            for failed in out.failed {
                last_error = format!(
                    "SQS {}: {}",
                    failed.code,
                    failed.message.as_deref().unwrap_or("no message")
                );
                if failed.sender_fault {
                    return Err(PortError::Unavailable(last_error));
                }
                if let Some(entry) = pending.remove(&failed.id) {
                    retry.insert(failed.id, entry);
                }
            }
            if retry.is_empty() {
                return Ok(());
            }
            pending = retry;
        }
        Err(PortError::Unavailable(format!(
            "{} of {} jobs not enqueued after {SEND_ATTEMPTS} attempts: {last_error}",
            pending.len(),
            bodies.len()
        )))
    }
}

/// The invoice queue: one job per practice, `{"org_id":"…","month":"2026-11"}` (what
/// `praxis_invoice::InvoiceJob` parses).
#[async_trait]
impl InvoiceJobs for SqsQueue {
    async fn enqueue_invoices(&self, month: Month, orgs: &[OrgId]) -> PortResult<()> {
        let bodies: Vec<String> = orgs
            .iter()
            .map(|org| serde_json::json!({"org_id": org, "month": month}).to_string())
            .collect();
        for chunk in bodies.chunks(BATCH_SIZE) {
            self.send_bodies(chunk, None).await?;
        }
        Ok(())
    }
}

/// One job as SQS hands it out: what a record of the Lambda SQS event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedJob {
    pub message_id: String,
    /// Needed to delete the job or to change when it comes back.
    pub receipt_handle: String,
    pub body: String,
    /// How often SQS has handed it out, this time included (the dead-letter queue takes it
    /// after `MAX_RECEIVE_COUNT`, see [`create_queues`](super::create_queues)).
    pub receive_count: u32,
}

/// The consumer side, for a process that polls the queue itself (`praxis-sms serve --backend
/// aws`); in AWS, Lambda's event source mapping does this and deletes what the handler did not
/// report as failed.
impl SqsQueue {
    /// Long-polls for up to `max` (≤ 10) jobs, waiting at most `wait` (≤ 20 s) for the first;
    /// the jobs stay hidden from other consumers for `hold` (the queue's own visibility timeout
    /// is sized for Lambda's event source mapping, six times the function's timeout).
    pub async fn receive(
        &self,
        max: i32,
        wait: Duration,
        hold: Duration,
    ) -> PortResult<Vec<ReceivedJob>> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, BATCH_SIZE as i32))
            .wait_time_seconds(i32::try_from(wait.as_secs().min(20)).unwrap_or(20))
            .visibility_timeout(i32::try_from(hold.as_secs()).unwrap_or(i32::MAX))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sdk_unavailable("SQS", e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(ReceivedJob {
                    message_id: m.message_id?,
                    receipt_handle: m.receipt_handle?,
                    body: m.body.unwrap_or_default(),
                    receive_count,
                })
            })
            .collect())
    }

    /// Deletes handled jobs, 10 per request. A receipt that no longer works (the job came back
    /// to someone else meanwhile) is not an error: the other delivery is a duplicate the
    /// handler skips.
    pub async fn delete(&self, receipt_handles: &[String]) -> PortResult<()> {
        for chunk in receipt_handles.chunks(BATCH_SIZE) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, receipt)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .build()
                        .map_err(|e| PortError::Unavailable(format!("SQS delete entry: {e}")))
                })
                .collect::<PortResult<Vec<_>>>()?;
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_unavailable("SQS", e))?;
            for failed in out.failed {
                tracing::warn!(code = %failed.code, "SQS did not delete a handled job; it will come back as a duplicate");
            }
        }
        Ok(())
    }

    /// Makes a job that must be retried visible again after `delay` instead of after the
    /// queue's visibility timeout.
    pub async fn retry_after(&self, receipt_handle: &str, delay: Duration) -> PortResult<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay_seconds(delay))
            .send()
            .await
            .map_err(|e| sdk_unavailable("SQS", e))?;
        Ok(())
    }
}

/// Moving dead-lettered jobs back (`praxis-sms aws redrive`).
impl SqsQueue {
    /// This queue's dead-letter queue, from its redrive policy; `None` if it has none.
    pub async fn dead_letter_queue(&self) -> PortResult<Option<SqsQueue>> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| sdk_unavailable("SQS", e))?;
        let Some(policy) = out
            .attributes
            .as_ref()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
        else {
            return Ok(None);
        };
        let policy: serde_json::Value = serde_json::from_str(policy)
            .map_err(|e| PortError::Corrupt(format!("the queue's redrive policy: {e}")))?;
        // arn:aws:sqs:<region>:<account>:<name>
        let arn = policy["deadLetterTargetArn"].as_str().unwrap_or_default();
        let mut parts = arn.rsplitn(2, ':');
        let (Some(name), Some(rest)) = (parts.next(), parts.next()) else {
            return Err(PortError::Corrupt(format!(
                "the queue's dead-letter target is not an ARN: {arn:?}"
            )));
        };
        let account = rest.rsplit(':').next().unwrap_or_default();
        let url = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| sdk_unavailable("SQS", e))?
            .queue_url
            .ok_or_else(|| PortError::Corrupt(format!("no URL for the queue {name}")))?;
        Ok(Some(SqsQueue::new(self.client.clone(), url)))
    }

    /// Moves every job of `dead` back to this queue, as they are: each batch is sent here,
    /// then deleted there, so a move cut short in between leaves a job in both at worst (a
    /// duplicate job is harmless: the dispatcher's claim lets one delivery through). Stops when
    /// `dead` has nothing left to hand out. Returns how many jobs were moved.
    pub async fn redrive_from(&self, dead: &SqsQueue) -> PortResult<usize> {
        // Longer than a batch's move takes, so a job is never handed out twice meanwhile.
        const HOLD: Duration = Duration::from_secs(60);
        let mut moved = 0;
        loop {
            let jobs = dead
                .receive(BATCH_SIZE as i32, Duration::from_secs(2), HOLD)
                .await?;
            if jobs.is_empty() {
                return Ok(moved);
            }
            let bodies: Vec<String> = jobs.iter().map(|j| j.body.clone()).collect();
            self.send_bodies(&bodies, None).await?;
            let receipts: Vec<String> = jobs.iter().map(|j| j.receipt_handle.clone()).collect();
            dead.delete(&receipts).await?;
            moved += jobs.len();
        }
    }

    pub fn url(&self) -> &str {
        &self.queue_url
    }
}

/// The body of one dispatch job (kept identical to `praxis_dispatch::job_body`).
fn job_body(id: MessageId) -> String {
    serde_json::json!({ "id": id.to_string() }).to_string()
}

/// `delay` in whole seconds, rounded up and capped at SQS's 15 minutes.
fn delay_seconds(delay: Duration) -> i32 {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    // At most 900, so the conversion cannot fail.
    i32::try_from(secs.min(MAX_DELAY_SECONDS)).unwrap_or(900)
}

#[async_trait]
impl Queue for SqsQueue {
    async fn enqueue(&self, ids: &[MessageId]) -> PortResult<()> {
        for chunk in ids.chunks(BATCH_SIZE) {
            self.send_batch(chunk, None).await?;
        }
        Ok(())
    }

    async fn enqueue_later(&self, id: MessageId, delay: Duration) -> PortResult<()> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(job_body(id))
            .delay_seconds(delay_seconds(delay))
            .send()
            .await
            .map_err(|e| sdk_unavailable("SQS", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_and_cap_at_15_minutes() {
        assert_eq!(delay_seconds(Duration::ZERO), 0);
        assert_eq!(delay_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(delay_seconds(Duration::from_secs(30)), 30);
        assert_eq!(delay_seconds(Duration::from_secs(3600)), 900);
    }

    #[test]
    fn job_body_is_the_dispatch_format() {
        let id = MessageId::new(chrono::Utc::now());
        let v: serde_json::Value = serde_json::from_str(&job_body(id)).expect("json");
        assert_eq!(v, serde_json::json!({ "id": id.to_string() }));
    }
}
