-- What admins set in the browser: the instance's name, description and rules (shown on every
-- page, /about and NodeInfo) and the registration mode, which overrides the config file's.
CREATE TABLE instance_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
