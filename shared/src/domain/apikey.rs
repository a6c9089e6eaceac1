//! API keys: generated from 256 random bits, shown once, stored only as a SHA-256 hash, and
//! compared in constant time. A fast hash is enough because the keys carry full entropy.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ids::{KeyId, OrgId};

const PREFIX: &str = "pxs_";
const SECRET_BYTES: usize = 32;

/// A key as the practice holds it. Debug and Display never show it; `expose` is explicit.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn generate() -> ApiKey {
        let mut b = [0u8; SECRET_BYTES];
        super::random_bytes(&mut b);
        ApiKey(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(b)))
    }

    /// Accepts what a client sent; the shape check keeps junk from reaching the store.
    pub fn parse(raw: &str) -> Option<ApiKey> {
        let raw = raw.trim();
        let body = raw.strip_prefix(PREFIX)?;
        let ok = body.len() == 43
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| ApiKey(raw.to_owned()))
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// A short, non-secret prefix that lets an operator tell keys apart.
    pub fn hint(&self) -> String {
        self.0.chars().take(PREFIX.len() + 6).collect()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}…)", self.hint())
    }
}

/// The stored form of a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyHash(String);

impl KeyHash {
    pub fn from_stored(s: String) -> KeyHash {
        KeyHash(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Constant-time comparison, so a lookup's answer cannot be timed byte by byte.
    pub fn matches(&self, other: &KeyHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

/// What the store keeps about a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: KeyId,
    pub org_id: OrgId,
    pub hash: KeyHash,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// A new key for `org` and the record to store: the key is shown once, the record keeps
    /// only its hash.
    pub fn issue(org: OrgId, now: DateTime<Utc>) -> (ApiKey, ApiKeyRecord) {
        let key = ApiKey::generate();
        let record = ApiKeyRecord {
            id: KeyId::new(now),
            org_id: org,
            hash: key.hash(),
            hint: key.hint(),
            created_at: now,
            revoked_at: None,
        };
        (key, record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a.expose(), b.expose());
        let parsed = ApiKey::parse(a.expose()).map(|k| k.hash());
        assert_eq!(parsed, Some(a.hash()));
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let k = ApiKey::generate();
        assert!(!format!("{k:?}").contains(k.expose()));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(ApiKey::parse("").is_none());
        assert!(ApiKey::parse("pxs_short").is_none());
        assert!(ApiKey::parse(&format!("pxs_{}", "!".repeat(43))).is_none());
    }

    #[test]
    fn hash_matches_only_itself() {
        let a = ApiKey::generate().hash();
        let b = ApiKey::generate().hash();
        assert!(a.matches(&a.clone()));
        assert!(!a.matches(&b));
    }
}
