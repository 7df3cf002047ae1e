//! Campaigns from a wave: what workers ask of a requester or a platform, how many must sign before it is sent, and the letter Picket writes from the wave's figures and the signature counts (never the signers).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::incident::IncidentKind;
use crate::review::{check_length, guard_worker_ids};
use crate::validation::FieldErrors;
use crate::wave::Wave;

/// What the workers ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Demand {
    ReverseRejections,
    Pay,
    Reinstate,
    Explain,
}
word_enum!(Demand {
    ReverseRejections => "reverse_rejections",
    Pay => "pay",
    Reinstate => "reinstate",
    Explain => "explain",
});

impl Demand {
    pub fn words(self) -> &'static str {
        match self {
            Demand::ReverseRejections => "reverse the rejections",
            Demand::Pay => "pay what is owed",
            Demand::Reinstate => "reinstate the accounts and release the earnings",
            Demand::Explain => "explain what happened and why",
        }
    }
}

/// What came of a campaign, as its home instance's admins record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Reversed,
    Paid,
    Reinstated,
    NoAnswer,
    Refused,
}
word_enum!(Outcome {
    Reversed => "reversed",
    Paid => "paid",
    Reinstated => "reinstated",
    NoAnswer => "no_answer",
    Refused => "refused",
});

impl Outcome {
    pub fn words(self) -> &'static str {
        match self {
            Outcome::Reversed => "the rejections were reversed",
            Outcome::Paid => "the workers were paid",
            Outcome::Reinstated => "the accounts were reinstated",
            Outcome::NoAnswer => "no answer came",
            Outcome::Refused => "the demand was refused",
        }
    }
}

/// Fewest and most signatures a campaign can wait for.
pub const THRESHOLD_MIN: i64 = 2;
pub const THRESHOLD_MAX: i64 = 100_000;
/// Longest letter, in characters.
pub const LETTER_MAX_CHARS: usize = 5000;

/// A campaign's own words: the demand, the letter and the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignTerms {
    pub demand: Demand,
    pub letter: String,
    pub threshold: i64,
}

/// Checks a campaign's terms; `requester_id` is the requester's own ID (no worker's).
pub fn validate_terms(
    terms: &CampaignTerms,
    requester_id: &str,
    allow_worker_ids: bool,
) -> Result<CampaignTerms, FieldErrors> {
    let mut errors = FieldErrors::new();
    let letter = terms.letter.trim().to_owned();
    if letter.is_empty() {
        errors.add("letter", "write the letter: what happened and what you ask");
    }
    check_length(&mut errors, "letter", Some(&letter), LETTER_MAX_CHARS);
    guard_worker_ids(
        &mut errors,
        "letter",
        Some(&letter),
        requester_id,
        allow_worker_ids,
    );
    if !(THRESHOLD_MIN..=THRESHOLD_MAX).contains(&terms.threshold) {
        errors.add(
            "threshold",
            format!("must be between {THRESHOLD_MIN} and {THRESHOLD_MAX} workers"),
        );
    }
    errors.into_result()?;
    Ok(CampaignTerms {
        demand: terms.demand,
        letter,
        threshold: terms.threshold,
    })
}

/// Signatures counted per instance, as a campaign shows them: never who, only how many where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstanceCount {
    pub instance: String,
    pub signatures: i64,
}

/// What the letter is sent about: the addressee and the wave behind it.
#[derive(Debug, Clone, Copy)]
pub struct LetterFacts<'a> {
    /// The requester's name and ID, or `None` for a letter to the platform.
    pub requester: Option<(&'a str, &'a str)>,
    pub platform: &'a str,
    pub kind: IncidentKind,
    pub since: NaiveDate,
    /// The wave as counted now, when it still shows.
    pub wave: Option<&'a Wave>,
    /// Tasks affected and money lost (formatted) over the wave's incidents, when reported.
    pub tasks_affected: Option<i64>,
    pub money_lost: Option<&'a str>,
}

