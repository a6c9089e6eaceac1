//! A message as stored: what was accepted, where it stands, and how it got there. Also the
//! retention rule (60 days) and the read-time view that applies the 72-hour expiry.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{MessageId, OrgId};
use super::phone::PhoneNumber;
use super::sender::SenderId;
use super::status::{self, Reason, Status};
use super::text::{Encoding, MessageText};

/// Messages, replies and idempotency keys are kept this long and never shown after it.
pub const RETENTION: Duration = Duration::days(60);

/// The oldest creation time still visible at `now`.
pub fn retention_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - RETENTION
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: Status,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub org_id: OrgId,
    pub to: PhoneNumber,
    pub sender: SenderId,
    pub text: String,
    pub reference: Option<String>,
    pub encoding: Encoding,
    pub segments: u32,
    pub status: Status,
    pub reason: Option<Reason>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The carrier that took the message and its id there, once submitted.
    pub carrier: Option<String>,
    pub carrier_ref: Option<String>,
    pub history: Vec<HistoryEntry>,
}

impl Message {
    /// A message as the API accepts it: `pending`, which is also its first history entry.
    pub fn accepted(
        id: MessageId,
        org_id: OrgId,
        to: PhoneNumber,
        sender: SenderId,
        text: MessageText,
        reference: Option<String>,
        at: DateTime<Utc>,
    ) -> Message {
        Message {
            id,
            org_id,
            to,
            sender,
            encoding: text.encoding(),
            segments: text.segments(),
            text: text.into_string(),
            reference,
            status: Status::Pending,
            reason: None,
            created_at: at,
            sent_at: None,
            carrier: None,
            carrier_ref: None,
            history: vec![HistoryEntry {
                status: Status::Pending,
                at,
            }],
        }
    }

    /// The message as a practice should see it at `now`: one still waiting for a final report
    /// 72 hours after it was sent is undelivered/expired, even before a sweep has written so.
    pub fn as_seen_at(mut self, now: DateTime<Utc>) -> Message {
        if let (Some(sent_at), Status::Sent | Status::Buffered) = (self.sent_at, self.status) {
            let at = status::expires_at(sent_at);
            if at <= now {
                self.status = Status::Undelivered;
                self.reason = Some(Reason::Expired);
                self.history.push(HistoryEntry {
                    status: Status::Undelivered,
                    at,
                });
            }
        }
        self
    }

    pub fn is_visible_at(&self, now: DateTime<Utc>) -> bool {
        self.created_at >= retention_cutoff(now)
    }
}

/// How long a delivery report for a carrier reference no message has yet is kept: the report
/// overtook the dispatcher's write of `sent` (a fast carrier, a slow or retried write), and the
/// dispatcher applies it once that write is done. Minutes are the rule; hours cover a write
/// retried after a store outage.
pub const EARLY_REPORT_TTL: Duration = Duration::hours(6);

/// A delivery report kept for a carrier reference not recorded yet (`Store::park_report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyReport {
    pub carrier: String,
    pub carrier_ref: String,
    pub status: Status,
    pub reason: Option<Reason>,
    pub received_at: DateTime<Utc>,
}

/// A status move, written only if the message is in one of `from` (a conditional write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub id: MessageId,
    pub to: Status,
    pub at: DateTime<Utc>,
    pub reason: Option<Reason>,
    /// Set when the move records the carrier's acceptance.
    pub carrier: Option<(String, String)>,
}

impl Transition {
    pub fn new(id: MessageId, to: Status, at: DateTime<Utc>) -> Transition {
        Transition {
            id,
            to,
            at,
            reason: None,
            carrier: None,
        }
    }
    pub fn with_reason(mut self, reason: Reason) -> Transition {
        self.reason = Some(reason);
        self
    }
    pub fn with_carrier(mut self, carrier: &str, carrier_ref: &str) -> Transition {
        self.carrier = Some((carrier.to_owned(), carrier_ref.to_owned()));
        self
    }
    /// The moves a delivery report saying `status` makes, in order: a report proves the
    /// carrier took the message, so if it overtook the dispatcher's own record, `sent` is
    /// written first and the history keeps its order.
    pub fn for_report(
        id: MessageId,
        status: Status,
        reason: Option<Reason>,
        at: DateTime<Utc>,
    ) -> Vec<Transition> {
        let mut moves = Vec::with_capacity(2);
        if matches!(
            status,
            Status::Buffered | Status::Delivered | Status::Undelivered
        ) {
            moves.push(Transition::new(id, Status::Sent, at));
        }
        let mut t = Transition::new(id, status, at);
        t.reason = reason;
        moves.push(t);
        moves
    }

    /// The statuses the message must be in for the move to happen.
    pub fn from(&self) -> Vec<Status> {
        self.to.predecessors()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::Region;

    fn msg(status: Status, sent_at: Option<DateTime<Utc>>) -> Message {
        let now = Utc::now();
        Message {
            id: MessageId::new(now),
            org_id: OrgId::new(now),
            to: PhoneNumber::parse("+4917612345678", Region::DE).expect("valid number"),
            sender: SenderId::parse("Praxis").expect("valid sender"),
            text: "Hallo".into(),
            reference: None,
            encoding: Encoding::Gsm7,
            segments: 1,
            status,
            reason: None,
            created_at: now,
            sent_at,
            carrier: None,
            carrier_ref: None,
            history: vec![],
        }
    }

    #[test]
    fn sent_message_without_report_expires_after_72_hours() {
        let sent = Utc::now() - Duration::hours(73);
        let seen = msg(Status::Sent, Some(sent)).as_seen_at(Utc::now());
        assert_eq!(seen.status, Status::Undelivered);
        assert_eq!(seen.reason, Some(Reason::Expired));
        assert_eq!(
            seen.history.last().map(|h| h.at),
            Some(sent + Duration::hours(72))
        );
    }

    #[test]
    fn buffered_message_within_72_hours_stays_buffered() {
        let sent = Utc::now() - Duration::hours(71);
        let seen = msg(Status::Buffered, Some(sent)).as_seen_at(Utc::now());
        assert_eq!(seen.status, Status::Buffered);
    }

    #[test]
    fn delivered_message_never_expires() {
        let sent = Utc::now() - Duration::hours(100);
        let seen = msg(Status::Delivered, Some(sent)).as_seen_at(Utc::now());
        assert_eq!(seen.status, Status::Delivered);
    }
}
