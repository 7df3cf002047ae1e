//! Response shapes of the JSON API, built from stored rows; the only place rows become public JSON.

use chrono::{NaiveDate, NaiveDateTime};
use picket_core::aggregate::{Aggregates, WindowStats};
use picket_core::incident::{IncidentKind, IncidentStatus, reversal_deadline};
use picket_core::platform::Platform;
use picket_core::review::ValidReview;
use picket_core::wave::Wave;
use picket_db::DbError;
use picket_db::incidents::{CorroborationRow, IncidentRow, StatusChangeRow};
use picket_db::requesters::{AliasRow, RequesterRow};
use picket_db::reviews::{ReviewRow, ReviewState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A page of results and the cursor for the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `before` to get the next page; `null` on the last page.
    pub next: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched newest first with `limit + 1` as the query's limit: the
    /// extra row only tells that another page follows, so the last page never points at an empty one.
    pub fn of<R>(
        mut rows: Vec<R>,
        limit: i64,
        cursor: impl Fn(&R) -> i64,
        view: impl FnMut(R) -> Result<T, DbError>,
    ) -> Result<Self, DbError> {
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next = if more { rows.last().map(&cursor) } else { None };
        Ok(Page {
            items: rows.into_iter().map(view).collect::<Result<_, _>>()?,
            next,
        })
    }
}

/// Paging parameters shared by every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next`.
    pub before: Option<i64>,
}

impl PageQuery {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(20).clamp(1, 100)
    }
}

/// Which requester something is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequesterRef {
    pub platform: String,
    pub requester_id: String,
    pub name: String,
}

impl From<&RequesterRow> for RequesterRef {
    fn from(row: &RequesterRow) -> Self {
        RequesterRef {
            platform: row.platform.clone(),
            requester_id: row.requester_id.clone(),
            name: row.name.clone(),
        }
    }
}

/// Per-window statistics: all time, the last 90 days and the last 30 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregatesView {
    pub all: WindowStats,
    pub days90: WindowStats,
    pub days30: WindowStats,
}

impl From<Aggregates> for AggregatesView {
    fn from(a: Aggregates) -> Self {
        AggregatesView {
            all: a.all,
            days90: a.days90,
            days30: a.days30,
        }
    }
}

/// A requester's page: identity, earlier names, aggregates, open incidents and waves.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequesterView {
    pub platform: String,
    pub requester_id: String,
    pub name: String,
    /// Earlier names, oldest first.
    pub aliases: Vec<String>,
    /// The requester's page on its platform, when the platform has one.
    pub platform_url: Option<String>,
    pub aggregates: AggregatesView,
    pub open_incidents: i64,
    pub waves: Vec<Wave>,
}

impl RequesterView {
    pub fn new(
        row: RequesterRow,
        aliases: &[AliasRow],
        aggregates: Aggregates,
        open_incidents: i64,
        waves: Vec<Wave>,
    ) -> Self {
        let platform_url = row
            .platform
            .parse::<Platform>()
            .ok()
            .and_then(|p| p.requester_url(&row.requester_id));
        RequesterView {
            aliases: aliases
                .iter()
                .filter(|a| a.requester_pk == row.id)
                .map(|a| a.name.clone())
                .collect(),
            platform_url,
            platform: row.platform,
            requester_id: row.requester_id,
            name: row.name,
            aggregates: aggregates.into(),
            open_incidents,
            waves,
        }
    }
}

/// A search hit.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequesterSummary {
    pub platform: String,
    pub requester_id: String,
    pub name: String,
    pub aliases: Vec<String>,
}

impl RequesterSummary {
    pub fn new(row: RequesterRow, aliases: &[AliasRow]) -> Self {
        RequesterSummary {
            aliases: aliases
                .iter()
                .filter(|a| a.requester_pk == row.id)
                .map(|a| a.name.clone())
                .collect(),
            platform: row.platform,
            requester_id: row.requester_id,
            name: row.name,
        }
    }
}

/// A review. Removed reviews show only their removal reason to non-moderators; drafts only to their author.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub requester: RequesterRef,
    /// Author's username; absent for imported history, deleted accounts and other instances' reviews.
    pub author: Option<String>,
    /// The home instance of a review from another instance; absent for this instance's own.
    pub origin: Option<String>,
    /// The ActivityPub id of a copy of another instance's content: its original.
    pub original_url: Option<String>,
    /// The actor URL of the author of another instance's content.
    pub remote_author: Option<String>,
    /// `draft`, `published`, `deleted` or `removed`.
    pub state: String,
    /// The review's fields; absent when deleted, or removed and seen by a non-moderator.
    #[serde(flatten)]
    pub content: Option<ValidReview>,
    /// (reward + bonus) per hour, in minor units of `currency`.
    pub hourly_minor: Option<i64>,
    pub removed_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    /// Published comments, answers included; given where reviews are read (a review, a
    /// requester's reviews), not in a worker's own lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<i64>,
}