/// The letter as sent: the addressee, the workers' own words, the demand, the wave's figures
/// and the signature counts by instance. Nothing in it names a worker.
pub fn letter_text(
    terms: &CampaignTerms,
    facts: &LetterFacts<'_>,
    counts: &[InstanceCount],
) -> String {
    let to = match facts.requester {
        Some((name, id)) => format!("To {name} (requester {id} on {})", facts.platform),
        None => format!("To {}", facts.platform),
    };
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut figures = match facts.wave {
        Some(wave) => format!(
            "{} on {} reported {} since {}",
            plural(wave.workers, "worker", "workers"),
            plural(wave.instances, "instance", "instances"),
            facts.kind.plural(),
            facts.since.format("%-d %B %Y")
        ),
        None => format!(
            "Workers reported {} since {}",
            facts.kind.plural(),
            facts.since.format("%-d %B %Y")
        ),
    };
    let totals: Vec<String> = [
        facts.tasks_affected.map(|n| format!("{n} tasks affected")),
        facts.money_lost.map(|m| format!("{m} lost")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !totals.is_empty() {
        figures.push_str(": ");
        figures.push_str(&totals.join(", "));
    }
    let signed = counts
        .iter()
        .fold(0_i64, |sum, c| sum.saturating_add(c.signatures));
    let places: Vec<String> = counts
        .iter()
        .map(|c| format!("{} on {}", c.signatures, c.instance))
        .collect();
    format!(
        "{to},\n\n{}\n\nWe ask you to {}.\n\n{figures}.\n\n{} this letter ({}), through Picket, a worker-run review and incident service. Their names are not given.\n",
        terms.letter,
        terms.demand.words(),
        plural(signed, "worker signed", "workers signed"),
        places.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> CampaignTerms {
        CampaignTerms {
            demand: Demand::ReverseRejections,
            letter: "  Please look again at batch 77. ".into(),
            threshold: 3,
        }
    }

    #[test]
    fn terms_are_trimmed_and_checked() {
        let valid = validate_terms(&terms(), "", false).expect("valid");
        assert_eq!(valid.letter, "Please look again at batch 77.");
        let mut bad = terms();
        bad.threshold = 1;
        bad.letter = " ".into();
        let errors = validate_terms(&bad, "", false).unwrap_err();
        assert!(errors.fields().contains_key("threshold"));
        assert!(errors.fields().contains_key("letter"));
        bad.letter = "I am A3KQ9ZP1X0WBTR".into();
        bad.threshold = 3;
        assert!(validate_terms(&bad, "", false).is_err());
    }

    #[test]
    fn the_letter_gives_figures_and_counts_but_no_names() {
        let wave = Wave {
            kind: IncidentKind::MassRejection,
            since: "2026-11-03".parse().unwrap(),
            until: "2026-11-05".parse().unwrap(),
            incidents: 2,
            workers: 3,
            instances: 2,
        };
        let text = letter_text(
            &validate_terms(&terms(), "", false).unwrap(),
            &LetterFacts {
                requester: Some(("Acme Research", "A1B2C3D4E5F6G7")),
                platform: "MTurk",
                kind: IncidentKind::MassRejection,
                since: wave.since,
                wave: Some(&wave),
                tasks_affected: Some(140),
                money_lost: Some("$42.00"),
            },
            &[
                InstanceCount {
                    instance: "a.example".into(),
                    signatures: 2,
                },
                InstanceCount {
                    instance: "b.example".into(),
                    signatures: 1,
                },
            ],
        );
        assert!(
            text.starts_with("To Acme Research (requester A1B2C3D4E5F6G7 on MTurk),"),
            "{text}"
        );
        assert!(
            text.contains("We ask you to reverse the rejections."),
            "{text}"
        );
        assert!(
            text.contains("3 workers on 2 instances reported mass rejections since 3 November 2026: 140 tasks affected, $42.00 lost."),
            "{text}"
        );
        assert!(
            text.contains("3 workers signed this letter (2 on a.example, 1 on b.example)"),
            "{text}"
        );
    }
}
