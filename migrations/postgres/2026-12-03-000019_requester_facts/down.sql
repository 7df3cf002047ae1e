ALTER TABLE reports DROP CONSTRAINT reports_target_type_check;
ALTER TABLE reports ADD CONSTRAINT reports_target_type_check
    CHECK (target_type IN ('review', 'incident', 'corroboration', 'comment', 'account'));
ALTER TABLE federation_events DROP CONSTRAINT federation_events_object_type_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_object_type_check
    CHECK (object_type IN ('review', 'incident', 'corroboration', 'comment', 'account', 'report'));
DROP TABLE requester_facts;
