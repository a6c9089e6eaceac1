// Recipient phone numbers: normalization to E.164 with libphonenumber rules, and the
// practice's default region that national formats are read in.
//
// Why this does not call `phonenumber::parse` / `is_valid` / `number_type`:
// phonenumber 0.3.10 ships libphonenumber's metadata (9.0.33), but its parsing and
// classification code departs from libphonenumber. Built on the crate's `parse`,
// `is_valid`, `number_type` and E.164 formatting, this type disagreed with the
// oracle test (tests/oracle_numbers.rs: libphonenumber's Python port, same metadata
// version) on 768 of the 22,820 inputs it compares. The classes, each traced to the
// crate source and shown with libphonenumber's answer:
//  1. Its metadata loader never derives the general descriptor's possible lengths
//     (libphonenumber's metadata build unions them from the number types), so its
//     length test always says "invalid length", and any national input starting
//     with the region's calling code loses those digits as a country code:
//     "493003" (DE) gives +49 3003, invalid; libphonenumber: +49 493003, valid.
//  2. It matches number patterns as prefixes (a match starting at 0) instead of
//     whole strings: "0900 1234 5678" (DE) is premium rate for the crate, while for
//     libphonenumber it is not a valid number at all.
//  3. It strips the national prefix a second time after the metadata-driven
//     stripping: "00 2 1234 5678" (AU) gives +61 2 1234 5678, valid;
//     libphonenumber: +61 02 1234 5678, invalid.
//  4. Its E.164 formatting, number type and region lookup drop Italian-style
//     leading zeros: "+39 089 123456" gives +39 89123456, invalid; libphonenumber:
//     +39 089123456, a valid fixed line (and +39 06 698... is not found as VA).
// These are differences in the crate's code, not in the data, so instead of
// patching symptoms the functions below port the steps of libphonenumber's `parse`,
// `isValidNumber` and `getNumberType` that the characters we admit can reach, and
// take all data from the crate's metadata (regions, prefixes, patterns, lengths).
// The crate's own regex machinery is not used: it keeps compiled patterns in an LRU
// cache of 100 entries behind one mutex, so mixed traffic would recompile them.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest raw input we look at; real numbers with generous punctuation stay far below.
const MAX_INPUT_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number is too long (at most {MAX_INPUT_CHARS} characters)")]
    TooLong,
    #[error("phone number contains letters")]
    Letters,
    #[error(
        "phone number contains characters that are not allowed: {0:?} (allowed are digits, spaces, a leading +, and ( ) - / .)"
    )]
    BadCharacters(String),
    #[error("'+' is only allowed at the start of a phone number")]
    MisplacedPlus,
    #[error(
        "not a valid phone number; check the digits, and for foreign numbers add the country code, e.g. +49 for Germany, +43 for Austria, +41 for Switzerland"
    )]
    Invalid,
    #[error("premium-rate numbers are not allowed")]
    PremiumRate,
    #[error("toll-free numbers are not allowed")]
    TollFree,
    #[error("unknown region {0:?}; expected a two-letter country code such as DE, AT or CH")]
    UnknownRegion(String),
}

/// A region (ISO 3166-1 alpha-2) that libphonenumber has metadata for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region([u8; 2]);

impl Region {
    pub const DE: Region = Region(*b"DE");

    pub fn parse(s: &str) -> Result<Region, PhoneError> {
        let unknown = || PhoneError::UnknownRegion(s.chars().take(8).collect());
        let &[a, b] = s.as_bytes() else {
            return Err(unknown());
        };
        if !a.is_ascii_alphabetic() || !b.is_ascii_alphabetic() {
            return Err(unknown());
        }
        let region = Region([a.to_ascii_uppercase(), b.to_ascii_uppercase()]);
        if !PLANS.by_region.contains_key(region.as_str()) {
            return Err(unknown());
        }
        Ok(region)
    }

    pub fn as_str(&self) -> &str {
        // Only `parse` and the constants build a Region, both from ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::DE
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Region::parse(s)
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Region::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A valid, non-premium, non-toll-free phone number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    // Both derive from `e164`, so the derived Eq/Hash stay consistent with it.
    country_code: u16,
    region: Option<Region>,
}

impl PhoneNumber {
    /// `default_region` only decides how national formats (no "+" or international
    /// prefix) are read; international formats from any country are accepted.
    pub fn parse(raw: &str, default_region: Region) -> Result<PhoneNumber, PhoneError> {
        let input = screen(raw)?;
        let plans = &*PLANS;
        let home = plans
            .by_region
            .get(default_region.as_str())
            .ok_or_else(|| PhoneError::UnknownRegion(default_region.as_str().to_owned()))?;
        let (country_code, national) = plans.parse(input, home).ok_or(PhoneError::Invalid)?;
        let (region, kind) = plans.classify(country_code, &national);
        match kind {
            NumberType::Unknown => Err(PhoneError::Invalid),
            NumberType::PremiumRate => Err(PhoneError::PremiumRate),
            NumberType::TollFree => Err(PhoneError::TollFree),
            _ => Ok(PhoneNumber {
                e164: format!("+{country_code}{national}"),
                country_code,
                region: region
                    .filter(|&r| r != NON_GEO_REGION)
                    .and_then(|r| Region::parse(r).ok()),
            }),
        }
    }

