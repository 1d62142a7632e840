//! The log's formats, as PostgreSQL 15 writes them: `log_line_prefix` and its escapes, the
//! stderr text (message, DETAIL, HINT, QUERY, CONTEXT lines), the csvlog and jsonlog records.
//! Pure functions into a fixed buffer, shared by the direct stderr path and the collector.

use super::buf::Buf;
use super::timezone::{strftime, Zone};
use crate::pg::types::*;
use libc::c_int;

/// The database session of a database worker (PostgreSQL's `MyProcPort` for a backend): what
/// `%u`, `%d` and `%a` print, and what `%q` stops without.
#[derive(Clone, Copy)]
pub struct Session<'a> {
    pub user: &'a [u8],
    pub database: &'a [u8],
    pub application_name: &'a [u8],
}

/// Who writes a log line, and when.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub now_secs: i64,
    pub now_millis: u32,
    pub zone: &'a Zone,
    pub pid: i32,
    /// `postmaster`, the worker's `bgw_type`, `logger`, or a program's name.
    pub backend_type: &'a [u8],
    /// When the process started, seconds since the epoch (`MyStartTime`).
    pub start_time: i64,
    pub session: Option<Session<'a>>,
}

/// One report (PostgreSQL's ErrorData, the parts a log writes).
#[derive(Clone, Copy, Default)]
pub struct Message<'a> {
    pub elevel: c_int,
    pub sqlerrcode: c_int,
    pub message: &'a [u8],
    /// `errdetail_log`, else `errdetail`.
    pub detail: Option<&'a [u8]>,
    pub hint: Option<&'a [u8]>,
    /// None when absent or hidden (`errhidecontext`).
    pub context: Option<&'a [u8]>,
    pub internal_query: Option<&'a [u8]>,
    pub internal_pos: c_int,
    pub cursor_pos: c_int,
}

impl<'a> Message<'a> {
    /// The report with its longest text shortened by at least `excess` bytes (at a UTF-8
    /// character boundary): what makes a record that did not fit its buffer fit, whole and
    /// well-formed, on the next try.
    pub fn shortened(&self, excess: usize) -> Message<'a> {
        let mut m = *self;
        let longest = [
            m.message.len(),
            m.detail.map_or(0, <[u8]>::len),
            m.hint.map_or(0, <[u8]>::len),
            m.context.map_or(0, <[u8]>::len),
            m.internal_query.map_or(0, <[u8]>::len),
        ];
        let which = (0..5).max_by_key(|&i| longest[i]).unwrap_or(0);
        let cut = |t: &'a [u8]| -> &'a [u8] {
            let mut n = t.len().saturating_sub(excess);
            while n > 0 && n < t.len() && (t[n] & 0xC0) == 0x80 {
                n -= 1;
            }
            &t[..n]
        };
        match which {
            0 => m.message = cut(m.message),
            1 => m.detail = m.detail.map(cut),
            2 => m.hint = m.hint.map(cut),
            3 => m.context = m.context.map(cut),
            _ => m.internal_query = m.internal_query.map(cut),
        }
        m
    }
}

/// PostgreSQL's name for a level (`error_severity`).
pub fn severity(elevel: c_int) -> &'static [u8] {
    match elevel {
        DEBUG5..=DEBUG1 => b"DEBUG",
        LOG | LOG_SERVER_ONLY => b"LOG",
        INFO => b"INFO",
        NOTICE => b"NOTICE",
        WARNING | WARNING_CLIENT_ONLY => b"WARNING",
        ERROR => b"ERROR",
        FATAL => b"FATAL",
        PANIC => b"PANIC",
        _ => b"???",
    }
}

/// The five characters of a `MAKE_SQLSTATE` code.
pub fn unpack_sqlstate(code: c_int) -> [u8; 5] {
    let mut out = [0u8; 5];
    let mut v = code;
    for c in &mut out {
        *c = ((v & 0x3F) as u8).wrapping_add(b'0');
        v >>= 6;
    }
    out
}

/// `2026-11-25 02:40:31.123 UTC` (with milliseconds) or `2026-11-25 02:40:31 UTC`.
fn timestamp(out: &mut Buf<'_>, zone: &Zone, secs: i64, millis: Option<u32>) {
    let tm = zone.localtime(secs);
    strftime(out, b"%Y-%m-%d %H:%M:%S", &tm, secs);
    if let Some(ms) = millis {
        out.byte(b'.');
        out.zeroed(u64::from(ms), 3);
    }
    out.byte(b' ');
    out.push(tm.local.abbr());
}

