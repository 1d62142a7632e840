//! The data directory's lock file: its contents, a second supervisor refused, a stale file replaced.

mod common;

use common::*;
use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

fn pidfile_lines(c: &Cluster) -> Vec<String> {
    fs::read_to_string(c.pidfile())
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn same_dir(a: &str, b: &std::path::Path) -> bool {
    std::path::Path::new(a) == b
        || std::path::Path::new(a).canonicalize().ok() == b.canonicalize().ok()
}

#[test]
fn pidfile_holds_pid_datadir_start_time_and_status() {
    let c = Setup::new().worker(Worker::new("w")).start();
    c.wait_started("w", 1);
    wait_until("postmaster.pid status ready", PROMPT, || {
        pidfile_lines(&c).get(3).map(|s| s.trim()) == Some("ready")
    });
    let lines = pidfile_lines(&c);
    assert_eq!(
        lines[0].trim().parse::<i32>().ok(),
        Some(c.pid),
        "line 1 is the pid: {lines:?}"
    );
    assert!(
        lines[1].starts_with('/'),
        "line 2 is an absolute path: {lines:?}"
    );
    assert!(
        same_dir(lines[1].trim(), &c.datadir),
        "line 2 is the data directory: {lines:?}"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let started: i64 = lines[2].trim().parse().expect("line 3 is epoch seconds");
    assert!(
        (now - started).abs() < 120,
        "start time {started} vs now {now}"
    );
}

#[test]
fn second_supervisor_on_same_datadir_is_refused() {
    let first = Setup::new().worker(Worker::new("w")).start();
    let w = first.wait_started("w", 1);
    let mut second = Setup::new()
        .worker(Worker::new("w"))
        .datadir(&first.datadir)
        .spawn();
    let st = second.wait_exit(PROMPT);
    assert_eq!(st.code(), Some(1), "second supervisor exit status {st:?}");
    second.wait_for_log("lock file \"postmaster.pid\" already exists", PROMPT);
    let hint = second.wait_for_log(
        &format!(
            "HINT:  Is another bgworkerd (PID {}) running in data directory \"",
            first.pid
        ),
        PROMPT,
    );
    assert!(
        hint.contains(&*first.datadir.file_name().unwrap().to_string_lossy()),
        "{hint}"
    );
    assert_eq!(
        second.starts("w"),
        0,
        "the second supervisor starts nothing"
    );
    // The first one is untouched.
    assert!(pid_alive(w));
    assert_eq!(
        pidfile_lines(&first)[0].trim().parse::<i32>().ok(),
        Some(first.pid)
    );
    assert_eq!(first.starts("w"), 1);
}

#[test]
fn stale_pidfile_with_dead_pid_is_replaced() {
    let dir = fresh_temp_dir("stale_pidfile");
    let datadir = dir.join("data");
    fs::create_dir_all(&datadir).unwrap();
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    assert!(!pid_alive(dead_pid as i32));
    fs::write(
        datadir.join("postmaster.pid"),
        format!("{dead_pid}\n{}\n1700000000\nready\n", datadir.display()),
    )
    .unwrap();
    {
        let c = Setup::new()
            .worker(Worker::new("w"))
            .datadir(&datadir)
            .start();
        c.wait_started("w", 1);
        assert_eq!(pidfile_lines(&c)[0].trim().parse::<i32>().ok(), Some(c.pid));
    }
    let _ = fs::remove_dir_all(&dir);
}
