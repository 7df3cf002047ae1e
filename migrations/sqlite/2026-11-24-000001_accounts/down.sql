DROP TABLE invites;
DROP TABLE sessions;
DROP TABLE users;
