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

/// The services of a Lambda function, wired from its environment: the store always, and each
/// other port only when the function asks for it (`with_queue`, `with_carrier`, ...). A port
/// left out is [`Unwired`], so its adapter and its SDK client are not linked into that
/// function's binary (smaller, faster to load), and its variables are not required.
///
/// ```no_run
/// # async fn f() -> Result<(), praxis_shared::bootstrap::BootstrapError> {
/// let services = praxis_shared::bootstrap::Wiring::from_env().await?.with_queue()?.build();
/// # Ok(()) }
/// ```
#[cfg(not(feature = "aws"))]
pub struct Wiring(std::convert::Infallible);

#[cfg(not(feature = "aws"))]
impl Wiring {
    /// Always fails: this binary has no AWS backend.
    pub async fn from_env() -> Result<Wiring, BootstrapError> {
        Err(BootstrapError::NoAwsBackend)
    }
    pub fn with_queue(self) -> Result<Wiring, BootstrapError> {
        match self.0 {}
    }
    pub fn with_carrier(self) -> Result<Wiring, BootstrapError> {
        match self.0 {}
    }
    pub fn with_webhooks(self) -> Result<Wiring, BootstrapError> {
        match self.0 {}
    }
    pub fn with_mailer(self) -> Result<Wiring, BootstrapError> {
        match self.0 {}
    }
    pub fn with_blobs(self) -> Result<Wiring, BootstrapError> {
        match self.0 {}
    }
    pub fn build(self) -> Services {
        match self.0 {}
    }
}

#[cfg(feature = "aws")]
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The services of a Lambda function, wired from its environment: the store always, and each
/// other port only when the function asks for it (`with_queue`, `with_carrier`, ...). A port
/// left out is [`Unwired`], so its adapter and its SDK client are not linked into that
/// function's binary (smaller, faster to load), and its variables are not required. One
/// `aws_config` load, every client built from it, and no network call (clients and
/// credentials are lazy; carrier secrets named as SSM parameters are fetched on first use).
///
/// ```no_run
/// # async fn f() -> Result<(), praxis_shared::bootstrap::BootstrapError> {
/// let services = praxis_shared::bootstrap::Wiring::from_env().await?.with_queue()?.build();
/// # Ok(()) }
/// ```
#[cfg(feature = "aws")]
pub struct Wiring {
    get: Lookup,
    config: aws_config::SdkConfig,
    ssm: Option<crate::adapters::aws::SsmParameters>,
    services: Services,
}

#[cfg(feature = "aws")]
impl Wiring {
    /// From the process's environment variables.
    pub async fn from_env() -> Result<Wiring, BootstrapError> {
        Wiring::from_lookup(|name| std::env::var(name).ok()).await
    }

