//! The server log: one line per message on stderr, with PostgreSQL's level names and its rule for
//! which levels `log_min_messages` lets through. Formatting uses a stack buffer and one `write`, so
//! it is safe from the signal handlers that PostgreSQL also reports from (SIGTERM's FATAL).

use crate::pg::types::*;
use libc::c_int;
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

static LOG_MIN_MESSAGES: AtomicI32 = AtomicI32::new(WARNING);

/// The word after the pid: "postmaster" or the worker's `bgw_type`, escaped (room for every
/// byte as `\xNN`).
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

/// A fixed buffer that truncates instead of allocating.
struct LineBuf {
    buf: [u8; 8192],
    len: usize,
}

impl LineBuf {
    fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

fn write_prefix(out: &mut LineBuf, now: &libc::timespec, pid: c_int) {
    let (y, mo, d, h, mi, s) = civil_from_unix(now.tv_sec);
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{:03} UTC [{pid}] ",
        now.tv_nsec / 1_000_000
    );
    out.push(label());
    out.push(b" ");
}

/// Converts seconds since the epoch to a UTC calendar date and time.
pub(crate) fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// A message with its optional DETAIL, HINT and CONTEXT parts, as raw bytes.
#[derive(Default)]
pub struct Report<'a> {
    pub message: &'a [u8],
    pub detail: Option<&'a [u8]>,
    pub hint: Option<&'a [u8]>,
    pub context: Option<&'a [u8]>,
}

/// Writes a report to stderr if `log_min_messages` lets its level through.
///
/// The level check stays inline and the 8 kB line buffer lives in an out-of-line function, so
/// a caller whose message is filtered out never grows its stack frame by it (frames over a
/// page are probed page by page, and every stack page a forked worker touches is a private
/// copy it keeps).
#[inline]
pub fn emit(elevel: c_int, report: &Report<'_>) {
    if enabled(elevel) {
        write_report(elevel, report);
    }
}

#[inline(never)]
#[cold]
fn write_report(elevel: c_int, report: &Report<'_>) {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let mut out = LineBuf {
        buf: [0; 8192],
        len: 0,
    };
    let parts: [(&str, Option<&[u8]>); 4] = [
        (level_name(elevel), Some(report.message)),
        ("DETAIL", report.detail),
        ("HINT", report.hint),
        ("CONTEXT", report.context),
    ];
    for (tag, text) in parts {
        let Some(text) = text else { continue };
        write_prefix(&mut out, &now, pid);
        out.push(tag.as_bytes());
        out.push(b":  ");
        // Continuation lines of a multi-line message are indented, as PostgreSQL does.
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.push(b"\n\t");
            }
            out.push(line);
        }
        out.push(b"\n");
    }
    if out.len == out.buf.len() {
        out.buf[out.len - 1] = b'\n';
    }
    write_all_stderr(&out.buf[..out.len]);
}

/// Log lines that could not be written (the log's reader stalled, the disk is full), reported
/// by the next line that can be.
static LOST: AtomicUsize = AtomicUsize::new(0);

/// How long a line that the log took only part of may wait for room for the rest.
const PARTIAL_LINE_WAIT_MS: c_int = 100;

/// Writes one finished line (or report) to stderr, never blocking for long: the supervisor must
/// keep reaping, starting and answering whatever its log's reader does. A line that cannot be
/// written is counted; once writing works again, a line saying how many were lost goes first.
fn write_all_stderr(bytes: &[u8]) {
    let lost = LOST.load(Ordering::Relaxed);
    if lost > 0 {
        let mut note = LineBuf {
            buf: [0; 8192],
            len: 0,
        };
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own; getpid has no preconditions.
        let pid = unsafe {
            libc::clock_gettime(libc::CLOCK_REALTIME, &mut now);
            libc::getpid()
        };
        write_prefix(&mut note, &now, pid);
        let _ = writeln!(
            note,
            "LOG:  {lost} log message{} {} lost",
            if lost == 1 { "" } else { "s" },
            if lost == 1 { "was" } else { "were" }
        );
        if !write_line(&note.buf[..note.len]) {
            LOST.fetch_add(1, Ordering::Relaxed);
            return;
        }
        LOST.fetch_sub(lost, Ordering::Relaxed);
    }
    if !write_line(bytes) {
        LOST.fetch_add(1, Ordering::Relaxed);
    }
}

/// One `write` of the whole line when it can (a pipe takes up to 4 kB whole or not at all); the
/// rest of a longer line waits at most `PARTIAL_LINE_WAIT_MS` for room. False when nothing was
/// written.
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
            // Half a line is in the log: finish it if room comes soon.
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
        // Room for a burst (a restart storm writes hundreds of kB a second) while the reader
        // catches up: up to 1 MB, as far as the system allows an unprivileged pipe.
        let max = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|s| s.trim().parse::<c_int>().ok())
            .unwrap_or(1 << 20)
            .min(1 << 20);
        // SAFETY: F_SETPIPE_SZ on our stderr; a failure leaves the pipe as it was.
        unsafe { libc::fcntl(2, libc::F_SETPIPE_SZ, max) };
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
    let mut msg = LineBuf {
        buf: [0; 8192],
        len: 0,
    };
    let _ = msg.write_fmt(args);
    write_report(
        elevel,
        &Report {
            message: &msg.buf[..msg.len],
            ..Default::default()
        },
    );
}

/// Logs a message with a DETAIL and/or HINT line.
pub fn log_with(elevel: c_int, message: &str, detail: Option<&str>, hint: Option<&str>) {
    emit(
        elevel,
        &Report {
            message: message.as_bytes(),
            detail: detail.map(str::as_bytes),
            hint: hint.map(str::as_bytes),
            context: None,
        },
    );
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
    fn civil_dates() {
        assert_eq!(civil_from_unix(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil_from_unix(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil_from_unix(1_795_574_431), (2026, 11, 25, 2, 40, 31));
    }
}
