//! Embedding and built-ins: a host program registering its own worker and calling
//! BackgroundWorkerPostmasterMain; the built-in entry table under `postgres` / `lightdb` (LOAD-2).

mod common;

use common::*;
use std::time::Duration;

#[test]
fn host_program_registering_its_own_worker_runs_it() {
    let host = build_program("embed_host");
    let mut c = Setup::new().program(host).start();
    let pid = c.wait_started("embedded", 1);
    assert!(
        c.worker_pids().contains(&pid),
        "the worker is a child of the host program"
    );
    assert_eq!(c.wait_for_worker_process("embedded", PROMPT), pid);
    c.signal(libc::SIGINT);
    let st = c.wait_exit(PROMPT);
    assert_eq!(st.code(), Some(0));
    assert!(!pid_alive(pid));
    assert!(!c.pidfile().exists());
}

#[test]
fn builtin_exit_main_exits_with_code_in_main_arg() {
    let c = Setup::new()
        .workers(&[
            Worker::new("exit one")
                .lib("postgres")
                .func("BackgroundWorkerExitMain")
                .arg(1)
                .restart(BGW_NEVER_RESTART),
            Worker::new("exit zero")
                .lib("lightdb")
                .func("BackgroundWorkerExitMain")
                .arg(0)
                .restart(1),
        ])
        .start();
    let one = c.wait_for_log("background worker \"exit one\" (PID ", PROMPT);
    assert!(one.ends_with("exited with exit code 1"), "{one}");
    let zero = c.wait_for_log("background worker \"exit zero\" (PID ", PROMPT);
    assert!(zero.ends_with("exited with exit code 0"), "{zero}");
    // Window: exit 0 unregisters even with a restart time; NEVER_RESTART stays gone.
    observe_window(Duration::from_millis(1500));
    assert_eq!(c.count_log("background worker \"exit zero\" (PID "), 1);
    assert_eq!(c.count_log("background worker \"exit one\" (PID "), 1);
}

#[test]
fn builtin_idle_main_waits_until_sigterm() {
    let c = Setup::new()
        .worker(
            Worker::new("idler")
                .lib("lightdb")
                .func("BackgroundWorkerIdleMain")
                .restart(BGW_NEVER_RESTART),
        )
        .start();
    let pid = c.wait_for_worker_process("idler", PROMPT);
    // Window: prove it keeps waiting.
    observe_window(Duration::from_millis(300));
    assert!(pid_alive(pid));
    assert_eq!(c.count_log("background worker \"idler\" (PID "), 0);
    send_signal(pid, libc::SIGTERM);
    c.wait_for_log(
        &format!("background worker \"idler\" (PID {pid}) exited with exit code"),
        PROMPT,
    );
    wait_until("idler gone", PROMPT, || !pid_alive(pid));
}
