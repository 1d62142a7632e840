//! SPI over the worker's database connection: each statement runs on the server through libpq
//! and its result is materialised in memory shaped as PostgreSQL 15's (an `SPITupleTable` whose
//! `vals[]` are `HeapTuple`s with genuine heap-tuple bodies, and a `TupleDesc` with
//! `FormData_pg_attribute` entries), so a module reads it through PostgreSQL's own macros.
//!
//! Memory: `SPI_connect` creates the "SPI Proc" context and makes it current, as PostgreSQL does;
//! each result lives in its own "SPI TupTable" context under it; `SPI_finish` deletes both and
//! restores the caller's context and the outer `SPI_processed`/`SPI_tuptable`/`SPI_result`.
//!
//! Values: the server sends text; a column is converted to PostgreSQL's binary form for `bool`,
//! `"char"`, `int2`, `int4`, `int8`, `oid`, `xid`, `cid`, `float4`, `float8`, `name`, `bytea` and
//! the text-like types (`text`, `varchar`, `bpchar`, `json`, `xml`, `unknown`). Any other type is
//! kept as a text varlena: `SPI_getvalue` works for it, `SPI_getbinval` raises ERROR
//! (feature not supported). Each tuple also carries the server's text after its body, so
//! `SPI_getvalue` returns exactly what the server sent.
//!
//! Differences from in-server SPI (documented in spi.h): `read_only` is not enforced; one
//! statement per call; `count` trims the rows kept, but the server runs the statement to the end
//! (so `INSERT ... RETURNING` with a count modifies every row, returning `count` of them).

use crate::db::conn::{self, QueryResult, ServerError};
use crate::db::sql::{self, Kind as StmtKind};
use crate::mcxt::{self, CurrentMemoryContext, MemoryContext, TopMemoryContext, MCXT_ALLOC_ZERO};
use crate::pg::types::{Datum, Oid, ERROR, WARNING};
use libc::{c_char, c_int, c_void};
use std::mem::{offset_of, size_of};
use std::ptr::{null, null_mut};

// ---- PostgreSQL 15 layouts -------------------------------------------------------------------

/// `FormData_pg_attribute`'s fixed part (112 bytes), as `TupleDescAttr` finds it.
#[repr(C)]
pub struct FormData_pg_attribute {
    pub attrelid: Oid,
    pub attname: [c_char; 64],
    pub atttypid: Oid,
    pub attstattarget: i32,
    pub attlen: i16,
    pub attnum: i16,
    pub attndims: i32,
    pub attcacheoff: i32,
    pub atttypmod: i32,
    pub attbyval: bool,
    pub attalign: c_char,
    pub attstorage: c_char,
    pub attcompression: c_char,
    pub attnotnull: bool,
    pub atthasdef: bool,
    pub atthasmissing: bool,
    pub attidentity: c_char,
    pub attgenerated: c_char,
    pub attisdropped: bool,
    pub attislocal: bool,
    pub attinhcount: i32,
    pub attcollation: Oid,
}

/// `TupleDescData`: 24 bytes of header, then `natts` attributes.
#[repr(C)]
pub struct TupleDescData {
    pub natts: c_int,
    pub tdtypeid: Oid,
    pub tdtypmod: i32,
    pub tdrefcount: c_int,
    pub constr: *mut c_void,
    pub attrs: [FormData_pg_attribute; 0],
}
pub type TupleDesc = *mut TupleDescData;

/// `ItemPointerData` (6 bytes, 2-aligned).
#[repr(C)]
pub struct ItemPointerData {
    pub ip_blkid: [u16; 2],
    pub ip_posid: u16,
}

/// `HeapTupleData` (24 bytes): the body is at `t_data`, `t_len` bytes long.
#[repr(C)]
pub struct HeapTupleData {
    pub t_len: u32,
    pub t_self: ItemPointerData,
    pub t_tableOid: Oid,
    pub t_data: *mut u8,
}
pub type HeapTuple = *mut HeapTupleData;

/// `SPITupleTable` (56 bytes).
#[repr(C)]
pub struct SPITupleTable {
    pub tupdesc: TupleDesc,
    pub vals: *mut HeapTuple,
    pub numvals: u64,
    pub alloced: u64,
    pub tuptabcxt: MemoryContext,
    pub next: *mut c_void,
    pub subid: u32,
}

const _: () = assert!(size_of::<FormData_pg_attribute>() == 112);
const _: () = assert!(offset_of!(FormData_pg_attribute, atttypid) == 68);
const _: () = assert!(offset_of!(FormData_pg_attribute, attlen) == 76);
const _: () = assert!(offset_of!(FormData_pg_attribute, attcacheoff) == 84);
const _: () = assert!(offset_of!(FormData_pg_attribute, attbyval) == 92);
const _: () = assert!(offset_of!(FormData_pg_attribute, attcollation) == 108);
const _: () = assert!(offset_of!(TupleDescData, attrs) == 24);
const _: () = assert!(size_of::<HeapTupleData>() == 24);
const _: () = assert!(offset_of!(HeapTupleData, t_tableOid) == 12);
const _: () = assert!(offset_of!(HeapTupleData, t_data) == 16);
const _: () = assert!(size_of::<SPITupleTable>() == 56);
const _: () = assert!(offset_of!(SPITupleTable, numvals) == 16);

// Heap tuple header (`HeapTupleHeaderData`): offsets of the fields written here.
const T_INFOMASK2: usize = 18;
const T_INFOMASK: usize = 20;
const T_HOFF: usize = 22;
/// `SizeofHeapTupleHeader`: where the null bitmap starts.
const T_BITS: usize = 23;
const HEAP_HASNULL: u16 = 0x0001;
const HEAP_HASVARWIDTH: u16 = 0x0002;
const HEAP_NATTS_MASK: u16 = 0x07FF;
const RECORDOID: Oid = 2249;
const DEFAULT_COLLATION_OID: Oid = 100;
/// Marks the text trailer after a tuple body.
const TRAILER_MAGIC: u32 = 0x5350_4954;

// ---- SPI codes -----------------------------------------------------------------------------

pub const SPI_ERROR_CONNECT: c_int = -1;
pub const SPI_ERROR_COPY: c_int = -2;
pub const SPI_ERROR_OPUNKNOWN: c_int = -3;
pub const SPI_ERROR_UNCONNECTED: c_int = -4;
pub const SPI_ERROR_CURSOR: c_int = -5;
pub const SPI_ERROR_ARGUMENT: c_int = -6;
pub const SPI_ERROR_PARAM: c_int = -7;
pub const SPI_ERROR_TRANSACTION: c_int = -8;
pub const SPI_ERROR_NOATTRIBUTE: c_int = -9;
pub const SPI_ERROR_NOOUTFUNC: c_int = -10;
pub const SPI_ERROR_TYPUNKNOWN: c_int = -11;
pub const SPI_ERROR_REL_DUPLICATE: c_int = -12;
pub const SPI_ERROR_REL_NOT_FOUND: c_int = -13;
pub const SPI_OK_CONNECT: c_int = 1;
pub const SPI_OK_FINISH: c_int = 2;
pub const SPI_OK_FETCH: c_int = 3;
pub const SPI_OK_UTILITY: c_int = 4;
pub const SPI_OK_SELECT: c_int = 5;
pub const SPI_OK_SELINTO: c_int = 6;
pub const SPI_OK_INSERT: c_int = 7;
pub const SPI_OK_DELETE: c_int = 8;
pub const SPI_OK_UPDATE: c_int = 9;
pub const SPI_OK_CURSOR: c_int = 10;
pub const SPI_OK_INSERT_RETURNING: c_int = 11;
pub const SPI_OK_DELETE_RETURNING: c_int = 12;
pub const SPI_OK_UPDATE_RETURNING: c_int = 13;
pub const SPI_OK_REWRITTEN: c_int = 14;
pub const SPI_OK_REL_REGISTER: c_int = 15;
pub const SPI_OK_REL_UNREGISTER: c_int = 16;
pub const SPI_OK_TD_REGISTER: c_int = 17;
pub const SPI_OK_MERGE: c_int = 18;

