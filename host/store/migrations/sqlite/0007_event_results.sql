-- What an admin action answered (JSON text), kept with its event so the admin API can show it.
-- NULL for other events and for actions that have not completed.
ALTER TABLE events ADD COLUMN result TEXT;
