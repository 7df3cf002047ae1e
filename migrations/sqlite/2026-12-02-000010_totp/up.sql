-- An optional second factor for moderators and admins: a TOTP secret (pending until a first
-- code confirms it) with the last time step used, so a seen code cannot be replayed, and
-- one-time recovery codes, stored only as SHA-256 digests.
CREATE TABLE totp_secrets (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT
);

CREATE TABLE totp_recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_digest TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX totp_recovery_codes_user ON totp_recovery_codes (user_id);
