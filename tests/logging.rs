//! The log line format: `YYYY-MM-DD HH:MM:SS.mmm UTC [pid] <postmaster|bgw_type> LEVEL:  message`,
//! one line per message, for the supervisor and for workers alike.

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
