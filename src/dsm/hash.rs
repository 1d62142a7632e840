//! PostgreSQL's hash tables (`utils/hsearch.h`, dynahash): linear hashing over a directory of
//! bucket segments, entries with a 16-byte header before the key, free lists, expansion one
//! bucket at a time; local tables in a memory context of their own, shared ones
//! (`ShmemInitHash`) in the main segment, partitioned for callers that lock each partition with
//! an LWLock (`HASH_PARTITION`: 32 free lists, each under a spinlock; no expansion).
//!
//! Flags mean what PostgreSQL 15 makes them mean: `HASH_ELEM` sizes, `HASH_BLOBS` (binary keys:
//! `uint32_hash` for 4-byte keys, else `tag_hash`), `HASH_STRINGS` (NUL-terminated keys within
//! `keysize`), `HASH_FUNCTION`/`HASH_COMPARE`/`HASH_KEYCOPY`/`HASH_ALLOC`/`HASH_CONTEXT`,
//! `HASH_SEGMENT`, `HASH_DIRSIZE`, `HASH_SHARED_MEM`/`HASH_ATTACH`, `HASH_FIXED_SIZE` (no
//! entries beyond those made at creation).
//!
//! A shared table's links (buckets, chains, free lists, the directory) hold offsets from its
//! header, not addresses, so it works in a process that maps the main segment elsewhere; a local
//! table's links are plain addresses (its base is 0).

use crate::mcxt::{self, MemoryContext};
use crate::pg::types::*;
use crate::pg::{make_sqlstate, raise_fmt, Text};
use libc::{c_char, c_int, c_long, c_void};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU8, Ordering};

pub type HashValueFunc = Option<unsafe extern "C" fn(key: *const c_void, keysize: usize) -> u32>;
pub type HashCompareFunc =
    Option<unsafe extern "C" fn(key1: *const c_void, key2: *const c_void, keysize: usize) -> c_int>;
pub type HashCopyFunc = Option<
    unsafe extern "C" fn(dest: *mut c_void, src: *const c_void, keysize: usize) -> *mut c_void,
>;
pub type HashAllocFunc = Option<unsafe extern "C" fn(request: usize) -> *mut c_void>;

/// `HASHCTL`, PostgreSQL 15's layout.
#[repr(C)]
pub struct HASHCTL {
    pub num_partitions: c_long,
    pub ssize: c_long,
    pub dsize: c_long,
    pub max_dsize: c_long,
    pub keysize: usize,
    pub entrysize: usize,
    pub hash: HashValueFunc,
    pub match_: HashCompareFunc,
    pub keycopy: HashCopyFunc,
    pub alloc: HashAllocFunc,
    pub hcxt: MemoryContext,
    pub hctl: *mut HASHHDR,
}

/// An entry's header (`HASHELEMENT`); the key follows at 16 bytes. In a shared table `link`
/// holds an offset, not an address.
#[repr(C)]
pub struct HASHELEMENT {
    pub link: *mut HASHELEMENT,
    pub hashvalue: u32,
}

/// A scan (`HASH_SEQ_STATUS`), PostgreSQL's layout: modules keep it on their stack.
#[repr(C)]
pub struct HASH_SEQ_STATUS {
    pub hashp: *mut HTAB,
    pub curBucket: u32,
    pub curEntry: *mut HASHELEMENT,
}

pub const HASH_PARTITION: c_int = 0x0001;
pub const HASH_SEGMENT: c_int = 0x0002;
pub const HASH_DIRSIZE: c_int = 0x0004;
pub const HASH_ELEM: c_int = 0x0008;
pub const HASH_STRINGS: c_int = 0x0010;
pub const HASH_BLOBS: c_int = 0x0020;
pub const HASH_FUNCTION: c_int = 0x0040;
pub const HASH_COMPARE: c_int = 0x0080;
pub const HASH_KEYCOPY: c_int = 0x0100;
pub const HASH_ALLOC: c_int = 0x0200;
pub const HASH_CONTEXT: c_int = 0x0400;
pub const HASH_SHARED_MEM: c_int = 0x0800;
pub const HASH_ATTACH: c_int = 0x1000;
pub const HASH_FIXED_SIZE: c_int = 0x2000;
pub const NO_MAX_DSIZE: c_long = -1;

/// `HASHACTION`.
pub const HASH_FIND: c_int = 0;
pub const HASH_ENTER: c_int = 1;
pub const HASH_REMOVE: c_int = 2;
pub const HASH_ENTER_NULL: c_int = 3;

const DEF_SEGSIZE: c_long = 256;
const DEF_SEGSIZE_SHIFT: c_int = 8;
const DEF_DIRSIZE: c_long = 256;
const NUM_FREELISTS: usize = 32;
const ELEMENT_HEADER: usize = 16;
const MAX_SEQ_SCANS: usize = 100;

type Link = usize;

#[repr(C)]
struct FreeList {
    mutex: u8,
    _pad: [u8; 7],
    nentries: c_long,
    free_list: Link,
}

/// The table's header (`HASHHDR`): in shared memory for a shared table, where its directory
/// follows it. Opaque to modules.
#[repr(C)]
pub struct HASHHDR {
    free_lists: [FreeList; NUM_FREELISTS],
    dsize: c_long,
    nsegs: c_long,
    max_bucket: u32,
    high_mask: u32,
    low_mask: u32,
    _pad: u32,
    keysize: usize,
    entrysize: usize,
    num_partitions: c_long,
    ssize: c_long,
    sshift: c_int,
    nelem_alloc: c_int,
    max_dsize: c_long,
}

