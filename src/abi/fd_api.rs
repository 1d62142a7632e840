//! Exports: files and directories opened the way PostgreSQL's `storage/fd.h` opens them, so they
//! are counted and closed at the end of the transaction or the process (logic in `crate::fd`).
//! Declared by hand in include/storage/fd.h, as PostgreSQL 15 declares them.
//!
//! Policy `raises`: opening past the limit is an ERROR, and so are the reports at `elevel` >=
//! ERROR that `ReadDir`, `durable_rename` and friends make.

use crate::fd::{self, Desc};
use crate::pg::types::ERROR;
use libc::{c_char, c_int, dirent, mode_t, DIR, FILE};

/// PostgreSQL's `pg_file_create_mode`: new files are readable and writable by their owner only.
const FILE_CREATE_MODE: mode_t = 0o600;

/// `AllocateFile`: `fopen`, counted and closed at the end of the transaction; NULL with errno
/// on failure (the caller reports it).
///
/// # Safety
/// `name` and `mode` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn AllocateFile(name: *const c_char, mode: *const c_char) -> *mut FILE {
    export!(raises, AllocateFile, {
        // SAFETY: as the caller promises.
        unsafe { fd::allocate_file(name, mode) }
    })
}

/// `FreeFile`: `fclose` of a file from `AllocateFile` (another gets a WARNING and is closed).
///
/// # Safety
/// `file` an open stream.
#[no_mangle]
pub unsafe extern "C" fn FreeFile(file: *mut FILE) -> c_int {
    export!(raises, FreeFile, {
        fd::free(Desc::File(file), "FreeFile", "AllocateFile", "file")
    })
}

/// `OpenPipeStream`: `popen` (the command runs with SIGPIPE at its default), counted.
///
/// # Safety
/// `command` and `mode` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn OpenPipeStream(command: *const c_char, mode: *const c_char) -> *mut FILE {
    export!(raises, OpenPipeStream, {
        // SAFETY: as the caller promises.
        unsafe { fd::open_pipe_stream(command, mode) }
    })
}

/// `ClosePipeStream`: `pclose` of a stream from `OpenPipeStream`; the command's wait status.
///
/// # Safety
/// `file` an open pipe stream.
#[no_mangle]
pub unsafe extern "C" fn ClosePipeStream(file: *mut FILE) -> c_int {
    export!(raises, ClosePipeStream, {
        fd::free(
            Desc::Pipe(file),
            "ClosePipeStream",
            "OpenPipeStream",
            "file",
        )
    })
}

/// `AllocateDir`: `opendir`, counted; NULL with errno on failure (`ReadDir` reports it).
///
/// # Safety
/// `dirname` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn AllocateDir(dirname: *const c_char) -> *mut DIR {
    export!(raises, AllocateDir, {
        // SAFETY: as the caller promises.
        unsafe { fd::allocate_dir(dirname) }
    })
}

/// `ReadDir`: the next entry or NULL; a failed `AllocateDir` (NULL `dir`) or read is an ERROR
/// ("could not open directory \"...\": %m").
///
/// # Safety
/// `dir` NULL or from `AllocateDir`; `dirname` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ReadDir(dir: *mut DIR, dirname: *const c_char) -> *mut dirent {
    export!(raises, ReadDir, {
        // SAFETY: as the caller promises.
        unsafe { fd::read_dir(dir, dirname, ERROR) }
    })
}

/// `ReadDirExtended`: as `ReadDir`, reporting at `elevel` (below ERROR: NULL after the report).
///
/// # Safety
/// As for `ReadDir`.
#[no_mangle]
pub unsafe extern "C" fn ReadDirExtended(
    dir: *mut DIR,
    dirname: *const c_char,
    elevel: c_int,
) -> *mut dirent {
    export!(raises, ReadDirExtended, {
        // SAFETY: as the caller promises.
        unsafe { fd::read_dir(dir, dirname, elevel) }
    })
}

