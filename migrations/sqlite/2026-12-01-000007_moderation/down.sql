DELETE FROM federation_events WHERE kind IN ('remove', 'restore') OR object_type IN ('account', 'report');
CREATE TABLE federation_events_previous (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete', 'announce')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review', 'incident', 'corroboration')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO federation_events_previous (id, kind, object_type, object_id, created_at)
    SELECT id, kind, object_type, object_id, created_at FROM federation_events;
DROP TABLE federation_events;
ALTER TABLE federation_events_previous RENAME TO federation_events;
DROP TABLE hidden_origins;
DROP TABLE list_subscriptions;
DROP TABLE domain_rules;
DROP TABLE modlog;
DROP TABLE reports;
