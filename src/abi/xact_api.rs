//! Exports: transaction state and events (`access/xact.h` beyond start/commit/abort):
//! subtransactions, transaction callbacks, transaction ids, the state queries modules use.
//! Logic in `crate::db::xact`. Declared by hand in include/access/xact.h with PostgreSQL 15's
//! enum types, so kept out of bgworker.h.
//!
//! Functions that run transaction callbacks (module code, which may raise ERROR) carry no panic
//! boundary: a longjmp must not cross a `catch_unwind` frame.

use super::spi_api::raise;
use crate::db::spi::ExecError;
use crate::db::xact::{self, SubXactCallback, XactCallback};
use crate::pg::types::TimestampTz;
use libc::{c_char, c_int, c_void};

fn raise_server(e: crate::db::ServerError) -> ! {
    raise(ExecError::Server(e))
}

/// `BeginInternalSubTransaction`: a subtransaction (a savepoint on the server) inside the
/// current transaction; the caller's memory context stays current. `name` is not used: the
/// savepoint gets a name of its own.
#[no_mangle]
pub extern "C" fn BeginInternalSubTransaction(_name: *const c_char) {
    export!(raises, BeginInternalSubTransaction, {
        if let Err(e) = xact::begin_sub() {
            raise_server(e);
        }
    })
}

/// `ReleaseCurrentSubTransaction`: commits the innermost subtransaction into its parent.
#[no_mangle]
pub extern "C" fn ReleaseCurrentSubTransaction() {
    export!(raises, ReleaseCurrentSubTransaction, {
        if let Err(e) = xact::release_sub() {
            raise_server(e);
        }
    })
}

/// `RollbackAndReleaseCurrentSubTransaction`: rolls the innermost subtransaction back (also
/// after an error in it), leaving its parent usable.
#[no_mangle]
pub extern "C" fn RollbackAndReleaseCurrentSubTransaction() {
    export!(raises, RollbackAndReleaseCurrentSubTransaction, {
        if let Err(e) = xact::rollback_sub() {
            raise_server(e);
        }
    })
}

/// `AbortOutOfAnyTransaction`: rolls back whatever is open.
#[no_mangle]
pub extern "C" fn AbortOutOfAnyTransaction() {
    export!(raises, AbortOutOfAnyTransaction, { xact::abort() })
}

/// `RegisterXactCallback`: `callback(event, arg)` at every transaction's pre-commit, commit
/// and abort (`XACT_EVENT_*`); the newest registered runs first.
#[no_mangle]
pub extern "C" fn RegisterXactCallback(callback: XactCallback, arg: *mut c_void) {
    export!(boundary, RegisterXactCallback, (), {
        xact::register_xact_callback(callback, arg)
    })
}

/// `UnregisterXactCallback`.
#[no_mangle]
pub extern "C" fn UnregisterXactCallback(callback: XactCallback, arg: *mut c_void) {
    export!(boundary, UnregisterXactCallback, (), {
        xact::unregister_xact_callback(callback, arg)
    })
}

/// `RegisterSubXactCallback`: `callback(event, mySubid, parentSubid, arg)` at every
/// subtransaction's start, pre-commit, commit and abort (`SUBXACT_EVENT_*`).
#[no_mangle]
pub extern "C" fn RegisterSubXactCallback(callback: SubXactCallback, arg: *mut c_void) {
    export!(boundary, RegisterSubXactCallback, (), {
        xact::register_subxact_callback(callback, arg)
    })
}

/// `UnregisterSubXactCallback`.
#[no_mangle]
pub extern "C" fn UnregisterSubXactCallback(callback: SubXactCallback, arg: *mut c_void) {
    export!(boundary, UnregisterSubXactCallback, (), {
        xact::unregister_subxact_callback(callback, arg)
    })
}

fn xid(assign: bool) -> u32 {
    let outcome = super::boundary("GetTopTransactionId", Ok(0), || xact::top_xid(assign));
    match outcome {
        Ok(x) => x,
        Err(e) => raise_server(e),
    }
}

