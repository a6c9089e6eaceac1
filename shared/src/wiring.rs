//! Building the services a process runs with, once at its start: a Lambda function's from its
//! environment on the AWS adapters, only the ports it asks for; `praxis-sms serve`'s on either
//! backend, with the simulated carrier beside the real ones; the admin commands' store. Carriers
//! are configured the same way in all of them ([`crate::carriers::config`]).

use std::sync::Arc;

use crate::carriers::config::{self, CarrierConfigError, CarrierKind, ParameterStore};
use crate::carriers::failover::{BreakerPolicy, FailoverCarrier};
use crate::carriers::sim::{SimCarrier, SimWebhooks};
use crate::ports::Carrier;
use crate::services::Services;

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("this binary was built without the AWS backend (cargo feature `aws`)")]
    NoAwsBackend,
    #[error("configuration: {0}")]
    Config(String),
}

impl From<CarrierConfigError> for WiringError {
    fn from(e: CarrierConfigError) -> WiringError {
        WiringError::Config(e.to_string())
    }
}

/// The table of the store (DynamoDB).
pub const ENV_TABLE: &str = "PRAXIS_SMS_TABLE";
/// The URL of the dispatch queue (SQS).
pub const ENV_QUEUE_URL: &str = "PRAXIS_SMS_QUEUE_URL";
/// The SES-verified address mail is sent from.
pub const ENV_SENDER_EMAIL: &str = "PRAXIS_SMS_SENDER_EMAIL";
/// The blob bucket (S3).
pub const ENV_BUCKET: &str = "PRAXIS_SMS_BUCKET";
/// The URL of the invoice queue (SQS).
pub const ENV_INVOICE_QUEUE_URL: &str = "PRAXIS_SMS_INVOICE_QUEUE_URL";
/// The carrier messages are submitted to: `seven` or `vonage` (see [`CarrierKind`]).
pub const ENV_CARRIER: &str = "PRAXIS_SMS_CARRIER";
/// Most SMS a practice may send in one of its local days unless its own cap says otherwise.
pub const ENV_DAILY_CAP: &str = "PRAXIS_SMS_DAILY_CAP";
/// API requests per practice and minute (`Settings::rate_limit`).
pub const ENV_RATE_LIMIT: &str = "PRAXIS_SMS_RATE_LIMIT";

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The services of a process, wired from its environment. On AWS (Lambda, `serve --backend
/// aws`, the admin commands): the store always, and each other port only when asked for
/// (`with_queue`, `with_carrier`, ...). A port left out is [`Unwired`], so its adapter and its
/// SDK client are not linked into a function's binary that never asks for it (smaller, faster
/// to load), and its variables are not required. One `aws_config` load, every client built
/// from it, and no network call (clients and credentials are lazy; carrier secrets named as
/// SSM parameters are fetched on first use).
///
/// ```no_run
/// # async fn f() -> Result<(), praxis_shared::wiring::WiringError> {
/// let services = praxis_shared::wiring::Wiring::from_env().await?.with_queue()?.build();
/// # Ok(()) }
/// ```
///
/// The local stack's embedded backend opens its ports itself ([`Wiring::from_services`]); the
/// carriers are wired onto them here as onto the AWS ones.
pub struct Wiring {
    get: Lookup,
    /// Where the ports come from: AWS clients, or None for ports given.
    #[cfg(feature = "aws")]
    aws: Option<AwsClients>,
    /// The local stack's simulated carrier, when there is one ([`Wiring::with_sim`]). Held as
    /// a `dyn Carrier` so that the sim's code is linked only where it is handed over.
    sim: Option<Arc<dyn Carrier>>,
    services: Services,
}

#[cfg(feature = "aws")]
struct AwsClients {
    config: aws_config::SdkConfig,
    /// One SSM client for the carrier secrets of this process, made for the first carrier
    /// whose secrets are named as parameters.
    ssm: Option<Arc<dyn ParameterStore>>,
    /// The dispatch queue, for a poller of its own (`serve --backend aws`).
    sqs: Option<Arc<crate::adapters::aws::SqsQueue>>,
}

impl Wiring {
    /// The AWS adapters, named by the process's environment variables.
    pub async fn from_env() -> Result<Wiring, WiringError> {
        Wiring::from_lookup(|name| std::env::var(name).ok()).await
    }

