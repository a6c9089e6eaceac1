//! Building the services a Lambda function runs with, once per cold start, from its
//! environment. Production Lambdas use the AWS adapters; a binary built without them says so
//! at init instead of running on a backend that cannot work in Lambda.

use crate::services::Services;

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("this binary was built without the AWS backend (cargo feature `aws`)")]
    NoAwsBackend,
    #[error("configuration: {0}")]
    Config(String),
}

/// The table of the store (DynamoDB).
pub const ENV_TABLE: &str = "PRAXIS_SMS_TABLE";
/// The URL of the dispatch queue (SQS).
pub const ENV_QUEUE_URL: &str = "PRAXIS_SMS_QUEUE_URL";
/// The SES-verified address mail is sent from.
pub const ENV_SENDER_EMAIL: &str = "PRAXIS_SMS_SENDER_EMAIL";
/// The blob bucket (S3).
pub const ENV_BUCKET: &str = "PRAXIS_SMS_BUCKET";
/// The carrier messages are submitted to: `seven` or `vonage`.
pub const ENV_CARRIER: &str = "PRAXIS_SMS_CARRIER";

/// The services of a Lambda function, from its environment variables.
#[cfg(not(feature = "aws"))]
pub async fn lambda_services() -> Result<Services, BootstrapError> {
    Err(BootstrapError::NoAwsBackend)
}

/// The services of a Lambda function, from its environment variables: one `aws_config` load,
/// every client built from it, and no network call (clients and credentials are lazy).
#[cfg(feature = "aws")]
pub async fn lambda_services() -> Result<Services, BootstrapError> {
    services_from(|name| std::env::var(name).ok()).await
}

/// Like [`lambda_services`], with `get` standing in for the environment (carrier secrets are
/// still read by the carriers' own `from_lookup` through `get`).
#[cfg(feature = "aws")]
pub async fn services_from(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Services, BootstrapError> {
    use crate::adapters::aws::{self, AwsNames, AwsPorts};
    use crate::ports::SystemClock;
    use crate::services::Settings;

    let required = |name: &'static str| {
        get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| BootstrapError::Config(format!("{name} is not set")))
    };
    let names = AwsNames {
        table: required(ENV_TABLE)?,
        queue_url: required(ENV_QUEUE_URL)?,
        sender_email: required(ENV_SENDER_EMAIL)?,
        bucket: required(ENV_BUCKET)?,
    };
    let carrier_name = required(ENV_CARRIER)?;
    let (carrier, webhooks) = carriers(&carrier_name, &get)?;

    let config = aws::sdk_config().await;
    let ports = AwsPorts::new(&config, names);
    Ok(Services {
        store: ports.store,
        queue: ports.queue,
        carrier,
        webhooks,
        mailer: ports.mailer,
        blobs: ports.blobs,
        clock: std::sync::Arc::new(SystemClock),
        settings: Settings::default(),
    })
}

/// The carrier named by `PRAXIS_SMS_CARRIER` and the webhooks of every carrier whose
/// credentials are set: the chosen one's must be; the other's are added when present, so
/// delivery reports of messages sent before a switch of carrier are still accepted.
///
/// TODO(ssm): the carrier secrets come from the environment for now. The SAM template will
/// resolve them from SSM Parameter Store (SecureString) and this will read them at init
/// instead: seven `SEVEN_API_KEY`, `SEVEN_SIGNING_KEY` (optional `SEVEN_API_URL`); vonage
/// `VONAGE_API_KEY`, `VONAGE_API_SECRET`, `VONAGE_SIGNATURE_SECRET` (optional
/// `VONAGE_SIGNATURE_METHOD`, `VONAGE_API_URL`).
#[cfg(feature = "aws")]
#[allow(clippy::type_complexity)]
fn carriers(
    name: &str,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<
    (
        std::sync::Arc<dyn crate::ports::Carrier>,
        Vec<std::sync::Arc<dyn crate::carriers::CarrierWebhooks>>,
    ),
    BootstrapError,
> {
    use std::sync::Arc;

    use crate::carriers::CarrierWebhooks;
    use crate::carriers::seven::{SevenCarrier, SevenConfig, SevenWebhooks};
    use crate::carriers::vonage::{VonageCarrier, VonageConfig, VonageWebhooks};
    use crate::ports::Carrier;

    let config = |e: &dyn std::fmt::Display| BootstrapError::Config(e.to_string());
    let seven = SevenConfig::from_lookup(get);
    let vonage = VonageConfig::from_lookup(get);
    let carrier: Arc<dyn Carrier> = match name {
        "seven" => {
            let c = seven.as_ref().map_err(|e| config(e))?;
            Arc::new(SevenCarrier::new(c).map_err(|e| config(&e))?)
        }
        "vonage" => {
            let c = vonage.as_ref().map_err(|e| config(e))?;
            Arc::new(VonageCarrier::new(c).map_err(|e| config(&e))?)
        }
        other => {
            return Err(BootstrapError::Config(format!(
                "{ENV_CARRIER} must be seven or vonage, got {other:?}"
            )));
        }
    };
    let mut webhooks: Vec<Arc<dyn CarrierWebhooks>> = Vec::new();
    if let Ok(c) = &seven {
        webhooks.push(Arc::new(SevenWebhooks::new(c)));
    }
    if let Ok(c) = &vonage {
        webhooks.push(Arc::new(VonageWebhooks::new(c)));
    }
    Ok((carrier, webhooks))
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        (ENV_TABLE, "t"),
        (ENV_QUEUE_URL, "http://127.0.0.1:1/q"),
        (ENV_SENDER_EMAIL, "noreply@example.com"),
        (ENV_BUCKET, "b"),
        (ENV_CARRIER, "seven"),
        ("SEVEN_API_KEY", "k"),
        ("SEVEN_SIGNING_KEY", "s"),
    ];

    #[tokio::test]
    async fn builds_from_env_with_the_configured_carriers() {
        let svc = services_from(env(BASE)).await.expect("services");
        assert_eq!(svc.carrier.name(), "seven");
        assert!(svc.webhooks_for("seven").is_some());
        assert!(svc.webhooks_for("vonage").is_none());
    }

    #[tokio::test]
    async fn missing_variables_are_named() {
        for skip in [
            ENV_TABLE,
            ENV_QUEUE_URL,
            ENV_SENDER_EMAIL,
            ENV_BUCKET,
            ENV_CARRIER,
        ] {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != skip).collect();
            match services_from(env(&pairs)).await {
                Err(BootstrapError::Config(m)) => assert!(m.contains(skip), "{m}"),
                Err(e) => panic!("{skip}: {e}"),
                Ok(_) => panic!("{skip}: built without it"),
            }
        }
        let mut pairs: Vec<_> = BASE.to_vec();
        pairs.retain(|(k, _)| *k != "SEVEN_SIGNING_KEY");
        match services_from(env(&pairs)).await {
            Err(BootstrapError::Config(m)) => assert!(m.contains("SEVEN_SIGNING_KEY"), "{m}"),
            _ => panic!("seven without its signing key"),
        }
        let mut pairs: Vec<_> = BASE.to_vec();
        pairs.push((ENV_CARRIER, "sim"));
        pairs.retain(|(k, v)| *k != ENV_CARRIER || *v == "sim");
        assert!(matches!(
            services_from(env(&pairs)).await,
            Err(BootstrapError::Config(_))
        ));
    }
}
