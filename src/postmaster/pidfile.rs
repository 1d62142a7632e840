//! The data directory and `DATADIR/postmaster.pid`: created 0700 if missing, one live supervisor
//! per directory, a stale lock file replaced. The file's lines: pid, data directory, start time
//! (seconds since the epoch), status (`starting`, `ready`, `stopping`), and the supervisor's
//! process start time in clock ticks since boot, by which clients tell the live supervisor from
//! a process that reused its pid (and signal it only through a pidfd checked to name it).

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

/// What a lock file says.
#[derive(Debug)]
pub struct Contents {
    pub pid: i32,
    pub datadir: PathBuf,
    /// Seconds since the epoch.
    pub started_at: u64,
    pub status: String,
    /// The supervisor process's start, in clock ticks since boot (absent in files of older
    /// versions).
    pub start_ticks: Option<u64>,
}

/// Parses a lock file's text; None when it is garbled (no pid on its first line).
pub fn parse(text: &str) -> Option<Contents> {
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines
        .first()?
        .trim()
        .parse()
        .ok()
        .filter(|&p: &i32| p > 0)?;
    Some(Contents {
        pid,
        datadir: PathBuf::from(lines.get(1).copied().unwrap_or_default()),
        started_at: lines
            .get(2)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0),
        status: lines.get(3).copied().unwrap_or("unknown").trim().to_owned(),
        start_ticks: lines.get(4).and_then(|l| l.trim().parse().ok()),
    })
}

/// Why no live supervisor could be found for a data directory.
#[derive(Debug)]
pub enum NoSupervisor {
    /// There is no lock file.
    NoLockFile,
    /// The lock file cannot be read (another user's directory, an I/O error).
    Unreadable(std::io::Error),
    /// The lock file has no pid.
    Garbled,
    /// The process it names is gone, or the pid now belongs to another process.
    NotRunning(i32),
    /// The process it names belongs to another user.
    OtherUser(i32),
}

/// The live supervisor of `datadir`: what its lock file says, and a pidfd checked to name the
/// process that wrote it (so signals through it can reach nobody else).
pub fn live_supervisor(
    datadir: &Path,
) -> Result<(Contents, crate::process::Identified), NoSupervisor> {
    let text = fs::read_to_string(datadir.join(FILE_NAME)).map_err(|e| match e.kind() {
        ErrorKind::NotFound => NoSupervisor::NoLockFile,
        _ => NoSupervisor::Unreadable(e),
    })?;
    let c = parse(&text).ok_or(NoSupervisor::Garbled)?;
    let identified = match c.start_ticks {
        Some(ticks) => crate::process::identify(c.pid, ticks),
        // A file of an older version: the pid alone.
        None => crate::process::start_ticks(c.pid)
            .ok_or(crate::process::NotThere::Gone)
            .and_then(|t| crate::process::identify(c.pid, t)),
    };
    match identified {
        Ok(id) => Ok((c, id)),
        Err(crate::process::NotThere::OtherUser) => Err(NoSupervisor::OtherUser(c.pid)),
        Err(_) => Err(NoSupervisor::NotRunning(c.pid)),
    }
}

/// This process's parent and grandparent: a lock file naming one of them is stale (after a
/// container restart pids repeat, and the shell that starts us may hold the old supervisor's).
fn ancestors() -> [i32; 2] {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    let grandparent = std::fs::read_to_string(format!("/proc/{parent}/stat"))
        .ok()
        .and_then(|s| {
            s[s.rfind(')')? + 1..]
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    [parent, grandparent]
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
                    // Live only if it names another process that is still the one that wrote
                    // it (same start time) and is not our parent or grandparent.
                    let other = match live_supervisor(datadir) {
                        Ok((c, _)) => c.pid,
                        Err(NoSupervisor::OtherUser(pid)) => pid,
                        Err(_) => 0,
                    };
                    if other != 0 && other != me && !ancestors().contains(&other) {
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

    /// Rewrites the file with a new status line (atomically, by rename). The temporary file is
    /// always created afresh (`O_EXCL`): a file or link planted under its name is removed, never
    /// followed nor written through.
    pub fn set_status(&self, status: &str) -> Result<(), StartupError> {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let ticks = crate::process::start_ticks(pid).unwrap_or(0);
        let text = format!(
            "{pid}\n{}\n{}\n{status}\n{ticks}\n",
            self.datadir.display(),
            self.started
        );
        let tmp = self.path.with_extension("pid.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = None;
            for _ in 0..10 {
                match OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)
                {
                    Ok(file) => {
                        f = Some(file);
                        break;
                    }
                    // unlink removes a planted link itself, not what it points to.
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => fs::remove_file(&tmp)?,
                    Err(e) => return Err(e),
                }
            }
            let mut f = f.ok_or_else(|| {
                std::io::Error::new(
                    ErrorKind::AlreadyExists,
                    "the temporary file keeps reappearing",
                )
            })?;
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
