//! PostgreSQL's logging settings, checked against the files the logging collector actually
//! writes: the three formats (the csvlog and jsonlog files read by real CSV and JSON parsers),
//! `current_logfiles`, the line prefix and time zone, file names and modes, rotation by size,
//! by age (with truncation), on request and on SIGHUP, long records never torn, and a collector
//! killed and started again without losing the lines written meanwhile.

mod common;

use common::*;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const REDIRECTED: &str = "redirecting log output to logging collector process";

/// A supervisor with the collector on; `start()` returns once stderr is redirected.
fn with_collector(lines: &[&str]) -> Setup {
    let mut s = Setup::new()
        .conf("logging_collector = on")
        .ready_line(REDIRECTED);
    for l in lines {
        s = s.conf(l);
    }
    s
}

/// `current_logfiles` as (format → path in the data directory).
fn current_logfiles(c: &Cluster) -> HashMap<String, PathBuf> {
    std::fs::read_to_string(c.datadir.join("current_logfiles"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| {
            let p = if v.starts_with('/') {
                PathBuf::from(v)
            } else {
                c.datadir.join(v)
            };
            (k.to_string(), p)
        })
        .collect()
}

/// Waits until the current file of `format` contains `pattern`; returns the file's text.
fn wait_in_file(c: &Cluster, format: &str, pattern: &str) -> String {
    let mut text = String::new();
    wait_until(
        &format!("{pattern:?} in the {format} log file"),
        PROMPT,
        || {
            text = current_logfiles(c)
                .get(format)
                .and_then(|p| std::fs::read(p).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            text.contains(pattern)
        },
    );
    text
}

fn stop(c: &mut Cluster) {
    c.signal(libc::SIGINT);
    assert_eq!(c.wait_exit(PROMPT).code(), Some(0));
}

#[test]
fn stderr_csvlog_and_jsonlog_files_hold_postgresql_15s_records() {
    let mut c = with_collector(&["log_destination = 'stderr,csvlog,jsonlog'"])
        .workers(&[
            Worker::new("reporter").type_("report type").mode("report"),
            Worker::new("raw").mode("rawstderr"),
        ])
        .start();
    let files = {
        let mut f = HashMap::new();
        wait_until("current_logfiles names three files", PROMPT, || {
            f = current_logfiles(&c);
            f.len() == 3
        });
        f
    };
    for (format, ext) in [("stderr", "log"), ("csvlog", "csv"), ("jsonlog", "json")] {
        let p = &files[format];
        assert!(p.starts_with(c.datadir.join("log")), "{p:?}");
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("postgresql-") && name.ends_with(&format!(".{ext}")),
            "{name}"
        );
    }
    let stderr = wait_in_file(&c, "stderr", "report: \"quoted\"");
    wait_in_file(&c, "stderr", "raw line on stderr");
    wait_in_file(&c, "csvlog", "report: \"\"quoted\"\"");
    wait_in_file(&c, "jsonlog", "report: \\\"quoted\\\"");
    stop(&mut c);

    // What the terminal saw: only the lines before the redirection.
    assert!(c.count_log(REDIRECTED) == 1);
    assert_eq!(
        c.count_log("supervisor state: running"),
        0,
        "{}",
        c.log_text()
    );

    // The stderr file: the supervisor's lines, the workers' (with DETAIL/HINT/CONTEXT and the
    // message's second line indented), a module's plain stderr output, the last words.
    let stderr = std::fs::read_to_string(&files["stderr"]).unwrap_or(stderr);
    assert!(stderr.contains("postmaster LOG:  supervisor state: running"));
    assert!(stderr
        .contains("report type LOG:  probe \"reporter\" report: \"quoted\", comma\n\tsecond line"));
    assert!(stderr.contains("report type DETAIL:  detail, with \"quotes\""));
    assert!(stderr.contains("report type HINT:  hint text"));
    assert!(stderr.contains("report type CONTEXT:  context of reporter"));
    assert!(stderr.contains("probe \"raw\" raw line on stderr\n"));
    let last_of_supervisor = stderr
        .lines()
        .rfind(|l| l.contains(" postmaster "))
        .unwrap_or_default();
    assert!(
        last_of_supervisor.ends_with("postmaster LOG:  supervisor is shut down"),
        "the supervisor's last line is in the file: {last_of_supervisor}"
    );
    assert!(stderr
        .trim_end()
        .ends_with("logger DEBUG:  logger shutting down"));

    // csvlog: every record 26 fields, as a CSV reader sees them.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(&files["csvlog"])
        .unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(records.len() > 5);
    for r in &records {
        assert_eq!(r.len(), 26, "{r:?}");
        let pid: i32 = r[3].parse().unwrap();
        let session = format!("{:x}", pid);
        assert!(r[5].ends_with(&format!(".{session}")), "session id {r:?}");
        assert_eq!(&r[10], "0", "txid");
        assert_eq!(&r[25], "0", "query id");
    }
    let report = records
        .iter()
        .find(|r| r[13].contains("report:"))
        .expect("the report in csvlog");
    assert_eq!(&report[11], "LOG");
    assert_eq!(&report[12], "22023", "its SQLSTATE");
    assert_eq!(
        &report[13],
        "probe \"reporter\" report: \"quoted\", comma\nsecond line"
    );
    assert_eq!(&report[14], "detail, with \"quotes\"");
    assert_eq!(&report[15], "hint text");
    assert_eq!(&report[18], "context of reporter");
    assert_eq!(
        &report[23], "report type",
        "backend_type is the worker's bgw_type"
    );
    let line_numbers: Vec<u64> = records
        .iter()
        .filter(|r| r[3] == report[3])
        .map(|r| r[6].parse().unwrap())
        .collect();
    assert_eq!(
        line_numbers,
        (1..=line_numbers.len() as u64).collect::<Vec<_>>()
    );
    let postmaster = records.iter().find(|r| &r[23] == "postmaster").unwrap();
    assert_eq!(&postmaster[12], "00000");

    // jsonlog: every line a JSON object, keys in PostgreSQL 15's order, absent ones left out.
    let json = std::fs::read_to_string(&files["jsonlog"]).unwrap();
    let order = [
        "timestamp",
        "user",
        "dbname",
        "pid",
        "session_id",
        "line_num",
        "session_start",
        "txid",
        "error_severity",
        "state_code",
        "message",
        "detail",
        "hint",
        "context",
        "application_name",
        "backend_type",
        "query_id",
    ];
    let mut saw_report = false;
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let keys: Vec<usize> = line
            .match_indices("\":")
            .filter_map(|(i, _)| {
                let start = line[..i].rfind('"')? + 1;
                order.iter().position(|k| *k == &line[start..i])
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "key order: {line}");
        assert!(
            v["pid"].is_i64() && v["line_num"].is_i64() && v["txid"] == 0,
            "{line}"
        );
        if v["message"].as_str().is_some_and(|m| m.contains("report:")) {
            saw_report = true;
            assert_eq!(v["state_code"], "22023");
            assert_eq!(v["detail"], "detail, with \"quotes\"");
            assert_eq!(v["hint"], "hint text");
            assert_eq!(v["context"], "context of reporter");
            assert_eq!(v["backend_type"], "report type");
            assert_eq!(v["error_severity"], "LOG");
        }
        if v["backend_type"] == "postmaster" {
            assert!(v.get("state_code").is_none(), "00000 is left out: {line}");
        }
    }
    assert!(saw_report);
}

#[test]
fn log_line_prefix_and_log_timezone_shape_every_line_of_the_file() {
    let mut c = with_collector(&[
        "log_line_prefix = '<%t|%n|%m|%p|%-12b|%l|%e|%c|%s|%a|%u|%d|%%|%q>'",
        "log_timezone = 'Asia/Kolkata'",
    ])
    .workers(&[Worker::new("reporter").type_("rep").mode("report")])
    .start();
    let text = wait_in_file(&c, "stderr", "report:");
    stop(&mut c);
    let line = text
        .lines()
        .find(|l| l.contains("report:"))
        .unwrap()
        .to_string();
    // <t|n|m|p|b|l|e|c|s|a|u|d|%|  (stops at %q: a worker without a session)
    let fields: Vec<&str> = line[1..line.find("LOG:").unwrap()].split('|').collect();
    assert_eq!(fields.len(), 14, "{line}");
    assert!(fields[0].ends_with(" IST"), "%t in log_timezone: {line}");
    assert!(
        fields[2].ends_with(" IST") && fields[2].len() == 27,
        "%m: {line}"
    );
    // The local time is UTC + 5:30: %n (seconds since the epoch) against %t.
    let epoch: f64 = fields[1].parse().unwrap();
    let utc_ms = log_time_ms(&format!("{}.000", &fields[0][..19]));
    let diff_s = (utc_ms as f64 / 1000.0) - epoch;
    assert!((diff_s - 19_800.0).abs() < 2.0, "{diff_s}: {line}");
    let pid: i32 = fields[3].parse().unwrap();
    assert_eq!(fields[4], "rep         ", "%-12b pads on the right");
    assert!(fields[5].parse::<u64>().unwrap() >= 1, "%l");
    assert_eq!(fields[6], "22023", "%e");
    assert!(fields[7].ends_with(&format!(".{pid:x}")), "%c: {line}");
    assert!(fields[8].ends_with(" IST"), "%s");
    assert_eq!(&fields[9..12], &["", "", ""], "no session: %a %u %d empty");
    assert_eq!(fields[12], "%");
    assert!(
        line.contains("|%|LOG:  probe"),
        "%q stopped the prefix: {line}"
    );
}

#[test]
fn log_directory_log_filename_and_log_file_mode_name_and_create_the_files() {
    let dir = fresh_temp_dir("abs-logs");
    let mut c = with_collector(&[
        &format!("log_directory = '{}/logs/'", dir.display()),
        "log_filename = 'bgw-%Y%m%d.log'",
        "log_file_mode = 0640",
        "log_destination = 'csvlog'",
    ])
    .workers(&[Worker::new("reporter").mode("report")])
    .start();
    wait_in_file(&c, "csvlog", "report:");
    let files = current_logfiles(&c);
    assert_eq!(files.len(), 1, "only csvlog is listed: {files:?}");
    let csv = &files["csvlog"];
    let today = {
        let line = c
            .log_lines()
            .into_iter()
            .find(|l| l.contains(REDIRECTED))
            .unwrap();
        line[..10].replace('-', "")
    };
    assert_eq!(*csv, dir.join(format!("logs/bgw-{today}.csv")));
    let log = dir.join(format!("logs/bgw-{today}.log"));
    for f in [csv, &log] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{f:?}");
    }
    // csvlog only: the stderr text is not written, the file holds only the module's own output.
    let stderr_file = std::fs::read_to_string(&log).unwrap();
    assert!(!stderr_file.contains("report:"), "{stderr_file}");
    stop(&mut c);
}

