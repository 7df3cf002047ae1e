DELETE FROM notifications WHERE requester_pk IS NULL;
ALTER TABLE notifications DROP CONSTRAINT notifications_about;
ALTER TABLE notifications DROP COLUMN platform;
ALTER TABLE notifications ALTER COLUMN requester_pk SET NOT NULL;
DROP TABLE platform_follows;