/// `SPI_result_code_string`'s names, by code.
pub fn code_name(code: c_int) -> Option<&'static std::ffi::CStr> {
    Some(match code {
        SPI_ERROR_CONNECT => c"SPI_ERROR_CONNECT",
        SPI_ERROR_COPY => c"SPI_ERROR_COPY",
        SPI_ERROR_OPUNKNOWN => c"SPI_ERROR_OPUNKNOWN",
        SPI_ERROR_UNCONNECTED => c"SPI_ERROR_UNCONNECTED",
        SPI_ERROR_CURSOR => c"SPI_ERROR_CURSOR",
        SPI_ERROR_ARGUMENT => c"SPI_ERROR_ARGUMENT",
        SPI_ERROR_PARAM => c"SPI_ERROR_PARAM",
        SPI_ERROR_TRANSACTION => c"SPI_ERROR_TRANSACTION",
        SPI_ERROR_NOATTRIBUTE => c"SPI_ERROR_NOATTRIBUTE",
        SPI_ERROR_NOOUTFUNC => c"SPI_ERROR_NOOUTFUNC",
        SPI_ERROR_TYPUNKNOWN => c"SPI_ERROR_TYPUNKNOWN",
        SPI_ERROR_REL_DUPLICATE => c"SPI_ERROR_REL_DUPLICATE",
        SPI_ERROR_REL_NOT_FOUND => c"SPI_ERROR_REL_NOT_FOUND",
        SPI_OK_CONNECT => c"SPI_OK_CONNECT",
        SPI_OK_FINISH => c"SPI_OK_FINISH",
        SPI_OK_FETCH => c"SPI_OK_FETCH",
        SPI_OK_UTILITY => c"SPI_OK_UTILITY",
        SPI_OK_SELECT => c"SPI_OK_SELECT",
        SPI_OK_SELINTO => c"SPI_OK_SELINTO",
        SPI_OK_INSERT => c"SPI_OK_INSERT",
        SPI_OK_DELETE => c"SPI_OK_DELETE",
        SPI_OK_UPDATE => c"SPI_OK_UPDATE",
        SPI_OK_CURSOR => c"SPI_OK_CURSOR",
        SPI_OK_INSERT_RETURNING => c"SPI_OK_INSERT_RETURNING",
        SPI_OK_DELETE_RETURNING => c"SPI_OK_DELETE_RETURNING",
        SPI_OK_UPDATE_RETURNING => c"SPI_OK_UPDATE_RETURNING",
        SPI_OK_REWRITTEN => c"SPI_OK_REWRITTEN",
        SPI_OK_REL_REGISTER => c"SPI_OK_REL_REGISTER",
        SPI_OK_REL_UNREGISTER => c"SPI_OK_REL_UNREGISTER",
        SPI_OK_TD_REGISTER => c"SPI_OK_TD_REGISTER",
        SPI_OK_MERGE => c"SPI_OK_MERGE",
        _ => return None,
    })
}

// ---- the API globals -------------------------------------------------------------------------

/// Rows processed or returned by the last `SPI_execute*`.
#[no_mangle]
pub static mut SPI_processed: u64 = 0;
/// The rows of the last `SPI_execute*` that returned rows, else NULL.
#[no_mangle]
pub static mut SPI_tuptable: *mut SPITupleTable = null_mut();
/// The error code of the last failing SPI helper (`SPI_fnumber`, `SPI_getvalue`, ...).
#[no_mangle]
pub static mut SPI_result: c_int = 0;

/// Sets `SPI_result`.
pub fn set_result(code: c_int) {
    // SAFETY: single-threaded worker; a plain store.
    unsafe { SPI_result = code };
}

// ---- types -----------------------------------------------------------------------------------

/// How a column's value is stored in a tuple.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Bool,
    Char,
    Int2,
    Int4,
    Int8,
    /// oid, xid, cid: unsigned 32-bit.
    Uint4,
    Float4,
    Float8,
    Name,
    Bytea,
    /// text, varchar, bpchar, json, xml, unknown: the text as a varlena.
    Text,
    /// Anything else: the text as a varlena; `SPI_getbinval` refuses it.
    Other,
}

pub const BOOLOID: Oid = 16;
pub const BYTEAOID: Oid = 17;
pub const CHAROID: Oid = 18;
pub const NAMEOID: Oid = 19;
pub const INT8OID: Oid = 20;
pub const INT2OID: Oid = 21;
pub const INT4OID: Oid = 23;
pub const TEXTOID: Oid = 25;
pub const OIDOID: Oid = 26;
pub const XIDOID: Oid = 28;
pub const CIDOID: Oid = 29;
pub const JSONOID: Oid = 114;
pub const XMLOID: Oid = 142;
pub const FLOAT4OID: Oid = 700;
pub const FLOAT8OID: Oid = 701;
pub const UNKNOWNOID: Oid = 705;
pub const BPCHAROID: Oid = 1042;
pub const VARCHAROID: Oid = 1043;
pub const CSTRINGOID: Oid = 2275;

/// The storage kind of a type.
pub fn kind_of(typid: Oid) -> Kind {
    match typid {
        BOOLOID => Kind::Bool,
        CHAROID => Kind::Char,
        INT2OID => Kind::Int2,
        INT4OID => Kind::Int4,
        INT8OID => Kind::Int8,
        OIDOID | XIDOID | CIDOID => Kind::Uint4,
        FLOAT4OID => Kind::Float4,
        FLOAT8OID => Kind::Float8,
        NAMEOID => Kind::Name,
        BYTEAOID => Kind::Bytea,
        TEXTOID | VARCHAROID | BPCHAROID | JSONOID | XMLOID | UNKNOWNOID => Kind::Text,
        _ => Kind::Other,
    }
}

/// (attlen, attbyval, attalign) of a storage kind.
fn storage(kind: Kind) -> (i16, bool, u8) {
    match kind {
        Kind::Bool | Kind::Char => (1, true, b'c'),
        Kind::Int2 => (2, true, b's'),
        Kind::Int4 | Kind::Uint4 | Kind::Float4 => (4, true, b'i'),
        Kind::Int8 | Kind::Float8 => (8, true, b'd'),
        Kind::Name => (64, false, b'c'),
        Kind::Bytea | Kind::Text | Kind::Other => (-1, false, b'i'),
    }
}

