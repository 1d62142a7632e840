//! The supervisor: PostgreSQL's postmaster, for background workers only. One thread; signals
//! arrive through a signalfd and are handled in the main loop, never in handlers. It starts
//! workers by phase, reaps them, applies the restart rules, runs crash-restart and shutdown.

mod children;
// Logging collector: the call sites are marked "collector:".
mod collector;
mod descendants;
mod notify;
pub mod pidfile;
mod service;

use crate::elog;
use crate::guc::{self, Settings};
use crate::pg::types::*;
use crate::pg::{self, MyProcPid};
use crate::registry::list::Id;
use crate::registry::{self, ExitKind, Phase, RegisteredWorker, Registry, REGISTRY};
use crate::shmem::{copy_definition, modules, slots, Segment, Sizes};
use crate::worker;
use children::Children;
use libc::{c_int, pid_t};
use notify::Notifiers;
use pidfile::{PidFile, StartupError};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Where registrations currently stand (see `registry::Phase`).
static STARTED: AtomicU8 = AtomicU8::new(0);

/// True in the supervisor process itself (not in its workers, not in other processes).
pub fn is_supervisor() -> bool {
    // SAFETY: reading a bool global of this process.
    STARTED.load(Ordering::Relaxed) != 0 && !unsafe { pg::IsUnderPostmaster }
}

/// How `RegisterBackgroundWorker` treats a call made now in this process.
pub fn registration_phase() -> Phase {
    if STARTED.load(Ordering::Relaxed) == 0 {
        Phase::BeforeSupervisor
    // SAFETY: reading a bool global of this process.
    } else if unsafe { pg::process_shared_preload_libraries_in_progress } {
        Phase::Preload
    } else {
        Phase::Late
    }
}

