//! The AWS backend (production): the store on DynamoDB, one table with the key design in
//! docs/dynamodb-keys.md; the dispatch queue on SQS, mail through SES v2, blobs in S3, carrier
//! secrets from SSM; and `provision`, which creates them. Clients come from one `aws_config`
//! load per process.

mod blobs;
mod error;
mod mailer;
mod presign;
mod provision;
mod queue;
mod ssm;
mod store;

pub use blobs::S3Blobs;
pub use mailer::SesMailer;
pub use presign::S3Presigner;
pub use provision::{
    create_bucket, create_invoice_queues, create_queues, create_table, verify_sender,
};
pub use queue::{ReceivedJob, SqsQueue};
pub use ssm::SsmParameters;
pub use store::DynamoStore;

/// The shared SDK configuration: region, credentials and endpoint from the environment, so
/// `AWS_ENDPOINT_URL` points every client at an emulator (moto, LocalStack) without code.
/// Load it once per process and build every client from it.
///
/// Every client of it, the credential providers' own included, uses [`https_client`]: rustls
/// on ring, with the root certificates loaded on the first request. With the SDK's default
/// client they were loaded when each client was built (`/etc/ssl/certs`: ~150 files read, most
/// of a Lambda function's cold start).
///
/// Where the environment has the region and the keys (Lambda always: `AWS_REGION` and the
/// role's session keys), they are taken from it directly instead of through the default
/// provider chains, which would otherwise build an STS client (web identity) and an IMDS
/// client, each parsing its endpoint partitions, at every cold start, only to find the
/// environment's values first.
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    let set = |names: &[&str]| {
        names
            .iter()
            .any(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()))
    };
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
    if set(&["AWS_REGION", "AWS_DEFAULT_REGION"]) {
        loader = loader.region(EnvironmentVariableRegionProvider::new());
    }
    if set(&["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"])
        && set(&["AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"])
    {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// The HTTPS client of the AWS SDK clients (see [`sdk_config`]): the SDK's default client
/// (aws-smithy-runtime's `default_https_client`, proxies from `HTTPS_PROXY`/`NO_PROXY` and
/// all) with rustls on ring instead of aws-lc, and deferred as [`DeferredTls`] says.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{ConnectorBuilder, proxy::ProxyConfig};
    let inner =
        aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
            let mut conn =
                ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
            conn.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                conn.set_sleep_impl(components.sleep_impl());
            }
            conn.set_proxy_config(Some(ProxyConfig::from_env()));
            conn.build()
        });
    aws_smithy_runtime_api::client::http::SharedHttpClient::new(DeferredTls { inner })
}

/// The smithy HTTPS client, minus its start-up work: it builds its TLS connector, reading the
/// system's root certificates, in `validate_base_client_config`, "at client initialization time
/// instead of upon first request". This wrapper leaves that hook at its default (nothing), so
/// the connector is built by `http_connector` when the first request needs it, and cached by
/// the inner client from then on.
#[derive(Debug)]
struct DeferredTls {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
}

impl aws_smithy_runtime_api::client::http::HttpClient for DeferredTls {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
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
