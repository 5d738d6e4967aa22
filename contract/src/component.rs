//! Reading a component from bytes: binary or text, with errors that say what the input is
//! instead of where a validator stopped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use wit_parser::decoding::DecodedWasm;
use wit_parser::{Resolve, WorldId};

use crate::ContractError;

/// A component's binary: mapped from its file (no copy of an 18 MB morph), or assembled from
/// text.
pub enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// A decoded component: its own world (imports and exports as WIT) and its bytes.
pub struct Component {
    pub path: PathBuf,
    /// The binary form (text input is assembled first).
    pub bytes: Bytes,
    pub resolve: Resolve,
    pub world: WorldId,
    digest: std::sync::OnceLock<String>,
}

/// Whether reading a component also validates the code of its core modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Validate every function body now.
    Now,
    /// Only structure and types, for a caller that vouches for the code (it validated this
    /// unchanged file before, or produced the bytes with a validating encoder).
    Deferred,
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
    /// Reads and decodes a component file (`.wasm` or component-model text), code included.
    pub fn read(path: &Path) -> Result<Component, ContractError> {
        Component::read_with(path, CodeCheck::Now)
    }

    /// Decodes a component already in memory (a composition not yet written, say); `path` names
    /// it in messages.
    pub fn from_binary(path: &Path, bytes: Vec<u8>, code: CodeCheck) -> Result<Component, ContractError> {
        let bytes = component_binary(path, bytes)?;
        Component::decode(path, Bytes::Owned(bytes), code)
    }

    pub fn read_with(path: &Path, code: CodeCheck) -> Result<Component, ContractError> {
        Component::decode(path, read_component_binary(path)?, code)
    }

    fn decode(path: &Path, bytes: Bytes, code: CodeCheck) -> Result<Component, ContractError> {
        let bad = |message: String| ContractError::NotAComponent { path: path.to_path_buf(), message };
        // Independent jobs, run at once: decoding the component's world (which checks its
        // structure and types), validating the code inside it, and loading the bundled contract
        // the caller will check it against.
        let (decoded, bodies) = std::thread::scope(|scope| {
            let bodies = scope.spawn(|| match code {
                CodeCheck::Now => validate_function_bodies(&bytes),
                CodeCheck::Deferred => Ok(()),
            });
            scope.spawn(|| {
                crate::bundled::Contract::bundled();
            });
            (decode_world(path, &bytes), bodies.join().expect("validation thread"))
        });
        // The full validation speaks of the real bytes, so its error wins over the decoder's;
        // past it the component is valid, and a decoder that fails says only that WIT cannot
        // describe it.
        bodies.map_err(|e| bad(describe_error(&e.to_string())))?;
        let (resolve, world) = decoded.map_err(|e| match e {
            ContractError::NotAComponent { path, message } => ContractError::NoWit { path, reason: message },
            other => other,
        })?;
        Ok(Component { path: path.to_path_buf(), bytes, resolve, world, digest: std::sync::OnceLock::new() })
    }

    /// `sha256:<hex>` of the binary.
    pub fn digest(&self) -> String {
        self.digest.get_or_init(|| sha256_digest(&self.bytes)).clone()
    }
}

/// The binary form of a component file, with the cheap checks only (empty, not wasm, core
/// module, text that does not assemble): what `run` needs before handing bytes to the engine,
/// which validates as it compiles.
pub fn component_binary(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, ContractError> {
    let bytes = wasm_binary(path, bytes)?;
    if sniff(&bytes) == Encoding::CoreModule {
        return Err(core_module(path, &bytes));
    }
    Ok(bytes)
}

/// Why the core module `bytes` is not a component: an extension is run by `morph ext`, any other
/// module needs making into a component.
fn core_module(path: &Path, bytes: &[u8]) -> ContractError {
    match crate::plugin::PluginInfo::read(path, bytes) {
        Ok(info) if info.is_extension() => ContractError::CoreExtension { path: path.to_path_buf() },
        _ => ContractError::CoreModule { path: path.to_path_buf() },
    }
}

/// WebAssembly in its binary form: a binary as it is, text assembled; a core module is kept
/// (what a core-module extension is), anything else is refused naming `path`.
pub fn wasm_binary(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, ContractError> {
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
                "this is not WebAssembly: it starts neither with the `\\0asm` header nor with WAT text".into()
            ))
        }
        _ => bytes,
    };
    Ok(bytes)
}

