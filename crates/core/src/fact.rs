//! What workers know about who is behind a requester: the organisation, its kind, a business contact, what the work builds and what the data is used for, each with its sources, checked so that nothing beyond business details about a person gets in.

use serde::{Deserialize, Serialize};

use crate::review::{check_length, guard_worker_ids};
use crate::validation::FieldErrors;

/// Which fact about a requester.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FactField {
    /// The organisation behind the requester account.
    Organisation,
    /// What kind of organisation it is (`OrganisationKind`).
    Kind,
    /// A business contact: the organisation's address, form or page.
    Contact,
    /// What the tasks are for: what the work builds.
    Purpose,
    /// Known uses of the data workers produce.
    DataUses,
}
word_enum!(FactField {
    Organisation => "organisation",
    Kind => "kind",
    Contact => "contact",
    Purpose => "purpose",
    DataUses => "data_uses",
});

impl FactField {
    pub fn label(self) -> &'static str {
        match self {
            FactField::Organisation => "Organisation behind it",
            FactField::Kind => "Kind of organisation",
            FactField::Contact => "Business contact",
            FactField::Purpose => "What the work builds",
            FactField::DataUses => "Known uses of the data",
        }
    }

    fn max_chars(self) -> usize {
        match self {
            FactField::Organisation | FactField::Contact => 300,
            FactField::Kind => 20,
            FactField::Purpose | FactField::DataUses => 2000,
        }
    }
}

/// The kinds of organisation a requester can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    Company,
    UniversityLab,
    Platform,
    DataBroker,
    Unknown,
}
word_enum!(OrganisationKind {
    Company => "company",
    UniversityLab => "university_lab",
    Platform => "platform",
    DataBroker => "data_broker",
    Unknown => "unknown",
});

impl OrganisationKind {
    pub fn label(self) -> &'static str {
        match self {
            OrganisationKind::Company => "Company",
            OrganisationKind::UniversityLab => "University lab",
            OrganisationKind::Platform => "Platform",
            OrganisationKind::DataBroker => "Data broker",
            OrganisationKind::Unknown => "Unknown",
        }
    }
}

/// Most sources one fact cites.
pub const MAX_SOURCES: usize = 5;
const SOURCE_MAX_CHARS: usize = 500;

/// A new version of one fact, as the API accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactInput {
    pub value: String,
    /// Links that back the fact up (a company register, a consent form, a paper).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// A fact as stored: trimmed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ValidFact {
    pub field: FactField,
    pub value: String,
    pub sources: Vec<String>,
}

/// Mail providers where an address belongs to a person, not an organisation: a requester's
/// contact there would be someone's private address, which the rules on personal information
/// keep out.
const PERSONAL_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
];

/// Whether `text` holds an e-mail address at a personal mail provider.
fn personal_address(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '(' | ')'))
        .filter_map(|word| word.rsplit_once('@'))
        .any(|(_, domain)| {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            PERSONAL_MAIL.contains(&domain.as_str())
        })
}

/// Whether `text` looks like a telephone number (seven digits or more among digits, spaces,
/// dots, dashes and brackets): a business contact is an address, a form or a page.
fn phone_number(text: &str) -> bool {
    let mut digits = 0;
    for c in text.chars() {
        match c {
            '0'..='9' => {
                digits += 1;
                if digits >= 7 {
                    return true;
                }
            }
            ' ' | '.' | '-' | '(' | ')' | '+' | '/' => {}
            _ => digits = 0,
        }
    }
    false
}

