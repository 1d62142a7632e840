//! The logging collector process (PostgreSQL's syslogger): reads the pipe every process's stderr
//! points to, joins chunks back into records and writes them to the log files it owns, rotating
//! them by age, by size and on request (SIGUSR1), and keeps `current_logfiles` up to date. It
//! ignores the termination signals and leaves only once the pipe's last writer is gone, so the
//! last words of every process, the supervisor's included, reach the files.

use super::config::{DEST_CSVLOG, DEST_JSONLOG, DEST_STDERR};
use super::files::{self, FORMATS};
use super::pipe::Assembler;
use crate::elog;
use crate::guc::{self, Logging};
use crate::pg::types::*;
use std::fs::File;
use std::io::Write;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::Mutex;

/// What the supervisor hands a new collector.
pub struct Start {
    /// The read end of the log pipe.
    pub pipe: RawFd,
    /// Where the collector's own stdout and stderr point (the supervisor's stderr before it was
    /// redirected), for what does not go through elog.
    pub fallback: RawFd,
    pub datadir: PathBuf,
    /// The time its first files are named for.
    pub first_time: i64,
    /// Descriptors to keep; every other one above 2 is closed.
    pub keep: Vec<RawFd>,
    pub cluster_name: String,
}

/// `BackendType` of the collector, as PostgreSQL's `B_LOGGER`.
const B_LOGGER: libc::c_int = 12;

/// The collector's own reports, queued by elog's sink and written by the loop.
static OWN: Mutex<Vec<(u8, Vec<u8>)>> = Mutex::new(Vec::new());

fn own_report(dest: u8, record: &[u8]) {
    OWN.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((dest, record.to_vec()));
}

struct LogFile {
    file: File,
    name: String,
    size: u64,
}

struct Collector {
    datadir: PathBuf,
    settings: Logging,
    /// stderr, csvlog, jsonlog (in `FORMATS` order).
    files: [Option<LogFile>; 3],
    /// Records waiting to be written, per file.
    pending: [Vec<u8>; 3],
    pending_records: [usize; 3],
    next_rotation: Option<i64>,
    rotation_requested: bool,
    rotation_disabled: bool,
    /// Records that could not be written (a full disk), reported once writing works again.
    lost: usize,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Closes every descriptor above 2 but those in `keep`.
fn close_all_but(keep: &mut [RawFd]) {
    keep.sort_unstable();
    let mut from: u32 = 3;
    for &fd in keep.iter().filter(|&&fd| fd >= 3) {
        if fd as u32 > from {
            // SAFETY: closing inherited descriptors this new process does not use.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd as u32 - 1, 0) };
        }
        from = fd as u32 + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0) };
}

/// Runs the collector in a freshly forked child of the supervisor; never returns.
pub fn run(mut start: Start) -> ! {
    // SAFETY: the only thread of a new process sets its own identity and descriptors.
    unsafe {
        crate::pg::MyProcPid = libc::getpid();
        crate::pg::IsUnderPostmaster = true;
        crate::pg::MyBackendType = B_LOGGER;
        libc::setsid();
        libc::dup2(start.fallback, 1);
        libc::dup2(start.fallback, 2);
    }
    start.keep.extend([start.pipe]);
    close_all_but(&mut start.keep);
    crate::pg::set_start_time();
    elog::set_process_label(b"logger");
    elog::set_redirected(false);
    elog::set_sink(own_report);
    if start.cluster_name.is_empty() {
        crate::worker::ps_title::set("bgworker: logger");
    } else {
        crate::worker::ps_title::set_parts(&[
            b"bgworker: ",
            start.cluster_name.as_bytes(),
            b": logger",
        ]);
    }
    let signal_fd = collector_signals();
    let mut c = Collector {
        datadir: start.datadir.clone(),
        settings: guc::current().logging,
        files: [None, None, None],
        pending: [Vec::new(), Vec::new(), Vec::new()],
        pending_records: [0; 3],
        next_rotation: None,
        rotation_requested: false,
        rotation_disabled: false,
        lost: 0,
    };
    c.open_first(start.first_time);
    c.next_rotation = files::next_rotation(
        now(),
        &crate::log::config::current().zone,
        c.settings.log_rotation_age,
    );
    c.update_current_logfiles();
    c.main_loop(start.pipe, signal_fd)
}

/// SIGHUP and SIGUSR1 through a signalfd; the termination signals ignored (the collector ends
/// when the pipe does).
fn collector_signals() -> RawFd {
    // SAFETY: building signal sets and dispositions of this process.
    unsafe {
        for sig in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGUSR2,
            libc::SIGPIPE,
        ] {
            libc::signal(sig, libc::SIG_IGN);
        }
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        let mut unblock: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut unblock);
        libc::sigprocmask(libc::SIG_UNBLOCK, &unblock, std::ptr::null_mut());
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
    }
}