    /// E.164, e.g. "+4917612345678".
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// Last four digits, for the simulated carrier.
    pub fn last_four(&self) -> &str {
        &self.e164[self.e164.len().saturating_sub(4).max(1)..]
    }

    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// Region of the number itself (not the practice's), if libphonenumber knows one;
    /// non-geographic numbers (+800, +882, ...) have none.
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// Masked form for logs: keeps country code and last 2 digits, e.g. "+49*********78".
    pub fn masked(&self) -> String {
        let prefix_len = (1 + self.country_code.to_string().len()).min(self.e164.len());
        let (prefix, national) = self.e164.split_at(prefix_len);
        let keep = national.len().min(2);
        let mut out = String::with_capacity(self.e164.len());
        out.push_str(prefix);
        out.extend(std::iter::repeat_n('*', national.len() - keep));
        out.push_str(&national[national.len() - keep..]);
        out
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.e164)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        const EXPECTED: &str = "expected a phone number in E.164 form, e.g. +4917612345678";
        let s = String::deserialize(deserializer)?;
        // Stored data must already be canonical; re-normalizing something else here
        // would hide that it was not written by this type.
        let well_formed =
            s.len() > 1 && s.starts_with('+') && s.bytes().skip(1).all(|b| b.is_ascii_digit());
        if !well_formed {
            return Err(D::Error::custom(EXPECTED));
        }
        let number = PhoneNumber::parse(&s, Region::DE).map_err(D::Error::custom)?;
        if number.e164 != s {
            return Err(D::Error::custom(EXPECTED));
        }
        Ok(number)
    }
}

/// Rejects what libphonenumber would tolerate but we must not: it maps vanity
/// letters to digits and reads extensions, `#`, `*` and such as part of a number.
fn screen(raw: &str) -> Result<&str, PhoneError> {
    if raw.chars().nth(MAX_INPUT_CHARS).is_some() {
        return Err(PhoneError::TooLong);
    }
    let input = raw.trim();
    if input.is_empty() {
        return Err(PhoneError::Empty);
    }
    if input.chars().any(char::is_alphabetic) {
        return Err(PhoneError::Letters);
    }
    let mut bad = String::new();
    let mut misplaced_plus = false;
    let mut seen_plus_or_digit = false;
    for c in input.chars() {
        match c {
            '0'..='9' => seen_plus_or_digit = true,
            '+' => {
                misplaced_plus |= seen_plus_or_digit;
                seen_plus_or_digit = true;
            }
            ' ' | '(' | ')' | '-' | '/' | '.' => {}
            _ if !bad.contains(c) => bad.push(c),
            _ => {}
        }
    }
    if !bad.is_empty() {
        return Err(PhoneError::BadCharacters(bad));
    }
    if misplaced_plus {
        return Err(PhoneError::MisplacedPlus);
    }
    Ok(input)
}

// ---------------------------------------------------------------------------------
// Port of libphonenumber (PhoneNumberUtil 9.0.x) for inputs that passed `screen`:
// ASCII digits, at most one "+" before all digits, and the punctuation ( ) - / . and
// space. Names follow libphonenumber's so the two can be read side by side. Inputs
// outside that alphabet never get here, which is why extensions, RFC 3966, vanity
// letters and non-ASCII digits need no handling.

const MIN_LENGTH_FOR_NSN: usize = 2;
const MAX_LENGTH_FOR_NSN: usize = 17;
const MAX_LENGTH_COUNTRY_CODE: usize = 3;
const NON_GEO_REGION: &str = "001";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberType {
    FixedLine,
    Mobile,
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    Uan,
    Voicemail,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValidationResult {
    IsPossible,
    IsPossibleLocalOnly,
    TooShort,
    InvalidLength,
    TooLong,
}

/// Why `maybe_extract_country_code` gave up; only a bad country code after "+" is
/// retried (as libphonenumber does, to read "+0049..." like "0049...").
enum Failure {
    InvalidCountryCode,
    Other,
}

/// A metadata pattern, compiled on first use and then kept for the whole process.
struct Pattern {
    source: String,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// libphonenumber's build strips the whitespace that the XML source uses for layout.
    fn new(raw: &str, whole_string: bool) -> Option<Pattern> {
        let body: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if body.is_empty() {
            // An empty pattern matches nothing in libphonenumber.
            return None;
        }
        let source = if whole_string {
            format!("^(?:{body})$")
        } else {
            format!("^(?:{body})")
        };
        Some(Pattern {
            source,
            compiled: OnceLock::new(),
        })
    }

    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| {
                // Inputs are ASCII digits, so ASCII classes give the same answers with
                // much smaller automata; fall back for any pattern that needs Unicode.
                RegexBuilder::new(&self.source)
                    .unicode(false)
                    .build()
                    .or_else(|_| Regex::new(&self.source))
                    .ok()
            })
            .as_ref()
    }

    fn is_match(&self, text: &str) -> bool {
        self.regex().is_some_and(|re| re.is_match(text))
    }
}

