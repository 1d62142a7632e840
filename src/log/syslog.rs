//! `log_destination = syslog`: each process sends its reports itself, as PostgreSQL's do, as
//! datagrams in the format libc's `syslog()` writes (`<PRI>Mmm dd hh:mm:ss ident[pid]: text`),
//! split and numbered as PostgreSQL splits them. Sent with `MSG_DONTWAIT` on a socket of our
//! own rather than through `syslog()`, which blocks while the system logger is behind.

use super::buf::Buf;
use super::timezone::{strftime, Zone};
use crate::pg::types::*;
use libc::c_int;
use std::sync::atomic::{AtomicI32, Ordering};

/// PostgreSQL's limit for one syslog piece (`PG_SYSLOG_LIMIT`).
pub const PIECE_LIMIT: usize = 900;

/// Where datagrams go unless `BGWORKER_SYSLOG_SOCKET` names another socket.
pub const DEFAULT_SOCKET: &str = "/dev/log";

/// The `syslog_facility` values, as PostgreSQL names them, with their codes.
pub const FACILITIES: [(&str, c_int); 8] = [
    ("local0", 16 << 3),
    ("local1", 17 << 3),
    ("local2", 18 << 3),
    ("local3", 19 << 3),
    ("local4", 20 << 3),
    ("local5", 21 << 3),
    ("local6", 22 << 3),
    ("local7", 23 << 3),
];

/// The syslog severity PostgreSQL maps each level to.
pub fn severity_of(elevel: c_int) -> c_int {
    match elevel {
        DEBUG5..=DEBUG1 => libc::LOG_DEBUG,
        LOG | LOG_SERVER_ONLY | INFO => libc::LOG_INFO,
        NOTICE | WARNING | WARNING_CLIENT_ONLY => libc::LOG_NOTICE,
        ERROR => libc::LOG_WARNING,
        FATAL => libc::LOG_ERR,
        _ => libc::LOG_CRIT,
    }
}

/// How a report's text is cut into syslog messages (`syslog_sequence_numbers`,
/// `syslog_split_messages`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub sequence_numbers: bool,
    pub split_messages: bool,
}

/// Calls `piece` with the tag and text of each message PostgreSQL would hand `syslog()` for `text` (the report as
/// stderr shows it, prefix included), `seq` being this report's sequence number: split at
/// newlines and at 900 bytes (at a space where it can, never inside a UTF-8 character), each
/// piece tagged `[seq-n]` (`[n]` without sequence numbers); unsplit, `[seq] text`.
pub fn pieces(text: &[u8], seq: u64, split: Split, mut piece: impl FnMut(&[u8], &[u8])) {
    let mut scratch = [0u8; 48];
    let needs_split = text.len() > PIECE_LIMIT || text.contains(&b'\n');
    if !(split.split_messages && needs_split) {
        let mut tag = Buf::new(&mut scratch[..]);
        if split.sequence_numbers {
            tag.byte(b'[');
            tag.int(seq as i64);
            tag.push(b"] ");
        }
        piece(tag.as_bytes(), text);
        return;
    }
    let mut rest = text;
    let mut n = 0;
    while !rest.is_empty() {
        if rest[0] == b'\n' {
            rest = &rest[1..];
            continue;
        }
        let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let mut len = line_end.min(PIECE_LIMIT);
        // Never inside a UTF-8 character.
        while len > 0 && len < rest.len() && (rest[len] & 0xC0) == 0x80 {
            len -= 1;
        }
        if len == 0 {
            return;
        }
        // At a word boundary when the cut falls inside a word.
        if len < rest.len() && !rest[len].is_ascii_whitespace() {
            if let Some(space) = rest[..len].iter().rposition(|b| b.is_ascii_whitespace()) {
                if space > 0 {
                    len = space;
                }
            }
        }
        n += 1;
        let mut tag = Buf::new(&mut scratch[..]);
        tag.byte(b'[');
        if split.sequence_numbers {
            tag.int(seq as i64);
            tag.byte(b'-');
        }
        tag.int(n);
        tag.push(b"] ");
        piece(tag.as_bytes(), &rest[..len]);
        rest = &rest[len..];
    }
}

