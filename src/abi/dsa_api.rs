//! Exports: dynamic shared areas (`utils/dsa.h`) and hash tables in them (`lib/dshash.h`);
//! logic in `crate::dsm::dsa` and `crate::dsm::dshash`. Declared by hand in those headers, with
//! PostgreSQL 15's types.

use crate::dsm::dsa::{self, dsa_area, dsa_handle, dsa_pointer};
use crate::dsm::dshash::{
    self, dshash_hash, dshash_parameters, dshash_seq_status, dshash_table, dshash_table_handle,
};
use crate::dsm::segment::dsm_segment;
use crate::pg::types::*;
use libc::{c_int, c_void};

/// `dsa_create`: a new area (in a new DSM segment), attached here.
#[no_mangle]
pub extern "C" fn dsa_create(tranche_id: c_int) -> *mut dsa_area {
    export!(raises, dsa_create, { dsa::create(tranche_id) })
}

/// `dsa_create_in_place`: an area whose control lies in `size` bytes at `place`.
///
/// # Safety
/// `place` points to `size` writable bytes shared by the area's users; `segment` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn dsa_create_in_place(
    place: *mut c_void,
    size: usize,
    tranche_id: c_int,
    segment: *mut dsm_segment,
) -> *mut dsa_area {
    export!(raises, dsa_create_in_place, {
        // SAFETY: as the caller promises.
        unsafe { dsa::create_in_place(place.cast(), size, tranche_id, segment) }
    })
}

/// `dsa_attach`.
#[no_mangle]
pub extern "C" fn dsa_attach(handle: dsa_handle) -> *mut dsa_area {
    export!(raises, dsa_attach, { dsa::attach(handle) })
}

/// `dsa_attach_in_place`.
///
/// # Safety
/// `place` where `dsa_create_in_place` made an area; `segment` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn dsa_attach_in_place(
    place: *mut c_void,
    segment: *mut dsm_segment,
) -> *mut dsa_area {
    export!(raises, dsa_attach_in_place, {
        // SAFETY: as the caller promises.
        unsafe { dsa::attach_in_place(place.cast(), segment) }
    })
}

/// `dsa_release_in_place`: drops one reference to the area at `place`.
///
/// # Safety
/// `place` an area's control.
#[no_mangle]
pub unsafe extern "C" fn dsa_release_in_place(place: *mut c_void) {
    export!(raises, dsa_release_in_place, {
        // SAFETY: as the caller promises.
        unsafe { dsa::release_in_place(place.cast()) }
    })
}

/// `dsa_on_dsm_detach_release_in_place`: a detach callback dropping a reference.
///
/// # Safety
/// `place` an area's control.
#[no_mangle]
pub unsafe extern "C" fn dsa_on_dsm_detach_release_in_place(
    segment: *mut dsm_segment,
    place: Datum,
) {
    export!(raises, dsa_on_dsm_detach_release_in_place, {
        {
            let _ = segment;
            // SAFETY: as the caller promises.
            unsafe { dsa::on_dsm_detach_release_in_place(place) }
        }
    })
}

/// `dsa_on_shmem_exit_release_in_place`: an exit callback dropping a reference.
///
/// # Safety
/// `place` an area's control.
#[no_mangle]
pub unsafe extern "C" fn dsa_on_shmem_exit_release_in_place(code: c_int, place: Datum) {
    export!(raises, dsa_on_shmem_exit_release_in_place, {
        {
            let _ = code;
            // SAFETY: as the caller promises.
            unsafe { dsa::on_dsm_detach_release_in_place(place) }
        }
    })
}

/// `dsa_pin_mapping`.
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_pin_mapping(area: *mut dsa_area) {
    export!(raises, dsa_pin_mapping, {
        // SAFETY: as the caller promises.
        unsafe { dsa::pin_mapping(area) }
    })
}

/// `dsa_detach`.
///
/// # Safety
/// `area` live; not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn dsa_detach(area: *mut dsa_area) {
    export!(raises, dsa_detach, {
        // SAFETY: as the caller promises.
        unsafe { dsa::detach(area) }
    })
}

/// `dsa_pin`: the area stays with nobody attached.
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_pin(area: *mut dsa_area) {
    export!(raises, dsa_pin, {
        // SAFETY: as the caller promises.
        unsafe { dsa::pin(area) }
    })
}

/// `dsa_unpin`.
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_unpin(area: *mut dsa_area) {
    export!(raises, dsa_unpin, {
        // SAFETY: as the caller promises.
        unsafe { dsa::unpin(area) }
    })
}

/// `dsa_set_size_limit`: the most memory the area's segments may take.
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_set_size_limit(area: *mut dsa_area, limit: usize) {
    export!(raises, dsa_set_size_limit, {
        // SAFETY: as the caller promises.
        unsafe { dsa::set_size_limit(area, limit) }
    })
}

