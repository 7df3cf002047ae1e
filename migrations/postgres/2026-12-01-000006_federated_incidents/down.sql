DROP TABLE peer_instances;
DROP INDEX deliveries_host;
ALTER TABLE deliveries DROP COLUMN host;

DELETE FROM federation_events WHERE object_type <> 'review' OR kind = 'announce';
ALTER TABLE federation_events DROP CONSTRAINT federation_events_object_type_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_object_type_check
    CHECK (object_type IN ('review'));
ALTER TABLE federation_events DROP CONSTRAINT federation_events_kind_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_kind_check
    CHECK (kind IN ('create', 'update', 'delete'));

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