/// Reads a component file into its binary form (see [`component_binary`]). A binary is mapped,
/// not copied: an 18 MB morph costs no 18 MB read.
pub fn read_component_binary(path: &Path) -> Result<Bytes, ContractError> {
    read_binary(path, component_binary)
}

/// Reads a component or core-module file into its binary form (see [`wasm_binary`]): what a
/// morph to run may be, its kind told later by what runs it.
pub fn read_wasm_binary(path: &Path) -> Result<Bytes, ContractError> {
    read_binary(path, wasm_binary)
}

fn read_binary(
    path: &Path,
    convert: fn(&Path, Vec<u8>) -> Result<Vec<u8>, ContractError>,
) -> Result<Bytes, ContractError> {
    let read_err = |e: std::io::Error| ContractError::Read { path: path.to_path_buf(), message: e.to_string() };
    let file = std::fs::File::open(path).map_err(read_err)?;
    if file.metadata().map_err(read_err)?.len() >= 8 {
        // SAFETY: a read-only mapping. A file changed underneath while morph reads it gives
        // wrong answers (as for any reader), which the decoder and validator then reject.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            if sniff(&map) == Encoding::Component {
                return Ok(Bytes::Mapped(map));
            }
        }
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    Ok(Bytes::Owned(convert(path, bytes)?))
}

/// Whether `bytes` are a whole, valid component binary (a WIT package counts: it is encoded as
/// one), code included: what must hold before morph keeps bytes someone else sent.
/// `label` names the bytes in the error (a file, a reference).
pub fn check_component_bytes(label: &Path, bytes: &[u8]) -> Result<(), ContractError> {
    let bad = |message: String| ContractError::NotAComponent { path: label.to_path_buf(), message };
    if bytes.is_empty() {
        return Err(bad("it is empty".into()));
    }
    match sniff(bytes) {
        Encoding::Component => {}
        Encoding::CoreModule => return Err(core_module(label, bytes)),
        _ => return Err(bad("it does not start with the `\\0asm` header".into())),
    }
    validate_function_bodies(bytes).map_err(|e| bad(describe_error(&e.to_string())))
}

/// Decodes a component's world without validating function bodies: enough to know its kind and
/// its imports and exports, quickly, for bytes already known to be a component. The world comes
/// from the component's skeleton (the same world, a fraction of the bytes; see `skeleton.rs`).
pub fn decode_world(path: &Path, bytes: &[u8]) -> Result<(Resolve, WorldId), ContractError> {
    let bad = |message: String| ContractError::NotAComponent { path: path.to_path_buf(), message };
    let skeleton = crate::contain::contained(|| crate::skeleton::skeleton(bytes))
        .map_err(|panic| bad(format!("reading its structure failed ({panic})")))?
        .map_err(|e| bad(describe_error(&e)))?;
    let decoded = crate::contain::contained(|| wit_parser::decoding::decode(&skeleton))
        .map_err(|panic| bad(format!("the WIT decoder failed on it ({panic})")))?;
    match decoded.map_err(|e| bad(describe_decode_error(&e)))? {
        DecodedWasm::Component(resolve, world) => Ok((resolve, world)),
        DecodedWasm::WitPackage(..) => Err(ContractError::WitPackage { path: path.to_path_buf() }),
    }
}

