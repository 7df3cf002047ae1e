-- Background work finds the aggregates whose 30- or 90-day window has moved past a review.
CREATE INDEX requester_stats_valid_until ON requester_stats (valid_until);

-- Requester search by any part of a name, an earlier name or a platform ID, through SQLite's
-- trigram index (FTS5): a substring query reads the index instead of every row. Kept by the
-- triggers below; the rowid says what a term is: 4n a requester's name, 4n+1 its ID (n its
-- id), 4n+2 an earlier name (n the alias's id). PostgreSQL searches the tables themselves
-- through pg_trgm indexes instead.
CREATE VIRTUAL TABLE requester_search USING fts5 (term, requester_pk UNINDEXED, tokenize = 'trigram');
INSERT INTO requester_search (rowid, term, requester_pk) SELECT id * 4, name_lower, id FROM requesters;
INSERT INTO requester_search (rowid, term, requester_pk) SELECT id * 4 + 1, lower(requester_id), id FROM requesters;
INSERT INTO requester_search (rowid, term, requester_pk) SELECT id * 4 + 2, name_lower, requester_pk FROM requester_aliases;

CREATE TRIGGER requester_search_insert AFTER INSERT ON requesters BEGIN
    INSERT INTO requester_search (rowid, term, requester_pk)
        VALUES (new.id * 4, new.name_lower, new.id), (new.id * 4 + 1, lower(new.requester_id), new.id);
END;
CREATE TRIGGER requester_search_rename AFTER UPDATE OF name_lower ON requesters BEGIN
    UPDATE requester_search SET term = new.name_lower WHERE rowid = new.id * 4;
END;
CREATE TRIGGER requester_search_delete AFTER DELETE ON requesters BEGIN
    DELETE FROM requester_search WHERE rowid IN (old.id * 4, old.id * 4 + 1);
END;
CREATE TRIGGER requester_search_alias_insert AFTER INSERT ON requester_aliases BEGIN
    INSERT INTO requester_search (rowid, term, requester_pk) VALUES (new.id * 4 + 2, new.name_lower, new.requester_pk);
END;
CREATE TRIGGER requester_search_alias_delete AFTER DELETE ON requester_aliases BEGIN
    DELETE FROM requester_search WHERE rowid = old.id * 4 + 2;
END;

-- Deliveries about one object reach each inbox in order (an Update never before its Create),
-- while everything else is sent in parallel: `object_key` names the object, and a delivery
-- waits while an earlier one of the same object to the same inbox is pending.
ALTER TABLE deliveries ADD COLUMN object_key TEXT;
CREATE INDEX deliveries_object_order ON deliveries (inbox, object_key, id) WHERE state = 'pending';

-- Whether an activity still has a delivery pending, asked once per delivery as it ends.
CREATE INDEX deliveries_outbox_pending ON deliveries (outbox_id, state);
