//! The data directory and `DATADIR/postmaster.pid`: created 0700 if missing, one live supervisor
//! per directory, a stale lock file (dead pid) replaced. The file's lines: pid, data directory,
//! start time (seconds since the epoch), status (`starting`, `ready`, `stopping`).

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "postmaster.pid";

/// A start-up failure: message plus optional detail and hint.
#[derive(Debug)]
pub struct StartupError {
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl StartupError {
    pub fn new(message: String) -> Self {
        Self {
            message,
            detail: None,
            hint: None,
        }
    }
}

/// Creates the data directory if missing (0700) and checks an existing one: ours, and not
/// accessible to others.
pub fn prepare_datadir(dir: &Path) -> Result<PathBuf, StartupError> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                StartupError::new(format!(
                    "could not create data directory \"{}\": {e}",
                    dir.display()
                ))
            })?;
    }
    let abs = fs::canonicalize(dir).map_err(|e| {
        StartupError::new(format!(
            "could not access data directory \"{}\": {e}",
            dir.display()
        ))
    })?;
    let meta = fs::metadata(&abs).map_err(|e| {
        StartupError::new(format!(
            "could not read data directory \"{}\": {e}",
            abs.display()
        ))
    })?;
    if !meta.is_dir() {
        return Err(StartupError::new(format!(
            "specified data directory \"{}\" is not a directory",
            abs.display()
        )));
    }
    // SAFETY: geteuid has no preconditions.
    if meta.uid() != unsafe { libc::geteuid() } {
        let mut e = StartupError::new(format!(
            "data directory \"{}\" has wrong ownership",
            abs.display()
        ));
        e.hint =
            Some("The supervisor must be started by the user that owns the data directory.".into());
        return Err(e);
    }
    if meta.permissions().mode() & 0o027 != 0 {
        let mut e = StartupError::new(format!(
            "data directory \"{}\" has invalid permissions",
            abs.display()
        ));
        e.detail = Some("Permissions should be u=rwx (0700) or u=rwx,g=rx (0750).".into());
        return Err(e);
    }
    Ok(abs)
}

/// The lock file of a running supervisor.
pub struct PidFile {
    path: PathBuf,
    datadir: PathBuf,
    started: u64,
}

fn process_exists(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence/permission.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

impl PidFile {
    /// Takes the lock: refuses while another live supervisor holds it, replaces a stale file.
    pub fn create(datadir: &Path) -> Result<PidFile, StartupError> {
        let path = datadir.join(FILE_NAME);
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        for _ in 0..100 {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => {
                    let started = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    let pf = PidFile {
                        path,
                        datadir: datadir.to_path_buf(),
                        started,
                    };
                    pf.set_status("starting")?;
                    return Ok(pf);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let text = fs::read_to_string(&path).unwrap_or_default();
                    let other: i32 = text
                        .lines()
                        .next()
                        .and_then(|l| l.trim().parse().ok())
                        .unwrap_or(0);
                    if other != me && process_exists(other) {
                        let mut err =
                            StartupError::new(format!("lock file \"{FILE_NAME}\" already exists"));
                        err.hint = Some(format!(
                            "Is another bgworkerd (PID {other}) running in data directory \"{}\"?",
                            datadir.display()
                        ));
                        return Err(err);
                    }
                    // Stale (its supervisor is gone, or the file is empty or garbled): replace it.
                    let _ = fs::remove_file(&path);
                }
                Err(e) => {
                    return Err(StartupError::new(format!(
                        "could not create lock file \"{}\": {e}",
                        path.display()
                    )))
                }
            }
        }
        Err(StartupError::new(format!(
            "could not create lock file \"{}\": it keeps reappearing",
            path.display()
        )))
    }

    /// Rewrites the file with a new status line (atomically, by rename).
    pub fn set_status(&self, status: &str) -> Result<(), StartupError> {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let text = format!(
            "{pid}\n{}\n{}\n{status}\n",
            self.datadir.display(),
            self.started
        );
        let tmp = self.path.with_extension("pid.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            StartupError::new(format!(
                "could not write lock file \"{}\": {e}",
                self.path.display()
            ))
        })
    }

    pub fn remove(&self) {
        let _ = fs::remove_file(&self.path);
    }
}
