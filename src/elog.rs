//! The server log: PostgreSQL's level names and its rule for which levels `log_min_messages`
//! lets through, and where a report goes (`log_destination`): stderr, or the logging collector's
//! pipe, and syslog. Records are built in stack buffers and written with one `write` per chunk,
//! never waiting on the reader, so it is safe from the signal handlers that PostgreSQL also
//! reports from (SIGTERM's FATAL) and never stalls the supervisor.

use crate::log::buf::Buf;
use crate::log::config::{self, DEST_CSVLOG, DEST_JSONLOG, DEST_STDERR, DEST_SYSLOG};
use crate::log::record::{self, Message, Origin, Session};
use crate::log::{pipe, syslog};
use crate::pg::types::*;
use libc::c_int;
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

pub use crate::log::record::Message as Report;

static LOG_MIN_MESSAGES: AtomicI32 = AtomicI32::new(WARNING);

/// The size of one record as built: the text of a longer report is shortened until its record
/// fits (csvlog and jsonlog records stay well-formed; stderr's last byte stays a newline).
const RECORD_MAX: usize = 16384;
/// How many times a record is built again with shorter text before it is written as it is.
const FIT_TRIES: usize = 4;

/// The word `%b` prints: "postmaster", the worker's `bgw_type`, "logger"; escaped (room for
/// every byte as `\xNN`).
static mut LABEL: [u8; 4 * BGW_MAXLEN] = [0; 4 * BGW_MAXLEN];
static LABEL_LEN: AtomicUsize = AtomicUsize::new(0);

pub fn set_log_min_messages(level: c_int) {
    LOG_MIN_MESSAGES.store(level, Ordering::Relaxed);
}

/// Sets the process label shown in every line (escaped as text, see `pg::text`). Called once at
/// process start, single-threaded.
pub fn set_process_label(label: &[u8]) {
    let label = &label[..label.len().min(BGW_MAXLEN)];
    let dst = &raw mut LABEL;
    // SAFETY: only called while this process is single-threaded and outside signal handlers.
    let n = unsafe { crate::pg::text::escape_into(label, &mut *dst) };
    LABEL_LEN.store(n, Ordering::Release);
}

extern "C" {
    static program_invocation_short_name: *const libc::c_char;
}

fn label() -> &'static [u8] {
    let n = LABEL_LEN.load(Ordering::Acquire);
    if n == 0 {
        // Not the supervisor nor a worker (an attached program): its own name.
        // SAFETY: glibc sets this to a NUL-terminated static string before main.
        return unsafe { std::ffi::CStr::from_ptr(program_invocation_short_name) }.to_bytes();
    }
    // SAFETY: LABEL is written only before LABEL_LEN is published, and never concurrently.
    unsafe { std::slice::from_raw_parts((&raw const LABEL).cast::<u8>(), n) }
}

/// A database worker's session, as `%u`, `%d`, `%a` and the csvlog/jsonlog records show it:
/// fixed buffers (NAMEDATALEN), written in normal context, read by any writer.
struct SessionText {
    bytes: [u8; 64],
    len: AtomicUsize,
}

static mut SESSION_USER: SessionText = SessionText {
    bytes: [0; 64],
    len: AtomicUsize::new(0),
};
static mut SESSION_DATABASE: SessionText = SessionText {
    bytes: [0; 64],
    len: AtomicUsize::new(0),
};
static mut SESSION_APPNAME: SessionText = SessionText {
    bytes: [0; 64],
    len: AtomicUsize::new(0),
};
static HAS_SESSION: AtomicBool = AtomicBool::new(false);

/// # Safety
/// `t` is one of the session statics; normal context of a single-threaded process.
unsafe fn set_text(t: *mut SessionText, value: &[u8]) {
    let n = value.len().min(63);
    // SAFETY: as the caller promises; the length goes to 0 while the bytes change, so a
    // signal handler reading meanwhile sees an empty text, never a torn one.
    unsafe {
        (*t).len.store(0, Ordering::Release);
        (&mut (*t).bytes)[..n].copy_from_slice(&value[..n]);
        (*t).len.store(n, Ordering::Release);
    }
}

