//! What every kind of content row shares, as moderation sees it: found by kind and id, removed
//! or restored (federated once, here, for all kinds), hidden while its author is suspended.

use chrono::NaiveDateTime;
use picket_core::moderation::TargetType;

use crate::comments::CommentRow;
use crate::events::{self, EventKind, ObjectType};
use crate::facts::FactRow;
use crate::incidents::{CorroborationRow, IncidentRow};
use crate::reviews::ReviewRow;
use crate::{DbConn, DbError};

/// A review, incident, corroboration, comment or fact row.
pub trait Content: Send + Sync {
    fn object_type(&self) -> ObjectType;
    fn public_id(&self) -> &str;
    /// The local author, for content written here.
    fn author_id(&self) -> Option<i64>;
    /// For a copy of another instance's content: its ActivityPub id.
    fn ap_id(&self) -> Option<&str>;
    /// For a copy: its author's actor.
    fn remote_author(&self) -> Option<&str>;
    fn state(&self) -> &str;
    fn removed_reason(&self) -> Option<&str>;

    fn is_published(&self) -> bool {
        self.state() == "published"
    }

    /// Removed (`reason`) or restored (`None`) without federating it: for what a suspension
    /// hides here (other instances learn of the suspension itself), for removals other
    /// instances sent, and under `set_removed`.
    fn mark_removed(
        &self,
        conn: &mut DbConn,
        reason: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<(), DbError>;
}

/// A moderator here removes (`reason`) or restores (`None`) content; a local account's change
/// federates.
pub fn set_removed(
    conn: &mut DbConn,
    row: &dyn Content,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    row.mark_removed(conn, reason, at)?;
    if row.author_id().is_some() && row.ap_id().is_none() {
        let kind = if reason.is_some() {
            EventKind::Remove
        } else {
            EventKind::Restore
        };
        events::record(conn, row.object_type(), kind, row.public_id(), at)?;
    }
    Ok(())
}

/// The content `target` names: a public id here, or (with `://`) a copy's ActivityPub id.
/// `NotFound` when there is none; accounts are no content.
pub fn find(
    conn: &mut DbConn,
    target_type: TargetType,
    target: &str,
) -> Result<Box<dyn Content>, DbError> {
    fn boxed<T: Content + 'static>(
        found: Result<Option<T>, DbError>,
    ) -> Result<Box<dyn Content>, DbError> {
        Ok(Box::new(found?.ok_or(DbError::NotFound)?))
    }
    fn local<T>(found: Result<T, DbError>) -> Result<Option<T>, DbError> {
        found.map(Some)
    }
    let by_ap_id = target.contains("://");
    match (target_type, by_ap_id) {
        (TargetType::Review, true) => boxed(crate::reviews::by_ap_id(conn, target)),
        (TargetType::Review, false) => boxed(local(crate::reviews::by_public_id(conn, target))),
        (TargetType::Incident, true) => boxed(crate::incidents::by_ap_id(conn, target)),
        (TargetType::Incident, false) => boxed(local(crate::incidents::by_public_id(conn, target))),
        (TargetType::Corroboration, true) => {
            boxed(crate::incidents::corroboration_by_ap_id(conn, target))
        }
        (TargetType::Corroboration, false) => boxed(local(
            crate::incidents::corroboration_by_public_id(conn, target),
        )),
        (TargetType::Comment, true) => boxed(crate::comments::by_ap_id(conn, target)),
        (TargetType::Comment, false) => boxed(local(crate::comments::by_public_id(conn, target))),
        (TargetType::Fact, true) => boxed(crate::facts::by_ap_id(conn, target)),
        (TargetType::Fact, false) => boxed(local(crate::facts::by_public_id(conn, target))),
        (TargetType::Account, _) => Err(DbError::NotFound),
    }
}

/// Everything a local account wrote that a suspension hides: reviews, incidents, comments and
/// facts. (A corroboration cannot be hidden and brought back, only erased, so it stays.)
pub fn by_local_author(conn: &mut DbConn, user_id: i64) -> Result<Vec<Box<dyn Content>>, DbError> {
    fn boxed<T: Content + 'static>(rows: Vec<T>) -> impl Iterator<Item = Box<dyn Content>> {
        rows.into_iter()
            .map(|row| Box::new(row) as Box<dyn Content>)
    }
    let mut found: Vec<Box<dyn Content>> = Vec::new();
    found.extend(boxed(crate::reviews::by_author(conn, user_id)?));
    found.extend(boxed(crate::incidents::list_by_author(conn, user_id)?));
    found.extend(boxed(crate::comments::by_author(conn, user_id)?));
    found.extend(boxed(crate::facts::by_author(conn, user_id)?));
    Ok(found)
}

/// The accessors every row has, with the same column names.
macro_rules! content_row {
    ($row:ty, $object_type:expr) => {
        fn object_type(&self) -> ObjectType {
            $object_type
        }
        fn public_id(&self) -> &str {
            &self.public_id
        }
        fn author_id(&self) -> Option<i64> {
            self.author_id
        }
        fn ap_id(&self) -> Option<&str> {
            self.ap_id.as_deref()
        }
        fn remote_author(&self) -> Option<&str> {
            self.remote_author.as_deref()
        }
        fn state(&self) -> &str {
            &self.state
        }
    };
}

impl Content for ReviewRow {
    content_row!(ReviewRow, ObjectType::Review);

    fn removed_reason(&self) -> Option<&str> {
        self.removed_reason.as_deref()
    }

    fn mark_removed(
        &self,
        conn: &mut DbConn,
        reason: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        crate::reviews::mark_removed(conn, self, reason, at).map(drop)
    }
}

impl Content for IncidentRow {
    content_row!(IncidentRow, ObjectType::Incident);

    fn removed_reason(&self) -> Option<&str> {
        self.removed_reason.as_deref()
    }

    fn mark_removed(
        &self,
        conn: &mut DbConn,
        reason: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        crate::incidents::mark_removed(conn, self, reason, at).map(drop)
    }
}

impl Content for CorroborationRow {
    content_row!(CorroborationRow, ObjectType::Corroboration);

    fn removed_reason(&self) -> Option<&str> {
        None
    }

    /// A corroboration is not hidden: its removal erases it (`incidents::remove_corroboration`,
    /// which federates as its deletion) and nothing brings it back.
    fn mark_removed(
        &self,
        _conn: &mut DbConn,
        _reason: Option<&str>,
        _at: NaiveDateTime,
    ) -> Result<(), DbError> {
        Err(DbError::WrongState(
            "a corroboration can be removed once; it cannot be restored",
        ))
    }
}

impl Content for CommentRow {
    content_row!(CommentRow, ObjectType::Comment);

    fn removed_reason(&self) -> Option<&str> {
        self.removed_reason.as_deref()
    }

    fn mark_removed(
        &self,
        conn: &mut DbConn,
        reason: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        crate::comments::mark_removed(conn, self, reason, at)
    }
}

impl Content for FactRow {
    content_row!(FactRow, ObjectType::Fact);

    fn removed_reason(&self) -> Option<&str> {
        self.removed_reason.as_deref()
    }

    fn mark_removed(
        &self,
        conn: &mut DbConn,
        reason: Option<&str>,
        _at: NaiveDateTime,
    ) -> Result<(), DbError> {
        crate::facts::mark_removed(conn, self, reason)
    }
}
