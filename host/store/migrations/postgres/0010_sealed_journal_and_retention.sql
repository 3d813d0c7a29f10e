-- Journaled answers (Lever reads and writes: candidate data) are sealed under the master key
-- like secrets, bound to their (event_id, call_seq) row, with the id of the sealing key.
-- Add-only: `response` keeps the plaintext of rows written before; new rows leave it NULL.
ALTER TABLE effect_journal ADD COLUMN response_ciphertext BYTEA;
ALTER TABLE effect_journal ADD COLUMN response_nonce BYTEA;
ALTER TABLE effect_journal ADD COLUMN response_key_version BIGINT;
-- Retention deletes audit rows older than its age in bounded batches, by time.
CREATE INDEX audit_log_at ON audit_log (at);
