ALTER TABLE users DROP COLUMN speaks_for;
DROP TABLE comments;
