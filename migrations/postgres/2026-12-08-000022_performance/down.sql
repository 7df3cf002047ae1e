DROP INDEX deliveries_outbox_pending;
DROP INDEX deliveries_object_order;
ALTER TABLE deliveries DROP COLUMN object_key;
-- pg_trgm stays: other databases' objects may use it, and it costs nothing unused.
DROP INDEX requester_aliases_name_trgm;
DROP INDEX requesters_id_trgm;
DROP INDEX requesters_name_trgm;
DROP INDEX requester_stats_valid_until;
