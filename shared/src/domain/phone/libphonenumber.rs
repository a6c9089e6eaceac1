//! libphonenumber's `parse`, `isValidNumber` and `getNumberType`, ported for the inputs that
//! pass screening, on the `phonenumber` crate's metadata.
//!
//! Why this does not call `phonenumber::parse` / `is_valid` / `number_type`:
//! phonenumber 0.3.10 ships libphonenumber's metadata (9.0.33), but its parsing and
//! classification code departs from libphonenumber. Built on the crate's `parse`,
//! `is_valid`, `number_type` and E.164 formatting, this type disagreed with the
//! oracle test (tests/oracle_numbers.rs: libphonenumber's Python port, same metadata
//! version) on 768 of the 22,820 inputs it compares. The classes, each traced to the
//! crate source and shown with libphonenumber's answer:
//!  1. Its metadata loader never derives the general descriptor's possible lengths
//!     (libphonenumber's metadata build unions them from the number types), so its
//!     length test always says "invalid length", and any national input starting
//!     with the region's calling code loses those digits as a country code:
//!     "493003" (DE) gives +49 3003, invalid; libphonenumber: +49 493003, valid.
//!  2. It matches number patterns as prefixes (a match starting at 0) instead of
//!     whole strings: "0900 1234 5678" (DE) is premium rate for the crate, while for
//!     libphonenumber it is not a valid number at all.
//!  3. It strips the national prefix a second time after the metadata-driven
//!     stripping: "00 2 1234 5678" (AU) gives +61 2 1234 5678, valid;
//!     libphonenumber: +61 02 1234 5678, invalid.
//!  4. Its E.164 formatting, number type and region lookup drop Italian-style
//!     leading zeros: "+39 089 123456" gives +39 89123456, invalid; libphonenumber:
//!     +39 089123456, a valid fixed line (and +39 06 698... is not found as VA).
//!
//! These are differences in the crate's code, not in the data, so instead of
//! patching symptoms the functions here port the steps of libphonenumber's `parse`,
//! `isValidNumber` and `getNumberType` that the characters we admit can reach, and
//! take all data from the crate's metadata (regions, prefixes, patterns, lengths).
//! The crate's own regex machinery is not used: it keeps compiled patterns in an LRU
//! cache of 100 entries behind one mutex, so mixed traffic would recompile them.
//!
//! The port covers libphonenumber (PhoneNumberUtil 9.0.x) for inputs that passed `screen`:
//! ASCII digits, at most one "+" before all digits, and the punctuation ( ) - / . and
//! space. Names follow libphonenumber's so the two can be read side by side. Inputs
//! outside that alphabet never get here, which is why extensions, RFC 3966, vanity
//! letters and non-ASCII digits need no handling.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

/// Whether libphonenumber has metadata for `region`, an upper-case ISO 3166-1 alpha-2 code.
pub(super) fn is_known_region(region: &str) -> bool {
    PLANS.by_region.contains_key(region)
}

/// Every region libphonenumber has metadata for.
#[cfg(test)]
pub(super) fn regions() -> impl Iterator<Item = &'static str> {
    PLANS.by_region.keys().copied()
}

/// A number as libphonenumber reads it.
pub(super) struct Number {
    pub country_code: u16,
    /// The national significant number.
    pub national: String,
    /// The number's own region; `None` for non-geographic numbers (+800, +882, ...).
    pub region: Option<&'static str>,
    /// `Unknown` means libphonenumber finds it invalid.
    pub kind: NumberType,
}

/// libphonenumber's `parse`, then `getRegionCodeForNumber` and `getNumberType`, for `input`
/// read in `default_region` (a known region). `None` if libphonenumber cannot parse it.
pub(super) fn parse(input: &str, default_region: &str) -> Option<Number> {
    let plans = &*PLANS;
    let home = plans.by_region.get(default_region)?;
    let (country_code, national) = plans.parse(input, home)?;
    let (region, kind) = plans.classify(country_code, &national);
    Some(Number {
        country_code,
        national,
        region: region.filter(|&r| r != NON_GEO_REGION),
        kind,
    })
}

const MIN_LENGTH_FOR_NSN: usize = 2;
const MAX_LENGTH_FOR_NSN: usize = 17;
const MAX_LENGTH_COUNTRY_CODE: usize = 3;
const NON_GEO_REGION: &str = "001";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumberType {
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
}
