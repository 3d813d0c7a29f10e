-- Admin API bearer tokens with roles (SQLite). Add-only: never edit an applied migration.
-- Only the SHA-256 of a token is kept: tokens are 32 random bytes, so a fast hash cannot be
-- brute-forced, and a leaked database grants nothing.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_sha256 TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN
                     ('platform-operator', 'tenant-super-admin', 'tenant-admin', 'tenant-member')),
    -- NULL exactly for platform operators; a tenant's tokens go with the tenant.
    tenant_id    TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    label        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    CHECK ((role = 'platform-operator') = (tenant_id IS NULL))
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, id);
