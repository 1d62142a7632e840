//! Prepared plans: `SPI_prepare*` makes a server-side prepared statement (a uniquely named one
//! per plan), `SPI_execute_plan*` runs it, `SPI_freeplan` (or the end of the SPI level that
//! made an unkept plan) deallocates it. A plan keeps its SQL and parameter types, so it is
//! prepared again, transparently, when the session no longer has it (`DISCARD ALL`,
//! `DEALLOCATE ALL`, or a plan copied by `SPI_saveplan`).
//!
//! Memory is PostgreSQL's: a plan lives in its own context under the SPI level's, moved under
//! `CacheMemoryContext` by `SPI_keepplan`; deleting that context is freeing the plan. A string
//! of several statements without parameters is a plan too: it runs as a string each time.

use super::conn::{self, ServerError};
use super::spi::{self, Args, ExecError};
use super::sql::{self, Kind};
use crate::mcxt::{self, MemoryContext, MemoryContextCallback, MCXT_ALLOC_ZERO};
use crate::pg::types::Oid;
use libc::{c_int, c_void};
use std::collections::BTreeMap;
use std::mem::size_of;

/// PostgreSQL's `_SPI_PLAN_MAGIC`: the first word of every plan.
pub const PLAN_MAGIC: c_int = 569_278_163;

/// What a module's `SPIPlanPtr` points at: opaque to modules; the magic checks it is a plan.
#[repr(C)]
pub struct SpiPlan {
    magic: c_int,
    id: u64,
}

pub type SPIPlanPtr = *mut SpiPlan;

/// A plan's statement and its state on the server.
#[derive(Clone)]
struct PlanInfo {
    sql: String,
    /// Parameter types as given (0 = the server infers it).
    argtypes: Vec<Oid>,
    cursor_options: c_int,
    /// How many statements `sql` holds (1 for a prepared plan).
    statements: usize,
    kind: Kind,
    command_name: String,
    /// Name and epoch of its prepared statement, once prepared.
    server: Option<(String, u64)>,
    /// The parameter types and whether it returns rows, as the server described it.
    described: Option<(Vec<Oid>, bool)>,
    cxt: MemoryContext,
    /// `SPI_keepplan` or `SPI_saveplan` made it outlive its SPI level.
    saved: bool,
}

static mut PLANS: BTreeMap<u64, PlanInfo> = BTreeMap::new();
static mut NEXT_ID: u64 = 0;

fn plans() -> &'static mut BTreeMap<u64, PlanInfo> {
    let p = &raw mut PLANS;
    // SAFETY: a worker is single-threaded; no reference outlives one SPI call.
    unsafe { &mut *p }
}

/// The plan behind a module's pointer, if it is a live plan.
fn id_of(plan: SPIPlanPtr) -> Option<u64> {
    if plan.is_null() {
        return None;
    }
    // SAFETY: a non-NULL SPIPlanPtr points at a SpiPlan the module got from us (checked by its
    // magic and our registry before use).
    let (magic, id) = unsafe { ((*plan).magic, (*plan).id) };
    (magic == PLAN_MAGIC && plans().contains_key(&id)).then_some(id)
}

/// True when `plan` is a live plan (`SPI_plan_is_valid`).
pub fn is_valid(plan: SPIPlanPtr) -> bool {
    id_of(plan).is_some()
}

/// Called when a plan's context is deleted: the plan is gone, its statement deallocated.
unsafe extern "C" fn plan_context_gone(arg: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        if let Some(info) = plans().remove(&(arg as u64)) {
            if let (Some((name, epoch)), Some(c)) = (info.server, conn::connection()) {
                c.deallocate(&name, epoch);
            }
        }
    });
}

/// A new plan in a fresh context under `parent`.
fn register(info: PlanInfo, parent: MemoryContext) -> SPIPlanPtr {
    // SAFETY: single-threaded counter.
    let id = unsafe {
        NEXT_ID += 1;
        NEXT_ID
    };
    // SAFETY: parent is live; the plan and its callback are allocated in the new context, so
    // the callback stays valid until the context's deletion runs it.
    unsafe {
        let cxt = mcxt::create(parent, c"SPI Plan".as_ptr());
        let plan = mcxt::alloc_in(cxt, size_of::<SpiPlan>(), MCXT_ALLOC_ZERO).cast::<SpiPlan>();
        plan.write(SpiPlan {
            magic: PLAN_MAGIC,
            id,
        });
        let cb = mcxt::alloc_in(cxt, size_of::<MemoryContextCallback>(), MCXT_ALLOC_ZERO)
            .cast::<MemoryContextCallback>();
        cb.write(MemoryContextCallback {
            func: Some(plan_context_gone),
            arg: id as *mut c_void,
            next: std::ptr::null_mut(),
        });
        mcxt::register_reset_callback(cxt, cb);
        plans().insert(id, PlanInfo { cxt, ..info });
        plan
    }
}

