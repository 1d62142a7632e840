//! Static registration: the sanity rules (SAN-2..5, REG-5, our DB-without-shmem rule) and the
//! max_worker_processes limit (REG-6). A rejected worker gets one LOG line and is skipped; the others start.

mod common;

use common::*;
use std::time::Duration;

/// Titles of the supervisor's children that are workers.
fn worker_titles(c: &Cluster) -> Vec<String> {
    c.worker_processes()
        .into_iter()
        .map(|(_, cmd)| cmd)
        .filter(|cmd| cmd.starts_with("bgworker: "))
        .collect()
}

/// Starts `bad` between two good workers and checks the rejection: exactly one LOG line
/// `background worker "<name>": <reason>`, the bad worker never starts, the good ones do.
fn assert_rejected(bad: Worker, reason: Option<&str>) {
    let c = Setup::new()
        .workers(&[
            Worker::new("good one"),
            bad.clone(),
            Worker::new("good two"),
        ])
        .start();
    c.wait_started("good one", 1);
    c.wait_started("good two", 1);

    let prefix = format!("background worker \"{}\": ", bad.name);
    let line = c.wait_for_log(&prefix, PROMPT);
    assert!(
        line.contains(" LOG:  "),
        "rejection must be logged at LOG: {line}"
    );
    if let Some(reason) = reason {
        assert!(
            line.ends_with(&format!("{prefix}{reason}")),
            "wrong reason: {line}"
        );
    }
    assert_eq!(
        c.count_log(&prefix),
        1,
        "exactly one rejection line for {:?}",
        bad.name
    );

    // Window: prove the rejected worker is not started after the good ones were.
    observe_window(Duration::from_millis(300));
    assert_eq!(
        c.starts(&bad.name),
        0,
        "rejected worker {:?} must not start",
        bad.name
    );
    assert_eq!(
        c.count_log(&format!(
            "starting background worker process \"{}\"",
            bad.name
        )),
        0
    );
    assert!(
        !c.worker_processes()
            .iter()
            .any(|(_, cmd)| title_names(cmd, &bad.name)),
        "no process for the rejected worker: {:?}",
        c.worker_processes()
    );
    assert_eq!(
        worker_titles(&c).len(),
        2,
        "both good workers run: {:?}",
        c.worker_processes()
    );
}

#[test]
fn database_access_at_postmaster_start_is_rejected() {
    assert_rejected(
        Worker::new("db at pm start")
            .flags(BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION)
            .start(START_POSTMASTER),
        Some("cannot request database access if starting at postmaster start"),
    );
}

#[test]
fn negative_restart_interval_is_rejected() {
    assert_rejected(
        Worker::new("restart minus five").restart(-5),
        Some(
            "invalid restart interval -5: it must be between 0 and 86400000 seconds, or \
             BGW_NEVER_RESTART (-1)",
        ),
    );
}

#[test]
fn restart_interval_above_86400000_is_rejected() {
    assert_rejected(
        Worker::new("restart too big").restart(86_400_001),
        Some(
            "invalid restart interval 86400001: it must be between 0 and 86400000 seconds, or \
             BGW_NEVER_RESTART (-1)",
        ),
    );
}

#[test]
fn restart_interval_86400000_and_0_are_accepted() {
    let c = Setup::new()
        .workers(&[
            Worker::new("restart max").restart(86_400_000),
            Worker::new("restart zero").restart(0),
            Worker::new("restart never").restart(BGW_NEVER_RESTART),
        ])
        .start();
    for name in ["restart max", "restart zero", "restart never"] {
        c.wait_started(name, 1);
        assert_eq!(
            c.count_log(&format!("background worker \"{name}\": ")),
            0,
            "{name} was rejected"
        );
        // REG-10: each registration is logged at DEBUG1
        assert_eq!(
            c.count_log(&format!("registering background worker \"{name}\"")),
            1
        );
    }
}

#[test]
fn parallel_worker_with_restart_is_rejected() {
    assert_rejected(
        Worker::new("parallel restarting")
            .flags(BGWORKER_SHMEM_ACCESS | BGWORKER_CLASS_PARALLEL)
            .restart(1),
        Some("parallel workers may not be configured for restart"),
    );
}

#[test]
fn static_worker_with_notify_pid_is_rejected() {
    assert_rejected(
        Worker::new("wants notify").notify("self"),
        Some("only dynamic background workers can request notification"),
    );
}

#[test]
fn database_worker_without_shmem_access_is_rejected() {
    // Our rule (issue 2): a DB connection needs shared memory access. The wording is ours, so
    // only the "background worker "NAME": " prefix is fixed.
    assert_rejected(
        Worker::new("db without shmem")
            .flags(BGWORKER_BACKEND_DATABASE_CONNECTION)
            .start(START_CONSISTENT),
        None,
    );
}

#[test]
fn worker_without_shmem_access_is_accepted() {
    // Deliberate difference from PostgreSQL 15 (SAN-1 does not apply).
    let c = Setup::new()
        .worker(Worker::new("no shmem").flags(0))
        .start();
    let pid = c.wait_started("no shmem", 1);
    assert!(pid_alive(pid));
    assert_eq!(c.count_log("background worker \"no shmem\": "), 0);
}

