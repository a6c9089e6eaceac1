//! Practices ("Praxen"): who they are, how they are reached, and the defaults their messages
//! are sent with.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::OrgId;
use super::phone::{PhoneNumber, Region};
use super::sender::SenderId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: OrgName,
    pub email: EmailAddress,
    /// Where patients' replies are forwarded, if not to `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_email: Option<EmailAddress>,
    pub default_sender: Option<SenderId>,
    pub region: Region,
    /// A dedicated number patients can answer to; when set it is the sender of every message.
    pub reply_number: Option<PhoneNumber>,
    /// The first day of service: the first 30 days from here are not charged.
    pub activated_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Most SMS the API accepts from this practice in one of its local days; `None`: the
    /// stack's default (`PRAXIS_SMS_DAILY_CAP`). Protects a practice from a runaway loop in
    /// its own software.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_cap: Option<u32>,
}

impl Org {
    /// Where patients' replies are e-mailed: the reply address if the practice set one, else
    /// its e-mail.
    pub fn reply_address(&self) -> &EmailAddress {
        self.reply_email.as_ref().unwrap_or(&self.email)
    }

    /// The sender a message goes out with: the reply number wins, since replies only reach the
    /// practice through it; then the request's sender; then the practice's default.
    pub fn sender_for(&self, requested: Option<SenderId>) -> Option<SenderId> {
        if let Some(n) = &self.reply_number {
            return SenderId::parse(n.as_str()).ok();
        }
        requested.or_else(|| self.default_sender.clone())
    }
}

/// A change of a practice's settings: each `Some` replaces that setting, `None` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgChanges {
    pub name: Option<OrgName>,
    pub email: Option<EmailAddress>,
    pub reply_email: Option<EmailAddress>,
    pub default_sender: Option<SenderId>,
    /// How national numbers are read from now on; numbers stored already stay as they are.
    pub region: Option<Region>,
    /// `Some(None)` removes the reply number, `Some(Some(n))` sets it.
    pub reply_number: Option<Option<PhoneNumber>>,
    pub daily_cap: Option<u32>,
}

impl OrgChanges {
    pub fn is_empty(&self) -> bool {
        *self == OrgChanges::default()
    }

    /// `org` with these changes made.
    pub fn applied_to(&self, org: &Org) -> Org {
        let mut out = org.clone();
        if let Some(v) = &self.name {
            out.name = v.clone();
        }
        if let Some(v) = &self.email {
            out.email = v.clone();
        }
        if let Some(v) = &self.reply_email {
            out.reply_email = Some(v.clone());
        }
        if let Some(v) = &self.default_sender {
            out.default_sender = Some(v.clone());
        }
        if let Some(v) = self.region {
            out.region = v;
        }
        if let Some(v) = self.daily_cap {
            out.daily_cap = Some(v);
        }
        if let Some(v) = &self.reply_number {
            out.reply_number = v.clone();
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("the practice name must not be empty")]
    EmptyName,
    #[error("the practice name is longer than 200 characters")]
    NameTooLong,
    #[error("not a valid e-mail address")]
    BadEmail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(raw: &str) -> Result<OrgName, OrgError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(OrgError::EmptyName);
        }
        if s.chars().count() > 200 {
            return Err(OrgError::NameTooLong);
        }
        Ok(OrgName(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgName {
    type Error = OrgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrgName::parse(&s)
    }
}
impl From<OrgName> for String {
    fn from(n: OrgName) -> String {
        n.0
    }
}

/// An address mail can be sent to: one `@`, a dotted domain, no spaces or control characters.
/// Deliverability is the mail system's business; this only keeps obvious typos out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, OrgError> {
        let s = raw.trim();
        let (local, domain) = s.split_once('@').ok_or(OrgError::BadEmail)?;
        let clean = |p: &str| {
            !p.is_empty()
                && !p
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>'))
        };
        if s.len() > 254 || !clean(local) || !clean(domain) || !domain.contains('.') {
            return Err(OrgError::BadEmail);
        }
        if domain.starts_with('.') || domain.ends_with('.') {
            return Err(OrgError::BadEmail);
        }
        Ok(EmailAddress(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = OrgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&s)
    }
}
impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_a_user_and_a_dotted_domain() {
        assert!(EmailAddress::parse("praxis@example.de").is_ok());
        assert!(EmailAddress::parse("praxis@localhost").is_err());
        assert!(EmailAddress::parse("praxis example.de").is_err());
        assert!(EmailAddress::parse("a b@example.de").is_err());
        assert!(EmailAddress::parse("@example.de").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            OrgName::parse("  Praxis Dr. Muster ").map(|n| n.as_str().to_owned()),
            Ok("Praxis Dr. Muster".to_owned())
        );
        assert_eq!(OrgName::parse("   "), Err(OrgError::EmptyName));
        assert_eq!(OrgName::parse(&"x".repeat(201)), Err(OrgError::NameTooLong));
    }
}
