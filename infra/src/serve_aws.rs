//! `praxis-sms serve --backend aws`: the local stack on the AWS adapters (DynamoDB, SQS, SES,
//! S3 at `AWS_ENDPOINT_URL`, e.g. moto), with the sim carrier reporting to this stack's own
//! webhook. The dispatcher polls SQS and hands each batch to the dispatch Lambda's handler, then
//! does what Lambda's event source mapping does with the answer.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use praxis_dispatch::LOCAL_RETRY_DELAY;
use praxis_shared::adapters::aws::{AwsNames, AwsPorts, ReceivedJob, SqsQueue, sdk_config};
use praxis_shared::bootstrap::{ENV_BUCKET, ENV_QUEUE_URL, ENV_SENDER_EMAIL};
use praxis_shared::carriers::sim::{SimCarrier, SimWebhooks};
use praxis_shared::ports::SystemClock;
use praxis_shared::services::{Services, Settings};

/// How long one receive waits for the first job (SQS long polling).
const POLL_WAIT: Duration = Duration::from_secs(2);

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The services on the AWS adapters, named by the same environment as the Lambda functions
/// (what `praxis-sms aws bootstrap` prints under `env`). Without `PRAXIS_SMS_QUEUE_URL` or
/// `PRAXIS_SMS_BUCKET` the names `aws bootstrap` gives by default are used: the queue named
/// like the table, the bucket `<table>-blobs`.
pub async fn services(
    sim: Arc<SimCarrier>,
    sim_token: &str,
) -> anyhow::Result<(Services, Arc<SqsQueue>)> {
    let config = sdk_config().await;
    let table = crate::aws::table_name();
    let queue_url = match env(ENV_QUEUE_URL) {
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
    let sender_email = env(ENV_SENDER_EMAIL).with_context(|| {
        format!("{ENV_SENDER_EMAIL} is not set (the address given to praxis-sms aws bootstrap)")
    })?;
    let bucket = env(ENV_BUCKET).unwrap_or_else(|| format!("{table}-blobs"));
    let ports = AwsPorts::new(
        &config,
        AwsNames {
            table,
            queue_url,
            sender_email,
            bucket,
        },
    );
    let svc = Services {
        store: ports.store,
        queue: ports.queue.clone(),
        carrier: sim,
        webhooks: vec![Arc::new(SimWebhooks::new(sim_token.to_owned()))],
        mailer: ports.mailer,
        blobs: ports.blobs,
        clock: Arc::new(SystemClock),
        settings: Settings::default(),
    };
    Ok((svc, ports.queue))
}

/// One poller: receives up to 10 jobs, runs them through the dispatch Lambda's handler
/// concurrently, deletes the ones it did not report as failed and lets the failed ones come
/// back after a short pause (Lambda leaves them to the queue's visibility timeout). A job that
/// keeps failing goes to the dead-letter queue after `maxReceiveCount` receives.
pub async fn poller(svc: Services, queue: Arc<SqsQueue>) {
    loop {
        let jobs = match queue.receive(10, POLL_WAIT).await {
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
        let answer = praxis_dispatch::handle_sqs(&svc, event).await;
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
