//! Storage errors, sorted by what a caller can do about them.

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; names what already exists.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A row the write depends on is unknown, expired or already used; the transaction was rolled back.
    #[error("{0} is unknown, expired or already used")]
    Unusable(&'static str),
    /// The row changed between the caller reading it and writing it (another edit, a deletion or a
    /// removal came first); nothing was written.
    #[error("this {0} changed meanwhile; reload it and try again")]
    Stale(&'static str),
    /// The row is in a state that does not allow the change; the message says why, as a sentence.
    #[error("{0}")]
    WrongState(&'static str),
    /// The database could not be reached or the pool is exhausted: the caller should answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database URL or path is unusable.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// A stored value could not be read back (a word column holds an unknown word, JSON that does not parse).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A migration failed to apply or revert.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Any other failure inside a query.
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => DbError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_owned())
            }
            // SQLite still busy after its busy timeout: load, not a bug, so the caller answers
            // 503 with Retry-After rather than 500. (`Db::tx` retries these first.)
            Error::DatabaseError(_, info) if is_busy_message(info.message()) => {
                DbError::Unavailable(info.message().to_owned())
            }
            other => DbError::Query(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        DbError::Unavailable(error.to_string())
    }
}

impl DbError {
    /// A transaction that lost to another and can simply be run again: SQLite's writer contention
    /// ("database is locked"), or PostgreSQL's deadlock and serialization failures (two
    /// deletions of one account's copies arriving together, say).
    pub(crate) fn is_busy(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Unavailable(message) => is_busy_message(message),
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
                true
            }
            DbError::Query(Error::DatabaseError(_, info)) => {
                is_busy_message(info.message()) || info.message().contains("deadlock detected")
            }
            _ => false,
        }
    }
}

/// SQLite's words for another connection holding the lock (SQLITE_BUSY, SQLITE_LOCKED).
fn is_busy_message(message: &str) -> bool {
    [
        "database is locked",
        "database is busy",
        "database table is locked",
    ]
    .iter()
    .any(|words| message.contains(words))
}

/// Maps "no row matched" of an update guarded by the row's last `updated_at` to `Stale(what)`.
pub(crate) fn stale_as(what: &'static str) -> impl Fn(diesel::result::Error) -> DbError {
    move |error| match error {
        diesel::result::Error::NotFound => DbError::Stale(what),
        other => other.into(),
    }
}

/// Maps a unique-constraint violation to `Conflict(what)`, leaving other errors as they are.
pub(crate) fn conflict_as(what: &'static str) -> impl Fn(diesel::result::Error) -> DbError {
    move |error| match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => DbError::Conflict(what),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn database_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn a_busy_sqlite_is_unavailable_not_a_query_failure() {
        for message in [
            "database is locked",
            "database is busy",
            "database table is locked",
        ] {
            let error = DbError::from(database_error(DatabaseErrorKind::Unknown, message));
            assert!(
                matches!(error, DbError::Unavailable(_)),
                "{message}: {error:?}"
            );
            assert!(error.is_busy(), "still retried by Db::tx: {message}");
        }
        let other = DbError::from(database_error(
            DatabaseErrorKind::Unknown,
            "no such table: x",
        ));
        assert!(matches!(other, DbError::Query(_)), "{other:?}");
        assert!(!other.is_busy());
        assert!(
            !DbError::Unavailable("timed out waiting for connection".into()).is_busy(),
            "an exhausted pool is not retried"
        );
    }
}
