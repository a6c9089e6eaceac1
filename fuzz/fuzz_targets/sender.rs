//! Sender ids on any input. No panic; an accepted sender is what the rule allows and reads
//! back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use praxis_shared::domain::SenderId;

fuzz_target!(|raw: &str| {
    let Ok(sender) = SenderId::parse(raw) else {
        return;
    };
    let s = sender.as_str();
    let digits = s.strip_prefix('+').unwrap_or(s);
    let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && digits.len() <= 16;
    let alphanumeric = !s.is_empty()
        && s.len() <= 11
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && s.bytes().any(|b| b.is_ascii_alphabetic());
    assert!(numeric || alphanumeric, "{s:?}");
    assert_eq!(s, s.trim());
    assert_eq!(SenderId::parse(s).expect("reads back"), sender);
});
