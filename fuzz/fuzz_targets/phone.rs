//! Phone numbers: libphonenumber's rules on any input, in any region. No panic; an accepted
//! number is E.164, and its E.164 form, read again as the store hands it back, is the same
//! number.
#![no_main]

use libfuzzer_sys::fuzz_target;
use praxis_shared::domain::{PhoneNumber, Region};

const REGIONS: [&str; 6] = ["DE", "AT", "CH", "US", "GB", "FR"];

fuzz_target!(|input: (u8, &str)| {
    let (region, raw) = input;
    let region = Region::parse(REGIONS[usize::from(region) % REGIONS.len()]).expect("known region");
    let Ok(number) = PhoneNumber::parse(raw, region) else {
        return;
    };
    let e164 = number.as_str();
    // E.164's 15 digits at most, although libphonenumber knows longer German numbers
    // (`090996 100 1234 78`: +49 and 14 national digits; the seed de-14-digit-national).
    assert!(e164.len() >= 3 && e164.len() <= 16, "{e164}");
    assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()));
    assert_ne!(&e164[1..2], "0");
    let again = PhoneNumber::parse(e164, Region::DE).expect("E.164 is accepted again");
    assert_eq!(again.as_str(), e164);
    let masked = number.masked();
    assert_eq!(masked.len(), e164.len());
});
