DROP INDEX deliveries_object_order;
ALTER TABLE deliveries DROP COLUMN object_key;
DROP TRIGGER requester_search_alias_delete;
DROP TRIGGER requester_search_alias_insert;
DROP TRIGGER requester_search_delete;
DROP TRIGGER requester_search_rename;
DROP TRIGGER requester_search_insert;
DROP TABLE requester_search;
DROP INDEX requester_stats_valid_until;
