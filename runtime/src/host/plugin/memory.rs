//! The memory the host keeps for a core-module plug-in (the Extism kernel's): blocks the plug-in
//! allocates and reads and writes through host calls, addressed by offsets the host hands out.
//! It lives outside the module's own linear memory, so a plug-in written in any language
//! exchanges bytes with the host the same way. Blocks only live for one call: every call starts
//! with an empty memory holding its input.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where a plug-in's memory starts: offset 0 is the null handle, so no block is ever there.
const FIRST: u64 = 8;
/// Without `--max-memory`, the most a plug-in may hold: what a 32-bit linear memory could.
const DEFAULT_MAX: usize = 4 << 30;

#[derive(Default)]
pub(crate) struct PluginMemory {
    bytes: Vec<u8>,
    /// Live blocks, start → length (`length` answers from here).
    blocks: HashMap<u64, u64>,
    input: (u64, u64),
    output: Option<(u64, u64)>,
    error: Option<u64>,
    /// `--max-memory`, and the flag that tells the error it was hit.
    max: Option<usize>,
    hit: Arc<AtomicBool>,
}

impl PluginMemory {
    /// A memory capped at `max` bytes (`--max-memory`); `hit` is set when a plug-in asks for
    /// more.
    pub fn limited(max: Option<usize>, hit: Arc<AtomicBool>) -> PluginMemory {
        PluginMemory { max, hit, ..PluginMemory::default() }
    }

    /// A new call: every block freed, `input` in a block of its own.
    pub fn start_call(&mut self, input: &[u8]) -> wasmtime::Result<()> {
        self.bytes.clear();
        self.bytes.resize(FIRST as usize, 0);
        self.blocks.clear();
        self.output = None;
        self.error = None;
        let at = self.alloc(input.len() as u64)?;
        self.bytes[at as usize..].copy_from_slice(input);
        self.input = (at, input.len() as u64);
        Ok(())
    }

    /// A new block of `len` bytes, zeroed; its offset.
    pub fn alloc(&mut self, len: u64) -> wasmtime::Result<u64> {
        let at = self.bytes.len() as u64;
        let end = at.checked_add(len).filter(|&end| end <= self.max.unwrap_or(DEFAULT_MAX) as u64);
        let Some(end) = end else {
            if self.max.is_some() {
                self.hit.store(true, Ordering::SeqCst);
            }
            return Err(wasmtime::Error::msg(format!(
                "the plug-in asked for a block of {len} bytes, which its memory cannot hold"
            )));
        };
        self.bytes.resize(end as usize, 0);
        self.blocks.insert(at, len);
        Ok(at)
    }

    pub fn free(&mut self, at: u64) {
        self.blocks.remove(&at);
    }

    /// The length of the block at `at`; 0 when no block starts there.
    pub fn length(&self, at: u64) -> u64 {
        self.blocks.get(&at).copied().unwrap_or(0)
    }

    /// The `len` bytes at `at`, inside the memory (a trap names the call otherwise).
    pub fn range(&self, at: u64, len: u64, call: &str) -> wasmtime::Result<&[u8]> {
        let end = at.checked_add(len).filter(|&end| at >= FIRST && end <= self.bytes.len() as u64);
        match end {
            Some(end) => Ok(&self.bytes[at as usize..end as usize]),
            None => Err(wasmtime::Error::msg(format!(
                "{call}: {len} byte(s) at offset {at} are outside the plug-in's memory ({} bytes)",
                self.bytes.len()
            ))),
        }
    }

    pub fn range_mut(&mut self, at: u64, len: u64, call: &str) -> wasmtime::Result<&mut [u8]> {
        self.range(at, len, call)?;
        Ok(&mut self.bytes[at as usize..(at + len) as usize])
    }

    /// The whole block at `at` (`what` names it in a trap): a handle the plug-in passed.
    pub fn block(&self, at: u64, what: &str) -> wasmtime::Result<&[u8]> {
        match self.blocks.get(&at) {
            Some(&len) => self.range(at, len, what),
            None if at == 0 => Ok(&[]),
            None => Err(wasmtime::Error::msg(format!("{what}: no block starts at offset {at}"))),
        }
    }

    /// The block at `at` as text (lossy: a log line or a name is shown, not rejected).
    pub fn text(&self, at: u64, what: &str) -> wasmtime::Result<String> {
        Ok(String::from_utf8_lossy(self.block(at, what)?).into_owned())
    }

    /// A new block holding `bytes`; its offset.
    pub fn put(&mut self, bytes: &[u8]) -> wasmtime::Result<u64> {
        let at = self.alloc(bytes.len() as u64)?;
        self.bytes[at as usize..].copy_from_slice(bytes);
        Ok(at)
    }

    pub fn input(&self) -> (u64, u64) {
        self.input
    }

    /// `output_set`: the call's result is these bytes.
    pub fn set_output(&mut self, at: u64, len: u64) -> wasmtime::Result<()> {
        if len > 0 {
            self.range(at, len, "output_set")?;
        }
        self.output = Some((at, len));
        Ok(())
    }

    /// `error_set`: the call failed with the text at `at` (0 clears it).
    pub fn set_error(&mut self, at: u64) -> wasmtime::Result<()> {
        self.block(at, "error_set")?;
        self.error = (at != 0).then_some(at);
        Ok(())
    }

    /// What the call left: its output (empty when none was set), and its error text if it set one.
    pub fn finish_call(&self) -> (Vec<u8>, Option<String>) {
        let output = match self.output {
            Some((at, len)) if len > 0 => self.bytes[at as usize..(at + len) as usize].to_vec(),
            _ => Vec::new(),
        };
        let error = self.error.map(|at| self.text(at, "error").unwrap_or_default());
        (output, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_what_is_put_and_a_call_starts_empty() {
        let mut m = PluginMemory::default();
        m.start_call(b"input").unwrap();
        let (at, len) = m.input();
        assert_eq!(m.range(at, len, "t").unwrap(), b"input");
        let b = m.put(b"hello").unwrap();
        assert_eq!(m.length(b), 5);
        assert_eq!(m.text(b, "t").unwrap(), "hello");
        m.set_output(b, 5).unwrap();
        assert_eq!(m.finish_call(), (b"hello".to_vec(), None));
        m.start_call(b"").unwrap();
        assert_eq!(m.length(b), 0, "blocks do not outlive their call");
        assert_eq!(m.finish_call(), (Vec::new(), None));
    }

    #[test]
    fn reads_outside_the_memory_and_blocks_over_the_limit_are_refused() {
        let hit = Arc::new(AtomicBool::new(false));
        let mut m = PluginMemory::limited(Some(64), hit.clone());
        m.start_call(b"x").unwrap();
        assert!(m.range(0, 1, "load_u8").is_err(), "offset 0 is null");
        assert!(m.range(9, 8, "load_u64").unwrap_err().to_string().contains("outside the plug-in's memory"));
        assert!(m.alloc(u64::MAX).is_err());
        assert!(m.alloc(100).is_err());
        assert!(hit.load(Ordering::SeqCst), "the limit's flag is set");
        assert!(m.block(12345, "error_set").is_err());
    }
}
