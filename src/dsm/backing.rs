//! The memory behind every DSM segment: one memfd (anonymous shared memory with no name in the
//! file system), made by the supervisor, sized `RANGE` bytes per control-table item and sparse,
//! so a segment is the range of its item, mapped `MAP_SHARED` and zero until written. Destroying
//! a segment punches its range out (the pages go back to the kernel).
//!
//! Why a memfd rather than files under the data directory: nothing ever exists in the file
//! system, so a supervisor killed with `SIGKILL` cannot leave a segment behind (the memory goes
//! with the last process holding it), and pages are memory, as PostgreSQL's POSIX segments in
//! /dev/shm are, never written back to a disk. Workers inherit the descriptor at fork (it is
//! close-on-exec, so no program a worker runs gets it); a process attached from outside opens
//! it as /proc/SUPERVISOR/fd/N, which the kernel allows only to processes of the supervisor's
//! user (the ptrace access check), and checks it is the one the segment header names.

use crate::shmem::Segment;
use std::cell::Cell;
use std::sync::atomic::Ordering;

/// Bytes of the memfd reserved for each control-table item: the largest segment.
pub const RANGE: u64 = 1 << 40;

/// The name the memfd shows under /proc/PID/fd and /proc/PID/maps ("/memfd:bgworker.dsm").
pub const MEMFD_NAME: &std::ffi::CStr = c"bgworker.dsm";

/// This process's descriptor of the memory, and which one it is (the header's generation).
struct Local {
    fd: Cell<i32>,
    generation: Cell<u64>,
    /// The supervisor's count of the memories it made (supervisor only).
    made: Cell<u64>,
}

/// Process-local state; a process's one thread uses it (never from a signal handler).
struct ProcessLocal(Local);
// SAFETY: see above; the wrapper only lets the state be a static.
unsafe impl Sync for ProcessLocal {}

static LOCAL: ProcessLocal = ProcessLocal(Local {
    fd: Cell::new(-1),
    generation: Cell::new(0),
    made: Cell::new(0),
});

/// Supervisor: makes the memory for `seg`'s control table (a new one after each crash-restart,
/// so mappings a surviving attached process still holds never meet new segments), publishes it
/// in the header and closes the previous one.
pub fn make_in_supervisor(seg: &Segment) -> std::io::Result<()> {
    // SAFETY: memfd_create takes a NUL-terminated name and flags; returns a descriptor or -1.
    let fd = unsafe { libc::memfd_create(MEMFD_NAME.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let len = RANGE * seg.dsm_items().len() as u64;
    // SAFETY: plain system calls on our own descriptor; fstat writes into `st`.
    let ino = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::ftruncate(fd, len as libc::off_t) != 0 || libc::fstat(fd, &mut st) != 0 {
            let e = std::io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        st.st_ino
    };
    close_in_supervisor();
    let l = &LOCAL.0;
    l.made.set(l.made.get() + 1);
    l.fd.set(fd);
    l.generation.set(l.made.get());
    let h = seg.header();
    h.dsm_fd.store(fd, Ordering::Relaxed);
    h.dsm_ino.store(ino, Ordering::Relaxed);
    h.dsm_generation.store(l.made.get(), Ordering::Release);
    Ok(())
}

/// Supervisor: lets go of the memory (shutdown, or before a new one is made). Processes still
/// mapping segments keep them until they unmap; then the kernel frees the memory.
pub fn close_in_supervisor() {
    let l = &LOCAL.0;
    let fd = l.fd.replace(-1);
    if fd >= 0 {
        // SAFETY: closing the descriptor this module made.
        unsafe { libc::close(fd) };
    }
    l.generation.set(0);
}

/// Why the memory could not be reached (shown in the ERROR the caller raises).
#[derive(Clone, Copy, Debug)]
pub enum Unreachable {
    /// No supervisor has made it (the supervisor itself, before it is ready).
    NotMade,
    /// /proc/PID/fd/N could not be opened (errno).
    Open { pid: i32, errno: i32 },
    /// It was replaced (a crash-restart) each time it was opened.
    Changing,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Unreachable::NotMade => {
                write!(f, "dynamic shared memory is not available in this process")
            }
            Unreachable::Open { pid, errno } => write!(
                f,
                "could not open the dynamic shared memory of bgworkerd (PID {pid}): {}",
                std::io::Error::from_raw_os_error(errno)
            ),
            Unreachable::Changing => write!(
                f,
                "the dynamic shared memory of bgworkerd changed while it was being opened"
            ),
        }
    }
}

/// The descriptor of the current memory and its generation: inherited in a worker, opened
/// through /proc in an attached process (and again after a crash-restart made a new one).
/// Allocates nothing.
pub fn current(seg: &Segment) -> Result<(i32, u64), Unreachable> {
    let h = seg.header();
    let l = &LOCAL.0;
    for _ in 0..3 {
        let generation = h.dsm_generation.load(Ordering::Acquire);
        if generation == 0 {
            return Err(Unreachable::NotMade);
        }
        if l.fd.get() >= 0 && l.generation.get() == generation {
            return Ok((l.fd.get(), generation));
        }
        let fd_there = h.dsm_fd.load(Ordering::Relaxed);
        let ino = h.dsm_ino.load(Ordering::Relaxed);
        let pid = h.supervisor_pid.load(Ordering::Relaxed);
        let mut path = [0u8; 64];
        {
            use std::io::Write as _;
            let mut w = &mut path[..63];
            let _ = write!(w, "/proc/{pid}/fd/{fd_there}");
        }
        // SAFETY: a NUL-terminated path (the buffer's last byte is never written); open
        // returns a new descriptor or -1.
        let fd = unsafe {
            libc::open(
                path.as_ptr().cast(),
                libc::O_RDWR | libc::O_CLOEXEC | libc::O_NONBLOCK,
            )
        };
        if fd < 0 {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            return Err(Unreachable::Open { pid, errno });
        }
        // SAFETY: fstat writes into `st`.
        let same = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            libc::fstat(fd, &mut st) == 0
                && st.st_ino == ino
                && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
        };
        if !same || h.dsm_generation.load(Ordering::Acquire) != generation {
            // SAFETY: closing the descriptor opened above.
            unsafe { libc::close(fd) };
            continue; // replaced meanwhile: look again
        }
        let old = l.fd.replace(fd);
        if old >= 0 {
            // SAFETY: our previous descriptor of an older memory.
            unsafe { libc::close(old) };
        }
        l.generation.set(generation);
        return Ok((fd, generation));
    }
    Err(Unreachable::Changing)
}

/// The generation of the memory this process last used (0: none).
pub fn local_generation() -> u64 {
    LOCAL.0.generation.get()
}

/// Where item `index`'s range starts in the memory.
pub fn offset_of(index: usize) -> u64 {
    index as u64 * RANGE
}

/// Gives the pages of item `index`'s first `len` bytes back to the kernel (the range reads as
/// zeros again). Nobody maps the range any more when this is called.
pub fn punch(fd: i32, index: usize, len: usize) {
    let len = (len as u64).next_multiple_of(4096).max(4096);
    // SAFETY: fallocate on our descriptor; failure only leaves pages allocated.
    unsafe {
        libc::fallocate(
            fd,
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset_of(index) as libc::off_t,
            len as libc::off_t,
        );
    }
}
