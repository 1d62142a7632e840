//! Transactions on the worker's connection, with PostgreSQL's life cycle around them.
//!
//! `StartTransactionCommand` starts the worker's transaction locally: `XactIsoLevel`,
//! `XactReadOnly` and `XactDeferrable` take their defaults, `TopTransactionContext` is made and
//! becomes current, as in PostgreSQL. The server's transaction block is opened with the first
//! statement that needs it (`BEGIN`, with the isolation level and access mode the worker has set
//! by then, in the same round trip as the statement when it is sent as a query string), so a
//! module can still set `XactIsoLevel` after starting the transaction, as in PostgreSQL, and a
//! transaction that runs nothing costs nothing. `CommitTransactionCommand` sends COMMIT (ROLLBACK
//! when the block failed), `AbortCurrentTransaction` ROLLBACK; the transaction callbacks fire
//! around them with PostgreSQL's events, and the transaction's memory goes.
//!
//! Subtransactions (`BeginInternalSubTransaction` and its release or rollback) are savepoints.
//! Snapshots are the server's business; the snapshot calls only keep PostgreSQL's bookkeeping
//! (and its state checks) so misuse is reported as an ERROR.

use super::conn::{self, ServerError};
use crate::mcxt::{self, CurTransactionContext, CurrentMemoryContext, MemoryContext};
use crate::mcxt::{TopMemoryContext, TopTransactionContext};
use crate::pg::types::{ERROR, WARNING};
use crate::pg::{make_sqlstate, raise_with_code};
use libc::{c_int, c_void};
use std::cell::Cell;
use std::ptr::null_mut;

/// `XactEvent`.
pub const XACT_EVENT_COMMIT: c_int = 0;
pub const XACT_EVENT_ABORT: c_int = 2;
pub const XACT_EVENT_PRE_COMMIT: c_int = 5;
/// `SubXactEvent`.
pub const SUBXACT_EVENT_START_SUB: c_int = 0;
pub const SUBXACT_EVENT_COMMIT_SUB: c_int = 1;
pub const SUBXACT_EVENT_ABORT_SUB: c_int = 2;
pub const SUBXACT_EVENT_PRE_COMMIT_SUB: c_int = 3;

/// `XactCallback` and `SubXactCallback` (the events are C enums, so `int`).
pub type XactCallback = Option<unsafe extern "C" fn(event: c_int, arg: *mut c_void)>;
pub type SubXactCallback =
    Option<unsafe extern "C" fn(event: c_int, my_subid: u32, parent_subid: u32, arg: *mut c_void)>;

/// `TopSubTransactionId`.
const TOP_SUBID: u32 = 1;

/// One open subtransaction.
#[derive(Clone, Copy)]
struct Sub {
    subid: u32,
    /// Its `CurTransactionContext`, a child of its parent's.
    cxt: MemoryContext,
}

struct Xact {
    in_progress: Cell<bool>,
    /// Open subtransactions, innermost last (at most `MAX_SUBS`).
    subs: Cell<[Sub; MAX_SUBS]>,
    nsubs: Cell<usize>,
    /// The last `SubTransactionId` handed out in this transaction.
    last_subid: Cell<u32>,
    /// Depth of the active-snapshot stack.
    active_snapshots: Cell<usize>,
    /// `GetCurrentStatementStartTimestamp`'s value, microseconds since 2000-01-01.
    statement_start: Cell<i64>,
    /// `GetCurrentTransactionStartTimestamp`'s value.
    xact_start: Cell<i64>,
    /// The top-level transaction id once the server assigned one (0 before).
    top_xid: Cell<u32>,
    /// Counts ended transactions (for memory that belonged to one).
    generation: Cell<u64>,
}

/// Deep enough for any PL-style nesting; deeper is an ERROR.
const MAX_SUBS: usize = 64;

const NO_SUB: Sub = Sub {
    subid: 0,
    cxt: null_mut(),
};

// SAFETY: a worker is single-threaded; this state is only touched from its main thread.
unsafe impl Sync for Xact {}

