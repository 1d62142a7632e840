//! Memory contexts: PostgreSQL's `palloc` family over a tree of contexts, where resetting or
//! deleting a context frees everything allocated in it and in its children.
//!
//! Each chunk is one `malloc` block that starts with a [`Chunk`] header: its neighbours in the
//! owning context's doubly-linked chunk list, its requested size and, last (right before the
//! memory handed out, where PostgreSQL 15's inline `GetMemoryChunkContext` reads it), the owning
//! context. So `palloc`, `pfree` and `repalloc` are O(1) and find their context from the pointer
//! alone; a reset walks the list. Every allocation the library hands a module (worker handles
//! included) comes from here, so `pfree` accepts all of them. Not thread-safe, like PostgreSQL.
//!
//! ERRORs (bad sizes, out of memory) are reported from C (`variadic_strings.c`), so the longjmp
//! to a `PG_TRY` handler starts in a C frame; every Rust frame on the way owns nothing that needs
//! dropping and leaves the context lists consistent before it calls out.

use libc::{c_char, c_int, c_void, size_t};
use std::mem::size_of;
use std::ptr::{null, null_mut};

/// A memory context, as PostgreSQL's `MemoryContext`: a pointer to the context's header.
pub type MemoryContext = *mut MemoryContextData;

/// A function `MemoryContextRegisterResetCallback` calls when its context is reset or deleted.
pub type MemoryContextCallbackFunction = Option<unsafe extern "C" fn(arg: *mut c_void)>;

/// A reset/delete callback; the caller owns the struct (usually allocated in the context).
#[repr(C)]
pub struct MemoryContextCallback {
    /// Function to call.
    pub func: MemoryContextCallbackFunction,
    /// Its argument.
    pub arg: *mut c_void,
    /// The next callback of the same context.
    pub next: *mut MemoryContextCallback,
}

/// The header of every memory context, with PostgreSQL 15's layout (`nodes/memnodes.h`), so a
/// module reading e.g. `context->name` or `context->parent` sees what it expects.
#[repr(C)]
pub struct MemoryContextData {
    /// The node tag: `T_AllocSetContext` for every context here.
    pub r#type: c_int,
    /// True when nothing was allocated since the last reset.
    pub isReset: bool,
    /// Whether allocation is allowed inside a critical section (recorded only).
    pub allowInCritSection: bool,
    /// Bytes currently allocated in this context (chunks and their headers).
    pub mem_allocated: size_t,
    /// PostgreSQL's method table; NULL here (all contexts share one implementation).
    pub methods: *const c_void,
    /// The parent context, or NULL for a top-level context.
    pub parent: *mut MemoryContextData,
    /// The first child.
    pub firstchild: *mut MemoryContextData,
    /// The previous sibling.
    pub prevchild: *mut MemoryContextData,
    /// The next sibling.
    pub nextchild: *mut MemoryContextData,
    /// The context's name (a constant string).
    pub name: *const c_char,
    /// An optional identifier, or NULL.
    pub ident: *const c_char,
    /// Callbacks to run at the next reset or delete, newest first.
    pub reset_cbs: *mut MemoryContextCallback,
}

const _: () = assert!(size_of::<MemoryContextData>() == 80);
const _: () = assert!(std::mem::offset_of!(MemoryContextData, name) == 56);
const _: () = assert!(std::mem::offset_of!(MemoryContextData, reset_cbs) == 72);
const _: () = assert!(size_of::<MemoryContextCallback>() == 24);

/// PostgreSQL 15's `T_AllocSetContext` node tag.
const T_ALLOC_SET_CONTEXT: c_int = 223;

// PostgreSQL's limits and flags; modules get them from utils/memutils.h and utils/palloc.h.
/// Largest ordinary request (`MaxAllocSize`, 1 GB - 1).
pub(crate) const MAX_ALLOC_SIZE: usize = 0x3fff_ffff;
/// Largest request with `MCXT_ALLOC_HUGE` (`MaxAllocHugeSize`).
pub(crate) const MAX_ALLOC_HUGE_SIZE: usize = usize::MAX / 2;
/// Allow a request above `MAX_ALLOC_SIZE`.
pub(crate) const MCXT_ALLOC_HUGE: c_int = 0x01;
/// Return NULL instead of raising an ERROR when memory runs out.
pub(crate) const MCXT_ALLOC_NO_OOM: c_int = 0x02;
/// Zero the memory.
pub(crate) const MCXT_ALLOC_ZERO: c_int = 0x04;

