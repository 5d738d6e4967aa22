//! The instance pool a server instantiates from, once per request, and how it puts a slot's
//! linear memory back between requests.
//!
//! A request's instance writes to part of its memory. Undoing that with `madvise` means every
//! page the next request writes to again takes a copy-on-write fault, and on a multi-threaded
//! server each such fault also sends a TLB-shootdown interrupt to the other cores. Two ways to
//! avoid it, each right for a different kind of guest:
//!
//! - [`MemoryReset::DirtyPages`]: find the pages a request wrote (the PAGEMAP_SCAN ioctl, Linux
//!   6.7+) and restore just those in place. Cheap for a compiled guest (Rust, C) that writes a
//!   few contiguous pages; but wasmtime's scan gives up after a few dozen separate runs of dirty
//!   pages and decommits the rest.
//! - [`MemoryReset::Whole`]: copy the whole initial memory back from the image every time. An
//!   interpreter started from a snapshot of its heap (componentize-py, jco) writes all over that
//!   heap — about 200 scattered pages per request for the Python hello, 50 for the JS one —
//!   so copying a dozen MiB (no faults at all) is cheaper than faulting those pages in again.
//!
//! Measured on the http hellos (release, 2 vCPU, wrk 32 connections): Python 390–560 req/s
//! with dirty pages vs 700–830 with whole copies; JS 1,800–2,000 vs 2,600; Rust 30,000–32,000
//! vs 22,000–25,000 (its 1 MiB memory copied per request costs more than its zero faults).

use wasmparser::{DataKind, Parser, Payload};

/// Initialized data beyond this means the guest's memory starts from a snapshot of a runtime's
/// heap rather than a compiled program's statics (Rust hello: 8 KiB; JS: 3.7 MiB; Python: 11 MiB).
const SNAPSHOT_DATA: u64 = 1 << 20;

/// Room above the initial memory for what a request allocates, copied back with it.
const GROWTH: u64 = 4 << 20;

/// No slot keeps more than this resident or restores more than this per request.
const MAX_RESIDENT: u64 = 64 << 20;

/// How a slot's memory is put back between instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryReset {
    /// Restore the pages the instance wrote, up to [`MAX_RESIDENT`] of them.
    DirtyPages,
    /// Copy back the first `bytes` of memory whole; beyond that, release it.
    Whole { bytes: usize },
}

impl MemoryReset {
    /// The reset that serves `wasm` (a component or a core module) fastest: whole copies for a
    /// memory that starts from a snapshot, dirty pages otherwise (and for anything unreadable,
    /// which fails later with its own error).
    pub fn for_guest(wasm: &[u8]) -> MemoryReset {
        let (data, initial) = initialized_memory(wasm);
        if data < SNAPSHOT_DATA {
            return MemoryReset::DirtyPages;
        }
        let bytes = (initial + GROWTH).min(MAX_RESIDENT);
        MemoryReset::Whole { bytes: bytes as usize }
    }
}

/// Bytes of active data segments in all core modules, and the largest initial size of a
/// memory one of them defines.
fn initialized_memory(wasm: &[u8]) -> (u64, u64) {
    let mut data = 0u64;
    let mut initial = 0u64;
    let mut parser = Parser::new(0);
    // The parsers of the components and modules that enclose the one being read.
    let mut outer = Vec::new();
    let mut rest = wasm;
    // Payloads one at a time, so code sections (most of the bytes) are skipped unread.
    loop {
        let (consumed, payload) = match parser.parse(rest, true) {
            Ok(wasmparser::Chunk::Parsed { consumed, payload }) => (consumed, payload),
            _ => return (data, initial),
        };
        rest = &rest[consumed..];
        match payload {
            Payload::ModuleSection { parser: inner, .. } | Payload::ComponentSection { parser: inner, .. } => {
                outer.push(std::mem::replace(&mut parser, inner));
            }
            Payload::End(_) => match outer.pop() {
                Some(enclosing) => parser = enclosing,
                None => return (data, initial),
            },
            Payload::CodeSectionStart { size, .. } => {
                parser.skip_section();
                rest = &rest[(size as usize).min(rest.len())..];
            }
            Payload::MemorySection(reader) => {
                for memory in reader.into_iter().flatten() {
                    let page = memory.page_size_log2.map_or(1u64 << 16, |log2| 1u64 << log2);
                    initial = initial.max(memory.initial.saturating_mul(page));
                }
            }
            Payload::DataSection(reader) => {
                for segment in reader.into_iter().flatten() {
                    if matches!(segment.kind, DataKind::Active { .. }) {
                        data += segment.data.len() as u64;
                    }
                }
            }
            _ => {}
        }
    }
}

