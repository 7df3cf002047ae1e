//! Picket's integration tests: one binary that starts real servers (in-process or as the `picket` executable) on real SQLite and PostgreSQL databases.

mod accounts;
mod aggregates;
mod api_security;
mod browser;
mod campaigns;
mod cli;
mod comments;
mod compat;
mod database;
mod deploy;
mod drills;
mod errors;
mod export;
mod facts;
mod federated_incidents;
mod federation;
mod incidents;
mod moderation;
mod operations;
mod pages;
mod privacy;
mod reviews;
mod security;
mod support;
mod timeouts;
mod totp;
