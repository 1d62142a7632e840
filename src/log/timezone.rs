//! `log_timezone`: time zones read from the system's zoneinfo files (TZif) or given as POSIX TZ
//! strings, and local time computed from them by arithmetic alone. The zone is loaded once, in
//! normal context; turning a time into local time then reads only that immutable data (no libc
//! time function, no allocation, no lock), so it is safe on elog's path from a signal handler.

use super::buf::Buf;
use std::borrow::Cow;

/// The longest zone abbreviation kept (TZif allows 6 bytes in practice; POSIX names at least 3).
const ABBR_MAX: usize = 16;

/// One local time type: offset from UTC, whether it is daylight time, its abbreviation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalType {
    /// Seconds east of UTC.
    pub utoff: i32,
    pub isdst: bool,
    abbr: [u8; ABBR_MAX],
    abbr_len: u8,
}

impl LocalType {
    const fn new(utoff: i32, isdst: bool, abbr: &[u8]) -> Self {
        let mut a = [0u8; ABBR_MAX];
        let n = if abbr.len() < ABBR_MAX {
            abbr.len()
        } else {
            ABBR_MAX
        };
        let mut i = 0;
        while i < n {
            a[i] = abbr[i];
            i += 1;
        }
        LocalType {
            utoff,
            isdst,
            abbr: a,
            abbr_len: n as u8,
        }
    }

    /// The abbreviation `%Z` prints (`UTC`, `EST`, `+0530`-style names as the zone spells them).
    pub fn abbr(&self) -> &[u8] {
        &self.abbr[..self.abbr_len as usize]
    }
}

/// When a POSIX rule switches: a day of the year, and seconds after local midnight.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RuleDate {
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian(u32),
    /// `n`: day 0..=365, February 29 counted.
    Zero(u32),
    /// `Mm.w.d`: day d (0 = Sunday) of week w (5 = last) of month m.
    Month(u32, u32, u32),
}

/// A POSIX TZ string's rule: standard time, and daylight time with when it starts and ends.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PosixRule {
    std: LocalType,
    dst: Option<(LocalType, RuleDate, i32, RuleDate, i32)>,
}

/// A time zone: TZif transitions, then (after the last one) a POSIX rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    name: Cow<'static, str>,
    transitions: Cow<'static, [i64]>,
    /// Local type index for each transition.
    indices: Cow<'static, [u8]>,
    types: Cow<'static, [LocalType]>,
    rule: Option<PosixRule>,
}

const UTC_TYPE: LocalType = LocalType::new(0, false, b"UTC");

/// Coordinated Universal Time, abbreviated `UTC` (a constant: usable before anything is loaded).
pub const UTC: Zone = Zone {
    name: Cow::Borrowed("UTC"),
    transitions: Cow::Borrowed(&[]),
    indices: Cow::Borrowed(&[]),
    types: Cow::Borrowed(&[UTC_TYPE]),
    rule: None,
};

/// A broken-down local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    /// 1..=12
    pub mon: u32,
    /// 1..=31
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday
    pub wday: u32,
    /// 0..=365
    pub yday: u32,
    pub local: LocalType,
}

impl Zone {
    pub fn utc() -> Zone {
        UTC
    }

    /// The name the zone was loaded by (what `log_timezone` shows).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local time type in force at `t` (seconds since the epoch).
    pub fn local_type(&self, t: i64) -> LocalType {
        let n = self.transitions.len();
        if n == 0 || t < self.transitions[0] {
            if n == 0 {
                if let Some(rule) = &self.rule {
                    return rule.local_type(t);
                }
            }
            return self.types.first().copied().unwrap_or(UTC_TYPE);
        }
        if t >= self.transitions[n - 1] {
            if let Some(rule) = &self.rule {
                return rule.local_type(t);
            }
        }
        // The last transition at or before t.
        let i = self.transitions.partition_point(|&x| x <= t) - 1;
        self.types[self.indices[i] as usize]
    }

    /// `t` as local time in this zone.
    pub fn localtime(&self, t: i64) -> Tm {
        let local = self.local_type(t);
        broken_down(t + i64::from(local.utoff), local)
    }

