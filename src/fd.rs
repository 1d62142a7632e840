//! Files a worker opens through PostgreSQL's `storage/fd.h` calls (`AllocateFile`,
//! `AllocateDir`, `OpenTransientFile`, `OpenPipeStream`), kept in a list as PostgreSQL keeps them:
//! at most `max_safe_fds / 3` at once, and whatever is still open is closed at the end of the
//! transaction (with a WARNING at commit) and when the process exits, so an ERROR between open
//! and close leaks nothing. Also `durable_rename`, `durable_unlink` and `fsync_fname`.
//!
//! Resource owners do not track these (nor do PostgreSQL's): they belong to the transaction.

use crate::pg::types::{LOG, PANIC, WARNING};
use crate::pg::{make_sqlstate, raise_fmt, report_file_access, report_fmt, Text};
use libc::{c_char, c_int, mode_t, DIR, FILE};
use parking_lot::Mutex;
use std::ffi::CStr;

/// One open descriptor.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Desc {
    File(*mut FILE),
    Pipe(*mut FILE),
    Dir(*mut DIR),
    RawFd(c_int),
}

// SAFETY: the pointers are only used by the (single) thread that runs module code.
unsafe impl Send for Desc {}

struct Descs {
    open: Vec<Desc>,
    /// How many may be open at once (0: not computed yet).
    max: usize,
}

static DESCS: Mutex<Descs> = Mutex::new(Descs {
    open: Vec::new(),
    max: 0,
});

/// PostgreSQL's limits: descriptors kept free for the C library and the like, and the fewest a
/// process must be able to open.
const NUM_RESERVED_FDS: usize = 10;
const FD_MINFREE: usize = 48;

/// The `max_files_per_process` setting (read once, when the limit is first needed).
pub fn max_files_per_process() -> usize {
    // SAFETY: a plain int written by the settings code of this (single-threaded) process.
    let n = unsafe { crate::pg::max_files_per_process };
    n.max(0) as usize
}

/// `max_safe_fds / 3`, as PostgreSQL bounds its allocated descriptors: what the process may
/// still open (its `RLIMIT_NOFILE` and `max_files_per_process`, less what is open already and
/// `NUM_RESERVED_FDS`), a third of it; at least `FD_MINFREE / 3`.
fn compute_max() -> usize {
    let already_open =
        std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count().saturating_sub(1));
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let rlimit = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    } else {
        usize::MAX
    };
    let max_files = max_files_per_process();
    let usable = rlimit.min(max_files).saturating_sub(already_open);
    let safe = usable.saturating_sub(NUM_RESERVED_FDS).max(FD_MINFREE);
    safe / 3
}

/// Reserves room for one more descriptor, or raises ERROR "exceeded maxAllocatedDescs (N) while
/// trying to <what> \"<name>\"" (as PostgreSQL) when the limit is reached.
fn reserve(what: &str, name: &CStr) {
    let full = {
        let mut d = DESCS.lock();
        if d.max == 0 {
            d.max = compute_max();
        }
        (d.open.len() >= d.max).then_some(d.max)
    };
    if let Some(max) = full {
        raise_fmt(
            crate::pg::types::ERROR,
            make_sqlstate(b"53000"),
            format_args!(
                "exceeded maxAllocatedDescs ({max}) while trying to {what} \"{}\"",
                Text(name.to_bytes())
            ),
        );
    }
}

fn remember(desc: Desc) {
    DESCS.lock().open.push(desc);
}

/// Forgets `desc` if it is in the list; whether it was.
fn forget(desc: Desc) -> bool {
    let mut d = DESCS.lock();
    match d.open.iter().rposition(|&x| x == desc) {
        Some(i) => {
            d.open.swap_remove(i);
            true
        }
        None => false,
    }
}

/// How many descriptors are open through these calls.
pub fn open_count() -> usize {
    DESCS.lock().open.len()
}

fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn set_errno(e: c_int) {
    // SAFETY: errno is thread-local.
    unsafe { *libc::__errno_location() = e };
}

