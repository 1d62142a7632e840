//! The DSM control table in the main segment: one item per segment that may exist at once, each
//! a single 64-bit word (handle, pinned flag, reference count) changed by compare-and-swap, so no
//! process ever holds a lock over it and one killed half-way wedges nobody.
//!
//! Reference counts follow PostgreSQL's: 0 is a free item, 1 a segment being destroyed, and a
//! live segment counts 1 plus one per process that has it attached plus one while it is pinned.
//! A handle names its item in its low bits and a generation in the rest, so a handle of a
//! destroyed segment never attaches to the segment made in the same item later (until the
//! generation wraps: 2^24 reuses of one item with the default 8 worker slots).

use crate::pg::types::dsm_handle;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// One item. Its size is part of the main segment's layout.
#[repr(C)]
pub struct Item {
    /// handle << 32 | pinned << 31 | reference count.
    state: AtomicU64,
    /// The segment's size, written before its handle is published.
    size: AtomicU64,
    /// The generation the next segment made in this item gets.
    next_generation: AtomicU32,
    _pad: u32,
}

const PINNED: u64 = 1 << 31;
const COUNT_MASK: u64 = PINNED - 1;
/// An item taken by a creator that has not published its handle yet (handle 0 never matches).
const RESERVED: u64 = 2;

fn pack(handle: dsm_handle, pinned: bool, count: u64) -> u64 {
    (u64::from(handle) << 32) | if pinned { PINNED } else { 0 } | count
}

fn handle_of(state: u64) -> dsm_handle {
    (state >> 32) as dsm_handle
}

fn count_of(state: u64) -> u64 {
    state & COUNT_MASK
}

fn pinned(state: u64) -> bool {
    state & PINNED != 0
}

/// Bits of a handle that name its item, for a table of `n` items.
fn index_bits(n: usize) -> u32 {
    usize::BITS - (n.max(2) - 1).leading_zeros()
}

/// The item a handle names, if it is in the table.
pub fn index_of(items: &[Item], handle: dsm_handle) -> Option<usize> {
    let i = (handle & ((1u32 << index_bits(items.len())) - 1)) as usize;
    (handle != 0 && i < items.len()).then_some(i)
}

/// Seeds every item's generation (the supervisor, on a fresh table): a handle from before a
/// crash-restart is unlikely to name a new segment.
pub fn initialise(items: &[Item]) {
    let mut x = seed();
    for it in items {
        // xorshift64*: cheap and good enough to spread the starting generations.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32;
        it.state.store(0, Ordering::Relaxed);
        it.size.store(0, Ordering::Relaxed);
        it.next_generation.store(v, Ordering::Relaxed);
    }
}

fn seed() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into ts; getpid has no preconditions.
    unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts);
        (ts.tv_sec as u64) << 30 ^ ts.tv_nsec as u64 ^ (libc::getpid() as u64) << 48 | 1
    }
}

/// Takes a free item for a new segment of `size` bytes: (item, handle), or None when every item
/// is in use. The segment counts 2 (its creator) once published with `publish`.
pub fn reserve(items: &[Item], size: u64, hint: usize) -> Option<(usize, dsm_handle)> {
    let n = items.len();
    let bits = index_bits(n);
    for k in 0..n {
        let i = (hint + k) % n;
        let it = &items[i];
        if it.state.load(Ordering::Relaxed) != 0 {
            continue;
        }
        if it
            .state
            .compare_exchange(0, RESERVED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        let gen_mask = (1u64 << (32 - bits)) - 1;
        let mut g = u64::from(it.next_generation.load(Ordering::Relaxed)) & gen_mask;
        if g == 0 {
            g = 1;
        }
        it.next_generation
            .store(((g + 1) & gen_mask) as u32, Ordering::Relaxed);
        let handle = ((g << bits) as u32) | i as u32;
        it.size.store(size, Ordering::Relaxed);
        return Some((i, handle));
    }
    None
}

/// Makes a reserved item's segment attachable under `handle`.
pub fn publish(items: &[Item], index: usize, handle: dsm_handle) {
    items[index]
        .state
        .store(pack(handle, false, 2), Ordering::Release);
}

/// Gives back an item that was reserved but never published (the mapping failed).
pub fn unreserve(items: &[Item], index: usize) {
    items[index].state.store(0, Ordering::Release);
}

/// Counts one more process attached to the segment `handle`: its item and size, or None when
/// no live segment has that handle.
pub fn attach(items: &[Item], handle: dsm_handle) -> Option<(usize, u64)> {
    let i = index_of(items, handle)?;
    let it = &items[i];
    let mut s = it.state.load(Ordering::Acquire);
    loop {
        if handle_of(s) != handle || count_of(s) < 2 || count_of(s) == COUNT_MASK {
            return None;
        }
        match it
            .state
            .compare_exchange_weak(s, s + 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return Some((i, it.size.load(Ordering::Acquire))),
            Err(now) => s = now,
        }
    }
}

/// Counts one reference fewer; true when it was the last one, and the caller must destroy the
/// segment (then `free`).
pub fn release(items: &[Item], index: usize, handle: dsm_handle) -> bool {
    let it = &items[index];
    let mut s = it.state.load(Ordering::Acquire);
    loop {
        if handle_of(s) != handle || count_of(s) < 2 {
            return false; // not ours any more (a crash-restart reset the table)
        }
        match it
            .state
            .compare_exchange_weak(s, s - 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return count_of(s) - 1 == 1,
            Err(now) => s = now,
        }
    }
}

/// Frees a destroyed segment's item.
pub fn free(items: &[Item], index: usize) {
    items[index].state.store(0, Ordering::Release);
}

/// The size of item `index`'s segment.
pub fn size_of(items: &[Item], index: usize) -> u64 {
    items[index].size.load(Ordering::Acquire)
}

/// Why pinning or unpinning failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinError {
    AlreadyPinned,
    NotPinned,
    Unknown,
}

