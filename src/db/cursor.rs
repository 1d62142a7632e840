//! Cursors (`SPI_cursor_open*`, `SPI_cursor_fetch`/`_move`, `SPI_scroll_cursor_*`,
//! `SPI_cursor_find`, `SPI_cursor_close`): a query is declared as a server-side cursor in the
//! transaction (`DECLARE`), and each fetch brings back only the rows asked for, so a worker
//! reading a large result in chunks holds one chunk at a time. A statement that returns rows but
//! cannot be declared (INSERT ... RETURNING, SHOW, ...) runs to completion when opened and is
//! read from its result, as PostgreSQL runs such portals to completion into a tuple store.
//!
//! The portal a module gets is PostgreSQL 15's `PortalData` (232 bytes), so `portal->name` and
//! the other fields modules read are where they expect them. Cursors live until they are closed
//! or the transaction ends (a subtransaction's abort closes those opened inside it), as on the
//! server.

use super::conn::QueryResult;
use super::spi::{self, Args, ExecError, SPITupleTable, TupleDesc};
use super::sql::Kind;
use crate::mcxt::{self, MemoryContext, MCXT_ALLOC_ZERO};
use libc::{c_char, c_int, c_long, c_void};
use std::mem::{offset_of, size_of};
use std::ptr::null_mut;

/// `QueryCompletion`.
#[repr(C)]
pub struct QueryCompletion {
    pub commandTag: c_int,
    pub nprocessed: u64,
}

/// PostgreSQL 15's `PortalData` (utils/portal.h).
#[repr(C)]
pub struct PortalData {
    pub name: *const c_char,
    pub prepStmtName: *const c_char,
    pub portalContext: MemoryContext,
    pub resowner: *mut c_void,
    pub cleanup: *mut c_void,
    pub createSubid: u32,
    pub activeSubid: u32,
    pub createLevel: c_int,
    pub sourceText: *const c_char,
    pub commandTag: c_int,
    pub qc: QueryCompletion,
    pub stmts: *mut c_void,
    pub cplan: *mut c_void,
    pub portalParams: *mut c_void,
    pub queryEnv: *mut c_void,
    pub strategy: c_int,
    pub cursorOptions: c_int,
    pub run_once: bool,
    pub status: c_int,
    pub portalPinned: bool,
    pub autoHeld: bool,
    pub queryDesc: *mut c_void,
    pub tupDesc: TupleDesc,
    pub formats: *mut i16,
    pub portalSnapshot: *mut c_void,
    pub holdStore: *mut c_void,
    pub holdContext: MemoryContext,
    pub holdSnapshot: *mut c_void,
    pub atStart: bool,
    pub atEnd: bool,
    pub portalPos: u64,
    pub creation_time: i64,
    pub visible: bool,
}

pub type Portal = *mut PortalData;

const _: () = assert!(size_of::<PortalData>() == 232);
const _: () = assert!(offset_of!(PortalData, createSubid) == 40);
const _: () = assert!(offset_of!(PortalData, sourceText) == 56);
const _: () = assert!(offset_of!(PortalData, qc) == 72);
const _: () = assert!(offset_of!(PortalData, strategy) == 120);
const _: () = assert!(offset_of!(PortalData, status) == 132);
const _: () = assert!(offset_of!(PortalData, tupDesc) == 152);
const _: () = assert!(offset_of!(PortalData, atStart) == 200);
const _: () = assert!(offset_of!(PortalData, portalPos) == 208);
const _: () = assert!(offset_of!(PortalData, visible) == 224);

