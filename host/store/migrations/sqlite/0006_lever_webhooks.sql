-- Lever webhook signature tokens per tenant, encrypted like installation secrets. Lever gives
-- each webhook (one per event type) its own token, so a tenant may have several; `name`
-- is the admin's label for one (e.g. the Lever webhook id or the event type).
CREATE TABLE lever_webhook_tokens (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    ciphertext  BLOB NOT NULL,
    nonce       BLOB NOT NULL,
    key_version INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