/// One datagram as glibc's `syslog()` writes it: `<PRI>Mmm dd hh:mm:ss ident[pid]: message`,
/// the time in `zone`.
#[allow(clippy::too_many_arguments)]
pub fn datagram(
    out: &mut Buf<'_>,
    facility: c_int,
    severity: c_int,
    zone: &Zone,
    now: i64,
    ident: &[u8],
    pid: i32,
    tag: &[u8],
    message: &[u8],
) {
    out.byte(b'<');
    out.int(i64::from(facility | severity));
    out.byte(b'>');
    strftime(out, b"%b %e %H:%M:%S ", &zone.localtime(now), now);
    out.push(ident);
    out.byte(b'[');
    out.int(i64::from(pid));
    out.push(b"]: ");
    out.push(tag);
    out.push(message);
}

/// This process's datagram socket (unbound, not connected; inherited by the processes it forks,
/// which may share it), made on first use.
static SOCKET: AtomicI32 = AtomicI32::new(-1);

/// Sends one datagram to the socket at `path` without waiting; false when it could not be
/// sent (no system logger there, or its queue is full).
pub fn send(path: &[u8], datagram: &[u8]) -> bool {
    let mut fd = SOCKET.load(Ordering::Relaxed);
    if fd < 0 {
        // SAFETY: socket() has no memory preconditions (and is async-signal-safe).
        fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return false;
        }
        if let Err(other) = SOCKET.compare_exchange(-1, fd, Ordering::Relaxed, Ordering::Relaxed) {
            // SAFETY: closing the socket just made; another caller's is kept.
            unsafe { libc::close(fd) };
            fd = other;
        }
    }
    // SAFETY: sockaddr_un is plain data; zeroed is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    if path.len() >= addr.sun_path.len() {
        return false;
    }
    for (dst, &b) in addr.sun_path.iter_mut().zip(path) {
        *dst = b as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + path.len() + 1;
    // SAFETY: sending a local buffer to an address we filled; MSG_DONTWAIT never blocks.
    let n = unsafe {
        libc::sendto(
            fd,
            datagram.as_ptr().cast(),
            datagram.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            (&raw const addr).cast(),
            len as libc::socklen_t,
        )
    };
    n == datagram.len() as isize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str, split: Split) -> Vec<String> {
        let mut out = Vec::new();
        pieces(text.as_bytes(), 7, split, |tag, body| {
            out.push(String::from_utf8_lossy(&[tag, body].concat()).into_owned())
        });
        out
    }

    #[test]
    fn reports_are_split_and_numbered_as_postgresql_does() {
        let on = Split {
            sequence_numbers: true,
            split_messages: true,
        };
        assert_eq!(
            collect("LOG:  hello\nDETAIL:  more\n", on),
            vec!["[7-1] LOG:  hello", "[7-2] DETAIL:  more"]
        );
        let long = format!("LOG:  {}\n", "word ".repeat(400));
        let parts = collect(&long, on);
        assert!(parts.len() >= 3, "{parts:?}");
        assert!(parts.iter().all(|p| p.len() <= PIECE_LIMIT + 8));
        assert!(parts[0].ends_with("word"), "cut at a space: {:?}", parts[0]);
        let no_seq = Split {
            sequence_numbers: false,
            split_messages: true,
        };
        assert_eq!(collect("a\nb\n", no_seq), vec!["[1] a", "[2] b"]);
        let unsplit = Split {
            sequence_numbers: true,
            split_messages: false,
        };
        assert_eq!(collect("a\nb\n", unsplit), vec!["[7] a\nb\n"]);
        let utf8 = format!("{}é", "x".repeat(PIECE_LIMIT - 1));
        let parts = collect(&utf8, on);
        assert_eq!(
            parts[0].len(),
            "[7-1] ".len() + PIECE_LIMIT - 1,
            "not inside é"
        );
        assert_eq!(parts[1], "[7-2] é");
    }

    #[test]
    fn datagrams_look_like_libc_syslog() {
        let z = Zone::utc();
        let mut a = [0u8; 256];
        let mut b = Buf::new(&mut a);
        let t = crate::log::timezone::days_from_civil(2026, 11, 5) * 86_400 + 3600;
        datagram(
            &mut b,
            16 << 3,
            severity_of(LOG),
            &z,
            t,
            b"bgworkerd",
            42,
            b"[1-1] ",
            b"hi",
        );
        assert_eq!(
            String::from_utf8_lossy(b.as_bytes()),
            "<134>Nov  5 01:00:00 bgworkerd[42]: [1-1] hi"
        );
        assert_eq!(severity_of(ERROR), libc::LOG_WARNING);
        assert_eq!(severity_of(FATAL), libc::LOG_ERR);
        assert_eq!(severity_of(PANIC), libc::LOG_CRIT);
    }
}
