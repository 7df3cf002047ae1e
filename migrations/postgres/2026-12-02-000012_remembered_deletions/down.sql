DROP TABLE remembered_deletions;
