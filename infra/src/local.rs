//! Opening the embedded backend's data directory: the SQLite store and the secrets the local
//! stack signs with, created on first use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use praxis_shared::adapters::embedded::SqliteStore;
use praxis_shared::ports::{Accounts, Store};
use serde::{Deserialize, Serialize};

use crate::{Backend, Common};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalSecrets {
    /// Bearer token of the sim carrier's webhooks.
    pub sim_token: String,
    /// HMAC key of signed blob URLs.
    pub blob_key: String,
}

/// Options that create a file readable and writable by its owner only (mode 0600 on Unix),
/// from the moment it exists: it holds secrets or patients' numbers and texts.
pub fn owner_only() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

pub fn prepare_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        // A new data directory is the owner's alone; an existing one is left as it is.
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok")
        .with_context(|| format!("the data directory {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir.to_path_buf())
}

/// The store of `common.backend`: the SQLite file in the data directory, or the DynamoDB
/// table named by `PRAXIS_SMS_TABLE` (default `praxis-sms`) at `AWS_ENDPOINT_URL` or AWS.
pub async fn open_store(common: &Common) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_stores(common).await?.0)
}

/// The store and the portal's accounts, which live in it.
pub async fn open_stores(common: &Common) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Accounts>)> {
    if common.backend == Backend::Aws {
        return aws_stores().await;
    }
    let dir = prepare_dir(&common.data_dir)?;
    let store = Arc::new(
        SqliteStore::open(&dir.join("praxis.sqlite3"))
            .with_context(|| format!("cannot open the store in {}", dir.display()))?,
    );
    Ok((store.clone(), store))
}

#[cfg(feature = "aws")]
async fn aws_stores() -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Accounts>)> {
    let wiring = praxis_shared::wiring::Wiring::from_lookup(crate::aws::env_with_defaults).await?;
    let svc = wiring.build();
    Ok((svc.store, svc.accounts))
}

#[cfg(not(feature = "aws"))]
async fn aws_stores() -> anyhow::Result<(Arc<dyn Store>, Arc<dyn Accounts>)> {
    anyhow::bail!("this build has no aws backend (cargo feature `aws`); use --backend embedded")
}

fn random_hex(n: usize) -> anyhow::Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no random numbers from the OS: {e}"))?;
    Ok(hex::encode(b))
}

/// The secrets of an existing data directory (one that `serve` has run on).
pub fn read_secrets(dir: &Path) -> anyhow::Result<LocalSecrets> {
    let path = dir.join("secrets.json");
    let raw = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {}; is it the --data-dir of a running serve?",
            path.display()
        )
    })?;
    serde_json::from_slice(&raw).with_context(|| format!("{} is not valid", path.display()))
}

pub fn load_secrets(dir: &Path) -> anyhow::Result<LocalSecrets> {
    let path = dir.join("secrets.json");
    if let Ok(raw) = std::fs::read(&path) {
        return serde_json::from_slice(&raw)
            .with_context(|| format!("{} is not valid; delete it to start over", path.display()));
    }
    let s = LocalSecrets {
        sim_token: random_hex(24)?,
        blob_key: random_hex(32)?,
    };
    // Owner-only from the first byte: made with mode 0600, not changed after writing.
    use std::io::Write;
    owner_only()
        .create_new(true)
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(&serde_json::to_vec_pretty(&s)?))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(s)
}
