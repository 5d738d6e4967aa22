//! The process's allocator: mimalloc for small blocks, and large ones mapped straight from the
//! kernel with transparent huge pages asked for.
//!
//! One allocator on every libc: musl's own returns memory to the kernel on nearly every free
//! (124 mmap and 91 munmap calls in one warm `run`, against 17 and 9 now).
//!
//! Large blocks are this module's own mappings, as glibc's malloc does past its mmap threshold:
//! - growing one is `mremap`, which moves page tables instead of copying bytes (compiling an
//!   interpreter morph grows buffers of tens of MB; through mimalloc's copying realloc a
//!   baseline compile spent a third of its time in memcpy and in the kernel zeroing new pages);
//! - a fresh mapping is already zeroed, so `alloc_zeroed` writes nothing;
//! - marking it `MADV_HUGEPAGE` before anything touches it lets the kernel back it with 2 MiB
//!   pages where the system allows them (the common `madvise` setting of
//!   `transparent_hugepage`): on 4 KiB pages, a third of a model's load was the kernel faulting
//!   and zeroing pages one by one (a 1.15 GB model loads in 0.88-0.94 s instead of 1.21-1.54 s).
//!
//! Small blocks keep 4 KiB pages and cost no system call, so a short command's start pays
//! nothing.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;

pub struct HugeBlocks;

/// Blocks from this size on are mapped by this module: a huge page is worth it only well past
/// its own size, and a system call per block only for blocks this large.
const LARGE: usize = 8 << 20;
const PAGE: usize = 4096;

/// Whether a block of `layout` is one of this module's mappings (its alignment a mapping's).
fn mapped(layout: &Layout) -> bool {
    layout.size() >= LARGE && layout.align() <= PAGE
}

fn advise_huge(ptr: *mut u8, size: usize) {
    // The whole mapping, which is this module's alone: advising part of it would split it into
    // several areas, and `mremap` moves only one. The kernel backs the 2 MiB-aligned parts.
    // SAFETY: the range is a mapping this allocator owns; the advice changes how its pages are
    // backed, never their contents.
    unsafe {
        libc::madvise(ptr.cast(), size.next_multiple_of(PAGE), libc::MADV_HUGEPAGE);
    }
}

fn map(size: usize) -> *mut u8 {
    // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return std::ptr::null_mut();
    }
    advise_huge(ptr.cast(), size);
    ptr.cast()
}

// SAFETY: a block is this module's mapping exactly when `mapped` says so of its layout, which the
// caller passes unchanged to every later call on it; every other block is mimalloc's.
unsafe impl GlobalAlloc for HugeBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if mapped(&layout) {
            return map(layout.size());
        }
        unsafe { MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if mapped(&layout) {
            // Anonymous mappings start zeroed.
            return map(layout.size());
        }
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if mapped(&layout) {
            // SAFETY: the caller's block, mapped by `map` with this size.
            unsafe { libc::munmap(ptr.cast(), layout.size()) };
            return;
        }
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY (for every branch): `layout` is the block's, `new_size` the caller's, as
        // `GlobalAlloc::realloc` requires.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (mapped(&layout), mapped(&new_layout)) {
            (true, true) => {
                let new = unsafe { libc::mremap(ptr.cast(), layout.size(), new_size, libc::MREMAP_MAYMOVE) };
                if new == libc::MAP_FAILED {
                    return std::ptr::null_mut();
                }
                // The advice stays with the mapping as it grows or moves.
                new.cast()
            }
            (false, false) => unsafe { MiMalloc.realloc(ptr, layout, new_size) },
            // Across the threshold: a new block of the other kind, the bytes both hold copied.
            _ => {
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The flags of the mapping holding `addr`, from /proc/self/smaps.
    fn vm_flags(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ').filter(|(r, _)| r.contains('-') && !r.ends_with(':')) {
                let (lo, hi) = range.split_once('-').unwrap();
                let (lo, hi) = (usize::from_str_radix(lo, 16).unwrap(), usize::from_str_radix(hi, 16).unwrap());
                inside = (lo..hi).contains(&addr);
            } else if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return flags.trim().to_string();
                }
            }
        }
        panic!("no mapping holds {addr:#x}");
    }

    use super::HugeBlocks;
    use std::alloc::{GlobalAlloc, Layout};

    /// Every realloc path keeps the bytes: large to larger (mremap), large to small and back
    /// (across the threshold), small to small; a large zeroed block reads zero.
    #[test]
    fn realloc_keeps_the_bytes_on_either_side_of_the_threshold() {
        let a = HugeBlocks;
        let fill = |p: *mut u8, n: usize| (0..n).for_each(|i| unsafe { *p.add(i) = (i % 251) as u8 });
        let check = |p: *mut u8, n: usize| (0..n).all(|i| unsafe { *p.add(i) } == (i % 251) as u8);
        unsafe {
            let large = Layout::from_size_align(super::LARGE + 12345, 8).unwrap();
            let p = a.alloc(large);
            fill(p, large.size());
            let p = a.realloc(p, large, 3 * super::LARGE);
            assert!(check(p, large.size()), "grown by mremap");
            let grown = Layout::from_size_align(3 * super::LARGE, 8).unwrap();
            let p = a.realloc(p, grown, 1000);
            assert!(check(p, 1000), "shrunk below the threshold");
            let small = Layout::from_size_align(1000, 8).unwrap();
            let p = a.realloc(p, small, super::LARGE * 2);
            assert!(check(p, 1000), "grown past the threshold");
            a.dealloc(p, Layout::from_size_align(super::LARGE * 2, 8).unwrap());
            let z = a.alloc_zeroed(grown);
            assert!((0..grown.size()).step_by(4093).all(|i| *z.add(i) == 0));
            a.dealloc(z, grown);
            // A large block aligned past a page is mimalloc's, and still aligned.
            let aligned = Layout::from_size_align(super::LARGE, 1 << 16).unwrap();
            let p = a.alloc(aligned);
            assert_eq!(p as usize % (1 << 16), 0);
            a.dealloc(p, aligned);
        }
    }

    #[test]
    fn a_large_block_asks_for_huge_pages_and_a_small_one_does_not() {
        let large: Vec<u8> = Vec::with_capacity(32 << 20);
        let flags = vm_flags(large.as_ptr() as usize + (16 << 20));
        assert!(flags.split(' ').any(|f| f == "hg"), "a 32 MiB block is not advised for huge pages: {flags}");
        let small: Vec<u8> = Vec::with_capacity(64 << 10);
        let flags = vm_flags(small.as_ptr() as usize);
        assert!(!flags.split(' ').any(|f| f == "hg"), "a 64 KiB block is advised: {flags}");
    }
}