    /// Loads a zone by name: a file of the zoneinfo directory (`$TZDIR`, else
    /// `/usr/share/zoneinfo`), its name matched case-insensitively as PostgreSQL does, or else
    /// a POSIX TZ string (`EST5EDT,M3.2.0,M11.1.0`, `<+0530>-5:30`).
    pub fn load(name: &str) -> Result<Zone, String> {
        let file = if name == "localtime" {
            Some(std::path::PathBuf::from("/etc/localtime"))
        } else {
            zone_file(name)
        };
        if let Some(path) = file {
            if let Ok(data) = std::fs::read(&path) {
                if let Some(mut z) = parse_tzif(&data) {
                    z.name = Cow::Owned(name.to_owned());
                    return Ok(z);
                }
            }
        }
        if let Some(rule) = parse_posix(name.as_bytes()) {
            return Ok(Zone {
                name: Cow::Owned(name.to_owned()),
                transitions: Cow::Borrowed(&[]),
                indices: Cow::Borrowed(&[]),
                types: Cow::Owned(vec![rule.std]),
                rule: Some(rule),
            });
        }
        Err(format!("time zone \"{name}\" is not known"))
    }

    /// The system's zone, as PostgreSQL's initdb finds it: `TZ` when set, else what
    /// `/etc/localtime` is (its name under the zoneinfo directory when it links there), else UTC.
    pub fn system() -> Zone {
        if let Ok(tz) = std::env::var("TZ") {
            let tz = tz.strip_prefix(':').unwrap_or(&tz);
            if !tz.is_empty() {
                let name = tz
                    .strip_prefix(&format!("{}/", zoneinfo_dir()))
                    .unwrap_or(tz);
                if let Ok(z) = Zone::load(name) {
                    return z;
                }
            }
        }
        if let Ok(target) = std::fs::read_link("/etc/localtime") {
            let target = target.to_string_lossy().into_owned();
            if let Some(i) = target.find("zoneinfo/") {
                let name = &target[i + "zoneinfo/".len()..];
                let name = name
                    .strip_prefix("posix/")
                    .or_else(|| name.strip_prefix("right/"))
                    .unwrap_or(name);
                if let Ok(z) = Zone::load(name) {
                    return z;
                }
            }
        }
        Zone::load("localtime").unwrap_or(UTC)
    }
}

/// The name of the system's zone, what `log_timezone` defaults to (found once per process).
pub fn system_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| Zone::system().name().to_owned())
}

fn zoneinfo_dir() -> String {
    std::env::var("TZDIR")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/share/zoneinfo".into())
}

/// The zoneinfo file for `name`, each path component matched exactly or else ignoring case;
/// `None` for names that could step outside the directory.
fn zone_file(name: &str) -> Option<std::path::PathBuf> {
    if name.is_empty()
        || name.starts_with('/')
        || name
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    let mut path = std::path::PathBuf::from(zoneinfo_dir());
    for component in name.split('/') {
        let exact = path.join(component);
        if exact.exists() {
            path = exact;
            continue;
        }
        let found = std::fs::read_dir(&path).ok()?.flatten().find(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(component))
        })?;
        path = found.path();
    }
    path.is_file().then_some(path)
}

