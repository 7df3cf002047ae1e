-- Requesters, reviews (with edit history), incidents (with status history), corroborations,
-- follows, notifications, per-worker feed tokens, and the cached per-requester aggregates.
CREATE TABLE requesters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (platform, requester_id)
);
CREATE INDEX requesters_name_lower ON requesters (name_lower);
CREATE INDEX requesters_requester_id ON requesters (requester_id);

CREATE TABLE requester_aliases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    requester_pk BIGINT NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    UNIQUE (requester_pk, name)
);
CREATE INDEX requester_aliases_name_lower ON requester_aliases (name_lower);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    requester_pk BIGINT NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'deleted', 'removed')),
    task_title TEXT,
    batch_id TEXT,
    reward_minor BIGINT NOT NULL,
    bonus_minor BIGINT,
    currency TEXT NOT NULL,
    time_spent_seconds BIGINT NOT NULL,
    completion TEXT NOT NULL,
    approval TEXT NOT NULL,
    time_to_decision_seconds BIGINT,
    score_pay SMALLINT,
    score_fairness SMALLINT,
    score_promptness SMALLINT,
    score_communication SMALLINT,
    recommend TEXT,
    tos_violation BOOLEAN NOT NULL,
    tos_explanation TEXT,
    broken BOOLEAN NOT NULL,
    broken_explanation TEXT,
    unpaid_screener BOOLEAN NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    removed_reason TEXT
);
CREATE INDEX reviews_requester ON reviews (requester_pk, state, published_at);
CREATE INDEX reviews_author ON reviews (author_id);

CREATE TABLE review_edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    review_pk BIGINT NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    edited_at TIMESTAMP NOT NULL,
    previous TEXT NOT NULL
);
CREATE INDEX review_edits_review ON review_edits (review_pk);

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    platform TEXT NOT NULL,
    requester_pk BIGINT REFERENCES requesters (id) ON DELETE CASCADE,
    batch_id TEXT,
    happened_from DATE NOT NULL,
    happened_to DATE,
    tasks_affected BIGINT,
    amount_lost_minor BIGINT,
    currency TEXT NOT NULL,
    message_received TEXT,
    description TEXT NOT NULL,
    evidence_digests TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'reversed')),
    state TEXT NOT NULL CHECK (state IN ('published', 'deleted', 'removed')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    removed_reason TEXT
);
CREATE INDEX incidents_requester ON incidents (requester_pk, state, kind);
CREATE INDEX incidents_author ON incidents (author_id);

CREATE TABLE incident_status_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_pk BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    note TEXT,
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX incident_status_changes_incident ON incident_status_changes (incident_pk);

CREATE TABLE corroborations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    incident_pk BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    tasks_affected BIGINT,
    amount_lost_minor BIGINT,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (incident_pk, author_id)
);

CREATE TABLE follows (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requester_pk BIGINT NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, requester_pk)
);
CREATE INDEX follows_requester ON follows (requester_pk);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('review', 'incident', 'wave')),
    requester_pk BIGINT NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE feed_tokens (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_digest TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE requester_stats (
    requester_pk BIGINT PRIMARY KEY REFERENCES requesters (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    valid_until TIMESTAMP
);