/// A process's view of a table (`HTAB`). Opaque to modules.
pub struct HTAB {
    hctl: *mut HASHHDR,
    /// The directory: `dsize` links to bucket segments.
    dir: *mut Link,
    hash: HashValueFunc,
    match_: HashCompareFunc,
    keycopy: HashCopyFunc,
    alloc: HashAllocFunc,
    hcxt: MemoryContext,
    tabname: *mut c_char,
    isshared: bool,
    isfixed: bool,
    frozen: bool,
    keysize: usize,
    ssize: c_long,
    sshift: c_int,
    /// What links are relative to: the header of a shared table, 0 for a local one.
    base: usize,
}

fn maxalign(n: usize) -> usize {
    n.next_multiple_of(8)
}

fn next_pow2(n: c_long) -> c_long {
    let n = n.max(1) as u64;
    n.next_power_of_two().min(1 << 62) as c_long
}

fn log2(n: c_long) -> c_int {
    (next_pow2(n) as u64).trailing_zeros() as c_int
}

/// `choose_nelem_alloc`: entries made at a time (at least 32, a power-of-two block).
fn choose_nelem_alloc(entrysize: usize) -> c_int {
    let element = ELEMENT_HEADER + maxalign(entrysize);
    let mut alloc = 32usize * 4;
    loop {
        alloc <<= 1;
        let n = alloc / element;
        if n >= 32 {
            return n as c_int;
        }
    }
}

// ---- the hash functions dynahash picks ------------------------------------------------------

/// `tag_hash`.
///
/// # Safety
/// `key` points to `keysize` readable bytes.
pub unsafe extern "C" fn tag_hash(key: *const c_void, keysize: usize) -> u32 {
    // SAFETY: as the caller promises.
    super::hashfn::hash_bytes(unsafe { std::slice::from_raw_parts(key.cast::<u8>(), keysize) })
}

/// `uint32_hash`.
///
/// # Safety
/// `key` points to a readable uint32.
pub unsafe extern "C" fn uint32_hash(key: *const c_void, _keysize: usize) -> u32 {
    // SAFETY: as the caller promises.
    super::hashfn::hash_bytes_uint32(unsafe { key.cast::<u32>().read_unaligned() })
}

/// `string_hash`: the bytes before the NUL, at most `keysize - 1`.
///
/// # Safety
/// `key` points to a NUL-terminated string or `keysize - 1` readable bytes.
pub unsafe extern "C" fn string_hash(key: *const c_void, keysize: usize) -> u32 {
    let max = keysize.saturating_sub(1);
    // SAFETY: as the caller promises.
    let len = unsafe { libc::strnlen(key.cast(), max) };
    // SAFETY: len readable bytes.
    super::hashfn::hash_bytes(unsafe { std::slice::from_raw_parts(key.cast::<u8>(), len) })
}

unsafe extern "C" fn string_compare(a: *const c_void, b: *const c_void, keysize: usize) -> c_int {
    // SAFETY: both keys are NUL-terminated or keysize - 1 bytes.
    unsafe { libc::strncmp(a.cast(), b.cast(), keysize.saturating_sub(1)) }
}

unsafe extern "C" fn string_copy(d: *mut c_void, s: *const c_void, keysize: usize) -> *mut c_void {
    if keysize == 0 {
        return d;
    }
    // SAFETY: d has keysize writable bytes; s is NUL-terminated or keysize - 1 bytes long.
    unsafe {
        let len = libc::strnlen(s.cast(), keysize - 1);
        std::ptr::copy_nonoverlapping(s.cast::<u8>(), d.cast::<u8>(), len);
        *d.cast::<u8>().add(len) = 0;
    }
    d
}

unsafe extern "C" fn mem_compare(a: *const c_void, b: *const c_void, keysize: usize) -> c_int {
    // SAFETY: both keys have keysize readable bytes.
    unsafe { libc::memcmp(a, b, keysize) }
}

unsafe extern "C" fn mem_copy(d: *mut c_void, s: *const c_void, keysize: usize) -> *mut c_void {
    // SAFETY: as the caller promises.
    unsafe { std::ptr::copy_nonoverlapping(s.cast::<u8>(), d.cast::<u8>(), keysize) };
    d
}

// ---- allocation ---------------------------------------------------------------------------------

/// The context a local table allocates in (`CurrentDynaHashCxt`): set around each allocation,
/// read by `dyna_alloc`.
struct DynaCxt(Cell<MemoryContext>);
// SAFETY: a process's one thread uses it, never from a signal handler.
unsafe impl Sync for DynaCxt {}
static CURRENT_CXT: DynaCxt = DynaCxt(Cell::new(null_mut()));

unsafe extern "C" fn dyna_alloc(size: usize) -> *mut c_void {
    // SAFETY: CURRENT_CXT is set to the table's live context before every call.
    unsafe { mcxt::alloc_in(CURRENT_CXT.0.get(), size, 0x02) }
}

/// Memory for `size` bytes from the table's allocator (NULL when exhausted).
fn table_alloc(h: &HTAB, size: usize) -> *mut u8 {
    CURRENT_CXT.0.set(h.hcxt);
    match h.alloc {
        // SAFETY: a module's or the library's allocator; it returns NULL when it cannot.
        Some(f) => unsafe { f(size) }.cast(),
        None => null_mut(),
    }
}

// ---- links ------------------------------------------------------------------------------------

fn to_ptr<T>(h: &HTAB, l: Link) -> *mut T {
    if l == 0 {
        null_mut()
    } else {
        h.base.wrapping_add(l) as *mut T
    }
}

fn to_link<T>(h: &HTAB, p: *mut T) -> Link {
    if p.is_null() {
        0
    } else {
        (p as usize).wrapping_sub(h.base)
    }
}

