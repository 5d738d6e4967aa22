//! Core modules into components: a toolchain that targets WASI preview1 (`wasm32-wasip1`)
//! emits a core module; wit-component wraps it with the preview1 adapter of wasmtime 48, the
//! command adapter when the module has `_start`, the reactor adapter otherwise.

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

use wit_component::StringEncoding;

use crate::gobind::ProjectWorld;
use crate::BuildError;

/// The component of core module `bytes`. A module whose toolchain cannot embed the world's
/// component type itself (standard Go) gets `world`'s embedded first, as `wasm-tools component
/// embed` does.
pub fn componentize(bytes: &[u8], world: Option<&ProjectWorld>) -> Result<Vec<u8>, BuildError> {
    let mut embedded;
    let bytes = match world {
        Some(w) => {
            embedded = bytes.to_vec();
            wit_component::embed_component_metadata(&mut embedded, &w.resolve, w.world, StringEncoding::UTF8)
                .map_err(|e| BuildError::Input(format!("cannot embed the world's type in the module: {e:#}")))?;
            &embedded[..]
        }
        None => bytes,
    };
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
