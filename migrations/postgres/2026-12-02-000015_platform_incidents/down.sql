DROP INDEX incidents_platform;