fn hdr<'a>(h: &HTAB) -> &'a mut HASHHDR {
    // SAFETY: a live table's header; its fields are changed under the caller's lock (or a free
    // list's spinlock, for the free lists).
    unsafe { &mut *h.hctl }
}

/// Whether two keys are equal by the table's compare function.
fn keys_match(h: &HTAB, a: *const c_void, b: *const c_void, keysize: usize) -> bool {
    let Some(m) = h.match_ else {
        return false;
    };
    // SAFETY: the table's compare function on two keys of its size.
    let r = unsafe { m(a, b, keysize) };
    r == 0
}

fn key_of(e: *mut HASHELEMENT) -> *mut u8 {
    // SAFETY: the key follows the element's header.
    unsafe { e.cast::<u8>().add(ELEMENT_HEADER) }
}

fn element_of(key: *mut c_void) -> *mut HASHELEMENT {
    // SAFETY: an entry's key is preceded by its header.
    unsafe { key.cast::<u8>().sub(ELEMENT_HEADER).cast() }
}

fn link_of(h: &HTAB, e: *mut HASHELEMENT) -> *mut HASHELEMENT {
    // SAFETY: a live element of this table.
    to_ptr(h, unsafe { (*e).link } as usize)
}

fn set_link(h: &HTAB, e: *mut HASHELEMENT, next: *mut HASHELEMENT) {
    // SAFETY: a live element of this table.
    unsafe { (*e).link = to_link(h, next) as *mut HASHELEMENT };
}

fn freelist_lock(h: &HTAB, idx: usize) {
    if !partitioned(h) {
        return;
    }
    let m = &raw mut hdr(h).free_lists[idx].mutex;
    // SAFETY: the mutex byte of a live header; only touched atomically.
    if unsafe { AtomicU8::from_ptr(m) }.swap(1, Ordering::Acquire) != 0 {
        // SAFETY: as above; s_lock spins until the lock is ours.
        unsafe { crate::lwlock::s_lock(m.cast(), c"dynahash".as_ptr(), 0, c"hash".as_ptr()) };
    }
}

fn freelist_unlock(h: &HTAB, idx: usize) {
    if !partitioned(h) {
        return;
    }
    // SAFETY: as in freelist_lock.
    unsafe { AtomicU8::from_ptr(&raw mut hdr(h).free_lists[idx].mutex) }
        .store(0, Ordering::Release);
}

fn partitioned(h: &HTAB) -> bool {
    hdr(h).num_partitions != 0
}

fn freelist_idx(h: &HTAB, hashvalue: u32) -> usize {
    if partitioned(h) {
        hashvalue as usize % NUM_FREELISTS
    } else {
        0
    }
}

fn bucket_of(hctl: &HASHHDR, hashvalue: u32) -> u32 {
    let b = hashvalue & hctl.high_mask;
    if b > hctl.max_bucket {
        b & hctl.low_mask
    } else {
        b
    }
}

/// The bucket slot `b` (a link to its first element).
fn bucket_slot(h: &HTAB, b: u32) -> *mut Link {
    let segnum = (b as usize) >> h.sshift;
    let ndx = (b as usize) & (h.ssize as usize - 1);
    // SAFETY: the directory has the segment of every bucket up to max_bucket.
    unsafe {
        let seg: *mut Link = to_ptr(h, *h.dir.add(segnum));
        seg.add(ndx)
    }
}

fn seg_alloc(h: &HTAB) -> *mut Link {
    let size = std::mem::size_of::<Link>() * h.ssize as usize;
    let seg = table_alloc(h, size).cast::<Link>();
    if !seg.is_null() {
        // SAFETY: fresh memory of `size` bytes.
        unsafe { std::ptr::write_bytes(seg, 0, h.ssize as usize) };
    }
    seg
}

/// Makes `n` more entries for free list `idx`; false when the allocator is out of memory, or
/// the table has a fixed size.
fn element_alloc(h: &HTAB, n: c_int, idx: usize) -> bool {
    if h.isfixed || n <= 0 {
        return false;
    }
    let size = ELEMENT_HEADER + maxalign(hdr(h).entrysize);
    let Some(total) = size.checked_mul(n as usize) else {
        return false;
    };
    let block = table_alloc(h, total);
    if block.is_null() {
        return false;
    }
    // Chain them first, then hand the chain over under the free list's lock.
    let mut first: *mut HASHELEMENT = null_mut();
    for k in (0..n as usize).rev() {
        // SAFETY: element k of the fresh block.
        let e = unsafe { block.add(k * size) }.cast::<HASHELEMENT>();
        set_link(h, e, first);
        first = e;
    }
    // SAFETY: the last element of the block.
    let last = unsafe { block.add((n as usize - 1) * size) }.cast::<HASHELEMENT>();
    freelist_lock(h, idx);
    let fl = &mut hdr(h).free_lists[idx];
    set_link(h, last, to_ptr(h, fl.free_list));
    fl.free_list = to_link(h, first);
    freelist_unlock(h, idx);
    true
}

