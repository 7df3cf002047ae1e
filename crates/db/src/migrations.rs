//! Embedded migrations, one tree per backend, so the single binary can create or upgrade either database.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{DbConn, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

fn failed(error: impl std::fmt::Display) -> DbError {
    DbError::Migration(error.to_string())
}

/// Applies every pending migration; returns how many ran.
pub fn run_pending(conn: &mut DbConn) -> Result<usize, DbError> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE).map_err(failed)?.len(),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES).map_err(failed)?.len(),
    };
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    Ok(applied)
}

/// The versions of the migrations not yet applied, without applying them.
pub fn pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    fn versions<B: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<B>,
        source: EmbeddedMigrations,
    ) -> Result<Vec<String>, DbError> {
        Ok(conn
            .pending_migrations(source)
            .map_err(failed)?
            .iter()
            .map(|migration| migration.name().version().to_string())
            .collect())
    }
    match conn {
        DbConn::Sqlite(c) => versions(c, SQLITE),
        DbConn::Pg(c) => versions(c, POSTGRES),
    }
}

/// The database server's clock in UTC, where it has its own (PostgreSQL); SQLite has none.
pub fn server_clock(conn: &mut DbConn) -> Result<Option<chrono::NaiveDateTime>, DbError> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        now: chrono::NaiveDateTime,
    }
    match conn {
        DbConn::Sqlite(_) => Ok(None),
        DbConn::Pg(c) => Ok(Some(
            diesel::sql_query("SELECT (now() AT TIME ZONE 'UTC') AS now")
                .get_result::<Now>(c)?
                .now,
        )),
    }
}

/// Applies the next pending migration, if any; returns its version.
pub fn run_next(conn: &mut DbConn) -> Result<Option<String>, DbError> {
    fn next<B: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<B>,
        source: EmbeddedMigrations,
    ) -> Result<Option<String>, DbError> {
        let pending = conn.pending_migrations(source).map_err(failed)?;
        match pending.first() {
            Some(migration) => Ok(Some(
                conn.run_migration(&**migration)
                    .map_err(failed)?
                    .to_string(),
            )),
            None => Ok(None),
        }
    }
    match conn {
        DbConn::Sqlite(c) => next(c, SQLITE),
        DbConn::Pg(c) => next(c, POSTGRES),
    }
}

/// Reverts the most recently applied migration; returns its version.
pub fn revert_last(conn: &mut DbConn) -> Result<String, DbError> {
    let version = match conn {
        DbConn::Sqlite(c) => c.revert_last_migration(SQLITE).map_err(failed)?,
        DbConn::Pg(c) => c.revert_last_migration(POSTGRES).map_err(failed)?,
    };
    Ok(version.to_string())
}

/// Table → sorted `column:nullability` list and the indexes created by name (`index <name>`), read
/// from the live database. Tests compare the two backends with it, and each migration's state
/// before `up` with its state after `down`.
pub fn schema_snapshot(
    conn: &mut DbConn,
) -> Result<std::collections::BTreeMap<String, Vec<String>>, DbError> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::Text;

    #[derive(diesel::QueryableByName)]
    struct ColumnRow {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        nullable: String,
    }

    let query = match conn {
        DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name,
                    CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END AS nullable
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
               AND m.name <> '__diesel_schema_migrations'
               AND m.name NOT LIKE 'requester_search%'
             UNION ALL
             SELECT tbl_name, 'index ' || name, 'NO' FROM sqlite_master
             WHERE type = 'index' AND sql IS NOT NULL"
        }
        DbConn::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name,
                    is_nullable::text AS nullable
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'
             UNION ALL
             SELECT tablename::text, 'index ' || indexname::text, 'NO' FROM pg_indexes
             WHERE schemaname = current_schema()
               AND indexname NOT IN (SELECT conname FROM pg_constraint)
               AND indexname NOT LIKE '%\\_trgm' ESCAPE '\\'"
        }
    };
    let rows: Vec<ColumnRow> = diesel::sql_query(query).load(conn)?;
    let mut tables = std::collections::BTreeMap::<String, Vec<String>>::new();
    for row in rows {
        tables
            .entry(row.table_name)
            .or_default()
            .push(format!("{}:{}", row.column_name, row.nullable));
    }
    for columns in tables.values_mut() {
        columns.sort();
    }
    Ok(tables)
}