/// `dsa_minimum_size`: the least memory `dsa_create_in_place` accepts.
#[no_mangle]
pub extern "C" fn dsa_minimum_size() -> usize {
    export!(raises, dsa_minimum_size, { dsa::minimum_size() })
}

/// `dsa_get_handle`.
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_get_handle(area: *mut dsa_area) -> dsa_handle {
    export!(raises, dsa_get_handle, {
        // SAFETY: as the caller promises.
        unsafe { dsa::get_handle(area) }
    })
}

/// `dsa_allocate_extended` (`dsa_allocate`, `dsa_allocate0` are its macros).
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_allocate_extended(
    area: *mut dsa_area,
    size: usize,
    flags: c_int,
) -> dsa_pointer {
    export!(raises, dsa_allocate_extended, {
        // SAFETY: as the caller promises.
        unsafe { dsa::allocate(area, size, flags) }
    })
}

/// `dsa_free`.
///
/// # Safety
/// `area` live; `dp` allocated on it and not freed.
#[no_mangle]
pub unsafe extern "C" fn dsa_free(area: *mut dsa_area, dp: dsa_pointer) {
    export!(raises, dsa_free, {
        // SAFETY: as the caller promises.
        unsafe { dsa::free(area, dp) }
    })
}

/// `dsa_get_address`: where `dp` is in this process.
///
/// # Safety
/// `area` live; `dp` one of its pointers or invalid.
#[no_mangle]
pub unsafe extern "C" fn dsa_get_address(area: *mut dsa_area, dp: dsa_pointer) -> *mut c_void {
    export!(raises, dsa_get_address, {
        // SAFETY: as the caller promises.
        unsafe { dsa::get_address(area, dp) }.cast()
    })
}

/// `dsa_trim`: gives nothing back here (segments stay until the area goes).
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_trim(area: *mut dsa_area) {
    export!(raises, dsa_trim, {
        {
            let _ = area;
        }
    })
}

/// `dsa_dump`: one LOG line about the area.
///
/// # Safety
/// `area` live.
#[no_mangle]
pub unsafe extern "C" fn dsa_dump(area: *mut dsa_area) {
    export!(raises, dsa_dump, {
        // SAFETY: as the caller promises.
        unsafe { dsa::dump(area) }
    })
}

/// `dshash_create`: a new table in `area`.
///
/// # Safety
/// `area` live; `params` valid.
#[no_mangle]
pub unsafe extern "C" fn dshash_create(
    area: *mut dsa_area,
    params: *const dshash_parameters,
    arg: *mut c_void,
) -> *mut dshash_table {
    export!(raises, dshash_create, {
        // SAFETY: as the caller promises.
        unsafe { dshash::create(area, &*params, arg) }
    })
}

/// `dshash_attach`.
///
/// # Safety
/// `area` live; `params` valid.
#[no_mangle]
pub unsafe extern "C" fn dshash_attach(
    area: *mut dsa_area,
    params: *const dshash_parameters,
    handle: dshash_table_handle,
    arg: *mut c_void,
) -> *mut dshash_table {
    export!(raises, dshash_attach, {
        // SAFETY: as the caller promises.
        unsafe { dshash::attach(area, &*params, handle, arg) }
    })
}

/// `dshash_detach`.
///
/// # Safety
/// `hash_table` live, holding no lock; not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn dshash_detach(hash_table: *mut dshash_table) {
    export!(raises, dshash_detach, {
        // SAFETY: as the caller promises.
        unsafe { dshash::detach(hash_table) }
    })
}

/// `dshash_get_hash_table_handle`.
///
/// # Safety
/// `hash_table` live.
#[no_mangle]
pub unsafe extern "C" fn dshash_get_hash_table_handle(
    hash_table: *mut dshash_table,
) -> dshash_table_handle {
    export!(raises, dshash_get_hash_table_handle, {
        // SAFETY: as the caller promises.
        unsafe { dshash::get_handle(hash_table) }
    })
}

/// `dshash_destroy`.
///
/// # Safety
/// `hash_table` live, used by nobody else; not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn dshash_destroy(hash_table: *mut dshash_table) {
    export!(raises, dshash_destroy, {
        // SAFETY: as the caller promises.
        unsafe { dshash::destroy(hash_table) }
    })
}

/// `dshash_find`: the entry, its partition locked, or NULL.
///
/// # Safety
/// `hash_table` live; `key` of its key size.
#[no_mangle]
pub unsafe extern "C" fn dshash_find(
    hash_table: *mut dshash_table,
    key: *const c_void,
    exclusive: bool,
) -> *mut c_void {
    export!(raises, dshash_find, {
        // SAFETY: as the caller promises.
        unsafe { dshash::find(hash_table, key, exclusive) }
    })
}

