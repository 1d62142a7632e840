//! Scenario-test harness: builds the C test modules, runs a real `bgworkerd` on a fresh DATADIR,
//! collects its log, and finds its workers in /proc. Every wait is a poll with a bound.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How often every wait polls.
pub const POLL: Duration = Duration::from_millis(10);
/// Bound for things that should happen promptly (start-up, a worker starting, a log line).
pub const PROMPT: Duration = Duration::from_secs(10);

pub const BGWORKER_SHMEM_ACCESS: i32 = 1;
pub const BGWORKER_BACKEND_DATABASE_CONNECTION: i32 = 2;
pub const BGWORKER_CLASS_PARALLEL: i32 = 16;
pub const BGW_NEVER_RESTART: i32 = -1;
pub const START_POSTMASTER: i32 = 0;
pub const START_CONSISTENT: i32 = 1;
pub const START_RECOVERY_FINISHED: i32 = 2;

// ---------------------------------------------------------------------------------------------
// Paths and builds
// ---------------------------------------------------------------------------------------------

pub fn bgworkerd() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bgworkerd"))
}

/// Points the dynamic loader of a program the tests start at the freshly built library:
/// `cargo test` puts target/<profile> ahead of deps/ in LD_LIBRARY_PATH, and the copy there is
/// only refreshed by `cargo build`.
pub fn with_fresh_library(cmd: &mut Command) -> &mut Command {
    cmd.env("LD_LIBRARY_PATH", lib_dir())
}

/// The directory holding the freshly built `libbgworker.so`: cargo's `deps/` beside
/// `bgworkerd` (the copy next to the binary is refreshed only by `cargo build`).
pub fn lib_dir() -> PathBuf {
    let dir = bgworkerd()
        .parent()
        .expect("bgworkerd has a directory")
        .to_path_buf();
    let deps = dir.join("deps");
    if deps.join("libbgworker.so").exists() {
        deps
    } else {
        dir
    }
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn include_dir() -> PathBuf {
    repo_dir().join("include")
}

pub fn module_source(name: &str) -> PathBuf {
    repo_dir()
        .join("c_tests")
        .join("modules")
        .join(format!("{name}.c"))
}

static TEMP_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory `bgwt-<our pid>-<n>-<label>` under the system temp dir.
pub fn fresh_temp_dir(label: &str) -> PathBuf {
    remove_stale_temp_dirs();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::SeqCst);
    let label: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(60)
        .collect();
    let dir = std::env::temp_dir().join(format!("bgwt-{}-{n}-{label}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .expect("create temp dir");
    dir
}

/// Removes `bgwt-<pid>-…` directories left by test processes that no longer exist.
fn remove_stale_temp_dirs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix("bgwt-") else {
                continue;
            };
            let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    });
}

fn module_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| fresh_temp_dir("modules"))
}

fn run_cc(args: &[String], what: &str) {
    let out = Command::new("cc")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run cc for {what}: {e}"));
    assert!(
        out.status.success(),
        "compiling {what} failed:\ncc {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The unprivileged user that tests run PostgreSQL and "another user" checks as, when root.
pub const TEST_USER: &str = "bgwtest";

/// (uid, gid) of `TEST_USER` (created if missing) when the tests run as root; None otherwise.
pub fn unprivileged_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let lookup = || {
        let out = Command::new("id").args(["-u", TEST_USER]).output().ok()?;
        let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        let out = Command::new("id").args(["-g", TEST_USER]).output().ok()?;
        let gid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        Some((uid, gid))
    };
    if let Some(ids) = lookup() {
        return Some(ids);
    }
    let status = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            TEST_USER,
        ])
        .status()
        .expect("useradd");
    assert!(
        status.success() || lookup().is_some(),
        "could not create user {TEST_USER}"
    );
    Some(lookup().expect("uid and gid of the user just created"))
}

/// Runs `bgworkerctl -D datadir args...` and returns what it did.
pub fn bgworkerctl(datadir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bgworkerctl"));
    with_fresh_library(&mut cmd);
    cmd.arg("-D")
        .arg(datadir)
        .args(args)
        .output()
        .expect("run bgworkerctl")
}

