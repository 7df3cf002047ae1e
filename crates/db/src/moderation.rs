//! Reports and the public moderation log. A report keeps its local reporter only while open (so one worker cannot pile up reports on one target) and never shows it; the log names the acting role, and a moderator only where the instance chooses to.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use picket_core::accounts::AccountStatus;
use picket_core::moderation::{ModAction, ReportReason, Resolution, TargetType};

use crate::schema::{modlog, reports};
use crate::{DbConn, DbError};

const OPEN: &str = "open";
const RESOLVED: &str = "resolved";

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reports)]
pub struct ReportRow {
    pub id: i64,
    pub public_id: String,
    pub target_type: String,
    /// A local object's public id or username, or a remote object's or actor's URL.
    pub target: String,
    pub reason: String,
    pub text: String,
    pub reporter_id: Option<i64>,
    /// The instance that forwarded it as a `Flag`; `None` for reports made here.
    pub origin: Option<String>,
    pub state: String,
    pub action: Option<String>,
    pub resolution: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl ReportRow {
    pub fn is_open(&self) -> bool {
        self.state == OPEN
    }
}

/// A report as made.
#[derive(Debug, Clone, Copy)]
pub struct NewReport<'a> {
    pub public_id: &'a str,
    pub target_type: TargetType,
    pub target: &'a str,
    pub reason: ReportReason,
    pub text: &'a str,
    pub reporter_id: Option<i64>,
    pub origin: Option<&'a str>,
}

/// Forgets a deleted account as the reporter of its open reports, as resolving a report does; the
/// reports stay in the queue for moderators, now without anyone to link them to.
pub(crate) fn forget_reporter(conn: &mut DbConn, user_id: i64) -> Result<(), DbError> {
    diesel::update(reports::table.filter(reports::reporter_id.eq(user_id)))
        .set(reports::reporter_id.eq(None::<i64>))
        .execute(conn)?;
    Ok(())
}

/// Files a report. A worker has at most one open report per target (`Conflict("report")`).
pub fn create_report(
    conn: &mut DbConn,
    report: NewReport<'_>,
    at: NaiveDateTime,
) -> Result<ReportRow, DbError> {
    if let Some(reporter) = report.reporter_id {
        let open: i64 = reports::table
            .filter(reports::reporter_id.eq(reporter))
            .filter(reports::target.eq(report.target))
            .filter(reports::state.eq(OPEN))
            .count()
            .get_result(conn)?;
        if open > 0 {
            return Err(DbError::Conflict("report"));
        }
    }
    Ok(diesel::insert_into(reports::table)
        .values((
            reports::public_id.eq(report.public_id),
            reports::target_type.eq(report.target_type.as_str()),
            reports::target.eq(report.target),
            reports::reason.eq(report.reason.as_str()),
            reports::text.eq(report.text),
            reports::reporter_id.eq(report.reporter_id),
            reports::origin.eq(report.origin),
            reports::state.eq(OPEN),
            reports::created_at.eq(at),
        ))
        .returning(reports::all_columns)
        .get_result(conn)?)
}

pub fn report_by_public_id(conn: &mut DbConn, public_id: &str) -> Result<ReportRow, DbError> {
    Ok(reports::table
        .filter(reports::public_id.eq(public_id))
        .select(ReportRow::as_select())
        .first(conn)?)
}

/// Reports in `open` or `resolved` state, newest first, before the cursor.
pub fn reports_page(
    conn: &mut DbConn,
    open: bool,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<ReportRow>, DbError> {
    let mut query = reports::table
        .filter(reports::state.eq(if open { OPEN } else { RESOLVED }))
        .order(reports::id.desc())
        .limit(limit)
        .select(ReportRow::as_select())
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(reports::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// The reports `reporter_id` filed that still name them (resolution forgets the reporter), oldest
/// first: for the account's own-data export.
pub fn reports_by(conn: &mut DbConn, reporter_id: i64) -> Result<Vec<ReportRow>, DbError> {
    Ok(reports::table
        .filter(reports::reporter_id.eq(reporter_id))
        .order(reports::id)
        .select(ReportRow::as_select())
        .load(conn)?)
}

/// Whether the same open report of `target` (same words) forwarded by `origin` is already in
/// the queue: repeats add nothing for moderators.
pub fn open_report_from(
    conn: &mut DbConn,
    target: &str,
    origin: &str,
    text: &str,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        reports::table
            .filter(reports::target.eq(target))
            .filter(reports::origin.eq(origin))
            .filter(reports::text.eq(text))
            .filter(reports::state.eq(OPEN)),
    ))
    .get_result(conn)?)
}