#[test]
fn too_many_workers_for_max_worker_processes_are_skipped() {
    let c = Setup::new()
        .conf("max_worker_processes = 2")
        .workers(&[
            Worker::new("w1"),
            Worker::new("w2"),
            Worker::new("w3"),
            Worker::new("w4"),
        ])
        .start();
    c.wait_started("w1", 1);
    c.wait_started("w2", 1);
    let too_many = c.lines_with(&["LOG:  too many background workers"]);
    assert_eq!(
        too_many.len(),
        2,
        "one line per refused worker: {too_many:?}"
    );
    let detail = c.lines_with(&[
        "DETAIL:  Up to 2 background workers can be registered with the current settings.",
    ]);
    assert_eq!(detail.len(), 2, "DETAIL for each refused worker");
    let hint = c.lines_with(&["HINT:  ", "max_worker_processes"]);
    assert_eq!(
        hint.len(),
        2,
        "HINT naming max_worker_processes for each refused worker"
    );

    // Window: prove the refused (last registered) workers are not started.
    observe_window(Duration::from_millis(300));
    assert_eq!(c.starts("w3"), 0);
    assert_eq!(c.starts("w4"), 0);
    assert_eq!(worker_titles(&c).len(), 2, "{:?}", c.worker_processes());
}

#[test]
fn too_many_workers_detail_is_singular_for_one() {
    let c = Setup::new()
        .conf("max_worker_processes = 1")
        .workers(&[Worker::new("only"), Worker::new("extra")])
        .start();
    c.wait_started("only", 1);
    assert_eq!(c.count_log("LOG:  too many background workers"), 1);
    assert_eq!(
        c.count_log(
            "DETAIL:  Up to 1 background worker can be registered with the current settings."
        ),
        1
    );
}

#[test]
fn empty_bgw_type_becomes_bgw_name() {
    // SAN-5: the exit line names bgw_type, which was filled from bgw_name.
    let c = Setup::new()
        .worker(
            Worker::new("named only")
                .type_("")
                .mode("exit")
                .arg(1)
                .restart(BGW_NEVER_RESTART),
        )
        .start();
    let start = c.wait_for_log(&started("named only"), PROMPT);
    let pid = field_i32(&start, "pid=").unwrap();
    let exit = c.wait_for_log(
        &format!("background worker \"named only\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
    assert!(exit.contains(" LOG:  "), "{exit}");
    assert_eq!(
        log_source(&start).as_deref(),
        Some("named only"),
        "worker log prefix shows the type: {start}"
    );
}

#[test]
fn exit_log_names_bgw_type_not_bgw_name() {
    // EXIT-5
    let c = Setup::new()
        .worker(
            Worker::new("the name")
                .type_("the type")
                .mode("exit")
                .arg(1)
                .restart(BGW_NEVER_RESTART),
        )
        .start();
    let start = c.wait_for_log(&started("the name"), PROMPT);
    let pid = field_i32(&start, "pid=").unwrap();
    c.wait_for_log(
        &format!("background worker \"the type\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
    assert_eq!(exit_lines(&c, "the name", 1).len(), 0);
    assert_eq!(log_source(&start).as_deref(), Some("the type"), "{start}");
}

#[test]
fn default_max_worker_processes_is_8() {
    let names: Vec<String> = (1..=9).map(|i| format!("n{i}")).collect();
    let ws: Vec<Worker> = names.iter().map(|n| Worker::new(n)).collect();
    let c = Setup::new().workers(&ws).start();
    for n in &names[..8] {
        c.wait_started(n, 1);
    }
    assert_eq!(c.count_log("LOG:  too many background workers"), 1);
    assert_eq!(
        c.count_log(
            "DETAIL:  Up to 8 background workers can be registered with the current settings."
        ),
        1
    );
    assert_eq!(c.starts("n9"), 0);
}

#[test]
fn start_time_and_flags_are_not_otherwise_validated() {
    // SAN-6: unknown flag bits are ignored; an out-of-range start time is accepted but such a
    // worker is never eligible to start. Either way the others start.
    let c = Setup::new()
        .workers(&[
            Worker::new("odd flags").flags(BGWORKER_SHMEM_ACCESS | 0x100),
            Worker::new("odd start").start(7),
            Worker::new("normal"),
        ])
        .start();
    c.wait_started("odd flags", 1);
    c.wait_started("normal", 1);
    // Window: prove the out-of-range start time never starts.
    observe_window(Duration::from_millis(300));
    assert_eq!(c.starts("odd start"), 0);
}

#[test]
fn registering_a_static_worker_from_a_running_worker_is_logged_and_ignored() {
    // PostgreSQL ignores it silently there; here the mistake shows, naming the worker.
    let c = Setup::new()
        .worker(Worker::new("registrar").mode("register"))
        .start();
    c.wait_for_log(
        "probe \"registrar\" called RegisterBackgroundWorker",
        PROMPT,
    );
    let line = c.wait_for_log(
        "background worker \"registered late\": must be registered in shared_preload_libraries",
        PROMPT,
    );
    assert_eq!(log_source(&line).as_deref(), Some("registrar"), "{line}");
    assert!(line.contains(" LOG:  "), "{line}");
    observe_window(std::time::Duration::from_millis(200));
    assert_eq!(c.starts("registered late"), 0);
}