/// The pooling allocator's settings for `reset`.
pub(crate) fn serving_pool(reset: MemoryReset) -> wasmtime::PoolingAllocationConfig {
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.table_keep_resident(1 << 20);
    match reset {
        MemoryReset::DirtyPages => {
            pool.linear_memory_keep_resident(MAX_RESIDENT as usize).pagemap_scan(wasmtime::Enabled::Auto);
        }
        MemoryReset::Whole { bytes } => {
            pool.linear_memory_keep_resident(bytes).pagemap_scan(wasmtime::Enabled::No);
        }
    }
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component whose core module has a memory of `pages` 64 KiB pages and `data` bytes of
    /// active data, and exports `bump: func() -> u32`, which adds one to the word at offset
    /// 16 (inside the data) and returns it.
    fn counter(pages: u32, data: usize) -> Vec<u8> {
        let bytes: String = std::iter::repeat_n("\\07", data).collect();
        wat::parse_str(format!(
            r#"(component
                (core module $m
                  (memory (export "memory") {pages})
                  (data (i32.const 0) "{bytes}")
                  (func (export "bump") (result i32)
                    (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1)))
                    (i32.load (i32.const 16))))
                (core instance $i (instantiate $m))
                (func (export "bump") (result u32) (canon lift (core func $i "bump"))))"#
        ))
        .unwrap()
    }

    #[test]
    fn a_compiled_program_s_statics_keep_dirty_page_resets() {
        assert_eq!(MemoryReset::for_guest(&counter(17, 8 << 10)), MemoryReset::DirtyPages);
    }

    #[test]
    fn a_snapshot_heap_is_copied_back_whole_with_room_to_grow() {
        let reset = MemoryReset::for_guest(&counter(40, 2 << 20));
        assert_eq!(reset, MemoryReset::Whole { bytes: (40 << 16) + (4 << 20) });
        // A memory larger than the cap is copied back only up to it.
        assert_eq!(MemoryReset::for_guest(&counter(2000, 2 << 20)), MemoryReset::Whole { bytes: 64 << 20 });
    }

    #[test]
    fn unreadable_bytes_keep_the_default() {
        assert_eq!(MemoryReset::for_guest(b"\0asm\x0d\0\x01\0garbage"), MemoryReset::DirtyPages);
        assert_eq!(MemoryReset::for_guest(&counter(40, 2 << 20)[..300]), MemoryReset::DirtyPages);
    }

    /// Whatever the reset, every instance from a reused slot starts from the image: the counter
    /// in the data reads 7 + 1 each time, never the previous instance's value.
    #[test]
    fn each_instance_from_the_pool_starts_from_the_initial_memory() {
        for (pages, data) in [(17, 64), (40, 2 << 20)] {
            let wasm = counter(pages, data);
            let reset = MemoryReset::for_guest(&wasm);
            let mut config = wasmtime::Config::new();
            config.wasm_component_model(true);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(serving_pool(reset)));
            let engine = wasmtime::Engine::new(&config).unwrap();
            let component = wasmtime::component::Component::new(&engine, &wasm).unwrap();
            let linker = wasmtime::component::Linker::<()>::new(&engine);
            let pre = linker.instantiate_pre(&component).unwrap();
            for round in 0..20 {
                let mut store = wasmtime::Store::new(&engine, ());
                let instance = pre.instantiate(&mut store).unwrap();
                let bump = instance.get_typed_func::<(), (u32,)>(&mut store, "bump").unwrap();
                let first = bump.call(&mut store, ()).unwrap().0;
                let second = bump.call(&mut store, ()).unwrap().0;
                assert_eq!((first, second), (0x07070708, 0x07070709), "{reset:?}, instance {round}");
            }
        }
    }
}
