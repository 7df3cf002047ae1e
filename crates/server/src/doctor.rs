//! `picket doctor`: checks what a volunteer would otherwise find out from a peer's refusal or a
//! full disk (the database and its migrations, the data directory's permissions, the public URL
//! as others reach it, the keys, the clock, the delivery backlog), each problem with what to do.

use std::path::Path;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use picket_db::{Backend, Db};

use crate::{Config, redact_url};

/// How bad a finding is; only `Fail` makes the command exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's result: what was found and, for a problem, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub level: Level,
    pub detail: String,
    pub fix: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            level: Level::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn problem(
        check: &'static str,
        level: Level,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            level,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// The finding as `doctor` prints it: `ok`, `warn` or `FAIL`, then the fix indented below.
    pub fn render(&self) -> String {
        let mark = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        let mut line = format!("{mark}  {:<18} {}", self.check, self.detail);
        if let Some(fix) = &self.fix {
            line.push_str(&format!("\n      {:<18} → {fix}", ""));
        }
        line
    }
}

/// Clock differences beyond this make other servers refuse our signatures, or us theirs.
const CLOCK_FAIL: Duration = Duration::from_secs(300);
const CLOCK_WARN: Duration = Duration::from_secs(30);
/// An activity waiting longer than this means delivery is not keeping up (or not running).
const BACKLOG_FAIL: Duration = Duration::from_secs(3600);

/// Runs every check against the instance `config` describes. Nothing is written: no migration
/// is applied, no public URL kept, no key made.
pub async fn run(config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(db) = database(config, &mut findings).await else {
        return findings;
    };
    if db.backend() == Backend::Sqlite {
        findings.extend(permissions(config));
    }
    let Some(public_url) = public_url(config, &db, &mut findings).await else {
        return findings;
    };
    let served_date = reachable(&public_url, &mut findings).await;
    findings.push(keys(&db).await);
    findings.push(clock(&db, served_date).await);
    findings.extend(delivery(&db).await);
    if let Some(listen) = config.metrics.listen
        && !listen.ip().is_loopback()
    {
        findings.push(Finding::problem(
            "metrics",
            Level::Warn,
            format!("metrics listen on {listen}, not on loopback"),
            "make sure only your monitoring can reach it (a firewall), or set metrics.listen to 127.0.0.1:<port>",
        ));
    }
    findings
}

/// Opens the database without creating or migrating it, then checks its migrations.
async fn database(config: &Config, findings: &mut Vec<Finding>) -> Option<Db> {
    let url = config.database_url();
    let backend = Backend::of_url(&url);
    if backend == Backend::Sqlite {
        let file = Path::new(picket_db::sqlite_path(&url));
        if !file.exists() {
            findings.push(Finding::problem(
                "database",
                Level::Fail,
                format!("no SQLite database at {}", file.display()),
                "give the data directory the server uses (--data-dir or server.data_dir), or run `picket serve` once to create it",
            ));
            return None;
        }
    }
    let shown = redact_url(&url);
    let check_url = url.clone();
    let pending = tokio::task::spawn_blocking(move || {
        let mut conn = Db::connect_direct(&check_url)?;
        picket_db::migrations::pending(&mut conn)
    })
    .await;
    match pending {
        Ok(Ok(pending)) if pending.is_empty() => {
            findings.push(Finding::ok("database", format!("{shown} answers")));
            findings.push(Finding::ok("migrations", "all applied"));
        }
        Ok(Ok(pending)) => {
            findings.push(Finding::ok("database", format!("{shown} answers")));
            findings.push(Finding::problem(
                "migrations",
                Level::Fail,
                format!("{} not applied: {}", pending.len(), pending.join(", ")),
                "take a backup (`picket backup FILE`), then run `picket migrate` (or restart `picket serve`, which applies them)",
            ));
        }
        Ok(Err(error)) => {
            findings.push(Finding::problem(
                "database",
                Level::Fail,
                format!("cannot open {shown}: {error}"),
                "check database.url / DATABASE_URL, that the database server runs, and that this user may connect",
            ));
            return None;
        }
        Err(_) => {
            findings.push(Finding::problem(
                "database",
                Level::Fail,
                "the check stopped unexpectedly",
                "run again; if it persists, report it",
            ));
            return None;
        }
    }
    match Db::open_unmigrated(&url, 1) {
        Ok(db) => Some(db),
        Err(error) => {
            findings.push(Finding::problem(
                "database",
                Level::Fail,
                format!("cannot open {shown}: {error}"),
                "check database.url / DATABASE_URL",
            ));
            None
        }
    }
}

