DROP TABLE password_resets;
CREATE TABLE federation_follows_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    local_actor TEXT NOT NULL,
    remote_actor TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    follow_activity_id TEXT NOT NULL,
    software TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (local_actor, remote_actor, direction)
);
INSERT INTO federation_follows_next (id, local_actor, remote_actor, direction, state, follow_activity_id, software, created_at)
    SELECT id, local_actor, remote_actor, direction, state, follow_activity_id, software, created_at
    FROM federation_follows WHERE state <> 'refused';
DROP TABLE federation_follows;
ALTER TABLE federation_follows_next RENAME TO federation_follows;
