//! Presigned S3 GET URLs without the S3 client: what the `api` and `portal` functions need of
//! S3 is a link to an invoice PDF, and `aws-sdk-s3` (~1.5 MB of each binary) would be linked for
//! that alone. The URL is signed with SigV4 in the query string, exactly as the S3 client's
//! `presigned` does (a test compares the two signatures): path-style at an emulator's endpoint,
//! virtual-hosted at AWS, `x-id=GetObject`, unsigned payload, at most [`PRESIGN_MAX`].

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

use super::blobs::PRESIGN_MAX;
use crate::ports::{Blobs, PortError, PortResult};

/// Hands out presigned GET URLs of one bucket's objects; reads and writes nothing.
#[derive(Debug, Clone)]
pub struct S3Presigner {
    credentials: Option<SharedCredentialsProvider>,
    region: String,
    /// An emulator's endpoint (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`): path-style there.
    endpoint: Option<String>,
    bucket: String,
}

impl S3Presigner {
    pub fn new(config: &SdkConfig, bucket: String) -> S3Presigner {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
            .ok()
            .filter(|e| !e.is_empty())
            .or_else(|| config.endpoint_url().map(str::to_owned));
        S3Presigner::with_endpoint(config, bucket, endpoint)
    }

    pub fn with_endpoint(
        config: &SdkConfig,
        bucket: String,
        endpoint: Option<String>,
    ) -> S3Presigner {
        S3Presigner {
            credentials: config.credentials_provider(),
            region: config
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string()),
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
            bucket,
        }
    }

    /// The URL of `key`, signed at `now`, valid for `ttl` (at most [`PRESIGN_MAX`]).
    pub async fn presign_at(
        &self,
        key: &str,
        ttl: Duration,
        now: SystemTime,
    ) -> PortResult<String> {
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            PortError::Unavailable(format!("S3 presigning: {what}: {e}"))
        };
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| PortError::Unavailable("S3 presigning: no AWS credentials".into()))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| unavailable("credentials", &e))?;
        let path: String = key
            .split('/')
            .map(|segment| percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/");
        let base = match &self.endpoint {
            Some(endpoint) => format!("{endpoint}/{}/{path}", self.bucket),
            None => format!(
                "https://{}.s3.{}.amazonaws.com/{path}",
                self.bucket, self.region
            ),
        };
        let unsigned = format!("{base}?x-id=GetObject");
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(ttl.min(PRESIGN_MAX));
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| unavailable("parameters", &e))?
            .into();
        let host = host_of(&unsigned);
        let request = SignableRequest::new(
            "GET",
            &unsigned,
            std::iter::once(("host", host.as_str())),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| unavailable("request", &e))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| unavailable("signing", &e))?
            .into_parts();
        let mut url = unsigned;
        for (name, value) in instructions.params() {
            url.push('&');
            url.push_str(name);
            url.push('=');
            url.push_str(&percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string());
        }
        Ok(url)
    }
}

/// What S3 keys may keep unescaped in a path segment (RFC 3986's unreserved characters).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const QUERY_VALUE: &percent_encoding::AsciiSet = PATH_SEGMENT;

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or_default().to_owned()
}

#[async_trait]
impl Blobs for S3Presigner {
    async fn put(&self, key: &str, _: &str, _: Vec<u8>) -> PortResult<()> {
        Err(PortError::Unavailable(format!(
            "this function only hands out links to stored files; it cannot store {key:?}"
        )))
    }

    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        Err(PortError::Unavailable(format!(
            "this function only hands out links to stored files; it cannot read {key:?}"
        )))
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> PortResult<String> {
        self.presign_at(key, ttl, SystemTime::now()).await
    }
}
