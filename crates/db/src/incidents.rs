//! Queries on incident reports, their status history and their corroborations, plus the facts waves are computed from.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use picket_core::incident::{CorroborationInput, IncidentStatus, ValidIncident};
use picket_core::wave::IncidentFacts;

use crate::error::{conflict_as, stale_as};
use crate::schema::{corroborations, incident_status_changes, incidents, users};
use crate::{DbConn, DbError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = incidents)]
pub struct IncidentRow {
    pub id: i64,
    pub public_id: String,
    pub author_id: Option<i64>,
    pub kind: String,
    pub platform: String,
    pub requester_pk: Option<i64>,
    pub batch_id: Option<String>,
    pub happened_from: NaiveDate,
    pub happened_to: Option<NaiveDate>,
    pub tasks_affected: Option<i64>,
    pub amount_lost_minor: Option<i64>,
    pub currency: String,
    pub message_received: Option<String>,
    pub description: String,
    pub evidence_digests: String,
    pub status: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub removed_reason: Option<String>,
}

/// Published incidents are public; deleted ones are tombstones; removed ones are for moderators only.
pub const PUBLISHED: &str = "published";
const DELETED: &str = "deleted";

impl IncidentRow {
    pub fn is_published(&self) -> bool {
        self.state == PUBLISHED
    }

    pub fn evidence(&self) -> Vec<String> {
        serde_json::from_str(&self.evidence_digests).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = incident_status_changes)]
pub struct StatusChangeRow {
    pub id: i64,
    pub incident_pk: i64,
    pub status: String,
    pub note: Option<String>,
    pub changed_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = corroborations)]
pub struct CorroborationRow {
    pub id: i64,
    pub public_id: String,
    pub incident_pk: i64,
    pub author_id: Option<i64>,
    pub tasks_affected: Option<i64>,
    pub amount_lost_minor: Option<i64>,
    pub note: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = incidents, treat_none_as_null = true)]
struct ContentColumns<'a> {
    kind: &'a str,
    platform: &'a str,
    requester_pk: Option<i64>,
    batch_id: Option<&'a str>,
    happened_from: NaiveDate,
    happened_to: Option<NaiveDate>,
    tasks_affected: Option<i64>,
    amount_lost_minor: Option<i64>,
    currency: &'a str,
    message_received: Option<&'a str>,
    description: &'a str,
    evidence_digests: String,
}

impl<'a> ContentColumns<'a> {
    fn of(incident: &'a ValidIncident, requester_pk: Option<i64>) -> Self {
        ContentColumns {
            kind: incident.kind.as_str(),
            platform: incident.platform.as_str(),
            requester_pk,
            batch_id: incident.batch_id.as_deref(),
            happened_from: incident.happened_from,
            happened_to: incident.happened_to,
            tasks_affected: incident.tasks_affected,
            amount_lost_minor: incident.amount_lost_minor,
            currency: &incident.currency,
            message_received: incident.message_received.as_deref(),
            description: &incident.description,
            evidence_digests: serde_json::to_string(&incident.evidence_digests)
                .unwrap_or_else(|_| "[]".into()),
        }
    }
}

