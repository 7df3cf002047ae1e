//! The second factor for moderators and admins: TOTP (RFC 6238) codes and one-time recovery codes, so a leaked password alone cannot take over an account that can suspend and remove.

use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::CoreError;
use crate::accounts::Role;

/// Recovery codes handed out at enrolment, each usable once.
pub const RECOVERY_CODES: usize = 10;

/// Seconds one code is valid; what every authenticator app assumes.
const STEP_SECONDS: u64 = 30;

/// Digits per code; likewise the apps' default.
const DIGITS: usize = 6;

/// Only accounts that can moderate may enrol: theirs are the accounts worth taking over.
pub fn may_enrol(role: Role) -> bool {
    role >= Role::Moderator
}

/// A fresh secret (160 bits, as RFC 4226 recommends), base32 as authenticator apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    base32(&bytes)
}

/// RFC 4648 base32 without padding (what `Secret::Encoded` displays as).
fn base32(bytes: &[u8]) -> String {
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// The `otpauth://` URI an authenticator app scans: `issuer` names the instance, `account` the user.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let issuer = percent_encode(issuer);
    let account = percent_encode(account);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
}

fn totp(secret: &str) -> Result<TOTP, CoreError> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|_| CoreError::MalformedTotpSecret)?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECONDS, bytes)
        .map_err(|_| CoreError::MalformedTotpSecret)
}

/// The time step `code` is valid for at `unix_time`, allowing one step of clock drift either way;
/// `None` when it matches none. Callers refuse a step at or before the last one used, so an
/// observed code cannot be replayed.
pub fn matching_step(secret: &str, code: &str, unix_time: u64) -> Result<Option<u64>, CoreError> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret)?;
    let now = unix_time / STEP_SECONDS;
    // Every candidate is computed and compared, so the time taken does not say which matched.
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = totp.generate(step * STEP_SECONDS);
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    Ok(found)
}

/// The code an authenticator shows at `unix_time` (for tests and tools).
pub fn code_at(secret: &str, unix_time: u64) -> Result<String, CoreError> {
    Ok(totp(secret)?.generate(unix_time))
}

/// Fresh recovery codes, `xxxxx-xxxxx` in lower-case base32 (50 bits each; the login limiter
/// makes guessing them hopeless). Only their digests (`recovery_digest`) are stored.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::rng().fill_bytes(&mut bytes);
            let text = base32(&bytes).to_ascii_lowercase();
            // 10 bytes are 16 base32 characters; the first 10 carry 50 random bits.
            let (first, rest) = text.split_at(5);
            format!("{first}-{}", rest.get(..5).unwrap_or(rest))
        })
        .collect()
}

/// The digest a recovery code is stored and looked up by; case, spaces and dashes do not matter,
/// so a code copied from paper still works.
pub fn recovery_digest(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::secrets::secret_digest(&normalized)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for the URI's label and issuer.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890", T = 59 s -> 94287082
        // (8 digits); our 6 digits are its last six.
        let secret = base32(b"12345678901234567890");
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(matching_step(&secret, "287082", 59).unwrap(), Some(1));
        assert_eq!(matching_step(&secret, "287082", 59 + 30).unwrap(), Some(1));
        assert_eq!(matching_step(&secret, "287082", 59 + 90).unwrap(), None);
        assert_eq!(matching_step(&secret, "28708", 59).unwrap(), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 11);
        assert_eq!(
            recovery_digest(code),
            recovery_digest(&code.to_ascii_uppercase().replace('-', " "))
        );
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let uri = otpauth_uri("Picket picket.example.org", "mod_1", &secret);
        assert!(uri.starts_with("otpauth://totp/Picket%20picket.example.org:mod_1?secret="));
        assert!(uri.contains(&secret));
        assert!(may_enrol(Role::Admin) && may_enrol(Role::Moderator) && !may_enrol(Role::Worker));
    }
}
