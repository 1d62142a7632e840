//! Resource owners (`utils/resowner.h`): PostgreSQL's tree of owners, released phase by phase,
//! with the callbacks modules register to free their own resources at each phase.
//!
//! PostgreSQL's owners track buffers, relation and catalog references, snapshots, virtual files,
//! DSM segments and the like; of those only DSM segments exist in this process (the database is
//! reached through a client connection): a segment created or attached while an owner is
//! current belongs to it and is detached when it is released (`crate::dsm::segment`). Otherwise
//! an owner holds its place in the tree and runs the release callbacks. Files from `AllocateFile` belong to the transaction, not to an owner, as
//! in PostgreSQL. `TopTransactionResourceOwner` is made at the start of each transaction and
//! released at its end (see `crate::eoxact`).

use crate::mcxt::{self, TopMemoryContext};
use crate::pg::types::{Datum, ERROR};
use crate::pg::{raise_fmt, Text};
use libc::{c_char, c_int, c_void};
use std::ffi::CStr;
use std::ptr::null_mut;

/// An owner. Opaque to modules (PostgreSQL's is too).
pub struct ResourceOwnerData {
    parent: *mut ResourceOwnerData,
    firstchild: *mut ResourceOwnerData,
    nextchild: *mut ResourceOwnerData,
    /// A constant string, as in PostgreSQL.
    name: *const c_char,
}

/// `ResourceOwner`.
pub type ResourceOwner = *mut ResourceOwnerData;

/// `ResourceReleasePhase` (an enum in PostgreSQL; an `int` here).
pub type ResourceReleasePhase = c_int;
pub const RESOURCE_RELEASE_BEFORE_LOCKS: ResourceReleasePhase = 0;
pub const RESOURCE_RELEASE_LOCKS: ResourceReleasePhase = 1;
pub const RESOURCE_RELEASE_AFTER_LOCKS: ResourceReleasePhase = 2;

/// `ResourceReleaseCallback`.
pub type ResourceReleaseCallback = Option<
    unsafe extern "C" fn(
        phase: ResourceReleasePhase,
        isCommit: bool,
        isTopLevel: bool,
        arg: *mut c_void,
    ),
>;

/// The owner resources are charged to now; NULL outside a transaction unless the module set it.
#[no_mangle]
pub static mut CurrentResourceOwner: ResourceOwner = null_mut();
/// The current (sub)transaction's owner (NULL outside a transaction).
#[no_mangle]
pub static mut CurTransactionResourceOwner: ResourceOwner = null_mut();
/// The top-level transaction's owner (NULL outside a transaction).
#[no_mangle]
pub static mut TopTransactionResourceOwner: ResourceOwner = null_mut();
/// The process-lifetime owner `CreateAuxProcessResourceOwner` makes (else NULL).
#[no_mangle]
pub static mut AuxProcessResourceOwner: ResourceOwner = null_mut();

/// One registered callback, `palloc`'d in `TopMemoryContext` (a list a callback may change
/// while it is walked: the next item is read before each call).
struct CallbackItem {
    next: *mut CallbackItem,
    callback: ResourceReleaseCallback,
    arg: *mut c_void,
}

static mut CALLBACKS: *mut CallbackItem = null_mut();

fn name_of(owner: ResourceOwner) -> Text<'static> {
    // SAFETY: owner is live; its name is NULL or a constant string.
    unsafe {
        let name = (*owner).name;
        Text(if name.is_null() {
            b"(unnamed)"
        } else {
            CStr::from_ptr(name).to_bytes()
        })
    }
}

fn error(args: std::fmt::Arguments<'_>) -> ! {
    raise_fmt(ERROR, 0, args)
}

fn check_not_null(function: &str, owner: ResourceOwner) {
    if owner.is_null() {
        error(format_args!("{function}: the resource owner is NULL"));
    }
}

/// `ResourceOwnerCreate`: a new owner under `parent` (NULL: a new root).
///
/// # Safety
/// `parent` NULL or a live owner; `name` a string that outlives the owner.
pub unsafe fn create(parent: ResourceOwner, name: *const c_char) -> ResourceOwner {
    // SAFETY: TopMemoryContext is live; the chunk is sized and aligned for the struct.
    unsafe {
        let owner = mcxt::alloc_in(
            TopMemoryContext,
            std::mem::size_of::<ResourceOwnerData>(),
            0,
        )
        .cast::<ResourceOwnerData>();
        owner.write(ResourceOwnerData {
            parent: null_mut(),
            firstchild: null_mut(),
            nextchild: null_mut(),
            name,
        });
        if !parent.is_null() {
            link(owner, parent);
        }
        owner
    }
}

/// Makes `owner` (unlinked) the first child of `parent`.
///
/// # Safety
/// Both live.
unsafe fn link(owner: ResourceOwner, parent: ResourceOwner) {
    // SAFETY: as the caller promises.
    unsafe {
        (*owner).parent = parent;
        (*owner).nextchild = (*parent).firstchild;
        (*parent).firstchild = owner;
    }
}

