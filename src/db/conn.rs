//! The worker's database connection (`BackgroundWorkerInitializeConnection[ByOid]`): one libpq
//! connection per worker, opened once, kept for the worker's life and closed at process exit.
//!
//! Where it goes: the `database_conninfo` setting (a libpq conninfo string; empty = libpq's
//! defaults and the `PG*` environment), with the call's database and user on top. A NULL
//! database means `postgres`; a NULL user, the conninfo's. `application_name` is the worker's
//! `bgw_type`, so the worker shows in the server's `pg_stat_activity`.

use super::libpq::{self, PGconn, PGresult};
use crate::pg::types::{BackgroundWorker, Oid, DEBUG1, FATAL, INFO, LOG, NOTICE, WARNING};
use crate::pg::{make_sqlstate, raise_with_code};
use libc::{c_char, c_int, c_void};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};

/// `BGWORKER_BACKEND_DATABASE_CONNECTION`.
const BGWORKER_BACKEND_DATABASE_CONNECTION: c_int = 2;
/// `BGWORKER_BYPASS_ALLOWCONN`.
pub const BGWORKER_BYPASS_ALLOWCONN: u32 = 1;

/// A server error, as libpq reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    /// The five SQLSTATE characters (`08006` when the connection itself failed).
    pub sqlstate: [u8; 5],
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The server ended the session with it (severity FATAL or PANIC).
    pub fatal: bool,
}

impl ServerError {
    /// The SQLSTATE in PostgreSQL's `MAKE_SQLSTATE` encoding.
    pub fn code(&self) -> c_int {
        make_sqlstate(&self.sqlstate)
    }

    /// An error of our own with no detail or hint.
    pub fn new(sqlstate: &[u8; 5], message: impl Into<String>) -> ServerError {
        ServerError {
            sqlstate: *sqlstate,
            message: message.into(),
            detail: None,
            hint: None,
            fatal: false,
        }
    }

    /// The fields of an error or notice result.
    fn from_result(res: *const PGresult) -> ServerError {
        let api = libpq::api();
        let field = |code: c_int| {
            // SAFETY: res is a live PGresult; the field is NULL or a string owned by it.
            let p = unsafe { (api.PQresultErrorField)(res, code) };
            (!p.is_null()).then(|| libpq::text(p))
        };
        let sqlstate = field(libpq::PG_DIAG_SQLSTATE)
            .and_then(|s| <[u8; 5]>::try_from(s.as_bytes()).ok())
            .unwrap_or(*b"08006");
        let message = field(libpq::PG_DIAG_MESSAGE_PRIMARY).unwrap_or_else(|| {
            // SAFETY: res is a live PGresult.
            one_line(&libpq::text(unsafe { (api.PQresultErrorMessage)(res) }))
        });
        let severity = field(libpq::PG_DIAG_SEVERITY_NONLOCALIZED).unwrap_or_default();
        ServerError {
            sqlstate,
            message,
            detail: field(libpq::PG_DIAG_MESSAGE_DETAIL),
            hint: field(libpq::PG_DIAG_MESSAGE_HINT),
            fatal: matches!(severity.as_str(), "FATAL" | "PANIC"),
        }
    }
}

/// The worker's connection.
pub struct Connection {
    conn: Cell<*mut PGconn>,
    database: String,
    user: String,
    /// Bumped whenever the server forgets this session's prepared statements (`DISCARD ALL`,
    /// `DEALLOCATE ALL`): a plan prepared in an older epoch is prepared again before it runs.
    epoch: Cell<u64>,
    /// Numbers the session's prepared statements and cursors.
    next_name: Cell<u64>,
    /// Prepared statements freed by the worker, deallocated on the server at the next
    /// convenient moment (at once when no transaction block is open, else with its end).
    deallocate: RefCell<Vec<String>>,
    /// Session settings (name, value) waiting for the server to be outside a transaction block,
    /// where `set_config(..., false)` cannot be rolled back.
    pending: RefCell<Vec<(String, String)>>,
    /// The custom settings last sent to the session, by name.
    pushed: RefCell<BTreeMap<String, String>>,
    /// The session's `default_transaction_isolation` (0..3) and `default_transaction_read_only`
    /// and `_deferrable`, read at connect.
    defaults: Cell<(c_int, bool, bool)>,
}

// SAFETY: a worker is single-threaded; the connection is only used from its main thread (and
// closed from the exit path of that same thread).
unsafe impl Sync for Connection {}
// SAFETY: as above.
unsafe impl Send for Connection {}

/// The one connection of this process (leaked on purpose: it lives until exit).
static mut CONNECTION: Option<&'static Connection> = None;
/// Set by the first `BackgroundWorkerInitializeConnection[ByOid]` call.
static ATTEMPTED: AtomicBool = AtomicBool::new(false);

/// The worker's connection, once `BackgroundWorkerInitializeConnection` succeeded.
pub fn connection() -> Option<&'static Connection> {
    // SAFETY: written once, by the worker's main thread, before anything reads it.
    unsafe { CONNECTION }
}

/// One statement's result; the `PGresult` is cleared on drop.
pub struct QueryResult {
    res: *mut PGresult,
    /// Set when libpq returned no result at all (the connection is gone).
    lost: Option<String>,
}

impl Drop for QueryResult {
    fn drop(&mut self) {
        if !self.res.is_null() {
            if let Some(api) = libpq::loaded() {
                // SAFETY: res came from libpq and is cleared once.
                unsafe { (api.PQclear)(self.res) };
            }
        }
    }
}

impl QueryResult {
    fn status(&self) -> c_int {
        if self.res.is_null() {
            return -1;
        }
        // SAFETY: res is a live PGresult.
        unsafe { (libpq::api().PQresultStatus)(self.res) }
    }

    /// Ok for a statement that succeeded, else the server's error.
    pub fn ok(&self) -> Result<(), ServerError> {
        match self.status() {
            libpq::PGRES_COMMAND_OK | libpq::PGRES_TUPLES_OK | libpq::PGRES_EMPTY_QUERY => Ok(()),
            -1 => Err(ServerError::new(
                b"08006",
                self.lost
                    .clone()
                    .unwrap_or_else(|| "no connection to the server".into()),
            )),
            _ => Err(ServerError::from_result(self.res)),
        }
    }

