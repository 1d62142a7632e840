//! Crash-restart throttling (our extension, off by default): `restart_after_crash_limit`
//! crash-restarts within `restart_after_crash_window` seconds, one more and the supervisor
//! shuts down loudly instead of storming; and the restart backoff (`restart_backoff_steps`, off
//! by default): a worker failing soon after each start waits longer each time, up to a cap.

mod common;

use common::*;

#[test]
fn a_crash_loop_stops_after_the_limit() {
    let mut c = Setup::new()
        .worker(Worker::new("crasher").mode("segv"))
        .c("restart_after_crash_limit=3")
        .c("restart_after_crash_window=60")
        .spawn();
    let st = c.wait_exit(PROMPT);
    assert_eq!(
        exit_code(&st),
        Some(1),
        "the supervisor gives up with exit code 1"
    );
    let line = c.wait_for_log("shutting down because of too many crash-restarts", PROMPT);
    assert!(line.contains("4 within 60 s"), "{line}");
    c.wait_for_log("HINT:  restart_after_crash_limit is 3", PROMPT);
    // Exactly the allowed number of re-initialisations happened before it gave up.
    assert_eq!(
        c.count_log("all server processes terminated; reinitializing"),
        3
    );
    assert!(!c.pidfile().exists());
}

#[test]
fn without_a_limit_crash_restarts_go_on_as_in_postgresql() {
    let c = Setup::new()
        .worker(Worker::new("crasher").mode("segv"))
        .start();
    c.wait_for_log_count("all server processes terminated; reinitializing", 6, PROMPT);
    assert_eq!(c.count_log("too many crash-restarts"), 0);
}

/// The gaps, in ms, between a worker's successive starts.
fn start_gaps(c: &Cluster, name: &str, starts: usize) -> Vec<i64> {
    let lines = c.wait_for_log_count(&started(name), starts, PROMPT);
    lines
        .windows(2)
        .map(|w| log_time_ms(&w[1]) - log_time_ms(&w[0]))
        .collect()
}

#[test]
fn without_backoff_a_failing_worker_restarts_at_its_own_restart_time() {
    let c = Setup::new()
        .worker(Worker::new("storm").mode("linger").arg(50).restart(0))
        .start();
    let gaps = start_gaps(&c, "storm", 6);
    assert!(gaps.iter().all(|&g| g < 1000), "{gaps:?}");
    assert_eq!(c.count_log("restart_backoff_steps"), 0);
}

#[test]
fn with_backoff_a_worker_failing_soon_after_its_start_waits_longer_each_time_up_to_the_cap() {
    // 3 steps from 100 ms (its restart time is 0) to 2 s: waits of 0.27, 0.74, 2, 2 s.
    let c = Setup::new()
        .worker(Worker::new("storm").mode("linger").arg(50).restart(0))
        .c("restart_backoff_steps=3")
        .c("restart_backoff_max_delay=2")
        .start();
    let gaps = start_gaps(&c, "storm", 6);
    assert!(
        gaps.windows(2).take(2).all(|w| w[1] > w[0]),
        "growing: {gaps:?}"
    );
    assert!(
        (200..700).contains(&gaps[0]),
        "first wait ~0.27 s + 50 ms: {gaps:?}"
    );
    for &g in &gaps[3..] {
        assert!((2000..3000).contains(&g), "capped at 2 s + 50 ms: {gaps:?}");
    }
    let line = c.wait_for_log("background worker \"storm\" failed again ", PROMPT);
    assert!(
        line.contains(" ms after it started: restarting it in 271 ms (restart_backoff_steps)"),
        "{line}"
    );
}

#[test]
fn with_backoff_a_worker_that_stayed_up_as_long_as_the_cap_is_back_to_its_own_restart_time() {
    // Up 2.2 s (more than the 2 s cap) before each failure: never backed off.
    let c = Setup::new()
        .worker(Worker::new("slow").mode("linger").arg(2200).restart(0))
        .c("restart_backoff_steps=3")
        .c("restart_backoff_max_delay=2")
        .start();
    let gaps = start_gaps(&c, "slow", 3);
    for &g in &gaps {
        assert!((2150..2900).contains(&g), "run time only: {gaps:?}");
    }
    assert_eq!(c.count_log("restart_backoff_steps"), 0, "{}", c.log_text());
}