/// Closes a report with what was done and why; its reporter is forgotten.
pub fn resolve_report(
    conn: &mut DbConn,
    report: &ReportRow,
    resolution: Resolution,
    reason: &str,
    at: NaiveDateTime,
) -> Result<ReportRow, DbError> {
    diesel::update(
        reports::table
            .find(report.id)
            .filter(reports::state.eq(OPEN)),
    )
    .set((
        reports::state.eq(RESOLVED),
        reports::action.eq(resolution.as_str()),
        reports::resolution.eq(reason),
        reports::resolved_at.eq(at),
        reports::reporter_id.eq(None::<i64>),
    ))
    .returning(reports::all_columns)
    .get_result(conn)
    .map_err(crate::error::stale_as("report"))
}

/// One entry of the public moderation log.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = modlog)]
pub struct ModlogRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub action: String,
    pub target_type: String,
    pub target: String,
    pub reason: String,
    /// `moderator`, `admin`, or `remote` for removals by the content's home instance.
    pub role: String,
    /// Only when the instance shows moderators' names.
    pub moderator: Option<String>,
    /// For a removal received from another instance: that instance.
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub action: ModAction,
    pub target_type: &'a str,
    pub target: &'a str,
    pub reason: &'a str,
    pub role: &'a str,
    pub moderator: Option<&'a str>,
    pub origin: Option<&'a str>,
}

/// Writes a log entry, in the caller's transaction with the action it records.
pub fn log(conn: &mut DbConn, entry: NewEntry<'_>, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::insert_into(modlog::table)
        .values((
            modlog::at.eq(at),
            modlog::action.eq(entry.action.as_str()),
            modlog::target_type.eq(entry.target_type),
            modlog::target.eq(entry.target),
            modlog::reason.eq(entry.reason),
            modlog::role.eq(entry.role),
            modlog::moderator.eq(entry.moderator),
            modlog::origin.eq(entry.origin),
        ))
        .execute(conn)?;
    Ok(())
}

/// The latest removal or restoration logged for `target` (a public id here, or a remote
/// object's URL): `remove`, `restore`, `remote_removal` or `remote_restore`.
pub fn latest_removal_action(conn: &mut DbConn, target: &str) -> Result<Option<String>, DbError> {
    let actions = [
        ModAction::Remove,
        ModAction::Restore,
        ModAction::RemoteRemoval,
        ModAction::RemoteRestore,
    ]
    .map(ModAction::as_str);
    Ok(modlog::table
        .filter(modlog::target.eq(target))
        .filter(modlog::action.eq_any(actions))
        .order(modlog::id.desc())
        .select(modlog::action)
        .first(conn)
        .optional()?)
}