/// libphonenumber's `PhoneNumberDesc`.
struct Desc {
    pattern: Option<Pattern>,
    lengths: Vec<u16>,
    local_lengths: Vec<u16>,
}

impl Desc {
    fn new(desc: &Descriptor) -> Desc {
        Desc {
            pattern: Pattern::new(desc.national_number().as_str(), true),
            lengths: desc.possible_length().to_vec(),
            local_lengths: desc.possible_local_length().to_vec(),
        }
    }

    /// `matchNationalNumber`: the pattern alone.
    fn matches_pattern(&self, national: &str) -> bool {
        self.pattern.as_ref().is_some_and(|p| p.is_match(national))
    }

    /// `isNumberMatchingDesc`: possible lengths first, then the pattern.
    fn matches(&self, national: &str) -> bool {
        let fits = self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16));
        fits && self.matches_pattern(national)
    }
}

/// Everything libphonenumber needs about one region (or non-geographic calling code).
struct Plan {
    country_code: u16,
    country_code_digits: String,
    idd: Option<Pattern>,
    national_prefix_for_parsing: Option<Pattern>,
    national_prefix_transform_rule: Option<String>,
    leading_digits: Option<Pattern>,
    general: Desc,
    /// The special types in the order `getNumberTypeHelper` tries them.
    special: Vec<(NumberType, Desc)>,
    fixed_line: Option<Desc>,
    mobile: Option<Desc>,
    same_mobile_and_fixed_line_pattern: bool,
}

