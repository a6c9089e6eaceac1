//! The AWS backend (production): the store on DynamoDB, one table with the key design in
//! KEYS.md beside this file. Clients come from one `aws_config` load per process.

mod dynamo;
mod item;
pub mod keys;

pub use dynamo::DynamoStore;
pub use keys::create_table;

/// The shared SDK configuration: region, credentials and endpoint from the environment, so
/// `AWS_ENDPOINT_URL` points every client at an emulator (moto, LocalStack) without code.
/// Load it once per process and build every client from it.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}