/// A context: PostgreSQL's header first (a `MemoryContext` points at it), then its chunks.
#[repr(C)]
struct Context {
    data: MemoryContextData,
    /// Head of the chunk list (most recent first).
    chunks: *mut Chunk,
    /// Whether `data` was allocated by `create` (false for the library's static contexts).
    owned: bool,
}

/// The header in front of every chunk. 32 bytes, so the memory after it keeps malloc's alignment.
#[repr(C)]
struct Chunk {
    prev: *mut Chunk,
    next: *mut Chunk,
    /// The requested size.
    size: usize,
    /// The owning context; must stay last (read at `pointer - sizeof(void *)`).
    context: *mut Context,
}

const HEADER: usize = size_of::<Chunk>();
const _: () = assert!(HEADER == 32);
const _: () = assert!(std::mem::offset_of!(Chunk, context) == HEADER - size_of::<*mut c_void>());

const fn static_context(
    name: &'static std::ffi::CStr,
    parent: MemoryContext,
    child: MemoryContext,
) -> Context {
    Context {
        data: MemoryContextData {
            r#type: T_ALLOC_SET_CONTEXT,
            isReset: true,
            allowInCritSection: false,
            mem_allocated: 0,
            methods: null(),
            parent,
            firstchild: child,
            prevchild: null_mut(),
            nextchild: null_mut(),
            name: name.as_ptr(),
            ident: null(),
            reset_cbs: null_mut(),
        },
        chunks: null_mut(),
        owned: false,
    }
}

// The two contexts that exist from the moment the library is loaded (so `CurrentMemoryContext`
// is valid in the supervisor before anything ran, and in every worker forked from it).
static mut TOP: Context = static_context(
    c"TopMemoryContext",
    null_mut(),
    // SAFETY: only the address of the other static is taken; nothing is read.
    unsafe { &raw mut ERROR_CXT.data },
);
static mut ERROR_CXT: Context = static_context(
    c"ErrorContext",
    // SAFETY: only the address of the other static is taken; nothing is read.
    unsafe { &raw mut TOP.data },
    null_mut(),
);

/// The context `palloc` allocates in. `MemoryContextSwitchTo` (inline in modules) writes it.
#[no_mangle]
// SAFETY: only the address of TOP is taken.
pub static mut CurrentMemoryContext: MemoryContext = unsafe { &raw mut TOP.data };
/// The root of the context tree; lives as long as the process.
#[no_mangle]
// SAFETY: as above.
pub static mut TopMemoryContext: MemoryContext = unsafe { &raw mut TOP.data };
/// A child of `TopMemoryContext` for error handling.
#[no_mangle]
// SAFETY: as above.
pub static mut ErrorContext: MemoryContext = unsafe { &raw mut ERROR_CXT.data };
/// PostgreSQL's postmaster context (deleted in its workers); not used here (NULL).
#[no_mangle]
pub static mut PostmasterContext: MemoryContext = null_mut();
/// The context of long-lived caches. NULL until `CreateCacheMemoryContext` makes it (under
/// `TopMemoryContext`), which connecting to a database does, as PostgreSQL's backend start does;
/// a worker without a database finds it NULL at entry, as in PostgreSQL.
#[no_mangle]
pub static mut CacheMemoryContext: MemoryContext = null_mut();
/// PostgreSQL's per-message context of a client backend; workers have none (NULL), as in
/// PostgreSQL.
#[no_mangle]
pub static mut MessageContext: MemoryContext = null_mut();
/// The top transaction's context; there are no transactions yet (NULL).
#[no_mangle]
pub static mut TopTransactionContext: MemoryContext = null_mut();
/// The current (sub)transaction's context; there are no transactions yet (NULL).
#[no_mangle]
pub static mut CurTransactionContext: MemoryContext = null_mut();
/// The context of the portal being run; NULL outside one, and there are no portals here (a
/// worker's statements run on the server).
#[no_mangle]
pub static mut PortalContext: MemoryContext = null_mut();

