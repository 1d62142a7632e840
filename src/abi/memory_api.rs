//! Exports: memory contexts and the `palloc` family (logic in `crate::mcxt`).
//!
//! No panic boundary here: nothing on these paths can panic, and an ERROR (bad size, out of
//! memory) longjmps from C through these frames to the module's `PG_TRY`, which a
//! `catch_unwind` frame must not sit in the way of.

use crate::mcxt::{
    self, CurrentMemoryContext, MemoryContext, MemoryContextCallback, MCXT_ALLOC_HUGE,
    MCXT_ALLOC_ZERO,
};
use libc::{c_char, c_int, c_void, size_t};

/// `palloc`: `size` bytes in `CurrentMemoryContext`; ERROR above 1 GB - 1 or on out of memory.
#[no_mangle]
pub extern "C" fn palloc(size: size_t) -> *mut c_void {
    export!(raises, palloc, { mcxt::alloc(size, false) })
}

/// `palloc0`: as `palloc`, zeroed.
#[no_mangle]
pub extern "C" fn palloc0(size: size_t) -> *mut c_void {
    export!(raises, palloc0, { mcxt::alloc(size, true) })
}

/// `palloc_extended`: `flags` are `MCXT_ALLOC_HUGE`, `MCXT_ALLOC_NO_OOM` (NULL instead of an
/// out-of-memory ERROR) and `MCXT_ALLOC_ZERO`.
#[no_mangle]
pub extern "C" fn palloc_extended(size: size_t, flags: c_int) -> *mut c_void {
    export!(raises, palloc_extended, {
        // SAFETY: CurrentMemoryContext is live or NULL (an ERROR).
        unsafe { mcxt::alloc_in(CurrentMemoryContext, size, flags) }
    })
}

/// `MemoryContextAlloc`: `size` bytes in `context`.
///
/// # Safety
/// `context` must be a live memory context.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextAlloc(context: MemoryContext, size: size_t) -> *mut c_void {
    export!(raises, MemoryContextAlloc, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::alloc_in(context, size, 0) }
    })
}

/// `MemoryContextAllocZero`: zeroed.
///
/// # Safety
/// As for `MemoryContextAlloc`.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextAllocZero(
    context: MemoryContext,
    size: size_t,
) -> *mut c_void {
    export!(raises, MemoryContextAllocZero, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::alloc_in(context, size, MCXT_ALLOC_ZERO) }
    })
}

/// `MemoryContextAllocZeroAligned` (what `palloc0fast` calls): zeroed.
///
/// # Safety
/// As for `MemoryContextAlloc`.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextAllocZeroAligned(
    context: MemoryContext,
    size: size_t,
) -> *mut c_void {
    export!(raises, MemoryContextAllocZeroAligned, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::alloc_in(context, size, MCXT_ALLOC_ZERO) }
    })
}

/// `MemoryContextAllocExtended`: with `palloc_extended`'s flags.
///
/// # Safety
/// As for `MemoryContextAlloc`.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextAllocExtended(
    context: MemoryContext,
    size: size_t,
    flags: c_int,
) -> *mut c_void {
    export!(raises, MemoryContextAllocExtended, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::alloc_in(context, size, flags) }
    })
}

/// `MemoryContextAllocHuge`: may exceed 1 GB.
///
/// # Safety
/// As for `MemoryContextAlloc`.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextAllocHuge(
    context: MemoryContext,
    size: size_t,
) -> *mut c_void {
    export!(raises, MemoryContextAllocHuge, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::alloc_in(context, size, MCXT_ALLOC_HUGE) }
    })
}

/// `repalloc`: resizes a chunk within its own context, keeping its contents.
///
/// # Safety
/// `pointer` must come from `palloc` and friends and not be freed.
#[no_mangle]
pub unsafe extern "C" fn repalloc(pointer: *mut c_void, size: size_t) -> *mut c_void {
    export!(raises, repalloc, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::realloc(pointer, size, 0) }
    })
}

