//! Exports: memory allocation.

use libc::{c_char, c_void};

/// `palloc`: ERROR on out of memory.
#[no_mangle]
pub extern "C" fn palloc(size: usize) -> *mut c_void {
    crate::mcxt::alloc(size, false)
}

/// `palloc0`: zeroed.
#[no_mangle]
pub extern "C" fn palloc0(size: usize) -> *mut c_void {
    crate::mcxt::alloc(size, true)
}

/// `pfree`: frees what `palloc` (or the library, e.g. a worker handle) returned.
///
/// # Safety
/// `pointer` must be NULL or an allocation from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pfree(pointer: *mut c_void) {
    // SAFETY: as the caller promises.
    unsafe { crate::mcxt::free(pointer) }
}

/// `pstrdup`.
///
/// # Safety
/// `string` must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pstrdup(string: *const c_char) -> *mut c_char {
    // SAFETY: as the caller promises.
    unsafe { crate::mcxt::strdup(string) }
}
