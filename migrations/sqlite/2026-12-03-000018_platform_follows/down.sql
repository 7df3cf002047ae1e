DELETE FROM notifications WHERE requester_pk IS NULL;
CREATE TABLE notifications_prev (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('review', 'incident', 'wave')),
    requester_pk BIGINT NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
INSERT INTO notifications_prev SELECT id, user_id, kind, requester_pk, subject, message, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_prev RENAME TO notifications;
CREATE INDEX notifications_user ON notifications (user_id, id);
DROP TABLE platform_follows;
