-- Workers follow a platform (its lock-outs, suspensions and payment problems), so a
-- notification is about a requester or, for incidents naming none, a platform.
CREATE TABLE platform_follows (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, platform)
);
CREATE INDEX platform_follows_platform ON platform_follows (platform);

ALTER TABLE notifications ALTER COLUMN requester_pk DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN platform TEXT;
ALTER TABLE notifications ADD CONSTRAINT notifications_about
    CHECK (requester_pk IS NOT NULL OR platform IS NOT NULL);
