//! Exports: PostgreSQL's hash tables (`utils/hsearch.h`), shared ones (`ShmemInitHash`,
//! `ShmemAlloc` in `storage/shmem.h`) and the key hash functions (`common/hashfn.h`); logic in
//! `crate::dsm::hash`. Declared by hand in those headers, with PostgreSQL 15's types.

use crate::dsm::hash::{self, CreateError, HASHCTL, HASH_SEQ_STATUS, HTAB};
use crate::pg::types::*;
use crate::pg::{cstr, make_sqlstate, raise_fmt, Text};
use libc::{c_char, c_int, c_long, c_void};

/// `ShmemAllocNoError`: `size` bytes of the main segment's module area (never freed), or NULL
/// when it is used up.
#[no_mangle]
pub extern "C" fn ShmemAllocNoError(size: usize) -> *mut c_void {
    export!(boundary, ShmemAllocNoError, std::ptr::null_mut(), {
        crate::shmem::current()
            .and_then(|seg| crate::shmem::modules::shmem_alloc(seg, size as u64))
            .map_or(std::ptr::null_mut(), |p| p.cast())
    })
}

/// `ShmemAlloc`: as `ShmemAllocNoError`, ERROR "out of shared memory" when used up.
#[no_mangle]
pub extern "C" fn ShmemAlloc(size: usize) -> *mut c_void {
    export!(raises, ShmemAlloc, {
        let p = ShmemAllocNoError(size);
        if p.is_null() {
            raise_fmt(
                ERROR,
                make_sqlstate(b"53200"),
                format_args!("out of shared memory ({size} bytes requested)"),
            );
        }
        p
    })
}

/// `ShmemAllocUnlocked`: the same (allocation takes no lock here anyway).
#[no_mangle]
pub extern "C" fn ShmemAllocUnlocked(size: usize) -> *mut c_void {
    export!(raises, ShmemAllocUnlocked, { ShmemAlloc(size) })
}

fn create_error(e: CreateError, tabname: *const c_char) -> ! {
    // SAFETY: the caller's table name, a NUL-terminated string.
    let name = Text(unsafe { cstr(tabname) }.unwrap_or(b""));
    match e {
        CreateError::OutOfMemory => raise_fmt(
            ERROR,
            make_sqlstate(b"53200"),
            format_args!("out of memory"),
        ),
        CreateError::Init => raise_fmt(
            ERROR,
            0,
            format_args!("failed to initialize hash table \"{name}\""),
        ),
        CreateError::BadArgs(why) => {
            raise_fmt(ERROR, 0, format_args!("hash table \"{name}\": {why}"))
        }
    }
}

/// `hash_create`: a local table (in its own memory context under `hcxt` or
/// `TopMemoryContext`), or one whose header is in shared memory (`HASH_SHARED_MEM`).
///
/// # Safety
/// `tabname` NUL-terminated; `info` valid for the fields `flags` names.
#[no_mangle]
pub unsafe extern "C" fn hash_create(
    tabname: *const c_char,
    nelem: c_long,
    info: *const HASHCTL,
    flags: c_int,
) -> *mut HTAB {
    export!(raises, hash_create, {
        // SAFETY: as the caller promises.
        let Some(info) = (unsafe { info.as_ref() }) else {
            raise_fmt(ERROR, 0, format_args!("hash_create: HASHCTL is NULL"));
        };
        // PostgreSQL treats its own string_hash given as the function as HASH_STRINGS.
        let strings = flags & hash::HASH_STRINGS != 0
            || (flags & hash::HASH_FUNCTION != 0
                && info.hash.map(|f| f as usize) == Some(string_hash as *const () as usize));
        let name = if tabname.is_null() {
            c"".as_ptr()
        } else {
            tabname
        };
        // SAFETY: as the caller promises.
        match unsafe { hash::create(name, nelem, info, flags, strings) } {
            Ok(h) => h,
            Err(e) => create_error(e, name),
        }
    })
}

