//! The supervisor's side of the logging collector (`logging_collector = on`): the pipe every
//! process's stdout and stderr point to, the collector child that reads it (not a worker: in no
//! worker count, restarted when it dies, stopped last), log rotation requests, and the ordering
//! at shutdown. The supervisor never reads the pipe and writes it without waiting (rule 8): a
//! dead or stalled collector costs counted lines, never a stall.

use super::pidfile::StartupError;
use crate::elog;
use crate::guc::Settings;
use crate::log::{collector, files};
use crate::pg::types::*;
use crate::registry::ExitKind;
use libc::pid_t;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A collector is not started again sooner than this after the last start, so one that cannot
/// open its files does not make a fork storm.
const RESTART_INTERVAL: Duration = Duration::from_secs(1);
/// How long the supervisor waits, at its very end, for the collector to write the last lines,
/// and how long it lets the collector make no progress in the meantime.
const FINAL_WAIT: Duration = Duration::from_secs(5);
const STALLED: Duration = Duration::from_millis(500);

pub struct Collector {
    /// The collector child, while one runs.
    pid: Option<pid_t>,
    /// The pipe's read end, kept so a restarted collector reads the same pipe (-1: no collector).
    read_fd: RawFd,
    /// The supervisor's stderr as it was before the redirection.
    original_stderr: RawFd,
    datadir: PathBuf,
    cluster_name: String,
    last_start: Option<Instant>,
    restart_due: Option<Instant>,
}

fn os_error(what: &str) -> StartupError {
    StartupError::new(format!("{what}: {}", std::io::Error::last_os_error()))
}

impl Collector {
    /// No collector (`logging_collector = off`).
    pub fn off() -> Collector {
        Collector {
            pid: None,
            read_fd: -1,
            original_stderr: -1,
            datadir: PathBuf::new(),
            cluster_name: String::new(),
            last_start: None,
            restart_due: None,
        }
    }

