//! Memory for modules: `palloc`, `palloc0`, `pfree`, `pstrdup`. Out of memory is an ERROR, as in
//! PostgreSQL; every allocation the library hands a module (handles included) comes from here, so
//! `pfree` accepts all of them.

use libc::{c_char, c_void};

/// Allocates `size` bytes (at least one, so every call returns a distinct pointer).
pub fn alloc(size: usize, zero: bool) -> *mut c_void {
    // SAFETY: malloc/calloc have no preconditions; NULL is handled below.
    let p = unsafe {
        if zero {
            libc::calloc(1, size.max(1))
        } else {
            libc::malloc(size.max(1))
        }
    };
    if p.is_null() {
        crate::abi::raise_with_code(
            crate::abi::types::ERROR,
            crate::abi::make_sqlstate(b"53200"),
            "out of memory",
        );
    }
    p
}

/// Frees memory from `alloc`.
///
/// # Safety
/// `p` must be NULL or come from `alloc` and not be freed yet.
pub unsafe fn free(p: *mut c_void) {
    // SAFETY: as the caller promises.
    unsafe { libc::free(p) }
}

/// Copies a C string into new memory.
///
/// # Safety
/// `s` must be a NUL-terminated string.
pub unsafe fn strdup(s: *const c_char) -> *mut c_char {
    // SAFETY: the caller promises a NUL-terminated string.
    let len = unsafe { libc::strlen(s) };
    let p = alloc(len + 1, false) as *mut c_char;
    // SAFETY: p has len + 1 bytes; s has len bytes plus its NUL.
    unsafe { std::ptr::copy_nonoverlapping(s, p, len + 1) };
    p
}
