//! Crash handling (EXIT-3, CRASH-1..5): a shared-memory worker dying abnormally takes every other
//! worker down (SIGQUIT) and all are restarted at once; a worker without shmem restarts alone.

mod common;

use common::*;
use std::time::{Duration, Instant};

enum Trigger {
    /// The victim waits for SIGUSR1 and then does the crash itself (mode `<x>+wait`).
    Usr1,
    /// The test sends this signal to the victim.
    Signal(i32),
}

/// Victim + two bystanders (restart 60 s, so "at once" is visible); after the crash: the crash is
/// logged with `expected`, "terminating any other active server processes", the bystanders get
/// SIGQUIT, "all server processes terminated; reinitializing", then all three are back quickly.
fn crash_restarts_every_worker(victim_mode: &str, trigger: Trigger, expected: &str) {
    let c = Setup::new()
        .workers(&[
            Worker::new("victim").mode(victim_mode).restart(60),
            Worker::new("bystander a").mode("idle+quitlog").restart(60),
            Worker::new("bystander b").mode("idle+quitlog").restart(60),
        ])
        .start();
    let victim = c.wait_started("victim", 1);
    let a = c.wait_started("bystander a", 1);
    let b = c.wait_started("bystander b", 1);

    match trigger {
        Trigger::Usr1 => send_signal(victim, libc::SIGUSR1),
        Trigger::Signal(s) => send_signal(victim, s),
    }
    let crash = c.wait_for_log(
        &format!("background worker \"victim\" (PID {victim}) {expected}"),
        PROMPT,
    );
    assert!(crash.contains(" LOG:  "), "{crash}");
    let terminating = c.wait_for_log("terminating any other active server processes", PROMPT);
    c.wait_for_log("probe \"bystander a\" got SIGQUIT", PROMPT);
    c.wait_for_log("probe \"bystander b\" got SIGQUIT", PROMPT);
    let reinit = c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    assert!(log_time_ms(&reinit) >= log_time_ms(&terminating));

    // Restart time is 60 s, so coming back within a few seconds means "at once" (CRASH-3).
    let back = Instant::now();
    let victim2 = c.wait_started("victim", 2);
    let a2 = c.wait_started("bystander a", 2);
    let b2 = c.wait_started("bystander b", 2);
    assert!(
        back.elapsed() < Duration::from_secs(5),
        "restarts took {:?}",
        back.elapsed()
    );
    let reinit_at = c
        .log_index("all server processes terminated; reinitializing")
        .unwrap();
    for name in ["victim", "bystander a", "bystander b"] {
        let second = c.lines_with(&[&started(name)])[1].clone();
        let idx = c.log_lines().iter().position(|l| *l == second).unwrap();
        assert!(
            idx > reinit_at,
            "{name} restarted before the reinitialization"
        );
    }
    for (old, new) in [(victim, victim2), (a, a2), (b, b2)] {
        assert_ne!(old, new);
        assert!(!pid_alive(old), "old process {old} still alive");
        assert!(pid_alive(new), "new process {new} is not running");
    }
    assert_eq!(
        c.count_log("all server processes terminated; reinitializing"),
        1,
        "one crash, one reinit"
    );
}

#[test]
fn shmem_worker_segv_restarts_every_worker() {
    crash_restarts_every_worker(
        "segv+wait",
        Trigger::Usr1,
        "was terminated by signal 11: Segmentation fault",
    );
}

#[test]
fn shmem_worker_abort_restarts_every_worker() {
    crash_restarts_every_worker(
        "abort+wait",
        Trigger::Usr1,
        "was terminated by signal 6: Aborted",
    );
}

