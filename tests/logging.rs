//! The log line format: `YYYY-MM-DD HH:MM:SS.mmm UTC [pid] <postmaster|bgw_type> LEVEL:  message`,
//! one line per message, for the supervisor and for workers alike; `log_line_prefix` and
//! `log_timezone` on stderr; syslog datagrams received on a socket the test binds.

mod common;

use common::*;

/// Checks one line's prefix; returns (pid, source, level).
fn parse_prefix(line: &str) -> (i32, String, String) {
    let _ = log_time_ms(line); // panics without a timestamp
    assert_eq!(
        &line[23..28],
        " UTC ",
        "time zone after the timestamp: {line}"
    );
    let pid = log_pid(line).unwrap_or_else(|| panic!("no [pid]: {line}"));
    let source = log_source(line).unwrap_or_else(|| panic!("no source/level: {line}"));
    let after = &line[line.find("] ").unwrap() + 2 + source.len() + 1..];
    let level = after.split(":  ").next().unwrap().to_string();
    assert!(after.contains(":  "), "two spaces after the level: {line}");
    (pid, source, level)
}

#[test]
fn every_log_line_has_timestamp_pid_source_and_level() {
    let mut c = Setup::new()
        .workers(&[
            Worker::new("w")
                .type_("w type")
                .mode("exit")
                .arg(1)
                .restart(BGW_NEVER_RESTART),
            Worker::new("v"),
        ])
        .start();
    let wpid = c.wait_started("w", 1);
    c.wait_started("v", 1);
    c.wait_for_log("background worker \"w type\" (PID ", PROMPT);
    c.signal(libc::SIGINT);
    c.wait_exit(PROMPT);
    let levels = [
        "DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC", "DETAIL", "HINT",
    ];
    for line in c.log_lines() {
        if line.starts_with("[stdout] ") {
            continue;
        }
        let (pid, source, level) = parse_prefix(&line);
        assert!(
            levels.contains(&level.as_str()),
            "unknown level {level:?}: {line}"
        );
        if pid == c.pid {
            assert_eq!(source, "postmaster", "{line}");
        } else if pid == wpid {
            assert_eq!(
                source, "w type",
                "a worker's lines carry its bgw_type: {line}"
            );
        }
    }
    assert!(c.count_log(&format!("[{wpid}] w type LOG:  probe \"w\" started")) == 1);
}

#[test]
fn log_line_prefix_and_log_timezone_apply_to_stderr_and_change_on_sighup() {
    let mut c = Setup::new()
        .conf("log_line_prefix = '%m %e [%-6p] %b: '")
        .conf("log_timezone = 'America/New_York'")
        .ready_line("LOG:  supervisor state: running")
        .workers(&[Worker::new("w").type_("wtype").mode("report")])
        .start();
    let line = c.wait_for_log("report: \"quoted\"", PROMPT);
    // 2026-... EST or EDT, the SQLSTATE, the pid padded to 6 columns on the right.
    let zone = &line[24..27];
    assert!(zone == "EST" || zone == "EDT", "{line}");
    assert!(line[27..].starts_with(" 22023 ["), "{line}");
    assert!(
        line.contains("] wtype: LOG:  probe \"w\" report:"),
        "{line}"
    );
    let running = c.wait_for_log("supervisor state: running", PROMPT);
    assert!(running[27..].starts_with(" 00000 ["), "{running}");
    // New York is 4 or 5 hours behind UTC.
    let behind = (epoch_ms() - log_time_ms(&line)) as f64 / 3_600_000.0;
    assert!(
        (behind - 4.0).abs() < 0.1 || (behind - 5.0).abs() < 0.1,
        "{behind} h: {line}"
    );
    let conf = c.datadir.join("bgworker.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replace("America/New_York", "UTC")
            .replace("%m %e [%-6p] %b: ", "%t <%l> "),
    )
    .unwrap();
    // The first SIGHUP's line is written before the file is read again; the second's after.
    let from = c.log_len();
    c.signal(libc::SIGHUP);
    c.wait_for_log_since(from, "] postmaster: LOG:  received SIGHUP", PROMPT);
    c.signal(libc::SIGHUP);
    let next = c.wait_for_log_since(from, "> LOG:  received SIGHUP", PROMPT);
    assert_eq!(&next[19..24], " UTC ", "{next}");
    assert!(next[24..].starts_with('<'), "{next}");
    c.signal(libc::SIGINT);
    c.wait_exit(PROMPT);
}

#[test]
fn syslog_gets_datagrams_in_libcs_format_split_and_numbered_as_postgresql_does() {
    use std::os::unix::net::UnixDatagram;
    let dir = fresh_temp_dir("syslog");
    let path = dir.join("log.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_millis(100)))
        .unwrap();
    let mut c = Setup::new()
        .env("BGWORKER_SYSLOG_SOCKET", path.to_str().unwrap())
        .conf("log_destination = 'syslog'")
        .conf("syslog_facility = 'LOCAL3'")
        .conf("syslog_ident = 'bgwtest'")
        .conf("log_line_prefix = '%b '")
        .workers(&[Worker::new("w").type_("wtype").mode("report")])
        .spawn();
    let mut got: Vec<String> = Vec::new();
    let deadline = std::time::Instant::now() + PROMPT;
    while !got.iter().any(|d| d.contains("CONTEXT:  context of w")) {
        assert!(std::time::Instant::now() < deadline, "{got:#?}");
        let mut buf = [0u8; 65536];
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    // <PRI>Mmm dd hh:mm:ss ident[pid]: [seq-piece] text: local3 (19) and LOG as info (6).
    let report: Vec<&String> = got.iter().filter(|d| d.contains("wtype ")).collect();
    let first = report
        .iter()
        .find(|d| d.contains("report: \"quoted\""))
        .unwrap();
    assert!(first.starts_with("<158>"), "{first}");
    let after_time = &first[5 + 16..];
    assert!(after_time.starts_with("bgwtest["), "{first}");
    let tag = &first[first.find("]: [").unwrap() + 4..];
    let seq: u64 = tag[..tag.find('-').unwrap()].parse().unwrap();
    let pid = field_i32(first, "bgwtest[").unwrap();
    let tags: Vec<String> = got
        .iter()
        .filter(|d| d.contains(&format!("bgwtest[{pid}]: [{seq}-")))
        .map(|d| d[d.find("]: [").unwrap() + 3..].to_string())
        .collect();
    assert_eq!(
        tags,
        vec![
            format!("[{seq}-1] wtype LOG:  probe \"w\" report: \"quoted\", comma"),
            format!("[{seq}-2] \tsecond line"),
            format!("[{seq}-3] wtype DETAIL:  detail, with \"quotes\""),
            format!("[{seq}-4] wtype HINT:  hint text"),
            format!("[{seq}-5] wtype CONTEXT:  context of w"),
        ]
    );
    // Nothing on stderr: syslog was the only destination.
    assert_eq!(c.count_log("report:"), 0, "{}", c.log_text());
    c.signal(libc::SIGINT);
    c.wait_exit(PROMPT);
    let _ = std::fs::remove_dir_all(&dir);
}
