DROP TABLE federation_follows;
DROP TABLE received_activities;
DROP TABLE deliveries;
DROP TABLE outbox;