impl Plan {
    fn new(meta: &Metadata) -> Plan {
        let d = meta.descriptors();
        let special: Vec<(NumberType, Desc)> = [
            (NumberType::PremiumRate, d.premium_rate()),
            (NumberType::TollFree, d.toll_free()),
            (NumberType::SharedCost, d.shared_cost()),
            (NumberType::Voip, d.voip()),
            (NumberType::PersonalNumber, d.personal_number()),
            (NumberType::Pager, d.pager()),
            (NumberType::Uan, d.uan()),
            (NumberType::Voicemail, d.voicemail()),
        ]
        .into_iter()
        .filter_map(|(kind, desc)| Some((kind, Desc::new(desc?))))
        .collect();
        let fixed_line = d.fixed_line().map(Desc::new);
        let mobile = d.mobile().map(Desc::new);

        // The crate's loader keeps the general descriptor's lengths as written in the
        // XML (none); libphonenumber's metadata build derives them from the number
        // types; a local-only length that is also a full length counts as full.
        let typed = || {
            special
                .iter()
                .map(|(_, desc)| desc)
                .chain(fixed_line.iter())
                .chain(mobile.iter())
        };
        let mut lengths: Vec<u16> = typed().flat_map(|desc| desc.lengths.clone()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let mut local_lengths: Vec<u16> = typed()
            .flat_map(|desc| desc.local_lengths.clone())
            .filter(|len| !lengths.contains(len))
            .collect();
        local_lengths.sort_unstable();
        local_lengths.dedup();
        let general = Desc {
            pattern: Pattern::new(d.general().national_number().as_str(), true),
            lengths,
            local_lengths,
        };

        // libphonenumber compares the source patterns (absent ones as empty strings).
        let source = |desc: Option<&Descriptor>| {
            desc.map(|desc| {
                let raw = desc.national_number().as_str();
                raw.chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
            })
            .unwrap_or_default()
        };
        let same_mobile_and_fixed_line_pattern = source(d.fixed_line()) == source(d.mobile());

        // The build falls back to the national prefix when no parsing rule is given.
        let national_prefix_for_parsing = meta
            .national_prefix_for_parsing()
            .map(|re| re.as_str())
            .or(meta.national_prefix())
            .and_then(|raw| Pattern::new(raw, false));

        Plan {
            country_code: meta.country_code(),
            country_code_digits: meta.country_code().to_string(),
            idd: meta
                .international_prefix()
                .and_then(|re| Pattern::new(re.as_str(), false)),
            national_prefix_for_parsing,
            national_prefix_transform_rule: meta
                .national_prefix_transform_rule()
                .map(replacement_syntax),
            leading_digits: meta
                .leading_digits()
                .and_then(|re| Pattern::new(re.as_str(), false)),
            general,
            special,
            fixed_line,
            mobile,
            same_mobile_and_fixed_line_pattern,
        }
    }

    /// `parsePrefixAsIdd`: strips the international prefix unless a 0 follows it.
    fn strip_idd<'a>(&self, digits: &'a str) -> Option<&'a str> {
        let found = self.idd.as_ref()?.regex()?.find(digits)?;
        let rest = &digits[found.end()..];
        (!rest.starts_with('0')).then_some(rest)
    }

    /// `maybeStripNationalPrefixAndCarrierCode`, without keeping the carrier code.
    fn strip_national_prefix(&self, number: &str) -> String {
        let unchanged = || number.to_owned();
        let Some(re) = self
            .national_prefix_for_parsing
            .as_ref()
            .and_then(Pattern::regex)
        else {
            return unchanged();
        };
        if number.is_empty() {
            return unchanged();
        }
        let Some(captures) = re.captures(number) else {
            return unchanged();
        };
        let viable_original = self.general.matches_pattern(number);
        let groups = captures.len() - 1;
        let last_group_matched = groups > 0 && captures.get(groups).is_some();
        let transformed = match &self.national_prefix_transform_rule {
            Some(rule) if !rule.is_empty() && last_group_matched => {
                re.replacen(number, 1, rule.as_str()).into_owned()
            }
            _ => number[captures.get(0).map_or(0, |m| m.end())..].to_owned(),
        };
        if viable_original && !self.general.matches_pattern(&transformed) {
            return unchanged();
        }
        transformed
    }

    /// `testNumberLength` for the general descriptor.
    fn test_length(&self, national: &str) -> ValidationResult {
        let len = national.len() as u16;
        let lengths = &self.general.lengths;
        let (Some(&min), Some(&max)) = (lengths.first(), lengths.last()) else {
            return ValidationResult::InvalidLength;
        };
        if self.general.local_lengths.contains(&len) {
            ValidationResult::IsPossibleLocalOnly
        } else if len == min {
            ValidationResult::IsPossible
        } else if len < min {
            ValidationResult::TooShort
        } else if len > max {
            ValidationResult::TooLong
        } else if lengths.contains(&len) {
            ValidationResult::IsPossible
        } else {
            ValidationResult::InvalidLength
        }
    }

    /// `getNumberTypeHelper`.
    fn number_type(&self, national: &str) -> NumberType {
        if !self.general.matches(national) {
            return NumberType::Unknown;
        }
        if let Some((kind, _)) = self.special.iter().find(|(_, desc)| desc.matches(national)) {
            return *kind;
        }
        let matches = |desc: &Option<Desc>| desc.as_ref().is_some_and(|d| d.matches(national));
        if matches(&self.fixed_line) {
            if self.same_mobile_and_fixed_line_pattern || matches(&self.mobile) {
                return NumberType::FixedLineOrMobile;
            }
            return NumberType::FixedLine;
        }
        if !self.same_mobile_and_fixed_line_pattern && matches(&self.mobile) {
            return NumberType::Mobile;
        }
        NumberType::Unknown
    }
}

/// Metadata transform rules use "$1"; the regex crate would read "$1x" as a group
/// named "1x", so every group reference gets braces.
fn replacement_syntax(rule: &str) -> String {
    let mut out = String::with_capacity(rule.len() + 4);
    let mut chars = rule.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push_str("${");
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
            out.push('}');
        } else {
            out.push(c);
        }
    }
    out
}

struct Plans {
    by_region: HashMap<&'static str, Plan>,
    non_geo: HashMap<u16, Plan>,
    /// Regions per calling code, main region first, as libphonenumber orders them.
    regions: HashMap<u16, Vec<&'static str>>,
}

/// Built once per process from the crate's metadata; cheap, because patterns are only
/// compiled when a number first needs them.
static PLANS: LazyLock<Plans> = LazyLock::new(Plans::load);

impl Plans {
    fn load() -> Plans {
        let mut plans = Plans {
            by_region: HashMap::new(),
            non_geo: HashMap::new(),
            regions: HashMap::new(),
        };
        let database = &*DATABASE;
        for code in 1..=999u16 {
            let Some(regions) = database.region(&code) else {
                continue;
            };
            plans.regions.insert(code, regions);
            for meta in database.by_code(&code).unwrap_or_default() {
                if meta.id() == NON_GEO_REGION {
                    plans.non_geo.insert(code, Plan::new(meta));
                } else {
                    plans.by_region.insert(meta.id(), Plan::new(meta));
                }
            }
        }
        plans
    }

    /// `getMetadataForRegionOrCallingCode`.
    fn plan(&self, code: u16, region: &str) -> Option<&Plan> {
        if region == NON_GEO_REGION {
            self.non_geo.get(&code)
        } else {
            self.by_region.get(region)
        }
    }

    fn main_plan(&self, code: u16) -> Option<&Plan> {
        let main = self.regions.get(&code)?.first()?;
        self.plan(code, main)
    }

