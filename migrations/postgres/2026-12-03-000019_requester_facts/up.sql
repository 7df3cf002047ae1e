-- Worker-contributed facts about who is behind a requester: every version kept (the history),
-- local or copies of other instances', the newest published one of each field shown.
CREATE TABLE requester_facts (
    id BIGSERIAL PRIMARY KEY,
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
ALTER TABLE federation_events DROP CONSTRAINT federation_events_object_type_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_object_type_check
    CHECK (object_type IN ('review', 'incident', 'corroboration', 'comment', 'fact', 'account', 'report'));
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check;
ALTER TABLE reports ADD CONSTRAINT reports_target_type_check
    CHECK (target_type IN ('review', 'incident', 'corroboration', 'comment', 'fact', 'account'));
