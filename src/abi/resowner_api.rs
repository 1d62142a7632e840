//! Exports: resource owners and release callbacks (`utils/resowner.h`; logic in
//! `crate::resowner`). Declared by hand in include/utils/resowner.h, as PostgreSQL 15 declares
//! them. Policy `raises`: callbacks run inside and may raise; misuse is an ERROR.

use crate::resowner::{self, ResourceOwner, ResourceReleaseCallback, ResourceReleasePhase};
use libc::{c_char, c_void};

/// `ResourceOwnerCreate`: a new owner under `parent` (NULL: a new root), allocated in
/// `TopMemoryContext`.
///
/// # Safety
/// `parent` NULL or live; `name` a constant string.
#[no_mangle]
pub unsafe extern "C" fn ResourceOwnerCreate(
    parent: ResourceOwner,
    name: *const c_char,
) -> ResourceOwner {
    export!(raises, ResourceOwnerCreate, {
        // SAFETY: as the caller promises.
        unsafe { resowner::create(parent, name) }
    })
}

/// `ResourceOwnerRelease`: releases `owner` and its descendants for one phase; each is current
/// while its release callbacks run.
///
/// # Safety
/// `owner` live.
#[no_mangle]
pub unsafe extern "C" fn ResourceOwnerRelease(
    owner: ResourceOwner,
    phase: ResourceReleasePhase,
    isCommit: bool,
    isTopLevel: bool,
) {
    export!(raises, ResourceOwnerRelease, {
        // SAFETY: as the caller promises.
        unsafe { resowner::release(owner, phase, isCommit, isTopLevel) }
    })
}

/// `ResourceOwnerDelete`: deletes `owner` and its descendants (not the current owner).
///
/// # Safety
/// `owner` live; not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ResourceOwnerDelete(owner: ResourceOwner) {
    export!(raises, ResourceOwnerDelete, {
        // SAFETY: as the caller promises.
        unsafe { resowner::delete(owner) }
    })
}

/// `ResourceOwnerGetParent`.
///
/// # Safety
/// `owner` live.
#[no_mangle]
pub unsafe extern "C" fn ResourceOwnerGetParent(owner: ResourceOwner) -> ResourceOwner {
    export!(raises, ResourceOwnerGetParent, {
        // SAFETY: as the caller promises.
        unsafe { resowner::parent(owner) }
    })
}

/// `ResourceOwnerNewParent`: moves `owner` under `newparent` (NULL: a root).
///
/// # Safety
/// Both live (or `newparent` NULL).
#[no_mangle]
pub unsafe extern "C" fn ResourceOwnerNewParent(owner: ResourceOwner, newparent: ResourceOwner) {
    export!(raises, ResourceOwnerNewParent, {
        // SAFETY: as the caller promises.
        unsafe { resowner::new_parent(owner, newparent) }
    })
}

/// `RegisterResourceReleaseCallback`: `callback` runs for every owner released, every phase.
#[no_mangle]
pub extern "C" fn RegisterResourceReleaseCallback(
    callback: ResourceReleaseCallback,
    arg: *mut c_void,
) {
    export!(raises, RegisterResourceReleaseCallback, {
        resowner::register_callback(callback, arg)
    })
}

/// `UnregisterResourceReleaseCallback`: removes a registration of (callback, arg).
#[no_mangle]
pub extern "C" fn UnregisterResourceReleaseCallback(
    callback: ResourceReleaseCallback,
    arg: *mut c_void,
) {
    export!(raises, UnregisterResourceReleaseCallback, {
        resowner::unregister_callback(callback, arg)
    })
}

/// `CreateAuxProcessResourceOwner`: a process-lifetime owner, made current and released at exit.
#[no_mangle]
pub extern "C" fn CreateAuxProcessResourceOwner() {
    export!(raises, CreateAuxProcessResourceOwner, {
        resowner::create_aux_process_owner()
    })
}

/// `ReleaseAuxProcessResources`: releases the process-lifetime owner (all phases).
#[no_mangle]
pub extern "C" fn ReleaseAuxProcessResources(isCommit: bool) {
    export!(raises, ReleaseAuxProcessResources, {
        resowner::release_aux_process_resources(isCommit)
    })
}
