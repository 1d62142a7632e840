//! What workers leave behind (processes they fork): the supervisor is a child subreaper, ends a
//! worker's process group when the worker exits (SIGTERM, SIGKILL 5 s later), and at shutdown
//! and before a crash-restart ends every descendant, even one that ignores SIGTERM and SIGQUIT
//! or left its worker's group by a double fork: none outlives either.

mod common;

use common::*;
use std::time::Duration;

/// Starts a probe worker in `mode` (a forker variant) and returns the grandchild's pid.
fn grandchild_of(c: &Cluster, name: &str) -> i32 {
    let line = c.wait_for_log(&format!("probe \"{name}\" forked grandchild="), PROMPT);
    let pid = field_i32(&line, "grandchild=").expect("grandchild pid");
    assert!(pid > 0, "{line}");
    c.track(pid);
    pid
}

/// Time for SIGTERM/SIGQUIT, the 5 s grace, SIGKILL and the reaping.
const ENDED: Duration = Duration::from_secs(10);

fn shutdown_ends(mode: &str, sig: i32) {
    let mut c = Setup::new()
        .worker(Worker::new("forker").mode(mode))
        .start();
    let grandchild = grandchild_of(&c, "forker");
    if mode.contains("daemon") {
        // Orphaned by its parent's exit, it was adopted by the supervisor, not by init.
        wait_until("the daemon adopted by the supervisor", PROMPT, || {
            proc_stat(grandchild).is_some_and(|s| s.ppid == c.pid)
        });
    }
    assert!(pid_alive(grandchild));
    c.signal(sig);
    let st = c.wait_exit(ENDED + PROMPT);
    assert_eq!(st.code(), Some(0), "{}", c.log_text());
    assert!(
        !pid_alive(grandchild),
        "{mode}: the grandchild outlived the supervisor"
    );
}

#[test]
fn fast_shutdown_ends_a_grandchild_that_ignores_sigterm() {
    shutdown_ends("forker+stubborn", libc::SIGINT);
}

#[test]
fn immediate_shutdown_ends_a_grandchild_that_ignores_sigquit() {
    shutdown_ends("forker+stubborn", libc::SIGQUIT);
}

#[test]
fn shutdown_ends_a_double_forked_daemon_that_left_its_workers_group() {
    shutdown_ends("forker+daemon+stubborn", libc::SIGINT);
}

#[test]
fn a_workers_process_group_is_ended_when_the_worker_exits() {
    // The worker forks and exits 1 (restarted a minute later): what it left in its group goes
    // at once (SIGTERM), or within the grace period when it ignores SIGTERM (SIGKILL).
    let c = Setup::new()
        .workers(&[
            Worker::new("plain").mode("forker+exit").restart(60),
            Worker::new("stubborn")
                .mode("forker+stubborn+exit")
                .restart(60),
        ])
        .start();
    let plain = grandchild_of(&c, "plain");
    let stubborn = grandchild_of(&c, "stubborn");
    wait_until("the plain grandchild ended", PROMPT, || !pid_alive(plain));
    observe_window(Duration::from_secs(1));
    assert!(
        pid_alive(stubborn),
        "SIGTERM is ignored: it has its grace period"
    );
    wait_until("the stubborn grandchild killed", ENDED, || {
        !pid_alive(stubborn)
    });
}

#[test]
fn a_crash_restart_ends_every_descendant_of_the_crashed_generation_first() {
    // A stubborn grandchild that left its group, then a worker crashes: the re-initialisation
    // comes only after the grandchild is gone.
    let c = Setup::new()
        .workers(&[
            Worker::new("forker").mode("forker+daemon+stubborn"),
            Worker::new("crasher").mode("segv+wait"),
        ])
        .start();
    let grandchild = grandchild_of(&c, "forker");
    wait_until("the daemon adopted", PROMPT, || {
        proc_stat(grandchild).is_some_and(|s| s.ppid == c.pid)
    });
    let crasher = c.wait_started("crasher", 1);
    send_signal(crasher, libc::SIGUSR1);
    c.wait_for_log(
        "all server processes terminated; reinitializing",
        ENDED + PROMPT,
    );
    assert!(
        !pid_alive(grandchild),
        "the grandchild outlived the crash-restart"
    );
}
