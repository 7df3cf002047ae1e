//! The one error type of the domain crate, so callers can map each rule violation to a user-facing answer.

use crate::validation::FieldErrors;

/// Everything a domain rule can refuse.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input broke one or more field rules; each field carries its own message.
    #[error("{0}")]
    Validation(FieldErrors),
    /// A stored password hash could not be parsed: the database holds something we did not write.
    #[error("stored password hash is malformed")]
    MalformedHash,
    /// The password hasher failed for a reason other than a wrong password.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// A stored TOTP secret is not base32 of the right length: the database holds something we did not write.
    #[error("stored TOTP secret is malformed")]
    MalformedTotpSecret,
}

impl From<FieldErrors> for CoreError {
    fn from(errors: FieldErrors) -> Self {
        CoreError::Validation(errors)
    }
}
