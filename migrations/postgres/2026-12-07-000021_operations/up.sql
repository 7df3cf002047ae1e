-- A follow the other side refused (its Reject, or a final 4xx answer to our Follow) stays,
-- marked `refused` with what the peer answered, so admins see it instead of a follow that
-- looks pending for ever.
ALTER TABLE federation_follows DROP CONSTRAINT federation_follows_state_check;
ALTER TABLE federation_follows ADD CONSTRAINT federation_follows_state_check
    CHECK (state IN ('pending', 'accepted', 'refused'));
ALTER TABLE federation_follows ADD COLUMN refusal TEXT;

-- One-time password reset links an admin prints (`picket admin users reset-password`): only
-- the digest of the secret is kept, and the row goes when it is used or the account is erased.
CREATE TABLE password_resets (
    digest TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);
