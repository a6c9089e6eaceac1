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
    let config = aws::sdk_config().await;
    let ssm = aws::SsmParameters::new(aws_sdk_ssm::Client::new(&config));
    let (carrier, webhooks) = carriers(&carrier_name, &get, ssm)?;
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

/// The settings each carrier reads, and which of them are secrets. A secret comes from the
/// environment when set there (local runs), else from the SSM parameter named by
/// `PRAXIS_SMS_<VARIABLE>_PARAMETER` (Lambda: the template passes the names).
#[cfg(feature = "aws")]
struct CarrierSettings {
    name: &'static str,
    plain: &'static [&'static str],
    secrets: &'static [&'static str],
}

#[cfg(feature = "aws")]
const SEVEN: CarrierSettings = CarrierSettings {
    name: "seven",
    plain: &[crate::carriers::seven::ENV_API_URL],
    secrets: &[
        crate::carriers::seven::ENV_API_KEY,
        crate::carriers::seven::ENV_SIGNING_KEY,
    ],
};

#[cfg(feature = "aws")]
const VONAGE: CarrierSettings = CarrierSettings {
    name: "vonage",
    plain: &[
        crate::carriers::vonage::ENV_API_URL,
        crate::carriers::vonage::ENV_SIGNATURE_METHOD,
    ],
    secrets: &[
        crate::carriers::vonage::ENV_API_KEY,
        crate::carriers::vonage::ENV_API_SECRET,
        crate::carriers::vonage::ENV_SIGNATURE_SECRET,
    ],
};

/// The environment variable naming the SSM parameter that holds secret `variable`.
pub fn parameter_variable(variable: &str) -> String {
    format!("PRAXIS_SMS_{variable}_PARAMETER")
}

/// A carrier's settings as found at init: values at hand, and secrets still to fetch
/// (variable → SSM parameter name). None if some secret is neither set nor named.
#[cfg(feature = "aws")]
#[derive(Debug, Clone)]
struct Found {
    values: std::collections::HashMap<String, String>,
    to_fetch: Vec<(String, String)>,
}

#[cfg(feature = "aws")]
impl CarrierSettings {
    fn find(&self, get: &impl Fn(&str) -> Option<String>) -> Result<Found, String> {
        let set = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut found = Found {
            values: Default::default(),
            to_fetch: Vec::new(),
        };
        for var in self.plain {
            if let Some(v) = set(var) {
                found.values.insert(var.to_string(), v);
            }
        }
        for var in self.secrets {
            if let Some(v) = set(var) {
                found.values.insert(var.to_string(), v);
            } else if let Some(parameter) = set(&parameter_variable(var)) {
                found.to_fetch.push((var.to_string(), parameter));
            } else {
                return Err(format!(
                    "{} needs {var} (or {} naming its SSM parameter)",
                    self.name,
                    parameter_variable(var)
                ));
            }
        }
        Ok(found)
    }
}

#[cfg(feature = "aws")]
impl Found {
    /// The settings with the fetched secrets, as the carriers' `from_lookup` reads them.
    async fn complete(
        self,
        ssm: &crate::adapters::aws::SsmParameters,
    ) -> Result<std::collections::HashMap<String, String>, crate::carriers::lazy::LoadError> {
        let mut values = self.values;
        if self.to_fetch.is_empty() {
            return Ok(values);
        }
        let names: Vec<String> = self.to_fetch.iter().map(|(_, p)| p.clone()).collect();
        let mut fetched = ssm.get(&names).await?;
        for (var, parameter) in self.to_fetch {
            if let Some(v) = fetched.remove(&parameter) {
                values.insert(var, v);
            }
        }
        Ok(values)
    }
}

#[cfg(feature = "aws")]
type CarrierPair = (
    std::sync::Arc<dyn crate::ports::Carrier>,
    Vec<std::sync::Arc<dyn crate::carriers::CarrierWebhooks>>,
);

