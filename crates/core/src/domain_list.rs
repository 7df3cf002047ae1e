//! Domain lists in Mastodon's CSV format (`#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate`), the format collectives import, export, publish and subscribe to.

use crate::moderation::normalize_domain;

/// One line of a domain list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEntry {
    pub domain: String,
    /// Mastodon's `silence`, `suspend` or `noop`; kept as given so lists round-trip.
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub public_comment: String,
    pub obfuscate: bool,
}

impl DomainEntry {
    /// A plain block or allow of `domain`, with `comment` as its public comment.
    pub fn plain(domain: &str, comment: &str) -> DomainEntry {
        DomainEntry {
            domain: domain.to_owned(),
            severity: "suspend".to_owned(),
            reject_media: false,
            reject_reports: false,
            public_comment: comment.to_owned(),
            obfuscate: false,
        }
    }

    /// Whether the entry restricts anything: Mastodon's `noop` rows only carry a comment.
    pub fn enforced(&self) -> bool {
        self.severity != "noop"
    }
}

/// What a list could not be read for: its line and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ListError {
    pub line: u64,
    pub reason: String,
}

const HEADER: [&str; 6] = [
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
];

fn flag(raw: Option<&str>) -> bool {
    matches!(raw.map(str::trim), Some("true" | "TRUE" | "True" | "1"))
}

/// Reads a list. The header names the columns (Mastodon's, with or without `#`); a list without
/// one is read as domains in the first column. Obfuscated entries (with `*`) are skipped: they
/// name no domain.
pub fn parse(text: &str) -> Result<Vec<DomainEntry>, ListError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut columns: Option<Vec<String>> = None;
    let mut entries = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 1;
        let record = record.map_err(|e| ListError {
            line,
            reason: e.to_string(),
        })?;
        let first = record.get(0).unwrap_or_default();
        if index == 0 && first.trim_start_matches('#') == "domain" {
            columns = Some(
                record
                    .iter()
                    .map(|c| c.trim_start_matches('#').to_owned())
                    .collect(),
            );
            continue;
        }
        if first.is_empty() || (columns.is_none() && first.starts_with('#')) {
            continue;
        }
        let field = |name: &str| -> Option<&str> {
            match &columns {
                Some(columns) => columns
                    .iter()
                    .position(|c| c == name)
                    .and_then(|i| record.get(i)),
                None if name == "domain" => record.get(0),
                None => None,
            }
        };
        let raw = field("domain").unwrap_or_default();
        if raw.contains('*') {
            continue;
        }
        let domain = normalize_domain(raw).ok_or_else(|| ListError {
            line,
            reason: format!("`{raw}` is no domain"),
        })?;
        entries.push(DomainEntry {
            domain,
            severity: field("severity")
                .filter(|s| !s.is_empty())
                .unwrap_or("suspend")
                .to_owned(),
            reject_media: flag(field("reject_media")),
            reject_reports: flag(field("reject_reports")),
            public_comment: field("public_comment").unwrap_or_default().to_owned(),
            obfuscate: flag(field("obfuscate")),
        });
    }
    Ok(entries)
}

/// Writes a list with Mastodon's header.
pub fn write(entries: &[DomainEntry]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows: Vec<[String; 6]> = vec![HEADER.map(str::to_owned)];
    rows.extend(entries.iter().map(|e| {
        [
            e.domain.clone(),
            e.severity.clone(),
            e.reject_media.to_string(),
            e.reject_reports.to_string(),
            e.public_comment.clone(),
            e.obfuscate.to_string(),
        ]
    }));
    for row in rows {
        // Writing to memory cannot fail.
        let _ = writer.write_record(&row);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_exports_round_trip() {
        let text = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
                    bad.example,suspend,false,false,\"Harassment, repeated\",false\n\
                    spam.example,silence,true,false,,false\n\
                    *.hidden.example,suspend,false,false,,true\n";
        let entries = parse(text).expect("parse");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].domain, "bad.example");
        assert_eq!(entries[0].public_comment, "Harassment, repeated");
        assert_eq!(entries[1].severity, "silence");
        assert!(entries[1].reject_media);
        assert_eq!(parse(&write(&entries)).expect("again"), entries);
    }

    #[test]
    fn plain_lists_and_bad_lines() {
        let entries = parse("one.example\nTwo.Example\n\n").expect("plain");
        assert_eq!(entries[1].domain, "two.example");
        assert_eq!(entries[1].severity, "suspend");
        let error = parse("#domain\nok.example\nnot a domain\n").expect_err("bad line");
        assert_eq!(error.line, 3);
    }
}
