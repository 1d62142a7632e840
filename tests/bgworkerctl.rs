//! `bgworkerctl`: every command against a real supervisor, and `status --json` parsed as a
//! consumer would parse it.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `bgworkerctl launch` of the library's built-in idle worker, with more arguments.
fn launch_idle(datadir: &Path, more: &[&str]) -> Output {
    let mut args = vec![
        "launch",
        "--library",
        "postgres",
        "--function",
        "BackgroundWorkerIdleMain",
    ];
    args.extend_from_slice(more);
    bgworkerctl(datadir, &args)
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

    let launched = launch_idle(
        &c.datadir,
        &["--name", "dyn idle", "--type", "idler", "--wait"],
    );
    assert_eq!(launched.status.code(), Some(0), "{}", stderr(&launched));
    let dyn_pid: i32 = stdout(&launched)
        .trim()
        .parse()
        .expect("launch --wait prints the pid");
    assert!(pid_alive(dyn_pid));
    c.track(dyn_pid);

    let s = status_json(&c);
    assert_eq!(s["schema"], 2);
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
    let text = stdout(&bgworkerctl(&c.datadir, &["status", "--wide"]));
    assert!(text.contains("folding \"deltas\" into totals"), "{text}");
    assert!(text.contains("reporter"), "{text}");
}

