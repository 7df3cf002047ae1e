//! Queries on incident reports, their status history and their corroborations, plus the facts waves are computed from.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use picket_core::incident::{CorroborationInput, IncidentStatus, ValidIncident};
use picket_core::wave::IncidentFacts;

use crate::error::{conflict_as, stale_as};
use crate::events::{self, EventKind, ObjectType};
use crate::follows::{self, NotificationKind};
use crate::requesters::RequesterRow;
use crate::reviews::{RemoteOrigin, RemoteOutcome};
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
    /// For another instance's incident: its ActivityPub id, home instance and author's actor.
    pub ap_id: Option<String>,
    pub origin: Option<String>,
    pub remote_author: Option<String>,
    pub earnings_locked: Option<bool>,
    pub earnings_locked_minor: Option<i64>,
    pub reinstated_on: Option<NaiveDate>,
    pub platform_answer: Option<String>,
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

    /// The report's fields as validated when it was written, with its requester's key.
    pub fn content(&self, requester: Option<&RequesterRow>) -> Result<ValidIncident, DbError> {
        Ok(ValidIncident {
            kind: self.kind.parse().map_err(DbError::Corrupt)?,
            platform: self.platform.parse().map_err(DbError::Corrupt)?,
            requester_id: requester.map(|r| r.requester_id.clone()),
            requester_name: requester.map(|r| r.name.clone()),
            batch_id: self.batch_id.clone(),
            happened_from: self.happened_from,
            happened_to: self.happened_to,
            tasks_affected: self.tasks_affected,
            amount_lost_minor: self.amount_lost_minor,
            currency: self.currency.clone(),
            message_received: self.message_received.clone(),
            description: self.description.clone(),
            evidence_digests: self.evidence(),
            earnings_locked: self.earnings_locked,
            earnings_locked_minor: self.earnings_locked_minor,
            reinstated_on: self.reinstated_on,
            platform_answer: self.platform_answer.clone(),
        })
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
    /// For another instance's corroboration: its ActivityPub id, home instance and author's actor.
    pub ap_id: Option<String>,
    pub origin: Option<String>,
    pub remote_author: Option<String>,
    /// `published`, or `deleted` once withdrawn (a tombstone without words).
    pub state: String,
}

impl CorroborationRow {
    /// The worker behind it, as waves count workers: a local account or a remote actor.
    fn worker(&self) -> Option<String> {
        worker_key(self.author_id, self.remote_author.as_deref())
    }
}

fn worker_key(author_id: Option<i64>, remote_author: Option<&str>) -> Option<String> {
    author_id
        .map(|id| format!("local:{id}"))
        .or_else(|| remote_author.map(str::to_owned))
}

/// Leaves a federation event for a change to an incident written here by a local account.
fn federate(
    conn: &mut DbConn,
    row: &IncidentRow,
    kind: EventKind,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    if row.author_id.is_some() && row.ap_id.is_none() {
        events::record(conn, ObjectType::Incident, kind, &row.public_id, at)?;
    }
    Ok(())
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
    earnings_locked: Option<bool>,
    earnings_locked_minor: Option<i64>,
    reinstated_on: Option<NaiveDate>,
    platform_answer: Option<&'a str>,
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
            earnings_locked: incident.earnings_locked,
            earnings_locked_minor: incident.earnings_locked_minor,
            reinstated_on: incident.reinstated_on,
            platform_answer: incident.platform_answer.as_deref(),
        }
    }
}

/// The waves a change about a requester (or, for incidents naming none, a platform) may start,
/// counted over the instance's window as this instance sees them: every write that can start
/// one goes through `Waves::watch`, local or received, so its followers hear of it once,
/// whichever way it came.
#[derive(Debug, Clone, Copy)]
pub struct Waves<'a> {
    pub requester: Option<&'a RequesterRow>,
    /// The platform the incident is on: whose followers hear of a platform wave.
    pub platform: &'a str,
    pub window_days: i64,
    pub local_instance: &'a str,
    pub at: NaiveDateTime,
}

/// How far back platform waves are looked for: a year, as the platform page shows them.
pub const PLATFORM_WAVE_DAYS: i64 = 365;

