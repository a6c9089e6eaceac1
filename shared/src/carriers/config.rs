//! Which carriers there are, and how a carrier is configured: the same way in every Lambda
//! function and in `praxis-sms serve`. A setting comes from the environment when set there; a
//! secret may instead be named as a parameter of a [`ParameterStore`] (SSM Parameter Store in
//! AWS), and is then fetched on first use, never while a process starts.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::CarrierWebhooks;
use super::lazy::{LazyCarrier, LazyWebhooks, LoadError, Loader};
use super::seven::{self, SevenCarrier, SevenConfig, SevenWebhooks};
use super::sim;
use super::vonage::{self, VonageCarrier, VonageConfig, VonageWebhooks};
use crate::ports::Carrier;

/// A carrier messages can go through. The command line takes it (`--carrier`, with the cargo
/// feature `cli`), and the Lambda functions from `PRAXIS_SMS_CARRIER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum CarrierKind {
    /// The simulated carrier of the local stack: outcomes by the recipient's last four digits.
    Sim,
    /// seven.io's HTTP API and signed webhooks.
    Seven,
    /// Vonage's SMS API and signed webhooks.
    Vonage,
}

impl CarrierKind {
    pub const ALL: [CarrierKind; 3] = [CarrierKind::Sim, CarrierKind::Seven, CarrierKind::Vonage];

    /// The carrier's name: in webhook paths (`/webhooks/{name}/dlr`), on stored messages, in
    /// `PRAXIS_SMS_CARRIER` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CarrierKind::Sim => sim::NAME,
            CarrierKind::Seven => seven::NAME,
            CarrierKind::Vonage => vonage::NAME,
        }
    }
}

