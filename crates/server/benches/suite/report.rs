//! The one table the suite prints: each figure beside the baseline measured in the same run.

use std::fmt::Write;

/// Whether a figure must be at least or at most its target.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// figure / baseline ≥ target.
    RatioAtLeast(f64),
    /// figure / baseline ≤ target.
    RatioAtMost(f64),
    /// figure ≥ target (absolute).
    AtLeast(f64),
    /// figure ≤ target (absolute).
    AtMost(f64),
    /// Shown for the record: no target.
    None,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub measure: String,
    pub figure: f64,
    pub unit: &'static str,
    /// What the figure is compared with, measured in the same run.
    pub baseline: Option<(String, f64)>,
    pub goal: Goal,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        self.baseline
            .as_ref()
            .and_then(|(_, b)| (*b != 0.0).then(|| self.figure / b))
    }

    pub fn met(&self) -> Option<bool> {
        match self.goal {
            Goal::RatioAtLeast(t) => self.ratio().map(|r| r >= t),
            Goal::RatioAtMost(t) => self.ratio().map(|r| r <= t),
            Goal::AtLeast(t) => Some(self.figure >= t),
            Goal::AtMost(t) => Some(self.figure <= t),
            Goal::None => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
}

fn number(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

impl Report {
    pub fn add(&mut self, row: Row) {
        #[allow(clippy::print_stdout)]
        {
            println!("    {}", Self::line(&row));
        }
        self.rows.push(row);
    }

    fn line(row: &Row) -> String {
        let baseline = row.baseline.as_ref().map_or_else(
            || "—".to_owned(),
            |(what, value)| format!("{} {} ({what})", number(*value), row.unit),
        );
        let ratio = row
            .ratio()
            .map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×"));
        let target = match row.goal {
            Goal::RatioAtLeast(t) => format!("≥ {t}× baseline"),
            Goal::RatioAtMost(t) => format!("≤ {t}× baseline"),
            Goal::AtLeast(t) => format!("≥ {} {}", number(t), row.unit),
            Goal::AtMost(t) => format!("≤ {} {}", number(t), row.unit),
            Goal::None => "—".to_owned(),
        };
        let met = match row.met() {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "—",
        };
        format!(
            "| {} | {} {} | {baseline} | {ratio} | {target} | {met} |",
            row.measure,
            number(row.figure),
            row.unit
        )
    }

    /// The table in Markdown, as docs/PERFORMANCE.md shows it.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| measure | figure | baseline (same run) | ratio | target | |\n|---|---|---|---|---|---|\n",
        );
        for row in &self.rows {
            let _ = writeln!(out, "{}", Self::line(row));
        }
        out
    }
}
