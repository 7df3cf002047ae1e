//! What an admin does at a terminal: create accounts (the first admin above all) and invite codes, follow other instances.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use picket_apub::LocalActor;
use picket_core::accounts::{self, Role};
use picket_core::secrets::{hash_password, new_secret, secret_digest};
use picket_db::models::{NewUser, now};
use picket_db::{DbError, users};

use crate::Config;

/// Reads a password: prompted twice without echo on a terminal, else the first line of standard input (for scripts).
pub fn read_password(username: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {username}: "))?;
        let again = rpassword::prompt_password("Repeat the password: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

/// Creates an active account with `role`; returns its canonical username.
pub fn create_user(
    config: &Config,
    name: &str,
    role: Role,
    email: Option<&str>,
    password: &str,
) -> anyhow::Result<String> {
    let registration = accounts::validate_registration(name, password, email)
        .map_err(|errors| anyhow::anyhow!("cannot create the account: {errors}"))?;
    let hash = hash_password(password)?;
    let db = crate::open_database(config)?;
    let username = registration.username.as_str().to_owned();
    let at = now();
    let created = db.with_conn(|conn| {
        users::create(
            conn,
            &NewUser {
                username: &username,
                password_hash: Some(&hash),
                email: registration.email.as_deref(),
                role: role.as_str(),
                status: accounts::AccountStatus::Active.as_str(),
                created_at: at,
                updated_at: at,
            },
        )
    });
    match created {
        Ok(user) => Ok(user.username),
        Err(DbError::Conflict(_)) => bail!("the username `{username}` is taken"),
        Err(other) => Err(other.into()),
    }
}

/// Creates an invite code valid for `days` days and returns it; only its digest is stored.
pub fn create_invite(config: &Config, days: u32) -> anyhow::Result<String> {
    let db = crate::open_database(config)?;
    let code = new_secret();
    let digest = secret_digest(&code);
    let expires_at = now() + chrono::Duration::days(i64::from(days));
    db.with_conn(|conn| picket_db::invites::create(conn, &digest, None, expires_at))?;
    Ok(code)
}

/// One line per instance deliveries went to: whether it is reachable, failures since its last
/// success, and when it last answered, as `picket admin instances` prints them.
pub fn instances(config: &Config) -> anyhow::Result<Vec<String>> {
    let db = crate::open_database(config)?;
    let peers = db.with_conn(picket_db::delivery::peers)?;
    let when = |at: Option<chrono::NaiveDateTime>| {
        at.map_or_else(|| "never".to_owned(), |at| format!("{at} UTC"))
    };
    Ok(peers
        .into_iter()
        .map(|peer| {
            let state = match peer.unreachable_since {
                Some(since) => format!(
                    "unreachable since {since} UTC, next probe {}",
                    when(peer.next_probe_at)
                ),
                None => "reachable".to_owned(),
            };
            format!(
                "{}\t{state}\t{} failures in a row\tlast answered {}",
                peer.host,
                peer.failures,
                when(peer.last_success_at)
            )
        })
        .collect())
}

/// Makes this instance follow another instance's actor (a URL, or a handle such as
/// `instance@picket.example.org`), as `picket admin follow` does: the `Follow` is queued and
/// sent by the running server's delivery worker.
pub async fn follow(config: &Config, target: &str) -> anyhow::Result<url::Url> {
    let db = open_database_async(config).await?;
    let federation = crate::federation(config, db, config.public_url()).await?;
    Ok(
        picket_apub::follow(&federation.to_request_data(), LocalActor::Instance, target)
            .await?
            .id,
    )
}

/// Stops following, as `picket admin unfollow` does: an `Undo(Follow)` is queued.
pub async fn unfollow(config: &Config, target: &str) -> anyhow::Result<()> {
    let db = open_database_async(config).await?;
    let federation = crate::federation(config, db, config.public_url()).await?;
    Ok(picket_apub::unfollow(&federation.to_request_data(), LocalActor::Instance, target).await?)
}

async fn open_database_async(config: &Config) -> anyhow::Result<picket_db::Db> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || crate::open_database(&config))
        .await
        .context("database start-up task failed")?
}
