-- ActivityPub ids of remote objects deleted before this instance held them (a Delete that
-- overtook its Create): a late Create, Update or fetch of one stores nothing, as a tombstone
-- would ensure for a copy held. Kept as long as received activity ids, and only the id.
CREATE TABLE remembered_deletions (
    ap_id TEXT PRIMARY KEY,
    deleted_at TIMESTAMP NOT NULL
);
