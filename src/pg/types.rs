//! Every C-visible type and constant of PostgreSQL 15's background-worker API, laid out exactly as
//! PostgreSQL 15 lays it out on x86_64 Linux. `include/bgworker.h` is generated from this file.

use libc::{c_char, c_int, pid_t};

/// A datum: PostgreSQL's pointer-sized generic value.
pub type Datum = usize;
/// An object identifier.
pub type Oid = u32;

/// When a worker may start. PostgreSQL declares this as an enum; it is an `int` here because
/// modules may store any value in it (an out-of-range value is accepted and never starts), and a
/// Rust enum must never hold a value outside its variants.
pub type BgWorkerStartTime = c_int;
pub const BgWorkerStart_PostmasterStart: BgWorkerStartTime = 0;
pub const BgWorkerStart_ConsistentState: BgWorkerStartTime = 1;
pub const BgWorkerStart_RecoveryFinished: BgWorkerStartTime = 2;

/// What a handle reports about its worker.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BgwHandleStatus {
    BGWH_STARTED = 0,
    BGWH_NOT_YET_STARTED = 1,
    BGWH_STOPPED = 2,
    BGWH_POSTMASTER_DIED = 3,
}

pub const BGW_MAXLEN: usize = 96;
pub const BGW_EXTRALEN: usize = 128;
pub const BGW_DEFAULT_RESTART_INTERVAL: c_int = 60;
pub const BGW_NEVER_RESTART: c_int = -1;

pub const BGWORKER_SHMEM_ACCESS: c_int = 0x0001;
pub const BGWORKER_BACKEND_DATABASE_CONNECTION: c_int = 0x0002;
pub const BGWORKER_CLASS_PARALLEL: c_int = 0x0010;
pub const BGWORKER_BYPASS_ALLOWCONN: c_int = 0x0001;
pub const MAX_PARALLEL_WORKER_LIMIT: c_int = 1024;

pub const InvalidPid: c_int = -1;
pub const InvalidOid: Oid = 0 as Oid;
pub const MAXPGPATH: c_int = 1024;
pub const NAMEDATALEN: c_int = 64;

pub const WL_LATCH_SET: c_int = 1 << 0;
pub const WL_SOCKET_READABLE: c_int = 1 << 1;
pub const WL_SOCKET_WRITEABLE: c_int = 1 << 2;
pub const WL_TIMEOUT: c_int = 1 << 3;
pub const WL_POSTMASTER_DEATH: c_int = 1 << 4;
pub const WL_EXIT_ON_PM_DEATH: c_int = 1 << 5;
pub const WL_SOCKET_CONNECTED: c_int = WL_SOCKET_WRITEABLE;
pub const WL_SOCKET_CLOSED: c_int = 1 << 7;
pub const WL_SOCKET_MASK: c_int =
    WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE | WL_SOCKET_CONNECTED | WL_SOCKET_CLOSED;

pub const PG_WAIT_EXTENSION: u32 = 0x0700_0000u32;
pub const PG_WAIT_IPC: u32 = 0x0800_0000u32;
// Enumerators in PostgreSQL (so `int`), in the IPC class.
pub const WAIT_EVENT_BGWORKER_SHUTDOWN: c_int = 0x0800_0005;
pub const WAIT_EVENT_BGWORKER_STARTUP: c_int = 0x0800_0006;
pub const WAIT_EVENT_MQ_INTERNAL: u32 = 0x0800_001D;
pub const WAIT_EVENT_MQ_PUT_MESSAGE: u32 = 0x0800_001E;
pub const WAIT_EVENT_MQ_RECEIVE: u32 = 0x0800_001F;
pub const WAIT_EVENT_MQ_SEND: u32 = 0x0800_0020;

/// A dynamic shared memory segment's name, passed between processes (`storage/dsm_impl.h`).
pub type dsm_handle = u32;
pub const DSM_HANDLE_INVALID: dsm_handle = 0;
pub const DSM_CREATE_NULL_IF_MAXSEGMENTS: c_int = 0x0001;

// Message levels (utils/elog.h).
pub const DEBUG5: c_int = 10;
pub const DEBUG4: c_int = 11;
pub const DEBUG3: c_int = 12;
pub const DEBUG2: c_int = 13;
pub const DEBUG1: c_int = 14;
pub const LOG: c_int = 15;
pub const LOG_SERVER_ONLY: c_int = 16;
pub const COMMERROR: c_int = LOG_SERVER_ONLY;
pub const INFO: c_int = 17;
pub const NOTICE: c_int = 18;
pub const WARNING: c_int = 19;
pub const PGWARNING: c_int = 19;
pub const WARNING_CLIENT_ONLY: c_int = 20;
pub const ERROR: c_int = 21;
pub const PGERROR: c_int = 21;
pub const FATAL: c_int = 22;
pub const PANIC: c_int = 23;

