//! `praxis-sms aws …`: creating the AWS resources praxis-sms runs on (the table, the dispatch
//! queue and its DLQ, the blob bucket, the SES sender) at `AWS_ENDPOINT_URL` (moto, LocalStack)
//! or in the account of the credentials at hand. Running it again is fine.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use praxis_shared::adapters::aws::{
    create_bucket, create_invoice_queues, create_queues, create_table, s3_client, sdk_config,
    verify_sender,
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
    }
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
