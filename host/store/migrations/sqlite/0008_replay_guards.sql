-- What the ingress remembers so that a captured request cannot be replayed, and the vendor
-- headers that carry credentials, sealed. Add-only.

-- Every verified Lever webhook delivery of a tenant, named by what Lever's signature covers
-- (SHA-256 of `token || triggeredAt`): consumed once, whatever its event type or whether a
-- plugin subscribed. `event_ids` is the JSON list of the queue ids it led to ([] when none),
-- so a redelivery gets the same answer. Kept a day (or twice the freshness window if
-- longer): older deliveries are refused as stale anyway.
CREATE TABLE lever_webhook_deliveries (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    delivery_key TEXT NOT NULL,
    triggered_at INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    event_ids    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, delivery_key)
);
CREATE INDEX lever_webhook_deliveries_received ON lever_webhook_deliveries (received_at);

-- Digest (SHA-256) of the body of every verified vendor request per installation, with the
-- event it became: the same signed request sent again within the replay window is that
-- event again, whatever its Idempotency-Key. No foreign key to events: retention may delete
-- an event before its digest expires.
CREATE TABLE vendor_request_digests (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plugin_id   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    event_id    INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, plugin_id, digest)
);
CREATE INDEX vendor_request_digests_received ON vendor_request_digests (received_at);

-- The credential headers (Authorization, Cookie, X-Api-Key, ...) of a vendor event, sealed
-- under the master key and bound to the event's id; the event's payload keeps only their
-- names and positions. Deleted with the event.
CREATE TABLE event_sealed_headers (
    event_id    INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    ciphertext  BLOB NOT NULL,
    nonce       BLOB NOT NULL,
    key_version INTEGER NOT NULL
);
