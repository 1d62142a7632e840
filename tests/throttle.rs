//! Crash-restart throttling (our extension, off by default): `restart_after_crash_limit`
//! crash-restarts within `restart_after_crash_window` seconds, one more and the supervisor
//! shuts down loudly instead of storming.

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
