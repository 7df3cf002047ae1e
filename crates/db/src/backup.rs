//! A consistent copy of a SQLite database taken while the server writes to it (`VACUUM INTO`
//! reads in one transaction), and the check that a file is a Picket database.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::{DbConn, DbError};

/// Writes a consistent copy of the SQLite database `conn` is on to `into`, which must not exist
/// or be empty (SQLite's rule for `VACUUM INTO`).
pub fn sqlite_snapshot(conn: &mut DbConn, into: &str) -> Result<(), DbError> {
    match conn {
        DbConn::Sqlite(conn) => {
            diesel::sql_query("VACUUM INTO ?")
                .bind::<Text, _>(into)
                .execute(conn)?;
            Ok(())
        }
        DbConn::Pg(_) => Err(DbError::WrongState(
            "a PostgreSQL database is backed up with pg_dump",
        )),
    }
}

/// How many accounts and actor keys the database holds: a restored copy that has none of either
/// was never served.
pub fn contents(conn: &mut DbConn) -> Result<(i64, i64), DbError> {
    use crate::schema::{actor_keys, users};
    use diesel::QueryDsl;
    let accounts = users::table.count().get_result(conn)?;
    let keys = actor_keys::table.count().get_result(conn)?;
    Ok((accounts, keys))
}

/// Whether a PostgreSQL database holds Picket's tables (perhaps from a move that failed after
/// creating them, which left them empty).
pub fn pg_has_picket_schema(conn: &mut DbConn) -> Result<bool, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    match conn {
        DbConn::Pg(conn) => Ok(diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() \
               AND table_name = '__diesel_schema_migrations') AS found",
        )
        .get_result::<Found>(conn)?
        .found),
        DbConn::Sqlite(_) => Err(DbError::WrongState("not a PostgreSQL database")),
    }
}

/// Whether a PostgreSQL database has no tables yet: what a restore may go into.
pub fn pg_is_empty(conn: &mut DbConn) -> Result<bool, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        tables: i64,
    }
    match conn {
        DbConn::Pg(conn) => {
            let found: Count = diesel::sql_query(
                "SELECT count(*) AS tables FROM information_schema.tables \
                 WHERE table_schema = current_schema()",
            )
            .get_result(conn)?;
            Ok(found.tables == 0)
        }
        DbConn::Sqlite(_) => Err(DbError::WrongState("not a PostgreSQL database")),
    }
}