/// `bgworkerctl status --json` of a running cluster, parsed; panics unless it succeeds.
pub fn status_json(c: &Cluster) -> serde_json::Value {
    let o = bgworkerctl(&c.datadir, &["status", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "bgworkerctl status --json failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("status --json prints valid JSON")
}

/// Compiles `c_tests/modules/<name>.c` into `<module dir>/<name>.so` once per test process.
pub fn build_module(name: &str) -> PathBuf {
    build_once(name, true)
}

/// Compiles `c_tests/modules/<name>.c` into an executable linked with -lbgworker, once per process.
pub fn build_program(name: &str) -> PathBuf {
    build_once(name, false)
}

/// The C test source `name` built against include/ and -lbgworker: a module (`<name>.so`) or a
/// program (`<name>`, which finds the library through its rpath); each once per test process.
fn build_once(name: &str, module: bool) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, bool), PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(&(name.to_string(), module)) {
        return p.clone();
    }
    let out = if module {
        module_dir().join(format!("{name}.so"))
    } else {
        module_dir().join(name)
    };
    let mut args: Vec<String> = vec![
        "-std=c11".into(),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
    ];
    if module {
        args.extend(["-fPIC".into(), "-shared".into()]);
    }
    args.extend([
        format!("-I{}", include_dir().display()),
        "-o".into(),
        out.display().to_string(),
        module_source(name).display().to_string(),
        format!("-L{}", lib_dir().display()),
        "-lbgworker".into(),
    ]);
    if !module {
        args.push(format!("-Wl,-rpath,{}", lib_dir().display()));
    }
    let what = if module { "module" } else { "program" };
    run_cc(&args, &format!("{what} {name}"));
    built.insert((name.to_string(), module), out.clone());
    out
}

/// The directory the modules are built into (use as `dynamic_library_path`).
pub fn modules_path() -> PathBuf {
    module_dir().clone()
}

// ---------------------------------------------------------------------------------------------
// Worker definitions for the probe module
// ---------------------------------------------------------------------------------------------

/// One static worker registered by the `probe` module's `_PG_init` (see c_tests/modules/probe.c).
#[derive(Clone, Debug)]
pub struct Worker {
    pub name: String,
    pub type_: String,
    pub flags: i32,
    pub start: i32,
    pub restart: i32,
    pub lib: String,
    pub func: String,
    pub mode: String,
    pub arg: i32,
    pub notify: String,
}

impl Worker {
    /// A shared-memory worker that starts at postmaster start, restart 60 s, sleeping on its latch.
    pub fn new(name: &str) -> Worker {
        Worker {
            name: name.to_string(),
            type_: String::new(),
            flags: BGWORKER_SHMEM_ACCESS,
            start: START_POSTMASTER,
            restart: 60,
            lib: "probe".into(),
            func: "probe_main".into(),
            mode: "idle".into(),
            arg: 0,
            notify: "0".into(),
        }
    }
    pub fn type_(mut self, t: &str) -> Self {
        self.type_ = t.into();
        self
    }
    pub fn flags(mut self, f: i32) -> Self {
        self.flags = f;
        self
    }
    pub fn start(mut self, s: i32) -> Self {
        self.start = s;
        self
    }
    pub fn restart(mut self, r: i32) -> Self {
        self.restart = r;
        self
    }
    pub fn lib(mut self, l: &str) -> Self {
        self.lib = l.into();
        self
    }
    pub fn func(mut self, f: &str) -> Self {
        self.func = f.into();
        self
    }
    pub fn mode(mut self, m: &str) -> Self {
        self.mode = m.into();
        self
    }
    pub fn arg(mut self, a: i32) -> Self {
        self.arg = a;
        self
    }
    pub fn notify(mut self, n: &str) -> Self {
        self.notify = n.into();
        self
    }
    pub fn spec(&self) -> String {
        format!(
            "name={},type={},flags={},start={},restart={},lib={},func={},mode={},arg={},notify={}",
            self.name,
            self.type_,
            self.flags,
            self.start,
            self.restart,
            self.lib,
            self.func,
            self.mode,
            self.arg,
            self.notify
        )
    }
}

/// The line every probe worker logs first.
pub fn started(name: &str) -> String {
    format!("probe \"{name}\" started pid=")
}

// ---------------------------------------------------------------------------------------------
// Setup and the running supervisor
// ---------------------------------------------------------------------------------------------

/// What to run: program, settings file, -c options, workers, environment.
pub struct Setup {
    program: Option<PathBuf>,
    datadir: Option<PathBuf>,
    workers: Vec<Worker>,
    preload: Option<Vec<String>>,
    conf_lines: Vec<String>,
    raw_conf: Option<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    ready_line: String,
    bare: bool,
    nofile: Option<(u64, u64)>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup::new()
    }
}