impl Collector {
    fn zone(&self) -> &'static crate::log::timezone::Zone {
        &crate::log::config::current().zone
    }

    fn open_first(&mut self, t: i64) {
        let _ = files::make_directory(&self.datadir, &self.settings.log_directory);
        for (i, &(bit, _, suffix)) in FORMATS.iter().enumerate() {
            if bit != DEST_STDERR && self.settings.destinations & bit == 0 {
                continue;
            }
            let name = files::file_name(
                &self.settings.log_directory,
                &self.settings.log_filename,
                self.zone(),
                t,
                suffix,
            );
            match files::open(
                &files::resolve(&self.datadir, &name),
                self.settings.log_file_mode,
                false,
            ) {
                Ok(file) => {
                    let size = file.metadata().map_or(0, |m| m.len());
                    self.files[i] = Some(LogFile { file, name, size });
                }
                Err(e) => {
                    // Said where it can be seen (the supervisor's stderr); the supervisor starts
                    // another collector a second later.
                    let _ = writeln!(
                        std::io::stderr(),
                        "bgworkerd: could not open log file \"{name}\": {e}"
                    );
                    // SAFETY: leaving without exit callbacks, as a child that failed to start.
                    unsafe { libc::_exit(1) };
                }
            }
        }
    }

    fn main_loop(&mut self, pipe: RawFd, signal_fd: RawFd) -> ! {
        let mut buf = vec![0u8; 65536 + super::pipe::CHUNK_SIZE];
        let mut held = 0;
        let mut asm = Assembler::default();
        loop {
            self.flush();
            self.check_rotation();
            self.flush();
            let timeout = match (self.next_rotation, self.rotation_disabled) {
                (Some(t), false) => ((t - now()).max(0) * 1000).min(i64::from(i32::MAX)) as i32,
                _ => -1,
            };
            let mut fds = [
                libc::pollfd {
                    fd: pipe,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: signal_fd,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: polling two descriptors we own.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
            if ready <= 0 {
                continue;
            }
            if fds[1].revents != 0 {
                self.read_signals(signal_fd);
            }
            if fds[0].revents == 0 {
                continue;
            }
            // SAFETY: reading into the free tail of our buffer.
            let n = unsafe { libc::read(pipe, buf[held..].as_mut_ptr().cast(), buf.len() - held) };
            if n < 0 {
                let e = std::io::Error::last_os_error().raw_os_error();
                if e == Some(libc::EINTR) || e == Some(libc::EAGAIN) {
                    continue;
                }
            }
            if n <= 0 {
                // Every writer is gone: what is left is written, then the collector leaves.
                if held > 0 {
                    self.record(DEST_STDERR, &buf[..held]);
                }
                asm.abandon();
                elog::log(DEBUG1, format_args!("logger shutting down"));
                self.flush();
                // SAFETY: the collector's work is done; no exit callbacks of the supervisor's.
                unsafe { libc::_exit(0) };
            }
            held += n as usize;
            let used = asm.feed(&buf[..held], |dest, record| {
                let i = slot_of(dest);
                self.pending[i].extend_from_slice(record);
                self.pending_records[i] += 1;
            });
            buf.copy_within(used..held, 0);
            held -= used;
        }
    }

    fn read_signals(&mut self, signal_fd: RawFd) {
        loop {
            // SAFETY: signalfd_siginfo is plain data.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reading one record into a local of that size.
            let n = unsafe { libc::read(signal_fd, (&raw mut info).cast(), size) };
            if n != size as isize {
                return;
            }
            match info.ssi_signo as i32 {
                libc::SIGHUP => self.reload(),
                libc::SIGUSR1 => self.rotation_requested = true,
                _ => {}
            }
        }
    }

    /// SIGHUP: the settings file again; a new directory or file name, or a format turned on or
    /// off, rotates at once; a new age sets the next rotation time; rotation is on again.
    fn reload(&mut self) {
        self.flush();
        guc::process_config_file();
        let new = guc::current().logging;
        let old = std::mem::replace(&mut self.settings, new);
        let s = &self.settings;
        if s.log_directory != old.log_directory {
            let _ = files::make_directory(&self.datadir, &s.log_directory);
            self.rotation_requested = true;
        }
        if s.log_filename != old.log_filename {
            self.rotation_requested = true;
        }
        for (i, &(bit, _, _)) in FORMATS.iter().enumerate().skip(1) {
            if (s.destinations & bit != 0) != self.files[i].is_some() {
                self.rotation_requested = true;
            }
        }
        if s.log_rotation_age != old.log_rotation_age || s.log_timezone != old.log_timezone {
            self.next_rotation = files::next_rotation(now(), self.zone(), s.log_rotation_age);
        }
        if self.rotation_disabled {
            self.rotation_disabled = false;
            self.rotation_requested = true;
        }
        self.update_current_logfiles();
    }

    /// A record into the file of its format (the stderr file when that format has none).
    fn record(&mut self, dest: u8, bytes: &[u8]) {
        let i = slot_of(dest);
        self.pending[i].extend_from_slice(bytes);
        self.pending_records[i] += 1;
    }

    /// The collector's own reports, queued while it worked.
    fn write_own(&mut self) {
        let own = std::mem::take(&mut *OWN.lock().unwrap_or_else(|e| e.into_inner()));
        for (dest, bytes) in own {
            self.record(dest, &bytes);
        }
    }

    /// Writes what is pending (the collector's own reports too), one write per file. A write
    /// that fails loses its records (counted); once one works again, a line says how many.
    fn flush(&mut self) {
        // Twice: the second pass writes what the first reported (a loss, a failure).
        for _ in 0..2 {
            self.write_own();
            for i in 0..3 {
                if self.pending[i].is_empty() {
                    continue;
                }
                let target = if self.files[i].is_some() { i } else { 0 };
                let records = std::mem::take(&mut self.pending_records[i]);
                let mut data = std::mem::take(&mut self.pending[i]);
                match self.files[target].as_mut() {
                    None => self.lost += records,
                    Some(f) => match f.file.write_all(&data) {
                        Ok(()) => {
                            f.size += data.len() as u64;
                            if self.lost > 0 {
                                let lost = std::mem::take(&mut self.lost);
                                elog::log(
                                    LOG,
                                    format_args!(
                                        "{lost} log message{} {} lost",
                                        if lost == 1 { "" } else { "s" },
                                        if lost == 1 { "was" } else { "were" }
                                    ),
                                );
                            }
                        }
                        Err(_) => self.lost += records,
                    },
                }
                // The buffer is kept for the next records (no allocation per read).
                data.clear();
                if self.pending[i].is_empty() {
                    self.pending[i] = data;
                }
            }
        }
    }

    fn check_rotation(&mut self) {
        let mut time_based = false;
        let mut size_for = 0u8;
        if !self.rotation_disabled {
            if let Some(t) = self.next_rotation {
                if now() >= t {
                    self.rotation_requested = true;
                    time_based = true;
                }
            }
        }
        let limit = u64::from(self.settings.log_rotation_size.max(0) as u32) * 1024;
        if !self.rotation_requested && limit > 0 && !self.rotation_disabled {
            for (i, &(bit, _, _)) in FORMATS.iter().enumerate() {
                if self.files[i].as_ref().is_some_and(|f| f.size >= limit) {
                    self.rotation_requested = true;
                    size_for |= bit;
                }
            }
        }
        if !self.rotation_requested {
            return;
        }
        if !time_based && size_for == 0 {
            size_for = DEST_STDERR | DEST_CSVLOG | DEST_JSONLOG;
        }
        let fntime = if time_based {
            self.next_rotation.unwrap_or_else(now)
        } else {
            now()
        };
        self.rotate(time_based, size_for, fntime);
    }

    /// PostgreSQL's `logfile_rotate`: each format whose turn it is gets a file named for
    /// `fntime`; formats turned off are closed. An open that fails keeps the old file and, but
    /// for running out of descriptors, turns automatic rotation off until the next SIGHUP.
    fn rotate(&mut self, time_based: bool, size_for: u8, fntime: i64) {
        self.rotation_requested = false;
        for (i, &(bit, _, suffix)) in FORMATS.iter().enumerate() {
            if bit != DEST_STDERR && self.settings.destinations & bit == 0 {
                self.files[i] = None;
                continue;
            }
            if !time_based && size_for & bit == 0 {
                continue;
            }
            let name = files::file_name(
                &self.settings.log_directory,
                &self.settings.log_filename,
                self.zone(),
                fntime,
                suffix,
            );
            let truncate = self.settings.log_truncate_on_rotation
                && time_based
                && self.files[i].as_ref().is_some_and(|f| f.name != name);
            match files::open(
                &files::resolve(&self.datadir, &name),
                self.settings.log_file_mode,
                truncate,
            ) {
                Ok(file) => {
                    let size = file.metadata().map_or(0, |m| m.len());
                    self.files[i] = Some(LogFile { file, name, size });
                }
                Err(e) => {
                    elog::log(LOG, format_args!("could not open log file \"{name}\": {e}"));
                    let errno = e.raw_os_error();
                    if errno != Some(libc::ENFILE) && errno != Some(libc::EMFILE) {
                        elog::log(
                            LOG,
                            format_args!("disabling automatic rotation (use SIGHUP to re-enable)"),
                        );
                        self.rotation_disabled = true;
                    }
                    return;
                }
            }
        }
        self.update_current_logfiles();
        self.next_rotation =
            files::next_rotation(now(), self.zone(), self.settings.log_rotation_age);
    }

    fn update_current_logfiles(&self) {
        let names = [0, 1, 2].map(|i| self.files[i].as_ref().map(|f| f.name.as_str()));
        if let Err(e) =
            files::write_current_logfiles(&self.datadir, self.settings.destinations, &names)
        {
            elog::log(
                LOG,
                format_args!("could not write file \"{}\": {e}", files::CURRENT_LOGFILES),
            );
        }
    }
}

/// Index in `FORMATS` of a pipe destination.
fn slot_of(dest: u8) -> usize {
    match dest {
        DEST_CSVLOG => 1,
        DEST_JSONLOG => 2,
        _ => 0,
    }
}