#[test]
fn shmem_worker_exit_code_3_restarts_every_worker() {
    // The exit code comes from the main arg, so this victim is built here rather than by the helper.
    let c = Setup::new()
        .workers(&[
            Worker::new("victim").mode("exit+wait").arg(3).restart(60),
            Worker::new("bystander").mode("idle+quitlog").restart(60),
        ])
        .start();
    let victim = c.wait_started("victim", 1);
    let by = c.wait_started("bystander", 1);
    send_signal(victim, libc::SIGUSR1);
    let crash = c.wait_for_log(
        &format!("background worker \"victim\" (PID {victim}) exited with exit code 3"),
        PROMPT,
    );
    assert!(crash.contains(" LOG:  "), "{crash}");
    c.wait_for_log("terminating any other active server processes", PROMPT);
    c.wait_for_log("probe \"bystander\" got SIGQUIT", PROMPT);
    c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    let back = Instant::now();
    let victim2 = c.wait_started("victim", 2);
    let by2 = c.wait_started("bystander", 2);
    assert!(back.elapsed() < Duration::from_secs(5));
    assert_ne!(victim, victim2);
    assert_ne!(by, by2);
    assert!(!pid_alive(by));
}

#[test]
fn shmem_worker_killed_by_sigkill_restarts_every_worker() {
    crash_restarts_every_worker(
        "idle",
        Trigger::Signal(libc::SIGKILL),
        "was terminated by signal 9: Killed",
    );
}

#[test]
fn sigquit_to_a_worker_restarts_every_worker() {
    // CRASH-5: the default SIGQUIT handler exits 2, which is a crash.
    crash_restarts_every_worker(
        "idle",
        Trigger::Signal(libc::SIGQUIT),
        "exited with exit code 2",
    );
}

#[test]
fn elog_panic_aborts_and_restarts_every_worker() {
    // PANIC → abort() → crash restart. "once": panics the first time only.
    let c = Setup::new()
        .workers(&[
            Worker::new("panicker").mode("panic+wait+once").restart(60),
            Worker::new("bystander").mode("idle+quitlog").restart(60),
        ])
        .start();
    let p = c.wait_started("panicker", 1);
    c.wait_started("bystander", 1);
    send_signal(p, libc::SIGUSR1);
    let panic_line = c.wait_for_log("probe \"panicker\" raising a PANIC", PROMPT);
    assert!(panic_line.contains("PANIC:  "), "{panic_line}");
    c.wait_for_log(
        &format!("background worker \"panicker\" (PID {p}) was terminated by signal 6: Aborted"),
        PROMPT,
    );
    c.wait_for_log("terminating any other active server processes", PROMPT);
    c.wait_for_log("probe \"bystander\" got SIGQUIT", PROMPT);
    c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    c.wait_started("panicker", 2);
    c.wait_started("bystander", 2);
}

#[test]
fn shmem_crash_also_restarts_workers_without_shmem_access() {
    let c = Setup::new()
        .workers(&[
            Worker::new("victim").mode("segv+wait").restart(60),
            Worker::new("no shmem")
                .flags(0)
                .mode("idle+quitlog")
                .restart(60),
        ])
        .start();
    let victim = c.wait_started("victim", 1);
    let ns = c.wait_started("no shmem", 1);
    send_signal(victim, libc::SIGUSR1);
    c.wait_for_log("terminating any other active server processes", PROMPT);
    c.wait_for_log("probe \"no shmem\" got SIGQUIT", PROMPT);
    c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    let ns2 = c.wait_started("no shmem", 2);
    assert_ne!(ns, ns2);
}

#[test]
fn never_restart_workers_are_dropped_at_crash_reinitialisation() {
    // CRASH-3: BGW_NEVER_RESTART registrations do not survive a crash restart.
    let c = Setup::new()
        .workers(&[
            Worker::new("victim").mode("segv+wait").restart(60),
            Worker::new("keeper").restart(60),
            Worker::new("never again").restart(BGW_NEVER_RESTART),
        ])
        .start();
    let victim = c.wait_started("victim", 1);
    c.wait_started("keeper", 1);
    c.wait_started("never again", 1);
    send_signal(victim, libc::SIGUSR1);
    c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    c.wait_started("victim", 2);
    c.wait_started("keeper", 2);
    // Window: prove the NEVER_RESTART worker is not started again.
    observe_window(Duration::from_millis(1000));
    assert_eq!(c.starts("never again"), 1);
}

