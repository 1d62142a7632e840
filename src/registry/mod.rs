//! The registration list: every worker the supervisor knows, with its run state, and the sanity
//! checks a definition must pass to get in (REG-*, SAN-*). `dynamic` is the registrant's side:
//! dynamic registration and handles (DYN-*, HND-*).

pub mod dynamic;
pub mod list;

use crate::elog;
use crate::pg::types::*;
use libc::{c_char, c_int, pid_t};
use parking_lot::Mutex;
use std::sync::LazyLock;
use std::time::Instant;

/// How a worker's last run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    Code(c_int),
    Signal(c_int),
}

/// One registered worker as the supervisor tracks it.
pub struct RegisteredWorker {
    /// The supervisor's own copy of the definition, inline: the list is indexed, never
    /// scanned, and an allocation per registration would scatter the supervisor's writes over
    /// its heap (each heap page it writes becomes a private copy in every live worker).
    pub def: BackgroundWorker,
    /// Running pid, or 0.
    pub pid: pid_t,
    /// When it last exited or failed to start, if it is waiting to be restarted.
    pub crashed_at: Option<Instant>,
    /// Set by terminate requests: never restart.
    pub terminate: bool,
    /// Set by a restart request (`bgworkerctl restart`): started again at once when it exits,
    /// whatever its exit code and restart time say.
    pub restart_requested: bool,
    pub started_at: Option<std::time::SystemTime>,
    /// When its current or last run started (how long it stayed up decides its backoff).
    pub last_start: Option<Instant>,
    /// Consecutive failures soon after a start (`restart_backoff_steps`).
    pub quick_failures: u32,
    pub restarts: u32,
    pub last_exit: Option<ExitKind>,
    /// When (ms since the epoch) and as which process it last exited, and the ERROR or FATAL
    /// that ended it (level, message): `bgworkerctl status` shows them from the slot, and they
    /// are written to the new slot after a crash-restart.
    pub last_exit_at_ms: u64,
    pub last_exit_pid: pid_t,
    pub exit_report: Option<(c_int, Vec<u8>)>,
    /// Shared slot (assigned when the segment is built, or taken by the registrant).
    pub slot: Option<usize>,
    /// The slot generation this registration owns (dynamic workers).
    pub generation: u64,
    pub dynamic: bool,
    /// Registration order (newest starts first).
    pub seq: u64,
    /// When a wait for restart ends, while it waits.
    pub due: Option<Instant>,
}

impl RegisteredWorker {
    pub fn new(def: BackgroundWorker) -> Self {
        Self {
            def,
            pid: 0,
            crashed_at: None,
            terminate: false,
            restart_requested: false,
            started_at: None,
            last_start: None,
            quick_failures: 0,
            restarts: 0,
            last_exit: None,
            last_exit_at_ms: 0,
            last_exit_pid: 0,
            exit_report: None,
            slot: None,
            generation: 0,
            dynamic: false,
            seq: 0,
            due: None,
        }
    }
    pub fn name(&self) -> String {
        field_string(&self.def.bgw_name)
    }
    pub fn type_name(&self) -> String {
        field_string(&self.def.bgw_type)
    }
    pub fn has_shmem_access(&self) -> bool {
        self.def.bgw_flags & BGWORKER_SHMEM_ACCESS != 0
    }
    pub fn never_restart(&self) -> bool {
        self.def.bgw_restart_time == BGW_NEVER_RESTART
    }
    pub fn is_parallel(&self) -> bool {
        self.def.bgw_flags & BGWORKER_CLASS_PARALLEL != 0
    }
}

/// PostgreSQL's sanitiser for strings a dynamic registrant wrote (DYN-9): at most 95 bytes, and
/// every byte that is not printable ASCII, newline, carriage return or tab becomes `?`.
pub fn sanitise_field(field: &mut [c_char; BGW_MAXLEN]) {
    // In place: the supervisor runs this for every dynamic registration and allocates nothing
    // on that path (every heap page it writes becomes a private copy in each live worker).
    let n = field_bytes(field).len().min(BGW_MAXLEN - 1);
    for c in &mut field[..n] {
        let b = *c as u8;
        if !((32..127).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t')) {
            *c = b'?' as c_char;
        }
    }
    field[n..].fill(0);
}