impl Waves<'_> {
    fn watch<T>(
        self,
        conn: &mut DbConn,
        change: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let Some(requester) = self.requester else {
            return self.watch_platform(conn, change);
        };
        let watch = WaveWatch::start(conn, requester, self.window_days, self.local_instance)?;
        let out = change(conn)?;
        watch.finish(conn, requester, self.local_instance, self.at)?;
        Ok(out)
    }

    /// The platform's waves before and after the change; its followers hear of a new one.
    fn watch_platform<T>(
        self,
        conn: &mut DbConn,
        change: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let since = self.at.date() - chrono::Duration::days(PLATFORM_WAVE_DAYS);
        let count = |conn: &mut DbConn| {
            let facts = platform_wave_facts(conn, self.platform, since, self.local_instance)?;
            Ok::<_, DbError>(picket_core::wave::waves(&facts, self.window_days))
        };
        let before = count(conn)?.len();
        let out = change(conn)?;
        let after = count(conn)?;
        if after.len() > before
            && let (Some(newest), Ok(platform)) = (
                after.first(),
                self.platform.parse::<picket_core::platform::Platform>(),
            )
        {
            follows::notify_platform_followers(
                conn,
                self.platform,
                NotificationKind::Wave,
                &format!("{}:{}", newest.kind.as_str(), newest.since),
                &picket_core::wave::describe_platform(newest, platform),
                None,
                self.at,
            )?;
        }
        Ok(out)
    }
}

/// Tells a platform's followers (but the author) of a new incident that names no requester.
fn notify_new_platform_incident(
    conn: &mut DbConn,
    row: &IncidentRow,
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    let kind: picket_core::incident::IncidentKind = row.kind.parse().map_err(DbError::Corrupt)?;
    let platform = row
        .platform
        .parse::<picket_core::platform::Platform>()
        .map_or("", picket_core::platform::Platform::display_name);
    follows::notify_platform_followers(
        conn,
        &row.platform,
        NotificationKind::Incident,
        &row.public_id,
        &format!("{} reported on {platform}", kind.label()),
        row.author_id,
        at,
    )
}

/// Files a local incident report about `waves.requester` (or none): its followers hear of it,
/// and of any wave it starts.
pub fn create(
    conn: &mut DbConn,
    public_id: &str,
    author_id: i64,
    incident: &ValidIncident,
    waves: Waves<'_>,
) -> Result<IncidentRow, DbError> {
    waves.watch(conn, |conn| {
        let requester_pk = waves.requester.map(|r| r.id);
        let row = insert(
            conn,
            public_id,
            Some(author_id),
            requester_pk,
            incident,
            waves.at,
        )?;
        match waves.requester {
            Some(requester) => notify_new_incident(conn, &row, requester, waves.at)?,
            None => notify_new_platform_incident(conn, &row, waves.at)?,
        };
        Ok(row)
    })
}

fn insert(
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
            incidents::earnings_locked.eq(content.earnings_locked),
            incidents::earnings_locked_minor.eq(content.earnings_locked_minor),
            incidents::reinstated_on.eq(content.reinstated_on),
            incidents::platform_answer.eq(content.platform_answer),
            incidents::status.eq(IncidentStatus::Open.as_str()),
            incidents::state.eq(PUBLISHED),
            incidents::created_at.eq(at),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)?;
    record_status(conn, row.id, IncidentStatus::Open, None, at)?;
    federate(conn, &row, EventKind::Create, at)?;
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

pub fn by_pk(conn: &mut DbConn, pk: i64) -> Result<IncidentRow, DbError> {
    Ok(incidents::table
        .find(pk)
        .select(IncidentRow::as_select())
        .first(conn)?)
}

