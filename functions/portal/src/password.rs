//! Passwords: Argon2id at parameters that fit a Lambda (docs/portal.md, "Passwords"): 19 MiB of
//! memory, 2 passes, 1 lane, the OWASP minimum. About 40 ms per hash on one vCPU at 1 GB.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;
/// Shorter passwords are refused when set.
pub const MIN_CHARS: usize = 10;

fn argon2() -> Argon2<'static> {
    // The parameters are constants the crate accepts; a failure here is a programming error
    // caught by the tests, so fall back to the crate's defaults (also Argon2id) rather than panic.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("Das Passwort muss mindestens {MIN_CHARS} Zeichen lang sein.")]
    TooShort,
    #[error("Das Passwort darf höchstens 200 Zeichen lang sein.")]
    TooLong,
    #[error("Das Passwort konnte nicht gespeichert werden.")]
    Hashing,
}

/// The PHC string of `password` with a fresh salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > 200 {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    getrandom(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

fn getrandom(buf: &mut [u8]) -> Result<(), PasswordError> {
    getrandom::fill(buf).map_err(|_| PasswordError::Hashing)
}

/// Whether `password` matches `stored`. With no stored hash (unknown e-mail, password never
/// set) a dummy hash is checked instead, so the answer takes as long either way.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy password, never matches").unwrap_or_default());
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let ok = argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("korrekt pferd batterie").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("korrekt pferd batterie", Some(&h)));
        assert!(!verify("korrekt pferd batteriE", Some(&h)));
        assert!(!verify("korrekt pferd batterie", None));
        assert_ne!(
            h,
            hash("korrekt pferd batterie").expect("hash"),
            "fresh salt"
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(hash("kurz"), Err(PasswordError::TooShort));
    }
}
