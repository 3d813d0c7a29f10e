-- Admin API tokens may expire (PostgreSQL). Add-only: never edit an applied migration.
-- Unix milliseconds after which the token no longer authenticates; NULL: it never expires
-- (every token issued before this migration).
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