/// The `pg_type.typname` of the common types (`SPI_gettype`); others are asked of the server.
pub fn builtin_type_name(typid: Oid) -> Option<&'static str> {
    Some(match typid {
        BOOLOID => "bool",
        BYTEAOID => "bytea",
        CHAROID => "char",
        NAMEOID => "name",
        INT8OID => "int8",
        INT2OID => "int2",
        INT4OID => "int4",
        TEXTOID => "text",
        OIDOID => "oid",
        XIDOID => "xid",
        CIDOID => "cid",
        JSONOID => "json",
        XMLOID => "xml",
        FLOAT4OID => "float4",
        FLOAT8OID => "float8",
        UNKNOWNOID => "unknown",
        BPCHAROID => "bpchar",
        VARCHAROID => "varchar",
        CSTRINGOID => "cstring",
        1082 => "date",
        1083 => "time",
        1114 => "timestamp",
        1184 => "timestamptz",
        1186 => "interval",
        1700 => "numeric",
        2950 => "uuid",
        3802 => "jsonb",
        _ => return None,
    })
}

// ---- the connection stack ----------------------------------------------------------------------

/// One `SPI_connect` level.
struct Level {
    /// The "SPI Proc" context.
    proc_cxt: MemoryContext,
    /// `CurrentMemoryContext` at `SPI_connect`, restored by `SPI_finish`.
    saved_cxt: MemoryContext,
    /// The transaction `saved_cxt` belonged to (its generation), when it was transaction memory:
    /// gone once that transaction ended (after `SPI_commit`).
    saved_in_xact: Option<u64>,
    outer_processed: u64,
    outer_tuptable: *mut SPITupleTable,
    outer_result: c_int,
    /// `SPI_connect_ext(SPI_OPT_NONATOMIC)`: may commit and run procedures that commit.
    nonatomic: bool,
    /// The subtransaction it was opened in (0 outside a transaction).
    connect_subid: u32,
    /// The results it made that are still alive.
    tuptables: Vec<*mut SPITupleTable>,
}

static mut STACK: Vec<Level> = Vec::new();

fn stack() -> &'static mut Vec<Level> {
    // SAFETY: a worker is single-threaded; no reference outlives one SPI call.
    let p = &raw mut STACK;
    // SAFETY: as above.
    unsafe { &mut *p }
}

/// True while `SPI_connect` is in effect.
pub fn connected() -> bool {
    !stack().is_empty()
}

/// True when the innermost level is non-atomic.
pub fn nonatomic() -> bool {
    stack().last().is_some_and(|l| l.nonatomic)
}

/// Set while `SPI_execute_extended`/`SPI_execute_plan_extended` run with `allow_nonatomic`.
static ALLOW_NONATOMIC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Runs `f` with non-atomic execution allowed (`SPIExecuteOptions.allow_nonatomic`).
pub fn allowing_nonatomic<T>(allow: bool, f: impl FnOnce() -> T) -> T {
    ALLOW_NONATOMIC.store(allow, std::sync::atomic::Ordering::Relaxed);
    let out = f();
    ALLOW_NONATOMIC.store(false, std::sync::atomic::Ordering::Relaxed);
    out
}

/// True when a CALL or DO may commit: a non-atomic level running with `allow_nonatomic`
/// (PostgreSQL runs plain `SPI_execute` atomically even in a non-atomic level), outside any
/// subtransaction.
fn calls_may_commit() -> bool {
    ALLOW_NONATOMIC.load(std::sync::atomic::Ordering::Relaxed)
        && nonatomic()
        && !crate::db::xact::is_subtransaction()
}

/// `SPI_OPT_NONATOMIC`.
pub const SPI_OPT_NONATOMIC: c_int = 1;

/// True when `ctx` is `TopTransactionContext` or inside it.
///
/// # Safety
/// `ctx` must be NULL or live.
unsafe fn in_transaction_memory(mut ctx: MemoryContext) -> bool {
    // SAFETY: a plain read of the global.
    let top = unsafe { mcxt::TopTransactionContext };
    while !ctx.is_null() && !top.is_null() {
        if ctx == top {
            return true;
        }
        // SAFETY: ctx is live; its parent is NULL or live.
        ctx = unsafe { (*ctx).parent };
    }
    false
}

/// `SPI_connect_ext`: a new level with its own memory context, made current. An atomic level's
/// memory lives in the transaction's (it goes with it, as in PostgreSQL); a non-atomic one's
/// survives the commits it makes.
pub fn connect(options: c_int) -> c_int {
    let nonatomic = options & SPI_OPT_NONATOMIC != 0;
    // SAFETY: single-threaded; the globals are plain values; the parent context is live.
    unsafe {
        let parent = if !nonatomic && !mcxt::TopTransactionContext.is_null() {
            mcxt::TopTransactionContext
        } else {
            TopMemoryContext
        };
        let proc_cxt = mcxt::create(parent, c"SPI Proc".as_ptr());
        let saved = CurrentMemoryContext;
        stack().push(Level {
            proc_cxt,
            saved_cxt: saved,
            saved_in_xact: in_transaction_memory(saved).then(crate::db::xact::generation),
            outer_processed: SPI_processed,
            outer_tuptable: SPI_tuptable,
            outer_result: SPI_result,
            nonatomic,
            connect_subid: crate::db::xact::current_subid(),
            tuptables: Vec::new(),
        });
        CurrentMemoryContext = proc_cxt;
        SPI_processed = 0;
        SPI_tuptable = null_mut();
        SPI_result = 0;
    }
    SPI_OK_CONNECT
}

/// Closes the innermost level, freeing everything it made.
fn pop(restore_context: bool) {
    let Some(level) = stack().pop() else {
        return;
    };
    // SAFETY: single-threaded; proc_cxt is live (only this level deletes it, and a transaction
    // end pops its levels before deleting the transaction's memory).
    unsafe {
        if restore_context {
            CurrentMemoryContext = match level.saved_in_xact {
                // The caller's memory went with a transaction SPI_commit ended.
                Some(g) if g != crate::db::xact::generation() => {
                    if mcxt::CurTransactionContext.is_null() {
                        TopMemoryContext
                    } else {
                        mcxt::CurTransactionContext
                    }
                }
                _ => level.saved_cxt,
            };
        }
        mcxt::delete(level.proc_cxt);
        SPI_processed = level.outer_processed;
        SPI_tuptable = level.outer_tuptable;
        SPI_result = level.outer_result;
    }
}

/// `SPI_finish`: frees everything of the innermost level and restores the caller's state.
pub fn finish() -> c_int {
    if !connected() {
        return SPI_ERROR_UNCONNECTED;
    }
    pop(true);
    SPI_OK_FINISH
}

/// End-of-transaction clean-up (`AtEOXact_SPI`): every level still open is closed (the commit
/// has warned about them), except when `SPI_commit`/`SPI_rollback` end the transaction
/// (`keep_levels`): their levels stay.
pub fn at_end_of_transaction(keep_levels: bool) {
    if keep_levels {
        for l in stack().iter_mut() {
            // Their results in transaction memory are gone; their own memory is not.
            l.connect_subid = 0;
        }
        return;
    }
    while connected() {
        pop(false);
    }
    // SAFETY: single-threaded plain stores.
    unsafe {
        SPI_processed = 0;
        SPI_tuptable = null_mut();
        SPI_result = 0;
    }
}

