//! Accounts: roles, statuses, registration modes and the rules for usernames, passwords and e-mail addresses.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::validation::FieldErrors;

/// Shortest accepted password: long enough that offline guessing of a leaked hash is expensive.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Longest accepted password: bounds the work an attacker can make the hasher do per request.
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 32;
pub const EMAIL_MAX_CHARS: usize = 254;

/// What an account may do. Ordered: each role can do everything the ones before it can.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Worker,
    Moderator,
    Admin,
}
word_enum!(Role { Worker => "worker", Moderator => "moderator", Admin => "admin" });

impl Role {
    /// Moderators and admins handle invites, reports and removals.
    pub fn can_moderate(self) -> bool {
        self >= Role::Moderator
    }
}

/// Lifecycle of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// Can log in and act.
    Active,
    /// Registered in `approval` mode and waiting for a moderator.
    Pending,
    /// Locked out by a moderator.
    Suspended,
    /// Deleted by its owner: only the name remains, so nobody can re-register it to impersonate them.
    Deleted,
}
word_enum!(AccountStatus { Active => "active", Pending => "pending", Suspended => "suspended", Deleted => "deleted" });

/// Who may create an account on this instance.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Anyone may register and is active at once.
    Open,
    /// Anyone may register; a moderator must approve the account before it can log in.
    Approval,
    /// Only holders of an invite code may register. The default: requesters could otherwise infiltrate a collective.
    #[default]
    Invite,
}
word_enum!(RegistrationMode { Open => "open", Approval => "approval", Invite => "invite" });

impl RegistrationMode {
    /// The status a fresh registration gets under this mode.
    pub fn initial_status(self) -> AccountStatus {
        match self {
            RegistrationMode::Approval => AccountStatus::Pending,
            RegistrationMode::Open | RegistrationMode::Invite => AccountStatus::Active,
        }
    }
}

/// A validated, canonical (lowercase) username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Usernames are case-insensitive so `Alice` cannot impersonate `alice`; we keep the lowercase form.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim().to_ascii_lowercase();
        let len = name.chars().count();
        if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&len) {
            return Err(format!(
                "must be {USERNAME_MIN_CHARS} to {USERNAME_MAX_CHARS} characters long"
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err("may contain only letters a-z, digits and underscores".into());
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("must start with a letter".into());
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password against the length policy.
pub fn check_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN_CHARS {
        return Err(format!(
            "must be at least {PASSWORD_MIN_CHARS} characters long"
        ));
    }
    if len > PASSWORD_MAX_CHARS {
        return Err(format!(
            "must be at most {PASSWORD_MAX_CHARS} characters long"
        ));
    }
    Ok(())
}

/// Checks an optional e-mail address; an empty string counts as none. The address is never federated.
pub fn check_email(email: Option<&str>) -> Result<Option<String>, String> {
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(format!("must be at most {EMAIL_MAX_CHARS} characters long"));
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !email.chars().any(char::is_whitespace) =>
        {
            Ok(Some(email.to_owned()))
        }
        _ => Err("is not an e-mail address".into()),
    }
}

/// A registration that passed every field rule.
#[derive(Debug, Clone)]
pub struct Registration {
    pub username: Username,
    pub email: Option<String>,
}

/// Validates the fields of a registration together, reporting every bad field at once.
pub fn validate_registration(
    username: &str,
    password: &str,
    email: Option<&str>,
) -> Result<Registration, FieldErrors> {
    let mut errors = FieldErrors::new();
    let username = errors.check("username", Username::parse(username));
    errors.check("password", check_password(password));
    let email = errors.check("email", check_email(email));
    errors.into_result()?;
    match (username, email) {
        (Some(username), Some(email)) => Ok(Registration { username, email }),
        // Unreachable in practice: a missing value always recorded an error above.
        _ => Err(FieldErrors::single("username", "invalid")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_canonical_and_checked() {
        assert_eq!(
            Username::parse(" Alice_1 ").map(|u| u.into_string()),
            Ok("alice_1".into())
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("1abc").is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("élan").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn password_and_email_rules() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pw").is_ok());
        assert!(check_password(&"x".repeat(257)).is_err());
        assert_eq!(check_email(Some("  ")), Ok(None));
        assert_eq!(check_email(Some("a@b.org")), Ok(Some("a@b.org".into())));
        assert!(check_email(Some("nobody")).is_err());
        assert!(check_email(Some("a b@c.org")).is_err());
    }

    #[test]
    fn registration_reports_every_bad_field() {
        let errors = validate_registration("x", "short", Some("nope")).unwrap_err();
        assert_eq!(errors.fields().len(), 3);
    }

    #[test]
    fn words_round_trip_and_roles_are_ordered() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        for status in AccountStatus::ALL {
            assert_eq!(status.as_str().parse::<AccountStatus>(), Ok(*status));
        }
        assert!(
            "boss"
                .parse::<Role>()
                .unwrap_err()
                .contains("worker, moderator, admin")
        );
        assert!(Role::Admin.can_moderate() && Role::Moderator.can_moderate());
        assert!(!Role::Worker.can_moderate());
        assert_eq!(RegistrationMode::default(), RegistrationMode::Invite);
        assert_eq!(
            RegistrationMode::Approval.initial_status(),
            AccountStatus::Pending
        );
    }
}