/// An entry from free list `idx` (making more, or borrowing from another list of a partitioned
/// table); counted there. NULL when out of memory.
fn get_entry(h: &HTAB, idx: usize) -> *mut HASHELEMENT {
    loop {
        freelist_lock(h, idx);
        let fl = &mut hdr(h).free_lists[idx];
        let e: *mut HASHELEMENT = to_ptr(h, fl.free_list);
        if !e.is_null() {
            fl.free_list = to_link(h, link_of(h, e));
            fl.nentries += 1;
            freelist_unlock(h, idx);
            return e;
        }
        freelist_unlock(h, idx);
        let n = hdr(h).nelem_alloc;
        if element_alloc(h, n, idx) {
            continue;
        }
        if !partitioned(h) {
            return null_mut();
        }
        for k in 1..NUM_FREELISTS {
            let other = (idx + k) % NUM_FREELISTS;
            freelist_lock(h, other);
            let fo = &mut hdr(h).free_lists[other];
            let e: *mut HASHELEMENT = to_ptr(h, fo.free_list);
            if !e.is_null() {
                fo.free_list = to_link(h, link_of(h, e));
                freelist_unlock(h, other);
                freelist_lock(h, idx);
                hdr(h).free_lists[idx].nentries += 1;
                freelist_unlock(h, idx);
                return e;
            }
            freelist_unlock(h, other);
        }
        return null_mut();
    }
}

// ---- creating -----------------------------------------------------------------------------------