/// After a failed open: PostgreSQL's LOG line when the process ran out of descriptors (it would
/// close one of its cached files and retry; there are none here). Keeps errno.
fn note_out_of_descriptors() {
    let e = errno();
    if e == libc::EMFILE || e == libc::ENFILE {
        report_file_access(
            LOG,
            e,
            format_args!("out of file descriptors; release and retry"),
        );
        set_errno(e);
    }
}

/// `AllocateFile`: `fopen`, remembered; NULL with errno on failure.
///
/// # Safety
/// `name` and `mode` NUL-terminated.
pub unsafe fn allocate_file(name: *const c_char, mode: *const c_char) -> *mut FILE {
    // SAFETY: as the caller promises.
    unsafe {
        reserve("open file", CStr::from_ptr(name));
        let f = libc::fopen(name, mode);
        if f.is_null() {
            note_out_of_descriptors();
        } else {
            remember(Desc::File(f));
        }
        f
    }
}

/// `OpenPipeStream`: `popen` with SIGPIPE at its default in the child, remembered.
///
/// # Safety
/// `command` and `mode` NUL-terminated.
pub unsafe fn open_pipe_stream(command: *const c_char, mode: *const c_char) -> *mut FILE {
    // SAFETY: as the caller promises; the handler is restored whatever popen does.
    unsafe {
        reserve("execute command", CStr::from_ptr(command));
        libc::fflush(std::ptr::null_mut());
        let old = crate::worker::signals::install(libc::SIGPIPE, libc::SIG_DFL);
        set_errno(0);
        let f = libc::popen(command, mode);
        let e = errno();
        if let Some(old) = old {
            crate::worker::signals::install(libc::SIGPIPE, old);
        }
        set_errno(e);
        if f.is_null() {
            note_out_of_descriptors();
        } else {
            remember(Desc::Pipe(f));
        }
        f
    }
}

/// `AllocateDir`: `opendir`, remembered; NULL with errno on failure.
///
/// # Safety
/// `dirname` NUL-terminated.
pub unsafe fn allocate_dir(dirname: *const c_char) -> *mut DIR {
    // SAFETY: as the caller promises.
    unsafe {
        reserve("open directory", CStr::from_ptr(dirname));
        let d = libc::opendir(dirname);
        if d.is_null() {
            note_out_of_descriptors();
        } else {
            remember(Desc::Dir(d));
        }
        d
    }
}

/// `BasicOpenFilePerm`: `open`, not remembered (the caller closes it).
///
/// # Safety
/// `name` NUL-terminated.
pub unsafe fn basic_open(name: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    // SAFETY: as the caller promises.
    let fd = unsafe { libc::open(name, flags, mode as libc::c_uint) };
    if fd < 0 {
        note_out_of_descriptors();
    }
    fd
}

/// `OpenTransientFilePerm`: `open`, remembered; -1 with errno on failure.
///
/// # Safety
/// `name` NUL-terminated.
pub unsafe fn open_transient(name: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    // SAFETY: as the caller promises.
    unsafe {
        reserve("open file", CStr::from_ptr(name));
        let fd = basic_open(name, flags, mode);
        if fd >= 0 {
            remember(Desc::RawFd(fd));
        }
        fd
    }
}

/// Closes a descriptor (`fclose`, `pclose`, `closedir`, `close`); its result.
fn close(desc: Desc) -> c_int {
    // SAFETY: each was opened by the matching call and is closed once (it was just forgotten).
    unsafe {
        match desc {
            Desc::File(f) => libc::fclose(f),
            Desc::Pipe(f) => libc::pclose(f),
            Desc::Dir(d) => libc::closedir(d),
            Desc::RawFd(fd) => libc::close(fd),
        }
    }
}

/// `FreeFile`, `ClosePipeStream`, `FreeDir`, `CloseTransientFile`: closes `desc`; one that was
/// not opened by the matching call gets PostgreSQL's WARNING and is closed anyway.
pub fn free(desc: Desc, function: &str, opener: &str, what: &str) -> c_int {
    if !forget(desc) {
        report_fmt(
            WARNING,
            0,
            format_args!("{what} passed to {function} was not obtained from {opener}"),
        );
    }
    close(desc)
}