impl ReviewView {
    /// `show_content` is false for removed reviews seen by non-moderators.
    pub fn new(
        row: ReviewRow,
        requester: &RequesterRow,
        author: Option<String>,
        show_content: bool,
    ) -> Result<Self, DbError> {
        let state = row.state()?;
        let visible = show_content && state != ReviewState::Deleted;
        let content = if visible { Some(row.content()?) } else { None };
        let hourly_minor = content.as_ref().map(|c| {
            let pay = i128::from(c.reward_minor) + i128::from(c.bonus_minor.unwrap_or(0));
            i64::try_from(pay * 3600 / i128::from(c.time_spent_seconds.max(1))).unwrap_or(i64::MAX)
        });
        Ok(ReviewView {
            original_url: row.ap_id,
            remote_author: row.remote_author,
            id: row.public_id,
            requester: requester.into(),
            author,
            origin: row.origin,
            state: row.state,
            content,
            hourly_minor,
            removed_reason: row.removed_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
            published_at: row.published_at,
            comments: None,
        })
    }

    /// The review with its count of comments.
    pub fn with_comments(self, comments: i64) -> Self {
        ReviewView {
            comments: Some(comments),
            ..self
        }
    }
}

/// One earlier version of a review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewVersion {
    pub replaced_at: NaiveDateTime,
    #[serde(flatten)]
    pub content: ValidReview,
}

/// An incident report.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub kind: IncidentKind,
    pub platform: String,
    pub requester: Option<RequesterRef>,
    /// Author's username; absent for deleted accounts and other instances' reports.
    pub author: Option<String>,
    /// The home instance of a report from another instance; absent for this instance's own.
    pub origin: Option<String>,
    /// The ActivityPub id of a copy of another instance's content: its original.
    pub original_url: Option<String>,
    /// The actor URL of the author of another instance's content.
    pub remote_author: Option<String>,
    pub state: String,
    pub batch_id: Option<String>,
    pub happened_from: NaiveDate,
    pub happened_to: Option<NaiveDate>,
    pub tasks_affected: Option<i64>,
    pub amount_lost_minor: Option<i64>,
    pub currency: String,
    pub message_received: Option<String>,
    pub description: String,
    pub evidence_digests: Vec<String>,
    /// Whether earnings were locked in the account, and how much (minor units), when known.
    pub earnings_locked: Option<bool>,
    pub earnings_locked_minor: Option<i64>,
    /// The day the account was reinstated, if it was.
    pub reinstated_on: Option<NaiveDate>,
    /// What the platform (or the requester) answered.
    pub platform_answer: Option<String>,
    /// For MTurk rejections: the last day the requester can still reverse them.
    pub reversal_deadline: Option<NaiveDate>,
    pub status: IncidentStatus,
    pub status_history: Vec<StatusChangeView>,
    pub corroborations: i64,
    /// Published comments, answers included.
    pub comments: i64,
    pub removed_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChangeView {
    pub status: String,
    pub note: Option<String>,
    pub changed_at: NaiveDateTime,
}

impl From<StatusChangeRow> for StatusChangeView {
    fn from(row: StatusChangeRow) -> Self {
        StatusChangeView {
            status: row.status,
            note: row.note,
            changed_at: row.changed_at,
        }
    }
}