/// `repalloc_extended`: with `MCXT_ALLOC_HUGE` / `MCXT_ALLOC_NO_OOM` (NULL, `pointer` untouched).
///
/// # Safety
/// As for `repalloc`.
#[no_mangle]
pub unsafe extern "C" fn repalloc_extended(
    pointer: *mut c_void,
    size: size_t,
    flags: c_int,
) -> *mut c_void {
    export!(raises, repalloc_extended, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::realloc(pointer, size, flags) }
    })
}

/// `repalloc_huge`: may exceed 1 GB.
///
/// # Safety
/// As for `repalloc`.
#[no_mangle]
pub unsafe extern "C" fn repalloc_huge(pointer: *mut c_void, size: size_t) -> *mut c_void {
    export!(raises, repalloc_huge, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::realloc(pointer, size, MCXT_ALLOC_HUGE) }
    })
}

/// `pfree`: frees what `palloc` and friends (or the library, e.g. a worker handle) returned, in
/// whichever context it lives. NULL is ignored.
///
/// # Safety
/// `pointer` must be NULL or such an allocation, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pfree(pointer: *mut c_void) {
    export!(raises, pfree, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::free(pointer) }
    })
}

/// `add_size`: `s1 + s2`, ERROR on overflow.
#[no_mangle]
pub extern "C" fn add_size(s1: size_t, s2: size_t) -> size_t {
    export!(raises, add_size, { mcxt::add_size(s1, s2) })
}

/// `mul_size`: `s1 * s2`, ERROR on overflow.
#[no_mangle]
pub extern "C" fn mul_size(s1: size_t, s2: size_t) -> size_t {
    export!(raises, mul_size, { mcxt::mul_size(s1, s2) })
}

/// `palloc_mul` (`palloc_array`): `palloc(s1 * s2)`, ERROR on overflow.
#[no_mangle]
pub extern "C" fn palloc_mul(s1: size_t, s2: size_t) -> *mut c_void {
    export!(raises, palloc_mul, {
        mcxt::alloc(mcxt::mul_size(s1, s2), false)
    })
}

/// `palloc0_mul` (`palloc0_array`): zeroed.
#[no_mangle]
pub extern "C" fn palloc0_mul(s1: size_t, s2: size_t) -> *mut c_void {
    export!(raises, palloc0_mul, {
        mcxt::alloc(mcxt::mul_size(s1, s2), true)
    })
}

/// `palloc_mul_extended`: `palloc_extended(s1 * s2, flags)`; overflow is an ERROR whatever the flags.
#[no_mangle]
pub extern "C" fn palloc_mul_extended(s1: size_t, s2: size_t, flags: c_int) -> *mut c_void {
    export!(raises, palloc_mul_extended, {
        palloc_extended(mcxt::mul_size(s1, s2), flags)
    })
}

/// `repalloc_mul` (`repalloc_array`): `repalloc(p, s1 * s2)`.
///
/// # Safety
/// As for `repalloc`.
#[no_mangle]
pub unsafe extern "C" fn repalloc_mul(p: *mut c_void, s1: size_t, s2: size_t) -> *mut c_void {
    export!(raises, repalloc_mul, {
        let size = mcxt::mul_size(s1, s2);
        // SAFETY: as the caller promises.
        unsafe { mcxt::realloc(p, size, 0) }
    })
}

/// `repalloc_mul_extended`: `repalloc_extended(p, s1 * s2, flags)`.
///
/// # Safety
/// As for `repalloc`.
#[no_mangle]
pub unsafe extern "C" fn repalloc_mul_extended(
    p: *mut c_void,
    s1: size_t,
    s2: size_t,
    flags: c_int,
) -> *mut c_void {
    export!(raises, repalloc_mul_extended, {
        let size = mcxt::mul_size(s1, s2);
        // SAFETY: as the caller promises.
        unsafe { mcxt::realloc(p, size, flags) }
    })
}

/// `pstrdup`: a copy of `string` in `CurrentMemoryContext`.
///
/// # Safety
/// `string` must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pstrdup(string: *const c_char) -> *mut c_char {
    export!(raises, pstrdup, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::strdup(string) }
    })
}

