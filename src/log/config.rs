//! The logging settings in force in this process, as the log's writers read them: published
//! whole, immutable, behind one pointer, so that elog (also from a signal handler) reads a
//! consistent set without a lock, and a reload swaps in a new set.

use super::pipe;
use super::syslog::{self, Split};
use super::timezone::{self, Zone};
use crate::guc::Logging;
use libc::c_int;
use std::borrow::Cow;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

/// `log_destination` bits; the file ones are the pipe protocol's.
pub const DEST_STDERR: u8 = pipe::DEST_STDERR;
pub const DEST_CSVLOG: u8 = pipe::DEST_CSVLOG;
pub const DEST_JSONLOG: u8 = pipe::DEST_JSONLOG;
pub const DEST_SYSLOG: u8 = 0x08;

/// Our `log_line_prefix` default: the format bgworkerd's log always had (PostgreSQL's is
/// `%m [%p] `; `%b` adds `postmaster` or the worker's type).
pub const DEFAULT_PREFIX: &str = "%m [%p] %b ";

/// Where `BGWORKER_SYSLOG_SOCKET` can point syslog datagrams instead of `/dev/log`.
pub const SYSLOG_SOCKET_ENV: &str = "BGWORKER_SYSLOG_SOCKET";

/// Parses `log_destination` as PostgreSQL does: a comma-separated list, case-insensitive.
pub fn parse_destinations(value: &str) -> Result<u8, String> {
    let items = crate::guc::split_list(value)?;
    let mut bits = 0;
    for item in items {
        bits |= match item.to_ascii_lowercase().as_str() {
            "stderr" => DEST_STDERR,
            "csvlog" => DEST_CSVLOG,
            "jsonlog" => DEST_JSONLOG,
            "syslog" => DEST_SYSLOG,
            _ => return Err(format!("Unrecognized key word: \"{item}\".")),
        };
    }
    Ok(bits)
}

/// What the writers of log lines need.
#[derive(Debug, PartialEq)]
pub struct LogConfig {
    pub destinations: u8,
    pub line_prefix: Cow<'static, [u8]>,
    pub zone: Zone,
    pub syslog_facility: c_int,
    pub syslog_ident: Cow<'static, [u8]>,
    pub syslog_split: Split,
    pub syslog_socket: Cow<'static, [u8]>,
}

/// Before any settings are installed (the first lines of a starting supervisor, a program
/// that only attaches): stderr, the default prefix, UTC.
static BOOT: LogConfig = LogConfig {
    destinations: DEST_STDERR,
    line_prefix: Cow::Borrowed(DEFAULT_PREFIX.as_bytes()),
    zone: timezone::UTC,
    syslog_facility: 16 << 3,
    syslog_ident: Cow::Borrowed(b"bgworkerd"),
    syslog_split: Split {
        sequence_numbers: true,
        split_messages: true,
    },
    syslog_socket: Cow::Borrowed(syslog::DEFAULT_SOCKET.as_bytes()),
};

static CURRENT: AtomicPtr<LogConfig> = AtomicPtr::new(std::ptr::null_mut());

/// Every set published, kept for the life of the process: a writer (a signal handler, or a
/// module's thread) may still be reading an older one when a reload publishes the next, so
/// none is ever freed. A new set is made only when a logging setting changed.
static PUBLISHED: Mutex<Vec<&'static LogConfig>> = Mutex::new(Vec::new());

/// The set in force.
pub fn current() -> &'static LogConfig {
    let p = CURRENT.load(Ordering::Acquire);
    if p.is_null() {
        &BOOT
    } else {
        // SAFETY: every pointer stored in CURRENT comes from a leaked Box, never freed.
        unsafe { &*p }
    }
}

/// Builds the set for `l` (loading its time zone when it is not the one in force).
fn build(l: &Logging) -> LogConfig {
    let now = current();
    let zone = if now.zone.name() == l.log_timezone {
        now.zone.clone()
    } else {
        Zone::load(&l.log_timezone).unwrap_or(timezone::UTC)
    };
    let socket = std::env::var_os(SYSLOG_SOCKET_ENV)
        .filter(|s| !s.is_empty())
        .map_or(Cow::Borrowed(syslog::DEFAULT_SOCKET.as_bytes()), |s| {
            Cow::Owned(s.into_encoded_bytes())
        });
    LogConfig {
        destinations: l.destinations,
        line_prefix: Cow::Owned(l.log_line_prefix.as_bytes().to_vec()),
        zone,
        syslog_facility: syslog::FACILITIES
            .iter()
            .find(|(n, _)| *n == l.syslog_facility)
            .map_or(16 << 3, |&(_, c)| c),
        syslog_ident: Cow::Owned(l.syslog_ident.as_bytes().to_vec()),
        syslog_split: Split {
            sequence_numbers: l.syslog_sequence_numbers,
            split_messages: l.syslog_split_messages,
        },
        syslog_socket: socket,
    }
}

/// Makes `l` the logging settings in force in this process (normal context only).
pub fn publish(l: &Logging) {
    let new = build(l);
    if *current() == new && !CURRENT.load(Ordering::Acquire).is_null() {
        return;
    }
    let leaked: &'static LogConfig = Box::leak(Box::new(new));
    PUBLISHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(leaked);
    CURRENT.store(std::ptr::from_ref(leaked).cast_mut(), Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse_as_postgresql_parses_them() {
        assert_eq!(parse_destinations("stderr"), Ok(DEST_STDERR));
        assert_eq!(
            parse_destinations("CSVLOG, jsonlog,syslog"),
            Ok(DEST_CSVLOG | DEST_JSONLOG | DEST_SYSLOG)
        );
        assert_eq!(parse_destinations(""), Ok(0));
        assert_eq!(
            parse_destinations("stderr,eventlog"),
            Err("Unrecognized key word: \"eventlog\".".into())
        );
        assert!(parse_destinations("stderr,,csvlog").is_err());
    }
}