#[test]
fn rotation_by_size_on_request_and_on_sighup() {
    let mut c = with_collector(&[
        "log_filename = 'pg-%H%M%S.log'",
        "log_rotation_size = 1",
        "log_rotation_age = 0",
        "log_timezone = 'UTC'",
    ])
    .workers(&[Worker::new("chatty").mode("tick").arg(20)])
    .start();
    let first = wait_in_file(&c, "stderr", "tick");
    let first_name = current_logfiles(&c)["stderr"].clone();
    // By size: once over 1 kB, the next second's name takes over.
    let mut rotated = PathBuf::new();
    wait_until("a rotation by size", PROMPT, || {
        rotated = current_logfiles(&c)["stderr"].clone();
        rotated != first_name
    });
    assert!(!first.is_empty());
    let size = std::fs::metadata(&first_name).unwrap().len();
    assert!(size >= 1024, "rotated at {size} bytes");

    // bgworkerctl logrotate, with rotation by size off: a new file at once.
    let conf = c.datadir.join("bgworker.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replace("log_rotation_size = 1", "log_rotation_size = 0"),
    )
    .unwrap();
    assert!(bgworkerctl(&c.datadir, &["reload"]).status.success());
    wait_in_file(
        &c,
        "stderr",
        "received SIGHUP, reloading configuration files",
    );
    let before = current_logfiles(&c)["stderr"].clone();
    // A file named for another second than the current one.
    let sec = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
    wait_until("the next second", PROMPT, || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (_, _, _, h, m, s) = civil(now as i64);
        sec(&before) != format!("pg-{h:02}{m:02}{s:02}.log")
    });
    let out = bgworkerctl(&c.datadir, &["logrotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("signaled to rotate"));
    wait_until("a rotation on request", PROMPT, || {
        current_logfiles(&c)["stderr"] != before
    });
    assert!(
        !c.datadir.join("logrotate").exists(),
        "the request file is gone"
    );

    // SIGHUP with a new directory and csvlog turned on: new files there at once.
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        format!("{text}log_directory = 'other'\nlog_destination = 'stderr,csvlog'\n"),
    )
    .unwrap();
    assert!(bgworkerctl(&c.datadir, &["reload"]).status.success());
    wait_until("files in the new directory", PROMPT, || {
        let f = current_logfiles(&c);
        f.len() == 2 && f.values().all(|p| p.starts_with(c.datadir.join("other")))
    });
    stop(&mut c);
    // The supervisor applied it (a worker that does not reload keeps its settings, as there).
    let csv = std::fs::read_to_string(current_logfiles(&c)["csvlog"].clone()).unwrap();
    assert!(csv.contains("received fast shutdown request"), "{csv}");
}

