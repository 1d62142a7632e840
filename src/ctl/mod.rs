//! What `bgworkerctl` does, as library functions: read a running supervisor's state (lock file and
//! shared slots), launch and terminate workers, signal the supervisor, stop it and wait.

pub mod check;

use crate::pg::types::*;
use crate::registry::{field_string, set_field};
use crate::shmem::{self, slots, Segment};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Exit codes of `bgworkerctl` (documented in the README).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NOT_RUNNING: i32 = 3;

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct CtlError {
    pub code: i32,
    pub message: String,
}

fn err(code: i32, message: impl Into<String>) -> CtlError {
    CtlError {
        code,
        message: message.into(),
    }
}

/// The supervisor as its lock file describes it.
pub struct Supervisor {
    pub pid: i32,
    pub datadir: PathBuf,
    pub started_at: u64,
    pub status: String,
}

/// Reads `DATADIR/postmaster.pid` and checks that the process it names is still the supervisor
/// that wrote it (not a process that reused its pid).
pub fn supervisor(datadir: &Path) -> Result<Supervisor, CtlError> {
    live(datadir).map(|(s, _)| s)
}

/// As `supervisor`, with a pidfd that names exactly that process.
fn live(datadir: &Path) -> Result<(Supervisor, crate::process::Identified), CtlError> {
    use crate::postmaster::pidfile::{live_supervisor, NoSupervisor, FILE_NAME};
    let d = datadir.display();
    match live_supervisor(datadir) {
        Ok((c, id)) => Ok((
            Supervisor {
                pid: c.pid,
                datadir: c.datadir,
                started_at: c.started_at,
                status: c.status,
            },
            id,
        )),
        Err(NoSupervisor::NoLockFile) => Err(err(
            EXIT_NOT_RUNNING,
            format!("no bgworkerd is running in data directory \"{d}\" (no {FILE_NAME})"),
        )),
        Err(NoSupervisor::Unreadable(e)) => Err(err(
            EXIT_NOT_RUNNING,
            format!(
                "no bgworkerd is running in data directory \"{d}\" ({}: {e})",
                datadir.join(FILE_NAME).display()
            ),
        )),
        Err(NoSupervisor::Garbled) => Err(err(
            EXIT_NOT_RUNNING,
            format!(
                "lock file \"{}\" is garbled",
                datadir.join(FILE_NAME).display()
            ),
        )),
        Err(NoSupervisor::NotRunning(pid)) => Err(err(
            EXIT_NOT_RUNNING,
            format!("bgworkerd (PID {pid}) of data directory \"{d}\" is not running"),
        )),
        Err(NoSupervisor::OtherUser(pid)) => Err(err(
            EXIT_NOT_RUNNING,
            format!("bgworkerd (PID {pid}) of data directory \"{d}\" belongs to another user"),
        )),
    }
}

fn segment(datadir: &Path) -> Result<&'static Segment, CtlError> {
    if let Some(seg) = shmem::current() {
        return Ok(seg);
    }
    Segment::attach(datadir).map_err(|e| err(EXIT_NOT_RUNNING, e))
}

/// One slot, as `status` shows it.
pub struct WorkerStatus {
    pub slot: usize,
    pub pid: Option<i32>,
    /// For a slot claimed but not yet published: the registrant holding it.
    pub claimant: Option<i32>,
    pub name: String,
    pub type_name: String,
    pub library: String,
    pub function: String,
    pub dynamic: bool,
    /// `running`, `not yet started`, `waiting to restart`, `stopping`, or `claimed` (a
    /// registrant holds the slot and has not published its definition).
    pub state: &'static str,
    pub started_at_ms: Option<u64>,
    pub restarts: u32,
    /// Exit code, or negative signal number.
    pub last_exit: Option<i32>,
    /// When it last exited (ms since the epoch), as which process, and the ERROR or FATAL that
    /// ended that process ("FATAL: message"), if one did.
    pub last_exit_at_ms: Option<u64>,
    pub last_exit_pid: Option<i32>,
    pub last_error: Option<String>,
    /// When the supervisor will start it again (ms since the epoch).
    pub next_start_ms: Option<u64>,
    pub activity: Option<String>,
    /// The process title, as `ps` shows it (`bgworker: <name> <set_ps_display text>`).
    pub title: Option<String>,
    /// The wait event it sits in, by PostgreSQL's name (`Extension`, `BgWorkerStartup`, ...).
    pub wait_event: Option<String>,
}

