//! A small allocator for the SDK's Wasm: blocks of power-of-two sizes, one free list per size,
//! fresh blocks carved from pages taken with `memory.grow`. About 0.5 KB of code instead of
//! dlmalloc's 7 KB.
//!
//! The SDK allocates a bundle, a fragment and short-lived JSON strings, so rounding up to a power
//! of two (at most twice the memory) and never giving pages back (Wasm cannot) cost little, and
//! a freed block is reused by the next request of its size. Wasm here is single-threaded.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;

const PAGE: usize = 65536;
/// Block sizes are `1 << k` for `MIN_CLASS <= k < CLASSES`.
const MIN_CLASS: usize = 3;
const CLASSES: usize = 32;
/// Fresh blocks are aligned to their size up to this; larger alignments skip the free lists.
const MAX_ALIGN: usize = 16;

struct Heap {
    /// The first free block of each size; each free block starts with the address of the next.
    free: [usize; CLASSES],
    /// Where the next fresh block may start, and the end of the pages taken so far.
    next: usize,
    end: usize,
}

/// The global allocator of the SDK's Wasm.
pub(crate) struct Blocks(UnsafeCell<Heap>);

// Safety: Wasm without threads runs one thread; nothing is shared across threads.
unsafe impl Sync for Blocks {}

impl Blocks {
    pub(crate) const fn new() -> Blocks {
        Blocks(UnsafeCell::new(Heap { free: [0; CLASSES], next: 0, end: 0 }))
    }
}

/// The size class of a layout: the smallest `k` with `1 << k` at least its size and alignment.
fn class(layout: &Layout) -> usize {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    (usize::BITS - (size - 1).leading_zeros()) as usize
}

unsafe impl GlobalAlloc for Blocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let heap = &mut *self.0.get();
        let k = class(&layout);
        if k >= CLASSES {
            return ptr::null_mut();
        }
        let head = heap.free[k];
        if head != 0 && layout.align() <= MAX_ALIGN {
            heap.free[k] = *(head as *const usize);
            return head as *mut u8;
        }
        let size = 1usize << k;
        let align = layout.align().max(size.min(MAX_ALIGN));
        let start = (heap.next + align - 1) & !(align - 1);
        let Some(stop) = start.checked_add(size) else { return ptr::null_mut() };
        if stop > heap.end {
            let pages = (stop - heap.end).div_ceil(PAGE);
            let previous = core::arch::wasm32::memory_grow(0, pages);
            // A 32-bit address space ends at 4 GiB: past it, allocation fails.
            let (Some(grown), Some(added)) = (previous.checked_mul(PAGE), pages.checked_mul(PAGE)) else {
                return ptr::null_mut();
            };
            let Some(end) = grown.checked_add(added) else { return ptr::null_mut() };
            if grown != heap.end {
                // The first pages (or memory grown by someone else): start afresh there.
                heap.next = grown;
                heap.end = end;
                return self.alloc(layout);
            }
            heap.end = end;
        }
        heap.next = stop;
        start as *mut u8
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let heap = &mut *self.0.get();
        let k = class(&layout);
        *(block as *mut usize) = heap.free[k];
        heap.free[k] = block as usize;
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if class(&new_layout) == class(&layout) {
            return block;
        }
        let moved = self.alloc(new_layout);
        if !moved.is_null() {
            ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
            self.dealloc(block, layout);
        }
        moved
    }
}