/// Seconds since the epoch to a UTC (year, month, day, hour, minute, second).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
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
    (
        yoe + era * 400 + i64::from(m <= 2),
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

#[test]
fn rotation_by_age_at_the_minute_truncates_a_file_of_another_name() {
    // The file the next minute's rotation will use already holds old lines.
    let setup = with_collector(&[
        "log_filename = 'minute-%M.log'",
        "log_rotation_age = 1",
        "log_truncate_on_rotation = on",
        "log_timezone = 'UTC'",
    ])
    .workers(&[Worker::new("chatty").mode("tick").arg(200)]);
    let c = setup.start();
    let first = current_logfiles(&c)["stderr"].clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (_, _, _, _, min, sec) = civil(now);
    if sec >= 55 {
        // Too close to the boundary to plant the file in time: nothing to check this run.
        eprintln!("SKIPPED: started at second {sec}, too close to the next minute");
        return;
    }
    let next = c
        .datadir
        .join(format!("log/minute-{:02}.log", (min + 1) % 60));
    std::fs::write(&next, "OLD LINE FROM AN HOUR AGO\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(75);
    while current_logfiles(&c)["stderr"] == first {
        assert!(Instant::now() < deadline, "no rotation at the minute");
        std::thread::sleep(POLL);
    }
    assert_eq!(current_logfiles(&c)["stderr"], next);
    wait_in_file(&c, "stderr", "tick");
    let text = std::fs::read_to_string(&next).unwrap();
    assert!(!text.contains("OLD LINE"), "truncated on rotation: {text}");
    let mut c = c;
    stop(&mut c);
}

#[test]
fn long_records_are_never_torn_between_processes() {
    // Four processes logging at once, two of them records of 6,000 and 8,000 bytes, longer
    // than what a pipe keeps whole (PIPE_BUF, 4,096).
    let mut c = with_collector(&["log_destination = 'stderr,jsonlog'"])
        .workers(&[
            Worker::new("long1").mode("long").arg(6000),
            Worker::new("long2").mode("long").arg(8000),
            Worker::new("b1").mode("burst").arg(2000),
            Worker::new("b2").mode("burst").arg(2000),
        ])
        .start();
    wait_in_file(&c, "stderr", "probe \"b2\" burst 2000");
    wait_in_file(&c, "stderr", "probe \"b1\" burst 2000");
    let text = wait_in_file(&c, "jsonlog", "probe \\\"b2\\\" burst 2000");
    stop(&mut c);
    let stderr = std::fs::read_to_string(current_logfiles(&c)["stderr"].clone()).unwrap();
    for n in [6000, 8000] {
        let line = stderr
            .lines()
            .find(|l| l.contains("LONG<") && l.len() > n && l.len() < n + 100)
            .unwrap_or_else(|| panic!("a whole {n}-byte record"));
        let body = &line[line.find("LONG<").unwrap()..];
        assert_eq!(body.len(), n, "{}", &body[..60]);
        assert!(body.ends_with(">END") && body[5..n - 4].bytes().all(|b| b == b'x'));
    }
    for w in ["b1", "b2"] {
        let n = stderr
            .lines()
            .filter(|l| l.contains(&format!("probe \"{w}\" burst ")))
            .count();
        assert_eq!(n, 2000, "every line of {w}, each whole");
    }
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if let Some(m) = v["message"].as_str().filter(|m| m.starts_with("LONG<")) {
            assert!(m.ends_with(">END"));
        }
    }
}

#[test]
fn a_killed_collector_is_started_again_and_keeps_what_was_written_meanwhile() {
    let mut c = with_collector(&[])
        .workers(&[Worker::new("chatty").mode("tick").arg(10)])
        .start();
    wait_in_file(&c, "stderr", "tick");
    let logger = || {
        all_processes()
            .into_iter()
            .filter(|(_, st)| st.ppid == c.pid && st.state != 'Z')
            .map(|(p, _)| p)
            .find(|&p| cmdline(p).is_some_and(|t| t == "bgworker: logger"))
    };
    let first = logger().expect("a collector process titled bgworker: logger");
    c.track(first);
    assert_eq!(
        c.worker_pids().len(),
        1,
        "the collector is not counted as a worker"
    );
    send_signal(first, libc::SIGKILL);
    let mut second = None;
    wait_until("another collector", PROMPT, || {
        second = logger().filter(|&p| p != first);
        second.is_some()
    });
    c.track(second.unwrap());
    let text = wait_in_file(
        &c,
        "stderr",
        &format!("system logger process (PID {first}) was terminated by signal 9"),
    );
    assert!(text.contains("tick"));
    // The worker kept running and kept being heard.
    let before = text.matches("tick").count();
    wait_until("more ticks in the new file", PROMPT, || {
        let t = std::fs::read_to_string(current_logfiles(&c)["stderr"].clone()).unwrap_or_default();
        t.matches("tick").count() > before
    });
    let status = status_json(&c);
    assert_eq!(status["workers"].as_array().unwrap().len(), 1);
    stop(&mut c);
}

#[test]
fn without_a_collector_csvlog_falls_back_to_stderr_and_a_stale_current_logfiles_goes() {
    let dir = fresh_temp_dir("no-collector").join("data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(dir.join("current_logfiles"), "stderr log/old.log\n").unwrap();
    let mut c = Setup::new()
        .datadir(&dir)
        .conf("log_destination = 'csvlog'")
        .workers(&[Worker::new("reporter").mode("report")])
        .start();
    c.wait_for_log("report: \"quoted\"", PROMPT);
    assert!(!dir.join("current_logfiles").exists());
    stop(&mut c);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}
