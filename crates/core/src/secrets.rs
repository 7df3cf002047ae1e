//! Password hashes and bearer secrets: how we keep credentials so a stolen database reveals none of them.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::CoreError;

/// Argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane); `needs_rehash` upgrades older hashes on login.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. CPU-heavy: call it off the async executor.
pub fn hash_password(password: &str) -> Result<String, CoreError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| CoreError::Hashing(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CoreError::Hashing(e.to_string()))
}

/// `Ok(true)` when `password` matches the stored PHC hash.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, CoreError> {
    let parsed = PasswordHash::new(stored).map_err(|_| CoreError::MalformedHash)?;
    match hasher().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(CoreError::Hashing(e.to_string())),
    }
}

/// True when a stored hash was made with weaker or other parameters than we use now.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let current = hasher();
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() != current.params().m_cost()
        || params.t_cost() != current.params().t_cost()
        || params.p_cost() != current.params().p_cost()
}

/// A fresh random secret (256 bits), URL-safe, for session cookies, API tokens and invite codes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A public identifier for a review, incident or corroboration: random (96 bits), so ids reveal
/// neither how many items exist nor when they were written.
pub fn new_public_id() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What we store for a bearer secret: its SHA-256. Secrets are random and long, so a fast hash suffices,
/// and a database leak yields nothing that can be presented back to us.
pub fn secret_digest(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &hash).unwrap());
        assert!(!verify_password("wrong horse battery", &hash).unwrap());
        assert!(!needs_rehash(&hash));
        assert!(matches!(
            verify_password("x", "not a hash"),
            Err(CoreError::MalformedHash)
        ));
    }

    #[test]
    fn weaker_hashes_need_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let hash = weak.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(needs_rehash(&hash));
        assert!(needs_rehash("garbage"));
    }

    #[test]
    fn secrets_are_unique_and_digests_stable() {
        let a = new_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_secret());
        assert_eq!(new_public_id().len(), 16);
        assert_eq!(
            secret_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
