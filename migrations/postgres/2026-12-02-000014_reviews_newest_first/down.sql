DROP INDEX reviews_published_newest;
DROP INDEX reviews_requester_newest;