fn text_of(t: *const SessionText) -> &'static [u8] {
    // SAFETY: the statics live for the process; len bytes were written before len was.
    unsafe {
        let n = (*t).len.load(Ordering::Acquire);
        std::slice::from_raw_parts((&raw const (*t).bytes).cast::<u8>(), n)
    }
}

/// A database worker connected: its role and database, for the log.
pub fn set_session(user: &str, database: &str) {
    // SAFETY: normal context of the worker's single thread.
    unsafe {
        set_text(&raw mut SESSION_USER, user.as_bytes());
        set_text(&raw mut SESSION_DATABASE, database.as_bytes());
    }
    HAS_SESSION.store(true, Ordering::Release);
}

/// The session's `application_name` (`%a`), as `pgstat_report_appname` or the worker set it.
pub fn set_application_name(name: &str) {
    // SAFETY: as in set_session.
    unsafe { set_text(&raw mut SESSION_APPNAME, name.as_bytes()) };
}

fn session() -> Option<Session<'static>> {
    HAS_SESSION.load(Ordering::Acquire).then(|| Session {
        user: text_of(&raw const SESSION_USER),
        database: text_of(&raw const SESSION_DATABASE),
        application_name: text_of(&raw const SESSION_APPNAME),
    })
}

/// PostgreSQL's rule for the server log: LOG ranks between ERROR and FATAL.
#[inline]
pub fn is_log_level_output(elevel: c_int, min: c_int) -> bool {
    if elevel == LOG || elevel == LOG_SERVER_ONLY {
        min == LOG || min <= ERROR
    } else if elevel == WARNING_CLIENT_ONLY {
        false
    } else if min == LOG {
        elevel >= FATAL
    } else {
        elevel >= min
    }
}

#[inline]
pub fn enabled(elevel: c_int) -> bool {
    is_log_level_output(elevel, LOG_MIN_MESSAGES.load(Ordering::Relaxed))
}

pub fn level_name(elevel: c_int) -> &'static str {
    match elevel {
        DEBUG5..=DEBUG1 => "DEBUG",
        LOG | LOG_SERVER_ONLY => "LOG",
        INFO => "INFO",
        NOTICE => "NOTICE",
        WARNING | WARNING_CLIENT_ONLY => "WARNING",
        ERROR => "ERROR",
        FATAL => "FATAL",
        PANIC => "PANIC",
        _ => "???",
    }
}

/// Parses a `log_min_messages` value.
pub fn parse_level(name: &str) -> Option<c_int> {
    Some(match name.to_ascii_lowercase().as_str() {
        "debug5" => DEBUG5,
        "debug4" => DEBUG4,
        "debug3" => DEBUG3,
        "debug2" => DEBUG2,
        "debug1" | "debug" => DEBUG1,
        "info" => INFO,
        "notice" => NOTICE,
        "warning" => WARNING,
        "error" => ERROR,
        "log" => LOG,
        "fatal" => FATAL,
        "panic" => PANIC,
        _ => return None,
    })
}

/// Converts seconds since the epoch to a UTC calendar date and time.
pub(crate) fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    crate::log::timezone::civil(secs)
}

/// The SQLSTATE a report without one gets, as `errstart` gives it.
fn default_sqlstate(elevel: c_int) -> c_int {
    let code = |s: &[u8; 5]| -> c_int {
        s.iter()
            .enumerate()
            .map(|(i, &c)| (c_int::from(c - b'0') & 0x3F) << (6 * i))
            .sum()
    };
    if elevel >= ERROR {
        code(b"XX000")
    } else if elevel >= WARNING {
        code(b"01000")
    } else {
        0
    }
}

/// Writes a report if `log_min_messages` lets its level through. `report.sqlerrcode` 0 with a
/// level of WARNING or more gets the code `errstart` would have given.
///
/// The level check stays inline and the record buffer lives in an out-of-line function, so
/// a caller whose message is filtered out never grows its stack frame by it (frames over a
/// page are probed page by page, and every stack page a forked worker touches is a private
/// copy it keeps).
#[inline]
pub fn emit(report: &Message<'_>) {
    if enabled(report.elevel) {
        write_report(report);
    }
}