/// `ShmemInitHash`: a shared table named `name` in the main segment: made (with `init_size`
/// entries, room for `max_size` in its directory) or found. Fills in `infoP` as PostgreSQL does.
///
/// # Safety
/// `name` NUL-terminated; `infoP` valid and writable.
#[no_mangle]
pub unsafe extern "C" fn ShmemInitHash(
    name: *const c_char,
    init_size: c_long,
    max_size: c_long,
    infoP: *mut HASHCTL,
    hash_flags: c_int,
) -> *mut HTAB {
    export!(raises, ShmemInitHash, {
        // SAFETY: as the caller promises.
        let Some(info) = (unsafe { infoP.as_mut() }) else {
            raise_fmt(ERROR, 0, format_args!("ShmemInitHash: HASHCTL is NULL"));
        };
        info.dsize = hash::select_dirsize(max_size);
        info.max_dsize = info.dsize;
        info.alloc = Some(ShmemAllocNoError);
        let mut flags = hash_flags | hash::HASH_SHARED_MEM | hash::HASH_ALLOC | hash::HASH_DIRSIZE;
        let mut found = false;
        // SAFETY: name is NUL-terminated; found is ours.
        let location = unsafe {
            super::shmem_api::ShmemInitStruct(name, hash::shared_size(info, flags), &mut found)
        };
        if found {
            flags |= hash::HASH_ATTACH;
        }
        info.hctl = location.cast();
        // SAFETY: as the caller promises; info filled in above.
        unsafe { hash_create(name, init_size, info, flags) }
    })
}

/// `hash_destroy`.
///
/// # Safety
/// `hashp` a live table; not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn hash_destroy(hashp: *mut HTAB) {
    export!(raises, hash_destroy, {
        if !hashp.is_null() {
            // SAFETY: as the caller promises.
            unsafe { hash::destroy(hashp) }
        }
    })
}

/// `hash_stats`: one LOG line about the table.
///
/// # Safety
/// `where_` NULL or NUL-terminated; `hashp` a live table.
#[no_mangle]
pub unsafe extern "C" fn hash_stats(where_: *const c_char, hashp: *mut HTAB) {
    export!(raises, hash_stats, {
        // SAFETY: as the caller promises.
        unsafe { hash::stats(where_, hashp) }
    })
}

/// `hash_search`: FIND, ENTER, ENTER_NULL or REMOVE `keyPtr`.
///
/// # Safety
/// `hashp` a live table; `keyPtr` a key of its size; `foundPtr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hash_search(
    hashp: *mut HTAB,
    keyPtr: *const c_void,
    action: c_int,
    foundPtr: *mut bool,
) -> *mut c_void {
    export!(raises, hash_search, {
        // SAFETY: as the caller promises.
        unsafe {
            let hv = hash::hash_value(hashp, keyPtr);
            hash::search(hashp, keyPtr, hv, action, foundPtr)
        }
    })
}

/// `hash_search_with_hash_value`: as `hash_search`, with the key's hash already computed
/// (`get_hash_value`).
///
/// # Safety
/// As `hash_search`.
#[no_mangle]
pub unsafe extern "C" fn hash_search_with_hash_value(
    hashp: *mut HTAB,
    keyPtr: *const c_void,
    hashvalue: u32,
    action: c_int,
    foundPtr: *mut bool,
) -> *mut c_void {
    export!(raises, hash_search_with_hash_value, {
        // SAFETY: as the caller promises.
        unsafe { hash::search(hashp, keyPtr, hashvalue, action, foundPtr) }
    })
}

/// `get_hash_value`.
///
/// # Safety
/// `hashp` a live table; `keyPtr` a key of its size.
#[no_mangle]
pub unsafe extern "C" fn get_hash_value(hashp: *mut HTAB, keyPtr: *const c_void) -> u32 {
    export!(raises, get_hash_value, {
        // SAFETY: as the caller promises.
        unsafe { hash::hash_value(hashp, keyPtr) }
    })
}

/// `hash_update_hash_key`.
///
/// # Safety
/// `hashp` a live table; `existingEntry` one of its entries; `newKeyPtr` a key of its size.
#[no_mangle]
pub unsafe extern "C" fn hash_update_hash_key(
    hashp: *mut HTAB,
    existingEntry: *mut c_void,
    newKeyPtr: *const c_void,
) -> bool {
    export!(raises, hash_update_hash_key, {
        // SAFETY: as the caller promises.
        unsafe { hash::update_hash_key(hashp, existingEntry, newKeyPtr) }
    })
}

/// `hash_get_num_entries`.
///
/// # Safety
/// `hashp` a live table.
#[no_mangle]
pub unsafe extern "C" fn hash_get_num_entries(hashp: *mut HTAB) -> c_long {
    export!(raises, hash_get_num_entries, {
        // SAFETY: as the caller promises.
        unsafe { hash::num_entries(hashp) }
    })
}

