// Owns the SMS body rules: GSM-7 vs UCS-2 encoding choice, SMS part counting and the accept/reject decision.
// Also owns opt-in "smart encoding", which swaps typographic characters for GSM look-alikes so a text stays cheap.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use unicode_segmentation::UnicodeSegmentation;

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

/// Most UTF-16 code units one grapheme cluster (one user-perceived character) may take.
/// Combining marks can make a cluster arbitrarily long (`e` and 400,000 accents is one
/// character); Unicode's Stream-Safe Text Format (UAX #15) allows at most 30 combining marks
/// in a row, 32 units with a base from any plane, and the longest emoji sequences Unicode
/// recommends (RGI, e.g. a kiss with two skin tones) take 15. Up to half a UCS-2 part (33.5
/// units) the calculator's part filling is plain greedy filling, so every accepted text is
/// counted the way carriers cut it.
pub const MAX_CLUSTER_UNITS: usize = 32;

// A concatenated part loses 6 octets to the user data header, hence 153/67
// instead of 160/70.
const GSM7_SINGLE: usize = 160;
const GSM7_MULTI: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_MULTI: usize = 67;

/// Units of a single SMS and of each part of a longer one.
const fn capacities(encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Gsm7 => (GSM7_SINGLE, GSM7_MULTI),
        Encoding::Ucs2 => (UCS2_SINGLE, UCS2_MULTI),
    }
}

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
    #[error(
        "text contains a character at position {position} made of {units} UTF-16 code units \
         (a letter with many combining marks, or a long chain of joined emoji); \
         at most {max} are allowed",
        max = MAX_CLUSTER_UNITS
    )]
    ClusterTooLong { position: usize, units: usize },
}

