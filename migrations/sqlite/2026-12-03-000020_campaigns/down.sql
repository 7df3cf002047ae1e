DROP TABLE campaign_signatures;
DROP TABLE campaigns;