// ERROR reports, in variadic_strings.c (they never return).
/// cbindgen:ignore
mod report {
    use libc::{c_char, size_t};
    extern "C" {
        pub(crate) fn bgw_c_mcxt_invalid_size(size: size_t) -> !;
        pub(crate) fn bgw_c_mcxt_out_of_memory(size: size_t, context_name: *const c_char) -> !;
        pub(crate) fn bgw_c_mcxt_create_failed(context_name: *const c_char) -> !;
        pub(crate) fn bgw_c_mcxt_size_overflow(a: size_t, b: size_t, op: c_char) -> !;
    }
}
use report::*;

/// The context behind a module's `MemoryContext`; a NULL context is an ERROR (PostgreSQL would
/// crash), e.g. `palloc` after switching to a context that does not exist here.
fn context(ctx: MemoryContext) -> *mut Context {
    if ctx.is_null() {
        crate::pg::raise(
            crate::pg::types::ERROR,
            "memory allocation requested in a NULL memory context",
        );
    }
    ctx.cast()
}

/// Raises "invalid memory alloc request size" unless `size` is allowed by `flags`.
fn check_size(size: usize, flags: c_int) {
    let limit = if flags & MCXT_ALLOC_HUGE != 0 {
        MAX_ALLOC_HUGE_SIZE
    } else {
        MAX_ALLOC_SIZE
    };
    if size > limit {
        // SAFETY: reports and longjmps/exits; nothing here needs dropping.
        unsafe { bgw_c_mcxt_invalid_size(size) }
    }
}

/// The header of the chunk at `pointer`.
///
/// # Safety
/// `pointer` must come from this allocator and not be freed.
unsafe fn chunk_of(pointer: *mut c_void) -> *mut Chunk {
    // SAFETY: as the caller promises, a header precedes the pointer.
    unsafe { pointer.cast::<Chunk>().sub(1) }
}

/// Puts `chunk` at the head of `cx`'s list.
///
/// # Safety
/// `cx` is a live context; `chunk` points to a block of `HEADER + size` bytes not in any list.
unsafe fn link(cx: *mut Context, chunk: *mut Chunk, size: usize) {
    // SAFETY: as the caller promises; the old head (if any) is a live chunk of cx.
    unsafe {
        let head = (*cx).chunks;
        chunk.write(Chunk {
            prev: null_mut(),
            next: head,
            size,
            context: cx,
        });
        if !head.is_null() {
            (*head).prev = chunk;
        }
        (*cx).chunks = chunk;
        (*cx).data.isReset = false;
        (*cx).data.mem_allocated += HEADER + size;
    }
}

