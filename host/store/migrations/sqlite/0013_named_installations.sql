-- Several installations of one plugin per tenant. Add-only: never edit an applied migration.
-- `installations.plugin_id` stays the installation's id within its tenant (events, plugin
-- state, secrets, schedules, connections and audit rows key on it); `plugin` names the plugin
-- it runs (NULL: the same as its id, as for every installation made before this migration);
-- `name` is what the tenant's admins call it (e.g. one per career site).
ALTER TABLE installations ADD COLUMN plugin TEXT;
ALTER TABLE installations ADD COLUMN name TEXT;