/// Another instance's incident held here, by its ActivityPub id.
pub fn by_ap_id(conn: &mut DbConn, ap_id: &str) -> Result<Option<IncidentRow>, DbError> {
    Ok(incidents::table
        .filter(incidents::ap_id.eq(ap_id))
        .select(IncidentRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn update(
    conn: &mut DbConn,
    current: &IncidentRow,
    incident: &ValidIncident,
    requester_pk: Option<i64>,
    at: NaiveDateTime,
) -> Result<IncidentRow, DbError> {
    let row: IncidentRow = diesel::update(unchanged(current))
        .set((
            ContentColumns::of(incident, requester_pk),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)
        .map_err(stale_as("incident"))?;
    federate(conn, &row, EventKind::Update, at)?;
    Ok(row)
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
    let row: IncidentRow = diesel::update(unchanged(current))
        .set((
            incidents::status.eq(status.as_str()),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)
        .map_err(stale_as("incident"))?;
    federate(conn, &row, EventKind::Update, at)?;
    Ok(row)
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
    // Status notes are the incident's words too.
    diesel::delete(
        incident_status_changes::table.filter(incident_status_changes::incident_pk.eq(current.id)),
    )
    .execute(conn)?;
    diesel::update(unchanged(current))
        .set((
            incidents::state.eq(DELETED),
            incidents::description.eq(""),
            incidents::message_received.eq(None::<String>),
            incidents::batch_id.eq(None::<String>),
            incidents::evidence_digests.eq("[]"),
            // The tombstone keeps its id, not who wrote it.
            incidents::remote_author.eq(None::<String>),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::id)
        .get_result::<i64>(conn)
        .map_err(stale_as("incident"))?;
    crate::delivery::scrub_object(conn, &format!("/incidents/{}", current.public_id))?;
    federate(conn, current, EventKind::Delete, at)
}

/// Another instance's incident as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct RemoteIncident<'a> {
    pub incident: &'a ValidIncident,
    pub status: IncidentStatus,
    pub published_at: NaiveDateTime,
}

const REMOVED: &str = "removed";

/// `set_removed` without federating it: for what a suspension hides here, which other
/// instances learn of from the suspension itself.
pub(crate) fn mark_removed(
    conn: &mut DbConn,
    current: &IncidentRow,
    removed_reason: Option<&str>,
    at: NaiveDateTime,
) -> Result<IncidentRow, DbError> {
    let (state, _) = match removed_reason {
        Some(_) => (REMOVED, EventKind::Remove),
        None => (PUBLISHED, EventKind::Restore),
    };
    let row: IncidentRow = diesel::update(unchanged(current))
        .set((
            incidents::state.eq(state),
            incidents::removed_reason.eq(removed_reason),
            incidents::updated_at.eq(at),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)
        .map_err(stale_as("incident"))?;
    Ok(row)
}

/// Another instance's incidents by one author held here.
pub fn remote_by_author(conn: &mut DbConn, author: &str) -> Result<Vec<IncidentRow>, DbError> {
    Ok(incidents::table
        .filter(incidents::remote_author.eq(author))
        .select(IncidentRow::as_select())
        .load(conn)?)
}

/// Another instance's corroborations by one author held here, still standing.
pub fn remote_corroborations_by_author(
    conn: &mut DbConn,
    author: &str,
) -> Result<Vec<CorroborationRow>, DbError> {
    Ok(corroborations::table
        .filter(corroborations::remote_author.eq(author))
        .filter(corroborations::state.ne(DELETED))
        .select(CorroborationRow::as_select())
        .load(conn)?)
}

/// Removes a corroboration as a moderator: a tombstone, like a withdrawal, and federated so.
pub fn remove_corroboration(
    conn: &mut DbConn,
    row: &CorroborationRow,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    erase_corroboration(conn, &row.public_id)?;
    if row.ap_id.is_none() {
        events::record(
            conn,
            ObjectType::Corroboration,
            EventKind::Delete,
            &row.public_id,
            at,
        )?;
    }
    Ok(())
}

/// Stores an incident from another instance, or replaces the copy held (its status included);
/// followers of `waves.requester` hear of a new one as of a local one.
pub fn upsert_remote(
    conn: &mut DbConn,
    public_id: &str,
    remote: RemoteOrigin<'_>,
    arrived: RemoteIncident<'_>,
    waves: Waves<'_>,
) -> Result<(IncidentRow, RemoteOutcome), DbError> {
    waves.watch(conn, |conn| {
        let requester_pk = waves.requester.map(|r| r.id);
        let (row, outcome) =
            store_remote(conn, public_id, remote, requester_pk, arrived, waves.at)?;
        match (waves.requester, outcome) {
            (Some(requester), RemoteOutcome::Created) => {
                notify_new_incident(conn, &row, requester, waves.at)?;
            }
            (None, RemoteOutcome::Created) => {
                notify_new_platform_incident(conn, &row, waves.at)?;
            }
            _ => {}
        }
        Ok((row, outcome))
    })
}

fn store_remote(
    conn: &mut DbConn,
    public_id: &str,
    remote: RemoteOrigin<'_>,
    requester_pk: Option<i64>,
    arrived: RemoteIncident<'_>,
    at: NaiveDateTime,
) -> Result<(IncidentRow, RemoteOutcome), DbError> {
    let RemoteIncident {
        incident,
        status,
        published_at,
    } = arrived;
    crate::policy::note_origin(conn, remote.origin)?;
    let created = match by_ap_id(conn, remote.ap_id)? {
        Some(_) => None,
        // A concurrent delivery of the same incident may win the insert: then update its copy.
        None => match crate::savepoint(conn, |conn| {
            let row = insert(conn, public_id, None, requester_pk, incident, published_at)?;
            diesel::update(incidents::table.find(row.id))
                .set((
                    incidents::ap_id.eq(remote.ap_id),
                    incidents::origin.eq(remote.origin),
                    incidents::remote_author.eq(remote.author),
                ))
                .returning(incidents::all_columns)
                .get_result::<IncidentRow>(conn)
                .map_err(conflict_as("incident"))
        }) {
            Ok(row) => Some(row),
            Err(DbError::Conflict(_)) => None,
            Err(other) => return Err(other),
        },
    };
    let (row, outcome) = match created {
        Some(row) => {
            crate::reviews::record_version(conn, &remote)?;
            (row, RemoteOutcome::Created)
        }
        None => {
            let existing = by_ap_id(conn, remote.ap_id)?.ok_or(DbError::Conflict("incident"))?;
            if existing.state == DELETED {
                return Ok((existing, RemoteOutcome::Tombstoned));
            }
            if !crate::reviews::take_version(conn, existing.remote_author.as_deref(), &remote)? {
                return Ok((existing, RemoteOutcome::Outdated));
            }
            (
                update(conn, &existing, incident, requester_pk, at)?,
                RemoteOutcome::Updated,
            )
        }
    };
    let row = if row.status == status.as_str() {
        row
    } else {
        set_status(conn, &row, status, None, at)?
    };
    Ok((row, outcome))
}

/// Deletes the copy of a remote incident (and its corroborations), leaving its tombstone;
/// `false` when none was held.
pub fn delete_remote(conn: &mut DbConn, ap_id: &str, at: NaiveDateTime) -> Result<bool, DbError> {
    match by_ap_id(conn, ap_id)? {
        Some(existing) if existing.state != DELETED => {
            delete(conn, &existing, at)?;
            crate::reviews::forget_version(conn, ap_id)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Published incidents written here by local accounts, newest first, with their authors: what
/// the instance's outbox pages through.
pub fn local_published_page(
    conn: &mut DbConn,
    requester_pk: Option<i64>,
    author: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(IncidentRow, String)>, DbError> {
    let mut query = incidents::table
        .inner_join(users::table)
        .filter(incidents::state.eq(PUBLISHED))
        .filter(incidents::ap_id.is_null())
        .select((IncidentRow::as_select(), users::username))
        .order(incidents::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(incidents::id.lt(before));
    }
    if let Some(author) = author {
        query = query.filter(users::username.eq(author.to_owned()));
    }
    if let Some(requester_pk) = requester_pk {
        query = query.filter(incidents::requester_pk.eq(requester_pk));
    }
    Ok(query.load(conn)?)
}

/// An incident with its author's username.
pub type IncidentWithAuthor = (IncidentRow, Option<String>);

/// Published incidents about a requester, newest first.
/// Which incidents a public list holds.
#[derive(Debug, Clone, Copy)]
pub enum ListScope<'a> {
    /// Those about one requester.
    Requester(i64),
    /// Those about a platform as a whole: no requester named.
    Platform(&'a str),
}

/// Published incidents in `scope`, newest first, paged by id.
pub fn list(
    conn: &mut DbConn,
    scope: ListScope<'_>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<IncidentWithAuthor>, DbError> {
    let mut query = incidents::table
        .left_join(users::table)
        .filter(incidents::state.eq(PUBLISHED))
        .filter(visible!(incidents::origin))
        .select((IncidentRow::as_select(), users::username.nullable()))
        .order(incidents::id.desc())
        .limit(limit)
        .into_boxed();
    query = match scope {
        ListScope::Requester(pk) => query.filter(incidents::requester_pk.eq(pk)),
        ListScope::Platform(platform) => query
            .filter(incidents::requester_pk.is_null())
            .filter(incidents::platform.eq(platform.to_owned())),
    };
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
        .filter(visible!(incidents::origin))
        .filter(incidents::status.eq(IncidentStatus::Open.as_str()))
        .count()
        .get_result(conn)?)
}

/// What waves are computed from: each published incident about the requester with the workers
/// who reported or corroborated it (a local account or a remote actor each) and their instance
/// (`local_instance` for local accounts, the home instance for others').
pub fn wave_facts(
    conn: &mut DbConn,
    requester_pk: i64,
    local_instance: &str,
) -> Result<Vec<IncidentFacts>, DbError> {
    let rows = counted_rows(conn, ListScope::Requester(requester_pk), None)?;
    facts_of(conn, rows, local_instance)
}

/// What platform waves are made of: the platform's incidents that name no requester (lock-outs,
/// suspensions, withheld earnings, payment problems), from `since` on, counted as requester
/// waves are.
pub fn platform_wave_facts(
    conn: &mut DbConn,
    platform: &str,
    since: chrono::NaiveDate,
    local_instance: &str,
) -> Result<Vec<IncidentFacts>, DbError> {
    let rows = counted_rows(conn, ListScope::Platform(platform), Some(since))?;
    facts_of(conn, rows, local_instance)
}

/// The published incidents in `scope` that count in waves (visible, from counted origins),
/// those that started on or after `since` when given.
fn counted_rows(
    conn: &mut DbConn,
    scope: ListScope<'_>,
    since: Option<chrono::NaiveDate>,
) -> Result<Vec<IncidentRow>, DbError> {
    let mut query = incidents::table
        .filter(incidents::state.eq(PUBLISHED))
        .filter(visible!(incidents::origin))
        .filter(counted!(incidents::origin))
        .select(IncidentRow::as_select())
        .into_boxed();
    query = match scope {
        ListScope::Requester(pk) => query.filter(incidents::requester_pk.eq(pk)),
        ListScope::Platform(platform) => query
            .filter(incidents::requester_pk.is_null())
            .filter(incidents::platform.eq(platform.to_owned())),
    };
    if let Some(since) = since {
        query = query.filter(incidents::happened_from.ge(since));
    }
    Ok(query.load(conn)?)
}

/// Who reported and corroborated each incident, from which instance.
fn facts_of(
    conn: &mut DbConn,
    rows: Vec<IncidentRow>,
    local_instance: &str,
) -> Result<Vec<IncidentFacts>, DbError> {
    let pks: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let backers: Vec<CorroborationRow> = corroborations::table
        .filter(corroborations::incident_pk.eq_any(&pks))
        .filter(corroborations::state.eq(PUBLISHED))
        .filter(visible!(corroborations::origin))
        .filter(counted!(corroborations::origin))
        .select(CorroborationRow::as_select())
        .load(conn)?;
    let instance = |origin: &Option<String>| origin.as_deref().unwrap_or(local_instance).to_owned();
    rows.into_iter()
        .map(|row| {
            let (workers, instances) = worker_key(row.author_id, row.remote_author.as_deref())
                .map(|key| (key, instance(&row.origin)))
                .into_iter()
                .chain(
                    backers
                        .iter()
                        .filter(|c| c.incident_pk == row.id)
                        .filter_map(|c| c.worker().map(|key| (key, instance(&c.origin)))),
                )
                .unzip();
            Ok(IncidentFacts {
                kind: row.kind.parse().map_err(DbError::Corrupt)?,
                happened_from: row.happened_from,
                workers,
                instances,
            })
        })
        .collect()
}

/// Notices when a change makes a new wave about a requester, and then tells its followers:
/// taken before the change and finished after it, in the same transaction.
#[derive(Debug)]
struct WaveWatch {
    before: usize,
    window_days: i64,
}

impl WaveWatch {
    fn start(
        conn: &mut DbConn,
        requester: &RequesterRow,
        window_days: i64,
        local_instance: &str,
    ) -> Result<Self, DbError> {
        let facts = wave_facts(conn, requester.id, local_instance)?;
        Ok(WaveWatch {
            before: picket_core::wave::waves(&facts, window_days).len(),
            window_days,
        })
    }

    fn finish(
        self,
        conn: &mut DbConn,
        requester: &RequesterRow,
        local_instance: &str,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        let facts = wave_facts(conn, requester.id, local_instance)?;
        let after = picket_core::wave::waves(&facts, self.window_days);
        if after.len() > self.before
            && let (Some(newest), Ok(platform)) = (
                after.first(),
                requester
                    .platform
                    .parse::<picket_core::platform::Platform>(),
            )
        {
            let message = picket_core::wave::describe(newest, &requester.name, platform);
            let subject = format!("{}:{}", newest.kind.as_str(), newest.since);
            follows::notify_followers(
                conn,
                requester.id,
                NotificationKind::Wave,
                &subject,
                &message,
                None,
                at,
            )?;
        }
        Ok(())
    }
}

/// Tells the requester's followers (but the author) of a new incident report.
fn notify_new_incident(
    conn: &mut DbConn,
    row: &IncidentRow,
    requester: &RequesterRow,
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    let kind: picket_core::incident::IncidentKind = row.kind.parse().map_err(DbError::Corrupt)?;
    let platform = requester
        .platform
        .parse::<picket_core::platform::Platform>()
        .map_or("", picket_core::platform::Platform::display_name);
    let message = format!(
        "{} reported against {} on {platform}",
        kind.label(),
        requester.name
    );
    follows::notify_followers(
        conn,
        requester.id,
        NotificationKind::Incident,
        &row.public_id,
        &message,
        row.author_id,
        at,
    )
}

/// Adds "this happened to me too"; one per worker and incident (`Conflict("corroboration")` otherwise).
/// Adds a local worker's corroboration; followers of `waves.requester` hear of a wave it starts.
pub fn corroborate(
    conn: &mut DbConn,
    public_id: &str,
    incident_pk: i64,
    author_id: i64,
    input: &CorroborationInput,
    waves: Waves<'_>,
) -> Result<CorroborationRow, DbError> {
    waves.watch(conn, |conn| {
        insert_corroboration(conn, public_id, incident_pk, author_id, input, waves.at)
    })
}

fn insert_corroboration(
    conn: &mut DbConn,
    public_id: &str,
    incident_pk: i64,
    author_id: i64,
    input: &CorroborationInput,
    at: NaiveDateTime,
) -> Result<CorroborationRow, DbError> {
    // A withdrawn one leaves a tombstone; corroborating again makes a new corroboration.
    diesel::delete(
        corroborations::table
            .filter(corroborations::incident_pk.eq(incident_pk))
            .filter(corroborations::author_id.eq(author_id))
            .filter(corroborations::state.eq(DELETED)),
    )
    .execute(conn)?;
    let row: CorroborationRow = conn.transaction(|conn| {
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
    })?;
    events::record(
        conn,
        ObjectType::Corroboration,
        EventKind::Create,
        &row.public_id,
        at,
    )?;
    Ok(row)
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
        .filter(corroborations::state.eq(PUBLISHED))
        .filter(visible!(corroborations::origin))
        .order(corroborations::id)
        .select((CorroborationRow::as_select(), users::username.nullable()))
        .load(conn)?)
}

/// Withdraws the worker's own corroboration of an incident: it becomes a tombstone.
pub fn withdraw_corroboration(
    conn: &mut DbConn,
    incident_pk: i64,
    author_id: i64,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let public_id: String = corroborations::table
        .filter(corroborations::incident_pk.eq(incident_pk))
        .filter(corroborations::author_id.eq(author_id))
        .filter(corroborations::state.eq(PUBLISHED))
        .select(corroborations::public_id)
        .first(conn)?;
    erase_corroboration(conn, &public_id)?;
    events::record(
        conn,
        ObjectType::Corroboration,
        EventKind::Delete,
        &public_id,
        at,
    )
}

/// Leaves a corroboration as a tombstone without words or figures.
fn erase_corroboration(conn: &mut DbConn, public_id: &str) -> Result<(), DbError> {
    diesel::update(corroborations::table.filter(corroborations::public_id.eq(public_id)))
        .set((
            corroborations::state.eq(DELETED),
            corroborations::note.eq(""),
            corroborations::tasks_affected.eq(None::<i64>),
            corroborations::amount_lost_minor.eq(None::<i64>),
            // The tombstone keeps its id, not who wrote it.
            corroborations::remote_author.eq(None::<String>),
        ))
        .execute(conn)?;
    crate::delivery::scrub_object(conn, &format!("/corroborations/{public_id}"))?;
    Ok(())
}

pub fn corroboration_by_public_id(
    conn: &mut DbConn,
    public_id: &str,
) -> Result<CorroborationRow, DbError> {
    Ok(corroborations::table
        .filter(corroborations::public_id.eq(public_id))
        .select(CorroborationRow::as_select())
        .first(conn)?)
}

pub fn corroboration_by_ap_id(
    conn: &mut DbConn,
    ap_id: &str,
) -> Result<Option<CorroborationRow>, DbError> {
    Ok(corroborations::table
        .filter(corroborations::ap_id.eq(ap_id))
        .select(CorroborationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a corroboration from another instance of an incident held here, or replaces the copy
/// held. One per remote worker and incident: a second from the same actor replaces the first.
pub fn upsert_remote_corroboration(
    conn: &mut DbConn,
    public_id: &str,
    remote: RemoteOrigin<'_>,
    incident_pk: i64,
    input: &CorroborationInput,
    published_at: NaiveDateTime,
    waves: Waves<'_>,
) -> Result<(CorroborationRow, RemoteOutcome), DbError> {
    waves.watch(conn, |conn| {
        store_remote_corroboration(conn, public_id, remote, incident_pk, input, published_at)
    })
}

fn store_remote_corroboration(
    conn: &mut DbConn,
    public_id: &str,
    remote: RemoteOrigin<'_>,
    incident_pk: i64,
    input: &CorroborationInput,
    published_at: NaiveDateTime,
) -> Result<(CorroborationRow, RemoteOutcome), DbError> {
    crate::policy::note_origin(conn, remote.origin)?;
    if let Some(existing) = corroboration_by_ap_id(conn, remote.ap_id)? {
        if existing.state == DELETED {
            return Ok((existing, RemoteOutcome::Tombstoned));
        }
        if !crate::reviews::take_version(conn, existing.remote_author.as_deref(), &remote)? {
            return Ok((existing, RemoteOutcome::Outdated));
        }
        let row = diesel::update(corroborations::table.find(existing.id))
            .set((
                corroborations::tasks_affected.eq(input.tasks_affected),
                corroborations::amount_lost_minor.eq(input.amount_lost_minor),
                corroborations::note.eq(&input.note),
            ))
            .returning(corroborations::all_columns)
            .get_result(conn)?;
        return Ok((row, RemoteOutcome::Updated));
    }
    diesel::delete(
        corroborations::table
            .filter(corroborations::incident_pk.eq(incident_pk))
            .filter(corroborations::remote_author.eq(remote.author)),
    )
    .execute(conn)?;
    let inserted = crate::savepoint(conn, |conn| {
        diesel::insert_into(corroborations::table)
            .values((
                corroborations::public_id.eq(public_id),
                corroborations::incident_pk.eq(incident_pk),
                corroborations::tasks_affected.eq(input.tasks_affected),
                corroborations::amount_lost_minor.eq(input.amount_lost_minor),
                corroborations::note.eq(&input.note),
                corroborations::created_at.eq(published_at),
                corroborations::ap_id.eq(remote.ap_id),
                corroborations::origin.eq(remote.origin),
                corroborations::remote_author.eq(remote.author),
            ))
            .returning(corroborations::all_columns)
            .get_result(conn)
            .map_err(conflict_as("corroboration"))
    });
    match inserted {
        Ok(row) => {
            crate::reviews::record_version(conn, &remote)?;
            Ok((row, RemoteOutcome::Created))
        }
        // A concurrent delivery of the same corroboration stored it first.
        Err(DbError::Conflict(_)) => {
            let row = corroboration_by_ap_id(conn, remote.ap_id)?
                .ok_or(DbError::Conflict("corroboration"))?;
            Ok((row, RemoteOutcome::Updated))
        }
        Err(other) => Err(other),
    }
}

/// Withdraws the copy of a remote corroboration; the row it was, when one was held.
pub fn delete_remote_corroboration(
    conn: &mut DbConn,
    ap_id: &str,
) -> Result<Option<CorroborationRow>, DbError> {
    match corroboration_by_ap_id(conn, ap_id)? {
        Some(existing) if existing.state != DELETED => {
            erase_corroboration(conn, &existing.public_id)?;
            crate::reviews::forget_version(conn, ap_id)?;
            Ok(Some(existing))
        }
        _ => Ok(None),
    }
}

/// Published corroborations written here by local accounts, newest first, with their authors
/// and the incidents they corroborate: what the instance's outbox pages through.
pub fn local_corroborations_page(
    conn: &mut DbConn,
    author: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(CorroborationRow, IncidentRow, String)>, DbError> {
    let mut query = corroborations::table
        .inner_join(incidents::table)
        .inner_join(users::table)
        .filter(corroborations::state.eq(PUBLISHED))
        .filter(corroborations::ap_id.is_null())
        .filter(incidents::state.eq(PUBLISHED))
        .select((
            CorroborationRow::as_select(),
            IncidentRow::as_select(),
            users::username,
        ))
        .order(corroborations::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(author) = author {
        query = query.filter(users::username.eq(author.to_owned()));
    }
    if let Some(before) = before_id {
        query = query.filter(corroborations::id.lt(before));
    }
    Ok(query.load(conn)?)
}

pub fn corroborations_by_author(
    conn: &mut DbConn,
    author_id: i64,
) -> Result<Vec<CorroborationRow>, DbError> {
    Ok(corroborations::table
        .filter(corroborations::author_id.eq(author_id))
        .filter(corroborations::state.eq(PUBLISHED))
        .order(corroborations::id)
        .select(CorroborationRow::as_select())
        .load(conn)?)
}

/// Requesters with published incidents that happened on or after `since`, newest report first,
/// each once: where the home page looks for waves.
pub fn recently_reported(
    conn: &mut DbConn,
    since: chrono::NaiveDate,
    limit: usize,
) -> Result<Vec<RequesterRow>, DbError> {
    let newest: Vec<Option<i64>> = incidents::table
        .filter(incidents::state.eq(PUBLISHED))
        .filter(visible!(incidents::origin))
        .filter(incidents::requester_pk.is_not_null())
        .filter(incidents::happened_from.ge(since))
        .order(incidents::id.desc())
        .limit(500)
        .select(incidents::requester_pk)
        .load(conn)?;
    let mut seen = Vec::with_capacity(limit);
    for pk in newest.into_iter().flatten() {
        if !seen.contains(&pk) {
            seen.push(pk);
        }
        if seen.len() == limit {
            break;
        }
    }
    let mut rows: Vec<RequesterRow> = crate::schema::requesters::table
        .filter(crate::schema::requesters::id.eq_any(&seen))
        .select(RequesterRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|row| seen.iter().position(|pk| *pk == row.id));
    Ok(rows)
}
