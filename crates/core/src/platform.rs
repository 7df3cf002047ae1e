//! The platforms requesters live on, and how each writes its requester IDs, so every instance keys a requester the same way.

use serde::{Deserialize, Serialize};

/// Longest requester name kept: platforms show far shorter ones, and every page and feed prints it.
pub const REQUESTER_NAME_MAX_CHARS: usize = 200;

/// Checks a requester's name from any source (a worker's input, an import, another instance):
/// 1 to 200 characters of printable text once trimmed. Control characters (line breaks, escapes)
/// and invisible direction overrides are refused: names are printed into pages, feeds, CSV and
/// the Turkopticon lookups, where they could break lines or disguise what a name says.
pub fn validate_requester_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > REQUESTER_NAME_MAX_CHARS {
        return Err(format!(
            "give the requester's name as shown on the platform (1 to {REQUESTER_NAME_MAX_CHARS} characters)"
        ));
    }
    let unprintable = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
            )
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if name.chars().any(unprintable) {
        return Err(
            "the requester's name must be printable text: no control characters, line breaks or direction marks"
                .into(),
        );
    }
    Ok(name.to_owned())
}

/// A crowdwork platform. Requesters are keyed across the federation by platform and platform ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Mturk,
    Prolific,
    Toloka,
    Clickworker,
    Other,
}
word_enum!(Platform { Mturk => "mturk", Prolific => "prolific", Toloka => "toloka", Clickworker => "clickworker", Other => "other" });

impl Platform {
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Mturk => "MTurk",
            Platform::Prolific => "Prolific",
            Platform::Toloka => "Toloka",
            Platform::Clickworker => "Clickworker",
            Platform::Other => "Other",
        }
    }

    /// The currency the platform pays in, when a review does not say.
    pub fn default_currency(self) -> &'static str {
        match self {
            Platform::Prolific => "GBP",
            Platform::Clickworker => "EUR",
            Platform::Mturk | Platform::Toloka | Platform::Other => "USD",
        }
    }

    /// Checks a requester ID and writes it the way the platform does, so `a1b2…` and `A1B2…` are one requester.
    pub fn normalize_requester_id(self, raw: &str) -> Result<String, String> {
        let raw = raw.trim();
        match self {
            Platform::Mturk => {
                let id = raw.to_ascii_uppercase();
                let rest = id.strip_prefix('A').unwrap_or_default();
                if (7..=25).contains(&rest.len())
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                {
                    Ok(id)
                } else {
                    Err(
                        "an MTurk requester ID is A followed by 7 to 25 capital letters or digits"
                            .into(),
                    )
                }
            }
            Platform::Prolific => {
                let id = raw.to_ascii_lowercase();
                if id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                    Ok(id)
                } else {
                    Err("a Prolific requester ID is 24 hexadecimal digits".into())
                }
            }
            Platform::Toloka | Platform::Clickworker => {
                if (1..=32).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_digit()) {
                    Ok(raw.to_owned())
                } else {
                    Err(format!(
                        "a {} requester ID is 1 to 32 digits",
                        self.display_name()
                    ))
                }
            }
            Platform::Other => {
                if (1..=64).contains(&raw.len())
                    && raw
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
                {
                    Ok(raw.to_owned())
                } else {
                    Err("a requester ID is 1 to 64 letters, digits, dots, colons, dashes or underscores".into())
                }
            }
        }
    }

    /// The requester's public page on the platform, where it has one.
    pub fn requester_url(self, id: &str) -> Option<String> {
        match self {
            Platform::Mturk => Some(format!("https://worker.mturk.com/requesters/{id}/projects")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requester_ids_are_checked_and_normalised() {
        assert_eq!(
            Platform::Mturk.normalize_requester_id(" a1b2c3d4e5 "),
            Ok("A1B2C3D4E5".into())
        );
        assert!(Platform::Mturk.normalize_requester_id("A123").is_err());
        assert!(
            Platform::Mturk
                .normalize_requester_id("B1234567890")
                .is_err()
        );
        assert!(
            Platform::Mturk
                .normalize_requester_id("A12345-7890")
                .is_err()
        );
        assert_eq!(
            Platform::Prolific.normalize_requester_id("5F0C2A9B8E7D6C5B4A392817"),
            Ok("5f0c2a9b8e7d6c5b4a392817".into())
        );
        assert!(Platform::Prolific.normalize_requester_id("xyz").is_err());
        assert!(Platform::Toloka.normalize_requester_id("12345").is_ok());
        assert!(Platform::Clickworker.normalize_requester_id("12a").is_err());
        assert!(
            Platform::Other
                .normalize_requester_id("lab:psych-1")
                .is_ok()
        );
        assert!(Platform::Other.normalize_requester_id("has space").is_err());
    }

    #[test]
    fn requester_names_are_printable_and_bounded() {
        assert_eq!(
            validate_requester_name("  Acme Research "),
            Ok("Acme Research".into())
        );
        assert_eq!(
            validate_requester_name("Ünï <Lab> & Co"),
            Ok("Ünï <Lab> & Co".into())
        );
        assert!(validate_requester_name("   ").is_err());
        assert!(validate_requester_name(&"x".repeat(200)).is_ok());
        assert!(validate_requester_name(&"x".repeat(201)).is_err());
        for bad in [
            "a\nb",
            "a\u{0}b",
            "a\u{1b}[31mb",
            "a\u{7f}",
            "a\u{202E}b",
            "a\u{2028}b",
            "a\u{85}b",
        ] {
            assert!(validate_requester_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn words_and_urls() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse::<Platform>(), Ok(*platform));
        }
        assert_eq!(Platform::Prolific.default_currency(), "GBP");
        assert!(
            Platform::Mturk
                .requester_url("A1")
                .is_some_and(|u| u.contains("/requesters/A1/"))
        );
        assert_eq!(Platform::Toloka.requester_url("1"), None);
    }
}
