//! A patient's reply: an inbound SMS to a practice's reply number, as stored and shown (kept
//! 60 days, like messages). Forwarding by e-mail and opt-outs build on this record later.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{MessageId, OrgId, ReplyId};
use super::message::retention_cutoff;
use super::phone::PhoneNumber;

/// Only SMS from a valid phone number become replies: the patient's number is what the
/// practice answers, what `in_reply_to` and (later) opt-outs are keyed on. Anything else (an
/// alphanumeric sender, a short code) is no patient and is acknowledged without being stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Ours, from the time we received it: replies sort by arrival.
    pub id: ReplyId,
    pub org_id: OrgId,
    /// The patient's number.
    pub from: PhoneNumber,
    /// The practice's reply number it was sent to.
    pub to: PhoneNumber,
    pub text: String,
    /// When we received it, on our clock (a carrier's timestamp may be skewed or zoneless).
    pub received_at: DateTime<Utc>,
    /// The carrier that forwarded it and its id there: a resent webhook carries the same pair,
    /// which is what makes storing a reply idempotent.
    pub carrier: String,
    pub carrier_ref: String,
    /// The latest message the practice had handed to a carrier for `from` when the reply
    /// arrived: the one the patient most likely answers.
    pub in_reply_to: Option<MessageId>,
}

impl Reply {
    pub fn is_visible_at(&self, now: DateTime<Utc>) -> bool {
        self.received_at >= retention_cutoff(now)
    }
}
