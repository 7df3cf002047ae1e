-- Reviews are listed newest first (a requester's twenty at a time, and the home page's latest):
-- backward index range scans, whatever the planner's statistics say after a bulk load.
CREATE INDEX reviews_requester_newest ON reviews (requester_pk, state, id);
CREATE INDEX reviews_published_newest ON reviews (state, id);
