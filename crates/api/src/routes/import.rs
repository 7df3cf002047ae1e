//! Admin import of a Turkopticon-style CSV of requesters and reviews: every good row lands, every bad row is reported with its number, and nothing stops half-way.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use chrono::{NaiveDate, NaiveDateTime};
use picket_core::FieldErrors;
use picket_core::accounts::Role;
use picket_core::platform::Platform;
use picket_core::review::{
    Approval, Completion, Recommend, ReviewInput, Scores, check_requester_name, validate_review,
};
use picket_core::secrets::new_public_id;
use picket_db::import;
use picket_db::models::now;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::state::AppState;

/// Largest import accepted in one request.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;
/// Rows applied per transaction: large enough to be quick, small enough to keep locks short.
const BATCH: usize = 5_000;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Data lines read (the header excluded).
    pub rows: usize,
    /// Distinct requesters named by the lines that were imported.
    pub requesters: usize,
    /// Reviews imported.
    pub reviews: usize,
    pub errors: Vec<RowError>,
}

/// One parsed line: the requester, and the review when the line carries one.
#[derive(Debug, Clone)]
struct ImportRow {
    line: usize,
    platform: Platform,
    requester_id: String,
    name: String,
    review: Option<(picket_core::review::ValidReview, NaiveDateTime)>,
}

/// Column lookup by header name (case-insensitive), so column order and extra columns do not matter.
struct Columns(Vec<String>);

impl Columns {
    fn get<'r>(&self, record: &'r csv::StringRecord, names: &[&str]) -> Option<&'r str> {
        names.iter().find_map(|name| {
            let index = self.0.iter().position(|h| h == name)?;
            record.get(index).map(str::trim).filter(|v| !v.is_empty())
        })
    }
}

fn parse_score(raw: Option<&str>, name: &str) -> Result<Option<i16>, String> {
    raw.map(|v| {
        v.parse::<f64>()
            .ok()
            .map(|f| f.round() as i16)
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| format!("{name} must be a score from 1 to 5, got `{v}`"))
    })
    .transpose()
}

fn parse_money_minor(raw: &str) -> Result<i64, String> {
    let value: f64 = raw
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("reward `{raw}` is not an amount"))?;
    if !(0.0..=10_000_000.0).contains(&value) {
        return Err(format!("reward `{raw}` is out of range"));
    }
    Ok((value * 100.0).round() as i64)
}

fn parse_when(raw: Option<&str>) -> Result<Option<NaiveDateTime>, String> {
    raw.map(|v| {
        NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN))
            })
            .map_err(|_| format!("date `{v}` is not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"))
    })
    .transpose()
}

fn parse_row(
    columns: &Columns,
    record: &csv::StringRecord,
    line: usize,
) -> Result<ImportRow, String> {
    let platform: Platform = columns
        .get(record, &["platform"])
        .unwrap_or("mturk")
        .parse()?;
    let raw_id = columns
        .get(record, &["requester_id", "amzn_requester_id", "rid"])
        .ok_or("requester_id is missing")?;
    let requester_id = platform.normalize_requester_id(raw_id)?;
    // The same rules as a worker's input: printable, bounded, and no worker ID (imports have no
    // confirmation to give, so a flagged name refuses the line).
    let mut errors = FieldErrors::new();
    let name = check_requester_name(
        &mut errors,
        "requester_name",
        columns
            .get(record, &["requester_name", "amzn_requester_name", "name"])
            .unwrap_or(&requester_id),
        &requester_id,
        false,
    );
    errors.into_result().map_err(|e| e.to_string())?;
    let name = name.ok_or("requester_name is invalid")?;
    let scores = Scores {
        pay: parse_score(columns.get(record, &["pay"]), "pay")?,
        fairness: parse_score(columns.get(record, &["fair", "fairness"]), "fair")?,
        promptness: parse_score(columns.get(record, &["fast", "promptness"]), "fast")?,
        communication: parse_score(columns.get(record, &["comm", "communication"]), "comm")?,
    };
    let body = columns
        .get(record, &["description", "text", "body"])
        .unwrap_or_default()
        .to_owned();
    let reward = columns.get(record, &["reward"]);
    let time = columns.get(record, &["time_seconds", "time_spent_seconds"]);
    let has_review =
        reward.is_some() || time.is_some() || scores != Scores::default() || !body.is_empty();
    let review = if has_review {
        let (Some(reward), Some(time)) = (reward, time) else {
            return Err(
                "a review needs reward and time_seconds: hourly pay is computed from them".into(),
            );
        };
        let tos_violation = columns
            .get(record, &["tos_flag", "tos"])
            .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let input = ReviewInput {
            task_title: columns
                .get(record, &["task_title", "title"])
                .map(String::from),
            batch_id: None,
            reward_minor: parse_money_minor(reward)?,
            bonus_minor: None,
            currency: Some(platform.default_currency().to_owned()),
            time_spent_seconds: time
                .parse()
                .map_err(|_| format!("time_seconds `{time}` is not a whole number"))?,
            completion: Completion::Completed,
            approval: columns
                .get(record, &["approval"])
                .map_or(Ok(Approval::ApprovedTimeUnknown), str::parse)?,
            time_to_decision_seconds: None,
            scores,
            recommend: columns
                .get(record, &["recommend"])
                .map(str::parse::<Recommend>)
                .transpose()?,
            tos_violation,
            // Turkopticon's flag carried no separate explanation: the review's text was it.
            tos_explanation: columns
                .get(record, &["tos_explanation"])
                .map(String::from)
                .or_else(|| {
                    tos_violation.then(|| "flagged in imported Turkopticon data".to_owned())
                }),
            broken: false,
            broken_explanation: None,
            unpaid_screener: false,
            body,
        };
        // Imported history is taken as it was published; the worker-ID guard still applies.
        let valid =
            validate_review(&input, platform, &requester_id, false).map_err(|e| e.to_string())?;
        let at = parse_when(columns.get(record, &["date", "created_at"]))?.unwrap_or_else(now);
        Some((valid, at))
    } else {
        None
    };
    Ok(ImportRow {
        line,
        platform,
        requester_id,
        name,
        review,
    })
}

