//! Carriers: adapters that hand SMS to a network and read what the network reports back
//! through webhooks. The dispatcher and the DLR handler only see the traits here.

pub mod client;
pub mod config;
pub mod failover;
pub mod lazy;
pub mod seven;
pub mod sim;
pub mod vonage;

use chrono::{DateTime, Utc};

use crate::domain::{MessageId, Reason, Status};

/// Which message a report is about: carriers that echo our id give it directly; the others
/// only know their own id, which the store maps back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportTarget {
    Ours(MessageId),
    CarrierRef(String),
}

/// A delivery report, translated into our statuses. Without the carrier's time: history times
/// are when we learned of a change, on our own clock (`praxis_dlr::apply_report` says why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub target: ReportTarget,
    /// None where the carrier's status says nothing new (e.g. seven.io's `UNKNOWN`).
    pub status: Option<Status>,
    pub reason: Option<Reason>,
}

/// A patient's SMS to one of our numbers, as a carrier forwards it. Numbers are as the
/// carrier gives them (international, with or without `+`); the handler parses them. Without
/// the carrier's time of arrival: a reply is stamped with our own clock when it is received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The sender's number.
    pub from: String,
    /// Our number it was sent to.
    pub to: String,
    /// The carrier's id of the inbound message (a resent webhook carries the same one).
    pub message_id: String,
    pub text: String,
    /// Set when this is one part of a long SMS; the parts share `reference`. Read by nothing
    /// yet: multi-part inbound SMS are to be reassembled from it into one reply (the next
    /// issue), until then each part is a reply of its own.
    pub concat: Option<Concat>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concat {
    pub reference: String,
    pub total: u32,
    pub part: u32,
}

/// A webhook call as received, with the URL the carrier called (some sign it).
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook not authenticated: {0}")]
    Unauthorized(&'static str),
    #[error("webhook payload not understood: {0}")]
    BadPayload(String),
    /// The carrier's secrets are not there: it is not configured in this deployment.
    #[error("carrier not configured: {0}")]
    NotConfigured(String),
    /// The carrier's secrets could not be fetched; the carrier should call again.
    #[error("carrier secrets unavailable: {0}")]
    Unavailable(String),
}

/// The webhook side of a carrier.
#[async_trait::async_trait]
pub trait CarrierWebhooks: Send + Sync {
    fn name(&self) -> &str;
    /// Makes the webhooks usable (fetches their secrets where that is deferred, see
    /// [`lazy::LazyWebhooks`]); called before `verify`.
    async fn ready(&self) -> Result<(), WebhookError> {
        Ok(())
    }
    /// Whether the call carries what this carrier signs with at all (headers, a `sig`
    /// parameter, a token), checked before anything else and without the secrets: a call
    /// without them is refused before the secrets are fetched, so an anonymous flood costs no
    /// secret-store call.
    fn carries_signature(&self, req: &WebhookRequest<'_>) -> bool;
    fn verify(&self, req: &WebhookRequest<'_>, now: DateTime<Utc>) -> Result<(), WebhookError>;
    fn parse_reports(&self, body: &[u8]) -> Result<Vec<DeliveryReport>, WebhookError>;
    /// Reads an inbound SMS (`/webhooks/{carrier}/inbound`), after `verify`. `None` for
    /// another kind of event sent to that address, which is acknowledged and ignored.
    fn parse_inbound(&self, body: &[u8]) -> Result<Option<InboundSms>, WebhookError>;
}
