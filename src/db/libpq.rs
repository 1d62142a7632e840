//! libpq, the PostgreSQL client library, loaded at run time (`libpq.so.5`, `RTLD_NOW`) on the
//! first database connection. Loading it lazily keeps it out of the supervisor and of workers that
//! never connect: only installations that run database workers need the libpq5 package.

use libc::{c_char, c_int, c_uint, c_void};
use std::sync::OnceLock;

/// libpq's opaque connection (`PGconn`).
#[repr(C)]
pub struct PGconn {
    _private: [u8; 0],
}

/// libpq's opaque query result (`PGresult`).
#[repr(C)]
pub struct PGresult {
    _private: [u8; 0],
}

/// `ConnStatusType::CONNECTION_OK`.
pub const CONNECTION_OK: c_int = 0;

/// `ExecStatusType` values this crate looks at.
pub const PGRES_EMPTY_QUERY: c_int = 0;
pub const PGRES_COMMAND_OK: c_int = 1;
pub const PGRES_TUPLES_OK: c_int = 2;
pub const PGRES_COPY_OUT: c_int = 3;
pub const PGRES_COPY_IN: c_int = 4;
pub const PGRES_COPY_BOTH: c_int = 8;

/// `PGTransactionStatusType`.
pub const PQTRANS_IDLE: c_int = 0;
pub const PQTRANS_ACTIVE: c_int = 1;
pub const PQTRANS_INTRANS: c_int = 2;
pub const PQTRANS_INERROR: c_int = 3;

/// libpq's notice receiver (`PQnoticeReceiver`).
pub type NoticeReceiver = Option<unsafe extern "C" fn(arg: *mut c_void, res: *const PGresult)>;

/// `PGnotify`'s leading fields (only freed here).
#[repr(C)]
pub struct PGnotify {
    _private: [u8; 0],
}

/// `PQresultErrorField` codes (`PG_DIAG_*`).
pub const PG_DIAG_SEVERITY: c_int = b'S' as c_int;
pub const PG_DIAG_SEVERITY_NONLOCALIZED: c_int = b'V' as c_int;
pub const PG_DIAG_SQLSTATE: c_int = b'C' as c_int;
pub const PG_DIAG_MESSAGE_PRIMARY: c_int = b'M' as c_int;
pub const PG_DIAG_MESSAGE_DETAIL: c_int = b'D' as c_int;
pub const PG_DIAG_MESSAGE_HINT: c_int = b'H' as c_int;

/// The shared object looked for.
pub const LIBPQ_SONAME: &str = "libpq.so.5";

/// The libpq functions in use, resolved once.
pub struct Api {
    pub PQconnectdbParams: unsafe extern "C" fn(
        keywords: *const *const c_char,
        values: *const *const c_char,
        expand_dbname: c_int,
    ) -> *mut PGconn,
    pub PQstatus: unsafe extern "C" fn(conn: *const PGconn) -> c_int,
    pub PQerrorMessage: unsafe extern "C" fn(conn: *const PGconn) -> *const c_char,
    pub PQfinish: unsafe extern "C" fn(conn: *mut PGconn),
    pub PQexecParams: unsafe extern "C" fn(
        conn: *mut PGconn,
        command: *const c_char,
        n_params: c_int,
        param_types: *const c_uint,
        param_values: *const *const c_char,
        param_lengths: *const c_int,
        param_formats: *const c_int,
        result_format: c_int,
    ) -> *mut PGresult,
    pub PQresultStatus: unsafe extern "C" fn(res: *const PGresult) -> c_int,
    pub PQresultErrorField:
        unsafe extern "C" fn(res: *const PGresult, code: c_int) -> *const c_char,
    pub PQresultErrorMessage: unsafe extern "C" fn(res: *const PGresult) -> *const c_char,
    pub PQclear: unsafe extern "C" fn(res: *mut PGresult),
    pub PQcmdStatus: unsafe extern "C" fn(res: *mut PGresult) -> *const c_char,
    pub PQntuples: unsafe extern "C" fn(res: *const PGresult) -> c_int,
    pub PQnfields: unsafe extern "C" fn(res: *const PGresult) -> c_int,
    pub PQfname: unsafe extern "C" fn(res: *const PGresult, col: c_int) -> *const c_char,
    pub PQftype: unsafe extern "C" fn(res: *const PGresult, col: c_int) -> c_uint,
    pub PQgetvalue:
        unsafe extern "C" fn(res: *const PGresult, row: c_int, col: c_int) -> *const c_char,
    pub PQgetisnull: unsafe extern "C" fn(res: *const PGresult, row: c_int, col: c_int) -> c_int,
    pub PQgetlength: unsafe extern "C" fn(res: *const PGresult, row: c_int, col: c_int) -> c_int,
    pub PQsocket: unsafe extern "C" fn(conn: *const PGconn) -> c_int,
    pub PQsslInUse: unsafe extern "C" fn(conn: *mut PGconn) -> c_int,
    pub PQbackendPID: unsafe extern "C" fn(conn: *const PGconn) -> c_int,
    pub PQparameterStatus:
        unsafe extern "C" fn(conn: *const PGconn, name: *const c_char) -> *const c_char,
    pub PQsendQuery: unsafe extern "C" fn(conn: *mut PGconn, query: *const c_char) -> c_int,
    pub PQgetResult: unsafe extern "C" fn(conn: *mut PGconn) -> *mut PGresult,
    pub PQconsumeInput: unsafe extern "C" fn(conn: *mut PGconn) -> c_int,
    pub PQisBusy: unsafe extern "C" fn(conn: *mut PGconn) -> c_int,
    pub PQprepare: unsafe extern "C" fn(
        conn: *mut PGconn,
        stmt_name: *const c_char,
        query: *const c_char,
        n_params: c_int,
        param_types: *const c_uint,
    ) -> *mut PGresult,
    pub PQexecPrepared: unsafe extern "C" fn(
        conn: *mut PGconn,
        stmt_name: *const c_char,
        n_params: c_int,
        param_values: *const *const c_char,
        param_lengths: *const c_int,
        param_formats: *const c_int,
        result_format: c_int,
    ) -> *mut PGresult,
    pub PQdescribePrepared:
        unsafe extern "C" fn(conn: *mut PGconn, stmt_name: *const c_char) -> *mut PGresult,
    pub PQnparams: unsafe extern "C" fn(res: *const PGresult) -> c_int,
    pub PQparamtype: unsafe extern "C" fn(res: *const PGresult, param_num: c_int) -> c_uint,
    pub PQtransactionStatus: unsafe extern "C" fn(conn: *const PGconn) -> c_int,
    pub PQsetNoticeReceiver: unsafe extern "C" fn(
        conn: *mut PGconn,
        proc_: NoticeReceiver,
        arg: *mut c_void,
    ) -> NoticeReceiver,
    pub PQputCopyEnd: unsafe extern "C" fn(conn: *mut PGconn, errormsg: *const c_char) -> c_int,
    pub PQgetCopyData:
        unsafe extern "C" fn(conn: *mut PGconn, buffer: *mut *mut c_char, async_: c_int) -> c_int,
    pub PQnotifies: unsafe extern "C" fn(conn: *mut PGconn) -> *mut PGnotify,
    pub PQfreemem: unsafe extern "C" fn(ptr: *mut c_void),
    /// Kept open for the life of the process: the function pointers above point into it.
    _lib: libloading::os::unix::Library,
}