/// Per process: the numbers `%l` and the csvlog/jsonlog records count, and whose they are (a
/// forked process starts again from 1, as PostgreSQL's do).
static LINES_PID: AtomicI32 = AtomicI32::new(0);
static TEXT_LINES: AtomicU64 = AtomicU64::new(0);
static CSV_LINES: AtomicU64 = AtomicU64::new(0);
static JSON_LINES: AtomicU64 = AtomicU64::new(0);
/// Syslog's sequence number (`syslog_sequence_numbers`).
static SYSLOG_SEQ: AtomicU64 = AtomicU64::new(0);

/// Log reports that could not be written (the log's reader stalled, the disk is full, the
/// collector is gone and its pipe full), reported by the next one that can be: one count for
/// stderr and the collector's pipe, one for syslog.
static LOST: AtomicUsize = AtomicUsize::new(0);
static LOST_SYSLOG: AtomicUsize = AtomicUsize::new(0);

/// Whether stderr is the logging collector's pipe (the supervisor started one; its workers
/// inherit this), so records go in chunks with their destination.
static REDIRECTED: AtomicBool = AtomicBool::new(false);

/// In the collector itself: where its own reports go (straight to its files).
static SINK: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

/// How long a record the log took only part of may wait for room for the rest.
const PARTIAL_LINE_WAIT_MS: c_int = 100;

/// Stderr is now (true) or no longer (false) the collector's pipe.
pub fn set_redirected(on: bool) {
    REDIRECTED.store(on, Ordering::Release);
}

pub fn redirected() -> bool {
    REDIRECTED.load(Ordering::Acquire)
}

/// In the collector: its own reports are handed to `sink(destination, record)`.
pub fn set_sink(sink: fn(u8, &[u8])) {
    SINK.store(sink as *mut (), Ordering::Release);
}

fn sink() -> Option<fn(u8, &[u8])> {
    let p = SINK.load(Ordering::Acquire);
    // SAFETY: only ever set from a `fn(u8, &[u8])` in set_sink.
    (!p.is_null()).then(|| unsafe { std::mem::transmute::<*mut (), fn(u8, &[u8])>(p) })
}

#[inline(never)]
#[cold]
fn write_report(report: &Message<'_>) {
    let mut m = *report;
    if m.sqlerrcode == 0 {
        m.sqlerrcode = default_sqlstate(m.elevel);
    }
    let cfg = config::current();
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; getpid has no preconditions.
    let pid = unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut now);
        libc::getpid()
    };
    if LINES_PID.swap(pid, Ordering::Relaxed) != pid {
        for c in [&TEXT_LINES, &CSV_LINES, &JSON_LINES, &SYSLOG_SEQ] {
            c.store(0, Ordering::Relaxed);
        }
    }
    let origin = Origin {
        now_secs: now.tv_sec,
        now_millis: (now.tv_nsec / 1_000_000) as u32,
        zone: &cfg.zone,
        pid,
        backend_type: label(),
        // SAFETY: a plain integer global, written once at process start.
        start_time: unsafe { crate::pg::MyStartTime },
        session: session(),
    };
    if cfg.destinations & DEST_SYSLOG != 0 {
        // Before stderr, with the same `%l` numbers (PostgreSQL builds the text once for both).
        let stderr_counts = cfg.destinations & DEST_STDERR != 0;
        to_syslog(cfg, &origin, &m, !stderr_counts);
    }
    to_streams(cfg, &origin, &m);
}

