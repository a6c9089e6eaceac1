//! Portal accounts: a practice's main account ("Hauptzugang") and its team members, their
//! sign-in sessions and one-time password links. Secrets (session tokens, link tokens) are
//! random, shown once, and stored only as SHA-256 hashes; passwords are hashed by the portal.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::ids::{AccountId, OrgId};
use super::org::EmailAddress;

/// What an account may see: the owner everything, a team member SMS and replies only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Team,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Team => "team",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "team" => Some(Role::Team),
            _ => None,
        }
    }
}

/// An account of the portal. Accounts live as long as their practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub org_id: OrgId,
    pub email: EmailAddress,
    pub role: Role,
    /// The password's PHC string (Argon2id); `None` until the first set-password link is used.
    pub password_hash: Option<String>,
    /// Sessions begun before this are over ("überall abmelden", a password change).
    pub sessions_valid_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The key an account is found by at sign-in: the address in lower case, so `Praxis@…` and
/// `praxis@…` are one account.
pub fn login_key(email: &EmailAddress) -> String {
    email.as_str().to_lowercase()
}

/// A random secret handed out once (a session cookie, a set-password link): 32 bytes from the
/// operating system, URL-safe base64. Debug never shows it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Secret {
        let mut b = [0u8; 32];
        super::random_bytes(&mut b);
        Secret(URL_SAFE_NO_PAD.encode(b))
    }

    /// Takes what a browser sent back; the shape check keeps junk from reaching the store.
    pub fn parse(raw: &str) -> Option<Secret> {
        let ok = raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Secret(raw.to_owned()))
    }

    /// The stored form: SHA-256, hex. The secret carries full entropy, so a fast hash is enough.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A signed-in browser. Found by the hash of its cookie's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub account_id: AccountId,
    pub org_id: OrgId,
    /// The forms' CSRF token: random per session, compared in constant time.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, however active the session is.
    pub expires_at: DateTime<Utc>,
}

/// A one-time link to set a password (forgotten password, invitation, a new practice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordToken {
    pub token_hash: String,
    pub account_id: AccountId,
    pub org_id: OrgId,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_parse_back() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a.expose(), b.expose());
        let back = Secret::parse(a.expose()).map(|s| s.hash());
        assert_eq!(back, Some(a.hash()));
        assert!(Secret::parse("short").is_none());
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn login_key_ignores_case() {
        let a = EmailAddress::parse("Praxis@Example.de").map(|e| login_key(&e));
        let b = EmailAddress::parse("praxis@example.de").map(|e| login_key(&e));
        assert_eq!(a, b);
    }
}
