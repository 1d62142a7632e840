//! Exports: dynamic shared memory segments (`storage/dsm.h`) and tables of contents
//! (`storage/shm_toc.h`); logic in `crate::dsm::segment` and `crate::dsm::toc`. Declared by hand
//! in those headers, with PostgreSQL 15's types.

use crate::dsm::segment::{self, dsm_segment, on_dsm_detach_callback};
use crate::dsm::toc::{self, shm_toc, shm_toc_estimator};
use crate::pg::types::*;
use libc::c_void;

/// `dsm_create`: a new segment of `size` bytes (zeroed), attached here. With
/// `DSM_CREATE_NULL_IF_MAXSEGMENTS`, NULL when too many segments exist; ERROR otherwise.
#[no_mangle]
pub extern "C" fn dsm_create(size: usize, flags: libc::c_int) -> *mut dsm_segment {
    export!(raises, dsm_create, { segment::create(size, flags) })
}

/// `dsm_attach`: maps the segment `h` here; NULL when it no longer exists.
#[no_mangle]
pub extern "C" fn dsm_attach(h: dsm_handle) -> *mut dsm_segment {
    export!(raises, dsm_attach, { segment::attach(h) })
}

/// `dsm_detach`: runs the detach callbacks, unmaps; the last reference destroys the segment.
///
/// # Safety
/// `seg` is a segment of this process; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn dsm_detach(seg: *mut dsm_segment) {
    export!(raises, dsm_detach, {
        if !seg.is_null() {
            // SAFETY: as the caller promises.
            unsafe { segment::detach(seg) }
        }
    })
}

/// `dsm_detach_all`: detaches every segment of this process.
#[no_mangle]
pub extern "C" fn dsm_detach_all() {
    export!(raises, dsm_detach_all, { segment::backend_shutdown() })
}

/// `dsm_backend_shutdown`: what process exit does (detaches every segment).
#[no_mangle]
pub extern "C" fn dsm_backend_shutdown() {
    export!(raises, dsm_backend_shutdown, {
        segment::backend_shutdown()
    })
}

/// `dsm_estimate_size`: no part of the main segment is set aside for DSM here (0, as
/// PostgreSQL with `min_dynamic_shared_memory = 0`).
#[no_mangle]
pub extern "C" fn dsm_estimate_size() -> usize {
    export!(raises, dsm_estimate_size, { 0 })
}

/// `dsm_find_mapping`.
#[no_mangle]
pub extern "C" fn dsm_find_mapping(h: dsm_handle) -> *mut dsm_segment {
    export!(raises, dsm_find_mapping, { segment::find_mapping(h) })
}

/// `dsm_segment_address`.
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn dsm_segment_address(seg: *mut dsm_segment) -> *mut c_void {
    export!(raises, dsm_segment_address, {
        if seg.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: as the caller promises.
        unsafe { segment::address(seg) }.cast()
    })
}

/// `dsm_segment_map_length`.
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn dsm_segment_map_length(seg: *mut dsm_segment) -> usize {
    export!(raises, dsm_segment_map_length, {
        if seg.is_null() {
            return 0;
        }
        // SAFETY: as the caller promises.
        unsafe { segment::map_length(seg) }
    })
}

/// `dsm_segment_handle`.
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn dsm_segment_handle(seg: *mut dsm_segment) -> dsm_handle {
    export!(raises, dsm_segment_handle, {
        if seg.is_null() {
            return DSM_HANDLE_INVALID;
        }
        // SAFETY: as the caller promises.
        unsafe { segment::handle(seg) }
    })
}

/// `dsm_pin_mapping`: the mapping lasts until detached or process exit (no resource owner).
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn dsm_pin_mapping(seg: *mut dsm_segment) {
    export!(raises, dsm_pin_mapping, {
        if !seg.is_null() {
            // SAFETY: as the caller promises.
            unsafe { segment::pin_mapping(seg) }
        }
    })
}

/// `dsm_unpin_mapping`: the mapping belongs to `CurrentResourceOwner` again.
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn dsm_unpin_mapping(seg: *mut dsm_segment) {
    export!(raises, dsm_unpin_mapping, {
        if !seg.is_null() {
            // SAFETY: as the caller promises.
            unsafe { segment::unpin_mapping(seg) }
        }
    })
}

/// `dsm_pin_segment`: the segment outlives every mapping until `dsm_unpin_segment` (or the next
/// crash-restart or shutdown).
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn dsm_pin_segment(seg: *mut dsm_segment) {
    export!(raises, dsm_pin_segment, {
        if !seg.is_null() {
            // SAFETY: as the caller promises.
            unsafe { segment::pin_segment(seg) }
        }
    })
}

