//! Reading a component from bytes: binary or text, with errors that say what the input is
//! instead of where a validator stopped.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wit_parser::decoding::DecodedWasm;
use wit_parser::{Resolve, WorldId};

use crate::ContractError;

/// A decoded component: its own world (imports and exports as WIT) and its bytes.
pub struct Component {
    pub path: PathBuf,
    /// The binary form (text input is assembled first).
    pub bytes: Vec<u8>,
    pub resolve: Resolve,
    pub world: WorldId,
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    CoreModule,
    Component,
    Text,
    Unknown,
}

pub fn sniff(bytes: &[u8]) -> Encoding {
    if bytes.len() >= 8 && &bytes[..4] == b"\0asm" {
        // Bytes 6..8 are the layer: 0 for core modules, 1 for components.
        return if bytes[6] == 0 && bytes[7] == 0 { Encoding::CoreModule } else { Encoding::Component };
    }
    if bytes.starts_with(b"\0asm") {
        return Encoding::Component; // too short to tell; decoding reports it truncated
    }
    let text = std::str::from_utf8(&bytes[..bytes.len().min(4096)]);
    match text {
        Ok(t) if t.trim_start().starts_with('(') || t.trim_start().starts_with(";;") => Encoding::Text,
        _ => Encoding::Unknown,
    }
}

impl Component {
    /// Reads and decodes a component file (`.wasm` or component-model text).
    pub fn read(path: &Path) -> Result<Component, ContractError> {
        let bytes = std::fs::read(path).map_err(|e| ContractError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Component::from_bytes(path, bytes)
    }

    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Component, ContractError> {
        let bad = |message: String| ContractError::NotAComponent { path: path.to_path_buf(), message };
        let bytes = component_binary(path, bytes)?;
        let decoded = wit_parser::decoding::decode(&bytes).map_err(|e| bad(describe_decode_error(&e)))?;
        // Decoding checks the component's structure and types; the code inside is checked here.
        validate_function_bodies(&bytes).map_err(|e| bad(format!("the component is invalid: {e}")))?;
        match decoded {
            DecodedWasm::Component(resolve, world) => {
                Ok(Component { path: path.to_path_buf(), bytes, resolve, world })
            }
            DecodedWasm::WitPackage(..) => Err(ContractError::WitPackage { path: path.to_path_buf() }),
        }
    }

    /// `sha256:<hex>` of the binary.
    pub fn digest(&self) -> String {
        sha256_digest(&self.bytes)
    }
}

/// The binary form of a component file, with the cheap checks only (empty, not wasm, core
/// module, text that does not assemble): what `run` needs before handing bytes to the engine,
/// which validates as it compiles.
pub fn component_binary(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, ContractError> {
    let bad = |message: String| ContractError::NotAComponent { path: path.to_path_buf(), message };
    if bytes.is_empty() {
        return Err(bad("the file is empty".into()));
    }
    let bytes = match sniff(&bytes) {
        Encoding::Text => wat::Parser::new()
            .parse_bytes(Some(path), &bytes)
            .map_err(|e| bad(format!("the text is not valid WebAssembly text: {e}")))?
            .into_owned(),
        Encoding::Unknown => {
            return Err(bad(
                "this is not WebAssembly: it starts neither with the `\\0asm` header nor with WAT text".into(),
            ))
        }
        _ => bytes,
    };
    if sniff(&bytes) == Encoding::CoreModule {
        return Err(ContractError::CoreModule { path: path.to_path_buf() });
    }
    Ok(bytes)
}

/// Reads a component file into its binary form (see [`component_binary`]).
pub fn read_component_binary(path: &Path) -> Result<Vec<u8>, ContractError> {
    let bytes = std::fs::read(path).map_err(|e| ContractError::Read { path: path.to_path_buf(), message: e.to_string() })?;
    component_binary(path, bytes)
}

/// Decodes a component's world without validating function bodies: enough to know its kind and
/// its imports and exports, quickly, for bytes already known to be a component.
pub fn decode_world(path: &Path, bytes: &[u8]) -> Result<(Resolve, WorldId), ContractError> {
    let bad = |message: String| ContractError::NotAComponent { path: path.to_path_buf(), message };
    match wit_parser::decoding::decode(bytes).map_err(|e| bad(describe_decode_error(&e)))? {
        DecodedWasm::Component(resolve, world) => Ok((resolve, world)),
        DecodedWasm::WitPackage(..) => Err(ContractError::WitPackage { path: path.to_path_buf() }),
    }
}

/// The names of a world's imports and exports (`ns:pkg/iface@ver`, or a plain name), leaving
/// out the type-only items a decoded component lists at the top.
pub fn world_items(resolve: &Resolve, world: WorldId) -> (Vec<String>, Vec<String>) {
    let w = &resolve.worlds[world];
    let names = |items: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| {
        items
            .iter()
            .filter(|(_, i)| !matches!(i, wit_parser::WorldItem::Type { .. }))
            .map(|(k, _)| resolve.name_world_key(k))
            .collect::<Vec<_>>()
    };
    (names(&w.imports), names(&w.exports))
}

/// Validates every function body of every core module in the component, spread over the
/// machine's cores: an 18 MB Python morph has tens of thousands of functions.
fn validate_function_bodies(bytes: &[u8]) -> Result<(), wasmparser::BinaryReaderError> {
    use wasmparser::{FuncValidatorAllocations, Parser, ValidPayload, Validator, WasmFeatures};
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut funcs = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let ValidPayload::Func(to_validate, body) = validator.payload(&payload?)? {
            funcs.push((to_validate, body));
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = funcs.len().div_ceil(threads).max(1);
    let mut chunks = Vec::new();
    while !funcs.is_empty() {
        let rest = funcs.split_off(funcs.len().min(chunk));
        chunks.push(std::mem::replace(&mut funcs, rest));
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut allocs = FuncValidatorAllocations::default();
                    for (to_validate, body) in chunk {
                        let mut v = to_validate.into_validator(allocs);
                        v.validate(&body)?;
                        allocs = v.into_allocations();
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().expect("validation thread"))
    })
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Turns a decoder error into a sentence: truncation is named as such, and the validator's
/// byte offset is kept only as a detail after the reason.
fn describe_decode_error(e: &anyhow::Error) -> String {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    let all = chain.join(": ");
    if all.contains("unexpected end") || all.contains("end of file") || all.contains("eof") {
        return format!("the component is truncated or cut short ({all}); rebuild or re-download it");
    }
    format!("the component is invalid: {all}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_encoding() {
        assert_eq!(sniff(b"\0asm\x01\0\0\0"), Encoding::CoreModule);
        assert_eq!(sniff(b"\0asm\x0d\0\x01\0"), Encoding::Component);
        assert_eq!(sniff(b"  (component)"), Encoding::Text);
        assert_eq!(sniff(b"\x7fELF...."), Encoding::Unknown);
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