/// Counting result for a text, without any accept/reject decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub encoding: Encoding,
    pub segments: u32,
    pub units: usize,
    pub characters: usize,
    pub forcing_ucs2: Vec<char>,
    /// The longest item part filling keeps whole, in UTF-16 code units, and where it starts
    /// (in characters): `(0, 0)` for an empty text.
    pub longest_cluster: (usize, usize),
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
    ///
    /// A tab is allowed: GSM-7 has none, so it makes the text UCS-2 (as Twilio's calculator
    /// counts it and carriers send it), or with `smart_encoding` it becomes one space.
    pub fn parse(raw: &str, smart_encoding: bool) -> Result<MessageText, TextError> {
        if let Some((position, c)) = raw
            .chars()
            .enumerate()
            .find(|&(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
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
        // Checked on the text as sent: removing a zero-width space can join two clusters.
        let (position, units) = analysis.longest_cluster;
        if units > MAX_CLUSTER_UNITS {
            return Err(TextError::ClusterTooLong { position, units });
        }
        // Carriers cut by code units, so the cap is in units too; with clusters as short as
        // above, 10 parts never hold more, and the part count alone would do.
        let (_, multi) = capacities(analysis.encoding);
        let segments = analysis
            .segments
            .max(u32::try_from(analysis.units.div_ceil(multi)).unwrap_or(u32::MAX));
        if segments > MAX_SEGMENTS {
            return Err(TextError::TooLong {
                segments,
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

/// Part filler that reproduces Twilio's segment calculator (npm
/// `sms-segments-calculator` 1.3.0), which the counts must agree with.
///
/// Items (see [`count`]) are never split: when one does not fit, the part
/// ends early and the whole item moves to the next part. Like the calculator,
/// the first part is filled up to the single-SMS size; only when an item no
/// longer fits does that part get the concatenation header and hand its tail
/// beyond the multi-part size, as whole items, to part two, which then takes
/// the item without a size check. After that an item that does not fit starts
/// a new part, even when it is larger than a whole part. While no item is
/// longer than half a part this equals greedy filling at the multi-part size
/// (and one part when the total fits a single SMS); only longer grapheme
/// clusters (long ZWJ chains, stacked accents) see the difference.
struct PartCounter {
    single: usize,
    multi: usize,
    total: usize,
    parts: u32,
    /// Units in the current part (may exceed `multi`, see above).
    used: usize,
    /// While in part one: units before the first item that crosses `multi`,
    /// i.e. what part one keeps once it needs the header ...
    kept: usize,
    /// ... and the byte offset of that item, where part two then starts.
    tail_start: usize,
}

impl PartCounter {
    const fn new(single: usize, multi: usize) -> Self {
        PartCounter {
            single,
            multi,
            total: 0,
            parts: 1,
            used: 0,
            kept: 0,
            tail_start: 0,
        }
    }

    /// Adds the item starting at byte `at`; returns the byte offset where a
    /// new part starts, if this item opened one.
    fn push(&mut self, at: usize, size: usize) -> Option<usize> {
        self.total += size;
        if self.parts == 1 {
            if self.used <= self.multi && self.used + size > self.multi {
                self.kept = self.used;
                self.tail_start = at;
            }
            if self.used + size <= self.single {
                self.used += size;
                return None;
            }
            // Part one overflows: it makes room for the header by moving its
            // tail (possibly everything) to part two, which also takes the item.
            self.parts = 2;
            self.used = self.used - self.kept + size;
            return Some(self.tail_start);
        }
        if self.used + size > self.multi {
            self.parts = self.parts.saturating_add(1);
            self.used = size;
            Some(at)
        } else {
            self.used += size;
            None
        }
    }

    fn segments(&self) -> u32 {
        if self.total == 0 { 0 } else { self.parts }
    }
}

/// Counts without the rejection rules (used by preview and by tests); never fails.
pub fn analyse(text: &str) -> Analysis {
    count(text, |_, _| {})
}

/// Counts `text`, reporting to `part_start` the byte offset where each part
/// after the first starts, per encoding (both are filled: the encoding is only
/// known at the end, so the caller picks the reports of `Analysis::encoding`).
///
/// The items that part filling never splits are the extended grapheme
/// clusters (UAX #29, via `unicode-segmentation`), as in the calculator:
/// a ZWJ sequence, an emoji with skin tone, a flag, a keycap, a letter with
/// combining accents. One exception, again as in the calculator: CR LF is two
/// items. A surrogate pair and a GSM escape pair lie within one cluster, so
/// they stay whole too. In a GSM-7 text every cluster is a single character
/// (no GSM character extends another), so only escape pairs matter there.
///
/// The calculator's splitter (grapheme-splitter 1.0.4) implements the Unicode
/// 10 rules of 2017; for sequences those rules did not know (ZWJ sequences
/// with newer emoji, skin tones on newer emoji, Indic conjuncts) the clusters
/// and so, across a part boundary, the counts can differ.
fn count(text: &str, mut part_start: impl FnMut(Encoding, usize)) -> Analysis {
    // Both encodings are counted in the same pass because the encoding is
    // only known once the last character has been seen.
    let mut gsm = PartCounter::new(GSM7_SINGLE, GSM7_MULTI);
    let mut ucs2 = PartCounter::new(UCS2_SINGLE, UCS2_MULTI);
    let mut forcing_ucs2 = Vec::new();
    // A set beside `forcing_ucs2` for de-duplication in O(log n): a linear scan, or inserting
    // into a sorted vector, is quadratic on a megabyte of distinct characters.
    let mut seen: BTreeSet<char> = BTreeSet::new();
    let mut characters = 0;
    let mut longest_cluster = (0, 0);

    let mut push_item = |at: usize, item: &str| {
        let (mut utf16, mut septets) = (0, 0);
        let position = characters;
        for c in item.chars() {
            characters += 1;
            utf16 += c.len_utf16();
            match gsm_septets(c) {
                0 => {
                    if seen.insert(c) {
                        forcing_ucs2.push(c);
                    }
                }
                s => septets += usize::from(s),
            }
        }
        if utf16 > longest_cluster.1 {
            longest_cluster = (position, utf16);
        }
        if let Some(start) = ucs2.push(at, utf16) {
            part_start(Encoding::Ucs2, start);
        }
        if forcing_ucs2.is_empty()
            && let Some(start) = gsm.push(at, septets)
        {
            part_start(Encoding::Gsm7, start);
        }
    };
    for (at, cluster) in text.grapheme_indices(true) {
        if cluster == "\r\n" {
            push_item(at, "\r");
            push_item(at + 1, "\n");
        } else {
            push_item(at, cluster);
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
        longest_cluster,
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
        // One space for a tab (Twilio's table has seven): a tab pasted from a practice program
        // separates two fields, and handsets do not align columns.
        '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            Char(' ')
        }
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
    fn grapheme_cluster_is_not_split_across_parts() {
        // The calculator moves a straddling cluster whole: 65 | 👍🏽 would
        // need 69 units, so part two starts with it and overflows.
        let text = format!("{}👍🏽{}", "中".repeat(65), "中".repeat(64));
        let a = analyse(&text);
        assert_eq!((a.encoding, a.units, a.segments), (Encoding::Ucs2, 133, 3));
        let shifted = format!("{}👍🏽{}", "中".repeat(63), "中".repeat(66));
        assert_eq!(segments(&shifted), 2);

        // A flag is two regional indicators; the pair moves together.
        let flag = format!("{}🇩🇪{}", "中".repeat(65), "中".repeat(65));
        assert_eq!((analyse(&flag).units, segments(&flag)), (134, 3));
        let flag_fits = format!("{}🇩🇪{}", "中".repeat(63), "中".repeat(67));
        assert_eq!(segments(&flag_fits), 2);

        for cluster in ["e\u{301}", "1\u{FE0F}\u{20E3}", "👨\u{200D}👩\u{200D}👧"] {
            let size = cluster.encode_utf16().count();
            // The cluster's first unit is the last one of part one.
            let straddling = format!("{}{cluster}{}", "中".repeat(66), "中".repeat(68 - size));
            assert_eq!(analyse(&straddling).units, 134, "{cluster:?}");
            assert_eq!(segments(&straddling), 3, "{cluster:?}");
            let fitting = format!("{}{cluster}{}", "中".repeat(67 - size), "中".repeat(67));
            assert_eq!(segments(&fitting), 2, "{cluster:?}");
        }
    }

    #[test]
    fn crlf_is_two_items_like_in_the_calculator() {
        // A grapheme cluster by UAX #29, but the calculator splits it again.
        let ucs2 = format!("{}\r\n{}", "中".repeat(66), "中".repeat(66));
        assert_eq!((analyse(&ucs2).units, segments(&ucs2)), (134, 2));
        let gsm = format!("{}\r\n{}", "a".repeat(152), "a".repeat(152));
        let a = analyse(&gsm);
        assert_eq!((a.encoding, a.units, a.segments), (Encoding::Gsm7, 306, 2));
    }

    #[test]
    fn gsm_characters_never_form_a_cluster() {
        // The calculator takes any multi-unit cluster as non-GSM; in a GSM-7
        // text every cluster must therefore be one character (CR LF is split).
        let gsm = all_gsm_chars();
        for &a in &gsm {
            for &b in &gsm {
                let pair = format!("{a}{b}");
                if pair != "\r\n" {
                    assert_eq!(pair.graphemes(true).count(), 2, "{pair:?}");
                }
            }
        }
    }

    #[test]
    fn cluster_longer_than_half_a_part_like_the_calculator() {
        // Expected values are the calculator's (sms-segments-calculator 1.3.0).
        let accents = |n| format!("e{}", "\u{301}".repeat(n));
        let family = |n| format!("👨{}", "\u{200D}👩".repeat(n));
        // Fits one SMS whole.
        assert_eq!(segments(&accents(69)), 1);
        assert_eq!(segments(&family(22)), 1);
        // Longer than one SMS: part one stays empty, the cluster fills part two.
        assert_eq!(segments(&accents(70)), 2);
        assert_eq!(segments(&family(23)), 2);
        assert_eq!(segments(&format!("{}a", family(24))), 3);
        // Longer than a part: it gets one of its own.
        assert_eq!(segments(&format!("{}{}a", "a".repeat(10), accents(200))), 3);
        // Part one (1 + 67 units) overflows at a 3-unit cluster: it keeps 1
        // unit, part two takes 67 + 3 (greedy filling: 1 | 67 | 3 units).
        let handed = format!("中{}{}", accents(66), accents(2));
        assert_eq!(segments(&handed), 2);
        assert_eq!(segments(&format!("{handed}中")), 3);
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
            MessageText::parse("„ä“\u{0B}", true),
            Err(TextError::ControlCharacter {
                position: 3,
                codepoint: 0x0B
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
    fn a_tab_forces_ucs2_or_becomes_a_space_with_smart_encoding() {
        let raw = "Termin:\t19.08. 16:30";
        let plain = MessageText::parse(raw, false).expect("a tab is allowed");
        assert_eq!(plain.as_str(), raw);
        assert_eq!(plain.encoding(), Encoding::Ucs2);
        assert_eq!(plain.forcing_ucs2(), &['\t']);
        assert_eq!((plain.units(), plain.segments()), (20, 1));

        let smart = MessageText::parse(raw, true).expect("a tab is allowed");
        assert_eq!(smart.as_str(), "Termin: 19.08. 16:30");
        assert_eq!(smart.encoding(), Encoding::Gsm7);
        assert_eq!((smart.units(), smart.segments()), (20, 1));
        // Still one part at 70 UCS-2 units, where a space would have had 160 GSM-7 septets.
        let long = format!("{}\t", "a".repeat(70));
        assert_eq!(
            MessageText::parse(&long, false).map(|t| t.segments()),
            Ok(2)
        );
        assert_eq!(MessageText::parse(&long, true).map(|t| t.segments()), Ok(1));

        // Tabs alone show nothing: empty, as spaces alone are.
        assert_eq!(MessageText::parse("\t \t", false), Err(TextError::Empty));
    }

    #[test]
    fn a_character_of_too_many_code_units_is_refused() {
        // The issue's case: one character of ~800 KB, which counted as two parts.
        let huge = format!("e{}", "\u{301}".repeat(400_000));
        assert_eq!(
            MessageText::parse(&huge, false),
            Err(TextError::ClusterTooLong {
                position: 0,
                units: 400_001
            })
        );
        // Smart encoding composes the first accent, the rest stays one character.
        assert_eq!(
            MessageText::parse(&format!("Hallo {huge}"), true),
            Err(TextError::ClusterTooLong {
                position: 6,
                units: 400_000
            })
        );
        let err = MessageText::parse(&huge, false).expect_err("refused");
        assert!(err.to_string().contains("at most 32"), "{err}");

        let at_limit = format!("e{}", "\u{301}".repeat(MAX_CLUSTER_UNITS - 1));
        let t = MessageText::parse(&at_limit, false).expect("32 units are fine");
        assert_eq!((t.units(), t.segments()), (32, 1));
        assert!(matches!(
            MessageText::parse(&format!("{at_limit}\u{301}"), false),
            Err(TextError::ClusterTooLong { units: 33, .. })
        ));

        // Other ways to make one long cluster: joined emoji, Hangul jamo, regional indicators
        // only pair up (so those are many short clusters).
        for long in [
            format!("👨{}", "\u{200D}👩".repeat(11)),
            "\u{1100}".repeat(33),
        ] {
            assert!(
                matches!(
                    MessageText::parse(&long, false),
                    Err(TextError::ClusterTooLong { .. })
                ),
                "{long:?}"
            );
        }
        assert!(MessageText::parse(&"🇩".repeat(40), false).is_ok());
    }

    #[test]
    fn the_longest_recommended_emoji_sequences_are_accepted() {
        // Kiss with two skin tones (15 units), the flag of England (14), a family of four (11).
        for emoji in [
            "🧑🏻\u{200D}\u{2764}\u{FE0F}\u{200D}💋\u{200D}🧑🏼",
            "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            "👨\u{200D}👩\u{200D}👧\u{200D}👦",
        ] {
            let t = MessageText::parse(&format!("Bis morgen {emoji}"), false).expect(emoji);
            assert_eq!(t.encoding(), Encoding::Ucs2);
            assert!(analyse(emoji).longest_cluster.1 <= 15, "{emoji}");
        }
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

    /// Byte ranges of the items part filling keeps whole, defined here from
    /// the boundaries directly: grapheme clusters, with CR LF as two.
    fn item_ranges(text: &str) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        for (at, g) in text.grapheme_indices(true) {
            if g == "\r\n" {
                ranges.push((at, at + 1));
                ranges.push((at + 1, at + 2));
            } else {
                ranges.push((at, at + g.len()));
            }
        }
        ranges
    }

    fn units_in(text: &str, encoding: Encoding) -> usize {
        match encoding {
            Encoding::Gsm7 => text.chars().map(|c| usize::from(gsm_septets(c))).sum(),
            Encoding::Ucs2 => text.encode_utf16().count(),
        }
    }

    /// Longest item in units; up to half a part, part filling is plain
    /// greedy filling (see `PartCounter`), which the model below assumes.
    fn longest_item(text: &str) -> usize {
        let encoding = analyse(text).encoding;
        item_ranges(text)
            .into_iter()
            .map(|(start, end)| units_in(&text[start..end], encoding))
            .max()
            .unwrap_or(0)
    }

    /// Independent model: lay the text out as a unit stream (septets or
    /// UTF-16 units) and cut it every 153 or 67 units, earlier when the cut
    /// would fall inside an item (an escape pair, a surrogate pair, a
    /// grapheme cluster).
    fn expected_segments(text: &str) -> u32 {
        let encoding = if text.chars().all(is_gsm7) {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        };
        let (single, multi) = capacities(encoding);
        // glued[i]: unit i belongs to the same item as unit i - 1.
        let mut glued = Vec::new();
        for (start, end) in item_ranges(text) {
            let units = units_in(&text[start..end], encoding);
            glued.push(false);
            glued.extend(std::iter::repeat_n(true, units - 1));
        }
        let total = glued.len();
        if total == 0 {
            return 0;
        }
        if total <= single {
            return 1;
        }
        let (mut start, mut parts) = (0, 0);
        while start < total {
            let mut end = (start + multi).min(total);
            while end < total && glued[end] {
                end -= 1;
            }
            assert!(end > start, "an item longer than a part");
            start = end;
            parts += 1;
        }
        parts
    }

    /// `analyse` plus the byte offsets where parts 2, 3, … start.
    fn part_starts(text: &str) -> (Analysis, Vec<usize>) {
        let (mut gsm, mut ucs2) = (Vec::new(), Vec::new());
        let analysis = count(text, |encoding, at| match encoding {
            Encoding::Gsm7 => gsm.push(at),
            Encoding::Ucs2 => ucs2.push(at),
        });
        let starts = match analysis.encoding {
            Encoding::Gsm7 => gsm,
            Encoding::Ucs2 => ucs2,
        };
        (analysis, starts)
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

    /// Multi-character clusters of all kinds, plus pieces that join their
    /// neighbours (lone accents, ZWJ, skin tones, regional indicators).
    const CLUSTERS: [&str; 20] = [
        "\r\n",
        "👍🏽",
        "🇩🇪",
        "🇨🇭",
        "e\u{301}",
        "a\u{308}\u{301}",
        "1\u{FE0F}\u{20E3}",
        "❤\u{FE0F}",
        "👨\u{200D}👩\u{200D}👧\u{200D}👦",
        "🏳\u{FE0F}\u{200D}🌈",
        "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
        "\u{1100}\u{1161}\u{11A8}",
        "\u{915}\u{94D}\u{937}",
        "\u{E01}\u{E33}",
        "\u{301}",
        "\u{200D}",
        "🏽",
        "🇩",
        "\u{FE0F}",
        "\r",
    ];

    fn cluster_text() -> impl Strategy<Value = String> {
        // One weighted pool keeps generation cheap: GSM characters 6,
        // extension characters 1, wide characters 2, cluster pieces 3.
        let mut pool: Vec<String> = all_gsm_chars().into_iter().map(String::from).collect();
        let gsm = pool.len();
        let extension: Vec<String> = EXTENSION.iter().map(|c| c.to_string()).collect();
        let wide: Vec<String> = ["😀", "🦷", "ç", "中", "。"].map(String::from).to_vec();
        let clusters: Vec<String> = CLUSTERS.map(String::from).to_vec();
        for (atoms, weight) in [(extension, 1), (wide, 2), (clusters, 3)] {
            for _ in 0..(gsm * weight / 6).div_ceil(atoms.len()) {
                pool.extend(atoms.iter().cloned());
            }
        }
        let atom = prop_oneof![
            12 => prop::sample::select(pool),
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(atom, 0..900).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn gsm_segments_match_independent_model(text in gsm_text()) {
            let a = analyse(&text);
            prop_assert_eq!(a.encoding, Encoding::Gsm7);
            prop_assert_eq!(a.segments, expected_segments(&text));
            let septets: usize = text.chars().map(|c| if EXTENSION.contains(&c) { 2 } else { 1 }).sum();
            prop_assert_eq!(a.units, septets);
        }

        #[test]
        fn cluster_segments_match_independent_model(text in cluster_text()) {
            prop_assume!(longest_item(&text) <= 32);
            let a = analyse(&text);
            prop_assert_eq!(a.segments, expected_segments(&text));
            prop_assert_eq!(a.units, units_in(&text, a.encoding));
        }

        #[test]
        fn parts_never_split_a_grapheme_cluster(text in prop_oneof![gsm_text(), cluster_text()]) {
            let (a, starts) = part_starts(&text);
            let items = item_ranges(&text);
            for &at in &starts {
                // Only the calculator's CR|LF split is not a cluster boundary.
                let crlf = text[..at].ends_with('\r') && text[at..].starts_with('\n');
                prop_assert!(
                    crlf || text.grapheme_indices(true).any(|(start, _)| start == at),
                    "part starts inside a cluster at byte {} of {:?}", at, text
                );
            }
            prop_assert!(starts.windows(2).all(|w| w[0] < w[1]), "{:?}", starts);
            prop_assert_eq!(a.segments as usize, if text.is_empty() { 0 } else { starts.len() + 1 });
            // Up to half a part, filling is greedy: each part fits, and
            // the item that opens the next part would not have.
            if longest_item(&text) <= 32 {
                let (single, multi) = capacities(a.encoding);
                let mut bounds = vec![0];
                bounds.extend(&starts);
                bounds.push(text.len());
                let capacity = if starts.is_empty() { single } else { multi };
                for (i, part) in bounds.windows(2).enumerate() {
                    let size = units_in(&text[part[0]..part[1]], a.encoding);
                    prop_assert!(size <= capacity, "part {} has {} units", i + 1, size);
                    if let Some(&next) = starts.get(i) {
                        let &(start, end) = items.iter().find(|r| r.0 == next).expect("item");
                        prop_assert!(size + units_in(&text[start..end], a.encoding) > multi);
                    }
                }
            }
        }

        #[test]
        fn an_accepted_text_fits_ten_parts_in_code_units(
            text in prop_oneof![any_text(), cluster_text(), gsm_text()],
            smart in any::<bool>(),
        ) {
            if let Ok(t) = MessageText::parse(&text, smart) {
                let (_, multi) = capacities(t.encoding());
                prop_assert!(t.units() <= MAX_SEGMENTS as usize * multi, "{} units", t.units());
                prop_assert_eq!(t.units(), units_in(t.as_str(), t.encoding()));
                prop_assert_eq!(t.segments(), analyse(t.as_str()).segments);
            }
        }

        #[test]
        fn segments_monotone_when_appending(
            text in prop_oneof![any_text(), cluster_text()],
            c in any::<char>(),
        ) {
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
