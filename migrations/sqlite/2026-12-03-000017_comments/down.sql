-- SQLite cannot drop a column that a foreign key names: `users.speaks_for` stays, unused.
DROP TABLE comments;