/// The bytes of a fixed-size C string field, up to its first NUL (or the whole field when a
/// module left it unterminated).
pub fn field_bytes(field: &[c_char]) -> &[u8] {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(field.as_ptr().cast(), field.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

pub fn field_string(field: &[c_char]) -> String {
    String::from_utf8_lossy(field_bytes(field)).into_owned()
}

/// A field for `format_args!`, shown as text (control characters and bytes that are not UTF-8
/// escaped as `\xNN`, so the log stays text) only when it is formatted (so a filtered-out log
/// line costs no allocation).
pub struct FieldDisplay<'a>(pub &'a [c_char]);

impl std::fmt::Display for FieldDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::pg::text::Escaped(field_bytes(self.0)).fmt(f)
    }
}

/// Writes `value` into a fixed-size C string field, truncated and NUL-terminated.
pub fn set_field(field: &mut [c_char], value: &[u8]) {
    let n = value.len().min(field.len() - 1);
    for (dst, &src) in field.iter_mut().zip(&value[..n]) {
        *dst = src as c_char;
    }
    for dst in &mut field[n..] {
        *dst = 0;
    }
}

/// The library names that mean the built-in entry table.
pub fn is_core_library(def: &BackgroundWorker) -> bool {
    matches!(field_bytes(&def.bgw_library_name), b"postgres" | b"lightdb")
}

/// The longest restart interval PostgreSQL accepts (`USECS_PER_DAY / 1000`, in seconds).
pub const MAX_RESTART_INTERVAL: c_int = 86_400_000;

/// Why a definition is refused (PostgreSQL's wording, with the value where there is one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    DatabaseWithoutShmem,
    DatabaseAtPostmasterStart,
    RestartInterval(c_int),
    ParallelRestart,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Refusal::DatabaseWithoutShmem => {
                f.write_str("cannot request database access without shared memory access")
            }
            Refusal::DatabaseAtPostmasterStart => {
                f.write_str("cannot request database access if starting at postmaster start")
            }
            Refusal::RestartInterval(v) => write!(
                f,
                "invalid restart interval {v}: it must be between 0 and {MAX_RESTART_INTERVAL} \
                 seconds, or BGW_NEVER_RESTART (-1)"
            ),
            Refusal::ParallelRestart => {
                f.write_str("parallel workers may not be configured for restart")
            }
        }
    }
}

/// The checks both registration paths apply, in PostgreSQL's order. Fills an empty `bgw_type`
/// with `bgw_name` in the caller's struct (SAN-5). On failure, the reason.
pub fn sanity_check(def: &mut BackgroundWorker) -> Result<(), Refusal> {
    let flags = def.bgw_flags;
    if flags & BGWORKER_BACKEND_DATABASE_CONNECTION != 0 {
        if flags & BGWORKER_SHMEM_ACCESS == 0 {
            return Err(Refusal::DatabaseWithoutShmem);
        }
        if def.bgw_start_time == BgWorkerStart_PostmasterStart {
            return Err(Refusal::DatabaseAtPostmasterStart);
        }
    }
    let restart = def.bgw_restart_time;
    if restart != BGW_NEVER_RESTART && !(0..=MAX_RESTART_INTERVAL).contains(&restart) {
        return Err(Refusal::RestartInterval(restart));
    }
    if flags & BGWORKER_CLASS_PARALLEL != 0 && restart != BGW_NEVER_RESTART {
        return Err(Refusal::ParallelRestart);
    }
    if field_bytes(&def.bgw_type).is_empty() {
        def.bgw_type = def.bgw_name;
    }
    Ok(())
}

/// Where a static registration comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A host program, before it starts the supervisor: kept and checked once settings are read.
    BeforeSupervisor,
    /// `_PG_init` of a preloaded library (or a core registration).
    Preload,
    /// Anywhere else in the supervisor: refused.
    Late,
}

/// The supervisor's private registrations (REG-8: later registrations are examined and started
/// first).
pub struct Registry {
    pub list: list::List,
    /// Accepted static registrations, for the `max_worker_processes` limit (REG-6).
    pub static_count: usize,
    /// Definitions a host registered before starting the supervisor.
    pub pending_host: Vec<BackgroundWorker>,
}

pub static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    Mutex::new(Registry {
        list: list::List::default(),
        static_count: 0,
        pending_host: Vec::new(),
    })
});

