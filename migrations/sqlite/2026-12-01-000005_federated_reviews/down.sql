DROP TABLE federation_events;
DROP INDEX reviews_ap_id;
ALTER TABLE reviews DROP COLUMN remote_author;
ALTER TABLE reviews DROP COLUMN origin;
ALTER TABLE reviews DROP COLUMN ap_id;
