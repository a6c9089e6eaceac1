//! The AWS backend (production): the store on DynamoDB, one table with the key design in
//! KEYS.md beside this file; the dispatch queue on SQS, mail through SES v2, blobs in S3.
//! Clients come from one `aws_config` load per process.

mod dynamo;
mod item;
pub mod keys;
pub mod s3;
pub mod ses;
pub mod sqs;

pub use dynamo::DynamoStore;
pub use keys::create_table;
pub use s3::{S3Blobs, create_bucket};
pub use ses::{SesMailer, verify_sender};
pub use sqs::{SqsQueue, create_queues};

/// The shared SDK configuration: region, credentials and endpoint from the environment, so
/// `AWS_ENDPOINT_URL` points every client at an emulator (moto, LocalStack) without code.
/// Load it once per process and build every client from it.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// The S3 client for `config`. With an endpoint override (`AWS_ENDPOINT_URL` or
/// `AWS_ENDPOINT_URL_S3`, i.e. an emulator) it addresses buckets path-style, since emulators
/// do not resolve `<bucket>.<host>`; against AWS it keeps virtual-hosted style.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let overridden = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(overridden)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}
