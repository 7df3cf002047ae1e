//! Moderation's vocabulary and rules: why content can be reported (Turkopticon's rule set), what a report is about, what moderators do, and how domain rules decide which instances this one talks to.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// Why something is reported: the rules Turkopticon's moderators enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Insults,
    ProfanityOrSlurs,
    Threats,
    DisclosesCodes,
    PersonalInformation,
    SelfReview,
    Falsified,
    Other,
}
word_enum!(ReportReason {
    Insults => "insults",
    ProfanityOrSlurs => "profanity_or_slurs",
    Threats => "threats",
    DisclosesCodes => "discloses_codes",
    PersonalInformation => "personal_information",
    SelfReview => "self_review",
    Falsified => "falsified",
    Other => "other",
});

impl ReportReason {
    /// The rule in words, as moderators and other servers read it.
    pub fn label(self) -> &'static str {
        match self {
            ReportReason::Insults => "Insults",
            ReportReason::ProfanityOrSlurs => "Profanity or slurs",
            ReportReason::Threats => "Threats",
            ReportReason::DisclosesCodes => "Discloses screener or completion codes",
            ReportReason::PersonalInformation => {
                "Personal information about a requester beyond business details"
            }
            ReportReason::SelfReview => "Suspected requester self-review",
            ReportReason::Falsified => "Falsified information",
            ReportReason::Other => "Other",
        }
    }

    /// Reads the reason another server gave in free text: one of our labels or words if it
    /// names one, `Other` otherwise (the text itself is kept beside it).
    pub fn from_text(text: &str) -> ReportReason {
        let text = text.trim().to_lowercase();
        ReportReason::ALL
            .iter()
            .copied()
            .find(|reason| {
                *reason != ReportReason::Other
                    && (text.starts_with(&reason.label().to_lowercase())
                        || text.starts_with(reason.as_str()))
            })
            .unwrap_or(ReportReason::Other)
    }
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Review,
    Incident,
    Corroboration,
    Comment,
    Fact,
    Account,
}
word_enum!(TargetType {
    Review => "review",
    Incident => "incident",
    Corroboration => "corroboration",
    Comment => "comment",
    Fact => "fact",
    Account => "account",
});

/// How a moderator resolves a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Nothing wrong: the report is closed.
    Dismiss,
    /// The content leaves public view and aggregates, with the reason shown in its place.
    Remove,
    /// The author's account (a local one) is suspended.
    Suspend,
}
word_enum!(Resolution { Dismiss => "dismiss", Remove => "remove", Suspend => "suspend" });

/// Everything that goes in the public moderation log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    DismissReport,
    Remove,
    Restore,
    /// A removal by the content's home instance, received here.
    RemoteRemoval,
    RemoteRestore,
    Suspend,
    Unsuspend,
    ApproveAccount,
    CreateInvite,
    BlockDomain,
    UnblockDomain,
    AllowDomain,
    DisallowDomain,
    SubscribeList,
    UnsubscribeList,
}
word_enum!(ModAction {
    DismissReport => "dismiss_report",
    Remove => "remove",
    Restore => "restore",
    RemoteRemoval => "remote_removal",
    RemoteRestore => "remote_restore",
    Suspend => "suspend",
    Unsuspend => "unsuspend",
    ApproveAccount => "approve_account",
    CreateInvite => "create_invite",
    BlockDomain => "block_domain",
    UnblockDomain => "unblock_domain",
    AllowDomain => "allow_domain",
    DisallowDomain => "disallow_domain",
    SubscribeList => "subscribe_list",
    UnsubscribeList => "unsubscribe_list",
});

/// Longest report text and moderation reason.
pub const TEXT_MAX_CHARS: usize = 1000;

/// A report's text, checked: required (and at most 1000 characters) for `Other`, optional otherwise.
pub fn validate_report_text(reason: ReportReason, text: &str) -> Result<String, FieldErrors> {
    let text = text.trim().to_owned();
    if text.chars().count() > TEXT_MAX_CHARS {
        return Err(FieldErrors::single(
            "text",
            format!("at most {TEXT_MAX_CHARS} characters"),
        ));
    }
    if reason == ReportReason::Other && text.is_empty() {
        return Err(FieldErrors::single(
            "text",
            "say what is wrong when the reason is `other`",
        ));
    }
    // Moderators and, through a Flag, other instances read the text: it must not name a worker.
    let mut errors = FieldErrors::new();
    crate::review::refuse_worker_ids(&mut errors, "text", Some(&text), "");
    errors.into_result()?;
    Ok(text)
}

