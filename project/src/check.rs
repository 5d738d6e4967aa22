//! What `morph build` decides about what it built: the component must conform to the
//! project's world (a failure of the build), while imports morph's runtime does not provide are
//! only reported (a host or a composition may supply them).

use std::path::PathBuf;

use morph_contract::{Component, Severity, Validation, WorldSpec};

use crate::toolchain::Built;
use crate::{BuildError, Manifest};

/// A built component that conforms to its world.
pub struct Checked {
    pub path: std::path::PathBuf,
    pub size: usize,
    pub digest: String,
    /// The whole report; `unprovided` says whether its compatibility half has errors worth
    /// showing.
    pub validation: Validation,
    pub unprovided: bool,
}

/// Checks `built` against `m`'s world (from the project's own `wit/`).
pub fn check_built(m: &Manifest, built: Built) -> Result<Checked, BuildError> {
    let size = built.bytes.len();
    let input = |e: morph_contract::ContractError| BuildError::Input(e.to_string());
    if m.core_module() {
        let validation = morph_contract::plugin::validate_plugin(&built.path, &built.bytes).map_err(input)?;
        // Nothing can supply a core module's missing host function later: it never runs.
        if !validation.runtime_compatible {
            return Err(BuildError::DoesNotConform {
                path: built.path,
                world: m.world.clone(),
                validation: Box::new(validation),
            });
        }
        return checked(m, built.path, size, morph_contract::component::sha256_digest(&built.bytes), validation);
    }
    // The bytes just written are still in memory: decode those rather than read the file back.
    let comp =
        Component::from_binary(&built.path, built.bytes, morph_contract::component::CodeCheck::Now).map_err(input)?;
    let wit = m.dir.join("wit");
    let validation =
        morph_contract::validate(&comp, WorldSpec::Wit { dir: &wit, world: Some(&m.world) }, false).map_err(input)?;
    checked(m, built.path, size, comp.digest(), validation)
}

/// A build whose `validation` has no conformance error; one with unprovided imports is kept
/// (and said).
fn checked(
    m: &Manifest,
    path: PathBuf,
    size: usize,
    digest: String,
    validation: Validation,
) -> Result<Checked, BuildError> {
    let errors = |findings: &[morph_contract::Finding]| findings.iter().any(|f| f.severity == Severity::Error);
    if errors(&validation.conformance) {
        return Err(BuildError::DoesNotConform { path, world: m.world.clone(), validation: Box::new(validation) });
    }
    let unprovided = errors(&validation.compatibility);
    Ok(Checked { path, size, digest, validation, unprovided })
}