/// Why a table could not be made.
pub enum CreateError {
    OutOfMemory,
    Init,
    BadArgs(&'static str),
}

/// `hash_create`. `strings` says the keys are strings (HASH_STRINGS, or PostgreSQL's own
/// `string_hash` given as the function).
///
/// # Safety
/// `tabname` is a NUL-terminated string; `info` is valid for what `flags` says.
pub unsafe fn create(
    tabname: *const c_char,
    nelem: c_long,
    info: &HASHCTL,
    flags: c_int,
    strings: bool,
) -> Result<*mut HTAB, CreateError> {
    if flags & HASH_ELEM == 0 || info.keysize == 0 || info.entrysize < info.keysize {
        return Err(CreateError::BadArgs(
            "HASH_ELEM, with keysize > 0 and entrysize >= keysize, is required",
        ));
    }
    let shared = flags & HASH_SHARED_MEM != 0;
    // The local table's own context (a shared table's HTAB lives in TopMemoryContext).
    // SAFETY: the contexts named are live; tabname is a NUL-terminated string.
    let cxt = unsafe {
        if shared {
            mcxt::TopMemoryContext
        } else {
            let parent = if flags & HASH_CONTEXT != 0 && !info.hcxt.is_null() {
                info.hcxt
            } else {
                mcxt::TopMemoryContext
            };
            mcxt::create(parent, c"dynahash".as_ptr())
        }
    };
    // SAFETY: as the caller promises.
    let name_len = unsafe { libc::strlen(tabname) };
    // SAFETY: cxt is live; the chunk holds the HTAB and a copy of the name.
    let hashp = unsafe {
        mcxt::alloc_in(cxt, std::mem::size_of::<HTAB>() + name_len + 1, 0x04).cast::<HTAB>()
    };
    // SAFETY: the name goes right after the HTAB in the same chunk.
    let name_copy = unsafe {
        let p = hashp.add(1).cast::<c_char>();
        std::ptr::copy_nonoverlapping(tabname, p, name_len + 1);
        p
    };
    let strings = strings || (flags & (HASH_FUNCTION | HASH_BLOBS) == 0);
    let hash: HashValueFunc = if flags & HASH_FUNCTION != 0 {
        info.hash
    } else if flags & HASH_BLOBS != 0 {
        if info.keysize == 4 {
            Some(uint32_hash)
        } else {
            Some(tag_hash)
        }
    } else {
        Some(string_hash)
    };
    let match_: HashCompareFunc = if flags & HASH_COMPARE != 0 {
        info.match_
    } else if strings {
        Some(string_compare)
    } else {
        Some(mem_compare)
    };
    let keycopy: HashCopyFunc = if flags & HASH_KEYCOPY != 0 {
        info.keycopy
    } else if strings {
        Some(string_copy)
    } else {
        Some(mem_copy)
    };
    let alloc: HashAllocFunc = if flags & HASH_ALLOC != 0 {
        info.alloc
    } else {
        Some(dyna_alloc)
    };
    // SAFETY: hashp is a fresh, zeroed chunk of the right size.
    unsafe {
        hashp.write(HTAB {
            hctl: null_mut(),
            dir: null_mut(),
            hash,
            match_,
            keycopy,
            alloc,
            hcxt: if shared { null_mut() } else { cxt },
            tabname: name_copy,
            isshared: shared,
            isfixed: false,
            frozen: false,
            keysize: info.keysize,
            ssize: DEF_SEGSIZE,
            sshift: DEF_SEGSIZE_SHIFT,
            base: 0,
        });
    }
    // SAFETY: just written.
    let result = fill(unsafe { &mut *hashp }, nelem, info, flags, shared);
    if result.is_err() {
        // SAFETY: nothing else refers to what was made so far.
        unsafe {
            if shared {
                mcxt::free(hashp.cast());
            } else {
                mcxt::delete(cxt);
            }
        }
    }
    result.map(|()| hashp)
}

/// The rest of `create`: the header (found, or made and filled) and the first entries.
fn fill(
    h: &mut HTAB,
    nelem: c_long,
    info: &HASHCTL,
    flags: c_int,
    shared: bool,
) -> Result<(), CreateError> {
    if shared {
        if info.hctl.is_null() {
            return Err(CreateError::BadArgs("HASH_SHARED_MEM needs hctl"));
        }
        h.hctl = info.hctl;
        h.base = info.hctl as usize;
        // SAFETY: the directory follows the header in the shared allocation.
        h.dir = unsafe { info.hctl.add(1).cast::<Link>() };
        if flags & HASH_ATTACH != 0 {
            let hc = hdr(h);
            h.keysize = hc.keysize;
            h.ssize = hc.ssize;
            h.sshift = hc.sshift;
            h.isfixed = flags & HASH_FIXED_SIZE != 0;
            return Ok(());
        }
    } else {
        h.hctl = table_alloc(h, std::mem::size_of::<HASHHDR>()).cast();
        if h.hctl.is_null() {
            return Err(CreateError::OutOfMemory);
        }
    }
    // Defaults, then what the caller set.
    // SAFETY: h.hctl points to at least a header's worth of writable bytes.
    unsafe { std::ptr::write_bytes(h.hctl.cast::<u8>(), 0, std::mem::size_of::<HASHHDR>()) };
    let hc = hdr(h);
    hc.dsize = DEF_DIRSIZE;
    hc.ssize = DEF_SEGSIZE;
    hc.sshift = DEF_SEGSIZE_SHIFT;
    hc.max_dsize = NO_MAX_DSIZE;
    if flags & HASH_PARTITION != 0 {
        if !shared {
            return Err(CreateError::BadArgs("HASH_PARTITION needs HASH_SHARED_MEM"));
        }
        let n = info.num_partitions;
        if n <= 0 || n & (n - 1) != 0 {
            return Err(CreateError::BadArgs("num_partitions must be a power of 2"));
        }
        hc.num_partitions = n;
    }
    if flags & HASH_SEGMENT != 0 {
        let s = info.ssize;
        if s <= 0 || s & (s - 1) != 0 {
            return Err(CreateError::BadArgs("ssize must be a power of 2"));
        }
        hc.ssize = s;
        hc.sshift = log2(s);
    }
    if flags & HASH_DIRSIZE != 0 {
        hc.max_dsize = info.max_dsize;
        hc.dsize = info.dsize;
    }
    hc.keysize = info.keysize;
    hc.entrysize = info.entrysize;
    h.keysize = hc.keysize;
    h.ssize = hc.ssize;
    h.sshift = hc.sshift;
    if !init_htab(h, nelem, shared) {
        return Err(CreateError::Init);
    }
    if shared || nelem < c_long::from(hdr(h).nelem_alloc) {
        let lists = if partitioned(h) { NUM_FREELISTS } else { 1 };
        let nelem = nelem.max(0);
        let per = (nelem / lists as c_long).max(1);
        let first = if per * (lists as c_long) < nelem {
            nelem - per * (lists as c_long - 1)
        } else {
            per
        };
        for i in 0..lists {
            let n = if i == 0 { first } else { per };
            if !element_alloc(h, n as c_int, i) {
                return Err(CreateError::OutOfMemory);
            }
        }
    }
    h.isfixed = flags & HASH_FIXED_SIZE != 0;
    Ok(())
}

fn init_htab(h: &mut HTAB, nelem: c_long, shared: bool) -> bool {
    let hc = hdr(h);
    let mut nbuckets = next_pow2(nelem);
    while nbuckets < hc.num_partitions {
        nbuckets <<= 1;
    }
    if nbuckets > (1 << 30) {
        return false;
    }
    hc.max_bucket = (nbuckets - 1) as u32;
    hc.low_mask = (nbuckets - 1) as u32;
    hc.high_mask = ((nbuckets << 1) - 1) as u32;
    let nsegs = next_pow2((nbuckets - 1) / hc.ssize + 1);
    if nsegs > hc.dsize {
        if shared {
            return false;
        }
        hc.dsize = nsegs;
    }
    let dsize = hc.dsize;
    if !shared {
        let dir = table_alloc(h, std::mem::size_of::<Link>() * dsize as usize).cast::<Link>();
        if dir.is_null() {
            return false;
        }
        // SAFETY: fresh memory for dsize links.
        unsafe { std::ptr::write_bytes(dir, 0, dsize as usize) };
        h.dir = dir;
    } else {
        // SAFETY: the shared directory (dsize links) follows the header.
        unsafe { std::ptr::write_bytes(h.dir, 0, dsize as usize) };
    }
    hdr(h).nsegs = 0;
    while hdr(h).nsegs < nsegs {
        let seg = seg_alloc(h);
        if seg.is_null() {
            return false;
        }
        let n = hdr(h).nsegs as usize;
        // SAFETY: n < dsize.
        unsafe { *h.dir.add(n) = to_link(h, seg) };
        hdr(h).nsegs += 1;
    }
    hdr(h).nelem_alloc = choose_nelem_alloc(hdr(h).entrysize);
    true
}

/// `hash_destroy`: frees a local table (its context); for a shared one only the HTAB.
///
/// # Safety
/// `hashp` a live table; not used afterwards.
pub unsafe fn destroy(hashp: *mut HTAB) {
    // SAFETY: as the caller promises.
    unsafe {
        if (*hashp).isshared {
            mcxt::free(hashp.cast());
        } else {
            mcxt::delete((*hashp).hcxt);
        }
    }
}

// ---- searching ----------------------------------------------------------------------------------

fn out_of_memory(h: &HTAB) -> ! {
    let what = if h.isshared {
        "out of shared memory"
    } else {
        "out of memory"
    };
    raise_fmt(ERROR, make_sqlstate(b"53200"), format_args!("{what}"))
}

fn name(h: &HTAB) -> Text<'static> {
    // SAFETY: the table's name is a NUL-terminated copy kept with the HTAB.
    Text(unsafe { crate::pg::cstr(h.tabname) }.unwrap_or(b""))
}

/// `get_hash_value`.
///
/// # Safety
/// `hashp` live; `key` a key of its kind.
pub unsafe fn hash_value(hashp: *mut HTAB, key: *const c_void) -> u32 {
    // SAFETY: as the caller promises.
    let h = unsafe { &*hashp };
    match h.hash {
        // SAFETY: the table's hash function on a key of its size.
        Some(f) => unsafe { f(key, h.keysize) },
        None => 0,
    }
}

