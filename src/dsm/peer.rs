//! Knowing when the process at the other end of a queue is gone, without asking anyone: a pidfd
//! of it, which polls readable once it has exited (even before it is reaped), waited on beside
//! the latch. A few are kept per process, opened the first time a wait needs one.
//!
//! PostgreSQL needs none of this: a backend that dies without detaching takes the whole server
//! through a crash-restart. Here a process attached from outside can be killed without one, and
//! its workers must still see it gone.

use std::cell::Cell;

const CACHED: usize = 16;

#[derive(Clone, Copy)]
struct Entry {
    pid: i32,
    fd: i32,
    used: u64,
}

struct Cache {
    entries: [Cell<Entry>; CACHED],
    clock: Cell<u64>,
}

struct ProcessLocal(Cache);
// SAFETY: used by a process's one thread, never from a signal handler.
unsafe impl Sync for ProcessLocal {}

const EMPTY: Entry = Entry {
    pid: 0,
    fd: -1,
    used: 0,
};

static CACHE: ProcessLocal = ProcessLocal(Cache {
    entries: [const { Cell::new(EMPTY) }; CACHED],
    clock: Cell::new(0),
});

fn my_pid() -> i32 {
    // SAFETY: reading this process's own pid global (set at start, never changed after).
    let p = unsafe { crate::pg::MyProcPid };
    if p > 0 {
        p
    } else {
        // SAFETY: getpid has no preconditions.
        unsafe { libc::getpid() }
    }
}

/// A descriptor that polls readable once process `pid` has exited; -1 when there is none to
/// watch (our own pid, no such process, or no pidfd support: the caller then relies on the
/// latch alone). `pid` is looked up now: a process that already exited gives -1 (ESRCH) and the
/// caller learns it from `gone`.
pub fn watch(pid: i32) -> i32 {
    if pid <= 0 || pid == my_pid() {
        return -1;
    }
    let c = &CACHE.0;
    let now = c.clock.get() + 1;
    c.clock.set(now);
    for e in &c.entries {
        let mut v = e.get();
        if v.pid == pid && v.fd >= 0 {
            v.used = now;
            e.set(v);
            return v.fd;
        }
    }
    // SAFETY: pidfd_open takes a pid and flags; a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if fd < 0 {
        return -1;
    }
    // SAFETY: F_SETFD on our own new descriptor.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    let victim = c
        .entries
        .iter()
        .min_by_key(|e| e.get().used)
        .expect("the cache has entries");
    let old = victim.get();
    if old.fd >= 0 {
        // SAFETY: a pidfd this cache opened.
        unsafe { libc::close(old.fd) };
    }
    victim.set(Entry { pid, fd, used: now });
    fd
}

/// Whether process `pid` is definitely gone: exited (its pidfd is readable, or it no longer
/// exists). Our own pid is never gone.
pub fn gone(pid: i32) -> bool {
    if pid <= 0 || pid == my_pid() {
        return false;
    }
    let fd = watch(pid);
    if fd < 0 {
        // No pidfd: gone if no such process exists (a zombie still counts as alive here).
        // SAFETY: kill with signal 0 only checks for existence.
        return unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polling one descriptor without waiting.
    unsafe { libc::poll(&mut p, 1, 0) > 0 }
}

/// Forgets `pid`'s descriptor (after it was seen gone: a later process may get that pid).
pub fn forget(pid: i32) {
    for e in &CACHE.0.entries {
        let v = e.get();
        if v.pid == pid && v.fd >= 0 {
            // SAFETY: a pidfd this cache opened.
            unsafe { libc::close(v.fd) };
            e.set(EMPTY);
        }
    }
}

/// Whether process `pid` exists and is not a zombie (for sweeping PGPROCs of the dead).
pub fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence.
    if unsafe { libc::kill(pid, 0) } != 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    {
        return false;
    }
    let mut buf = [0u8; 512];
    let path = format!("/proc/{pid}/stat\0");
    // SAFETY: NUL-terminated path; read into our buffer; close our descriptor.
    let n = unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return true; // cannot tell: count it alive
        }
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        n
    };
    if n <= 0 {
        return true;
    }
    let text = &buf[..n as usize];
    match text.iter().rposition(|&b| b == b')') {
        Some(i) => !matches!(text.get(i + 2), Some(b'Z') | Some(b'X')),
        None => true,
    }
}