impl Setup {
    pub fn new() -> Setup {
        Setup {
            program: None,
            datadir: None,
            workers: Vec::new(),
            preload: None,
            conf_lines: Vec::new(),
            raw_conf: None,
            args: Vec::new(),
            env: Vec::new(),
            ready_line: "supervisor state: running".into(),
            bare: false,
            nofile: None,
        }
    }
    /// Do not create DATADIR nor write bgworker.conf: the supervisor finds nothing there.
    pub fn bare_datadir(mut self) -> Self {
        self.bare = true;
        self
    }
    /// Adds a probe worker (and preloads `probe`).
    pub fn worker(mut self, w: Worker) -> Self {
        self.workers.push(w);
        self
    }
    pub fn workers(mut self, ws: &[Worker]) -> Self {
        self.workers.extend_from_slice(ws);
        self
    }
    /// Sets `shared_preload_libraries` explicitly (modules are built first).
    pub fn preload(mut self, libs: &[&str]) -> Self {
        self.preload = Some(libs.iter().map(|s| s.to_string()).collect());
        self
    }
    /// One more line of bgworker.conf.
    pub fn conf(mut self, line: &str) -> Self {
        self.conf_lines.push(line.into());
        self
    }
    /// The whole of bgworker.conf, verbatim (nothing added).
    pub fn raw_conf(mut self, text: &str) -> Self {
        self.raw_conf = Some(text.into());
        self
    }
    /// `-c name=value` on the command line.
    pub fn c(mut self, setting: &str) -> Self {
        self.args.push("-c".into());
        self.args.push(setting.into());
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    /// Run another program than bgworkerd (an embedding host), with the same arguments.
    pub fn program(mut self, p: PathBuf) -> Self {
        self.program = Some(p);
        self
    }
    /// Use this DATADIR instead of a fresh one (it is not removed afterwards).
    pub fn datadir(mut self, d: &Path) -> Self {
        self.datadir = Some(d.to_path_buf());
        self
    }
    /// Starts the supervisor with this soft and hard `RLIMIT_NOFILE`.
    pub fn nofile(mut self, soft: u64, hard: u64) -> Self {
        self.nofile = Some((soft, hard));
        self
    }
    /// The log line `start()` waits for.
    pub fn ready_line(mut self, l: &str) -> Self {
        self.ready_line = l.into();
        self
    }

    fn preload_list(&self) -> Vec<String> {
        match &self.preload {
            Some(p) => p.clone(),
            None if !self.workers.is_empty() => vec!["probe".into()],
            None => Vec::new(),
        }
    }

    /// Spawns the supervisor without waiting for anything.
    pub fn spawn(self) -> Cluster {
        let test = thread::current().name().unwrap_or("test").to_string();
        let (datadir, own_datadir) = match &self.datadir {
            Some(d) => (d.clone(), false),
            None => (fresh_temp_dir(&test).join("data"), true),
        };
        let state_dir = datadir.with_file_name(format!(
            "{}-state",
            datadir.file_name().unwrap().to_string_lossy()
        ));
        if !self.bare {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&datadir)
                .expect("create DATADIR");
            fs::set_permissions(&datadir, fs::Permissions::from_mode(0o700))
                .expect("chmod DATADIR");
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&state_dir)
            .expect("create state dir");

        // Build what will be loaded.
        build_module("probe");
        for lib in self.preload_list() {
            if module_source(&lib).exists() {
                build_module(&lib);
            }
        }

        let conf = match &self.raw_conf {
            Some(raw) => raw.clone(),
            None => {
                let mut conf = String::new();
                writeln!(conf, "# written by the scenario tests").unwrap();
                writeln!(
                    conf,
                    "dynamic_library_path = '{}'",
                    modules_path().display()
                )
                .unwrap();
                writeln!(
                    conf,
                    "shared_preload_libraries = '{}'",
                    self.preload_list().join(",")
                )
                .unwrap();
                writeln!(conf, "log_min_messages = debug1").unwrap();
                for l in &self.conf_lines {
                    writeln!(conf, "{l}").unwrap();
                }
                conf
            }
        };
        if !self.bare {
            fs::write(datadir.join("bgworker.conf"), &conf).expect("write bgworker.conf");
        }

        let program = self.program.clone().unwrap_or_else(bgworkerd);
        let specs: Vec<String> = self.workers.iter().map(Worker::spec).collect();
        let mut cmd = Command::new(&program);
        with_fresh_library(&mut cmd);
        cmd.arg("-D").arg(&datadir).args(&self.args);
        cmd.env_remove("PROBE_WORKERS");
        cmd.env("PROBE_WORKERS", specs.join(";"));
        cmd.env("PROBE_STATE_DIR", &state_dir);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((soft, hard)) = self.nofile {
            let lim = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            // SAFETY: setrlimit is async-signal-safe and only reads our copy of `lim`.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let pid = child.id() as i32;

        let log = Arc::new(Mutex::new(Vec::<String>::new()));
        let stderr = child.stderr.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        spawn_reader(stderr, log.clone(), "");
        spawn_reader(stdout, log.clone(), "[stdout] ");

        Cluster {
            datadir,
            own_datadir,
            state_dir,
            program,
            ready_line: self.ready_line,
            child: Some(child),
            pid,
            log,
            seen: Mutex::new(HashMap::new()),
            status: None,
        }
    }

    /// Spawns the supervisor and waits (bounded) until it logs that it is running.
    pub fn start(self) -> Cluster {
        let c = self.spawn();
        let ready = c.ready_line.clone();
        c.wait_for_log(&ready, PROMPT);
        c
    }
}

fn spawn_reader<R: Read + Send + 'static>(
    r: R,
    log: Arc<Mutex<Vec<String>>>,
    prefix: &'static str,
) {
    thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf)
                        .trim_end_matches(['\n', '\r'])
                        .to_string();
                    log.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{prefix}{line}"));
                }
            }
        }
    });
}

