-- Fulcrum store, version 2 (PostgreSQL): event dedupe keys, claim leases, schedules.
-- Add-only: never edit an applied migration, add a new file.

-- An enqueue carrying a key already used by the same tenant × plugin inserts nothing.
ALTER TABLE events ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX events_dedupe ON events (tenant_id, plugin_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL;

-- A running event whose lease has run out belongs to a lost worker and is queued again.
ALTER TABLE events ADD COLUMN lease_until BIGINT;
CREATE INDEX events_lease ON events (status, lease_until);

-- Recurring timers of installed plugins; one worker fires each due slot.
CREATE TABLE schedules (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    every_ms      BIGINT NOT NULL CHECK (every_ms > 0),
    next_fire_at  BIGINT NOT NULL,
    last_fired_at BIGINT,
    PRIMARY KEY (tenant_id, plugin_id, name)
);
CREATE INDEX schedules_due ON schedules (next_fire_at);
