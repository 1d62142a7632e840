//! Transactions on the worker's connection: `StartTransactionCommand` sends BEGIN,
//! `CommitTransactionCommand` COMMIT (ROLLBACK when a statement failed inside), and
//! `AbortCurrentTransaction` ROLLBACK. Snapshots are the server's business; the snapshot calls
//! only keep PostgreSQL's bookkeeping (and its state checks) so misuse is reported as an ERROR.

use crate::pg::types::{ERROR, WARNING};
use crate::pg::{make_sqlstate, raise_with_code};
use std::cell::Cell;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// No transaction.
    Idle,
    /// BEGIN sent, every statement so far succeeded.
    InProgress,
    /// A statement failed: only ROLLBACK is possible now.
    Failed,
}

struct Xact {
    state: Cell<State>,
    /// Depth of the active-snapshot stack.
    active_snapshots: Cell<usize>,
    /// `GetCurrentStatementStartTimestamp`'s value, microseconds since 2000-01-01.
    statement_start: Cell<i64>,
}

// SAFETY: a worker is single-threaded; this state is only touched from its main thread.
unsafe impl Sync for Xact {}

static XACT: Xact = Xact {
    state: Cell::new(State::Idle),
    active_snapshots: Cell::new(0),
    statement_start: Cell::new(0),
};

/// `ERRCODE_INVALID_TRANSACTION_STATE`.
const INVALID_TRANSACTION_STATE: &[u8; 5] = b"25000";
/// `ERRCODE_CONNECTION_DOES_NOT_EXIST`.
const CONNECTION_DOES_NOT_EXIST: &[u8; 5] = b"08003";

/// True between `StartTransactionCommand` and the commit or abort.
pub fn in_transaction() -> bool {
    XACT.state.get() != State::Idle
}

/// True when a statement failed inside the current transaction.
pub fn failed() -> bool {
    XACT.state.get() == State::Failed
}

/// Records that a statement failed inside the current transaction (the commit becomes a
/// ROLLBACK). No effect outside a transaction.
pub fn mark_failed() {
    if XACT.state.get() == State::InProgress {
        XACT.state.set(State::Failed);
    }
}

fn misuse(message: &str) -> ! {
    raise_with_code(ERROR, make_sqlstate(INVALID_TRANSACTION_STATE), message)
}

fn reset() {
    XACT.state.set(State::Idle);
    XACT.active_snapshots.set(0);
}

/// Runs a transaction-control statement; a server error is raised as ERROR with its SQLSTATE.
fn control(function: &str, sql: &str) {
    let Some(conn) = super::connection() else {
        raise_with_code(
            ERROR,
            make_sqlstate(CONNECTION_DOES_NOT_EXIST),
            &format!(
                "{function}: no database connection (call BackgroundWorkerInitializeConnection first)"
            ),
        );
    };
    let outcome = conn.exec(sql, &[]).ok();
    if let Err(e) = outcome {
        let code = e.code();
        let message = e.message;
        raise_with_code(ERROR, code, &message);
    }
}

/// `StartTransactionCommand`.
pub fn start() {
    if in_transaction() {
        misuse("StartTransactionCommand: a transaction is already in progress");
    }
    set_statement_start();
    control("StartTransactionCommand", "BEGIN");
    XACT.state.set(State::InProgress);
    crate::eoxact::at_start();
    XACT.active_snapshots.set(0);
}

/// `CommitTransactionCommand`: COMMIT, or ROLLBACK when the transaction failed.
pub fn commit() {
    match XACT.state.get() {
        State::Idle => misuse("CommitTransactionCommand: no transaction is in progress"),
        State::Failed => {
            reset();
            super::spi::at_end_of_transaction(false);
            crate::eoxact::at_end(false);
            control("CommitTransactionCommand", "ROLLBACK");
        }
        State::InProgress => {
            if XACT.active_snapshots.get() > 0 {
                crate::elog::log(WARNING, format_args!("snapshot still active at commit"));
            }
            // Whatever the server answers, the transaction is over.
            reset();
            super::spi::at_end_of_transaction(true);
            crate::eoxact::at_end(true);
            control("CommitTransactionCommand", "COMMIT");
        }
    }
}

/// `AbortCurrentTransaction`: ROLLBACK; nothing to do outside a transaction.
pub fn abort() {
    if !in_transaction() {
        return;
    }
    reset();
    super::spi::at_end_of_transaction(false);
    crate::eoxact::at_end(false);
    if let Some(conn) = super::connection() {
        // A failed ROLLBACK leaves nothing to undo: the server ends the transaction anyway.
        let _ = conn.exec("ROLLBACK", &[]);
    }
}

/// `IsTransactionState`.
pub fn is_transaction_state() -> bool {
    in_transaction()
}

/// `SetCurrentStatementStartTimestamp`.
pub fn set_statement_start() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    // PostgreSQL's epoch is 2000-01-01 00:00:00 UTC.
    XACT.statement_start.set(now - 946_684_800_000_000);
}

/// `GetCurrentStatementStartTimestamp`'s value.
pub fn statement_start() -> i64 {
    XACT.statement_start.get()
}

/// `GetTransactionSnapshot`: checks a transaction is in progress.
pub fn get_snapshot() {
    if !in_transaction() {
        misuse("GetTransactionSnapshot: no transaction is in progress");
    }
}

/// `PushActiveSnapshot`.
pub fn push_snapshot(valid: bool) {
    if !valid {
        misuse("PushActiveSnapshot: the snapshot is NULL");
    }
    if !in_transaction() {
        misuse("PushActiveSnapshot: no transaction is in progress");
    }
    XACT.active_snapshots.set(XACT.active_snapshots.get() + 1);
}

/// `PopActiveSnapshot`.
pub fn pop_snapshot() {
    let n = XACT.active_snapshots.get();
    if n == 0 {
        misuse("PopActiveSnapshot: no active snapshot to pop");
    }
    XACT.active_snapshots.set(n - 1);
}

/// `ActiveSnapshotSet`.
pub fn active_snapshot_set() -> bool {
    XACT.active_snapshots.get() > 0
}
