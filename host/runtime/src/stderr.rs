//! The guest's stderr, kept in a bounded in-memory buffer. Past the bound, writes are
//! accepted and dropped: unlike wasmtime-wasi's `MemoryOutputPipe`, a chatty guest neither
//! traps nor blocks, it just stops being recorded.

use bytes::Bytes;
use parking_lot::Mutex;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Largest write permit handed to the guest at once.
const PERMIT: usize = 64 * 1024;

#[derive(Clone)]
pub(crate) struct StderrCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
    capacity: usize,
}

impl StderrCapture {
    pub(crate) fn new(capacity: usize) -> Self {
        StderrCapture {
            buffer: Arc::new(Mutex::new(Vec::new())),
            capacity,
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock();
        let room = self.capacity.saturating_sub(buffer.len());
        buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock()).into_owned()
    }
}

impl IsTerminal for StderrCapture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrCapture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for StderrCapture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for StderrCapture {
    async fn ready(&mut self) {}
}

impl AsyncWrite for StderrCapture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The panic message in a Rust guest's stderr:
///
/// ```text
/// thread '<unnamed>' panicked at src/lib.rs:10:5:
/// fixture panic: something went wrong
/// note: run with `RUST_BACKTRACE=1` ...
/// ```
///
/// gives `fixture panic: something went wrong (at src/lib.rs:10:5)`.
pub(crate) fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let rest = &stderr[start + "panicked at ".len()..];
    let (location, message) = match rest.split_once('\n') {
        // Current format: location, colon, newline, message.
        Some((location, message)) => (location.trim_end_matches(':').trim(), message),
        None => ("", rest),
    };
    let message: Vec<&str> = message
        .lines()
        .take_while(|line| !line.starts_with("note: ") && !line.starts_with("stack backtrace:"))
        .collect();
    let message = message.join("\n").trim().to_owned();
    Some(match (message.is_empty(), location.is_empty()) {
        (true, _) => format!("panicked at {location}"),
        (false, true) => message,
        (false, false) => format!("{message} (at {location})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_is_bounded_and_never_fails() {
        let mut capture = StderrCapture::new(8);
        capture.write(Bytes::from_static(b"hello ")).unwrap();
        capture
            .write(Bytes::from_static(b"world, this is long"))
            .unwrap();
        assert_eq!(capture.text(), "hello wo");
        assert!(capture.check_write().unwrap() > 0);
    }

    #[test]
    fn panic_messages_are_extracted() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nfixture panic: something went wrong\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("fixture panic: something went wrong (at src/lib.rs:10:5)")
        );
        assert_eq!(panic_message("just logs\n"), None);
        // Older single-line format.
        assert_eq!(
            panic_message("thread 'main' panicked at 'boom', src/main.rs:1:1").as_deref(),
            Some("'boom', src/main.rs:1:1")
        );
    }
}
