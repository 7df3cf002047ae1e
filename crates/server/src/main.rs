//! The `picket` command: parses the command line, loads the configuration, and runs a subcommand; the only place errors become exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use picket_core::accounts::Role;
use picket_server::admin::ListKind;
use picket_server::config::{DEFAULT_CONFIG_PATH, LogFormat};
use picket_server::{Config, admin};

/// Picket: a federated, worker-run server for requester reviews and incident reports.
#[derive(Debug, Parser)]
#[command(name = "picket", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML). Default: $PICKET_CONFIG, else config/picket.toml if it exists, else built-in defaults.
    #[arg(long, global = true, value_name = "PATH", env = "PICKET_CONFIG")]
    config: Option<PathBuf>,

    /// Directory for the SQLite database, for every command [config: server.data_dir, env: PICKET_SERVER_DATA_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Public URL of this instance, for every command. Kept in the database the first time;
    /// commands given none use the kept one [config: server.public_url, env: PICKET_SERVER_PUBLIC_URL].
    #[arg(long, global = true, value_name = "URL")]
    public_url: Option<url::Url>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (creates the SQLite database on first start and applies migrations).
    Serve {
        /// Address and port to listen on [config: server.listen, env: PICKET_SERVER_LISTEN].
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        /// Revert the most recent migration instead (for rolling back an upgrade).
        #[arg(long)]
        revert_last: bool,
    },
    /// Write a consistent snapshot of the instance's database (keys included) to FILE, safe while
    /// the server runs (SQLite: VACUUM INTO; PostgreSQL: pg_dump, which must be installed).
    Backup {
        /// Where to write it; an existing file is never overwritten.
        file: PathBuf,
    },
    /// Restore a backup into an empty data directory (SQLite) or an empty database
    /// (DATABASE_URL), so the instance comes back with its keys and federates as before.
    Restore {
        /// A file written by `picket backup`.
        file: PathBuf,
    },
    /// Move a SQLite instance's whole database into an empty PostgreSQL database (stop the
    /// server first). Every table is copied and its rows counted on both sides; the SQLite file
    /// is left as it was. Then serve with DATABASE_URL set to the new database.
    MigrateDb {
        /// The PostgreSQL database to move into: postgres://user@host/dbname, new and empty.
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Check the instance: database and migrations, data directory permissions, the public URL
    /// as other instances reach it, keys, the clock and the delivery backlog. Exits non-zero
    /// when something is wrong; nothing is changed.
    Doctor,
    /// Administration tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an active account. The password is prompted for on a terminal, else read from standard input.
    CreateUser {
        /// Username: 3-32 letters, digits or underscores, starting with a letter.
        name: String,
        /// Role of the new account.
        #[arg(long, default_value = "worker", value_parser = parse_role)]
        role: Role,
        /// Optional e-mail address (never federated).
        #[arg(long)]
        email: Option<String>,
    },
    /// Create a single-use invite code and print it.
    Invite {
        /// Days until the code expires [default: accounts.invite_days].
        #[arg(long)]
        days: Option<u32>,
    },
    /// Follow another instance: its public reviews and incidents will be delivered here. The
    /// running server sends the request.
    Follow {
        /// The other instance's actor: a URL, or a handle such as `instance@picket.example.org`.
        target: String,
    },
    /// Stop following another instance.
    Unfollow {
        /// The other instance's actor: a URL, or a handle such as `instance@picket.example.org`.
        target: String,
    },
    /// Federation status: the delivery queue and its oldest activity, the instances this one
    /// follows (refused follows with the other side's answer), its followers, and every
    /// instance deliveries went to with whether it is reachable.
    #[command(visible_alias = "instances")]
    Federation,
    /// Accounts: list them, change a role, suspend, or make a password reset link.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Block a domain: nothing is delivered to it or accepted from it, and what it sent is hidden.
    Block {
        domain: String,
        /// Why (shown in the public moderation log).
        #[arg(long)]
        reason: String,
    },
    /// Lift a block; what the domain sent is shown again.
    Unblock {
        domain: String,
        #[arg(long)]
        reason: String,
    },
    /// Allow a domain (what `federation.mode = "allowlist"` federates with).
    Allow {
        domain: String,
        #[arg(long)]
        reason: String,
    },
    /// Take a domain off the allow list.
    Disallow {
        domain: String,
        #[arg(long)]
        reason: String,
    },
    /// Import or export domain lists in Mastodon's CSV format.
    #[command(subcommand)]
    Domains(DomainsCommand),
    /// Follow another collective's published block or allow list by URL; the running server
    /// fetches it and keeps it fresh.
    Subscribe {
        url: String,
        #[arg(long, value_enum)]
        kind: ListKind,
    },
    /// Stop following a list; the rules it brought go.
    Unsubscribe { url: String },
    /// Suspend a local account: its sessions end, and other instances hide its content.
    Suspend {
        username: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift a suspension.
    Unsuspend {
        username: String,
        #[arg(long)]
        reason: String,
    },
    /// Change the public URL kept in the database, for an instance that moved to a new domain.
    /// Other instances know it by its old URLs: follows from there must be made again.
    MoveDomain {
        /// The new public URL (https://… in production).
        new_url: url::Url,
    },
    /// End every session and API token of an account, or of all accounts when none is named
    /// (after a suspected leak): everyone affected must sign in again.
    RevokeSessions {
        /// The account; omit to revoke everyone's.
        username: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// List the accounts that have not been deleted: name, role, status, since when.
    List {
        /// Only accounts with this role (worker, moderator, admin).
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
    /// Give an account another role; its sessions end, so it applies from the next sign-in.
    SetRole {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Suspend an account: its sessions end, and other instances hide its content.
    Suspend {
        username: String,
        /// Why (shown in the public moderation log).
        #[arg(long)]
        reason: String,
    },
    /// Lift a suspension.
    Unsuspend {
        username: String,
        #[arg(long)]
        reason: String,
    },
    /// Print a one-time link that lets the account's owner set a new password (and signs the
    /// account out everywhere). Hand it over privately; an earlier unused link stops working.
    ResetPassword {
        username: String,
        /// Hours the link works.
        #[arg(long, default_value_t = admin::RESET_HOURS)]
        hours: u32,
    },
}

#[derive(Debug, Subcommand)]
enum DomainsCommand {
    /// Add the domains of a list (a file, or `-` for standard input) to this instance's own.
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "block")]
        kind: ListKind,
    },
    /// Print this instance's own list.
    Export {
        #[arg(long, value_enum, default_value = "block")]
        kind: ListKind,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    raw.parse()
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let path = cli.config.clone().or_else(|| {
        let default = PathBuf::from(DEFAULT_CONFIG_PATH);
        default.exists().then_some(default)
    });
    Ok(Config::load(path.as_deref(), std::env::vars())?)
}

fn init_tracing(config: &Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.filter).with_context(|| {
        format!(
            "config key `log.filter`: invalid filter `{}`",
            config.log.filter
        )
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        // One object per line, no colour codes: what log shippers parse.
        LogFormat::Json => builder.json().with_ansi(false).init(),
        LogFormat::Text => builder
            .with_ansi(colour(std::env::var_os("NO_COLOR").as_deref()))
            .init(),
    }
    Ok(())
}

/// Colours only on a terminal, and not when `NO_COLOR` is set to anything but empty
/// (<https://no-color.org>).
fn colour(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(std::ffi::OsStr::is_empty)
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Listen for signals before the server can answer anything: a SIGTERM that arrives while
    // it starts must stop it gracefully, not kill it.
    let stop = shutdown_signal()?;
    let running = picket_server::start(&config).await?;
    // Under systemd (Type=notify) the unit counts as started only now, with the database
    // migrated and the listener bound; elsewhere NOTIFY_SOCKET is unset and nothing is sent.
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    stop.await;
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    tracing::info!("shutting down");
    running.shutdown().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Registers for SIGINT (Ctrl-C) and SIGTERM at once; the future resolves on whichever comes first.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

/// Blocking threads at most: database work waits for one of the pool's few connections anyway,
/// and each thread that allocates keeps an allocator arena of its own, so hundreds of them
/// (tokio's default is 512) only grow the resident size.
const BLOCKING_THREADS: usize = 32;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .context("cannot start the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = load_config(&cli)?;
    // The same instance options for every command: what `serve` runs on, the admin commands
    // change.
    if let Some(dir) = cli.data_dir {
        config.server.data_dir = dir;
    }
    if let Some(url) = cli.public_url {
        config.server.public_url = Some(url);
    }
    init_tracing(&config)?;
    match cli.command {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                config.server.listen = listen;
            }
            runtime()?.block_on(serve(config))
        }
        Command::Backup { file } => {
            let written = picket_server::backup::backup(&config, &file)?;
            eprintln!(
                "wrote a snapshot of the database ({} bytes) to {}; keep it private, it holds every account and the instance's keys",
                written.bytes,
                written.file.display()
            );
            Ok(())
        }
        Command::Restore { file } => {
            let restored = picket_server::backup::restore(&config, &file)?;
            eprintln!(
                "restored {} accounts and {} actor keys from {}; start it with `picket serve` and the same options",
                restored.accounts,
                restored.keys,
                file.display()
            );
            Ok(())
        }
        Command::MigrateDb { to } => {
            let moved = picket_server::backup::move_to_postgres(&config, &to, &mut |table| {
                eprintln!("copied {}: {} rows", table.table, table.rows);
            })?;
            eprintln!(
                "moved {} tables, {} rows, into {}; row counts match on both sides. Now start \
                 the server with DATABASE_URL (or database.url) set to it; keep the SQLite file \
                 until you have checked the instance",
                moved.tables,
                moved.rows,
                picket_server::redact_url(&to)
            );
            Ok(())
        }
        Command::Doctor => {
            let findings = runtime()?.block_on(picket_server::doctor::run(&config));
            #[allow(clippy::print_stdout)]
            // the findings are the command's output
            for finding in &findings {
                println!("{}", finding.render());
            }
            let failed = findings
                .iter()
                .filter(|f| f.level == picket_server::doctor::Level::Fail)
                .count();
            if failed > 0 {
                anyhow::bail!("{failed} problem(s) found: see above");
            }
            Ok(())
        }
        Command::Admin(AdminCommand::MoveDomain { new_url }) => {
            let old = admin::move_domain(&config, &new_url)?;
            eprintln!(
                "this instance's public URL is now {new_url} (it was {old}). Other instances \
                 still know it by {old}: its followers there must follow it again at the new URL."
            );
            Ok(())
        }
        Command::Migrate { revert_last } => {
            let db = picket_server::open_database(&config)?;
            if revert_last {
                let version = db.with_conn(picket_db::migrations::revert_last)?;
                eprintln!("reverted migration {version}");
            } else {
                eprintln!("database is up to date");
            }
            Ok(())
        }
        Command::Admin(AdminCommand::CreateUser { name, role, email }) => {
            let password = admin::read_password(&name)?;
            let username = admin::create_user(&config, &name, role, email.as_deref(), &password)?;
            eprintln!("created {role} account `{username}`");
            Ok(())
        }
        Command::Admin(AdminCommand::Follow { target }) => {
            let actor = runtime()?.block_on(admin::follow(&config, &target))?;
            eprintln!("follow request for {actor} queued; the running server sends it");
            Ok(())
        }
        Command::Admin(AdminCommand::Unfollow { target }) => {
            runtime()?.block_on(admin::unfollow(&config, &target))?;
            eprintln!("unfollow of {target} queued; the running server sends it");
            Ok(())
        }
        Command::Admin(AdminCommand::Block { domain, reason }) => {
            admin::set_domain(&config, ListKind::Block, true, &domain, &reason)?;
            eprintln!("{domain} is blocked");
            Ok(())
        }
        Command::Admin(AdminCommand::Unblock { domain, reason }) => {
            admin::set_domain(&config, ListKind::Block, false, &domain, &reason)?;
            eprintln!("{domain} is no longer blocked");
            Ok(())
        }
        Command::Admin(AdminCommand::Allow { domain, reason }) => {
            admin::set_domain(&config, ListKind::Allow, true, &domain, &reason)?;
            eprintln!("{domain} is allowed");
            Ok(())
        }
        Command::Admin(AdminCommand::Disallow { domain, reason }) => {
            admin::set_domain(&config, ListKind::Allow, false, &domain, &reason)?;
            eprintln!("{domain} is no longer allowed");
            Ok(())
        }
        Command::Admin(AdminCommand::Domains(DomainsCommand::Import { file, kind })) => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let added = admin::import_domains(&config, kind, &text)?;
            eprintln!("imported; {added} domains were new");
            Ok(())
        }
        Command::Admin(AdminCommand::Domains(DomainsCommand::Export { kind })) => {
            let list = admin::export_domains(&config, kind)?;
            #[allow(clippy::print_stdout)]
            // the list is the command's output
            {
                print!("{list}");
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Subscribe { url, kind }) => {
            admin::subscription(&config, &url, kind, true)?;
            eprintln!("subscribed to {url}; the running server fetches it");
            Ok(())
        }
        Command::Admin(AdminCommand::Unsubscribe { url }) => {
            admin::subscription(&config, &url, ListKind::Block, false)?;
            eprintln!("unsubscribed from {url}");
            Ok(())
        }
        Command::Admin(AdminCommand::RevokeSessions { username }) => {
            let revoked = admin::revoke_sessions(&config, username.as_deref())?;
            let whose = username.unwrap_or_else(|| "all accounts".to_owned());
            eprintln!("revoked {revoked} sessions and API tokens of {whose}");
            Ok(())
        }
        Command::Admin(AdminCommand::Users(UsersCommand::List { role })) => {
            #[allow(clippy::print_stdout)]
            // the list is the command's output
            for line in admin::list_users(&config, role)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Users(UsersCommand::SetRole { username, role })) => {
            admin::set_role(&config, &username, role)?;
            eprintln!("{username} is now {role}; their sessions ended");
            Ok(())
        }
        Command::Admin(
            AdminCommand::Suspend { username, reason }
            | AdminCommand::Users(UsersCommand::Suspend { username, reason }),
        ) => {
            admin::set_suspended(&config, &username, true, &reason)?;
            eprintln!("{username} is suspended");
            Ok(())
        }
        Command::Admin(
            AdminCommand::Unsuspend { username, reason }
            | AdminCommand::Users(UsersCommand::Unsuspend { username, reason }),
        ) => {
            admin::set_suspended(&config, &username, false, &reason)?;
            eprintln!("{username} is no longer suspended");
            Ok(())
        }
        Command::Admin(AdminCommand::Users(UsersCommand::ResetPassword { username, hours })) => {
            let link =
                runtime()?.block_on(admin::reset_password_link(&config, &username, hours))?;
            #[allow(clippy::print_stdout)]
            // the link is the command's output, for the admin to pass on
            {
                println!("{link}");
            }
            eprintln!("give this link to {username} privately; it works once, for {hours} hours");
            Ok(())
        }
        Command::Admin(AdminCommand::Federation) => {
            #[allow(clippy::print_stdout)]
            // the list is the command's output
            for line in admin::instances(&config)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Invite { days }) => {
            let code = admin::create_invite(&config, days.unwrap_or(config.accounts.invite_days))?;
            #[allow(clippy::print_stdout)]
            // the code is the command's output, for scripts to capture
            {
                println!("{code}");
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    #[test]
    fn no_color_turns_colour_off_whatever_the_terminal() {
        assert!(!super::colour(Some(OsStr::new("1"))));
        assert!(!super::colour(Some(OsStr::new("yes"))));
    }
}