    /// With `get` standing in for the environment (carrier secrets are read through it too).
    pub async fn from_lookup(
        get: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Wiring, BootstrapError> {
        use crate::adapters::aws::{self, DynamoStore};
        use crate::ports::SystemClock;
        use crate::services::Settings;
        use std::sync::Arc;

        let get: Lookup = Box::new(get);
        let table = required(&get, ENV_TABLE)?;
        let config = aws::sdk_config().await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
        let services = Services {
            store: Arc::new(store),
            queue: Arc::new(Unwired("queue")),
            carrier: Arc::new(Unwired("carrier")),
            webhooks: Vec::new(),
            mailer: Arc::new(Unwired("mailer")),
            blobs: Arc::new(Unwired("blobs")),
            clock: Arc::new(SystemClock),
            settings: Settings::default(),
        };
        Ok(Wiring {
            get,
            config,
            ssm: None,
            services,
        })
    }

    /// The dispatch queue (SQS), at `PRAXIS_SMS_QUEUE_URL`.
    pub fn with_queue(mut self) -> Result<Wiring, BootstrapError> {
        let url = required(&self.get, ENV_QUEUE_URL)?;
        let client = aws_sdk_sqs::Client::new(&self.config);
        self.services.queue = std::sync::Arc::new(crate::adapters::aws::SqsQueue::new(client, url));
        Ok(self)
    }

    /// Mail (SES v2) from `PRAXIS_SMS_SENDER_EMAIL`.
    pub fn with_mailer(mut self) -> Result<Wiring, BootstrapError> {
        let sender = required(&self.get, ENV_SENDER_EMAIL)?;
        let client = aws_sdk_sesv2::Client::new(&self.config);
        self.services.mailer =
            std::sync::Arc::new(crate::adapters::aws::SesMailer::new(client, sender));
        Ok(self)
    }

    /// Blobs (S3) in `PRAXIS_SMS_BUCKET`.
    pub fn with_blobs(mut self) -> Result<Wiring, BootstrapError> {
        let bucket = required(&self.get, ENV_BUCKET)?;
        let client = crate::adapters::aws::s3_client(&self.config);
        self.services.blobs =
            std::sync::Arc::new(crate::adapters::aws::S3Blobs::new(client, bucket));
        Ok(self)
    }

    /// The carrier named by `PRAXIS_SMS_CARRIER`, which messages are submitted to.
    pub fn with_carrier(mut self) -> Result<Wiring, BootstrapError> {
        let name = required(&self.get, ENV_CARRIER)?;
        let chosen = chosen_carrier(&name)?;
        let ssm = self.ssm();
        self.services.carrier = carrier(chosen, &self.get, ssm)?;
        Ok(self)
    }

    /// The webhooks (delivery reports, inbound SMS) of the carrier named by
    /// `PRAXIS_SMS_CARRIER`, whose settings must be there, and of every other carrier whose
    /// settings are, so reports of messages sent before a switch of carrier still count.
    pub fn with_webhooks(mut self) -> Result<Wiring, BootstrapError> {
        let name = required(&self.get, ENV_CARRIER)?;
        let chosen = chosen_carrier(&name)?;
        let ssm = self.ssm();
        self.services.webhooks = webhooks(chosen, &self.get, ssm)?;
        Ok(self)
    }

    pub fn build(self) -> Services {
        self.services
    }

    /// One SSM client for the carrier secrets of this process.
    fn ssm(&mut self) -> crate::adapters::aws::SsmParameters {
        let config = &self.config;
        self.ssm
            .get_or_insert_with(|| crate::adapters::aws::SsmParameters::new(config))
            .clone()
    }
}

#[cfg(feature = "aws")]
fn required(get: &Lookup, name: &'static str) -> Result<String, BootstrapError> {
    get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| BootstrapError::Config(format!("{name} is not set")))
}

