-- Background work finds the aggregates whose 30- or 90-day window has moved past a review.
CREATE INDEX requester_stats_valid_until ON requester_stats (valid_until);

-- Requester search by any part of a name, an earlier name or a platform ID through trigram
-- indexes: a substring query (LIKE '%…%') reads the index instead of every row. pg_trgm ships
-- with PostgreSQL and is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX requesters_name_trgm ON requesters USING gin (name_lower gin_trgm_ops);
CREATE INDEX requesters_id_trgm ON requesters USING gin (lower(requester_id) gin_trgm_ops);
CREATE INDEX requester_aliases_name_trgm ON requester_aliases USING gin (name_lower gin_trgm_ops);

-- Deliveries about one object reach each inbox in order (an Update never before its Create),
-- while everything else is sent in parallel: `object_key` names the object, and a delivery
-- waits while an earlier one of the same object to the same inbox is pending.
ALTER TABLE deliveries ADD COLUMN object_key TEXT;
CREATE INDEX deliveries_object_order ON deliveries (inbox, object_key, id) WHERE state = 'pending';

-- Whether an activity still has a delivery pending, asked once per delivery as it ends.
CREATE INDEX deliveries_outbox_pending ON deliveries (outbox_id, state);