/// Takes `chunk` out of its context's list.
///
/// # Safety
/// `chunk` is a live chunk in its context's list.
unsafe fn unlink(chunk: *mut Chunk) {
    // SAFETY: the chunk and its neighbours are live members of one list.
    unsafe {
        let cx = (*chunk).context;
        let (prev, next) = ((*chunk).prev, (*chunk).next);
        if prev.is_null() {
            (*cx).chunks = next;
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        (*cx).data.mem_allocated -= HEADER + (*chunk).size;
    }
}

/// Allocates `size` bytes in `ctx` (`MemoryContextAllocExtended`): ERROR on a bad size, and on
/// out of memory unless `MCXT_ALLOC_NO_OOM` (then NULL).
///
/// # Safety
/// `ctx` must be NULL or a live context.
pub unsafe fn alloc_in(ctx: MemoryContext, size: usize, flags: c_int) -> *mut c_void {
    check_size(size, flags);
    let cx = context(ctx);
    // Cannot overflow: size <= usize::MAX / 2.
    let total = HEADER + size;
    // SAFETY: malloc/calloc have no preconditions; NULL is handled below.
    let chunk = unsafe {
        if flags & MCXT_ALLOC_ZERO != 0 {
            libc::calloc(1, total)
        } else {
            libc::malloc(total)
        }
    }
    .cast::<Chunk>();
    if chunk.is_null() {
        if flags & MCXT_ALLOC_NO_OOM != 0 {
            return null_mut();
        }
        // SAFETY: cx is live; its name is a string or NULL. Nothing here needs dropping.
        unsafe { bgw_c_mcxt_out_of_memory(size, (*cx).data.name) }
    }
    // SAFETY: chunk is a fresh block of HEADER + size bytes; cx is live.
    unsafe {
        link(cx, chunk, size);
        chunk.add(1).cast()
    }
}

/// Allocates in `CurrentMemoryContext` (`palloc`/`palloc0`); ERROR on out of memory.
pub fn alloc(size: usize, zero: bool) -> *mut c_void {
    let flags = if zero { MCXT_ALLOC_ZERO } else { 0 };
    // SAFETY: CurrentMemoryContext is a live context or NULL (an ERROR).
    unsafe { alloc_in(CurrentMemoryContext, size, flags) }
}

/// Frees a chunk (`pfree`); NULL is ignored.
///
/// # Safety
/// `p` must be NULL or come from this allocator and not be freed yet.
pub unsafe fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: as the caller promises, p is a live chunk.
    unsafe {
        let chunk = chunk_of(p);
        unlink(chunk);
        libc::free(chunk.cast());
    }
}

/// Resizes a chunk in its own context (`repalloc_extended`); the contents up to the smaller size
/// are kept. On out of memory with `MCXT_ALLOC_NO_OOM` returns NULL and leaves `p` as it was.
///
/// # Safety
/// `p` must come from this allocator and not be freed yet (NULL is an ERROR).
pub unsafe fn realloc(p: *mut c_void, size: usize, flags: c_int) -> *mut c_void {
    if p.is_null() {
        crate::pg::raise(
            crate::pg::types::ERROR,
            "repalloc called with a NULL pointer",
        );
    }
    check_size(size, flags);
    // SAFETY: p is a live chunk, as the caller promises.
    let old = unsafe { chunk_of(p) };
    // SAFETY: old is a live chunk; its context is live.
    let (cx, old_size) = unsafe { ((*old).context, (*old).size) };
    // SAFETY: old is a malloc'd block; on failure it is untouched.
    let new = unsafe { libc::realloc(old.cast(), HEADER + size) }.cast::<Chunk>();
    if new.is_null() {
        if flags & MCXT_ALLOC_NO_OOM != 0 {
            return null_mut();
        }
        // SAFETY: cx is live. Nothing here needs dropping.
        unsafe { bgw_c_mcxt_out_of_memory(size, (*cx).data.name) }
    }
    // SAFETY: new holds the old header (the list links are copied); repoint the neighbours,
    // which still refer to the old address, before anything else runs.
    unsafe {
        let (prev, next) = ((*new).prev, (*new).next);
        if prev.is_null() {
            (*cx).chunks = new;
        } else {
            (*prev).next = new;
        }
        if !next.is_null() {
            (*next).prev = new;
        }
        (*new).size = size;
        (*cx).data.mem_allocated = (*cx).data.mem_allocated - old_size + size;
        (*cx).data.isReset = false;
        new.add(1).cast()
    }
}

/// The context a chunk belongs to (`GetMemoryChunkContext`).
///
/// # Safety
/// `p` must come from this allocator and not be freed.
pub unsafe fn chunk_context(p: *mut c_void) -> MemoryContext {
    // SAFETY: as the caller promises.
    unsafe { (*chunk_of(p)).context.cast() }
}

/// The space a chunk takes, header included (`GetMemoryChunkSpace`).
///
/// # Safety
/// As for `chunk_context`.
pub unsafe fn chunk_space(p: *mut c_void) -> usize {
    // SAFETY: as the caller promises.
    unsafe { HEADER + (*chunk_of(p)).size }
}