/// `FetchDirection`.
pub const FETCH_FORWARD: c_int = 0;
pub const FETCH_BACKWARD: c_int = 1;
pub const FETCH_ABSOLUTE: c_int = 2;
pub const FETCH_RELATIVE: c_int = 3;
/// `CURSOR_OPT_*`.
pub const CURSOR_OPT_SCROLL: c_int = 0x0002;
pub const CURSOR_OPT_NO_SCROLL: c_int = 0x0004;
/// `PortalStrategy`: PORTAL_ONE_SELECT, PORTAL_ONE_RETURNING, PORTAL_UTIL_SELECT.
const PORTAL_ONE_SELECT: c_int = 0;
const PORTAL_ONE_RETURNING: c_int = 1;
const PORTAL_UTIL_SELECT: c_int = 3;
/// `PortalStatus`: PORTAL_READY.
const PORTAL_READY: c_int = 2;

/// One open cursor.
struct Cursor {
    portal: Portal,
    name: String,
    cxt: MemoryContext,
    /// The subtransaction that opened it.
    subid: u32,
    /// For a statement that cannot be declared: its rows and the position (0 before the first
    /// row, n+1 after the last), as a scrollable cursor moves; None until the first fetch.
    held: Option<(QueryResult, usize)>,
    /// Such a statement and its parameters, until the first fetch runs it (as PostgreSQL runs
    /// these portals to completion at their first fetch).
    pending: Option<(String, Args)>,
}

static mut CURSORS: Vec<Cursor> = Vec::new();
static mut UNNAMED: u32 = 0;

fn cursors() -> &'static mut Vec<Cursor> {
    let p = &raw mut CURSORS;
    // SAFETY: a worker is single-threaded; no reference outlives one SPI call.
    unsafe { &mut *p }
}

/// The parent of every cursor's context ("TopPortalContext"), made on first use.
fn top_portal_context() -> MemoryContext {
    static mut TOP: MemoryContext = null_mut();
    // SAFETY: single-threaded; TopMemoryContext is live.
    unsafe {
        if TOP.is_null() {
            TOP = mcxt::create(mcxt::TopMemoryContext, c"TopPortalContext".as_ptr());
        }
        TOP
    }
}

/// A cursor name quoted as an identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What a cursor is opened over.
pub struct Source<'a> {
    pub sql: &'a str,
    pub kind: Kind,
    pub command_name: &'a str,
    pub statements: usize,
    pub cursor_options: c_int,
    /// Known to return rows (Some(true)), known not to (Some(false)), or unknown (None: asked
    /// of the server when it matters).
    pub returns_rows: Option<bool>,
}

