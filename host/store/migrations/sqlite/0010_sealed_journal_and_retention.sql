-- Journaled answers (Lever reads and writes: candidate data) are sealed under the master key
-- like secrets, bound to their (event_id, call_seq) row, with the id of the sealing key.
-- Add-only: `response` keeps the plaintext of rows written before; new rows leave it NULL.
ALTER TABLE effect_journal ADD COLUMN response_ciphertext BLOB;
ALTER TABLE effect_journal ADD COLUMN response_nonce BLOB;
ALTER TABLE effect_journal ADD COLUMN response_key_version INTEGER;
-- Retention deletes audit rows older than its age in bounded batches, by time.
CREATE INDEX audit_log_at ON audit_log (at);