/// Copies `len` bytes of `s` plus a NUL into `ctx`.
///
/// # Safety
/// `s` must have `len` readable bytes; `ctx` NULL or live.
pub unsafe fn copy_string(ctx: MemoryContext, s: *const c_char, len: usize) -> *mut c_char {
    // SAFETY: ctx as promised; p has len + 1 bytes and s has len.
    unsafe {
        let p = alloc_in(ctx, len + 1, 0).cast::<c_char>();
        std::ptr::copy_nonoverlapping(s, p, len);
        *p.add(len) = 0;
        p
    }
}

/// Copies a C string into `CurrentMemoryContext` (`pstrdup`).
///
/// # Safety
/// `s` must be a NUL-terminated string.
pub unsafe fn strdup(s: *const c_char) -> *mut c_char {
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe { copy_string(CurrentMemoryContext, s, libc::strlen(s)) }
}

/// `CreateCacheMemoryContext`: makes `CacheMemoryContext` (a child of `TopMemoryContext`) unless
/// it exists.
pub fn create_cache_memory_context() {
    // SAFETY: the globals belong to this (single-threaded) process; TopMemoryContext is live.
    unsafe {
        if CacheMemoryContext.is_null() {
            CacheMemoryContext = create(TopMemoryContext, c"CacheMemoryContext".as_ptr());
        }
    }
}

/// `s1 + s2`, ERROR on overflow (`add_size`).
pub fn add_size(s1: usize, s2: usize) -> usize {
    match s1.checked_add(s2) {
        Some(v) => v,
        // SAFETY: reports and never returns; nothing here needs dropping.
        None => unsafe { bgw_c_mcxt_size_overflow(s1, s2, b'+' as c_char) },
    }
}

/// `s1 * s2`, ERROR on overflow (`mul_size`).
pub fn mul_size(s1: usize, s2: usize) -> usize {
    match s1.checked_mul(s2) {
        Some(v) => v,
        // SAFETY: as above.
        None => unsafe { bgw_c_mcxt_size_overflow(s1, s2, b'*' as c_char) },
    }
}

// ---- the context tree -------------------------------------------------------------------------

/// Creates a context under `parent` (NULL: a new top-level context). PostgreSQL's block-size
/// parameters only tune its allocator; every context here allocates chunk by chunk.
///
/// # Safety
/// `parent` must be NULL or live; `name` must outlive the context (a constant string).
pub unsafe fn create(parent: MemoryContext, name: *const c_char) -> MemoryContext {
    // SAFETY: calloc has no preconditions; NULL is handled.
    let cx = unsafe { libc::calloc(1, size_of::<Context>()) }.cast::<Context>();
    if cx.is_null() {
        // SAFETY: reports and never returns; nothing here needs dropping.
        unsafe { bgw_c_mcxt_create_failed(name) }
    }
    // SAFETY: cx is fresh, zeroed memory of the right size; parent is NULL or live.
    unsafe {
        cx.write(Context {
            data: MemoryContextData {
                r#type: T_ALLOC_SET_CONTEXT,
                isReset: true,
                allowInCritSection: false,
                mem_allocated: 0,
                methods: null(),
                parent: null_mut(),
                firstchild: null_mut(),
                prevchild: null_mut(),
                nextchild: null_mut(),
                name,
                ident: null(),
                reset_cbs: null_mut(),
            },
            chunks: null_mut(),
            owned: true,
        });
        let ctx: MemoryContext = cx.cast();
        set_parent(ctx, parent);
        ctx
    }
}

/// Moves `ctx` under `new_parent` (NULL: makes it top-level) (`MemoryContextSetParent`).
///
/// # Safety
/// Both must be live (or `new_parent` NULL); `new_parent` must not be inside `ctx`'s subtree.
pub unsafe fn set_parent(ctx: MemoryContext, new_parent: MemoryContext) {
    // SAFETY: ctx, its parent and siblings, and new_parent are live contexts.
    unsafe {
        let d = ctx;
        if (*d).parent == new_parent {
            return;
        }
        let old = (*d).parent;
        if !old.is_null() {
            if (*d).prevchild.is_null() {
                (*old).firstchild = (*d).nextchild;
            } else {
                (*(*d).prevchild).nextchild = (*d).nextchild;
            }
            if !(*d).nextchild.is_null() {
                (*(*d).nextchild).prevchild = (*d).prevchild;
            }
        }
        (*d).parent = new_parent;
        (*d).prevchild = null_mut();
        (*d).nextchild = null_mut();
        if !new_parent.is_null() {
            let first = (*new_parent).firstchild;
            (*d).nextchild = first;
            if !first.is_null() {
                (*first).prevchild = ctx;
            }
            (*new_parent).firstchild = ctx;
        }
    }
}

