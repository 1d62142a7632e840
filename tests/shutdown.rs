//! Shutdown modes (SHUT-1..5) and supervisor death (PMD-1..4): every way the supervisor stops
//! leaves no worker process behind; a SIGKILLed supervisor's workers notice within 1 s.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// Starts a few workers (one flapping), sends `sig`, and checks: the request is logged, exit
/// status 0, no worker process left (none even as a zombie child), postmaster.pid removed,
/// and nothing was started after the request.
fn shutdown_leaves_no_process(sig: i32, request: &str) -> Cluster {
    let mut c = Setup::new()
        .workers(&[
            Worker::new("plain").mode("idle+quitlog"),
            Worker::new("no shmem").flags(0).mode("idle+quitlog"),
            Worker::new("ticker").mode("tick").arg(100),
            Worker::new("flapper").mode("exit").arg(1).restart(0),
        ])
        .start();
    let pids: Vec<i32> = ["plain", "no shmem", "ticker"]
        .iter()
        .map(|n| c.wait_started(n, 1))
        .collect();
    c.wait_started("flapper", 2);
    assert!(c.pidfile().exists());

    c.signal(sig);
    let st = c.wait_exit(Duration::from_secs(15));
    assert_eq!(st.code(), Some(0), "supervisor exit status {st:?}");
    let req = c
        .log_index(request)
        .unwrap_or_else(|| panic!("no {request:?} line"));
    c.wait_for_log("supervisor is shut down", PROMPT);
    for pid in &pids {
        assert!(!pid_alive(*pid), "worker {pid} left behind");
    }
    assert!(
        c.live_seen_pids().is_empty(),
        "workers left behind: {:?}",
        c.live_seen_pids()
    );
    assert!(!c.pidfile().exists(), "postmaster.pid must be removed");
    let late_starts: Vec<String> = c.log_lines()[req..]
        .iter()
        .filter(|l| l.contains("starting background worker process"))
        .cloned()
        .collect();
    assert!(
        late_starts.is_empty(),
        "workers started after the shutdown request: {late_starts:?}"
    );
    c
}

#[test]
fn smart_shutdown_on_sigterm_leaves_no_process() {
    let c = shutdown_leaves_no_process(libc::SIGTERM, "received smart shutdown request");
    c.wait_for_log(
        "FATAL:  terminating background worker \"plain\" due to administrator command",
        PROMPT,
    );
}

#[test]
fn fast_shutdown_on_sigint_leaves_no_process() {
    let c = shutdown_leaves_no_process(libc::SIGINT, "received fast shutdown request");
    c.wait_for_log(
        "FATAL:  terminating background worker \"plain\" due to administrator command",
        PROMPT,
    );
}

#[test]
fn immediate_shutdown_on_sigquit_leaves_no_process() {
    let c = shutdown_leaves_no_process(libc::SIGQUIT, "received immediate shutdown request");
    c.wait_for_log("probe \"plain\" got SIGQUIT", PROMPT);
    c.wait_for_log("probe \"no shmem\" got SIGQUIT", PROMPT);
    assert_eq!(
        c.count_log("reinitializing"),
        0,
        "an immediate shutdown is not a crash restart"
    );
}

#[test]
fn immediate_shutdown_sigkills_workers_ignoring_sigquit() {
    let mut c = Setup::new()
        .worker(Worker::new("stubborn").mode("idle+noquit"))
        .start();
    let pid = c.wait_started("stubborn", 1);
    c.signal(libc::SIGQUIT);
    let req = c.wait_for_log("received immediate shutdown request", PROMPT);
    let st = c.wait_exit(Duration::from_secs(15));
    assert_eq!(st.code(), Some(0));
    let kill = c.wait_for_log("issuing SIGKILL to recalcitrant children", PROMPT);
    let gap = log_time_ms(&kill) - log_time_ms(&req);
    assert!(
        (4900..8000).contains(&gap),
        "SIGKILL {gap} ms after the request, expected about 5 s"
    );
    assert!(!pid_alive(pid));
    assert!(!c.pidfile().exists());
}

#[test]
fn workers_exit_within_1s_of_supervisor_sigkill() {
    let mut c = Setup::new()
        .workers(&[
            Worker::new("sleeper"),
            Worker::new("no shmem sleeper").flags(0),
            Worker::new("ticker").mode("tick").arg(100000),
        ])
        .start();
    let pids: Vec<i32> = ["sleeper", "no shmem sleeper", "ticker"]
        .iter()
        .map(|n| c.wait_started(n, 1))
        .collect();
    let children = c.worker_pids();
    for p in &pids {
        assert!(
            children.contains(p),
            "{p} is a child of the supervisor: {children:?}"
        );
    }
    c.signal(libc::SIGKILL);
    let killed = Instant::now();
    c.wait_exit(PROMPT);
    wait_until(
        "every worker gone within 1 s of the supervisor's death",
        Duration::from_secs(1),
        || pids.iter().all(|p| !pid_alive(*p)),
    );
    eprintln!(
        "workers gone {:?} after the supervisor was killed",
        killed.elapsed()
    );
}

/// SHUT-5: shutdown signals go to each worker's process group too, so a process a worker forked
/// (same group, default dispositions) goes away with it.
fn shutdown_reaches_process_group(sig: i32) {
    let mut c = Setup::new()
        .worker(Worker::new("forker").mode("forker"))
        .start();
    c.wait_started("forker", 1);
    let line = c.wait_for_log("probe \"forker\" forked grandchild=", PROMPT);
    let grandchild = field_i32(&line, "grandchild=").unwrap();
    c.track(grandchild);
    assert!(pid_alive(grandchild));
    c.signal(sig);
    let st = c.wait_exit(Duration::from_secs(15));
    assert_eq!(st.code(), Some(0));
    wait_until(
        "the worker's own child is gone",
        Duration::from_secs(2),
        || !pid_alive(grandchild),
    );
}

#[test]
fn fast_shutdown_signals_the_workers_process_group() {
    shutdown_reaches_process_group(libc::SIGINT);
}

#[test]
fn immediate_shutdown_signals_the_workers_process_group() {
    shutdown_reaches_process_group(libc::SIGQUIT);
}

#[test]
fn wl_postmaster_death_is_reported_to_a_waiting_worker() {
    // PMD-2: with WL_POSTMASTER_DEATH the wait returns that bit and the module decides.
    let mut c = Setup::new()
        .worker(Worker::new("watcher").mode("pmdeath"))
        .start();
    let pid = c.wait_started("watcher", 1);
    c.signal(libc::SIGKILL);
    c.wait_exit(PROMPT);
    let line = c.wait_for_log(
        "probe \"watcher\" saw postmaster death rc=",
        Duration::from_secs(1),
    );
    let rc = field_i32(&line, "rc=").unwrap();
    assert_eq!(rc & 16, 16, "WL_POSTMASTER_DEATH reported: {line}");
    assert_eq!(
        field_i32(&line, "alive="),
        Some(0),
        "PostmasterIsAlive() is false: {line}"
    );
    wait_until("watcher gone", Duration::from_secs(1), || !pid_alive(pid));
}
