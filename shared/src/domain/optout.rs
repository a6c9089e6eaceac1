//! Opt-outs: a patient's number that asked not to get a practice's SMS any more, and the reply
//! keywords that opt a number out (`STOP`) and back in (`START`). An opt-out keeps no text and
//! does not expire with the 60-day data: it stands until it is lifted.

use std::fmt;

use chrono::{DateTime, Utc};

use super::ids::{OptOutId, OrgId};
use super::phone::PhoneNumber;

/// What a reply asks for when it is nothing but one of the keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// `STOP`, `STOPP`, `ABMELDEN`, `STOP ALLE`: no more SMS from this practice.
    Stop,
    /// `START`, `ANMELDEN`: SMS from this practice again.
    Start,
}

impl Keyword {
    /// The keyword `text` is, if it is only that: any case, surrounding spaces and punctuation
    /// ignored (`„Stopp!“`), words apart by any spaces. A keyword inside a longer reply
    /// (`STOP bitte morgen`) is a message for the practice, not a request to opt out.
    pub fn of(text: &str) -> Option<Keyword> {
        let core = text.trim_matches(|c: char| c.is_whitespace() || is_punctuation(c));
        let words: Vec<String> = core.split_whitespace().map(str::to_uppercase).collect();
        match words.join(" ").as_str() {
            "STOP" | "STOPP" | "ABMELDEN" | "STOP ALLE" => Some(Keyword::Stop),
            "START" | "ANMELDEN" => Some(Keyword::Start),
            _ => None,
        }
    }

    /// What the practice is told about such a reply (the reply's e-mail), in German.
    pub fn notice_de(self) -> &'static str {
        match self {
            Keyword::Stop => {
                "Mit dieser Antwort hat sich die Nummer von den SMS Ihrer Praxis abgemeldet. \
                 Weitere SMS an sie werden abgelehnt, bis sie sich mit START wieder anmeldet \
                 oder Sie die Abmeldung aufheben."
            }
            Keyword::Start => {
                "Mit dieser Antwort hat sich die Nummer wieder für die SMS Ihrer Praxis \
                 angemeldet."
            }
        }
    }
}

/// Punctuation a phone adds or a patient types around a keyword: ASCII punctuation, the
/// Latin-1 marks (`¡ ¿ « » ·`), and the general punctuation block (typographic quotes and
/// dashes, `…`, and the invisible zero-width characters some keyboards insert), plus the
/// byte order mark. Letters, digits and emoji are not punctuation: `STOP 2` is no keyword.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '¡' | '¿' | '«' | '»' | '·' | '\u{feff}')
        || ('\u{2000}'..='\u{206f}').contains(&c)
}

/// How a number came to be opted out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The patient answered with a stop keyword.
    Keyword,
    /// Recorded on the practice's behalf (by the operator, or later the portal).
    Practice,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Keyword, Source::Practice];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Keyword => "keyword",
            Source::Practice => "practice",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A number that gets no more SMS from one practice. Other practices are not affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    /// Ours, from when it was recorded: a practice's opt-outs are listed newest first by it.
    pub id: OptOutId,
    pub org_id: OrgId,
    pub number: PhoneNumber,
    pub since: DateTime<Utc>,
    pub source: Source,
}

impl OptOut {
    pub fn new(org_id: OrgId, number: PhoneNumber, since: DateTime<Utc>, source: Source) -> Self {
        OptOut {
            id: OptOutId::new(since),
            org_id,
            number,
            since,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_keywords_in_any_case() {
        for text in [
            "STOP",
            "stop",
            "Stop",
            "STOPP",
            "stopp",
            "ABMELDEN",
            "abmelden",
            "Abmelden",
            "STOP ALLE",
            "stop alle",
            "Stop Alle",
        ] {
            assert_eq!(Keyword::of(text), Some(Keyword::Stop), "{text:?}");
        }
    }

    #[test]
    fn the_start_keywords_in_any_case() {
        for text in ["START", "start", "Start", "ANMELDEN", "anmelden"] {
            assert_eq!(Keyword::of(text), Some(Keyword::Start), "{text:?}");
        }
    }

    #[test]
    fn surrounding_spaces_and_punctuation_are_ignored() {
        for text in [
            "  STOP  ",
            "\tstop\n",
            "STOP!",
            "Stopp!!!",
            "stop.",
            "\"STOP\"",
            "„Stopp“",
            "«abmelden»",
            "...Stop...",
            "STOP\u{200b}",
            "\u{feff}stop",
            "– STOP –",
            "  stop   alle ! ",
            "STOP\u{a0}ALLE",
        ] {
            assert_eq!(Keyword::of(text), Some(Keyword::Stop), "{text:?}");
        }
        assert_eq!(Keyword::of(" Start! "), Some(Keyword::Start));
    }

    #[test]
    fn a_keyword_inside_a_longer_reply_is_no_keyword() {
        for text in [
            "STOP bitte morgen",
            "Bitte STOP",
            "stop alle sms",
            "STOPPEN",
            "STOP 2",
            "ST OP",
            "STOP, ALLE",
            "Ich möchte mich abmelden",
            "Starten",
            "",
            "   ",
            "!!!",
            "Ja, ich komme",
        ] {
            assert_eq!(Keyword::of(text), None, "{text:?}");
        }
    }

    #[test]
    fn sources_round_trip_through_their_names() {
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
        assert_eq!(Source::parse("patient"), None);
    }
}