/// Takes `owner` out of its parent's children.
///
/// # Safety
/// `owner` live.
unsafe fn unlink(owner: ResourceOwner) {
    // SAFETY: as the caller promises; siblings are live.
    unsafe {
        let parent = (*owner).parent;
        if !parent.is_null() {
            if (*parent).firstchild == owner {
                (*parent).firstchild = (*owner).nextchild;
            } else {
                let mut c = (*parent).firstchild;
                while !c.is_null() {
                    if (*c).nextchild == owner {
                        (*c).nextchild = (*owner).nextchild;
                        break;
                    }
                    c = (*c).nextchild;
                }
            }
        }
        (*owner).parent = null_mut();
        (*owner).nextchild = null_mut();
    }
}

/// Whether `node` is `root` or below it.
///
/// # Safety
/// Both live (or `node` NULL).
unsafe fn within(mut node: ResourceOwner, root: ResourceOwner) -> bool {
    // SAFETY: parents of live owners are live.
    unsafe {
        while !node.is_null() {
            if node == root {
                return true;
            }
            node = (*node).parent;
        }
    }
    false
}

/// `ResourceOwnerRelease`: releases `owner` and its descendants for `phase` (children first);
/// while each is released it is `CurrentResourceOwner` and every registered callback runs.
///
/// # Safety
/// `owner` live.
pub unsafe fn release(
    owner: ResourceOwner,
    phase: ResourceReleasePhase,
    is_commit: bool,
    is_top: bool,
) {
    check_not_null("ResourceOwnerRelease", owner);
    if !(RESOURCE_RELEASE_BEFORE_LOCKS..=RESOURCE_RELEASE_AFTER_LOCKS).contains(&phase) {
        error(format_args!(
            "ResourceOwnerRelease: {phase} is not a release phase (0, 1 or 2)"
        ));
    }
    // SAFETY: as the caller promises.
    unsafe { release_tree(owner, phase, is_commit, is_top) }
}

/// # Safety
/// `owner` live.
unsafe fn release_tree(
    owner: ResourceOwner,
    phase: ResourceReleasePhase,
    is_commit: bool,
    is_top: bool,
) {
    // SAFETY: owners and callback items are live; a callback may change the callback list,
    // so each item's successor is read before it runs.
    unsafe {
        let mut child = (*owner).firstchild;
        while !child.is_null() {
            release_tree(child, phase, is_commit, is_top);
            child = (*child).nextchild;
        }
        let saved = CurrentResourceOwner;
        CurrentResourceOwner = owner;
        if phase == RESOURCE_RELEASE_BEFORE_LOCKS {
            // As PostgreSQL: the owner's DSM segments are detached in this phase, before the
            // modules' callbacks run.
            crate::dsm::segment::release_owner(owner, is_commit);
        }
        let mut item = CALLBACKS;
        while !item.is_null() {
            let next = (*item).next;
            if let Some(f) = (*item).callback {
                f(phase, is_commit, is_top, (*item).arg);
            }
            item = next;
        }
        CurrentResourceOwner = saved;
    }
}

/// `ResourceOwnerDelete`: deletes `owner` and its descendants. Deleting the current owner (or
/// an ancestor of it) is an ERROR, and changes nothing.
///
/// # Safety
/// `owner` live; not used afterwards.
pub unsafe fn delete(owner: ResourceOwner) {
    check_not_null("ResourceOwnerDelete", owner);
    // SAFETY: as the caller promises.
    unsafe {
        if within(CurrentResourceOwner, owner) {
            error(format_args!(
                "ResourceOwnerDelete: \"{}\" is (or holds) CurrentResourceOwner; switch to \
                 another owner first",
                name_of(owner)
            ));
        }
        delete_tree(owner);
    }
}

/// # Safety
/// `owner` live.
unsafe fn delete_tree(owner: ResourceOwner) {
    // SAFETY: as the caller promises; each child unlinks itself before it is freed.
    unsafe {
        while !(*owner).firstchild.is_null() {
            delete_tree((*owner).firstchild);
        }
        unlink(owner);
        crate::dsm::segment::forget_owner(owner);
        for global in [
            &raw mut TopTransactionResourceOwner,
            &raw mut CurTransactionResourceOwner,
            &raw mut AuxProcessResourceOwner,
        ] {
            if *global == owner {
                *global = null_mut();
            }
        }
        mcxt::free(owner.cast());
    }
}

/// `ResourceOwnerGetParent`.
///
/// # Safety
/// `owner` live.
pub unsafe fn parent(owner: ResourceOwner) -> ResourceOwner {
    check_not_null("ResourceOwnerGetParent", owner);
    // SAFETY: as the caller promises.
    unsafe { (*owner).parent }
}

/// `ResourceOwnerNewParent`: moves `owner` under `new_parent` (NULL: a root). A move under its
/// own subtree is an ERROR.
///
/// # Safety
/// Both live (or `new_parent` NULL).
pub unsafe fn new_parent(owner: ResourceOwner, new_parent: ResourceOwner) {
    check_not_null("ResourceOwnerNewParent", owner);
    // SAFETY: as the caller promises.
    unsafe {
        if within(new_parent, owner) {
            error(format_args!(
                "ResourceOwnerNewParent: \"{}\" cannot become a child of itself or of its own \
                 descendant",
                name_of(owner)
            ));
        }
        unlink(owner);
        if !new_parent.is_null() {
            link(owner, new_parent);
        }
    }
}

