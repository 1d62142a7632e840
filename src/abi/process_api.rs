//! Exports: signals, exit and exit callbacks.

use crate::pg::types::*;
use crate::worker::{exit, signals};
use libc::c_int;

/// `pqsignal`: installs a handler with `SA_RESTART` and an empty mask; returns the previous one.
#[no_mangle]
pub extern "C" fn pqsignal(signo: c_int, func: pqsigfunc) -> pqsigfunc {
    export!(raises, pqsignal, { signals::pqsignal(signo, func) })
}

/// Blocks every signal but SIGQUIT and the synchronous ones (SIG-3).
#[no_mangle]
pub extern "C" fn BackgroundWorkerBlockSignals() {
    export!(raises, BackgroundWorkerBlockSignals, {
        signals::block_signals();
    })
}

/// Unblocks signals (SIGURG stays blocked for latch waits, SIG-3).
#[no_mangle]
pub extern "C" fn BackgroundWorkerUnblockSignals() {
    export!(raises, BackgroundWorkerUnblockSignals, {
        signals::unblock_signals();
    })
}

/// Runs the exit callbacks and exits with `code` (WEXIT-1).
#[no_mangle]
pub extern "C" fn proc_exit(code: c_int) -> ! {
    export!(raises, proc_exit, { exit::proc_exit(code) })
}

fn register(which: exit::Which, function: pg_on_exit_callback, arg: Datum) {
    if !exit::register(which, function, arg) {
        crate::pg::raise(FATAL, "out of on_shmem_exit slots");
    }
}

/// Registers a callback run at `proc_exit`, after the shared-memory ones.
#[no_mangle]
pub extern "C" fn on_proc_exit(function: pg_on_exit_callback, arg: Datum) {
    export!(raises, on_proc_exit, {
        register(exit::Which::OnProcExit, function, arg);
    })
}

/// Registers a callback run first at `proc_exit`.
#[no_mangle]
pub extern "C" fn before_shmem_exit(function: pg_on_exit_callback, arg: Datum) {
    export!(raises, before_shmem_exit, {
        register(exit::Which::BeforeShmemExit, function, arg);
    })
}

/// Registers a callback run at `proc_exit` after the `before_shmem_exit` ones.
#[no_mangle]
pub extern "C" fn on_shmem_exit(function: pg_on_exit_callback, arg: Datum) {
    export!(raises, on_shmem_exit, {
        register(exit::Which::OnShmemExit, function, arg);
    })
}

/// Removes the most recent `before_shmem_exit` callback if it matches.
#[no_mangle]
pub extern "C" fn cancel_before_shmem_exit(function: pg_on_exit_callback, arg: Datum) {
    export!(raises, cancel_before_shmem_exit, {
        exit::cancel_before_shmem_exit(function, arg);
    })
}

/// `procsignal_sigusr1_handler`: install it for SIGUSR1 to be woken (latch set) by notify
/// signals about the workers this process launched (NTF-7).
#[no_mangle]
pub extern "C" fn procsignal_sigusr1_handler(postgres_signal_arg: c_int) {
    export!(signal_safe, procsignal_sigusr1_handler, {
        signals::procsignal_sigusr1_handler(postgres_signal_arg);
    })
}

/// `pgstat_report_activity`: records what this worker is doing; `bgworkerctl status` shows it.
///
/// # Safety
/// `cmd_str` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pgstat_report_activity(state: BackendState, cmd_str: *const libc::c_char) {
    export!(boundary, pgstat_report_activity, (), {
        // SAFETY: as the caller promises.
        let text = unsafe { crate::pg::cstr(cmd_str) }.unwrap_or(b"");
        if let (Some(seg), Some(slot)) = (crate::shmem::current(), crate::worker::my_slot()) {
            crate::shmem::slots::report_activity(seg, slot, state, text);
        }
    })
}

/// `RecoveryInProgress`: always false. There is no WAL here and so no recovery: workers start
/// once the supervisor is running, as PostgreSQL starts them once recovery has finished.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn RecoveryInProgress() -> bool {
    export!(signal_safe, RecoveryInProgress, { false })
}

/// `set_ps_display`: the process title becomes `bgworker: [cluster_name: ]<name> <activity>`
/// (`ps`, `/proc/PID/cmdline`, `bgworkerctl status`). Nothing happens with
/// `update_process_title` off, or outside a process the supervisor started.
///
/// # Safety
/// `activity` NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn set_ps_display(activity: *const libc::c_char) {
    export!(raises, set_ps_display, {
        // SAFETY: plain bools of this process.
        if !unsafe { crate::pg::update_process_title && crate::pg::IsUnderPostmaster } {
            return;
        }
        // SAFETY: as the caller promises.
        let text = unsafe { crate::pg::cstr(activity) }.unwrap_or(b"");
        crate::worker::ps_title::set_activity(text);
    })
}

/// `get_ps_display`: the activity part of the title (NUL-terminated); its length in `*displen`.
///
/// # Safety
/// `displen` writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn get_ps_display(displen: *mut c_int) -> *const libc::c_char {
    export!(raises, get_ps_display, {
        let activity = crate::worker::ps_title::activity();
        if !displen.is_null() {
            // SAFETY: as the caller promises.
            unsafe { *displen = activity.len() as c_int };
        }
        activity.as_ptr().cast()
    })
}

/// `init_ps_display`: replaces the title's fixed part (`bgworker: [cluster_name: ]<fixed_part>`;
/// NULL: the process type's description), dropping any activity. Only in processes the
/// supervisor started.
///
/// # Safety
/// `fixed_part` NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn init_ps_display(fixed_part: *const libc::c_char) {
    export!(raises, init_ps_display, {
        // SAFETY: a plain bool of this process.
        if !unsafe { crate::pg::IsUnderPostmaster } {
            return;
        }
        // SAFETY: as the caller promises; MyBackendType is a plain int.
        let fixed = unsafe { crate::pg::cstr(fixed_part) }
            .unwrap_or_else(|| backend_type_desc(unsafe { crate::pg::MyBackendType }).to_bytes());
        let cluster = crate::guc::current().cluster_name;
        if cluster.is_empty() {
            crate::worker::ps_title::set_parts(&[b"bgworker: ", fixed]);
        } else {
            crate::worker::ps_title::set_parts(&[b"bgworker: ", cluster.as_bytes(), b": ", fixed]);
        }
    })
}

/// PostgreSQL 15's description of each `BackendType`.
fn backend_type_desc(t: c_int) -> &'static std::ffi::CStr {
    match t {
        0 => c"not initialized",
        1 => c"autovacuum launcher",
        2 => c"autovacuum worker",
        3 => c"client backend",
        4 => c"background worker",
        5 => c"background writer",
        6 => c"checkpointer",
        7 => c"startup",
        8 => c"walreceiver",
        9 => c"walsender",
        10 => c"walwriter",
        11 => c"archiver",
        12 => c"logger",
        _ => c"unknown process type",
    }
}

/// `GetBackendTypeDesc`: "background worker" for `B_BG_WORKER`, and so on.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn GetBackendTypeDesc(backendType: c_int) -> *const libc::c_char {
    export!(signal_safe, GetBackendTypeDesc, {
        backend_type_desc(backendType).as_ptr()
    })
}