    /// The AWS adapters, with `get` standing in for the environment (carrier settings are read
    /// through it too). The store is the DynamoDB table `PRAXIS_SMS_TABLE`.
    pub async fn from_lookup(
        get: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Wiring, WiringError> {
        #[cfg(feature = "aws")]
        {
            Wiring::aws(crate::adapters::aws::sdk_config().await, get)
        }
        #[cfg(not(feature = "aws"))]
        {
            let _ = get;
            Err(WiringError::NoAwsBackend)
        }
    }

    /// Like [`Wiring::from_lookup`], with the SDK configuration already loaded (one load per
    /// process: a caller that needs it before, e.g. to find a queue by name, hands it over).
    #[cfg(feature = "aws")]
    pub fn aws(
        config: aws_config::SdkConfig,
        get: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Wiring, WiringError> {
        use crate::adapters::aws::DynamoStore;

        let get: Lookup = Box::new(get);
        let table = required(&get, ENV_TABLE)?;
        let store = Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            table,
        ));
        let services = Services {
            store: store.clone(),
            accounts: store,
            queue: Arc::new(Unwired("queue")),
            carrier: Arc::new(Unwired("carrier")),
            webhooks: Vec::new(),
            mailer: Arc::new(Unwired("mailer")),
            blobs: Arc::new(Unwired("blobs")),
            invoice_jobs: Arc::new(Unwired("invoice queue")),
            invoice_links: Arc::new(crate::invoice_links::InvoiceLinks::unwired()),
            clock: Arc::new(crate::ports::SystemClock),
            settings: crate::services::Settings::default(),
        };
        Ok(Wiring {
            get,
            aws: Some(AwsClients {
                config,
                ssm: None,
                sqs: None,
            }),
            sim: None,
            services,
        })
    }

