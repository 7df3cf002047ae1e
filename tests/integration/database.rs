//! The storage layer's promises: both backends end with the same schema, every migration's `down` undoes its `up`, and a down PostgreSQL is reported.

use picket_db::{Db, migrations};
use picket_test_support::{TestBackend, TestDb, both_backends};

fn fresh_connection(db: &TestDb) -> picket_db::DbConn {
    Db::connect_direct(db.url()).expect("connect to the fresh database")
}

#[tokio::test]
async fn both_backends_end_with_the_same_tables_and_columns() {
    let sqlite = TestDb::new(TestBackend::Sqlite);
    let postgres = TestDb::new(TestBackend::Postgres);
    let snapshot = |db: &TestDb| {
        let mut conn = fresh_connection(db);
        migrations::run_pending(&mut conn).expect("migrate");
        migrations::schema_snapshot(&mut conn).expect("read schema")
    };
    let (sqlite_schema, postgres_schema) = (snapshot(&sqlite), snapshot(&postgres));
    assert!(sqlite_schema.contains_key("users"), "{sqlite_schema:?}");
    assert_eq!(sqlite_schema, postgres_schema);
}

async fn every_migration_down_undoes_its_up(backend: TestBackend) {
    let db = TestDb::new(backend);
    let mut conn = fresh_connection(&db);
    let mut steps = 0;
    loop {
        let before = migrations::schema_snapshot(&mut conn).expect("schema before");
        let Some(version) = migrations::run_next(&mut conn).expect("up") else {
            break;
        };
        let after = migrations::schema_snapshot(&mut conn).expect("schema after up");
        assert_ne!(before, after, "migration {version} changes the schema");
        assert_eq!(migrations::revert_last(&mut conn).expect("down"), version);
        assert_eq!(
            migrations::schema_snapshot(&mut conn).expect("schema after down"),
            before,
            "down of {version} restores the schema before its up"
        );
        migrations::run_next(&mut conn).expect("up again");
        steps += 1;
    }
    assert!(steps > 0, "there are migrations to check");
    assert_eq!(
        migrations::run_pending(&mut conn).expect("nothing pending"),
        0
    );
}

async fn opening_twice_applies_migrations_once(backend: TestBackend) {
    let db = TestDb::new(backend);
    let first = db.open();
    assert!(first.ping().await);
    let second = db.open();
    assert!(second.ping().await);
    let mut conn = fresh_connection(&db);
    assert_eq!(migrations::run_pending(&mut conn).expect("migrate"), 0);
}

both_backends!(
    every_migration_down_undoes_its_up,
    opening_twice_applies_migrations_once
);

#[test]
fn unreachable_postgres_is_reported_at_once_with_its_cause() {
    let started = std::time::Instant::now();
    let error =
        Db::open("postgres://postgres@127.0.0.1:1/none", 2).expect_err("port 1 has no server");
    let message = error.to_string();
    assert!(message.contains("database unavailable"), "{message}");
    assert!(message.contains("Connection refused"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "reported without waiting for a pool timeout"
    );
}
