//! The message status machine: the order statuses move in, their German labels, and the
//! rule that turns a report-less message into `undelivered`/`expired` after 72 hours.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long the network may hold a message before we call it undelivered (FAQ: "binnen 3 Tagen").
pub const EXPIRY: Duration = Duration::hours(72);

/// Statuses in the only order they may move in. `Delivered` and `Undelivered` are final and
/// share a rank: neither may follow the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Queued,
    Sent,
    Buffered,
    Delivered,
    Undelivered,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Queued,
        Status::Sent,
        Status::Buffered,
        Status::Delivered,
        Status::Undelivered,
    ];

    fn rank(self) -> u8 {
        match self {
            Status::Pending => 0,
            Status::Queued => 1,
            Status::Sent => 2,
            Status::Buffered => 3,
            Status::Delivered | Status::Undelivered => 4,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Status::Delivered | Status::Undelivered)
    }

    /// Whether a message in `self` may move to `next`.
    pub fn can_move_to(self, next: Status) -> bool {
        !self.is_final() && next.rank() > self.rank()
    }

    /// The statuses a message may be in for a move to `self` to be allowed: the condition of
    /// every conditional status write.
    pub fn predecessors(self) -> Vec<Status> {
        Status::ALL
            .into_iter()
            .filter(|s| s.can_move_to(self))
            .collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Buffered => "buffered",
            Status::Delivered => "delivered",
            Status::Undelivered => "undelivered",
        }
    }

    /// The label practices see (the product FAQ's wording).
    pub fn label_de(self) -> &'static str {
        match self {
            Status::Pending => "ausstehend",
            Status::Queued => "noch kein Status",
            Status::Sent => "versandt",
            Status::Buffered => "buffered",
            Status::Delivered => "zugestellt",
            Status::Undelivered => "nicht ausgeliefert",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown status {0:?}; expected one of pending, queued, sent, buffered, delivered, undelivered"
)]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Why a message ended `undelivered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The number does not exist or is not reachable as a subscriber.
    UnknownSubscriber,
    /// The carrier or network refused the message.
    Rejected,
    /// No final report within 72 hours of sending.
    Expired,
    /// The network failed for another reason.
    NetworkError,
    /// The recipient opted out of this practice's messages.
    OptedOut,
}

impl Reason {
    pub const ALL: [Reason; 5] = [
        Reason::UnknownSubscriber,
        Reason::Rejected,
        Reason::Expired,
        Reason::NetworkError,
        Reason::OptedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownSubscriber => "unknown_subscriber",
            Reason::Rejected => "rejected",
            Reason::Expired => "expired",
            Reason::NetworkError => "network_error",
            Reason::OptedOut => "opted_out",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The moment a message still waiting for a final report counts as undelivered.
pub fn expires_at(sent_at: DateTime<Utc>) -> DateTime<Utc> {
    sent_at + EXPIRY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_moves_only_forward() {
        assert!(Status::Pending.can_move_to(Status::Queued));
        assert!(Status::Queued.can_move_to(Status::Delivered));
        assert!(Status::Sent.can_move_to(Status::Buffered));
        assert!(!Status::Buffered.can_move_to(Status::Sent));
        assert!(!Status::Sent.can_move_to(Status::Sent));
    }

    #[test]
    fn final_statuses_are_terminal() {
        for next in Status::ALL {
            assert!(!Status::Delivered.can_move_to(next));
            assert!(!Status::Undelivered.can_move_to(next));
        }
    }

    #[test]
    fn predecessors_of_delivered_are_the_open_statuses() {
        assert_eq!(
            Status::Delivered.predecessors(),
            vec![
                Status::Pending,
                Status::Queued,
                Status::Sent,
                Status::Buffered
            ]
        );
        assert!(Status::Pending.predecessors().is_empty());
    }

    #[test]
    fn labels_are_the_faq_wording() {
        assert_eq!(Status::Queued.label_de(), "noch kein Status");
        assert_eq!(Status::Undelivered.label_de(), "nicht ausgeliefert");
        assert_eq!(Status::Delivered.label_de(), "zugestellt");
    }

    #[test]
    fn status_round_trips_through_its_name() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().ok(), Some(s));
        }
        assert!("zugestellt".parse::<Status>().is_err());
    }
}