static API: OnceLock<Result<Api, String>> = OnceLock::new();

fn load() -> Result<Api, String> {
    // SAFETY: loading libpq runs only its (side-effect free) initialisers.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some(LIBPQ_SONAME),
            // DEEPBIND: libpq and its libraries bind to their own definitions first. The
            // supervisor makes every name PostgreSQL's server exports global, and a few of them
            // are libpq's too (`pg_encoding_to_char`, `lo_read`, `pqsignal`, ...): without it
            // libpq's own calls would land on the server's versions.
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL | libc::RTLD_DEEPBIND,
        )
    }
    .map_err(|e| e.to_string())?;
    macro_rules! sym {
        ($name:ident) => {{
            // SAFETY: the symbol is libpq's function of that name; the field's type is its
            // prototype in libpq-fe.h.
            let s = unsafe { lib.get(concat!(stringify!($name), "\0").as_bytes()) }
                .map_err(|e| e.to_string())?;
            *s
        }};
    }
    Ok(Api {
        PQconnectdbParams: sym!(PQconnectdbParams),
        PQstatus: sym!(PQstatus),
        PQerrorMessage: sym!(PQerrorMessage),
        PQfinish: sym!(PQfinish),
        PQexecParams: sym!(PQexecParams),
        PQresultStatus: sym!(PQresultStatus),
        PQresultErrorField: sym!(PQresultErrorField),
        PQresultErrorMessage: sym!(PQresultErrorMessage),
        PQclear: sym!(PQclear),
        PQcmdStatus: sym!(PQcmdStatus),
        PQntuples: sym!(PQntuples),
        PQnfields: sym!(PQnfields),
        PQfname: sym!(PQfname),
        PQftype: sym!(PQftype),
        PQgetvalue: sym!(PQgetvalue),
        PQgetisnull: sym!(PQgetisnull),
        PQgetlength: sym!(PQgetlength),
        PQsocket: sym!(PQsocket),
        PQsslInUse: sym!(PQsslInUse),
        PQbackendPID: sym!(PQbackendPID),
        PQparameterStatus: sym!(PQparameterStatus),
        PQsendQuery: sym!(PQsendQuery),
        PQgetResult: sym!(PQgetResult),
        PQconsumeInput: sym!(PQconsumeInput),
        PQisBusy: sym!(PQisBusy),
        PQprepare: sym!(PQprepare),
        PQexecPrepared: sym!(PQexecPrepared),
        PQdescribePrepared: sym!(PQdescribePrepared),
        PQnparams: sym!(PQnparams),
        PQparamtype: sym!(PQparamtype),
        PQtransactionStatus: sym!(PQtransactionStatus),
        PQsetNoticeReceiver: sym!(PQsetNoticeReceiver),
        PQputCopyEnd: sym!(PQputCopyEnd),
        PQgetCopyData: sym!(PQgetCopyData),
        PQnotifies: sym!(PQnotifies),
        PQfreemem: sym!(PQfreemem),
        _lib: lib,
    })
}

/// libpq, loaded on first use, or why it could not be loaded.
pub fn try_api() -> Result<&'static Api, &'static str> {
    API.get_or_init(load).as_ref().map_err(|e| e.as_str())
}

/// libpq if it has already been loaded (never loads it).
pub fn loaded() -> Option<&'static Api> {
    API.get().and_then(|r| r.as_ref().ok())
}

/// libpq, or a FATAL naming the missing library.
pub fn api() -> &'static Api {
    match try_api() {
        Ok(api) => api,
        Err(e) => crate::pg::raise(
            crate::pg::types::FATAL,
            &format!(
                "could not load the PostgreSQL client library \"{LIBPQ_SONAME}\" (install the \
                 libpq5 package): {e}"
            ),
        ),
    }
}

/// A C string libpq returned (NULL → empty), copied.
pub(crate) fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: libpq returns NUL-terminated strings that live at least as long as their owner.
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned()
    }
}