/// `hash_search_with_hash_value`.
///
/// # Safety
/// `hashp` live; `key` a key of its kind; `found` NULL or writable.
pub unsafe fn search(
    hashp: *mut HTAB,
    key: *const c_void,
    hashvalue: u32,
    action: c_int,
    found: *mut bool,
) -> *mut c_void {
    // SAFETY: as the caller promises.
    let h = unsafe { &mut *hashp };
    if !(HASH_FIND..=HASH_ENTER_NULL).contains(&action) {
        raise_fmt(
            ERROR,
            0,
            format_args!("unrecognized hash action code: {action}"),
        );
    }
    let inserting = action == HASH_ENTER || action == HASH_ENTER_NULL;
    if inserting
        && !partitioned(h)
        && !h.frozen
        && hdr(h).free_lists[0].nentries > c_long::from(hdr(h).max_bucket)
        && !has_seq_scans(hashp)
    {
        expand_table(h);
    }
    let b = bucket_of(hdr(h), hashvalue);
    let mut prev: *mut Link = bucket_slot(h, b);
    let keysize = h.keysize;
    let mut cur: *mut HASHELEMENT;
    loop {
        // SAFETY: prev is a bucket slot or an element's link field.
        cur = to_ptr(h, unsafe { *prev });
        if cur.is_null() {
            break;
        }
        // SAFETY: a live element of this table.
        let hv = unsafe { (*cur).hashvalue };
        if hv == hashvalue {
            let same = keys_match(h, key_of(cur).cast(), key, keysize);
            if same {
                break;
            }
        }
        // SAFETY: as above.
        prev = unsafe { (&raw mut (*cur).link).cast::<Link>() };
    }
    if !found.is_null() {
        // SAFETY: writable, as the caller promises.
        unsafe { *found = !cur.is_null() };
    }
    match action {
        HASH_FIND => {
            if cur.is_null() {
                null_mut()
            } else {
                key_of(cur).cast()
            }
        }
        HASH_REMOVE => {
            if cur.is_null() {
                return null_mut();
            }
            let idx = freelist_idx(h, hashvalue);
            // SAFETY: unlinking a live element from its chain (under the caller's lock).
            unsafe { *prev = to_link(h, link_of(h, cur)) };
            freelist_lock(h, idx);
            let fl = &mut hdr(h).free_lists[idx];
            fl.nentries -= 1;
            set_link(h, cur, to_ptr(h, fl.free_list));
            fl.free_list = to_link(h, cur);
            freelist_unlock(h, idx);
            key_of(cur).cast()
        }
        _ => {
            if !cur.is_null() {
                return key_of(cur).cast();
            }
            if h.frozen {
                raise_fmt(
                    ERROR,
                    0,
                    format_args!("cannot insert into frozen hashtable \"{}\"", name(h)),
                );
            }
            let e = get_entry(h, freelist_idx(h, hashvalue));
            if e.is_null() {
                if action == HASH_ENTER_NULL {
                    return null_mut();
                }
                out_of_memory(h);
            }
            // SAFETY: a fresh element; prev is the end of the chain.
            unsafe {
                *prev = to_link(h, e);
                set_link(h, e, null_mut());
                (*e).hashvalue = hashvalue;
                if let Some(copy) = h.keycopy {
                    copy(key_of(e).cast(), key, keysize);
                }
            }
            key_of(e).cast()
        }
    }
}

/// `hash_update_hash_key`: gives `existing` (an entry of this table) the key `new_key`; false
/// when another entry has it.
///
/// # Safety
/// `hashp` live; `existing` an entry of it; `new_key` a key of its kind.
pub unsafe fn update_hash_key(
    hashp: *mut HTAB,
    existing: *mut c_void,
    new_key: *const c_void,
) -> bool {
    // SAFETY: as the caller promises.
    let h = unsafe { &mut *hashp };
    if h.frozen {
        raise_fmt(
            ERROR,
            0,
            format_args!("cannot update in frozen hashtable \"{}\"", name(h)),
        );
    }
    let e = element_of(existing);
    // SAFETY: as the caller promises.
    let old_hash = unsafe { (*e).hashvalue };
    // Where the entry is now.
    let mut old_prev: *mut Link = bucket_slot(h, bucket_of(hdr(h), old_hash));
    loop {
        // SAFETY: a bucket slot or a live element's link.
        let cur: *mut HASHELEMENT = to_ptr(h, unsafe { *old_prev });
        if cur.is_null() {
            raise_fmt(
                ERROR,
                0,
                format_args!(
                    "hash_update_hash_key argument is not in hashtable \"{}\"",
                    name(h)
                ),
            );
        }
        if cur == e {
            break;
        }
        // SAFETY: as above.
        old_prev = unsafe { (&raw mut (*cur).link).cast::<Link>() };
    }
    // SAFETY: as the caller promises.
    let new_hash = unsafe { hash_value(hashp, new_key) };
    let keysize = h.keysize;
    let mut prev: *mut Link = bucket_slot(h, bucket_of(hdr(h), new_hash));
    loop {
        // SAFETY: as above.
        let cur: *mut HASHELEMENT = to_ptr(h, unsafe { *prev });
        if cur.is_null() {
            break;
        }
        // SAFETY: a live element of this table.
        let clash = unsafe { (*cur).hashvalue } == new_hash
            && keys_match(h, key_of(cur).cast(), new_key, keysize);
        if clash {
            return cur == e;
        }
        // SAFETY: as above.
        prev = unsafe { (&raw mut (*cur).link).cast::<Link>() };
    }
    // Unlink from the old chain, append to the new one (it may be the same chain: re-walk).
    // SAFETY: live elements and slots of this table, under the caller's lock.
    unsafe {
        *old_prev = to_link(h, link_of(h, e));
        let mut prev: *mut Link = bucket_slot(h, bucket_of(hdr(h), new_hash));
        while *prev != 0 {
            let cur: *mut HASHELEMENT = to_ptr(h, *prev);
            prev = (&raw mut (*cur).link).cast::<Link>();
        }
        *prev = to_link(h, e);
        set_link(h, e, null_mut());
        (*e).hashvalue = new_hash;
        if let Some(copy) = h.keycopy {
            copy(key_of(e).cast(), new_key, keysize);
        }
    }
    true
}