/// One background worker's definition (`postmaster/bgworker.h`): 544 bytes, 8-aligned.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BackgroundWorker {
    pub bgw_name: [c_char; BGW_MAXLEN],
    pub bgw_type: [c_char; BGW_MAXLEN],
    pub bgw_flags: c_int,
    pub bgw_start_time: BgWorkerStartTime,
    /// Seconds, or `BGW_NEVER_RESTART`.
    pub bgw_restart_time: c_int,
    pub bgw_library_name: [c_char; BGW_MAXLEN],
    pub bgw_function_name: [c_char; BGW_MAXLEN],
    pub bgw_main_arg: Datum,
    pub bgw_extra: [c_char; BGW_EXTRALEN],
    pub bgw_notify_pid: pid_t,
}

/// A worker's entry point.
pub type bgworker_main_type = Option<unsafe extern "C" fn(main_arg: Datum)>;

/// A latch (`storage/latch.h`): 16 bytes. `is_set` and `maybe_sleeping` are only ever touched
/// atomically from Rust.
#[repr(C)]
pub struct Latch {
    pub is_set: c_int,
    pub maybe_sleeping: c_int,
    pub is_shared: bool,
    pub owner_pid: c_int,
}

/// A dynamic worker's handle: opaque to modules (so not `repr(C)`), allocated with `palloc`,
/// freeable with `pfree`.
pub struct BackgroundWorkerHandle {
    pub slot: usize,
    pub generation: u64,
}

/// What a backend is doing, for `pgstat_report_activity` (`utils/backend_status.h`). An `int`
/// for the same reason as `BgWorkerStartTime`.
pub type BackendState = c_int;
pub const STATE_UNDEFINED: BackendState = 0;
pub const STATE_IDLE: BackendState = 1;
pub const STATE_RUNNING: BackendState = 2;
pub const STATE_IDLEINTRANSACTION: BackendState = 3;
pub const STATE_FASTPATH: BackendState = 4;
pub const STATE_IDLEINTRANSACTION_ABORTED: BackendState = 5;
pub const STATE_DISABLED: BackendState = 6;

/// Microseconds since 2000-01-01 00:00:00 UTC (`datatype/timestamp.h`).
pub type TimestampTz = i64;

/// An error being reported or caught (`utils/elog.h`), PostgreSQL 15's layout: `CopyErrorData`
/// hands modules one, and they read its fields directly.
#[repr(C)]
pub struct ErrorData {
    pub elevel: c_int,
    pub output_to_server: bool,
    pub output_to_client: bool,
    pub hide_stmt: bool,
    pub hide_ctx: bool,
    pub filename: *const c_char,
    pub lineno: c_int,
    pub funcname: *const c_char,
    pub domain: *const c_char,
    pub context_domain: *const c_char,
    pub sqlerrcode: c_int,
    pub message: *mut c_char,
    pub detail: *mut c_char,
    pub detail_log: *mut c_char,
    pub hint: *mut c_char,
    pub context: *mut c_char,
    pub backtrace: *mut c_char,
    pub message_id: *const c_char,
    pub schema_name: *mut c_char,
    pub table_name: *mut c_char,
    pub column_name: *mut c_char,
    pub datatype_name: *mut c_char,
    pub constraint_name: *mut c_char,
    pub cursorpos: c_int,
    pub internalpos: c_int,
    pub internalquery: *mut c_char,
    pub saved_errno: c_int,
    /// `struct MemoryContextData *` in PostgreSQL; the library keeps NULL here.
    pub assoc_context: *mut std::ffi::c_void,
}

/// A link in a list of PGPROCs kept by number (`storage/proclist_types.h`); both 0 when the
/// PGPROC is on no list.
#[repr(C)]
pub struct proclist_node {
    pub next: c_int,
    pub prev: c_int,
}

/// How many DSM segments an attached process's PGPROC remembers (see `_bgw_dsm_refs`).
pub const BGW_PROC_DSM_REFS: usize = 64;

/// A process's shared state (`storage/proc.h`): 880 bytes, as in PostgreSQL 15. Modules use
/// `procLatch` (another process may `SetLatch` it) and `pid`; the library keeps its own
/// bookkeeping in the rest (a condition variable's wake-up link; the DSM segments a process
/// attached from outside the supervisor holds, so that they are released if it is killed).
#[repr(C)]
pub struct PGPROC {
    pub _reserved0: [u64; 4],
    pub _reserved1: u32,
    pub procLatch: Latch,
    pub _reserved2: [u32; 3],
    pub pid: c_int,
    pub _reserved3: u32,
    pub cvWaitLink: proclist_node,
    pub _bgw_dsm_refs: [u32; BGW_PROC_DSM_REFS],
    pub _reserved4: [u64; 68],
}

/// The hooks modules chain in `_PG_init` (`shmem_request_hook`, `shmem_startup_hook`).
pub type shmem_request_hook_type = Option<unsafe extern "C" fn()>;
pub type shmem_startup_hook_type = Option<unsafe extern "C" fn()>;
/// `emit_log_hook`'s type (`utils/elog.h`): sees every report about to be written to the log.
pub type emit_log_hook_type = Option<unsafe extern "C" fn(edata: *mut ErrorData)>;