/// Runs and forgets `ctx`'s reset callbacks, newest first. Each is unlinked before it runs, so
/// an ERROR inside one leaves the list consistent.
///
/// # Safety
/// `ctx` must be live.
unsafe fn call_reset_callbacks(ctx: MemoryContext) {
    // SAFETY: the callbacks were registered by the module and are live until called.
    unsafe {
        loop {
            let cb = (*ctx).reset_cbs;
            if cb.is_null() {
                break;
            }
            (*ctx).reset_cbs = (*cb).next;
            if let Some(f) = (*cb).func {
                f((*cb).arg);
            }
        }
    }
}

/// Frees every chunk of `ctx` without touching its children.
///
/// # Safety
/// `ctx` must be live.
unsafe fn free_chunks(ctx: MemoryContext) {
    let cx: *mut Context = ctx.cast();
    // SAFETY: each chunk in the list is a live malloc block; the list is emptied first so an
    // interrupted walk cannot leave dangling entries behind.
    unsafe {
        let mut chunk = (*cx).chunks;
        (*cx).chunks = null_mut();
        (*cx).data.mem_allocated = 0;
        while !chunk.is_null() {
            let next = (*chunk).next;
            libc::free(chunk.cast());
            chunk = next;
        }
    }
}

/// Frees everything allocated in `ctx`, keeping its children (`MemoryContextResetOnly`).
///
/// # Safety
/// `ctx` must be live.
pub unsafe fn reset_only(ctx: MemoryContext) {
    // SAFETY: ctx is live.
    unsafe {
        if !(*ctx).isReset {
            call_reset_callbacks(ctx);
            free_chunks(ctx);
            (*ctx).isReset = true;
        }
    }
}

/// Deletes every child of `ctx` (`MemoryContextDeleteChildren`).
///
/// # Safety
/// `ctx` must be live.
pub unsafe fn delete_children(ctx: MemoryContext) {
    // SAFETY: ctx and its children are live; delete unlinks each child it frees from ctx. The
    // library's static contexts (ErrorContext under TopMemoryContext) are only reset and stay
    // linked, so the walk steps over them; after a deletion it starts again from the first
    // child, as a reset callback may have changed the list.
    unsafe {
        let mut child = (*ctx).firstchild;
        while !child.is_null() {
            if (*child.cast::<Context>()).owned {
                delete(child);
                child = (*ctx).firstchild;
            } else {
                reset(child);
                child = (*child).nextchild;
            }
        }
    }
}

/// Frees `ctx`'s contents and deletes its children (`MemoryContextReset`).
///
/// # Safety
/// `ctx` must be live.
pub unsafe fn reset(ctx: MemoryContext) {
    // SAFETY: ctx is live.
    unsafe {
        delete_children(ctx);
        reset_only(ctx);
    }
}

/// Resets the contents of every descendant of `ctx`, keeping the tree (`MemoryContextResetChildren`).
///
/// # Safety
/// `ctx` must be live.
pub unsafe fn reset_children(ctx: MemoryContext) {
    // SAFETY: ctx and its descendants are live; nothing is unlinked.
    unsafe {
        let mut child = (*ctx).firstchild;
        while !child.is_null() {
            reset_children(child);
            reset_only(child);
            child = (*child).nextchild;
        }
    }
}

