//! Global variables modules read and write directly, with PostgreSQL 15's names and types.
//! Written only by the process that owns them (at start-up or from its own signal handlers).
#![allow(non_upper_case_globals)]

use super::types::{
    emit_log_hook_type, shmem_request_hook_type, shmem_startup_hook_type, BackgroundWorker, Latch,
    PGPROC,
};
use libc::{c_int, c_void, sigset_t};
use std::ptr::null_mut;

/// This worker's definition (a private copy), or NULL outside a worker.
#[no_mangle]
pub static mut MyBgworkerEntry: *mut BackgroundWorker = null_mut();
/// The latch this process waits on; set at worker entry.
#[no_mangle]
pub static mut MyLatch: *mut Latch = null_mut();
/// This process's pid.
#[no_mangle]
pub static mut MyProcPid: c_int = 0;
/// True only while `shared_preload_libraries` are being loaded into the supervisor.
#[no_mangle]
pub static mut process_shared_preload_libraries_in_progress: bool = false;
/// True in every process forked by the supervisor.
#[no_mangle]
pub static mut IsUnderPostmaster: bool = false;
/// True in a background worker.
#[no_mangle]
pub static mut IsBackgroundWorker: bool = false;

// The process's identity (`miscadmin.h`), declared by hand there with PostgreSQL's types.

/// What kind of process this is (`BackendType`): `B_BG_WORKER` (4) in a worker, `B_INVALID` (0)
/// in the supervisor and other processes, as in PostgreSQL 15 (whose postmaster has no type).
/// cbindgen:ignore
#[no_mangle]
pub static mut MyBackendType: c_int = B_INVALID;
/// When this process started (`pg_time_t`, seconds since 1970).
/// cbindgen:ignore
#[no_mangle]
pub static mut MyStartTime: i64 = 0;
/// When this process started (`TimestampTz`, microseconds since 2000).
/// cbindgen:ignore
#[no_mangle]
pub static mut MyStartTimestamp: i64 = 0;
/// The supervisor's pid, in it and in every process it started (0 elsewhere).
/// cbindgen:ignore
#[no_mangle]
pub static mut PostmasterPid: libc::pid_t = 0;
/// True in the supervisor and the processes it started.
/// cbindgen:ignore
#[no_mangle]
pub static mut IsPostmasterEnvironment: bool = false;
/// The data directory, an absolute path (NULL outside the supervisor and its processes).
/// cbindgen:ignore
#[no_mangle]
pub static mut DataDir: *mut libc::c_char = null_mut();
/// Always false: there is no binary upgrade here.
/// cbindgen:ignore
#[no_mangle]
pub static mut IsBinaryUpgrade: bool = false;

/// Whether `set_ps_display` changes the process title (the `update_process_title` setting).
/// cbindgen:ignore
#[no_mangle]
pub static mut update_process_title: bool = true;

/// PostgreSQL 15's `BackendType` values this library uses.
/// cbindgen:ignore
pub const B_INVALID: c_int = 0;
/// cbindgen:ignore
pub const B_BG_WORKER: c_int = 4;

/// Sets `MyStartTime` and `MyStartTimestamp` to now (at the start of a process, as PostgreSQL's
/// `InitProcessGlobals`). Allocates nothing.
pub fn set_start_time() {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the local; the globals belong to this single-threaded process.
    unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts);
        let stamp = (ts.tv_sec - 946_684_800) * 1_000_000 + ts.tv_nsec / 1000;
        MyStartTimestamp = stamp;
        // timestamptz_to_time_t: whole seconds, rounded down.
        MyStartTime = stamp.div_euclid(1_000_000) + 946_684_800;
    }
}
/// The `max_worker_processes` setting.
#[no_mangle]
pub static mut max_worker_processes: c_int = 8;
/// The `max_parallel_workers` setting.
#[no_mangle]
pub static mut max_parallel_workers: c_int = 8;
/// The `max_files_per_process` setting (`storage/fd.h`): bounds the files a process opens with
/// `AllocateFile` and friends. Declared by hand there.
/// cbindgen:ignore
#[no_mangle]
pub static mut max_files_per_process: c_int = 1000;
/// Signals blocked while a worker runs its start-up code: all but SIGQUIT and the synchronous ones.
#[no_mangle]
// SAFETY: an all-zero sigset_t is the empty set.
pub static mut BlockSig: sigset_t = unsafe { std::mem::zeroed() };
/// Signals blocked once a worker unblocks: only SIGURG (it is read from a signalfd by latch waits).
#[no_mangle]
// SAFETY: as above.
pub static mut UnBlockSig: sigset_t = unsafe { std::mem::zeroed() };
/// The innermost `PG_TRY` block's jump buffer (`sigjmp_buf *`), or NULL.
#[no_mangle]
pub static mut PG_exception_stack: *mut c_void = null_mut();
/// The error context callback chain (`ErrorContextCallback *`).
#[no_mangle]
pub static mut error_context_stack: *mut c_void = null_mut();
/// Called with every report about to be written to the log; it may clear `output_to_server`.
#[no_mangle]
pub static mut emit_log_hook: emit_log_hook_type = None;

