//! The instance's own words and choices, set by admins in the browser: name, description, rules, registration mode.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::instance_settings;
use crate::{DbConn, DbError};

pub const NAME: &str = "name";
pub const DESCRIPTION: &str = "description";
pub const RULES: &str = "rules";
pub const REGISTRATION: &str = "registration";
/// The public URL the instance was first served under: other instances know it by its URLs.
pub const PUBLIC_URL: &str = "public_url";
/// Changed by a process that wrote requesters' figures on SQLite without the server hearing
/// it (an admin command): the server then drops what it cached of them.
pub const REQUESTER_EPOCH: &str = "requester_epoch";

/// Leaves the mark `REQUESTER_EPOCH` for servers on the same SQLite file.
pub(crate) fn bump_requester_epoch(conn: &mut DbConn) -> Result<(), DbError> {
    let mark = format!(
        "{}-{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        std::process::id()
    );
    set(conn, REQUESTER_EPOCH, Some(&mark), crate::models::now())
}

/// The mark another process left, if any.
pub fn requester_epoch(conn: &mut DbConn) -> Result<Option<String>, DbError> {
    Ok(instance_settings::table
        .find(REQUESTER_EPOCH)
        .select(instance_settings::value)
        .first(conn)
        .optional()?)
}

/// What admins set; `None` where they set nothing (the config file's value, or none, applies).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    pub rules: Option<String>,
    pub registration: Option<String>,
}

pub fn get(conn: &mut DbConn) -> Result<InstanceSettings, DbError> {
    let rows: Vec<(String, String)> = instance_settings::table
        .select((instance_settings::key, instance_settings::value))
        .load(conn)?;
    let mut settings = InstanceSettings::default();
    for (key, value) in rows {
        let slot = match key.as_str() {
            NAME => &mut settings.name,
            DESCRIPTION => &mut settings.description,
            RULES => &mut settings.rules,
            REGISTRATION => &mut settings.registration,
            _ => continue,
        };
        *slot = Some(value);
    }
    Ok(settings)
}

/// Sets one setting, or clears it with `None`.
pub fn set(
    conn: &mut DbConn,
    key: &str,
    value: Option<&str>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(instance_settings::table.find(key)).execute(conn)?;
    if let Some(value) = value {
        diesel::insert_into(instance_settings::table)
            .values((
                instance_settings::key.eq(key),
                instance_settings::value.eq(value),
                instance_settings::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The public URL kept since the instance was first served under one, if it was.
pub fn public_url(conn: &mut DbConn) -> Result<Option<String>, DbError> {
    Ok(instance_settings::table
        .find(PUBLIC_URL)
        .select(instance_settings::value)
        .first(conn)
        .optional()?)
}
