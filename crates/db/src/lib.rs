//! Picket's storage layer: every SQL statement lives here, behind one API that works the same on SQLite and PostgreSQL.

pub mod actors;
mod conn;
pub mod delivery;
mod error;
pub mod events;
pub mod follows;
pub mod incidents;
pub mod invites;
pub mod migrations;
pub mod models;
pub mod requesters;
pub mod reviews;
pub mod schema;
pub mod sessions;
pub mod stats;
pub mod users;

pub use conn::{Backend, Db, DbConn, savepoint};
pub use error::DbError;
