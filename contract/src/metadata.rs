//! What a component says about its package — description, licenses, authors, homepage, source,
//! revision, version — as the custom sections of the WebAssembly tool conventions (what
//! `wasm-tools metadata add` writes): embedded by `morph build` from `morph.toml`, shown by
//! `morph inspect`, and turned into the standard OCI annotations by `morph push`.

use std::collections::BTreeMap;

use serde::Serialize;
use wasm_metadata::{AddMetadata, AddMetadataField, Payload};

use crate::ContractError;

/// A package's metadata; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackageMetadata {
    pub description: Option<String>,
    /// An SPDX license expression.
    pub licenses: Option<String>,
    pub authors: Option<String>,
    pub homepage: Option<String>,
    /// Where the source is (a repository URL).
    pub source: Option<String>,
    pub revision: Option<String>,
    pub version: Option<String>,
}

impl PackageMetadata {
    /// The metadata of the outermost component or module in `wasm` (nothing for bytes it cannot
    /// read: metadata is never why something fails to load).
    pub fn read(wasm: &[u8]) -> PackageMetadata {
        let Ok(payload) = Payload::from_binary(wasm) else { return PackageMetadata::default() };
        let m = payload.metadata();
        PackageMetadata {
            description: m.description.as_ref().map(ToString::to_string),
            licenses: m.licenses.as_ref().map(ToString::to_string),
            authors: m.authors.as_ref().map(ToString::to_string),
            homepage: m.homepage.as_ref().map(ToString::to_string),
            source: m.source.as_ref().map(ToString::to_string),
            revision: m.revision.as_ref().map(ToString::to_string),
            version: m.version.as_ref().map(ToString::to_string),
        }
    }

    /// Each field with the OCI annotation it becomes, in the order `inspect` shows them.
    fn entries(&self) -> [(&'static str, &'static str, &Option<String>); 7] {
        [
            ("description", "org.opencontainers.image.description", &self.description),
            ("licenses", "org.opencontainers.image.licenses", &self.licenses),
            ("authors", "org.opencontainers.image.authors", &self.authors),
            ("homepage", "org.opencontainers.image.url", &self.homepage),
            ("source", "org.opencontainers.image.source", &self.source),
            ("revision", "org.opencontainers.image.revision", &self.revision),
            ("version", "org.opencontainers.image.version", &self.version),
        ]
    }

    /// `(field, value)` for each field that is set, in a fixed order.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        self.entries().into_iter().filter_map(|(field, _, v)| Some((field, v.as_deref()?))).collect()
    }

    /// The OCI annotations the fields become.
    pub fn oci_annotations(&self) -> BTreeMap<String, String> {
        self.entries().into_iter().filter_map(|(_, key, v)| Some((key.to_string(), v.clone()?))).collect()
    }

    /// `wasm` with these fields embedded (those that are `None` left as they were).
    pub fn embed(&self, wasm: &[u8]) -> Result<Vec<u8>, ContractError> {
        self.to_add()?.to_wasm(wasm).map_err(|e| ContractError::Metadata {
            field: "metadata".into(),
            value: String::new(),
            why: format!("{e:#}"),
        })
    }

    /// Refuses a license that is not an SPDX expression or a URL that does not parse, naming
    /// the `morph.toml` field.
    pub fn check(&self) -> Result<(), ContractError> {
        self.to_add().map(drop)
    }

    fn to_add(&self) -> Result<AddMetadata, ContractError> {
        fn set<T: std::fmt::Debug + Clone>(
            field: &str,
            value: &Option<String>,
            parse: impl Fn(&str) -> anyhow::Result<T>,
        ) -> Result<AddMetadataField<T>, ContractError> {
            match value {
                None => Ok(AddMetadataField::Keep),
                Some(v) => parse(v).map(AddMetadataField::Set).map_err(|e| ContractError::Metadata {
                    field: field.to_string(),
                    value: v.clone(),
                    why: e.to_string(),
                }),
            }
        }
        let mut add = AddMetadata::default();
        add.description =
            set("description", &self.description, |v| Ok(wasm_metadata::Description::new(v.to_string())))?;
        add.licenses = set("license", &self.licenses, wasm_metadata::Licenses::new)?;
        add.authors = set("authors", &self.authors, |v| Ok(wasm_metadata::Authors::new(v.to_string())))?;
        add.homepage = set("homepage", &self.homepage, wasm_metadata::Homepage::new)?;
        add.source = set("repository", &self.source, wasm_metadata::Source::new)?;
        add.revision = set("revision", &self.revision, |v| Ok(wasm_metadata::Revision::new(v.to_string())))?;
        add.version = set("version", &self.version, |v| Ok(wasm_metadata::Version::new(v.to_string())))?;
        Ok(add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_COMPONENT: &str = "(component)";

    #[test]
    fn embedded_fields_read_back_and_become_annotations() {
        let wasm = wat::parse_str(EMPTY_COMPONENT).unwrap();
        let m = PackageMetadata {
            description: Some("Greets".into()),
            licenses: Some("Apache-2.0 OR MIT".into()),
            authors: Some("Ada <ada@example.com>".into()),
            homepage: Some("https://example.com/greeter".into()),
            source: Some("https://github.com/example/greeter".into()),
            revision: None,
            version: Some("0.1.0".into()),
        };
        let embedded = m.embed(&wasm).unwrap();
        assert_eq!(PackageMetadata::read(&embedded), m);
        let a = m.oci_annotations();
        assert_eq!(a["org.opencontainers.image.licenses"], "Apache-2.0 OR MIT");
        assert_eq!(a["org.opencontainers.image.url"], "https://example.com/greeter");
        assert_eq!(a["org.opencontainers.image.source"], "https://github.com/example/greeter");
        assert!(!a.contains_key("org.opencontainers.image.revision"));
    }

    #[test]
    fn a_license_that_is_not_spdx_is_refused_by_field() {
        let wasm = wat::parse_str(EMPTY_COMPONENT).unwrap();
        let m = PackageMetadata { licenses: Some("whatever I like".into()), ..Default::default() };
        let e = m.embed(&wasm).unwrap_err().to_string();
        assert!(e.contains("license") && e.contains("whatever I like"), "{e}");
    }
}