impl fmt::Display for CarrierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A carrier name that is none of [`CarrierKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown carrier {0:?}; the carriers are sim, seven and vonage")]
pub struct UnknownCarrier(pub String);

impl FromStr for CarrierKind {
    type Err = UnknownCarrier;

    fn from_str(s: &str) -> Result<CarrierKind, UnknownCarrier> {
        let name = s.trim();
        CarrierKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownCarrier(name.to_owned()))
    }
}

/// Why a carrier cannot be built from its settings. Messages name the variables to set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierConfigError {
    /// A secret is not set (nor, where there is a parameter store, named as a parameter).
    #[error("{0}")]
    Missing(String),
    /// A setting is there but cannot be used (a URL that is none, an unknown method).
    #[error("{0}")]
    Invalid(String),
    /// The simulated carrier has no settings: only a local stack has one, which it hands over.
    #[error("the simulated carrier runs only in a local stack (praxis-sms serve)")]
    SimOnlyLocally,
}

/// Where secrets named as parameters are kept: SSM Parameter Store in AWS.
#[async_trait::async_trait]
pub trait ParameterStore: Send + Sync {
    /// The values of `names`, by name. A name the store does not have is
    /// [`LoadError::NotConfigured`]; a store that does not answer is [`LoadError::Unavailable`].
    async fn fetch(&self, names: &[String]) -> Result<HashMap<String, String>, LoadError>;
}

#[cfg(feature = "aws")]
#[async_trait::async_trait]
impl ParameterStore for crate::adapters::aws::SsmParameters {
    async fn fetch(&self, names: &[String]) -> Result<HashMap<String, String>, LoadError> {
        self.get(names).await
    }
}

/// The environment variable naming the parameter that holds secret `variable`.
pub fn parameter_variable(variable: &str) -> String {
    format!("PRAXIS_SMS_{variable}_PARAMETER")
}

/// Whether `kind`'s sending secrets are all there: set, or (`with_parameters`) named as
/// parameters. The settings are not checked further; the sim has none, so it never is.
pub fn is_configured(
    kind: CarrierKind,
    get: &dyn Fn(&str) -> Option<String>,
    with_parameters: bool,
) -> bool {
    sending_settings(kind).is_some_and(|s| s.find(get, with_parameters).is_ok())
}

/// Checks `kind`'s settings as far as that is possible without a network call: every secret
/// there (set, or with `with_parameters` named as a parameter), and, when none waits for a
/// fetch, every setting usable. For stopping a process early; the sim needs nothing.
pub fn check(
    kind: CarrierKind,
    get: &dyn Fn(&str) -> Option<String>,
    with_parameters: bool,
) -> Result<(), CarrierConfigError> {
    let Some(settings) = settings(kind) else {
        return Ok(());
    };
    let found = settings.find(get, with_parameters)?;
    if found.to_fetch.is_empty() {
        settings
            .check(&found.values)
            .map_err(CarrierConfigError::Invalid)?;
    }
    Ok(())
}

/// The sending side of `kind` (seven or vonage) as `get` configures it: from its API
/// credentials alone, so the dispatcher needs no webhook secret and may read none. Secrets
/// only named as parameters are fetched from `parameters` on the first submission, once per
/// process, so building it makes no network call.
pub fn carrier(
    kind: CarrierKind,
    get: &dyn Fn(&str) -> Option<String>,
    parameters: Option<Arc<dyn ParameterStore>>,
) -> Result<Arc<dyn Carrier>, CarrierConfigError> {
    let settings = sending_settings(kind).ok_or(CarrierConfigError::SimOnlyLocally)?;
    build(
        settings,
        get,
        parameters,
        |settings, values| {
            let carrier: Arc<dyn Carrier> = match settings.kind {
                CarrierKind::Seven => Arc::new(
                    SevenCarrier::from_lookup(|k| values.get(k).cloned())
                        .map_err(|e| settings.invalid(e))?,
                ),
                CarrierKind::Vonage => Arc::new(
                    VonageCarrier::from_lookup(|k| values.get(k).cloned())
                        .map_err(|e| settings.invalid(e))?,
                ),
                CarrierKind::Sim => return Err(CarrierConfigError::SimOnlyLocally.to_string()),
            };
            Ok(carrier)
        },
        |name, load| Arc::new(LazyCarrier::new(name, load)),
    )
}

/// The webhooks of `kind` (seven or vonage) as `get` configures them: from the webhook
/// signing secret (and settings) alone, so a webhook function needs no other secret and may
/// read no other parameter. Secrets only named as parameters are fetched from `parameters` on
/// the first webhook call, once per process.
pub fn webhooks(
    kind: CarrierKind,
    get: &dyn Fn(&str) -> Option<String>,
    parameters: Option<Arc<dyn ParameterStore>>,
) -> Result<Arc<dyn CarrierWebhooks>, CarrierConfigError> {
    let settings = webhook_settings(kind).ok_or(CarrierConfigError::SimOnlyLocally)?;
    build(
        settings,
        get,
        parameters,
        |settings, values| {
            let get = |k: &str| values.get(k).cloned();
            let hooks: Arc<dyn CarrierWebhooks> = match settings.kind {
                CarrierKind::Seven => {
                    Arc::new(SevenWebhooks::from_lookup(get).map_err(|e| settings.invalid(e))?)
                }
                CarrierKind::Vonage => {
                    Arc::new(VonageWebhooks::from_lookup(get).map_err(|e| settings.invalid(e))?)
                }
                CarrierKind::Sim => return Err(CarrierConfigError::SimOnlyLocally.to_string()),
            };
            Ok(hooks)
        },
        |name, load| Arc::new(LazyWebhooks::new(name, load)),
    )
}

/// Makes a carrier's part (its sending side, its webhooks) from complete settings.
type Make<T> = fn(&CarrierSettings, &HashMap<String, String>) -> Result<Arc<T>, String>;

/// Builds a carrier's part (`make`) from its settings now, or, when secrets wait for a fetch,
/// as a lazy stand-in (`lazy`) that builds it on first use.
fn build<T: ?Sized + 'static>(
    settings: &'static CarrierSettings,
    get: &dyn Fn(&str) -> Option<String>,
    parameters: Option<Arc<dyn ParameterStore>>,
    make: Make<T>,
    lazy: fn(&str, Loader<Arc<T>>) -> Arc<T>,
) -> Result<Arc<T>, CarrierConfigError> {
    let found = settings.find(get, parameters.is_some())?;
    let parameters = match parameters {
        Some(parameters) if !found.to_fetch.is_empty() => parameters,
        _ => return make(settings, &found.values).map_err(CarrierConfigError::Invalid),
    };
    Ok(lazy(
        settings.kind.name(),
        Box::new(move || {
            let (found, parameters) = (found.clone(), parameters.clone());
            Box::pin(async move {
                let values = found.complete(parameters.as_ref()).await?;
                make(settings, &values).map_err(LoadError::NotConfigured)
            })
        }),
    ))
}

/// The settings a carrier reads, and which of them are secrets.
struct CarrierSettings {
    kind: CarrierKind,
    plain: &'static [&'static str],
    secrets: &'static [&'static str],
}

const SEVEN: CarrierSettings = CarrierSettings {
    kind: CarrierKind::Seven,
    plain: &[seven::ENV_API_URL],
    secrets: &[seven::ENV_API_KEY, seven::ENV_SIGNING_KEY],
};

const VONAGE: CarrierSettings = CarrierSettings {
    kind: CarrierKind::Vonage,
    plain: &[vonage::ENV_API_URL, vonage::ENV_SIGNATURE_METHOD],
    secrets: &[
        vonage::ENV_API_KEY,
        vonage::ENV_API_SECRET,
        vonage::ENV_SIGNATURE_SECRET,
    ],
};

/// What sending through `kind` reads: its API credentials, not its webhook secret.
const SEVEN_SENDING: CarrierSettings = CarrierSettings {
    kind: CarrierKind::Seven,
    plain: &[seven::ENV_API_URL],
    secrets: &[seven::ENV_API_KEY],
};

const VONAGE_SENDING: CarrierSettings = CarrierSettings {
    kind: CarrierKind::Vonage,
    plain: &[vonage::ENV_API_URL],
    secrets: &[vonage::ENV_API_KEY, vonage::ENV_API_SECRET],
};

fn sending_settings(kind: CarrierKind) -> Option<&'static CarrierSettings> {
    match kind {
        CarrierKind::Sim => None,
        CarrierKind::Seven => Some(&SEVEN_SENDING),
        CarrierKind::Vonage => Some(&VONAGE_SENDING),
    }
}

/// What verifying `kind`'s webhooks reads: its signing secret, not its API credentials.
const SEVEN_WEBHOOKS: CarrierSettings = CarrierSettings {
    kind: CarrierKind::Seven,
    plain: &[],
    secrets: &[seven::ENV_SIGNING_KEY],
};

const VONAGE_WEBHOOKS: CarrierSettings = CarrierSettings {
    kind: CarrierKind::Vonage,
    plain: &[vonage::ENV_SIGNATURE_METHOD],
    secrets: &[vonage::ENV_SIGNATURE_SECRET],
};

fn webhook_settings(kind: CarrierKind) -> Option<&'static CarrierSettings> {
    match kind {
        CarrierKind::Sim => None,
        CarrierKind::Seven => Some(&SEVEN_WEBHOOKS),
        CarrierKind::Vonage => Some(&VONAGE_WEBHOOKS),
    }
}

/// The settings of `kind`; the sim has none.
fn settings(kind: CarrierKind) -> Option<&'static CarrierSettings> {
    match kind {
        CarrierKind::Sim => None,
        CarrierKind::Seven => Some(&SEVEN),
        CarrierKind::Vonage => Some(&VONAGE),
    }
}

/// A carrier's settings as found at start: values at hand, and secrets still to fetch
/// (variable → parameter name).
#[derive(Debug, Clone)]
struct Found {
    values: HashMap<String, String>,
    to_fetch: Vec<(String, String)>,
}

impl CarrierSettings {
    /// What `get` has of these settings; secrets named as parameters count only
    /// `with_parameters`. Fails naming the first secret that is missing.
    fn find(
        &self,
        get: &dyn Fn(&str) -> Option<String>,
        with_parameters: bool,
    ) -> Result<Found, CarrierConfigError> {
        let set = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut found = Found {
            values: HashMap::new(),
            to_fetch: Vec::new(),
        };
        for var in self.plain {
            if let Some(v) = set(var) {
                found.values.insert(var.to_string(), v);
            }
        }
        for var in self.secrets {
            let parameter = parameter_variable(var);
            if let Some(v) = set(var) {
                found.values.insert(var.to_string(), v);
            } else if let Some(name) = set(&parameter).filter(|_| with_parameters) {
                found.to_fetch.push((var.to_string(), name));
            } else {
                let alternative = if with_parameters {
                    format!(", nor {parameter} naming its SSM parameter")
                } else {
                    String::new()
                };
                return Err(CarrierConfigError::Missing(format!(
                    "{} needs {}: {var} is not set{alternative}",
                    self.kind,
                    listing(self.secrets)
                )));
            }
        }
        Ok(found)
    }

    /// Whether complete settings make a carrier.
    fn check(&self, values: &HashMap<String, String>) -> Result<(), String> {
        match self.kind {
            CarrierKind::Seven => self.seven(values).map(|_| ()),
            CarrierKind::Vonage => self.vonage(values).map(|_| ()),
            CarrierKind::Sim => Err(CarrierConfigError::SimOnlyLocally.to_string()),
        }
    }

    fn seven(&self, values: &HashMap<String, String>) -> Result<SevenConfig, String> {
        SevenConfig::from_lookup(|k| values.get(k).cloned()).map_err(|e| self.invalid(e))
    }

    fn vonage(&self, values: &HashMap<String, String>) -> Result<VonageConfig, String> {
        VonageConfig::from_lookup(|k| values.get(k).cloned()).map_err(|e| self.invalid(e))
    }

    fn invalid(&self, e: impl fmt::Display) -> String {
        format!("{}: {e}", self.kind)
    }
}

/// `A`, `A and B`, `A, B and C`.
fn listing(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

impl Found {
    /// The settings with the fetched secrets, as the carriers' `from_lookup` reads them.
    async fn complete(
        self,
        parameters: &dyn ParameterStore,
    ) -> Result<HashMap<String, String>, LoadError> {
        let mut values = self.values;
        if self.to_fetch.is_empty() {
            return Ok(values);
        }
        let names: Vec<String> = self.to_fetch.iter().map(|(_, p)| p.clone()).collect();
        let mut fetched = parameters.fetch(&names).await?;
        for (var, parameter) in self.to_fetch {
            if let Some(v) = fetched.remove(&parameter) {
                values.insert(var, v);
            }
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    /// A parameter store in memory that counts its fetches.
    #[derive(Default)]
    struct Parameters {
        values: HashMap<String, String>,
        fetches: Mutex<Vec<Vec<String>>>,
    }

    #[async_trait::async_trait]
    impl ParameterStore for Parameters {
        async fn fetch(&self, names: &[String]) -> Result<HashMap<String, String>, LoadError> {
            self.fetches.lock().expect("lock").push(names.to_vec());
            names
                .iter()
                .map(|n| match self.values.get(n) {
                    Some(v) => Ok((n.clone(), v.clone())),
                    None => Err(LoadError::NotConfigured(format!("no parameter {n}"))),
                })
                .collect()
        }
    }

    #[test]
    fn kinds_are_parsed_by_their_names_and_nothing_else() {
        for kind in CarrierKind::ALL {
            assert_eq!(kind.name().parse::<CarrierKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!(" seven ".parse::<CarrierKind>(), Ok(CarrierKind::Seven));
        for other in ["", "twilio", "Seven", "nexmo"] {
            let e = other.parse::<CarrierKind>().expect_err(other);
            let m = e.to_string();
            assert!(m.contains("sim, seven and vonage"), "{m}");
        }
    }

    #[cfg(feature = "cli")]
    #[test]
    fn the_command_line_knows_the_carriers_by_the_same_names() {
        use clap::ValueEnum;
        for kind in CarrierKind::value_variants() {
            let value = kind.to_possible_value().expect("a value");
            assert_eq!(value.get_name(), kind.name());
        }
        assert_eq!(CarrierKind::value_variants(), &CarrierKind::ALL);
    }

    #[test]
    fn a_missing_secret_is_named_with_what_the_carrier_needs() {
        let get = env(&[(seven::ENV_API_KEY, "k")]);
        let e = check(CarrierKind::Seven, &get, false).expect_err("no signing key");
        assert_eq!(
            e.to_string(),
            "seven needs SEVEN_API_KEY and SEVEN_SIGNING_KEY: SEVEN_SIGNING_KEY is not set"
        );
        // Where parameters count, the message names the alternative.
        let e = check(CarrierKind::Seven, &get, true).expect_err("no signing key");
        assert!(
            e.to_string()
                .contains("nor PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER naming its SSM parameter"),
            "{e}"
        );
        let e = check(CarrierKind::Vonage, &env(&[]), false).expect_err("nothing");
        assert!(
            e.to_string().starts_with(
                "vonage needs VONAGE_API_KEY, VONAGE_API_SECRET and VONAGE_SIGNATURE_SECRET"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_parameter_name_counts_only_where_there_is_a_parameter_store() {
        let get = env(&[
            (seven::ENV_SIGNING_KEY, "s"),
            ("PRAXIS_SMS_SEVEN_API_KEY_PARAMETER", "/p/seven/api"),
        ]);
        assert!(is_configured(CarrierKind::Seven, &get, true));
        assert!(!is_configured(CarrierKind::Seven, &get, false));
        assert!(matches!(
            carrier(CarrierKind::Seven, &get, None),
            Err(CarrierConfigError::Missing(_))
        ));
        assert!(!is_configured(CarrierKind::Sim, &get, true));
    }

    #[test]
    fn unusable_settings_are_refused_when_everything_is_at_hand() {
        let get = env(&[
            (seven::ENV_API_URL, "gateway.seven.io"),
            (seven::ENV_API_KEY, "k"),
            (seven::ENV_SIGNING_KEY, "s"),
        ]);
        let e = check(CarrierKind::Seven, &get, false).expect_err("not a URL");
        assert!(
            matches!(&e, CarrierConfigError::Invalid(m) if m.starts_with("seven: SEVEN_API_URL")),
            "{e}"
        );
        assert!(matches!(
            carrier(CarrierKind::Seven, &get, None),
            Err(CarrierConfigError::Invalid(_))
        ));
        assert_eq!(check(CarrierKind::Sim, &get, false), Ok(()));
    }

    #[tokio::test]
    async fn sending_reads_the_api_credentials_and_never_a_webhook_secret() {
        let store = Arc::new(Parameters {
            values: [
                ("/p/vonage/key".to_owned(), "key".to_owned()),
                ("/p/vonage/secret".to_owned(), "secret".to_owned()),
                ("/p/vonage/signature".to_owned(), "sig".to_owned()),
            ]
            .into_iter()
            .collect(),
            ..Parameters::default()
        });
        let get = env(&[
            // Nothing listens there: the submission fails after the secrets were fetched.
            (vonage::ENV_API_URL, "http://127.0.0.1:9"),
            ("PRAXIS_SMS_VONAGE_API_KEY_PARAMETER", "/p/vonage/key"),
            ("PRAXIS_SMS_VONAGE_API_SECRET_PARAMETER", "/p/vonage/secret"),
            (
                "PRAXIS_SMS_VONAGE_SIGNATURE_SECRET_PARAMETER",
                "/p/vonage/signature",
            ),
        ]);
        let sending = carrier(CarrierKind::Vonage, &get, Some(store.clone())).expect("carrier");
        let to = crate::domain::PhoneNumber::parse("+4917612345678", crate::domain::Region::DE)
            .expect("number");
        let sender = crate::domain::SenderId::parse("Praxis").expect("sender");
        let sms = crate::ports::OutboundSms {
            id: crate::domain::MessageId::new(chrono::Utc::now()),
            to: &to,
            sender: &sender,
            text: "Hallo",
            segments: 1,
        };
        assert!(sending.submit(&sms).await.is_err(), "nothing listens there");
        assert_eq!(
            *store.fetches.lock().expect("lock"),
            vec![vec![
                "/p/vonage/key".to_owned(),
                "/p/vonage/secret".to_owned()
            ]]
        );
        // Without a signature secret at all, sending is configured, webhooks are not.
        let only_api = env(&[(seven::ENV_API_KEY, "k")]);
        assert!(is_configured(CarrierKind::Seven, &only_api, false));
        assert!(carrier(CarrierKind::Seven, &only_api, None).is_ok());
        assert!(webhooks(CarrierKind::Seven, &only_api, None).is_err());
    }

    #[tokio::test]
    async fn secrets_named_as_parameters_are_fetched_on_first_use_once() {
        let store = Arc::new(Parameters {
            values: [
                ("/p/seven/api".to_owned(), "k".to_owned()),
                ("/p/seven/signing".to_owned(), "s".to_owned()),
            ]
            .into_iter()
            .collect(),
            ..Parameters::default()
        });
        let get = env(&[
            ("PRAXIS_SMS_SEVEN_API_KEY_PARAMETER", "/p/seven/api"),
            ("PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER", "/p/seven/signing"),
        ]);
        let hooks = webhooks(CarrierKind::Seven, &get, Some(store.clone())).expect("hooks");
        assert_eq!(hooks.name(), "seven");
        assert!(
            store.fetches.lock().expect("lock").is_empty(),
            "fetched at build"
        );
        hooks.ready().await.expect("fetched");
        hooks.ready().await.expect("kept");
        // Only what verifying a webhook needs: a webhook function's role may read no more.
        assert_eq!(
            *store.fetches.lock().expect("lock"),
            vec![vec!["/p/seven/signing".to_owned()]]
        );
        // A set variable wins over its parameter: nothing to fetch, built at once.
        let set = env(&[
            (seven::ENV_API_KEY, "k"),
            (seven::ENV_SIGNING_KEY, "s"),
            ("PRAXIS_SMS_SEVEN_API_KEY_PARAMETER", "/p/elsewhere"),
        ]);
        webhooks(CarrierKind::Seven, &set, Some(store.clone()))
            .expect("hooks")
            .ready()
            .await
            .expect("ready");
        assert_eq!(store.fetches.lock().expect("lock").len(), 1);
    }

    #[test]
    fn the_sim_is_not_built_from_settings() {
        let get = env(&[]);
        assert!(matches!(
            carrier(CarrierKind::Sim, &get, None),
            Err(CarrierConfigError::SimOnlyLocally)
        ));
        assert!(matches!(
            webhooks(CarrierKind::Sim, &get, None),
            Err(CarrierConfigError::SimOnlyLocally)
        ));
    }
}