/// The session id `%c` prints: start time and pid in hexadecimal.
fn session_id(out: &mut Buf<'_>, o: &Origin<'_>) {
    out.hex(o.start_time as u64);
    out.byte(b'.');
    out.hex(o.pid as u32 as u64);
}

/// Appends `log_line_prefix` expanded. `line` is this process's line number (`%l`). Escapes and
/// padding (`%-10p`, `%10b`) as PostgreSQL's; those naming what a process here never has
/// (`%r %h %i %v %P`) print nothing (spaces, when padded), `%x` and `%Q` print 0.
pub fn prefix(out: &mut Buf<'_>, pattern: &[u8], o: &Origin<'_>, line: u64, sqlstate: c_int) {
    let mut i = 0;
    while i < pattern.len() {
        let c = pattern[i];
        i += 1;
        if c != b'%' {
            out.byte(c);
            continue;
        }
        let Some(&next) = pattern.get(i) else {
            break;
        };
        if next == b'%' {
            out.byte(b'%');
            i += 1;
            continue;
        }
        // Padding: an optional '-', then digits; a pattern ending there is a format error.
        let mut padding: i32 = 0;
        if next <= b'9' {
            let mut sign = 1;
            if pattern[i] == b'-' {
                sign = -1;
                i += 1;
            }
            while let Some(d) = pattern.get(i).filter(|d| d.is_ascii_digit()) {
                padding = padding
                    .saturating_mul(10)
                    .saturating_add(i32::from(d - b'0'));
                i += 1;
            }
            if i >= pattern.len() {
                break;
            }
            padding *= sign;
        }
        let conv = pattern[i];
        i += 1;
        let mut scratch = [0u8; 128];
        let mut s = Buf::new(&mut scratch);
        match conv {
            b'a' | b'u' | b'd' => match &o.session {
                Some(session) => {
                    let v = match conv {
                        b'a' => session.application_name,
                        b'u' => session.user,
                        _ => session.database,
                    };
                    out.padded(if v.is_empty() { b"[unknown]" } else { v }, padding);
                }
                None => out.spaces(padding.unsigned_abs() as usize),
            },
            b'b' => out.padded(o.backend_type, padding),
            b'c' => {
                session_id(&mut s, o);
                out.padded(s.as_bytes(), padding);
            }
            b'p' => {
                s.int(i64::from(o.pid));
                out.padded(s.as_bytes(), padding);
            }
            b'l' => {
                s.int(line as i64);
                out.padded(s.as_bytes(), padding);
            }
            b'm' => {
                timestamp(&mut s, o.zone, o.now_secs, Some(o.now_millis));
                out.padded(s.as_bytes(), padding);
            }
            b't' => {
                timestamp(&mut s, o.zone, o.now_secs, None);
                out.padded(s.as_bytes(), padding);
            }
            b'n' => {
                s.int(o.now_secs);
                s.byte(b'.');
                s.zeroed(u64::from(o.now_millis), 3);
                out.padded(s.as_bytes(), padding);
            }
            b's' => {
                timestamp(&mut s, o.zone, o.start_time, None);
                out.padded(s.as_bytes(), padding);
            }
            b'e' => out.padded(&unpack_sqlstate(sqlstate), padding),
            // Processes without a session stop here; a session's ignore it.
            b'q' if o.session.is_none() => return,
            b'x' | b'Q' => out.padded(b"0", padding),
            b'r' | b'h' | b'i' | b'v' | b'P' => out.spaces(padding.unsigned_abs() as usize),
            _ => {} // a format error: ignored, as PostgreSQL does
        }
    }
}

/// Appends `text` with a tab after each newline (continuation lines stay inside the entry).
fn with_tabs(out: &mut Buf<'_>, text: &[u8]) {
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b"\n\t");
        }
        out.push(line);
    }
}

