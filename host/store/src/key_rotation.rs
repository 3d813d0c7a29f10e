//! Master key rotation: re-encrypts every sealed column under the keyring's current key.
//!
//! The store opens with the new key as current and the old one as previous
//! ([`crate::StoreOptions::previous_key`]), so every read works during the rotation (each row
//! records the id of the key that sealed it). [`Store::reencrypt_batch`] then moves a bounded
//! batch of rows of each table to the current key; [`Store::reencrypt_all`] repeats until
//! none is left. Journal answers still in plaintext (written before migration 0010) are sealed
//! on the way. A row rewritten concurrently (a new secret) is left alone: the compare-and-set
//! on its nonce fails, and the new value is already under the current key.

use crate::crypto::RowIdentity;
use crate::journal_sealing::{SealedColumns, open_response, seal_response};
use crate::{Result, Store};
use sqlx::Row as _;

/// A table with sealed columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptedTable {
    LeverCredentials,
    InstallationSecrets,
    LeverWebhookTokens,
    /// Credential headers of vendor events (migration 0008).
    EventSealedHeaders,
    /// Journaled Lever answers (`response_*` columns).
    EffectJournal,
    /// Installations' Lever API keys and OAuth tokens (migration 0012).
    LeverConnections,
    /// OAuth apps' client secrets.
    LeverOAuthApps,
    /// Pending OAuth connects' PKCE verifiers.
    LeverOAuthStates,
    /// Host-managed Lever webhooks' signature tokens.
    LeverManagedWebhooks,
}

impl EncryptedTable {
    /// Every table with a sealed column; a new one must be added here to be rotated.
    pub const ALL: [Self; 9] = [
        Self::LeverCredentials,
        Self::InstallationSecrets,
        Self::LeverWebhookTokens,
        Self::EventSealedHeaders,
        Self::EffectJournal,
        Self::LeverConnections,
        Self::LeverOAuthApps,
        Self::LeverOAuthStates,
        Self::LeverManagedWebhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeverCredentials => "lever_credentials",
            Self::InstallationSecrets => "installation_secrets",
            Self::LeverWebhookTokens => "lever_webhook_tokens",
            Self::EventSealedHeaders => "event_sealed_headers",
            Self::EffectJournal => "effect_journal",
            Self::LeverConnections => "lever_connections",
            Self::LeverOAuthApps => "lever_oauth_apps",
            Self::LeverOAuthStates => "lever_oauth_states",
            Self::LeverManagedWebhooks => "lever_managed_webhooks",
        }
    }

    /// The columns naming a row, in the order its `RowIdentity` lists them (the journal's
    /// answers are handled apart).
    fn key_columns(self) -> &'static [(&'static str, KeyType)] {
        use KeyType::{Integer, Text};
        match self {
            Self::LeverCredentials => &[("tenant_id", Text), ("kind", Text)],
            Self::InstallationSecrets => {
                &[("tenant_id", Text), ("plugin_id", Text), ("name", Text)]
            }
            Self::LeverWebhookTokens => &[("tenant_id", Text), ("name", Text)],
            Self::EventSealedHeaders => &[("event_id", Integer)],
            Self::EffectJournal => &[],
            Self::LeverConnections => &[
                ("tenant_id", Text),
                ("installation_id", Text),
                ("kind", Text),
            ],
            Self::LeverOAuthApps => &[("id", Text)],
            Self::LeverOAuthStates => &[
                ("state_hash", Text),
                ("tenant_id", Text),
                ("installation_id", Text),
            ],
            Self::LeverManagedWebhooks => &[
                ("tenant_id", Text),
                ("installation_id", Text),
                ("event", Text),
            ],
        }
    }
}

/// The SQL type of a key column.
#[derive(Debug, Clone, Copy)]
enum KeyType {
    Text,
    Integer,
}

/// One key column's value of a row.
enum KeyValue {
    Text(String),
    Integer(i64),
}

impl KeyValue {
    /// As it appears in the row's `RowIdentity`.
    fn identity_part(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Integer(n) => n.to_string(),
        }
    }
}