/// A signal handler as `pqsignal` takes it.
pub type pqsigfunc = Option<unsafe extern "C" fn(postgres_signal_arg: c_int)>;

/// An exit callback (`storage/ipc.h`).
pub type pg_on_exit_callback = Option<unsafe extern "C" fn(code: c_int, arg: Datum)>;

/// The module magic block (`fmgr.h`), 56 bytes. `PG_MODULE_MAGIC` defines `Pg_magic_func`
/// returning one; the loader checks it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Pg_magic_struct {
    pub len: c_int,
    pub version: c_int,
    pub funcmaxargs: c_int,
    pub indexmaxkeys: c_int,
    pub namedatalen: c_int,
    pub float8byval: c_int,
    pub abi_extra: [c_char; 32],
}

/// `PG_FUNCTION_INFO_V1` record.
#[repr(C)]
pub struct Pg_finfo_record {
    pub api_version: c_int,
}

pub const PG_VERSION_NUM: c_int = 150018;
pub const PG_MAJORVERSION_NUM: c_int = 15;
pub const FUNC_MAX_ARGS: c_int = 100;
pub const INDEX_MAX_KEYS: c_int = 32;
pub const FLOAT8PASSBYVAL: c_int = 1;
/// `abi_extra` of modules built against our own headers.
pub const BGW_MAGIC_ABI_EXTRA: &str = "libbgworker";
/// `abi_extra` of modules built against PostgreSQL's headers.
pub const PG_MAGIC_ABI_EXTRA: &str = "PostgreSQL";

// The layout is PostgreSQL 15's, checked at compile time (ABI-1, ABI-2).
const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<BackgroundWorker>() == 544);
    assert!(align_of::<BackgroundWorker>() == 8);
    assert!(offset_of!(BackgroundWorker, bgw_name) == 0);
    assert!(offset_of!(BackgroundWorker, bgw_type) == 96);
    assert!(offset_of!(BackgroundWorker, bgw_flags) == 192);
    assert!(offset_of!(BackgroundWorker, bgw_start_time) == 196);
    assert!(offset_of!(BackgroundWorker, bgw_restart_time) == 200);
    assert!(offset_of!(BackgroundWorker, bgw_library_name) == 204);
    assert!(offset_of!(BackgroundWorker, bgw_function_name) == 300);
    assert!(offset_of!(BackgroundWorker, bgw_main_arg) == 400);
    assert!(offset_of!(BackgroundWorker, bgw_extra) == 408);
    assert!(offset_of!(BackgroundWorker, bgw_notify_pid) == 536);
    assert!(size_of::<BgWorkerStartTime>() == 4);
    assert!(size_of::<BgwHandleStatus>() == 4);
    assert!(size_of::<Datum>() == 8);
    assert!(size_of::<Oid>() == 4);
    assert!(size_of::<bgworker_main_type>() == 8);
    assert!(size_of::<Latch>() == 16 && align_of::<Latch>() == 4);
    assert!(offset_of!(Latch, is_set) == 0);
    assert!(offset_of!(Latch, maybe_sleeping) == 4);
    assert!(offset_of!(Latch, is_shared) == 8);
    assert!(offset_of!(Latch, owner_pid) == 12);
    assert!(size_of::<Pg_magic_struct>() == 56 && align_of::<Pg_magic_struct>() == 4);
    assert!(size_of::<Pg_finfo_record>() == 4);
    assert!(size_of::<BackgroundWorkerHandle>() == 16);
    assert!(size_of::<libc::sigset_t>() == 128);
    assert!(size_of::<ErrorData>() == 184 && align_of::<ErrorData>() == 8);
    assert!(size_of::<PGPROC>() == 880 && align_of::<PGPROC>() == 8);
    assert!(offset_of!(PGPROC, procLatch) == 36);
    assert!(offset_of!(PGPROC, pid) == 64);
    assert!(offset_of!(PGPROC, cvWaitLink) == 72);
    assert!(size_of::<proclist_node>() == 8);
    assert!(offset_of!(ErrorData, filename) == 8);
    assert!(offset_of!(ErrorData, lineno) == 16);
    assert!(offset_of!(ErrorData, sqlerrcode) == 48);
    assert!(offset_of!(ErrorData, message) == 56);
    assert!(offset_of!(ErrorData, detail) == 64);
    assert!(offset_of!(ErrorData, hint) == 80);
    assert!(offset_of!(ErrorData, context) == 88);
    assert!(offset_of!(ErrorData, cursorpos) == 152);
    assert!(offset_of!(ErrorData, internalquery) == 160);
    assert!(offset_of!(ErrorData, saved_errno) == 168);
    assert!(offset_of!(ErrorData, assoc_context) == 176);
};

impl BackgroundWorker {
    /// An all-zero definition.
    pub fn zeroed() -> Self {
        // SAFETY: every field is an integer or an array of integers; all-zero is valid.
        unsafe { std::mem::zeroed() }
    }
}