#[test]
fn crash_sigkills_workers_ignoring_sigquit_after_5s() {
    let c = Setup::new()
        .workers(&[
            Worker::new("victim").mode("segv+wait").restart(60),
            Worker::new("stubborn").mode("idle+noquit").restart(60),
        ])
        .start();
    let victim = c.wait_started("victim", 1);
    let stubborn = c.wait_started("stubborn", 1);
    send_signal(victim, libc::SIGUSR1);
    let terminating = c.wait_for_log("terminating any other active server processes", PROMPT);
    let kill = c.wait_for_log(
        "issuing SIGKILL to recalcitrant children",
        Duration::from_secs(15),
    );
    let gap = log_time_ms(&kill) - log_time_ms(&terminating);
    assert!(
        (4900..8000).contains(&gap),
        "SIGKILL came {gap} ms after SIGQUIT, expected about 5 s"
    );
    wait_until("stubborn worker killed", PROMPT, || !pid_alive(stubborn));
    c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    c.wait_started("stubborn", 2);
    c.wait_started("victim", 2);
}

#[test]
fn restart_after_crash_off_shuts_the_supervisor_down() {
    let mut c = Setup::new()
        .conf("restart_after_crash = off")
        .workers(&[
            Worker::new("victim").mode("segv+wait").restart(60),
            Worker::new("bystander").restart(60),
        ])
        .start();
    let victim = c.wait_started("victim", 1);
    c.wait_started("bystander", 1);
    send_signal(victim, libc::SIGUSR1);
    let st = c.wait_exit(PROMPT);
    assert_eq!(st.code(), Some(1), "supervisor exit status: {st:?}");
    assert!(c.count_log("shutting down because restart_after_crash is off") == 1);
    assert_eq!(
        c.count_log("all server processes terminated; reinitializing"),
        0
    );
    assert!(
        c.live_seen_pids().is_empty(),
        "workers left behind: {:?}",
        c.live_seen_pids()
    );
    assert_eq!(c.starts("bystander"), 1);
    assert!(!c.pidfile().exists(), "postmaster.pid must be removed");
}

#[test]
fn worker_without_shmem_crashing_restarts_only_itself() {
    let c = Setup::new()
        .workers(&[
            Worker::new("lonely victim")
                .flags(0)
                .mode("segv+wait")
                .restart(1),
            Worker::new("shmem bystander").restart(60),
            Worker::new("plain bystander").flags(0).restart(60),
        ])
        .start();
    let victim = c.wait_started("lonely victim", 1);
    let a = c.wait_started("shmem bystander", 1);
    let b = c.wait_started("plain bystander", 1);
    send_signal(victim, libc::SIGUSR1);
    let crash = c.wait_for_log(
        &format!("background worker \"lonely victim\" (PID {victim}) was terminated by signal 11: Segmentation fault"),
        PROMPT,
    );
    let victim2 = c.wait_started("lonely victim", 2);
    assert_ne!(victim, victim2);
    let restart = &c.lines_with(&[&started("lonely victim")])[1];
    let gap = log_time_ms(restart) - log_time_ms(&crash);
    assert!(
        gap >= 1000 - 15,
        "restarted {gap} ms after the crash, its restart time is 1 s"
    );
    assert_eq!(
        c.count_log("terminating any other active server processes"),
        0
    );
    assert_eq!(c.count_log("reinitializing"), 0);
    assert!(pid_alive(a) && pid_alive(b), "bystanders keep running");
    assert_eq!(c.starts("shmem bystander"), 1);
    assert_eq!(c.starts("plain bystander"), 1);
}
