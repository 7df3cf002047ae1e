DROP TABLE peer_instances;
DROP INDEX deliveries_host;
ALTER TABLE deliveries DROP COLUMN host;

DELETE FROM federation_events WHERE object_type <> 'review' OR kind = 'announce';
CREATE TABLE federation_events_previous (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO federation_events_previous (id, kind, object_type, object_id, created_at)
    SELECT id, kind, object_type, object_id, created_at FROM federation_events;
DROP TABLE federation_events;
ALTER TABLE federation_events_previous RENAME TO federation_events;

DELETE FROM corroborations WHERE ap_id IS NOT NULL OR state = 'deleted';
DROP INDEX corroborations_remote_author;
DROP INDEX corroborations_ap_id;
ALTER TABLE corroborations DROP COLUMN state;
ALTER TABLE corroborations DROP COLUMN remote_author;
ALTER TABLE corroborations DROP COLUMN origin;
ALTER TABLE corroborations DROP COLUMN ap_id;

DELETE FROM incidents WHERE ap_id IS NOT NULL;
DROP INDEX incidents_ap_id;
ALTER TABLE incidents DROP COLUMN remote_author;
ALTER TABLE incidents DROP COLUMN origin;
ALTER TABLE incidents DROP COLUMN ap_id;
