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
