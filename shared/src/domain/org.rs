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
    /// The billing address invoices are made out to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
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
    /// The billing address invoices are made out to from now on (stored invoices keep theirs).
    pub address: Option<PostalAddress>,
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
        if let Some(v) = &self.address {
            out.address = Some(v.clone());
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
    #[error(
        "the part of an e-mail address before the @ must be ASCII (umlauts are fine in the domain)"
    )]
    NonAsciiMailbox,
    #[error(
        "an address is street lines and a last line with postcode and city, separated by commas or line breaks, e.g. \"Hauptstraße 1, 12345 Musterstadt\""
    )]
    BadAddress,
}

/// A billing address: one or two street lines (with the practice's name as the invoice
/// prints it first, a c/o or a building may be a line of its own), postcode and city. The
/// country comes from the practice's region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub postcode: String,
    pub city: String,
}

impl PostalAddress {
    /// `Hauptstraße 1, 12345 Musterstadt` (commas or line breaks between the lines): the last
    /// line starts with a postcode of 4 or 5 digits (DE 5, AT and CH 4).
    pub fn parse(raw: &str) -> Result<PostalAddress, OrgError> {
        let parts: Vec<&str> = raw
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let (last, lines) = parts.split_last().ok_or(OrgError::BadAddress)?;
        let (postcode, city) = last.split_once(' ').ok_or(OrgError::BadAddress)?;
        let city = city.trim();
        let ok_code =
            (4..=5).contains(&postcode.len()) && postcode.bytes().all(|b| b.is_ascii_digit());
        let clean = |l: &str| l.chars().count() <= 100 && !l.chars().any(char::is_control);
        if !ok_code || city.is_empty() || lines.is_empty() || lines.len() > 2 {
            return Err(OrgError::BadAddress);
        }
        if !lines.iter().all(|l| clean(l)) || !clean(city) {
            return Err(OrgError::BadAddress);
        }
        Ok(PostalAddress {
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
            postcode: postcode.to_owned(),
            city: city.to_owned(),
        })
    }

    /// `Hauptstraße 1, 12345 Musterstadt`, the form `parse` reads.
    pub fn one_line(&self) -> String {
        let mut s = self.lines.join(", ");
        s.push_str(&format!(", {} {}", self.postcode, self.city));
        s
    }
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
        // Mail goes out as 7-bit headers (SES's raw messages; no SMTPUTF8): an umlaut domain is
        // stored in its ASCII (punycode) form, a non-ASCII local part cannot be written at all.
        if !local.is_ascii() {
            return Err(OrgError::NonAsciiMailbox);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| OrgError::BadEmail)?;
        let address = format!("{local}@{domain}");
        // What the mail builder refuses could never be sent to: refused here, not at sending.
        address
            .parse::<lettre::Address>()
            .map_err(|_| OrgError::BadEmail)?;
        Ok(EmailAddress(address))
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
    fn an_umlaut_domain_is_kept_as_punycode_and_an_umlaut_mailbox_refused() {
        assert_eq!(
            EmailAddress::parse("empfang@praxis-müller.de").map(|e| e.as_str().to_owned()),
            Ok("empfang@xn--praxis-mller-klb.de".to_owned())
        );
        assert_eq!(
            EmailAddress::parse("jürgen@praxis.de"),
            Err(OrgError::NonAsciiMailbox)
        );
        assert_eq!(
            EmailAddress::parse("a..b@praxis.de"),
            Err(OrgError::BadEmail)
        );
    }

    #[test]
    fn emails_need_a_user_and_a_dotted_domain() {
        assert!(EmailAddress::parse("praxis@example.de").is_ok());
        assert!(EmailAddress::parse("praxis@localhost").is_err());
        assert!(EmailAddress::parse("praxis example.de").is_err());
        assert!(EmailAddress::parse("a b@example.de").is_err());
        assert!(EmailAddress::parse("@example.de").is_err());
    }

    #[test]
    fn addresses_need_street_and_postcode_with_city() {
        let a = PostalAddress::parse(" Hauptstraße 1 ,\n 12345 Münster-Hiltrup ").expect("valid");
        assert_eq!(a.lines, ["Hauptstraße 1"]);
        assert_eq!(
            (a.postcode.as_str(), a.city.as_str()),
            ("12345", "Münster-Hiltrup")
        );
        assert_eq!(a.one_line(), "Hauptstraße 1, 12345 Münster-Hiltrup");
        assert!(PostalAddress::parse("c/o Ärztehaus, Ring 2, 1010 Wien").is_ok());
        for bad in [
            "",
            "12345 Musterstadt",
            "Hauptstraße 1, Musterstadt",
            "Hauptstraße 1, 123 X",
            "a, b, c, 12345 X",
        ] {
            assert_eq!(
                PostalAddress::parse(bad),
                Err(OrgError::BadAddress),
                "{bad}"
            );
        }
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
