//! Blobs in one private S3 bucket: every object encrypted at rest (SSE-S3), public access
//! blocked, handed out only through presigned GET URLs that live at most 15 minutes.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use crate::ports::{Blobs, PortError, PortResult};

use super::error::sdk_unavailable;

/// The longest a presigned URL lives, whatever the caller asks for.
pub const PRESIGN_MAX: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// `client` should come from `s3_client`, which picks path-style addressing for emulators.
    pub fn new(client: Client, bucket: String) -> S3Blobs {
        S3Blobs { client, bucket }
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> PortResult<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| sdk_unavailable("S3", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                return Ok(None);
            }
            Err(e) => return Err(sdk_unavailable("S3", e)),
        };
        let data = out
            .body
            .collect()
            .await
            .map_err(|e| PortError::Unavailable(format!("S3 read of {key:?} failed: {e}")))?;
        Ok(Some(data.into_bytes().to_vec()))
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> PortResult<String> {
        let config = PresigningConfig::expires_in(ttl.min(PRESIGN_MAX))
            .map_err(|e| PortError::Unavailable(format!("S3 presigning: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| sdk_unavailable("S3", e))?;
        Ok(request.uri().to_owned())
    }
}
