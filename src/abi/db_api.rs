//! Exports: the database connection (`BackgroundWorkerInitializeConnection[ByOid]`), transactions
//! (`access/xact.h`), the snapshot bookkeeping (`utils/snapmgr.h`), `pgstat_report_stat`,
//! `debug_query_string` and the quoting helpers of `utils/builtins.h`. Functions that may raise
//! ERROR carry no panic boundary: the core code they call raises through the C shim instead of
//! panicking, and a longjmp must not cross a `catch_unwind` frame.
#![allow(non_upper_case_globals)]

use crate::db::{quote, xact};
use crate::pg::types::{Oid, TimestampTz};
use libc::{c_char, c_long};
use std::ptr::null;

/// A snapshot (`utils/snapshot.h`): opaque here, the server keeps the real ones.
pub struct SnapshotData {
    _private: [u8; 0],
}

/// `Snapshot`: a pointer to an opaque `SnapshotData`.
pub type Snapshot = *mut SnapshotData;

/// What `GetTransactionSnapshot` hands out: one token, compared by address.
static SNAPSHOT_TOKEN: u8 = 0;

fn snapshot_token() -> Snapshot {
    (&raw const SNAPSHOT_TOKEN).cast_mut().cast()
}

/// The statement being run, for error reports; NULL here (statements run on the server).
#[no_mangle]
pub static mut debug_query_string: *const c_char = null();

/// Connects this worker to database `dbname` (NULL: `postgres`) as `username` (NULL: the
/// `database_conninfo` user). Needs `BGWORKER_BACKEND_DATABASE_CONNECTION` in the registration;
/// any failure, or a second call, is FATAL (exit 1).
///
/// # Safety
/// `dbname` and `username` must be NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn BackgroundWorkerInitializeConnection(
    dbname: *const c_char,
    username: *const c_char,
    flags: u32,
) {
    export!(raises, BackgroundWorkerInitializeConnection, {
        // SAFETY: as the caller promises.
        let (db, user) = unsafe { (crate::pg::cstr(dbname), crate::pg::cstr(username)) };
        let db = db.map(|b| String::from_utf8_lossy(b).into_owned());
        let user = user.map(|b| String::from_utf8_lossy(b).into_owned());
        crate::db::conn::initialize_connection(db.as_deref(), user.as_deref(), flags);
    })
}

/// `BackgroundWorkerInitializeConnection` by OIDs, resolved through the server's catalog;
/// `InvalidOid` means the same as NULL there.
#[no_mangle]
pub extern "C" fn BackgroundWorkerInitializeConnectionByOid(dboid: Oid, useroid: Oid, flags: u32) {
    export!(raises, BackgroundWorkerInitializeConnectionByOid, {
        crate::db::conn::initialize_connection_by_oid(dboid, useroid, flags);
    })
}

/// Starts a transaction (BEGIN on the worker's connection); ERROR if one is in progress.
#[no_mangle]
pub extern "C" fn StartTransactionCommand() {
    export!(raises, StartTransactionCommand, {
        xact::start();
    })
}

/// Commits the transaction (ROLLBACK instead when a statement in it failed); ERROR when none is
/// in progress, or with the server's SQLSTATE when the commit fails (the transaction is then
/// rolled back). The pre-commit callbacks run first, the commit or abort callbacks after.
#[no_mangle]
pub extern "C" fn CommitTransactionCommand() {
    export!(raises, CommitTransactionCommand, {
        if let Err(e) = xact::commit() {
            super::spi_api::raise(crate::db::spi::ExecError::Server(e));
        }
    })
}

/// Rolls the current transaction back; nothing happens outside a transaction.
#[no_mangle]
pub extern "C" fn AbortCurrentTransaction() {
    export!(raises, AbortCurrentTransaction, {
        xact::abort();
    })
}

/// True while a transaction is in progress.
#[no_mangle]
pub extern "C" fn IsTransactionState() -> bool {
    export!(raises, IsTransactionState, { xact::is_transaction_state() })
}

/// Records the current time as the statement start.
#[no_mangle]
pub extern "C" fn SetCurrentStatementStartTimestamp() {
    export!(raises, SetCurrentStatementStartTimestamp, {
        xact::set_statement_start();
    })
}

