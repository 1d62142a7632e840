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
