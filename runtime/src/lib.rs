//! The embedded wasmtime. A [`Sandbox`] (grants, limits, the compiled-code cache) prepares a
//! morph and runs it (`run`), calls its exports (`call`), serves it over http and websockets
//! (`serve`, a pooled instance per request) or hosts it as a Morphir extension (`ext`, TEA
//! sessions). Inside: `engine` (engines, the cache, the pool), `store` (a guest's store, its
//! linker, and the one function that applies limits), `host` (the host interfaces beyond WASI,
//! `hayride:*`, `wasi:config`, `morphir:ext/runtime`, each linked by the contract's host
//! table). Nothing outside this crate names a wasmtime type.
//!
//! Modules depend downward only: `serve`, `ext` → `sandbox` → `store` → `host`, `engine` →
//! `policy`, `limits`, `values`, `error`.

pub mod app;
pub mod daemon;
mod engine;
mod error;
pub mod ext;
mod host;
pub mod limits;
pub mod policy;
mod sandbox;
pub mod serve;
mod store;
mod values;

pub use engine::cache::{finish_cache_writes, CacheOutcome};
pub use engine::{Compiler, Tier};
pub use error::RuntimeError;
pub use ext::hosted::Hosted;
pub use ext::{effects, tea, DesignTime, Envelope, ExtensionSession, Header, PreparedExtension, PreparedPlugin};
pub use host::morphir::{ExtSettings, LogLevel};
pub use limits::{parse_duration, parse_size, Limits};
pub use policy::{parse_env, DirGrant, Grant, Policy};
pub use sandbox::{precompile, CompileNotice, ExportFunc, Morph, OptimizeHook, OptimizeLater, Prepared, Sandbox};
pub use values::{Value, ValueError};
