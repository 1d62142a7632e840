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
    pub dynamic: bool,
    /// `running`, `not yet started`, `waiting to restart`, `stopping`, or `claimed` (a
    /// registrant holds the slot and has not published its definition).
    pub state: &'static str,
    pub started_at_ms: Option<u64>,
    pub restarts: u32,
    /// Exit code, or negative signal number.
    pub last_exit: Option<i32>,
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
                    dynamic: true,
                    state: "claimed",
                    started_at_ms: None,
                    restarts: 0,
                    last_exit: None,
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
        out.push(WorkerStatus {
            slot: i,
            pid: (pid > 0).then_some(pid),
            claimant: None,
            name: field_string(&def.bgw_name),
            type_name: field_string(&def.bgw_type),
            dynamic: slot.dynamic.load(Ordering::Relaxed) != 0,
            state,
            started_at_ms: (started != 0).then_some(started),
            restarts: slot.restarts.load(Ordering::Relaxed),
            last_exit: match last {
                0 => None,
                l if l > 0 => Some(l - 1),
                l => Some(l),
            },
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

/// `status` as a table.
pub fn status_text(datadir: &Path) -> Result<String, CtlError> {
    let sup = supervisor(datadir)?;
    let ws = workers(datadir)?;
    let mut out = format!(
        "bgworkerd (PID {}) is {} in \"{}\" since {}\n",
        sup.pid,
        sup.status,
        sup.datadir.display(),
        iso_time_ms(sup.started_at * 1000)
    );
    let _ = writeln!(
        out,
        "{:>4}  {:>7}  {:<18}  {:<7}  {:<24}  {:<24}  {:<24}  {:>8}  {:<10}  {:<16}  {:<40}  ACTIVITY",
        "SLOT",
        "PID",
        "STATE",
        "KIND",
        "NAME",
        "TYPE",
        "STARTED",
        "RESTARTS",
        "LAST EXIT",
        "WAIT EVENT",
        "TITLE"
    );
    for w in &ws {
        let _ = writeln!(
            out,
            "{:>4}  {:>7}  {:<18}  {:<7}  {:<24}  {:<24}  {:<24}  {:>8}  {:<10}  {:<16}  {:<40}  {}",
            w.slot,
            w.pid.or(w.claimant).map_or("-".into(), |p| p.to_string()),
            w.state,
            if w.dynamic { "dynamic" } else { "static" },
            w.name,
            w.type_name,
            w.started_at_ms.map_or("-".into(), iso_time_ms),
            w.restarts,
            exit_text(w.last_exit),
            w.wait_event.as_deref().unwrap_or("-"),
            w.title.as_deref().unwrap_or("-"),
            w.activity.as_deref().unwrap_or("")
        );
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

/// `status --json` (schema version 1, documented in the README).
pub fn status_json(datadir: &Path) -> Result<String, CtlError> {
    let sup = supervisor(datadir)?;
    let ws = workers(datadir)?;
    let mut out = String::from("{\"schema\":1,\"supervisor\":{");
    let _ = write!(
        out,
        "\"pid\":{},\"datadir\":{},\"status\":{},\"started_at\":{}}},\"workers\":[",
        sup.pid,
        json_string(&sup.datadir.display().to_string()),
        json_string(&sup.status),
        json_string(&iso_time_ms(sup.started_at * 1000))
    );
    for (n, w) in ws.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let last_exit = match w.last_exit {
            None => "null".to_owned(),
            Some(c) if c >= 0 => format!("{{\"code\":{c}}}"),
            Some(s) => format!("{{\"signal\":{}}}", -s),
        };
        let _ = write!(
            out,
            "{{\"slot\":{},\"pid\":{},\"claimant\":{},\"name\":{},\"type\":{},\"kind\":{},\"state\":{},\"started_at\":{},\"restarts\":{},\"last_exit\":{},\"wait_event\":{},\"activity\":{},\"title\":{}}}",
            w.slot,
            w.pid.map_or("null".into(), |p| p.to_string()),
            w.claimant.map_or("null".into(), |p| p.to_string()),
            json_string(&w.name),
            json_string(&w.type_name),
            json_string(if w.dynamic { "dynamic" } else { "static" }),
            json_string(w.state),
            w.started_at_ms.map_or("null".into(), |ms| json_string(&iso_time_ms(ms))),
            w.restarts,
            last_exit,
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
    match crate::registry::dynamic::wait(slot, generation, crate::registry::dynamic::Until::Started)
    {
        (BgwHandleStatus::BGWH_STARTED, pid) => Ok(Launched::Started { pid }),
        (BgwHandleStatus::BGWH_POSTMASTER_DIED, _) => Err(err(
            EXIT_NOT_RUNNING,
            "the supervisor died before the worker started",
        )),
        _ => Err(err(
            EXIT_FAILED,
            "the worker stopped before it started (see the supervisor's log)",
        )),
    }
}

/// Asks the supervisor to terminate the worker in `slot`, or the one running as `pid`.
pub fn terminate(
    datadir: &Path,
    slot: Option<usize>,
    pid: Option<i32>,
) -> Result<(usize, Option<i32>), CtlError> {
    let (_, sup) = live(datadir)?;
    let ws = workers(datadir)?;
    let target = ws
        .iter()
        .find(|w| Some(w.slot) == slot || (pid.is_some() && w.pid == pid))
        .ok_or_else(|| match (slot, pid) {
            (Some(s), _) => err(EXIT_FAILED, format!("no worker in slot {s}")),
            (_, Some(p)) => err(EXIT_FAILED, format!("no worker with PID {p}")),
            _ => err(EXIT_USAGE, "terminate needs a slot or --pid"),
        })?;
    let seg = segment(datadir)?;
    let generation = seg.slot(target.slot).generation.load(Ordering::Acquire);
    crate::registry::dynamic::terminate(target.slot, generation);
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
            return Err(err(
                EXIT_FAILED,
                format!(
                    "bgworkerd (PID {pid}) did not shut down within {} s",
                    timeout.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
