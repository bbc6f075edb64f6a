-- How long finished outbox records (e-mails, webhook deliveries) and expired tokens (account links,
-- refresh tokens) are kept before the `record-retention` job deletes them (jobs/tasks.py). Nothing
-- pending is ever deleted; notifications, the users' own inbox, are kept.
INSERT INTO settings (key, value, description) VALUES
    ('record_retention_days', 90,
     'Finished e-mails and webhook deliveries, and tokens expired, longer ago than this are deleted');
