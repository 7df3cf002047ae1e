//! Picket's integration tests: one binary that starts real servers (in-process or as the `picket` executable) on real SQLite and PostgreSQL databases.

mod accounts;
mod cli;
mod database;
mod errors;
mod privacy;
mod support;
