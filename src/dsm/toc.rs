//! Tables of contents in shared memory (`storage/shm_toc.h`), laid out as PostgreSQL 15 lays
//! them out: a header and (key, offset) entries at the start of the space, chunks handed out
//! from its end, buffer-aligned. Entries hold offsets from the table, so the table works
//! wherever each process maps it.

use crate::lwlock::slock_t;
use crate::pg::types::ERROR;
use std::sync::atomic::{fence, AtomicU32, AtomicU8, Ordering};

/// One entry.
#[repr(C)]
pub struct shm_toc_entry {
    pub key: u64,
    pub offset: usize,
}

/// The table's header (`shm_toc`); opaque to modules.
#[repr(C)]
pub struct shm_toc {
    toc_magic: u64,
    toc_mutex: slock_t,
    toc_total_bytes: usize,
    toc_allocated_bytes: usize,
    toc_nentry: u32,
    toc_entry: [shm_toc_entry; 0],
}

/// What `shm_toc_estimate` adds up (`shm_toc_estimator`, filled by the header's macros).
#[repr(C)]
pub struct shm_toc_estimator {
    pub space_for_chunks: usize,
    pub number_of_keys: usize,
}

/// PostgreSQL's `ALIGNOF_BUFFER` on x86_64 Linux.
const ALIGNOF_BUFFER: usize = 32;

fn buffer_align(n: usize) -> usize {
    n.next_multiple_of(ALIGNOF_BUFFER)
}

fn out_of_shared_memory() -> ! {
    crate::pg::raise_fmt(
        ERROR,
        crate::pg::make_sqlstate(b"53200"),
        format_args!("out of shared memory"),
    )
}

fn lock(toc: *mut shm_toc) {
    // SAFETY: the mutex byte of a live table; only touched atomically.
    let m = unsafe { AtomicU8::from_ptr((&raw mut (*toc).toc_mutex).cast()) };
    if m.swap(1, Ordering::Acquire) != 0 {
        // SAFETY: as above; s_lock spins until the lock is ours.
        unsafe {
            crate::lwlock::s_lock(
                (&raw mut (*toc).toc_mutex).cast(),
                c"shm_toc".as_ptr(),
                0,
                c"shm_toc".as_ptr(),
            )
        };
    }
}

fn unlock(toc: *mut shm_toc) {
    // SAFETY: as in lock.
    unsafe { AtomicU8::from_ptr((&raw mut (*toc).toc_mutex).cast()) }.store(0, Ordering::Release);
}

fn nentry(toc: *mut shm_toc) -> &'static AtomicU32 {
    // SAFETY: an aligned u32 field of a live table, read and written atomically.
    unsafe { AtomicU32::from_ptr(&raw mut (*toc).toc_nentry) }
}

/// `shm_toc_create`: a table at `address`, managing `nbytes` bytes.
///
/// # Safety
/// `address` points to `nbytes` writable bytes, 8-aligned.
pub unsafe fn create(magic: u64, address: *mut u8, nbytes: usize) -> *mut shm_toc {
    let toc = address.cast::<shm_toc>();
    if nbytes < std::mem::size_of::<shm_toc>() {
        out_of_shared_memory();
    }
    // SAFETY: as the caller promises.
    unsafe {
        toc.write(shm_toc {
            toc_magic: magic,
            toc_mutex: 0,
            toc_total_bytes: nbytes,
            toc_allocated_bytes: 0,
            toc_nentry: 0,
            toc_entry: [],
        });
    }
    toc
}

/// `shm_toc_attach`: the table at `address` if it has `magic`, else NULL.
///
/// # Safety
/// `address` points to a readable table header.
pub unsafe fn attach(magic: u64, address: *mut u8) -> *mut shm_toc {
    let toc = address.cast::<shm_toc>();
    // SAFETY: as the caller promises.
    if unsafe { (*toc).toc_magic } != magic {
        return std::ptr::null_mut();
    }
    toc
}

fn entries_end(n: usize) -> usize {
    std::mem::size_of::<shm_toc>() + n * std::mem::size_of::<shm_toc_entry>()
}

