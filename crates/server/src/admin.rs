//! What an admin does at a terminal: create accounts (the first admin above all) and invite codes, follow other instances, block and allow domains, subscribe to lists, suspend accounts.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use picket_apub::LocalActor;
use picket_core::accounts::{self, Role};
use picket_core::moderation::{ModAction, normalize_domain, validate_reason};
use picket_core::secrets::{hash_password, new_secret, secret_digest};
use picket_db::models::{NewUser, now};
use picket_db::moderation::{self, Acting};
use picket_db::policy::{self, RuleKind};
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

/// Federation status as `picket admin federation` prints it: the delivery queue and its oldest
/// activity, what the instance follows (refused follows with the peer's answer), how many
/// follow it, and one line per instance deliveries went to (whether it is reachable, failures
/// since its last success, when it last answered).
pub fn instances(config: &Config) -> anyhow::Result<Vec<String>> {
    let db = crate::open_database(config)?;
    let status = db
        .with_conn(|conn| picket_db::delivery::status(conn, picket_db::delivery::INSTANCE_ACTOR))?;
    let when = |at: Option<chrono::NaiveDateTime>| {
        at.map_or_else(|| "never".to_owned(), |at| format!("{at} UTC"))
    };
    let mut lines = Vec::new();
    lines.push(match status.oldest_queued_at {
        Some(at) => format!(
            "queue	{} deliveries waiting, the oldest written {}",
            status.queued,
            when(Some(at))
        ),
        None => "queue	nothing waiting".to_owned(),
    });
    lines.push(format!(
        "followers	{} instances follow this one",
        status.followers.len()
    ));
    for follow in &status.following {
        let state = match (follow.state.as_str(), &follow.refusal) {
            ("refused", Some(answer)) => format!("REFUSED: {answer}"),
            ("refused", None) => "REFUSED".to_owned(),
            ("pending", _) => "pending: no answer yet".to_owned(),
            (other, _) => other.to_owned(),
        };
        lines.push(format!("following	{}	{state}", follow.remote_actor));
    }
    for peer in status.peers {
        let state = match peer.unreachable_since {
            Some(since) => format!(
                "unreachable since {since} UTC, next probe {}",
                when(peer.next_probe_at)
            ),
            None => "reachable".to_owned(),
        };
        lines.push(format!(
            "peer\t{}\t{state}\t{} failures in a row\tlast answered {}",
            peer.host,
            peer.failures,
            when(peer.last_success_at)
        ));
    }
    Ok(lines)
}

/// Makes this instance follow another instance's actor (a URL, or a handle such as
/// `instance@picket.example.org`), as `picket admin follow` does: the `Follow` is queued and
/// sent by the running server's delivery worker.
pub async fn follow(config: &Config, target: &str) -> anyhow::Result<url::Url> {
    let db = open_database_async(config).await?;
    let public_url = crate::instance_url(config, &db, config.server.listen.port()).await?;
    let federation = crate::federation(config, db, public_url).await?;
    Ok(
        picket_apub::follow(&federation.to_request_data(), LocalActor::Instance, target)
            .await?
            .id,
    )
}

/// Stops following, as `picket admin unfollow` does: an `Undo(Follow)` is queued.
pub async fn unfollow(config: &Config, target: &str) -> anyhow::Result<()> {
    let db = open_database_async(config).await?;
    let public_url = crate::instance_url(config, &db, config.server.listen.port()).await?;
    let federation = crate::federation(config, db, public_url).await?;
    Ok(picket_apub::unfollow(&federation.to_request_data(), LocalActor::Instance, target).await?)
}

async fn open_database_async(config: &Config) -> anyhow::Result<picket_db::Db> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || crate::open_database(&config))
        .await
        .context("database start-up task failed")?
}

/// The log's view of an admin at the terminal.
const CLI: Acting<'static> = Acting {
    role: "admin",
    name: None,
};

/// Which list a domain command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListKind {
    Block,
    Allow,
}

impl From<ListKind> for RuleKind {
    fn from(kind: ListKind) -> RuleKind {
        match kind {
            ListKind::Block => RuleKind::Block,
            ListKind::Allow => RuleKind::Allow,
        }
    }
}