/// `SPI_cursor_open*`: a cursor named `name` (NULL or empty: `<unnamed portal N>`, as
/// PostgreSQL names them) over `src` with `args`.
pub fn open(name: Option<&str>, src: &Source<'_>, args: &Args) -> Result<Portal, ExecError> {
    if !spi::connected() {
        return Err(ExecError::Local(
            *b"XX000",
            "SPI_cursor_open called while not connected".into(),
        ));
    }
    let c = spi::need_connection()?;
    if src.statements != 1 {
        return Err(ExecError::Local(
            *b"42P11",
            "cannot open multi-query plan as cursor".into(),
        ));
    }
    let name = match name.filter(|n| !n.is_empty()) {
        Some(n) => {
            if cursors().iter().any(|k| k.name == n) {
                return Err(ExecError::Local(
                    *b"42P03",
                    format!("cursor \"{n}\" already exists"),
                ));
            }
            n.to_owned()
        }
        None => loop {
            // SAFETY: single-threaded counter.
            let n = unsafe {
                UNNAMED += 1;
                UNNAMED
            };
            let candidate = format!("<unnamed portal {n}>");
            if !cursors().iter().any(|k| k.name == candidate) {
                break candidate;
            }
        },
    };
    spi::clear_result();
    let mut pending = None;
    let strategy;
    if src.kind == Kind::Query {
        let mut sql = format!("DECLARE {} ", quoted(&name));
        if src.cursor_options & CURSOR_OPT_SCROLL != 0 {
            sql.push_str("SCROLL ");
        } else if src.cursor_options & CURSOR_OPT_NO_SCROLL != 0 {
            sql.push_str("NO SCROLL ");
        }
        sql.push_str("CURSOR FOR ");
        sql.push_str(src.sql);
        sql.push('\n');
        super::xact::ensure_block()?;
        let r = c.exec_typed(&sql, &args.types, &args.refs());
        r.ok()?;
        strategy = PORTAL_ONE_SELECT;
    } else {
        // Asked of the server without running it: a statement that returns no rows is refused
        // before it changes anything, as in PostgreSQL.
        let rows = match src.returns_rows {
            Some(r) => r,
            None => {
                super::xact::ensure_block()?;
                c.prepare("", src.sql, &args.types)?;
                let d = c.describe_prepared("");
                d.ok()?;
                d.nfields() > 0
            }
        };
        if !rows {
            return Err(ExecError::Local(
                *b"42P11",
                format!("cannot open {} query as cursor", src.command_name),
            ));
        }
        pending = Some((
            src.sql.to_owned(),
            Args {
                types: args.types.clone(),
                values: args.values.clone(),
            },
        ));
        strategy = if matches!(src.kind, Kind::Other)
            && matches!(
                src.command_name,
                "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "WITH"
            ) {
            PORTAL_ONE_RETURNING
        } else {
            PORTAL_UTIL_SELECT
        };
    }
    // SAFETY: a fresh context under the live TopPortalContext; the portal and its strings are
    // allocated in it with the sizes written.
    let portal = unsafe {
        let cxt = mcxt::create(top_portal_context(), c"PortalContext".as_ptr());
        let p = mcxt::alloc_in(cxt, size_of::<PortalData>(), MCXT_ALLOC_ZERO).cast::<PortalData>();
        (*p).name = mcxt::copy_string(cxt, name.as_ptr().cast(), name.len());
        (*p).portalContext = cxt;
        (*p).createSubid = super::xact::current_subid();
        (*p).activeSubid = (*p).createSubid;
        (*p).createLevel = super::xact::nest_level();
        (*p).sourceText = mcxt::copy_string(cxt, src.sql.as_ptr().cast(), src.sql.len());
        (*p).strategy = strategy;
        (*p).cursorOptions = src.cursor_options;
        (*p).status = PORTAL_READY;
        (*p).atStart = true;
        (*p).creation_time = super::xact::statement_start();
        (*p).visible = true;
        p
    };
    cursors().push(Cursor {
        portal,
        // SAFETY: the portal was just made.
        cxt: unsafe { (*portal).portalContext },
        name,
        subid: super::xact::current_subid(),
        held: None,
        pending,
    });
    Ok(portal)
}

/// `SPI_cursor_find`.
pub fn find(name: &str) -> Portal {
    cursors()
        .iter()
        .find(|k| k.name == name)
        .map_or(null_mut(), |k| k.portal)
}

fn index_of(portal: Portal) -> Result<usize, ExecError> {
    cursors()
        .iter()
        .position(|k| k.portal == portal)
        .ok_or_else(|| ExecError::Local(*b"XX000", "invalid portal in SPI cursor operation".into()))
}

/// The FETCH/MOVE words for a direction and count ("FORWARD 10", "ABSOLUTE -1", ...).
fn motion(direction: c_int, count: c_long) -> String {
    let n = |c: c_long| {
        if c == c_long::MAX || c > i32::MAX as c_long {
            "ALL".to_string()
        } else {
            c.to_string()
        }
    };
    match direction {
        FETCH_BACKWARD => format!("BACKWARD {}", n(count)),
        FETCH_ABSOLUTE => format!("ABSOLUTE {count}"),
        FETCH_RELATIVE => format!("RELATIVE {count}"),
        _ => format!("FORWARD {}", n(count)),
    }
}