static XACT: Xact = Xact {
    in_progress: Cell::new(false),
    subs: Cell::new([NO_SUB; MAX_SUBS]),
    nsubs: Cell::new(0),
    last_subid: Cell::new(0),
    active_snapshots: Cell::new(0),
    statement_start: Cell::new(0),
    xact_start: Cell::new(0),
    top_xid: Cell::new(0),
    generation: Cell::new(0),
};

/// `ERRCODE_INVALID_TRANSACTION_STATE`.
const INVALID_TRANSACTION_STATE: &[u8; 5] = b"25000";
/// `ERRCODE_CONNECTION_DOES_NOT_EXIST`.
const CONNECTION_DOES_NOT_EXIST: &[u8; 5] = b"08003";

/// True between `StartTransactionCommand` and the commit or abort.
pub fn in_transaction() -> bool {
    XACT.in_progress.get()
}

/// True when the server's transaction block has failed: only a rollback is possible.
pub fn failed() -> bool {
    in_transaction() && conn::connection().is_some_and(|c| c.block_failed())
}

/// Counts ended transactions: memory made in one is gone once this has moved on.
pub fn generation() -> u64 {
    XACT.generation.get()
}

fn misuse(message: &str) -> ! {
    raise_with_code(ERROR, make_sqlstate(INVALID_TRANSACTION_STATE), message)
}

fn connection(function: &str) -> &'static conn::Connection {
    match conn::connection() {
        Some(c) => c,
        None => raise_with_code(
            ERROR,
            make_sqlstate(CONNECTION_DOES_NOT_EXIST),
            &format!(
                "{function}: no database connection (call BackgroundWorkerInitializeConnection first)"
            ),
        ),
    }
}

// ---- the server's block ------------------------------------------------------------------------

const ISOLATION: [&str; 4] = [
    "READ UNCOMMITTED",
    "READ COMMITTED",
    "REPEATABLE READ",
    "SERIALIZABLE",
];

/// The BEGIN that opens the server's block for this transaction: the isolation level, access
/// mode and deferrability the worker has now, where they differ from the session's defaults.
fn begin_sql(c: &conn::Connection) -> String {
    // SAFETY: plain reads of this process's globals.
    let (iso, ro, deferrable) = unsafe {
        (
            crate::pg::XactIsoLevel,
            crate::pg::XactReadOnly,
            crate::pg::XactDeferrable,
        )
    };
    let (d_iso, d_ro, d_def) = c.session_defaults();
    let mut sql = String::from("BEGIN");
    if iso != d_iso {
        sql.push_str(" ISOLATION LEVEL ");
        sql.push_str(ISOLATION[iso.clamp(0, 3) as usize]);
    }
    if ro != d_ro {
        sql.push_str(if ro { " READ ONLY" } else { " READ WRITE" });
    }
    if deferrable != d_def {
        sql.push_str(if deferrable {
            " DEFERRABLE"
        } else {
            " NOT DEFERRABLE"
        });
    }
    sql
}

/// The BEGIN to send ahead of the next statement, in the same query string, when the worker is
/// in a transaction whose server block is not open yet.
pub fn begin_prefix() -> Option<String> {
    let c = conn::connection()?;
    (in_transaction() && !c.in_block()).then(|| begin_sql(c))
}

