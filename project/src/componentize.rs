//! Core modules into components: a toolchain that targets WASI preview1 (`wasm32-wasip1`)
//! emits a core module; wit-component wraps it with the preview1 adapter of wasmtime 48, the
//! command adapter when the module has `_start`, the reactor adapter otherwise.

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

use crate::BuildError;

/// The component of core module `bytes`.
pub fn componentize(bytes: &[u8]) -> Result<Vec<u8>, BuildError> {
    let adapter = if exports_start(bytes) {
        WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER
    } else {
        WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
    };
    let fail = |e: anyhow::Error| {
        BuildError::Input(format!("the toolchain built a core module that cannot be made a component: {e:#}"))
    };
    wit_component::ComponentEncoder::default()
        .module(bytes)
        .map_err(fail)?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
        .map_err(fail)?
        .validate(true)
        .encode()
        .map_err(fail)
}

fn exports_start(bytes: &[u8]) -> bool {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::ExportSection(exports)) = payload {
            return exports.into_iter().flatten().any(|e| e.name == "_start");
        }
    }
    false
}