    /// The command tag (`PQcmdStatus`): "SELECT 3", "INSERT 0 1", "CREATE TABLE"...
    pub fn command_tag(&self) -> String {
        if self.res.is_null() {
            return String::new();
        }
        // SAFETY: res is a live PGresult; the tag is owned by it.
        libpq::text(unsafe { (libpq::api().PQcmdStatus)(self.res) })
    }

    /// True when the statement returned rows (`PGRES_TUPLES_OK`), even zero of them.
    pub fn returned_rows(&self) -> bool {
        self.status() == libpq::PGRES_TUPLES_OK
    }

    /// True for the result of an empty query string.
    pub fn is_empty_query(&self) -> bool {
        self.status() == libpq::PGRES_EMPTY_QUERY
    }

    pub fn ntuples(&self) -> usize {
        if self.res.is_null() {
            return 0;
        }
        // SAFETY: res is a live PGresult.
        unsafe { (libpq::api().PQntuples)(self.res) }.max(0) as usize
    }

    pub fn nfields(&self) -> usize {
        if self.res.is_null() {
            return 0;
        }
        // SAFETY: res is a live PGresult.
        unsafe { (libpq::api().PQnfields)(self.res) }.max(0) as usize
    }

    /// Column `col`'s name (empty when out of range).
    pub fn fname(&self, col: usize) -> String {
        if col >= self.nfields() {
            return String::new();
        }
        // SAFETY: res is a live PGresult and col is in range.
        libpq::text(unsafe { (libpq::api().PQfname)(self.res, col as c_int) })
    }

    /// Column `col`'s type OID (0 when out of range).
    pub fn ftype(&self, col: usize) -> u32 {
        if col >= self.nfields() {
            return 0;
        }
        // SAFETY: res is a live PGresult and col is in range.
        unsafe { (libpq::api().PQftype)(self.res, col as c_int) }
    }

    /// The parameter types of a described prepared statement.
    pub fn param_types(&self) -> Vec<Oid> {
        if self.res.is_null() {
            return Vec::new();
        }
        let api = libpq::api();
        // SAFETY: res is a live PGresult; every index is below PQnparams.
        unsafe {
            (0..(api.PQnparams)(self.res).max(0))
                .map(|i| (api.PQparamtype)(self.res, i))
                .collect()
        }
    }

    /// True for a NULL (and for a cell out of range).
    pub fn is_null(&self, row: usize, col: usize) -> bool {
        if row >= self.ntuples() || col >= self.nfields() {
            return true;
        }
        // SAFETY: res is a live PGresult and the cell is in range.
        unsafe { (libpq::api().PQgetisnull)(self.res, row as c_int, col as c_int) != 0 }
    }

    /// The cell's text-format value (empty for NULL or out of range).
    pub fn value(&self, row: usize, col: usize) -> &[u8] {
        if row >= self.ntuples() || col >= self.nfields() {
            return &[];
        }
        let api = libpq::api();
        // SAFETY: res is a live PGresult and the cell is in range; the value is owned by res
        // (so lives as long as &self) and is `PQgetlength` bytes long.
        unsafe {
            let p = (api.PQgetvalue)(self.res, row as c_int, col as c_int);
            let n = (api.PQgetlength)(self.res, row as c_int, col as c_int).max(0) as usize;
            if p.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(p.cast::<u8>(), n)
            }
        }
    }

    /// Cell (row, col) as text, None for NULL.
    pub fn text(&self, row: usize, col: usize) -> Option<String> {
        (!self.is_null(row, col)).then(|| String::from_utf8_lossy(self.value(row, col)).into())
    }
}

/// What a query string sent in one piece produced (see [`Connection::script`]).
#[derive(Default)]
pub struct Script {
    /// The result kept (the last one, or the one asked for), if the statements got that far.
    pub kept: Option<QueryResult>,
    /// Results the server sent before the first error (or in all), counting empty ones.
    pub results: usize,
    /// The first error; the server runs nothing after it.
    pub error: Option<ServerError>,
}

/// The last FATAL the server sent while the session was idle (why it is about to close it).
static mut SERVER_FATAL: Option<ServerError> = None;

fn take_server_fatal() -> Option<ServerError> {
    let p = &raw mut SERVER_FATAL;
    // SAFETY: single-threaded; written only by the notice receiver, inside our libpq calls.
    unsafe { (*p).take() }
}

fn server_fatal_code() -> Option<[u8; 5]> {
    let p = &raw const SERVER_FATAL;
    // SAFETY: as above.
    unsafe { (*p).as_ref().map(|e| e.sqlstate) }
}

/// libpq's notice receiver: the server's notices and warnings go to the worker's log at their
/// own level, as they would inside PostgreSQL; a FATAL sent to an idle session is kept as the
/// reason for the disconnection that follows.
unsafe extern "C" fn notice_receiver(_arg: *mut c_void, res: *const PGresult) {
    let _ = std::panic::catch_unwind(|| {
        let e = ServerError::from_result(res);
        if e.fatal {
            // SAFETY: single-threaded; libpq calls this from inside our own libpq calls.
            unsafe { SERVER_FATAL = Some(e) };
            return;
        }
        let api = libpq::api();
        // SAFETY: res is a live PGresult; the field is NULL or owned by it.
        let sev = libpq::text(unsafe {
            (api.PQresultErrorField)(res, libpq::PG_DIAG_SEVERITY_NONLOCALIZED)
        });
        let level = match sev.as_str() {
            "WARNING" => WARNING,
            "INFO" => INFO,
            "LOG" => LOG,
            s if s.starts_with("DEBUG") => DEBUG1,
            _ => NOTICE,
        };
        crate::elog::log_with(level, &e.message, e.detail.as_deref(), e.hint.as_deref());
    });
}

/// Text parameters as libpq takes them: NUL-terminated copies and an array of pointers.
struct Params {
    _owned: Vec<Option<CString>>,
    ptrs: Vec<*const c_char>,
}

