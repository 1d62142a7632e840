//! DSM segments as a process sees them (`storage/dsm.h`): `dsm_create`, `dsm_attach`,
//! `dsm_detach` and the rest, each segment a descriptor in `TopMemoryContext` on this process's
//! list, with its detach callbacks and the resource owner it belongs to, as in PostgreSQL 15.
//!
//! A process that has a PGPROC also records each segment it holds there (`_bgw_dsm_refs`), so
//! that when it dies without detaching (a process attached from outside killed with SIGKILL,
//! which brings no crash-restart) the next process to take its PGPROC drops its references and
//! the segments go once nobody else holds them.
//!
//! Errors take PostgreSQL's error path; the functions here own nothing that needs dropping where
//! they raise (messages are formatted on the stack).

use super::{backing, control};
use crate::mcxt;
use crate::pg::types::*;
use crate::pg::{raise_fmt, report_fmt};
use crate::resowner::{CurrentResourceOwner, ResourceOwner};
use crate::shmem::Segment;
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU32, Ordering};

/// A detach callback (`on_dsm_detach_callback`).
pub type on_dsm_detach_callback = Option<unsafe extern "C" fn(seg: *mut dsm_segment, arg: Datum)>;

/// One mapping of a segment in this process. Opaque to modules.
pub struct dsm_segment {
    next: *mut dsm_segment,
    prev: *mut dsm_segment,
    handle: dsm_handle,
    /// The control-table item, or `NO_SLOT` once its reference is given back (or never taken).
    control_slot: usize,
    /// The generation of the memory the mapping is of (a crash-restart makes a new one).
    generation: u64,
    mapped_address: *mut u8,
    mapped_size: usize,
    resowner: ResourceOwner,
    on_detach: *mut DetachCallback,
}

struct DetachCallback {
    next: *mut DetachCallback,
    function: on_dsm_detach_callback,
    arg: Datum,
}

const NO_SLOT: usize = usize::MAX;

/// SQLSTATEs of the reports here.
const INSUFFICIENT_RESOURCES: i32 = crate::pg::make_sqlstate(b"53000");
const OUT_OF_MEMORY: i32 = crate::pg::make_sqlstate(b"53200");

struct List {
    head: Cell<*mut dsm_segment>,
    /// Where the next `dsm_create` starts looking for a free item.
    hint: Cell<usize>,
}

struct ProcessLocal(List);
// SAFETY: a process's one thread uses the list, never from a signal handler.
unsafe impl Sync for ProcessLocal {}

static LIST: ProcessLocal = ProcessLocal(List {
    head: Cell::new(null_mut()),
    hint: Cell::new(0),
});

/// The main segment and the DSM memory, or the ERROR that says why there is none.
fn environment() -> (&'static Segment, i32, u64) {
    if crate::postmaster::is_supervisor() {
        raise_fmt(
            ERROR,
            0,
            format_args!("dynamic shared memory cannot be used in the supervisor process"),
        );
    }
    let Some(seg) = crate::shmem::current() else {
        raise_fmt(
            ERROR,
            0,
            format_args!(
                "dynamic shared memory is not available in this process (not a worker of \
                 bgworkerd, nor attached with BackgroundWorkerAttach)"
            ),
        );
    };
    match backing::current(seg) {
        Ok((fd, generation)) => (seg, fd, generation),
        Err(e) => raise_fmt(ERROR, 0, format_args!("{e}")),
    }
}

/// A new descriptor in `TopMemoryContext`, on the list, owned by `CurrentResourceOwner`.
fn new_descriptor(handle: dsm_handle) -> *mut dsm_segment {
    // SAFETY: TopMemoryContext is live; the chunk is sized for the struct, which is then
    // initialised whole before it is linked.
    unsafe {
        let seg = mcxt::alloc_in(
            mcxt::TopMemoryContext,
            std::mem::size_of::<dsm_segment>(),
            0,
        )
        .cast::<dsm_segment>();
        let head = LIST.0.head.get();
        seg.write(dsm_segment {
            next: head,
            prev: null_mut(),
            handle,
            control_slot: NO_SLOT,
            generation: 0,
            mapped_address: null_mut(),
            mapped_size: 0,
            resowner: CurrentResourceOwner,
            on_detach: null_mut(),
        });
        if !head.is_null() {
            (*head).prev = seg;
        }
        LIST.0.head.set(seg);
        seg
    }
}