/// The destinations that go through stderr (or the collector's pipe): stderr text, and with a
/// collector csvlog and jsonlog; without one those fall back to stderr text, as in PostgreSQL.
fn to_streams(cfg: &config::LogConfig, origin: &Origin<'_>, m: &Message<'_>) {
    let collector = sink().is_some() || redirected();
    let file_dests = cfg.destinations & (DEST_CSVLOG | DEST_JSONLOG);
    let text_wanted = cfg.destinations & DEST_STDERR != 0 || (file_dests != 0 && !collector);
    if !text_wanted && (!collector || file_dests == 0) {
        return;
    }
    let lost = LOST.load(Ordering::Relaxed);
    if lost > 0 {
        let mut note = [0u8; 64];
        let mut b = Buf::new(&mut note);
        let _ = write!(
            b,
            "{lost} log message{} {} lost",
            if lost == 1 { "" } else { "s" },
            if lost == 1 { "was" } else { "were" }
        );
        let n = Message {
            elevel: LOG,
            message: b.as_bytes(),
            ..Default::default()
        };
        if !write_streams(cfg, origin, &n, text_wanted, collector, file_dests) {
            LOST.fetch_add(1, Ordering::Relaxed);
            return;
        }
        LOST.fetch_sub(lost, Ordering::Relaxed);
    }
    if !write_streams(cfg, origin, m, text_wanted, collector, file_dests) {
        LOST.fetch_add(1, Ordering::Relaxed);
    }
}

/// Builds and writes each stream record of `m`; false when any could not be written.
fn write_streams(
    cfg: &config::LogConfig,
    origin: &Origin<'_>,
    m: &Message<'_>,
    text_wanted: bool,
    collector: bool,
    file_dests: u8,
) -> bool {
    let mut storage = [0u8; RECORD_MAX];
    let mut ok = true;
    if text_wanted {
        let start = TEXT_LINES.load(Ordering::Relaxed);
        let mut line = start;
        let record = build(&mut storage, m, |b, m| {
            line = start;
            record::text(b, &cfg.line_prefix, origin, &mut line, m);
        });
        TEXT_LINES.store(line, Ordering::Relaxed);
        ok &= write_stream(DEST_STDERR, record);
    }
    if collector && file_dests & DEST_CSVLOG != 0 {
        let line = CSV_LINES.fetch_add(1, Ordering::Relaxed) + 1;
        let record = build(&mut storage, m, |b, m| record::csv(b, origin, line, m));
        ok &= write_stream(DEST_CSVLOG, record);
    }
    if collector && file_dests & DEST_JSONLOG != 0 {
        let line = JSON_LINES.fetch_add(1, Ordering::Relaxed) + 1;
        let record = build(&mut storage, m, |b, m| record::json(b, origin, line, m));
        ok &= write_stream(DEST_JSONLOG, record);
    }
    ok
}

/// Builds a record with `format` into `storage`, again with shorter text while it does not fit.
fn build<'s>(
    storage: &'s mut [u8],
    m: &Message<'_>,
    mut format: impl FnMut(&mut Buf<'_>, &Message<'_>),
) -> &'s [u8] {
    let mut m = *m;
    let mut len = 0;
    for _ in 0..FIT_TRIES {
        let mut b = Buf::new(storage);
        format(&mut b, &m);
        len = b.len();
        if !b.truncated() {
            return &storage[..len];
        }
        m = m.shortened(b.overflow());
    }
    // Still too long: cut, ending with a newline.
    storage[len - 1] = b'\n';
    &storage[..len]
}

/// One record to stderr: the collector's own straight to its files, through the collector's
/// pipe in chunks, or as it is.
fn write_stream(dest: u8, bytes: &[u8]) -> bool {
    if let Some(sink) = sink() {
        sink(dest, bytes);
        return true;
    }
    if redirected() {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let mut first = true;
        return pipe::send_chunks(bytes, pid, dest, |chunk| {
            let ok = write_chunk(chunk, !first);
            first = false;
            ok
        });
    }
    write_line(bytes)
}

