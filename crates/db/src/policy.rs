//! Federation policy as stored: domain rules (blocks and allows, the instance's own or a subscribed list's), list subscriptions, and which stored content blocks hide.

use chrono::NaiveDateTime;
use diesel::prelude::*;
pub use picket_core::domain_list::DomainEntry;
use picket_core::moderation::{FederationMode, covers, permits};

use crate::schema::{
    corroborations, counted_origins, domain_rules, federation_follows, hidden_origins, incidents,
    list_subscriptions, reviews,
};
use crate::{DbConn, DbError};

/// The source of the instance's own rules; a subscribed list's rules carry its URL.
pub const LOCAL: &str = "";

/// Whether a rule blocks or allows a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Block,
    Allow,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Block => "block",
            RuleKind::Allow => "allow",
        }
    }

    pub fn parse(word: &str) -> Result<RuleKind, DbError> {
        match word {
            "block" => Ok(RuleKind::Block),
            "allow" => Ok(RuleKind::Allow),
            other => Err(DbError::Corrupt(format!("domain rule kind `{other}`"))),
        }
    }
}

/// One domain rule, with Mastodon's domain-block fields so lists round-trip.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = domain_rules)]
pub struct RuleRow {
    pub id: i64,
    pub domain: String,
    pub kind: String,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub public_comment: String,
    pub obfuscate: bool,
    pub source: String,
    pub created_at: NaiveDateTime,
}

/// The rules a list's entries make: every entry but those that restrict nothing.
pub fn rules_of(entries: Vec<DomainEntry>) -> Vec<DomainEntry> {
    entries.into_iter().filter(DomainEntry::enforced).collect()
}

impl RuleRow {
    /// The rule as a line of a Mastodon-format list.
    pub fn entry(self) -> DomainEntry {
        DomainEntry {
            domain: self.domain,
            severity: self.severity,
            reject_media: self.reject_media,
            reject_reports: self.reject_reports,
            public_comment: self.public_comment,
            obfuscate: self.obfuscate,
        }
    }
}

/// The instance's own rules of one kind as a Mastodon-format list.
pub fn local_list(conn: &mut DbConn, kind: RuleKind) -> Result<String, DbError> {
    let entries: Vec<DomainEntry> = rules(conn, kind)?
        .into_iter()
        .filter(|r| r.source == LOCAL)
        .map(RuleRow::entry)
        .collect();
    Ok(picket_core::domain_list::write(&entries))
}

/// Whether `origin` (a remote object's home instance) is hidden by a block.
pub fn is_hidden(conn: &mut DbConn, origin: Option<&str>) -> Result<bool, DbError> {
    let Some(origin) = origin else {
        return Ok(false);
    };
    Ok(diesel::select(diesel::dsl::exists(
        hidden_origins::table.filter(hidden_origins::origin.eq(origin)),
    ))
    .get_result(conn)?)
}

/// Rules of one kind, by domain (every source).
pub fn rules(conn: &mut DbConn, kind: RuleKind) -> Result<Vec<RuleRow>, DbError> {
    Ok(domain_rules::table
        .filter(domain_rules::kind.eq(kind.as_str()))
        .order((domain_rules::domain, domain_rules::source))
        .select(RuleRow::as_select())
        .load(conn)?)
}

