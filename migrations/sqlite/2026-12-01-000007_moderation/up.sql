-- Moderation: reports (from local workers, or Flags from other instances, never naming the
-- reporter), the public moderation log, and federation policy: domain rules (blocks and
-- allows, local or from subscribed lists) and list subscriptions. Content from a blocked
-- domain is hidden, not deleted, so an unblock restores it.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    target_type TEXT NOT NULL CHECK (target_type IN ('review', 'incident', 'corroboration', 'account')),
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    text TEXT NOT NULL,
    reporter_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    origin TEXT,
    state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
    action TEXT,
    resolution TEXT,
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reports_state ON reports (state, id);

CREATE TABLE modlog (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    role TEXT NOT NULL,
    moderator TEXT,
    origin TEXT
);

CREATE TABLE domain_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('block', 'allow')),
    severity TEXT NOT NULL,
    reject_media BOOLEAN NOT NULL,
    reject_reports BOOLEAN NOT NULL,
    public_comment TEXT NOT NULL,
    obfuscate BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (domain, kind, source)
);

CREATE TABLE list_subscriptions (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('block', 'allow')),
    last_fetched_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);

-- The home instances of stored content that domain blocks hide, kept exact so every list and
-- aggregate can leave them out with one indexed lookup.
CREATE TABLE hidden_origins (
    origin TEXT PRIMARY KEY
);

-- Events for removals and restorations by moderators, for accounts (suspensions) and reports
-- (Flags); an event that cannot be sent yet waits with backoff instead of holding up the others.
CREATE TABLE federation_events_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete', 'announce', 'remove', 'restore')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review', 'incident', 'corroboration', 'account', 'report')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP
);
INSERT INTO federation_events_next (id, kind, object_type, object_id, created_at)
    SELECT id, kind, object_type, object_id, created_at FROM federation_events;
DROP TABLE federation_events;
ALTER TABLE federation_events_next RENAME TO federation_events;
