DROP TABLE remote_actors;
DROP TABLE actor_keys;