/// `SPI_prepare_cursor` (and `SPI_prepare`, `SPI_prepare_params` with `argtypes` empty and
/// `infer`): prepares `src` on the server now, so a syntax error is raised here, as in
/// PostgreSQL.
pub fn prepare(
    src: &str,
    argtypes: &[Oid],
    cursor_options: c_int,
) -> Result<SPIPlanPtr, ExecError> {
    let c = spi::need_connection()?;
    let Some(parent) = spi::proc_context() else {
        return Err(ExecError::Local(
            *b"XX000",
            "SPI_prepare called while not connected to SPI".into(),
        ));
    };
    let stmts = sql::split(src);
    let (kind, command_name) = match stmts.first() {
        Some(s) if stmts.len() == 1 => (s.kind(), s.command_name()),
        _ => (Kind::Other, String::new()),
    };
    if stmts.len() > 1 && !argtypes.is_empty() {
        return Err(ExecError::Server(ServerError::new(
            b"42601",
            "cannot insert multiple commands into a prepared statement",
        )));
    }
    let mut info = PlanInfo {
        sql: src.to_owned(),
        argtypes: argtypes.to_vec(),
        cursor_options,
        statements: stmts.len(),
        kind,
        command_name,
        server: None,
        described: None,
        cxt: std::ptr::null_mut(),
        saved: false,
    };
    if info.statements == 1 && !matches!(kind, Kind::Transaction | Kind::CopyStdio) {
        let name = c.new_name("bgw_plan_");
        c.prepare(&name, src, argtypes)?;
        info.server = Some((name, c.epoch()));
    }
    Ok(register(info, parent))
}

/// The plan's prepared statement on this session, preparing it (again) when needed.
fn server_name(id: u64) -> Result<String, ExecError> {
    let c = spi::need_connection()?;
    let info = plans().get(&id).cloned().ok_or_else(invalid)?;
    if let Some((name, epoch)) = &info.server {
        if *epoch == c.epoch() {
            return Ok(name.clone());
        }
    }
    let name = c.new_name("bgw_plan_");
    c.prepare(&name, &info.sql, &info.argtypes)?;
    if let Some(p) = plans().get_mut(&id) {
        p.server = Some((name.clone(), c.epoch()));
    }
    Ok(name)
}

fn invalid() -> ExecError {
    ExecError::Local(*b"XX000", "invalid SPI plan".into())
}

/// `SPI_execute_plan` and friends: `values` are the parameters' text forms.
pub fn execute(
    plan: SPIPlanPtr,
    values: Vec<Option<Vec<u8>>>,
    count: libc::c_long,
) -> Result<c_int, ExecError> {
    if !spi::connected() {
        return Ok(spi::SPI_ERROR_UNCONNECTED);
    }
    let Some(id) = id_of(plan) else {
        return Ok(spi::SPI_ERROR_ARGUMENT);
    };
    if count < 0 {
        return Ok(spi::SPI_ERROR_ARGUMENT);
    }
    let info = plans().get(&id).cloned().ok_or_else(invalid)?;
    if info.statements != 1 {
        return spi::execute(&info.sql, count);
    }
    if values.len() != info.argtypes.len() && !info.argtypes.is_empty() {
        return Ok(spi::SPI_ERROR_PARAM);
    }
    let c = spi::need_connection()?;
    let args = Args {
        types: info.argtypes.clone(),
        values,
    };
    // A limited SELECT runs through a cursor declared over the plan's text.
    let limited = info.kind == Kind::Query && count > 0 && super::xact::in_transaction();
    let prepared = if limited || matches!(info.kind, Kind::Transaction | Kind::CopyStdio) {
        None
    } else {
        Some(server_name(id)?)
    };
    spi::execute_one(c, info.kind, &info.sql, &args, prepared.as_deref(), count)
}

/// The plan's parameter types (as given, or as the server inferred them).
pub fn argtypes(plan: SPIPlanPtr) -> Option<Vec<Oid>> {
    let id = id_of(plan)?;
    let info = plans().get(&id)?.clone();
    if !info.argtypes.contains(&0) {
        return Some(info.argtypes);
    }
    describe(id).ok().map(|(types, _)| types)
}