/// `SPI_cursor_fetch`/`_move` and `SPI_scroll_cursor_fetch`/`_move`: `SPI_processed` rows (and
/// `SPI_tuptable` for a fetch). `PortalContext` is the cursor's while it runs.
pub fn fetch(
    portal: Portal,
    direction: c_int,
    count: c_long,
    move_only: bool,
) -> Result<(), ExecError> {
    if portal.is_null() {
        return Err(ExecError::Local(
            *b"XX000",
            "invalid portal in SPI cursor operation".into(),
        ));
    }
    if !spi::connected() {
        return Err(ExecError::Local(
            *b"XX000",
            "SPI cursor operation called while not connected".into(),
        ));
    }
    let i = index_of(portal)?;
    spi::clear_result();
    let cxt = cursors()[i].cxt;
    // SAFETY: single-threaded plain globals.
    let saved = unsafe {
        let s = mcxt::PortalContext;
        mcxt::PortalContext = cxt;
        s
    };
    let outcome = if cursors()[i].held.is_some() || cursors()[i].pending.is_some() {
        run_pending(i).map(|()| fetch_held(i, direction, count, move_only))
    } else {
        fetch_declared(i, direction, count, move_only)
    };
    // SAFETY: as above.
    unsafe { mcxt::PortalContext = saved };
    if outcome.is_ok() {
        note_position(cursors()[i].portal, direction, count);
    }
    outcome
}

fn fetch_declared(
    i: usize,
    direction: c_int,
    count: c_long,
    move_only: bool,
) -> Result<(), ExecError> {
    let c = spi::need_connection()?;
    let sql = format!(
        "{} {} {} {}",
        if move_only { "MOVE" } else { "FETCH" },
        motion(direction, count),
        if move_only { "IN" } else { "FROM" },
        quoted(&cursors()[i].name)
    );
    let r = c.script(&sql, None);
    if let Some(e) = r.error {
        return Err(e.into());
    }
    let Some(res) = r.kept else {
        return Ok(());
    };
    if move_only {
        let n = res
            .command_tag()
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        // SAFETY: a plain store.
        unsafe { spi::SPI_processed = n };
        return Ok(());
    }
    spi::take_result(&res, 0, "")?;
    set_tupdesc(i);
    Ok(())
}

/// Runs a statement that cannot be declared, at its cursor's first fetch.
fn run_pending(i: usize) -> Result<(), ExecError> {
    let Some((sql, args)) = cursors()[i].pending.take() else {
        return Ok(());
    };
    let c = spi::need_connection()?;
    super::xact::ensure_block()?;
    let r = c.exec_typed(&sql, &args.types, &args.refs());
    r.ok()?;
    cursors()[i].held = Some((r, 0));
    Ok(())
}

/// Fetching from a statement run at the first fetch: the rows between the old and new position, as
/// PostgreSQL's portal code moves over a tuple store.
fn fetch_held(i: usize, direction: c_int, count: c_long, move_only: bool) {
    let (total, pos) = {
        let (r, pos) = cursors()[i].held.as_ref().expect("held");
        (r.ntuples() as i64, *pos as i64)
    };
    // (first row, number of rows, backwards, new position), rows 1-based.
    let (first, n, backward, new_pos) = match direction {
        FETCH_ABSOLUTE | FETCH_RELATIVE => {
            let target = if direction == FETCH_ABSOLUTE {
                if count >= 0 {
                    count
                } else {
                    total + 1 + count
                }
            } else {
                pos + count
            };
            let clamped = target.clamp(0, total + 1);
            let n = i64::from((1..=total).contains(&clamped));
            (clamped, n, false, clamped)
        }
        _ => {
            let back = direction == FETCH_BACKWARD;
            let count = if count == c_long::MAX { total } else { count };
            if back {
                let first = pos - 1;
                let n = count.min(first.max(0));
                (first, n, true, (pos - count).max(0))
            } else {
                let first = pos + 1;
                let n = count.min((total - pos).max(0));
                (first, n, false, (pos + count).min(total + 1))
            }
        }
    };
    if let Some((_, p)) = cursors()[i].held.as_mut() {
        *p = new_pos as usize;
    }
    // SAFETY: a plain store.
    unsafe { spi::SPI_processed = n.max(0) as u64 };
    if move_only {
        return;
    }
    let (r, _) = cursors()[i].held.as_ref().expect("held");
    let table = spi::materialise(r, (first - 1).max(0) as usize, n.max(0) as usize, backward);
    // SAFETY: a plain store.
    unsafe { spi::SPI_tuptable = table };
    set_tupdesc(i);
}

