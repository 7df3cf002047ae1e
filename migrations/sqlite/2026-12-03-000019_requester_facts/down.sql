DROP TABLE requester_facts;