/// PostgreSQL's name for a wait event (the classes and events the library reports).
pub fn wait_event_name(info: u32) -> Option<String> {
    match info {
        0 => None,
        PG_WAIT_EXTENSION => Some("Extension".into()),
        x if x == WAIT_EVENT_BGWORKER_STARTUP as u32 => Some("BgWorkerStartup".into()),
        x if x == WAIT_EVENT_BGWORKER_SHUTDOWN as u32 => Some("BgWorkerShutdown".into()),
        x => Some(match x & 0xFF00_0000 {
            0x0100_0000 => format!("LWLock {}", x & 0xFFFF),
            0x0500_0000 => format!("Activity {}", x & 0xFFFF),
            0x0600_0000 => format!("Client {}", x & 0xFFFF),
            0x0700_0000 => format!("Extension {}", x & 0xFFFF),
            0x0800_0000 => format!("IPC {}", x & 0xFFFF),
            0x0900_0000 => format!("Timeout {}", x & 0xFFFF),
            0x0A00_0000 => format!("IO {}", x & 0xFFFF),
            _ => format!("0x{x:08x}"),
        }),
    }
}

/// The workers in the supervisor's slots, in slot order.
pub fn workers(datadir: &Path) -> Result<Vec<WorkerStatus>, CtlError> {
    let sup = supervisor(datadir)?;
    let seg = segment(datadir)?;
    let stopping =
        seg.header().shutting_down.load(Ordering::Acquire) != 0 || sup.status == "stopping";
    let mut out = Vec::new();
    for i in 0..seg.total_slots() {
        let slot = seg.slot(i);
        match slot.state.load(Ordering::Acquire) {
            slots::IN_USE => {}
            slots::CLAIMED => {
                // Claimed by a registrant that has not published it (yet): shown, so a slot is
                // never taken invisibly.
                let claimant = slot.claimant.load(Ordering::Relaxed);
                out.push(WorkerStatus {
                    slot: i,
                    pid: None,
                    claimant: (claimant > 0).then_some(claimant),
                    name: String::new(),
                    type_name: String::new(),
                    library: String::new(),
                    function: String::new(),
                    dynamic: true,
                    state: "claimed",
                    started_at_ms: None,
                    restarts: 0,
                    last_exit: None,
                    last_exit_at_ms: None,
                    last_exit_pid: None,
                    last_error: None,
                    next_start_ms: None,
                    activity: None,
                    wait_event: None,
                    title: None,
                });
                continue;
            }
            _ => continue,
        }
        let mut def = shmem::copy_definition(slot);
        // Shown as the supervisor uses them: a registrant's raw bytes never reach a terminal.
        crate::registry::sanitise_field(&mut def.bgw_name);
        crate::registry::sanitise_field(&mut def.bgw_type);
        let pid = slot.pid.load(Ordering::Acquire);
        let terminating = slot.terminate.load(Ordering::Acquire) != 0;
        let state = match pid {
            InvalidPid => "not yet started",
            0 => "waiting to restart",
            _ if terminating || stopping => "stopping",
            _ => "running",
        };
        let (activity_state, text) = slots::read_activity(seg, i);
        let started = slot.started_at_ms.load(Ordering::Relaxed);
        let last = slot.last_exit.load(Ordering::Relaxed);
        let exit_pid = slot.last_exit_pid.load(Ordering::Acquire);
        let exited_at = slot.last_exit_at_ms.load(Ordering::Relaxed);
        let next_start = slot.next_start_ms.load(Ordering::Relaxed);
        let last_error = (exit_pid > 0 && slot.exit_report_pid.load(Ordering::Acquire) == exit_pid)
            .then(|| slot.exit_report.read())
            .filter(|(_, text)| !text.is_empty())
            .map(|(level, text)| {
                format!(
                    "{}: {}",
                    crate::elog::level_name(level),
                    String::from_utf8_lossy(&text)
                )
            });
        out.push(WorkerStatus {
            slot: i,
            pid: (pid > 0).then_some(pid),
            claimant: None,
            name: field_string(&def.bgw_name),
            type_name: field_string(&def.bgw_type),
            library: field_string(&def.bgw_library_name),
            function: field_string(&def.bgw_function_name),
            dynamic: slot.dynamic.load(Ordering::Relaxed) != 0,
            state,
            started_at_ms: (started != 0).then_some(started),
            restarts: slot.restarts.load(Ordering::Relaxed),
            last_exit: match last {
                0 => None,
                l if l > 0 => Some(l - 1),
                l => Some(l),
            },
            last_exit_at_ms: (exited_at != 0).then_some(exited_at),
            last_exit_pid: (exit_pid > 0).then_some(exit_pid),
            last_error,
            next_start_ms: (next_start != 0 && pid == 0).then_some(next_start),
            activity: (activity_state != STATE_UNDEFINED && !text.is_empty())
                .then(|| String::from_utf8_lossy(&text).into_owned()),
            title: if pid > 0 { process_title(pid) } else { None },
            wait_event: if pid > 0 {
                wait_event_name(slot.wait_event.load(Ordering::Relaxed))
            } else {
                None
            },
        });
    }
    Ok(out)
}