/// `dshash_find_or_insert`: the entry (made if missing), its partition locked exclusively.
///
/// # Safety
/// `hash_table` live; `key` of its key size; `found` writable.
#[no_mangle]
pub unsafe extern "C" fn dshash_find_or_insert(
    hash_table: *mut dshash_table,
    key: *const c_void,
    found: *mut bool,
) -> *mut c_void {
    export!(raises, dshash_find_or_insert, {
        // SAFETY: as the caller promises.
        unsafe { dshash::find_or_insert(hash_table, key, found) }
    })
}

/// `dshash_delete_key`.
///
/// # Safety
/// `hash_table` live; `key` of its key size.
#[no_mangle]
pub unsafe extern "C" fn dshash_delete_key(
    hash_table: *mut dshash_table,
    key: *const c_void,
) -> bool {
    export!(raises, dshash_delete_key, {
        // SAFETY: as the caller promises.
        unsafe { dshash::delete_key(hash_table, key) }
    })
}

/// `dshash_delete_entry`: removes an entry found with an exclusive lock; releases it.
///
/// # Safety
/// `hash_table` live; `entry` found on it with an exclusive lock.
#[no_mangle]
pub unsafe extern "C" fn dshash_delete_entry(hash_table: *mut dshash_table, entry: *mut c_void) {
    export!(raises, dshash_delete_entry, {
        // SAFETY: as the caller promises.
        unsafe { dshash::delete_entry(hash_table, entry) }
    })
}

/// `dshash_release_lock`.
///
/// # Safety
/// `hash_table` live; `entry` found on it.
#[no_mangle]
pub unsafe extern "C" fn dshash_release_lock(hash_table: *mut dshash_table, entry: *mut c_void) {
    export!(raises, dshash_release_lock, {
        // SAFETY: as the caller promises.
        unsafe { dshash::release_lock(hash_table, entry) }
    })
}

/// `dshash_seq_init`.
///
/// # Safety
/// `status` writable; `hash_table` live.
#[no_mangle]
pub unsafe extern "C" fn dshash_seq_init(
    status: *mut dshash_seq_status,
    hash_table: *mut dshash_table,
    exclusive: bool,
) {
    export!(raises, dshash_seq_init, {
        // SAFETY: as the caller promises.
        unsafe { dshash::seq_init(status, hash_table, exclusive) }
    })
}

/// `dshash_seq_next`: the next entry (its partition locked), NULL at the end.
///
/// # Safety
/// `status` from `dshash_seq_init`.
#[no_mangle]
pub unsafe extern "C" fn dshash_seq_next(status: *mut dshash_seq_status) -> *mut c_void {
    export!(raises, dshash_seq_next, {
        // SAFETY: as the caller promises.
        unsafe { dshash::seq_next(status) }
    })
}

/// `dshash_seq_term`.
///
/// # Safety
/// `status` from `dshash_seq_init`.
#[no_mangle]
pub unsafe extern "C" fn dshash_seq_term(status: *mut dshash_seq_status) {
    export!(raises, dshash_seq_term, {
        // SAFETY: as the caller promises.
        unsafe { dshash::seq_term(status) }
    })
}

/// `dshash_delete_current`.
///
/// # Safety
/// `status` from an exclusive scan that returned an entry.
#[no_mangle]
pub unsafe extern "C" fn dshash_delete_current(status: *mut dshash_seq_status) {
    export!(raises, dshash_delete_current, {
        // SAFETY: as the caller promises.
        unsafe { dshash::delete_current(status) }
    })
}

/// `dshash_memcmp`: compares keys byte by byte.
///
/// # Safety
/// `a` and `b` point to `size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dshash_memcmp(
    a: *const c_void,
    b: *const c_void,
    size: usize,
    arg: *mut c_void,
) -> c_int {
    export!(raises, dshash_memcmp, {
        {
            let _ = arg;
            // SAFETY: as the caller promises.
            unsafe { libc::memcmp(a, b, size) }
        }
    })
}

/// `dshash_memhash`: `tag_hash` of the key.
///
/// # Safety
/// `v` points to `size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn dshash_memhash(
    v: *const c_void,
    size: usize,
    arg: *mut c_void,
) -> dshash_hash {
    export!(raises, dshash_memhash, {
        {
            let _ = arg;
            dshash::dshash_memhash_impl(v, size)
        }
    })
}

/// `dshash_dump`: one LOG line about the table.
///
/// # Safety
/// `hash_table` live.
#[no_mangle]
pub unsafe extern "C" fn dshash_dump(hash_table: *mut dshash_table) {
    export!(raises, dshash_dump, {
        // SAFETY: as the caller promises.
        unsafe { dshash::dump(hash_table) }
    })
}
