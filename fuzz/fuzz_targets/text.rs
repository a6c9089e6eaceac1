//! Message text: encoding, parts and smart encoding on any input. No panic; an accepted text
//! fits 10 parts in code units, its counts describe the text as sent, and that text, read
//! again as the store hands it back, is accepted with the same counts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use praxis_shared::domain::text::{Encoding, MAX_CLUSTER_UNITS, MAX_SEGMENTS, analyse};
use praxis_shared::domain::MessageText;

fuzz_target!(|input: (bool, &str)| {
    let (smart, raw) = input;
    let Ok(text) = MessageText::parse(raw, smart) else {
        return;
    };
    let multi = match text.encoding() {
        Encoding::Gsm7 => 153,
        Encoding::Ucs2 => 67,
    };
    assert!(text.segments() >= 1 && text.segments() <= MAX_SEGMENTS);
    assert!(text.units() <= MAX_SEGMENTS as usize * multi, "{} units", text.units());
    let counted = analyse(text.as_str());
    assert_eq!(counted.encoding, text.encoding());
    assert_eq!(counted.segments, text.segments());
    assert_eq!(counted.units, text.units());
    assert!(counted.longest_cluster.1 <= MAX_CLUSTER_UNITS);
    let again = MessageText::parse(text.as_str(), false).expect("the text as sent is accepted");
    assert_eq!(again, text);
});
