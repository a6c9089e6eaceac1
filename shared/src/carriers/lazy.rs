//! Carriers whose credentials are fetched on first use rather than at start: in Lambda the
//! secrets live in SSM Parameter Store, and fetching them during init would put a network call
//! on every cold start's critical path (and on the `api` function, which never needs them).
//! The first call fetches them once per process. A failed fetch is remembered for a while
//! (secrets that do not exist for minutes, a secret store that did not answer for seconds), so
//! webhook calls in a burst cannot make us throttle our own secret store; after that the next
//! call tries again.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use super::{CarrierWebhooks, DeliveryReport, InboundSms, WebhookError, WebhookRequest};
use crate::ports::{Carrier, OutboundSms, SubmitError, Submitted};

/// Why a carrier could not be built from its secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The secrets are not there (or not valid): the carrier is not configured.
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// The secret store did not answer; worth trying again.
    #[error("secrets unavailable: {0}")]
    Unavailable(String),
}

/// Builds the real thing; called until it succeeds once.
pub type Loader<T> =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, LoadError>> + Send>> + Send + Sync>;

/// A carrier built on its first submission.
pub struct LazyCarrier {
    name: String,
    cell: OnceCell<Arc<dyn Carrier>>,
    load: Loader<Arc<dyn Carrier>>,
}

impl LazyCarrier {
    pub fn new(name: &str, load: Loader<Arc<dyn Carrier>>) -> LazyCarrier {
        LazyCarrier {
            name: name.to_owned(),
            cell: OnceCell::new(),
            load,
        }
    }
}

#[async_trait]
impl Carrier for LazyCarrier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn submit(&self, sms: &OutboundSms<'_>) -> Result<Submitted, SubmitError> {
        let carrier = self
            .cell
            .get_or_try_init(|| (self.load)())
            .await
            // Missing credentials are the operator's problem, never the practice's: the message
            // waits and is retried, and the error is logged loudly by the dispatcher.
            .map_err(|e| SubmitError::Operator(format!("{} credentials: {e}", self.name)))?;
        carrier.submit(sms).await
    }
}

/// How long a fetch that found no secrets is believed: an operator who adds the parameters
/// waits this long at most (or redeploys), and calls meanwhile cost no secret-store request.
pub const REMEMBER_NOT_CONFIGURED: Duration = Duration::from_secs(300);
/// How long a secret store that did not answer (throttled, down) is left alone.
pub const REMEMBER_UNAVAILABLE: Duration = Duration::from_secs(5);

/// A carrier's webhooks, built on the first webhook call.
pub struct LazyWebhooks {
    name: String,
    cell: OnceCell<Arc<dyn CarrierWebhooks>>,
    load: Loader<Arc<dyn CarrierWebhooks>>,
    /// The carrier's signature check that needs no secret (`CarrierWebhooks::carries_signature`).
    signed: fn(&WebhookRequest<'_>) -> bool,
    /// The last failed fetch, until when it stands.
    failed: Mutex<Option<(Instant, LoadError)>>,
}

impl LazyWebhooks {
    pub fn new(name: &str, load: Loader<Arc<dyn CarrierWebhooks>>) -> LazyWebhooks {
        let signed: fn(&WebhookRequest<'_>) -> bool = match name {
            super::seven::NAME => super::seven::carries_signature,
            super::vonage::NAME => super::vonage::carries_signature,
            _ => |req| req.headers.contains_key(http::header::AUTHORIZATION),
        };
        LazyWebhooks {
            name: name.to_owned(),
            cell: OnceCell::new(),
            load,
            signed,
            failed: Mutex::new(None),
        }
    }

    /// Lets the next call fetch at once (tests: the memory's end without waiting for it).
    #[cfg(test)]
    fn forget_failure(&self) {
        *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn remembered_failure(&self) -> Option<LoadError> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .as_ref()
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, e)| e.clone())
    }

    fn remember(&self, e: &LoadError) {
        let keep = match e {
            LoadError::NotConfigured(_) => REMEMBER_NOT_CONFIGURED,
            LoadError::Unavailable(_) => REMEMBER_UNAVAILABLE,
        };
        *self.failed.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now() + keep, e.clone()));
    }

    fn loaded(&self) -> Result<&Arc<dyn CarrierWebhooks>, WebhookError> {
        self.cell
            .get()
            .ok_or(WebhookError::Unauthorized("carrier secrets not loaded"))
    }
}

#[async_trait]
impl CarrierWebhooks for LazyWebhooks {
    fn name(&self) -> &str {
        &self.name
    }