/// The stderr (and syslog) text of a report: one prefixed line for the message, then DETAIL,
/// HINT, QUERY and CONTEXT lines, each ending in a newline. `line` counts the prefixed lines
/// of this process (`%l`), as PostgreSQL counts them.
pub fn text(out: &mut Buf<'_>, pattern: &[u8], o: &Origin<'_>, line: &mut u64, m: &Message<'_>) {
    let mut part = |out: &mut Buf<'_>, tag: &[u8], body: &[u8], position: bool| {
        *line += 1;
        prefix(out, pattern, o, *line, m.sqlerrcode);
        out.push(tag);
        out.push(b":  ");
        with_tabs(out, body);
        if position {
            let pos = if m.cursor_pos > 0 {
                m.cursor_pos
            } else {
                m.internal_pos
            };
            if pos > 0 {
                out.push(b" at character ");
                out.int(i64::from(pos));
            }
        }
        out.byte(b'\n');
    };
    part(out, severity(m.elevel), m.message, true);
    for (tag, body) in [
        (&b"DETAIL"[..], m.detail),
        (b"HINT", m.hint),
        (b"QUERY", m.internal_query),
        (b"CONTEXT", m.context),
    ] {
        if let Some(body) = body {
            part(out, tag, body, false);
        }
    }
}

/// A CSV field: double-quoted, quotes doubled.
fn csv_literal(out: &mut Buf<'_>, text: &[u8]) {
    out.byte(b'"');
    for &b in text {
        if b == b'"' {
            out.byte(b'"');
        }
        out.byte(b);
    }
    out.byte(b'"');
}

/// The csvlog record: PostgreSQL 15's 26 columns in its order, one line (fields may hold
/// newlines inside their quotes). `line` is the record's number in this process.
pub fn csv(out: &mut Buf<'_>, o: &Origin<'_>, line: u64, m: &Message<'_>) {
    let lit = |out: &mut Buf<'_>, v: Option<&[u8]>| {
        if let Some(v) = v {
            csv_literal(out, v);
        }
        out.byte(b',');
    };
    timestamp(out, o.zone, o.now_secs, Some(o.now_millis));
    out.byte(b',');
    lit(out, o.session.map(|s| s.user));
    lit(out, o.session.map(|s| s.database));
    out.int(i64::from(o.pid));
    out.push(b",,"); // remote host: none here
    session_id(out, o);
    out.byte(b',');
    out.int(line as i64);
    out.push(b",,"); // ps display: a backend's only
    timestamp(out, o.zone, o.start_time, None);
    out.push(b",,0,"); // no virtual transaction id; transaction id 0
    out.push(severity(m.elevel));
    out.byte(b',');
    out.push(&unpack_sqlstate(m.sqlerrcode));
    out.byte(b',');
    lit(out, Some(m.message));
    lit(out, m.detail);
    lit(out, m.hint);
    lit(out, m.internal_query);
    if m.internal_pos > 0 && m.internal_query.is_some() {
        out.int(i64::from(m.internal_pos));
    }
    out.byte(b',');
    lit(out, m.context);
    out.push(b",,,"); // statement, cursor position, location: none here
    lit(
        out,
        Some(o.session.map_or(&b""[..], |s| s.application_name)),
    );
    lit(out, Some(o.backend_type));
    out.push(b",0\n"); // no leader pid; query id 0
}

/// A JSON string, escaped as PostgreSQL's `escape_json`; bytes that are not UTF-8 become
/// U+FFFD, so the record is always valid JSON.
fn json_string(out: &mut Buf<'_>, text: &[u8]) {
    out.byte(b'"');
    for chunk in text.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.push(b"\\\""),
                b'\\' => out.push(b"\\\\"),
                b'\n' => out.push(b"\\n"),
                b'\r' => out.push(b"\\r"),
                b'\t' => out.push(b"\\t"),
                0x08 => out.push(b"\\b"),
                0x0c => out.push(b"\\f"),
                b if b < 0x20 => {
                    out.push(b"\\u00");
                    out.byte(b"0123456789abcdef"[(b >> 4) as usize]);
                    out.byte(b"0123456789abcdef"[(b & 15) as usize]);
                }
                b => out.byte(b),
            }
        }
        if !chunk.invalid().is_empty() {
            out.push(b"\\ufffd");
        }
    }
    out.byte(b'"');
}

