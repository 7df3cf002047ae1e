//! `picket backup` and `picket restore`: a consistent snapshot of a running instance (its keys
//! included, since they live in the database) and its return into an empty data directory or
//! database, so the restored instance federates as the old one.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use picket_db::Backend;

use crate::Config;

/// What `picket backup` wrote.
#[derive(Debug)]
pub struct Written {
    pub file: PathBuf,
    pub bytes: u64,
}

/// Writes a snapshot of the instance's database to `file` (SQLite: `VACUUM INTO`, safe while
/// the server runs; PostgreSQL: `pg_dump --format=custom`). Never overwrites a file.
pub fn backup(config: &Config, file: &Path) -> anyhow::Result<Written> {
    if file.exists() {
        bail!(
            "{} exists: a backup never overwrites a file; name a new one",
            file.display()
        );
    }
    let url = config.database_url();
    match Backend::of_url(&url) {
        Backend::Sqlite => {
            let database = Path::new(picket_db::sqlite_path(&url));
            if !database.exists() {
                bail!(
                    "there is no database at {} to back up (is --data-dir right?)",
                    database.display()
                );
            }
            let db = crate::open_database(config)?;
            // Made private first: SQLite would create it by the umask.
            private_file(file)?;
            let target = file.to_string_lossy().into_owned();
            if let Err(error) =
                db.with_conn(move |conn| picket_db::backup::sqlite_snapshot(conn, &target))
            {
                let _ = std::fs::remove_file(file);
                return Err(error).context("cannot write the snapshot");
            }
        }
        Backend::Postgres => {
            let pg_dump = tool("pg_dump")?;
            private_file(file)?;
            let status = std::process::Command::new(pg_dump)
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(file)
                .arg(&url)
                .status()
                .context("cannot run pg_dump")?;
            if !status.success() {
                let _ = std::fs::remove_file(file);
                bail!("pg_dump failed ({status}); its message is above");
            }
        }
    }
    let bytes = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    Ok(Written {
        file: file.to_owned(),
        bytes,
    })
}

/// What `picket restore` brought back.
#[derive(Debug)]
pub struct Restored {
    pub accounts: i64,
    pub keys: i64,
}

/// Restores a backup into an empty data directory (SQLite) or an empty database (PostgreSQL),
/// then applies the migrations a newer `picket` has.
pub fn restore(config: &Config, file: &Path) -> anyhow::Result<Restored> {
    let mut header = [0_u8; 16];
    std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .with_context(|| format!("cannot read {}", file.display()))?;
    let sqlite_file = &header == b"SQLite format 3\0";
    let url = config.database_url();
    match Backend::of_url(&url) {
        Backend::Sqlite => {
            if !sqlite_file {
                bail!(
                    "{} is not a SQLite backup (a PostgreSQL one is restored with DATABASE_URL set to an empty database)",
                    file.display()
                );
            }
            let dir = &config.server.data_dir;
            let occupied = std::fs::read_dir(dir)
                .map(|mut entries| entries.next().is_some())
                .unwrap_or(false);
            if occupied {
                bail!(
                    "refusing to restore into {}: it is not empty; restore into a new, empty data directory",
                    dir.display()
                );
            }
            let database = PathBuf::from(picket_db::sqlite_path(&url));
            if database.exists() {
                bail!("refusing to restore over {}", database.display());
            }
            crate::create_private_dir(dir)
                .with_context(|| format!("cannot create data directory {}", dir.display()))?;
            let mut source = std::fs::File::open(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let mut target = private_file(&database)?;
            std::io::copy(&mut source, &mut target)
                .and_then(|_| target.flush())
                .and_then(|()| target.sync_all())
                .with_context(|| format!("cannot write {}", database.display()))?;
        }
        Backend::Postgres => {
            if sqlite_file {
                bail!(
                    "{} is a SQLite backup: restore it into a data directory (unset DATABASE_URL)",
                    file.display()
                );
            }
            let mut conn = picket_db::Db::connect_direct(&url)
                .with_context(|| format!("cannot connect to {}", crate::redact_url(&url)))?;
            if !picket_db::backup::pg_is_empty(&mut conn)? {
                bail!(
                    "refusing to restore into {}: it already has tables; create an empty database for it",
                    crate::redact_url(&url)
                );
            }
            drop(conn);
            let status = std::process::Command::new(tool("pg_restore")?)
                .args(["--no-owner", "--exit-on-error", "--dbname"])
                .arg(&url)
                .arg(file)
                .status()
                .context("cannot run pg_restore")?;
            if !status.success() {
                bail!("pg_restore failed ({status}); its message is above");
            }
        }
    }
    let db = crate::open_database(config)?;
    let (accounts, keys) = db.with_conn(picket_db::backup::contents)?;
    Ok(Restored { accounts, keys })
}

/// Creates `path` readable by its owner only, failing if it exists.
fn private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// A PostgreSQL client tool on the `PATH`, or what to install.
fn tool(name: &str) -> anyhow::Result<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| {
            format!(
                "{name} is not installed: install PostgreSQL's client tools of your server's \
                 version (Debian: apt-get install postgresql-client), or run {name} yourself \
                 (docs/OPERATIONS.md, \"Backup and restore\")"
            )
        })
}

/// What `picket migrate-db` moved.
#[derive(Debug)]
pub struct MovedDatabase {
    pub tables: usize,
    pub rows: i64,
}

/// Moves the instance's SQLite database, whole, into the empty PostgreSQL database `to`
/// (migrated here first), with every id sequence set and each table's rows counted on both
/// sides. The SQLite file is left as it was. `progress` hears each table as it is copied.
pub fn move_to_postgres(
    config: &Config,
    to: &str,
    progress: &mut dyn FnMut(&picket_db::transfer::Moved),
) -> anyhow::Result<MovedDatabase> {
    let from = config.database_url();
    if Backend::of_url(&from) != Backend::Sqlite {
        bail!(
            "this instance already runs on PostgreSQL ({}); migrate-db moves a SQLite instance",
            crate::redact_url(&from)
        );
    }
    if Backend::of_url(to) != Backend::Postgres {
        bail!("--to must be a postgres:// URL");
    }
    let database = Path::new(picket_db::sqlite_path(&from));
    if !database.exists() {
        bail!(
            "there is no database at {} to move (is --data-dir right?)",
            database.display()
        );
    }
    let shown = crate::redact_url(to);
    let mut target =
        picket_db::Db::connect_direct(to).with_context(|| format!("cannot connect to {shown}"))?;
    let fresh = picket_db::backup::pg_is_empty(&mut target)
        .with_context(|| format!("cannot read {shown}"))?;
    if !fresh && !picket_db::backup::pg_has_picket_schema(&mut target)? {
        bail!(
            "{shown} already holds other tables; move into a new, empty database (createdb picket)"
        );
    }
    // Both brought to the same, latest schema before anything is copied.
    let source = crate::open_database(config)?;
    drop(
        picket_db::Db::open(to, 1)
            .with_context(|| format!("cannot create Picket's tables in {shown}"))?,
    );
    let mut target =
        picket_db::Db::connect_direct(to).with_context(|| format!("cannot connect to {shown}"))?;
    let moved = source
        .with_conn(|from| picket_db::transfer::sqlite_to_postgres(from, &mut target, progress))
        .with_context(|| format!("the move into {shown} failed, and nothing was kept there"))?;
    Ok(MovedDatabase {
        tables: moved.len(),
        rows: moved.iter().map(|m| m.rows).sum(),
    })
}
