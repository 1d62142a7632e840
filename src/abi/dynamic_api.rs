//! Exports: dynamic registration, handles, attaching from outside the supervisor.

use super::boundary;
use crate::pg::types::*;
use crate::pg::{cstr, make_sqlstate, raise_with_code};
use crate::registry::dynamic::{self, Until};
use libc::{c_char, pid_t};

/// SQLSTATE 22023, invalid_parameter_value (DYN-2).
const INVALID_PARAMETER_VALUE: libc::c_int = make_sqlstate(b"22023");

fn handle_parts(handle: *mut BackgroundWorkerHandle) -> Option<(usize, u64)> {
    // SAFETY: handles are NULL or came from RegisterDynamicBackgroundWorker.
    unsafe { handle.as_ref() }.map(|h| (h.slot, h.generation))
}

/// `RegisterDynamicBackgroundWorker`: registers a worker from a worker or an attached process.
/// An invalid definition is an ERROR (SQLSTATE 22023); false when no slot is free, the parallel
/// limit is reached, or the caller is not under a supervisor. On success `*handle` (if not
/// NULL) receives a `palloc`'d handle.
///
/// # Safety
/// `worker` must point to a writable definition; `handle` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn RegisterDynamicBackgroundWorker(
    worker: *mut BackgroundWorker,
    handle: *mut *mut BackgroundWorkerHandle,
) -> bool {
    export!(raises, RegisterDynamicBackgroundWorker, {
        let outcome = boundary("RegisterDynamicBackgroundWorker", Ok(None), || {
            // SAFETY: the caller passes a valid definition (NULL is refused).
            match unsafe { worker.as_mut() } {
                Some(def) => dynamic::register(def),
                None => Ok(None),
            }
        });
        match outcome {
            Ok(Some((slot, generation))) => {
                if !handle.is_null() {
                    let h = crate::mcxt::alloc(std::mem::size_of::<BackgroundWorkerHandle>(), false)
                        as *mut BackgroundWorkerHandle;
                    // SAFETY: h is fresh memory of the right size; handle is writable.
                    unsafe {
                        h.write(BackgroundWorkerHandle { slot, generation });
                        *handle = h;
                    }
                }
                true
            }
            Ok(None) => false,
            Err(message) => raise_with_code(ERROR, INVALID_PARAMETER_VALUE, &message),
        }
    })
}

/// `GetBackgroundWorkerPid`: STARTED (with `*pidp`), NOT_YET_STARTED or STOPPED (HND-1).
///
/// # Safety
/// `handle` must come from `RegisterDynamicBackgroundWorker`; `pidp` must be writable.
#[no_mangle]
pub unsafe extern "C" fn GetBackgroundWorkerPid(
    handle: *mut BackgroundWorkerHandle,
    pidp: *mut pid_t,
) -> BgwHandleStatus {
    export!(raises, GetBackgroundWorkerPid, {
        let Some((slot, generation)) = handle_parts(handle) else {
            return BgwHandleStatus::BGWH_STOPPED;
        };
        let (status, pid) = dynamic::status(slot, generation);
        if status == BgwHandleStatus::BGWH_STARTED && !pidp.is_null() {
            // SAFETY: writable, as the caller promises.
            unsafe { *pidp = pid };
        }
        status
    })
}

/// `WaitForBackgroundWorkerStartup`: STARTED (with `*pidp`), STOPPED or POSTMASTER_DIED (HND-4).
///
/// # Safety
/// As for `GetBackgroundWorkerPid`.
#[no_mangle]
pub unsafe extern "C" fn WaitForBackgroundWorkerStartup(
    handle: *mut BackgroundWorkerHandle,
    pidp: *mut pid_t,
) -> BgwHandleStatus {
    export!(
        boundary,
        WaitForBackgroundWorkerStartup,
        BgwHandleStatus::BGWH_STOPPED,
        {
            let Some((slot, generation)) = handle_parts(handle) else {
                return BgwHandleStatus::BGWH_STOPPED;
            };
            let (status, pid) = dynamic::wait(slot, generation, Until::Started);
            if status == BgwHandleStatus::BGWH_STARTED && !pidp.is_null() {
                // SAFETY: writable, as the caller promises.
                unsafe { *pidp = pid };
            }
            status
        }
    )
}

/// `WaitForBackgroundWorkerShutdown`: STOPPED or POSTMASTER_DIED (HND-7).
///
/// # Safety
/// `handle` must come from `RegisterDynamicBackgroundWorker`.
#[no_mangle]
pub unsafe extern "C" fn WaitForBackgroundWorkerShutdown(
    handle: *mut BackgroundWorkerHandle,
) -> BgwHandleStatus {
    export!(
        boundary,
        WaitForBackgroundWorkerShutdown,
        BgwHandleStatus::BGWH_STOPPED,
        {
            let Some((slot, generation)) = handle_parts(handle) else {
                return BgwHandleStatus::BGWH_STOPPED;
            };
            dynamic::wait(slot, generation, Until::Stopped).0
        }
    )
}

/// `TerminateBackgroundWorker`: asks the supervisor to stop the worker and not restart it; no
/// effect on a stale handle (HND-8..10).
///
/// # Safety
/// `handle` must come from `RegisterDynamicBackgroundWorker`.
#[no_mangle]
pub unsafe extern "C" fn TerminateBackgroundWorker(handle: *mut BackgroundWorkerHandle) {
    export!(boundary, TerminateBackgroundWorker, (), {
        if let Some((slot, generation)) = handle_parts(handle) {
            dynamic::terminate(slot, generation)
        }
    })
}

static mut TYPE_BUFFER: [c_char; BGW_MAXLEN] = [0; BGW_MAXLEN];

/// `GetBackgroundWorkerTypeByPid`: the `bgw_type` of the worker with this pid, in a static
/// buffer, or NULL (HND-11).
#[no_mangle]
pub extern "C" fn GetBackgroundWorkerTypeByPid(pid: pid_t) -> *const c_char {
    export!(boundary, GetBackgroundWorkerTypeByPid, std::ptr::null(), {
        match dynamic::type_by_pid(pid) {
            Some(t) => {
                // SAFETY: the static buffer is this process's, as in PostgreSQL (not thread-safe).
                unsafe {
                    let buf = &raw mut TYPE_BUFFER;
                    *buf = t;
                    buf.cast()
                }
            }
            None => std::ptr::null(),
        }
    })
}

/// Extension: attaches this process to the `bgworkerd` running on `datadir`, so it can register
/// dynamic workers and wait on their handles. Same user only. Installs a latch (`MyLatch`), a
/// SIGUSR1 handler that sets it, and blocks SIGURG in the calling thread (see the README).
/// Returns false, with a WARNING saying why, when the supervisor is missing, dead, another
/// user's, or of an incompatible version.
///
/// # Safety
/// `datadir` must be a NUL-terminated path.
#[no_mangle]
pub unsafe extern "C" fn BackgroundWorkerAttach(datadir: *const c_char) -> bool {
    export!(boundary, BackgroundWorkerAttach, false, {
        // SAFETY: as the caller promises.
        let Some(dir) = (unsafe { cstr(datadir) }) else {
            return false;
        };
        let dir = std::path::PathBuf::from(std::ffi::OsStr::new(
            std::str::from_utf8(dir).unwrap_or_default(),
        ));
        crate::worker::attach::attach_to(&dir)
    })
}