impl IncidentView {
    pub fn new(
        row: IncidentRow,
        requester: Option<&RequesterRow>,
        author: Option<String>,
        history: Vec<StatusChangeRow>,
        (corroborations, comments): (i64, i64),
    ) -> Result<Self, DbError> {
        let kind: IncidentKind = row.kind.parse().map_err(DbError::Corrupt)?;
        let platform: Platform = row.platform.parse().map_err(DbError::Corrupt)?;
        Ok(IncidentView {
            evidence_digests: row.evidence(),
            earnings_locked: row.earnings_locked,
            earnings_locked_minor: row.earnings_locked_minor,
            reinstated_on: row.reinstated_on,
            platform_answer: row.platform_answer.clone(),
            original_url: row.ap_id,
            remote_author: row.remote_author,
            id: row.public_id,
            reversal_deadline: reversal_deadline(kind, platform, row.happened_from),
            kind,
            platform: row.platform,
            requester: requester.map(RequesterRef::from),
            author,
            origin: row.origin,
            state: row.state,
            batch_id: row.batch_id,
            happened_from: row.happened_from,
            happened_to: row.happened_to,
            tasks_affected: row.tasks_affected,
            amount_lost_minor: row.amount_lost_minor,
            currency: row.currency,
            message_received: row.message_received,
            description: row.description,
            status: row.status.parse().map_err(DbError::Corrupt)?,
            status_history: history.into_iter().map(Into::into).collect(),
            corroborations,
            comments,
            removed_reason: row.removed_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// "This happened to me too."
#[derive(Debug, Serialize, ToSchema)]
pub struct CorroborationView {
    pub id: String,
    pub author: Option<String>,
    /// The home instance of a corroboration from another instance.
    pub origin: Option<String>,
    /// The ActivityPub id of a copy of another instance's content: its original.
    pub original_url: Option<String>,
    /// The actor URL of the author of another instance's content.
    pub remote_author: Option<String>,
    pub tasks_affected: Option<i64>,
    pub amount_lost_minor: Option<i64>,
    pub note: String,
    pub created_at: NaiveDateTime,
}

impl CorroborationView {
    pub fn new(row: CorroborationRow, author: Option<String>) -> Self {
        CorroborationView {
            original_url: row.ap_id,
            remote_author: row.remote_author,
            id: row.public_id,
            author,
            origin: row.origin,
            tasks_affected: row.tasks_affected,
            amount_lost_minor: row.amount_lost_minor,
            note: row.note,
            created_at: row.created_at,
        }
    }
}

/// A comment on a review or incident, with the answers to it when it starts a thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub id: String,
    /// The local author's username; absent for deleted accounts and other servers' comments.
    pub author: Option<String>,
    /// The home instance of another server's comment.
    pub origin: Option<String>,
    /// The ActivityPub id of a copy of another server's comment: its original.
    pub original_url: Option<String>,
    /// The actor URL of the author of another server's comment.
    pub remote_author: Option<String>,
    /// Written by an account this instance's admins found to speak for the requester.
    pub as_requester: bool,
    /// `published`, `removed` or `deleted`.
    pub state: String,
    /// The text; absent when deleted, or removed and seen by a non-moderator.
    pub body: Option<String>,
    pub removed_reason: Option<String>,
    /// The comment this one answers; absent for the start of a thread.
    pub reply_to: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Answers, oldest first (only on the start of a thread).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub replies: Vec<CommentView>,
}

impl CommentView {
    /// `show_removed` is true for moderators, who read what they removed.
    pub fn new(
        (row, author): picket_db::comments::CommentWithAuthor,
        reply_to: Option<String>,
        show_removed: bool,
    ) -> Self {
        let shown = row.state == "published" || (row.state == "removed" && show_removed);
        CommentView {
            id: row.public_id,
            author,
            origin: row.origin,
            original_url: row.ap_id,
            remote_author: row.remote_author,
            as_requester: row.as_requester,
            body: shown.then_some(row.body),
            removed_reason: row.removed_reason,
            state: row.state,
            reply_to,
            created_at: row.created_at,
            updated_at: row.updated_at,
            replies: Vec::new(),
        }
    }

    /// Comments as stored (oldest first) as threads: each answer under the comment it answers.
    pub fn threads(
        rows: Vec<picket_db::comments::CommentWithAuthor>,
        show_removed: bool,
    ) -> Vec<CommentView> {
        let ids: std::collections::HashMap<i64, String> = rows
            .iter()
            .map(|(row, ..)| (row.id, row.public_id.clone()))
            .collect();
        let mut threads: Vec<CommentView> = Vec::new();
        let mut position: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for entry in rows {
            let (pk, root) = (entry.0.id, entry.0.reply_to_pk);
            let answered = root.and_then(|root| ids.get(&root).cloned());
            let view = CommentView::new(entry, answered, show_removed);
            match root.and_then(|root| position.get(&root)) {
                Some(&at) => threads[at].replies.push(view),
                // An answer whose thread start is hidden (a blocked origin) stands on its own.
                None => {
                    position.insert(pk, threads.len());
                    threads.push(view);
                }
            }
        }
        // A deleted or removed start with no answers left says nothing worth a place.
        threads.retain(|t| t.body.is_some() || !t.replies.is_empty() || t.state == "removed");
        threads
    }
}

/// A review's or incident's comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentThreads {
    /// Published comments, answers included.
    pub count: i64,
    pub threads: Vec<CommentView>,
}
