-- When the run's process started (seconds since the epoch, as the OS reports it): with the pid
-- it identifies the process even after the pid has been reused by another one.
ALTER TABLE runs ADD COLUMN proc_start INTEGER;
