//! Carrier secrets from SSM Parameter Store (SecureString parameters, decrypted by SSM with the
//! function role's KMS permission). Read on first use through [`crate::carriers::lazy`], never
//! during a Lambda's init.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aws_sdk_ssm::Client;

use crate::carriers::lazy::LoadError;

use super::error::SdkFailure;

/// GetParameters takes at most 10 names.
const MAX_NAMES: usize = 10;

/// The SSM client is built on the first fetch, not with this: a process fetches its secrets
/// once, if ever (the `api` function never does), so building the client (and parsing its
/// endpoint partitions) at every cold start would be init time spent for nothing.
#[derive(Debug, Clone)]
pub struct SsmParameters {
    config: aws_config::SdkConfig,
    client: Arc<OnceLock<Client>>,
}

impl SsmParameters {
    pub fn new(config: &aws_config::SdkConfig) -> SsmParameters {
        SsmParameters {
            config: config.clone(),
            client: Arc::new(OnceLock::new()),
        }
    }

    fn client(&self) -> &Client {
        self.client.get_or_init(|| Client::new(&self.config))
    }

    /// The decrypted values of `names`, by name. A name SSM does not have is
    /// [`LoadError::NotConfigured`]; an SSM failure is [`LoadError::Unavailable`].
    pub async fn get(&self, names: &[String]) -> Result<HashMap<String, String>, LoadError> {
        let mut values = HashMap::with_capacity(names.len());
        for chunk in names.chunks(MAX_NAMES) {
            let out = self
                .client()
                .get_parameters()
                .set_names(Some(chunk.to_vec()))
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| LoadError::Unavailable(SdkFailure::new("SSM", e).detail))?;
            let missing = out.invalid_parameters.unwrap_or_default();
            if !missing.is_empty() {
                return Err(LoadError::NotConfigured(format!(
                    "no SSM parameter {}",
                    missing.join(", ")
                )));
            }
            for p in out.parameters.unwrap_or_default() {
                if let (Some(name), Some(value)) = (p.name, p.value) {
                    values.insert(name, value);
                }
            }
        }
        match names.iter().find(|n| !values.contains_key(*n)) {
            Some(n) => Err(LoadError::NotConfigured(format!(
                "SSM returned no value for {n}"
            ))),
            None => Ok(values),
        }
    }
}
