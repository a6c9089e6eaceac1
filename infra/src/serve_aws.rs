//! `praxis-sms serve --backend aws`: the local stack on the AWS adapters (DynamoDB, SQS, SES,
//! S3 at `AWS_ENDPOINT_URL`, e.g. moto), wired as the Lambda functions are. The dispatcher polls
//! SQS and hands each batch to the dispatch Lambda's handler, then does what Lambda's event
//! source mapping does with the answer.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use praxis_dispatch::LOCAL_RETRY_DELAY;
use praxis_shared::adapters::aws::{ReceivedJob, SqsQueue, sdk_config};
use praxis_shared::services::Services;
use praxis_shared::wiring::{ENV_QUEUE_URL, ENV_SENDER_EMAIL, ENV_TABLE, Wiring};

use crate::aws::env_with_defaults;

/// How long one receive waits for the first job (SQS long polling).
const POLL_WAIT: Duration = Duration::from_secs(2);
/// How far a job this process received stays hidden beyond the longer of the dispatch
/// function's timeout (a job's handling never runs longer) and the claim's lease: a job whose
/// poller died comes back as soon as its message may be taken over. The queue's own 540 s are
/// sized for Lambda's event source mapping (six times the function's timeout); a restarted
/// `serve` need not wait that long.
const RECEIVE_HOLD_MARGIN: Duration = Duration::from_secs(30);

/// Every port on the AWS adapters, named by the same environment as the Lambda functions
/// (what `praxis-sms aws bootstrap` prints under `env`), and the queue for the pollers. Without
/// `PRAXIS_SMS_QUEUE_URL` or `PRAXIS_SMS_BUCKET` the names `aws bootstrap` gives by default are
/// used: the queue named like the table, the bucket `<table>-blobs`.
pub async fn wiring() -> anyhow::Result<(Wiring, Arc<SqsQueue>)> {
    let config = sdk_config().await;
    let table = env_with_defaults(ENV_TABLE).unwrap_or_default();
    let queue_url = match env_with_defaults(ENV_QUEUE_URL) {
        Some(url) => url,
        None => aws_sdk_sqs::Client::new(&config)
            .get_queue_url()
            .queue_name(&table)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))
            .with_context(|| {
                format!(
                    "no queue {table} (set {ENV_QUEUE_URL}, or create it with praxis-sms aws bootstrap)"
                )
            })?
            .queue_url
            .with_context(|| format!("SQS returned no URL for the queue {table}"))?,
    };
    if env_with_defaults(ENV_SENDER_EMAIL).is_none() {
        anyhow::bail!(
            "{ENV_SENDER_EMAIL} is not set (the address given to praxis-sms aws bootstrap)"
        );
    }
    let get = move |name: &str| match name {
        ENV_QUEUE_URL => Some(queue_url.clone()),
        other => env_with_defaults(other),
    };
    let wiring = Wiring::aws(config, get)?
        .with_queue()?
        .with_mailer()?
        .with_blobs()?;
    let queue = wiring
        .sqs_queue()
        .context("the wiring has no SQS queue for the pollers")?;
    Ok((wiring, queue))
}

/// One poller: receives up to 10 jobs, runs them through the dispatch Lambda's handler
/// concurrently, deletes the ones it did not report as failed and lets the failed ones come
/// back after a short pause (Lambda leaves them to the queue's visibility timeout). A job that
/// keeps failing goes to the dead-letter queue after `maxReceiveCount` receives.
pub async fn poller(svc: Services, queue: Arc<SqsQueue>) {
    let hold = svc
        .settings
        .dispatch_lease
        .max(praxis_dispatch::FUNCTION_TIMEOUT)
        + RECEIVE_HOLD_MARGIN;
    loop {
        let jobs = match queue.receive(10, POLL_WAIT, hold).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "cannot receive from SQS; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if jobs.is_empty() {
            continue;
        }
        let mut event = SqsEvent::default();
        event.records = jobs.iter().map(record).collect();
        // As Lambda would with the dispatch function's timeout (template.yaml).
        let deadline = std::time::Instant::now() + praxis_dispatch::FUNCTION_TIMEOUT;
        let answer = praxis_dispatch::handle_sqs(&svc, event, Some(deadline)).await;
        let failed: HashSet<String> = answer
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        let (retry, done): (Vec<&ReceivedJob>, Vec<&ReceivedJob>) =
            jobs.iter().partition(|j| failed.contains(&j.message_id));
        let handled: Vec<String> = done.iter().map(|j| j.receipt_handle.clone()).collect();
        if let Err(e) = queue.delete(&handled).await {
            // The jobs come back after the visibility timeout; the handler skips them then.
            tracing::warn!(error = %e, count = handled.len(), "cannot delete handled jobs");
        }
        for job in retry {
            if let Err(e) = queue
                .retry_after(&job.receipt_handle, LOCAL_RETRY_DELAY)
                .await
            {
                tracing::warn!(error = %e, "cannot reschedule a job; it returns after the visibility timeout");
            }
        }
    }
}

/// A received job as a record of the Lambda SQS event.
fn record(job: &ReceivedJob) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(job.message_id.clone());
    m.receipt_handle = Some(job.receipt_handle.clone());
    m.body = Some(job.body.clone());
    m.attributes.insert(
        "ApproximateReceiveCount".to_owned(),
        job.receive_count.to_string(),
    );
    m.event_source = Some("aws:sqs".to_owned());
    m
}
