//! A guest's stdout or stderr as lines of the request log, named by the app entry that wrote
//! them (`morph up`'s process entries).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use super::REQUEST_LOG;

/// The longest line kept whole; a longer one is logged in pieces of this size.
const LONGEST_LINE: usize = 16 * 1024;

/// Where an entry's `stream` (`stdout` or `stderr`) goes.
#[derive(Clone)]
pub(crate) struct OutputLog {
    pub entry: Arc<str>,
    pub stream: &'static str,
}

impl IsTerminal for OutputLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for OutputLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(Lines { to: self.clone(), pending: Vec::new() })
    }
}

/// Collects bytes into lines; each complete line is one log event.
struct Lines {
    to: OutputLog,
    pending: Vec<u8>,
}

impl Lines {
    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        tracing::info!(target: REQUEST_LOG, entry = &*self.to.entry, stream = self.to.stream, line = text);
    }

    /// The last line, written without a newline.
    fn emit_rest(&mut self) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
    }
}

impl AsyncWrite for Lines {
    fn poll_write(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&line[..line.len() - 1]);
        }
        while self.pending.len() >= LONGEST_LINE {
            let piece: Vec<u8> = self.pending.drain(..LONGEST_LINE).collect();
            self.emit(&piece);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit_rest();
        Poll::Ready(Ok(()))
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        self.emit_rest();
    }
}