/// Supervisor states in the order PostgreSQL passes through them (PM-1).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum State {
    Starting,
    Consistent,
    Running,
    Stopping,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Consistent => "consistent",
            State::Running => "running",
            State::Stopping => "stopping",
        }
    }

    /// Whether a worker with this start time may start in this state (PM-1).
    fn allows(self, start_time: BgWorkerStartTime) -> bool {
        match start_time {
            BgWorkerStart_PostmasterStart => self <= State::Running,
            BgWorkerStart_ConsistentState => matches!(self, State::Consistent | State::Running),
            BgWorkerStart_RecoveryFinished => self == State::Running,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Shutdown {
    None,
    Smart,
    Fast,
    Immediate,
}

/// Children still alive this long after SIGQUIT get SIGKILL (CRASH-1, SHUT-3).
const SIGKILL_AFTER: Duration = Duration::from_secs(5);
/// The longest the main loop sleeps (PM-7).
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// With at most this many children the sweep for exits no SIGCHLD named (see `children`) runs
/// at the end of the wake-up that owes it; it walks every child, so with more it waits until
/// the supervisor has had nothing to do for `SWEEP_QUIET` (not delaying a registration that is
/// about to arrive, typically from a registrant just told of an exit), or `SWEEP_LATEST` at most.
const SWEEP_AT_ONCE_MAX: usize = 128;
const SWEEP_QUIET: Duration = Duration::from_millis(1);
const SWEEP_LATEST: Duration = Duration::from_millis(10);
/// Workers started per launch pass before the loop comes round again (PM-6).
const MAX_STARTS_PER_PASS: usize = 100;
/// Workers forked back to back before their bookkeeping is done and registrants are told.
/// After each fork every page the supervisor writes is copied once more (the children share
/// them), so forking a batch with almost no writes in between, then recording it, saves most of
/// those copies; the batch stays small so the first of it is reported soon.
const START_BATCH: usize = 16;
/// How often a slot claimed but not yet published is looked at again.
const CLAIM_RECHECK: Duration = Duration::from_millis(100);

/// The data directory when `-D` is not given, as `PGDATA` is for PostgreSQL's programs (and
/// for `bgworkerctl`).
pub const DATADIR_ENV: &str = "BGWORKER_DATA";

struct Args {
    datadir: Option<PathBuf>,
    overrides: Vec<(String, String)>,
}

enum Parsed {
    Run(Args),
    Exit(c_int),
}

const USAGE: &str = "bgworkerd runs PostgreSQL 15 background workers.

Usage:
  bgworkerd [-D DATADIR] [OPTION]...

Options:
  -D DATADIR         data directory (created 0700 if missing); default: $BGWORKER_DATA
  -c NAME=VALUE      set a setting (overrides DATADIR/bgworker.conf)
  --NAME=VALUE       the same
  -V, --version      print the version and exit
  -?, --help         show this help and exit

Signals: SIGTERM smart shutdown, SIGINT fast shutdown, SIGQUIT immediate shutdown,
SIGHUP reload settings.
";

fn parse_args(args: &[String]) -> Parsed {
    let mut out = Args {
        datadir: None,
        overrides: Vec::new(),
    };
    let bad = |msg: String| {
        eprintln!("bgworkerd: {msg}\nTry \"bgworkerd --help\" for more information.");
        Parsed::Exit(1)
    };
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let mut value_of = |flag: &str| -> Option<String> {
            if a.len() > flag.len() {
                Some(a[flag.len()..].to_owned())
            } else {
                i += 1;
                args.get(i).cloned()
            }
        };
        if a == "--help" || a == "-?" {
            print!("{USAGE}");
            return Parsed::Exit(0);
        } else if a == "--version" || a == "-V" {
            println!(
                "bgworkerd (libbgworker) {} for PostgreSQL 15",
                env!("CARGO_PKG_VERSION")
            );
            return Parsed::Exit(0);
        } else if a.starts_with("-D") {
            match value_of("-D") {
                Some(d) => out.datadir = Some(PathBuf::from(d)),
                None => return bad("option requires an argument -- 'D'".into()),
            }
        } else if a.starts_with("-c") || (a.starts_with("--") && a.len() > 2) {
            let setting = if let Some(rest) = a.strip_prefix("--") {
                Some(rest.to_owned())
            } else {
                value_of("-c")
            };
            let Some(setting) = setting else {
                return bad("option requires an argument -- 'c'".into());
            };
            match setting.split_once('=') {
                Some((n, v)) => out.overrides.push((n.replace('-', "_"), v.to_owned())),
                None => {
                    return bad(if a.starts_with("--") {
                        format!("--{setting} requires a value")
                    } else {
                        format!("-c {setting} requires a value")
                    })
                }
            }
        } else {
            return bad(format!("invalid argument: \"{a}\""));
        }
        i += 1;
    }
    Parsed::Run(out)
}

fn fatal(e: &StartupError) -> c_int {
    elog::log_with(FATAL, &e.message, e.detail.as_deref(), e.hint.as_deref());
    1
}

/// The data directory, for the clean-up run when the supervisor ends through `proc_exit`.
static DATADIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

fn remove_lock_file() {
    if let Some(d) = DATADIR.get() {
        let _ = std::fs::remove_file(d.join(pidfile::FILE_NAME));
    }
}

fn remove_segment_file() {
    if let Some(d) = DATADIR.get() {
        let _ = std::fs::remove_file(d.join(crate::shmem::FILE_NAME));
    }
}

/// What PostgreSQL's postmaster sets up about itself before it starts anything: its pid and
/// start time and the data directory for the processes it starts (`PostmasterPid`,
/// `MyStartTime`, `DataDir`, ...), and the file mode mask: files and directories are created
/// for the owner only, or for the group too (read-only) when the data directory grants it.
fn become_postmaster(datadir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let group_access = std::fs::metadata(datadir)
        .map(|m| m.permissions().mode() & 0o050 == 0o050)
        .unwrap_or(false);
    let dir = std::ffi::CString::new(datadir.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: start-up of a single-threaded process; these globals are its own.
    unsafe {
        libc::umask(if group_access { 0o027 } else { 0o077 });
        crate::pg::PostmasterPid = libc::getpid();
        crate::pg::IsPostmasterEnvironment = true;
        crate::pg::DataDir = libc::strdup(dir.as_ptr());
    }
    crate::pg::set_start_time();
}

/// `BackgroundWorkerPostmasterMain`: runs the supervisor until it shuts down; returns the exit code.
pub fn main(args: Vec<String>) -> c_int {
    // SAFETY: start-up of a single-threaded process.
    unsafe { MyProcPid = libc::getpid() };
    elog::set_process_label(b"postmaster");
    // collector: lines written before the settings are read use the system's time zone.
    crate::log::config::publish(&guc::Logging::default());
    let args = match parse_args(&args) {
        Parsed::Run(a) => a,
        Parsed::Exit(code) => return code,
    };
    let from_env = std::env::var_os(DATADIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    let Some(datadir) = args.datadir.clone().or(from_env) else {
        return fatal(&StartupError {
            message: "bgworkerd does not know where to find the data directory".into(),
            detail: None,
            hint: Some(format!(
                "You must specify the -D invocation option or set the {DATADIR_ENV} environment variable."
            )),
        });
    };
    let datadir = match pidfile::prepare_datadir(&datadir) {
        Ok(d) => d,
        Err(e) => return fatal(&e),
    };
    become_postmaster(&datadir);
    let conf = datadir.join("bgworker.conf");
    let settings = match Settings::load(&conf, &args.overrides) {
        Ok(s) => s,
        Err(e) => {
            return fatal(&StartupError {
                message: e.message,
                detail: e.detail,
                hint: None,
            })
        }
    };
    guc::install(settings.clone());
    let pidfile = match PidFile::create(&datadir) {
        Ok(p) => p,
        Err(e) => return fatal(&e),
    };
    // A FATAL from a module (its _PG_init, its hooks) ends the supervisor through proc_exit:
    // it leaves no lock file behind either.
    let _ = DATADIR.set(datadir.clone());
    crate::worker::exit::on_exit_of_this_process(remove_lock_file);
    let mut pm = match Postmaster::new(datadir, conf, args.overrides, pidfile) {
        Ok(pm) => pm,
        Err(e) => return fatal(&e),
    };
    let code = pm.run(&settings);
    pm.finish();
    // collector: stopped last, after the supervisor's last line.
    pm.collector.stop_last();
    code
}

/// A worker about to start: its registration, a copy of its definition, its slot.
struct Launch {
    id: Id,
    def: BackgroundWorker,
    slot: Option<usize>,
}

/// A spare child and the write end of the pipe it waits on.
struct Spare {
    pid: pid_t,
    command: RawFd,
}

struct Postmaster {
    datadir: PathBuf,
    conf: PathBuf,
    overrides: Vec<(String, String)>,
    pidfile: PidFile,
    settings: Settings,
    signal_fd: RawFd,
    /// Which children exited (SIGCHLD records, sweeps).
    children: Children,
    death_pipe_read: RawFd,
    death_pipe_write: RawFd,
    /// The shared segment (slots), built after the preload libraries registered their workers.
    seg: Option<&'static Segment>,
    notifiers: Notifiers,
    /// A child forked ahead of need, waiting to become the next worker.
    spare: Option<Spare>,
    /// Spares let go, to be reaped without a word.
    retired_spares: Vec<pid_t>,
    /// When recent crash-restarts happened (for `restart_after_crash_limit`).
    crash_restarts: Vec<Instant>,
    /// Worker forks still to fail on purpose (`BGWORKER_INJECT_FORK_FAILURES`, tests only).
    injected_fork_failures: u32,
    state: State,
    shutdown: Shutdown,
    /// Between a shared-memory worker's crash and the end of the restart (FatalError).
    fatal_error: bool,
    kill_deadline: Option<Instant>,
    start_pending: bool,
    /// Buffers kept between events, so handling one allocates nothing (see `sanitise_field`).
    ready_buf: Vec<Id>,
    launch_buf: Vec<Launch>,
    /// Per launch: the new pid, or -1 where the fork failed.
    forked_buf: Vec<pid_t>,
    close_buf: Vec<RawFd>,
    reaped_buf: Vec<(pid_t, ExitKind)>,
    /// Slots claimed by a live registrant that has not published them yet: (slot, claimant).
    claim_watch: Vec<(usize, pid_t)>,
    /// What exited workers left behind (see `descendants`).
    leftovers: descendants::Leftovers,
    /// The logging collector (see `collector`).
    collector: collector::Collector,
    /// systemd's readiness protocol, when bgworkerd runs as a `Type=notify` service.
    service: service::Notifier,
}

/// The distinct signals one read of the signalfd found, in order of arrival.
#[derive(Default)]
struct Pending {
    sigs: [c_int; 8],
    n: usize,
}

impl Pending {
    fn add(&mut self, sig: c_int) {
        if !self.contains(sig) && self.n < self.sigs.len() {
            self.sigs[self.n] = sig;
            self.n += 1;
        }
    }

    fn contains(&self, sig: c_int) -> bool {
        self.sigs[..self.n].contains(&sig)
    }

    fn iter(&self) -> impl Iterator<Item = c_int> + '_ {
        self.sigs[..self.n].iter().copied()
    }
}

/// The signals the supervisor takes through its signalfd.
fn supervisor_signals() -> libc::sigset_t {
    // SAFETY: building a local signal set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [
            libc::SIGCHLD,
            libc::SIGHUP,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
        ] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

fn os_error(what: &str) -> StartupError {
    StartupError::new(format!("{what}: {}", std::io::Error::last_os_error()))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Postmaster {
    fn new(
        datadir: PathBuf,
        conf: PathBuf,
        overrides: Vec<(String, String)>,
        pidfile: PidFile,
    ) -> Result<Self, StartupError> {
        worker::signals::init_signal_masks();
        let set = supervisor_signals();
        let mut pipe = [-1; 2];
        // SAFETY: blocking signals and creating descriptors owned by this struct.
        let signal_fd = unsafe {
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
        };
        if signal_fd < 0 {
            return Err(os_error("could not create signalfd"));
        }
        // SAFETY: pipe2 fills the two-element array.
        if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
            return Err(os_error("could not create the supervisor death pipe"));
        }
        // SAFETY: setting O_NONBLOCK on the read end we own, so liveness checks never block.
        unsafe { libc::fcntl(pipe[0], libc::F_SETFL, libc::O_NONBLOCK) };
        let settings = guc::current();
        Ok(Self {
            datadir,
            conf,
            overrides,
            pidfile,
            settings,
            signal_fd,
            children: Children::default(),
            death_pipe_read: pipe[0],
            death_pipe_write: pipe[1],
            seg: None,
            notifiers: Notifiers::default(),
            spare: None,
            retired_spares: Vec::new(),
            crash_restarts: Vec::new(),
            injected_fork_failures: std::env::var("BGWORKER_INJECT_FORK_FAILURES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            state: State::Starting,
            shutdown: Shutdown::None,
            fatal_error: false,
            kill_deadline: None,
            start_pending: false,
            ready_buf: Vec::new(),
            launch_buf: Vec::with_capacity(START_BATCH),
            forked_buf: Vec::with_capacity(START_BATCH),
            close_buf: Vec::new(),
            reaped_buf: Vec::new(),
            claim_watch: Vec::new(),
            leftovers: descendants::Leftovers::default(),
            collector: collector::Collector::off(),
            service: service::Notifier::from_environment(),
        })
    }

    fn run(&mut self, settings: &Settings) -> c_int {
        elog::log(
            LOG,
            format_args!(
                "starting bgworkerd {} (PostgreSQL 15 background workers)",
                env!("CARGO_PKG_VERSION")
            ),
        );
        STARTED.store(1, Ordering::Relaxed);
        // Registrations a host program made before starting us come first, as if preloaded.
        let pending = std::mem::take(&mut REGISTRY.lock().pending_host);
        for mut def in pending {
            registry::register_static(&mut def, Phase::Preload, settings.max_worker_processes);
        }
        // Orphaned descendants of workers become our children, so none outlives us.
        if let Err(e) = descendants::become_subreaper() {
            elog::log(
                WARNING,
                format_args!(
                    "could not become a child subreaper ({e}): descendants of workers that leave their process group are not ended at shutdown"
                ),
            );
        }
        // PostgreSQL 15's whole server symbol surface, so a module that references a server
        // function bgworkerd lacks still loads (and gets an ERROR only if it calls it).
        if let Err(e) = crate::server_symbols::load() {
            elog::log_with(
                WARNING,
                &e,
                Some("Modules that reference PostgreSQL server symbols bgworkerd does not implement will not load."),
                Some("Install libbgworker_compat.so beside libbgworker.so."),
            );
        }
        if let Err(e) = self.preload_libraries(settings) {
            return fatal(&e);
        }
        // collector: started after the preload libraries, as PostgreSQL starts its syslogger.
        match collector::Collector::start(&self.datadir, settings) {
            Ok(c) => self.collector = c,
            Err(e) => return fatal(&e),
        }
        // A segment left by a supervisor that died: refused while its workers still map it
        // (they could still be writing to it), removed otherwise.
        let users = crate::shmem::leftover_users(&self.datadir);
        if !users.is_empty() {
            let list: Vec<String> = users.iter().map(|p| p.to_string()).collect();
            return fatal(&StartupError {
                message: "pre-existing shared memory block is still in use".into(),
                detail: Some(format!(
                    "Process{} {} still map{} \"{}\".",
                    if users.len() == 1 { "" } else { "es" },
                    list.join(", "),
                    if users.len() == 1 { "s" } else { "" },
                    self.datadir.join(crate::shmem::FILE_NAME).display()
                )),
                hint: Some(format!(
                    "Terminate any old worker processes associated with data directory \"{}\".",
                    self.datadir.display()
                )),
            });
        }
        let sizes = Self::shmem_requests(settings.max_worker_processes as u32);
        match Segment::create(&self.datadir, sizes) {
            Ok(seg) => {
                seg.header()
                    .max_parallel_workers
                    .store(settings.max_parallel_workers as u32, Ordering::Relaxed);
                self.seg = Some(seg);
                crate::worker::exit::on_exit_of_this_process(remove_segment_file);
                if let Err(e) = crate::dsm::backing::make_in_supervisor(seg) {
                    return fatal(&StartupError::new(format!(
                        "could not create dynamic shared memory: {e}"
                    )));
                }
            }
            Err(e) => return fatal(&StartupError::new(e.to_string())),
        }
        self.assign_slots();
        Self::shmem_startup(self.seg());
        self.start_up();
        if let Err(e) = self.pidfile.set_status("ready") {
            return fatal(&e);
        }
        elog::log(LOG, format_args!("supervisor is ready"));
        self.service.ready(REGISTRY.lock().list.running());
        self.make_spare();
        loop {
            self.sleep();
            let signals = self.read_signals();
            self.reap_children(false);
            for sig in signals.iter() {
                match sig {
                    libc::SIGTERM => self.request_shutdown(Shutdown::Smart),
                    libc::SIGINT => self.request_shutdown(Shutdown::Fast),
                    libc::SIGQUIT => self.request_shutdown(Shutdown::Immediate),
                    libc::SIGHUP => self.reload(),
                    _ => {}
                }
            }
            if signals.contains(libc::SIGUSR1) {
                // collector: `bgworkerctl logrotate`.
                self.collector.check_logrotate();
                self.worker_state_change();
            }
            // collector: one owed a restart.
            self.collector.start_if_due();
            if !self.claim_watch.is_empty() {
                self.recheck_claims();
            }
            self.check_kill_deadline();
            if self
                .leftovers
                .next_due()
                .is_some_and(|d| d <= Instant::now())
            {
                let reg = REGISTRY.lock();
                self.leftovers
                    .kill_due(Instant::now(), |p| reg.list.id_by_pid(p).is_some());
            }
            if let Some(code) = self.state_machine() {
                self.flush_notifications();
                return code;
            }
            self.launch_pass();
            // Registrants hear of starts and stops before the next spare is forked.
            self.flush_notifications();
            self.make_spare();
            self.tell_service();
            if self.children.sweep_due()
                && (self.child_count() <= SWEEP_AT_ONCE_MAX
                    || self.children.sweep_due_for() >= SWEEP_LATEST)
            {
                self.reap_children(true);
                self.flush_notifications();
            }
        }
    }

    /// The service manager's status line and watchdog, when it listens (see `service`).
    fn tell_service(&mut self) {
        if self.service.active() {
            let now = Instant::now();
            let running = REGISTRY.lock().list.running();
            self.service.status(running, now);
            self.service.watchdog(now);
        }
    }

    /// Sends the notifications owed so far (see `notify`).
    fn flush_notifications(&mut self) {
        if self.notifiers.any_pending() {
            let mut reg = REGISTRY.lock();
            self.notifiers.flush(&mut reg);
        }
    }

    /// Runs the modules' `shmem_request_hook` (PostgreSQL 15's protocol) and returns the sizes
    /// the segment needs.
    fn shmem_requests(slots: u32) -> Sizes {
        *modules::REQUESTS.lock() = modules::Requests::default();
        // SAFETY: single-threaded supervisor; modules read this flag and chain the hook.
        unsafe {
            pg::process_shmem_requests_in_progress = true;
            if let Some(hook) = pg::shmem_request_hook {
                hook();
            }
            pg::process_shmem_requests_in_progress = false;
        }
        let r = modules::REQUESTS.lock();
        Sizes {
            slots,
            addin_size: r.addin_size,
            named_locks: r.tranches.iter().map(|(_, n)| *n).sum(),
        }
    }

    /// Points `MainLWLockArray` at the segment and runs the modules' `shmem_startup_hook`.
    fn shmem_startup(seg: &Segment) {
        // SAFETY: single-threaded supervisor, before any worker of this generation forks.
        unsafe {
            pg::MainLWLockArray = seg.main_lwlocks().cast();
            if let Some(hook) = pg::shmem_startup_hook {
                hook();
            }
        }
    }

    fn seg(&self) -> &'static Segment {
        self.seg.expect("the segment exists once workers can run")
    }

    /// Gives every registration the next slot, in list order (REG-9); notify pids are cleared.
    fn assign_slots(&mut self) {
        let seg = self.seg();
        slots::reset_all(seg);
        self.claim_watch.clear();
        let mut reg = REGISTRY.lock();
        reg.list
            .reserve(self.settings.max_worker_processes.max(0) as usize);
        for id in reg.list.ids() {
            let w = reg.list.get_mut(id);
            w.def.bgw_notify_pid = 0;
            match slots::assign(seg, &w.def, w.dynamic) {
                Some((slot, generation)) => {
                    // What status showed of it before a crash-restart, in its new slot.
                    slots::restore_history(
                        seg.slot(slot),
                        w.restarts,
                        w.last_exit.map(|e| match e {
                            ExitKind::Code(c) => 1 + c,
                            ExitKind::Signal(sig) => -sig,
                        }),
                        w.last_exit_at_ms,
                        w.last_exit_pid,
                        w.exit_report.as_ref(),
                    );
                    reg.list.set_slot(id, Some(slot), generation)
                }
                None => reg.list.set_slot(id, None, 0),
            }
        }
    }

    fn preload_libraries(&mut self, settings: &Settings) -> Result<(), StartupError> {
        // SAFETY: single-threaded; modules read this flag in _PG_init (REG-1).
        unsafe { pg::process_shared_preload_libraries_in_progress = true };
        let result = settings
            .shared_preload_libraries
            .iter()
            .try_for_each(|lib| {
                crate::loader::load(lib, &settings.dynamic_library_path).map_err(|e| {
                    StartupError {
                        message: e.message,
                        detail: e.detail,
                        hint: None,
                    }
                })?;
                if let Some(path) = crate::loader::loaded_path(lib, &settings.dynamic_library_path)
                {
                    crate::server_symbols::report_unimplemented(lib, &path);
                }
                Ok(())
            });
        // SAFETY: as above.
        unsafe { pg::process_shared_preload_libraries_in_progress = false };
        result
    }

    /// Passes through the start phases, launching what each allows (PM-1, PM-2).
    fn start_up(&mut self) {
        for state in [State::Starting, State::Consistent, State::Running] {
            self.state = state;
            elog::log(LOG, format_args!("supervisor state: {}", state.name()));
            self.launch_pass();
        }
    }

    fn sleep(&mut self) {
        let now = Instant::now();
        let mut wake = now + MAX_SLEEP;
        if self.start_pending {
            wake = now;
        }
        if let Some(d) = self.kill_deadline {
            wake = wake.min(d);
        }
        if self.shutdown == Shutdown::None && !self.fatal_error {
            if let Some(due) = REGISTRY.lock().list.next_due() {
                wake = wake.min(due);
            }
        }
        let sweep = self.children.sweep_due();
        if sweep {
            wake = wake.min(now + SWEEP_QUIET);
        }
        if !self.claim_watch.is_empty() {
            wake = wake.min(now + CLAIM_RECHECK);
        }
        if let Some(d) = self.leftovers.next_due() {
            wake = wake.min(d);
        }
        // collector: a restart owed.
        if let Some(d) = self.collector.next_due() {
            wake = wake.min(d);
        }
        if self.service.active() {
            let running = REGISTRY.lock().list.running();
            for d in [
                self.service.status(running, now),
                self.service.watchdog(now),
            ]
            .into_iter()
            .flatten()
            {
                wake = wake.min(d);
            }
        }
        let ms = wake
            .saturating_duration_since(now)
            .as_micros()
            .div_ceil(1000)
            .min(c_int::MAX as u128) as c_int;
        let mut pfd = libc::pollfd {
            fd: self.signal_fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: polling one descriptor we own.
        let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
        if sweep && ready == 0 {
            // A quiet moment: the deferred sweep (what it finds is handled in this turn).
            self.reap_children(true);
        }
    }

    /// Children not reaped yet: workers, the spare, spares let go.
    fn child_count(&self) -> usize {
        REGISTRY.lock().list.running()
            + usize::from(self.spare.is_some())
            + self.retired_spares.len()
    }

    fn read_signals(&mut self) -> Pending {
        let mut out = Pending::default();
        loop {
            // SAFETY: signalfd_siginfo is plain data; the read fills it or fails.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reading one record into a local of exactly that size.
            let n = unsafe { libc::read(self.signal_fd, (&raw mut info).cast(), size) };
            if n != size as isize {
                break;
            }
            let sig = info.ssi_signo as c_int;
            if sig == libc::SIGCHLD {
                self.children.note_sigchld(info.ssi_pid, info.ssi_code);
            }
            out.add(sig);
        }
        out
    }

    /// Sends a signal to a worker, and to its process group for the signals PostgreSQL sends
    /// that way (SHUT-5).
    fn signal_child(pid: pid_t, sig: c_int) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, sig);
            if matches!(
                sig,
                libc::SIGINT | libc::SIGTERM | libc::SIGQUIT | libc::SIGKILL | libc::SIGSTOP
            ) {
                libc::kill(-pid, sig);
            }
        }
    }

    fn signal_all(sig: c_int) {
        let pids = REGISTRY.lock().list.running_pids();
        for pid in pids {
            Self::signal_child(pid, sig);
        }
    }

    fn any_running() -> bool {
        REGISTRY.lock().list.running() > 0
    }

    /// Unregisters a worker: frees its slot, then tells its notify pid (EXIT-1, NTF-3).
    fn forget(&mut self, reg: &mut Registry, id: Id, notify: bool) {
        let w = reg.list.remove(id);
        elog::log(
            DEBUG1,
            format_args!("unregistering background worker \"{}\"", w.name()),
        );
        if let Some(slot) = w.slot {
            slots::release(self.seg(), slot, w.dynamic && w.is_parallel());
        }
        let pid = w.def.bgw_notify_pid;
        if notify {
            self.notifiers.notify(pid);
        }
        self.notifiers.release(pid);
    }

    fn request_shutdown(&mut self, mode: Shutdown) {
        if mode <= self.shutdown {
            return;
        }
        self.shutdown = mode;
        self.retire_spare();
        self.seg()
            .header()
            .shutting_down
            .store(1, Ordering::Release);
        let word = match mode {
            Shutdown::Smart => "smart",
            Shutdown::Fast => "fast",
            _ => "immediate",
        };
        elog::log(LOG, format_args!("received {word} shutdown request"));
        self.service.stopping();
        self.state = State::Stopping;
        if let Err(e) = self.pidfile.set_status("stopping") {
            elog::log(LOG, format_args!("{}", e.message));
        }
        if mode == Shutdown::Immediate {
            Self::signal_all(libc::SIGQUIT);
            self.kill_deadline = Some(Instant::now() + SIGKILL_AFTER);
        } else {
            // SHUT-4 (1): not-yet-started workers with a notify pid are dropped and their
            // registrants told, so nobody waits for a start that will not come.
            let mut reg = REGISTRY.lock();
            for id in reg.list.ids() {
                let w = reg.list.get(id);
                if w.pid == 0 && w.last_exit.is_none() && w.def.bgw_notify_pid != 0 {
                    self.forget(&mut reg, id, true);
                }
            }
            drop(reg);
            // No clients to wait for: smart and fast both stop the workers now (SHUT-1, SHUT-4).
            Self::signal_all(libc::SIGTERM);
        }
    }

    fn reload(&mut self) {
        if self.shutdown > Shutdown::Smart {
            return;
        }
        elog::log(
            LOG,
            format_args!("received SIGHUP, reloading configuration files"),
        );
        self.service.reloading();
        self.settings = guc::reload(&self.conf, &self.overrides);
        // collector: it reads the settings again too.
        self.collector.reload();
        // The spare was forked with the old settings.
        self.retire_spare();
        self.seg()
            .header()
            .max_parallel_workers
            .store(self.settings.max_parallel_workers as u32, Ordering::Relaxed);
        let pids = REGISTRY.lock().list.running_pids();
        let running = pids.len();
        for pid in pids {
            Self::signal_child(pid, libc::SIGHUP);
        }
        self.service.ready(running);
    }

    fn check_kill_deadline(&mut self) {
        let Some(deadline) = self.kill_deadline else {
            return;
        };
        if Instant::now() < deadline {
            return;
        }
        self.kill_deadline = None;
        if Self::any_running() {
            elog::log(
                LOG,
                format_args!("issuing SIGKILL to recalcitrant children"),
            );
            Self::signal_all(libc::SIGKILL);
        }
    }

    /// Takes the slots registrants flagged (DYN-6, DYN-9): adopts new registrations, acts on
    /// terminate requests. Everything read from the slot is copied and checked first.
    fn worker_state_change(&mut self) {
        let seg = self.seg();
        for word in 0..seg.bitmap_words() {
            let mut bits = seg.changed_word(word).swap(0, Ordering::AcqRel);
            while bits != 0 {
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.slot_changed(word * 64 + bit);
            }
        }
    }

    /// `bgworkerctl restart`: a running worker is sent SIGTERM and started again as soon as it
    /// exits; one waiting for its restart time starts now. Nothing happens during a shutdown
    /// or a crash-restart (everything is being stopped or restarted already).
    fn restart_requested(&mut self, reg: &mut Registry, id: Id, slot: usize) {
        if self.shutdown != Shutdown::None || self.fatal_error {
            return;
        }
        let w = reg.list.get_mut(id);
        elog::log(
            LOG,
            format_args!(
                "restart of background worker \"{}\" requested",
                registry::FieldDisplay(&w.def.bgw_name)
            ),
        );
        if w.pid > 0 {
            w.restart_requested = true;
            Self::signal_child(w.pid, libc::SIGTERM);
        } else if w.due.is_some() {
            w.crashed_at = None;
            reg.list.schedule(id, Instant::now());
            self.seg()
                .slot(slot)
                .next_start_ms
                .store(now_ms(), Ordering::Relaxed);
            self.start_pending = true;
        }
    }

    /// Whether `pid` may get notifications: a worker of ours, or a process attached to our
    /// segment (every attached process maps it). A pid naming no process passes here and is
    /// dropped as "not valid" when adopted, as in PostgreSQL (NTF-2).
    fn entitled(reg: &Registry, seg: &Segment, pid: pid_t) -> bool {
        reg.list.id_by_pid(pid).is_some()
            || crate::process::start_ticks(pid).is_none()
            || seg.mapped_by(pid)
    }

    fn slot_changed(&mut self, s: usize) {
        let seg = self.seg();
        if s >= seg.total_slots() {
            return;
        }
        let slot = seg.slot(s);
        match slot.state.load(Ordering::Acquire) {
            slots::IN_USE => {}
            slots::CLAIMED => {
                let claimant = slot.claimant.load(Ordering::Relaxed);
                self.check_claim(s, claimant);
                return;
            }
            _ => return,
        }
        let generation = slot.generation.load(Ordering::Acquire);
        let terminate = slot.terminate.load(Ordering::Acquire) != 0;
        let restart = slot.restart.swap(0, Ordering::AcqRel) == generation + 1;
        let mut reg = REGISTRY.lock();
        if let Some(id) = reg.list.id_by_slot(s) {
            // A known worker: a terminate or restart request is the only change a registrant
            // (or bgworkerctl) can make.
            let w = reg.list.get_mut(id);
            if restart && !terminate && w.generation == generation {
                self.restart_requested(&mut reg, id, s);
                return;
            }
            if terminate && !w.terminate && w.generation == generation {
                w.terminate = true;
                let pid = w.pid;
                if pid > 0 {
                    Self::signal_child(pid, libc::SIGTERM);
                } else {
                    // Not running (not yet started, or waiting to restart): reported dead.
                    self.forget(&mut reg, id, true);
                }
            }
            return;
        }
        let mut def = copy_definition(slot);
        // The registrant checked the notify process; what reached shared memory is checked
        // again, so no registrant can have an unrelated process signalled.
        if def.bgw_notify_pid != 0
            && !self.notifiers.holds(def.bgw_notify_pid)
            && !Self::entitled(&reg, seg, def.bgw_notify_pid)
        {
            elog::log(
                LOG,
                format_args!(
                    "background worker \"{}\": notify process {} is not a process of this supervisor; it will not be signalled",
                    registry::FieldDisplay(&def.bgw_name),
                    def.bgw_notify_pid
                ),
            );
            def.bgw_notify_pid = 0;
        }
        let notify_pid = def.bgw_notify_pid;
        if self.shutdown != Shutdown::None || self.fatal_error || terminate {
            // Refused before adoption (DYN-10, DYN-11): released unstarted, registrant told.
            slot.terminate.store(1, Ordering::Release);
            slots::release(seg, s, def.bgw_flags & BGWORKER_CLASS_PARALLEL != 0);
            Notifiers::notify_once(notify_pid);
            return;
        }
        for field in [
            &mut def.bgw_name,
            &mut def.bgw_type,
            &mut def.bgw_library_name,
            &mut def.bgw_function_name,
        ] {
            registry::sanitise_field(field);
        }
        if let Err(reason) = registry::sanity_check(&mut def) {
            // The registrant checked this too; a definition changed behind its back is refused.
            elog::log(
                LOG,
                format_args!(
                    "background worker \"{}\": {reason}",
                    registry::FieldDisplay(&def.bgw_name)
                ),
            );
            slots::release(seg, s, def.bgw_flags & BGWORKER_CLASS_PARALLEL != 0);
            Notifiers::notify_once(notify_pid);
            return;
        }
        // PostgreSQL logs this for an explicit 0 too (NTF-2).
        if !self.notifiers.adopt(notify_pid) {
            elog::log(
                DEBUG1,
                format_args!("worker notification PID {notify_pid} is not valid"),
            );
            def.bgw_notify_pid = 0;
        }
        elog::log(
            DEBUG1,
            format_args!(
                "registering background worker \"{}\"",
                registry::FieldDisplay(&def.bgw_name)
            ),
        );
        let mut w = RegisteredWorker::new(def);
        w.slot = Some(s);
        w.generation = generation;
        w.dynamic = true;
        reg.list.insert(w);
        self.start_pending = true;
    }

    /// A slot claimed by a registrant that has not published it yet: freed at once when the
    /// claimant is gone, otherwise watched (claims last microseconds; a claimant that stops or
    /// dies mid-way must not take the slot with it).
    fn check_claim(&mut self, s: usize, claimant: pid_t) {
        let seg = self.seg();
        if claimant_gone(claimant) {
            if slots::reclaim(seg, s, claimant) {
                elog::log(
                    LOG,
                    format_args!(
                        "slot {s} was claimed by process {claimant}, which is gone without publishing its registration; the slot is free again"
                    ),
                );
            }
            self.claim_watch.retain(|&(w, _)| w != s);
        } else if !self.claim_watch.contains(&(s, claimant)) {
            self.claim_watch.push((s, claimant));
        }
    }

    /// Looks again at the claims being watched (each turn while there are any).
    fn recheck_claims(&mut self) {
        let seg = self.seg();
        let watched = std::mem::take(&mut self.claim_watch);
        for (s, claimant) in watched {
            let slot = seg.slot(s);
            if slot.state.load(Ordering::Acquire) == slots::CLAIMED
                && slot.claimant.load(Ordering::Relaxed) == claimant
            {
                self.check_claim(s, claimant);
            }
        }
    }

    /// Handles the children that SIGCHLD named as exited, or with `sweep` every other exited
    /// one (see `children`). After a sweep that found any, the loop comes round again at once,
    /// so their restarts and the state machine are not left for the next signal.
    fn reap_children(&mut self, sweep: bool) {
        let mut reaped = std::mem::take(&mut self.reaped_buf);
        if sweep {
            self.children.sweep(&mut reaped);
            if !reaped.is_empty() {
                self.start_pending = true;
            }
        } else {
            self.children.reap_named(&mut reaped);
        }
        let any = !reaped.is_empty();
        for &(pid, exit) in &reaped {
            self.cleanup_worker(pid, exit);
        }
        reaped.clear();
        self.reaped_buf = reaped;
        // A worker that died holding a claimed slot left it flagged: look now.
        if any && self.seg.is_some_and(Segment::any_changed) {
            self.worker_state_change();
        }
    }

    /// What happens when a worker exits (EXIT-1..3, CRASH-1).
    fn cleanup_worker(&mut self, pid: pid_t, exit: ExitKind) {
        let seg = self.seg();
        let mut reg = REGISTRY.lock();
        let Some(id) = reg.list.id_by_pid(pid) else {
            drop(reg);
            // collector: its exit (it is started again).
            if self.collector.reaped(pid, exit) {
                return;
            }
            if let Some(i) = self.retired_spares.iter().position(|&p| p == pid) {
                self.retired_spares.swap_remove(i);
            } else if self.spare.as_ref().is_some_and(|s| s.pid == pid) {
                // The spare died on its own (killed from outside): a new one is made.
                let spare = self.spare.take().expect("spare");
                // SAFETY: closing our end of its pipe.
                unsafe { libc::close(spare.command) };
                elog::log(DEBUG1, format_args!("spare child process {pid} exited"));
            } else {
                elog::log(DEBUG1, format_args!("reaped unknown child process {pid}"));
            }
            return;
        };
        reg.list.exited(id);
        self.leftovers.worker_exited(pid, Instant::now());
        let w = reg.list.get_mut(id);
        w.last_exit = Some(exit);
        // The slot's pid goes to 0 (handles read STOPPED) only once the worker's fate is settled
        // below: a worker that is unregistered frees its slot in the same step, so a registrant
        // that sees STOPPED finds the slot free again, as PostgreSQL arranges it.
        let slot = w.slot;
        if let Some(s) = slot {
            modules::release_proc(seg, s);
            let slot = seg.slot(s);
            slot.last_exit.store(
                match exit {
                    ExitKind::Code(c) => 1 + c,
                    ExitKind::Signal(sig) => -sig,
                },
                Ordering::Relaxed,
            );
            w.last_exit_at_ms = now_ms();
            w.last_exit_pid = pid;
            slot.last_exit_at_ms
                .store(w.last_exit_at_ms, Ordering::Relaxed);
            slot.last_exit_pid.store(pid, Ordering::Release);
            w.exit_report = (slot.exit_report_pid.load(Ordering::Acquire) == pid)
                .then(|| slot.exit_report.read());
        }
        let described = describe_exit(&w.type_name(), pid, exit);
        // A shared-memory worker that left with 0 or 1 without its exit path (`_exit`) may
        // have left shared state half-done: a crash, as in PostgreSQL (EXIT-4).
        let skipped_exit_path = matches!(exit, ExitKind::Code(0) | ExitKind::Code(1))
            && w.has_shmem_access()
            && w.slot
                .is_some_and(|s| seg.slot(s).exited_cleanly.load(Ordering::Acquire) == 0);
        let crash = !matches!(exit, ExitKind::Code(0) | ExitKind::Code(1)) || skipped_exit_path;
        let now = Instant::now();

        if crash && w.has_shmem_access() {
            // No notification: everything is about to be restarted (CRASH-2, NTF-4).
            w.crashed_at = Some(now);
            mark_stopped(seg, slot);
            let first = !self.fatal_error && self.shutdown != Shutdown::Immediate;
            drop(reg);
            if first {
                elog::log(LOG, format_args!("{described}"));
                elog::log(
                    LOG,
                    format_args!("terminating any other active server processes"),
                );
                self.fatal_error = true;
                self.retire_spare();
                Self::signal_all(libc::SIGQUIT);
                self.kill_deadline = Some(now + SIGKILL_AFTER);
            } else {
                elog::log(DEBUG1, format_args!("{described}"));
            }
            return;
        }

        let quiet = exit == ExitKind::Code(0) || self.shutdown == Shutdown::Immediate;
        elog::log(
            if quiet { DEBUG1 } else { LOG },
            format_args!("{described}"),
        );
        // Exit 1, and any death of a worker without shared memory access: restart per its
        // restart time, unless it may never restart or was terminated.
        if std::mem::take(&mut w.restart_requested) && !w.terminate {
            // `bgworkerctl restart`: again at once, whatever the exit code and restart time.
            let notify_pid = w.def.bgw_notify_pid;
            mark_stopped(seg, slot);
            reg.list.schedule(id, now);
            if let Some(s) = slot {
                seg.slot(s).next_start_ms.store(now_ms(), Ordering::Relaxed);
            }
            self.start_pending = true;
            self.notifiers.notify(notify_pid);
            return;
        }
        let unregister = exit == ExitKind::Code(0) || w.never_restart() || w.terminate;
        if unregister {
            self.forget(&mut reg, id, true);
        } else {
            mark_stopped(seg, slot);
            let notify_pid = schedule_restart(&mut reg, id, now, self.backoff());
            self.notifiers.notify(notify_pid);
        }
    }

    /// Decides whether the supervisor is done, or a crash-restart can begin (CRASH-3, CRASH-4).
    fn state_machine(&mut self) -> Option<c_int> {
        if Self::any_running() {
            return None;
        }
        if self.shutdown != Shutdown::None || self.fatal_error {
            // Before the end or a re-initialisation: no descendant of a worker is left.
            let first = if self.shutdown == Shutdown::Immediate || self.fatal_error {
                libc::SIGQUIT
            } else {
                libc::SIGTERM
            };
            let spare = self.spare.as_ref().map(|s| s.pid);
            let retired = &self.retired_spares;
            // collector: not a stray; it outlives the workers.
            let collector = &self.collector;
            if self.leftovers.end_strays(
                |p| Some(p) == spare || retired.contains(&p) || collector.is(p),
                first,
                Instant::now(),
            ) {
                return None;
            }
        }
        if self.shutdown != Shutdown::None {
            let code = if self.fatal_error && self.shutdown != Shutdown::Immediate {
                elog::log(LOG, format_args!("abnormal supervisor shutdown"));
                1
            } else {
                0
            };
            self.finish();
            elog::log(LOG, format_args!("supervisor is shut down"));
            return Some(code);
        }
        if self.fatal_error {
            self.kill_deadline = None;
            if !self.settings.restart_after_crash {
                elog::log(
                    LOG,
                    format_args!("shutting down because restart_after_crash is off"),
                );
                self.finish();
                return Some(1);
            }
            if let Some(n) = self.crash_restarts_exceeded() {
                let s = &self.settings;
                elog::log_with(
                    LOG,
                    &format!(
                        "shutting down because of too many crash-restarts: {n} within {} s",
                        s.restart_after_crash_window
                    ),
                    None,
                    Some(&format!(
                        "restart_after_crash_limit is {}; find and fix the crashing worker, or raise the limit.",
                        s.restart_after_crash_limit
                    )),
                );
                self.finish();
                return Some(1);
            }
            elog::log(
                LOG,
                format_args!("all server processes terminated; reinitializing"),
            );
            {
                let mut reg = REGISTRY.lock();
                for id in reg.list.ids() {
                    if reg.list.get(id).never_restart() {
                        let w = reg.list.remove(id);
                        elog::log(
                            DEBUG1,
                            format_args!("unregistering background worker \"{}\"", w.name()),
                        );
                    } else {
                        reg.list.get_mut(id).crashed_at = None;
                    }
                }
                reg.list.all_ready();
            }
            self.flush_notifications();
            self.notifiers.clear();
            self.rebuild_shared_memory();
            self.fatal_error = false;
            self.start_up();
        }
        None
    }

    fn backoff(&self) -> Backoff {
        Backoff {
            steps: self.settings.restart_backoff_steps.max(0) as u32,
            max_delay: Duration::from_secs(self.settings.restart_backoff_max_delay.max(1) as u64),
        }
    }

    /// Counts this crash-restart; the count within the window, if it exceeds the opt-in
    /// `restart_after_crash_limit` (restart intensity, as Erlang/OTP supervisors have).
    fn crash_restarts_exceeded(&mut self) -> Option<usize> {
        let window = Duration::from_secs(self.settings.restart_after_crash_window.max(1) as u64);
        record_crash_restart(
            &mut self.crash_restarts,
            Instant::now(),
            self.settings.restart_after_crash_limit,
            window,
        )
    }

    /// After a crash: the modules' shared memory is made afresh (their request hook runs again;
    /// a bigger request gets a new segment), slots are re-assigned, the startup hook runs again.
    fn rebuild_shared_memory(&mut self) {
        let sizes = Self::shmem_requests(self.seg().sizes().slots);
        if sizes != self.seg().sizes() {
            match Segment::create(&self.datadir, sizes) {
                Ok(seg) => self.seg = Some(seg),
                Err(e) => elog::log(
                    LOG,
                    format_args!(
                        "could not recreate shared memory segment, keeping the old one: {e}"
                    ),
                ),
            }
        } else {
            self.seg().reinitialise_modules();
        }
        // Every DSM segment goes with the old memory (as PostgreSQL removes them all at a
        // crash-restart); a process attached from outside that still maps one keeps only that
        // mapping, and its handles attach to nothing new.
        if let Err(e) = crate::dsm::backing::make_in_supervisor(self.seg()) {
            elog::log(
                LOG,
                format_args!("could not create dynamic shared memory: {e}"),
            );
        }
        self.seg()
            .header()
            .max_parallel_workers
            .store(self.settings.max_parallel_workers as u32, Ordering::Relaxed);
        self.assign_slots();
        Self::shmem_startup(self.seg());
    }

    /// Clean end: the spare (which exits on EOF) is waited for; the lock file and the segment go.
    fn finish(&mut self) {
        self.retire_spare();
        for pid in std::mem::take(&mut self.retired_spares) {
            let mut status = 0;
            // SAFETY: waiting for our own child, which is leaving on its own.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        }
        if let Some(seg) = self.seg {
            seg.remove_file();
        }
        crate::dsm::backing::close_in_supervisor();
        self.pidfile.remove();
    }

    /// Starts every worker that is due (PM-5, PM-6). Only ready registrations are looked at,
    /// so the cost does not grow with the number of running workers.
    fn launch_pass(&mut self) {
        self.start_pending = false;
        if self.fatal_error || self.shutdown != Shutdown::None {
            return;
        }
        let mut started = 0;
        let mut ready = std::mem::take(&mut self.ready_buf);
        let mut batch = std::mem::take(&mut self.launch_buf);
        {
            let mut reg = REGISTRY.lock();
            reg.list.promote_due(Instant::now());
            reg.list.ready_ids_into(&mut ready);
        }
        for &id in &ready {
            {
                let mut reg = REGISTRY.lock();
                let w = reg.list.get_mut(id);
                if w.terminate || (w.crashed_at.is_some() && w.never_restart()) {
                    // Dropped, and its registrant told (NTF-3c, NTF-3e).
                    self.forget(&mut reg, id, true);
                    continue;
                }
                if !self.state.allows(w.def.bgw_start_time) {
                    continue;
                }
                w.crashed_at = None;
                batch.push(Launch {
                    id,
                    def: w.def,
                    slot: w.slot,
                });
            }
            if batch.len() == START_BATCH {
                self.start_workers(&mut batch);
            }
            started += 1;
            if started >= MAX_STARTS_PER_PASS {
                self.start_pending = true;
                break;
            }
        }
        if !batch.is_empty() {
            self.start_workers(&mut batch);
        }
        self.launch_buf = batch;
        ready.clear();
        self.ready_buf = ready;
    }

    /// Descriptors a new child must not keep.
    fn child_close_fds(&mut self) -> Vec<RawFd> {
        let mut fds = std::mem::take(&mut self.close_buf);
        fds.clear();
        fds.extend([self.signal_fd, self.death_pipe_write]);
        fds.extend(self.notifiers.fds());
        fds.extend(self.service.fd());
        // collector: the pipe's read end and the original stderr stay the supervisor's.
        fds.extend(self.collector.fds_for_children());
        if let Some(spare) = &self.spare {
            fds.push(spare.command);
        }
        fds.sort_unstable();
        fds
    }

    fn child_context<'a>(&'a self, close_fds: &'a [RawFd]) -> worker::ChildContext<'a> {
        worker::ChildContext {
            close_fds,
            death_pipe_read: self.death_pipe_read,
            cluster_name: &self.settings.cluster_name,
            dynamic_library_path: &self.settings.dynamic_library_path,
        }
    }

    /// Forks a spare child ahead of need (see `worker::run_spare`), unless one is ready or
    /// nothing may start now. A failed fork just leaves no spare: the next start forks itself.
    fn make_spare(&mut self) {
        if self.spare.is_some() || self.fatal_error || self.shutdown != Shutdown::None {
            return;
        }
        let mut pipe = [-1; 2];
        // SAFETY: pipe2 fills the two-element array.
        if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
            return;
        }
        let mut close_fds = self.child_close_fds();
        let at = close_fds.partition_point(|&fd| fd < pipe[1]);
        close_fds.insert(at, pipe[1]);
        // SAFETY: as for a worker: single-threaded, no lock held.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            worker::run_spare(pipe[0], &self.child_context(&close_fds));
        }
        self.close_buf = close_fds;
        // SAFETY: closing our copy of the read end (the spare keeps its own).
        unsafe { libc::close(pipe[0]) };
        if pid < 0 {
            // SAFETY: closing the write end of the pipe just made.
            unsafe { libc::close(pipe[1]) };
            return;
        }
        self.spare = Some(Spare {
            pid,
            command: pipe[1],
        });
    }

    /// Fault injection for tests (`BGWORKER_INJECT_FORK_FAILURES=N`): the next N worker forks
    /// fail as if the system were out of processes (EAGAIN).
    fn inject_fork_failure(&mut self) -> bool {
        if self.injected_fork_failures == 0 {
            return false;
        }
        self.injected_fork_failures -= 1;
        // SAFETY: setting this thread's errno, as a failed fork would.
        unsafe { *libc::__errno_location() = libc::EAGAIN };
        true
    }

    /// Hands a definition to the spare child, which becomes that worker; its pid, or `None`
    /// when there is no usable spare.
    fn activate_spare(&mut self, def: &BackgroundWorker, slot: Option<usize>) -> Option<pid_t> {
        let spare = self.spare.take()?;
        let a = worker::Activation {
            def: *def,
            slot: slot.unwrap_or(usize::MAX),
        };
        let size = std::mem::size_of::<worker::Activation>();
        // SAFETY: one write of a plain-data struct (< PIPE_BUF, so it is atomic); then our end
        // of the pipe is closed.
        let written = unsafe {
            let n = libc::write(spare.command, (&raw const a).cast(), size);
            libc::close(spare.command);
            n
        };
        if written == size as isize {
            Some(spare.pid)
        } else {
            // The spare is gone (it is reaped as a retired spare); fork instead.
            self.retired_spares.push(spare.pid);
            None
        }
    }

    /// Lets the spare go (settings changed, shutdown, crash): it reads EOF and exits.
    fn retire_spare(&mut self) {
        if let Some(spare) = self.spare.take() {
            // SAFETY: closing our end of the command pipe.
            unsafe { libc::close(spare.command) };
            self.retired_spares.push(spare.pid);
        }
    }

    /// Starts a batch of workers (PM-9): the first through the spare if there is one, the others
    /// forked back to back; then records them all and tells their registrants. A failed fork
    /// counts as a crash of that worker (PM-8). Empties `batch`.
    fn start_workers(&mut self, batch: &mut Vec<Launch>) {
        let mut forked = std::mem::take(&mut self.forked_buf);
        forked.clear();
        let mut close_fds = None;
        for (i, l) in batch.iter().enumerate() {
            elog::log(
                DEBUG1,
                format_args!(
                    "starting background worker process \"{}\"",
                    registry::FieldDisplay(&l.def.bgw_name)
                ),
            );
            let pid = if self.inject_fork_failure() {
                -1
            } else if let Some(pid) = (i == 0)
                .then(|| self.activate_spare(&l.def, l.slot))
                .flatten()
            {
                pid
            } else {
                // Made once the spare is taken (its pipe is then closed) and kept for the batch.
                let close_fds = close_fds.get_or_insert_with(|| self.child_close_fds());
                // SAFETY: the supervisor is single-threaded and holds no lock here, so the child
                // starts from a consistent copy of this process.
                let pid = unsafe { libc::fork() };
                if pid == 0 {
                    worker::run_child(&l.def, l.slot, &self.child_context(close_fds));
                }
                pid
            };
            if pid < 0 {
                elog::log(
                    LOG,
                    format_args!(
                        "could not fork worker process: {}",
                        std::io::Error::last_os_error()
                    ),
                );
            }
            forked.push(pid);
        }
        if let Some(fds) = close_fds {
            self.close_buf = fds;
        }

        let mut database = false;
        let mut reg = REGISTRY.lock();
        for (l, &pid) in batch.iter().zip(&forked) {
            database |= l.def.bgw_flags & BGWORKER_BACKEND_DATABASE_CONNECTION != 0;
            let id = l.id;
            if pid < 0 {
                // Like a crash of this worker: retried after its restart time, or dropped.
                schedule_restart(&mut reg, id, Instant::now(), self.backoff());
                continue;
            }
            reg.list.started(id, pid);
            let w = reg.list.get_mut(id);
            if w.last_exit.is_some() {
                w.restarts += 1;
            }
            w.started_at = Some(std::time::SystemTime::now());
            w.last_start = Some(Instant::now());
            let (restarts, notify_pid, slot) = (w.restarts, w.def.bgw_notify_pid, w.slot);
            if let Some(s) = slot {
                let slot = self.seg().slot(s);
                slot.started_at_ms.store(now_ms(), Ordering::Relaxed);
                slot.next_start_ms.store(0, Ordering::Relaxed);
                slot.restarts.store(restarts, Ordering::Relaxed);
                slot.pid.store(pid, Ordering::Release);
            }
            self.notifiers.notify(notify_pid);
        }
        self.notifiers.flush(&mut reg);
        drop(reg);
        batch.clear();
        self.forked_buf = forked;
        if database {
            // Loading libpq and its dependencies costs a few milliseconds; done once here,
            // every later spare and worker inherits it, so database workers start connected
            // that much sooner. A missing libpq is remembered and reported by each worker.
            let _ = crate::db::libpq::try_api();
        }
    }
}