    async fn ready(&self) -> Result<(), WebhookError> {
        let loaded = match self.cell.get() {
            Some(_) => Ok(()),
            None => match self.remembered_failure() {
                Some(e) => Err(e),
                None => {
                    let loaded = self.cell.get_or_try_init(|| (self.load)()).await;
                    if let Err(e) = &loaded {
                        self.remember(e);
                    }
                    loaded.map(|_| ())
                }
            },
        };
        loaded.map_err(|e| match e {
            LoadError::NotConfigured(m) => WebhookError::NotConfigured(m),
            LoadError::Unavailable(m) => WebhookError::Unavailable(m),
        })
    }

    fn carries_signature(&self, req: &WebhookRequest<'_>) -> bool {
        (self.signed)(req)
    }

    fn verify(&self, req: &WebhookRequest<'_>, now: DateTime<Utc>) -> Result<(), WebhookError> {
        self.loaded()?.verify(req, now)
    }

    fn parse_reports(&self, body: &[u8]) -> Result<Vec<DeliveryReport>, WebhookError> {
        self.loaded()?.parse_reports(body)
    }

    fn parse_inbound(&self, body: &[u8]) -> Result<Option<InboundSms>, WebhookError> {
        self.loaded()?.parse_inbound(body)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::carriers::sim::SimWebhooks;

    fn counting_loader(
        calls: Arc<AtomicUsize>,
        fail_first: usize,
    ) -> Loader<Arc<dyn CarrierWebhooks>> {
        Box::new(move || {
            let calls = calls.clone();
            Box::pin(async move {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n < fail_first {
                    return Err(LoadError::Unavailable("ssm timed out".into()));
                }
                Ok(Arc::new(SimWebhooks::new("tok".into())) as Arc<dyn CarrierWebhooks>)
            })
        })
    }

    #[tokio::test]
    async fn secrets_are_fetched_on_first_use_once_and_a_failure_is_retried() {
        let calls = Arc::new(AtomicUsize::new(0));
        let hooks = LazyWebhooks::new("sim", counting_loader(calls.clone(), 1));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "nothing fetched at construction"
        );
        let headers = http::HeaderMap::new();
        let req = WebhookRequest {
            method: "POST",
            url: "http://x/webhooks/sim/dlr",
            headers: &headers,
            body: b"{}",
        };
        // Before `ready`, nothing is accepted.
        assert!(hooks.verify(&req, Utc::now()).is_err());
        assert!(matches!(
            hooks.ready().await,
            Err(WebhookError::Unavailable(_))
        ));
        // Remembered for a few seconds: a burst of calls does not hammer the secret store.
        assert!(matches!(
            hooks.ready().await,
            Err(WebhookError::Unavailable(_))
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        hooks.forget_failure();
        hooks.ready().await.expect("the next try after that loads");
        hooks.ready().await.expect("loaded");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "fetched until it worked, then kept"
        );
        // The loaded webhooks decide now: no token, so not authenticated.
        assert!(matches!(
            hooks.verify(&req, Utc::now()),
            Err(WebhookError::Unauthorized(_))
        ));
    }

    #[tokio::test]
    async fn secrets_that_do_not_exist_are_looked_for_once_in_a_while() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let hooks = LazyWebhooks::new(
            "vonage",
            Box::new(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Err(LoadError::NotConfigured("no parameter".into())) })
            }),
        );
        for _ in 0..100 {
            assert!(matches!(
                hooks.ready().await,
                Err(WebhookError::NotConfigured(_))
            ));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_carrier_without_credentials_is_an_operator_error() {
        let carrier = LazyCarrier::new(
            "seven",
            Box::new(|| {
                Box::pin(async {
                    Err(LoadError::NotConfigured("/praxis-sms/seven/api-key".into()))
                })
            }),
        );
        assert_eq!(carrier.name(), "seven");
        let to = crate::domain::PhoneNumber::parse("+4917612345678", crate::domain::Region::DE)
            .expect("number");
        let sender = crate::domain::SenderId::parse("Praxis").expect("sender");
        let sms = OutboundSms {
            id: crate::domain::MessageId::new(Utc::now()),
            to: &to,
            sender: &sender,
            text: "Hallo",
            segments: 1,
        };
        match carrier.submit(&sms).await {
            Err(SubmitError::Operator(m)) => assert!(m.contains("api-key"), "{m}"),
            other => panic!("expected an operator error, got {other:?}"),
        }
    }
}