/// `pnstrdup`: a NUL-terminated copy of at most `len` bytes of `string` (stops at a NUL).
///
/// # Safety
/// `string` must have `len` readable bytes or a NUL before them.
#[no_mangle]
pub unsafe extern "C" fn pnstrdup(string: *const c_char, len: size_t) -> *mut c_char {
    export!(raises, pnstrdup, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::copy_string(CurrentMemoryContext, string, libc::strnlen(string, len)) }
    })
}

/// `pchomp`: a copy of `string` without its trailing newlines.
///
/// # Safety
/// `string` must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pchomp(string: *const c_char) -> *mut c_char {
    export!(raises, pchomp, {
        // SAFETY: as the caller promises; n never exceeds the string's length.
        unsafe {
            let mut n = libc::strlen(string);
            while n > 0 && *string.add(n - 1) == b'\n' as c_char {
                n -= 1;
            }
            mcxt::copy_string(CurrentMemoryContext, string, n)
        }
    })
}

/// `MemoryContextStrdup`: a copy of `string` in `context`.
///
/// # Safety
/// `context` live; `string` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextStrdup(
    context: MemoryContext,
    string: *const c_char,
) -> *mut c_char {
    export!(raises, MemoryContextStrdup, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::copy_string(context, string, libc::strlen(string)) }
    })
}

/// `AllocSetContextCreateInternal` (called by the `AllocSetContextCreate` macro): a new context
/// under `parent` (NULL: top-level). The size parameters are accepted and not needed.
///
/// # Safety
/// `parent` must be NULL or live; `name` must be a constant string.
#[no_mangle]
pub unsafe extern "C" fn AllocSetContextCreateInternal(
    parent: MemoryContext,
    name: *const c_char,
    minContextSize: size_t,
    initBlockSize: size_t,
    maxBlockSize: size_t,
) -> MemoryContext {
    export!(raises, AllocSetContextCreateInternal, {
        let _ = (minContextSize, initBlockSize, maxBlockSize);
        // SAFETY: as the caller promises.
        unsafe { mcxt::create(parent, name) }
    })
}

/// `MemoryContextDelete`: frees everything allocated in `context` and its descendants, and the
/// contexts themselves.
///
/// # Safety
/// `context` must be live; nothing allocated in it may be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextDelete(context: MemoryContext) {
    export!(raises, MemoryContextDelete, {
        if !context.is_null() {
            // SAFETY: as the caller promises.
            unsafe { mcxt::delete(context) }
        }
    })
}

/// `MemoryContextReset`: frees everything allocated in `context` and deletes its children.
///
/// # Safety
/// As for `MemoryContextDelete`, except that `context` itself stays usable.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextReset(context: MemoryContext) {
    export!(raises, MemoryContextReset, {
        if !context.is_null() {
            // SAFETY: as the caller promises.
            unsafe { mcxt::reset(context) }
        }
    })
}

/// `MemoryContextResetOnly`: frees what was allocated in `context`, keeping its children.
///
/// # Safety
/// As for `MemoryContextReset`.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextResetOnly(context: MemoryContext) {
    export!(raises, MemoryContextResetOnly, {
        if !context.is_null() {
            // SAFETY: as the caller promises.
            unsafe { mcxt::reset_only(context) }
        }
    })
}

/// `MemoryContextResetChildren`: resets every descendant, keeping the tree and `context`'s own
/// allocations.
///
/// # Safety
/// As for `MemoryContextReset`.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextResetChildren(context: MemoryContext) {
    export!(raises, MemoryContextResetChildren, {
        if !context.is_null() {
            // SAFETY: as the caller promises.
            unsafe { mcxt::reset_children(context) }
        }
    })
}

/// `MemoryContextDeleteChildren`: deletes every descendant of `context`.
///
/// # Safety
/// As for `MemoryContextReset`.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextDeleteChildren(context: MemoryContext) {
    export!(raises, MemoryContextDeleteChildren, {
        if !context.is_null() {
            // SAFETY: as the caller promises.
            unsafe { mcxt::delete_children(context) }
        }
    })
}

/// `MemoryContextSetIdentifier`: a label shown with the name (must outlive the context).
///
/// # Safety
/// `context` must be live.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextSetIdentifier(context: MemoryContext, id: *const c_char) {
    export!(raises, MemoryContextSetIdentifier, {
        // SAFETY: as the caller promises.
        if let Some(c) = unsafe { context.as_mut() } {
            c.ident = id;
        }
    })
}