/// What `ps` shows for a process: its command line (where a worker writes its title), the
/// NULs between arguments as spaces, trailing padding removed.
fn process_title(pid: i32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text: Vec<u8> = raw[..end]
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect();
    let text = String::from_utf8_lossy(&text).trim_end().to_owned();
    (!text.is_empty()).then_some(text)
}

fn iso_time_ms(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = crate::elog::civil_from_unix((ms / 1000) as i64);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        ms % 1000
    )
}

fn exit_text(e: Option<i32>) -> String {
    match e {
        None => "-".into(),
        Some(c) if c >= 0 => format!("exit {c}"),
        Some(s) => format!("signal {}", -s),
    }
}

/// Milliseconds since the epoch, now.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A duration for a terminal: `45s`, `12m05s`, `3h12m`, `2d04h`.
fn span(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Text for a terminal: control characters (a newline in a worker's name, an escape sequence
/// in its activity) shown as `\xNN`, as the supervisor's log shows them.
pub fn escape_controls(s: &str) -> String {
    crate::pg::text::Escaped(s.as_bytes()).to_string()
}

/// At most `width` characters of `s`, the last one `…` when it was cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl WorkerStatus {
    /// How long it has run, while it runs.
    pub fn uptime_ms(&self, now: u64) -> Option<u64> {
        match (self.pid, self.started_at_ms) {
            (Some(_), Some(t)) => Some(now.saturating_sub(t)),
            _ => None,
        }
    }

    /// The state for a terminal: a worker waiting for its restart time says when it ends.
    fn state_text(&self, now: u64) -> String {
        match self.next_start_ms {
            Some(t) if self.state == "waiting to restart" => {
                format!("restarting in {}", span(t.saturating_sub(now)))
            }
            _ => self.state.to_owned(),
        }
    }

    /// `exit 1, 12m05s ago`, or `-`.
    fn last_exit_text(&self, now: u64) -> String {
        match (self.last_exit, self.last_exit_at_ms) {
            (None, _) => "-".into(),
            (e, Some(t)) => format!("{}, {} ago", exit_text(e), span(now.saturating_sub(t))),
            (e, None) => exit_text(e),
        }
    }
}

/// The width of `status` without `--wide`: a 100-column terminal.
pub const STATUS_WIDTH: usize = 100;

/// `status` as a table: one row per worker that fits `STATUS_WIDTH` columns (the error that
/// ended a worker's last run on a line of its own under it), or with `wide` every field,
/// nothing cut.
pub fn status_text(datadir: &Path, wide: bool) -> Result<String, CtlError> {
    let sup = supervisor(datadir)?;
    let ws = workers(datadir)?;
    let now = now_ms();
    let mut out = format!(
        "bgworkerd (PID {}) is {} in \"{}\" since {}\n",
        sup.pid,
        sup.status,
        sup.datadir.display(),
        iso_time_ms(sup.started_at * 1000)
    );
    let pid = |w: &WorkerStatus| w.pid.or(w.claimant).map_or("-".into(), |p| p.to_string());
    let opt_time = |t: Option<u64>| t.map_or("-".into(), iso_time_ms);
    if !wide {
        let _ = writeln!(
            out,
            "{:>4}  {:>7}  {:<18}  {:<24}  {:>8}  {:>8}  LAST EXIT",
            "SLOT", "PID", "STATE", "NAME", "UPTIME", "RESTARTS"
        );
        for w in &ws {
            let _ = writeln!(
                out,
                "{:>4}  {:>7}  {:<18}  {:<24}  {:>8}  {:>8}  {}",
                w.slot,
                pid(w),
                fit(&w.state_text(now), 18),
                fit(&escape_controls(&w.name), 24),
                w.uptime_ms(now).map_or("-".into(), span),
                w.restarts,
                fit(&w.last_exit_text(now), 19)
            );
            if let Some(e) = &w.last_error {
                let _ = writeln!(
                    out,
                    "{}",
                    fit(
                        &format!("{:15}last error: {}", "", escape_controls(e)),
                        STATUS_WIDTH
                    )
                );
            }
        }
        return Ok(out);
    }
    let cols = [
        "SLOT",
        "PID",
        "STATE",
        "KIND",
        "NAME",
        "TYPE",
        "LIBRARY",
        "FUNCTION",
        "STARTED",
        "UPTIME",
        "RESTARTS",
        "LAST EXIT",
        "EXITED AT",
        "EXITED PID",
        "NEXT START",
        "WAIT EVENT",
        "TITLE",
        "LAST ERROR",
        "ACTIVITY",
    ];
    let rows: Vec<Vec<String>> = ws
        .iter()
        .map(|w| {
            vec![
                w.slot.to_string(),
                pid(w),
                w.state_text(now),
                (if w.dynamic { "dynamic" } else { "static" }).to_owned(),
                escape_controls(&w.name),
                escape_controls(&w.type_name),
                escape_controls(&w.library),
                escape_controls(&w.function),
                opt_time(w.started_at_ms),
                w.uptime_ms(now).map_or("-".into(), span),
                w.restarts.to_string(),
                exit_text(w.last_exit),
                opt_time(w.last_exit_at_ms),
                w.last_exit_pid.map_or("-".into(), |p| p.to_string()),
                opt_time(w.next_start_ms),
                w.wait_event.as_deref().unwrap_or("-").to_owned(),
                escape_controls(w.title.as_deref().unwrap_or("-")),
                escape_controls(w.last_error.as_deref().unwrap_or("-")),
                escape_controls(w.activity.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = cols.iter().map(|c| c.chars().count()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else if matches!(i, 0 | 1 | 9 | 10) {
                let _ = write!(l, "{cell:>w$}  ");
            } else {
                let _ = write!(l, "{cell:<w$}  ");
            }
        }
        l.trim_end().to_owned()
    };
    let header: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    Ok(out)
}

pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The version of `status --json`'s layout (documented in the README): 2 added each worker's
/// library, function, uptime, next start, and the last exit's time, pid and error message.
pub const STATUS_SCHEMA: u32 = 2;

/// `status --json`: every field.
pub fn status_json(datadir: &Path) -> Result<String, CtlError> {
    let sup = supervisor(datadir)?;
    let ws = workers(datadir)?;
    let now = now_ms();
    let mut out = format!("{{\"schema\":{STATUS_SCHEMA},\"supervisor\":{{");
    let _ = write!(
        out,
        "\"pid\":{},\"datadir\":{},\"status\":{},\"started_at\":{}}},\"workers\":[",
        sup.pid,
        json_string(&sup.datadir.display().to_string()),
        json_string(&sup.status),
        json_string(&iso_time_ms(sup.started_at * 1000))
    );
    let opt_time = |t: Option<u64>| t.map_or("null".into(), |ms| json_string(&iso_time_ms(ms)));
    for (n, w) in ws.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let last_exit = match w.last_exit {
            None => "null".to_owned(),
            Some(e) => format!(
                "{{{},\"at\":{},\"pid\":{},\"message\":{}}}",
                if e >= 0 {
                    format!("\"code\":{e}")
                } else {
                    format!("\"signal\":{}", -e)
                },
                opt_time(w.last_exit_at_ms),
                w.last_exit_pid.map_or("null".into(), |p| p.to_string()),
                w.last_error.as_deref().map_or("null".into(), json_string)
            ),
        };
        let _ = write!(
            out,
            "{{\"slot\":{},\"pid\":{},\"claimant\":{},\"name\":{},\"type\":{},\"library\":{},\"function\":{},\"kind\":{},\"state\":{},\"started_at\":{},\"uptime_s\":{},\"restarts\":{},\"last_exit\":{},\"next_start\":{},\"wait_event\":{},\"activity\":{},\"title\":{}}}",
            w.slot,
            w.pid.map_or("null".into(), |p| p.to_string()),
            w.claimant.map_or("null".into(), |p| p.to_string()),
            json_string(&w.name),
            json_string(&w.type_name),
            json_string(&w.library),
            json_string(&w.function),
            json_string(if w.dynamic { "dynamic" } else { "static" }),
            json_string(w.state),
            opt_time(w.started_at_ms),
            w.uptime_ms(now)
                .map_or("null".into(), |ms| format!("{:.3}", ms as f64 / 1000.0)),
            w.restarts,
            last_exit,
            opt_time(w.next_start_ms),
            w.wait_event.as_deref().map_or("null".into(), json_string),
            w.activity.as_deref().map_or("null".into(), json_string),
            w.title.as_deref().map_or("null".into(), json_string)
        );
    }
    out.push_str("]}\n");
    Ok(out)
}

/// What `launch` registers.
pub struct Launch {
    pub library: String,
    pub function: String,
    pub name: Option<String>,
    pub type_name: Option<String>,
    pub arg: i64,
    pub extra: Option<String>,
    pub restart_time: i32,
    pub start_time: BgWorkerStartTime,
    pub flags: i32,
    pub wait: bool,
}

/// Parses `--start-time`.
pub fn parse_start_time(s: &str) -> Option<BgWorkerStartTime> {
    Some(match s {
        "postmaster" | "postmaster-start" => BgWorkerStart_PostmasterStart,
        "consistent" | "consistent-state" => BgWorkerStart_ConsistentState,
        "recovery-finished" | "running" => BgWorkerStart_RecoveryFinished,
        _ => return None,
    })
}

/// Parses `--flags shmem,db,parallel`.
pub fn parse_flags(s: &str) -> Option<i32> {
    let mut flags = 0;
    for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        flags |= match f {
            "shmem" => BGWORKER_SHMEM_ACCESS,
            "db" | "database" => BGWORKER_BACKEND_DATABASE_CONNECTION,
            "parallel" => BGWORKER_CLASS_PARALLEL,
            "none" => 0,
            _ => return None,
        };
    }
    Some(flags)
}

/// Outcome of a launch.
pub enum Launched {
    /// Registered; not waited for.
    Registered { slot: usize },
    /// Started, with its pid.
    Started { pid: i32 },
}

/// Registers a dynamic worker through the supervisor's slots (as an attached process).
pub fn launch(datadir: &Path, l: &Launch) -> Result<Launched, CtlError> {
    supervisor(datadir)?;
    if !crate::worker::attach::attach_to(datadir) {
        return Err(err(
            EXIT_NOT_RUNNING,
            "could not attach to the supervisor (see the warning above)",
        ));
    }
    let mut def = BackgroundWorker::zeroed();
    let name = l.name.clone().unwrap_or_else(|| l.function.clone());
    for (field, value, what) in [
        (&mut def.bgw_name[..], name.as_str(), "--name"),
        (
            &mut def.bgw_type[..],
            l.type_name.as_deref().unwrap_or(""),
            "--type",
        ),
        (
            &mut def.bgw_library_name[..],
            l.library.as_str(),
            "--library",
        ),
        (
            &mut def.bgw_function_name[..],
            l.function.as_str(),
            "--function",
        ),
    ] {
        if value.len() >= BGW_MAXLEN {
            return Err(err(
                EXIT_USAGE,
                format!("{what} is longer than {} bytes", BGW_MAXLEN - 1),
            ));
        }
        set_field(field, value.as_bytes());
    }
    if let Some(extra) = &l.extra {
        if extra.len() > BGW_EXTRALEN {
            return Err(err(
                EXIT_USAGE,
                format!("--extra is longer than {BGW_EXTRALEN} bytes"),
            ));
        }
        for (dst, &b) in def.bgw_extra.iter_mut().zip(extra.as_bytes()) {
            *dst = b as libc::c_char;
        }
    }
    def.bgw_flags = l.flags;
    def.bgw_start_time = l.start_time;
    def.bgw_restart_time = l.restart_time;
    def.bgw_main_arg = l.arg as Datum;
    // SAFETY: reading our own pid, set by attach.
    def.bgw_notify_pid = unsafe { crate::pg::MyProcPid };
    let (slot, generation) = match crate::registry::dynamic::register(&mut def) {
        Ok(Some(h)) => h,
        Ok(None) => {
            return Err(err(
                EXIT_FAILED,
                "could not register background worker: no free slot (or the parallel worker limit is reached)",
            ))
        }
        Err(message) => return Err(err(EXIT_USAGE, message)),
    };
    if !l.wait {
        return Ok(Launched::Registered { slot });
    }
    // Tests only: look late, so a worker that exits at once is seen already stopped.
    if let Some(ms) = std::env::var("BGWORKER_INJECT_LAUNCH_WAIT_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
    match crate::registry::dynamic::wait(slot, generation, crate::registry::dynamic::Until::Started)
    {
        (BgwHandleStatus::BGWH_STARTED, pid) => Ok(Launched::Started { pid }),
        (BgwHandleStatus::BGWH_POSTMASTER_DIED, _) => Err(err(
            EXIT_NOT_RUNNING,
            "the supervisor died before the worker started",
        )),
        _ => Err(err(EXIT_FAILED, stopped_before_seen(slot, generation))),
    }
}

/// Why a worker just launched reads STOPPED: it started and has already exited (how, and the
/// error that ended it, from its slot), or it never started.
fn stopped_before_seen(slot: usize, generation: u64) -> String {
    let Some(seg) = shmem::current() else {
        return "the worker could not be started (see the supervisor's log)".into();
    };
    let s = seg.slot(slot);
    let exit_pid = s.last_exit_pid.load(Ordering::Acquire);
    if s.generation.load(Ordering::Acquire) != generation || exit_pid <= 0 {
        return "the worker could not be started: the supervisor did not start it (see its log)"
            .into();
    }
    let how = match s.last_exit.load(Ordering::Relaxed) {
        l if l > 0 => format!("exit code {}", l - 1),
        l if l < 0 => format!("signal {}", -l),
        _ => "an unknown status".into(),
    };
    let mut m = format!("the worker started (PID {exit_pid}), then exited with {how}");
    if s.exit_report_pid.load(Ordering::Acquire) == exit_pid {
        let (level, text) = s.exit_report.read();
        if !text.is_empty() {
            let _ = write!(
                m,
                ": {}: {}",
                crate::elog::level_name(level),
                escape_controls(&String::from_utf8_lossy(&text))
            );
        }
    }
    if s.state.load(Ordering::Acquire) == slots::IN_USE && s.pid.load(Ordering::Acquire) == 0 {
        m.push_str(" (it will be restarted after its restart time)");
    }
    m
}

/// Asks the supervisor to terminate the worker in `slot`, or the one running as `pid`: it is
/// stopped and unregistered, as `TerminateBackgroundWorker` does (a static worker too, until
/// the supervisor restarts).
pub fn terminate(
    datadir: &Path,
    slot: Option<usize>,
    pid: Option<i32>,
) -> Result<(usize, Option<i32>), CtlError> {
    request(datadir, slot, pid, "terminate", slots::request_terminate)
}

/// Asks the supervisor to restart the worker in `slot`, or the one running as `pid`: a running
/// worker gets SIGTERM and is started again as soon as it exits, whatever its exit code and
/// restart time; one waiting for its restart time starts now.
pub fn restart(
    datadir: &Path,
    slot: Option<usize>,
    pid: Option<i32>,
) -> Result<(usize, Option<i32>), CtlError> {
    request(datadir, slot, pid, "restart", slots::request_restart)
}

/// Flags a request in the target's slot (for its current generation), then tells the
/// supervisor, which acts on flagged slots when signalled.
fn request(
    datadir: &Path,
    slot: Option<usize>,
    pid: Option<i32>,
    what: &str,
    flag: fn(&Segment, usize, u64) -> bool,
) -> Result<(usize, Option<i32>), CtlError> {
    let (_, sup) = live(datadir)?;
    let ws = workers(datadir)?;
    let target = ws
        .iter()
        .find(|w| Some(w.slot) == slot || (pid.is_some() && w.pid == pid))
        .filter(|w| w.state != "claimed")
        .ok_or_else(|| match (slot, pid) {
            (Some(s), _) => err(EXIT_FAILED, format!("no worker in slot {s}")),
            (_, Some(p)) => err(EXIT_FAILED, format!("no worker with PID {p}")),
            _ => err(EXIT_USAGE, format!("{what} needs a slot or --pid")),
        })?;
    let seg = segment(datadir)?;
    let generation = seg.slot(target.slot).generation.load(Ordering::Acquire);
    if !flag(seg, target.slot, generation) {
        return Err(err(
            EXIT_FAILED,
            format!("the worker in slot {} is gone", target.slot),
        ));
    }
    // This process is not attached: it tells the supervisor itself.
    let _ = crate::process::pidfd_send_signal(
        std::os::fd::AsRawFd::as_raw_fd(&sup.pidfd),
        libc::SIGUSR1,
    );
    Ok((target.slot, target.pid))
}

/// Sends `sig` to the supervisor, through a pidfd checked to name it.
pub fn signal(datadir: &Path, sig: libc::c_int) -> Result<i32, CtlError> {
    signal_live(datadir, sig).map(|id| id.pid)
}

fn signal_live(datadir: &Path, sig: libc::c_int) -> Result<crate::process::Identified, CtlError> {
    use std::os::fd::AsRawFd;
    let (sup, id) = live(datadir)?;
    crate::process::pidfd_send_signal(id.pidfd.as_raw_fd(), sig).map_err(|e| {
        err(
            EXIT_FAILED,
            format!("could not signal bgworkerd (PID {}): {e}", sup.pid),
        )
    })?;
    Ok(id)
}

/// `pg_ctl logrotate`: leaves the request file in the data directory, then signals the
/// supervisor, which passes it on to the logging collector (nothing happens without one).
pub fn logrotate(datadir: &Path) -> Result<i32, CtlError> {
    live(datadir)?;
    let file = datadir.join(crate::log::files::LOGROTATE_SIGNAL_FILE);
    std::fs::write(&file, b"").map_err(|e| {
        err(
            EXIT_FAILED,
            format!(
                "could not create log rotation signal file \"{}\": {e}",
                file.display()
            ),
        )
    })?;
    match signal(datadir, libc::SIGUSR1) {
        Ok(pid) => Ok(pid),
        Err(e) => {
            let _ = std::fs::remove_file(&file);
            Err(e)
        }
    }
}

/// Stops the supervisor (`smart`, `fast` or `immediate`) and waits up to `timeout` for it to go:
/// its lock file removed (as `pg_ctl stop` waits), or the process gone.
pub fn stop(datadir: &Path, mode: &str, timeout: Duration) -> Result<(), CtlError> {
    let sig = match mode {
        "smart" => libc::SIGTERM,
        "fast" => libc::SIGINT,
        "immediate" => libc::SIGQUIT,
        _ => return Err(err(EXIT_USAGE, format!("invalid shutdown mode \"{mode}\""))),
    };
    let id = signal_live(datadir, sig)?;
    let pid = id.pid;
    let deadline = Instant::now() + timeout;
    let pidfile = datadir.join(crate::postmaster::pidfile::FILE_NAME);
    while pidfile.exists() && !crate::process::has_exited(&id.pidfd) {
        if Instant::now() >= deadline {
            let mut m = format!(
                "bgworkerd (PID {pid}) did not shut down within {} s",
                timeout.as_secs()
            );
            let running: Vec<String> = workers(datadir)
                .unwrap_or_default()
                .iter()
                .filter_map(|w| {
                    w.pid
                        .map(|p| format!("\"{}\" (PID {p})", escape_controls(&w.name)))
                })
                .collect();
            if !running.is_empty() {
                let _ = write!(m, "; still running: {}", running.join(", "));
            }
            m.push_str(
                "\nhint: \"stop --mode immediate\" ends the workers at once (SIGQUIT, then SIGKILL after 5 s)",
            );
            return Err(err(EXIT_FAILED, m));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
