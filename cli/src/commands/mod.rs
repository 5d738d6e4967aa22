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
pub fn read_component(path: &Path) -> Result<Component> {
    Ok(Component::read(path)?)
}
