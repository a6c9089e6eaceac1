//! Creating the AWS resources praxis-sms runs on: the table with exactly the keys and indexes
//! the store spells (`store::keys`), the dispatch queue and its dead-letter queue, the blob
//! bucket and the SES sender. Only `praxis-sms aws bootstrap` and the tests create them; a
//! deployed stack gets the same from template.yaml (tests/template_matches_code.py compares).

use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::ports::{PortError, PortResult};

use super::error::{SdkFailure, request, sdk_unavailable};
use super::store::keys::{EXPIRES_AT, GSI1, GSI2, GSI3, Index, PK, SK};

/// Deliveries of one job before SQS moves it to the dead-letter queue.
const MAX_RECEIVE_COUNT: u32 = 5;
/// Six times the dispatch function's timeout (90 s), as AWS recommends for an SQS event source,
/// and above the dispatch lease (120 s), so a job is not delivered again while a worker holds it.
const VISIBILITY_TIMEOUT_SECONDS: u32 = 540;
/// The invoice queue's: six times the invoice function's timeout (60 s), as template.yaml has.
const INVOICE_VISIBILITY_TIMEOUT_SECONDS: u32 = 360;
/// The dead-letter queue keeps its messages for the SQS maximum, 14 days, for inspection.
const DLQ_RETENTION_SECONDS: u32 = 14 * 24 * 60 * 60;

fn attribute(name: &str) -> PortResult<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(request)
}

fn key(name: &str, kind: KeyType) -> PortResult<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(request)
}

fn index(index: &Index, projection: ProjectionType) -> PortResult<GlobalSecondaryIndex> {
    GlobalSecondaryIndex::builder()
        .index_name(index.name)
        .key_schema(key(index.pk, KeyType::Hash)?)
        .key_schema(key(index.sk, KeyType::Range)?)
        .projection(Projection::builder().projection_type(projection).build())
        .build()
        .map_err(request)
}

/// Creates the table praxis-sms runs on (keys, the three indexes, on-demand billing), waits
/// until it is active, and turns on TTL. `Conflict` if a table of that name exists.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) -> PortResult<()> {
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        // Listing and the sweeps read whole messages from GSI1; GSI2 and GSI3 only need the
        // id (in PK) and, for GSI3, `sent_at` (its sort key), so they stay small.
        .global_secondary_indexes(index(&GSI1, ProjectionType::All)?)
        .global_secondary_indexes(index(&GSI2, ProjectionType::KeysOnly)?)
        .global_secondary_indexes(index(&GSI3, ProjectionType::KeysOnly)?);
    for name in [PK, SK, GSI1.pk, GSI1.sk, GSI2.pk, GSI2.sk, GSI3.pk, GSI3.sk] {
        create = create.attribute_definitions(attribute(name)?);
    }
    create.send().await.map_err(|e| {
        let e = SdkFailure::new("DynamoDB", e);
        if e.code.as_deref() == Some("ResourceInUseException") {
            PortError::Conflict(format!("table {table} exists"))
        } else {
            e.into()
        }
    })?;
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(Duration::from_secs(300))
        .await
        .map_err(|e| PortError::Unavailable(format!("table {table} did not become active: {e}")))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .map_err(request)?,
        )
        .send()
        .await
        .map_err(|e| sdk_unavailable("DynamoDB", e))?;
    Ok(())
}

/// Creates the dispatch queue `name` and its dead-letter queue `<name>-dlq` (idempotent, as
/// CreateQueue is for equal attributes) and returns their URLs: `(queue_url, dlq_url)`.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
) -> PortResult<(String, String)> {
    create_queue_pair(client, name, VISIBILITY_TIMEOUT_SECONDS).await
}

/// The invoice queue `<name>-invoices` and its dead-letter queue `<name>-invoices-dlq`, shaped
/// as the dispatch pair (template.yaml's `InvoiceQueue`).
pub async fn create_invoice_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
) -> PortResult<(String, String)> {
    create_queue_pair(
        client,
        &format!("{name}-invoices"),
        INVOICE_VISIBILITY_TIMEOUT_SECONDS,
    )
    .await
}

async fn create_queue_pair(
    client: &aws_sdk_sqs::Client,
    name: &str,
    visibility_timeout: u32,
) -> PortResult<(String, String)> {
    let dlq_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS.to_string(),
        )
        .send()
        .await
        .map_err(|e| sdk_unavailable("SQS", e))?
        .queue_url
        .ok_or_else(|| PortError::Unavailable("SQS CreateQueue returned no URL".into()))?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_unavailable("SQS", e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| PortError::Unavailable("SQS returned no ARN for the DLQ".into()))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT.to_string(),
    });
    let queue_url = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout.to_string(),
        )
        .send()
        .await
        .map_err(|e| sdk_unavailable("SQS", e))?
        .queue_url
        .ok_or_else(|| PortError::Unavailable("SQS CreateQueue returned no URL".into()))?;
    Ok((queue_url, dlq_url))
}

/// Creates the private blob bucket in `region` (an existing bucket of ours is fine), blocks
/// every kind of public access and sets SSE-S3 as its default encryption.
pub async fn create_bucket(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    region: &str,
) -> PortResult<()> {
    let mut create = client.create_bucket().bucket(bucket);
    // us-east-1 is the one region that rejects an explicit location constraint.
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error().and_then(|s| s.code()) == Some("BucketAlreadyOwnedByYou") => {}
        Err(e) => return Err(sdk_unavailable("S3", e)),
    }
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_unavailable("S3", e))?;
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| PortError::Unavailable(format!("S3 encryption config: {e}")))?;
    let encryption = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .build(),
        )
        .build()
        .map_err(|e| PortError::Unavailable(format!("S3 encryption config: {e}")))?;
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(encryption)
        .send()
        .await
        .map_err(|e| sdk_unavailable("S3", e))?;
    // Invoices are kept for years: an overwrite or a delete leaves the earlier version.
    client
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_unavailable("S3", e))?;
    Ok(())
}

/// Registers `from` as an SES email identity (SES then mails it a verification link); an
/// identity that already exists is fine, so the bootstrap can run again.
pub async fn verify_sender(client: &aws_sdk_sesv2::Client, from: &str) -> PortResult<()> {
    match client
        .create_email_identity()
        .email_identity(from)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("AlreadyExistsException") => {
            Ok(())
        }
        Err(e) => Err(sdk_unavailable("SES", e)),
    }
}
