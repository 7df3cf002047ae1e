//! Honest per-requester statistics: median and quartiles of hourly pay (bonuses and unfinished work included), TO2's ratio of sums beside them for comparison, and the TO1 score means, for all time and the last 90 and 30 days.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::review::{Approval, Recommend, Scores};

/// The numbers of one published review that the aggregates use.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewFacts {
    pub at: NaiveDateTime,
    pub reward_minor: i64,
    pub bonus_minor: i64,
    pub currency: String,
    pub time_spent_seconds: i64,
    pub approval: Approval,
    pub time_to_decision_seconds: Option<i64>,
    pub scores: Scores,
    pub recommend: Option<Recommend>,
    pub tos_violation: bool,
    pub broken: bool,
    pub unpaid_screener: bool,
}

/// Hourly pay in one currency, in minor units per hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HourlyPay {
    pub currency: String,
    pub n: i64,
    pub median_minor: i64,
    pub q1_minor: i64,
    pub q3_minor: i64,
    /// TO2's measure, sum of pay over sum of time: dominated by long tasks; kept for comparison.
    pub ratio_of_sums_minor: i64,
    /// Reward plus bonus, summed.
    pub sum_pay_minor: i64,
    /// Reward alone, summed.
    pub sum_reward_minor: i64,
    pub sum_time_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreMean {
    pub mean: Option<f64>,
    pub n: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WindowStats {
    /// Published reviews in the window.
    pub n: i64,
    /// One entry per currency, most-reviewed first.
    pub hourly: Vec<HourlyPay>,
    pub decision_median_seconds: Option<i64>,
    pub decision_mean_seconds: Option<i64>,
    pub decision_n: i64,
    /// Reviews reporting a rejection or partial rejection…
    pub rejected: i64,
    /// …out of reviews whose decision is known (not pending).
    pub rejected_answered: i64,
    pub recommend_yes: i64,
    pub recommend_answered: i64,
    pub tos: i64,
    pub broken: i64,
    pub unpaid_screener: i64,
    pub pay: ScoreMean,
    pub fairness: ScoreMean,
    pub promptness: ScoreMean,
    pub communication: ScoreMean,
    /// Reviews rating communication 4 or 5 (TO2's "comm").
    pub communication_good: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    pub all: WindowStats,
    pub days90: WindowStats,
    pub days30: WindowStats,
    /// When a review next leaves the 30- or 90-day window, so a cached copy knows when it goes stale.
    pub valid_until: Option<NaiveDateTime>,
}

/// Divides rounding half away from zero (all our values are non-negative).
fn div_round(numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    i64::try_from((numerator * 2 + denominator) / (denominator * 2)).unwrap_or(i64::MAX)
}

/// The hourly rate of one review, in minor units per hour.
pub fn hourly_minor(reward_minor: i64, bonus_minor: i64, seconds: i64) -> i64 {
    div_round(
        (i128::from(reward_minor) + i128::from(bonus_minor)) * 3600,
        i128::from(seconds.max(1)),
    )
}

/// Quantile by linear interpolation between closest ranks (R type 7, numpy's default) of sorted values.
fn quantile(sorted: &[i64], q: f64) -> i64 {
    match sorted.len() {
        0 => 0,
        1 => sorted[0],
        len => {
            let position = q * (len - 1) as f64;
            let low = position.floor() as usize;
            let high = position.ceil() as usize;
            let fraction = position - low as f64;
            let value = sorted[low] as f64 + (sorted[high] - sorted[low]) as f64 * fraction;
            value.round() as i64
        }
    }
}

fn mean(values: impl Iterator<Item = i64>) -> ScoreMean {
    let (sum, n) = values.fold((0i64, 0i64), |(s, n), v| (s + v, n + 1));
    ScoreMean {
        mean: (n > 0).then(|| sum as f64 / n as f64),
        n,
    }
}

fn window(facts: &[&ReviewFacts]) -> WindowStats {
    let mut currencies: Vec<&str> = facts.iter().map(|f| f.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    let mut hourly: Vec<HourlyPay> = currencies
        .into_iter()
        .map(|currency| {
            let these: Vec<&&ReviewFacts> =
                facts.iter().filter(|f| f.currency == currency).collect();
            let mut rates: Vec<i64> = these
                .iter()
                .map(|f| hourly_minor(f.reward_minor, f.bonus_minor, f.time_spent_seconds))
                .collect();
            rates.sort_unstable();
            let sum_pay: i64 = these.iter().map(|f| f.reward_minor + f.bonus_minor).sum();
            let sum_time: i64 = these.iter().map(|f| f.time_spent_seconds).sum();
            HourlyPay {
                currency: currency.to_owned(),
                n: these.len() as i64,
                median_minor: quantile(&rates, 0.5),
                q1_minor: quantile(&rates, 0.25),
                q3_minor: quantile(&rates, 0.75),
                ratio_of_sums_minor: div_round(i128::from(sum_pay) * 3600, i128::from(sum_time)),
                sum_pay_minor: sum_pay,
                sum_reward_minor: these.iter().map(|f| f.reward_minor).sum(),
                sum_time_seconds: sum_time,
            }
        })
        .collect();
    hourly.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.currency.cmp(&b.currency)));
    let mut decisions: Vec<i64> = facts
        .iter()
        .filter_map(|f| f.time_to_decision_seconds)
        .collect();
    decisions.sort_unstable();
    let decision_n = decisions.len() as i64;
    let count =
        |test: &dyn Fn(&ReviewFacts) -> bool| facts.iter().filter(|f| test(f)).count() as i64;
    let score = |pick: fn(&Scores) -> Option<i16>| {
        mean(facts.iter().filter_map(|f| pick(&f.scores)).map(i64::from))
    };
    WindowStats {
        n: facts.len() as i64,
        hourly,
        decision_median_seconds: (decision_n > 0).then(|| quantile(&decisions, 0.5)),
        decision_mean_seconds: (decision_n > 0).then(|| {
            div_round(
                decisions.iter().map(|d| i128::from(*d)).sum(),
                i128::from(decision_n),
            )
        }),
        decision_n,
        rejected: count(&|f| f.approval.is_rejection()),
        rejected_answered: count(&|f| f.approval != Approval::Pending),
        recommend_yes: count(&|f| f.recommend == Some(Recommend::Yes)),
        recommend_answered: count(&|f| f.recommend.is_some()),
        tos: count(&|f| f.tos_violation),
        broken: count(&|f| f.broken),
        unpaid_screener: count(&|f| f.unpaid_screener),
        pay: score(|s| s.pay),
        fairness: score(|s| s.fairness),
        promptness: score(|s| s.promptness),
        communication: score(|s| s.communication),
        communication_good: count(&|f| f.scores.communication.is_some_and(|c| c >= 4)),
    }
}

