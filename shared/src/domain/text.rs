// Owns the SMS body rules: GSM-7 vs UCS-2 encoding choice, SMS part counting and the accept/reject decision.
// Also owns opt-in "smart encoding", which swaps typographic characters for GSM look-alikes so a text stays cheap.

use std::borrow::Cow;
use std::fmt;

/// Wire encoding of an SMS body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    pub fn as_str(&self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most SMS parts one message may be split into; beyond this, cost and
/// reassembly reliability on handsets are no longer acceptable.
pub const MAX_SEGMENTS: u32 = 10;

// A concatenated part loses 6 octets to the user data header, hence 153/67
// instead of 160/70.
const GSM7_SINGLE: usize = 160;
const GSM7_MULTI: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_MULTI: usize = 67;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("text is empty")]
    Empty,
    #[error(
        "text contains a control character U+{codepoint:04X} at position {position}; only line breaks are allowed"
    )]
    ControlCharacter { position: usize, codepoint: u32 },
    #[error("text needs {segments} SMS parts; at most {max} are allowed")]
    TooLong { segments: u32, max: u32 },
}

/// Counting result for a text, without any accept/reject decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub encoding: Encoding,
    pub segments: u32,
    pub units: usize,
    pub characters: usize,
    pub forcing_ucs2: Vec<char>,
}

/// An SMS body that passed all rules; the counts always describe `as_str()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText {
    text: String,
    analysis: Analysis,
}

