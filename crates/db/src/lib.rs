//! Picket's storage layer: every SQL statement lives here, behind one API that works the same on SQLite and PostgreSQL.

/// Rows whose home instance is not hidden by a domain block: local content (no origin) or an
/// origin outside `hidden_origins`. Every public list and aggregate filters by it.
macro_rules! visible {
    ($origin:expr) => {
        $origin.is_null().or($origin.ne_all(
            crate::schema::hidden_origins::table
                .select(crate::schema::hidden_origins::origin.nullable()),
        ))
    };
}

/// Whether content from `$origin` counts in aggregates and waves: local content, and content
/// from the instances in `counted_origins` (followed or allowed), so that instances nobody here
/// chose to trust cannot move the figures however many of them there are.
macro_rules! counted {
    ($origin:expr) => {
        $origin.is_null().or($origin.eq_any(
            crate::schema::counted_origins::table
                .select(crate::schema::counted_origins::origin.nullable()),
        ))
    };
}

pub mod actors;
pub mod backup;
pub mod campaigns;
pub mod changes;
pub mod comments;
mod conn;
pub mod content;
pub mod delivery;
mod error;
pub mod events;
pub mod facts;
pub mod follows;
pub mod import;
pub mod incidents;
pub mod invites;
pub mod migrations;
pub mod models;
pub mod moderation;
pub mod policy;
pub mod requesters;
pub mod reviews;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod stats;
pub mod totp;
pub mod transfer;
pub mod users;

pub use conn::{Backend, Db, DbConn, PoolStats, savepoint, sqlite_path};
pub use error::DbError;