/// `ReadDirExtended`: the next entry, or NULL at the end. A NULL `dir` (a failed
/// `AllocateDir`, errno still set) and a read error are reported at `elevel` ("could not open
/// directory" / "could not read directory"), then NULL.
///
/// # Safety
/// `dir` NULL or open; `dirname` NUL-terminated.
pub unsafe fn read_dir(dir: *mut DIR, dirname: *const c_char, elevel: c_int) -> *mut libc::dirent {
    // SAFETY: as the caller promises.
    unsafe {
        let name = Text(CStr::from_ptr(dirname).to_bytes());
        if dir.is_null() {
            let e = errno();
            report_file_access(
                elevel,
                e,
                format_args!("could not open directory \"{name}\""),
            );
            return std::ptr::null_mut();
        }
        set_errno(0);
        let entry = libc::readdir(dir);
        if entry.is_null() {
            let e = errno();
            if e != 0 {
                report_file_access(
                    elevel,
                    e,
                    format_args!("could not read directory \"{name}\""),
                );
            }
        }
        entry
    }
}

/// Closes everything still open: at the end of a transaction (a WARNING naming how many at
/// commit, as PostgreSQL) and at process exit.
pub fn close_all(is_commit: bool) {
    // At exit the list may be held by the code a signal handler interrupted: leave it then.
    let Some(mut d) = DESCS.try_lock() else {
        return;
    };
    let open = std::mem::take(&mut d.open);
    drop(d);
    if is_commit && !open.is_empty() {
        crate::elog::log(
            WARNING,
            format_args!(
                "{} temporary files and directories not closed at end-of-transaction",
                open.len()
            ),
        );
    }
    for desc in open {
        close(desc);
    }
}

/// `AtEOXact_Files`: what the transaction opened is closed.
pub fn at_end_of_transaction(is_commit: bool) {
    close_all(is_commit);
}

// ---- durable operations ----------------------------------------------------------------------

/// `fsync_fname_ext`: fsyncs a file or directory; problems are reported at `elevel` and give
/// -1. A directory that cannot be opened for reading (EISDIR, EACCES) is skipped, as are
/// `ignore_perm` files that cannot be opened (EACCES).
///
/// # Safety
/// `fname` NUL-terminated.
pub unsafe fn fsync_fname_ext(
    fname: *const c_char,
    isdir: bool,
    ignore_perm: bool,
    elevel: c_int,
) -> c_int {
    // SAFETY: as the caller promises.
    unsafe {
        let name = Text(CStr::from_ptr(fname).to_bytes());
        let flags = if isdir { libc::O_RDONLY } else { libc::O_RDWR };
        let fd = open_transient(fname, flags, 0o600);
        if fd < 0 {
            let e = errno();
            if (isdir && (e == libc::EISDIR || e == libc::EACCES))
                || (ignore_perm && e == libc::EACCES)
            {
                return 0;
            }
            report_file_access(elevel, e, format_args!("could not open file \"{name}\""));
            return -1;
        }
        if libc::fsync(fd) != 0 {
            let e = errno();
            if !(isdir && (e == libc::EBADF || e == libc::EINVAL)) {
                free(
                    Desc::RawFd(fd),
                    "CloseTransientFile",
                    "OpenTransientFile",
                    "fd",
                );
                report_file_access(elevel, e, format_args!("could not fsync file \"{name}\""));
                return -1;
            }
        }
        if free(
            Desc::RawFd(fd),
            "CloseTransientFile",
            "OpenTransientFile",
            "fd",
        ) != 0
        {
            let e = errno();
            report_file_access(elevel, e, format_args!("could not close file \"{name}\""));
            return -1;
        }
        0
    }
}

/// The directory holding `path`: a prefix of it, or "." for a bare name.
fn parent_of(path: &[u8]) -> &[u8] {
    let mut p = path;
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    match p.iter().rposition(|&b| b == b'/') {
        None => b".",
        Some(0) => b"/",
        Some(i) => {
            let mut end = i;
            while end > 1 && p[end - 1] == b'/' {
                end -= 1;
            }
            &p[..end]
        }
    }
}

