//! Blobs on the local stack: files under `<data-dir>/blobs/`, handed out through URLs signed
//! with HMAC-SHA256 that the local server checks, like an S3 presigned GET.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ports::{Blobs, PortError, PortResult};

#[derive(Clone)]
pub struct FileBlobs {
    dir: PathBuf,
    base_url: String,
    secret: Vec<u8>,
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

impl FileBlobs {
    pub fn new(dir: PathBuf, base_url: impl Into<String>, secret: Vec<u8>) -> PortResult<Self> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| PortError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        Ok(FileBlobs {
            dir,
            base_url: base_url.into(),
            secret,
        })
    }

    fn path(&self, key: &str) -> PortResult<PathBuf> {
        if !valid_key(key) {
            return Err(PortError::Conflict(format!("invalid blob key {key:?}")));
        }
        Ok(self.dir.join(key))
    }

    fn signature(&self, key: &str, expires: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("{key}\n{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a signed URL's parameters; true if the signature is right and not expired.
    pub fn verify(&self, key: &str, expires: i64, signature: &str) -> bool {
        let Ok(sig) = hex::decode(signature) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("{key}\n{expires}").as_bytes());
        mac.verify_slice(&sig).is_ok() && Utc::now().timestamp() <= expires
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Blobs for FileBlobs {
    async fn put(&self, key: &str, _content_type: &str, bytes: Vec<u8>) -> PortResult<()> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| PortError::Unavailable(format!("blob dir: {e}")))?;
            }
            // Write then rename, so a reader never sees half a file.
            let tmp = path.with_extension("partial");
            std::fs::write(&tmp, bytes)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| PortError::Unavailable(format!("blob write: {e}")))
        })
        .await
        .map_err(|e| PortError::Unavailable(format!("blob task: {e}")))?
    }

    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PortError::Unavailable(format!("blob read: {e}"))),
        }
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> PortResult<String> {
        self.path(key)?;
        let expires = Utc::now().timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(900);
        Ok(format!(
            "{}/blobs/{key}?expires={expires}&signature={}",
            self.base_url.trim_end_matches('/'),
            self.signature(key, expires)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn presigned_url_verifies_and_tampering_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs =
            FileBlobs::new(dir.path().join("b"), "http://x", b"s3cret".to_vec()).expect("blobs");
        blobs
            .put("invoices/a.pdf", "application/pdf", b"%PDF".to_vec())
            .await
            .expect("put");
        assert_eq!(
            blobs.get("invoices/a.pdf").await.expect("get"),
            Some(b"%PDF".to_vec())
        );
        let url = blobs
            .presign_get("invoices/a.pdf", Duration::from_secs(60))
            .await
            .expect("presign");
        let q = url.split_once('?').map(|x| x.1).unwrap_or_default();
        let mut exp = 0;
        let mut sig = "";
        for kv in q.split('&') {
            match kv.split_once('=') {
                Some(("expires", v)) => exp = v.parse().unwrap_or(0),
                Some(("signature", v)) => sig = v,
                _ => {}
            }
        }
        assert!(blobs.verify("invoices/a.pdf", exp, sig));
        assert!(!blobs.verify("invoices/b.pdf", exp, sig));
        assert!(!blobs.verify("invoices/a.pdf", exp + 1, sig));
    }

    #[test]
    fn keys_cannot_escape_the_blob_dir() {
        assert!(!valid_key("../etc/passwd"));
        assert!(!valid_key("a//b"));
        assert!(valid_key("invoices/2026-10/INV-1.pdf"));
    }
}