/// The log, newest first, before the cursor.
pub fn modlog_page(
    conn: &mut DbConn,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<ModlogRow>, DbError> {
    let mut query = modlog::table
        .order(modlog::id.desc())
        .limit(limit)
        .select(ModlogRow::as_select())
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(modlog::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// Who acts, as the log records it: the role, and the name only where the instance shows names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acting<'a> {
    pub role: &'a str,
    pub name: Option<&'a str>,
}

/// Logs a moderator's or admin's action, in the caller's transaction with the action.
pub fn log_action(
    conn: &mut DbConn,
    acting: Acting<'_>,
    action: ModAction,
    target: (&str, &str),
    reason: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    log(
        conn,
        NewEntry {
            action,
            target_type: target.0,
            target: target.1,
            reason,
            role: acting.role,
            moderator: acting.name,
            origin: None,
        },
        at,
    )
}

/// Removes (`reason`) or restores (`None`) a review, incident, corroboration or comment by its public id
/// here, and logs it. Local content's removal federates; a copy's stays local policy.
pub fn set_content_removed(
    conn: &mut DbConn,
    acting: Acting<'_>,
    target_type: TargetType,
    public_id: &str,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    // Removal takes published content; restoration, removed content.
    let expected = if reason.is_some() {
        "published"
    } else {
        "removed"
    };
    let wrong_state = || {
        DbError::WrongState(
            "only published content can be removed, and only removed content restored",
        )
    };
    match target_type {
        TargetType::Account => {
            return Err(DbError::WrongState("an account is suspended, not removed"));
        }
        // Erased, and federated as its deletion: it cannot come back.
        TargetType::Corroboration => {
            let row = crate::incidents::corroboration_by_public_id(conn, public_id)?;
            if reason.is_none() || row.state != "published" {
                return Err(DbError::WrongState(
                    "a corroboration can be removed once; it cannot be restored",
                ));
            }
            crate::incidents::remove_corroboration(conn, &row, at)?;
        }
        _ => {
            let row = crate::content::find(conn, target_type, public_id)?;
            if row.state() != expected {
                return Err(wrong_state());
            }
            crate::content::set_removed(conn, row.as_ref(), reason, at)?;
        }
    }
    let action = if reason.is_some() {
        ModAction::Remove
    } else {
        ModAction::Restore
    };
    log_action(
        conn,
        acting,
        action,
        (target_type.as_str(), public_id),
        reason.unwrap_or("restored"),
        at,
    )
}

/// Suspends an active local account (`suspend`): its sessions and tokens end, it cannot sign
/// in, and the suspension federates, so its content leaves other instances' views too. Or lifts
/// a suspension (`!suspend`), which federates the same way.
pub fn set_suspended(
    conn: &mut DbConn,
    acting: Acting<'_>,
    username: &str,
    suspend: bool,
    reason: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let user = crate::users::by_username(conn, username)?;
    let (from, to, kind, action) = if suspend {
        (
            AccountStatus::Active,
            AccountStatus::Suspended,
            crate::events::EventKind::Remove,
            ModAction::Suspend,
        )
    } else {
        (
            AccountStatus::Suspended,
            AccountStatus::Active,
            crate::events::EventKind::Restore,
            ModAction::Unsuspend,
        )
    };
    if user.status() != from {
        return Err(DbError::WrongState(if suspend {
            "only an active account can be suspended"
        } else {
            "the account is not suspended"
        }));
    }
    crate::users::set_status(conn, user.id, to)?;
    if suspend {
        crate::sessions::revoke_all(conn, user.id, None)?;
    }
    hide_while_suspended(conn, user.id, suspend, at)?;
    crate::events::record(
        conn,
        crate::events::ObjectType::Account,
        kind,
        &user.username,
        at,
    )?;
    log_action(
        conn,
        acting,
        action,
        ("account", &user.username),
        reason,
        at,
    )
}

/// Why a suspended account's content is out of view here.
pub const SUSPENDED_REASON: &str = "Account suspended by this instance's moderators";

/// A suspension hides the account's published reviews and incidents here too, as other
/// instances hide their copies: they leave lists, aggregates and waves, removed with
/// `SUSPENDED_REASON`. Lifting it brings back only what the suspension hid, not what moderators
/// removed for a reason of their own.
fn hide_while_suspended(
    conn: &mut DbConn,
    user_id: i64,
    suspend: bool,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let (from, reason) = if suspend {
        ("published", Some(SUSPENDED_REASON))
    } else {
        ("removed", None)
    };
    for row in crate::content::by_local_author(conn, user_id)? {
        let hidden_by_suspension = suspend || row.removed_reason() == Some(SUSPENDED_REASON);
        if row.state() == from && hidden_by_suspension {
            row.mark_removed(conn, reason, at)?;
        }
    }
    Ok(())
}

/// Approves a registration waiting in `approval` mode.
pub fn approve(
    conn: &mut DbConn,
    acting: Acting<'_>,
    username: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let user = crate::users::by_username(conn, username)?;
    if user.status() != AccountStatus::Pending {
        return Err(DbError::WrongState(
            "the account is not waiting for approval",
        ));
    }
    crate::users::set_status(conn, user.id, AccountStatus::Active)?;
    log_action(
        conn,
        acting,
        ModAction::ApproveAccount,
        ("account", &user.username),
        "registration approved",
        at,
    )
}

/// Accounts waiting for approval, oldest first.
pub fn pending_accounts(conn: &mut DbConn) -> Result<Vec<crate::models::UserRow>, DbError> {
    use crate::schema::users;
    Ok(users::table
        .filter(users::status.eq(AccountStatus::Pending.as_str()))
        .order(users::id)
        .select(crate::models::UserRow::as_select())
        .load(conn)?)
}

/// A review, incident, corroboration or comment held here, as moderation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub public_id: String,
    /// The local author, for content written here.
    pub author_id: Option<i64>,
    /// For a copy of another instance's content: its ActivityPub id and author's actor.
    pub ap_id: Option<String>,
    pub remote_author: Option<String>,
    pub published: bool,
}

/// The content `target` names: a public id here, or (with `://`) a copy's ActivityPub id.
/// `NotFound` when there is none; accounts are no content.
pub fn held(conn: &mut DbConn, target_type: TargetType, target: &str) -> Result<Held, DbError> {
    let row = crate::content::find(conn, target_type, target)?;
    Ok(Held {
        public_id: row.public_id().to_owned(),
        author_id: row.author_id(),
        ap_id: row.ap_id().map(str::to_owned),
        remote_author: row.remote_author().map(str::to_owned),
        published: row.is_published(),
    })
}
