//! Precompiled components on disk, keyed by the component's content hash and the engine's
//! compatibility hash, so a component is compiled once per engine configuration and every
//! later load is an mmap.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Hit/miss counters (for tests and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Loaded from a precompiled file.
    pub hits: u64,
    /// Compiled (no file, or an unusable one).
    pub misses: u64,
    /// Files found corrupt or incompatible and recompiled.
    pub rejected: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot use the component cache directory {dir}: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("the component does not compile: {0}")]
    Compile(String),
    #[error("cannot write the precompiled component to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the precompiled component {path}: {message}")]
    Load { path: PathBuf, message: String },
}

pub(crate) struct ComponentCache {
    dir: PathBuf,
    engine_hash: String,
    hits: AtomicU64,
    misses: AtomicU64,
    rejected: AtomicU64,
}

impl ComponentCache {
    pub(crate) fn new(engine: &Engine, dir: &Path) -> Result<Self, CacheError> {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::Dir {
            dir: dir.to_owned(),
            source,
        })?;
        let mut hasher = Sha256Hasher::default();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = hex::encode(&hasher.0.finalize()[..8]);
        Ok(ComponentCache {
            dir: dir.to_owned(),
            engine_hash,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        })
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// The file a component with this content hash is cached in.
    pub(crate) fn path_for(&self, content_hash: &str) -> PathBuf {
        self.dir
            .join(format!("{content_hash}-{}.cwasm", self.engine_hash))
    }

    /// Loads the component from the cache, compiling (and caching) it on a miss. Blocking:
    /// call from a blocking thread.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        content_hash: &str,
    ) -> Result<Component, CacheError> {
        let path = self.path_for(content_hash);
        if path.exists() {
            match deserialize(engine, &path) {
                Ok(component) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(component);
                }
                Err(message) => {
                    // Truncated, corrupt or from another engine build: recompile, never fail.
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(path = %path.display(), %message, "discarding unusable precompiled component");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| CacheError::Compile(format!("{e:#}")))?;
        write_atomically(&path, &compiled)?;
        deserialize(engine, &path).map_err(|message| CacheError::Load { path, message })
    }
}

fn deserialize(engine: &Engine, path: &Path) -> Result<Component, String> {
    // SAFETY: `deserialize_file` trusts the file to be a wasmtime artifact produced by a
    // compatible engine, because it maps it as executable code. We only ever load files from
    // our own cache directory, written by `precompile_component` of this process (or an
    // earlier one) under a name keyed by the component's sha256 and the engine's
    // compatibility hash, and written atomically (tmp + rename) so a crash never leaves a
    // partial file under the final name, and a file is only ever replaced by rename, never
    // modified in place (the mapping would see the change). Wasmtime still checks the header and engine
    // compatibility and returns an error (→ recompile) on mismatch. The cache directory must
    // be writable only by this service.
    #[allow(unsafe_code)]
    let loaded = unsafe { Component::deserialize_file(engine, path) };
    loaded.map_err(|e| format!("{e:#}"))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    // A unique temporary name: concurrent installs of the same component (other tasks or
    // processes sharing the directory) must not write into each other's files.
    let tmp = path.with_extension(format!(
        "tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(source) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(CacheError::Write {
            path: path.to_owned(),
            source,
        });
    }
    Ok(())
}

/// sha256 of a component's bytes, hex.
pub(crate) fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Feeds `Hash` output into sha256 so the engine hash is stable across processes (unlike
/// `DefaultHasher`'s keys, which are only fixed by convention).
#[derive(Default)]
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