/// Every statistic for all time and the last 90 and 30 days; the order of `facts` does not matter.
pub fn aggregate(facts: &[ReviewFacts], now: NaiveDateTime) -> Aggregates {
    let all: Vec<&ReviewFacts> = facts.iter().collect();
    let within = |days: i64| -> Vec<&ReviewFacts> {
        facts
            .iter()
            .filter(|f| f.at > now - Duration::days(days))
            .collect()
    };
    let (days90, days30) = (within(90), within(30));
    let leaves =
        |set: &[&ReviewFacts], days: i64| set.iter().map(|f| f.at + Duration::days(days)).min();
    let valid_until = [leaves(&days90, 90), leaves(&days30, 30)]
        .into_iter()
        .flatten()
        .min();
    Aggregates {
        all: window(&all),
        days90: window(&days90),
        days30: window(&days30),
        valid_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(days_ago: i64, reward: i64, bonus: i64, seconds: i64) -> ReviewFacts {
        ReviewFacts {
            at: now() - Duration::days(days_ago),
            reward_minor: reward,
            bonus_minor: bonus,
            currency: "USD".into(),
            time_spent_seconds: seconds,
            approval: Approval::Approved,
            time_to_decision_seconds: None,
            scores: Scores::default(),
            recommend: None,
            tos_violation: false,
            broken: false,
            unpaid_screener: false,
        }
    }

    fn now() -> NaiveDateTime {
        "2026-11-24T12:00:00".parse().unwrap()
    }

    #[test]
    fn hourly_median_quartiles_and_ratio_of_sums() {
        // Rates: $6/h (100c in 60s), $12/h, $18/h, $3.60/h (long task).
        let facts = vec![
            fact(1, 100, 0, 60),
            fact(2, 150, 50, 60),
            fact(3, 300, 0, 60),
            fact(4, 360, 0, 3600),
        ];
        let stats = aggregate(&facts, now()).all;
        let pay = &stats.hourly[0];
        assert_eq!(pay.n, 4);
        assert_eq!(pay.median_minor, 9000, "between 6000 and 12000");
        assert_eq!(pay.q1_minor, 4590);
        assert_eq!(pay.q3_minor, 13500);
        assert_eq!(
            pay.ratio_of_sums_minor, 914,
            "960c over 3780s: the long task dominates"
        );
        assert_eq!(pay.sum_pay_minor, 960);
        assert_eq!(pay.sum_reward_minor, 910);
        assert_eq!(pay.sum_time_seconds, 3780);
    }

    #[test]
    fn windows_counts_means_and_expiry() {
        let mut old = fact(100, 100, 0, 60);
        old.approval = Approval::Rejected;
        old.scores.pay = Some(1);
        let mut recent = fact(10, 100, 0, 60);
        recent.scores = Scores {
            pay: Some(4),
            communication: Some(5),
            ..Scores::default()
        };
        recent.recommend = Some(Recommend::Yes);
        recent.time_to_decision_seconds = Some(100);
        recent.tos_violation = true;
        let mut middle = fact(50, 100, 0, 60);
        middle.approval = Approval::Pending;
        middle.time_to_decision_seconds = None;
        middle.recommend = Some(Recommend::No);
        let aggregates = aggregate(&[recent.clone(), old, middle], now());
        assert_eq!(
            (aggregates.all.n, aggregates.days90.n, aggregates.days30.n),
            (3, 2, 1)
        );
        assert_eq!(aggregates.all.rejected, 1);
        assert_eq!(aggregates.all.rejected_answered, 2);
        assert_eq!(
            aggregates.all.pay,
            ScoreMean {
                mean: Some(2.5),
                n: 2
            }
        );
        assert_eq!(aggregates.all.communication_good, 1);
        assert_eq!(
            (
                aggregates.all.recommend_yes,
                aggregates.all.recommend_answered
            ),
            (1, 2)
        );
        assert_eq!(aggregates.days30.decision_median_seconds, Some(100));
        assert_eq!(aggregates.all.tos, 1);
        assert_eq!(
            aggregates.valid_until,
            Some(recent.at + Duration::days(30)),
            "the 30-day window changes first"
        );
    }

    #[test]
    fn empty_and_order_independent() {
        let empty = aggregate(&[], now());
        assert_eq!(empty.all.n, 0);
        assert!(empty.all.hourly.is_empty());
        assert_eq!(empty.all.pay.mean, None);
        assert_eq!(empty.valid_until, None);
        let mut facts = vec![
            fact(1, 100, 0, 60),
            fact(40, 10, 0, 60),
            fact(200, 30, 0, 60),
        ];
        let forward = aggregate(&facts, now());
        facts.reverse();
        assert_eq!(aggregate(&facts, now()), forward);
    }

    #[test]
    fn currencies_are_kept_apart() {
        let mut pounds = fact(1, 500, 0, 3600);
        pounds.currency = "GBP".into();
        let stats = aggregate(
            &[fact(1, 100, 0, 3600), fact(2, 200, 0, 3600), pounds],
            now(),
        )
        .all;
        assert_eq!(
            stats
                .hourly
                .iter()
                .map(|h| h.currency.as_str())
                .collect::<Vec<_>>(),
            ["USD", "GBP"]
        );
        assert_eq!(stats.hourly[1].median_minor, 500);
    }
}
