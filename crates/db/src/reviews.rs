//! Queries on reviews: drafts, publication, edits with history, tombstones, removal. Every change to what is published refreshes the requester's cached aggregates in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use picket_core::aggregate::ReviewFacts;
use picket_core::review::{Scores, ValidReview};

use crate::error::stale_as;
use crate::events::{self, EventKind, ObjectType};
use crate::requesters::RequesterRow;
use crate::schema::{remote_versions, requesters, review_edits, reviews, users};
use crate::{DbConn, DbError, stats};

/// Where a review is in its life. Only `Published` reviews count anywhere public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    Draft,
    Published,
    /// Deleted by its author: a tombstone whose content is gone.
    Deleted,
    /// Removed by a moderator: hidden from the public and from aggregates, kept for moderators.
    Removed,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Draft => "draft",
            ReviewState::Published => "published",
            ReviewState::Deleted => "deleted",
            ReviewState::Removed => "removed",
        }
    }

    pub fn parse(word: &str) -> Result<Self, DbError> {
        Ok(match word {
            "draft" => ReviewState::Draft,
            "published" => ReviewState::Published,
            "deleted" => ReviewState::Deleted,
            "removed" => ReviewState::Removed,
            other => return Err(DbError::Corrupt(format!("review state `{other}`"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reviews)]
pub struct ReviewRow {
    pub id: i64,
    pub public_id: String,
    pub author_id: Option<i64>,
    pub requester_pk: i64,
    pub state: String,
    pub task_title: Option<String>,
    pub batch_id: Option<String>,
    pub reward_minor: i64,
    pub bonus_minor: Option<i64>,
    pub currency: String,
    pub time_spent_seconds: i64,
    pub completion: String,
    pub approval: String,
    pub time_to_decision_seconds: Option<i64>,
    pub score_pay: Option<i16>,
    pub score_fairness: Option<i16>,
    pub score_promptness: Option<i16>,
    pub score_communication: Option<i16>,
    pub recommend: Option<String>,
    pub tos_violation: bool,
    pub tos_explanation: Option<String>,
    pub broken: bool,
    pub broken_explanation: Option<String>,
    pub unpaid_screener: bool,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub removed_reason: Option<String>,
    /// The ActivityPub id of a review from another instance; `None` for local reviews.
    pub ap_id: Option<String>,
    /// The home instance (host) of a review from another instance.
    pub origin: Option<String>,
    /// The actor URL of a remote review's author.
    pub remote_author: Option<String>,
}

fn word<T: std::str::FromStr<Err = String>>(raw: &str) -> Result<T, DbError> {
    raw.parse().map_err(DbError::Corrupt)
}

impl ReviewRow {
    pub fn state(&self) -> Result<ReviewState, DbError> {
        ReviewState::parse(&self.state)
    }

    /// The review's content as the domain knows it.
    pub fn content(&self) -> Result<ValidReview, DbError> {
        Ok(ValidReview {
            task_title: self.task_title.clone(),
            batch_id: self.batch_id.clone(),
            reward_minor: self.reward_minor,
            bonus_minor: self.bonus_minor,
            currency: self.currency.clone(),
            time_spent_seconds: self.time_spent_seconds,
            completion: word(&self.completion)?,
            approval: word(&self.approval)?,
            time_to_decision_seconds: self.time_to_decision_seconds,
            scores: Scores {
                pay: self.score_pay,
                fairness: self.score_fairness,
                promptness: self.score_promptness,
                communication: self.score_communication,
            },
            recommend: self.recommend.as_deref().map(word).transpose()?,
            tos_violation: self.tos_violation,
            tos_explanation: self.tos_explanation.clone(),
            broken: self.broken,
            broken_explanation: self.broken_explanation.clone(),
            unpaid_screener: self.unpaid_screener,
            body: self.body.clone(),
        })
    }

    /// The numbers the aggregates are computed from.
    pub fn facts(&self) -> Result<ReviewFacts, DbError> {
        let content = self.content()?;
        Ok(ReviewFacts {
            at: self.published_at.unwrap_or(self.created_at),
            reward_minor: content.reward_minor,
            bonus_minor: content.bonus_minor.unwrap_or(0),
            currency: content.currency,
            time_spent_seconds: content.time_spent_seconds,
            approval: content.approval,
            time_to_decision_seconds: content.time_to_decision_seconds,
            scores: content.scores,
            recommend: content.recommend,
            tos_violation: content.tos_violation,
            broken: content.broken,
            unpaid_screener: content.unpaid_screener,
        })
    }
}

/// The content columns, shared by insert and update so both always write the same set.
#[derive(Debug, AsChangeset, Insertable)]
#[diesel(table_name = reviews, treat_none_as_null = true)]
pub(crate) struct ContentColumns<'a> {
    task_title: Option<&'a str>,
    batch_id: Option<&'a str>,
    reward_minor: i64,
    bonus_minor: Option<i64>,
    currency: &'a str,
    time_spent_seconds: i64,
    completion: &'a str,
    approval: &'a str,
    time_to_decision_seconds: Option<i64>,
    score_pay: Option<i16>,
    score_fairness: Option<i16>,
    score_promptness: Option<i16>,
    score_communication: Option<i16>,
    recommend: Option<&'a str>,
    tos_violation: bool,
    tos_explanation: Option<&'a str>,
    broken: bool,
    broken_explanation: Option<&'a str>,
    unpaid_screener: bool,
    body: &'a str,
}

impl<'a> ContentColumns<'a> {
    pub(crate) fn of(review: &'a ValidReview) -> Self {
        ContentColumns {
            task_title: review.task_title.as_deref(),
            batch_id: review.batch_id.as_deref(),
            reward_minor: review.reward_minor,
            bonus_minor: review.bonus_minor,
            currency: &review.currency,
            time_spent_seconds: review.time_spent_seconds,
            completion: review.completion.as_str(),
            approval: review.approval.as_str(),
            time_to_decision_seconds: review.time_to_decision_seconds,
            score_pay: review.scores.pay,
            score_fairness: review.scores.fairness,
            score_promptness: review.scores.promptness,
            score_communication: review.scores.communication,
            recommend: review.recommend.map(|r| r.as_str()),
            tos_violation: review.tos_violation,
            tos_explanation: review.tos_explanation.as_deref(),
            broken: review.broken,
            broken_explanation: review.broken_explanation.as_deref(),
            unpaid_screener: review.unpaid_screener,
            body: &review.body,
        }
    }
}

/// Who wrote a review, as stored: a local account, or nobody (imported history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewReviewMeta<'a> {
    pub public_id: &'a str,
    pub author_id: Option<i64>,
    pub requester_pk: i64,
    pub draft: bool,
    /// When the experience was published; `None` means now.
    pub published_at: Option<NaiveDateTime>,
}

/// Leaves a federation event for a change to a review written here by a local account (not
/// imported history, not a copy of another instance's review).
fn federate(
    conn: &mut DbConn,
    row: &ReviewRow,
    kind: EventKind,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    if row.author_id.is_some() && row.ap_id.is_none() {
        events::record(conn, ObjectType::Review, kind, &row.public_id, at)?;
    }
    Ok(())
}

/// Tells the requester's followers (but its author) of a review just published, whether it was
/// written here or arrived from another instance.
fn announce(conn: &mut DbConn, row: &ReviewRow, at: NaiveDateTime) -> Result<(), DbError> {
    let requester = crate::requesters::by_pk(conn, row.requester_pk)?;
    crate::follows::notify_new_review(conn, &row.public_id, &requester, row.author_id, at)?;
    Ok(())
}

/// Writes a review and, when it is published, refreshes its requester's aggregates, tells its
/// followers and leaves the federation event.
pub fn create(
    conn: &mut DbConn,
    meta: NewReviewMeta<'_>,
    review: &ValidReview,
    at: NaiveDateTime,
) -> Result<ReviewRow, DbError> {
    let row = insert(conn, meta, review, at)?;
    if !meta.draft {
        stats::refresh(conn, row.requester_pk, at)?;
        announce(conn, &row, at)?;
        federate(conn, &row, EventKind::Create, at)?;
    }
    Ok(row)
}

/// Writes a review without touching the aggregates: for bulk writers (import), which must call
/// `stats::refresh` once for each requester they touched before their transaction commits.
pub fn insert(
    conn: &mut DbConn,
    meta: NewReviewMeta<'_>,
    review: &ValidReview,
    at: NaiveDateTime,
) -> Result<ReviewRow, DbError> {
    let state = if meta.draft {
        ReviewState::Draft
    } else {
        ReviewState::Published
    };
    Ok(diesel::insert_into(reviews::table)
        .values((
            reviews::public_id.eq(meta.public_id),
            reviews::author_id.eq(meta.author_id),
            reviews::requester_pk.eq(meta.requester_pk),
            reviews::state.eq(state.as_str()),
            ContentColumns::of(review),
            reviews::created_at.eq(at),
            reviews::updated_at.eq(at),
            reviews::published_at.eq((!meta.draft).then(|| meta.published_at.unwrap_or(at))),
        ))
        .returning(reviews::all_columns)
        .get_result(conn)?)
}

/// The review as the caller read it: a write through this matches no row when anything changed
/// it since (every write moves `updated_at`), so an edit cannot revive a deleted or removed review.
fn unchanged(
    current: &ReviewRow,
) -> diesel::dsl::Filter<
    diesel::dsl::Find<reviews::table, i64>,
    diesel::dsl::Eq<reviews::updated_at, NaiveDateTime>,
> {
    reviews::table
        .find(current.id)
        .filter(reviews::updated_at.eq(current.updated_at))
}

pub fn by_pk(conn: &mut DbConn, pk: i64) -> Result<ReviewRow, DbError> {
    Ok(reviews::table
        .find(pk)
        .select(ReviewRow::as_select())
        .first(conn)?)
}

pub fn by_public_id(conn: &mut DbConn, public_id: &str) -> Result<ReviewRow, DbError> {
    Ok(reviews::table
        .filter(reviews::public_id.eq(public_id))
        .select(ReviewRow::as_select())
        .first(conn)?)
}

/// Replaces a review's content. A published review's previous version goes to its history;
/// `publish` turns a draft into a published review.
pub fn update(
    conn: &mut DbConn,
    current: &ReviewRow,
    review: &ValidReview,
    publish: bool,
    at: NaiveDateTime,
) -> Result<ReviewRow, DbError> {
    let state = current.state()?;
    if state == ReviewState::Published {
        let previous = serde_json::to_string(&current.content()?)
            .map_err(|e| DbError::Corrupt(e.to_string()))?;
        diesel::insert_into(review_edits::table)
            .values((
                review_edits::review_pk.eq(current.id),
                review_edits::edited_at.eq(at),
                review_edits::previous.eq(previous),
            ))
            .execute(conn)?;
    }
    let becomes_published =
        state == ReviewState::Published || (state == ReviewState::Draft && publish);
    let new_state = if becomes_published {
        ReviewState::Published
    } else {
        state
    };
    let row: ReviewRow = diesel::update(unchanged(current))
        .set((
            ContentColumns::of(review),
            reviews::state.eq(new_state.as_str()),
            reviews::updated_at.eq(at),
            reviews::published_at.eq(current.published_at.or(becomes_published.then_some(at))),
        ))
        .returning(reviews::all_columns)
        .get_result(conn)
        .map_err(stale_as("review"))?;
    if becomes_published {
        stats::refresh(conn, row.requester_pk, at)?;
        let kind = if state == ReviewState::Published {
            EventKind::Update
        } else {
            announce(conn, &row, at)?;
            EventKind::Create
        };
        federate(conn, &row, kind, at)?;
    }
    Ok(row)
}

/// Deletes by its author: the row stays as a tombstone (so a federated copy can be told and a
/// re-delivered create is recognised), but its words and its history are erased.
pub fn delete(conn: &mut DbConn, current: &ReviewRow, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::delete(review_edits::table.filter(review_edits::review_pk.eq(current.id)))
        .execute(conn)?;
    diesel::update(unchanged(current))
        .set((
            reviews::state.eq(ReviewState::Deleted.as_str()),
            reviews::task_title.eq(None::<String>),
            reviews::batch_id.eq(None::<String>),
            reviews::tos_explanation.eq(None::<String>),
            reviews::broken_explanation.eq(None::<String>),
            reviews::body.eq(""),
            // The tombstone keeps its id, not who wrote it.
            reviews::remote_author.eq(None::<String>),
            reviews::updated_at.eq(at),
        ))
        .returning(reviews::id)
        .get_result::<i64>(conn)
        .map_err(stale_as("review"))?;
    crate::delivery::scrub_object(conn, &format!("/reviews/{}", current.public_id))?;
    if current.state()? == ReviewState::Published {
        stats::refresh(conn, current.requester_pk, at)?;
        federate(conn, current, EventKind::Delete, at)?;
    }
    Ok(())
}

/// `set_removed` without federating it: for what a suspension hides here, which other
/// instances learn of from the suspension itself.
pub(crate) fn mark_removed(
    conn: &mut DbConn,
    current: &ReviewRow,
    removed_reason: Option<&str>,
    at: NaiveDateTime,
) -> Result<ReviewRow, DbError> {
    let state = if removed_reason.is_some() {
        ReviewState::Removed
    } else {
        ReviewState::Published
    };
    let row: ReviewRow = diesel::update(unchanged(current))
        .set((
            reviews::state.eq(state.as_str()),
            reviews::removed_reason.eq(removed_reason),
            reviews::updated_at.eq(at),
        ))
        .returning(reviews::all_columns)
        .get_result(conn)
        .map_err(stale_as("review"))?;
    stats::refresh(conn, row.requester_pk, at)?;
    Ok(row)
}

/// Every review a local account wrote, in any state.
pub fn by_author(conn: &mut DbConn, author_id: i64) -> Result<Vec<ReviewRow>, DbError> {
    Ok(reviews::table
        .filter(reviews::author_id.eq(author_id))
        .order(reviews::id)
        .select(ReviewRow::as_select())
        .load(conn)?)
}

/// Another instance's reviews by one author held here, for removals that instance makes of
/// all of them (an account it suspended or deleted).
pub fn remote_by_author(conn: &mut DbConn, author: &str) -> Result<Vec<ReviewRow>, DbError> {
    Ok(reviews::table
        .filter(reviews::remote_author.eq(author))
        .select(ReviewRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = review_edits)]
pub struct ReviewEditRow {
    pub id: i64,
    pub review_pk: i64,
    pub edited_at: NaiveDateTime,
    pub previous: String,
}

/// Earlier versions of a review, oldest first.
pub fn history(conn: &mut DbConn, review_pk: i64) -> Result<Vec<ReviewEditRow>, DbError> {
    Ok(review_edits::table
        .filter(review_edits::review_pk.eq(review_pk))
        .order(review_edits::id)
        .select(ReviewEditRow::as_select())
        .load(conn)?)
}

/// A review with its author's username (None for imported history or deleted accounts).
pub type ReviewWithAuthor = (ReviewRow, Option<String>);

/// Published reviews of a requester, newest first, after the cursor `before_id`.
pub fn list_for_requester(
    conn: &mut DbConn,
    requester_pk: i64,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<ReviewWithAuthor>, DbError> {
    let mut query = reviews::table
        .left_join(users::table)
        .filter(reviews::requester_pk.eq(requester_pk))
        .filter(reviews::state.eq(ReviewState::Published.as_str()))
        .filter(visible!(reviews::origin))
        .select((ReviewRow::as_select(), users::username.nullable()))
        .order(reviews::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(reviews::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// A worker's own reviews in any state but deleted, with their requesters, newest first:
/// `drafts_only` narrows to drafts; `before_id` and `limit` page (no limit: all of them, for
/// the worker's own data export).
pub fn list_by_author(
    conn: &mut DbConn,
    author_id: i64,
    drafts_only: bool,
    before_id: Option<i64>,
    limit: Option<i64>,
) -> Result<Vec<(ReviewRow, RequesterRow)>, DbError> {
    let mut query = reviews::table
        .inner_join(requesters::table)
        .filter(reviews::author_id.eq(author_id))
        .filter(reviews::state.ne(ReviewState::Deleted.as_str()))
        .select((ReviewRow::as_select(), RequesterRow::as_select()))
        .order(reviews::id.desc())
        .into_boxed();
    if drafts_only {
        query = query.filter(reviews::state.eq(ReviewState::Draft.as_str()));
    }
    if let Some(before) = before_id {
        query = query.filter(reviews::id.lt(before));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    Ok(query.load(conn)?)
}

/// The published reviews a requester's aggregates are computed from.
pub fn published_facts(conn: &mut DbConn, requester_pk: i64) -> Result<Vec<ReviewFacts>, DbError> {
    Ok(published_facts_of(conn, &[requester_pk])?
        .into_iter()
        .map(|(_, facts)| facts)
        .collect())
}

/// The columns the aggregates need, and only those: a requester with thousands of reviews is
/// read without their texts.
#[derive(Debug, Queryable)]
struct FactsRow {
    requester_pk: i64,
    published_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    reward_minor: i64,
    bonus_minor: Option<i64>,
    currency: String,
    time_spent_seconds: i64,
    approval: String,
    time_to_decision_seconds: Option<i64>,
    scores: (Option<i16>, Option<i16>, Option<i16>, Option<i16>),
    recommend: Option<String>,
    tos_violation: bool,
    broken: bool,
    unpaid_screener: bool,
}

/// The facts of the counted, visible published reviews of several requesters, each with its
/// requester: one query, ordered by requester.
pub fn published_facts_of(
    conn: &mut DbConn,
    requester_pks: &[i64],
) -> Result<Vec<(i64, ReviewFacts)>, DbError> {
    let rows: Vec<FactsRow> = reviews::table
        .filter(reviews::requester_pk.eq_any(requester_pks))
        .filter(reviews::state.eq(ReviewState::Published.as_str()))
        .filter(visible!(reviews::origin))
        .filter(counted!(reviews::origin))
        .order(reviews::requester_pk)
        .select((
            reviews::requester_pk,
            reviews::published_at,
            reviews::created_at,
            reviews::reward_minor,
            reviews::bonus_minor,
            reviews::currency,
            reviews::time_spent_seconds,
            reviews::approval,
            reviews::time_to_decision_seconds,
            (
                reviews::score_pay,
                reviews::score_fairness,
                reviews::score_promptness,
                reviews::score_communication,
            ),
            reviews::recommend,
            reviews::tos_violation,
            reviews::broken,
            reviews::unpaid_screener,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let (pay, fairness, promptness, communication) = row.scores;
            Ok((
                row.requester_pk,
                ReviewFacts {
                    at: row.published_at.unwrap_or(row.created_at),
                    reward_minor: row.reward_minor,
                    bonus_minor: row.bonus_minor.unwrap_or(0),
                    currency: row.currency,
                    time_spent_seconds: row.time_spent_seconds,
                    approval: word(&row.approval)?,
                    time_to_decision_seconds: row.time_to_decision_seconds,
                    scores: Scores {
                        pay,
                        fairness,
                        promptness,
                        communication,
                    },
                    recommend: row.recommend.as_deref().map(word).transpose()?,
                    tos_violation: row.tos_violation,
                    broken: row.broken,
                    unpaid_screener: row.unpaid_screener,
                },
            ))
        })
        .collect()
}

/// Deletes every review of an account (account deletion), refreshing each affected requester.
pub fn delete_all_by_author(
    conn: &mut DbConn,
    author_id: i64,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let mine: Vec<ReviewRow> = reviews::table
        .filter(reviews::author_id.eq(author_id))
        .filter(reviews::state.ne(ReviewState::Deleted.as_str()))
        .select(ReviewRow::as_select())
        .load(conn)?;
    for review in &mine {
        delete(conn, review, at)?;
    }
    Ok(())
}

/// Where a review from another instance comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteOrigin<'a> {
    /// The object's ActivityPub id.
    pub ap_id: &'a str,
    /// Its home instance (host).
    pub origin: &'a str,
    /// Its author's actor URL.
    pub author: &'a str,
    /// The author's time of this version (`updated`, else `published`): a copy is replaced
    /// only by a newer one.
    pub version: NaiveDateTime,
}

/// Whether the copy held (written by `held_author`) may take the arriving version, recording
/// that version when it may. Only the stored author may change a copy, whoever else on that
/// host signs: anything else is refused. A version no newer than the one held (a replay under a
/// new id, a late delivery) is ignored.
pub(crate) fn take_version(
    conn: &mut DbConn,
    held_author: Option<&str>,
    remote: &RemoteOrigin<'_>,
) -> Result<bool, DbError> {
    if held_author != Some(remote.author) {
        return Err(DbError::WrongState(
            "only the author of this copy can change it",
        ));
    }
    let held = remote_versions::table
        .find(remote.ap_id)
        .select(remote_versions::version)
        .first::<NaiveDateTime>(conn)
        .optional()?;
    if held.is_some_and(|held| remote.version <= held) {
        return Ok(false);
    }
    record_version(conn, remote)?;
    Ok(true)
}

/// Remembers the version of a remote object now held.
pub(crate) fn record_version(conn: &mut DbConn, remote: &RemoteOrigin<'_>) -> Result<(), DbError> {
    let updated = diesel::update(remote_versions::table.find(remote.ap_id))
        .set(remote_versions::version.eq(remote.version))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(remote_versions::table)
            .values((
                remote_versions::ap_id.eq(remote.ap_id),
                remote_versions::version.eq(remote.version),
            ))
            .execute(conn)
            .map_err(crate::error::conflict_as("remote version"))?;
    }
    Ok(())
}

/// Forgets the version of a remote object no longer held.
pub(crate) fn forget_version(conn: &mut DbConn, ap_id: &str) -> Result<(), DbError> {
    diesel::delete(remote_versions::table.find(ap_id)).execute(conn)?;
    Ok(())
}

pub fn by_ap_id(conn: &mut DbConn, ap_id: &str) -> Result<Option<ReviewRow>, DbError> {
    Ok(reviews::table
        .filter(reviews::ap_id.eq(ap_id))
        .select(ReviewRow::as_select())
        .first(conn)
        .optional()?)
}

/// What storing a remote review, incident or corroboration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteOutcome {
    Created,
    Updated,
    /// The review was deleted before: its tombstone wins over a late or replayed create.
    Tombstoned,
    /// The copy held is as new or newer: nothing changed.
    Outdated,
}

/// Stores a review from another instance, or replaces the copy held, and refreshes the
/// requester's aggregates: remote reviews count like local ones, and a new one reaches the
/// requester's followers here as a local one does.
pub fn upsert_remote(
    conn: &mut DbConn,
    public_id: &str,
    remote: RemoteOrigin<'_>,
    requester_pk: i64,
    review: &ValidReview,
    published_at: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<RemoteOutcome, DbError> {
    crate::policy::note_origin(conn, remote.origin)?;
    let held = match by_ap_id(conn, remote.ap_id)? {
        Some(existing) => existing,
        None => {
            // Another delivery of the same review (a backfill, an announce) may be storing it
            // at this moment: then its copy is the one to update.
            let stored = crate::savepoint(conn, |conn| {
                let row = insert(
                    conn,
                    NewReviewMeta {
                        public_id,
                        author_id: None,
                        requester_pk,
                        draft: false,
                        published_at: Some(published_at),
                    },
                    review,
                    at,
                )?;
                diesel::update(reviews::table.find(row.id))
                    .set((
                        reviews::ap_id.eq(remote.ap_id),
                        reviews::origin.eq(remote.origin),
                        reviews::remote_author.eq(remote.author),
                    ))
                    .execute(conn)
                    .map_err(crate::error::conflict_as("review"))?;
                Ok(row)
            });
            match stored {
                Ok(row) => {
                    record_version(conn, &remote)?;
                    stats::refresh(conn, requester_pk, at)?;
                    announce(conn, &row, at)?;
                    return Ok(RemoteOutcome::Created);
                }
                Err(DbError::Conflict(_)) => {
                    by_ap_id(conn, remote.ap_id)?.ok_or(DbError::Conflict("review"))?
                }
                Err(other) => return Err(other),
            }
        }
    };
    if held.state()? == ReviewState::Deleted {
        return Ok(RemoteOutcome::Tombstoned);
    }
    if !take_version(conn, held.remote_author.as_deref(), &remote)? {
        return Ok(RemoteOutcome::Outdated);
    }
    update(conn, &held, review, false, at)?;
    Ok(RemoteOutcome::Updated)
}

/// Deletes the copy of a remote review, leaving its tombstone; `false` when none was held.
pub fn delete_remote(conn: &mut DbConn, ap_id: &str, at: NaiveDateTime) -> Result<bool, DbError> {
    match by_ap_id(conn, ap_id)? {
        Some(existing) if existing.state()? != ReviewState::Deleted => {
            delete(conn, &existing, at)?;
            forget_version(conn, ap_id)?;
            Ok(true)
        }
        Some(_) => Ok(false),
        None => Ok(false),
    }
}

/// Published reviews written here by local accounts, newest first, with their requesters and
/// authors: what the instance's outbox pages through for instances that backfill.
pub fn local_published_page(
    conn: &mut DbConn,
    requester_pk: Option<i64>,
    author: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(ReviewRow, RequesterRow, String)>, DbError> {
    let mut query = reviews::table
        .inner_join(requesters::table)
        .inner_join(users::table)
        .filter(reviews::state.eq(ReviewState::Published.as_str()))
        .filter(reviews::ap_id.is_null())
        .select((
            ReviewRow::as_select(),
            RequesterRow::as_select(),
            users::username,
        ))
        .order(reviews::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(reviews::id.lt(before));
    }
    if let Some(author) = author {
        query = query.filter(users::username.eq(author.to_owned()));
    }
    if let Some(requester_pk) = requester_pk {
        query = query.filter(reviews::requester_pk.eq(requester_pk));
    }
    Ok(query.load(conn)?)
}

/// Requesters with the newest published reviews, most recent first, each once: the home page's
/// "recently reviewed". Index scans of the newest reviews only, however many the instance holds.
pub fn recently_reviewed(conn: &mut DbConn, limit: usize) -> Result<Vec<RequesterRow>, DbError> {
    // One backward index scan per requester found, each going on below the last one found and
    // skipping the requesters already found: a burst of reviews of one requester (a mass
    // rejection) does not hide the others, and each review is passed over at most once.
    let mut seen: Vec<i64> = Vec::with_capacity(limit);
    let mut below = i64::MAX;
    while seen.len() < limit {
        let next: Option<(i64, i64)> = reviews::table
            .filter(reviews::state.eq(ReviewState::Published.as_str()))
            .filter(visible!(reviews::origin))
            .filter(reviews::id.lt(below))
            .filter(reviews::requester_pk.ne_all(&seen))
            .order(reviews::id.desc())
            .select((reviews::id, reviews::requester_pk))
            .first(conn)
            .optional()?;
        match next {
            Some((id, pk)) => {
                seen.push(pk);
                below = id;
            }
            None => break,
        }
    }
    let mut rows: Vec<RequesterRow> = requesters::table
        .filter(requesters::id.eq_any(&seen))
        .select(RequesterRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|row| seen.iter().position(|pk| *pk == row.id));
    Ok(rows)
}
