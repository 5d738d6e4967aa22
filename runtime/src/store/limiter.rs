//! `--max-memory`: a cap on each linear memory, and a record that it was hit so the error can
//! name the flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use wasmtime::ResourceLimiter;

#[derive(Default)]
pub(super) struct MemoryLimiter {
    pub max: Option<usize>,
    pub hit: Arc<AtomicBool>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if let Some(max) = self.max {
            if desired > max {
                self.hit.store(true, Ordering::SeqCst);
                return Err(wasmtime::Error::msg(format!(
                    "the morph tried to grow its memory to {desired} bytes, above --max-memory"
                )));
            }
        }
        Ok(maximum.is_none_or(|m| desired <= m))
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|m| desired <= m))
    }
}
