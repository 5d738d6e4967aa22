//! The embedded wasmtime: engines, the compiled-code cache, the sandbox and its limits, `run`
//! and `call` (typed values), `serve` (http and websocket, a pooled instance per request), the
//! Morphir extension host (`ext` sessions), and the host interfaces of the contract's table
//! (`hayride:*`, `wasi:config`, `morphir:ext/runtime`). Nothing outside this crate names a
//! wasmtime type.

mod body_progress;
pub mod cache;
mod channel_streams;
pub mod engine;
pub mod exec;
pub mod extension;
mod hayride;
pub mod host;
pub mod invoke;
pub mod limits;
pub mod morphir_host;
pub mod policy;
mod pool;
pub mod serve;
pub mod values;
mod websocket;
mod write_deadline;

pub use cache::CacheOutcome;
pub use exec::{prepare, prepare_for_serving, run_command, Prepared};
pub use extension::{DesignTime, Envelope, ExtensionSession, Header};
pub use invoke::{
    args_from_json, args_from_wave, call, exported_functions, find_export, parse_call, result_to_json, result_to_wave,
    ExportFunc,
};
pub use limits::{parse_duration, parse_size, Limits};
pub use morphir_host::{parse_env_var, ExtSettings, LogLevel};
pub use policy::{parse_env, DirGrant, Grant, Policy};

/// A component value (opaque outside this crate).
pub type Value = wasmtime::component::Val;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The morph or the arguments cannot be used (exit 2).
    #[error("{0}")]
    Input(String),
    /// The guest trapped (exit 1); the text has the trap and its backtrace.
    #[error("the morph trapped: {0}")]
    Trap(String),
    /// A limit stopped the guest (exit 1).
    #[error("{0}")]
    Limit(String),
    /// The guest exited with this code.
    #[error("the morph exited with code {0}")]
    Exit(i32),
    /// A step of a longer session (an extension's `update`, say) failed as `source` says.
    #[error("in {step}: {source}")]
    Step { step: String, source: Box<RuntimeError> },
    /// The input is not a component (exit 2), in the words `validate` uses.
    #[error(transparent)]
    Contract(#[from] morph_contract::ContractError),
    /// A failure of morph itself.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RuntimeError {
    pub(crate) fn internal(e: impl std::fmt::Debug) -> RuntimeError {
        RuntimeError::Internal(format!("{e:?}"))
    }

    /// The process exit code this error stands for.
    pub fn exit_code(&self) -> i32 {
        match self {
            RuntimeError::Input(_) | RuntimeError::Internal(_) | RuntimeError::Contract(_) => 2,
            RuntimeError::Trap(_) | RuntimeError::Limit(_) => 1,
            RuntimeError::Exit(c) => *c,
            RuntimeError::Step { source, .. } => source.exit_code(),
        }
    }
}
