-- Worker-contributed facts about who is behind a requester: every version kept (the history),
-- local or copies of other instances', the newest published one of each field shown.
CREATE TABLE requester_facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    requester_pk BIGINT NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    field TEXT NOT NULL CHECK (field IN ('organisation', 'kind', 'contact', 'purpose', 'data_uses')),
    value TEXT NOT NULL,
    sources TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    state TEXT NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'removed', 'deleted')),
    removed_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    ap_id TEXT UNIQUE,
    origin TEXT,
    remote_author TEXT
);
CREATE INDEX requester_facts_requester ON requester_facts (requester_pk, field, created_at);
CREATE INDEX requester_facts_author ON requester_facts (author_id);
CREATE INDEX requester_facts_remote_author ON requester_facts (remote_author);

-- Facts federate and can be reported.
CREATE TABLE federation_events_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete', 'announce', 'remove', 'restore')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review', 'incident', 'corroboration', 'comment', 'fact', 'account', 'report')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP
);
INSERT INTO federation_events_next (id, kind, object_type, object_id, created_at, attempts, next_attempt_at)
    SELECT id, kind, object_type, object_id, created_at, attempts, next_attempt_at FROM federation_events;
DROP TABLE federation_events;
ALTER TABLE federation_events_next RENAME TO federation_events;

CREATE TABLE reports_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    target_type TEXT NOT NULL CHECK (target_type IN ('review', 'incident', 'corroboration', 'comment', 'fact', 'account')),
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
INSERT INTO reports_next SELECT id, public_id, target_type, target, reason, text, reporter_id,
    origin, state, action, resolution, resolved_at, created_at FROM reports;
DROP TABLE reports;
ALTER TABLE reports_next RENAME TO reports;
CREATE INDEX reports_state ON reports (state, id);