/// `shm_toc_allocate`: `nbytes` (buffer-aligned) from the end of the space; ERROR "out of shared
/// memory" when it would meet the entries.
///
/// # Safety
/// `toc` is a live table.
pub unsafe fn allocate(toc: *mut shm_toc, nbytes: usize) -> *mut u8 {
    let nbytes = buffer_align(nbytes);
    lock(toc);
    // SAFETY: as the caller promises; fields are guarded by the mutex.
    let result = unsafe {
        let total = (*toc).toc_total_bytes;
        let allocated = (*toc).toc_allocated_bytes;
        let used = entries_end(nentry(toc).load(Ordering::Relaxed) as usize);
        match used
            .checked_add(allocated)
            .and_then(|u| u.checked_add(nbytes))
        {
            Some(need) if need <= total => {
                (*toc).toc_allocated_bytes = allocated + nbytes;
                Some(total - allocated - nbytes)
            }
            _ => None,
        }
    };
    unlock(toc);
    match result {
        // SAFETY: inside the table's space.
        Some(offset) => unsafe { toc.cast::<u8>().add(offset) },
        None => out_of_shared_memory(),
    }
}

/// `shm_toc_freespace`: bytes still free between the entries and the chunks.
///
/// # Safety
/// `toc` is a live table.
pub unsafe fn freespace(toc: *mut shm_toc) -> usize {
    lock(toc);
    // SAFETY: as the caller promises.
    let (total, allocated) = unsafe { ((*toc).toc_total_bytes, (*toc).toc_allocated_bytes) };
    let n = nentry(toc).load(Ordering::Relaxed) as usize;
    unlock(toc);
    total.saturating_sub(allocated + buffer_align(entries_end(n)))
}

/// `shm_toc_insert`: records `address` (inside the table's space) under `key`.
///
/// # Safety
/// `toc` is a live table; `address` lies in its space.
pub unsafe fn insert(toc: *mut shm_toc, key: u64, address: *mut u8) {
    let offset = (address as usize).wrapping_sub(toc as usize);
    lock(toc);
    // SAFETY: as the caller promises; guarded by the mutex.
    let ok = unsafe {
        let total = (*toc).toc_total_bytes;
        let allocated = (*toc).toc_allocated_bytes;
        let n = nentry(toc).load(Ordering::Relaxed) as usize;
        let need = entries_end(n + 1) + allocated;
        if need > total || offset >= total {
            false
        } else {
            let e = (&raw mut (*toc).toc_entry).cast::<shm_toc_entry>().add(n);
            e.write(shm_toc_entry { key, offset });
            // The entry is complete before a reader can see the count that includes it.
            fence(Ordering::Release);
            nentry(toc).store(n as u32 + 1, Ordering::Release);
            true
        }
    };
    unlock(toc);
    if !ok {
        out_of_shared_memory();
    }
}

/// `shm_toc_lookup`: the address recorded under `key`; NULL (with `no_error`) or ERROR when
/// there is none.
///
/// # Safety
/// `toc` is a live table.
pub unsafe fn lookup(toc: *mut shm_toc, key: u64, no_error: bool) -> *mut u8 {
    let n = nentry(toc).load(Ordering::Acquire) as usize;
    for i in 0..n {
        // SAFETY: the first n entries are complete (published by the release above).
        let e = unsafe { &*(&raw const (*toc).toc_entry).cast::<shm_toc_entry>().add(i) };
        if e.key == key {
            // SAFETY: the offset was checked to lie in the table's space when inserted.
            return unsafe { toc.cast::<u8>().add(e.offset) };
        }
    }
    if no_error {
        return std::ptr::null_mut();
    }
    crate::pg::raise_fmt(
        ERROR,
        0,
        format_args!("could not find key {key} in shm TOC at {toc:p}"),
    )
}

/// `shm_toc_estimate`: the bytes a table needs for what the estimator counted.
pub fn estimate(e: &shm_toc_estimator) -> usize {
    use crate::mcxt::{add_size, mul_size};
    let sz = add_size(
        std::mem::size_of::<shm_toc>(),
        mul_size(e.number_of_keys, std::mem::size_of::<shm_toc_entry>()),
    );
    buffer_align(add_size(sz, e.space_for_chunks))
}

const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(offset_of!(shm_toc, toc_mutex) == 8);
    assert!(offset_of!(shm_toc, toc_total_bytes) == 16);
    assert!(offset_of!(shm_toc, toc_nentry) == 32);
    assert!(size_of::<shm_toc>() == 40);
    assert!(size_of::<shm_toc_estimator>() == 16);
};