    /// At start-up: forgets a stale rotation request; with `logging_collector` on, makes the
    /// pipe, checks that the first log files can be opened (a start-up error otherwise, as in
    /// PostgreSQL), starts the collector and points the supervisor's stdout and stderr at the
    /// pipe (inherited by every process it starts). With it off, `current_logfiles` goes.
    pub fn start(datadir: &Path, settings: &Settings) -> Result<Collector, StartupError> {
        let _ = std::fs::remove_file(datadir.join(files::LOGROTATE_SIGNAL_FILE));
        let l = &settings.logging;
        if !l.logging_collector {
            let _ = std::fs::remove_file(datadir.join(files::CURRENT_LOGFILES));
            return Ok(Collector::off());
        }
        let mut c = Collector {
            datadir: datadir.to_path_buf(),
            cluster_name: settings.cluster_name.clone(),
            ..Collector::off()
        };
        files::make_directory(datadir, &l.log_directory).map_err(|e| {
            StartupError::new(format!(
                "could not create directory \"{}\": {e}",
                l.log_directory
            ))
        })?;
        let first_time = now();
        let zone = &crate::log::config::current().zone;
        for &(bit, _, suffix) in &files::FORMATS {
            if bit != crate::log::config::DEST_STDERR && l.destinations & bit == 0 {
                continue;
            }
            let name =
                files::file_name(&l.log_directory, &l.log_filename, zone, first_time, suffix);
            files::open(&files::resolve(datadir, &name), l.log_file_mode, false).map_err(|e| {
                StartupError::new(format!("could not open log file \"{name}\": {e}"))
            })?;
        }
        let mut pipe = [-1; 2];
        // SAFETY: pipe2 fills the two-element array.
        if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(os_error("could not create pipe for syslog"));
        }
        elog::grow_pipe(pipe[1]);
        c.read_fd = pipe[0];
        // SAFETY: duplicating our stderr to a new descriptor we own (above 2).
        c.original_stderr = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3) };
        c.fork(first_time);
        if c.pid.is_none() {
            // SAFETY: closing the descriptors just made.
            unsafe {
                libc::close(pipe[0]);
                libc::close(pipe[1]);
                libc::close(c.original_stderr);
            }
            return Err(os_error("could not fork system logger"));
        }
        elog::log_with(
            LOG,
            "redirecting log output to logging collector process",
            None,
            Some(&format!(
                "Future log output will appear in directory \"{}\".",
                l.log_directory
            )),
        );
        // SAFETY: pointing our stdout and stderr at the pipe's write end (whose file description
        // is non-blocking for every writer), then closing the spare copy.
        unsafe {
            libc::dup2(pipe[1], 1);
            libc::dup2(pipe[1], 2);
            libc::close(pipe[1]);
        }
        elog::set_redirected(true);
        Ok(c)
    }

    /// Forks a collector; its pid, or none when the fork failed.
    fn fork(&mut self, first_time: i64) {
        self.last_start = Some(Instant::now());
        self.restart_due = None;
        // SAFETY: the supervisor is single-threaded and holds no lock here.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            collector::run(collector::Start {
                pipe: self.read_fd,
                fallback: self.original_stderr,
                datadir: self.datadir.clone(),
                first_time,
                keep: vec![self.original_stderr],
                cluster_name: self.cluster_name.clone(),
            });
        }
        self.pid = (pid > 0).then_some(pid);
        if pid < 0 {
            elog::log(
                LOG,
                format_args!(
                    "could not fork system logger: {}",
                    std::io::Error::last_os_error()
                ),
            );
            self.restart_due = Some(Instant::now() + RESTART_INTERVAL);
        }
    }

    fn enabled(&self) -> bool {
        self.read_fd >= 0
    }

    /// Whether `pid` is the collector.
    pub fn is(&self, pid: pid_t) -> bool {
        self.pid == Some(pid)
    }

    /// A reaped child: if it was the collector, another is started (at once, or a second after
    /// the last start) and its end logged unless it exited 0. True when it was the collector.
    pub fn reaped(&mut self, pid: pid_t, exit: ExitKind) -> bool {
        if !self.is(pid) {
            return false;
        }
        self.pid = None;
        let due = self
            .last_start
            .map_or(Instant::now(), |t| t + RESTART_INTERVAL);
        if due <= Instant::now() {
            self.fork(now());
        } else {
            self.restart_due = Some(due);
        }
        if exit != ExitKind::Code(0) {
            elog::log(LOG, format_args!("{}", describe(pid, exit)));
        }
        true
    }

    /// When a collector is owed a restart.
    pub fn next_due(&self) -> Option<Instant> {
        self.restart_due
    }

    /// Starts the collector owed a restart, once its time has come.
    pub fn start_if_due(&mut self) {
        if self.restart_due.is_some_and(|d| d <= Instant::now()) && self.pid.is_none() {
            self.fork(now());
        }
    }

    /// SIGHUP: the collector reads the settings again.
    pub fn reload(&self) {
        if let Some(pid) = self.pid {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGHUP) };
        }
    }

    /// On SIGUSR1: a rotation request (`bgworkerctl logrotate` made the signal file first)
    /// is passed on to the collector.
    pub fn check_logrotate(&self) {
        let Some(pid) = self.pid else {
            return;
        };
        let file = self.datadir.join(files::LOGROTATE_SIGNAL_FILE);
        if std::fs::symlink_metadata(&file).is_ok() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGUSR1) };
            let _ = std::fs::remove_file(&file);
        }
    }

    /// Descriptors of the supervisor that workers and spares must not keep.
    pub fn fds_for_children(&self) -> impl Iterator<Item = RawFd> {
        [self.read_fd, self.original_stderr]
            .into_iter()
            .filter(|&fd| fd >= 0)
    }

    /// At the supervisor's very end, after its last line: stdout and stderr go back to what
    /// they were, so the pipe's last writer is gone, and the collector, having written
    /// everything, leaves. It is waited for while it drains the pipe (at most `FINAL_WAIT`);
    /// a collector that makes no progress for `STALLED` is left to finish on its own.
    pub fn stop_last(&mut self) {
        if !self.enabled() {
            return;
        }
        elog::set_redirected(false);
        // SAFETY: our own descriptors.
        unsafe {
            libc::dup2(self.original_stderr, 1);
            libc::dup2(self.original_stderr, 2);
        }
        if let Some(pid) = self.pid.take() {
            let deadline = Instant::now() + FINAL_WAIT;
            let (mut unread, mut since) = (-1, Instant::now());
            while Instant::now() < deadline && since.elapsed() < STALLED {
                let mut status = 0;
                // SAFETY: waiting for our own child without blocking.
                if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } != 0 {
                    break;
                }
                let mut now_unread: libc::c_int = 0;
                // SAFETY: FIONREAD writes the count of unread bytes into the int we own.
                unsafe { libc::ioctl(self.read_fd, libc::FIONREAD, &mut now_unread) };
                if now_unread != unread {
                    (unread, since) = (now_unread, Instant::now());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // SAFETY: our own descriptor.
        unsafe { libc::close(self.read_fd) };
        self.read_fd = -1;
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// PostgreSQL's wording for the system logger's end.
fn describe(pid: pid_t, exit: ExitKind) -> String {
    match exit {
        ExitKind::Code(code) => {
            format!("system logger process (PID {pid}) exited with exit code {code}")
        }
        ExitKind::Signal(sig) => {
            // SAFETY: strsignal returns a pointer to a static or thread-local string.
            let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(sig)) }
                .to_string_lossy()
                .into_owned();
            format!("system logger process (PID {pid}) was terminated by signal {sig}: {name}")
        }
    }
}