/// A running (or finished) supervisor process and everything the test learnt about it.
pub struct Cluster {
    pub datadir: PathBuf,
    own_datadir: bool,
    pub state_dir: PathBuf,
    pub program: PathBuf,
    ready_line: String,
    child: Option<Child>,
    /// The supervisor's pid.
    pub pid: i32,
    log: Arc<Mutex<Vec<String>>>,
    /// Every worker process seen (pid → start time), killed on drop if still alive.
    seen: Mutex<HashMap<i32, u64>>,
    status: Option<ExitStatus>,
}

impl Cluster {
    // ----- log -----

    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn log_text(&self) -> String {
        self.log_lines().join("\n")
    }

    /// Number of log lines so far (a position for `*_since`).
    pub fn log_len(&self) -> usize {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn count_log(&self, pattern: &str) -> usize {
        self.log_lines()
            .iter()
            .filter(|l| l.contains(pattern))
            .count()
    }

    /// Lines containing every one of `parts`.
    pub fn lines_with(&self, parts: &[&str]) -> Vec<String> {
        self.log_lines()
            .into_iter()
            .filter(|l| parts.iter().all(|p| l.contains(p)))
            .collect()
    }

    /// Index of the first line containing `pattern`.
    pub fn log_index(&self, pattern: &str) -> Option<usize> {
        self.log_lines().iter().position(|l| l.contains(pattern))
    }

    /// Waits until a line containing `pattern` appears; returns it. Panics after `timeout`.
    pub fn wait_for_log(&self, pattern: &str, timeout: Duration) -> String {
        self.wait_for_log_since(0, pattern, timeout)
    }

    /// Like `wait_for_log` but only looks at lines from position `from` on.
    pub fn wait_for_log_since(&self, from: usize, pattern: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(l) = log.iter().skip(from).find(|l| l.contains(pattern)) {
                    return l.clone();
                }
            }
            if Instant::now() >= deadline {
                panic!("no log line containing {pattern:?} within {timeout:?}");
            }
            thread::sleep(POLL);
        }
    }

    /// Like `wait_for_log_since`, from the first line containing `marker` (which must be there
    /// already): e.g. a worker's start after "all server processes terminated; reinitializing".
    pub fn wait_for_log_after(&self, marker: &str, pattern: &str, timeout: Duration) -> String {
        let from = self
            .log_index(marker)
            .unwrap_or_else(|| panic!("no log line containing {marker:?}"));
        self.wait_for_log_since(from, pattern, timeout)
    }

    /// Waits until at least `n` lines contain `pattern`; returns them all.
    pub fn wait_for_log_count(&self, pattern: &str, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<String> = self
                .log_lines()
                .into_iter()
                .filter(|l| l.contains(pattern))
                .collect();
            if found.len() >= n {
                return found;
            }
            if Instant::now() >= deadline {
                panic!(
                    "expected {n} log lines containing {pattern:?} within {timeout:?}, saw {}",
                    found.len()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Waits for the probe worker `name` to log its start line (the `nth`, counting from 1) and
    /// returns the pid it reported.
    pub fn wait_started(&self, name: &str, nth: usize) -> i32 {
        let lines = self.wait_for_log_count(&started(name), nth, PROMPT);
        let pid = field_i32(&lines[nth - 1], "pid=").expect("pid in start line");
        self.remember(pid);
        pid
    }

    /// How many times the probe worker `name` has started so far.
    pub fn starts(&self, name: &str) -> usize {
        self.count_log(&started(name))
    }

    // ----- processes -----

    /// Live children of the supervisor (not zombies) with their command lines.
    /// (The spare child the supervisor keeps ready and the logging collector are not workers
    /// and are left out; they are remembered all the same, so they are killed if a test leaves
    /// them behind.)
    pub fn worker_processes(&self) -> Vec<(i32, String)> {
        let mut out = Vec::new();
        for (pid, stat) in all_processes() {
            if stat.ppid == self.pid && stat.state != 'Z' {
                let cmd = cmdline(pid).unwrap_or_default();
                self.remember(pid);
                // Nor is the logging collector (`bgworker: [cluster: ]logger`).
                if !cmd.starts_with("bgworker: spare")
                    && cmd != "bgworker: logger"
                    && !(cmd.starts_with("bgworker: ") && cmd.ends_with(": logger"))
                {
                    out.push((pid, cmd));
                }
            }
        }
        out.sort();
        out
    }

    pub fn worker_pids(&self) -> Vec<i32> {
        self.worker_processes()
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    /// Waits until a child of the supervisor has the title of worker `name`; returns its pid.
    pub fn wait_for_worker_process(&self, name: &str, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((pid, _)) = self
                .worker_processes()
                .into_iter()
                .find(|(_, cmd)| title_names(cmd, name))
            {
                return pid;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no worker process titled for {name:?} within {timeout:?}; children: {:?}",
                    self.worker_processes()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Records a process (e.g. a worker's own child) to be killed on drop if still alive.
    pub fn track(&self, pid: i32) {
        self.remember(pid);
    }

    fn remember(&self, pid: i32) {
        if let Some(st) = proc_stat(pid) {
            self.seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(pid)
                .or_insert(st.starttime);
        }
    }

    /// Every worker pid seen so far.
    pub fn seen_pids(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect();
        v.sort();
        v
    }

    /// Seen worker processes that are still alive (same pid and start time, not a zombie).
    pub fn live_seen_pids(&self) -> Vec<i32> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut v: Vec<i32> = seen
            .into_iter()
            .filter(|(pid, st)| same_process_alive(*pid, *st))
            .map(|(p, _)| p)
            .collect();
        v.sort();
        v
    }

    pub fn signal(&self, sig: i32) {
        send_signal(self.pid, sig);
    }

    // ----- exit -----

    /// Whether the supervisor has exited (reaps it if so).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(st)) = child.try_wait() {
                    self.status = Some(st);
                }
            }
        }
        self.status
    }

    /// Waits (bounded) for the supervisor to exit and returns its status. Panics on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.exited() {
                // Give the reader threads a moment to drain the last lines (bounded).
                self.wait_log_quiet();
                return st;
            }
            if Instant::now() >= deadline {
                panic!(
                    "supervisor (PID {}) did not exit within {timeout:?}",
                    self.pid
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until no new log line has arrived for 50 ms (at most 1 s).
    fn wait_log_quiet(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut last = self.log_len();
        let mut still_since = Instant::now();
        while Instant::now() < deadline {
            thread::sleep(POLL);
            let now = self.log_len();
            if now != last {
                last = now;
                still_since = Instant::now();
            } else if still_since.elapsed() >= Duration::from_millis(50) {
                return;
            }
        }
    }

    pub fn pidfile(&self) -> PathBuf {
        self.datadir.join("postmaster.pid")
    }

    /// Waits until the supervisor's children include no live process at all (bounded).
    pub fn wait_no_workers(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let live = self.live_seen_pids();
            let kids = self.worker_pids();
            if live.is_empty() && kids.is_empty() {
                return;
            }
            if Instant::now() >= deadline {
                panic!("worker processes still alive after {timeout:?}: seen {live:?}, children {kids:?}");
            }
            thread::sleep(POLL);
        }
    }

    /// Prints the whole log (used when a test fails).
    pub fn dump_log(&self) {
        eprintln!(
            "===== log of {} (PID {}) in {} =====",
            self.program.display(),
            self.pid,
            self.datadir.display()
        );
        for l in self.log_lines() {
            eprintln!("{l}");
        }
        eprintln!("===== end of log =====");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let failing = thread::panicking();
        // Everything that may still be running: known workers plus the current children.
        if self.exited().is_none() {
            let _ = self.worker_processes();
            send_signal(self.pid, libc::SIGQUIT);
            let deadline = Instant::now() + Duration::from_secs(3);
            while self.exited().is_none() && Instant::now() < deadline {
                thread::sleep(POLL);
            }
            if self.exited().is_none() {
                let _ = self.worker_processes();
                send_signal(self.pid, libc::SIGKILL);
                if let Some(child) = self.child.as_mut() {
                    let _ = child.wait();
                }
            }
        }
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for (pid, st) in seen {
            if same_process_alive(pid, st) {
                send_signal(pid, libc::SIGKILL);
            }
        }
        if failing {
            self.wait_log_quiet();
            self.dump_log();
        } else if self.own_datadir {
            if let Some(parent) = self.datadir.parent() {
                let _ = fs::remove_dir_all(parent);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// /proc helpers
// ---------------------------------------------------------------------------------------------

pub struct ProcStat {
    pub state: char,
    pub ppid: i32,
    pub starttime: u64,
}

/// Fields of /proc/PID/stat we need.
pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // after ")": state(0) ppid(1) pgrp(2) session(3) tty(4) tpgid(5) flags(6) minflt(7) cminflt(8)
    // majflt(9) cmajflt(10) utime(11) stime(12) cutime(13) cstime(14) priority(15) nice(16)
    // num_threads(17) itrealvalue(18) starttime(19)
    Some(ProcStat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        starttime: f.get(19)?.parse().ok()?,
    })
}

/// The supervisor's spare child (`bgworker: spare`), if one is waiting.
pub fn spare_pid(c: &Cluster) -> Option<i32> {
    all_processes()
        .into_iter()
        .filter(|(_, st)| st.ppid == c.pid && st.state != 'Z')
        .map(|(pid, _)| pid)
        .find(|&pid| cmdline(pid).is_some_and(|cmd| cmd.starts_with("bgworker: spare")))
}

/// Waits for a spare child other than `not`; returns its pid.
pub fn wait_spare(c: &Cluster, not: Option<i32>) -> i32 {
    let mut found = None;
    wait_until("a spare child is ready", PROMPT, || {
        found = spare_pid(c).filter(|p| Some(*p) != not);
        found.is_some()
    });
    found.unwrap()
}

pub fn all_processes() -> Vec<(i32, ProcStat)> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for e in entries.flatten() {
            if let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() {
                if let Some(st) = proc_stat(pid) {
                    out.push((pid, st));
                }
            }
        }
    }
    out
}

/// /proc/PID/cmdline with NULs as spaces, trimmed.
pub fn cmdline(pid: i32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let s: String = String::from_utf8_lossy(&raw).replace('\0', " ");
    Some(s.trim().to_string())
}

/// Whether a worker title (`bgworker: [cluster: ]name`) is for worker `name`.
pub fn title_names(cmd: &str, name: &str) -> bool {
    cmd.starts_with("bgworker: ")
        && (cmd == format!("bgworker: {name}") || cmd.ends_with(&format!(": {name}")))
}

/// Alive = exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    matches!(proc_stat(pid), Some(st) if st.state != 'Z' && st.state != 'X')
}