    /// Ports already opened (the local stack's embedded backend), carriers configured from
    /// `get`. Their secrets must be set there: beside these ports there is no parameter store.
    pub fn from_services(
        services: Services,
        get: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Wiring {
        Wiring {
            get: Box::new(get),
            #[cfg(feature = "aws")]
            aws: None,
            sim: None,
            services,
        }
    }

    /// The dispatch queue (SQS), at `PRAXIS_SMS_QUEUE_URL`. Ports given stay as given.
    pub fn with_queue(self) -> Result<Wiring, WiringError> {
        #[cfg(feature = "aws")]
        if let Some(aws) = &self.aws {
            let url = required(&self.get, ENV_QUEUE_URL)?;
            let client = aws_sdk_sqs::Client::new(&aws.config);
            let queue = Arc::new(crate::adapters::aws::SqsQueue::new(client, url));
            let mut wiring = self;
            wiring.services.queue = queue.clone();
            if let Some(aws) = &mut wiring.aws {
                aws.sqs = Some(queue);
            }
            return Ok(wiring);
        }
        Ok(self)
    }

    /// Mail (SES v2) from `PRAXIS_SMS_SENDER_EMAIL`. Ports given stay as given.
    pub fn with_mailer(self) -> Result<Wiring, WiringError> {
        #[cfg(feature = "aws")]
        if let Some(aws) = &self.aws {
            let sender = required(&self.get, ENV_SENDER_EMAIL)?;
            let client = aws_sdk_sesv2::Client::new(&aws.config);
            let mut wiring = self;
            wiring.services.mailer = Arc::new(crate::adapters::aws::SesMailer::new(client, sender));
            return Ok(wiring);
        }
        Ok(self)
    }

    /// Blobs (S3) in `PRAXIS_SMS_BUCKET`. Ports given stay as given.
    pub fn with_blobs(self) -> Result<Wiring, WiringError> {
        #[cfg(feature = "aws")]
        if let Some(aws) = &self.aws {
            let bucket = required(&self.get, ENV_BUCKET)?;
            let client = crate::adapters::aws::s3_client(&aws.config);
            let mut wiring = self;
            wiring.services.blobs = Arc::new(crate::adapters::aws::S3Blobs::new(client, bucket));
            return Ok(wiring);
        }
        Ok(self)
    }

    /// Links to the blobs in `PRAXIS_SMS_BUCKET` (presigned S3 GET URLs), without reading or
    /// writing any: what the `api` and `portal` functions need, without the S3 client in their
    /// binaries. Ports given stay as given.
    pub fn with_blob_links(self) -> Result<Wiring, WiringError> {
        #[cfg(feature = "aws")]
        if let Some(aws) = &self.aws {
            let bucket = required(&self.get, ENV_BUCKET)?;
            let presigner = crate::adapters::aws::S3Presigner::new(&aws.config, bucket);
            let mut wiring = self;
            wiring.services.blobs = Arc::new(presigner);
            return Ok(wiring);
        }
        Ok(self)
    }

    /// The invoice queue (SQS) at `PRAXIS_SMS_INVOICE_QUEUE_URL`. Ports given stay as given.
    pub fn with_invoice_jobs(self) -> Result<Wiring, WiringError> {
        #[cfg(feature = "aws")]
        if let Some(aws) = &self.aws {
            let url = required(&self.get, ENV_INVOICE_QUEUE_URL)?;
            let client = aws_sdk_sqs::Client::new(&aws.config);
            let mut wiring = self;
            wiring.services.invoice_jobs =
                Arc::new(crate::adapters::aws::SqsQueue::new(client, url));
            return Ok(wiring);
        }
        Ok(self)
    }

    /// The invoice links' key: `PRAXIS_SMS_INVOICE_LINK_KEY` itself, or the SSM parameter
    /// `PRAXIS_SMS_INVOICE_LINK_KEY_PARAMETER` names (read on first use). Links given stay.
    pub fn with_invoice_links(mut self) -> Result<Wiring, WiringError> {
        use crate::invoice_links::{ENV_LINK_KEY, ENV_LINK_KEY_PARAMETER, InvoiceLinks, LinkKey};
        if let Some(raw) = (self.get)(ENV_LINK_KEY).filter(|v| !v.trim().is_empty()) {
            let key = LinkKey::new(raw.trim().as_bytes().to_vec()).ok_or_else(|| {
                WiringError::Config(format!("{ENV_LINK_KEY} must be at least 32 bytes"))
            })?;
            self.services.invoice_links = Arc::new(InvoiceLinks::fixed(key));
            return Ok(self);
        }
        if !self.has_parameters() {
            return Ok(self);
        }
        let name = required(&self.get, ENV_LINK_KEY_PARAMETER)?;
        if let Some(store) = self.parameters() {
            self.services.invoice_links = Arc::new(InvoiceLinks::from_parameter(store, name));
        }
        Ok(self)
    }

    /// The dispatch queue wired by [`Wiring::with_queue`], for a process that polls it itself
    /// instead of Lambda's event source mapping (`serve --backend aws`).
    #[cfg(feature = "aws")]
    pub fn sqs_queue(&self) -> Option<Arc<crate::adapters::aws::SqsQueue>> {
        self.aws.as_ref().and_then(|aws| aws.sqs.clone())
    }

    /// The simulated carrier of a local stack, given since it keeps its log in the stack's data
    /// directory, and its webhooks (bearer `token`). [`CarrierKind::Sim`] names it from now on,
    /// and its reports are accepted whichever carrier sends: it keeps reporting what it took
    /// before a change of carrier.
    pub fn with_sim(mut self, sim: Arc<SimCarrier>, token: &str) -> Wiring {
        self.services
            .accept_webhooks(Arc::new(SimWebhooks::new(token.to_owned())));
        self.sim = Some(sim);
        self
    }

    /// The carrier named by `PRAXIS_SMS_CARRIER`, which messages are submitted to.
    pub fn with_carrier(self) -> Result<Wiring, WiringError> {
        let kind = self.chosen()?;
        self.with_carrier_kind(kind)
    }

    /// `kind` as the carrier messages are submitted to.
    pub fn with_carrier_kind(mut self, kind: CarrierKind) -> Result<Wiring, WiringError> {
        self.services.carrier = self.carrier(kind)?;
        Ok(self)
    }

    /// `kind` behind the carrier wired so far: it takes over while that one keeps failing
    /// (a circuit breaker with `policy`, on this wiring's clock).
    pub fn with_fallback(
        mut self,
        kind: CarrierKind,
        policy: BreakerPolicy,
    ) -> Result<Wiring, WiringError> {
        let secondary = self.carrier(kind)?;
        self.services.carrier = Arc::new(FailoverCarrier::new(
            self.services.carrier.clone(),
            secondary,
            self.services.clock.clone(),
            policy,
        ));
        Ok(self)
    }

    /// The webhooks (delivery reports, inbound SMS) of the carrier named by
    /// `PRAXIS_SMS_CARRIER`, whose settings must be there, and of every other carrier whose
    /// settings are, so reports of messages sent before a switch of carrier still count.
    pub fn with_webhooks(self) -> Result<Wiring, WiringError> {
        let chosen = self.chosen()?;
        let mut wiring = self.with_webhooks_of(chosen)?;
        let with_parameters = wiring.has_parameters();
        for kind in CarrierKind::ALL {
            if kind != chosen && config::is_configured(kind, &wiring.get, with_parameters) {
                wiring = wiring.with_webhooks_of(kind)?;
            }
        }
        Ok(wiring)
    }

    /// The webhooks of `kind`, whose settings must be there (the sim's come with it).
    pub fn with_webhooks_of(mut self, kind: CarrierKind) -> Result<Wiring, WiringError> {
        if kind == CarrierKind::Sim {
            self.sim()?;
            return Ok(self);
        }
        let parameters = self.parameters();
        let hooks = config::webhooks(kind, &self.get, parameters)?;
        self.services.accept_webhooks(hooks);
        Ok(self)
    }

    /// The services, with the limits of the environment (`PRAXIS_SMS_DAILY_CAP`,
    /// `PRAXIS_SMS_RATE_LIMIT`).
    pub fn build(mut self) -> Services {
        let settings = &mut self.services.settings;
        for (name, limit) in [
            (ENV_DAILY_CAP, &mut settings.daily_cap),
            (ENV_RATE_LIMIT, &mut settings.rate_limit),
        ] {
            let Some(raw) = (self.get)(name) else {
                continue;
            };
            match raw.trim().parse::<u32>() {
                Ok(v) if v > 0 => *limit = v,
                // The generous default stands rather than no limit or a limit of nothing.
                _ => tracing::error!(
                    value = %raw,
                    default = *limit,
                    "{name} is not a positive whole number; using the default"
                ),
            }
        }
        self.services
    }

    /// The carrier `PRAXIS_SMS_CARRIER` names.
    fn chosen(&self) -> Result<CarrierKind, WiringError> {
        let kind: CarrierKind = required(&self.get, ENV_CARRIER)?
            .parse()
            .map_err(|e| WiringError::Config(format!("{ENV_CARRIER}: {e}")))?;
        if kind == CarrierKind::Sim && self.sim.is_none() {
            let why = CarrierConfigError::SimOnlyLocally;
            return Err(WiringError::Config(format!("{ENV_CARRIER} is sim: {why}")));
        }
        Ok(kind)
    }

    fn carrier(&mut self, kind: CarrierKind) -> Result<Arc<dyn Carrier>, WiringError> {
        if kind == CarrierKind::Sim {
            return self.sim();
        }
        let parameters = self.parameters();
        Ok(config::carrier(kind, &self.get, parameters)?)
    }

    fn sim(&self) -> Result<Arc<dyn Carrier>, WiringError> {
        self.sim
            .clone()
            .ok_or_else(|| CarrierConfigError::SimOnlyLocally.into())
    }

    /// Whether carrier secrets may be named as parameters here: on AWS, in SSM.
    fn has_parameters(&self) -> bool {
        #[cfg(feature = "aws")]
        if self.aws.is_some() {
            return true;
        }
        false
    }

    /// The parameter store of this process's carrier secrets, made on first need.
    fn parameters(&mut self) -> Option<Arc<dyn ParameterStore>> {
        #[cfg(feature = "aws")]
        if let Some(aws) = &mut self.aws {
            let config = &aws.config;
            let ssm = aws
                .ssm
                .get_or_insert_with(|| Arc::new(crate::adapters::aws::SsmParameters::new(config)));
            return Some(ssm.clone());
        }
        None
    }
}

fn required(get: &Lookup, name: &'static str) -> Result<String, WiringError> {
    get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| WiringError::Config(format!("{name} is not set")))
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

#[async_trait::async_trait]
impl crate::ports::InvoiceJobs for Unwired {
    async fn enqueue_invoices(
        &self,
        _: crate::domain::Month,
        _: &[crate::domain::OrgId],
    ) -> crate::ports::PortResult<()> {
        Err(self.error())
    }
}

/// An environment of these variables, for the tests.
#[cfg(test)]
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[cfg(all(test, feature = "aws"))]
mod tests {
    use super::*;