/// One chunk into the collector's pipe (at most PIPE_BUF: whole or not at all). A chunk after
/// the first of its record may wait `PARTIAL_LINE_WAIT_MS` for room.
fn write_chunk(chunk: &[u8], continuing: bool) -> bool {
    let mut waited = false;
    loop {
        // SAFETY: writing a valid buffer to fd 2.
        let n = unsafe { libc::write(2, chunk.as_ptr().cast(), chunk.len()) };
        if n == chunk.len() as isize {
            return true;
        }
        let err = std::io::Error::last_os_error().raw_os_error();
        if n < 0 && err == Some(libc::EINTR) {
            continue;
        }
        if n < 0 && err == Some(libc::EAGAIN) && continuing && !waited {
            waited = true;
            let mut p = libc::pollfd {
                fd: 2,
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one pollfd we own.
            if unsafe { libc::poll(&mut p, 1, PARTIAL_LINE_WAIT_MS) } > 0 {
                continue;
            }
        }
        return false;
    }
}

/// Syslog: the report's stderr text, cut and numbered as PostgreSQL does, one datagram each.
fn to_syslog(cfg: &config::LogConfig, origin: &Origin<'_>, m: &Message<'_>, count: bool) {
    let lost = LOST_SYSLOG.load(Ordering::Relaxed);
    if lost > 0 {
        let mut note = [0u8; 64];
        let mut b = Buf::new(&mut note);
        let _ = write!(
            b,
            "{lost} log message{} {} lost",
            if lost == 1 { "" } else { "s" },
            if lost == 1 { "was" } else { "were" }
        );
        let n = Message {
            elevel: LOG,
            message: b.as_bytes(),
            ..Default::default()
        };
        if !syslog_report(cfg, origin, &n, count) {
            LOST_SYSLOG.fetch_add(1, Ordering::Relaxed);
            return;
        }
        LOST_SYSLOG.fetch_sub(lost, Ordering::Relaxed);
    }
    if !syslog_report(cfg, origin, m, count) {
        LOST_SYSLOG.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends one report; `count`: this report's prefixed lines advance `%l` (no stderr text will).
fn syslog_report(
    cfg: &config::LogConfig,
    origin: &Origin<'_>,
    m: &Message<'_>,
    count: bool,
) -> bool {
    let mut text = [0u8; RECORD_MAX];
    let mut b = Buf::new(&mut text);
    // PostgreSQL's syslog text carries the prefix.
    let mut line = TEXT_LINES.load(Ordering::Relaxed);
    record::text(&mut b, &cfg.line_prefix, origin, &mut line, m);
    if count {
        TEXT_LINES.store(line, Ordering::Relaxed);
    }
    let seq = SYSLOG_SEQ.fetch_add(1, Ordering::Relaxed) + 1;
    let severity = syslog::severity_of(m.elevel);
    let mut ok = true;
    let mut dgram = [0u8; RECORD_MAX + 128];
    syslog::pieces(b.as_bytes(), seq, cfg.syslog_split, |tag, body| {
        let mut d = Buf::new(&mut dgram);
        syslog::datagram(
            &mut d,
            cfg.syslog_facility,
            severity,
            origin.zone,
            origin.now_secs,
            &cfg.syslog_ident,
            origin.pid,
            tag,
            body,
        );
        ok &= syslog::send(&cfg.syslog_socket, d.as_bytes());
    });
    ok
}

/// One `write` of the whole record when it can (a pipe takes up to 4 kB whole or not at all);
/// the rest of a longer one waits at most `PARTIAL_LINE_WAIT_MS` for room. False when nothing
/// was written.
fn write_line(mut bytes: &[u8]) -> bool {
    let mut wrote_any = false;
    while !bytes.is_empty() {
        // SAFETY: writing a valid buffer to fd 2.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n > 0 {
            wrote_any = true;
            bytes = &bytes[n as usize..];
            continue;
        }
        let err = std::io::Error::last_os_error().raw_os_error();
        if n < 0 && err == Some(libc::EINTR) {
            continue;
        }
        if n < 0 && err == Some(libc::EAGAIN) && wrote_any {
            // Half a record is in the log: finish it if room comes soon.
            let mut p = libc::pollfd {
                fd: 2,
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one pollfd we own.
            if unsafe { libc::poll(&mut p, 1, PARTIAL_LINE_WAIT_MS) } > 0 {
                continue;
            }
        }
        return wrote_any;
    }
    true
}

/// At the start of the supervisor, before it opens anything: any of descriptors 0, 1 and 2 that
/// is closed is opened on `/dev/null`, so no descriptor of ours (the pipe workers watch for the
/// supervisor's death, a module's file) ever takes one of those numbers and receives log lines.
pub fn ensure_standard_descriptors() {
    for fd in 0..=2 {
        // SAFETY: fcntl F_GETFD only asks whether fd is open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: opening /dev/null; the lowest free number is fd itself.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

/// Makes the log (stderr) never block the supervisor nor its workers: when it is a pipe, a FIFO
/// or a terminal, it is opened again, as a descriptor of our own, non-blocking, and put in place
/// of descriptor 2 (inherited by every worker). Whoever else shares the original (the shell that
/// started us) keeps its blocking descriptor. A regular file never blocks for a reader anyway.
pub fn make_log_nonblocking() {
    // SAFETY: fstat into a local struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstat(2, &mut st) } != 0 {
        return;
    }
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFIFO && kind != libc::S_IFCHR && kind != libc::S_IFSOCK {
        return;
    }
    if kind == libc::S_IFIFO {
        grow_pipe(2);
    }
    // A FIFO, a pipe or a terminal opened anew through /proc is a new open file description,
    // whose O_NONBLOCK is ours alone. (A socket cannot be; there the shared one is set.)
    // SAFETY: opening a path and dup2 onto fd 2, which we own.
    unsafe {
        let fd = libc::open(
            c"/proc/self/fd/2".as_ptr(),
            libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        );
        if fd >= 0 {
            libc::dup2(fd, 2);
            libc::close(fd);
        } else if kind == libc::S_IFSOCK {
            let flags = libc::fcntl(2, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(2, libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
    }
}

/// Room for a burst (a restart storm writes hundreds of kB a second) while a pipe's reader
/// catches up: up to 1 MB, as far as the system allows an unprivileged pipe.
pub fn grow_pipe(fd: c_int) {
    let max = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|s| s.trim().parse::<c_int>().ok())
        .unwrap_or(1 << 20)
        .min(1 << 20);
    // SAFETY: F_SETPIPE_SZ on a pipe of ours; a failure leaves the pipe as it was.
    unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, max) };
}

/// Logs a formatted message (Rust callers); inline gate, out-of-line buffer as for `emit`.
#[inline]
pub fn log(elevel: c_int, args: fmt::Arguments<'_>) {
    if enabled(elevel) {
        log_formatted(elevel, args);
    }
}

#[inline(never)]
#[cold]
fn log_formatted(elevel: c_int, args: fmt::Arguments<'_>) {
    let mut storage = [0u8; RECORD_MAX];
    let mut msg = Buf::new(&mut storage);
    let _ = msg.write_fmt(args);
    write_report(&Message {
        elevel,
        message: msg.as_bytes(),
        ..Default::default()
    });
}

/// Logs a message with a DETAIL and/or HINT line.
pub fn log_with(elevel: c_int, message: &str, detail: Option<&str>, hint: Option<&str>) {
    emit(&Message {
        elevel,
        message: message.as_bytes(),
        detail: detail.map(str::as_bytes),
        hint: hint.map(str::as_bytes),
        ..Default::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ranks_between_error_and_fatal() {
        assert!(is_log_level_output(LOG, WARNING));
        assert!(is_log_level_output(LOG, ERROR));
        assert!(!is_log_level_output(LOG, FATAL));
        assert!(!is_log_level_output(ERROR, LOG));
        assert!(is_log_level_output(FATAL, LOG));
        assert!(!is_log_level_output(DEBUG1, WARNING));
        assert!(is_log_level_output(DEBUG1, DEBUG1));
        assert!(is_log_level_output(WARNING, WARNING));
    }

    #[test]
    fn reports_without_a_code_get_the_one_errstart_gives() {
        assert_eq!(record::unpack_sqlstate(default_sqlstate(LOG)), *b"00000");
        assert_eq!(
            record::unpack_sqlstate(default_sqlstate(WARNING)),
            *b"01000"
        );
        assert_eq!(record::unpack_sqlstate(default_sqlstate(FATAL)), *b"XX000");
    }
}
