-- Federation actors: the signing keys of this instance's own actors (the instance, workers,
-- requester feeds), and the actors of other servers as last fetched from their origin.
CREATE TABLE actor_keys (
    actor TEXT PRIMARY KEY,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE remote_actors (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    username TEXT NOT NULL,
    name TEXT,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    outbox TEXT,
    public_key_pem TEXT NOT NULL,
    fetched_at TIMESTAMP NOT NULL
);