    /// Every port wired, as `praxis-sms serve --backend aws` has them.
    async fn services_from(
        get: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Services, WiringError> {
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
                    from_name: "praxis-sms".into(),
                    subject: "s".into(),
                    text: "t".into(),
                    html: None,
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
                Err(WiringError::Config(m)) => assert!(m.contains(skip), "{m}"),
                Err(e) => panic!("{skip}: {e}"),
                Ok(_) => panic!("{skip}: built without it"),
            }
        }
        let mut pairs: Vec<_> = BASE.to_vec();
        pairs.retain(|(k, _)| *k != "SEVEN_SIGNING_KEY");
        match services_from(env(&pairs)).await {
            Err(WiringError::Config(m)) => assert!(m.contains("SEVEN_SIGNING_KEY"), "{m}"),
            _ => panic!("seven without its signing key"),
        }
        let mut pairs: Vec<_> = BASE.to_vec();
        pairs.push((ENV_CARRIER, "sim"));
        pairs.retain(|(k, v)| *k != ENV_CARRIER || *v == "sim");
        assert!(matches!(
            services_from(env(&pairs)).await,
            Err(WiringError::Config(_))
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
            Err(WiringError::Config(m)) => assert!(
                m.contains("SEVEN_SIGNING_KEY")
                    && m.contains("PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER"),
                "{m}"
            ),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("seven without a signing key"),
        }
    }
}

/// The local stack's wiring: ports given, the sim handed over, carriers from the environment.
#[cfg(all(test, feature = "embedded"))]
mod local_stack {
    use super::*;
    use crate::adapters::embedded::LocalBackend;