/// Checks one new version of `field`; `requester_id` is the requester's own ID (no worker's).
pub fn validate_fact(
    field: FactField,
    input: &FactInput,
    requester_id: &str,
    allow_worker_ids: bool,
) -> Result<ValidFact, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = field.as_str();
    let value = input.value.trim().to_owned();
    if value.is_empty() {
        errors.add(name, "write what is known, or leave this fact out");
    }
    check_length(&mut errors, name, Some(&value), field.max_chars());
    if field == FactField::Kind
        && let Err(message) = value.parse::<OrganisationKind>()
    {
        errors.add(name, message);
    }
    if personal_address(&value) || (field == FactField::Contact && phone_number(&value)) {
        errors.add(
            name,
            "give business details only: the organisation's address, form or page, not a person's private address or telephone number",
        );
    }
    guard_worker_ids(
        &mut errors,
        name,
        Some(&value),
        requester_id,
        allow_worker_ids,
    );
    let sources: Vec<String> = input
        .sources
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if sources.len() > MAX_SOURCES {
        errors.add(
            &format!("{name}.sources"),
            format!("cite at most {MAX_SOURCES} sources"),
        );
    }
    for source in &sources {
        let web = (source.starts_with("https://") || source.starts_with("http://"))
            && source.len() > "https://".len()
            && !source.chars().any(char::is_whitespace);
        if !web || source.chars().count() > SOURCE_MAX_CHARS {
            errors.add(
                &format!("{name}.sources"),
                format!("each source is a web address (http or https, at most {SOURCE_MAX_CHARS} characters)"),
            );
            break;
        }
    }
    errors.into_result()?;
    Ok(ValidFact {
        field,
        value,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: &str) -> FactInput {
        FactInput {
            value: value.into(),
            sources: vec!["https://register.example/acme".into()],
        }
    }

    #[test]
    fn a_fact_is_trimmed_and_keeps_its_sources() {
        let fact = validate_fact(
            FactField::Organisation,
            &input("  Acme Labs Ltd "),
            "",
            false,
        )
        .expect("valid");
        assert_eq!(fact.value, "Acme Labs Ltd");
        assert_eq!(fact.sources, ["https://register.example/acme"]);
    }

    #[test]
    fn the_kind_is_one_of_the_known_kinds() {
        assert!(validate_fact(FactField::Kind, &input("data_broker"), "", false).is_ok());
        let errors = validate_fact(FactField::Kind, &input("charity"), "", false).unwrap_err();
        assert!(
            errors.fields()["kind"].contains("university_lab"),
            "{errors:?}"
        );
    }

    #[test]
    fn personal_details_are_refused() {
        for (field, value) in [
            (FactField::Contact, "Write to jane.doe@gmail.com"),
            (FactField::Organisation, "Run by bob@Hotmail.com."),
            (FactField::Contact, "+44 (0)20 7946 0958"),
        ] {
            let errors = validate_fact(field, &input(value), "", false).unwrap_err();
            assert!(
                errors.fields()[field.as_str()].contains("business details only"),
                "{value}: {errors:?}"
            );
        }
        assert!(
            validate_fact(
                FactField::Contact,
                &input("research@acme.example"),
                "",
                false
            )
            .is_ok()
        );
        // Figures in what the work builds are no telephone number.
        assert!(
            validate_fact(
                FactField::Purpose,
                &input("Labels 1000000 images"),
                "",
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn sources_are_web_addresses() {
        let mut bad = input("Acme");
        bad.sources = vec!["my friend told me".into()];
        let errors = validate_fact(FactField::Organisation, &bad, "", false).unwrap_err();
        assert!(
            errors.fields().contains_key("organisation.sources"),
            "{errors:?}"
        );
        bad.sources = vec!["https://a.example".into(); 6];
        assert!(validate_fact(FactField::Organisation, &bad, "", false).is_err());
    }

    #[test]
    fn empty_or_worker_ids_are_refused() {
        assert!(validate_fact(FactField::Purpose, &input("  "), "", false).is_err());
        let errors =
            validate_fact(FactField::Purpose, &input("ask A3KQ9ZP1X0WBTR"), "", false).unwrap_err();
        assert!(errors.fields()["purpose"].contains("A3KQ…"), "{errors:?}");
    }
}