/// `dsm_pin_segment`: one more reference, held by the pin.
pub fn pin(items: &[Item], index: usize, handle: dsm_handle) -> Result<(), PinError> {
    let it = &items[index];
    let mut s = it.state.load(Ordering::Acquire);
    loop {
        if handle_of(s) != handle || count_of(s) < 2 {
            return Err(PinError::Unknown);
        }
        if pinned(s) {
            return Err(PinError::AlreadyPinned);
        }
        let next = pack(handle, true, count_of(s) + 1);
        match it
            .state
            .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return Ok(()),
            Err(now) => s = now,
        }
    }
}

/// `dsm_unpin_segment`: drops the pin's reference; Ok(true) when it was the last one (the caller
/// destroys the segment, then `free`s the item).
pub fn unpin(items: &[Item], handle: dsm_handle) -> Result<(usize, bool), PinError> {
    let i = index_of(items, handle).ok_or(PinError::Unknown)?;
    let it = &items[i];
    let mut s = it.state.load(Ordering::Acquire);
    loop {
        if handle_of(s) != handle || count_of(s) < 2 {
            return Err(PinError::Unknown);
        }
        if !pinned(s) {
            return Err(PinError::NotPinned);
        }
        let next = pack(handle, false, count_of(s) - 1);
        match it
            .state
            .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return Ok((i, count_of(s) - 1 == 1)),
            Err(now) => s = now,
        }
    }
}

/// Items in use (live or being destroyed).
pub fn in_use(items: &[Item]) -> usize {
    items
        .iter()
        .filter(|it| it.state.load(Ordering::Relaxed) != 0)
        .count()
}

const _: () = assert!(std::mem::size_of::<Item>() == 24);

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: usize) -> Vec<Item> {
        let v: Vec<Item> = (0..n)
            .map(|_| Item {
                state: AtomicU64::new(0),
                size: AtomicU64::new(0),
                next_generation: AtomicU32::new(0),
                _pad: 0,
            })
            .collect();
        initialise(&v);
        v
    }

    #[test]
    fn a_segment_lives_while_referenced_and_its_handle_dies_with_it() {
        let t = table(10);
        let (i, h) = reserve(&t, 100, 0).unwrap();
        publish(&t, i, h);
        assert_eq!(attach(&t, h), Some((i, 100)));
        assert!(!release(&t, i, h), "the creator still holds it");
        assert!(release(&t, i, h), "last reference");
        free(&t, i);
        assert_eq!(
            attach(&t, h),
            None,
            "a destroyed segment's handle attaches to nothing"
        );
        let (j, h2) = reserve(&t, 5, i).unwrap();
        assert_eq!(j, i);
        assert_ne!(h2, h, "the item's next segment has another handle");
    }

    #[test]
    fn a_pin_keeps_the_segment_until_unpinned() {
        let t = table(4);
        let (i, h) = reserve(&t, 1, 0).unwrap();
        publish(&t, i, h);
        pin(&t, i, h).unwrap();
        assert_eq!(pin(&t, i, h), Err(PinError::AlreadyPinned));
        assert!(!release(&t, i, h), "pinned");
        assert_eq!(attach(&t, h).map(|a| a.0), Some(i));
        assert!(!release(&t, i, h));
        assert_eq!(unpin(&t, h), Ok((i, true)));
        free(&t, i);
        assert_eq!(unpin(&t, h), Err(PinError::Unknown));
    }

    #[test]
    fn a_full_table_reserves_nothing() {
        let t = table(3);
        for _ in 0..3 {
            let (i, h) = reserve(&t, 1, 0).unwrap();
            publish(&t, i, h);
        }
        assert!(reserve(&t, 1, 0).is_none());
        assert_eq!(in_use(&t), 3);
    }
}
