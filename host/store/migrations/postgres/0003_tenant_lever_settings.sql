-- Per-tenant Lever connection settings (not secret): the API base URL (Lever runs regional
-- instances) and the Lever user writes are attributed to (perform_as). NULL = host default.
ALTER TABLE tenants ADD COLUMN lever_base_url TEXT;
ALTER TABLE tenants ADD COLUMN lever_acting_user_id TEXT;