// Interrupt flags (`miscadmin.h`, `postmaster/interrupt.h`). PostgreSQL declares them
// `volatile sig_atomic_t` / `volatile uint32`; the compat headers declare them that way by hand
// (cbindgen cannot say `volatile`), and Rust touches them only with volatile accesses.

/// Set by signal handlers when `CHECK_FOR_INTERRUPTS()` has work.
#[no_mangle]
pub static mut InterruptPending: c_int = 0;
/// Set by `die`: the next `CHECK_FOR_INTERRUPTS()` ends the worker (FATAL).
#[no_mangle]
pub static mut ProcDiePending: c_int = 0;
/// Set by a cancel request: the next `CHECK_FOR_INTERRUPTS()` raises ERROR.
#[no_mangle]
pub static mut QueryCancelPending: c_int = 0;
/// Set by `SignalHandlerForConfigReload`; the module clears it and calls `ProcessConfigFile`.
#[no_mangle]
pub static mut ConfigReloadPending: c_int = 0;
/// Set by `SignalHandlerForShutdownRequest`.
#[no_mangle]
pub static mut ShutdownRequestPending: c_int = 0;
/// While non-zero, `ProcessInterrupts` does nothing (`HOLD_INTERRUPTS()`).
#[no_mangle]
pub static mut InterruptHoldoffCount: u32 = 0;
/// While non-zero, cancel requests wait (`HOLD_CANCEL_INTERRUPTS()`).
#[no_mangle]
pub static mut QueryCancelHoldoffCount: u32 = 0;
/// Inside a critical section an ERROR becomes PANIC (`START_CRIT_SECTION()`).
#[no_mangle]
pub static mut CritSectionCount: u32 = 0;

/// Where `pgstat_report_wait_start()` (a header inline in PostgreSQL) writes the current wait
/// event: a worker's own slot in shared memory, so `bgworkerctl status` can show it.
#[no_mangle]
pub static mut my_wait_event_info: *mut u32 = &raw mut LOCAL_WAIT_EVENT;
static mut LOCAL_WAIT_EVENT: u32 = 0;

// Shared memory for modules (`storage/ipc.h`, `storage/proc.h`, `storage/lwlock.h`).

/// Called in the supervisor after the preloaded libraries, before shared memory is made; the
/// only place `RequestAddinShmemSpace` and `RequestNamedLWLockTranche` may be called.
#[no_mangle]
pub static mut shmem_request_hook: shmem_request_hook_type = None;
/// Called after shared memory is made (and again after every crash re-initialisation).
#[no_mangle]
pub static mut shmem_startup_hook: shmem_startup_hook_type = None;
/// True while `shmem_request_hook` runs.
#[no_mangle]
pub static mut process_shmem_requests_in_progress: bool = false;
/// This worker's PGPROC (NULL outside workers).
#[no_mangle]
pub static mut MyProc: *mut PGPROC = null_mut();
/// The main LWLock array (`LWLockPadded *`; declared in storage/lwlock.h), in the segment.
#[no_mangle]
pub static mut MainLWLockArray: *mut c_void = null_mut();

// The database a worker is connected to (`miscadmin.h`).

/// The connected database's OID (`InvalidOid` until `BackgroundWorkerInitializeConnection`).
#[no_mangle]
pub static mut MyDatabaseId: super::types::Oid = 0;
/// The connected database's default tablespace (`pg_database.dattablespace`), 0 until then.
#[no_mangle]
pub static mut MyDatabaseTableSpace: super::types::Oid = 0;

// Transaction characteristics (`access/xact.h`), with PostgreSQL's values: XACT_READ_UNCOMMITTED
// 0, XACT_READ_COMMITTED 1, XACT_REPEATABLE_READ 2, XACT_SERIALIZABLE 3.

/// The `default_transaction_isolation` setting: the database session's, read when the worker
/// connects; each transaction starts with it.
#[no_mangle]
pub static mut DefaultXactIsoLevel: libc::c_int = 1;
/// The current transaction's isolation level; set it before the transaction's first statement.
#[no_mangle]
pub static mut XactIsoLevel: libc::c_int = 1;
/// The `default_transaction_read_only` setting (the session's).
#[no_mangle]
pub static mut DefaultXactReadOnly: bool = false;
/// Whether the current transaction is read only.
#[no_mangle]
pub static mut XactReadOnly: bool = false;
/// The `default_transaction_deferrable` setting (the session's).
#[no_mangle]
pub static mut DefaultXactDeferrable: bool = false;
/// Whether the current transaction is deferrable.
#[no_mangle]
pub static mut XactDeferrable: bool = false;
