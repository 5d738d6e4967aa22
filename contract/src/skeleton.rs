//! A component's skeleton: the same component with every core module's code, data and custom
//! sections emptied, for decoding its world.
//!
//! Decoding the world reads the whole component through a buffering reader; for a componentize-py
//! morph that means copying 11 MB of data segments and walking 6 MB of code it does not need.
//! The skeleton keeps everything the world depends on (every component-level section, and each
//! module's types, imports, exports, functions, tables, memories, globals and element segments)
//! and shrinks the rest: each function body becomes `unreachable` (valid for any signature), each
//! data segment keeps its mode and offset but no bytes, module custom sections go. The real bytes
//! are still validated in full beside it (see `component.rs`), so nothing is checked less.

use std::ops::Range;

use wasmparser::{Chunk, Parser, Payload};

/// Why a skeleton cannot be made: the parser's message (with its offset).
type Error = String;

/// Section ids in a component, and in a core module.
const COMPONENT_CORE_MODULE: u8 = 1;
const COMPONENT_COMPONENT: u8 = 4;
const MODULE_CODE: u8 = 10;
const MODULE_DATA: u8 = 11;

/// The skeleton of the component in `bytes`.
pub fn skeleton(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(64 * 1024);
    component(bytes, 0..bytes.len(), &mut out)?;
    Ok(out)
}

/// Walks one level of the module or component in `bytes[range]`: `visit` gets each payload
/// (and the parser, to skip a section it handles whole) and returns how many more input bytes
/// that payload covers beyond what the parser consumed (a nested module, a code section).
fn walk<'a>(
    bytes: &'a [u8],
    range: Range<usize>,
    mut visit: impl FnMut(&mut Parser, Payload<'a>) -> Result<usize, Error>,
) -> Result<(), Error> {
    let mut parser = Parser::new(range.start as u64);
    let mut at = range.start;
    loop {
        let rest = bytes.get(at..range.end).ok_or_else(|| truncated(at))?;
        let payload = match parser.parse(rest, true).map_err(|e| e.to_string())? {
            Chunk::Parsed { consumed, payload } => {
                at += consumed;
                payload
            }
            Chunk::NeedMoreData(_) => unreachable!("parsing with eof = true never asks for more"),
        };
        if let Payload::End(_) = payload {
            return Ok(());
        }
        at += visit(&mut parser, payload)?;
    }
}

/// Copies the component in `bytes[range]`, replacing its modules (and those of nested
/// components) with their skeletons.
fn component(bytes: &[u8], range: Range<usize>, out: &mut Vec<u8>) -> Result<(), Error> {
    walk(bytes, range.clone(), |_, payload| {
        match payload {
            Payload::Version { range, .. } => out.extend_from_slice(&bytes[range]),
            // The parent parser already stands after a nested module or component; only the
            // input moves past it.
            Payload::ModuleSection { unchecked_range: inner, .. } => {
                within(&inner, &range)?;
                let mut skeleton = Vec::new();
                module(bytes, inner.clone(), &mut skeleton)?;
                section(out, COMPONENT_CORE_MODULE, &skeleton);
                return Ok(inner.len());
            }
            Payload::ComponentSection { unchecked_range: inner, .. } => {
                within(&inner, &range)?;
                let mut skeleton = Vec::new();
                component(bytes, inner.clone(), &mut skeleton)?;
                section(out, COMPONENT_COMPONENT, &skeleton);
                return Ok(inner.len());
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    section(out, id, &bytes[range]);
                }
            }
        }
        Ok(0)
    })
}