/// The data directory 0700 and the database files 0600: they hold every account's data.
fn permissions(config: &Config) -> Vec<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let dir = &config.server.data_dir;
    let url = config.database_url();
    let file = Path::new(picket_db::sqlite_path(&url));
    let mut loose = Vec::new();
    let mut fixes = Vec::new();
    if let Ok(meta) = std::fs::metadata(dir)
        && meta.permissions().mode() & 0o077 != 0
    {
        loose.push(format!(
            "{} is {:o}",
            dir.display(),
            meta.permissions().mode() & 0o777
        ));
        fixes.push(format!("chmod 700 {}", dir.display()));
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        let path = Path::new(&path);
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            loose.push(format!(
                "{} is {:o}",
                path.display(),
                meta.permissions().mode() & 0o777
            ));
            fixes.push(format!("chmod 600 {}", path.display()));
        }
    }
    if loose.is_empty() {
        vec![Finding::ok(
            "data directory",
            format!("{} readable by this user only", dir.display()),
        )]
    } else {
        vec![Finding::problem(
            "data directory",
            Level::Fail,
            format!("others may read it: {}", loose.join(", ")),
            fixes.join("; "),
        )]
    }
}

/// The public URL as `serve` would use it: the given one, else the kept one. A given one that
/// differs from the kept one is what `serve` would refuse.
async fn public_url(config: &Config, db: &Db, findings: &mut Vec<Finding>) -> Option<url::Url> {
    let kept = match db.run(picket_db::settings::public_url).await {
        Ok(kept) => kept.and_then(|kept| url::Url::parse(&kept).ok()),
        Err(error) => {
            findings.push(Finding::problem(
                "public URL",
                Level::Fail,
                format!("cannot read the kept public URL: {error}"),
                "run `picket migrate`, then again",
            ));
            return None;
        }
    };
    let url = match (config.server.public_url.clone(), kept) {
        (Some(given), Some(kept)) if given != kept => {
            findings.push(Finding::problem(
                "public URL",
                Level::Fail,
                format!("{given} is given, but the database was first served as {kept}"),
                format!(
                    "give --public-url {kept} (or none); if the instance moved, run `picket admin move-domain {given}`"
                ),
            ));
            return None;
        }
        (Some(url), _) | (None, Some(url)) => url,
        (None, None) => config.public_url(),
    };
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    findings.push(match (url.scheme(), local) {
        ("https", false) => Finding::ok("public URL", url.to_string()),
        ("https", true) | ("http", true) => Finding::problem(
            "public URL",
            Level::Warn,
            format!("{url} is on this machine only"),
            "fine for a trial; to federate, serve it behind a TLS proxy (deploy/) and give --public-url https://your.domain/",
        ),
        _ => Finding::problem(
            "public URL",
            Level::Fail,
            format!("{url} is not https: other instances will not federate with it"),
            "put a TLS proxy in front (deploy/nginx.conf or deploy/Caddyfile) and run `picket admin move-domain https://your.domain/`",
        ),
    });
    Some(url)
}

/// WebFinger and the instance actor, fetched through the public URL as a peer would. Returns
/// the `Date` the server answered with, for the clock check.
async fn reachable(public_url: &url::Url, findings: &mut Vec<Finding>) -> Option<NaiveDateTime> {
    picket_apub::install_tls();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(_) => {
            findings.push(Finding::problem(
                "reachable",
                Level::Fail,
                "cannot build an HTTP client",
                "check the machine's TLS set-up",
            ));
            return None;
        }
    };
    let host = match (public_url.host_str(), public_url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    };
    let mut webfinger = public_url.clone();
    webfinger.set_path("/.well-known/webfinger");
    webfinger.set_query(Some(&format!(
        "resource=acct:{}@{host}",
        picket_apub::INSTANCE_NAME
    )));
    let not_serving = "is `picket serve` running, and does the proxy pass every path (/.well-known/ included) to it?";
    let answer = match client.get(webfinger.clone()).send().await {
        Ok(answer) => answer,
        Err(error) => {
            let why = if error.is_timeout() {
                "timed out".to_owned()
            } else if error.is_connect() {
                "cannot connect".to_owned()
            } else {
                "the request failed".to_owned()
            };
            findings.push(Finding::problem(
                "reachable",
                Level::Fail,
                format!("{webfinger}: {why}"),
                not_serving,
            ));
            return None;
        }
    };
    let date = answer
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.naive_utc());
    if answer.status() != reqwest::StatusCode::OK {
        findings.push(Finding::problem(
            "reachable",
            Level::Fail,
            format!("WebFinger answered {}", answer.status()),
            not_serving,
        ));
        return date;
    }
    let mut actor = public_url.clone();
    actor.set_path("/actor");
    actor.set_query(None);
    let served = client
        .get(actor.clone())
        .header(reqwest::header::ACCEPT, "application/activity+json")
        .send()
        .await;
    match served {
        Ok(response)
            if response.status() == reqwest::StatusCode::OK
                && response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|t| t.to_str().ok())
                    .is_some_and(|t| t.starts_with("application/activity+json")) =>
        {
            findings.push(Finding::ok(
                "reachable",
                format!("WebFinger and {actor} answer"),
            ));
        }
        Ok(response) => findings.push(Finding::problem(
            "reachable",
            Level::Fail,
            format!(
                "{actor} answered {} without an ActivityPub actor",
                response.status()
            ),
            "the proxy must pass Accept headers and every path through to picket unchanged",
        )),
        Err(_) => findings.push(Finding::problem(
            "reachable",
            Level::Fail,
            format!("{actor} did not answer"),
            not_serving,
        )),
    }
    date
}

