-- Comments on reviews and incidents, threaded one level (a reply names the comment it answers),
-- local or copies of other servers' (Picket, Mastodon, Lemmy) kept like remote corroborations;
-- and accounts an admin has marked as speaking for a requester (its right of reply).
CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
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
ALTER TABLE federation_events DROP CONSTRAINT federation_events_object_type_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_object_type_check
    CHECK (object_type IN ('review', 'incident', 'corroboration', 'comment', 'account', 'report'));
ALTER TABLE reports DROP CONSTRAINT reports_target_type_check;
ALTER TABLE reports ADD CONSTRAINT reports_target_type_check
    CHECK (target_type IN ('review', 'incident', 'corroboration', 'comment', 'account'));
