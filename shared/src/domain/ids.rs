//! Identifiers: ULIDs, so that ids sort by creation time and a time range is an id range
//! (what a DynamoDB sort key or a SQLite primary key can scan directly).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use ulid::Ulid;

macro_rules! ulid_id {
    ($name:ident, $what:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Ulid);

        impl $name {
            pub fn new(at: DateTime<Utc>) -> Self {
                $name(Ulid::from_parts(millis(at), random_u128()))
            }

            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                Ulid::from_string(s)
                    .map($name)
                    .map_err(|_| InvalidId($what))
            }

            /// The smallest id that can have been created at or after `at`: the lower bound
            /// of a time-range scan.
            pub fn floor(at: DateTime<Utc>) -> Self {
                $name(Ulid::from_parts(millis(at), 0))
            }

            /// The largest id created at or before `at`.
            pub fn ceil(at: DateTime<Utc>) -> Self {
                $name(Ulid::from_parts(millis(at), u128::MAX))
            }

            pub fn created_at(&self) -> DateTime<Utc> {
                DateTime::<Utc>::from_timestamp_millis(self.0.timestamp_ms() as i64)
                    .unwrap_or_default()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

ulid_id!(MessageId, "message id");
ulid_id!(OrgId, "practice id");
ulid_id!(KeyId, "key id");
ulid_id!(ReplyId, "reply id");
ulid_id!(InvoiceId, "invoice id");
ulid_id!(OptOutId, "opt-out id");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {0}")]
pub struct InvalidId(pub &'static str);

impl MessageId {
    /// The id of item `index` of a request sent with an idempotency key: the same key, practice
    /// and index always give the same id, so a retried request writes the same messages again
    /// (conditional puts make that a no-op) instead of new ones.
    pub fn derived(org: OrgId, idempotency_key: &str, index: usize, at: DateTime<Utc>) -> Self {
        let mut h = Sha256::new();
        h.update(org.0.to_bytes());
        h.update((idempotency_key.len() as u64).to_be_bytes());
        h.update(idempotency_key.as_bytes());
        h.update((index as u64).to_be_bytes());
        let digest = h.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        MessageId(Ulid::from_parts(millis(at), u128::from_be_bytes(bytes)))
    }
}

fn millis(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap_or(0)
}

fn random_u128() -> u128 {
    let mut b = [0u8; 16];
    crate::domain::random_bytes(&mut b);
    u128::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_time() {
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let a = MessageId::new(t0);
        let b = MessageId::new(t0 + chrono::Duration::milliseconds(1));
        assert!(a < b);
        assert!(MessageId::floor(t0) <= a && a <= MessageId::ceil(t0));
        assert_eq!(a.created_at(), t0);
    }

    #[test]
    fn derived_ids_are_stable_per_key_and_index() {
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let org = OrgId::new(t0);
        assert_eq!(
            MessageId::derived(org, "k", 3, t0),
            MessageId::derived(org, "k", 3, t0)
        );
        assert_ne!(
            MessageId::derived(org, "k", 3, t0),
            MessageId::derived(org, "k", 4, t0)
        );
        assert_ne!(
            MessageId::derived(org, "k", 3, t0),
            MessageId::derived(org, "j", 3, t0)
        );
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(MessageId::parse("not-an-id").is_err());
        let t0 = Utc::now();
        let id = MessageId::new(t0);
        assert_eq!(MessageId::parse(&id.to_string()), Ok(id));
    }
}