fn insert_rule(
    conn: &mut DbConn,
    kind: RuleKind,
    source: &str,
    rule: &DomainEntry,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(domain_rules::table)
        .values((
            domain_rules::domain.eq(&rule.domain),
            domain_rules::kind.eq(kind.as_str()),
            domain_rules::severity.eq(&rule.severity),
            domain_rules::reject_media.eq(rule.reject_media),
            domain_rules::reject_reports.eq(rule.reject_reports),
            domain_rules::public_comment.eq(&rule.public_comment),
            domain_rules::obfuscate.eq(rule.obfuscate),
            domain_rules::source.eq(source),
            domain_rules::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Adds or replaces one of the instance's own rules, and updates what blocks hide.
pub fn set_rule(
    conn: &mut DbConn,
    kind: RuleKind,
    rule: &DomainEntry,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    remove(conn, kind, &rule.domain, LOCAL)?;
    insert_rule(conn, kind, LOCAL, rule, at)?;
    refresh_hidden(conn, at)
}

/// Removes one of the instance's own rules; `false` when there was none.
pub fn remove_rule(
    conn: &mut DbConn,
    kind: RuleKind,
    domain: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let removed = remove(conn, kind, domain, LOCAL)?;
    refresh_hidden(conn, at)?;
    Ok(removed)
}

fn remove(conn: &mut DbConn, kind: RuleKind, domain: &str, source: &str) -> Result<bool, DbError> {
    let removed = diesel::delete(
        domain_rules::table
            .filter(domain_rules::kind.eq(kind.as_str()))
            .filter(domain_rules::domain.eq(domain))
            .filter(domain_rules::source.eq(source)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

/// Replaces every rule a source (a subscribed list, or `LOCAL` for an import that replaces)
/// holds with `rules`, and updates what blocks hide.
pub fn replace_source(
    conn: &mut DbConn,
    kind: RuleKind,
    source: &str,
    rules: &[DomainEntry],
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(
        domain_rules::table
            .filter(domain_rules::kind.eq(kind.as_str()))
            .filter(domain_rules::source.eq(source)),
    )
    .execute(conn)?;
    let mut seen = std::collections::BTreeSet::new();
    for rule in rules.iter().filter(|r| seen.insert(r.domain.clone())) {
        insert_rule(conn, kind, source, rule, at)?;
    }
    refresh_hidden(conn, at)
}

/// Adds the instance's own rules from an import, keeping those it has.
pub fn merge_local(
    conn: &mut DbConn,
    kind: RuleKind,
    rules: &[DomainEntry],
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    let mut added = 0;
    for rule in rules {
        if !remove(conn, kind, &rule.domain, LOCAL)? {
            added += 1;
        }
        insert_rule(conn, kind, LOCAL, rule, at)?;
    }
    refresh_hidden(conn, at)?;
    Ok(added)
}

/// Whether this instance talks to `host` (an instance as `host` or `host:port`).
pub fn permits_host(conn: &mut DbConn, mode: FederationMode, host: &str) -> Result<bool, DbError> {
    let rows: Vec<(String, String)> = domain_rules::table
        .select((domain_rules::kind, domain_rules::domain))
        .load(conn)?;
    let of = |kind: RuleKind| {
        rows.iter()
            .filter(move |(k, _)| k == kind.as_str())
            .map(|(_, d)| d.as_str())
    };
    Ok(permits(
        mode,
        host,
        of(RuleKind::Block),
        of(RuleKind::Allow),
    ))
}

/// Recomputes which stored content's home instances blocks hide, and refreshes the aggregates
/// of every requester whose reviews came in or went out of view.
pub fn refresh_hidden(conn: &mut DbConn, at: NaiveDateTime) -> Result<(), DbError> {
    let blocked: Vec<String> = domain_rules::table
        .filter(domain_rules::kind.eq(RuleKind::Block.as_str()))
        .select(domain_rules::domain)
        .load(conn)?;
    let mut origins: Vec<String> = reviews::table
        .filter(reviews::origin.is_not_null())
        .select(reviews::origin.assume_not_null())
        .distinct()
        .load(conn)?;
    origins.extend(
        incidents::table
            .filter(incidents::origin.is_not_null())
            .select(incidents::origin.assume_not_null())
            .distinct()
            .load::<String>(conn)?,
    );
    origins.extend(
        corroborations::table
            .filter(corroborations::origin.is_not_null())
            .select(corroborations::origin.assume_not_null())
            .distinct()
            .load::<String>(conn)?,
    );
    origins.sort();
    origins.dedup();
    let hidden: Vec<&String> = origins
        .iter()
        .filter(|origin| blocked.iter().any(|domain| covers(domain, origin)))
        .collect();
    let before: Vec<String> = hidden_origins::table
        .select(hidden_origins::origin)
        .load(conn)?;
    let changed: Vec<&String> = before
        .iter()
        .filter(|o| !hidden.contains(o))
        .chain(hidden.iter().copied().filter(|o| !before.contains(o)))
        .collect();
    refresh_counted(conn, &origins, at)?;
    if changed.is_empty() {
        return Ok(());
    }
    diesel::delete(hidden_origins::table).execute(conn)?;
    for origin in &hidden {
        diesel::insert_into(hidden_origins::table)
            .values(hidden_origins::origin.eq(origin.as_str()))
            .execute(conn)?;
    }
    refresh_requesters_of(conn, &changed, at)
}

/// Content is arriving from `origin`: if an allow rule covers it, it counts from now on (the
/// rules name domains, and a new origin under one is only known when its content arrives).
pub fn note_origin(conn: &mut DbConn, origin: &str) -> Result<(), DbError> {
    if is_counted(conn, origin)? {
        return Ok(());
    }
    let allowed: Vec<String> = domain_rules::table
        .filter(domain_rules::kind.eq(RuleKind::Allow.as_str()))
        .select(domain_rules::domain)
        .load(conn)?;
    if allowed.iter().any(|domain| covers(domain, origin)) {
        // Another delivery from the same origin may note it at the same moment.
        let noted = crate::savepoint(conn, |conn| {
            diesel::insert_into(counted_origins::table)
                .values(counted_origins::origin.eq(origin))
                .execute(conn)
                .map_err(crate::error::conflict_as("counted origin"))
        });
        match noted {
            Ok(_) | Err(DbError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// Whether content from `origin` (host, and port when there is one) counts here.
pub fn is_counted(conn: &mut DbConn, origin: &str) -> Result<bool, DbError> {
    Ok(counted_origins::table
        .find(origin)
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Recomputes which other instances' content counts in aggregates and waves: those a local
/// actor follows (an accepted follow) and those an allow rule covers, among the `known`
/// origins content came from (an allow rule's own domain counts even before any content). The
/// aggregates of requesters whose counted reviews changed are refreshed.
fn refresh_counted(conn: &mut DbConn, known: &[String], at: NaiveDateTime) -> Result<(), DbError> {
    let followed: Vec<String> = federation_follows::table
        .filter(federation_follows::direction.eq(crate::delivery::Direction::Outbound.as_str()))
        .filter(federation_follows::state.eq("accepted"))
        .select(federation_follows::remote_actor)
        .load::<String>(conn)?
        .iter()
        .map(|actor| crate::delivery::host_of(actor).to_ascii_lowercase())
        .collect();
    let allowed: Vec<String> = domain_rules::table
        .filter(domain_rules::kind.eq(RuleKind::Allow.as_str()))
        .select(domain_rules::domain)
        .load(conn)?;
    let mut counted: Vec<String> = followed;
    counted.extend(allowed.iter().cloned());
    counted.extend(
        known
            .iter()
            .filter(|origin| allowed.iter().any(|domain| covers(domain, origin)))
            .cloned(),
    );
    counted.sort();
    counted.dedup();
    let before: Vec<String> = counted_origins::table
        .select(counted_origins::origin)
        .load(conn)?;
    let changed: Vec<&String> = before
        .iter()
        .filter(|o| !counted.contains(o))
        .chain(counted.iter().filter(|o| !before.contains(o)))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    diesel::delete(counted_origins::table).execute(conn)?;
    for origin in &counted {
        diesel::insert_into(counted_origins::table)
            .values(counted_origins::origin.eq(origin.as_str()))
            .execute(conn)?;
    }
    refresh_requesters_of(conn, &changed, at)
}

/// Refreshes the aggregates of every requester reviewed from one of `origins`: what counts or
/// shows of those origins has just changed.
fn refresh_requesters_of(
    conn: &mut DbConn,
    origins: &[&String],
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let requesters: Vec<i64> = reviews::table
        .filter(reviews::origin.eq_any(origins))
        .select(reviews::requester_pk)
        .distinct()
        .load(conn)?;
    for requester in requesters {
        crate::stats::refresh(conn, requester, at)?;
    }
    Ok(())
}

/// A subscription to another collective's published block or allow list.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = list_subscriptions)]
pub struct SubscriptionRow {
    pub url: String,
    pub kind: String,
    pub last_fetched_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn subscribe(
    conn: &mut DbConn,
    url: &str,
    kind: RuleKind,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(list_subscriptions::table.find(url)).execute(conn)?;
    // A list subscribed again as the other kind brings none of its old rules along.
    diesel::delete(domain_rules::table.filter(domain_rules::source.eq(url))).execute(conn)?;
    diesel::insert_into(list_subscriptions::table)
        .values((
            list_subscriptions::url.eq(url),
            list_subscriptions::kind.eq(kind.as_str()),
            list_subscriptions::created_at.eq(at),
        ))
        .execute(conn)?;
    refresh_hidden(conn, at)
}

/// Ends a subscription and drops the rules it brought; `false` when there was none.
pub fn unsubscribe(conn: &mut DbConn, url: &str, at: NaiveDateTime) -> Result<bool, DbError> {
    let removed = diesel::delete(list_subscriptions::table.find(url)).execute(conn)?;
    diesel::delete(domain_rules::table.filter(domain_rules::source.eq(url))).execute(conn)?;
    refresh_hidden(conn, at)?;
    Ok(removed > 0)
}

pub fn subscriptions(conn: &mut DbConn) -> Result<Vec<SubscriptionRow>, DbError> {
    Ok(list_subscriptions::table
        .order(list_subscriptions::url)
        .select(SubscriptionRow::as_select())
        .load(conn)?)
}

/// Records a fetch of a subscribed list: its rules replace the list's earlier ones; a failed
/// fetch keeps them and records why.
pub fn record_fetch(
    conn: &mut DbConn,
    url: &str,
    fetched: Result<&[DomainEntry], &str>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let kind: String = list_subscriptions::table
        .find(url)
        .select(list_subscriptions::kind)
        .first(conn)?;
    let error = match fetched {
        Ok(rules) => {
            replace_source(conn, RuleKind::parse(&kind)?, url, rules, at)?;
            None
        }
        Err(error) => Some(error),
    };
    diesel::update(list_subscriptions::table.find(url))
        .set((
            list_subscriptions::last_fetched_at.eq(at),
            list_subscriptions::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// Blocks or allows a domain (`add`), or lifts that rule, logging it with its public reason:
/// the one implementation behind `picket admin block|allow|…` and the admin pages and API.
/// `false` when a rule to lift was not there (nothing is logged then).
pub fn change_rule(
    conn: &mut DbConn,
    acting: crate::moderation::Acting<'_>,
    kind: RuleKind,
    add: bool,
    domain: &str,
    reason: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    use picket_core::moderation::ModAction;
    let action = match (kind, add) {
        (RuleKind::Block, true) => ModAction::BlockDomain,
        (RuleKind::Block, false) => ModAction::UnblockDomain,
        (RuleKind::Allow, true) => ModAction::AllowDomain,
        (RuleKind::Allow, false) => ModAction::DisallowDomain,
    };
    let found = if add {
        set_rule(conn, kind, &DomainEntry::plain(domain, reason), at)?;
        true
    } else {
        remove_rule(conn, kind, domain, at)?
    };
    if found {
        crate::moderation::log_action(conn, acting, action, ("domain", domain), reason, at)?;
    }
    Ok(found)
}

/// Subscribes to a published domain list (`add`) or ends the subscription, logging it: the one
/// implementation behind `picket admin subscribe|unsubscribe` and the admin pages and API.
/// `false` when there was no subscription to end.
pub fn change_subscription(
    conn: &mut DbConn,
    acting: crate::moderation::Acting<'_>,
    url: &str,
    kind: RuleKind,
    add: bool,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    use picket_core::moderation::ModAction;
    // An unsubscription is logged with the kind the list had, whatever the caller assumed.
    let kind_held: Option<String> = list_subscriptions::table
        .find(url)
        .select(list_subscriptions::kind)
        .first(conn)
        .optional()?;
    let (found, action) = if add {
        subscribe(conn, url, kind, at)?;
        (true, ModAction::SubscribeList)
    } else {
        (unsubscribe(conn, url, at)?, ModAction::UnsubscribeList)
    };
    if found {
        let kind = if add {
            kind.as_str().to_owned()
        } else {
            kind_held.unwrap_or_else(|| kind.as_str().to_owned())
        };
        let reason = format!("{kind} list");
        crate::moderation::log_action(conn, acting, action, ("list", url), &reason, at)?;
    }
    Ok(found)
}