/// A port the function did not wire (see [`Wiring`]). Calling it is a bug in the function's
/// `main.rs`: it answers as a port that is down, and says which.
#[derive(Debug, Clone, Copy)]
pub struct Unwired(pub &'static str);

impl Unwired {
    fn error(&self) -> crate::ports::PortError {
        tracing::error!(
            port = self.0,
            "a port this function did not wire was called"
        );
        crate::ports::PortError::Unavailable(format!(
            "the {} is not wired into this function",
            self.0
        ))
    }
}

#[async_trait::async_trait]
impl crate::ports::Queue for Unwired {
    async fn enqueue(&self, _: &[crate::domain::MessageId]) -> crate::ports::PortResult<()> {
        Err(self.error())
    }
    async fn enqueue_later(
        &self,
        _: crate::domain::MessageId,
        _: std::time::Duration,
    ) -> crate::ports::PortResult<()> {
        Err(self.error())
    }
}

#[async_trait::async_trait]
impl crate::ports::Carrier for Unwired {
    fn name(&self) -> &str {
        "unwired"
    }
    async fn submit(
        &self,
        _: &crate::ports::OutboundSms<'_>,
    ) -> Result<crate::ports::Submitted, crate::ports::SubmitError> {
        Err(crate::ports::SubmitError::Operator(
            self.error().to_string(),
        ))
    }
}

#[async_trait::async_trait]
impl crate::ports::Mailer for Unwired {
    async fn send(&self, _: &str, _: &crate::ports::Email) -> crate::ports::PortResult<()> {
        Err(self.error())
    }
}

#[async_trait::async_trait]
impl crate::ports::Blobs for Unwired {
    async fn put(&self, _: &str, _: &str, _: Vec<u8>) -> crate::ports::PortResult<()> {
        Err(self.error())
    }
    async fn get(&self, _: &str) -> crate::ports::PortResult<Option<Vec<u8>>> {
        Err(self.error())
    }
    async fn presign_get(
        &self,
        _: &str,
        _: std::time::Duration,
    ) -> crate::ports::PortResult<String> {
        Err(self.error())
    }
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
    fn find(&self, get: &Lookup) -> Result<Found, String> {
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
fn chosen_carrier(name: &str) -> Result<&'static CarrierSettings, BootstrapError> {
    match name {
        "seven" => Ok(&SEVEN),
        "vonage" => Ok(&VONAGE),
        other => Err(BootstrapError::Config(format!(
            "{ENV_CARRIER} must be seven or vonage, got {other:?}"
        ))),
    }
}

/// Builds a carrier's part (its client or its webhooks) from complete settings.
#[cfg(feature = "aws")]
fn build_from<T>(
    settings: &CarrierSettings,
    values: &std::collections::HashMap<String, String>,
    seven: impl Fn(&crate::carriers::seven::SevenConfig) -> Result<T, String>,
    vonage: impl Fn(&crate::carriers::vonage::VonageConfig) -> Result<T, String>,
) -> Result<T, String> {
    use crate::carriers::{seven::SevenConfig, vonage::VonageConfig};
    let lookup = |k: &str| values.get(k).cloned();
    match settings.name {
        "seven" => seven(&SevenConfig::from_lookup(lookup).map_err(|e| e.to_string())?),
        _ => vonage(&VonageConfig::from_lookup(lookup).map_err(|e| e.to_string())?),
    }
}

/// The carrier messages are submitted to. Secrets named as SSM parameters are fetched on first
/// use (one GetParameters per process), so init makes no network call.
#[cfg(feature = "aws")]
fn carrier(
    chosen: &'static CarrierSettings,
    get: &Lookup,
    ssm: crate::adapters::aws::SsmParameters,
) -> Result<std::sync::Arc<dyn crate::ports::Carrier>, BootstrapError> {
    use crate::carriers::lazy::{LazyCarrier, LoadError};
    use crate::carriers::seven::SevenCarrier;
    use crate::carriers::vonage::VonageCarrier;
    use crate::ports::Carrier;
    use std::sync::Arc;

    fn make(
        settings: &CarrierSettings,
        values: &std::collections::HashMap<String, String>,
    ) -> Result<Arc<dyn Carrier>, String> {
        build_from(
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

    let found = chosen.find(get).map_err(BootstrapError::Config)?;
    if found.to_fetch.is_empty() {
        return make(chosen, &found.values).map_err(BootstrapError::Config);
    }
    Ok(Arc::new(LazyCarrier::new(
        chosen.name,
        Box::new(move || {
            let (found, ssm) = (found.clone(), ssm.clone());
            Box::pin(async move {
                let values = found.complete(&ssm).await?;
                make(chosen, &values).map_err(LoadError::NotConfigured)
            })
        }),
    )))
}

/// The webhooks of `chosen`, whose settings must be there, and of the other carrier when its
/// settings are. Secrets named as SSM parameters are fetched on first use.
#[cfg(feature = "aws")]
fn webhooks(
    chosen: &'static CarrierSettings,
    get: &Lookup,
    ssm: crate::adapters::aws::SsmParameters,
) -> Result<Vec<std::sync::Arc<dyn crate::carriers::CarrierWebhooks>>, BootstrapError> {
    use crate::carriers::CarrierWebhooks;
    use crate::carriers::lazy::{LazyWebhooks, LoadError};
    use crate::carriers::seven::SevenWebhooks;
    use crate::carriers::vonage::VonageWebhooks;
    use std::sync::Arc;

    fn make(
        settings: &CarrierSettings,
        values: &std::collections::HashMap<String, String>,
    ) -> Result<Arc<dyn CarrierWebhooks>, String> {
        build_from(
            settings,
            values,
            |c| Ok(Arc::new(SevenWebhooks::new(c)) as Arc<dyn CarrierWebhooks>),
            |c| Ok(Arc::new(VonageWebhooks::new(c)) as Arc<dyn CarrierWebhooks>),
        )
    }

    // The chosen carrier's settings must be complete (or named).
    chosen.find(get).map_err(BootstrapError::Config)?;
    let mut webhooks: Vec<Arc<dyn CarrierWebhooks>> = Vec::new();
    for settings in [&SEVEN, &VONAGE] {
        let Ok(found) = settings.find(get) else {
            continue;
        };
        if found.to_fetch.is_empty() {
            webhooks.push(make(settings, &found.values).map_err(BootstrapError::Config)?);
            continue;
        }
        let ssm = ssm.clone();
        webhooks.push(Arc::new(LazyWebhooks::new(
            settings.name,
            Box::new(move || {
                let (found, ssm) = (found.clone(), ssm.clone());
                Box::pin(async move {
                    let values = found.complete(&ssm).await?;
                    make(settings, &values).map_err(LoadError::NotConfigured)
                })
            }),
        )));
    }
    Ok(webhooks)
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    /// Every port wired, as `praxis-sms serve --backend aws` has them.
    async fn services_from(
        get: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Services, BootstrapError> {
        Ok(Wiring::from_lookup(get)
            .await?
            .with_queue()?
            .with_mailer()?
            .with_blobs()?
            .with_carrier()?
            .with_webhooks()?
            .build())
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
    async fn a_function_needs_only_the_variables_of_what_it_wires() {
        use crate::domain::MessageId;
        use crate::ports::PortError;
        // The API function: the store and the queue, nothing of carriers, mail or blobs.
        let api = Wiring::from_lookup(env(&[
            (ENV_TABLE, "t"),
            (ENV_QUEUE_URL, "http://127.0.0.1:1/q"),
        ]))
        .await
        .expect("wiring")
        .with_queue()
        .expect("queue")
        .build();
        assert!(api.webhooks.is_empty());
        assert_eq!(api.carrier.name(), "unwired");
        // What is not wired answers as a port that is down, naming itself.
        match api
            .mailer
            .send(
                "k",
                &crate::ports::Email {
                    to: "praxis@example.com".into(),
                    subject: "s".into(),
                    text: "t".into(),
                },
            )
            .await
        {
            Err(PortError::Unavailable(m)) => assert!(m.contains("mailer"), "{m}"),
            other => panic!("unwired mailer: {other:?}"),
        }
        let dispatch = Wiring::from_lookup(env(&[(ENV_TABLE, "t")]))
            .await
            .expect("wiring")
            .build();
        match dispatch
            .queue
            .enqueue(&[MessageId::new(chrono::Utc::now())])
            .await
        {
            Err(PortError::Unavailable(m)) => assert!(m.contains("queue"), "{m}"),
            other => panic!("unwired queue: {other:?}"),
        }
        // The webhooks need the chosen carrier's settings, not the queue's or the mailer's.
        let dlr = Wiring::from_lookup(env(&[
            (ENV_TABLE, "t"),
            (ENV_CARRIER, "seven"),
            ("SEVEN_API_KEY", "k"),
            ("SEVEN_SIGNING_KEY", "s"),
        ]))
        .await
        .expect("wiring")
        .with_webhooks()
        .expect("webhooks")
        .build();
        assert!(dlr.webhooks_for("seven").is_some());
        assert_eq!(dlr.carrier.name(), "unwired");
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
