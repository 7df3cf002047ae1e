DROP TABLE counted_origins;
DROP TABLE requester_name_votes;
DROP TABLE remote_versions;