fn domain_arg(raw: &str) -> anyhow::Result<String> {
    normalize_domain(raw).with_context(|| format!("`{raw}` is not a domain"))
}

/// Blocks or allows a domain (`add`), or lifts that (`!add`), with the reason the public log
/// shows, as `picket admin block|unblock|allow|disallow` do.
pub fn set_domain(
    config: &Config,
    kind: ListKind,
    add: bool,
    domain: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let domain = domain_arg(domain)?;
    let reason = validate_reason(reason).map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = crate::open_database(config)?;
    let found = db.with_tx(|conn| {
        policy::change_rule(conn, CLI, kind.into(), add, &domain, &reason, now())
    })?;
    if !found {
        bail!(
            "{domain} is not on the {} list",
            RuleKind::from(kind).as_str()
        );
    }
    Ok(())
}

/// Adds a Mastodon-format domain list to the instance's own rules; returns how many domains
/// were new.
pub fn import_domains(config: &Config, kind: ListKind, text: &str) -> anyhow::Result<usize> {
    let entries = picket_core::domain_list::parse(text).context("cannot read the list")?;
    let rules = policy::rules_of(entries);
    let db = crate::open_database(config)?;
    let added = db.with_tx(|conn| {
        let at = now();
        let added = policy::merge_local(conn, kind.into(), &rules, at)?;
        let action = match kind {
            ListKind::Block => ModAction::BlockDomain,
            ListKind::Allow => ModAction::AllowDomain,
        };
        for rule in &rules {
            let reason = if rule.public_comment.is_empty() {
                "imported"
            } else {
                &rule.public_comment
            };
            moderation::log_action(conn, CLI, action, ("domain", &rule.domain), reason, at)?;
        }
        Ok::<_, DbError>(added)
    })?;
    Ok(added)
}

/// The instance's own rules of `kind` as a Mastodon-format list.
pub fn export_domains(config: &Config, kind: ListKind) -> anyhow::Result<String> {
    let db = crate::open_database(config)?;
    Ok(db.with_conn(|conn| policy::local_list(conn, kind.into()))?)
}

/// Subscribes to (or, `!add`, unsubscribes from) another collective's published list; the
/// running server fetches it and keeps it fresh.
pub fn subscription(config: &Config, url: &str, kind: ListKind, add: bool) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!(
            "a list is fetched over http or https, not {}",
            parsed.scheme()
        );
    }
    let url = parsed.to_string();
    let db = crate::open_database(config)?;
    let found =
        db.with_tx(|conn| policy::change_subscription(conn, CLI, &url, kind.into(), add, now()))?;
    if !found {
        bail!("not subscribed to {url}");
    }
    Ok(())
}

/// Suspends (or, `!suspend`, unsuspends) a local account, as the moderation API does.
pub fn set_suspended(
    config: &Config,
    username: &str,
    suspend: bool,
    reason: &str,
) -> anyhow::Result<()> {
    let reason = validate_reason(reason).map_err(|e| anyhow::anyhow!("{e}"))?;
    let username = username.to_ascii_lowercase();
    let db = crate::open_database(config)?;
    db.with_tx(|conn| moderation::set_suspended(conn, CLI, &username, suspend, &reason, now()))
        .map_err(|e| match e {
            DbError::NotFound => anyhow::anyhow!("no account named {username}"),
            other => other.into(),
        })
}

/// Ends every session and API token of `username`, or of every account when `None` (after a
/// suspected leak of the database or of credentials); returns how many were revoked.
pub fn revoke_sessions(config: &Config, username: Option<&str>) -> anyhow::Result<usize> {
    let db = crate::open_database(config)?;
    match username {
        None => Ok(db.with_tx(picket_db::sessions::revoke_everyone)?),
        Some(name) => {
            let name = name.to_ascii_lowercase();
            db.with_tx(|conn| {
                let user = users::by_username(conn, &name)?;
                picket_db::sessions::revoke_all(conn, user.id, None)
            })
            .map_err(|e| match e {
                DbError::NotFound => anyhow::anyhow!("no account named {name}"),
                other => other.into(),
            })
        }
    }
}

