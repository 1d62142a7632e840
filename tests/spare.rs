//! The spare child: the supervisor keeps one child forked ahead of need, so starting a worker
//! costs a pipe write instead of a fork. It becomes the next worker, is replaced, and never
//! outlives the supervisor or a shutdown.

mod common;

use common::*;

fn launch(c: &Cluster, name: &str) -> i32 {
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
            "--wait",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let pid = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    c.track(pid);
    pid
}

#[test]
fn the_spare_becomes_the_next_worker_and_is_replaced() {
    let c = Setup::new().start();
    let spare = wait_spare(&c, None);
    let pid = launch(&c, "from the spare");
    assert_eq!(
        pid, spare,
        "the launched worker is the process that was waiting"
    );
    // The start is reported when the spare is handed its definition; it renames itself a moment
    // later.
    wait_until("the spare takes the worker's title", PROMPT, || {
        title_names(&cmdline(pid).unwrap_or_default(), "from the spare")
    });
    let next = wait_spare(&c, Some(spare));
    assert_ne!(next, pid);
}

/// The scheduling policy of process `pid` (its main thread).
fn policy(pid: i32) -> i32 {
    // SAFETY: sched_getscheduler only reads.
    let p = unsafe { libc::sched_getscheduler(pid) };
    assert!(p >= 0, "sched_getscheduler({pid}) failed");
    p
}

#[test]
fn a_spare_sets_up_in_the_background_but_becomes_a_normal_worker() {
    // The spare's set-up runs as SCHED_BATCH (background work); by the time it waits, and so as
    // the worker it becomes, it is back to SCHED_OTHER.
    let c = Setup::new().start();
    let spare = wait_spare(&c, None);
    assert_eq!(policy(spare), libc::SCHED_OTHER, "the waiting spare");
    let pid = launch(&c, "normal policy");
    assert_eq!(pid, spare);
    assert_eq!(policy(pid), libc::SCHED_OTHER, "the worker it became");
}

#[test]
fn workers_keep_the_policy_the_supervisor_was_started_with() {
    // A supervisor started under SCHED_BATCH (say, by an administrator) passes it on: the
    // spare's set-up policy dance happens only under SCHED_OTHER, so nothing resets it.
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: changes only this test thread's policy, which the spawned supervisor inherits;
    // restored below.
    let set = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    assert_eq!(set, 0);
    let c = Setup::new().start();
    // SAFETY: as above (back from SCHED_BATCH to SCHED_OTHER needs no privilege).
    unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) };
    assert_eq!(policy(c.pid), libc::SCHED_BATCH, "the supervisor");
    let spare = wait_spare(&c, None);
    let first = launch(&c, "batch one");
    assert_eq!(first, spare);
    let second = launch(&c, "batch two");
    for pid in [first, second] {
        assert_eq!(policy(pid), libc::SCHED_BATCH, "worker {pid}");
    }
}

#[test]
fn a_killed_spare_is_replaced_and_workers_still_start() {
    let c = Setup::new().start();
    let spare = wait_spare(&c, None);
    send_signal(spare, libc::SIGKILL);
    let next = wait_spare(&c, Some(spare));
    let pid = launch(&c, "after a lost spare");
    assert!(pid == next || pid_alive(pid));
    assert_eq!(
        c.count_log("terminating any other active server processes"),
        0,
        "not a crash"
    );
}

#[test]
fn a_reload_replaces_the_spare() {
    let c = Setup::new().start();
    let spare = wait_spare(&c, None);
    c.signal(libc::SIGHUP);
    c.wait_for_log("received SIGHUP, reloading configuration files", PROMPT);
    // The old spare was forked with the old settings: it goes, a new one comes.
    wait_until("the old spare is gone", PROMPT, || !pid_alive(spare));
    wait_spare(&c, Some(spare));
}

#[test]
fn no_spare_outlives_a_shutdown_or_the_supervisor() {
    let mut c = Setup::new().start();
    let spare = wait_spare(&c, None);
    c.signal(libc::SIGINT);
    assert_eq!(exit_code(&c.wait_exit(PROMPT)), Some(0));
    assert!(!pid_alive(spare), "the spare left with the supervisor");

    let c = Setup::new().start();
    let spare = wait_spare(&c, None);
    send_signal(c.pid, libc::SIGKILL);
    wait_until("the spare notices the supervisor is gone", PROMPT, || {
        !pid_alive(spare)
    });
}
