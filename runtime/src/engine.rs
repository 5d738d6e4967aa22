//! Engine setup. Fuel and epoch interruption change the generated code, so each combination is
//! its own engine with its own compatibility hash (and so its own cache entries); a run with no
//! limits gets code without the checks.

use std::hash::{Hash, Hasher};

use wasmtime::{Config, Engine, OptLevel};

use crate::limits::Limits;

/// The engine-level switches a run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EngineSettings {
    pub fuel: bool,
    pub epoch: bool,
    /// The pooling allocator, for servers that instantiate per request.
    pub pooling: bool,
}

impl EngineSettings {
    pub fn for_limits(limits: &Limits) -> EngineSettings {
        EngineSettings { fuel: limits.fuel.is_some(), epoch: limits.timeout.is_some(), pooling: false }
    }
}

pub fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.cranelift_opt_level(OptLevel::Speed);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    config.consume_fuel(settings.fuel);
    config.epoch_interruption(settings.epoch);
    if settings.pooling {
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(serving_pool()));
    }
    Engine::new(&config)
}

/// The pool a server instantiates from, once per request. A request's instance dirties part of
/// its slot's linear memory; resetting that with `madvise` costs a page fault for every page the
/// next request touches again. Instead, the pages a request dirtied (found with the PAGEMAP_SCAN
/// ioctl where the kernel has it, 6.7+) are restored in place with `memset`/copy, up to
/// `KEEP_RESIDENT` bytes per memory, so hot pages stay mapped from one request to the next.
fn serving_pool() -> wasmtime::PoolingAllocationConfig {
    const KEEP_RESIDENT: usize = 64 << 20;
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.linear_memory_keep_resident(KEEP_RESIDENT).table_keep_resident(1 << 20).pagemap_scan(wasmtime::Enabled::Auto);
    pool
}

/// A short, stable hex name for what makes compiled code usable by this engine.
pub fn engine_hash(engine: &Engine) -> String {
    // SipHash with fixed keys: stable for a given morph binary, which is all the cache needs.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}
