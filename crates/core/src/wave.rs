//! Waves: incidents of one kind against one requester, close together in time, reported by several workers; what turns single complaints into a visible pattern.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::incident::IncidentKind;
use crate::platform::Platform;

/// One incident as waves see it: when, and who reported or corroborated it from which instance.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFacts {
    pub kind: IncidentKind,
    pub happened_from: NaiveDate,
    /// Opaque per-worker keys (author and corroborators).
    pub workers: Vec<String>,
    /// The instance of each of those workers.
    pub instances: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Wave {
    pub kind: IncidentKind,
    pub since: NaiveDate,
    pub until: NaiveDate,
    pub incidents: i64,
    /// Distinct workers who reported or corroborated.
    pub workers: i64,
    pub instances: i64,
}

/// How an instance is named where waves count instances: its host, with the port when the URL
/// names one (instances on one host differ by port in development and tests).
pub fn instance_name(host: &str, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// A wave needs at least this many distinct workers: one worker's reports are not a pattern.
pub const MIN_WORKERS: usize = 2;

/// Chains incidents of the same kind whose start dates are at most `window_days` apart; a chain
/// reported by at least two distinct workers is a wave. Newest waves first.
pub fn waves(incidents: &[IncidentFacts], window_days: i64) -> Vec<Wave> {
    let mut sorted: Vec<&IncidentFacts> = incidents.iter().collect();
    sorted.sort_by_key(|i| (i.kind.as_str(), i.happened_from));
    let mut found = Vec::new();
    let mut chain: Vec<&IncidentFacts> = Vec::new();
    let close = |chain: &mut Vec<&IncidentFacts>, found: &mut Vec<Wave>| {
        let mut workers: Vec<&String> = chain.iter().flat_map(|i| &i.workers).collect();
        workers.sort();
        workers.dedup();
        let mut instances: Vec<&String> = chain.iter().flat_map(|i| &i.instances).collect();
        instances.sort();
        instances.dedup();
        if let (Some(first), Some(last)) = (chain.first(), chain.last())
            && workers.len() >= MIN_WORKERS
        {
            found.push(Wave {
                kind: first.kind,
                since: first.happened_from,
                until: last.happened_from,
                incidents: chain.len() as i64,
                workers: workers.len() as i64,
                instances: instances.len() as i64,
            });
        }
        chain.clear();
    };
    for incident in sorted {
        if let Some(last) = chain.last()
            && (last.kind != incident.kind
                || incident.happened_from - last.happened_from > Duration::days(window_days))
        {
            close(&mut chain, &mut found);
        }
        chain.push(incident);
    }
    close(&mut chain, &mut found);
    found.sort_by(|a, b| {
        b.until
            .cmp(&a.until)
            .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
    });
    found
}

/// "MTurk account suspensions: 31 workers on 6 instances since 3 Nov 2026": a wave of incidents
/// that name no requester.
pub fn describe_platform(wave: &Wave, platform: Platform) -> String {
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{} {}: {} on {} since {}",
        platform.display_name(),
        wave.kind.plural(),
        plural(wave.workers, "worker", "workers"),
        plural(wave.instances, "instance", "instances"),
        wave.since.format("%-d %b %Y")
    )
}

/// "3 workers on 2 instances report mass rejections by Acme on MTurk since 1 Nov 2026".
pub fn describe(wave: &Wave, requester_name: &str, platform: Platform) -> String {
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{} on {} report {} by {requester_name} on {} since {}",
        plural(wave.workers, "worker", "workers"),
        plural(wave.instances, "instance", "instances"),
        wave.kind.plural(),
        platform.display_name(),
        wave.since.format("%-d %b %Y")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(kind: IncidentKind, day: &str, workers: &[&str], host: &str) -> IncidentFacts {
        IncidentFacts {
            kind,
            happened_from: day.parse().unwrap(),
            workers: workers.iter().map(|w| w.to_string()).collect(),
            instances: workers.iter().map(|_| host.to_string()).collect(),
        }
    }

    #[test]
    fn chains_within_the_window_form_waves() {
        let mass = IncidentKind::MassRejection;
        let found = waves(
            &[
                incident(mass, "2026-11-01", &["a"], "one.example"),
                incident(mass, "2026-11-10", &["b", "c"], "two.example"),
                incident(mass, "2026-11-20", &["a"], "one.example"),
                incident(mass, "2026-12-30", &["d"], "one.example"),
                incident(
                    IncidentKind::Underpayment,
                    "2026-11-02",
                    &["e"],
                    "one.example",
                ),
            ],
            14,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let wave = &found[0];
        assert_eq!((wave.incidents, wave.workers, wave.instances), (3, 3, 2));
        assert_eq!(wave.since.to_string(), "2026-11-01");
        assert_eq!(wave.until.to_string(), "2026-11-20");
        assert_eq!(
            describe(wave, "Acme", Platform::Mturk),
            "3 workers on 2 instances report mass rejections by Acme on MTurk since 1 Nov 2026"
        );
        assert_eq!(
            describe_platform(wave, Platform::Mturk),
            "MTurk mass rejections: 3 workers on 2 instances since 1 Nov 2026"
        );
    }

    #[test]
    fn one_worker_is_not_a_wave() {
        let mass = IncidentKind::MassRejection;
        let same = [
            incident(mass, "2026-11-01", &["a"], "x"),
            incident(mass, "2026-11-02", &["a"], "x"),
        ];
        assert!(waves(&same, 14).is_empty());
        let apart = [
            incident(mass, "2026-11-01", &["a"], "x"),
            incident(mass, "2026-11-30", &["b"], "x"),
        ];
        assert!(waves(&apart, 14).is_empty());
        assert!(waves(&[], 14).is_empty());
    }
}
