-- Campaigns opened from a wave (to a requester, or to the platform when the wave names none),
-- local or copies of other instances', and their signatures: a local worker's (user_id), or an
-- opaque token another instance sent for one of its workers. Signers are never shown.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    requester_pk BIGINT REFERENCES requesters (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    since DATE NOT NULL,
    demand TEXT NOT NULL CHECK (demand IN ('reverse_rejections', 'pay', 'reinstate', 'explain')),
    letter TEXT NOT NULL,
    threshold BIGINT NOT NULL CHECK (threshold >= 2),
    outcome TEXT CHECK (outcome IN ('reversed', 'paid', 'reinstated', 'no_answer', 'refused')),
    outcome_on DATE,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    ap_id TEXT UNIQUE,
    origin TEXT,
    remote_author TEXT,
    -- For a copy: the signature counts by instance its home last sent, as JSON.
    remote_counts TEXT
);
CREATE INDEX campaigns_requester ON campaigns (requester_pk);
CREATE INDEX campaigns_platform ON campaigns (platform, id);

CREATE TABLE campaign_signatures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_pk BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    signer TEXT NOT NULL,
    origin TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (campaign_pk, signer)
);
CREATE UNIQUE INDEX campaign_signatures_user ON campaign_signatures (campaign_pk, user_id);

-- Campaigns federate, and so do sign-ons on copies (to the campaign's home).
CREATE TABLE federation_events_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete', 'announce', 'remove', 'restore')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review', 'incident', 'corroboration', 'comment', 'fact', 'campaign', 'signature', 'account', 'report')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP
);
INSERT INTO federation_events_next (id, kind, object_type, object_id, created_at, attempts, next_attempt_at)
    SELECT id, kind, object_type, object_id, created_at, attempts, next_attempt_at FROM federation_events;
DROP TABLE federation_events;
ALTER TABLE federation_events_next RENAME TO federation_events;