#[test]
fn status_text_fits_100_columns_and_wide_shows_every_field() {
    let long = "a worker whose name is far longer than the column it gets";
    let c = Setup::new()
        .worker(Worker::new("alpha"))
        .worker(Worker::new("beta"))
        .worker(Worker::new(long))
        .start();
    c.wait_started("alpha", 1);
    c.wait_started("beta", 1);
    c.wait_started(long, 1);
    let o = bgworkerctl(&c.datadir, &["status"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains(&format!("bgworkerd (PID {}) is ready", c.pid)),
        "{text}"
    );
    assert!(text.lines().any(|l| l.contains("SLOT")
        && l.contains("STATE")
        && l.contains("UPTIME")
        && l.contains("LAST EXIT")));
    for name in ["alpha", "beta"] {
        assert!(
            text.lines()
                .any(|l| l.contains(name) && l.contains("running")),
            "{name} row missing: {text}"
        );
    }
    for l in text.lines().skip(1) {
        assert!(l.chars().count() <= 100, "wider than 100 columns: {l:?}");
    }
    assert!(
        text.contains("a worker whose name is …"),
        "cut names end in …: {text}"
    );

    let o = bgworkerctl(&c.datadir, &["status", "--wide"]);
    assert_eq!(o.status.code(), Some(0));
    let wide = stdout(&o);
    let header = wide.lines().nth(1).unwrap();
    for col in [
        "KIND",
        "TYPE",
        "LIBRARY",
        "FUNCTION",
        "STARTED",
        "UPTIME",
        "RESTARTS",
        "LAST EXIT",
        "EXITED AT",
        "NEXT START",
        "WAIT EVENT",
        "TITLE",
        "LAST ERROR",
        "ACTIVITY",
    ] {
        assert!(header.contains(col), "--wide has {col}: {header}");
    }
    assert!(wide.contains(long), "--wide cuts nothing: {wide}");
    assert!(
        wide.lines()
            .any(|l| l.contains("alpha") && l.contains("static") && l.contains("probe_main")),
        "{wide}"
    );
}

#[test]
fn launch_without_wait_registers_and_the_worker_starts() {
    let c = Setup::new().start();
    let o = launch_idle(&c.datadir, &["--name", "later"]);
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
    let full = launch_idle(&c.datadir, &[]);
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
        let o = launch_idle(
            &c.datadir,
            &["--name", name, "--restart-time", "1", "--wait"],
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

#[test]
fn status_tells_how_and_when_a_worker_last_exited_and_when_it_starts_again() {
    let c = Setup::new()
        .worker(Worker::new("fatal one").mode("fatal+once").restart(60))
        .worker(Worker::new("error one").mode("error+once").restart(60))
        .worker(
            Worker::new("killed one")
                .mode("segv+once")
                .flags(0)
                .restart(60),
        )
        .start();
    let fatal = wait_worker(&c, "fatal one", "fatal one waits to restart", |w| {
        w["state"] == "waiting to restart"
    });
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(fatal["last_exit"]["code"], 1, "{fatal}");
    assert_eq!(
        fatal["last_exit"]["message"], "FATAL: probe \"fatal one\" raising a FATAL",
        "{fatal}"
    );
    assert!(fatal["last_exit"]["pid"].as_i64().unwrap() > 0, "{fatal}");
    assert!(fatal["last_exit"]["at"].is_string(), "{fatal}");
    assert_eq!(fatal["library"], "probe");
    assert_eq!(fatal["function"], "probe_main");
    assert!(
        fatal["uptime_s"].is_null(),
        "not running: no uptime: {fatal}"
    );
    // Restart time 60 s: the next start is about a minute away.
    let next = iso_ms(fatal["next_start"].as_str().expect("next_start set"));
    assert!(
        (50_000..=61_000).contains(&(next - now_ms)),
        "next start in about 60 s: {fatal}"
    );

    let error = wait_worker(&c, "error one", "error one waits to restart", |w| {
        w["state"] == "waiting to restart"
    });
    assert_eq!(
        error["last_exit"]["message"], "ERROR: probe \"error one\" raising an ERROR",
        "an ERROR no handler catches ends the worker: {error}"
    );
    let killed = wait_worker(&c, "killed one", "killed one waits to restart", |w| {
        w["state"] == "waiting to restart"
    });
    assert_eq!(killed["last_exit"]["signal"], 11, "{killed}");
    assert!(killed["last_exit"]["message"].is_null(), "{killed}");

    let text = stdout(&bgworkerctl(&c.datadir, &["status"]));
    let row = text.lines().find(|l| l.contains("fatal one")).unwrap();
    assert!(
        row.contains("restarting in") && row.contains("exit 1, "),
        "{text}"
    );
    assert!(
        text.contains("last error: FATAL: probe \"fatal one\" raising a FATAL"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("killed one") && l.contains("signal 11, ")),
        "{text}"
    );

    // Running again (a restart asked for): uptime counts, the last exit is still shown.
    let slot = fatal["slot"].as_u64().unwrap().to_string();
    let o = bgworkerctl(&c.datadir, &["restart", &slot]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let again = wait_worker(&c, "fatal one", "fatal one runs again", |w| {
        w["state"] == "running"
    });
    assert!(again["uptime_s"].as_f64().is_some(), "{again}");
    assert!(again["next_start"].is_null(), "{again}");
    assert_eq!(again["restarts"], 1);
    assert_eq!(
        again["last_exit"]["message"], fatal["last_exit"]["message"],
        "the last exit stays shown while it runs again"
    );
}

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn iso_ms(s: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, mo, d) = (n(0..4), n(5..7), n(8..10));
    // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm.
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + n(11..13)) * 60 + n(14..16)) * 60_000 + n(17..19) * 1000 + n(20..23)
}

#[test]
fn restart_brings_any_worker_back_at_once() {
    let c = Setup::new()
        .worker(Worker::new("static one").restart(60))
        .worker(
            Worker::new("waiting one")
                .mode("exit+once")
                .arg(1)
                .restart(60),
        )
        .start();
    let first = c.wait_started("static one", 1);

    // A running static worker: stopped and started again now, not after its 60 s.
    let o = bgworkerctl(&c.datadir, &["restart", "--pid", &first.to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("restart requested"), "{}", stdout(&o));
    c.wait_for_log(
        "restart of background worker \"static one\" requested",
        PROMPT,
    );
    let second = c.wait_started("static one", 2);
    assert_ne!(first, second);

    // One waiting for its restart time: started now.
    let waiting = wait_worker(&c, "waiting one", "waiting one waits", |w| {
        w["state"] == "waiting to restart"
    });
    let slot = waiting["slot"].as_u64().unwrap().to_string();
    let o = bgworkerctl(&c.datadir, &["restart", &slot]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.wait_started("waiting one", 2);

    // A dynamic worker that may never restart: it comes back too, in the same slot.
    let o = launch_idle(&c.datadir, &["--name", "dynamic one", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let pid: i32 = stdout(&o).trim().parse().unwrap();
    c.track(pid);
    let before = wait_worker(&c, "dynamic one", "dynamic one runs", |w| w["pid"] == pid);
    let o = bgworkerctl(&c.datadir, &["restart", "--pid", &pid.to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = wait_worker(&c, "dynamic one", "dynamic one runs again", |w| {
        w["state"] == "running" && w["pid"] != pid
    });
    assert_eq!(before["slot"], after["slot"]);
    c.track(after["pid"].as_i64().unwrap() as i32);

    // Nothing there: refused, exit 1.
    let none = bgworkerctl(&c.datadir, &["restart", "--pid", "999999"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("no worker with PID 999999"));
    let usage = bgworkerctl(&c.datadir, &["restart"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn help_says_what_terminate_does_to_a_static_worker() {
    let o = bgworkerctl(Path::new("/nonexistent"), &["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    assert!(
        help.contains("A static worker (from shared_preload_libraries) stays gone until bgworkerd")
            && help.contains("use restart to stop and start one"),
        "{help}"
    );
}

#[test]
fn stop_timeout_names_the_workers_still_running_and_hints_at_immediate() {
    let mut c = Setup::new()
        .worker(Worker::new("deaf").mode("idle+noterm"))
        .worker(Worker::new("polite"))
        .start();
    let deaf = c.wait_started("deaf", 1);
    c.wait_started("polite", 1);
    let o = bgworkerctl(&c.datadir, &["stop", "--mode", "fast", "--timeout", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("did not shut down within 1 s")
            && err.contains(&format!("still running: \"deaf\" (PID {deaf})"))
            && !err.contains("polite")
            && err.contains("--mode immediate"),
        "{err}"
    );
    let o = bgworkerctl(&c.datadir, &["stop", "--mode", "immediate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.wait_exit(PROMPT);
}

/// `bgworkerctl launch --wait` that looks only after `delay_ms` (a worker that exits at once is
/// then seen stopped, as happens by chance without the delay).
fn launch_wait_late(c: &Cluster, args: &[&str], delay_ms: u32) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_bgworkerctl"));
    with_fresh_library(&mut cmd);
    cmd.env("BGWORKER_INJECT_LAUNCH_WAIT_DELAY_MS", delay_ms.to_string())
        .arg("-D")
        .arg(&c.datadir)
        .arg("launch")
        .args(args)
        .arg("--wait")
        .output()
        .unwrap()
}

#[test]
fn launch_wait_tells_started_then_exited_from_could_not_start() {
    let c = Setup::new().start();
    // Ends at once with a FATAL (probe's "fatal" mode, read from bgw_extra).
    let o = launch_wait_late(
        &c,
        &[
            "--library",
            "probe",
            "--function",
            "probe_main",
            "--name",
            "quick",
            "--extra",
            "fatal",
        ],
        1000,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the worker started (PID ")
            && err.contains("then exited with exit code 1: FATAL: probe \"quick\" raising a FATAL"),
        "{err}"
    );
    // A library that does not exist: the process started, and its ERROR says why.
    let o = launch_wait_late(
        &c,
        &["--library", "no_such_library", "--function", "f"],
        1000,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "then exited with exit code 1: ERROR: could not access file \"no_such_library\""
        ),
        "{err}"
    );
    // Restartable: it says so.
    let o = launch_wait_late(
        &c,
        &[
            "--library",
            "probe",
            "--function",
            "probe_main",
            "--name",
            "again",
            "--extra",
            "fatal",
            "--restart-time",
            "60",
        ],
        1000,
    );
    let err = stderr(&o);
    assert!(
        err.contains("raising a FATAL (it will be restarted after its restart time)"),
        "{err}"
    );

    // Never started at all: every fork fails (injected), and the worker may not restart.
    let c = Setup::new()
        .env("BGWORKER_INJECT_FORK_FAILURES", "1000")
        .start();
    let o = launch_idle(&c.datadir, &["--wait"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the worker could not be started"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn arguments_that_are_not_utf8_get_a_clear_error() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bgworkerctl"))
        .arg("-D")
        .arg(std::ffi::OsStr::from_bytes(b"/tmp/bad\xff\x01name"))
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("argument 2 is not valid UTF-8: \"/tmp/bad\\xff\\x01name\""),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let out = with_fresh_library(&mut std::process::Command::new(bgworkerd()))
        .arg("-D")
        .arg(std::ffi::OsStr::from_bytes(b"/tmp/bad\xffname"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("argument 2 is not valid UTF-8: \"/tmp/bad\\xffname\""),
        "{err}"
    );
}

#[test]
fn names_with_control_characters_are_escaped_in_text_output() {
    let c = Setup::new().start();
    let o = launch_idle(&c.datadir, &["--name", "two\nlines\x1b[31m", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.track(stdout(&o).trim().parse().unwrap());
    for args in [&["status"][..], &["status", "--wide"][..]] {
        let text = stdout(&bgworkerctl(&c.datadir, args));
        // The newline escaped here; the escape byte the supervisor already made a `?`.
        assert!(text.contains("two\\x0alines?[31m"), "{args:?}: {text}");
        assert!(
            !text.contains('\x1b'),
            "{args:?}: no raw escape reaches the terminal"
        );
    }
}
