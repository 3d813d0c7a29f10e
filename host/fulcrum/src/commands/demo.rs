//! `fulcrum demo`: runs `fulcrum-demo` (host/demo) with this binary's store settings. Only in
//! builds with the `demo` feature (the default); a production build without it answers with
//! how to get the demo.

#[cfg(feature = "demo")]
pub async fn run(args: fulcrum_demo::DemoArgs) -> anyhow::Result<()> {
    fulcrum_demo::run(args, &DemoDataDir).await
}

#[cfg(not(feature = "demo"))]
pub async fn run() -> anyhow::Result<()> {
    anyhow::bail!(
        "this fulcrum was built without the demo (--no-default-features); run it from a clone \
         with `cargo run -p fulcrum -- demo`"
    )
}

/// The demo's store: embedded SQLite in its data dir, opened like every other command's store
/// in demo mode (a generated master key kept in the data dir).
#[cfg(feature = "demo")]
struct DemoDataDir;

#[cfg(feature = "demo")]
impl DemoDataDir {
    fn store_args(data_dir: &std::path::Path) -> crate::commands::serve::StoreArgs {
        crate::commands::serve::StoreArgs {
            data_dir: data_dir.to_owned(),
            database_url: None,
            demo: true,
        }
    }
}

#[cfg(feature = "demo")]
#[async_trait::async_trait]
impl fulcrum_demo::DemoStorage for DemoDataDir {
    async fn open(&self, data_dir: &std::path::Path) -> anyhow::Result<fulcrum_store::Store> {
        Self::store_args(data_dir).open().await
    }

    fn components_dir(&self, data_dir: &std::path::Path) -> std::path::PathBuf {
        Self::store_args(data_dir).components_dir()
    }

    fn component_cache_dir(&self, data_dir: &std::path::Path) -> std::path::PathBuf {
        Self::store_args(data_dir).component_cache_dir()
    }
}
