//! `praxis-sms aws …`: creating the AWS resources praxis-sms runs on (the table, the dispatch
//! queue and its DLQ, the blob bucket, the SES sender) at `AWS_ENDPOINT_URL` (moto, LocalStack)
//! or in the account of the credentials at hand. Running it again is fine.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use praxis_shared::adapters::aws::{
    SqsQueue, create_bucket, create_invoice_queues, create_queues, create_table, s3_client,
    sdk_config, verify_sender,
};
use praxis_shared::ports::PortError;
use praxis_shared::wiring::{
    ENV_BUCKET, ENV_INVOICE_QUEUE_URL, ENV_QUEUE_URL, ENV_SENDER_EMAIL, ENV_TABLE,
};
use serde_json::json;

/// A variable of the environment, unless it is empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The environment as `--backend aws` reads it: the Lambda functions' variables, with the names
/// `aws bootstrap` gives by default where one is not set (the table `praxis-sms`, the bucket
/// `<table>-blobs`).
pub fn env_with_defaults(name: &str) -> Option<String> {
    let table = || env(ENV_TABLE).unwrap_or_else(|| DEFAULT_NAME.to_owned());
    match name {
        ENV_TABLE => Some(table()),
        ENV_BUCKET => Some(env(ENV_BUCKET).unwrap_or_else(|| format!("{}-blobs", table()))),
        other => env(other),
    }
}

const DEFAULT_NAME: &str = "praxis-sms";

#[derive(Subcommand)]
pub enum AwsCommand {
    /// Creates the table, the dispatch queue with its DLQ and the blob bucket, registers the
    /// SES sender, and prints their names and URLs as JSON. Existing resources are kept.
    Bootstrap(BootstrapArgs),
    /// Moves the jobs of the dispatch queue's dead-letter queue (or, with --invoices, the
    /// invoice queue's) back to their queue, once the cause is fixed, and prints how many. The
    /// sweeper already sends the messages of dead jobs again; this empties the dead-letter
    /// queue (its alarm then clears). Takes the queue from PRAXIS_SMS_QUEUE_URL
    /// (PRAXIS_SMS_INVOICE_QUEUE_URL).
    Redrive(RedriveArgs),
}

#[derive(Args)]
pub struct RedriveArgs {
    /// The invoice queue's dead jobs instead of the dispatch queue's.
    #[arg(long)]
    invoices: bool,
}

#[derive(Args)]
pub struct BootstrapArgs {
    /// The table and the queue get this name, the DLQ `<name>-dlq`.
    #[arg(long, default_value = DEFAULT_NAME)]
    name: String,
    /// The blob bucket; default `<name>-blobs` (bucket names are global in AWS, so pick a
    /// unique one for a real account).
    #[arg(long)]
    bucket: Option<String>,
    /// The address mail is sent from; SES mails it a verification link.
    #[arg(long, env = ENV_SENDER_EMAIL)]
    sender_email: String,
}

pub async fn run(cmd: AwsCommand) -> anyhow::Result<()> {
    match cmd {
        AwsCommand::Bootstrap(args) => {
            let out = bootstrap(&args).await?;
            println!("{out}");
            Ok(())
        }
        AwsCommand::Redrive(args) => {
            let out = redrive(&args).await?;
            println!("{out}");
            Ok(())
        }
    }
}

async fn redrive(args: &RedriveArgs) -> anyhow::Result<serde_json::Value> {
    let variable = if args.invoices {
        ENV_INVOICE_QUEUE_URL
    } else {
        ENV_QUEUE_URL
    };
    let url = env(variable).ok_or_else(|| {
        anyhow!("{variable} is not set: the URL of the queue whose dead jobs go back")
    })?;
    let config = sdk_config().await;
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&config), url);
    let dead = queue
        .dead_letter_queue()
        .await
        .with_context(|| format!("reading the redrive policy of {}", queue.url()))?
        .ok_or_else(|| anyhow!("{} has no dead-letter queue", queue.url()))?;
    let moved = queue
        .redrive_from(&dead)
        .await
        .with_context(|| format!("moving the jobs of {} back", dead.url()))?;
    Ok(json!({
        "queue": queue.url(),
        "dead_letter_queue": dead.url(),
        "moved": moved,
    }))
}

async fn bootstrap(args: &BootstrapArgs) -> anyhow::Result<serde_json::Value> {
    let name = args.name.trim();
    if name.is_empty() {
        anyhow::bail!("--name must not be empty");
    }
    let bucket = args
        .bucket
        .clone()
        .unwrap_or_else(|| format!("{name}-blobs"));
    let config = sdk_config().await;
    let region = config
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| anyhow!("no AWS region: set AWS_REGION"))?;

    let table_created = match create_table(&aws_sdk_dynamodb::Client::new(&config), name).await {
        Ok(()) => true,
        Err(PortError::Conflict(_)) => false,
        Err(e) => return Err(e).with_context(|| format!("creating the table {name}")),
    };
    let (queue_url, dlq_url) = create_queues(&aws_sdk_sqs::Client::new(&config), name)
        .await
        .with_context(|| format!("creating the queues {name} and {name}-dlq"))?;
    let (invoice_queue_url, invoice_dlq_url) =
        create_invoice_queues(&aws_sdk_sqs::Client::new(&config), name)
            .await
            .with_context(|| format!("creating the queues {name}-invoices and its dlq"))?;
    create_bucket(&s3_client(&config), &bucket, &region)
        .await
        .with_context(|| format!("creating the bucket {bucket}"))?;
    verify_sender(&aws_sdk_sesv2::Client::new(&config), &args.sender_email)
        .await
        .with_context(|| format!("registering the SES sender {}", args.sender_email))?;

    Ok(json!({
        "region": region,
        "endpoint": std::env::var("AWS_ENDPOINT_URL").ok().filter(|e| !e.is_empty()),
        "table": name,
        "table_created": table_created,
        "queue_url": queue_url,
        "dlq_url": dlq_url,
        "invoice_queue_url": invoice_queue_url,
        "invoice_dlq_url": invoice_dlq_url,
        "bucket": bucket,
        "sender_email": args.sender_email,
        // What the Lambda functions (and `--backend aws`) are configured with.
        "env": {
            ENV_TABLE: name,
            ENV_QUEUE_URL: queue_url,
            ENV_INVOICE_QUEUE_URL: invoice_queue_url,
            ENV_BUCKET: bucket,
            ENV_SENDER_EMAIL: args.sender_email,
        },
    }))
}
