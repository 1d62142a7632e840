//! Exit codes and restarts (EXIT-1/2, PM-5/7) and start phases (PM-1): what a worker's exit
//! code means for whether and when it comes back, and which workers start before "running".

mod common;

use common::*;
use std::time::Duration;

/// Slack for comparing log timestamps (ms resolution, taken at slightly different points).
const SLACK_MS: i64 = 15;

#[test]
fn exit_code_0_unregisters_and_is_never_restarted() {
    let c = Setup::new()
        .worker(Worker::new("done").mode("exit").arg(0).restart(1))
        .start();
    let pid = c.wait_started("done", 1);
    let exit = c.wait_for_log(
        &format!("background worker \"done\" (PID {pid}) exited with exit code 0"),
        PROMPT,
    );
    assert!(
        exit.contains("DEBUG"),
        "exit code 0 is logged at DEBUG1 only: {exit}"
    );
    // Window of 2.5 restart intervals: prove it is not started again.
    observe_window(Duration::from_millis(2500));
    assert_eq!(
        c.starts("done"),
        1,
        "a worker that exited 0 must never be restarted"
    );
    assert!(!pid_alive(pid));
}

#[test]
fn entry_function_returning_exits_0_and_is_not_restarted() {
    // WP-6: returning from the entry function is proc_exit(0).
    let c = Setup::new()
        .worker(Worker::new("returner").mode("return").restart(1))
        .start();
    let pid = c.wait_started("returner", 1);
    c.wait_for_log(
        &format!("background worker \"returner\" (PID {pid}) exited with exit code 0"),
        PROMPT,
    );
    // Window: prove no restart.
    observe_window(Duration::from_millis(2500));
    assert_eq!(c.starts("returner"), 1);
}

#[test]
fn exit_code_1_restarts_after_restart_time() {
    // Exits 1 the first time only, then stays up: exactly one restart, not before 1 s.
    let c = Setup::new()
        .worker(Worker::new("flaky").mode("exit+once").arg(1).restart(1))
        .start();
    let pid1 = c.wait_started("flaky", 1);
    let exit = c.wait_for_log(
        &format!("background worker \"flaky\" (PID {pid1}) exited with exit code 1"),
        PROMPT,
    );
    assert!(exit.contains(" LOG:  "), "{exit}");
    let pid2 = c.wait_started("flaky", 2);
    assert_ne!(pid1, pid2);
    let restart = &c.lines_with(&[&started("flaky")])[1];
    let gap = log_time_ms(restart) - log_time_ms(&exit);
    assert!(
        gap >= 1000 - SLACK_MS,
        "restarted {gap} ms after exiting, restart time is 1 s"
    );
    assert!(
        gap <= 2500,
        "restart came {gap} ms after the exit (1 s restart time)"
    );

    // Window of 2.5 restart intervals: prove no extra restart happens.
    observe_window(Duration::from_millis(2500));
    assert_eq!(c.starts("flaky"), 2, "exactly one restart");
    assert_eq!(
        c.lines_with(&["background worker \"flaky\" (PID ", "exited with exit code"])
            .len(),
        1
    );
    assert!(pid_alive(pid2));
}

#[test]
fn worker_exiting_1_every_time_restarts_once_per_restart_time() {
    let c = Setup::new()
        .worker(Worker::new("flapper").mode("exit").arg(1).restart(1))
        .start();
    let starts = c.wait_for_log_count(&started("flapper"), 3, PROMPT);
    let exits = exit_lines(&c, "flapper", 1);
    assert!(exits.len() >= 2, "{exits:?}");
    for i in 0..2 {
        let gap = log_time_ms(&starts[i + 1]) - log_time_ms(&exits[i]);
        assert!(
            gap >= 1000 - SLACK_MS,
            "restart {} came {gap} ms after the exit",
            i + 1
        );
    }
    let span = log_time_ms(&starts[2]) - log_time_ms(&starts[0]);
    assert!(
        span >= 2000 - SLACK_MS,
        "three starts within {span} ms with a 1 s restart time"
    );
}

#[test]
fn restart_time_0_restarts_at_once() {
    let c = Setup::new()
        .worker(Worker::new("eager").mode("exit+once").arg(1).restart(0))
        .start();
    let pid1 = c.wait_started("eager", 1);
    let exit = c.wait_for_log(
        &format!("background worker \"eager\" (PID {pid1}) exited with exit code 1"),
        PROMPT,
    );
    c.wait_started("eager", 2);
    let gap = log_time_ms(&c.lines_with(&[&started("eager")])[1]) - log_time_ms(&exit);
    assert!(gap < 700, "restart time 0 means at once, took {gap} ms");
}

#[test]
fn never_restart_worker_exiting_1_is_not_restarted() {
    let c = Setup::new()
        .workers(&[
            Worker::new("one shot")
                .mode("exit")
                .arg(1)
                .restart(BGW_NEVER_RESTART),
            Worker::new("bystander"),
        ])
        .start();
    let pid = c.wait_started("one shot", 1);
    c.wait_for_log(
        &format!("background worker \"one shot\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
    // Window: prove it does not come back.
    observe_window(Duration::from_millis(2000));
    assert_eq!(c.starts("one shot"), 1);
    assert_eq!(c.starts("bystander"), 1, "others are unaffected");
}

#[test]
fn postmaster_start_workers_start_before_running_state() {
    let c = Setup::new()
        .workers(&[
            Worker::new("at pm start").start(START_POSTMASTER),
            Worker::new("at consistent").start(START_CONSISTENT),
            Worker::new("at recovery finished").start(START_RECOVERY_FINISHED),
        ])
        .start();
    for name in ["at pm start", "at consistent", "at recovery finished"] {
        c.wait_started(name, 1);
    }
    let running = c
        .log_index("supervisor state: running")
        .expect("running line");
    let consistent = c
        .log_index("supervisor state: consistent")
        .expect("consistent line");
    let starting = c
        .log_index("supervisor state: starting")
        .expect("starting line");
    assert!(
        starting < consistent && consistent < running,
        "phases in order"
    );
    let pm = c
        .log_index("starting background worker process \"at pm start\"")
        .expect("pm start line");
    assert!(
        pm < running,
        "PostmasterStart worker must start before \"supervisor state: running\""
    );
    for name in ["at consistent", "at recovery finished"] {
        let i = c
            .log_index(&format!("starting background worker process \"{name}\""))
            .expect("start line");
        assert!(
            i > consistent,
            "{name} started before the supervisor was consistent"
        );
    }
    c.wait_for_log("supervisor is ready", PROMPT);
}

#[test]
fn workers_start_in_reverse_registration_order() {
    // REG-8: each registration goes to the head of the list, so the last registered starts first.
    let c = Setup::new()
        .workers(&[
            Worker::new("first"),
            Worker::new("second"),
            Worker::new("third"),
        ])
        .start();
    for n in ["first", "second", "third"] {
        c.wait_started(n, 1);
    }
    let at = |n: &str| {
        c.log_index(&format!("starting background worker process \"{n}\""))
            .unwrap()
    };
    assert!(
        at("third") < at("second") && at("second") < at("first"),
        "start order"
    );
}