/// Import a Turkopticon-style CSV (admins). Columns by header name: `requester_id`, `requester_name`,
/// optional `platform` (default mturk), and for reviews `reward` (dollars), `time_seconds`, `pay`, `fair`,
/// `fast`, `comm` (1-5), `recommend`, `approval`, `tos_flag`, `description`, `date`.
#[utoipa::path(post, path = "/api/v1/admin/import", tag = "export", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 403), (status = 400, description = "not CSV")))]
pub async fn import(
    State(state): State<AppState>,
    current: CurrentUser,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    current.require(Role::Admin)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_ref());
    let headers = reader.headers().map_err(|e| {
        ApiError::bad_request("bad_csv", format!("cannot read the CSV header: {e}"))
    })?;
    let columns = Columns(
        headers
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
    );
    let mut report = ImportReport::default();
    let mut parsed = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        report.rows += 1;
        match record
            .map_err(|e| e.to_string())
            .and_then(|r| parse_row(&columns, &r, line))
        {
            Ok(row) => parsed.push(row),
            Err(message) => report.errors.push(RowError { line, message }),
        }
    }
    let mut requesters_seen = std::collections::HashSet::new();
    for batch in parsed.chunks(BATCH) {
        let rows = batch.to_vec();
        let outcome = state
            .db
            .tx(move |conn| {
                let public_ids: Vec<String> = rows
                    .iter()
                    .map(|row| {
                        row.review
                            .as_ref()
                            .map(|_| new_public_id())
                            .unwrap_or_default()
                    })
                    .collect();
                let lines: Vec<import::Line<'_>> = rows
                    .iter()
                    .zip(&public_ids)
                    .map(|(row, public_id)| import::Line {
                        platform: row.platform.as_str(),
                        requester_id: &row.requester_id,
                        name: &row.name,
                        review: row
                            .review
                            .as_ref()
                            .map(|(review, at)| (review, public_id.as_str(), *at)),
                    })
                    .collect();
                import::apply(conn, &lines, now())
            })
            .await;
        match outcome {
            Ok(()) => {
                for row in batch {
                    requesters_seen.insert((row.platform, row.requester_id.clone()));
                    report.reviews += usize::from(row.review.is_some());
                }
            }
            // The batch rolled back as a whole: say so for each of its lines and go on.
            Err(error) => {
                tracing::warn!(%error, "an import batch failed");
                for row in batch {
                    report.errors.push(RowError {
                        line: row.line,
                        message: format!("not imported: the database refused this batch ({error})"),
                    });
                }
            }
        }
    }
    report.requesters = requesters_seen.len();
    report.errors.sort_by_key(|e| e.line);
    Ok(Json(report))
}