/// Takes a descriptor off the list and frees it.
///
/// # Safety
/// `seg` is a live descriptor of this process.
unsafe fn drop_descriptor(seg: *mut dsm_segment) {
    // SAFETY: as the caller promises; neighbours are live descriptors.
    unsafe {
        let (prev, next) = ((*seg).prev, (*seg).next);
        if prev.is_null() {
            LIST.0.head.set(next);
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        mcxt::free(seg.cast());
    }
}

/// Maps `len` bytes of item `index`'s range; the errno on failure.
fn map(fd: i32, index: usize, len: usize) -> Result<*mut u8, i32> {
    // SAFETY: a new shared mapping of our descriptor; nothing else is touched.
    let p = unsafe {
        libc::mmap(
            null_mut(),
            len.max(1),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            backing::offset_of(index) as libc::off_t,
        )
    };
    if p == libc::MAP_FAILED {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(p.cast())
    }
}

fn report_map_failure(handle: dsm_handle, errno: i32, what: &str, size: Option<usize>) -> ! {
    let code = if errno == libc::ENOMEM || errno == libc::EFBIG {
        OUT_OF_MEMORY
    } else {
        0
    };
    match size {
        Some(n) => raise_fmt(
            ERROR,
            code,
            format_args!(
                "could not {what} shared memory segment \"bgworker.dsm:{handle}\" to {n} bytes: \
                 {}",
                Errno(errno)
            ),
        ),
        None => raise_fmt(
            ERROR,
            code,
            format_args!(
                "could not {what} shared memory segment \"bgworker.dsm:{handle}\": {}",
                Errno(errno)
            ),
        ),
    }
}

/// An errno shown as the C library's text (`%m`), without allocating.
struct Errno(i32);

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0 as libc::c_char; 128];
        // SAFETY: the XSI strerror_r writes a NUL-terminated message into buf.
        let ok = unsafe { libc::strerror_r(self.0, buf.as_mut_ptr(), buf.len()) } == 0;
        if !ok {
            return write!(f, "error {}", self.0);
        }
        // SAFETY: NUL-terminated by strerror_r.
        let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        f.write_str(&text.to_string_lossy())
    }
}

/// `dsm_create`: a new segment of `size` bytes, zeroed, attached in this process. NULL when the
/// control table is full and `flags` has `DSM_CREATE_NULL_IF_MAXSEGMENTS`; ERROR otherwise.
pub fn create(size: usize, flags: i32) -> *mut dsm_segment {
    let (main, fd, generation) = environment();
    let items = main.dsm_items();
    if size as u64 > backing::RANGE {
        report_map_failure(0, libc::EFBIG, "resize", Some(size));
    }
    let seg = new_descriptor(DSM_HANDLE_INVALID);
    let mut reserved = control::reserve(items, size as u64, LIST.0.hint.get());
    if reserved.is_none() && sweep_dead_procs(main) > 0 {
        reserved = control::reserve(items, size as u64, LIST.0.hint.get());
    }
    let Some((index, handle)) = reserved else {
        // SAFETY: the descriptor made above, not handed out.
        unsafe { drop_descriptor(seg) };
        if flags & DSM_CREATE_NULL_IF_MAXSEGMENTS != 0 {
            return null_mut();
        }
        raise_fmt(
            ERROR,
            INSUFFICIENT_RESOURCES,
            format_args!("too many dynamic shared memory segments"),
        );
    };
    LIST.0.hint.set(index + 1);
    let address = match map(fd, index, size) {
        Ok(p) => p,
        Err(errno) => {
            control::unreserve(items, index);
            // SAFETY: as above.
            unsafe { drop_descriptor(seg) };
            report_map_failure(handle, errno, "map", None);
        }
    };
    control::publish(items, index, handle);
    // SAFETY: our live descriptor.
    unsafe {
        (*seg).handle = handle;
        (*seg).control_slot = index;
        (*seg).generation = generation;
        (*seg).mapped_address = address;
        (*seg).mapped_size = size;
    }
    remember_ref(main, handle);
    seg
}

