//! The instance's configuration: one typed struct, read from a TOML file with environment overrides, passed around as a value.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use picket_core::accounts::RegistrationMode;
use picket_core::moderation::FederationMode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

/// Where `picket` looks for its configuration when neither `--config` nor `PICKET_CONFIG` names a file.
pub const DEFAULT_CONFIG_PATH: &str = "config/picket.toml";

/// Every setting of an instance. Each section is a table in the TOML file; every key has a default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the instance listens, what it is called on the web, and how long requests may take.
    pub server: ServerConfig,
    /// Which database holds everything: SQLite in the data directory unless a PostgreSQL URL is given.
    pub database: DatabaseConfig,
    /// Who may register, and how long sessions and invites last.
    pub accounts: AccountsConfig,
    /// How incident reports group into waves.
    pub incidents: IncidentsConfig,
    /// Talking to other instances: delivery retries, unreachable peers, blocklist or allowlist.
    pub federation: FederationConfig,
    /// What the public moderation log shows.
    pub moderation: ModerationConfig,
    /// Rate limits that protect the instance and its workers.
    pub limits: LimitsConfig,
    /// What is logged and in which format (never client addresses: see docs/LOGGING.md).
    pub log: LogConfig,
    /// Prometheus metrics on a listener of their own (docs/OPERATIONS.md).
    pub metrics: MetricsConfig,
}