/// Gives the portal a `tupDesc` (a copy of the first result's, in its own context).
fn set_tupdesc(i: usize) {
    let k = &cursors()[i];
    // SAFETY: the portal, its context and SPI_tuptable (when set) are live; the copy is sized
    // from the source's attribute count.
    unsafe {
        let t: *mut SPITupleTable = spi::SPI_tuptable;
        if !(*k.portal).tupDesc.is_null() || t.is_null() {
            return;
        }
        let src = (*t).tupdesc;
        let size = size_of::<spi::TupleDescData>()
            + (*src).natts.max(0) as usize * size_of::<spi::FormData_pg_attribute>();
        let copy = mcxt::alloc_in(k.cxt, size, 0).cast::<u8>();
        std::ptr::copy_nonoverlapping(src.cast::<u8>(), copy, size);
        (*k.portal).tupDesc = copy.cast();
    }
}

/// Keeps `atStart`, `atEnd` and `portalPos` roughly as PostgreSQL's portal code does.
fn note_position(portal: Portal, direction: c_int, count: c_long) {
    // SAFETY: a plain read.
    let got = unsafe { spi::SPI_processed };
    // SAFETY: the portal is live.
    unsafe {
        let p = &mut *portal;
        match direction {
            FETCH_FORWARD => {
                p.portalPos += got;
                p.atStart = false;
                if (got as i128) < count as i128 {
                    p.atEnd = true;
                }
            }
            FETCH_BACKWARD => {
                p.portalPos = p.portalPos.saturating_sub(got);
                p.atEnd = false;
                if (got as i128) < count as i128 {
                    p.atStart = true;
                    p.portalPos = 0;
                }
            }
            _ => {
                p.atStart = got == 0 && count <= 0;
                p.atEnd = got == 0 && count > 0;
            }
        }
    }
}

/// `SPI_cursor_close`: CLOSE on the server (unless its transaction failed, when the rollback
/// closes it) and the portal is gone.
pub fn close(portal: Portal) -> Result<(), ExecError> {
    if portal.is_null() {
        return Err(ExecError::Local(
            *b"XX000",
            "invalid portal in SPI cursor operation".into(),
        ));
    }
    let i = index_of(portal)?;
    let k = cursors().remove(i);
    if k.held.is_none() && k.pending.is_none() {
        if let Some(c) = super::conn::connection() {
            if c.in_block() && !c.block_failed() {
                let _ = c.script(&format!("CLOSE {}", quoted(&k.name)), None);
            }
        }
    }
    drop_cursor(k);
    Ok(())
}

fn drop_cursor(k: Cursor) {
    // SAFETY: the cursor's own live context, deleted once.
    unsafe { mcxt::delete(k.cxt) };
}

/// The transaction ended: the server closed its cursors; ours go too.
pub fn at_end_of_transaction() {
    for k in std::mem::take(cursors()) {
        drop_cursor(k);
    }
}

/// A subtransaction ended: its cursors pass to the parent, or close with its abort.
pub fn at_end_of_subtransaction(subid: u32, parent: u32, commit: bool) {
    if commit {
        for k in cursors().iter_mut().filter(|k| k.subid >= subid) {
            k.subid = parent;
            // SAFETY: the portal is live.
            unsafe { (*k.portal).createSubid = parent };
        }
        return;
    }
    let (gone, kept): (Vec<Cursor>, Vec<Cursor>) = std::mem::take(cursors())
        .into_iter()
        .partition(|k| k.subid >= subid);
    *cursors() = kept;
    for k in gone {
        drop_cursor(k);
    }
}
