//! `fulcrum keys rotate|status`: moving every encrypted column to a new master key.
//!
//! Rotation: `fulcrum keygen` a new key; give every host the new key as `FULCRUM_MASTER_KEY`
//! and the old one as `FULCRUM_PREVIOUS_MASTER_KEY` (or `..._FILE`) and restart them: they
//! read rows of either key (each row records the id of its key), write with the new one and
//! re-encrypt the old rows in the background. `fulcrum keys rotate` does the same
//! re-encryption in the foreground and says when the old key may go.

use crate::commands::serve::StoreArgs;
use anyhow::bail;
use clap::Subcommand;
use fulcrum_store::{EncryptedTable, RotationProgress, Store};
use std::time::Duration;

/// Rows re-encrypted per table and statement batch.
const BATCH: u32 = 500;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every encrypted column (Lever credentials, installation secrets, Lever
    /// webhook tokens, vendor events' credential headers, journaled Lever answers) under
    /// FULCRUM_MASTER_KEY, opening old rows with FULCRUM_PREVIOUS_MASTER_KEY (or
    /// FULCRUM_PREVIOUS_MASTER_KEY_FILE).
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// How many rows of each table are not yet under the current master key.
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate { store } => rotate(&store).await,
        KeysCommand::Status { store } => status(&store).await,
    }
}

fn describe_keys(store: &Store) -> String {
    let keys = store.keyring();
    match keys.previous_version() {
        Some(previous) => format!(
            "current master key {:08x}, previous {previous:08x}",
            keys.version(),
        ),
        None => format!(
            "current master key {:08x} (no FULCRUM_PREVIOUS_MASTER_KEY set)",
            keys.version()
        ),
    }
}

fn print_rows(label: &str, progress: &RotationProgress) {
    for table in EncryptedTable::ALL {
        println!("  {:<22} {} {label}", table.as_str(), progress.get(table));
    }
}

async fn rotate(args: &StoreArgs) -> anyhow::Result<()> {
    let store = args.open().await?;
    println!("{}", describe_keys(&store));
    let moved = store.reencrypt_all(BATCH).await;
    let left = store.rows_to_reencrypt().await;
    store.close().await;
    let moved = moved?;
    print_rows("re-encrypted", &moved);
    let left = left?;
    if left.total() > 0 {
        print_rows("left", &left);
        bail!(
            "{} rows are still under another key: a host still running with the old key as \
             FULCRUM_MASTER_KEY wrote them meanwhile; give every host the new key and run \
             `fulcrum keys rotate` again",
            left.total()
        );
    }
    println!(
        "every encrypted row is under the current master key: FULCRUM_PREVIOUS_MASTER_KEY can be removed"
    );
    Ok(())
}

async fn status(args: &StoreArgs) -> anyhow::Result<()> {
    let store = args.open().await?;
    println!("{}", describe_keys(&store));
    let left = store.rows_to_reencrypt().await;
    store.close().await;
    print_rows("not under the current key", &left?);
    Ok(())
}

/// What `serve` runs when started with a previous key: re-encrypts batch by batch, leaving
/// the database to the workers in between, and logs the outcome.
pub async fn reencrypt_in_background(store: Store) {
    let mut total = 0;
    loop {
        match store.reencrypt_batch(BATCH).await {
            Ok(done) if done.total() == 0 => break,
            Ok(done) => total += done.total(),
            Err(error) => {
                tracing::error!(%error, "re-encrypting under the new master key stopped; fix the row named and restart, or run `fulcrum keys rotate`");
                return;
            }
        }
        // Throttle, not synchronisation: one batch at a time leaves room for the workers.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::info!(
        rows = total,
        key = %format_args!("{:08x}", store.keyring().version()),
        "every encrypted row is under the current master key; FULCRUM_PREVIOUS_MASTER_KEY can be removed"
    );
}