/// `RegisterBackgroundWorker`'s body in the supervisor (or a host before it starts).
pub fn register_static(def: &mut BackgroundWorker, phase: Phase, max_workers: c_int) {
    let name = field_string(&def.bgw_name);
    if phase == Phase::BeforeSupervisor {
        REGISTRY.lock().pending_host.push(*def);
        return;
    }
    elog::log(
        DEBUG1,
        format_args!("registering background worker \"{name}\""),
    );
    if phase == Phase::Late && !is_core_library(def) {
        elog::log(
            LOG,
            format_args!(
                "background worker \"{name}\": must be registered in shared_preload_libraries"
            ),
        );
        return;
    }
    if let Err(reason) = sanity_check(def) {
        elog::log(LOG, format_args!("background worker \"{name}\": {reason}"));
        return;
    }
    if def.bgw_notify_pid != 0 {
        elog::log(
            LOG,
            format_args!(
                "background worker \"{name}\": only dynamic background workers can request notification"
            ),
        );
        return;
    }
    let mut reg = REGISTRY.lock();
    reg.static_count += 1;
    if reg.static_count > usize::try_from(max_workers).unwrap_or(0) {
        let detail = format!(
            "Up to {max_workers} background worker{} can be registered with the current settings.",
            if max_workers == 1 { "" } else { "s" }
        );
        elog::log_with(
            LOG,
            "too many background workers",
            Some(&detail),
            Some("Consider increasing the configuration parameter \"max_worker_processes\"."),
        );
        return;
    }
    reg.list.insert(RegisteredWorker::new(*def));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(flags: c_int, start: c_int, restart: c_int) -> BackgroundWorker {
        let mut d = BackgroundWorker::zeroed();
        set_field(&mut d.bgw_name, b"w");
        d.bgw_flags = flags;
        d.bgw_start_time = start;
        d.bgw_restart_time = restart;
        d
    }

    #[test]
    fn restart_interval_bounds() {
        assert!(sanity_check(&mut def(1, 0, 86_400_000)).is_ok());
        assert!(sanity_check(&mut def(1, 0, 0)).is_ok());
        assert!(sanity_check(&mut def(1, 0, -1)).is_ok());
        assert_eq!(
            sanity_check(&mut def(1, 0, 86_400_001)),
            Err(Refusal::RestartInterval(86_400_001))
        );
        assert_eq!(
            sanity_check(&mut def(1, 0, -5)).unwrap_err().to_string(),
            "invalid restart interval -5: it must be between 0 and 86400000 seconds, or \
             BGW_NEVER_RESTART (-1)"
        );
    }

    #[test]
    fn database_rules() {
        assert_eq!(
            sanity_check(&mut def(3, 0, 1)),
            Err(Refusal::DatabaseAtPostmasterStart)
        );
        assert_eq!(
            sanity_check(&mut def(2, 1, 1)),
            Err(Refusal::DatabaseWithoutShmem)
        );
        assert!(sanity_check(&mut def(3, 1, 1)).is_ok());
        assert!(
            sanity_check(&mut def(0, 0, 1)).is_ok(),
            "no shmem access is allowed"
        );
    }

    #[test]
    fn parallel_must_not_restart_and_type_defaults_to_name() {
        assert_eq!(
            sanity_check(&mut def(0x11, 0, 5)),
            Err(Refusal::ParallelRestart)
        );
        let mut d = def(1, 0, 1);
        sanity_check(&mut d).unwrap();
        assert_eq!(field_bytes(&d.bgw_type), b"w");
    }

    #[test]
    fn sanitiser_replaces_non_ascii_and_terminates() {
        let mut d = BackgroundWorker::zeroed();
        set_field(&mut d.bgw_name, "dyn é naïve".as_bytes());
        sanitise_field(&mut d.bgw_name);
        assert_eq!(field_bytes(&d.bgw_name), b"dyn ?? na??ve");
        d.bgw_type = [b'x' as c_char; BGW_MAXLEN];
        sanitise_field(&mut d.bgw_type);
        assert_eq!(field_bytes(&d.bgw_type).len(), BGW_MAXLEN - 1);
    }

    #[test]
    fn unterminated_fields_are_read_to_their_end() {
        let mut d = BackgroundWorker::zeroed();
        d.bgw_name = [b'x' as c_char; BGW_MAXLEN];
        assert_eq!(field_bytes(&d.bgw_name).len(), BGW_MAXLEN);
    }
}
