//! Carriers whose credentials are fetched on first use rather than at start: in Lambda the
//! secrets live in SSM Parameter Store, and fetching them during init would put a network call
//! on every cold start's critical path (and on the `api` function, which never needs them).
//! The first call fetches them once per process; a failed fetch is not kept, so the next call
//! tries again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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

/// A carrier's webhooks, built on the first webhook call.
pub struct LazyWebhooks {
    name: String,
    cell: OnceCell<Arc<dyn CarrierWebhooks>>,
    load: Loader<Arc<dyn CarrierWebhooks>>,
}

impl LazyWebhooks {
    pub fn new(name: &str, load: Loader<Arc<dyn CarrierWebhooks>>) -> LazyWebhooks {
        LazyWebhooks {
            name: name.to_owned(),
            cell: OnceCell::new(),
            load,
        }
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
        self.cell
            .get_or_try_init(|| (self.load)())
            .await
            .map(|_| ())
            .map_err(|e| match e {
                LoadError::NotConfigured(m) => WebhookError::NotConfigured(m),
                LoadError::Unavailable(m) => WebhookError::Unavailable(m),
            })
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
        hooks.ready().await.expect("second try loads");
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
