-- Comments on reviews and incidents, threaded one level (a reply names the comment it answers),
-- local or copies of other servers' (Picket, Mastodon, Lemmy) kept like remote corroborations;
-- and accounts an admin has marked as speaking for a requester (its right of reply).
CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    review_pk BIGINT REFERENCES reviews (id) ON DELETE CASCADE,
    incident_pk BIGINT REFERENCES incidents (id) ON DELETE CASCADE,
    reply_to_pk BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    as_requester BOOLEAN NOT NULL DEFAULT FALSE,
    state TEXT NOT NULL DEFAULT 'published' CHECK (state IN ('published', 'removed', 'deleted')),
    removed_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    ap_id TEXT UNIQUE,
    origin TEXT,
    remote_author TEXT,
    CHECK ((review_pk IS NULL) <> (incident_pk IS NULL))
);
CREATE INDEX comments_review ON comments (review_pk, id);
CREATE INDEX comments_incident ON comments (incident_pk, id);
CREATE INDEX comments_author ON comments (author_id);
CREATE INDEX comments_remote_author ON comments (remote_author);

ALTER TABLE users ADD COLUMN speaks_for BIGINT REFERENCES requesters (id) ON DELETE SET NULL;

-- Comments federate and can be reported: the two CHECKs that name object kinds take `comment`.
CREATE TABLE federation_events_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete', 'announce', 'remove', 'restore')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review', 'incident', 'corroboration', 'comment', 'account', 'report')),
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
    target_type TEXT NOT NULL CHECK (target_type IN ('review', 'incident', 'corroboration', 'comment', 'account')),
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