/// A moderator's reason, required for every action: the public log shows it.
pub fn validate_reason(reason: &str) -> Result<String, FieldErrors> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > TEXT_MAX_CHARS {
        return Err(FieldErrors::single(
            "reason",
            format!("give a reason of 1 to {TEXT_MAX_CHARS} characters"),
        ));
    }
    // The public modlog and the federated removal show the reason: it must not name a worker.
    let mut errors = FieldErrors::new();
    crate::review::refuse_worker_ids(&mut errors, "reason", Some(&reason), "");
    errors.into_result()?;
    Ok(reason)
}

/// Which instances this one federates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FederationMode {
    /// Everyone but blocked domains (the default).
    #[default]
    Blocklist,
    /// Only allowed domains, and never blocked ones.
    Allowlist,
}

/// Whether `host` (an instance as `host` or `host:port`) falls under `domain`: the same, or a
/// subdomain of it, as Mastodon's domain blocks work.
pub fn covers(domain: &str, host: &str) -> bool {
    let bare = |name: &str| name.trim_end_matches('.').to_ascii_lowercase();
    let domain = bare(domain);
    let host = host.to_ascii_lowercase();
    // A rule without a port covers its host on every port.
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !domain.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            bare(name)
        }
        _ => bare(&host),
    };
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// Whether this instance talks to `host`, given the domains it blocks and allows.
pub fn permits<'a>(
    mode: FederationMode,
    host: &str,
    blocked: impl IntoIterator<Item = &'a str>,
    allowed: impl IntoIterator<Item = &'a str>,
) -> bool {
    if blocked.into_iter().any(|domain| covers(domain, host)) {
        return false;
    }
    match mode {
        FederationMode::Blocklist => true,
        FederationMode::Allowlist => allowed.into_iter().any(|domain| covers(domain, host)),
    }
}

/// Normalises a domain as given by an admin or a list: lower case, no scheme, path or
/// trailing dot; `None` when nothing usable is left.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let raw = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let host = raw.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_' | '*'));
    valid.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_cover_their_subdomains_only() {
        assert!(covers("bad.example", "bad.example"));
        assert!(covers("bad.example", "eu.bad.example"));
        assert!(!covers("bad.example", "notbad.example"));
        assert!(covers("localhost:4000", "localhost:4000"));
        assert!(!covers("localhost:4000", "localhost:4001"));
        assert!(covers("bad.example", "bad.example:8443"));
        assert!(covers("bad.example", "Bad.Example."));
        assert!(covers("bad.example.", "eu.bad.example.:443"));
    }

    #[test]
    fn modes_decide_who_is_permitted() {
        let (blocked, allowed) = (["bad.example"], ["good.example"]);
        assert!(permits(
            FederationMode::Blocklist,
            "other.example",
            blocked,
            allowed
        ));
        assert!(!permits(
            FederationMode::Blocklist,
            "a.bad.example",
            blocked,
            allowed
        ));
        assert!(!permits(
            FederationMode::Allowlist,
            "other.example",
            blocked,
            allowed
        ));
        assert!(permits(
            FederationMode::Allowlist,
            "good.example",
            blocked,
            allowed
        ));
        assert!(!permits(
            FederationMode::Allowlist,
            "good.example",
            ["good.example"],
            allowed
        ));
    }

    #[test]
    fn reasons_are_read_from_other_servers_words() {
        assert_eq!(
            ReportReason::from_text("Threats: he named my street"),
            ReportReason::Threats
        );
        assert_eq!(
            ReportReason::from_text("discloses_codes"),
            ReportReason::DisclosesCodes
        );
        assert_eq!(ReportReason::from_text("spam"), ReportReason::Other);
        assert!(validate_report_text(ReportReason::Other, " ").is_err());
        assert_eq!(
            validate_report_text(ReportReason::Threats, " x ").as_deref(),
            Ok("x")
        );
        assert!(validate_reason("").is_err());
    }

    #[test]
    fn reasons_and_report_texts_never_carry_worker_ids() {
        let errors = validate_reason("doxxed A1B2C3D4E5F6G7").expect_err("worker ID");
        assert!(errors.fields()["reason"].contains("worker ID"));
        assert!(validate_reason("link has ?assignmentId=3AB&x").is_err());
        let errors =
            validate_report_text(ReportReason::PersonalInformation, "names A1B2C3D4E5F6G7")
                .expect_err("worker ID");
        assert!(errors.fields()["text"].contains("worker ID"));
        assert!(validate_report_text(ReportReason::Other, "see workerId=AB12").is_err());
        assert!(validate_reason("insults the requester").is_ok());
    }

    #[test]
    fn domains_are_normalised() {
        assert_eq!(
            normalize_domain("https://Bad.Example/path").as_deref(),
            Some("bad.example")
        );
        assert_eq!(
            normalize_domain("bad.example.").as_deref(),
            Some("bad.example")
        );
        assert_eq!(normalize_domain("  "), None);
        assert_eq!(normalize_domain("bad example"), None);
    }
}
