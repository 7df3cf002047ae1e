//! Picket's storage layer: every SQL statement lives here, behind one API that works the same on SQLite and PostgreSQL.

mod conn;
mod error;
pub mod invites;
pub mod migrations;
pub mod models;
pub mod schema;
pub mod sessions;
pub mod users;

pub use conn::{Backend, Db, DbConn};
pub use error::DbError;