/// `MemoryContextSetParent`: moves `context` under `new_parent` (NULL: top-level).
///
/// # Safety
/// Both live; `new_parent` not inside `context`'s subtree.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextSetParent(context: MemoryContext, new_parent: MemoryContext) {
    export!(raises, MemoryContextSetParent, {
        if !context.is_null() && context != new_parent {
            // SAFETY: as the caller promises.
            unsafe { mcxt::set_parent(context, new_parent) }
        }
    })
}

/// `MemoryContextGetParent`.
///
/// # Safety
/// `context` must be live.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextGetParent(context: MemoryContext) -> MemoryContext {
    export!(raises, MemoryContextGetParent, {
        // SAFETY: as the caller promises.
        unsafe { context.as_ref() }.map_or(std::ptr::null_mut(), |c| c.parent)
    })
}

/// `MemoryContextIsEmpty`: true when `context` holds no allocations and no children.
///
/// # Safety
/// `context` must be live.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextIsEmpty(context: MemoryContext) -> bool {
    export!(raises, MemoryContextIsEmpty, {
        // SAFETY: as the caller promises.
        context.is_null() || unsafe { mcxt::is_empty(context) }
    })
}

/// `MemoryContextMemAllocated`: bytes allocated in `context` (and its descendants if `recurse`).
///
/// # Safety
/// `context` must be live.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextMemAllocated(
    context: MemoryContext,
    recurse: bool,
) -> size_t {
    export!(raises, MemoryContextMemAllocated, {
        if context.is_null() {
            return 0;
        }
        // SAFETY: as the caller promises.
        unsafe { mcxt::mem_allocated(context, recurse) }
    })
}

/// `MemoryContextAllowInCriticalSection`: recorded; there are no critical sections to police.
///
/// # Safety
/// `context` must be live.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextAllowInCriticalSection(context: MemoryContext, allow: bool) {
    export!(raises, MemoryContextAllowInCriticalSection, {
        // SAFETY: as the caller promises.
        if let Some(c) = unsafe { context.as_mut() } {
            c.allowInCritSection = allow;
        }
    })
}

/// `MemoryContextContains`: whether `pointer` (a `palloc`'d chunk) belongs to `context`.
///
/// # Safety
/// `pointer` must be NULL or a live chunk from this allocator.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextContains(
    context: MemoryContext,
    pointer: *mut c_void,
) -> bool {
    export!(raises, MemoryContextContains, {
        if pointer.is_null() || !(pointer as usize).is_multiple_of(std::mem::align_of::<usize>()) {
            return false;
        }
        // SAFETY: as the caller promises.
        unsafe { mcxt::chunk_context(pointer) == context }
    })
}

/// `MemoryContextRegisterResetCallback`: `cb->func(cb->arg)` runs when `context` is next reset
/// or deleted (newest registration first). `cb` is usually allocated in `context` itself.
///
/// # Safety
/// `context` live; `cb` valid until called.
#[no_mangle]
pub unsafe extern "C" fn MemoryContextRegisterResetCallback(
    context: MemoryContext,
    cb: *mut MemoryContextCallback,
) {
    export!(raises, MemoryContextRegisterResetCallback, {
        if !context.is_null() && !cb.is_null() {
            // SAFETY: as the caller promises.
            unsafe { mcxt::register_reset_callback(context, cb) }
        }
    })
}

/// `GetMemoryChunkSpace`: the space a chunk occupies, its header included.
///
/// # Safety
/// `pointer` must be a live chunk from this allocator.
#[no_mangle]
pub unsafe extern "C" fn GetMemoryChunkSpace(pointer: *mut c_void) -> size_t {
    export!(raises, GetMemoryChunkSpace, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::chunk_space(pointer) }
    })
}

/// `CreateCacheMemoryContext`: makes `CacheMemoryContext` unless it exists (connecting to a
/// database makes it too). Declared by hand in include/utils/catcache.h.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn CreateCacheMemoryContext() {
    export!(raises, CreateCacheMemoryContext, {
        mcxt::create_cache_memory_context()
    })
}
