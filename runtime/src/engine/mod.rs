//! Engine setup. Fuel and epoch interruption change the generated code, so each combination is
//! its own engine with its own compatibility hash (and so its own cache entries); a run with no
//! limits gets code without the checks. The compiled-code cache and the serving pool live here
//! too.

use std::hash::{Hash, Hasher};

use wasmtime::{Config, Engine, OptLevel};

pub(crate) mod cache;
pub(crate) mod pool;
pub(crate) mod share;

use crate::limits::Limits;
use pool::{serving_pool, MemoryReset};

/// Which code a morph runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tier {
    /// Code from a baseline compiler: compiled several times faster, runs slower. Winch, where
    /// it can compile the settings (not with fuel); Cranelift without optimizations otherwise.
    Baseline,
    /// Cranelift's optimized code.
    #[default]
    Optimized,
}

/// Which tier `run`, `call`, `ext` and `serve` start on (`--compiler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compiler {
    /// Optimized code from the cache when it is there; else baseline code now, and the
    /// optimized code compiled in the background for the next start (or, under `serve`, for
    /// the next instances).
    #[default]
    Auto,
    Baseline,
    Optimized,
}

impl std::str::FromStr for Compiler {
    type Err = String;
    fn from_str(s: &str) -> Result<Compiler, String> {
        match s {
            "auto" => Ok(Compiler::Auto),
            "baseline" | "winch" => Ok(Compiler::Baseline),
            "optimized" | "cranelift" => Ok(Compiler::Optimized),
            other => Err(format!("`{other}` is not a compiler; use auto, baseline or optimized")),
        }
    }
}

/// The engine-level switches a run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EngineSettings {
    pub fuel: bool,
    pub epoch: bool,
    /// The pooling allocator, for servers that instantiate per request, and how it resets a
    /// slot's memory between them.
    pub(crate) pool: Option<MemoryReset>,
    pub tier: Tier,
}

impl EngineSettings {
    pub(crate) fn for_limits(limits: &Limits) -> EngineSettings {
        EngineSettings { fuel: limits.fuel.is_some(), epoch: limits.timeout.is_some(), ..Default::default() }
    }

    pub(crate) fn at(self, tier: Tier) -> EngineSettings {
        EngineSettings { tier, ..self }
    }
}

pub(crate) fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    match settings.tier {
        Tier::Optimized => {
            config.cranelift_opt_level(OptLevel::Speed);
        }
        // Winch cannot count fuel; Cranelift without its optimizing passes can, and still
        // compiles faster than with them.
        Tier::Baseline if settings.fuel => {
            config.cranelift_opt_level(OptLevel::None);
        }
        // Winch compiles the functions; Cranelift still compiles the trampolines between host
        // and guest (one per function a table or an export lets escape: thousands in an
        // interpreter morph), a third of a baseline compile with its optimizing passes on.
        Tier::Baseline => {
            config.strategy(wasmtime::Strategy::Winch);
            config.cranelift_opt_level(OptLevel::None);
            config.cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
        }
    }
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    // No .eh_frame for the system unwinder: wasmtime walks guest frames itself (backtraces,
    // traps, host panics), and registering one entry per function is slow to undo where the
    // unwinder is LLVM's libunwind (a static musl morph: 250 ms to drop the 18 MB Python
    // hello's code at exit, where the run itself takes 10 ms).
    config.native_unwind_info(false);
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
