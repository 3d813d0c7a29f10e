-- Fulcrum store, version 12 (SQLite): one Lever connection per installation.
-- Add-only: never edit an applied migration, add a new file.
-- "installation_id" is the installation's plugin id (`installations.plugin_id`): a tenant has
-- one installation per plugin. The tenant's `lever_credentials` row stays the default for
-- installations without a connection of their own. Sealed columns (ciphertext, nonce,
-- key_version) are bound to their row like the other secrets and rotated with them.

-- OAuth apps registered by the operator (client id and secret Lever issued).
CREATE TABLE lever_oauth_apps (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    ciphertext    BLOB NOT NULL,
    nonce         BLOB NOT NULL,
    key_version   INTEGER NOT NULL,
    authorize_url TEXT NOT NULL,
    token_url     TEXT NOT NULL,
    audience      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Which OAuth app a plugin's installations connect with.
CREATE TABLE plugin_lever_apps (
    plugin_id  TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES lever_oauth_apps(id),
    updated_at INTEGER NOT NULL
);

-- An installation's own Lever connection. The sealed secret is the API key, or for OAuth the
-- JSON {"access_token": ..., "refresh_token": ... | null}. `generation` goes up with every new
-- secret: a refresh or a status change names the generation it started from, so a reconnect
-- in between wins. `refresh_holder` / `refresh_lease_until`: the one worker refreshing now.
CREATE TABLE lever_connections (
    tenant_id           TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    installation_id     TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('api_key', 'oauth')),
    ciphertext          BLOB NOT NULL,
    nonce               BLOB NOT NULL,
    key_version         INTEGER NOT NULL,
    confidential        BOOLEAN NOT NULL DEFAULT 0,
    app_id              TEXT REFERENCES lever_oauth_apps(id),
    granted_scopes      TEXT,
    access_expires_at   INTEGER,
    status              TEXT NOT NULL CHECK (status IN ('connected', 'reconnect_needed')),
    status_detail       TEXT,
    generation          INTEGER NOT NULL DEFAULT 0,
    refresh_holder      TEXT,
    refresh_lease_until INTEGER,
    connected_by        TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, installation_id),
    CHECK (kind = 'api_key' OR app_id IS NOT NULL)
);
CREATE INDEX lever_connections_app ON lever_connections (app_id) WHERE app_id IS NOT NULL;

-- Pending OAuth connects: the SHA-256 (hex) of the `state` sent to Lever, never the state
-- itself, with the sealed PKCE verifier. Consumed once (`used_at`).
CREATE TABLE lever_oauth_states (
    state_hash      TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    installation_id TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    ciphertext      BLOB NOT NULL,
    nonce           BLOB NOT NULL,
    key_version     INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX lever_oauth_states_expiry ON lever_oauth_states (expires_at);

-- The Lever user an installation acts as (`perform_as`) and the users it may act as (JSON
-- array of Lever user ids).
CREATE TABLE installation_identities (
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    installation_id      TEXT NOT NULL,
    acting_user_id       TEXT,
    allowed_acting_users TEXT NOT NULL DEFAULT '[]',
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, installation_id)
);

-- Lever webhooks the host created for an installation, one per Lever event, with each
-- webhook's sealed signature token.
CREATE TABLE lever_managed_webhooks (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    installation_id  TEXT NOT NULL,
    event            TEXT NOT NULL,
    lever_webhook_id TEXT NOT NULL,
    url              TEXT NOT NULL,
    ciphertext       BLOB NOT NULL,
    nonce            BLOB NOT NULL,
    key_version      INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    checked_at       INTEGER,
    PRIMARY KEY (tenant_id, installation_id, event)
);

-- An event held back while its installation's Lever connection needs reconnecting: queued,
-- due again at its recheck time or as soon as the connection is back.
ALTER TABLE events ADD COLUMN paused BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX events_paused ON events (tenant_id, plugin_id) WHERE paused;