/// `dsm_attach`: maps the segment `handle` in this process; NULL when no live segment has that
/// handle (everyone detached and it was destroyed). ERROR when this process has it attached.
pub fn attach(handle: dsm_handle) -> *mut dsm_segment {
    if !find_mapping(handle).is_null() {
        raise_fmt(
            ERROR,
            0,
            format_args!("can't attach the same segment more than once"),
        );
    }
    let (main, fd, generation) = environment();
    let items = main.dsm_items();
    let seg = new_descriptor(handle);
    let Some((index, size)) = control::attach(items, handle) else {
        // SAFETY: the descriptor made above, not handed out.
        unsafe { drop_descriptor(seg) };
        return null_mut();
    };
    // SAFETY: our live descriptor.
    unsafe {
        (*seg).control_slot = index;
        (*seg).generation = generation;
    }
    let size = size as usize;
    match map(fd, index, size) {
        Ok(address) => {
            // SAFETY: as above.
            unsafe {
                (*seg).mapped_address = address;
                (*seg).mapped_size = size;
            }
        }
        Err(errno) => {
            // SAFETY: as above; detaching gives the reference back.
            unsafe { detach(seg) };
            report_map_failure(handle, errno, "map", None);
        }
    }
    remember_ref(main, handle);
    seg
}

/// `dsm_detach`: runs the detach callbacks (newest first, each popped before it runs), unmaps,
/// and gives the reference back; the last reference destroys the segment.
///
/// # Safety
/// `seg` is a live descriptor of this process; it is freed.
pub unsafe fn detach(seg: *mut dsm_segment) {
    crate::pg::hold_interrupts();
    loop {
        // SAFETY: as the caller promises; callback items are live until popped and freed here.
        let cb = unsafe {
            let cb = (*seg).on_detach;
            if cb.is_null() {
                break;
            }
            (*seg).on_detach = (*cb).next;
            let c = (cb.read().function, cb.read().arg);
            mcxt::free(cb.cast());
            c
        };
        if let Some(f) = cb.0 {
            // SAFETY: a module registered this callback with this argument.
            unsafe { f(seg, cb.1) };
        }
    }
    crate::pg::resume_interrupts();
    // SAFETY: as the caller promises.
    let (address, len, slot, handle, generation) = unsafe {
        (
            (*seg).mapped_address,
            (*seg).mapped_size,
            (*seg).control_slot,
            (*seg).handle,
            (*seg).generation,
        )
    };
    if !address.is_null() {
        // SAFETY: unmapping our own mapping; nothing here uses it afterwards.
        unsafe { libc::munmap(address.cast(), len.max(1)) };
    }
    if slot != NO_SLOT {
        if let Some(main) = crate::shmem::current() {
            forget_ref(main, handle);
            drop_reference(main, slot, handle, generation);
        }
    }
    // SAFETY: as the caller promises.
    unsafe { drop_descriptor(seg) };
}

/// Gives back one reference to the segment `handle` in item `slot` (of memory `generation`),
/// destroying it when that was the last.
fn drop_reference(main: &Segment, slot: usize, handle: dsm_handle, generation: u64) {
    if generation != main.header().dsm_generation.load(Ordering::Acquire) {
        return; // a crash-restart made everything afresh since
    }
    let items = main.dsm_items();
    if slot < items.len() && control::release(items, slot, handle) {
        destroy(main, slot);
    }
}

fn destroy(main: &Segment, slot: usize) {
    let items = main.dsm_items();
    if let Ok((fd, _)) = backing::current(main) {
        backing::punch(fd, slot, control::size_of(items, slot) as usize);
    }
    control::free(items, slot);
}

/// `dsm_backend_shutdown`: detaches every segment still attached (at process exit, between the
/// `before_shmem_exit` and `on_shmem_exit` callbacks, as PostgreSQL does).
pub fn backend_shutdown() {
    loop {
        let head = LIST.0.head.get();
        if head.is_null() {
            return;
        }
        // SAFETY: a live descriptor of this process.
        unsafe { detach(head) };
    }
}

/// `dsm_find_mapping`: this process's mapping of `handle`, or NULL.
pub fn find_mapping(handle: dsm_handle) -> *mut dsm_segment {
    let mut s = LIST.0.head.get();
    while !s.is_null() {
        // SAFETY: descriptors on the list are live.
        unsafe {
            if (*s).handle == handle {
                return s;
            }
            s = (*s).next;
        }
    }
    null_mut()
}