/// The jsonlog record: PostgreSQL 15's keys in its order, absent values left out; one line.
pub fn json(out: &mut Buf<'_>, o: &Origin<'_>, line: u64, m: &Message<'_>) {
    let key = |out: &mut Buf<'_>, k: &[u8]| {
        out.byte(b',');
        json_string(out, k);
        out.byte(b':');
    };
    let string = |out: &mut Buf<'_>, k: &[u8], v: Option<&[u8]>| {
        if let Some(v) = v {
            key(out, k);
            json_string(out, v);
        }
    };
    out.push(b"{\"timestamp\":\"");
    timestamp(out, o.zone, o.now_secs, Some(o.now_millis));
    out.byte(b'"');
    string(out, b"user", o.session.map(|s| s.user));
    string(out, b"dbname", o.session.map(|s| s.database));
    key(out, b"pid");
    out.int(i64::from(o.pid));
    key(out, b"session_id");
    out.byte(b'"');
    session_id(out, o);
    out.byte(b'"');
    key(out, b"line_num");
    out.int(line as i64);
    key(out, b"session_start");
    out.byte(b'"');
    timestamp(out, o.zone, o.start_time, None);
    out.byte(b'"');
    key(out, b"txid");
    out.byte(b'0');
    string(out, b"error_severity", Some(severity(m.elevel)));
    if m.sqlerrcode != 0 {
        string(out, b"state_code", Some(&unpack_sqlstate(m.sqlerrcode)));
    }
    string(out, b"message", Some(m.message));
    string(out, b"detail", m.detail);
    string(out, b"hint", m.hint);
    string(out, b"internal_query", m.internal_query);
    if m.internal_pos > 0 && m.internal_query.is_some() {
        key(out, b"internal_position");
        out.int(i64::from(m.internal_pos));
    }
    string(out, b"context", m.context);
    string(
        out,
        b"application_name",
        o.session
            .map(|s| s.application_name)
            .filter(|a| !a.is_empty()),
    );
    string(out, b"backend_type", Some(o.backend_type));
    key(out, b"query_id");
    out.byte(b'0');
    out.push(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_795_574_400; // 2026-11-25 02:40:00 UTC

    fn origin(zone: &Zone) -> Origin<'_> {
        Origin {
            now_secs: START + 31,
            now_millis: 7,
            zone,
            pid: 12345,
            backend_type: b"postmaster",
            start_time: START,
            session: None,
        }
    }

    fn expand(pattern: &str, o: &Origin<'_>, line: u64, code: c_int) -> String {
        let mut a = [0u8; 512];
        let mut b = Buf::new(&mut a);
        prefix(&mut b, pattern.as_bytes(), o, line, code);
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    fn sqlstate(s: &[u8; 5]) -> c_int {
        s.iter()
            .enumerate()
            .map(|(i, &c)| (c_int::from(c - b'0') & 0x3F) << (6 * i))
            .sum()
    }

    #[test]
    fn the_default_prefix_reads_as_before() {
        let z = Zone::utc();
        assert_eq!(
            expand("%m [%p] %b ", &origin(&z), 1, 0),
            "2026-11-25 02:40:31.007 UTC [12345] postmaster "
        );
    }

    #[test]
    fn every_escape_and_padding() {
        let z = Zone::utc();
        let o = origin(&z);
        let code = sqlstate(b"22023");
        assert_eq!(unpack_sqlstate(code), *b"22023");
        assert_eq!(
            expand("%t|%n|%s|%c|%l|%e|%%|%x|%Q|%r|%z", &o, 42, code),
            format!(
                "2026-11-25 02:40:31 UTC|{}.007|2026-11-25 02:40:00 UTC|{:x}.3039|42|22023|%|0|0||",
                START + 31,
                START
            )
        );
        assert_eq!(expand("[%-8p]", &o, 1, 0), "[12345   ]");
        assert_eq!(expand("[%8p]", &o, 1, 0), "[   12345]");
        assert_eq!(expand("[%12b]", &o, 1, 0), "[  postmaster]");
        assert_eq!(expand("[%-5u][%3d]", &o, 1, 0), "[     ][   ]");
        assert_eq!(expand("[%a]%q tail", &o, 1, 0), "[]");
        assert_eq!(expand("trailing %", &o, 1, 0), "trailing ");
        assert_eq!(expand("bad %-5", &o, 1, 0), "bad ");
        let s = Origin {
            session: Some(Session {
                user: b"alice",
                database: b"db1",
                application_name: b"",
            }),
            ..o
        };
        assert_eq!(expand("%u@%d %a%q!", &s, 1, 0), "alice@db1 [unknown]!");
    }

    #[test]
    fn the_prefix_follows_log_timezone() {
        let Ok(k) = Zone::load("Asia/Kolkata") else {
            return;
        };
        assert_eq!(
            expand("%m %s", &origin(&k), 1, 0),
            "2026-11-25 08:10:31.007 IST 2026-11-25 08:10:00 IST"
        );
    }

    #[test]
    fn stderr_text_has_a_prefix_on_every_line_and_tabs_inside_entries() {
        let z = Zone::utc();
        let o = origin(&z);
        let mut a = [0u8; 1024];
        let mut b = Buf::new(&mut a);
        let mut line = 0;
        let m = Message {
            elevel: ERROR,
            sqlerrcode: sqlstate(b"XX000"),
            message: b"two\nlines",
            detail: Some(b"d"),
            hint: Some(b"h"),
            context: Some(b"c1\nc2"),
            internal_query: Some(b"SELECT 1"),
            internal_pos: 3,
            cursor_pos: 0,
        };
        text(&mut b, b"%l %e ", &o, &mut line, &m);
        assert_eq!(
            String::from_utf8_lossy(b.as_bytes()),
            "1 XX000 ERROR:  two\n\tlines at character 3\n2 XX000 DETAIL:  d\n3 XX000 HINT:  h\n\
             4 XX000 QUERY:  SELECT 1\n5 XX000 CONTEXT:  c1\n\tc2\n"
        );
        assert_eq!(line, 5);
    }

    #[test]
    fn a_record_too_long_for_its_buffer_is_shortened_and_stays_well_formed() {
        let z = Zone::utc();
        let o = origin(&z);
        let long = "é\"".repeat(2000);
        let mut m = Message {
            elevel: LOG,
            message: long.as_bytes(),
            hint: Some(b"short"),
            ..Default::default()
        };
        let mut a = [0u8; 4096];
        let mut b = Buf::new(&mut a);
        for _ in 0..8 {
            b.clear();
            json(&mut b, &o, 1, &m);
            if !b.truncated() {
                break;
            }
            m = m.shortened(b.overflow());
        }
        assert!(!b.truncated());
        let text = std::str::from_utf8(b.as_bytes()).unwrap();
        assert!(text.ends_with("\"query_id\":0}\n") && text.contains("\"hint\":\"short\""));
        assert_eq!(m.hint, Some(&b"short"[..]));
    }

    #[test]
    fn csv_and_json_records_have_postgresql_15s_fields() {
        let z = Zone::utc();
        let o = origin(&z);
        let m = Message {
            elevel: LOG,
            message: b"say \"hi\", then\nbye",
            hint: Some(b"a\tb\x01\xff"),
            ..Default::default()
        };
        let mut a = [0u8; 1024];
        let mut b = Buf::new(&mut a);
        csv(&mut b, &o, 9, &m);
        assert_eq!(
            String::from_utf8_lossy(b.as_bytes()),
            format!(
                "2026-11-25 02:40:31.007 UTC,,,12345,,{:x}.3039,9,,2026-11-25 02:40:00 UTC,,0,LOG,00000,\
                 \"say \"\"hi\"\", then\nbye\",,\"a\tb\x01\u{fffd}\",,,,,,,\"\",\"postmaster\",,0\n",
                START
            )
        );
        b.clear();
        json(&mut b, &o, 9, &m);
        assert_eq!(
            String::from_utf8_lossy(b.as_bytes()),
            format!(
                "{{\"timestamp\":\"2026-11-25 02:40:31.007 UTC\",\"pid\":12345,\"session_id\":\"{:x}.3039\",\
                 \"line_num\":9,\"session_start\":\"2026-11-25 02:40:00 UTC\",\"txid\":0,\
                 \"error_severity\":\"LOG\",\"message\":\"say \\\"hi\\\", then\\nbye\",\
                 \"hint\":\"a\\tb\\u0001\\ufffd\",\"backend_type\":\"postmaster\",\"query_id\":0}}\n",
                START
            )
        );
    }
}
