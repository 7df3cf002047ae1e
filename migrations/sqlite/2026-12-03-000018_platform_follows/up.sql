-- Workers follow a platform (its lock-outs, suspensions and payment problems), so a
-- notification is about a requester or, for incidents naming none, a platform.
CREATE TABLE platform_follows (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, platform)
);
CREATE INDEX platform_follows_platform ON platform_follows (platform);

CREATE TABLE notifications_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('review', 'incident', 'wave')),
    requester_pk BIGINT REFERENCES requesters (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    platform TEXT,
    CHECK (requester_pk IS NOT NULL OR platform IS NOT NULL)
);
INSERT INTO notifications_next (id, user_id, kind, requester_pk, subject, message, created_at, read_at)
    SELECT id, user_id, kind, requester_pk, subject, message, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_next RENAME TO notifications;
CREATE INDEX notifications_user ON notifications (user_id, id);