/// `dsm_unpin_segment`.
#[no_mangle]
pub extern "C" fn dsm_unpin_segment(h: dsm_handle) {
    export!(raises, dsm_unpin_segment, { segment::unpin_segment(h) })
}

/// `on_dsm_detach`: `function(seg, arg)` runs when `seg` is detached (newest first).
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn on_dsm_detach(
    seg: *mut dsm_segment,
    function: on_dsm_detach_callback,
    arg: Datum,
) {
    export!(raises, on_dsm_detach, {
        if !seg.is_null() {
            // SAFETY: as the caller promises.
            unsafe { segment::on_detach(seg, function, arg) }
        }
    })
}

/// `cancel_on_dsm_detach`.
///
/// # Safety
/// `seg` a live segment of this process.
#[no_mangle]
pub unsafe extern "C" fn cancel_on_dsm_detach(
    seg: *mut dsm_segment,
    function: on_dsm_detach_callback,
    arg: Datum,
) {
    export!(raises, cancel_on_dsm_detach, {
        if !seg.is_null() {
            // SAFETY: as the caller promises.
            unsafe { segment::cancel_on_detach(seg, function, arg) }
        }
    })
}

/// `reset_on_dsm_detach`: forgets every detach callback and reference of this process.
#[no_mangle]
pub extern "C" fn reset_on_dsm_detach() {
    export!(raises, reset_on_dsm_detach, { segment::reset_on_detach() })
}

// ---- shm_toc ------------------------------------------------------------------------------------

/// `shm_toc_create`.
///
/// # Safety
/// `address` points to `nbytes` writable bytes, 8-aligned.
#[no_mangle]
pub unsafe extern "C" fn shm_toc_create(
    magic: u64,
    address: *mut c_void,
    nbytes: usize,
) -> *mut shm_toc {
    export!(raises, shm_toc_create, {
        // SAFETY: as the caller promises.
        unsafe { toc::create(magic, address.cast(), nbytes) }
    })
}

/// `shm_toc_attach`: the table at `address`, or NULL if its magic differs.
///
/// # Safety
/// `address` points to a readable table header.
#[no_mangle]
pub unsafe extern "C" fn shm_toc_attach(magic: u64, address: *mut c_void) -> *mut shm_toc {
    export!(raises, shm_toc_attach, {
        if address.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: as the caller promises.
        unsafe { toc::attach(magic, address.cast()) }
    })
}

/// `shm_toc_allocate`.
///
/// # Safety
/// `toc` a live table.
#[no_mangle]
pub unsafe extern "C" fn shm_toc_allocate(toc: *mut shm_toc, nbytes: usize) -> *mut c_void {
    export!(raises, shm_toc_allocate, {
        // SAFETY: as the caller promises.
        unsafe { toc::allocate(toc, nbytes) }.cast()
    })
}

/// `shm_toc_freespace`.
///
/// # Safety
/// `toc` a live table.
#[no_mangle]
pub unsafe extern "C" fn shm_toc_freespace(toc: *mut shm_toc) -> usize {
    export!(raises, shm_toc_freespace, {
        // SAFETY: as the caller promises.
        unsafe { toc::freespace(toc) }
    })
}

/// `shm_toc_insert`.
///
/// # Safety
/// `toc` a live table; `address` in its space.
#[no_mangle]
pub unsafe extern "C" fn shm_toc_insert(toc: *mut shm_toc, key: u64, address: *mut c_void) {
    export!(raises, shm_toc_insert, {
        // SAFETY: as the caller promises.
        unsafe { toc::insert(toc, key, address.cast()) }
    })
}

/// `shm_toc_lookup`.
///
/// # Safety
/// `toc` a live table.
#[no_mangle]
pub unsafe extern "C" fn shm_toc_lookup(toc: *mut shm_toc, key: u64, noError: bool) -> *mut c_void {
    export!(raises, shm_toc_lookup, {
        // SAFETY: as the caller promises.
        unsafe { toc::lookup(toc, key, noError) }.cast()
    })
}

/// `shm_toc_estimate`.
///
/// # Safety
/// `e` a filled estimator.
#[no_mangle]
pub unsafe extern "C" fn shm_toc_estimate(e: *mut shm_toc_estimator) -> usize {
    export!(raises, shm_toc_estimate, {
        // SAFETY: as the caller promises.
        match unsafe { e.as_ref() } {
            Some(e) => toc::estimate(e),
            None => 0,
        }
    })
}
