//! `bgworkerctl`: every command against a real supervisor, and `status --json` parsed as a
//! consumer would parse it.

mod common;

use common::*;
use serde_json::Value;
use std::process::Output;
use std::time::Duration;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn worker<'a>(status: &'a Value, name: &str) -> Option<&'a Value> {
    status["workers"]
        .as_array()
        .expect("workers is an array")
        .iter()
        .find(|w| w["name"] == name)
}

/// Polls `status --json` until `cond` holds for the named worker.
fn wait_worker(c: &Cluster, name: &str, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    wait_until(what, PROMPT, || {
        last = status_json(c);
        worker(&last, name).is_some_and(&cond)
    });
    worker(&last, name).cloned().expect("worker present")
}

#[test]
fn status_json_describes_supervisor_and_every_worker() {
    let c = Setup::new()
        .worker(Worker::new("steady"))
        .worker(Worker::new("flapping").mode("exit").arg(1).restart(60))
        .start();
    let steady_pid = c.wait_started("steady", 1);
    c.wait_for_log("background worker \"flapping\"", PROMPT);

    let launched = bgworkerctl(
        &c.datadir,
        &[
            "launch",
            "--library",
            "postgres",
            "--function",
            "BackgroundWorkerIdleMain",
            "--name",
            "dyn idle",
            "--type",
            "idler",
            "--wait",
        ],
    );
    assert_eq!(launched.status.code(), Some(0), "{}", stderr(&launched));
    let dyn_pid: i32 = stdout(&launched)
        .trim()
        .parse()
        .expect("launch --wait prints the pid");
    assert!(pid_alive(dyn_pid));
    c.track(dyn_pid);

    let s = status_json(&c);
    assert_eq!(s["schema"], 1);
    assert_eq!(s["supervisor"]["pid"], c.pid);
    assert_eq!(s["supervisor"]["status"], "ready");
    assert!(s["supervisor"]["started_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    let steady = worker(&s, "steady").expect("static worker listed");
    assert_eq!(steady["pid"], steady_pid);
    assert_eq!(steady["kind"], "static");
    assert_eq!(steady["state"], "running");
    assert_eq!(steady["restarts"], 0);
    assert!(steady["last_exit"].is_null());
    assert!(steady["started_at"].is_string());

    let flapping = wait_worker(&c, "flapping", "flapping waits to restart", |w| {
        w["state"] == "waiting to restart"
    });
    assert!(flapping["pid"].is_null());
    assert_eq!(flapping["last_exit"]["code"], 1);

    let d = worker(&s, "dyn idle").expect("dynamic worker listed");
    assert_eq!(d["pid"], dyn_pid);
    assert_eq!(d["kind"], "dynamic");
    assert_eq!(d["type"], "idler");
    assert_eq!(d["state"], "running");
    let slots: Vec<u64> = s["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slot"].as_u64().unwrap())
        .collect();
    let mut sorted = slots.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(slots, sorted, "one entry per slot, in slot order");
}

#[test]
fn status_shows_reported_activity() {
    let c = Setup::new().preload(&["reporter"]).start();
    c.wait_for_log("reporter reported its activity", PROMPT);
    let w = status_json(&c);
    let rep = worker(&w, "reporter").expect("reporter listed");
    assert_eq!(rep["activity"], "folding \"deltas\" into totals");
    let text = stdout(&bgworkerctl(&c.datadir, &["status"]));
    assert!(text.contains("folding \"deltas\" into totals"), "{text}");
    assert!(text.contains("reporter"), "{text}");
}

#[test]
fn status_text_has_a_header_and_a_row_per_worker() {
    let c = Setup::new()
        .worker(Worker::new("alpha"))
        .worker(Worker::new("beta"))
        .start();
    c.wait_started("alpha", 1);
    c.wait_started("beta", 1);
    let o = bgworkerctl(&c.datadir, &["status"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains(&format!("bgworkerd (PID {}) is ready", c.pid)),
        "{text}"
    );
    assert!(text
        .lines()
        .any(|l| l.contains("SLOT") && l.contains("STATE") && l.contains("ACTIVITY")));
    for name in ["alpha", "beta"] {
        assert!(
            text.lines()
                .any(|l| l.contains(name) && l.contains("running") && l.contains("static")),
            "{name} row missing: {text}"
        );
    }
}

#[test]
fn launch_without_wait_registers_and_the_worker_starts() {
    let c = Setup::new().start();
    let o = bgworkerctl(
        &c.datadir,
        &[
            "launch",
            "--library",
            "postgres",
            "--function",
            "BackgroundWorkerIdleMain",
            "--name",
            "later",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("registered in slot "),
        "{}",
        stdout(&o)
    );
    let w = wait_worker(&c, "later", "launched worker runs", |w| {
        w["state"] == "running"
    });
    c.track(w["pid"].as_i64().unwrap() as i32);
}

#[test]
fn launch_exit_codes_say_what_happened() {
    let c = Setup::new()
        .c("max_worker_processes=1")
        .worker(Worker::new("occupant"))
        .start();
    c.wait_started("occupant", 1);
    let full = bgworkerctl(
        &c.datadir,
        &[
            "launch",
            "--library",
            "postgres",
            "--function",
            "BackgroundWorkerIdleMain",
        ],
    );
    assert_eq!(full.status.code(), Some(1), "no free slot → 1");
    assert!(stderr(&full).contains("no free slot"), "{}", stderr(&full));

    let invalid = bgworkerctl(
        &c.datadir,
        &[
            "launch",
            "--library",
            "x",
            "--function",
            "f",
            "--name",
            "bad",
            "--flags",
            "shmem,db",
            "--start-time",
            "postmaster",
        ],
    );
    assert_eq!(invalid.status.code(), Some(2), "invalid definition → 2");
    assert!(
        stderr(&invalid).contains("background worker \"bad\": cannot request database access if starting at postmaster start"),
        "{}",
        stderr(&invalid)
    );

    let usage = bgworkerctl(&c.datadir, &["launch", "--function", "f"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).contains("--library"), "{}", stderr(&usage));
}

#[test]
fn terminate_by_slot_and_by_pid_stops_workers_for_good() {
    let c = Setup::new().start();
    let mut pids = Vec::new();
    for name in ["by slot", "by pid"] {
        let o = bgworkerctl(
            &c.datadir,
            &[
                "launch",
                "--library",
                "postgres",
                "--function",
                "BackgroundWorkerIdleMain",
                "--name",
                name,
                "--restart-time",
                "1",
                "--wait",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let pid: i32 = stdout(&o).trim().parse().unwrap();
        c.track(pid);
        pids.push(pid);
    }
    let s = status_json(&c);
    let slot = worker(&s, "by slot").unwrap()["slot"]
        .as_u64()
        .unwrap()
        .to_string();
    let o = bgworkerctl(&c.datadir, &["terminate", &slot]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(&format!("slot {slot}")));
    let o = bgworkerctl(&c.datadir, &["terminate", "--pid", &pids[1].to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (name, pid) in ["by slot", "by pid"].iter().zip(&pids) {
        c.wait_for_log(
            &format!("background worker \"{name}\" (PID {pid}) exited with exit code 1"),
            PROMPT,
        );
    }
    wait_until("both gone from status", PROMPT, || {
        let s = status_json(&c);
        worker(&s, "by slot").is_none() && worker(&s, "by pid").is_none()
    });
    // Restart time 1 s, but terminated: prove no restart in a window of 2 intervals.
    observe_window(Duration::from_millis(2000));
    for name in ["by slot", "by pid"] {
        let starts = c.count_log(&format!("starting background worker process \"{name}\""));
        assert_eq!(starts, 1, "{name} was started again after termination");
    }

    let none = bgworkerctl(&c.datadir, &["terminate", "--pid", "999999"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("no worker with PID 999999"));
}

#[test]
fn reload_makes_the_supervisor_reread_its_settings() {
    let c = Setup::new().start();
    let o = bgworkerctl(&c.datadir, &["reload"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.wait_for_log("received SIGHUP, reloading configuration files", PROMPT);
}

#[test]
fn stop_shuts_down_in_each_mode_and_waits() {
    for mode in ["smart", "fast", "immediate"] {
        let mut c = Setup::new().worker(Worker::new("w")).start();
        let pid = c.wait_started("w", 1);
        let o = bgworkerctl(&c.datadir, &["stop", "--mode", mode]);
        assert_eq!(o.status.code(), Some(0), "{mode}: {}", stderr(&o));
        assert!(stdout(&o).contains("bgworkerd stopped"));
        // It waited: the lock file is gone when the command returns (as pg_ctl stop waits).
        assert!(
            !c.pidfile().exists(),
            "{mode}: stop returned before the supervisor finished"
        );
        c.wait_for_log(&format!("received {mode} shutdown request"), PROMPT);
        assert!(!pid_alive(pid));
        let st = c.wait_exit(PROMPT);
        assert_eq!(exit_code(&st), Some(0));
    }
}

#[test]
fn commands_without_a_supervisor_exit_3() {
    let dir = fresh_temp_dir("ctl-none");
    for args in [
        vec!["status"],
        vec!["reload"],
        vec!["stop"],
        vec!["terminate", "0"],
    ] {
        let o = bgworkerctl(&dir, &args);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains("no bgworkerd is running"));
    }
    let o = bgworkerctl(std::path::Path::new("/tmp"), &["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_process_that_reused_the_supervisors_pid_is_never_taken_for_it_nor_signalled() {
    // The supervisor is killed; an unrelated process then holds the pid its lock file names
    // (simulated by writing that process's pid into the file, as pid reuse would leave it).
    let mut c = Setup::new().start();
    send_signal(c.pid, libc::SIGKILL);
    c.wait_exit(PROMPT);
    let mut unrelated = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let stranger = unrelated.id() as i32;
    let text = std::fs::read_to_string(c.pidfile()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let stranger_text = stranger.to_string();
    lines[0] = &stranger_text;
    std::fs::write(c.pidfile(), lines.join("\n") + "\n").unwrap();

    let status = bgworkerctl(&c.datadir, &["status"]);
    assert_eq!(status.status.code(), Some(3), "{}", stdout(&status));
    assert!(
        stderr(&status).contains(&format!("bgworkerd (PID {stranger})"))
            && stderr(&status).contains("is not running"),
        "{}",
        stderr(&status)
    );
    for args in [
        &[
            "launch",
            "--library",
            "postgres",
            "--function",
            "BackgroundWorkerIdleMain",
        ][..],
        &["reload"][..],
        &["stop", "--mode", "immediate"][..],
        &["terminate", "0"][..],
    ] {
        let out = bgworkerctl(&c.datadir, args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
    }
    // Had any of them signalled it (SIGUSR1, SIGHUP or SIGQUIT), it would be gone.
    observe_window(std::time::Duration::from_millis(200));
    assert!(
        unrelated.try_wait().unwrap().is_none(),
        "the unrelated process was signalled"
    );
    let _ = unrelated.kill();
    let _ = unrelated.wait();
}
