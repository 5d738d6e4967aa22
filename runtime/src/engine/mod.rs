//! Engine setup. Fuel and epoch interruption change the generated code, so each combination is
//! its own engine with its own compatibility hash (and so its own cache entries); a run with no
//! limits gets code without the checks. The compiled-code cache and the serving pool live here
//! too.

use std::hash::{Hash, Hasher};

use wasmtime::{Config, Engine, OptLevel};

pub(crate) mod cache;
pub(crate) mod pool;

use crate::limits::Limits;
use pool::{serving_pool, MemoryReset};

/// The engine-level switches a run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct EngineSettings {
    pub fuel: bool,
    pub epoch: bool,
    /// The pooling allocator, for servers that instantiate per request, and how it resets a
    /// slot's memory between them.
    pub pool: Option<MemoryReset>,
}

impl EngineSettings {
    pub(crate) fn for_limits(limits: &Limits) -> EngineSettings {
        EngineSettings { fuel: limits.fuel.is_some(), epoch: limits.timeout.is_some(), pool: None }
    }
}

pub(crate) fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.cranelift_opt_level(OptLevel::Speed);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    config.consume_fuel(settings.fuel);
    config.epoch_interruption(settings.epoch);
    if let Some(reset) = settings.pool {
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(serving_pool(reset)));
    }
    Engine::new(&config)
}

/// A short, stable hex name for what makes compiled code usable by this engine.
pub(crate) fn engine_hash(engine: &Engine) -> String {
    // SipHash with fixed keys: stable for a given morph binary, which is all the cache needs.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}