/// `dsm_segment_address`.
///
/// # Safety
/// `seg` live.
pub unsafe fn address(seg: *mut dsm_segment) -> *mut u8 {
    // SAFETY: as the caller promises.
    unsafe { (*seg).mapped_address }
}

/// `dsm_segment_map_length`.
///
/// # Safety
/// `seg` live.
pub unsafe fn map_length(seg: *mut dsm_segment) -> usize {
    // SAFETY: as the caller promises.
    unsafe { (*seg).mapped_size }
}

/// `dsm_segment_handle`.
///
/// # Safety
/// `seg` live.
pub unsafe fn handle(seg: *mut dsm_segment) -> dsm_handle {
    // SAFETY: as the caller promises.
    unsafe { (*seg).handle }
}

/// `dsm_pin_mapping`: the mapping stays until this process detaches it or exits (no owner).
///
/// # Safety
/// `seg` live.
pub unsafe fn pin_mapping(seg: *mut dsm_segment) {
    // SAFETY: as the caller promises.
    unsafe { (*seg).resowner = null_mut() };
}

/// `dsm_unpin_mapping`: the mapping belongs to `CurrentResourceOwner` again.
///
/// # Safety
/// `seg` live.
pub unsafe fn unpin_mapping(seg: *mut dsm_segment) {
    // SAFETY: as the caller promises; a plain pointer global of this process.
    unsafe { (*seg).resowner = CurrentResourceOwner };
}

/// `dsm_pin_segment`: the segment stays, even with nobody attached, until `dsm_unpin_segment`
/// or the next crash-restart or shutdown.
///
/// # Safety
/// `seg` live.
pub unsafe fn pin_segment(seg: *mut dsm_segment) {
    // SAFETY: as the caller promises.
    let (slot, handle) = unsafe { ((*seg).control_slot, (*seg).handle) };
    let Some(main) = crate::shmem::current() else {
        return;
    };
    match control::pin(
        main.dsm_items(),
        slot.min(main.dsm_items().len() - 1),
        handle,
    ) {
        Ok(()) => {}
        Err(control::PinError::AlreadyPinned) => raise_fmt(
            ERROR,
            0,
            format_args!("cannot pin a segment that is already pinned"),
        ),
        Err(_) => raise_fmt(
            ERROR,
            0,
            format_args!("cannot pin a segment that is not attached"),
        ),
    }
}

/// `dsm_unpin_segment`: drops the pin; the segment goes when nobody has it attached.
pub fn unpin_segment(handle: dsm_handle) {
    let (main, _, _) = environment();
    match control::unpin(main.dsm_items(), handle) {
        Ok((slot, last)) => {
            if last {
                destroy(main, slot);
            }
        }
        Err(control::PinError::NotPinned) => raise_fmt(
            ERROR,
            0,
            format_args!("cannot unpin a segment that is not pinned"),
        ),
        Err(_) => raise_fmt(
            ERROR,
            0,
            format_args!("cannot unpin unknown segment handle"),
        ),
    }
}

/// `on_dsm_detach`: `function(seg, arg)` runs when `seg` is detached (newest first).
///
/// # Safety
/// `seg` live.
pub unsafe fn on_detach(seg: *mut dsm_segment, function: on_dsm_detach_callback, arg: Datum) {
    // SAFETY: TopMemoryContext is live; the item is written whole before it is linked; seg is
    // live as the caller promises.
    unsafe {
        let cb = mcxt::alloc_in(
            mcxt::TopMemoryContext,
            std::mem::size_of::<DetachCallback>(),
            0,
        )
        .cast::<DetachCallback>();
        cb.write(DetachCallback {
            next: (*seg).on_detach,
            function,
            arg,
        });
        (*seg).on_detach = cb;
    }
}

/// `cancel_on_dsm_detach`: removes the newest registration of (function, arg).
///
/// # Safety
/// `seg` live.
pub unsafe fn cancel_on_detach(
    seg: *mut dsm_segment,
    function: on_dsm_detach_callback,
    arg: Datum,
) {
    let same = |a: on_dsm_detach_callback| a.map(|f| f as usize) == function.map(|f| f as usize);
    // SAFETY: as the caller promises; the items are live.
    unsafe {
        let mut link: *mut *mut DetachCallback = &raw mut (*seg).on_detach;
        while !(*link).is_null() {
            let cb = *link;
            if same((*cb).function) && (*cb).arg == arg {
                *link = (*cb).next;
                mcxt::free(cb.cast());
                return;
            }
            link = &raw mut (*cb).next;
        }
    }
}

