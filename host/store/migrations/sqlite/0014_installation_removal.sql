-- Removing an installation whose plugin asked for the `removing` lifecycle hook takes two
-- steps: it is marked (and disabled) at once, and its data goes once the hook has run (or
-- was dead-lettered). Add-only: never edit an applied migration.
ALTER TABLE installations ADD COLUMN removing_since INTEGER;
