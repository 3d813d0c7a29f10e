//! `fulcrum keygen`: a fresh master key, printed once to stdout and nowhere else.

use fulcrum_store::MasterKey;
use secrecy::ExposeSecret;

pub fn run() -> anyhow::Result<()> {
    let key = MasterKey::generate();
    println!("{}", key.to_base64().expose_secret());
    eprintln!(
        "Key id {:08x} (recorded with every row it encrypts). Keep this key in your secret \
         manager and start the host with FULCRUM_MASTER_KEY set to it (or FULCRUM_MASTER_KEY_FILE \
         pointing at a file holding it). Losing it makes stored credentials and secrets \
         unreadable. To replace an older key, set that one as FULCRUM_PREVIOUS_MASTER_KEY and \
         run `fulcrum keys rotate`.",
        key.id()
    );
    Ok(())
}
