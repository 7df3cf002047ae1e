//! Test helpers shared by Picket's tests: a fresh, isolated SQLite or PostgreSQL database per test, so tests run in parallel on both backends.

pub mod seed;

/// The `p` quantile (0 to 1) of samples sorted in ascending order, by nearest rank: what the
/// benchmarks print as p50 and p99.
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

use picket_db::{Db, DbConn};

/// Where the PostgreSQL tests go when `PICKET_TEST_DATABASE_URL` is not set: the server `tests/run.sh` finds or starts.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The two database engines every storage test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test: an SQLite file in a temporary directory, or a
/// freshly created PostgreSQL database that is dropped again when this value is dropped.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

fn postgres_admin_url() -> String {
    std::env::var("PICKET_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn admin_connection(admin_url: &str) -> DbConn {
    match Db::connect_direct(admin_url) {
        Ok(conn) => conn,
        // A PostgreSQL test must never pass or skip silently without PostgreSQL.
        Err(error) => panic!(
            "PostgreSQL tests need a server, but {admin_url} is unreachable: {error}. \
             Run the suite with tests/run.sh (it finds or starts PostgreSQL), or set \
             PICKET_TEST_DATABASE_URL to a server where this user may create databases."
        ),
    }
}

fn execute(conn: &mut DbConn, sql: &str) {
    use diesel::RunQueryDsl;
    if let Err(error) = diesel::sql_query(sql).execute(conn) {
        panic!("test database set-up failed on `{sql}`: {error}");
    }
}

impl TestDb {
    pub fn new(backend: TestBackend) -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        match backend {
            TestBackend::Sqlite => {
                let path = dir.path().join("picket.db");
                TestDb {
                    url: path.to_string_lossy().into_owned(),
                    dir,
                    postgres: None,
                }
            }
            TestBackend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("picket_test_{:016x}", rand::random::<u64>());
                execute(
                    &mut admin_connection(&admin_url),
                    &format!("CREATE DATABASE {name}"),
                );
                let mut url =
                    url::Url::parse(&admin_url).expect("PICKET_TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    dir,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// The URL to hand to `Db::open` or to `DATABASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A scratch directory that lives as long as the database (a data directory for a server under test).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Drops a PostgreSQL test database while servers still use it, to test how they cope with losing it.
    pub fn drop_now(&self) {
        let (admin_url, name) = self
            .postgres
            .as_ref()
            .expect("drop_now is for PostgreSQL databases");
        execute(
            &mut admin_connection(admin_url),
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
    }

    /// Every row of every table rendered as text, one per line: for asserting what is (not) stored.
    pub fn dump_rows(&self) -> String {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            row: String,
        }
        let mut conn = Db::connect_direct(&self.url).expect("connect to the test database");
        let tables = picket_db::migrations::schema_snapshot(&mut conn).expect("list tables");
        let mut dump = String::new();
        for (table, columns) in &tables {
            let row_expression = match self.postgres {
                Some(_) => "t::text".to_owned(),
                None => columns
                    .iter()
                    .filter(|c| !c.starts_with("index "))
                    .map(|c| format!("coalesce(t.\"{}\", '')", c.split(':').next().unwrap_or(c)))
                    .collect::<Vec<_>>()
                    .join(" || '|' || "),
            };
            let rows: Vec<Row> =
                diesel::sql_query(format!("SELECT {row_expression} AS row FROM {table} t"))
                    .load(&mut conn)
                    .expect("dump a table");
            for row in rows {
                dump.push_str(table);
                dump.push_str(": ");
                dump.push_str(&row.row);
                dump.push('\n');
            }
        }
        dump
    }

    /// Opens the database with migrations applied, as a server would.
    pub fn open(&self) -> Db {
        Db::open(&self.url, 4).expect("open the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut conn) = Db::connect_direct(admin_url)
        {
            execute(
                &mut conn,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// Declares one test per backend from a function taking a `TestBackend`:
/// `both_backends!(registers_accounts)` makes `registers_accounts::sqlite` and `registers_accounts::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::TestBackend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::TestBackend::Postgres).await
                }
            }
        )+
    };
}
