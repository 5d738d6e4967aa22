//! One module per `morph` command.

pub mod build;
pub mod cache;
pub mod call;
pub mod cast;
pub mod completions;
pub mod compose;
pub mod daemon;
pub mod daemon_client;
pub mod deploy;
pub mod dev;
pub mod ext;
pub mod inspect;
pub mod key;
pub mod model;
pub mod new;
pub mod oci;
pub mod optimize;
pub mod registry;
pub mod run;
pub mod sandbox;
pub mod serve;
pub mod sessions;
pub mod up;
pub mod validate;
pub mod worlds;

use std::path::Path;

use anyhow::Result;
use morph_contract::Component;

/// Reads a component argument of `validate` or `inspect`; every failure is an input error
/// naming the file (see `morph_registry_client::source::read_validated` for the cache of files
/// validated before).
pub fn read_component(path: &Path) -> Result<Component> {
    Ok(morph_registry_client::source::read_validated(morph_registry_client::Home::from_env().as_ref(), path)?)
}

/// The bytes of `path` when it is a core-module extension (binary or text: a core module that
/// exports an extension function or imports the Extism kernel), which `validate` and `inspect`
/// read as one. `None` for anything else, which the component reader then judges (a plain core
/// module is told to become a component).
pub fn read_core_module(path: &Path) -> Option<Vec<u8>> {
    use morph_contract::component::{sniff, wasm_binary, Encoding};
    use std::io::Read;
    // The head tells a component (the usual case: 18 MB of it need not be read twice) from a
    // core module or text.
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path).ok()?.take(4096).read_to_end(&mut head).ok()?;
    if !matches!(sniff(&head), Encoding::CoreModule | Encoding::Text) {
        return None;
    }
    let bytes = wasm_binary(path, std::fs::read(path).ok()?).ok()?;
    let core = sniff(&bytes) == Encoding::CoreModule;
    let extension = || morph_contract::plugin::PluginInfo::read(path, &bytes).is_ok_and(|i| i.is_extension());
    (core && extension()).then_some(bytes)
}