/// The configuration reference, `docs/CONFIGURATION.md`: every section and key with its type,
/// default, environment variable and meaning, generated from the doc comments and defaults of
/// these structs (a test keeps the file equal to it).
pub fn reference() -> String {
    use std::fmt::Write;
    let schema = serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default();
    let defaults = toml::Value::try_from(Config::default())
        .unwrap_or_else(|_| toml::Value::Table(toml::Table::new()));
    let mut out = String::from(
        "<!-- Generated from crates/server/src/config.rs by its test \
         `configuration_reference_is_current`; do not edit by hand: change the doc comments and \
         run `PICKET_UPDATE_DOCS=1 cargo test -p picket --lib configuration_reference`. -->\n\
         # Configuration reference\n\n\
         Picket reads one TOML file: `--config PATH`, else `$PICKET_CONFIG`, else \
         `config/picket.toml` when it exists, else nothing (every key has a default). Each key \
         can also be set in the environment as `PICKET_<SECTION>_<KEY>` (`DATABASE_URL` sets \
         `database.url`), which wins over the file; `--data-dir`, `--public-url` and \
         `serve --listen` win over both. An unknown key or a bad value stops every command with \
         a message naming it. `config/picket.toml` lists every key with its default.\n",
    );
    let empty = serde_json::Map::new();
    let sections = schema["properties"].as_object().unwrap_or(&empty);
    for (section, property) in sections {
        let _ = write!(out, "\n## `[{section}]`\n\n");
        if let Some(text) = property["description"].as_str() {
            let _ = writeln!(out, "{}\n", prose(text));
        }
        let definition = property["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .map_or(&serde_json::Value::Null, |name| &schema["$defs"][name]);
        let keys = definition["properties"].as_object().unwrap_or(&empty);
        for (key, about) in keys {
            let default = defaults
                .get(section)
                .and_then(|table| table.get(key))
                .map_or_else(|| "unset".to_owned(), |value| format!("`{value}`"));
            let mut variable = format!(
                "`PICKET_{}_{}`",
                section.to_ascii_uppercase(),
                key.to_ascii_uppercase()
            );
            if (section.as_str(), key.as_str()) == ("database", "url") {
                variable.push_str(" or `DATABASE_URL`");
            }
            let _ = writeln!(
                out,
                "- **`{key}`** ({}; default {default}; {variable}){}",
                kind(about, &schema),
                about["description"]
                    .as_str()
                    .map(|text| format!(": {}", prose(text)))
                    .unwrap_or_default(),
            );
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// A doc comment as one paragraph of Markdown.
fn prose(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A key's type in words, from its JSON schema.
fn kind(about: &serde_json::Value, schema: &serde_json::Value) -> String {
    let about = match about["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => &schema["$defs"][name],
        None => about,
    };
    if let Some(words) = about["enum"].as_array() {
        let words: Vec<String> = words
            .iter()
            .filter_map(|w| w.as_str().map(|w| format!("`\"{w}\"`")))
            .collect();
        return format!("one of {}", words.join(", "));
    }
    if let Some(words) = about["oneOf"].as_array() {
        let words: Vec<String> = words
            .iter()
            .filter_map(|w| w["const"].as_str().map(|w| format!("`\"{w}\"`")))
            .collect();
        return format!("one of {}", words.join(", "));
    }
    let types: Vec<&str> = match &about["type"] {
        serde_json::Value::String(t) => vec![t.as_str()],
        serde_json::Value::Array(list) => list.iter().filter_map(|t| t.as_str()).collect(),
        _ => Vec::new(),
    };
    let base = match (types.first().copied(), about["format"].as_str()) {
        (Some("boolean"), _) => "`true` or `false`",
        (Some("integer"), _) => "a whole number",
        (Some("string"), Some("uri")) => "a URL",
        (Some("string"), _) => "text",
        _ => "a value",
    };
    if types.contains(&"null") {
        format!("{base}, optional")
    } else {
        base.to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database and other state; created on first start.
    pub data_dir: PathBuf,
    /// The URL people and other instances reach this instance at (behind a proxy: the proxy's URL).
    /// Defaults to `http://localhost:<port>`.
    pub public_url: Option<Url>,
    /// Seconds a client may take to send a request's headers (from connecting, or from the end
    /// of its previous request); a client that stalls is disconnected.
    pub header_read_timeout_seconds: u32,
    /// Seconds from a request's headers to the response's, body included; then 408.
    pub request_timeout_seconds: u32,
    /// Requests handled at once; more get 503 with `Retry-After` instead of waiting in a queue.
    pub max_concurrent_requests: u32,
    /// Seconds in-flight requests may take to finish after SIGTERM before they are cut off; keep
    /// it below the service manager's stop timeout (systemd's is 30).
    pub shutdown_timeout_seconds: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            public_url: None,
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 30,
            max_concurrent_requests: 512,
            shutdown_timeout_seconds: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://…` for PostgreSQL; unset means SQLite at `<data_dir>/picket.db`.
    pub url: Option<String>,
    /// Connections kept in the pool.
    pub pool_size: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            pool_size: 8,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    /// Who may register: `open` (anyone), `approval` (anyone, a moderator approves) or `invite`
    /// (only with an invite code from a member, so requesters cannot easily join).
    #[schemars(with = "String")]
    pub registration: RegistrationMode,
    /// How long a browser session lasts, in days.
    pub session_days: u32,
    /// How long an invite code stays valid, in days.
    pub invite_days: u32,
    /// Login attempts (right or wrong) per account per minute before further attempts get 429.
    pub login_attempts_per_minute: u32,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            registration: RegistrationMode::Invite,
            session_days: 30,
            invite_days: 14,
            login_attempts_per_minute: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentsConfig {
    /// Incidents of one kind against one requester at most this many days apart form one wave.
    pub wave_window_days: u32,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        IncidentsConfig {
            wave_window_days: 14,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FederationConfig {
    /// Allow plain HTTP and loopback or private-network peers. For development and tests only:
    /// on a public instance it would let anyone make the server fetch from internal services.
    pub allow_loopback: bool,
    /// First retry of a failed delivery after this many seconds, doubling up to `retry_max_seconds`.
    pub retry_first_seconds: u32,
    /// The longest wait between two attempts of a failed delivery, in seconds; attempts go on
    /// for about three days.
    pub retry_max_seconds: u32,
    /// Failed attempts in a row, with no success between, after which an instance counts as
    /// unreachable: its deliveries then wait (without expiring) while it is probed.
    pub unreachable_after_failures: u32,
    /// How often an unreachable instance is probed with one of its deliveries.
    pub probe_interval_seconds: u32,
    /// `blocklist` (federate with everyone but blocked domains) or `allowlist` (only with
    /// allowed domains).
    #[schemars(with = "String")]
    pub mode: FederationMode,
    /// How often subscribed block and allow lists are fetched again.
    pub list_refresh_seconds: u32,
    /// Days the ids of received activities are kept, so each is applied once. A replay older
    /// than an hour is refused by its signature's date anyway.
    pub received_activity_days: u32,
    /// Seconds the work one incoming activity causes (fetching its actor, say) may take before
    /// the sender is told to try again later (503). Keep it below the ~10 s senders wait.
    pub inbox_deadline_seconds: u32,
    /// Days an instance may stay unreachable before the deliveries waiting for it are dropped
    /// (and logged), so a peer that is gone for good does not grow the queue for ever.
    pub drop_unreachable_after_days: u32,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            allow_loopback: false,
            retry_first_seconds: 60,
            retry_max_seconds: 6 * 3600,
            unreachable_after_failures: 10,
            probe_interval_seconds: 3600,
            mode: FederationMode::Blocklist,
            list_refresh_seconds: 3600,
            received_activity_days: 30,
            inbox_deadline_seconds: 9,
            drop_unreachable_after_days: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ModerationConfig {
    /// Name the moderator in the public moderation log (otherwise only the role is shown).
    pub show_moderator_names: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Reviews, incidents, corroborations and reports one account may post per minute.
    pub writes_per_minute: u32,
    /// Activities one remote instance may post to the inbox per minute.
    pub inbox_per_minute: u32,
    /// Registrations the whole instance accepts per minute.
    pub registrations_per_minute: u32,
    /// Password hashes computed at once (19 MiB each); 0 means one per CPU core.
    pub password_hashes: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            writes_per_minute: 30,
            inbox_per_minute: 600,
            registrations_per_minute: 10,
            password_hashes: 0,
        }
    }
}

impl LimitsConfig {
    /// `password_hashes`, with 0 read as the number of CPU cores.
    pub fn password_hash_concurrency(&self) -> usize {
        match self.password_hashes {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => usize::try_from(n).unwrap_or(usize::MAX),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `picket=debug,info`. The default keeps
    /// `activitypub_federation` at `warn`.
    pub filter: String,
    /// `text` (one readable line per event) or `json` (one JSON object per line, for log
    /// shippers). Colours appear only on a terminal, and never when `NO_COLOR` is set.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address and port of a separate listener serving Prometheus metrics at `/metrics`; unset
    /// (the default), there are none. Keep it on loopback or a private network: never the
    /// public address.
    pub listen: Option<SocketAddr>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            // The federation library logs every URL it fetches at info: other servers' URLs
            // and, through them, what workers follow. Keep it to warnings unless asked.
            filter: "info,activitypub_federation=warn".into(),
        }
    }
}

/// A configuration that cannot be used; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Read by `activitypub_federation` (whatever its value) to allow fetches from local addresses.
pub const DANGER_LOCAL_IP_VAR: &str = "DANGER_FEDERATION_ALLOW_LOCAL_IP";

/// Sections that environment variables `PICKET_<SECTION>_<KEY>` may set.
const SECTIONS: &[&str] = &[
    "server",
    "database",
    "accounts",
    "incidents",
    "federation",
    "moderation",
    "limits",
    "log",
    "metrics",
];

impl Config {
    /// Reads `path` (if given) and applies overrides from `env`, which callers pass explicitly
    /// so several instances can be configured in one process.
    pub fn load<I>(path: Option<&Path>, env: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let origin = path.map_or_else(|| "defaults".to_owned(), |p| p.display().to_string());
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", path.display()))
                })?;
                toml::from_str::<toml::Table>(&text).map_err(|e| {
                    ConfigError(format!(
                        "{origin}: invalid TOML: {}",
                        one_line(&e.to_string())
                    ))
                })?
            }
            None => toml::Table::new(),
        };
        let env: Vec<(String, String)> = env.into_iter().collect();
        let from_env = apply_env(&mut table, env.iter().cloned())?;
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let message = one_line(&e.inner().to_string());
                match from_env.get(&key) {
                    Some(var) => ConfigError(format!("environment variable {var}: {message}")),
                    None => ConfigError(format!("{origin}: key `{key}`: {message}")),
                }
            })?;
        config.validate(&origin)?;
        // The federation library reads this variable itself, from the process environment,
        // and then lets fetches reach loopback and private addresses whatever our config says.
        if env.iter().any(|(var, _)| var == DANGER_LOCAL_IP_VAR)
            && !config.federation.allow_loopback
        {
            return Err(ConfigError(format!(
                "environment variable {DANGER_LOCAL_IP_VAR} is set, which lets federation fetches \
                 reach loopback and private-network addresses; unset it, or set \
                 `federation.allow_loopback = true` in {origin} (development and tests only)"
            )));
        }
        Ok(config)
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        if let Some(url) = &self.server.public_url
            && (!matches!(url.scheme(), "http" | "https") || url.host_str().is_none())
        {
            return Err(ConfigError(format!(
                "{origin}: key `server.public_url`: must be an http or https URL with a host, got `{url}`"
            )));
        }
        let server = &self.server;
        if server.header_read_timeout_seconds == 0
            || server.request_timeout_seconds == 0
            || server.max_concurrent_requests == 0
            || server.shutdown_timeout_seconds == 0
        {
            return Err(ConfigError(format!(
                "{origin}: keys `server.header_read_timeout_seconds`, `server.request_timeout_seconds`, `server.max_concurrent_requests` and `server.shutdown_timeout_seconds`: must be at least 1"
            )));
        }
        if !(1..=365).contains(&self.incidents.wave_window_days) {
            return Err(ConfigError(format!(
                "{origin}: key `incidents.wave_window_days`: must be 1 to 365"
            )));
        }
        let federation = &self.federation;
        if federation.retry_first_seconds == 0
            || federation.retry_max_seconds < federation.retry_first_seconds
        {
            return Err(ConfigError(format!(
                "{origin}: key `federation.retry_first_seconds`: must be at least 1 and at most `federation.retry_max_seconds`"
            )));
        }
        if federation.unreachable_after_failures == 0 || federation.probe_interval_seconds == 0 {
            return Err(ConfigError(format!(
                "{origin}: keys `federation.unreachable_after_failures` and `federation.probe_interval_seconds`: must be at least 1"
            )));
        }
        if self.limits.writes_per_minute == 0
            || self.limits.inbox_per_minute == 0
            || self.limits.registrations_per_minute == 0
        {
            return Err(ConfigError(format!(
                "{origin}: keys `limits.writes_per_minute`, `limits.inbox_per_minute` and `limits.registrations_per_minute`: must be at least 1"
            )));
        }
        if federation.drop_unreachable_after_days == 0 {
            return Err(ConfigError(format!(
                "{origin}: key `federation.drop_unreachable_after_days`: must be at least 1"
            )));
        }
        if federation.list_refresh_seconds == 0 {
            return Err(ConfigError(format!(
                "{origin}: key `federation.list_refresh_seconds`: must be at least 1"
            )));
        }
        if let Some(metrics) = self.metrics.listen
            && metrics == self.server.listen
            && metrics.port() != 0
        {
            return Err(ConfigError(format!(
                "{origin}: key `metrics.listen`: must differ from `server.listen` ({metrics}): metrics are never served on the public listener"
            )));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError(format!(
                "{origin}: key `database.pool_size`: must be at least 1"
            )));
        }
        Ok(())
    }

    /// The timeouts and the concurrency cap the HTTP server applies.
    pub fn serve_limits(&self) -> crate::http::ServeLimits {
        let seconds = |n: u32| std::time::Duration::from_secs(n.into());
        crate::http::ServeLimits {
            header_read_timeout: seconds(self.server.header_read_timeout_seconds),
            request_timeout: seconds(self.server.request_timeout_seconds),
            max_concurrent_requests: usize::try_from(self.server.max_concurrent_requests)
                .unwrap_or(usize::MAX),
            shutdown_timeout: seconds(self.server.shutdown_timeout_seconds),
        }
    }

    /// The public URL, defaulting to `http://localhost:<port>`.
    pub fn public_url(&self) -> Url {
        self.public_url_at(self.server.listen.port())
    }

    /// The public URL once the listener is bound to `port` (which differs from the configured
    /// one when that is 0, as in tests).
    pub fn public_url_at(&self, port: u16) -> Url {
        self.server.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://localhost:{port}/"))
                .unwrap_or_else(|_| unreachable!("a localhost URL with a port always parses"))
        })
    }

    /// The database URL: the configured one, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| {
            self.server
                .data_dir
                .join("picket.db")
                .to_string_lossy()
                .into_owned()
        })
    }
}

