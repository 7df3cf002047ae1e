-- Incidents about a platform as a whole (no requester), listed per platform newest first.
CREATE INDEX incidents_platform ON incidents (platform, id) WHERE requester_pk IS NULL;