/// `reset_on_dsm_detach`: forgets every detach callback of every segment, and every reference
/// (a process about to leave without detaching, e.g. after fork).
pub fn reset_on_detach() {
    let mut s = LIST.0.head.get();
    while !s.is_null() {
        // SAFETY: descriptors on the list and their callback items are live.
        unsafe {
            while !(*s).on_detach.is_null() {
                let cb = (*s).on_detach;
                (*s).on_detach = (*cb).next;
                mcxt::free(cb.cast());
            }
            (*s).control_slot = NO_SLOT;
            s = (*s).next;
        }
    }
}

/// Resource owner release (`RESOURCE_RELEASE_BEFORE_LOCKS`): every segment `owner` holds is
/// detached; at commit each is a leak, with PostgreSQL's WARNING.
pub fn release_owner(owner: ResourceOwner, is_commit: bool) {
    loop {
        let mut s = LIST.0.head.get();
        // SAFETY: descriptors on the list are live.
        unsafe {
            while !s.is_null() && (*s).resowner != owner {
                s = (*s).next;
            }
        }
        if s.is_null() {
            return;
        }
        if is_commit {
            // SAFETY: live, as above.
            let h = unsafe { (*s).handle };
            report_fmt(
                WARNING,
                0,
                format_args!("dynamic shared memory leak: segment {h} still referenced"),
            );
        }
        // SAFETY: live, as above.
        unsafe { detach(s) };
    }
}

/// A resource owner is being deleted: its segments stay attached for the life of the process.
pub fn forget_owner(owner: ResourceOwner) {
    let mut s = LIST.0.head.get();
    while !s.is_null() {
        // SAFETY: descriptors on the list are live.
        unsafe {
            if (*s).resowner == owner {
                (*s).resowner = null_mut();
            }
            s = (*s).next;
        }
    }
}

// ---- references recorded in the PGPROC --------------------------------------------------------

fn refs_of(proc_: *mut PGPROC) -> &'static [AtomicU32] {
    // SAFETY: the array lies inside a PGPROC of the mapping; u32 and AtomicU32 have the same
    // layout, and other processes only touch it atomically.
    unsafe {
        std::slice::from_raw_parts(
            (&raw mut (*proc_)._bgw_dsm_refs).cast::<AtomicU32>(),
            BGW_PROC_DSM_REFS,
        )
    }
}

fn my_proc(main: &Segment) -> Option<*mut PGPROC> {
    // SAFETY: reading this process's own global.
    let p = unsafe { crate::pg::MyProc };
    (!p.is_null() && main.procno_of(p).is_some()).then_some(p)
}

fn remember_ref(main: &Segment, handle: dsm_handle) {
    if let Some(p) = my_proc(main) {
        for r in refs_of(p) {
            if r.load(Ordering::Relaxed) == 0 {
                r.store(handle, Ordering::Release);
                return;
            }
        }
    }
}

fn forget_ref(main: &Segment, handle: dsm_handle) {
    if let Some(p) = my_proc(main) {
        for r in refs_of(p) {
            if r.load(Ordering::Relaxed) == handle {
                r.store(0, Ordering::Release);
                return;
            }
        }
    }
}

/// Drops the references a dead process left in its PGPROC (the caller has made sure it is dead
/// and holds the PGPROC now).
pub fn release_refs_of_dead(main: &Segment, proc_: *mut PGPROC) {
    let items = main.dsm_items();
    for r in refs_of(proc_) {
        let handle = r.swap(0, Ordering::AcqRel);
        if handle == 0 {
            continue;
        }
        if let Some(slot) = control::index_of(items, handle) {
            if control::release(items, slot, handle) {
                destroy(main, slot);
            }
        }
    }
}

/// Takes over the PGPROCs of attached processes that died without giving them back, dropping
/// the DSM references they held; how many were found.
pub fn sweep_dead_procs(main: &Segment) -> usize {
    let mut n = 0;
    for i in main.first_extra_proc()..main.num_procs() {
        if crate::shmem::modules::reclaim_if_dead(main, i) {
            n += 1;
        }
    }
    n
}
