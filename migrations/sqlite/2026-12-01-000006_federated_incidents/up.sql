-- Incidents and corroborations from other instances, kept like remote reviews: their
-- ActivityPub id, home instance and author's actor. A withdrawn corroboration stays as a
-- tombstone, so its withdrawal can federate and a late copy of it is refused.
ALTER TABLE incidents ADD COLUMN ap_id TEXT;
ALTER TABLE incidents ADD COLUMN origin TEXT;
ALTER TABLE incidents ADD COLUMN remote_author TEXT;
CREATE UNIQUE INDEX incidents_ap_id ON incidents (ap_id);

ALTER TABLE corroborations ADD COLUMN ap_id TEXT;
ALTER TABLE corroborations ADD COLUMN origin TEXT;
ALTER TABLE corroborations ADD COLUMN remote_author TEXT;
ALTER TABLE corroborations ADD COLUMN state TEXT NOT NULL DEFAULT 'published'
    CHECK (state IN ('published', 'deleted'));
CREATE UNIQUE INDEX corroborations_ap_id ON corroborations (ap_id);
CREATE UNIQUE INDEX corroborations_remote_author ON corroborations (incident_pk, remote_author);

-- Events for every kind of federated content, and `announce`: the instance passes on a remote
-- reply to one of its own incidents.
CREATE TABLE federation_events_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete', 'announce')),
    object_type TEXT NOT NULL CHECK (object_type IN ('review', 'incident', 'corroboration')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO federation_events_next (id, kind, object_type, object_id, created_at)
    SELECT id, kind, object_type, object_id, created_at FROM federation_events;
DROP TABLE federation_events;
ALTER TABLE federation_events_next RENAME TO federation_events;

-- Which instance each delivery goes to, and how reachable each instance is: one that keeps
-- failing is marked unreachable and probed now and then, and its deliveries wait, not expire.
ALTER TABLE deliveries ADD COLUMN host TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET host = substr(inbox, instr(inbox, '://') + 3);
UPDATE deliveries SET host = substr(host, 1, instr(host, '/') - 1) WHERE instr(host, '/') > 0;
CREATE INDEX deliveries_host ON deliveries (host, state);

CREATE TABLE peer_instances (
    host TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    unreachable_since TIMESTAMP,
    next_probe_at TIMESTAMP,
    last_success_at TIMESTAMP,
    last_failure_at TIMESTAMP
);