/// Sets `section.key` from each `PICKET_SECTION_KEY` variable (and `database.url` from `DATABASE_URL`).
/// Returns which dotted key came from which variable, so errors can name the variable.
fn apply_env<I>(table: &mut toml::Table, env: I) -> Result<BTreeMap<String, String>, ConfigError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut origins = BTreeMap::new();
    for (var, value) in env {
        let target = if var == "DATABASE_URL" {
            Some(("database".to_owned(), "url".to_owned()))
        } else {
            var.strip_prefix("PICKET_").and_then(|rest| {
                let rest = rest.to_ascii_lowercase();
                SECTIONS.iter().find_map(|section| {
                    rest.strip_prefix(section)
                        .and_then(|r| r.strip_prefix('_'))
                        .map(|key| (section.to_string(), key.to_owned()))
                })
            })
        };
        let Some((section, key)) = target else {
            continue;
        };
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section_table) = entry else {
            return Err(ConfigError(format!(
                "config key `{section}` must be a table"
            )));
        };
        section_table.insert(key.clone(), env_value(&value));
        origins.insert(format!("{section}.{key}"), var);
    }
    Ok(origins)
}

/// Environment values are strings; booleans and integers are recognised so typed keys can be set too.
fn env_value(raw: &str) -> toml::Value {
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => raw
            .parse::<i64>()
            .map(toml::Value::Integer)
            .unwrap_or_else(|_| toml::Value::String(raw.to_owned())),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("picket.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn checked_in_example_parses_and_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/picket.toml");
        let config = Config::load(Some(&path), Vec::new()).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let error = load_str("[server]\nlisten_on = \"127.0.0.1:1\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("picket.toml"), "{error}");
        assert!(error.contains("listen_on"), "{error}");
    }

    #[test]
    fn bad_value_names_key_and_file() {
        let error = load_str("[accounts]\nregistration = \"everyone\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("picket.toml") && error.contains("accounts.registration"),
            "{error}"
        );
        let error = load_str("[server]\npublic_url = \"ftp://x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("server.public_url"), "{error}");
    }

    #[test]
    fn environment_overrides_file_and_errors_name_the_variable() {
        let config = load_str(
            "[server]\nlisten = \"127.0.0.1:1\"\n",
            &[
                ("PICKET_SERVER_LISTEN", "127.0.0.1:2"),
                ("DATABASE_URL", "postgres://db/x"),
                ("PICKET_ACCOUNTS_REGISTRATION", "open"),
                ("PICKET_TEST_DATABASE_URL", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(config.server.listen.port(), 2);
        assert_eq!(config.database_url(), "postgres://db/x");
        assert_eq!(config.accounts.registration, RegistrationMode::Open);
        let error = load_str("", &[("PICKET_SERVER_LISTEN", "nowhere")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("PICKET_SERVER_LISTEN"), "{error}");
        let error = load_str("", &[("PICKET_SERVER_LISTN", "x")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("PICKET_SERVER_LISTN"), "{error}");
    }

    #[test]
    fn danger_local_ip_variable_needs_allow_loopback() {
        let error = load_str("", &[("DANGER_FEDERATION_ALLOW_LOCAL_IP", "1")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("DANGER_FEDERATION_ALLOW_LOCAL_IP")
                && error.contains("federation.allow_loopback"),
            "{error}"
        );
        // Even an empty value counts: the library only asks whether it is set.
        assert!(load_str("", &[("DANGER_FEDERATION_ALLOW_LOCAL_IP", "")]).is_err());
        let config = load_str(
            "[federation]\nallow_loopback = true\n",
            &[("DANGER_FEDERATION_ALLOW_LOCAL_IP", "1")],
        )
        .unwrap();
        assert!(config.federation.allow_loopback);
        let config = load_str(
            "",
            &[
                ("DANGER_FEDERATION_ALLOW_LOCAL_IP", "1"),
                ("PICKET_FEDERATION_ALLOW_LOOPBACK", "true"),
            ],
        )
        .unwrap();
        assert!(config.federation.allow_loopback);
    }

    #[test]
    fn default_log_filter_keeps_the_federation_library_at_warn() {
        let config = Config::load(None, Vec::new()).unwrap();
        assert_eq!(config.log.filter, "info,activitypub_federation=warn");
        // The library logs each fetched URL at info; the default must not.
        let filter = config.log.filter.split(',').collect::<Vec<_>>();
        assert!(
            filter.contains(&"activitypub_federation=warn"),
            "{filter:?}"
        );
    }

    /// docs/CONFIGURATION.md is what `reference()` makes of the structs today; with
    /// `PICKET_UPDATE_DOCS=1` the test writes it instead.
    #[test]
    fn configuration_reference_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/CONFIGURATION.md");
        let made = reference();
        for key in [
            "`listen`",
            "`drop_unreachable_after_days`",
            "`PICKET_METRICS_LISTEN`",
        ] {
            assert!(made.contains(key), "{key} in:\n{made}");
        }
        if std::env::var_os("PICKET_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &made).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == made,
            "docs/CONFIGURATION.md is out of date: run PICKET_UPDATE_DOCS=1 cargo test -p picket --lib configuration_reference"
        );
    }

    #[test]
    fn defaults_derive_public_url_and_sqlite_path() {
        let config = Config::load(None, Vec::new()).unwrap();
        assert_eq!(config.public_url().as_str(), "http://localhost:8080/");
        assert_eq!(config.database_url(), "data/picket.db");
    }
}
