//! The collector's files, as PostgreSQL's syslogger names and opens them: `log_directory` (relative
//! to the data directory), `log_filename` as a strftime pattern in `log_timezone` (`.csv` and
//! `.json` in place of a final `.log` for those formats), created with `log_file_mode`, rotated at
//! multiples of `log_rotation_age` in local time, and `current_logfiles` in the data directory.

use super::buf::Buf;
use super::config::{DEST_CSVLOG, DEST_JSONLOG, DEST_STDERR};
use super::timezone::{strftime, Zone};
use libc::c_int;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The file naming the current log files (PostgreSQL's `LOG_METAINFO_DATAFILE`).
pub const CURRENT_LOGFILES: &str = "current_logfiles";
/// What `bgworkerctl logrotate` creates in the data directory before signalling (as `pg_ctl`).
pub const LOGROTATE_SIGNAL_FILE: &str = "logrotate";

/// The three file formats: destination bit, name in `current_logfiles`, file suffix.
pub const FORMATS: [(u8, &str, Option<&str>); 3] = [
    (DEST_STDERR, "stderr", None),
    (DEST_CSVLOG, "csvlog", Some(".csv")),
    (DEST_JSONLOG, "jsonlog", Some(".json")),
];

/// A log file's name as `current_logfiles` lists it: `log_directory/` and the pattern expanded
/// for `t`; with a suffix, a final `.log` is replaced by it (otherwise it is appended).
pub fn file_name(
    directory: &str,
    pattern: &str,
    zone: &Zone,
    t: i64,
    suffix: Option<&str>,
) -> String {
    let mut storage = [0u8; 1024];
    let mut b = Buf::new(&mut storage);
    b.push(directory.as_bytes());
    b.byte(b'/');
    strftime(&mut b, pattern.as_bytes(), &zone.localtime(t), t);
    let mut name = String::from_utf8_lossy(b.as_bytes()).into_owned();
    if let Some(suffix) = suffix {
        if name.len() > 4 && name.ends_with(".log") {
            name.truncate(name.len() - 4);
        }
        name.push_str(suffix);
    }
    name
}

/// A name from `file_name` as a path (relative ones are in the data directory).
pub fn resolve(datadir: &Path, name: &str) -> PathBuf {
    if name.starts_with('/') {
        PathBuf::from(name)
    } else {
        datadir.join(name)
    }
}

/// Creates `log_directory` (and its parents) if missing, with the data directory's permissions
/// (the supervisor's umask: the owner only, or the group too when the data directory grants it).
pub fn make_directory(datadir: &Path, directory: &str) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o777)
        .create(resolve(datadir, directory))
}

/// Opens a log file for appending (or truncated), created with exactly `mode` plus the owner's
/// write bit, as PostgreSQL creates it. Never waits: a FIFO or a device planted under that name
/// is refused, not opened.
pub fn open(path: &Path, mode: c_int, truncate: bool) -> std::io::Result<std::fs::File> {
    let mask = !(mode as libc::mode_t | libc::S_IWUSR) & 0o777;
    // SAFETY: umask only changes this process's mask; it is set back at once (the callers are
    // single-threaded).
    let old = unsafe { libc::umask(mask) };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .append(!truncate)
        .truncate(truncate)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .mode(0o666)
        .open(path);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let file = file?;
    if !file.metadata()?.file_type().is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// The next time > `now` that is a multiple of `age_minutes` in local time (PostgreSQL's
/// `set_next_rotation_time`); `None` when rotation by age is off.
pub fn next_rotation(now: i64, zone: &Zone, age_minutes: c_int) -> Option<i64> {
    if age_minutes <= 0 {
        return None;
    }
    let interval = i64::from(age_minutes) * 60;
    let off = i64::from(zone.local_type(now).utoff);
    let local = now + off;
    Some(local - local.rem_euclid(interval) + interval - off)
}

/// Writes `current_logfiles` (through a temporary file renamed over it): one `format path`
/// line per file destination in `destinations` that has a file. With none, the file is
/// removed. Created with the data directory's permissions (the process's umask).
pub fn write_current_logfiles(
    datadir: &Path,
    destinations: u8,
    names: &[Option<&str>; 3],
) -> std::io::Result<()> {
    let path = datadir.join(CURRENT_LOGFILES);
    if destinations & (DEST_STDERR | DEST_CSVLOG | DEST_JSONLOG) == 0 {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let mut text = String::new();
    for ((bit, label, _), name) in FORMATS.iter().zip(names) {
        if let Some(name) = name {
            if destinations & bit != 0 {
                text.push_str(label);
                text.push(' ');
                text.push_str(name);
                text.push('\n');
            }
        }
    }
    let tmp = datadir.join(format!("{CURRENT_LOGFILES}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o666)
        .custom_flags(libc::O_CLOEXEC)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    drop(f);
    std::fs::rename(&tmp, &path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::timezone::days_from_civil;

    #[test]
    fn names_follow_the_pattern_and_the_format() {
        let z = Zone::utc();
        let t = days_from_civil(2026, 11, 25) * 86_400 + 2 * 3600 + 40 * 60 + 31;
        let p = "postgresql-%Y-%m-%d_%H%M%S.log";
        assert_eq!(
            file_name("log", p, &z, t, None),
            "log/postgresql-2026-11-25_024031.log"
        );
        assert_eq!(
            file_name("log", p, &z, t, Some(".csv")),
            "log/postgresql-2026-11-25_024031.csv"
        );
        assert_eq!(
            file_name("/var/log/x", "server-%a", &z, t, Some(".json")),
            "/var/log/x/server-Wed.json"
        );
    }

    #[test]
    fn rotation_times_are_multiples_of_the_age_in_local_time() {
        let z = Zone::utc();
        let t = days_from_civil(2026, 11, 25) * 86_400 + 2 * 3600 + 40 * 60 + 31;
        assert_eq!(
            next_rotation(t, &z, 60),
            Some(days_from_civil(2026, 11, 25) * 86_400 + 3 * 3600)
        );
        assert_eq!(
            next_rotation(t, &z, 24 * 60),
            Some(days_from_civil(2026, 11, 26) * 86_400)
        );
        assert_eq!(next_rotation(t, &z, 0), None);
        if let Ok(k) = Zone::load("Asia/Kolkata") {
            // Local midnight in India is 18:30 UTC.
            assert_eq!(
                next_rotation(t, &k, 24 * 60),
                Some(days_from_civil(2026, 11, 25) * 86_400 + 18 * 3600 + 30 * 60)
            );
        }
    }
}
