-- Durable federation: every outgoing activity is written with the change that caused it, one
-- delivery row per remote inbox, worked off by the delivery worker; received activity ids, so a
-- redelivered activity is acknowledged and not applied twice; follows between local and remote actors.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    activity_id TEXT NOT NULL UNIQUE,
    actor TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE deliveries (
    id BIGSERIAL PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    inbox TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    UNIQUE (outbox_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);

CREATE TABLE received_activities (
    activity_id TEXT PRIMARY KEY,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE federation_follows (
    id BIGSERIAL PRIMARY KEY,
    local_actor TEXT NOT NULL,
    remote_actor TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    follow_activity_id TEXT NOT NULL,
    software TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (local_actor, remote_actor, direction)
);
