-- A follow the other side refused (its Reject, or a final 4xx answer to our Follow) stays,
-- marked `refused` with what the peer answered, so admins see it instead of a follow that
-- looks pending for ever. SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE federation_follows_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    local_actor TEXT NOT NULL,
    remote_actor TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'refused')),
    follow_activity_id TEXT NOT NULL,
    software TEXT,
    created_at TIMESTAMP NOT NULL,
    refusal TEXT,
    UNIQUE (local_actor, remote_actor, direction)
);
INSERT INTO federation_follows_next (id, local_actor, remote_actor, direction, state, follow_activity_id, software, created_at)
    SELECT id, local_actor, remote_actor, direction, state, follow_activity_id, software, created_at FROM federation_follows;
DROP TABLE federation_follows;
ALTER TABLE federation_follows_next RENAME TO federation_follows;

-- One-time password reset links an admin prints (`picket admin users reset-password`): only
-- the digest of the secret is kept, and the row goes when it is used or the account is erased.
CREATE TABLE password_resets (
    digest TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);
