//! The worker's database connection (`BackgroundWorkerInitializeConnection[ByOid]`): one libpq
//! connection per worker, opened once, kept for the worker's life and closed at process exit.
//!
//! Where it goes: the `database_conninfo` setting (a libpq conninfo string; empty = libpq's
//! defaults and the `PG*` environment), with the call's database and user on top. A NULL
//! database means `postgres`; a NULL user, the conninfo's. `application_name` is the worker's
//! `bgw_type`, so the worker shows in the server's `pg_stat_activity`.

use super::libpq::{self, PGconn, PGresult};
use crate::pg::types::{BackgroundWorker, Oid, FATAL};
use crate::pg::{make_sqlstate, raise_with_code};
use libc::{c_char, c_int};
use std::cell::Cell;
use std::ffi::CString;
use std::ptr::null;
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
}

impl ServerError {
    /// The SQLSTATE in PostgreSQL's `MAKE_SQLSTATE` encoding.
    pub fn code(&self) -> c_int {
        make_sqlstate(&self.sqlstate)
    }
}

/// The worker's connection.
pub struct Connection {
    conn: Cell<*mut PGconn>,
    database: String,
    user: String,
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
                // SAFETY: res came from PQexecParams and is cleared once.
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

    fn field(&self, code: c_int) -> Option<String> {
        // SAFETY: res is a live PGresult; the field is NULL or a string owned by it.
        let p = unsafe { (libpq::api().PQresultErrorField)(self.res, code) };
        (!p.is_null()).then(|| libpq::text(p))
    }

    /// Ok for a statement that succeeded, else the server's error.
    pub fn ok(&self) -> Result<(), ServerError> {
        match self.status() {
            libpq::PGRES_COMMAND_OK | libpq::PGRES_TUPLES_OK | libpq::PGRES_EMPTY_QUERY => Ok(()),
            -1 => Err(ServerError {
                sqlstate: *b"08006",
                message: self
                    .lost
                    .clone()
                    .unwrap_or_else(|| "no connection to the server".into()),
                detail: None,
                hint: None,
            }),
            _ => {
                let sqlstate = self
                    .field(libpq::PG_DIAG_SQLSTATE)
                    .and_then(|s| <[u8; 5]>::try_from(s.as_bytes()).ok())
                    .unwrap_or(*b"08006");
                let message = self
                    .field(libpq::PG_DIAG_MESSAGE_PRIMARY)
                    .unwrap_or_else(|| {
                        // SAFETY: res is a live PGresult.
                        let m = unsafe { (libpq::api().PQresultErrorMessage)(self.res) };
                        one_line(&libpq::text(m))
                    });
                Err(ServerError {
                    sqlstate,
                    message,
                    detail: self.field(libpq::PG_DIAG_MESSAGE_DETAIL),
                    hint: self.field(libpq::PG_DIAG_MESSAGE_HINT),
                })
            }
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
}

impl Connection {
    /// Runs one statement with text-format parameters (`$1`..), text-format results.
    ///
    /// A connection lost on the way (the server restarted or went away) ends the worker with
    /// FATAL, exit 1, as a backend whose postmaster died would.
    pub fn exec(&self, sql: &str, params: &[Option<&str>]) -> QueryResult {
        let api = libpq::api();
        let conn = self.conn.get();
        if conn.is_null() {
            return QueryResult {
                res: std::ptr::null_mut(),
                lost: Some("the database connection is closed".into()),
            };
        }
        let res = {
            let sql = c_string(sql);
            let owned: Vec<Option<CString>> = params.iter().map(|p| p.map(c_string)).collect();
            let ptrs: Vec<*const c_char> = owned
                .iter()
                .map(|p| p.as_ref().map_or(null(), |c| c.as_ptr()))
                .collect();
            // SAFETY: conn is live; sql and the parameters are NUL-terminated and outlive the
            // call; NULL types/lengths/formats mean text parameters with inferred types.
            unsafe {
                (api.PQexecParams)(
                    conn,
                    sql.as_ptr(),
                    ptrs.len() as c_int,
                    null(),
                    if ptrs.is_empty() {
                        null()
                    } else {
                        ptrs.as_ptr()
                    },
                    null(),
                    null(),
                    0,
                )
            }
        };
        // SAFETY: conn is live.
        let broken = unsafe { (api.PQstatus)(conn) } != libpq::CONNECTION_OK;
        if broken {
            // SAFETY: conn is live; the message is owned by it.
            let why = one_line(&libpq::text(unsafe { (api.PQerrorMessage)(conn) }));
            if !res.is_null() {
                // SAFETY: res came from PQexecParams above.
                unsafe { (api.PQclear)(res) };
            }
            raise_with_code(
                FATAL,
                make_sqlstate(b"08006"),
                &format!("lost the connection to the database server: {why}"),
            );
        }
        QueryResult {
            res,
            lost: res.is_null().then(|| {
                // SAFETY: conn is live; the message is owned by it.
                one_line(&libpq::text(unsafe { (api.PQerrorMessage)(conn) }))
            }),
        }
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
        let conn = self.conn.get();
        if conn.is_null() {
            return 0;
        }
        // SAFETY: conn is live.
        unsafe { (libpq::api().PQbackendPID)(conn) }
    }

    /// The connection's socket (`PQsocket`), -1 when closed.
    pub fn socket(&self) -> c_int {
        let conn = self.conn.get();
        if conn.is_null() {
            return -1;
        }
        // SAFETY: conn is live.
        unsafe { (libpq::api().PQsocket)(conn) }
    }
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

/// The worker's `bgw_type` (its `bgw_name` when the type is empty).
fn application_name() -> String {
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

/// Runs one single-value query on a short-lived connection (conninfo defaults, database
/// `dbname` when given): `Ok(None)` when it returns no row.
fn lookup(dbname: Option<&str>, sql: &str, param: &str) -> Result<Option<String>, String> {
    let conn = open(dbname, None)?;
    let api = libpq::api();
    let c = Connection {
        conn: Cell::new(conn),
        database: String::new(),
        user: String::new(),
    };
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
            let c: &'static Connection = Box::leak(Box::new(Connection {
                conn: Cell::new(conn),
                database: database.to_owned(),
                user,
            }));
            // SAFETY: set once, by the worker's main thread.
            unsafe { CONNECTION = Some(c) };
        }
        Err(raw) => {
            let message = failure_message(&raw);
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
            raise_with_code(FATAL, failure_code(&message), &message);
        }
    }
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
            Err(raw) => {
                let message = failure_message(&raw);
                raise_with_code(FATAL, failure_code(&message), &message)
            }
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
