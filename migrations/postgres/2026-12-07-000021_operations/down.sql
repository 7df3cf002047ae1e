DROP TABLE password_resets;
DELETE FROM federation_follows WHERE state = 'refused';
ALTER TABLE federation_follows DROP COLUMN refusal;
ALTER TABLE federation_follows DROP CONSTRAINT federation_follows_state_check;
ALTER TABLE federation_follows ADD CONSTRAINT federation_follows_state_check
    CHECK (state IN ('pending', 'accepted'));