/// `RegisterResourceReleaseCallback`: `callback(phase, isCommit, isTopLevel, arg)` runs for every
/// owner released, in every phase (the newest registration first).
pub fn register_callback(callback: ResourceReleaseCallback, arg: *mut c_void) {
    // SAFETY: TopMemoryContext is live; the item is written before it is linked.
    unsafe {
        let item = mcxt::alloc_in(TopMemoryContext, std::mem::size_of::<CallbackItem>(), 0)
            .cast::<CallbackItem>();
        item.write(CallbackItem {
            next: CALLBACKS,
            callback,
            arg,
        });
        CALLBACKS = item;
    }
}

/// `UnregisterResourceReleaseCallback`: removes the newest registration of (callback, arg).
pub fn unregister_callback(callback: ResourceReleaseCallback, arg: *mut c_void) {
    let same = |a: ResourceReleaseCallback, b: ResourceReleaseCallback| {
        a.map(|f| f as usize) == b.map(|f| f as usize)
    };
    // SAFETY: the items are live chunks of this list.
    unsafe {
        let mut prev: *mut CallbackItem = null_mut();
        let mut item = CALLBACKS;
        while !item.is_null() {
            if same((*item).callback, callback) && (*item).arg == arg {
                if prev.is_null() {
                    CALLBACKS = (*item).next;
                } else {
                    (*prev).next = (*item).next;
                }
                mcxt::free(item.cast());
                return;
            }
            prev = item;
            item = (*item).next;
        }
    }
}

/// Releases `owner` in the three phases, in order.
///
/// # Safety
/// `owner` live.
pub unsafe fn release_all_phases(owner: ResourceOwner, is_commit: bool) {
    for phase in [
        RESOURCE_RELEASE_BEFORE_LOCKS,
        RESOURCE_RELEASE_LOCKS,
        RESOURCE_RELEASE_AFTER_LOCKS,
    ] {
        // SAFETY: as the caller promises.
        unsafe { release(owner, phase, is_commit, true) };
    }
}

/// `CreateAuxProcessResourceOwner`: a process-lifetime owner, made current, released when the
/// process exits. Only when there is neither one yet nor a current owner (ERROR otherwise).
pub fn create_aux_process_owner() {
    // SAFETY: the globals belong to this (single-threaded) process.
    unsafe {
        if !AuxProcessResourceOwner.is_null() || !CurrentResourceOwner.is_null() {
            error(format_args!(
                "CreateAuxProcessResourceOwner: this process already has a resource owner"
            ));
        }
        let owner = create(null_mut(), c"AuxiliaryProcess".as_ptr());
        AuxProcessResourceOwner = owner;
        CurrentResourceOwner = owner;
    }
    if !crate::worker::exit::register(
        crate::worker::exit::Which::OnShmemExit,
        Some(release_aux_at_exit),
        0,
    ) {
        raise_fmt(
            crate::pg::types::FATAL,
            0,
            format_args!("out of on_shmem_exit slots"),
        );
    }
}

/// `ReleaseAuxProcessResources`: releases the process-lifetime owner (all phases).
pub fn release_aux_process_resources(is_commit: bool) {
    // SAFETY: a plain pointer global of this process.
    let owner = unsafe { AuxProcessResourceOwner };
    if !owner.is_null() {
        // SAFETY: a live owner made by create_aux_process_owner.
        unsafe { release_all_phases(owner, is_commit) };
    }
}

extern "C" fn release_aux_at_exit(code: c_int, _arg: Datum) {
    release_aux_process_resources(code == 0);
}

/// The start of a transaction: a new `TopTransactionResourceOwner`, also the current
/// transaction's and the current owner (as PostgreSQL's `StartTransaction`).
pub fn at_start_of_transaction() {
    // SAFETY: the globals belong to this (single-threaded) process.
    unsafe {
        let owner = create(null_mut(), c"TopTransaction".as_ptr());
        TopTransactionResourceOwner = owner;
        CurTransactionResourceOwner = owner;
        CurrentResourceOwner = owner;
    }
}

/// The end of a transaction, first step: its owner is released in the three phases (callbacks
/// see `isCommit`).
pub fn release_transaction_owner(is_commit: bool) {
    // SAFETY: a plain pointer global of this process; the owner is live until deleted.
    unsafe {
        let owner = TopTransactionResourceOwner;
        if !owner.is_null() {
            release_all_phases(owner, is_commit);
        }
    }
}

/// The end of a transaction, last step: there is no current owner any more and the
/// transaction's owner is deleted (as PostgreSQL's `CommitTransaction` and
/// `CleanupTransaction` leave it).
pub fn delete_transaction_owner() {
    // SAFETY: the globals belong to this process; the owner is live until deleted here.
    unsafe {
        let owner = TopTransactionResourceOwner;
        CurrentResourceOwner = null_mut();
        if !owner.is_null() {
            delete_tree(owner);
        }
    }
}