/// What the server says of the plan's statement: parameter types and whether it returns rows.
fn describe(id: u64) -> Result<(Vec<Oid>, bool), ExecError> {
    if let Some(d) = plans().get(&id).and_then(|p| p.described.clone()) {
        return Ok(d);
    }
    let name = server_name(id)?;
    let c = spi::need_connection()?;
    let r = c.describe_prepared(&name);
    r.ok()?;
    let d = (r.param_types(), r.nfields() > 0);
    if let Some(p) = plans().get_mut(&id) {
        p.described = Some(d.clone());
    }
    Ok(d)
}

/// `SPI_is_cursor_plan`: one statement that returns rows.
pub fn is_cursor_plan(plan: SPIPlanPtr) -> Result<bool, ExecError> {
    let Some(id) = id_of(plan) else {
        spi::set_result(spi::SPI_ERROR_ARGUMENT);
        return Ok(false);
    };
    spi::set_result(0);
    let info = plans().get(&id).cloned().ok_or_else(invalid)?;
    Ok(match info.kind {
        _ if info.statements != 1 => false,
        Kind::Query => true,
        Kind::Transaction | Kind::CopyStdio => false,
        _ => describe(id)?.1,
    })
}

/// What a cursor over the plan needs: its text, kind, command name, statement count, cursor
/// options, parameter types, and its prepared statement (when it is not a plain query).
pub struct CursorSource {
    pub sql: String,
    pub kind: Kind,
    pub command_name: String,
    pub statements: usize,
    pub cursor_options: c_int,
    pub argtypes: Vec<Oid>,
    pub returns_rows: Option<bool>,
}

/// The plan as a cursor's source.
pub fn cursor_source(plan: SPIPlanPtr) -> Result<CursorSource, ExecError> {
    let id = id_of(plan).ok_or_else(invalid)?;
    let info = plans().get(&id).cloned().ok_or_else(invalid)?;
    let returns_rows = match info.kind {
        _ if info.statements != 1 => None,
        Kind::Query => Some(true),
        Kind::Transaction | Kind::CopyStdio => Some(false),
        _ => Some(describe(id)?.1),
    };
    Ok(CursorSource {
        argtypes: argtypes(plan).unwrap_or_default(),
        sql: info.sql,
        kind: info.kind,
        command_name: info.command_name,
        statements: info.statements,
        cursor_options: info.cursor_options,
        returns_rows,
    })
}

/// `CacheMemoryContext`, made on first use.
fn cache_context() -> MemoryContext {
    // SAFETY: single-threaded; TopMemoryContext is live.
    unsafe {
        if mcxt::CacheMemoryContext.is_null() {
            mcxt::CacheMemoryContext =
                mcxt::create(mcxt::TopMemoryContext, c"CacheMemoryContext".as_ptr());
        }
        mcxt::CacheMemoryContext
    }
}

/// `SPI_keepplan`: the plan outlives its SPI level (until `SPI_freeplan`).
pub fn keep(plan: SPIPlanPtr) -> c_int {
    let Some(id) = id_of(plan) else {
        return spi::SPI_ERROR_ARGUMENT;
    };
    let p = plans().get_mut(&id).expect("checked by id_of");
    if p.saved {
        return spi::SPI_ERROR_ARGUMENT;
    }
    p.saved = true;
    // SAFETY: both contexts are live; the cache context is not inside the plan's.
    unsafe { mcxt::set_parent(p.cxt, cache_context()) };
    0
}

/// `SPI_saveplan`: a kept copy of the plan (prepared on the server when first run).
pub fn save(plan: SPIPlanPtr) -> Option<SPIPlanPtr> {
    let id = id_of(plan)?;
    let info = plans().get(&id)?.clone();
    let copy = PlanInfo {
        server: None,
        saved: true,
        ..info
    };
    Some(register(copy, cache_context()))
}

/// `SPI_freeplan`: deletes the plan's context (which deallocates its statement).
pub fn free(plan: SPIPlanPtr) -> c_int {
    let Some(id) = id_of(plan) else {
        return spi::SPI_ERROR_ARGUMENT;
    };
    let cxt = plans().get(&id).map(|p| p.cxt);
    if let Some(cxt) = cxt {
        // SAFETY: the plan's own live context; deleting it runs plan_context_gone.
        unsafe { mcxt::delete(cxt) };
    }
    0
}