/// `hash_seq_init`.
///
/// # Safety
/// `status` writable; `hashp` a live table.
#[no_mangle]
pub unsafe extern "C" fn hash_seq_init(status: *mut HASH_SEQ_STATUS, hashp: *mut HTAB) {
    export!(raises, hash_seq_init, {
        // SAFETY: as the caller promises.
        unsafe { hash::seq_init(status, hashp) }
    })
}

/// `hash_seq_search`: the next entry, NULL at the end.
///
/// # Safety
/// `status` from `hash_seq_init`.
#[no_mangle]
pub unsafe extern "C" fn hash_seq_search(status: *mut HASH_SEQ_STATUS) -> *mut c_void {
    export!(raises, hash_seq_search, {
        // SAFETY: as the caller promises.
        unsafe { hash::seq_search(status) }
    })
}

/// `hash_seq_term`: ends a scan before its end.
///
/// # Safety
/// `status` from `hash_seq_init`.
#[no_mangle]
pub unsafe extern "C" fn hash_seq_term(status: *mut HASH_SEQ_STATUS) {
    export!(raises, hash_seq_term, {
        // SAFETY: as the caller promises.
        unsafe { hash::seq_term(status) }
    })
}

/// `hash_freeze`.
///
/// # Safety
/// `hashp` a live table.
#[no_mangle]
pub unsafe extern "C" fn hash_freeze(hashp: *mut HTAB) {
    export!(raises, hash_freeze, {
        // SAFETY: as the caller promises.
        unsafe { hash::freeze(hashp) }
    })
}

/// `hash_estimate_size`: what to request (`RequestAddinShmemSpace`) for a shared table.
#[no_mangle]
pub extern "C" fn hash_estimate_size(num_entries: c_long, entrysize: usize) -> usize {
    export!(raises, hash_estimate_size, {
        hash::estimate_size(num_entries, entrysize)
    })
}

/// `hash_select_dirsize`.
#[no_mangle]
pub extern "C" fn hash_select_dirsize(num_entries: c_long) -> c_long {
    export!(raises, hash_select_dirsize, {
        hash::select_dirsize(num_entries)
    })
}

/// `hash_get_shared_size`.
///
/// # Safety
/// `info` valid.
#[no_mangle]
pub unsafe extern "C" fn hash_get_shared_size(info: *mut HASHCTL, flags: c_int) -> usize {
    export!(raises, hash_get_shared_size, {
        // SAFETY: as the caller promises.
        match unsafe { info.as_ref() } {
            Some(i) => hash::shared_size(i, flags),
            None => 0,
        }
    })
}

// ---- key hash functions (common/hashfn.h) -------------------------------------------------------

/// `hash_bytes`: PostgreSQL's hash of `keylen` bytes.
///
/// # Safety
/// `k` points to `keylen` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn hash_bytes(k: *const u8, keylen: c_int) -> u32 {
    export!(raises, hash_bytes, {
        let n = keylen.max(0) as usize;
        let bytes = if n == 0 || k.is_null() {
            &[][..]
        } else {
            // SAFETY: as the caller promises.
            unsafe { std::slice::from_raw_parts(k, n) }
        };
        crate::dsm::hashfn::hash_bytes(bytes)
    })
}

/// `hash_bytes_uint32`.
#[no_mangle]
pub extern "C" fn hash_bytes_uint32(k: u32) -> u32 {
    export!(raises, hash_bytes_uint32, {
        crate::dsm::hashfn::hash_bytes_uint32(k)
    })
}

/// `tag_hash`: `hash_bytes` of the key (dynahash's `HASH_BLOBS`).
///
/// # Safety
/// `key` points to `keysize` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn tag_hash(key: *const c_void, keysize: usize) -> u32 {
    export!(raises, tag_hash, {
        // SAFETY: as the caller promises.
        unsafe { hash::tag_hash(key, keysize) }
    })
}

/// `uint32_hash`: `hash_bytes_uint32` of a 4-byte key.
///
/// # Safety
/// `key` points to a readable uint32.
#[no_mangle]
pub unsafe extern "C" fn uint32_hash(key: *const c_void, keysize: usize) -> u32 {
    export!(raises, uint32_hash, {
        // SAFETY: as the caller promises.
        unsafe { hash::uint32_hash(key, keysize) }
    })
}

/// `string_hash`: `hash_bytes` of the string, at most `keysize - 1` bytes.
///
/// # Safety
/// `key` NUL-terminated or `keysize - 1` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn string_hash(key: *const c_void, keysize: usize) -> u32 {
    export!(raises, string_hash, {
        // SAFETY: as the caller promises.
        unsafe { hash::string_hash(key, keysize) }
    })
}
