-- The author's own time of the version held of each remote review, incident or corroboration,
-- by ActivityPub id: an Update no newer than the held version (a replay under a new id, a late
-- delivery) is ignored.
CREATE TABLE remote_versions (
    ap_id TEXT PRIMARY KEY,
    version TIMESTAMP NOT NULL
);

-- Which name each reviewer (a local account or a remote actor) last gave a requester in a
-- published review: the current name is the one most reviewers use, so no one worker renames
-- a requester for everybody.
CREATE TABLE requester_name_votes (
    requester_pk BIGINT NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    name TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (requester_pk, voter)
);

-- The other instances whose content counts in aggregates and waves: those a local actor follows
-- (accepted) and those an allow rule names. Content from anywhere else is stored and shown, but
-- a swarm of throwaway instances cannot move the figures.
CREATE TABLE counted_origins (
    origin TEXT PRIMARY KEY
);

-- Outgoing activities no delivery waits for any more keep no body (what they said is not kept
-- for ever); from now on bodies are blanked as their last delivery ends.
UPDATE outbox SET body = '' WHERE id NOT IN (SELECT outbox_id FROM deliveries WHERE state = 'pending');