/// The time last recorded by `SetCurrentStatementStartTimestamp`.
#[no_mangle]
pub extern "C" fn GetCurrentStatementStartTimestamp() -> TimestampTz {
    export!(raises, GetCurrentStatementStartTimestamp, {
        xact::statement_start()
    })
}

/// A snapshot for the current transaction (non-NULL, opaque); ERROR outside a transaction.
#[no_mangle]
pub extern "C" fn GetTransactionSnapshot() -> Snapshot {
    export!(raises, GetTransactionSnapshot, {
        xact::get_snapshot();
        snapshot_token()
    })
}

/// Makes `snapshot` the active one; ERROR for NULL or outside a transaction.
#[no_mangle]
pub extern "C" fn PushActiveSnapshot(snapshot: Snapshot) {
    export!(raises, PushActiveSnapshot, {
        xact::push_snapshot(!snapshot.is_null());
    })
}

/// Removes the active snapshot; ERROR when none is active.
#[no_mangle]
pub extern "C" fn PopActiveSnapshot() {
    export!(raises, PopActiveSnapshot, {
        xact::pop_snapshot();
    })
}

/// True when a snapshot is active.
#[no_mangle]
pub extern "C" fn ActiveSnapshotSet() -> bool {
    export!(raises, ActiveSnapshotSet, { xact::active_snapshot_set() })
}

/// The active snapshot, or NULL when none is.
#[no_mangle]
pub extern "C" fn GetActiveSnapshot() -> Snapshot {
    export!(raises, GetActiveSnapshot, {
        if xact::active_snapshot_set() {
            snapshot_token()
        } else {
            std::ptr::null_mut()
        }
    })
}

/// `pgstat_report_appname`: the worker's `application_name` on its database session becomes
/// `appname` (`SET application_name`, applied once no transaction block is open, so a rollback
/// does not undo it). Before the worker connects, the name is kept for its connection.
///
/// # Safety
/// `appname` must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pgstat_report_appname(appname: *const c_char) {
    export!(boundary, pgstat_report_appname, (), {
        // SAFETY: as the caller promises.
        if let Some(name) = unsafe { crate::pg::cstr(appname) } {
            crate::db::conn::report_appname(&String::from_utf8_lossy(name));
        }
    })
}

/// Statistics are the server's: nothing to flush; returns 0 (no wait needed).
#[no_mangle]
pub extern "C" fn pgstat_report_stat(force: bool) -> c_long {
    export!(raises, pgstat_report_stat, {
        let _ = force;
        0
    })
}

/// `ident` itself when it can be used bare in SQL, else a palloc'd double-quoted copy with `"`
/// doubled.
///
/// # Safety
/// `ident` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn quote_identifier(ident: *const c_char) -> *const c_char {
    export!(raises, quote_identifier, {
        // SAFETY: as the caller promises.
        let Some(text) = (unsafe { crate::pg::cstr(ident) }) else {
            return ident;
        };
        match quote::quote_identifier(text) {
            None => ident,
            Some(q) => palloc_copy(&q),
        }
    })
}

/// A palloc'd SQL literal of `rawstr`: `'...'` with `'` doubled, `E'...'` with backslashes
/// doubled too when it has one.
///
/// # Safety
/// `rawstr` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn quote_literal_cstr(rawstr: *const c_char) -> *mut c_char {
    export!(raises, quote_literal_cstr, {
        // SAFETY: as the caller promises.
        let text = unsafe { crate::pg::cstr(rawstr) }.unwrap_or(b"");
        palloc_copy(&quote::quote_literal(text))
    })
}

/// `bytes` plus a NUL in `CurrentMemoryContext`.
fn palloc_copy(bytes: &[u8]) -> *mut c_char {
    // SAFETY: bytes has bytes.len() readable bytes; NULL context is reported as ERROR.
    unsafe {
        crate::mcxt::copy_string(
            crate::mcxt::CurrentMemoryContext,
            bytes.as_ptr().cast(),
            bytes.len(),
        )
    }
}