/// fsyncs the directory holding `fname` (its name cut to `MAXPGPATH` bytes, as PostgreSQL).
///
/// # Safety
/// `fname` NUL-terminated.
unsafe fn fsync_parent_path(fname: *const c_char, elevel: c_int) -> c_int {
    // SAFETY: as the caller promises.
    let path = unsafe { CStr::from_ptr(fname) }.to_bytes();
    let parent = parent_of(path);
    let mut buf = [0 as c_char; crate::pg::types::MAXPGPATH as usize];
    let n = parent.len().min(buf.len() - 1);
    for (dst, &b) in buf.iter_mut().zip(&parent[..n]) {
        *dst = b as c_char;
    }
    // SAFETY: buf is NUL-terminated and lives on this frame (nothing to drop if it raises).
    unsafe { fsync_fname_ext(buf.as_ptr(), true, false, elevel) }
}

/// `durable_rename`: fsyncs `oldfile` (and `newfile` if it exists), renames, fsyncs the file
/// under its new name and its directory; problems are reported at `elevel` and give -1.
///
/// # Safety
/// Both NUL-terminated.
pub unsafe fn durable_rename(
    oldfile: *const c_char,
    newfile: *const c_char,
    elevel: c_int,
) -> c_int {
    // SAFETY: as the caller promises.
    unsafe {
        if fsync_fname_ext(oldfile, false, false, elevel) != 0 {
            return -1;
        }
        let new_name = Text(CStr::from_ptr(newfile).to_bytes());
        let fd = open_transient(newfile, libc::O_RDWR, 0o600);
        if fd < 0 {
            let e = errno();
            if e != libc::ENOENT {
                report_file_access(
                    elevel,
                    e,
                    format_args!("could not open file \"{new_name}\""),
                );
                return -1;
            }
        } else {
            if libc::fsync(fd) != 0 {
                let e = errno();
                free(
                    Desc::RawFd(fd),
                    "CloseTransientFile",
                    "OpenTransientFile",
                    "fd",
                );
                report_file_access(
                    elevel,
                    e,
                    format_args!("could not fsync file \"{new_name}\""),
                );
                return -1;
            }
            if free(
                Desc::RawFd(fd),
                "CloseTransientFile",
                "OpenTransientFile",
                "fd",
            ) != 0
            {
                let e = errno();
                report_file_access(
                    elevel,
                    e,
                    format_args!("could not close file \"{new_name}\""),
                );
                return -1;
            }
        }
        if libc::rename(oldfile, newfile) < 0 {
            let e = errno();
            let old_name = Text(CStr::from_ptr(oldfile).to_bytes());
            report_file_access(
                elevel,
                e,
                format_args!("could not rename file \"{old_name}\" to \"{new_name}\""),
            );
            return -1;
        }
        if fsync_fname_ext(newfile, false, false, elevel) != 0 {
            return -1;
        }
        fsync_parent_path(newfile, elevel)
    }
}

/// `durable_unlink`: removes a file and fsyncs its directory.
///
/// # Safety
/// `fname` NUL-terminated.
pub unsafe fn durable_unlink(fname: *const c_char, elevel: c_int) -> c_int {
    // SAFETY: as the caller promises.
    unsafe {
        if libc::unlink(fname) < 0 {
            let e = errno();
            let name = Text(CStr::from_ptr(fname).to_bytes());
            report_file_access(elevel, e, format_args!("could not remove file \"{name}\""));
            return -1;
        }
        fsync_parent_path(fname, elevel)
    }
}

/// `fsync_fname`: as PostgreSQL with `data_sync_retry` off, a failure is a PANIC (the data may
/// be lost: retrying an fsync after a failure proves nothing).
///
/// # Safety
/// `fname` NUL-terminated.
pub unsafe fn fsync_fname(fname: *const c_char, isdir: bool) {
    // SAFETY: as the caller promises.
    unsafe { fsync_fname_ext(fname, isdir, false, PANIC) };
}

#[cfg(test)]
mod tests {
    use super::parent_of;

    #[test]
    fn parent_directories() {
        assert_eq!(parent_of(b"/a/b/c"), b"/a/b");
        assert_eq!(parent_of(b"/a//b//"), b"/a");
        assert_eq!(parent_of(b"/a"), b"/");
        assert_eq!(parent_of(b"name"), b".");
        assert_eq!(parent_of(b"dir/name"), b"dir");
        assert_eq!(parent_of(b"dir//name"), b"dir");
    }
}
