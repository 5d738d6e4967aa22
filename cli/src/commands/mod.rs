//! One module per `morph` command.

pub mod call;
pub mod cast;
pub mod completions;
pub mod inspect;
pub mod oci;
pub mod registry;
pub mod run;
pub mod sandbox;
pub mod validate;
pub mod worlds;

use std::path::Path;

use anyhow::Result;
use contract::Component;

/// Reads a component argument; every failure is an input error naming the file.
///
/// The code of its core modules is validated unless these exact bytes (by sha256) were validated
/// before: `$MORPH_HOME/cache/validated/<hex>` remembers them, which makes checking an 18 MB
/// morph again take a third of the time.
pub fn read_component(path: &Path) -> Result<Component> {
    let comp = Component::read_with(path, contract::component::CodeCheck::Deferred)?;
    let marker = registry_client::Home::from_env()
        .map(|h| h.root().join("cache/validated").join(comp.digest().trim_start_matches("sha256:")));
    if marker.as_ref().is_some_and(|m| m.is_file()) {
        return Ok(comp);
    }
    comp.check_code()?;
    if let Some(m) = marker {
        // Only a speed-up: a home that cannot be written just validates every time.
        let _ = registry_client::atomic::write_atomic(&m, b"");
    }
    Ok(comp)
}