/// End-of-subtransaction clean-up (`AtEOSubXact_SPI`): levels opened inside it are closed (at
/// commit with PostgreSQL's WARNING); at abort, the results the enclosing level made inside it
/// are freed.
pub fn at_end_of_subtransaction(subid: u32, commit: bool) {
    let mut warned = false;
    while stack()
        .last()
        .is_some_and(|l| l.connect_subid != 0 && l.connect_subid >= subid)
    {
        if commit && !warned {
            crate::elog::log_with(
                WARNING,
                "subtransaction left non-empty SPI stack",
                None,
                Some("Check for missing \"SPI_finish\" calls."),
            );
            warned = true;
        }
        pop(false);
    }
    if commit {
        return;
    }
    let Some(level) = stack().last_mut() else {
        return;
    };
    let doomed: Vec<*mut SPITupleTable> = level
        .tuptables
        .iter()
        .copied()
        // SAFETY: every listed table is live.
        .filter(|&t| unsafe { (*t).subid } >= subid)
        .collect();
    for t in doomed {
        free_tuptable(t);
    }
}

/// `SPI_freetuptable`: frees a result of any open level now instead of at `SPI_finish`.
pub fn free_tuptable(t: *mut SPITupleTable) {
    if t.is_null() {
        return;
    }
    let owner = stack().iter_mut().rev().find(|l| l.tuptables.contains(&t));
    let Some(level) = owner else {
        crate::elog::log(
            WARNING,
            format_args!("SPI_freetuptable: tuptable not found in SPI's list"),
        );
        return;
    };
    let at = level.tuptables.iter().position(|&x| x == t);
    let Some(table) = at.map(|i| level.tuptables.remove(i)) else {
        return;
    };
    // SAFETY: single-threaded; a listed table is live and lives in its own context, deleted
    // once (it is no longer listed).
    unsafe {
        if SPI_tuptable == table {
            SPI_tuptable = null_mut();
        }
        mcxt::delete((*table).tuptabcxt);
    }
}

/// The innermost level's own context ("SPI Proc").
pub fn proc_context() -> Option<MemoryContext> {
    stack().last().map(|l| l.proc_cxt)
}

/// The innermost level's context (`SPI_palloc` allocates in the caller's, `saved_cxt`).
pub fn saved_context() -> Option<MemoryContext> {
    stack().last().map(|l| l.saved_cxt)
}

// ---- execution -------------------------------------------------------------------------------

/// Why a statement did not produce a result code.
pub enum ExecError {
    /// The server's error, to be raised as ERROR.
    Server(ServerError),
    /// An ERROR of our own (bad parameter type, no connection...).
    Local([u8; 5], String),
}

impl From<ServerError> for ExecError {
    fn from(e: ServerError) -> Self {
        ExecError::Server(e)
    }
}

/// Parameters as sent to the server: their types (empty, or one per value; 0 = inferred) and
/// their text forms (None = NULL).
#[derive(Default, Clone)]
pub struct Args {
    pub types: Vec<Oid>,
    pub values: Vec<Option<Vec<u8>>>,
}

impl Args {
    pub fn refs(&self) -> Vec<Option<&[u8]>> {
        self.values.iter().map(|v| v.as_deref()).collect()
    }
}

/// The connection, or the ERROR for a worker that has none.
pub fn need_connection() -> Result<&'static conn::Connection, ExecError> {
    conn::connection().ok_or_else(|| {
        ExecError::Local(
            *b"55000",
            "SPI needs a database connection: call BackgroundWorkerInitializeConnection first"
                .into(),
        )
    })
}

/// How a statement's rows are limited.
fn limit(count: libc::c_long) -> Option<u64> {
    (count > 0).then_some(count as u64)
}

/// `SPI_execute` and friends without parameters: every statement of `sql` runs in order, in one
/// round trip; the result is the last statement's. A transaction statement (COMMIT, ...) or COPY
/// to/from the client stops the string there (what came before it ran), with
/// `SPI_ERROR_TRANSACTION`/`SPI_ERROR_COPY`, as in PostgreSQL. With `count` > 0, a SELECT is
/// read through a cursor, so the server stops after `count` rows.
pub fn execute(sql: &str, count: libc::c_long) -> Result<c_int, ExecError> {
    if !connected() {
        return Ok(SPI_ERROR_UNCONNECTED);
    }
    if count < 0 {
        return Ok(SPI_ERROR_ARGUMENT);
    }
    let c = need_connection()?;
    let stmts = sql::split(sql);
    clear_result();
    if stmts.is_empty() {
        return Ok(SPI_OK_REWRITTEN);
    }
    // The statements before the first one SPI refuses.
    let stop = stmts
        .iter()
        .position(|s| matches!(s.kind(), StmtKind::Transaction | StmtKind::CopyStdio));
    let runnable = &stmts[..stop.unwrap_or(stmts.len())];
    let refused = stop.map(|i| match stmts[i].kind() {
        StmtKind::Transaction => SPI_ERROR_TRANSACTION,
        _ => SPI_ERROR_COPY,
    });
    let one_by_one = runnable.len() > 1
        && ((limit(count).is_some() && runnable.iter().any(|s| s.kind() == StmtKind::Query))
            || (calls_may_commit() && runnable.iter().any(|s| s.kind() == StmtKind::Call)));
    let mut code = 0;
    if runnable.is_empty() {
        // Nothing runs.
    } else if one_by_one {
        for s in runnable {
            code = execute_one(c, s.kind(), s.text, &Args::default(), None, count)?;
        }
    } else if runnable.len() == 1 {
        let s = &runnable[0];
        code = execute_one(c, s.kind(), s.text, &Args::default(), None, count)?;
    } else {
        let text = if stop.is_none() {
            sql.to_owned()
        } else {
            join(runnable)
        };
        code = run_script(c, &text, count)?;
    }
    Ok(refused.unwrap_or(if code == 0 { SPI_OK_REWRITTEN } else { code }))
}

/// `SPI_execute_with_args`: with parameters the statement goes on the extended protocol, so it
/// must be one statement (the server refuses more); without, as `execute`.
pub fn execute_with_args(sql: &str, args: Args, count: libc::c_long) -> Result<c_int, ExecError> {
    if args.values.is_empty() {
        return execute(sql, count);
    }
    if !connected() {
        return Ok(SPI_ERROR_UNCONNECTED);
    }
    if count < 0 {
        return Ok(SPI_ERROR_ARGUMENT);
    }
    let c = need_connection()?;
    let stmts = sql::split(sql);
    match stmts.as_slice() {
        [one] => execute_one(c, one.kind(), one.text, &args, None, count),
        _ => execute_one(c, StmtKind::Other, sql, &args, None, count),
    }
}

/// ERROR 42601 unless `sql` is one statement that returns rows (`must_return_tuples`), found
/// out without running it.
pub fn require_tuples(sql: &str) -> Result<(), ExecError> {
    let stmts = sql::split(sql);
    let refuse = |name: String| {
        Err(ExecError::Local(
            *b"42601",
            format!("{name} query does not return tuples"),
        ))
    };
    let [one] = stmts.as_slice() else {
        return refuse("multi-statement".into());
    };
    if one.kind() == StmtKind::Query {
        return Ok(());
    }
    let c = need_connection()?;
    crate::db::xact::ensure_block()?;
    c.prepare("", one.text, &[])?;
    let d = c.describe_prepared("");
    d.ok()?;
    if d.nfields() > 0 {
        Ok(())
    } else {
        refuse(one.command_name())
    }
}

