-- Fulcrum store, version 9 (PostgreSQL): fenced claims, tries counted when claimed, schedule runs.
-- Add-only: never edit an applied migration, add a new file.

-- How many times each event was claimed, never reset: every transition of a running event
-- names the claim it holds, so a worker whose lease ran out cannot finish, fail or extend an
-- event that was claimed again since.
ALTER TABLE events ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;

-- The schedule that fired the event (NULL for other events): a dead run does not hold back the
-- schedule's next runs, and a schedule keeps at most one run queued.
ALTER TABLE events ADD COLUMN schedule_name TEXT;
CREATE INDEX events_queued_schedule_runs ON events (tenant_id, plugin_id, schedule_name)
    WHERE schedule_name IS NOT NULL AND status = 'queued';

-- `attempts` now counts the tries made, counted at claim time; it counted failures before, so
-- a running event had not counted its current try nor a done event its last one.
UPDATE events SET attempts = attempts + 1 WHERE status IN ('running', 'done');
UPDATE events SET claims = attempts;
