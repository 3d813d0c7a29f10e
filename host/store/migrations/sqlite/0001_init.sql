-- Fulcrum store, initial schema (SQLite). Add-only: never edit an applied migration, add a new file.
-- Times are unix milliseconds (INTEGER) and JSON is TEXT so both backends behave identically.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE lever_credentials (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('api_key', 'oauth')),
    ciphertext  BLOB NOT NULL,
    nonce       BLOB NOT NULL,
    key_version INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE plugins (
    id               TEXT NOT NULL,
    version          TEXT NOT NULL,
    component_sha256 TEXT NOT NULL,
    manifest         TEXT NOT NULL,
    installed_at     INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE installations (
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id            TEXT NOT NULL,
    enabled              BOOLEAN NOT NULL DEFAULT 0,
    approved_permissions TEXT NOT NULL DEFAULT '[]',
    config               TEXT NOT NULL DEFAULT '{}',
    schedule_overrides   TEXT NOT NULL DEFAULT '{}',
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id)
);

CREATE TABLE installation_secrets (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    ciphertext  BLOB NOT NULL,
    nonce       BLOB NOT NULL,
    key_version INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, name)
);

CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    subject_key     TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    claimed_by      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Claiming scans queued events that are due.
CREATE INDEX events_claim ON events (status, next_attempt_at, id);
-- Per-subject ordering looks for earlier unfinished events of the same subject.
CREATE INDEX events_subject ON events (tenant_id, plugin_id, subject_key, id);

CREATE TABLE effect_journal (
    event_id       INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    call_seq       INTEGER NOT NULL,
    operation      TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    response       TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (event_id, call_seq)
);

CREATE TABLE plugin_state (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, key)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    tenant_id  TEXT NOT NULL,
    plugin_id  TEXT,
    event_id   INTEGER,
    operation  TEXT NOT NULL,
    permission TEXT,
    outcome    TEXT NOT NULL,
    detail     TEXT
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