/// Copies the core module in `bytes[range]` with empty bodies, empty data and no custom
/// sections.
fn module(bytes: &[u8], range: Range<usize>, out: &mut Vec<u8>) -> Result<(), Error> {
    walk(bytes, range, |parser, payload| {
        match payload {
            Payload::Version { range, .. } => out.extend_from_slice(&bytes[range]),
            Payload::CodeSectionStart { count, size, .. } => {
                // Each entry: body size 3, no locals, `unreachable`, `end`.
                let mut code = Vec::with_capacity(5 + count as usize * 4);
                leb(&mut code, count as u64);
                for _ in 0..count {
                    code.extend_from_slice(&[3, 0, 0x00, 0x0b]);
                }
                section(out, MODULE_CODE, &code);
                parser.skip_section();
                return Ok(size as usize);
            }
            Payload::DataSection(reader) => {
                let mut data = Vec::new();
                leb(&mut data, reader.count() as u64);
                for segment in reader {
                    let segment = segment.map_err(|e| e.to_string())?;
                    // A segment is its header (mode, memory, offset), the byte count, the bytes.
                    let whole = &bytes[segment.range.clone()];
                    let with_count = &whole[..whole.len() - segment.data.len()];
                    data.extend_from_slice(strip_trailing_leb(with_count));
                    data.push(0);
                }
                section(out, MODULE_DATA, &data);
            }
            Payload::CustomSection(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    section(out, id, &bytes[range]);
                }
            }
        }
        Ok(0)
    })
}

/// A nested section must end inside its parent (a truncated file's does not).
fn within(inner: &Range<usize>, outer: &Range<usize>) -> Result<(), Error> {
    if inner.end > outer.end {
        return Err(truncated(outer.end));
    }
    Ok(())
}

fn truncated(offset: usize) -> Error {
    format!("unexpected end-of-file (at offset 0x{offset:x})")
}

fn section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    leb(out, content.len() as u64);
    out.extend_from_slice(content);
}

fn leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// `bytes` without the unsigned LEB128 number at its end. The byte before that number (a segment
/// flag or the `end` of an offset expression) has its high bit clear, so the scan stops there.
fn strip_trailing_leb(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len() - 1; // the last byte of the number, high bit clear
    while end > 0 && bytes[end - 1] & 0x80 != 0 {
        end -= 1;
    }
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_of(bytes: &[u8]) -> String {
        let (resolve, world) = match wit_parser::decoding::decode(bytes).unwrap() {
            wit_parser::decoding::DecodedWasm::Component(r, w) => (r, w),
            _ => panic!("not a component"),
        };
        format!("{:?}", resolve.worlds[world].imports.keys().collect::<Vec<_>>())
            + &format!("{:?}", resolve.worlds[world].exports.keys().collect::<Vec<_>>())
    }

    #[test]
    fn keeps_the_world_and_drops_the_payload() {
        let text = r#"(component
            (import "host" (func $host (param "x" u32)))
            (core module $m
              (memory (export "memory") 1)
              (data (i32.const 8) "a long enough run of bytes that the skeleton must drop")
              (data "passive bytes")
              (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
              (@custom "note" "dropped"))
            (core instance $i (instantiate $m))
            (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f")))
            (component $inner (core module (func (export "g") i32.const 1 drop)))
        )"#;
        let bytes = wat::parse_str(text).unwrap();
        let skeleton = skeleton(&bytes).unwrap();
        assert!(skeleton.len() < bytes.len() - 60, "{} vs {}", skeleton.len(), bytes.len());
        wasmparser::Validator::new().validate_all(&skeleton).expect("the skeleton is a valid component");
        assert_eq!(world_of(&skeleton), world_of(&bytes));
        assert!(!skeleton.windows(7).any(|w| w == b"dropped"));
        // Cut anywhere, it is an error, never a panic.
        for cut in 1..bytes.len() {
            let _ = super::skeleton(&bytes[..cut]);
        }
    }

    #[test]
    fn strips_multi_byte_counts() {
        assert_eq!(strip_trailing_leb(&[0x0b, 0x80, 0x01]), &[0x0b]);
        assert_eq!(strip_trailing_leb(&[0x01, 0x05]), &[0x01]);
    }
}
