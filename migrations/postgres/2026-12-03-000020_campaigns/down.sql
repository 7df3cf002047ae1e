ALTER TABLE federation_events DROP CONSTRAINT federation_events_object_type_check;
ALTER TABLE federation_events ADD CONSTRAINT federation_events_object_type_check
    CHECK (object_type IN ('review', 'incident', 'corroboration', 'comment', 'fact', 'account', 'report'));
DROP TABLE campaign_signatures;
DROP TABLE campaigns;