/// Splits one bucket (linear hashing), making the directory bigger if it must (local tables).
fn expand_table(h: &mut HTAB) -> bool {
    let hc = hdr(h);
    let new_bucket = hc.max_bucket as usize + 1;
    let segnum = new_bucket >> h.sshift;
    if segnum as c_long >= hc.nsegs {
        if segnum as c_long >= hc.dsize && !dir_realloc(h) {
            return false;
        }
        let seg = seg_alloc(h);
        if seg.is_null() {
            return false;
        }
        // SAFETY: segnum < dsize.
        unsafe { *h.dir.add(segnum) = to_link(h, seg) };
        hdr(h).nsegs += 1;
    }
    let hc = hdr(h);
    hc.max_bucket += 1;
    let old_bucket = new_bucket as u32 & hc.low_mask;
    if new_bucket as u32 > hc.high_mask {
        hc.low_mask = hc.high_mask;
        hc.high_mask = new_bucket as u32 | hc.low_mask;
    }
    // Move what now belongs to the new bucket, keeping each chain's order.
    let old_slot = bucket_slot(h, old_bucket);
    let new_slot = bucket_slot(h, new_bucket as u32);
    let mut old_tail: *mut Link = old_slot;
    let mut new_tail: *mut Link = new_slot;
    // SAFETY: the slots and elements of this table, under the caller's lock.
    unsafe {
        let mut cur: *mut HASHELEMENT = to_ptr(h, *old_slot);
        while !cur.is_null() {
            let next = link_of(h, cur);
            if bucket_of(hdr(h), (*cur).hashvalue) == old_bucket {
                *old_tail = to_link(h, cur);
                old_tail = (&raw mut (*cur).link).cast::<Link>();
            } else {
                *new_tail = to_link(h, cur);
                new_tail = (&raw mut (*cur).link).cast::<Link>();
            }
            cur = next;
        }
        *old_tail = 0;
        *new_tail = 0;
    }
    true
}

fn dir_realloc(h: &mut HTAB) -> bool {
    let hc = hdr(h);
    if hc.max_dsize != NO_MAX_DSIZE || h.isshared {
        return false;
    }
    let old = hc.dsize as usize;
    let new = old * 2;
    let dir = table_alloc(h, new * std::mem::size_of::<Link>()).cast::<Link>();
    if dir.is_null() {
        return false;
    }
    // SAFETY: the old directory has `old` links; the new one room for `new`.
    unsafe {
        std::ptr::copy_nonoverlapping(h.dir, dir, old);
        std::ptr::write_bytes(dir.add(old), 0, new - old);
        mcxt::free(h.dir.cast());
    }
    h.dir = dir;
    hdr(h).dsize = new as c_long;
    true
}

/// `hash_get_num_entries`.
///
/// # Safety
/// `hashp` live.
pub unsafe fn num_entries(hashp: *mut HTAB) -> c_long {
    // SAFETY: as the caller promises.
    let h = unsafe { &*hashp };
    let lists = if partitioned(h) { NUM_FREELISTS } else { 1 };
    (0..lists).map(|i| hdr(h).free_lists[i].nentries).sum()
}

/// `hash_freeze`.
///
/// # Safety
/// `hashp` live.
pub unsafe fn freeze(hashp: *mut HTAB) {
    // SAFETY: as the caller promises.
    let h = unsafe { &mut *hashp };
    if h.isshared {
        raise_fmt(
            ERROR,
            0,
            format_args!("cannot freeze shared hashtable \"{}\"", name(h)),
        );
    }
    if has_seq_scans(hashp) {
        raise_fmt(
            ERROR,
            0,
            format_args!(
                "cannot freeze hashtable \"{}\" because it has active scans",
                name(h)
            ),
        );
    }
    h.frozen = true;
}

// ---- scans --------------------------------------------------------------------------------------

struct Scans {
    tables: [Cell<*mut HTAB>; MAX_SEQ_SCANS],
    n: Cell<usize>,
}
struct ProcessLocal(Scans);
// SAFETY: a process's one thread uses it, never from a signal handler.
unsafe impl Sync for ProcessLocal {}
static SCANS: ProcessLocal = ProcessLocal(Scans {
    tables: [const { Cell::new(null_mut()) }; MAX_SEQ_SCANS],
    n: Cell::new(0),
});

fn has_seq_scans(hashp: *mut HTAB) -> bool {
    let s = &SCANS.0;
    s.tables[..s.n.get()].iter().any(|t| t.get() == hashp)
}

fn register_scan(hashp: *mut HTAB) {
    let s = &SCANS.0;
    let n = s.n.get();
    if n >= MAX_SEQ_SCANS {
        // SAFETY: a live table.
        let h = unsafe { &*hashp };
        raise_fmt(
            ERROR,
            0,
            format_args!(
                "too many active hash_seq_search scans, cannot start one on \"{}\"",
                name(h)
            ),
        );
    }
    s.tables[n].set(hashp);
    s.n.set(n + 1);
}

fn deregister_scan(hashp: *mut HTAB) {
    let s = &SCANS.0;
    let n = s.n.get();
    if let Some(i) = (0..n).rev().find(|&i| s.tables[i].get() == hashp) {
        s.tables[i].set(s.tables[n - 1].get());
        s.n.set(n - 1);
    }
}

