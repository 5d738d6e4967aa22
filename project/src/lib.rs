//! `morph new` and `morph build`: project templates, the languages' toolchains, and the
//! project manifest (`morph.toml`) that ties them together.

pub mod app;
pub mod check;
pub mod componentize;
pub mod gobind;
pub mod kube;
pub mod manifest;
pub mod scaffold;
pub mod sources;
pub mod toolchain;

pub use check::{check_built, Checked};
pub use manifest::{Language, Manifest, Template};
pub use scaffold::{new_project, NewProject};
pub use toolchain::{build_project, Built};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Bad arguments or project files (exit 2).
    #[error("{0}")]
    Input(String),
    /// The language's toolchain is not installed (exit 2).
    #[error("{tool} is not installed; install it with `{install}`")]
    MissingToolchain { tool: String, install: String },
    /// The toolchain ran and failed; it printed why.
    #[error("{0} failed (its output is above)")]
    Compile(String),
    /// The component built does not conform to the project's world; `validation` says how.
    #[error("{} does not conform to its world `{world}`; see the report above", path.display())]
    DoesNotConform { path: std::path::PathBuf, world: String, validation: Box<morph_contract::Validation> },
}
