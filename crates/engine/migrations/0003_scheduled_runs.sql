-- The fire time a scheduled run was for (Unix ms); NULL for runs not started by a schedule.
ALTER TABLE runs ADD COLUMN scheduled_at INTEGER;