    const SEVEN: &[(&str, &str)] = &[("SEVEN_API_KEY", "k"), ("SEVEN_SIGNING_KEY", "s")];

    fn local(dir: &std::path::Path) -> LocalBackend {
        LocalBackend::open(dir, "http://127.0.0.1:9", "tok", b"blob-key").expect("backend")
    }

    #[test]
    fn the_sim_sends_and_a_fallback_carriers_webhooks_are_accepted_beside_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = local(dir.path());
        let svc = Wiring::from_services(local.services, env(SEVEN))
            .with_sim(local.sim, "tok")
            .with_carrier_kind(CarrierKind::Sim)
            .and_then(|w| w.with_webhooks_of(CarrierKind::Sim))
            .and_then(|w| w.with_fallback(CarrierKind::Seven, BreakerPolicy::default()))
            .and_then(|w| w.with_webhooks_of(CarrierKind::Seven))
            .expect("wired")
            .build();
        assert_eq!(svc.carrier.name(), "sim");
        assert!(svc.webhooks_for("sim").is_some());
        assert!(svc.webhooks_for("seven").is_some());
        assert!(svc.webhooks_for("vonage").is_none());
        assert_eq!(svc.webhooks.len(), 2);
    }

    #[test]
    fn without_its_secrets_a_carrier_is_refused_naming_them_and_no_parameter() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = local(dir.path());
        let named = env(&[
            ("PRAXIS_SMS_SEVEN_API_KEY_PARAMETER", "/p/api-key"),
            ("PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER", "/p/signing-key"),
        ]);
        // Ports given have no parameter store beside them: a parameter name is not a secret.
        match Wiring::from_services(local.services, named).with_carrier_kind(CarrierKind::Seven) {
            Err(WiringError::Config(m)) => {
                assert!(m.contains("SEVEN_API_KEY"), "{m}");
                assert!(!m.contains("PARAMETER"), "{m}");
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("seven without its keys"),
        }
    }

    #[test]
    fn the_sim_is_only_where_it_was_handed_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = local(dir.path());
        let wiring = Wiring::from_services(local.services, env(&[("PRAXIS_SMS_CARRIER", "sim")]));
        match wiring.with_carrier() {
            Err(WiringError::Config(m)) => {
                assert!(
                    m.contains("PRAXIS_SMS_CARRIER") && m.contains("local stack"),
                    "{m}"
                )
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a sim from nowhere"),
        }
    }
}