/// The instance actor's key pair, which signs everything sent: present and whole.
async fn keys(db: &Db) -> Finding {
    let path = picket_apub::LocalActor::Instance.path();
    match db
        .run(move |conn| picket_db::actors::key(conn, &path))
        .await
    {
        Ok(Some(keys)) if picket_apub::key_pair_usable(&keys) => {
            Finding::ok("keys", "the instance's signing key is whole")
        }
        Ok(Some(_)) => Finding::problem(
            "keys",
            Level::Fail,
            "the instance's signing key is damaged: its private and public halves do not match",
            "restore the database from a backup (`picket restore`); other instances know this instance by that key",
        ),
        Ok(None) => Finding::problem(
            "keys",
            Level::Fail,
            "the instance has no signing key yet",
            "start `picket serve` once: it makes the key on its first start",
        ),
        Err(error) => Finding::problem(
            "keys",
            Level::Fail,
            format!("cannot read the keys: {error}"),
            "check the database",
        ),
    }
}

/// This machine's clock against the clocks it can see: the database server's (PostgreSQL) and
/// the `Date` its public URL answered with (a proxy's, perhaps on another machine).
async fn clock(db: &Db, served: Option<NaiveDateTime>) -> Finding {
    let database = db
        .run(picket_db::migrations::server_clock)
        .await
        .ok()
        .flatten();
    let now = Utc::now().naive_utc();
    let worst = [database, served]
        .into_iter()
        .flatten()
        .map(|other| (now - other).num_seconds().unsigned_abs())
        .max();
    let fix = "turn on time synchronisation (`timedatectl set-ntp true`, or chrony) on every machine involved";
    match worst {
        None => Finding::ok("clock", "no other clock to compare with"),
        Some(off) if off > CLOCK_FAIL.as_secs() => Finding::problem(
            "clock",
            Level::Fail,
            format!("{off} s apart from the database or the proxy: signatures will be refused"),
            fix,
        ),
        Some(off) if off > CLOCK_WARN.as_secs() => Finding::problem(
            "clock",
            Level::Warn,
            format!("{off} s apart from the database or the proxy"),
            fix,
        ),
        Some(off) => Finding::ok("clock", format!("within {off} s of the other clocks")),
    }
}

/// Whether delivery keeps up: the age of the oldest waiting activity, and unreachable peers.
async fn delivery(db: &Db) -> Vec<Finding> {
    let backlog = db.run(picket_db::delivery::backlog).await;
    let peers = db.run(picket_db::delivery::peers).await;
    let mut findings = Vec::new();
    match backlog {
        Ok((0, _)) => findings.push(Finding::ok("delivery", "nothing waiting")),
        Ok((waiting, oldest)) => {
            let age = oldest.map_or(0, |at| {
                (Utc::now().naive_utc() - at)
                    .num_seconds()
                    .max(0)
                    .unsigned_abs()
            });
            if age > BACKLOG_FAIL.as_secs() {
                findings.push(Finding::problem(
                    "delivery",
                    Level::Fail,
                    format!("{waiting} waiting, the oldest for {} min", age / 60),
                    "check `picket serve` runs; `picket admin instances` shows which peers are unreachable (their deliveries wait for them)",
                ));
            } else {
                findings.push(Finding::ok(
                    "delivery",
                    format!("{waiting} waiting, the oldest for {age} s"),
                ));
            }
        }
        Err(error) => findings.push(Finding::problem(
            "delivery",
            Level::Fail,
            format!("cannot read the queue: {error}"),
            "check the database",
        )),
    }
    if let Ok(peers) = peers {
        let down: Vec<String> = peers
            .into_iter()
            .filter(|peer| peer.unreachable_since.is_some())
            .map(|peer| peer.host)
            .collect();
        if !down.is_empty() {
            findings.push(Finding::problem(
                "peers",
                Level::Warn,
                format!("unreachable: {}", down.join(", ")),
                "nothing to do if they are gone; their deliveries wait and they are probed (`picket admin instances`)",
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_prints_its_fix_below_it() {
        let finding = Finding::problem("clock", Level::Fail, "600 s apart", "use NTP");
        let text = finding.render();
        assert!(text.starts_with("FAIL  clock"), "{text}");
        assert!(text.contains("600 s apart\n"), "{text}");
        assert!(text.ends_with("→ use NTP"), "{text}");
        assert_eq!(
            Finding::ok("keys", "whole").render(),
            format!("ok    {:<18} whole", "keys")
        );
    }
}