/// A worker's slot (if it has one) reads STOPPED while the worker waits to be started again.
fn mark_stopped(seg: &Segment, slot: Option<usize>) {
    if let Some(s) = slot {
        seg.slot(s).pid.store(0, Ordering::Release);
    }
}

/// A worker that died, or could not be forked: it starts again after its restart time (or is
/// dropped by the launch pass, if it may never restart). Returns its notify pid.
/// Whether a slot's claimant is gone: no such process, or a zombie (dead, not yet reaped).
fn claimant_gone(pid: pid_t) -> bool {
    if pid <= 0 {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// Records a crash-restart at `now` in `times`; the count within `window` when it exceeds
/// `limit`. The times are kept only while a limit is set, and no more than it needs (the limit
/// plus one), so a crash loop without a limit costs no memory.
fn record_crash_restart(
    times: &mut Vec<Instant>,
    now: Instant,
    limit: c_int,
    window: Duration,
) -> Option<usize> {
    if limit <= 0 {
        times.clear();
        return None;
    }
    times.retain(|&t| now.duration_since(t) < window);
    times.push(now);
    let keep = limit as usize + 1;
    if times.len() > keep {
        times.drain(..times.len() - keep);
    }
    (times.len() > limit as usize).then_some(times.len())
}

fn schedule_restart(reg: &mut Registry, id: Id, now: Instant, backoff: Backoff) -> pid_t {
    let w = reg.list.get_mut(id);
    w.crashed_at = Some(now);
    let stayed_up = w.last_start.map(|t| now.saturating_duration_since(t));
    let base = restart_interval(&w.def);
    let wait = backoff.next(&mut w.quick_failures, base, stayed_up);
    if wait > base {
        elog::log(
            LOG,
            format_args!(
                "background worker \"{}\" failed again {} ms after it started: restarting it in {} ms (restart_backoff_steps)",
                crate::registry::FieldDisplay(&w.def.bgw_type),
                stayed_up.unwrap_or_default().as_millis(),
                wait.as_millis()
            ),
        );
    }
    let (notify_pid, due) = (w.def.bgw_notify_pid, now + wait);
    if let Some(s) = w.slot {
        if let Some(seg) = crate::shmem::current() {
            let at = now_ms().saturating_add(wait.as_millis() as u64);
            seg.slot(s).next_start_ms.store(at, Ordering::Relaxed);
        }
    }
    reg.list.schedule(id, due);
    notify_pid
}

fn restart_interval(def: &BackgroundWorker) -> Duration {
    Duration::from_secs(def.bgw_restart_time.max(0) as u64)
}

/// The opt-in restart backoff (`restart_backoff_steps`, `restart_backoff_max_delay`), in the
/// manner of systemd's `RestartSteps=`/`RestartMaxDelaySec=`: each failure of a worker that ran
/// less than the cap waits one step longer, geometrically from its own restart time (at least
/// 100 ms) up to the cap; a worker that stayed up at least the cap is back to its own time.
#[derive(Clone, Copy, Debug)]
struct Backoff {
    steps: u32,
    max_delay: Duration,
}

impl Backoff {
    /// The wait before the next start; counts the failure in `quick_failures`.
    fn next(
        self,
        quick_failures: &mut u32,
        base: Duration,
        stayed_up: Option<Duration>,
    ) -> Duration {
        if self.steps == 0 {
            *quick_failures = 0;
            return base;
        }
        if stayed_up.is_some_and(|up| up >= self.max_delay) {
            *quick_failures = 0;
            return base;
        }
        *quick_failures = (*quick_failures + 1).min(self.steps);
        let floor = base.max(Duration::from_millis(100));
        if self.max_delay <= floor {
            return base.max(self.max_delay.min(floor));
        }
        let ratio = self.max_delay.as_secs_f64() / floor.as_secs_f64();
        let step = f64::from(*quick_failures) / f64::from(self.steps);
        floor.mul_f64(ratio.powf(step)).min(self.max_delay)
    }
}

/// PostgreSQL's wording for a child's exit (EXIT-2, EXIT-3, EXIT-5).
fn describe_exit(type_name: &str, pid: pid_t, exit: ExitKind) -> String {
    match exit {
        ExitKind::Code(code) => {
            format!("background worker \"{type_name}\" (PID {pid}) exited with exit code {code}")
        }
        ExitKind::Signal(sig) => {
            // SAFETY: strsignal returns a pointer to a static or thread-local string.
            let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(sig)) }
                .to_string_lossy()
                .into_owned();
            format!("background worker \"{type_name}\" (PID {pid}) was terminated by signal {sig}: {name}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_geometrically_to_its_cap_and_resets_after_a_long_enough_run() {
        let off = Backoff {
            steps: 0,
            max_delay: Duration::from_secs(60),
        };
        let mut n = 0;
        let base = Duration::from_secs(1);
        assert_eq!(off.next(&mut n, base, Some(Duration::ZERO)), base);
        let b = Backoff {
            steps: 3,
            max_delay: Duration::from_secs(8),
        };
        let quick = Some(Duration::from_millis(10));
        let waits: Vec<u128> = (0..5)
            .map(|_| b.next(&mut n, base, quick).as_millis())
            .collect();
        // 1 s · 8^(k/3): 2 s, 4 s, 8 s, then the cap.
        assert_eq!(waits, vec![2000, 4000, 8000, 8000, 8000]);
        // Up for the cap's length: back to its own restart time.
        assert_eq!(b.next(&mut n, base, Some(Duration::from_secs(8))), base);
        assert_eq!(n, 0);
        // A restart time of 0 starts from 100 ms: 0.1 s · 80^(1/3).
        let zero = b.next(&mut n, Duration::ZERO, quick);
        assert_eq!(zero.as_millis(), 430);
    }

    #[test]
    fn crash_restart_times_are_kept_only_while_a_limit_is_set_and_only_as_many_as_it_needs() {
        let mut times = Vec::new();
        let t0 = Instant::now();
        let window = Duration::from_secs(60);
        for i in 0..10_000u64 {
            let now = t0 + Duration::from_micros(i);
            assert_eq!(record_crash_restart(&mut times, now, 0, window), None);
        }
        assert!(
            times.is_empty() && times.capacity() < 64,
            "{}",
            times.capacity()
        );
        for i in 0..10_000u64 {
            let now = t0 + Duration::from_micros(i);
            let over = record_crash_restart(&mut times, now, 3, window);
            assert_eq!(over, (i >= 3).then_some(4), "crash {i}");
            assert!(times.len() <= 4);
        }
        // Outside the window they no longer count.
        let later = t0 + Duration::from_secs(120);
        assert_eq!(record_crash_restart(&mut times, later, 3, window), None);
        assert_eq!(times.len(), 1);
    }

    #[test]
    fn start_phases() {
        assert!(State::Starting.allows(BgWorkerStart_PostmasterStart));
        assert!(!State::Starting.allows(BgWorkerStart_ConsistentState));
        assert!(State::Consistent.allows(BgWorkerStart_ConsistentState));
        assert!(!State::Consistent.allows(BgWorkerStart_RecoveryFinished));
        assert!(State::Running.allows(BgWorkerStart_RecoveryFinished));
        assert!(!State::Stopping.allows(BgWorkerStart_PostmasterStart));
        assert!(
            !State::Running.allows(7),
            "an out-of-range start time never starts"
        );
    }

    #[test]
    fn exit_wording() {
        assert_eq!(
            describe_exit("t", 5, ExitKind::Code(1)),
            "background worker \"t\" (PID 5) exited with exit code 1"
        );
        assert_eq!(
            describe_exit("t", 5, ExitKind::Signal(11)),
            "background worker \"t\" (PID 5) was terminated by signal 11: Segmentation fault"
        );
    }
}