/// Statements joined back into one string (a newline first ends any trailing `--` comment).
fn join(stmts: &[sql::Statement<'_>]) -> String {
    let mut s = String::new();
    for (i, st) in stmts.iter().enumerate() {
        if i > 0 {
            s.push_str("\n;");
        }
        s.push_str(st.text);
    }
    s
}

/// One statement with parameters (`SPI_execute_with_args`, an unprepared plan) or the statement
/// of a prepared plan (`prepared`: its server name), by its kind.
pub fn execute_one(
    c: &conn::Connection,
    kind: StmtKind,
    text: &str,
    args: &Args,
    prepared: Option<&str>,
    count: libc::c_long,
) -> Result<c_int, ExecError> {
    clear_result();
    match kind {
        StmtKind::Transaction => return Ok(SPI_ERROR_TRANSACTION),
        StmtKind::CopyStdio => return Ok(SPI_ERROR_COPY),
        StmtKind::Call if calls_may_commit() => {
            // Outside any block, so a procedure may commit (see leave_block_for_call).
            crate::db::xact::leave_block_for_call()?;
            let r = match prepared {
                Some(name) => c.exec_prepared(name, &args.refs()),
                None if args.values.is_empty() => {
                    return run_script_plain(c, text, count);
                }
                None => c.exec_typed(text, &args.types, &args.refs()),
            };
            return take_result(&r, count, text);
        }
        StmtKind::Query if limit(count).is_some() && crate::db::xact::in_transaction() => {
            return fetch_limited(c, text, args, count);
        }
        _ => {}
    }
    if prepared.is_none() && args.values.is_empty() {
        return run_script(c, text, count);
    }
    crate::db::xact::ensure_block()?;
    let r = match prepared {
        Some(name) => c.exec_prepared(name, &args.refs()),
        None => c.exec_typed(text, &args.types, &args.refs()),
    };
    take_result(&r, count, text)
}

/// Sends `text` (one or more statements, no parameters) in one piece, with the transaction's
/// BEGIN in front when its block is not open yet; the last result is kept.
fn run_script(c: &conn::Connection, text: &str, count: libc::c_long) -> Result<c_int, ExecError> {
    match crate::db::xact::begin_prefix() {
        Some(begin) => {
            // BEGIN's own result comes first; a string of only comments yields nothing more.
            let r = c.script(&format!("{begin};\n{text}"), None);
            if let Some(e) = r.error {
                return Err(e.into());
            }
            match r.kept {
                Some(k) if r.results > 1 => take_result(&k, count, text),
                _ => Ok(SPI_OK_REWRITTEN),
            }
        }
        None => run_script_plain(c, text, count),
    }
}

fn run_script_plain(
    c: &conn::Connection,
    text: &str,
    count: libc::c_long,
) -> Result<c_int, ExecError> {
    let r = c.script(text, None);
    if let Some(e) = r.error {
        return Err(e.into());
    }
    match r.kept {
        Some(k) => take_result(&k, count, text),
        None => Ok(SPI_OK_REWRITTEN),
    }
}

/// A SELECT limited to `count` rows, read through a cursor so the server stops there:
/// `DECLARE ... NO SCROLL CURSOR`, `FETCH count`, `CLOSE`, in one round trip without
/// parameters (two with them).
fn fetch_limited(
    c: &conn::Connection,
    text: &str,
    args: &Args,
    count: libc::c_long,
) -> Result<c_int, ExecError> {
    const CURSOR: &str = "bgw_spi_limited";
    let declare = format!("DECLARE {CURSOR} NO SCROLL CURSOR FOR {text}\n");
    let fetch = format!("FETCH FORWARD {count} FROM {CURSOR}; CLOSE {CURSOR}");
    let begin = crate::db::xact::begin_prefix();
    let r = if args.values.is_empty() {
        let (sql, at) = match &begin {
            Some(b) => (format!("{b}; {declare}; {fetch}"), 2),
            None => (format!("{declare}; {fetch}"), 1),
        };
        c.script(&sql, Some(at))
    } else {
        crate::db::xact::ensure_block()?;
        let d = c.exec_typed(&declare, &args.types, &args.refs());
        d.ok()?;
        c.script(&fetch, Some(0))
    };
    if let Some(e) = r.error {
        return Err(e.into());
    }
    let Some(k) = r.kept else {
        return Ok(SPI_OK_SELECT);
    };
    take_result(&k, 0, "").map(|_| SPI_OK_SELECT)
}

pub fn clear_result() {
    // SAFETY: single-threaded plain stores.
    unsafe {
        SPI_processed = 0;
        SPI_tuptable = null_mut();
    }
}

/// The `SPI_OK_*` code, `SPI_processed` and `SPI_tuptable` of one result (at most `count` rows
/// kept when `count` > 0). `text` is the statement string it came from (its last statement):
/// a "SELECT n" tag without rows is `SPI_OK_SELINTO` for SELECT ... INTO, `SPI_OK_UTILITY` for
/// CREATE TABLE AS, as in PostgreSQL.
pub fn take_result(res: &QueryResult, count: libc::c_long, text: &str) -> Result<c_int, ExecError> {
    res.ok()?;
    clear_result();
    if res.is_empty_query() {
        return Ok(SPI_OK_REWRITTEN);
    }
    let tag = res.command_tag();
    let mut words = tag.split_ascii_whitespace();
    let verb = words.next().unwrap_or("");
    let last_number = tag
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    let rows = res.returned_rows();
    let code = match verb {
        "" if !rows => return Ok(SPI_OK_REWRITTEN),
        "SELECT" if rows => SPI_OK_SELECT,
        "SELECT" if written_as_select(text) => SPI_OK_SELINTO,
        "INSERT" if rows => SPI_OK_INSERT_RETURNING,
        "INSERT" => SPI_OK_INSERT,
        "UPDATE" if rows => SPI_OK_UPDATE_RETURNING,
        "UPDATE" => SPI_OK_UPDATE,
        "DELETE" if rows => SPI_OK_DELETE_RETURNING,
        "DELETE" => SPI_OK_DELETE,
        "MERGE" => SPI_OK_MERGE,
        _ => SPI_OK_UTILITY,
    };
    if rows {
        let keep = match limit(count) {
            None => res.ntuples(),
            Some(n) => res.ntuples().min(usize::try_from(n).unwrap_or(usize::MAX)),
        };
        let table = materialise(res, 0, keep, false);
        // SAFETY: single-threaded plain stores.
        unsafe {
            SPI_tuptable = table;
            SPI_processed = keep as u64;
        }
    } else if matches!(
        code,
        SPI_OK_SELINTO | SPI_OK_INSERT | SPI_OK_UPDATE | SPI_OK_DELETE | SPI_OK_MERGE
    ) || verb == "COPY"
        || verb == "SELECT"
    {
        // SAFETY: a plain store.
        unsafe { SPI_processed = last_number };
    }
    Ok(code)
}

/// True when the last statement of `text` is written as a SELECT (not CREATE TABLE AS).
fn written_as_select(text: &str) -> bool {
    sql::split(text)
        .last()
        .is_some_and(|s| matches!(s.first_word(), "select" | "with" | ""))
}

/// Builds the `SPITupleTable` of `n` rows of `res` from row `start` (downwards when `reverse`)
/// in a new context under the current SPI level's, and lists it there.
pub fn materialise(res: &QueryResult, start: usize, n: usize, reverse: bool) -> *mut SPITupleTable {
    let Some(level) = stack().last_mut() else {
        return null_mut();
    };
    let subid = crate::db::xact::current_subid();
    // SAFETY: proc_cxt is the live SPI Proc context; every allocation below is sized for what
    // is written into it.
    let table = unsafe {
        let cxt = mcxt::create(level.proc_cxt, c"SPI TupTable".as_ptr());
        let natts = res.nfields();
        let types: Vec<Oid> = (0..natts).map(|c| res.ftype(c)).collect();
        let tupdesc = make_tupdesc(cxt, res, &types);
        let table = alloc_zeroed(cxt, size_of::<SPITupleTable>()).cast::<SPITupleTable>();
        let vals = alloc_zeroed(cxt, size_of::<HeapTuple>() * n.max(1)).cast::<HeapTuple>();
        for i in 0..n {
            let row = if reverse { start - i } else { start + i };
            *vals.add(i) = make_tuple(cxt, res, row, &types);
        }
        table.write(SPITupleTable {
            tupdesc,
            vals,
            numvals: n as u64,
            alloced: n.max(1) as u64,
            tuptabcxt: cxt,
            next: null_mut(),
            subid,
        });
        table
    };
    level.tuptables.push(table);
    table
}

/// # Safety
/// `cxt` must be live.
unsafe fn alloc_zeroed(cxt: MemoryContext, size: usize) -> *mut u8 {
    // SAFETY: as the caller promises.
    unsafe { mcxt::alloc_in(cxt, size, MCXT_ALLOC_ZERO) }.cast()
}

/// # Safety
/// `cxt` must be live.
pub(crate) unsafe fn make_tupdesc(
    cxt: MemoryContext,
    res: &QueryResult,
    types: &[Oid],
) -> TupleDesc {
    let natts = types.len();
    let size = size_of::<TupleDescData>() + natts * size_of::<FormData_pg_attribute>();
    // SAFETY: a fresh zeroed block of `size` bytes; attrs are written within it.
    unsafe {
        let td = alloc_zeroed(cxt, size).cast::<TupleDescData>();
        (*td).natts = natts as c_int;
        (*td).tdtypeid = RECORDOID;
        (*td).tdtypmod = -1;
        (*td).tdrefcount = -1;
        let attrs = (&raw mut (*td).attrs).cast::<FormData_pg_attribute>();
        for (i, &typid) in types.iter().enumerate() {
            let a = &mut *attrs.add(i);
            let name = res.fname(i);
            for (dst, &b) in a.attname.iter_mut().zip(name.as_bytes().iter().take(63)) {
                *dst = b as c_char;
            }
            let kind = kind_of(typid);
            let (len, byval, align) = storage(kind);
            a.atttypid = typid;
            a.attstattarget = -1;
            a.attlen = len;
            a.attnum = (i + 1) as i16;
            a.attcacheoff = -1;
            a.atttypmod = -1;
            a.attbyval = byval;
            a.attalign = align as c_char;
            a.attstorage = if len == -1 { b'x' } else { b'p' } as c_char;
            a.attislocal = true;
            a.attcollation = match kind {
                Kind::Text | Kind::Name => DEFAULT_COLLATION_OID,
                _ => 0,
            };
        }
        td
    }
}

/// A value converted to its stored bytes (without alignment).
fn binary(kind: Kind, text: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(text);
    let s = s.trim();
    match kind {
        Kind::Bool => vec![u8::from(matches!(s, "t" | "true" | "on" | "1" | "yes"))],
        Kind::Char => vec![char_value(text)],
        Kind::Int2 => s.parse::<i16>().unwrap_or(0).to_ne_bytes().to_vec(),
        Kind::Int4 => s.parse::<i32>().unwrap_or(0).to_ne_bytes().to_vec(),
        Kind::Int8 => s.parse::<i64>().unwrap_or(0).to_ne_bytes().to_vec(),
        Kind::Uint4 => s.parse::<u32>().unwrap_or(0).to_ne_bytes().to_vec(),
        Kind::Float4 => parse_float(s)
            .map_or(0f32, |f| f as f32)
            .to_ne_bytes()
            .to_vec(),
        Kind::Float8 => parse_float(s).unwrap_or(0.0).to_ne_bytes().to_vec(),
        Kind::Name => {
            let mut v = vec![0u8; 64];
            let n = text.len().min(63);
            v[..n].copy_from_slice(&text[..n]);
            v
        }
        Kind::Bytea => varlena(&decode_bytea(text)),
        Kind::Text | Kind::Other => varlena(text),
    }
}

/// `"char"`'s text form: one byte, or `\ooo` for a byte outside ASCII.
fn char_value(text: &[u8]) -> u8 {
    if text.len() == 4 && text[0] == b'\\' {
        let o = |b: u8| b.wrapping_sub(b'0') & 7;
        return (o(text[1]) << 6) | (o(text[2]) << 3) | o(text[3]);
    }
    text.first().copied().unwrap_or(0)
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// bytea's text form (hex `\x...`, or the escape format) to bytes.
fn decode_bytea(text: &[u8]) -> Vec<u8> {
    if let Some(hex) = text.strip_prefix(b"\\x") {
        let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
        return hex
            .chunks(2)
            .map(|p| (digit(p[0]) << 4) | digit(*p.get(1).unwrap_or(&b'0')))
            .collect();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\\' && text.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if text[i] == b'\\' && i + 4 <= text.len() {
            out.push(char_value(&text[i..i + 4]));
            i += 4;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// `data` with a 4-byte varlena header (`SET_VARSIZE`, little-endian layout).
fn varlena(data: &[u8]) -> Vec<u8> {
    let total = data.len() + 4;
    let mut v = Vec::with_capacity(total);
    v.extend_from_slice(&((total as u32) << 2).to_le_bytes());
    v.extend_from_slice(data);
    v
}

fn align_to(off: usize, align: u8) -> usize {
    let a = match align {
        b'c' => 1,
        b's' => 2,
        b'i' => 4,
        _ => 8,
    };
    (off + a - 1) & !(a - 1)
}

const fn maxalign(n: usize) -> usize {
    (n + 7) & !7
}

/// Builds row `row` as one chunk: `HeapTupleData`, the heap-tuple body, then the trailer (magic,
/// natts, one pointer per column to the server's NUL-terminated text or NULL, the texts).
///
/// # Safety
/// `cxt` must be live.
unsafe fn make_tuple(
    cxt: MemoryContext,
    res: &QueryResult,
    row: usize,
    types: &[Oid],
) -> HeapTuple {
    let natts = types.len();
    let values: Vec<Option<(Kind, Vec<u8>)>> = (0..natts)
        .map(|c| {
            (!res.is_null(row, c)).then(|| {
                let k = kind_of(types[c]);
                (k, binary(k, res.value(row, c)))
            })
        })
        .collect();
    let has_null = values.iter().any(Option::is_none);
    let has_varwidth = values.iter().flatten().any(|(k, _)| storage(*k).0 == -1);
    let bitmap = if has_null { natts.div_ceil(8) } else { 0 };
    let hoff = maxalign(T_BITS + bitmap);
    let mut offsets = Vec::with_capacity(natts);
    let mut off = 0usize;
    for v in &values {
        match v {
            None => offsets.push(None),
            Some((k, bytes)) => {
                off = align_to(off, storage(*k).2);
                offsets.push(Some(off));
                off += bytes.len();
            }
        }
    }
    let body_len = hoff + off;
    let trailer_at = maxalign(size_of::<HeapTupleData>() + body_len);
    let texts_at = trailer_at + 8 + natts * size_of::<*const c_char>();
    let texts_len: usize = (0..natts)
        .filter(|&c| !res.is_null(row, c))
        .map(|c| res.value(row, c).len() + 1)
        .sum();
    // SAFETY: the chunk is zeroed and `texts_at + texts_len` bytes long; every write below is
    // inside it at the offsets computed above.
    unsafe {
        let base = alloc_zeroed(cxt, texts_at + texts_len);
        let tuple = base.cast::<HeapTupleData>();
        let body = base.add(size_of::<HeapTupleData>());
        tuple.write(HeapTupleData {
            t_len: body_len as u32,
            t_self: ItemPointerData {
                ip_blkid: [0xFFFF, 0xFFFF],
                ip_posid: 0,
            },
            t_tableOid: 0,
            t_data: body,
        });
        // DatumTupleFields: datum_len_, datum_typmod, datum_typeid.
        body.cast::<i32>().write_unaligned(body_len as i32);
        body.add(4).cast::<i32>().write_unaligned(-1);
        body.add(8).cast::<u32>().write_unaligned(RECORDOID);
        // t_ctid: invalid block, offset 0.
        body.add(12).cast::<u16>().write_unaligned(0xFFFF);
        body.add(14).cast::<u16>().write_unaligned(0xFFFF);
        body.add(T_INFOMASK2)
            .cast::<u16>()
            .write_unaligned(natts as u16 & HEAP_NATTS_MASK);
        let mut infomask = 0;
        if has_null {
            infomask |= HEAP_HASNULL;
        }
        if has_varwidth {
            infomask |= HEAP_HASVARWIDTH;
        }
        body.add(T_INFOMASK).cast::<u16>().write_unaligned(infomask);
        *body.add(T_HOFF) = hoff as u8;
        let data = body.add(hoff);
        for (c, v) in values.iter().enumerate() {
            if let (Some((_, bytes)), Some(o)) = (v, offsets[c]) {
                if has_null {
                    *body.add(T_BITS + c / 8) |= 1 << (c % 8);
                }
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.add(o), bytes.len());
            }
        }
        // The trailer.
        let trailer = base.add(trailer_at);
        trailer.cast::<u32>().write(TRAILER_MAGIC);
        trailer.add(4).cast::<u32>().write(natts as u32);
        let ptrs = trailer.add(8).cast::<*const c_char>();
        let mut at = texts_at;
        for c in 0..natts {
            if res.is_null(row, c) {
                *ptrs.add(c) = null();
            } else {
                let text = res.value(row, c);
                let dst = base.add(at);
                std::ptr::copy_nonoverlapping(text.as_ptr(), dst, text.len());
                *ptrs.add(c) = dst.cast();
                at += text.len() + 1;
            }
        }
        tuple
    }
}

// ---- reading tuples -------------------------------------------------------------------------------

/// Attribute `i` (0-based) of `tupdesc`.
///
/// # Safety
/// `tupdesc` must be live with more than `i` attributes.
pub unsafe fn attr(tupdesc: TupleDesc, i: usize) -> *mut FormData_pg_attribute {
    // SAFETY: as the caller promises.
    unsafe {
        (&raw mut (*tupdesc).attrs)
            .cast::<FormData_pg_attribute>()
            .add(i)
    }
}

/// `fnumber` (1-based) when it names a column of `tupdesc`.
///
/// # Safety
/// `tupdesc` must be NULL or live.
pub unsafe fn column(tupdesc: TupleDesc, fnumber: c_int) -> Option<usize> {
    let natts = if tupdesc.is_null() {
        0
    } else {
        // SAFETY: as the caller promises, a non-NULL tupdesc is live.
        unsafe { (*tupdesc).natts }
    };
    (fnumber >= 1 && fnumber <= natts).then(|| (fnumber - 1) as usize)
}

/// Total size of the varlena at `p` (`VARSIZE_ANY`).
///
/// # Safety
/// `p` must point to a varlena.
pub unsafe fn varsize_any(p: *const u8) -> usize {
    // SAFETY: as the caller promises.
    unsafe {
        let b = *p;
        if b == 0x01 {
            // External TOAST pointer: 2 header bytes plus the pointer by its tag.
            2 + match *p.add(1) {
                1 => 4,
                2 | 3 => 8,
                _ => 16,
            }
        } else if b & 0x01 == 0x01 {
            (b >> 1) as usize
        } else {
            ((p.cast::<u32>().read_unaligned() >> 2) & 0x3FFF_FFFF) as usize
        }
    }
}

/// The Datum of attribute `attnum` (1-based) of `tuple` (heap_getattr for user columns), or
/// `None` for a NULL (and for an attribute past the tuple's own count).
///
/// # Safety
/// `tuple` must be a live heap tuple described by `tupdesc`, `attnum` in `1..=natts`.
pub unsafe fn getattr(tuple: HeapTuple, tupdesc: TupleDesc, attnum: usize) -> Option<Datum> {
    // SAFETY: as the caller promises: the body is a well-formed heap tuple.
    unsafe {
        let body = (*tuple).t_data;
        let tuple_natts =
            (body.add(T_INFOMASK2).cast::<u16>().read_unaligned() & HEAP_NATTS_MASK) as usize;
        if attnum > tuple_natts {
            return None;
        }
        let has_null = body.add(T_INFOMASK).cast::<u16>().read_unaligned() & HEAP_HASNULL != 0;
        let is_null = |i: usize| has_null && (*body.add(T_BITS + i / 8) & (1 << (i % 8))) == 0;
        if is_null(attnum - 1) {
            return None;
        }
        let data = body.add(*body.add(T_HOFF) as usize);
        let mut off = 0usize;
        for i in 0..attnum {
            if is_null(i) {
                continue;
            }
            let a = &*attr(tupdesc, i);
            // A varlena with a 1-byte header is not aligned (a pad byte is always 0).
            if !(a.attlen == -1 && *data.add(off) != 0) {
                off = align_to(off, a.attalign as u8);
            }
            if i == attnum - 1 {
                let p = data.add(off);
                if a.attbyval {
                    return Some(match a.attlen {
                        1 => *p.cast::<i8>() as Datum,
                        2 => p.cast::<i16>().read_unaligned() as Datum,
                        4 => p.cast::<i32>().read_unaligned() as Datum,
                        _ => p.cast::<u64>().read_unaligned() as Datum,
                    });
                }
                return Some(p as Datum);
            }
            off += match a.attlen {
                -1 => varsize_any(data.add(off)),
                -2 => libc::strlen(data.add(off).cast()) + 1,
                n => n as usize,
            };
        }
        None
    }
}

/// The server's text for column `col` (0-based) of a tuple built by [`make_tuple`], if the
/// tuple has its trailer.
///
/// # Safety
/// `tuple` must be a live tuple allocated by the library's allocator.
pub unsafe fn server_text(tuple: HeapTuple, col: usize) -> Option<Option<*const c_char>> {
    // SAFETY: the chunk's size bounds every read; the layout is make_tuple's.
    unsafe {
        let base = tuple.cast::<u8>();
        if (*tuple).t_data != base.add(size_of::<HeapTupleData>()) {
            return None;
        }
        let space = mcxt::chunk_space(tuple.cast());
        let trailer_at = maxalign(size_of::<HeapTupleData>() + (*tuple).t_len as usize);
        if space < trailer_at + 8 {
            return None;
        }
        let trailer = base.add(trailer_at);
        let natts = trailer.add(4).cast::<u32>().read() as usize;
        if trailer.cast::<u32>().read() != TRAILER_MAGIC
            || col >= natts
            || space < trailer_at + 8 + natts * size_of::<*const c_char>()
        {
            return None;
        }
        let p = *trailer.add(8).cast::<*const c_char>().add(col);
        Some((!p.is_null()).then_some(p))
    }
}

/// The text form of a binary value (for tuples without a trailer).
///
/// # Safety
/// `d` must be a Datum of type `typid` as stored by this module.
pub unsafe fn datum_text(typid: Oid, d: Datum) -> Option<Vec<u8>> {
    // SAFETY: as the caller promises; by-reference values are live varlenas/names.
    unsafe {
        Some(match kind_of(typid) {
            Kind::Bool => {
                if d != 0 {
                    b"t".to_vec()
                } else {
                    b"f".to_vec()
                }
            }
            Kind::Char => vec![d as u8],
            Kind::Int2 => (d as i16).to_string().into_bytes(),
            Kind::Int4 => (d as i32).to_string().into_bytes(),
            Kind::Int8 => (d as i64).to_string().into_bytes(),
            Kind::Uint4 => (d as u32).to_string().into_bytes(),
            Kind::Float4 => float_text(f32::from_bits(d as u32) as f64),
            Kind::Float8 => float_text(f64::from_bits(d as u64)),
            Kind::Name => std::ffi::CStr::from_ptr(d as *const c_char)
                .to_bytes()
                .to_vec(),
            Kind::Bytea => {
                let mut out = b"\\x".to_vec();
                for b in varlena_bytes(d as *const u8)? {
                    out.extend_from_slice(format!("{b:02x}").as_bytes());
                }
                out
            }
            Kind::Text | Kind::Other => varlena_bytes(d as *const u8)?.to_vec(),
        })
    }
}

fn float_text(f: f64) -> Vec<u8> {
    if f.is_nan() {
        b"NaN".to_vec()
    } else if f.is_infinite() {
        if f > 0.0 {
            b"Infinity".to_vec()
        } else {
            b"-Infinity".to_vec()
        }
    } else {
        f.to_string().into_bytes()
    }
}

/// The bytes of an uncompressed, inline varlena (`VARDATA_ANY`, `VARSIZE_ANY_EXHDR`).
///
/// # Safety
/// `p` must point to a live varlena.
pub unsafe fn varlena_bytes<'a>(p: *const u8) -> Option<&'a [u8]> {
    // SAFETY: as the caller promises.
    unsafe {
        let b = *p;
        if b == 0x01 {
            return None;
        }
        if b & 0x01 == 0x01 {
            let n = (b >> 1) as usize;
            return Some(std::slice::from_raw_parts(p.add(1), n.saturating_sub(1)));
        }
        let word = p.cast::<u32>().read_unaligned();
        if word & 0x03 != 0 {
            // Compressed inline: not produced here and not readable without the server.
            return None;
        }
        let n = ((word >> 2) & 0x3FFF_FFFF) as usize;
        Some(std::slice::from_raw_parts(p.add(4), n.saturating_sub(4)))
    }
}

/// The text of a parameter Datum of type `typid` (`SPI_execute_with_args`), or an error text.
///
/// # Safety
/// `d` must be a valid Datum of that type (by-reference types: a live value).
pub unsafe fn param_text(typid: Oid, d: Datum) -> Result<Vec<u8>, String> {
    // SAFETY: as the caller promises.
    unsafe {
        match typid {
            CSTRINGOID => Ok(std::ffi::CStr::from_ptr(d as *const c_char).to_bytes().to_vec()),
            BOOLOID => Ok(if d & 0xFF != 0 { b"t".to_vec() } else { b"f".to_vec() }),
            _ if kind_of(typid) != Kind::Other => datum_text(typid, d).ok_or_else(|| {
                format!("SPI_execute_with_args: a parameter of type {typid} is a compressed or external value, which is not supported")
            }),
            _ => Err(format!(
                "SPI_execute_with_args: parameters of type {typid} are not supported; pass them as text"
            )),
        }
    }
}

/// Raises ERROR `code`/`message` with optional DETAIL and HINT from a C frame. The texts are
/// copied to this frame's stack and dropped first; the caller must own nothing else.
pub fn raise_error(
    code: [u8; 5],
    message: String,
    detail: Option<String>,
    hint: Option<String>,
) -> ! {
    // The C shim's bodies, declared with their real signatures (c_shim.rs declares them
    // argument-less, only to take their addresses).
    #[allow(clashing_extern_declarations)]
    extern "C" {
        fn bgw_c_errstart(elevel: c_int, domain: *const c_char) -> bool;
        fn bgw_c_errcode(code: c_int) -> c_int;
        fn bgw_c_errmsg_internal(fmt: *const c_char, ...) -> c_int;
        fn bgw_c_errdetail_internal(fmt: *const c_char, ...) -> c_int;
        fn bgw_c_errhint(fmt: *const c_char, ...) -> c_int;
        fn bgw_c_errfinish(filename: *const c_char, lineno: c_int, funcname: *const c_char);
    }
    fn copy<const N: usize>(s: &str) -> [c_char; N] {
        let mut buf = [0 as c_char; N];
        for (d, &b) in buf.iter_mut().zip(s.as_bytes().iter().take(N - 1)) {
            *d = if b == 0 { b' ' } else { b } as c_char;
        }
        buf
    }
    let m: [c_char; 2048] = copy(&message);
    let d: Option<[c_char; 2048]> = detail.as_deref().map(copy);
    let h: Option<[c_char; 1024]> = hint.as_deref().map(copy);
    // Nothing on this frame may need dropping when the report longjmps.
    drop((message, detail, hint));
    // SAFETY: the buffers are NUL-terminated and live on this frame; the format is "%s".
    unsafe {
        if bgw_c_errstart(ERROR, null()) {
            bgw_c_errcode(crate::pg::make_sqlstate(&code));
            bgw_c_errmsg_internal(c"%s".as_ptr(), m.as_ptr());
            if let Some(d) = &d {
                bgw_c_errdetail_internal(c"%s".as_ptr(), d.as_ptr());
            }
            if let Some(h) = &h {
                bgw_c_errhint(c"%s".as_ptr(), h.as_ptr());
            }
            bgw_c_errfinish(null(), 0, null());
        }
    }
    crate::worker::exit::proc_exit(1)
}

/// Asks the server for a type's name (`SPI_gettype` of a type not in the built-in list).
pub fn server_type_name(typid: Oid) -> Option<String> {
    let conn = conn::connection()?;
    let oid = typid.to_string();
    let res = conn.exec(
        "SELECT typname FROM pg_catalog.pg_type WHERE oid = $1::oid",
        &[Some(&oid)],
    );
    res.ok().ok()?;
    if res.ntuples() != 1 {
        return None;
    }
    Some(String::from_utf8_lossy(res.value(0, 0)).into_owned())
}