fn same_process_alive(pid: i32, starttime: u64) -> bool {
    matches!(proc_stat(pid), Some(st) if st.starttime == starttime && st.state != 'Z' && st.state != 'X')
}

pub fn send_signal(pid: i32, sig: i32) {
    if pid > 0 {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Polls `cond` every 10 ms until it holds; panics with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------------------------------------
// Log-line helpers
// ---------------------------------------------------------------------------------------------

/// The integer after `key` in `line` (e.g. `pid=`).
pub fn field_i32(line: &str, key: &str) -> Option<i32> {
    let at = line.find(key)? + key.len();
    let digits: String = line[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

/// The text after `key` up to the next space.
pub fn field_str<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(key)? + key.len();
    Some(line[at..].split_whitespace().next().unwrap_or(""))
}

/// Milliseconds since the epoch of a log line's `YYYY-MM-DD HH:MM:SS.mmm` prefix.
pub fn log_time_ms(line: &str) -> i64 {
    let parse = || -> Option<i64> {
        let b = line.get(0..23)?;
        let y: i64 = b.get(0..4)?.parse().ok()?;
        let mo: i64 = b.get(5..7)?.parse().ok()?;
        let d: i64 = b.get(8..10)?.parse().ok()?;
        let h: i64 = b.get(11..13)?.parse().ok()?;
        let mi: i64 = b.get(14..16)?.parse().ok()?;
        let s: i64 = b.get(17..19)?.parse().ok()?;
        let ms: i64 = b.get(20..23)?.parse().ok()?;
        // days from civil (Howard Hinnant's algorithm)
        let y2 = if mo <= 2 { y - 1 } else { y };
        let era = if y2 >= 0 { y2 } else { y2 - 399 } / 400;
        let yoe = y2 - era * 400;
        let mp = (mo + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146097 + doe - 719468;
        Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
    };
    parse().unwrap_or_else(|| panic!("log line without a timestamp: {line:?}"))
}

/// The pid in a log line's `[pid]` prefix.
pub fn log_pid(line: &str) -> Option<i32> {
    let open = line.find(" [")? + 2;
    let close = line[open..].find(']')? + open;
    line[open..close].parse().ok()
}

/// The process word after `[pid]` (`postmaster` or the worker's bgw_type — may contain spaces,
/// so this returns everything up to the level).
pub fn log_source(line: &str) -> Option<String> {
    let close = line.find("] ")? + 2;
    let rest = &line[close..];
    for lvl in [
        "DEBUG", "LOG:", "INFO:", "NOTICE:", "WARNING:", "ERROR:", "FATAL:", "PANIC:", "DETAIL:",
        "HINT:",
    ] {
        if let Some(i) = rest.find(&format!(" {lvl}")) {
            return Some(rest[..i].to_string());
        }
    }
    None
}

/// `background worker "T" (PID n) exited with exit code N` lines for type `t`.
pub fn exit_lines(c: &Cluster, t: &str, code: i32) -> Vec<String> {
    c.lines_with(&[
        &format!("background worker \"{t}\" (PID "),
        &format!(") exited with exit code {code}"),
    ])
}

/// Sleeps for `d` to prove that something does NOT happen within that window.
pub fn observe_window(d: Duration) {
    thread::sleep(d);
}

pub fn exit_code(st: &ExitStatus) -> Option<i32> {
    st.code()
}

pub fn set_of(v: &[i32]) -> HashSet<i32> {
    v.iter().copied().collect()
}

// ---------------------------------------------------------------------------------------------
// Dynamic workers: the dyn_probe module (c_tests/modules/dyn_probe.c, scripts in dyn_script.h)
// ---------------------------------------------------------------------------------------------

/// A supervisor preloading `dyn_probe`, whose static worker "driver" (type "dyn driver") runs
/// `script` (commands separated by ';', see c_tests/modules/dyn_script.h) and then idles.
pub fn dyn_driver(script: &str) -> Setup {
    Setup::new()
        .preload(&["dyn_probe"])
        .env("DYN_DRIVER_SCRIPT", script)
}

/// The line every dyn_probe worker logs first (its name as read from `MyBgworkerEntry`).
pub fn dyn_started(name: &str) -> String {
    format!("dyn worker \"{name}\" started pid=")
}

/// Waits for the script result line containing `dyn: <what>`; returns the text from `dyn: ` on.
pub fn dyn_result(c: &Cluster, what: &str) -> String {
    let line = c.wait_for_log(&format!("dyn: {what}"), PROMPT);
    line[line.find("dyn: ").expect("dyn: in line")..].to_string()
}

/// Every script result line so far containing `dyn: <what>` (text from `dyn: ` on).
pub fn dyn_results(c: &Cluster, what: &str) -> Vec<String> {
    let pat = format!("dyn: {what}");
    c.log_lines()
        .into_iter()
        .filter(|l| l.contains(&pat))
        .map(|l| l[l.find("dyn: ").unwrap()..].to_string())
        .collect()
}

/// The `status=` word of a result line.
pub fn status_of(line: &str) -> &str {
    field_str(line, "status=").unwrap_or_else(|| panic!("no status= in {line:?}"))
}

/// The pid a dyn_probe worker `name` reported in its start line (the `nth`, from 1); remembered
/// so it is killed when the test ends.
pub fn dyn_wait_started(c: &Cluster, name: &str, nth: usize) -> i32 {
    let lines = c.wait_for_log_count(&dyn_started(name), nth, PROMPT);
    let pid = field_i32(&lines[nth - 1], "pid=").expect("pid in start line");
    c.track(pid);
    pid
}

/// Milliseconds since the epoch, now (comparable with a script's `at=`).
pub fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}
// Modules built with PGXS against PostgreSQL 15's own headers
// ---------------------------------------------------------------------------------------------

/// Builds `c_tests/modules/<name>.c` the way a PostgreSQL extension is built — a PGXS Makefile,
/// PostgreSQL 15's headers and compiler flags, no link against libbgworker — and returns the
/// directory holding `<name>.so` (use it as `dynamic_library_path`). Once per test process.
pub fn build_module_pgxs(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let dir = fresh_temp_dir(&format!("pgxs-{name}"));
    std::fs::copy(module_source(name), dir.join(format!("{name}.c"))).expect("copy module source");
    std::fs::write(
        dir.join("Makefile"),
        format!(
            "MODULES = {name}\nPG_CONFIG = pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n"
        ),
    )
    .expect("write Makefile");
    let out = Command::new("make")
        .arg("-s")
        .current_dir(&dir)
        .output()
        .expect("run make (PGXS)");
    assert!(
        out.status.success(),
        "PGXS build of {name} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join(format!("{name}.so")).exists());
    built.insert(name.to_string(), dir.clone());
    dir
}

/// PostgreSQL 15's source tree as the machine obtains it (`.ci/pg-source.sh`, which fetches and
/// unpacks it once), asked once per test process.
pub fn postgresql_source() -> PathBuf {
    static TREE: OnceLock<PathBuf> = OnceLock::new();
    TREE.get_or_init(|| {
        let out = Command::new(repo_dir().join(".ci/pg-source.sh"))
            .output()
            .expect("run .ci/pg-source.sh");
        assert!(
            out.status.success(),
            ".ci/pg-source.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

/// Builds PostgreSQL's own `src/test/modules/<name>`, unchanged, with PGXS in a copy under a
/// temporary directory; returns the directory holding `<name>.so`. Once per test process.
pub fn build_postgresql_module(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let src = postgresql_source().join("src/test/modules").join(name);
    assert!(src.is_dir(), "{} is not in the source tree", src.display());
    let dir = fresh_temp_dir(&format!("pgmod-{name}")).join(name);
    let cp = Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(&dir)
        .status()
        .expect("cp -r");
    assert!(cp.success(), "copying {} failed", src.display());
    let out = Command::new("make")
        .args(["-s", "USE_PGXS=1"])
        .current_dir(&dir)
        .output()
        .expect("run make (PGXS)");
    assert!(
        out.status.success(),
        "PGXS build of PostgreSQL's {name} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join(format!("{name}.so")).exists());
    built.insert(name.to_string(), dir.clone());
    dir
}

/// Which headers a module was built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Headers {
    /// Our include/, linked with -lbgworker.
    Ours,
    /// PostgreSQL 15's, with PGXS.
    Postgres,
}

impl Setup {
    /// Preloads `name` built against the given headers.
    pub fn module_built_with(self, name: &str, headers: Headers) -> Setup {
        match headers {
            Headers::Ours => self.preload(&[name]),
            Headers::Postgres => {
                let dir = build_module_pgxs(name);
                self.preload(&[name])
                    .c(&format!("dynamic_library_path={}", dir.display()))
            }
        }
    }
}

pub mod pg;

// ---------------------------------------------------------------------------------------------
// Probe modules built as plain programs, checked under valgrind
// ---------------------------------------------------------------------------------------------

/// Builds `c_tests/modules/<name>.c` as a plain program (with `-D<define>`, the module's own
/// switch for that) linked with the library, runs it natively, then under valgrind (skipped with
/// a message when valgrind is missing): it must print "<name> program ok", exit 0, and valgrind
/// must report no error and no definite or indirect leak.
pub fn run_probe_program_under_valgrind(name: &str, define: &str) {
    let out = fresh_temp_dir(&format!("{name}-program")).join(name);
    let status = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg(format!("-D{define}"))
        .arg(format!("-I{}", include_dir().display()))
        .arg("-o")
        .arg(&out)
        .arg(module_source(name))
        .arg(format!("-L{}", lib_dir().display()))
        .arg("-lbgworker")
        .arg(format!("-Wl,-rpath,{}", lib_dir().display()))
        .status()
        .expect("run cc");
    assert!(status.success(), "building the {name} program failed");
    let ok_line = format!("{name} program ok");

    // Without valgrind the checks still run, natively.
    let plain = with_fresh_library(&mut Command::new(&out))
        .output()
        .expect("run the probe program");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(plain.status.success(), "{stderr}");
    assert!(stderr.contains(&ok_line), "{stderr}");

    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("SKIPPED: valgrind is not installed; the {name} program ran without it");
        return;
    }
    let vg = with_fresh_library(&mut Command::new("valgrind"))
        .args([
            "--quiet",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=99",
        ])
        .arg(&out)
        .output()
        .expect("run valgrind");
    let stderr = String::from_utf8_lossy(&vg.stderr);
    assert_eq!(
        vg.status.code(),
        Some(0),
        "valgrind reported errors or leaks:\n{stderr}"
    );
    assert!(stderr.contains(&ok_line), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Dynamic shared memory: the supervisor's memfd
// ---------------------------------------------------------------------------------------------

/// The path under /proc of the supervisor's DSM memory (its memfd "bgworker.dsm"), if it has one.
pub fn dsm_memfd(c: &Cluster) -> Option<PathBuf> {
    let dir = PathBuf::from(format!("/proc/{}/fd", c.pid));
    fs::read_dir(&dir).ok()?.flatten().find_map(|e| {
        let target = fs::read_link(e.path()).ok()?;
        target
            .to_string_lossy()
            .starts_with("/memfd:bgworker.dsm")
            .then(|| e.path())
    })
}

/// Bytes of memory the supervisor's DSM memfd holds now (pages of live segments).
pub fn dsm_bytes_in_use(c: &Cluster) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let path = dsm_memfd(c).expect("the supervisor holds its DSM memfd");
    fs::metadata(path).expect("stat the memfd").blocks() * 512
}

/// Waits (bounded) until no DSM segment holds memory any more.
pub fn wait_dsm_released(c: &Cluster) {
    let mut last = 0;
    wait_until("every DSM segment's memory is given back", PROMPT, || {
        last = dsm_bytes_in_use(c);
        last == 0
    });
}

/// Processes that map a DSM memfd ("/memfd:bgworker.dsm" in their maps), with how many
/// mappings each has.
pub fn dsm_mappings() -> Vec<(i32, usize)> {
    let mut out = Vec::new();
    for (pid, _) in all_processes() {
        if let Ok(maps) = fs::read_to_string(format!("/proc/{pid}/maps")) {
            let n = maps
                .lines()
                .filter(|l| l.contains("/memfd:bgworker.dsm"))
                .count();
            if n > 0 {
                out.push((pid, n));
            }
        }
    }
    out
}
