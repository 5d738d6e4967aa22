//! Resource limits for one run: fuel, wall-clock timeout, linear-memory size. Parsed from the
//! flag syntax users type (`500ms`, `2s`, `64MiB`).

use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Units of fuel (roughly one per wasm instruction).
    pub fuel: Option<u64>,
    /// Wall-clock time before the guest is interrupted.
    pub timeout: Option<Duration>,
    /// Bytes of linear memory a single memory may grow to.
    pub max_memory: Option<usize>,
}

pub use morph_registry_client::units::{format_size, parse_duration, parse_size, MAX_DURATION};
