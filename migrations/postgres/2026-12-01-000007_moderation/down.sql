DELETE FROM federation_events WHERE kind IN ('remove', 'restore') OR object_type IN ('account', 'report');
ALTER TABLE federation_events DROP COLUMN next_attempt_at;
ALTER TABLE federation_events DROP COLUMN attempts;
ALTER TABLE federation_events DROP CONSTRAINT federation_events_object_type_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_object_type_check
    CHECK (object_type IN ('review', 'incident', 'corroboration'));
ALTER TABLE federation_events DROP CONSTRAINT federation_events_kind_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_kind_check
    CHECK (kind IN ('create', 'update', 'delete', 'announce'));
DROP TABLE hidden_origins;
DROP TABLE list_subscriptions;
DROP TABLE domain_rules;
DROP TABLE modlog;
DROP TABLE reports;
