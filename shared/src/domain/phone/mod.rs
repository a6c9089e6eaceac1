//! Recipient phone numbers: `PhoneNumber`, normalized to E.164 with libphonenumber's rules
//! (`libphonenumber` holds the port and why it is one); the practice's default `Region` that
//! national formats are read in; and the screening that refuses premium-rate and toll-free
//! numbers, letters, and characters libphonenumber would tolerate.

mod libphonenumber;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use libphonenumber::NumberType;

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
    #[error(
        "phone number has more than 15 digits with its country code, the most an international (E.164) number may have"
    )]
    OverE164,
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
        if !libphonenumber::is_known_region(region.as_str()) {
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

/// The most digits an international number has, country code included (ITU-T E.164).
const E164_DIGITS: usize = 15;

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
        if !libphonenumber::is_known_region(default_region.as_str()) {
            return Err(PhoneError::UnknownRegion(
                default_region.as_str().to_owned(),
            ));
        }
        let number =
            libphonenumber::parse(input, default_region.as_str()).ok_or(PhoneError::Invalid)?;
        match number.kind {
            NumberType::Unknown => Err(PhoneError::Invalid),
            NumberType::PremiumRate => Err(PhoneError::PremiumRate),
            NumberType::TollFree => Err(PhoneError::TollFree),
            // libphonenumber knows German numbers of up to 14 national digits (16 with +49);
            // carriers route E.164 only, and the API documents E.164.
            _ if number.country_code.to_string().len() + number.national.len() > E164_DIGITS => {
                Err(PhoneError::OverE164)
            }
            _ => Ok(PhoneNumber {
                e164: format!("+{}{}", number.country_code, number.national),
                country_code: number.country_code,
                region: number.region.and_then(|r| Region::parse(r).ok()),
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

    /// The number as a practice in `home` writes it: in national format if it is of that
    /// region ("0176 12345678"), else international ("+43 676 1234567"), grouped as
    /// libphonenumber groups it. Where the `phonenumber` crate's formatter would lose digits
    /// (it drops Italian-style leading zeros, see `libphonenumber.rs`), E.164.
    pub fn display_for(&self, home: Region) -> String {
        use std::fmt::Write as _;
        let national_digits = &self.e164[1 + self.country_code.to_string().len()..];
        let Ok(number) = phonenumber::parse(None, &self.e164) else {
            return self.e164.clone();
        };
        let national = self.region == Some(home);
        let mode = if national {
            phonenumber::Mode::National
        } else {
            phonenumber::Mode::International
        };
        let mut shown = String::new();
        if write!(shown, "{}", number.format().mode(mode)).is_err() {
            return self.e164.clone();
        }
        let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
        let whole = if national {
            digits.ends_with(national_digits)
        } else {
            digits == self.e164[1..]
        };
        if whole { shown } else { self.e164.clone() }
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

#[cfg(test)]
mod tests {

    #[test]
    fn a_number_is_shown_as_the_practice_writes_it() {
        let de = Region::DE;
        let at = Region::parse("AT").expect("AT");
        let n = |s: &str| PhoneNumber::parse(s, de).expect("number");
        assert_eq!(n("+4917612345678").display_for(de), "0176 12345678");
        assert_eq!(n("+4930123456").display_for(de), "030 123456");
        assert_eq!(n("+436761234567").display_for(at), "0676 1234567");
        assert_eq!(n("+436761234567").display_for(de), "+43 676 1234567");
        assert_eq!(n("+4917612345678").display_for(at), "+49 176 12345678");
        // As libphonenumber formats them (Python `phonenumbers` 9.0.33), Italy's zero kept.
        assert_eq!(n("+4930123456").display_for(at), "+49 30 123456");
        assert_eq!(n("+39089123456").display_for(de), "+39 089 123456");
    }
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
    fn a_number_longer_than_e164_is_refused_though_libphonenumber_knows_it() {
        // +49 and 14 national digits: found by the fuzzer (fuzz/seeds/phone).
        assert_eq!(de("090996 100 1234 78"), Err(PhoneError::OverE164));
        assert_eq!(
            de("090996 100 1234 7").map(|n| n.as_str().to_owned()),
            Ok("+499099610012347".to_owned())
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn all_regions() -> Vec<Region> {
            let mut codes: Vec<&str> = libphonenumber::regions().collect();
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
