//! bgworkerd as a systemd service (`Type=notify`): readiness, reloads, stopping, a status line
//! and the watchdog, sent as datagrams to `$NOTIFY_SOCKET` in systemd's protocol. Without that
//! variable nothing here does anything.

use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

/// Where systemd listens, and the watchdog's period, read once at start.
pub struct Notifier {
    socket: Option<libc::c_int>,
    addr: libc::sockaddr_un,
    addr_len: libc::socklen_t,
    /// Half the watchdog timeout: how often `WATCHDOG=1` is sent.
    watchdog_every: Option<Duration>,
    next_watchdog: Option<Instant>,
    /// The worker count the last `STATUS=` gave, and when the next may be sent: a storm of
    /// starts and exits sends one line per `STATUS_EVERY`, not one per worker.
    status_sent: Option<usize>,
    status_next: Option<Instant>,
}

/// The least time between two `STATUS=` lines.
const STATUS_EVERY: Duration = Duration::from_millis(100);

impl Notifier {
    /// Reads `NOTIFY_SOCKET` (a path, or `@name` for an abstract socket) and `WATCHDOG_USEC`
    /// (honoured when `WATCHDOG_PID` is unset or names this process), then clears them from the
    /// environment so workers and their programs do not talk to systemd in our name.
    pub fn from_environment() -> Notifier {
        let mut n = Notifier {
            socket: None,
            // SAFETY: an all-zero sockaddr_un is a valid (empty) address.
            addr: unsafe { std::mem::zeroed() },
            addr_len: 0,
            watchdog_every: None,
            next_watchdog: None,
            status_sent: None,
            status_next: None,
        };
        let path = std::env::var_os("NOTIFY_SOCKET");
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        let watchdog_for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .is_none_or(|p| p.trim().parse::<i32>().ok() == Some(me));
        if watchdog_for_us {
            n.watchdog_every = std::env::var("WATCHDOG_USEC")
                .ok()
                .and_then(|u| u.trim().parse::<u64>().ok())
                .filter(|&u| u > 0)
                .map(|u| Duration::from_micros(u / 2));
        }
        for var in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            std::env::remove_var(var);
        }
        let Some(path) = path else {
            n.watchdog_every = None;
            return n;
        };
        let bytes = path.as_bytes();
        if bytes.is_empty() || bytes.len() >= n.addr.sun_path.len() {
            return n;
        }
        n.addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (dst, &b) in n.addr.sun_path.iter_mut().zip(bytes) {
            *dst = b as libc::c_char;
        }
        if bytes[0] == b'@' {
            n.addr.sun_path[0] = 0; // abstract namespace
        }
        n.addr_len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len()) as libc::socklen_t;
        // SAFETY: a new datagram socket, close-on-exec, non-blocking: never waits on systemd.
        let fd = unsafe {
            libc::socket(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        };
        if fd >= 0 {
            n.socket = Some(fd);
            n.next_watchdog = n.watchdog_every.map(|e| Instant::now() + e);
        }
        n
    }

    /// The descriptor a forked child must close (close-on-exec covers only programs it runs).
    pub fn fd(&self) -> Option<libc::c_int> {
        self.socket
    }

    /// Sends one message (`READY=1`, `STATUS=...`, lines separated by newlines).
    pub fn send(&self, message: &str) {
        let Some(fd) = self.socket else {
            return;
        };
        // SAFETY: sendto with our socket, a local buffer and the address read at start.
        unsafe {
            libc::sendto(
                fd,
                message.as_ptr().cast(),
                message.len(),
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                (&raw const self.addr).cast(),
                self.addr_len,
            );
        }
    }

    /// True when systemd listens (`NOTIFY_SOCKET` was set).
    pub fn active(&self) -> bool {
        self.socket.is_some()
    }

    /// `READY=1` with the status line.
    pub fn ready(&mut self, workers: usize) {
        self.send(&format!("READY=1\nSTATUS={}", status_line(workers)));
        self.status_sent = Some(workers);
    }

    /// Around a reload: `RELOADING=1` with the monotonic time systemd wants, then `READY=1`.
    pub fn reloading(&self) {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime into a local timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        let usec = ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000;
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }

    /// `STOPPING=1`: a shutdown has begun.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=shutting down");
    }

    /// `STATUS=` when the number of running workers changed, at most once per `STATUS_EVERY`;
    /// when a change is still to be sent, the time to look again (for the loop's sleep).
    pub fn status(&mut self, workers: usize, now: Instant) -> Option<Instant> {
        if !self.active() || self.status_sent == Some(workers) {
            return None;
        }
        if let Some(next) = self.status_next.filter(|&n| now < n) {
            return Some(next);
        }
        self.send(&format!("STATUS={}", status_line(workers)));
        self.status_sent = Some(workers);
        self.status_next = Some(now + STATUS_EVERY);
        None
    }

    /// `WATCHDOG=1` when due; when the next is due (for the loop's sleep).
    pub fn watchdog(&mut self, now: Instant) -> Option<Instant> {
        let (every, due) = (self.watchdog_every?, self.next_watchdog?);
        if now >= due {
            self.send("WATCHDOG=1");
            self.next_watchdog = Some(now + every);
        }
        self.next_watchdog
    }
}

fn status_line(workers: usize) -> String {
    format!(
        "{workers} background worker{} running",
        if workers == 1 { "" } else { "s" }
    )
}