impl Params {
    fn new(params: &[Option<&[u8]>]) -> Params {
        let owned: Vec<Option<CString>> = params.iter().map(|p| p.map(c_bytes)).collect();
        let ptrs = owned
            .iter()
            .map(|p| p.as_ref().map_or(null(), |c| c.as_ptr()))
            .collect();
        Params {
            _owned: owned,
            ptrs,
        }
    }

    fn as_ptr(&self) -> *const *const c_char {
        if self.ptrs.is_empty() {
            null()
        } else {
            self.ptrs.as_ptr()
        }
    }
}

impl Connection {
    fn live(&self) -> Option<*mut PGconn> {
        let conn = self.conn.get();
        (!conn.is_null()).then_some(conn)
    }

    fn closed() -> QueryResult {
        QueryResult {
            res: null_mut(),
            lost: Some("the database connection is closed".into()),
        }
    }

    /// Wraps what libpq returned, ending the worker when the connection is gone: a lost
    /// connection (the server restarted, went away, or terminated the session) is FATAL, exit
    /// 1, with the server's own message when it sent one.
    fn finish(&self, conn: *mut PGconn, res: *mut PGresult) -> QueryResult {
        let lost = res.is_null().then(|| {
            // SAFETY: conn is live; the message is owned by it.
            one_line(&libpq::text(unsafe { (libpq::api().PQerrorMessage)(conn) }))
        });
        let r = QueryResult { res, lost };
        self.check_alive(conn, &r);
        self.observe(&r);
        r
    }

    /// FATAL when the connection is no longer usable; `last` is the result that may carry the
    /// server's reason.
    fn check_alive(&self, conn: *mut PGconn, last: &QueryResult) {
        // SAFETY: conn is live.
        if unsafe { (libpq::api().PQstatus)(conn) } == libpq::CONNECTION_OK {
            return;
        }
        let reason = match last.ok() {
            Err(e) if e.fatal => Some(e),
            _ => None,
        };
        self.lost(conn, reason)
    }

    /// Ends the worker after losing the connection (FATAL, exit 1). A session the server told
    /// to terminate (`pg_terminate_backend`, a shutdown: SQLSTATE 57P01) ends the worker as
    /// PostgreSQL's ends when its backend is told to terminate.
    fn lost(&self, conn: *mut PGconn, reason: Option<ServerError>) -> ! {
        let reason = reason.or_else(take_server_fatal);
        crate::latch::set_db_socket(-1);
        match reason {
            Some(e) if &e.sqlstate == ADMIN_SHUTDOWN => raise_with_code(
                FATAL,
                e.code(),
                &format!(
                    "terminating background worker \"{}\" due to administrator command",
                    worker_type()
                ),
            ),
            Some(e) => raise_with_code(FATAL, e.code(), &e.message),
            None => {
                // SAFETY: conn is live; the message is owned by it.
                let why = one_line(&libpq::text(unsafe { (libpq::api().PQerrorMessage)(conn) }));
                raise_with_code(
                    FATAL,
                    make_sqlstate(b"08006"),
                    &format!("lost the connection to the database server: {why}"),
                )
            }
        }
    }

    /// Notes what a statement did to the session's state: `DISCARD ALL` and `DEALLOCATE ALL`
    /// drop every prepared statement (and `DISCARD ALL` the session's settings).
    fn observe(&self, r: &QueryResult) {
        if r.status() != libpq::PGRES_COMMAND_OK {
            return;
        }
        let tag = r.command_tag();
        if tag == "DISCARD ALL" || tag == "DEALLOCATE ALL" {
            self.epoch.set(self.epoch.get() + 1);
            self.deallocate.borrow_mut().clear();
        }
        if tag == "DISCARD ALL" {
            self.resync_settings();
        }
    }

    /// Runs one statement with text-format parameters (`$1`..; types inferred by the server),
    /// text-format results, on the extended protocol.
    pub fn exec(&self, sql: &str, params: &[Option<&str>]) -> QueryResult {
        let params: Vec<Option<&[u8]>> = params.iter().map(|p| p.map(str::as_bytes)).collect();
        self.exec_typed(sql, &[], &params)
    }

    /// `exec` with the parameters' types given (`types` empty, or one per parameter; 0 lets the
    /// server infer that one).
    pub fn exec_typed(&self, sql: &str, types: &[Oid], params: &[Option<&[u8]>]) -> QueryResult {
        let Some(conn) = self.live() else {
            return Self::closed();
        };
        let res = {
            let sql = c_string(sql);
            let p = Params::new(params);
            // SAFETY: conn is live; sql and the parameters are NUL-terminated and outlive the
            // call; types is empty or has one entry per parameter; NULL lengths/formats mean
            // text parameters.
            unsafe {
                (libpq::api().PQexecParams)(
                    conn,
                    sql.as_ptr(),
                    p.ptrs.len() as c_int,
                    if types.is_empty() {
                        null()
                    } else {
                        types.as_ptr()
                    },
                    p.as_ptr(),
                    null(),
                    null(),
                    0,
                )
            }
        };
        self.finish(conn, res)
    }