/// `GetTopTransactionId`: the transaction's id, assigned by the server if it has none yet.
#[no_mangle]
pub extern "C" fn GetTopTransactionId() -> u32 {
    export!(raises, GetTopTransactionId, { xid(true) })
}

/// `GetTopTransactionIdIfAny`: the transaction's id, or `InvalidTransactionId` (0) when none
/// is assigned yet.
#[no_mangle]
pub extern "C" fn GetTopTransactionIdIfAny() -> u32 {
    export!(raises, GetTopTransactionIdIfAny, {
        if !xact::in_transaction() {
            return 0;
        }
        xid(false)
    })
}

/// `GetCurrentTransactionId`: as `GetTopTransactionId` (inside a subtransaction too: the
/// server gives no SQL access to a subtransaction's own id).
#[no_mangle]
pub extern "C" fn GetCurrentTransactionId() -> u32 {
    export!(raises, GetCurrentTransactionId, { xid(true) })
}

/// `GetCurrentTransactionIdIfAny`: as `GetTopTransactionIdIfAny`.
#[no_mangle]
pub extern "C" fn GetCurrentTransactionIdIfAny() -> u32 {
    export!(raises, GetCurrentTransactionIdIfAny, {
        if !xact::in_transaction() {
            return 0;
        }
        xid(false)
    })
}

/// `GetCurrentSubTransactionId`: 1 at the top level, a new id per subtransaction.
#[no_mangle]
pub extern "C" fn GetCurrentSubTransactionId() -> u32 {
    export!(boundary, GetCurrentSubTransactionId, 0, {
        xact::current_subid()
    })
}

/// `GetCurrentTransactionNestLevel`: 0 outside a transaction, 1 at the top, +1 per
/// subtransaction.
#[no_mangle]
pub extern "C" fn GetCurrentTransactionNestLevel() -> c_int {
    export!(boundary, GetCurrentTransactionNestLevel, 0, {
        xact::nest_level()
    })
}

/// `IsSubTransaction`.
#[no_mangle]
pub extern "C" fn IsSubTransaction() -> bool {
    export!(boundary, IsSubTransaction, false, {
        xact::is_subtransaction()
    })
}

/// `IsTransactionBlock`: false for a worker's transaction, as in PostgreSQL, until a
/// subtransaction is open.
#[no_mangle]
pub extern "C" fn IsTransactionBlock() -> bool {
    export!(boundary, IsTransactionBlock, false, {
        xact::is_transaction_block()
    })
}

/// `IsTransactionOrTransactionBlock`.
#[no_mangle]
pub extern "C" fn IsTransactionOrTransactionBlock() -> bool {
    export!(boundary, IsTransactionOrTransactionBlock, false, {
        xact::in_transaction()
    })
}

/// `IsAbortedTransactionBlockState`: true when a statement failed and the transaction (or the
/// subtransaction) can only be rolled back.
#[no_mangle]
pub extern "C" fn IsAbortedTransactionBlockState() -> bool {
    export!(boundary, IsAbortedTransactionBlockState, false, {
        xact::failed()
    })
}

/// `TransactionBlockStatusCode`: 'I' idle, 'T' in a transaction, 'E' in a failed one.
#[no_mangle]
pub extern "C" fn TransactionBlockStatusCode() -> c_char {
    export!(boundary, TransactionBlockStatusCode, b'I' as c_char, {
        xact::block_status_code() as c_char
    })
}

/// `GetCurrentTransactionStartTimestamp`: the statement start when the transaction started.
#[no_mangle]
pub extern "C" fn GetCurrentTransactionStartTimestamp() -> TimestampTz {
    export!(boundary, GetCurrentTransactionStartTimestamp, 0, {
        xact::transaction_start()
    })
}

/// `CommandCounterIncrement`: nothing to do (each statement on the server sees the ones
/// before it).
#[no_mangle]
pub extern "C" fn CommandCounterIncrement() {
    export!(raises, CommandCounterIncrement, {})
}
