//! Moving a whole instance from SQLite to PostgreSQL (`picket migrate-db`): every table copied in
//! foreign-key order inside one transaction on each side, sequences set past the copied ids, and
//! row counts compared, so a collective outgrowing SQLite loses nothing, keys included.

use std::collections::{BTreeMap, BTreeSet};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName};

use crate::{DbConn, DbError};

/// Rows read from SQLite and written to PostgreSQL at a time: small enough to bound memory,
/// large enough that a million reviews take seconds, not minutes.
const BATCH: i64 = 1000;

/// One table as moved: its name and the rows now on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub table: String,
    pub rows: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Edge {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    r: i64,
    #[diesel(sql_type = Text)]
    j: String,
}

/// Identifiers come from the database's own catalog, never from a user, but are quoted anyway.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Copies everything in SQLite database `from` into PostgreSQL database `to`, which must be
/// migrated to the same schema and hold no rows. `progress` hears each table as it is done.
/// Both sides are read and written in one transaction each: a failure leaves `to` empty.
pub fn sqlite_to_postgres(
    from: &mut DbConn,
    to: &mut DbConn,
    progress: &mut dyn FnMut(&Moved),
) -> Result<Vec<Moved>, DbError> {
    let (DbConn::Sqlite(from), DbConn::Pg(to)) = (from, to) else {
        return Err(DbError::WrongState(
            "a move goes from a SQLite database to a PostgreSQL one",
        ));
    };
    let tables = ordered_tables(to)?;
    from.batch_execute("BEGIN")?;
    let moved = to.transaction(|to| {
        let mut moved = Vec::new();
        for table in &tables {
            let rows = copy_table(from, to, table)?;
            let done = Moved {
                table: table.clone(),
                rows,
            };
            progress(&done);
            moved.push(done);
        }
        set_sequences(to, &tables)?;
        Ok::<_, DbError>(moved)
    });
    from.batch_execute("COMMIT")?;
    moved
}

/// PostgreSQL's tables with every table after those it refers to.
fn ordered_tables(to: &mut PgConnection) -> Result<Vec<String>, DbError> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
           AND table_name <> '__diesel_schema_migrations' ORDER BY table_name",
    )
    .load(to)?;
    let edges: Vec<Edge> = diesel::sql_query(
        "SELECT c.relname::text AS child, p.relname::text AS parent FROM pg_constraint k \
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid \
         WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace",
    )
    .load(to)?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = names
        .into_iter()
        .map(|n| (n.name, BTreeSet::new()))
        .collect();
    for edge in edges {
        // A table referring to itself is copied in id order, parents first.
        if edge.child != edge.parent
            && let Some(set) = parents.get_mut(&edge.child)
        {
            set.insert(edge.parent);
        }
    }
    let mut ordered = Vec::new();
    while !parents.is_empty() {
        let ready: Vec<String> = parents
            .iter()
            .filter(|(_, needs)| needs.iter().all(|p| !parents.contains_key(p)))
            .map(|(table, _)| table.clone())
            .collect();
        if ready.is_empty() {
            return Err(DbError::WrongState(
                "the tables refer to each other in a cycle",
            ));
        }
        for table in ready {
            parents.remove(&table);
            ordered.push(table);
        }
    }
    Ok(ordered)
}

fn count_pg(to: &mut PgConnection, table: &str) -> Result<i64, DbError> {
    let found: Count =
        diesel::sql_query(format!("SELECT count(*) AS n FROM {}", quoted(table))).get_result(to)?;
    Ok(found.n)
}

/// Copies one table in batches, as JSON rows that PostgreSQL reads back into its own column
/// types; then checks both sides hold the same number of rows.
fn copy_table(
    from: &mut SqliteConnection,
    to: &mut PgConnection,
    table: &str,
) -> Result<i64, DbError> {
    if count_pg(to, table)? != 0 {
        return Err(DbError::WrongState(
            "the PostgreSQL database already holds rows: move into an empty database",
        ));
    }
    let columns: Vec<Name> = diesel::sql_query(
        "SELECT column_name::text AS name FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(to)?;
    let names: Vec<String> = columns.into_iter().map(|c| c.name).collect();
    let object = names
        .iter()
        .map(|c| format!("'{}', {}", c.replace('\'', "''"), quoted(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let read = format!(
        "SELECT rowid AS r, json_object({object}) AS j FROM {} WHERE rowid > ? ORDER BY rowid LIMIT ?",
        quoted(table)
    );
    let list = names
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let write = format!(
        "INSERT INTO {t} ({list}) SELECT {list} FROM json_populate_recordset(NULL::{t}, $1::json)",
        t = quoted(table)
    );
    let mut after = i64::MIN;
    let mut copied = 0;
    loop {
        let rows: Vec<Row> = diesel::sql_query(&read)
            .bind::<BigInt, _>(after)
            .bind::<BigInt, _>(BATCH)
            .load(from)?;
        let Some(last) = rows.last() else { break };
        after = last.r;
        let batch = format!(
            "[{}]",
            rows.iter()
                .map(|r| r.j.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        copied += i64::try_from(
            diesel::sql_query(&write)
                .bind::<Text, _>(batch)
                .execute(to)?,
        )
        .unwrap_or(i64::MAX);
    }
    let source: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {}", quoted(table)))
        .get_result(from)?;
    let target = count_pg(to, table)?;
    if source.n != copied || target != copied {
        return Err(DbError::WrongState(
            "a table's row counts differ after the copy; nothing was kept",
        ));
    }
    Ok(copied)
}

/// Sets every id sequence past the largest copied id, so the next row PostgreSQL makes does not
/// collide with a copied one.
fn set_sequences(to: &mut PgConnection, tables: &[String]) -> Result<(), DbError> {
    #[derive(QueryableByName)]
    struct Serial {
        #[diesel(sql_type = Text)]
        column: String,
        #[diesel(sql_type = Text)]
        sequence: String,
    }
    for table in tables {
        let serials: Vec<Serial> = diesel::sql_query(
            "SELECT column_name::text AS column, \
                    pg_get_serial_sequence(quote_ident(table_name), column_name)::text AS sequence \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
               AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL",
        )
        .bind::<Text, _>(table)
        .load(to)?;
        for serial in serials {
            diesel::sql_query(format!(
                "SELECT setval($1::regclass, COALESCE((SELECT max({c}) FROM {t}), 0) + 1, false)",
                c = quoted(&serial.column),
                t = quoted(table)
            ))
            .bind::<Text, _>(&serial.sequence)
            .execute(to)?;
        }
    }
    Ok(())
}