/// Rows per table: re-encrypted by a batch, or (from [`Store::rows_to_reencrypt`]) still
/// not sealed under the current key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationProgress {
    pub lever_credentials: u64,
    pub installation_secrets: u64,
    pub lever_webhook_tokens: u64,
    pub event_sealed_headers: u64,
    pub effect_journal: u64,
    pub lever_connections: u64,
    pub lever_oauth_apps: u64,
    pub lever_oauth_states: u64,
    pub lever_managed_webhooks: u64,
}

impl RotationProgress {
    pub fn get(&self, table: EncryptedTable) -> u64 {
        match table {
            EncryptedTable::LeverCredentials => self.lever_credentials,
            EncryptedTable::InstallationSecrets => self.installation_secrets,
            EncryptedTable::LeverWebhookTokens => self.lever_webhook_tokens,
            EncryptedTable::EventSealedHeaders => self.event_sealed_headers,
            EncryptedTable::EffectJournal => self.effect_journal,
            EncryptedTable::LeverConnections => self.lever_connections,
            EncryptedTable::LeverOAuthApps => self.lever_oauth_apps,
            EncryptedTable::LeverOAuthStates => self.lever_oauth_states,
            EncryptedTable::LeverManagedWebhooks => self.lever_managed_webhooks,
        }
    }

    fn slot(&mut self, table: EncryptedTable) -> &mut u64 {
        match table {
            EncryptedTable::LeverCredentials => &mut self.lever_credentials,
            EncryptedTable::InstallationSecrets => &mut self.installation_secrets,
            EncryptedTable::LeverWebhookTokens => &mut self.lever_webhook_tokens,
            EncryptedTable::EventSealedHeaders => &mut self.event_sealed_headers,
            EncryptedTable::EffectJournal => &mut self.effect_journal,
            EncryptedTable::LeverConnections => &mut self.lever_connections,
            EncryptedTable::LeverOAuthApps => &mut self.lever_oauth_apps,
            EncryptedTable::LeverOAuthStates => &mut self.lever_oauth_states,
            EncryptedTable::LeverManagedWebhooks => &mut self.lever_managed_webhooks,
        }
    }

    pub fn total(&self) -> u64 {
        EncryptedTable::ALL.iter().map(|t| self.get(*t)).sum()
    }

    fn add(&mut self, other: &Self) {
        for table in EncryptedTable::ALL {
            *self.slot(table) += other.get(table);
        }
    }
}

/// A secret row to move to the current key.
struct SealedSecret {
    key: Vec<KeyValue>,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
}

/// A journal row whose answer is in plaintext or under an old key.
#[derive(sqlx::FromRow)]
struct JournalAnswer {
    event_id: i64,
    call_seq: i64,
    response: Option<String>,
    #[sqlx(flatten)]
    sealed: SealedColumns,
}