impl MessageText {
    /// Checks and counts; with `smart_encoding` first replaces typographic characters.
    ///
    /// A control character is reported with its position in `raw` (in chars),
    /// because that is the text the practice typed and can correct.
    pub fn parse(raw: &str, smart_encoding: bool) -> Result<MessageText, TextError> {
        if let Some((position, c)) = raw
            .chars()
            .enumerate()
            .find(|&(_, c)| c.is_control() && c != '\n' && c != '\r')
        {
            return Err(TextError::ControlCharacter {
                position,
                codepoint: u32::from(c),
            });
        }
        let text = if smart_encoding {
            smart_replace(raw)
        } else {
            Cow::Borrowed(raw)
        };
        // Checked after replacement: a text of only zero-width characters
        // would otherwise pass as non-empty yet vanish under smart encoding.
        if text.chars().all(is_blank) {
            return Err(TextError::Empty);
        }
        let analysis = analyse(&text);
        if analysis.segments > MAX_SEGMENTS {
            return Err(TextError::TooLong {
                segments: analysis.segments,
                max: MAX_SEGMENTS,
            });
        }
        Ok(MessageText {
            text: text.into_owned(),
            analysis,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    pub fn encoding(&self) -> Encoding {
        self.analysis.encoding
    }

    pub fn segments(&self) -> u32 {
        self.analysis.segments
    }

    pub fn characters(&self) -> usize {
        self.analysis.characters
    }

    pub fn units(&self) -> usize {
        self.analysis.units
    }

    pub fn forcing_ucs2(&self) -> &[char] {
        &self.analysis.forcing_ucs2
    }
}

// Invisible characters count as blank so that a message which would show
// nothing on the handset is rejected as empty.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// Greedy part filler. Items (an escape pair, a surrogate pair) are never
/// split, so a part may end one unit short and push the item to the next part.
struct PartCounter {
    single: usize,
    multi: usize,
    total: usize,
    parts: u32,
    used: usize,
}

impl PartCounter {
    const fn new(single: usize, multi: usize) -> Self {
        PartCounter {
            single,
            multi,
            total: 0,
            parts: 0,
            used: 0,
        }
    }

    fn push(&mut self, size: usize) {
        self.total += size;
        if self.parts == 0 || self.used + size > self.multi {
            self.parts = self.parts.saturating_add(1);
            self.used = size;
        } else {
            self.used += size;
        }
    }

    // Filling with the multi-part capacity from the start is exact: whether
    // the text fits a single SMS only depends on its total size.
    fn segments(&self) -> u32 {
        match self.total {
            0 => 0,
            t if t <= self.single => 1,
            _ => self.parts,
        }
    }
}

/// Counts without the rejection rules (used by preview and by tests); never fails.
pub fn analyse(text: &str) -> Analysis {
    // Both encodings are counted in the same pass because the encoding is
    // only known once the last character has been seen.
    let mut gsm = PartCounter::new(GSM7_SINGLE, GSM7_MULTI);
    let mut ucs2 = PartCounter::new(UCS2_SINGLE, UCS2_MULTI);
    let mut forcing_ucs2 = Vec::new();
    // Sorted copy of `forcing_ucs2` for O(log n) de-duplication; long CJK
    // texts would make a linear scan quadratic.
    let mut seen: Vec<char> = Vec::new();
    let mut characters = 0;

    for c in text.chars() {
        characters += 1;
        ucs2.push(c.len_utf16());
        match gsm_septets(c) {
            0 => {
                if let Err(at) = seen.binary_search(&c) {
                    seen.insert(at, c);
                    forcing_ucs2.push(c);
                }
            }
            septets if forcing_ucs2.is_empty() => gsm.push(usize::from(septets)),
            _ => {}
        }
    }

    let (encoding, counter) = if forcing_ucs2.is_empty() {
        (Encoding::Gsm7, &gsm)
    } else {
        (Encoding::Ucs2, &ucs2)
    };
    Analysis {
        encoding,
        segments: counter.segments(),
        units: counter.total,
        characters,
        forcing_ucs2,
    }
}

/// Default alphabet or extension table.
pub fn is_gsm7(c: char) -> bool {
    gsm_septets(c) != 0
}

// Septets per ASCII character: 0 = not GSM, 2 = extension table (escape + char).
const ASCII_SEPTETS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut i = 0x20;
    while i < 0x7F {
        table[i] = 1;
        i += 1;
    }
    table[b'\n' as usize] = 1;
    table[b'\r' as usize] = 1;
    // The grave accent is the only printable ASCII character with no GSM encoding.
    table[b'`' as usize] = 0;
    let extension = b"\x0C^{}\\[~]|";
    let mut j = 0;
    while j < extension.len() {
        table[extension[j] as usize] = 2;
        j += 1;
    }
    table
};

/// Septets needed for `c` in GSM 03.38, or 0 when it has no GSM encoding.
fn gsm_septets(c: char) -> u8 {
    if c.is_ascii() {
        return ASCII_SEPTETS[c as usize];
    }
    match c {
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' | 'Δ' | 'Φ' | 'Γ'
        | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' | 'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä'
        | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => 1,
        '€' => 2,
        _ => 0,
    }
}

enum Replacement {
    Char(char),
    Str(&'static str),
    Remove,
}

/// Replaces typographic characters by GSM equivalents (Twilio-style "smart
/// encoding"). Characters that already are GSM are never touched, so umlauts
/// and the like survive; returns the input unchanged when nothing applies.
pub fn smart_replace(text: &str) -> Cow<'_, str> {
    // Allocated only at the first replacement: most texts need none.
    let mut out: Option<String> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let composed = chars.peek().and_then(|&(_, next)| compose(c, next));
        let replacement = match composed {
            Some(precomposed) => {
                chars.next();
                Some(Replacement::Char(precomposed))
            }
            None => smart_equivalent(c),
        };
        match replacement {
            None => {
                if let Some(buf) = out.as_mut() {
                    buf.push(c);
                }
            }
            Some(replacement) => {
                let buf = out.get_or_insert_with(|| {
                    let mut buf = String::with_capacity(text.len());
                    buf.push_str(&text[..at]);
                    buf
                });
                match replacement {
                    Replacement::Char(r) => buf.push(r),
                    Replacement::Str(r) => buf.push_str(r),
                    Replacement::Remove => {}
                }
            }
        }
    }
    match out {
        Some(buf) => Cow::Owned(buf),
        None => Cow::Borrowed(text),
    }
}

// Decomposed accents (NFD, e.g. from macOS copy-paste) would force UCS-2 for
// letters GSM has precomposed; only pairs with a GSM result are joined.
fn compose(base: char, mark: char) -> Option<char> {
    let composed = match (mark, base) {
        ('\u{0300}', 'a') => 'à',
        ('\u{0300}', 'e') => 'è',
        ('\u{0300}', 'i') => 'ì',
        ('\u{0300}', 'o') => 'ò',
        ('\u{0300}', 'u') => 'ù',
        ('\u{0301}', 'e') => 'é',
        ('\u{0301}', 'E') => 'É',
        ('\u{0303}', 'n') => 'ñ',
        ('\u{0303}', 'N') => 'Ñ',
        ('\u{0308}', 'a') => 'ä',
        ('\u{0308}', 'o') => 'ö',
        ('\u{0308}', 'u') => 'ü',
        ('\u{0308}', 'A') => 'Ä',
        ('\u{0308}', 'O') => 'Ö',
        ('\u{0308}', 'U') => 'Ü',
        ('\u{030A}', 'a') => 'å',
        ('\u{030A}', 'A') => 'Å',
        ('\u{0327}', 'C') => 'Ç',
        _ => return None,
    };
    Some(composed)
}

/// `None` keeps `c`; only non-GSM characters have an entry.
fn smart_equivalent(c: char) -> Option<Replacement> {
    use Replacement::{Char, Remove, Str};
    let replacement = match c {
        '\u{00AB}' | '\u{00BB}' | '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}'
        | '\u{2033}' | '\u{2036}' | '\u{02BA}' | '\u{02EE}' | '\u{275D}' | '\u{275E}'
        | '\u{301D}' | '\u{301E}' | '\u{301F}' => Char('"'),
        // ‹ › and ‚ are quotation marks in German and Swiss typography, so
        // they map to the apostrophe (Twilio's table uses < > and ,).
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2035}'
        | '\u{2039}' | '\u{203A}' | '\u{02B9}' | '\u{02BB}' | '\u{02BC}' | '\u{02BD}'
        | '\u{02C8}' | '\u{02CA}' | '\u{02CB}' | '\u{00B4}' | '`' | '\u{275B}' | '\u{275C}' => {
            Char('\'')
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{2043}' | '\u{FE58}' | '\u{FE63}' => Char('-'),
        '\u{2022}' | '\u{2023}' | '\u{2219}' | '\u{25AA}' | '\u{25CF}' | '\u{25E6}' => Char('-'),
        '\u{2026}' => Str("..."),
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Char(' '),
        '\u{2028}' | '\u{2029}' => Char('\n'),
        // The zero-width joiner is kept: it glues emoji sequences, and such
        // a text stays UCS-2 anyway.
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{2060}' | '\u{FEFF}' => Remove,
        '\u{00D7}' => Char('x'),
        '\u{00F7}' | '\u{2044}' | '\u{2215}' => Char('/'),
        '\u{00BC}' => Str("1/4"),
        '\u{00BD}' => Str("1/2"),
        '\u{00BE}' => Str("3/4"),
        '\u{203C}' => Str("!!"),
        '\u{02C6}' => Char('^'),
        '\u{02DC}' | '\u{223C}' => Char('~'),
        '\u{2017}' => Char('_'),
        '\u{3001}' => Char(','),
        '\u{3002}' => Char('.'),
        '\u{00A9}' => Str("(C)"),
        '\u{00AE}' => Str("(R)"),
        '\u{2122}' => Str("TM"),
        // Fullwidth forms mirror printable ASCII at a fixed offset.
        '\u{FF40}' => Char('\''),
        '\u{FF01}'..='\u{FF5E}' => match char::from_u32(u32::from(c) - 0xFEE0) {
            Some(ascii) => Char(ascii),
            None => return None,
        },
        _ => return None,
    };
    Some(replacement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segments(text: &str) -> u32 {
        analyse(text).segments
    }

    const EXTENSION: [char; 10] = ['€', '[', ']', '{', '}', '~', '^', '|', '\\', '\x0C'];

    fn all_gsm_chars() -> Vec<char> {
        (0u32..0x2100)
            .filter_map(char::from_u32)
            .filter(|&c| is_gsm7(c))
            .collect()
    }

    #[test]
    fn gsm_alphabet_has_expected_size() {
        // 128 default positions minus ESC, plus 10 extension characters.
        let gsm = all_gsm_chars();
        assert_eq!(gsm.len(), 127 + 10);
        for c in EXTENSION {
            assert_eq!(gsm_septets(c), 2, "{c:?}");
        }
        for c in "éäöüßÄÖÜàèùìòÇØøÅåÆæÉÑñ¿¡§£¥¤@$_".chars() {
            assert_eq!(gsm_septets(c), 1, "{c:?}");
        }
        for c in ['`', 'ç', 'á', '\t', '\u{7F}', 'α', 'Α'] {
            assert!(!is_gsm7(c), "{c:?}");
        }
    }

    #[test]
    fn gsm_part_boundaries() {
        for (len, expected) in [(1, 1), (160, 1), (161, 2), (300, 2), (306, 2), (307, 3)] {
            let text = "a".repeat(len);
            let a = analyse(&text);
            assert_eq!(a.encoding, Encoding::Gsm7);
            assert_eq!(a.segments, expected, "len {len}");
            assert_eq!(a.units, len);
        }
    }

    #[test]
    fn ucs2_part_boundaries() {
        for (len, expected) in [(70, 1), (71, 2), (134, 2), (135, 3)] {
            let text = "ç".repeat(len);
            let a = analyse(&text);
            assert_eq!(a.encoding, Encoding::Ucs2);
            assert_eq!(a.segments, expected, "len {len}");
        }
    }

    #[test]
    fn extension_chars_count_two_septets() {
        let a = analyse("€[]{}~^|\\\x0C");
        assert_eq!(a.encoding, Encoding::Gsm7);
        assert_eq!(a.units, 20);
        assert_eq!(a.characters, 10);
        assert_eq!(segments(&"€".repeat(80)), 1);
        assert_eq!(segments(&"€".repeat(81)), 2);
    }

    #[test]
    fn escape_pair_is_not_split_across_parts() {
        // 306 septets would fit two parts of 153, but the euro cannot start
        // at septet 153 of part one, so part two overflows.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(analyse(&text).units, 306);
        assert_eq!(segments(&text), 3);
        let shifted = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(segments(&shifted), 2);
    }

    #[test]
    fn surrogate_pair_is_not_split_across_parts() {
        let text = format!("{}😀{}", "中".repeat(66), "中".repeat(66));
        let a = analyse(&text);
        assert_eq!(a.units, 134);
        assert_eq!(a.segments, 3);
        let shifted = format!("{}😀{}", "中".repeat(65), "中".repeat(67));
        assert_eq!(segments(&shifted), 2);
    }

    #[test]
    fn ten_parts_accepted_eleven_rejected() {
        let ok = MessageText::parse(&"a".repeat(1530), false).expect("10 parts");
        assert_eq!(ok.segments(), 10);
        assert_eq!(
            MessageText::parse(&"a".repeat(1531), false),
            Err(TextError::TooLong {
                segments: 11,
                max: MAX_SEGMENTS
            })
        );
    }

    #[test]
    fn empty_and_blank_rejected() {
        for text in ["", " ", "\n\r\n", " \u{00A0}\u{3000}", "\u{200B}\u{FEFF}"] {
            assert_eq!(
                MessageText::parse(text, false),
                Err(TextError::Empty),
                "{text:?}"
            );
            assert_eq!(
                MessageText::parse(text, true),
                Err(TextError::Empty),
                "{text:?}"
            );
        }
        assert_eq!(analyse("").segments, 0);
        assert_eq!(analyse("").encoding, Encoding::Gsm7);
    }

    #[test]
    fn control_character_rejected_with_position() {
        let err = MessageText::parse("Hallo\u{7}Welt", false).unwrap_err();
        assert_eq!(
            err,
            TextError::ControlCharacter {
                position: 5,
                codepoint: 7
            }
        );
        assert_eq!(
            err.to_string(),
            "text contains a control character U+0007 at position 5; only line breaks are allowed"
        );
        // Position is in characters of the raw text, not bytes.
        assert_eq!(
            MessageText::parse("„ä“\t", true),
            Err(TextError::ControlCharacter {
                position: 3,
                codepoint: 9
            })
        );
        assert!(matches!(
            MessageText::parse("a\u{0C}", false),
            Err(TextError::ControlCharacter {
                position: 1,
                codepoint: 0x0C
            })
        ));
        assert!(matches!(
            MessageText::parse("a\u{85}", false),
            Err(TextError::ControlCharacter { .. })
        ));
    }

    #[test]
    fn line_breaks_allowed() {
        let t = MessageText::parse("Termin:\r\nMo 9 Uhr\nBitte bestätigen", false)
            .expect("line breaks are fine");
        assert_eq!(t.encoding(), Encoding::Gsm7);
        assert_eq!(t.segments(), 1);
        assert_eq!(t.as_str(), "Termin:\r\nMo 9 Uhr\nBitte bestätigen");
    }

    #[test]
    fn smart_encoding_makes_german_typography_gsm() {
        let raw = "„Hallo“ – Ihr Termin… bei Dr.\u{00A0}Müller\u{200B}: Größe ‚gut‘ — ÄÖÜß é";
        let plain = MessageText::parse(raw, false).expect("valid");
        assert_eq!(plain.encoding(), Encoding::Ucs2);
        assert_eq!(
            plain.forcing_ucs2(),
            &['„', '“', '–', '…', '\u{00A0}', '\u{200B}', '‚', '‘', '—']
        );

        let smart = MessageText::parse(raw, true).expect("valid");
        assert_eq!(smart.encoding(), Encoding::Gsm7);
        assert!(smart.forcing_ucs2().is_empty());
        assert_eq!(
            smart.as_str(),
            "\"Hallo\" - Ihr Termin... bei Dr. Müller: Größe 'gut' - ÄÖÜß é"
        );
        assert_eq!(smart.characters(), smart.as_str().chars().count());
        assert_eq!(smart.units(), smart.characters());
        assert_eq!(smart.clone().into_string(), smart.as_str());
    }

    #[test]
    fn smart_encoding_keeps_gsm_and_borrows_when_unchanged() {
        let text = "éäöüßÄÖÜàèùìòÇØøÅåÆæÉÑñ¿¡§£¥¤€[]{}~^|\\ 😀 ç";
        assert!(matches!(smart_replace(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn smart_encoding_composes_decomposed_umlauts() {
        assert_eq!(smart_replace("Mu\u{0308}ller Jose\u{0301}"), "Müller José");
        // No GSM precomposed form: left alone.
        assert_eq!(smart_replace("c\u{0327}a\u{0301}"), "c\u{0327}a\u{0301}");
    }

    #[test]
    fn smart_table_only_replaces_non_gsm_by_gsm() {
        let mut replaced = 0;
        for c in (0u32..0x30000).filter_map(char::from_u32) {
            let Some(replacement) = smart_equivalent(c) else {
                continue;
            };
            replaced += 1;
            assert!(!is_gsm7(c), "{c:?} is GSM and must not be replaced");
            let out = match replacement {
                Replacement::Char(r) => r.to_string(),
                Replacement::Str(r) => r.to_string(),
                Replacement::Remove => String::new(),
            };
            assert!(out.chars().all(is_gsm7), "{c:?} -> {out:?}");
        }
        assert!(replaced > 100);
    }

    #[test]
    fn forcing_ucs2_is_distinct_in_first_appearance_order() {
        let a = analyse("Zahn 🦷 ç 中 🦷 ç x 中 á");
        assert_eq!(a.encoding, Encoding::Ucs2);
        assert_eq!(a.forcing_ucs2, vec!['🦷', 'ç', '中', 'á']);
        assert_eq!(a.characters, 20);
        assert_eq!(a.units, 22);
        assert!(analyse("Hallo €").forcing_ucs2.is_empty());
    }

    #[test]
    fn encoding_names() {
        assert_eq!(Encoding::Gsm7.as_str(), "GSM-7");
        assert_eq!(Encoding::Ucs2.to_string(), "UCS-2");
        assert_eq!(
            serde_json::to_string(&Encoding::Gsm7).expect("serialize"),
            "\"GSM-7\""
        );
        let back: Encoding = serde_json::from_str("\"UCS-2\"").expect("deserialize");
        assert_eq!(back, Encoding::Ucs2);
    }

    /// Independent model: lay the text out as a septet stream and cut it
    /// every 153 septets, one septet earlier when the cut would fall between
    /// an escape and its character.
    fn expected_gsm_segments(text: &str) -> u32 {
        let mut escape_starts = Vec::new();
        for c in text.chars() {
            if EXTENSION.contains(&c) {
                escape_starts.push(true);
                escape_starts.push(false);
            } else {
                escape_starts.push(false);
            }
        }
        let total = escape_starts.len();
        if total == 0 {
            return 0;
        }
        if total <= 160 {
            return 1;
        }
        let (mut start, mut parts) = (0, 0);
        while start < total {
            let mut end = (start + 153).min(total);
            if end < total && escape_starts[end - 1] {
                end -= 1;
            }
            start = end;
            parts += 1;
        }
        parts
    }

    fn gsm_text() -> impl Strategy<Value = String> {
        let alphabet = all_gsm_chars();
        // Extension-heavy mixes make escape pairs land on part boundaries.
        let extension: Vec<char> = EXTENSION.to_vec();
        let c = prop_oneof![
            3 => prop::sample::select(alphabet),
            1 => prop::sample::select(extension),
        ];
        prop::collection::vec(c, 0..1700).prop_map(|v| v.into_iter().collect())
    }

    fn any_text() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            4 => prop::sample::select(all_gsm_chars()),
            1 => any::<char>(),
            1 => prop::sample::select(vec!['😀', '🦷', 'ç', '中', '€']),
        ];
        prop::collection::vec(c, 0..800).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn gsm_segments_match_independent_model(text in gsm_text()) {
            let a = analyse(&text);
            prop_assert_eq!(a.encoding, Encoding::Gsm7);
            prop_assert_eq!(a.segments, expected_gsm_segments(&text));
            let septets: usize = text.chars().map(|c| if EXTENSION.contains(&c) { 2 } else { 1 }).sum();
            prop_assert_eq!(a.units, septets);
        }

        #[test]
        fn segments_monotone_when_appending(text in any_text(), c in any::<char>()) {
            let before = analyse(&text).segments;
            let mut longer = text.clone();
            longer.push(c);
            prop_assert!(analyse(&longer).segments >= before);
        }

        #[test]
        fn ucs2_units_are_utf16_units(text in any_text(), c in any::<char>().prop_filter("non-GSM", |c| !is_gsm7(*c))) {
            let text = format!("{text}{c}");
            let a = analyse(&text);
            prop_assert_eq!(a.encoding, Encoding::Ucs2);
            prop_assert_eq!(a.units, text.encode_utf16().count());
            prop_assert_eq!(a.characters, text.chars().count());
            prop_assert!(a.forcing_ucs2.contains(&c));
        }

        #[test]
        fn smart_replace_of_replaceable_and_gsm_is_gsm(
            parts in prop::collection::vec(
                prop_oneof![
                    prop::sample::select(all_gsm_chars()),
                    prop::sample::select(
                        (0u32..0x10000)
                            .filter_map(char::from_u32)
                            .filter(|&c| smart_equivalent(c).is_some())
                            .collect::<Vec<_>>()
                    ),
                ],
                0..300,
            )
        ) {
            let text: String = parts.into_iter().collect();
            let out = smart_replace(&text);
            prop_assert!(out.chars().all(is_gsm7), "{:?} -> {:?}", text, out);
            prop_assert_eq!(analyse(&out).encoding, Encoding::Gsm7);
        }
    }
}