/// Changes the public URL kept in the database (`picket admin move-domain`); returns the old
/// one. Nothing is rewritten: what other instances hold keeps the old URLs.
pub fn move_domain(config: &Config, new_url: &url::Url) -> anyhow::Result<String> {
    if !matches!(new_url.scheme(), "http" | "https") || new_url.host_str().is_none() {
        anyhow::bail!(
            "the new public URL must be an http or https URL with a host, got `{new_url}`"
        );
    }
    let db = crate::open_database(config)?;
    let new = new_url.to_string();
    let old = db.with_conn(move |conn| {
        let old = picket_db::settings::public_url(conn)?;
        picket_db::settings::set(
            conn,
            picket_db::settings::PUBLIC_URL,
            Some(&new),
            picket_db::models::now(),
        )?;
        Ok(old)
    })?;
    Ok(old.unwrap_or_else(|| config.public_url().to_string()))
}

/// One line per account that has not been deleted (optionally only those with `role`), as
/// `picket admin users list` prints them: name, role, status, since when. E-mail addresses are
/// left out: the list is for finding an account, and they are private.
pub fn list_users(config: &Config, role: Option<Role>) -> anyhow::Result<Vec<String>> {
    let db = crate::open_database(config)?;
    let users = db.with_conn(|conn| users::list(conn, role.map(Role::as_str)))?;
    Ok(users
        .into_iter()
        .map(|user| {
            format!(
                "{}\t{}\t{}\tsince {}",
                user.username,
                user.role,
                user.status,
                user.created_at.format("%Y-%m-%d")
            )
        })
        .collect())
}

/// Gives an account another role (`picket admin users set-role`); its sessions end, so the new
/// role applies from its next sign-in.
pub fn set_role(config: &Config, username: &str, role: Role) -> anyhow::Result<()> {
    let username = username.to_ascii_lowercase();
    let db = crate::open_database(config)?;
    db.with_tx(|conn| {
        let user = users::by_username(conn, &username)?;
        users::set_role(conn, user.id, role)?;
        // A new role changes what the account may do: its sessions start again.
        picket_db::sessions::revoke_all(conn, user.id, None)?;
        Ok::<_, DbError>(())
    })
    .map_err(|e| match e {
        DbError::NotFound => anyhow::anyhow!("no account named {username}"),
        DbError::WrongState(why) => anyhow::anyhow!("cannot change {username}'s role: {why}"),
        other => other.into(),
    })
}

/// Hours a password reset link works.
pub const RESET_HOURS: u32 = 24;

/// Makes a one-time password reset link for an account (`picket admin users reset-password`),
/// to hand to its owner privately; using it sets a new password and signs the account out
/// everywhere. Only the digest of its secret is stored; an earlier unused link stops working.
pub async fn reset_password_link(
    config: &Config,
    username: &str,
    hours: u32,
) -> anyhow::Result<url::Url> {
    if hours == 0 || hours > 24 * 14 {
        bail!("a reset link lasts 1 to 336 hours, not {hours}");
    }
    let username = username.to_ascii_lowercase();
    let db = open_database_async(config).await?;
    let public_url = crate::instance_url(config, &db, config.server.listen.port()).await?;
    let secret = new_secret();
    let digest = secret_digest(&secret);
    let name = username.clone();
    db.tx(move |conn| {
        let user = users::by_username(conn, &name)?;
        if user.status() == accounts::AccountStatus::Deleted {
            return Err(DbError::WrongState("the account was deleted"));
        }
        let at = now();
        picket_db::sessions::create_reset(
            conn,
            user.id,
            &digest,
            at + chrono::Duration::hours(i64::from(hours)),
            at,
        )
    })
    .await
    .map_err(|e| match e {
        DbError::NotFound => anyhow::anyhow!("no account named {username}"),
        DbError::WrongState(why) => anyhow::anyhow!("cannot reset {username}'s password: {why}"),
        other => other.into(),
    })?;
    public_url
        .join(&format!("reset-password/{secret}"))
        .context("cannot build the reset link from the public URL")
}