/// The carrier named by `PRAXIS_SMS_CARRIER` and the webhooks of every carrier with settings:
/// the chosen one's must be there; the other's are added when present, so delivery reports of
/// messages sent before a switch of carrier are still accepted. Secrets named as SSM parameters
/// are fetched on first use (one GetParameters per carrier and process), so init makes no
/// network call and the `api` function never fetches them.
#[cfg(feature = "aws")]
fn carriers(
    name: &str,
    get: &impl Fn(&str) -> Option<String>,
    ssm: crate::adapters::aws::SsmParameters,
) -> Result<CarrierPair, BootstrapError> {
    use std::sync::Arc;

    use crate::carriers::CarrierWebhooks;
    use crate::carriers::lazy::{LazyCarrier, LazyWebhooks, LoadError};
    use crate::carriers::seven::{SevenCarrier, SevenConfig, SevenWebhooks};
    use crate::carriers::vonage::{VonageCarrier, VonageConfig, VonageWebhooks};
    use crate::ports::Carrier;

    let chosen = match name {
        "seven" => &SEVEN,
        "vonage" => &VONAGE,
        other => {
            return Err(BootstrapError::Config(format!(
                "{ENV_CARRIER} must be seven or vonage, got {other:?}"
            )));
        }
    };
    // Builds a carrier (or its webhooks) from complete settings.
    fn build<T>(
        settings: &CarrierSettings,
        values: &std::collections::HashMap<String, String>,
        seven: impl Fn(&SevenConfig) -> Result<T, String>,
        vonage: impl Fn(&VonageConfig) -> Result<T, String>,
    ) -> Result<T, String> {
        let lookup = |k: &str| values.get(k).cloned();
        match settings.name {
            "seven" => seven(&SevenConfig::from_lookup(lookup).map_err(|e| e.to_string())?),
            _ => vonage(&VonageConfig::from_lookup(lookup).map_err(|e| e.to_string())?),
        }
    }
    fn make_carrier(
        settings: &CarrierSettings,
        values: &std::collections::HashMap<String, String>,
    ) -> Result<Arc<dyn Carrier>, String> {
        build(
            settings,
            values,
            |c| {
                SevenCarrier::new(c)
                    .map(|c| Arc::new(c) as Arc<dyn Carrier>)
                    .map_err(|e| e.to_string())
            },
            |c| {
                VonageCarrier::new(c)
                    .map(|c| Arc::new(c) as Arc<dyn Carrier>)
                    .map_err(|e| e.to_string())
            },
        )
    }
    fn make_webhooks(
        settings: &CarrierSettings,
        values: &std::collections::HashMap<String, String>,
    ) -> Result<Arc<dyn CarrierWebhooks>, String> {
        build(
            settings,
            values,
            |c| Ok(Arc::new(SevenWebhooks::new(c)) as Arc<dyn CarrierWebhooks>),
            |c| Ok(Arc::new(VonageWebhooks::new(c)) as Arc<dyn CarrierWebhooks>),
        )
    }

    let found = chosen.find(get).map_err(BootstrapError::Config)?;
    let carrier: Arc<dyn Carrier> = if found.to_fetch.is_empty() {
        make_carrier(chosen, &found.values).map_err(BootstrapError::Config)?
    } else {
        let (found, ssm) = (found.clone(), ssm.clone());
        Arc::new(LazyCarrier::new(
            chosen.name,
            Box::new(move || {
                let (found, ssm) = (found.clone(), ssm.clone());
                Box::pin(async move {
                    let values = found.complete(&ssm).await?;
                    make_carrier(chosen, &values).map_err(LoadError::NotConfigured)
                })
            }),
        ))
    };

    let mut webhooks: Vec<Arc<dyn CarrierWebhooks>> = Vec::new();
    for settings in [&SEVEN, &VONAGE] {
        let Ok(found) = settings.find(get) else {
            continue;
        };
        if found.to_fetch.is_empty() {
            webhooks.push(make_webhooks(settings, &found.values).map_err(BootstrapError::Config)?);
            continue;
        }
        let ssm = ssm.clone();
        webhooks.push(Arc::new(LazyWebhooks::new(
            settings.name,
            Box::new(move || {
                let (found, ssm) = (found.clone(), ssm.clone());
                Box::pin(async move {
                    let values = found.complete(&ssm).await?;
                    make_webhooks(settings, &values).map_err(LoadError::NotConfigured)
                })
            }),
        )));
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

    #[tokio::test]
    async fn secrets_named_as_ssm_parameters_are_not_fetched_at_init() {
        // The parameters exist nowhere (not in moto, and there is no AWS here): a fetch at init
        // would fail the build of the services.
        let pairs: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| !k.starts_with("SEVEN_"))
            .chain([
                (
                    "PRAXIS_SMS_SEVEN_API_KEY_PARAMETER",
                    "/praxis-sms/seven/api-key",
                ),
                (
                    "PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER",
                    "/praxis-sms/seven/signing-key",
                ),
                (
                    "PRAXIS_SMS_VONAGE_API_KEY_PARAMETER",
                    "/praxis-sms/vonage/api-key",
                ),
                (
                    "PRAXIS_SMS_VONAGE_API_SECRET_PARAMETER",
                    "/praxis-sms/vonage/api-secret",
                ),
                (
                    "PRAXIS_SMS_VONAGE_SIGNATURE_SECRET_PARAMETER",
                    "/praxis-sms/vonage/signature-secret",
                ),
            ])
            .collect();
        let svc = services_from(env(&pairs)).await.expect("services");
        assert_eq!(svc.carrier.name(), "seven");
        assert!(svc.webhooks_for("seven").is_some());
        assert!(svc.webhooks_for("vonage").is_some());
        // Half named: the message names the variable and its parameter alternative.
        let half: Vec<_> = pairs
            .iter()
            .copied()
            .filter(|(k, _)| *k != "PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER")
            .collect();
        match services_from(env(&half)).await {
            Err(BootstrapError::Config(m)) => assert!(
                m.contains("SEVEN_SIGNING_KEY")
                    && m.contains("PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER"),
                "{m}"
            ),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("seven without a signing key"),
        }
    }
}