    /// Sends `sql` in one piece on the simple-query protocol, so a string of several
    /// statements runs them in order in one round trip, and collects what they produced:
    /// result number `keep` (0-based; the last one when None), the count, and the first error
    /// (after which the server runs nothing). COPY to or from the client is refused on the way
    /// (SPI cannot take part in it).
    pub fn script(&self, sql: &str, keep: Option<usize>) -> Script {
        let mut out = Script::default();
        let Some(conn) = self.live() else {
            out.error = Closed::error();
            return out;
        };
        let api = libpq::api();
        let sent = {
            let q = c_string(sql);
            // SAFETY: conn is live; q is NUL-terminated.
            unsafe { (api.PQsendQuery)(conn, q.as_ptr()) }
        };
        if sent == 0 {
            self.check_alive(
                conn,
                &QueryResult {
                    res: null_mut(),
                    lost: None,
                },
            );
            // SAFETY: conn is live; the message is owned by it.
            let why = one_line(&libpq::text(unsafe { (api.PQerrorMessage)(conn) }));
            out.error = Some(ServerError::new(b"08006", why));
            return out;
        }
        let mut last_error: Option<QueryResult> = None;
        loop {
            // SAFETY: conn is live; a query is in progress.
            let res = unsafe { (api.PQgetResult)(conn) };
            if res.is_null() {
                break;
            }
            let r = QueryResult { res, lost: None };
            match r.status() {
                libpq::PGRES_COPY_IN => {
                    // SAFETY: conn is live and in COPY IN state; the message is a C string.
                    unsafe {
                        (api.PQputCopyEnd)(
                            conn,
                            c"COPY FROM STDIN is not supported through SPI".as_ptr(),
                        )
                    };
                    continue;
                }
                libpq::PGRES_COPY_OUT | libpq::PGRES_COPY_BOTH => {
                    loop {
                        let mut buf: *mut c_char = null_mut();
                        // SAFETY: conn is live and in COPY OUT state; buf receives a
                        // libpq-allocated row, freed at once.
                        let n = unsafe { (api.PQgetCopyData)(conn, &mut buf, 0) };
                        if !buf.is_null() {
                            // SAFETY: buf came from PQgetCopyData.
                            unsafe { (api.PQfreemem)(buf.cast()) };
                        }
                        if n < 0 {
                            break;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            self.observe(&r);
            match r.ok() {
                Err(e) => {
                    if out.error.is_none() {
                        out.error = Some(e);
                        last_error = Some(r);
                    }
                }
                Ok(()) => {
                    if out.error.is_none() {
                        if keep.is_none_or(|k| k == out.results) {
                            out.kept = Some(r);
                        }
                        out.results += 1;
                    }
                }
            }
        }
        let probe = last_error.unwrap_or(QueryResult {
            res: null_mut(),
            lost: None,
        });
        self.check_alive(conn, &probe);
        out
    }

    /// Prepares `sql` on the server as statement `name` with parameter types `types` (0 or a
    /// missing entry: inferred).
    pub fn prepare(&self, name: &str, sql: &str, types: &[Oid]) -> Result<(), ServerError> {
        let Some(conn) = self.live() else {
            return Err(Closed::error().unwrap_or_else(|| ServerError::new(b"08003", "")));
        };
        let res = {
            let n = c_string(name);
            let q = c_string(sql);
            // SAFETY: conn is live; the strings are NUL-terminated; types has nParams entries.
            unsafe {
                (libpq::api().PQprepare)(
                    conn,
                    n.as_ptr(),
                    q.as_ptr(),
                    types.len() as c_int,
                    if types.is_empty() {
                        null()
                    } else {
                        types.as_ptr()
                    },
                )
            }
        };
        self.finish(conn, res).ok()
    }

    /// Runs the prepared statement `name` with text parameters.
    pub fn exec_prepared(&self, name: &str, params: &[Option<&[u8]>]) -> QueryResult {
        let Some(conn) = self.live() else {
            return Self::closed();
        };
        let res = {
            let n = c_string(name);
            let p = Params::new(params);
            // SAFETY: conn is live; the name and parameters are NUL-terminated and outlive the
            // call; NULL lengths/formats mean text.
            unsafe {
                (libpq::api().PQexecPrepared)(
                    conn,
                    n.as_ptr(),
                    p.ptrs.len() as c_int,
                    p.as_ptr(),
                    null(),
                    null(),
                    0,
                )
            }
        };
        self.finish(conn, res)
    }

    /// Describes the prepared statement `name` (its parameter and result types).
    pub fn describe_prepared(&self, name: &str) -> QueryResult {
        let Some(conn) = self.live() else {
            return Self::closed();
        };
        let res = {
            let n = c_string(name);
            // SAFETY: conn is live; n is NUL-terminated.
            unsafe { (libpq::api().PQdescribePrepared)(conn, n.as_ptr()) }
        };
        self.finish(conn, res)
    }

    /// The server's transaction state as libpq last saw it (`PQTRANS_*`).
    pub fn transaction_status(&self) -> c_int {
        match self.live() {
            // SAFETY: conn is live.
            Some(conn) => unsafe { (libpq::api().PQtransactionStatus)(conn) },
            None => libpq::PQTRANS_IDLE,
        }
    }

    /// True while a transaction block is open on the server (failed or not).
    pub fn in_block(&self) -> bool {
        matches!(
            self.transaction_status(),
            libpq::PQTRANS_INTRANS | libpq::PQTRANS_INERROR
        )
    }

    /// True when the server's transaction block has failed (only ROLLBACK is possible).
    pub fn block_failed(&self) -> bool {
        self.transaction_status() == libpq::PQTRANS_INERROR
    }

    /// The epoch of the session's prepared statements (see the field).
    pub fn epoch(&self) -> u64 {
        self.epoch.get()
    }

    /// A new name for a prepared statement or cursor of this session: `prefix` and a number.
    pub fn new_name(&self, prefix: &str) -> String {
        let n = self.next_name.get() + 1;
        self.next_name.set(n);
        format!("{prefix}{n}")
    }

    /// Forgets the prepared statement `name` on the server: at once when no transaction block
    /// is open, else when the block ends (`end_of_block_sql`), so a failed block does not
    /// refuse it and no round trip is spent inside the transaction.
    pub fn deallocate(&self, name: &str, epoch: u64) {
        if epoch != self.epoch.get() {
            return; // the server forgot it already
        }
        self.deallocate.borrow_mut().push(name.to_owned());
        if !self.in_block() {
            self.flush_idle();
        }
    }

    /// What to send right after the COMMIT or ROLLBACK that ends a block, in the same round
    /// trip: the deferred `DEALLOCATE`s. Taken (they are sent once).
    pub fn end_of_block_sql(&self) -> String {
        let names = std::mem::take(&mut *self.deallocate.borrow_mut());
        let mut sql = String::new();
        for n in names {
            // Names made by new_name: plain lower-case identifiers.
            sql.push_str("; DEALLOCATE ");
            sql.push_str(&n);
        }
        sql
    }

    /// Sends what waits for the server to be outside a transaction block: deferred
    /// `DEALLOCATE`s and session settings. Nothing happens inside a block.
    pub fn flush_idle(&self) {
        if self.in_block() {
            return;
        }
        let dealloc = self.end_of_block_sql();
        if !dealloc.is_empty() {
            // A statement the server already forgot is no reason to stop the worker.
            let _ = self.script(dealloc.trim_start_matches("; "), None);
        }
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        if !pending.is_empty() {
            if let Err(e) = self.set_config(&pending) {
                crate::elog::log_with(
                    WARNING,
                    &format!(
                        "could not apply settings to the database session: {}",
                        e.message
                    ),
                    e.detail.as_deref(),
                    None,
                );
            }
        }
    }

    /// Sets session settings with `set_config(name, value, false)` in one statement. Settings
    /// the server itself defines with a context a session cannot set (`sighup`, `postmaster`,
    /// ...) keep the server's value, as a backend's would.
    fn set_config(&self, settings: &[(String, String)]) -> Result<(), ServerError> {
        let (names, values) = text_arrays(settings);
        let r = self.exec(SET_CONFIG_SQL, &[Some(&names), Some(&values)]);
        r.ok()
    }

    /// Sets a session setting now, or once the current transaction block ends (a setting made
    /// inside a block would be undone by its rollback; PostgreSQL's are not transactional).
    pub fn set_session(&self, name: &str, value: &str) {
        {
            let mut p = self.pending.borrow_mut();
            p.retain(|(n, _)| n != name);
            p.push((name.to_owned(), value.to_owned()));
        }
        if !self.in_block() {
            self.flush_idle();
        }
    }

    /// The worker's custom settings that differ from what the session has, queued for it.
    pub fn push_settings(&self) {
        let now = crate::guc::custom::session_values();
        let changed: Vec<(String, String)> = {
            let pushed = self.pushed.borrow();
            now.iter()
                .filter(|(n, v)| pushed.get(n) != Some(v))
                .cloned()
                .collect()
        };
        for (n, v) in changed {
            self.pushed.borrow_mut().insert(n.clone(), v.clone());
            self.set_session(&n, &v);
        }
    }

    /// After the session's settings were reset on the server: send them all again.
    fn resync_settings(&self) {
        self.pushed.borrow_mut().clear();
        let app = application_name();
        if !app.is_empty() {
            self.pending
                .borrow_mut()
                .push(("application_name".into(), app));
        }
        for (n, v) in crate::guc::custom::session_values() {
            self.pushed.borrow_mut().insert(n.clone(), v.clone());
            self.pending.borrow_mut().push((n, v));
        }
    }

    /// The session's `default_transaction_*` settings as read at connect: (isolation level,
    /// read only, deferrable).
    pub fn session_defaults(&self) -> (c_int, bool, bool) {
        self.defaults.get()
    }

    /// The database connected to.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The role connected as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The server process serving this connection (`PQbackendPID`).
    pub fn backend_pid(&self) -> i32 {
        match self.live() {
            // SAFETY: conn is live.
            Some(conn) => unsafe { (libpq::api().PQbackendPID)(conn) },
            None => 0,
        }
    }

    /// The connection's socket (`PQsocket`), -1 when closed.
    pub fn socket(&self) -> c_int {
        match self.live() {
            // SAFETY: conn is live.
            Some(conn) => unsafe { (libpq::api().PQsocket)(conn) },
            None => -1,
        }
    }

    /// Called by a latch wait when the idle connection's socket is readable: reads what the
    /// server sent. A session the server ended (`pg_terminate_backend`, shutdown) ends the
    /// worker with the server's FATAL and exit 1, as a backend told to terminate does.
    pub fn on_readable(&self) {
        let Some(conn) = self.live() else {
            return;
        };
        let api = libpq::api();
        // SAFETY: conn is live; reading input may call the notice receiver.
        unsafe { (api.PQconsumeInput)(conn) };
        loop {
            // SAFETY: conn is live; each notification is freed once.
            let n = unsafe { (api.PQnotifies)(conn) };
            if n.is_null() {
                break;
            }
            // SAFETY: n came from PQnotifies.
            unsafe { (api.PQfreemem)(n.cast()) };
        }
        // SAFETY: conn is live.
        if unsafe { (api.PQstatus)(conn) } == libpq::CONNECTION_OK {
            return;
        }
        let told = server_fatal_code() == Some(*ADMIN_SHUTDOWN);
        if told {
            // The server terminated the session as PostgreSQL terminates a backend: with
            // SIGTERM, so the worker's own SIGTERM handler decides what happens (`die` ends
            // it with FATAL at its next CHECK_FOR_INTERRUPTS, as in PostgreSQL).
            crate::latch::set_db_socket(-1);
            // SAFETY: signalling this process.
            unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            return;
        }
        self.lost(conn, None);
    }
}

/// `ERRCODE_ADMIN_SHUTDOWN`: the server terminated the session.
const ADMIN_SHUTDOWN: &[u8; 5] = b"57P01";

/// The worker's `bgw_type`, as PostgreSQL names a terminated worker.
fn worker_type() -> String {
    entry().map_or_else(String::new, |w| field_text(&w.bgw_type))
}

/// `set_config` for each (name, value) of two text arrays, skipping settings the server defines
/// with a context a session cannot set.
const SET_CONFIG_SQL: &str = "SELECT count(pg_catalog.set_config(s.n, s.v, false)) \
     FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS s(n, v) \
     LEFT JOIN pg_catalog.pg_settings p ON p.name = s.n \
     WHERE p.name IS NULL OR p.context = 'user'";

/// Two array literals (names, values) for `unnest($1::text[], $2::text[])`.
fn text_arrays(settings: &[(String, String)]) -> (String, String) {
    fn lit<'a>(items: impl Iterator<Item = &'a str>) -> String {
        let mut s = String::from("{");
        for (i, v) in items.enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('"');
            for ch in v.chars() {
                if ch == '"' || ch == '\\' {
                    s.push('\\');
                }
                s.push(ch);
            }
            s.push('"');
        }
        s.push('}');
        s
    }
    (
        lit(settings.iter().map(|(n, _)| n.as_str())),
        lit(settings.iter().map(|(_, v)| v.as_str())),
    )
}

/// The error a closed connection gives.
struct Closed;

impl Closed {
    fn error() -> Option<ServerError> {
        Some(ServerError::new(
            b"08003",
            "the database connection is closed",
        ))
    }
}

/// A CString of `bytes`, NULs replaced by spaces.
fn c_bytes(bytes: &[u8]) -> CString {
    CString::new(
        bytes
            .iter()
            .map(|&b| if b == 0 { b' ' } else { b })
            .collect::<Vec<u8>>(),
    )
    .unwrap_or_default()
}

/// A CString of `s`, NULs replaced by spaces.
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// libpq's multi-line messages on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What libpq said about a failed connection attempt, reduced to the server's own message when
/// the server sent one (`... failed: FATAL:  database "x" does not exist`).
fn failure_message(raw: &str) -> String {
    for tag in ["FATAL:  ", "ERROR:  "] {
        if let Some(i) = raw.find(tag) {
            return one_line(&raw[i + tag.len()..]);
        }
    }
    one_line(raw)
}

/// The SQLSTATE a connection failure most likely carries (libpq does not hand it over).
fn failure_code(message: &str) -> c_int {
    let code: &[u8; 5] = if message.contains("password authentication failed") {
        b"28P01"
    } else if message.starts_with("role ") || message.contains("authentication failed") {
        b"28000"
    } else if message.starts_with("database ") && message.ends_with("does not exist") {
        b"3D000"
    } else if message.contains("not currently accepting connections") {
        b"55000"
    } else {
        b"08006"
    };
    make_sqlstate(code)
}

/// FATAL with the connection-failure SQLSTATE.
fn fatal(message: &str) -> ! {
    raise_with_code(FATAL, make_sqlstate(b"08006"), message)
}

fn entry() -> Option<&'static BackgroundWorker> {
    // SAFETY: MyBgworkerEntry is NULL or this worker's private copy, set before its entry point.
    unsafe { crate::pg::MyBgworkerEntry.as_ref() }
}

fn field_text(f: &[c_char]) -> String {
    let bytes: Vec<u8> = f
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What `pgstat_report_appname` set, else the worker's `bgw_type` (its `bgw_name` when the type
/// is empty).
fn application_name() -> String {
    let p = &raw const APPNAME;
    // SAFETY: single-threaded; written only by report_appname.
    if let Some(name) = unsafe { (*p).clone() } {
        return name;
    }
    entry().map_or_else(String::new, |w| {
        let t = field_text(&w.bgw_type);
        if t.is_empty() {
            field_text(&w.bgw_name)
        } else {
            t
        }
    })
}

/// The checks every connection call makes first (CONN-1, CONN-5).
fn preflight(function: &str) {
    let Some(w) = entry() else {
        fatal(&format!("{function} called outside a background worker"));
    };
    if w.bgw_flags & BGWORKER_BACKEND_DATABASE_CONNECTION == 0 {
        raise_with_code(
            FATAL,
            make_sqlstate(b"XX000"),
            "database connection requirement not indicated during registration",
        );
    }
    if ATTEMPTED.swap(true, Ordering::SeqCst) {
        raise_with_code(
            FATAL,
            make_sqlstate(b"55000"),
            &format!(
                "{function} called more than once: this background worker already initialized its \
                 database connection"
            ),
        );
    }
}

/// Opens a connection: `database_conninfo`, then `dbname`/`user` when given, then
/// `application_name`. Returns the live connection or libpq's message.
fn open(dbname: Option<&str>, user: Option<&str>) -> Result<*mut PGconn, String> {
    let api = libpq::api();
    let conninfo = crate::guc::current().database_conninfo;
    let app = application_name();
    // Later entries override earlier ones (and the expanded conninfo in the first `dbname`).
    let mut pairs: Vec<(&str, &str)> = vec![("dbname", conninfo.as_str())];
    if let Some(d) = dbname {
        pairs.push(("dbname", d));
    }
    if let Some(u) = user {
        pairs.push(("user", u));
    }
    if !app.is_empty() {
        pairs.push(("application_name", app.as_str()));
    }
    let keys: Vec<CString> = pairs.iter().map(|(k, _)| c_string(k)).collect();
    let values: Vec<CString> = pairs.iter().map(|(_, v)| c_string(v)).collect();
    let mut kp: Vec<*const c_char> = keys.iter().map(|k| k.as_ptr()).collect();
    let mut vp: Vec<*const c_char> = values.iter().map(|v| v.as_ptr()).collect();
    kp.push(null());
    vp.push(null());
    // SAFETY: both arrays are NULL-terminated and their strings outlive the call.
    let conn = unsafe { (api.PQconnectdbParams)(kp.as_ptr(), vp.as_ptr(), 1) };
    if conn.is_null() {
        return Err("out of memory allocating a libpq connection".into());
    }
    // SAFETY: conn is a live PGconn.
    if unsafe { (api.PQstatus)(conn) } != libpq::CONNECTION_OK {
        // SAFETY: as above; the message is copied before the connection is freed.
        let msg = libpq::text(unsafe { (api.PQerrorMessage)(conn) });
        // SAFETY: conn is freed once.
        unsafe { (api.PQfinish)(conn) };
        return Err(msg);
    }
    Ok(conn)
}

impl Connection {
    fn new(conn: *mut PGconn, database: String, user: String) -> Connection {
        Connection {
            conn: Cell::new(conn),
            database,
            user,
            epoch: Cell::new(0),
            next_name: Cell::new(0),
            deallocate: RefCell::new(Vec::new()),
            pending: RefCell::new(Vec::new()),
            pushed: RefCell::new(BTreeMap::new()),
            defaults: Cell::new((1, false, false)),
        }
    }

    /// One round trip right after connecting: the database's OID and default tablespace
    /// (`MyDatabaseId`, `MyDatabaseTableSpace`), the session's transaction defaults, and the
    /// worker's custom settings set on the session, so SQL reading `current_setting('x.y')`
    /// sees what the worker sees. Settings the server refuses are reported with a WARNING and
    /// the rest is read without them.
    fn describe_session(&self) {
        let settings = crate::guc::custom::session_values();
        let r = if settings.is_empty() {
            self.exec(SESSION_SQL, &[])
        } else {
            let (names, values) = text_arrays(&settings);
            let r = self.exec(SESSION_WITH_SETTINGS_SQL, &[Some(&names), Some(&values)]);
            match r.ok() {
                Ok(()) => {
                    *self.pushed.borrow_mut() = settings.into_iter().collect();
                    r
                }
                Err(e) => {
                    crate::elog::log_with(
                        WARNING,
                        &format!(
                            "could not apply settings to the database session: {}",
                            e.message
                        ),
                        e.detail.as_deref(),
                        None,
                    );
                    self.exec(SESSION_SQL, &[])
                }
            }
        };
        if r.ok().is_err() || r.ntuples() != 1 {
            return;
        }
        let oid = |col| {
            r.text(0, col)
                .and_then(|t| t.parse::<Oid>().ok())
                .unwrap_or(0)
        };
        // SAFETY: plain stores by the worker's main thread.
        unsafe {
            crate::pg::MyDatabaseId = oid(0);
            crate::pg::MyDatabaseTableSpace = oid(1);
        }
        let iso = match r.text(0, 2).as_deref() {
            Some("read uncommitted") => 0,
            Some("repeatable read") => 2,
            Some("serializable") => 3,
            _ => 1,
        };
        let on = |col| r.text(0, col).as_deref() == Some("on");
        self.defaults.set((iso, on(3), on(4)));
        // SAFETY: plain stores by the worker's main thread.
        unsafe {
            crate::pg::DefaultXactIsoLevel = iso;
            crate::pg::DefaultXactReadOnly = on(3);
            crate::pg::DefaultXactDeferrable = on(4);
        }
    }
}

/// What `describe_session` asks.
const SESSION_SQL: &str = "SELECT d.oid, d.dattablespace, \
     pg_catalog.current_setting('default_transaction_isolation'), \
     pg_catalog.current_setting('default_transaction_read_only'), \
     pg_catalog.current_setting('default_transaction_deferrable') \
     FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()";

/// `SESSION_SQL` with the worker's custom settings set in the same statement.
const SESSION_WITH_SETTINGS_SQL: &str = "SELECT d.oid, d.dattablespace, \
     pg_catalog.current_setting('default_transaction_isolation'), \
     pg_catalog.current_setting('default_transaction_read_only'), \
     pg_catalog.current_setting('default_transaction_deferrable'), \
     (SELECT count(pg_catalog.set_config(s.n, s.v, false)) \
        FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS s(n, v) \
        LEFT JOIN pg_catalog.pg_settings p ON p.name = s.n \
       WHERE p.name IS NULL OR p.context = 'user') \
     FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()";

/// The name `pgstat_report_appname` gave before the worker connected.
static mut APPNAME: Option<String> = None;

/// `pgstat_report_appname`: the session's `application_name` becomes `name` (now, or when the
/// current transaction block ends: PostgreSQL's is not undone by a rollback). Before the worker
/// connects, it is kept for the connection.
pub fn report_appname(name: &str) {
    crate::elog::set_application_name(name);
    match connection() {
        Some(c) => c.set_session("application_name", name),
        // SAFETY: single-threaded; read only by application_name().
        None => unsafe { APPNAME = Some(name.to_owned()) },
    }
}

/// Runs one single-value query on a short-lived connection (conninfo defaults, database
/// `dbname` when given): `Ok(None)` when it returns no row.
fn lookup(dbname: Option<&str>, sql: &str, param: &str) -> Result<Option<String>, String> {
    let conn = open(dbname, None)?;
    let api = libpq::api();
    let c = Connection::new(conn, String::new(), String::new());
    let out = {
        let r = c.exec(sql, &[Some(param)]);
        match r.ok() {
            Ok(()) if r.ntuples() > 0 && !r.is_null(0, 0) => {
                Ok(Some(String::from_utf8_lossy(r.value(0, 0)).into_owned()))
            }
            Ok(()) => Ok(None),
            Err(e) => Err(e.message),
        }
    };
    // SAFETY: conn is freed once; c is not used after.
    unsafe { (api.PQfinish)(conn) };
    out
}

/// The connection itself, with the failure rules (FATAL carrying the server's message; the
/// `BGWORKER_BYPASS_ALLOWCONN` limitation).
fn connect(dbname: Option<&str>, user: Option<&str>, flags: u32) {
    // Loaded here so a missing libpq is reported before anything else.
    libpq::api();
    let database = dbname.unwrap_or("postgres");
    match open(Some(database), user) {
        Ok(conn) => {
            // The server reports the session's role at start-up: no round trip needed.
            // SAFETY: conn is live; the name is NUL-terminated; the value is copied at once.
            let reported = libpq::text(unsafe {
                (libpq::api().PQparameterStatus)(conn, c"session_authorization".as_ptr())
            });
            let user = if reported.is_empty() {
                user.unwrap_or_default().to_owned()
            } else {
                reported
            };
            // SAFETY: conn is live; the receiver is a plain function that never unwinds.
            unsafe { (libpq::api().PQsetNoticeReceiver)(conn, Some(notice_receiver), null_mut()) };
            // The log names the session from now on (`%u`, `%d`, `%a`, csvlog, jsonlog).
            crate::elog::set_session(&user, database);
            crate::elog::set_application_name(&application_name());
            let c: &'static Connection =
                Box::leak(Box::new(Connection::new(conn, database.to_owned(), user)));
            // SAFETY: set once, by the worker's main thread.
            unsafe { CONNECTION = Some(c) };
            c.describe_session();
            // As PostgreSQL's ShutdownPostgres: a transaction open at exit is aborted (its
            // callbacks run); the server rolls it back when the connection closes.
            crate::worker::exit::register(
                crate::worker::exit::Which::BeforeShmemExit,
                Some(super::xact::shutdown_transaction),
                0,
            );
            // Every latch wait now also watches the session: a terminated one ends the worker.
            crate::latch::set_db_socket(c.socket());
            // SAFETY: single-threaded; TopMemoryContext is live.
            unsafe {
                if crate::mcxt::CacheMemoryContext.is_null() {
                    crate::mcxt::CacheMemoryContext = crate::mcxt::create(
                        crate::mcxt::TopMemoryContext,
                        c"CacheMemoryContext".as_ptr(),
                    );
                }
            }
        }
        Err(raw) => {
            if flags & BGWORKER_BYPASS_ALLOWCONN != 0 && refuses_connections(database) {
                raise_with_code(
                    FATAL,
                    make_sqlstate(b"55000"),
                    &format!(
                        "database \"{database}\" is not currently accepting connections: \
                         BGWORKER_BYPASS_ALLOWCONN cannot be honoured because the worker connects \
                         as a client, and a client connection cannot bypass datallowconn \
                         (set datallowconn = true on the database, or connect to another one)"
                    ),
                );
            }
            connection_failed(&raw);
        }
    }
}

/// FATAL for a connection attempt that failed. When the server answered and refused, its own
/// message (with the SQLSTATE it most likely carries); when nothing answered, where we looked:
/// libpq's lines as DETAIL, and a HINT about `database_conninfo`.
fn connection_failed(raw: &str) -> ! {
    if raw.contains("FATAL:  ") || raw.contains("ERROR:  ") {
        let message = failure_message(raw);
        raise_with_code(FATAL, failure_code(&message), &message);
    }
    let conninfo_empty = crate::guc::current().database_conninfo.trim().is_empty();
    let detail = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let hint = if conninfo_empty {
        "database_conninfo is empty, so libpq's defaults and the PG* environment were used: set \
         database_conninfo in bgworker.conf to a libpq connection string naming the server (for \
         example 'host=/var/run/postgresql port=5432')."
    } else {
        "Check that the server database_conninfo names is running and accepts connections there."
    };
    crate::pg::report_detail(
        FATAL,
        make_sqlstate(b"08006"),
        "could not connect to the database server".into(),
        Some(detail),
        Some(hint.into()),
    );
    unreachable!("a FATAL report ends the process")
}

/// True when the catalog says `datallowconn` is false for `database` (asked on a short-lived
/// connection to the conninfo's default database; false when that cannot be asked).
fn refuses_connections(database: &str) -> bool {
    matches!(
        lookup(
            None,
            "SELECT datallowconn::text FROM pg_catalog.pg_database WHERE datname = $1",
            database
        ),
        Ok(Some(v)) if v == "false"
    )
}

/// `BackgroundWorkerInitializeConnection`.
pub fn initialize_connection(dbname: Option<&str>, username: Option<&str>, flags: u32) {
    preflight("BackgroundWorkerInitializeConnection");
    connect(dbname, username, flags);
    // As PostgreSQL's backend start-up (its relation cache) does.
    crate::mcxt::create_cache_memory_context();
}

/// `BackgroundWorkerInitializeConnectionByOid`: the OIDs are resolved through the catalog on a
/// short-lived connection to the conninfo's default database; `InvalidOid` means NULL.
pub fn initialize_connection_by_oid(dboid: Oid, useroid: Oid, flags: u32) {
    preflight("BackgroundWorkerInitializeConnectionByOid");
    libpq::api();
    let resolve = |oid: Oid, sql: &str, missing: String| -> Option<String> {
        if oid == 0 {
            return None;
        }
        match lookup(None, sql, &oid.to_string()) {
            Ok(Some(name)) => Some(name),
            Ok(None) => raise_with_code(FATAL, make_sqlstate(b"3D000"), &missing),
            Err(raw) => connection_failed(&raw),
        }
    };
    let database = resolve(
        dboid,
        "SELECT datname::text FROM pg_catalog.pg_database WHERE oid = $1::oid",
        format!("database {dboid} does not exist"),
    );
    let user = resolve(
        useroid,
        "SELECT rolname::text FROM pg_catalog.pg_roles WHERE oid = $1::oid",
        format!("role with OID {useroid} does not exist"),
    );
    connect(database.as_deref(), user.as_deref(), flags);
    crate::mcxt::create_cache_memory_context();
}

/// Closes the worker's connection at process exit. Safe from a signal handler (it may run from
/// `proc_exit` there): no allocation, only `write` and `close` on the socket. Over a plain
/// socket a Terminate message is sent first, so the server ends the session as after
/// `PQfinish`; either way the server rolls back any open transaction.
pub fn close() {
    let Some(c) = connection() else {
        return;
    };
    let conn = c.conn.replace(std::ptr::null_mut());
    if conn.is_null() {
        return;
    }
    let Some(api) = libpq::loaded() else {
        return;
    };
    // SAFETY: conn is live; these only read its fields.
    let (fd, ssl) = unsafe { ((api.PQsocket)(conn), (api.PQsslInUse)(conn) != 0) };
    if fd < 0 {
        return;
    }
    if !ssl {
        // 'X' with a length of 4: the protocol's Terminate message.
        const TERMINATE: [u8; 5] = [b'X', 0, 0, 0, 4];
        // SAFETY: writing a constant buffer to the connection's socket.
        let _ = unsafe { libc::write(fd, TERMINATE.as_ptr().cast(), TERMINATE.len()) };
    }
    // SAFETY: fd is the connection's socket, not used again (the PGconn is dropped with the
    // process).
    unsafe { libc::close(fd) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_message_is_extracted() {
        let raw = "connection to server on socket \"/tmp/s/.s.PGSQL.5\" failed: FATAL:  database \"nope\" does not exist\n";
        assert_eq!(failure_message(raw), "database \"nope\" does not exist");
        assert_eq!(failure_code(&failure_message(raw)), make_sqlstate(b"3D000"));
        let down = "connection to server on socket \"/x/.s.PGSQL.1\" failed: No such file or directory\n\tIs the server running locally?\n";
        assert_eq!(
            failure_message(down),
            "connection to server on socket \"/x/.s.PGSQL.1\" failed: No such file or directory Is the server running locally?"
        );
        assert_eq!(
            failure_code(&failure_message(down)),
            make_sqlstate(b"08006")
        );
    }
}