    /// `parse` up to the national significant number: (calling code, NSN).
    fn parse(&self, input: &str, home: &Plan) -> Option<(u16, String)> {
        let number = extract_possible_number(input);
        if !is_viable_phone_number(number) {
            return None;
        }
        let (code, national) = match self.maybe_extract_country_code(number, home) {
            Ok(found) => found,
            Err(Failure::InvalidCountryCode) if number.starts_with('+') => {
                match self.maybe_extract_country_code(&number[1..], home) {
                    Ok((code, national)) if code != 0 => (code, national),
                    _ => return None,
                }
            }
            Err(_) => return None,
        };
        let (code, plan, mut national) = if code != 0 {
            (code, self.main_plan(code)?, national)
        } else {
            (home.country_code, home, digits_only(number))
        };
        if national.len() < MIN_LENGTH_FOR_NSN {
            return None;
        }
        // Only strip the national prefix if what remains could be a full number;
        // otherwise the input may have been a short number that starts like a prefix.
        let stripped = plan.strip_national_prefix(&national);
        if !matches!(
            plan.test_length(&stripped),
            ValidationResult::TooShort
                | ValidationResult::IsPossibleLocalOnly
                | ValidationResult::InvalidLength
        ) {
            national = stripped;
        }
        if !(MIN_LENGTH_FOR_NSN..=MAX_LENGTH_FOR_NSN).contains(&national.len()) {
            return None;
        }
        Some((code, national))
    }

    /// `maybeExtractCountryCode`: (0, "") when the number is in national format.
    fn maybe_extract_country_code(
        &self,
        number: &str,
        home: &Plan,
    ) -> Result<(u16, String), Failure> {
        if number.is_empty() {
            return Ok((0, String::new()));
        }
        let (international, full) = match number.strip_prefix('+') {
            Some(rest) => (true, digits_only(rest)),
            None => {
                let digits = digits_only(number);
                match home.strip_idd(&digits) {
                    Some(rest) => (true, rest.to_owned()),
                    None => (false, digits),
                }
            }
        };
        if international {
            if full.len() <= MIN_LENGTH_FOR_NSN {
                return Err(Failure::Other);
            }
            return match self.extract_country_code(&full) {
                Some((code, rest)) => Ok((code, rest.to_owned())),
                None => Err(Failure::InvalidCountryCode),
            };
        }
        // A national-format number may still start with the home calling code
        // ("49 176 ..."); take it as one only if that makes a better number.
        if let Some(potential) = full.strip_prefix(home.country_code_digits.as_str()) {
            let potential = home.strip_national_prefix(potential);
            let better =
                !home.general.matches_pattern(&full) && home.general.matches_pattern(&potential);
            if better || home.test_length(&full) == ValidationResult::TooLong {
                return Ok((home.country_code, potential));
            }
        }
        Ok((0, String::new()))
    }

    /// `extractCountryCode`: calling codes are prefix-free and never start with 0.
    fn extract_country_code<'a>(&self, full: &'a str) -> Option<(u16, &'a str)> {
        if full.starts_with('0') {
            return None;
        }
        (1..=MAX_LENGTH_COUNTRY_CODE.min(full.len())).find_map(|len| {
            let code: u16 = full[..len].parse().ok()?;
            self.regions
                .contains_key(&code)
                .then(|| (code, &full[len..]))
        })
    }

    /// `getRegionCodeForNumber` and `getNumberType` (whose UNKNOWN means invalid).
    fn classify(&self, code: u16, national: &str) -> (Option<&'static str>, NumberType) {
        let Some(regions) = self.regions.get(&code) else {
            return (None, NumberType::Unknown);
        };
        let region = if let [only] = regions.as_slice() {
            Some(*only)
        } else {
            regions.iter().copied().find(|&region| {
                self.plan(code, region)
                    .is_some_and(|plan| match &plan.leading_digits {
                        Some(leading) => leading.is_match(national),
                        None => plan.number_type(national) != NumberType::Unknown,
                    })
            })
        };
        let kind = region
            .and_then(|region| self.plan(code, region))
            .map_or(NumberType::Unknown, |plan| plan.number_type(national));
        (region, kind)
    }
}

/// `extractPossibleNumber`: from the first "+" or digit, without trailing punctuation.
fn extract_possible_number(input: &str) -> &str {
    let Some(start) = input.find(|c: char| c == '+' || c.is_ascii_digit()) else {
        return "";
    };
    input[start..].trim_end_matches(|c: char| !c.is_ascii_digit())
}

/// `isViablePhoneNumber`: two bare digits, or at least three digits among punctuation.
fn is_viable_phone_number(number: &str) -> bool {
    if number.len() < MIN_LENGTH_FOR_NSN {
        return false;
    }
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    (digits == 2 && number.len() == 2) || digits >= 3
}

fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de(raw: &str) -> Result<PhoneNumber, PhoneError> {
        PhoneNumber::parse(raw, Region::DE)
    }

    fn region(code: &str) -> Region {
        match Region::parse(code) {
            Ok(region) => region,
            Err(e) => panic!("{code}: {e}"),
        }
    }

    fn e164(raw: &str, default_region: Region) -> String {
        match PhoneNumber::parse(raw, default_region) {
            Ok(number) => number.as_str().to_owned(),
            Err(e) => panic!("{raw:?} in {default_region}: {e}"),
        }
    }

    #[test]
    fn contract_examples_normalize_to_e164() {
        for raw in ["0176 12345678", "+49 (0) 176 12345678", "0049 176 12345678"] {
            assert_eq!(e164(raw, Region::DE), "+4917612345678", "{raw}");
        }
        let austrian = de("004367612345678").unwrap();
        assert_eq!(austrian.as_str(), "+4367612345678");
        assert_eq!(austrian.region(), Some(region("AT")));
    }

    #[test]
    fn austrian_and_swiss_practices_read_their_national_formats() {
        assert_eq!(e164("0676 1234567", region("AT")), "+436761234567");
        assert_eq!(e164("079 123 45 67", region("CH")), "+41791234567");
        // The same national input means something else in Germany.
        assert_ne!(
            de("0676 1234567").map(|n| n.as_str().to_owned()),
            Ok("+436761234567".to_owned())
        );
    }

    #[test]
    fn premium_rate_is_refused() {
        assert_eq!(de("0900 1 234567"), Err(PhoneError::PremiumRate));
        assert_eq!(de("0900 3 123456"), Err(PhoneError::PremiumRate));
        assert_eq!(
            PhoneNumber::parse("0900 123456", region("AT")),
            Err(PhoneError::PremiumRate)
        );
        assert_eq!(
            PhoneNumber::parse("0900 123 456", region("CH")),
            Err(PhoneError::PremiumRate)
        );
    }

    #[test]
    fn toll_free_is_refused() {
        assert_eq!(de("0800 1234567"), Err(PhoneError::TollFree));
        assert_eq!(
            PhoneNumber::parse("0800 123 456", region("CH")),
            Err(PhoneError::TollFree)
        );
        assert_eq!(de("+800 1234 5678"), Err(PhoneError::TollFree));
    }

    #[test]
    fn letters_are_refused_before_libphonenumber_sees_them() {
        // libphonenumber would read vanity letters as keypad digits.
        assert_eq!(de("0800 FLOWERS"), Err(PhoneError::Letters));
        assert_eq!(de("0176 12345678 ext 12"), Err(PhoneError::Letters));
        assert_eq!(de("0176 12345678 x12"), Err(PhoneError::Letters));
        assert_eq!(de("0176 1234567ä"), Err(PhoneError::Letters));
        assert_eq!(de("tel:+4917612345678"), Err(PhoneError::Letters));
    }

    #[test]
    fn too_short_and_too_long_numbers_are_invalid() {
        assert_eq!(de("0176 1234"), Err(PhoneError::Invalid));
        assert_eq!(de("0176 123456789012"), Err(PhoneError::Invalid));
        assert_eq!(de("12"), Err(PhoneError::Invalid));
        assert_eq!(de("+49"), Err(PhoneError::Invalid));
    }

    #[test]
    fn odd_characters_are_named() {
        assert_eq!(
            de("0176#12345678"),
            Err(PhoneError::BadCharacters("#".into()))
        );
        assert_eq!(
            de("*100#;*100#"),
            Err(PhoneError::BadCharacters("*#;".into()))
        );
        assert_eq!(
            de("0176\t12345678"),
            Err(PhoneError::BadCharacters("\t".into()))
        );
        // Non-ASCII digits would be converted by libphonenumber; we do not guess.
        assert_eq!(
            de("０176 12345678"),
            Err(PhoneError::BadCharacters("０".into()))
        );
        assert_eq!(de("0176+12345678"), Err(PhoneError::MisplacedPlus));
        assert_eq!(de("++49 176 12345678"), Err(PhoneError::MisplacedPlus));
    }

    #[test]
    fn empty_and_absurdly_long_inputs_are_cheap_errors() {
        assert_eq!(de(""), Err(PhoneError::Empty));
        assert_eq!(de(" \t\n"), Err(PhoneError::Empty));
        assert_eq!(de(&"1".repeat(65)), Err(PhoneError::TooLong));
        assert_eq!(de(&"ä".repeat(1_000_000)), Err(PhoneError::TooLong));
        // 64 characters are still read (and here refused on their merits).
        assert_eq!(de(&"1".repeat(64)), Err(PhoneError::Invalid));
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(e164("  0176 12345678\n", Region::DE), "+4917612345678");
    }

    #[test]
    fn italian_leading_zero_belongs_to_the_number() {
        let vatican = de("+39 06 698 12345").unwrap();
        assert_eq!(vatican.as_str(), "+390669812345");
        assert_eq!(vatican.region(), Some(region("VA")));
        assert_eq!(e164("02 1234 5678", region("IT")), "+390212345678");
    }

    #[test]
    fn accessors() {
        let number = de("0176 12345678").unwrap();
        assert_eq!(number.to_string(), "+4917612345678");
        assert_eq!(number.last_four(), "5678");
        assert_eq!(number.country_code(), 49);
        assert_eq!(number.region(), Some(Region::DE));
        assert_eq!(number.masked(), "+49*********78");

        let swiss = PhoneNumber::parse("079 123 45 67", region("CH")).unwrap();
        assert_eq!(swiss.masked(), "+41*******67");
        let us = PhoneNumber::parse("(212) 555-1234", region("US")).unwrap();
        assert_eq!(us.masked(), "+1********34");
        assert_eq!(us.country_code(), 1);
    }

    #[test]
    fn non_geographic_numbers_have_no_region() {
        let inmarsat = de("+870 301 234 567").unwrap();
        assert_eq!(inmarsat.country_code(), 870);
        assert_eq!(inmarsat.region(), None);
        assert_eq!(inmarsat.masked(), "+870*******67");
    }

    #[test]
    fn error_messages_never_contain_the_number() {
        for raw in [
            "0176 1234",
            "0900 1 234567",
            "0800 1234567",
            "0176 12345678 x12",
            "0176#12345678",
            "0176+12345678",
        ] {
            let message = de(raw).unwrap_err().to_string();
            assert!(
                !message.contains("1234") && !message.contains("0176"),
                "{message}"
            );
        }
        assert!(PhoneError::Invalid.to_string().contains("+43 for Austria"));
    }

    #[test]
    fn regions() {
        assert_eq!(region("de"), Region::DE);
        assert_eq!(region("At").as_str(), "AT");
        assert_eq!(region("CH").to_string(), "CH");
        assert_eq!(Region::default(), Region::DE);
        assert_eq!("ch".parse::<Region>(), Ok(region("CH")));
        for bad in ["", "D", "DEU", "XX", "ZZ", "001", "Ä1", "d e"] {
            assert!(
                matches!(Region::parse(bad), Err(PhoneError::UnknownRegion(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serde_forms() {
        let at = region("AT");
        assert_eq!(serde_json::to_string(&at).unwrap(), "\"AT\"");
        assert_eq!(serde_json::from_str::<Region>("\"at\"").unwrap(), at);
        assert!(serde_json::from_str::<Region>("\"XX\"").is_err());

        let number = de("0176 12345678").unwrap();
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(json, "\"+4917612345678\"");
        assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), number);
        for stored in [
            "\"017612345678\"",
            "\"+49 176 12345678\"",
            "\"+49017612345678\"",
            "\"+499001234567\"",
            "\"+491761234\"",
            "\"+\"",
            "\"\"",
            "42",
        ] {
            assert!(
                serde_json::from_str::<PhoneNumber>(stored).is_err(),
                "{stored}"
            );
        }
    }

    #[test]
    fn metadata_is_read_like_libphonenumber_builds_it() {
        // Values from libphonenumber's built metadata for DE (Python phonenumbers
        // 9.0.33, data/region_DE.py): the general lengths are derived, not in the XML.
        let plan = &PLANS.by_region["DE"];
        assert_eq!(plan.general.lengths, (4..=15).collect::<Vec<u16>>());
        assert_eq!(plan.general.local_lengths, vec![2, 3]);
        assert_eq!(replacement_syntax("9$1"), "9${1}");
        assert_eq!(replacement_syntax("$2"), "${2}");
    }

    #[test]
    fn every_metadata_pattern_compiles() {
        let plans = &*PLANS;
        assert!(plans.by_region.len() > 200 && plans.non_geo.len() > 5);
        let patterns = plans
            .by_region
            .values()
            .chain(plans.non_geo.values())
            .flat_map(|plan| {
                let descs = std::iter::once(&plan.general)
                    .chain(plan.special.iter().map(|(_, desc)| desc))
                    .chain(plan.fixed_line.iter())
                    .chain(plan.mobile.iter());
                descs
                    .filter_map(|desc| desc.pattern.as_ref())
                    .chain(plan.idd.iter())
                    .chain(plan.national_prefix_for_parsing.iter())
                    .chain(plan.leading_digits.iter())
                    .collect::<Vec<_>>()
            });
        for pattern in patterns {
            assert!(pattern.regex().is_some(), "{}", pattern.source);
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn all_regions() -> Vec<Region> {
            let mut codes: Vec<&str> = PLANS.by_region.keys().copied().collect();
            codes.sort_unstable();
            codes
                .into_iter()
                .filter_map(|c| Region::parse(c).ok())
                .collect()
        }

        fn any_region() -> impl Strategy<Value = Region> {
            proptest::sample::select(all_regions())
        }

        fn home_region() -> impl Strategy<Value = Region> {
            proptest::sample::select(vec![Region::DE, region("AT"), region("CH")])
        }

        /// Inputs in the shape staff type: mostly digits with the allowed punctuation.
        fn typed_input() -> impl Strategy<Value = String> {
            prop_oneof![
                "(\\+|00|0)?[1-9][0-9 ()/.-]{4,18}",
                "0(15[0-9]|16[023]|17[0-9])[0-9]{7,8}",
                "0(30|40|89|221|69)[0-9]{5,8}",
                "\\+4[19] ?[1-9][0-9]{7,10}",
                "0?6[5-9][0-9] ?[0-9]{6,8}",
                "0?7[5-9] ?[0-9]{3} ?[0-9]{2} ?[0-9]{2}",
            ]
        }

        /// A German, Austrian or Swiss national significant number and its region.
        fn national_number() -> impl Strategy<Value = (Region, String, String)> {
            prop_oneof![
                "1(5[0-9]|6[023]|7[0-9])[0-9]{7,8}".prop_map(|n| (Region::DE, "49", n)),
                "(30|40|89|221|711|3581)[0-9]{5,8}".prop_map(|n| (Region::DE, "49", n)),
                "(9001|800|180)[0-9]{6,7}".prop_map(|n| (Region::DE, "49", n)),
                "6(50|6[04]|76|8[018]|99)[0-9]{4,9}".prop_map(|n| (region("AT"), "43", n)),
                "(1|316|512|662)[0-9]{4,9}".prop_map(|n| (region("AT"), "43", n)),
                "(7[5-9]|2[12]|31|4[34]|800|900)[0-9]{6,7}".prop_map(|n| (region("CH"), "41", n)),
            ]
            .prop_map(|(region, cc, n)| (region, cc.to_owned(), n))
        }

        /// Splits the digits into blocks the way people write them.
        fn grouped(digits: &str, cuts: &[usize], separator: &str) -> String {
            let mut out = String::new();
            let mut start = 0;
            for &cut in cuts {
                let end = (start + cut).min(digits.len());
                if end > start {
                    if !out.is_empty() {
                        out.push_str(separator);
                    }
                    out.push_str(&digits[start..end]);
                    start = end;
                }
            }
            if start < digits.len() {
                if !out.is_empty() {
                    out.push_str(separator);
                }
                out.push_str(&digits[start..]);
            }
            out
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn parsing_the_e164_form_again_is_stable(
                raw in typed_input(),
                home in home_region(),
                other in any_region(),
            ) {
                if let Ok(number) = PhoneNumber::parse(&raw, home) {
                    let again = PhoneNumber::parse(number.as_str(), other);
                    prop_assert_eq!(again, Ok(number.clone()));
                    let json = serde_json::to_string(&number).unwrap();
                    prop_assert_eq!(serde_json::from_str::<PhoneNumber>(&json).ok(), Some(number));
                }
            }

            #[test]
            fn formatting_does_not_change_the_number(
                (home, cc, national) in national_number(),
                cuts in proptest::collection::vec(1usize..5, 0..5),
                separator in proptest::sample::select(vec![" ", "-", "/", ".", " - ", " / ", ""]),
            ) {
                let plain = format!("0{national}");
                let expected = PhoneNumber::parse(&plain, home);
                let body = grouped(&national, &cuts, separator);
                let (area, rest) = national.split_at(3.min(national.len()));
                let variants = [
                    format!("0{body}"),
                    format!("+{cc} {body}"),
                    format!("+{cc}{national}"),
                    format!("+{cc} (0) {body}"),
                    format!("+{cc}(0){body}"),
                    format!("00{cc} {body}"),
                    format!("00{cc}-{body}"),
                    format!("(0{area}) {rest}"),
                    format!("0{area}/{rest}"),
                    format!("+{cc} ({area}) {rest}"),
                    format!(" 0{national} "),
                ];
                for variant in variants {
                    prop_assert_eq!(
                        &PhoneNumber::parse(&variant, home),
                        &expected,
                        "{} vs {}", variant, plain
                    );
                }
                // The same international forms read the same from any practice.
                let from_elsewhere = if home == Region::DE { region("CH") } else { Region::DE };
                prop_assert_eq!(
                    &PhoneNumber::parse(&format!("+{cc} {body}"), from_elsewhere),
                    &expected
                );
            }

            #[test]
            fn no_string_panics(raw in any::<String>(), home in any_region()) {
                let _ = PhoneNumber::parse(&raw, home);
            }

            #[test]
            fn no_phone_like_string_panics(
                raw in "[0-9+() /.-]{0,70}",
                home in any_region(),
            ) {
                let _ = PhoneNumber::parse(&raw, home);
            }
        }
    }
}