fn be32(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from(i32::from_be_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}

fn be64(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Reads a TZif file (RFC 8536): the 64-bit data of version 2 and later, else the 32-bit data;
/// the footer's POSIX string for times after the last transition.
fn parse_tzif(data: &[u8]) -> Option<Zone> {
    struct Counts {
        isut: usize,
        isstd: usize,
        leap: usize,
        time: usize,
        typ: usize,
        chars: usize,
    }
    let header = |at: usize| -> Option<Counts> {
        if data.get(at..at + 4)? != b"TZif" {
            return None;
        }
        let c = |i: usize| be32(data, at + 20 + 4 * i).map(|v| v as usize);
        Some(Counts {
            isut: c(0)?,
            isstd: c(1)?,
            leap: c(2)?,
            time: c(3)?,
            typ: c(4)?,
            chars: c(5)?,
        })
    };
    let first = header(0)?;
    let version = *data.get(4)?;
    let v1_len =
        first.time * 5 + first.typ * 6 + first.chars + first.leap * 8 + first.isstd + first.isut;
    let (counts, at, time_size) = if version >= b'2' {
        (header(44 + v1_len)?, 44 + v1_len + 44, 8)
    } else {
        (first, 44, 4)
    };
    if counts.typ == 0 || counts.typ > 256 {
        return None;
    }
    let mut p = at;
    let mut transitions = Vec::with_capacity(counts.time);
    for i in 0..counts.time {
        let t = if time_size == 8 {
            be64(data, p + 8 * i)?
        } else {
            be32(data, p + 4 * i)?
        };
        transitions.push(t);
    }
    p += counts.time * time_size;
    let indices = data.get(p..p + counts.time)?.to_vec();
    if indices.iter().any(|&i| i as usize >= counts.typ) {
        return None;
    }
    p += counts.time;
    let chars_at = p + counts.typ * 6;
    let chars = data.get(chars_at..chars_at + counts.chars)?;
    let mut types = Vec::with_capacity(counts.typ);
    for i in 0..counts.typ {
        let e = p + i * 6;
        let utoff = be32(data, e)? as i32;
        let isdst = *data.get(e + 4)? != 0;
        let idx = *data.get(e + 5)? as usize;
        let abbr = chars.get(idx..)?;
        let end = abbr.iter().position(|&b| b == 0).unwrap_or(abbr.len());
        types.push(LocalType::new(utoff, isdst, &abbr[..end]));
    }
    let end = chars_at + counts.chars + counts.leap * (time_size + 4) + counts.isstd + counts.isut;
    let rule = if version >= b'2' {
        data.get(end..)
            .and_then(|f| f.strip_prefix(b"\n"))
            .and_then(|f| f.split(|&b| b == b'\n').next())
            .filter(|s| !s.is_empty())
            .and_then(parse_posix)
    } else {
        None
    };
    Some(Zone {
        name: Cow::Borrowed(""),
        transitions: Cow::Owned(transitions),
        indices: Cow::Owned(indices),
        types: Cow::Owned(types),
        rule,
    })
}

/// Parses a POSIX TZ string: `std offset [dst [offset] [,start[/time],end[/time]]]`.
fn parse_posix(s: &[u8]) -> Option<PosixRule> {
    let mut p = Parser { s, i: 0 };
    let std_name = p.name()?;
    let std_off = -p.offset()?;
    let std = LocalType::new(std_off, false, std_name);
    if p.done() {
        return Some(PosixRule { std, dst: None });
    }
    let dst_name = p.name()?;
    let dst_off = if p.peek().is_some_and(|c| c != b',') {
        -p.offset()?
    } else {
        std_off + 3600
    };
    let dst = LocalType::new(dst_off, true, dst_name);
    // Without a rule, POSIX leaves the dates to the implementation: the US rule, as glibc.
    let (start, start_time, end, end_time) = if p.done() {
        (
            RuleDate::Month(3, 2, 0),
            7200,
            RuleDate::Month(11, 1, 0),
            7200,
        )
    } else {
        p.expect(b',')?;
        let start = p.date()?;
        let start_time = p.time_after_slash()?;
        p.expect(b',')?;
        let end = p.date()?;
        let end_time = p.time_after_slash()?;
        (start, start_time, end, end_time)
    };
    if !p.done() {
        return None;
    }
    Some(PosixRule {
        std,
        dst: Some((dst, start, start_time, end, end_time)),
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    /// A zone name: three or more letters, or anything but `>` between `<` and `>`.
    fn name(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        if self.peek()? == b'<' {
            let end = self.s[start..].iter().position(|&b| b == b'>')? + start;
            self.i = end + 1;
            let name = &self.s[start + 1..end];
            return (name.len() >= 3).then_some(name);
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        (self.i - start >= 3).then(|| &self.s[start..self.i])
    }
    fn number(&mut self) -> Option<i32> {
        let start = self.i;
        let mut v: i32 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            v = v.checked_mul(10)?.checked_add(i32::from(c - b'0'))?;
            self.i += 1;
        }
        (self.i > start).then_some(v)
    }
    /// `[+-]hh[:mm[:ss]]` in seconds (hours up to 167, as TZif's footer allows).
    fn offset(&mut self) -> Option<i32> {
        let sign = match self.peek()? {
            b'-' => {
                self.i += 1;
                -1
            }
            b'+' => {
                self.i += 1;
                1
            }
            _ => 1,
        };
        let h = self.number()?;
        if h > 167 {
            return None;
        }
        let mut secs = h * 3600;
        for scale in [60, 1] {
            if self.peek() == Some(b':') {
                self.i += 1;
                let v = self.number()?;
                if v > 59 {
                    return None;
                }
                secs += v * scale;
            } else {
                break;
            }
        }
        Some(sign * secs)
    }
    fn date(&mut self) -> Option<RuleDate> {
        match self.peek()? {
            b'J' => {
                self.i += 1;
                let n = self.number()? as u32;
                (1..=365).contains(&n).then_some(RuleDate::Julian(n))
            }
            b'M' => {
                self.i += 1;
                let m = self.number()? as u32;
                self.expect(b'.')?;
                let w = self.number()? as u32;
                self.expect(b'.')?;
                let d = self.number()? as u32;
                ((1..=12).contains(&m) && (1..=5).contains(&w) && d <= 6)
                    .then_some(RuleDate::Month(m, w, d))
            }
            _ => {
                let n = self.number()? as u32;
                (n <= 365).then_some(RuleDate::Zero(n))
            }
        }
    }
    fn time_after_slash(&mut self) -> Option<i32> {
        if self.peek() == Some(b'/') {
            self.i += 1;
            self.offset()
        } else {
            Some(7200)
        }
    }
}

impl PosixRule {
    fn local_type(&self, t: i64) -> LocalType {
        let Some((dst, start, start_time, end, end_time)) = self.dst else {
            return self.std;
        };
        // The year of t in standard time; the switches of that year and its neighbours decide.
        let year = civil(t + i64::from(self.std.utoff)).0;
        let mut in_dst = false;
        let mut latest = i64::MIN;
        for y in [year - 1, year, year + 1] {
            // Start: local standard time; end: local daylight time.
            let on = day_of(y, start) * 86_400 + i64::from(start_time) - i64::from(self.std.utoff);
            let off = day_of(y, end) * 86_400 + i64::from(end_time) - i64::from(dst.utoff);
            for (at, becomes_dst) in [(on, true), (off, false)] {
                if at <= t && at > latest {
                    latest = at;
                    in_dst = becomes_dst;
                }
            }
        }
        if in_dst {
            dst
        } else {
            self.std
        }
    }
}

/// Days since the epoch of the rule date in `year`.
fn day_of(year: i64, d: RuleDate) -> i64 {
    let jan1 = days_from_civil(year, 1, 1);
    match d {
        RuleDate::Julian(n) => {
            let n = i64::from(n);
            jan1 + n - 1 + i64::from(is_leap(year) && n >= 60)
        }
        RuleDate::Zero(n) => jan1 + i64::from(n),
        RuleDate::Month(m, w, d) => {
            let first = days_from_civil(year, m, 1);
            // 1970-01-01 was a Thursday (4).
            let wday_first = (first + 4).rem_euclid(7);
            let mut day =
                first + (i64::from(d) - wday_first).rem_euclid(7) + 7 * (i64::from(w) - 1);
            let next_month = if m == 12 {
                days_from_civil(year + 1, 1, 1)
            } else {
                days_from_civil(year, m + 1, 1)
            };
            while day >= next_month {
                day -= 7;
            }
            day
        }
    }
}

pub fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days since the epoch of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch to a calendar date and time: (year, month, day, hour, min, sec).
pub fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Local seconds (UTC plus the offset) broken down.
fn broken_down(local_secs: i64, local: LocalType) -> Tm {
    let (year, mon, mday, hour, min, sec) = civil(local_secs);
    let days = local_secs.div_euclid(86_400);
    Tm {
        year,
        mon,
        mday,
        hour,
        min,
        sec,
        wday: (days + 4).rem_euclid(7) as u32,
        yday: (days - days_from_civil(year, 1, 1)) as u32,
        local,
    }
}

const DAYS: [&[u8]; 7] = [
    b"Sunday",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
];
const MONTHS: [&[u8]; 12] = [
    b"January",
    b"February",
    b"March",
    b"April",
    b"May",
    b"June",
    b"July",
    b"August",
    b"September",
    b"October",
    b"November",
    b"December",
];

/// ISO 8601 week-based year and week number of a date.
fn iso_week(tm: &Tm) -> (i64, u32) {
    let wday = (tm.wday + 6) % 7; // Monday = 0
    let yday = i64::from(tm.yday);
    let week = (yday - i64::from(wday) + 10) / 7;
    if week < 1 {
        let prev = tm.year - 1;
        let prev_len = if is_leap(prev) { 366 } else { 365 };
        let py = yday + prev_len;
        return (prev, ((py - i64::from(wday) + 10) / 7) as u32);
    }
    let len = if is_leap(tm.year) { 366 } else { 365 };
    if week == 53 && yday - i64::from(wday) + 3 >= len {
        return (tm.year + 1, 1);
    }
    (tm.year, week as u32)
}

/// `strftime` in the C locale, for `log_filename` and the timestamps of log lines: the
/// conversions of C99 and POSIX (`%Y %m %d %H %M %S %j %a %A %b %B %y %e %Z %z %s %u %w %p %I`
/// and the rest); an unknown conversion is copied as is.
pub fn strftime(out: &mut Buf<'_>, pattern: &[u8], tm: &Tm, epoch: i64) {
    let mut i = 0;
    while i < pattern.len() {
        let c = pattern[i];
        i += 1;
        if c != b'%' || i >= pattern.len() {
            out.byte(c);
            continue;
        }
        let mut conv = pattern[i];
        i += 1;
        // E and O modifiers mean nothing in the C locale.
        if (conv == b'E' || conv == b'O') && i < pattern.len() {
            conv = pattern[i];
            i += 1;
        }
        let hour12 = match tm.hour % 12 {
            0 => 12,
            h => h,
        };
        match conv {
            b'Y' => out.int(tm.year),
            b'C' => out.zeroed((tm.year.div_euclid(100)) as u64, 2),
            b'y' => out.zeroed(tm.year.rem_euclid(100) as u64, 2),
            b'G' => out.int(iso_week(tm).0),
            b'g' => out.zeroed(iso_week(tm).0.rem_euclid(100) as u64, 2),
            b'V' => out.zeroed(u64::from(iso_week(tm).1), 2),
            b'm' => out.zeroed(u64::from(tm.mon), 2),
            b'd' => out.zeroed(u64::from(tm.mday), 2),
            b'e' => {
                if tm.mday < 10 {
                    out.byte(b' ');
                }
                out.int(i64::from(tm.mday));
            }
            b'H' => out.zeroed(u64::from(tm.hour), 2),
            b'k' => {
                if tm.hour < 10 {
                    out.byte(b' ');
                }
                out.int(i64::from(tm.hour));
            }
            b'I' => out.zeroed(u64::from(hour12), 2),
            b'l' => {
                if hour12 < 10 {
                    out.byte(b' ');
                }
                out.int(i64::from(hour12));
            }
            b'M' => out.zeroed(u64::from(tm.min), 2),
            b'S' => out.zeroed(u64::from(tm.sec), 2),
            b'j' => out.zeroed(u64::from(tm.yday) + 1, 3),
            b'a' => out.push(&DAYS[tm.wday as usize][..3]),
            b'A' => out.push(DAYS[tm.wday as usize]),
            b'b' | b'h' => out.push(&MONTHS[tm.mon as usize - 1][..3]),
            b'B' => out.push(MONTHS[tm.mon as usize - 1]),
            b'p' => out.push(if tm.hour < 12 { b"AM" } else { b"PM" }),
            b'P' => out.push(if tm.hour < 12 { b"am" } else { b"pm" }),
            b'u' => out.int(i64::from(if tm.wday == 0 { 7 } else { tm.wday })),
            b'w' => out.int(i64::from(tm.wday)),
            b'U' => out.zeroed(u64::from((tm.yday + 7 - tm.wday) / 7), 2),
            b'W' => out.zeroed(u64::from((tm.yday + 7 - (tm.wday + 6) % 7) / 7), 2),
            b's' => out.int(epoch),
            b'Z' => out.push(tm.local.abbr()),
            b'z' => {
                let off = tm.local.utoff;
                out.byte(if off < 0 { b'-' } else { b'+' });
                let a = off.unsigned_abs();
                out.zeroed(u64::from(a / 3600), 2);
                out.zeroed(u64::from(a % 3600 / 60), 2);
            }
            b'D' => strftime(out, b"%m/%d/%y", tm, epoch),
            b'F' => strftime(out, b"%Y-%m-%d", tm, epoch),
            b'T' => strftime(out, b"%H:%M:%S", tm, epoch),
            b'R' => strftime(out, b"%H:%M", tm, epoch),
            b'r' => strftime(out, b"%I:%M:%S %p", tm, epoch),
            b'c' => strftime(out, b"%a %b %e %H:%M:%S %Y", tm, epoch),
            b'x' => strftime(out, b"%m/%d/%y", tm, epoch),
            b'X' => strftime(out, b"%H:%M:%S", tm, epoch),
            b'n' => out.byte(b'\n'),
            b't' => out.byte(b'\t'),
            b'%' => out.byte(b'%'),
            other => {
                out.byte(b'%');
                out.byte(other);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(z: &Zone, t: i64, pattern: &str) -> String {
        let mut a = [0u8; 256];
        let mut b = Buf::new(&mut a);
        strftime(&mut b, pattern.as_bytes(), &z.localtime(t), t);
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(1_795_574_431), (2026, 11, 25, 2, 40, 31));
        assert_eq!(days_from_civil(2000, 2, 29), 951_782_400 / 86_400);
        assert_eq!(civil(-1), (1969, 12, 31, 23, 59, 59));
    }

    #[test]
    fn posix_rules_switch_at_the_right_instant() {
        let z = Zone::load("EST5EDT,M3.2.0,M11.1.0").unwrap();
        // 2026-03-08 07:00 UTC is 02:00 EST: daylight time begins.
        let switch = days_from_civil(2026, 3, 8) * 86_400 + 7 * 3600;
        assert_eq!(z.local_type(switch - 1).abbr(), b"EST");
        assert_eq!(z.local_type(switch).abbr(), b"EDT");
        assert_eq!(z.local_type(switch).utoff, -4 * 3600);
        // 2026-11-01 06:00 UTC is 02:00 EDT: back to standard time.
        let back = days_from_civil(2026, 11, 1) * 86_400 + 6 * 3600;
        assert_eq!(z.local_type(back - 1).abbr(), b"EDT");
        assert_eq!(z.local_type(back).abbr(), b"EST");
        // The southern hemisphere: daylight time spans the new year.
        let s = Zone::load("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        let jan = days_from_civil(2026, 1, 15) * 86_400;
        let jul = days_from_civil(2026, 7, 15) * 86_400;
        assert_eq!(s.local_type(jan).abbr(), b"AEDT");
        assert_eq!(s.local_type(jan).utoff, 11 * 3600);
        assert_eq!(s.local_type(jul).abbr(), b"AEST");
        let fixed = Zone::load("<+0530>-5:30").unwrap();
        assert_eq!(fixed.local_type(0).utoff, 5 * 3600 + 1800);
        assert_eq!(fixed.local_type(0).abbr(), b"+0530");
        assert!(Zone::load("No/Such_Zone").is_err());
        assert!(Zone::load("../../etc/passwd").is_err());
    }

    #[test]
    fn zoneinfo_files_agree_with_the_rules_they_carry() {
        let Ok(z) = Zone::load("America/New_York") else {
            return; // no zoneinfo on this machine
        };
        let summer = days_from_civil(2026, 7, 1) * 86_400 + 12 * 3600;
        let winter = days_from_civil(2026, 1, 1) * 86_400 + 12 * 3600;
        assert_eq!(
            fmt(&z, summer, "%Y-%m-%d %H:%M:%S %Z %z"),
            "2026-07-01 08:00:00 EDT -0400"
        );
        assert_eq!(fmt(&z, winter, "%H %Z"), "07 EST");
        // Far beyond the file's transitions: its footer rule.
        let far = days_from_civil(2099, 7, 1) * 86_400;
        assert_eq!(z.local_type(far).abbr(), b"EDT");
        let lower = Zone::load("america/new_york").unwrap();
        assert_eq!(lower.local_type(summer), z.local_type(summer));
        let k = Zone::load("Asia/Kolkata").unwrap();
        assert_eq!(fmt(&k, 0, "%H:%M %Z"), "05:30 IST");
    }

    #[test]
    fn strftime_conversions() {
        let z = Zone::utc();
        let t = days_from_civil(2026, 1, 4) * 86_400 + 13 * 3600 + 5 * 60 + 9;
        assert_eq!(
            fmt(&z, t, "%a %A %b %B %d %e %j %u %w %y %C %I %p %s %%"),
            format!("Sun Sunday Jan January 04  4 004 7 0 26 20 01 PM {t} %")
        );
        assert_eq!(
            fmt(&z, t, "postgresql-%Y-%m-%d_%H%M%S.log"),
            "postgresql-2026-01-04_130509.log"
        );
        assert_eq!(
            fmt(&z, t, "%G-W%V %F %T %Q"),
            "2026-W01 2026-01-04 13:05:09 %Q"
        );
        let t2 = days_from_civil(2027, 1, 1) * 86_400;
        assert_eq!(fmt(&z, t2, "%G-W%V"), "2026-W53");
    }
}