pub fn create(
    conn: &mut DbConn,
    public_id: &str,
    author_id: Option<i64>,
    requester_pk: Option<i64>,
    incident: &ValidIncident,
    at: NaiveDateTime,
) -> Result<IncidentRow, DbError> {
    let content = ContentColumns::of(incident, requester_pk);
    let row: IncidentRow = diesel::insert_into(incidents::table)
        .values((
            incidents::public_id.eq(public_id),
            incidents::author_id.eq(author_id),
            incidents::kind.eq(content.kind),
            incidents::platform.eq(content.platform),
            incidents::requester_pk.eq(content.requester_pk),
            incidents::batch_id.eq(content.batch_id),
            incidents::happened_from.eq(content.happened_from),
            incidents::happened_to.eq(content.happened_to),
            incidents::tasks_affected.eq(content.tasks_affected),
            incidents::amount_lost_minor.eq(content.amount_lost_minor),
            incidents::currency.eq(content.currency),
            incidents::message_received.eq(content.message_received),
            incidents::description.eq(content.description),
            incidents::evidence_digests.eq(&content.evidence_digests),
            incidents::status.eq(IncidentStatus::Open.as_str()),
            incidents::state.eq(PUBLISHED),
            incidents::created_at.eq(at),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)?;
    record_status(conn, row.id, IncidentStatus::Open, None, at)?;
    Ok(row)
}

/// The incident as the caller read it: a write through this matches no row when anything changed
/// it since, so an edit cannot put words back on a deleted incident.
fn unchanged(
    current: &IncidentRow,
) -> diesel::dsl::Filter<
    diesel::dsl::Find<incidents::table, i64>,
    diesel::dsl::Eq<incidents::updated_at, NaiveDateTime>,
> {
    incidents::table
        .find(current.id)
        .filter(incidents::updated_at.eq(current.updated_at))
}

pub fn by_public_id(conn: &mut DbConn, public_id: &str) -> Result<IncidentRow, DbError> {
    Ok(incidents::table
        .filter(incidents::public_id.eq(public_id))
        .select(IncidentRow::as_select())
        .first(conn)?)
}

pub fn update(
    conn: &mut DbConn,
    current: &IncidentRow,
    incident: &ValidIncident,
    requester_pk: Option<i64>,
    at: NaiveDateTime,
) -> Result<IncidentRow, DbError> {
    diesel::update(unchanged(current))
        .set((
            ContentColumns::of(incident, requester_pk),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)
        .map_err(stale_as("incident"))
}

fn record_status(
    conn: &mut DbConn,
    incident_pk: i64,
    status: IncidentStatus,
    note: Option<&str>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(incident_status_changes::table)
        .values((
            incident_status_changes::incident_pk.eq(incident_pk),
            incident_status_changes::status.eq(status.as_str()),
            incident_status_changes::note.eq(note),
            incident_status_changes::changed_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves an incident to `status` and records the change with its note.
pub fn set_status(
    conn: &mut DbConn,
    current: &IncidentRow,
    status: IncidentStatus,
    note: Option<&str>,
    at: NaiveDateTime,
) -> Result<IncidentRow, DbError> {
    record_status(conn, current.id, status, note, at)?;
    diesel::update(unchanged(current))
        .set((
            incidents::status.eq(status.as_str()),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)
        .map_err(stale_as("incident"))
}

pub fn status_history(
    conn: &mut DbConn,
    incident_pk: i64,
) -> Result<Vec<StatusChangeRow>, DbError> {
    Ok(incident_status_changes::table
        .filter(incident_status_changes::incident_pk.eq(incident_pk))
        .order(incident_status_changes::id)
        .select(StatusChangeRow::as_select())
        .load(conn)?)
}

/// Deletes by its author: a tombstone without words; corroborations of it go too.
pub fn delete(conn: &mut DbConn, current: &IncidentRow, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::delete(corroborations::table.filter(corroborations::incident_pk.eq(current.id)))
        .execute(conn)?;
    diesel::update(unchanged(current))
        .set((
            incidents::state.eq(DELETED),
            incidents::description.eq(""),
            incidents::message_received.eq(None::<String>),
            incidents::batch_id.eq(None::<String>),
            incidents::evidence_digests.eq("[]"),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::id)
        .get_result::<i64>(conn)
        .map_err(stale_as("incident"))?;
    Ok(())
}

/// An incident with its author's username.
pub type IncidentWithAuthor = (IncidentRow, Option<String>);

/// Published incidents about a requester, newest first.
pub fn list_for_requester(
    conn: &mut DbConn,
    requester_pk: i64,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<IncidentWithAuthor>, DbError> {
    let mut query = incidents::table
        .left_join(users::table)
        .filter(incidents::requester_pk.eq(requester_pk))
        .filter(incidents::state.eq(PUBLISHED))
        .select((IncidentRow::as_select(), users::username.nullable()))
        .order(incidents::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(incidents::id.lt(before));
    }
    Ok(query.load(conn)?)
}

pub fn list_by_author(conn: &mut DbConn, author_id: i64) -> Result<Vec<IncidentRow>, DbError> {
    Ok(incidents::table
        .filter(incidents::author_id.eq(author_id))
        .filter(incidents::state.ne(DELETED))
        .order(incidents::id.desc())
        .select(IncidentRow::as_select())
        .load(conn)?)
}

pub fn open_count(conn: &mut DbConn, requester_pk: i64) -> Result<i64, DbError> {
    Ok(incidents::table
        .filter(incidents::requester_pk.eq(requester_pk))
        .filter(incidents::state.eq(PUBLISHED))
        .filter(incidents::status.eq(IncidentStatus::Open.as_str()))
        .count()
        .get_result(conn)?)
}

/// What waves are computed from: each published incident about the requester with the workers
/// who reported or corroborated it, keyed per account, and their instance (`local_instance` for local accounts).
pub fn wave_facts(
    conn: &mut DbConn,
    requester_pk: i64,
    local_instance: &str,
) -> Result<Vec<IncidentFacts>, DbError> {
    let rows: Vec<IncidentRow> = incidents::table
        .filter(incidents::requester_pk.eq(requester_pk))
        .filter(incidents::state.eq(PUBLISHED))
        .select(IncidentRow::as_select())
        .load(conn)?;
    let pks: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let backers: Vec<(i64, Option<i64>)> = corroborations::table
        .filter(corroborations::incident_pk.eq_any(&pks))
        .select((corroborations::incident_pk, corroborations::author_id))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let workers: Vec<String> = row
                .author_id
                .into_iter()
                .chain(
                    backers
                        .iter()
                        .filter(|(pk, _)| *pk == row.id)
                        .filter_map(|(_, a)| *a),
                )
                .map(|id| format!("local:{id}"))
                .collect();
            Ok(IncidentFacts {
                kind: row.kind.parse().map_err(DbError::Corrupt)?,
                happened_from: row.happened_from,
                instances: vec![local_instance.to_owned(); workers.len()],
                workers,
            })
        })
        .collect()
}

/// Adds "this happened to me too"; one per worker and incident (`Conflict("corroboration")` otherwise).
pub fn corroborate(
    conn: &mut DbConn,
    public_id: &str,
    incident_pk: i64,
    author_id: i64,
    input: &CorroborationInput,
    at: NaiveDateTime,
) -> Result<CorroborationRow, DbError> {
    conn.transaction(|conn| {
        diesel::insert_into(corroborations::table)
            .values((
                corroborations::public_id.eq(public_id),
                corroborations::incident_pk.eq(incident_pk),
                corroborations::author_id.eq(author_id),
                corroborations::tasks_affected.eq(input.tasks_affected),
                corroborations::amount_lost_minor.eq(input.amount_lost_minor),
                corroborations::note.eq(&input.note),
                corroborations::created_at.eq(at),
            ))
            .returning(corroborations::all_columns)
            .get_result(conn)
            .map_err(conflict_as("corroboration"))
    })
}

/// A corroboration with its author's username.
pub type CorroborationWithAuthor = (CorroborationRow, Option<String>);

pub fn corroborations_of(
    conn: &mut DbConn,
    incident_pk: i64,
) -> Result<Vec<CorroborationWithAuthor>, DbError> {
    Ok(corroborations::table
        .left_join(users::table)
        .filter(corroborations::incident_pk.eq(incident_pk))
        .order(corroborations::id)
        .select((CorroborationRow::as_select(), users::username.nullable()))
        .load(conn)?)
}

/// Withdraws the worker's own corroboration of an incident.
pub fn withdraw_corroboration(
    conn: &mut DbConn,
    incident_pk: i64,
    author_id: i64,
) -> Result<(), DbError> {
    let deleted = diesel::delete(
        corroborations::table
            .filter(corroborations::incident_pk.eq(incident_pk))
            .filter(corroborations::author_id.eq(author_id)),
    )
    .execute(conn)?;
    crate::users::found(deleted)
}

pub fn corroborations_by_author(
    conn: &mut DbConn,
    author_id: i64,
) -> Result<Vec<CorroborationRow>, DbError> {
    Ok(corroborations::table
        .filter(corroborations::author_id.eq(author_id))
        .order(corroborations::id)
        .select(CorroborationRow::as_select())
        .load(conn)?)
}