impl Store {
    /// How many rows of each table are not sealed under the current key.
    pub async fn rows_to_reencrypt(&self) -> Result<RotationProgress> {
        let current = self.key().version();
        let mut progress = RotationProgress::default();
        for table in EncryptedTable::ALL {
            let sql = match table {
                EncryptedTable::EffectJournal => {
                    "SELECT COUNT(*) FROM effect_journal WHERE status = 'done'
                       AND (response IS NOT NULL OR response_key_version <> $1)"
                        .to_owned()
                }
                other => format!(
                    "SELECT COUNT(*) FROM {} WHERE key_version <> $1",
                    other.as_str()
                ),
            };
            let n: i64 = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
                sqlx::AssertSqlSafe(sql.clone())
            )
            .bind(current)
            .fetch_one(pool)
            .await?);
            *progress.slot(table) = u64::try_from(n).unwrap_or(0);
        }
        Ok(progress)
    }

    /// Re-encrypts up to `limit` rows of each table under the current key; returns how many
    /// it moved. A row no loaded key opens is an error naming it (nothing is rewritten).
    pub async fn reencrypt_batch(&self, limit: u32) -> Result<RotationProgress> {
        let limit = i64::from(limit.max(1));
        let mut done = RotationProgress::default();
        for table in EncryptedTable::ALL {
            *done.slot(table) = match table {
                EncryptedTable::EffectJournal => self.reencrypt_journal(limit).await?,
                secrets => self.reencrypt_secrets(secrets, limit).await?,
            };
        }
        Ok(done)
    }

    /// Runs [`Store::reencrypt_batch`] until a batch finds nothing left; returns the total.
    pub async fn reencrypt_all(&self, batch: u32) -> Result<RotationProgress> {
        let mut total = RotationProgress::default();
        loop {
            let done = self.reencrypt_batch(batch).await?;
            if done.total() == 0 {
                return Ok(total);
            }
            total.add(&done);
        }
    }

    async fn reencrypt_secrets(&self, table: EncryptedTable, limit: i64) -> Result<u64> {
        let columns = table.key_columns();
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let select = format!(
            "SELECT {}, ciphertext, nonce, key_version FROM {} WHERE key_version <> $1 LIMIT $2",
            names.join(", "),
            table.as_str()
        );
        let current = self.key().version();
        let rows: Vec<SealedSecret> = on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(select.clone()))
                .bind(current)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut key = Vec::with_capacity(columns.len());
                for (i, (_, kind)) in columns.iter().enumerate() {
                    key.push(match kind {
                        KeyType::Text => KeyValue::Text(row.try_get(i)?),
                        KeyType::Integer => KeyValue::Integer(row.try_get(i)?),
                    });
                }
                out.push(SealedSecret {
                    key,
                    ciphertext: row.try_get(columns.len())?,
                    nonce: row.try_get(columns.len() + 1)?,
                    key_version: row.try_get(columns.len() + 2)?,
                });
            }
            out
        });
        // Compare-and-set on the old nonce: a value written meanwhile is already current.
        let conditions: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 5))
            .collect();
        let update = format!(
            "UPDATE {} SET ciphertext = $1, nonce = $2, key_version = $3 WHERE nonce = $4 AND {}",
            table.as_str(),
            conditions.join(" AND ")
        );
        let mut moved = 0;
        for row in rows {
            let parts: Vec<String> = row.key.iter().map(KeyValue::identity_part).collect();
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            let identity = RowIdentity::new(table.as_str(), &parts);
            let plaintext =
                self.key()
                    .decrypt(&identity, &row.ciphertext, &row.nonce, row.key_version)?;
            let (ciphertext, nonce) = self.key().encrypt(&identity, &plaintext)?;
            let n = on_pool!(self, |pool| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                    .bind(&ciphertext)
                    .bind(&nonce)
                    .bind(current)
                    .bind(&row.nonce);
                for part in &row.key {
                    query = match part {
                        KeyValue::Text(text) => query.bind(text),
                        KeyValue::Integer(n) => query.bind(*n),
                    };
                }
                query.execute(pool).await?.rows_affected()
            });
            moved += n;
        }
        Ok(moved)
    }

    async fn reencrypt_journal(&self, limit: i64) -> Result<u64> {
        let current = self.key().version();
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, JournalAnswer>(
            "SELECT event_id, call_seq, response, response_ciphertext, response_nonce,
                 response_key_version
             FROM effect_journal WHERE status = 'done'
               AND (response IS NOT NULL OR response_key_version <> $1)
             LIMIT $2"
        )
        .bind(current)
        .bind(limit)
        .fetch_all(pool)
        .await?);
        let mut moved = 0;
        for row in rows {
            let answer = open_response(
                self.key(),
                row.event_id,
                row.call_seq,
                row.response.as_deref(),
                &row.sealed,
            )?
            .unwrap_or_default();
            let sealed = seal_response(self.key(), row.event_id, row.call_seq, &answer)?;
            // A recorded answer never changes, so no compare-and-set beyond the row still
            // being there (a replay may have forgotten it meanwhile).
            let n = on_pool!(self, |pool| sqlx::query(
                "UPDATE effect_journal SET response = NULL, response_ciphertext = $3,
                     response_nonce = $4, response_key_version = $5
                 WHERE event_id = $1 AND call_seq = $2 AND status = 'done'"
            )
            .bind(row.event_id)
            .bind(row.call_seq)
            .bind(&sealed.ciphertext)
            .bind(&sealed.nonce)
            .bind(sealed.key_version)
            .execute(pool)
            .await?
            .rows_affected());
            moved += n;
        }
        Ok(moved)
    }
}