/// Deletes `ctx`, its children and everything allocated in them (`MemoryContextDelete`). The
/// library's own contexts (`TopMemoryContext`, `ErrorContext`) are only reset. If a deleted
/// context was `CurrentMemoryContext`, the current context becomes `TopMemoryContext` rather
/// than a dangling pointer.
///
/// # Safety
/// `ctx` must be live; no pointer into it may be used afterwards.
pub unsafe fn delete(ctx: MemoryContext) {
    let cx: *mut Context = ctx.cast();
    // SAFETY: ctx is live; it is unlinked before its memory is released.
    unsafe {
        if !(*cx).owned {
            reset(ctx);
            return;
        }
        delete_children(ctx);
        call_reset_callbacks(ctx);
        set_parent(ctx, null_mut());
        free_chunks(ctx);
        if CurrentMemoryContext == ctx {
            CurrentMemoryContext = TopMemoryContext;
        }
        libc::free(cx.cast());
    }
}

/// Registers a callback run at `ctx`'s next reset or its deletion.
///
/// # Safety
/// `ctx` must be live; `cb` must stay valid until called.
pub unsafe fn register_reset_callback(ctx: MemoryContext, cb: *mut MemoryContextCallback) {
    // SAFETY: as the caller promises.
    unsafe {
        (*cb).next = (*ctx).reset_cbs;
        (*ctx).reset_cbs = cb;
        // A context holding a callback is not "reset": the next reset must run it.
        (*ctx).isReset = false;
    }
}

/// Whether `ctx` holds no chunks and no children.
///
/// # Safety
/// `ctx` must be live.
pub unsafe fn is_empty(ctx: MemoryContext) -> bool {
    // SAFETY: ctx is live.
    unsafe { (*ctx).firstchild.is_null() && (*ctx.cast::<Context>()).chunks.is_null() }
}

/// Bytes allocated in `ctx` (and its descendants when `recurse`).
///
/// # Safety
/// `ctx` must be live.
pub unsafe fn mem_allocated(ctx: MemoryContext, recurse: bool) -> usize {
    // SAFETY: ctx and its descendants are live.
    unsafe {
        let mut total = (*ctx).mem_allocated;
        if recurse {
            let mut child = (*ctx).firstchild;
            while !child.is_null() {
                total += mem_allocated(child, true);
                child = (*child).nextchild;
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks `ctx`'s chunk list, checking every back link; returns the sizes, newest first.
    unsafe fn sizes(ctx: MemoryContext) -> Vec<usize> {
        let mut out = Vec::new();
        // SAFETY: ctx is live and its list well formed (checked as we go).
        unsafe {
            let mut prev: *mut Chunk = null_mut();
            let mut c = (*ctx.cast::<Context>()).chunks;
            while !c.is_null() {
                assert_eq!((*c).prev, prev);
                assert_eq!((*c).context, ctx.cast());
                out.push((*c).size);
                prev = c;
                c = (*c).next;
            }
        }
        out
    }

    #[test]
    fn chunk_lists_stay_linked_through_realloc_free_reset_and_delete() {
        // SAFETY: one test owns these contexts; every pointer used is live.
        unsafe {
            let parent = create(TopMemoryContext, c"unit parent".as_ptr());
            let child = create(parent, c"unit child".as_ptr());
            let a = alloc_in(parent, 10, 0);
            let b = alloc_in(parent, 20, MCXT_ALLOC_ZERO);
            let c = alloc_in(parent, 30, 0);
            assert_eq!(sizes(parent), [30, 20, 10]);
            assert_eq!(chunk_context(b), parent);
            // Growing the middle chunk moves it; its neighbours must follow.
            let b = realloc(b, 1 << 20, 0);
            assert_eq!(sizes(parent), [30, 1 << 20, 10]);
            assert_eq!(*b.cast::<u8>(), 0);
            assert_eq!(mem_allocated(parent, false), 3 * HEADER + 40 + (1 << 20));
            free(c);
            assert_eq!(sizes(parent), [1 << 20, 10]);
            free(a);
            assert_eq!(sizes(parent), [1 << 20]);
            let _ = alloc_in(child, 5, 0);
            assert_eq!(mem_allocated(parent, true), 2 * HEADER + 5 + (1 << 20));
            reset(parent);
            assert!((*parent).firstchild.is_null());
            assert!(is_empty(parent) && (*parent).isReset);
            delete(parent);
            // The static ErrorContext survives a reset of its parent's children.
            let (error, top) = (ErrorContext, TopMemoryContext);
            assert_eq!((*error).parent, top);
        }
    }
}