/// `AtEOXact_HashTables`: scans still open at the end of a transaction are forgotten (at commit
/// each with PostgreSQL's WARNING), so their tables can grow again.
pub fn at_end_of_transaction(is_commit: bool) {
    let s = &SCANS.0;
    if is_commit {
        for t in &s.tables[..s.n.get()] {
            crate::pg::report_fmt(
                WARNING,
                0,
                format_args!("leaked hash_seq_search scan for hash table {:p}", t.get()),
            );
        }
    }
    s.n.set(0);
}

/// `hash_seq_init`.
///
/// # Safety
/// `status` writable; `hashp` live.
pub unsafe fn seq_init(status: *mut HASH_SEQ_STATUS, hashp: *mut HTAB) {
    // SAFETY: as the caller promises.
    unsafe {
        status.write(HASH_SEQ_STATUS {
            hashp,
            curBucket: 0,
            curEntry: null_mut(),
        });
        if !(*hashp).frozen {
            register_scan(hashp);
        }
    }
}

/// `hash_seq_search`: the next entry, or NULL at the end (which ends the scan).
///
/// # Safety
/// `status` from `seq_init`, its table live.
pub unsafe fn seq_search(status: *mut HASH_SEQ_STATUS) -> *mut c_void {
    // SAFETY: as the caller promises.
    let st = unsafe { &mut *status };
    // SAFETY: as the caller promises.
    let h = unsafe { &*st.hashp };
    let cur = st.curEntry;
    if !cur.is_null() {
        st.curEntry = link_of(h, cur);
        if st.curEntry.is_null() {
            st.curBucket += 1;
        }
        return key_of(cur).cast();
    }
    let max_bucket = hdr(h).max_bucket;
    let mut b = st.curBucket;
    loop {
        if b > max_bucket {
            st.curBucket = b;
            // SAFETY: as the caller promises.
            unsafe { seq_term(status) };
            return null_mut();
        }
        // SAFETY: a bucket slot of this table.
        let first: *mut HASHELEMENT = to_ptr(h, unsafe { *bucket_slot(h, b) });
        if !first.is_null() {
            st.curEntry = link_of(h, first);
            if st.curEntry.is_null() {
                b += 1;
            }
            st.curBucket = b;
            return key_of(first).cast();
        }
        b += 1;
    }
}

/// `hash_seq_term`.
///
/// # Safety
/// `status` from `seq_init`.
pub unsafe fn seq_term(status: *mut HASH_SEQ_STATUS) {
    // SAFETY: as the caller promises.
    let hashp = unsafe { (*status).hashp };
    // SAFETY: as the caller promises.
    if !hashp.is_null() && !unsafe { (*hashp).frozen } {
        deregister_scan(hashp);
    }
}

// ---- sizes --------------------------------------------------------------------------------------

/// `hash_select_dirsize`.
pub fn select_dirsize(num_entries: c_long) -> c_long {
    let nbuckets = next_pow2(num_entries);
    let nsegs = next_pow2((nbuckets - 1) / DEF_SEGSIZE + 1);
    let mut dir = DEF_DIRSIZE;
    while dir < nsegs {
        dir <<= 1;
    }
    dir
}

/// `hash_estimate_size`: bytes a shared table of `num_entries` entries needs (what a module asks
/// `RequestAddinShmemSpace` for).
pub fn estimate_size(num_entries: c_long, entrysize: usize) -> usize {
    use crate::mcxt::{add_size, mul_size};
    let nbuckets = next_pow2(num_entries);
    let nsegs = next_pow2((nbuckets - 1) / DEF_SEGSIZE + 1);
    let dir = select_dirsize(num_entries) as usize;
    let mut size = maxalign(std::mem::size_of::<HASHHDR>());
    size = add_size(size, mul_size(dir, std::mem::size_of::<Link>()));
    size = add_size(
        size,
        mul_size(
            nsegs as usize,
            maxalign(DEF_SEGSIZE as usize * std::mem::size_of::<Link>()),
        ),
    );
    let per_alloc = choose_nelem_alloc(entrysize) as usize;
    let allocs = (num_entries.max(1) as usize - 1) / per_alloc + 1;
    let element = ELEMENT_HEADER + maxalign(entrysize);
    add_size(size, mul_size(allocs, mul_size(per_alloc, element)))
}

/// `hash_get_shared_size`: the header and directory of a shared table.
pub fn shared_size(info: &HASHCTL, flags: c_int) -> usize {
    let dsize = if flags & HASH_DIRSIZE != 0 {
        info.dsize.max(0) as usize
    } else {
        DEF_DIRSIZE as usize
    };
    std::mem::size_of::<HASHHDR>() + dsize * std::mem::size_of::<Link>()
}

/// `hash_stats`: one LOG line about the table.
///
/// # Safety
/// `hashp` live; `where_` NULL or a string.
pub unsafe fn stats(where_: *const c_char, hashp: *mut HTAB) {
    // SAFETY: as the caller promises.
    let h = unsafe { &*hashp };
    // SAFETY: as the caller promises.
    let w = Text(unsafe { crate::pg::cstr(where_) }.unwrap_or(b""));
    // SAFETY: as the caller promises.
    let n = unsafe { num_entries(hashp) };
    let hc = hdr(h);
    crate::pg::report_fmt(
        LOG,
        0,
        format_args!(
            "{w}: hash table \"{}\": {n} entries, {} buckets, {} segments, keysize {}",
            name(h),
            hc.max_bucket as u64 + 1,
            hc.nsegs,
            hc.keysize
        ),
    );
}
