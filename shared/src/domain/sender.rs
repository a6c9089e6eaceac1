// SMS sender ids ("Absender"): which numeric and alphanumeric senders a practice may
// configure, and the messages that explain the rule when one is refused.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MAX_DIGITS: usize = 16;
const MAX_ALPHANUMERIC: usize = 11;
const RULE: &str = "a sender is up to 16 digits (optionally with a leading +), \
                    or up to 11 letters, digits and spaces with at least one letter";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderError {
    #[error("sender is empty; {rule}", rule = RULE)]
    Empty,
    #[error("numeric sender has {count} digits, at most {max} are allowed; {rule}", max = MAX_DIGITS, rule = RULE)]
    TooManyDigits { count: usize },
    #[error("sender has {len} characters, at most {max} are allowed; {rule}", max = MAX_ALPHANUMERIC, rule = RULE)]
    TooLong { len: usize },
    #[error(
        "sender has no letter: a numeric sender must be digits only, without spaces; {rule}",
        rule = RULE
    )]
    NoLetter,
    #[error(
        "'+' is only allowed as the first character of a numeric sender, followed by digits; {rule}",
        rule = RULE
    )]
    MisplacedPlus,
    #[error(
        "sender contains {ch:?}: umlauts and other non-ASCII letters are not allowed because many networks reject them (write e.g. \"ae\" for \"ä\"); {rule}",
        rule = RULE
    )]
    NonAsciiLetter { ch: char },
    #[error("sender contains {ch:?}, which is not allowed; {rule}", rule = RULE)]
    BadCharacter { ch: char },
}

/// A sender id that networks accept: numeric (a phone number) or alphanumeric (a name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SenderId(String);