/// Opens the server's block now if the worker is in a transaction and it is not open yet.
pub fn ensure_block() -> Result<(), ServerError> {
    let Some(prefix) = begin_prefix() else {
        return Ok(());
    };
    let c = connection("StartTransactionCommand");
    let r = c.script(&prefix, None);
    match r.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Ends the server's block before a CALL or DO in a non-atomic SPI connection: a procedure may
/// commit only outside a transaction block, as the top-level statement of a worker's
/// transaction is in PostgreSQL. What ran before it in the transaction is committed now.
pub fn leave_block_for_call() -> Result<(), ServerError> {
    let c = connection("SPI_execute");
    if !c.in_block() {
        return Ok(());
    }
    if c.block_failed() {
        return Err(ServerError::new(
            b"25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        ));
    }
    let sql = format!("COMMIT{}", c.end_of_block_sql());
    // The next block is another server transaction, with an id of its own.
    XACT.top_xid.set(0);
    match c.script(&sql, None).error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

// ---- callbacks -------------------------------------------------------------------------------------

/// Registered callbacks, oldest first (PostgreSQL calls the newest first). An entry
/// unregistered while callbacks run is left as None and swept afterwards.
static mut XACT_CALLBACKS: Vec<Option<(XactCallback, *mut c_void)>> = Vec::new();
static mut SUBXACT_CALLBACKS: Vec<Option<(SubXactCallback, *mut c_void)>> = Vec::new();
fn xact_callbacks() -> &'static mut Vec<Option<(XactCallback, *mut c_void)>> {
    let p = &raw mut XACT_CALLBACKS;
    // SAFETY: a worker is single-threaded; callers copy entries out and hold no reference
    // across a callback.
    unsafe { &mut *p }
}

fn subxact_callbacks() -> &'static mut Vec<Option<(SubXactCallback, *mut c_void)>> {
    let p = &raw mut SUBXACT_CALLBACKS;
    // SAFETY: as above.
    unsafe { &mut *p }
}

static FIRING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `RegisterXactCallback`.
pub fn register_xact_callback(f: XactCallback, arg: *mut c_void) {
    xact_callbacks().push(Some((f, arg)));
}

/// `UnregisterXactCallback`: the first entry with this function and argument.
pub fn unregister_xact_callback(f: XactCallback, arg: *mut c_void) {
    let key = f.map(|f| f as usize);
    if let Some(e) = xact_callbacks()
        .iter_mut()
        .rev()
        .find(|e| matches!(e, Some((g, a)) if g.map(|g| g as usize) == key && *a == arg))
    {
        *e = None;
    }
    sweep();
}

/// `RegisterSubXactCallback`.
pub fn register_subxact_callback(f: SubXactCallback, arg: *mut c_void) {
    subxact_callbacks().push(Some((f, arg)));
}

/// `UnregisterSubXactCallback`.
pub fn unregister_subxact_callback(f: SubXactCallback, arg: *mut c_void) {
    let key = f.map(|f| f as usize);
    if let Some(e) = subxact_callbacks()
        .iter_mut()
        .rev()
        .find(|e| matches!(e, Some((g, a)) if g.map(|g| g as usize) == key && *a == arg))
    {
        *e = None;
    }
    sweep();
}

/// Drops unregistered entries unless callbacks are running.
fn sweep() {
    if FIRING.load(std::sync::atomic::Ordering::Relaxed) > 0 {
        return;
    }
    xact_callbacks().retain(Option::is_some);
    subxact_callbacks().retain(Option::is_some);
}

/// The callback at `i`, copied out (no reference to the list is kept).
fn xact_entry(i: usize) -> Option<(XactCallback, *mut c_void)> {
    xact_callbacks().get(i).copied().flatten()
}

fn subxact_entry(i: usize) -> Option<(SubXactCallback, *mut c_void)> {
    subxact_callbacks().get(i).copied().flatten()
}

/// Calls every transaction callback with `event`, newest first. Owns nothing while a callback
/// runs, so an ERROR a callback raises may leave through this frame. Callbacks registered
/// meanwhile are not called this time; unregistered ones are skipped.
fn fire(event: c_int) {
    FIRING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut i = xact_callbacks().len();
    while i > 0 {
        i -= 1;
        if let Some((Some(f), arg)) = xact_entry(i) {
            // SAFETY: a module registered this callback with this argument.
            unsafe { f(event, arg) };
        }
    }
    FIRING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    sweep();
}

/// Calls every subtransaction callback, newest first.
fn fire_sub(event: c_int, my_subid: u32, parent_subid: u32) {
    FIRING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut i = subxact_callbacks().len();
    while i > 0 {
        i -= 1;
        if let Some((Some(f), arg)) = subxact_entry(i) {
            // SAFETY: a module registered this callback with this argument.
            unsafe { f(event, my_subid, parent_subid, arg) };
        }
    }
    FIRING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    sweep();
}

// ---- the transaction ---------------------------------------------------------------------------

/// `StartTransactionCommand`.
pub fn start() {
    if in_transaction() {
        misuse("StartTransactionCommand: a transaction is already in progress");
    }
    // Transactions are the server's: without a connection there is nothing to run one on.
    connection("StartTransactionCommand");
    // SAFETY: single-threaded; plain globals; TopMemoryContext is live.
    unsafe {
        crate::pg::XactIsoLevel = crate::pg::DefaultXactIsoLevel;
        crate::pg::XactReadOnly = crate::pg::DefaultXactReadOnly;
        crate::pg::XactDeferrable = crate::pg::DefaultXactDeferrable;
        TopTransactionContext = mcxt::create(TopMemoryContext, c"TopTransactionContext".as_ptr());
        CurTransactionContext = TopTransactionContext;
        CurrentMemoryContext = CurTransactionContext;
    }
    XACT.in_progress.set(true);
    // A callback that raised an ERROR last time left FIRING counted.
    FIRING.store(0, std::sync::atomic::Ordering::Relaxed);
    XACT.nsubs.set(0);
    XACT.last_subid.set(TOP_SUBID);
    XACT.active_snapshots.set(0);
    XACT.top_xid.set(0);
    XACT.xact_start.set(XACT.statement_start.get());
    crate::eoxact::at_start();
}

/// The end of the transaction on our side, after the server's: SPI levels, cursors, the
/// resource owner, settings changed in it and its files (`eoxact`), then the transaction's
/// memory go; `CurrentMemoryContext` is `TopMemoryContext`, as after PostgreSQL's commit or abort.
fn end(keep_spi: bool, is_commit: bool) {
    XACT.in_progress.set(false);
    XACT.nsubs.set(0);
    XACT.active_snapshots.set(0);
    XACT.top_xid.set(0);
    XACT.generation.set(XACT.generation.get() + 1);
    super::spi::at_end_of_transaction(keep_spi);
    super::cursor::at_end_of_transaction();
    crate::eoxact::at_end(is_commit);
    // SAFETY: single-threaded; TopTransactionContext is live (made by start) and only this
    // deletes it; nothing of ours points into it afterwards.
    unsafe {
        CurrentMemoryContext = TopMemoryContext;
        if !TopTransactionContext.is_null() {
            mcxt::delete(TopTransactionContext);
        }
        TopTransactionContext = null_mut();
        CurTransactionContext = null_mut();
    }
}

/// Ends every open subtransaction as aborted (innermost first), firing their callbacks.
fn abort_subs() {
    while XACT.nsubs.get() > 0 {
        let n = XACT.nsubs.get();
        let sub = XACT.subs.get()[n - 1];
        let parent = if n >= 2 {
            XACT.subs.get()[n - 2].subid
        } else {
            TOP_SUBID
        };
        fire_sub(SUBXACT_EVENT_ABORT_SUB, sub.subid, parent);
        XACT.nsubs.set(n - 1);
        super::spi::at_end_of_subtransaction(sub.subid, false);
        super::cursor::at_end_of_subtransaction(sub.subid, parent, false);
    }
}

/// `CommitTransactionCommand`: COMMIT (ROLLBACK when the server's block failed). The
/// pre-commit callbacks run first, while the transaction is still open (an ERROR there leaves
/// it open, for the caller to abort); a failed COMMIT aborts the transaction and returns the
/// server's error, to be raised.
pub fn commit() -> Result<(), ServerError> {
    commit_inner(false)
}

fn commit_inner(keep_spi: bool) -> Result<(), ServerError> {
    if !in_transaction() {
        misuse("CommitTransactionCommand: no transaction is in progress");
    }
    if failed() {
        abort_inner(keep_spi);
        return Ok(());
    }
    // Open subtransactions are committed with the transaction, as their parent's part.
    while XACT.nsubs.get() > 0 {
        release_sub_local(true);
    }
    fire(XACT_EVENT_PRE_COMMIT);
    if !keep_spi && super::spi::connected() {
        crate::elog::log_with(
            WARNING,
            "transaction left non-empty SPI stack",
            None,
            Some("Check for missing \"SPI_finish\" calls."),
        );
    }
    if XACT.active_snapshots.get() > 0 {
        crate::elog::log(WARNING, format_args!("snapshot still active at commit"));
    }
    let outcome = match conn::connection() {
        Some(c) if c.in_block() => {
            let sql = format!("COMMIT{}", c.end_of_block_sql());
            let r = c.script(&sql, Some(0));
            match (r.error, r.kept) {
                (Some(e), _) if r.results == 0 => Err(e),
                // COMMIT of a block the server had failed answers ROLLBACK.
                (_, Some(k)) if k.command_tag() == "ROLLBACK" => Err(ServerError::new(
                    b"40000",
                    "the transaction was rolled back by the server",
                )),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    };
    match outcome {
        Ok(()) => {
            fire(XACT_EVENT_COMMIT);
            end(keep_spi, true);
        }
        Err(_) => {
            fire(XACT_EVENT_ABORT);
            end(keep_spi, false);
        }
    }
    if let Some(c) = conn::connection() {
        c.flush_idle();
    }
    outcome
}

/// `AbortCurrentTransaction`: ROLLBACK; nothing to do outside a transaction.
pub fn abort() {
    abort_inner(false);
}

fn abort_inner(keep_spi: bool) {
    if !in_transaction() {
        return;
    }
    abort_subs();
    if let Some(c) = conn::connection() {
        if c.in_block() {
            // A failed ROLLBACK leaves nothing to undo: the server ends the block anyway.
            let sql = format!("ROLLBACK{}", c.end_of_block_sql());
            let _ = c.script(&sql, None);
        }
    }
    fire(XACT_EVENT_ABORT);
    end(keep_spi, false);
    if let Some(c) = conn::connection() {
        c.flush_idle();
    }
}

/// SPI_commit / SPI_rollback (non-atomic SPI): ends the transaction and starts the next one at
/// once, keeping the SPI connections (a callback's ERROR leaves the transaction open, for the
/// caller to abort). With `chain`, the new transaction has the old one's
/// isolation level and access mode. A failed COMMIT rolls back, starts the next transaction
/// and returns the error to raise.
pub fn end_and_start(commit: bool, chain: bool) -> Result<(), ServerError> {
    // SAFETY: plain reads of this process's globals.
    let saved = unsafe {
        (
            crate::pg::XactIsoLevel,
            crate::pg::XactReadOnly,
            crate::pg::XactDeferrable,
        )
    };
    let outcome = if commit {
        commit_inner(true)
    } else {
        abort_inner(true);
        Ok(())
    };
    start();
    if chain {
        // SAFETY: plain stores to this process's globals.
        unsafe {
            crate::pg::XactIsoLevel = saved.0;
            crate::pg::XactReadOnly = saved.1;
            crate::pg::XactDeferrable = saved.2;
        }
    }
    outcome
}

/// At process exit (registered when the worker connects, as PostgreSQL's `ShutdownPostgres`):
/// a transaction still open is aborted, with its callbacks; the server rolls it back when the
/// connection closes.
///
/// # Safety
/// Called by the exit path only.
pub unsafe extern "C" fn shutdown_transaction(_code: c_int, _arg: crate::pg::types::Datum) {
    if in_transaction() {
        abort_subs();
        fire(XACT_EVENT_ABORT);
        XACT.in_progress.set(false);
    }
}

// ---- subtransactions -----------------------------------------------------------------------------

fn savepoint_name(subid: u32) -> String {
    format!("bgw_subxact_{subid}")
}

/// `BeginInternalSubTransaction`: a savepoint; the caller's memory context stays current.
pub fn begin_sub() -> Result<(), ServerError> {
    if !in_transaction() {
        misuse("BeginInternalSubTransaction: no transaction is in progress");
    }
    let n = XACT.nsubs.get();
    if n >= MAX_SUBS {
        return Err(ServerError::new(
            b"54000",
            format!("cannot have more than {MAX_SUBS} subtransactions open"),
        ));
    }
    let c = connection("BeginInternalSubTransaction");
    let subid = XACT.last_subid.get() + 1;
    let mut sql = begin_prefix().map(|b| b + "; ").unwrap_or_default();
    sql.push_str("SAVEPOINT ");
    sql.push_str(&savepoint_name(subid));
    if let Some(e) = c.script(&sql, None).error {
        return Err(e);
    }
    XACT.last_subid.set(subid);
    let parent = current_subid();
    // SAFETY: CurTransactionContext is live inside a transaction.
    let cxt = unsafe { mcxt::create(CurTransactionContext, c"CurTransactionContext".as_ptr()) };
    let mut subs = XACT.subs.get();
    subs[n] = Sub { subid, cxt };
    XACT.subs.set(subs);
    XACT.nsubs.set(n + 1);
    // SAFETY: single-threaded plain store; cxt is live.
    unsafe { CurTransactionContext = cxt };
    fire_sub(SUBXACT_EVENT_START_SUB, subid, parent);
    Ok(())
}

/// Pops the innermost subtransaction on our side (its server savepoint already released or
/// rolled back): callbacks, SPI levels, cursors and `CurTransactionContext`.
fn release_sub_local(commit: bool) {
    let n = XACT.nsubs.get();
    let sub = XACT.subs.get()[n - 1];
    let parent = if n >= 2 {
        XACT.subs.get()[n - 2]
    } else {
        Sub {
            subid: TOP_SUBID,
            // SAFETY: a plain read.
            cxt: unsafe { TopTransactionContext },
        }
    };
    // The subtransaction is still the current one while its callbacks run, as in PostgreSQL.
    fire_sub(
        if commit {
            SUBXACT_EVENT_COMMIT_SUB
        } else {
            SUBXACT_EVENT_ABORT_SUB
        },
        sub.subid,
        parent.subid,
    );
    XACT.nsubs.set(n - 1);
    super::spi::at_end_of_subtransaction(sub.subid, commit);
    super::cursor::at_end_of_subtransaction(sub.subid, parent.subid, commit);
    // SAFETY: both contexts are live; the subtransaction's goes with an abort (PostgreSQL
    // keeps a committed one's memory until the transaction ends).
    unsafe {
        CurTransactionContext = parent.cxt;
        if !commit {
            if CurrentMemoryContext == sub.cxt {
                CurrentMemoryContext = parent.cxt;
            }
            mcxt::delete(sub.cxt);
        }
    }
}

/// `ReleaseCurrentSubTransaction`: RELEASE SAVEPOINT. The pre-commit callbacks run first.
pub fn release_sub() -> Result<(), ServerError> {
    let n = XACT.nsubs.get();
    if !in_transaction() || n == 0 {
        misuse("ReleaseCurrentSubTransaction: no subtransaction is in progress");
    }
    let sub = XACT.subs.get()[n - 1];
    fire_sub(SUBXACT_EVENT_PRE_COMMIT_SUB, sub.subid, parent_subid(n));
    let c = connection("ReleaseCurrentSubTransaction");
    let sql = format!("RELEASE SAVEPOINT {}", savepoint_name(sub.subid));
    if let Some(e) = c.script(&sql, None).error {
        return Err(e);
    }
    release_sub_local(true);
    Ok(())
}

/// `RollbackAndReleaseCurrentSubTransaction`: ROLLBACK TO and RELEASE the savepoint (allowed in
/// a failed block); afterwards the parent's `CurTransactionContext` is current, as in
/// PostgreSQL.
pub fn rollback_sub() -> Result<(), ServerError> {
    let n = XACT.nsubs.get();
    if !in_transaction() || n == 0 {
        misuse("RollbackAndReleaseCurrentSubTransaction: no subtransaction is in progress");
    }
    let sub = XACT.subs.get()[n - 1];
    let c = connection("RollbackAndReleaseCurrentSubTransaction");
    let name = savepoint_name(sub.subid);
    let sql = format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}");
    let outcome = match c.script(&sql, None).error {
        Some(e) => Err(e),
        None => Ok(()),
    };
    release_sub_local(false);
    // SAFETY: single-threaded plain store; CurTransactionContext is live.
    unsafe { CurrentMemoryContext = CurTransactionContext };
    outcome
}

fn parent_subid(n: usize) -> u32 {
    if n >= 2 {
        XACT.subs.get()[n - 2].subid
    } else {
        TOP_SUBID
    }
}

/// `GetCurrentSubTransactionId` (0 outside a transaction).
pub fn current_subid() -> u32 {
    if !in_transaction() {
        return 0;
    }
    match XACT.nsubs.get() {
        0 => TOP_SUBID,
        n => XACT.subs.get()[n - 1].subid,
    }
}

/// `GetCurrentTransactionNestLevel`: 0 outside a transaction, 1 at the top, +1 per
/// subtransaction.
pub fn nest_level() -> c_int {
    if in_transaction() {
        1 + XACT.nsubs.get() as c_int
    } else {
        0
    }
}

/// `IsSubTransaction`.
pub fn is_subtransaction() -> bool {
    XACT.nsubs.get() > 0
}

// ---- transaction ids -----------------------------------------------------------------------------

/// `GetTopTransactionId` (`assign`) or `...IfAny`: asked of the server (`pg_current_xact_id`,
/// which assigns one as PostgreSQL's does, or `pg_current_xact_id_if_assigned`). Kept for the
/// rest of the transaction once known. Inside a subtransaction PostgreSQL's
/// `GetCurrentTransactionId` names the subtransaction's own id, which no SQL function gives: the
/// top-level id is returned there.
pub fn top_xid(assign: bool) -> Result<u32, ServerError> {
    if !in_transaction() {
        return Err(ServerError::new(
            INVALID_TRANSACTION_STATE,
            "no transaction is in progress",
        ));
    }
    if XACT.top_xid.get() != 0 {
        return Ok(XACT.top_xid.get());
    }
    let c = connection("GetTopTransactionId");
    if !assign && (!c.in_block() || c.block_failed()) {
        return Ok(0);
    }
    let mut sql = begin_prefix().map(|b| b + "; ").unwrap_or_default();
    sql.push_str(if assign {
        "SELECT pg_catalog.pg_current_xact_id()::text"
    } else {
        "SELECT pg_catalog.pg_current_xact_id_if_assigned()::text"
    });
    let r = c.script(&sql, None);
    if let Some(e) = r.error {
        return Err(e);
    }
    let full = r
        .kept
        .and_then(|k| k.text(0, 0))
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(0);
    // A FullTransactionId is the epoch above the 32-bit id.
    let xid = full as u32;
    XACT.top_xid.set(xid);
    Ok(xid)
}

// ---- state queries ---------------------------------------------------------------------------------

/// `IsTransactionState`.
pub fn is_transaction_state() -> bool {
    in_transaction()
}

/// `IsTransactionBlock`: a worker's transaction is not a block (PostgreSQL's
/// `TBLOCK_STARTED`) until a subtransaction is open.
pub fn is_transaction_block() -> bool {
    in_transaction() && XACT.nsubs.get() > 0
}

/// `TransactionBlockStatusCode`: 'I' idle, 'T' in a transaction, 'E' in a failed one.
pub fn block_status_code() -> u8 {
    if !in_transaction() {
        b'I'
    } else if failed() {
        b'E'
    } else {
        b'T'
    }
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

/// `GetCurrentTransactionStartTimestamp`'s value (the statement start when the transaction
/// started, as in PostgreSQL).
pub fn transaction_start() -> i64 {
    XACT.xact_start.get()
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
