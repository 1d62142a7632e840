//! Exports: shared memory for modules — PostgreSQL 15's request/startup hooks,
//! `RequestAddinShmemSpace`, `ShmemInitStruct`, named LWLock tranches, `MyProc` and
//! `BackendPidGetProc`.

use super::boundary;
use crate::pg::globals::*;
use crate::pg::types::*;
use crate::pg::{cstr, make_sqlstate, raise, raise_with_code};
use crate::shmem::modules::{self, InitError, REQUESTS};
use libc::{c_char, c_int, c_void};

fn in_request_hook(what: &str) {
    // SAFETY: reading a bool global of this process.
    if !unsafe { process_shmem_requests_in_progress } {
        raise(
            FATAL,
            &format!("cannot request additional shared memory outside shmem_request_hook ({what})"),
        );
    }
}

/// `RequestAddinShmemSpace`: reserves `size` bytes for `ShmemInitStruct` (request hook only).
#[no_mangle]
pub extern "C" fn RequestAddinShmemSpace(size: usize) {
    export!(raises, RequestAddinShmemSpace, {
        in_request_hook("RequestAddinShmemSpace");
        let mut r = REQUESTS.lock();
        r.addin_size += modules::round(size as u64);
    })
}

/// `RequestNamedLWLockTranche`: reserves `num_lwlocks` locks under `tranche_name`.
///
/// # Safety
/// `tranche_name` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn RequestNamedLWLockTranche(
    tranche_name: *const c_char,
    num_lwlocks: c_int,
) {
    export!(raises, RequestNamedLWLockTranche, {
        in_request_hook("RequestNamedLWLockTranche");
        // SAFETY: as the caller promises.
        let name = unsafe { cstr(tranche_name) }.unwrap_or(b"");
        let name = String::from_utf8_lossy(name).into_owned();
        REQUESTS
            .lock()
            .tranches
            .push((name, num_lwlocks.max(0) as u32));
    })
}

/// `GetNamedLWLockTranche`: the first of the tranche's locks (`LWLockPadded *`).
///
/// # Safety
/// `tranche_name` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn GetNamedLWLockTranche(tranche_name: *const c_char) -> *mut c_void {
    export!(raises, GetNamedLWLockTranche, {
        // SAFETY: as the caller promises.
        let name = unsafe { cstr(tranche_name) }.unwrap_or(b"");
        let found = crate::shmem::current().and_then(|seg| modules::named_tranche(seg, name));
        match found {
            Some(p) => p.cast(),
            None => raise(
                ERROR,
                &format!(
                    "requested tranche is not registered: \"{}\"",
                    String::from_utf8_lossy(name)
                ),
            ),
        }
    })
}

/// `ShmemInitStruct`: the shared structure `name` of `size` bytes, made zeroed on first use
/// (`*foundPtr` false) or found (true). ERROR when it would exceed what modules requested, or
/// when an existing one has another size.
///
/// # Safety
/// `name` must be NUL-terminated; `foundPtr` writable.
#[no_mangle]
pub unsafe extern "C" fn ShmemInitStruct(
    name: *const c_char,
    size: usize,
    foundPtr: *mut bool,
) -> *mut c_void {
    export!(raises, ShmemInitStruct, {
        // SAFETY: as the caller promises.
        let key = unsafe { cstr(name) }.unwrap_or(b"").to_vec();
        let shown = String::from_utf8_lossy(&key).into_owned();
        let outcome =
            boundary(
                "ShmemInitStruct",
                Err(InitError::NoSegment),
                || match crate::shmem::current() {
                    Some(seg) => modules::init_struct(seg, &key, size as u64),
                    None => Err(InitError::NoSegment),
                },
            );
        let message = match outcome {
        Ok((p, found)) => {
            if !foundPtr.is_null() {
                // SAFETY: writable, as the caller promises.
                unsafe { *foundPtr = found };
            }
            return p.cast();
        }
        Err(InitError::NoSegment) => {
            format!("no shared memory in this process for data structure \"{shown}\"")
        }
        Err(InitError::WrongSize { expected, actual }) => format!(
            "ShmemIndex entry size is wrong for data structure \"{shown}\": expected {expected}, actual {actual}"
        ),
        Err(InitError::OutOfSpace { requested }) => format!(
            "not enough shared memory for data structure \"{shown}\" ({requested} bytes requested)"
        ),
        Err(InitError::IndexFull) => {
            format!("could not create ShmemIndex entry for data structure \"{shown}\"")
        }
    };
        drop(key);
        raise_with_code(ERROR, make_sqlstate(b"53200"), &message)
    })
}

/// `BackendPidGetProc`: the PGPROC of the worker running as `pid`, or NULL.
#[no_mangle]
pub extern "C" fn BackendPidGetProc(pid: c_int) -> *mut PGPROC {
    export!(raises, BackendPidGetProc, {
        crate::shmem::current().map_or(std::ptr::null_mut(), |seg| modules::proc_by_pid(seg, pid))
    })
}