impl SenderId {
    pub fn parse(raw: &str) -> Result<SenderId, SenderError> {
        let sender = raw.trim();
        if sender.is_empty() {
            return Err(SenderError::Empty);
        }
        let (plus, body) = match sender.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, sender),
        };
        if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
            if body.len() > MAX_DIGITS {
                return Err(SenderError::TooManyDigits { count: body.len() });
            }
            return Ok(SenderId(sender.to_owned()));
        }
        // A "+" marks an international number, so it makes no sense before a name.
        if plus && (body.is_empty() || body.bytes().any(|b| b.is_ascii_alphabetic())) {
            return Err(SenderError::MisplacedPlus);
        }

        for ch in body.chars() {
            match ch {
                'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' => {}
                '+' => return Err(SenderError::MisplacedPlus),
                _ if ch.is_alphabetic() => return Err(SenderError::NonAsciiLetter { ch }),
                _ => return Err(SenderError::BadCharacter { ch }),
            }
        }
        // Checked before the length: for "0171 1234 5678" the spaces are the
        // mistake, and networks would treat such a sender as a broken number.
        if !body.bytes().any(|b| b.is_ascii_alphabetic()) {
            return Err(SenderError::NoLetter);
        }
        // Only ASCII is left, so bytes are characters.
        if sender.len() > MAX_ALPHANUMERIC {
            return Err(SenderError::TooLong { len: sender.len() });
        }
        Ok(SenderId(sender.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Numeric senders are phone numbers; recipients can reply to them.
    pub fn is_numeric(&self) -> bool {
        !self.0.bytes().any(|b| b.is_ascii_alphabetic())
    }
}

impl fmt::Display for SenderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for SenderId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SenderId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        SenderId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> SenderId {
        match SenderId::parse(raw) {
            Ok(sender) => sender,
            Err(e) => panic!("{raw:?} rejected: {e}"),
        }
    }

    #[test]
    fn sixteen_digits_are_a_numeric_sender() {
        let sender = ok("4917612345678901");
        assert!(sender.is_numeric());
        assert_eq!(sender.as_str(), "4917612345678901");
    }

    #[test]
    fn seventeen_digits_are_too_many() {
        assert_eq!(
            SenderId::parse("49176123456789012"),
            Err(SenderError::TooManyDigits { count: 17 })
        );
        assert_eq!(
            SenderId::parse("+49176123456789012"),
            Err(SenderError::TooManyDigits { count: 17 })
        );
    }

    #[test]
    fn leading_plus_is_kept_on_numeric_senders() {
        let sender = ok("+4912341234567");
        assert!(sender.is_numeric());
        assert_eq!(sender.to_string(), "+4912341234567");
    }

    #[test]
    fn alphanumeric_sender_with_space() {
        let sender = ok("Dr Muster");
        assert!(!sender.is_numeric());
        assert_eq!(sender.as_str(), "Dr Muster");
        // Spaces count towards the 11 characters.
        assert!(!ok("Dr Muster 1").is_numeric());
        assert_eq!(
            SenderId::parse("Dr  Muster 1"),
            Err(SenderError::TooLong { len: 12 })
        );
    }

    #[test]
    fn twelve_letters_are_too_long() {
        assert_eq!(
            SenderId::parse("Zahnarztpxis"),
            Err(SenderError::TooLong { len: 12 })
        );
        assert!(ok("Zahnarztpxs").as_str().len() == 11);
    }

    #[test]
    fn umlauts_are_refused_with_a_reason() {
        let err = SenderId::parse("Zahnärzte").unwrap_err();
        assert_eq!(err, SenderError::NonAsciiLetter { ch: 'ä' });
        let message = err.to_string();
        assert!(message.contains("umlauts"), "{message}");
        assert!(message.contains("networks reject"), "{message}");
        assert_eq!(
            SenderId::parse("Praxis ß"),
            Err(SenderError::NonAsciiLetter { ch: 'ß' })
        );
    }

    #[test]
    fn punctuation_is_refused() {
        assert_eq!(
            SenderId::parse("Praxis-Dr"),
            Err(SenderError::BadCharacter { ch: '-' })
        );
        assert_eq!(
            SenderId::parse("Dr.Muster"),
            Err(SenderError::BadCharacter { ch: '.' })
        );
        assert_eq!(
            SenderId::parse("Dr\tMuster"),
            Err(SenderError::BadCharacter { ch: '\t' })
        );
    }

    #[test]
    fn blank_is_empty() {
        assert_eq!(SenderId::parse("   "), Err(SenderError::Empty));
        assert_eq!(SenderId::parse(""), Err(SenderError::Empty));
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(ok("  Praxis \n").as_str(), "Praxis");
        assert_eq!(ok(" 0171123 ").as_str(), "0171123");
    }

    #[test]
    fn digits_with_spaces_need_a_letter() {
        let err = SenderId::parse("0171 123").unwrap_err();
        assert_eq!(err, SenderError::NoLetter);
        assert!(err.to_string().contains("without spaces"));
        assert_eq!(
            SenderId::parse("0171 1234 5678"),
            Err(SenderError::NoLetter)
        );
    }

    #[test]
    fn plus_only_starts_numeric_senders() {
        assert_eq!(SenderId::parse("+"), Err(SenderError::MisplacedPlus));
        assert_eq!(SenderId::parse("+Praxis"), Err(SenderError::MisplacedPlus));
        assert_eq!(SenderId::parse("+49 171"), Err(SenderError::NoLetter));
        assert_eq!(
            SenderId::parse("+49-171"),
            Err(SenderError::BadCharacter { ch: '-' })
        );
        assert_eq!(SenderId::parse("Praxis+1"), Err(SenderError::MisplacedPlus));
        assert_eq!(SenderId::parse("0171+1"), Err(SenderError::MisplacedPlus));
    }

    #[test]
    fn messages_quote_the_rule() {
        for err in [
            SenderError::Empty,
            SenderError::TooManyDigits { count: 17 },
            SenderError::TooLong { len: 12 },
            SenderError::NoLetter,
            SenderError::MisplacedPlus,
            SenderError::NonAsciiLetter { ch: 'ö' },
            SenderError::BadCharacter { ch: '#' },
        ] {
            let message = err.to_string();
            assert!(
                message.contains("up to 16 digits")
                    && message
                        .contains("up to 11 letters, digits and spaces with at least one letter"),
                "{message}"
            );
        }
    }

    #[test]
    fn serde_round_trip_validates() {
        let sender = ok("Dr Muster");
        let json = serde_json::to_string(&sender).unwrap();
        assert_eq!(json, "\"Dr Muster\"");
        assert_eq!(serde_json::from_str::<SenderId>(&json).unwrap(), sender);
        assert!(serde_json::from_str::<SenderId>("\"Zahnärzte\"").is_err());
        assert!(serde_json::from_str::<SenderId>("\"\"").is_err());
    }
}