/// `FreeDir`: `closedir` of a directory from `AllocateDir`; NULL is ignored.
///
/// # Safety
/// `dir` NULL or open.
#[no_mangle]
pub unsafe extern "C" fn FreeDir(dir: *mut DIR) -> c_int {
    export!(raises, FreeDir, {
        if dir.is_null() {
            return 0;
        }
        fd::free(Desc::Dir(dir), "FreeDir", "AllocateDir", "dir")
    })
}

/// `OpenTransientFile`: `open` (new files mode 0600), counted; -1 with errno on failure.
///
/// # Safety
/// `fileName` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn OpenTransientFile(fileName: *const c_char, fileFlags: c_int) -> c_int {
    export!(raises, OpenTransientFile, {
        // SAFETY: as the caller promises.
        unsafe { fd::open_transient(fileName, fileFlags, FILE_CREATE_MODE) }
    })
}

/// `OpenTransientFilePerm`: with the mode for a new file.
///
/// # Safety
/// `fileName` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn OpenTransientFilePerm(
    fileName: *const c_char,
    fileFlags: c_int,
    fileMode: mode_t,
) -> c_int {
    export!(raises, OpenTransientFilePerm, {
        // SAFETY: as the caller promises.
        unsafe { fd::open_transient(fileName, fileFlags, fileMode) }
    })
}

/// `CloseTransientFile`: `close` of a descriptor from `OpenTransientFile`.
#[no_mangle]
pub extern "C" fn CloseTransientFile(fd: c_int) -> c_int {
    export!(raises, CloseTransientFile, {
        fd::free(
            Desc::RawFd(fd),
            "CloseTransientFile",
            "OpenTransientFile",
            "fd",
        )
    })
}

/// `BasicOpenFile`: a plain `open` (new files mode 0600), not counted: the caller closes it.
///
/// # Safety
/// `fileName` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn BasicOpenFile(fileName: *const c_char, fileFlags: c_int) -> c_int {
    export!(raises, BasicOpenFile, {
        // SAFETY: as the caller promises.
        unsafe { fd::basic_open(fileName, fileFlags, FILE_CREATE_MODE) }
    })
}

/// `BasicOpenFilePerm`: with the mode for a new file.
///
/// # Safety
/// `fileName` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn BasicOpenFilePerm(
    fileName: *const c_char,
    fileFlags: c_int,
    fileMode: mode_t,
) -> c_int {
    export!(raises, BasicOpenFilePerm, {
        // SAFETY: as the caller promises.
        unsafe { fd::basic_open(fileName, fileFlags, fileMode) }
    })
}

/// `durable_rename`: renames so that a crash leaves either name in place, with both files and
/// the directory fsynced; problems are reported at `elevel` and return -1.
///
/// # Safety
/// Both NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn durable_rename(
    oldfile: *const c_char,
    newfile: *const c_char,
    elevel: c_int,
) -> c_int {
    export!(raises, durable_rename, {
        // SAFETY: as the caller promises.
        unsafe { fd::durable_rename(oldfile, newfile, elevel) }
    })
}

/// `durable_unlink`: removes a file and fsyncs its directory; problems at `elevel`, -1.
///
/// # Safety
/// `fname` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn durable_unlink(fname: *const c_char, elevel: c_int) -> c_int {
    export!(raises, durable_unlink, {
        // SAFETY: as the caller promises.
        unsafe { fd::durable_unlink(fname, elevel) }
    })
}

/// `fsync_fname`: fsyncs a file or directory; a failure is a PANIC, as in PostgreSQL.
///
/// # Safety
/// `fname` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fsync_fname(fname: *const c_char, isdir: bool) {
    export!(raises, fsync_fname, {
        // SAFETY: as the caller promises.
        unsafe { fd::fsync_fname(fname, isdir) }
    })
}

/// `AtEOXact_Files`: closes what was opened through these calls (a WARNING at commit if
/// anything was left open). The transaction code calls it; so may a module that runs its own.
#[no_mangle]
pub extern "C" fn AtEOXact_Files(isCommit: bool) {
    export!(raises, AtEOXact_Files, {
        fd::at_end_of_transaction(isCommit)
    })
}
