-- Reviews from other instances, kept with their ActivityPub id, their home instance and their
-- author's actor; and the federation events that local changes leave for the delivery worker.
ALTER TABLE reviews ADD COLUMN ap_id TEXT;
ALTER TABLE reviews ADD COLUMN origin TEXT;
ALTER TABLE reviews ADD COLUMN remote_author TEXT;
CREATE UNIQUE INDEX reviews_ap_id ON reviews (ap_id);

CREATE TABLE federation_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