/// The names a component imports and exports at its top level, read from its sections: what
/// can be said of a component WIT cannot describe.
pub fn top_level_names(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    use wasmparser::{Parser, Payload};
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0i32;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::ModuleSection { .. } | Payload::ComponentSection { .. }) => depth += 1,
            Ok(Payload::End(_)) => depth -= 1,
            Ok(Payload::ComponentImportSection(reader)) if depth == 0 => {
                imports.extend(reader.into_iter().flatten().map(|i| i.name.name.to_string()));
            }
            Ok(Payload::ComponentExportSection(reader)) if depth == 0 => {
                exports.extend(reader.into_iter().flatten().map(|e| e.name.name.to_string()));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    (imports, exports)
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
/// machine's cores: an 18 MB Python morph has tens of thousands of functions. The parse that
/// finds the bodies hands them out in batches as it goes, so checking them overlaps the parse.
fn validate_function_bodies(bytes: &[u8]) -> Result<(), wasmparser::BinaryReaderError> {
    use std::sync::mpsc;
    use wasmparser::{FuncToValidate, FuncValidatorAllocations, FunctionBody, ValidatorResources};
    type Batch<'a> = Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'a>)>;
    const BATCH: usize = 64;

    let (send, receive) = mpsc::sync_channel::<Batch<'_>>(64);
    let receive = std::sync::Mutex::new(receive);
    // Set by the first worker that finds an invalid body, so the parse stops feeding them.
    let failed = AtomicBool::new(false);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut allocs = FuncValidatorAllocations::default();
                    let mut outcome = Ok(());
                    // Every worker drains the channel to its end, even after an error: a parse
                    // blocked on a full channel must never wait for nobody.
                    while let Ok(batch) = {
                        let next = receive.lock().unwrap().recv();
                        next
                    } {
                        for (to_validate, body) in batch {
                            if failed.load(Ordering::Relaxed) {
                                break;
                            }
                            let mut v = to_validate.into_validator(allocs);
                            let checked = v.validate(&body);
                            allocs = v.into_allocations();
                            if let Err(e) = checked {
                                failed.store(true, Ordering::Relaxed);
                                outcome = Err(e);
                            }
                        }
                    }
                    outcome
                })
            })
            .collect();
        let parsed = parse_bodies(
            bytes,
            &failed,
            |batch| {
                // Never fails: the workers hold the receiving end until the channel closes.
                let _ = send.send(batch);
            },
            BATCH,
        );
        drop(send);
        let checked = handles.into_iter().try_for_each(|h| h.join().expect("validation thread"));
        parsed.and(checked)
    })
}

/// The structural half of validation: every payload through one validator, the function bodies
/// handed to `emit` in batches of `batch`; it stops early once `failed` is set.
fn parse_bodies<'a>(
    bytes: &'a [u8],
    failed: &AtomicBool,
    mut emit: impl FnMut(Vec<(wasmparser::FuncToValidate<wasmparser::ValidatorResources>, wasmparser::FunctionBody<'a>)>),
    batch: usize,
) -> Result<(), wasmparser::BinaryReaderError> {
    use wasmparser::{Parser, ValidPayload, Validator, WasmFeatures};
    // The standardized features (what `wasm-tools validate` accepts by default and what
    // toolchains emit), not every proposal: with all of them on, checking each operator costs a
    // third more, and code using an unfinished proposal would not run under morph anyway.
    let mut validator = Validator::new_with_features(WasmFeatures::default());
    let mut pending = Vec::with_capacity(batch);
    for payload in Parser::new(0).parse_all(bytes) {
        if failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        if let ValidPayload::Func(to_validate, body) = validator.payload(&payload?)? {
            pending.push((to_validate, body));
            if pending.len() == batch {
                emit(std::mem::replace(&mut pending, Vec::with_capacity(batch)));
            }
        }
    }
    if !pending.is_empty() {
        emit(pending);
    }
    Ok(())
}

/// `sha256:<hex>` of `bytes`: how morph names content everywhere (files, layers, cache keys).
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(&Sha256::digest(bytes)))
}

/// Lowercase hex of a finished hash (for a digest computed as bytes stream in).
pub fn sha256_hex(hash: &[u8]) -> String {
    use std::fmt::Write;
    hash.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Turns a decoder error into a sentence (see [`describe_error`]).
fn describe_decode_error(e: &anyhow::Error) -> String {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    describe_error(&chain.join(": "))
}

/// Turns a decoder or validator error into a sentence: truncation is named as such, and the
/// validator's byte offset is kept only as a detail after the reason.
fn describe_error(all: &str) -> String {
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
        assert_eq!(sha256_digest(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
