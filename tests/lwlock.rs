//! LWLocks, spinlocks and atomics as PostgreSQL 15 modules use them across processes
//! (c_tests/modules/lwlock_probe.c), under a real bgworkerd: the workers share one MAP_SHARED
//! mapping made in the module's `_PG_init`, inherited through fork. Each scenario logs
//! `lwlock_probe <mode> ok` or `lwlock_probe FAIL: ...`. The single-process checks also run in
//! a plain program under valgrind.

mod common;

use common::*;
use std::time::Duration;

/// A lwlock_probe worker running `mode` with `arg`, never restarted.
fn lw(name: &str, mode: &str, arg: i32) -> Worker {
    Worker::new(name)
        .lib("lwlock_probe")
        .func("lwlock_probe_main")
        .mode(mode)
        .arg(arg)
        .restart(BGW_NEVER_RESTART)
}

fn start(workers: &[Worker]) -> Cluster {
    Setup::new()
        .preload(&["probe", "lwlock_probe"])
        .workers(workers)
        .start()
}

/// The exit code the supervisor logged for worker `name` (waits for the line).
fn exit_code_of(c: &Cluster, name: &str, timeout: Duration) -> i32 {
    let line = c.wait_for_log(&format!("background worker \"{name}\" (PID "), timeout);
    line.rsplit("exited with exit code ")
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("not an exit line: {line}\n{}", c.log_text()))
}

fn assert_no_failures(c: &Cluster) {
    let fails = c.lines_with(&["lwlock_probe FAIL"]);
    assert!(fails.is_empty(), "failed checks:\n{}", fails.join("\n"));
}

/// The largest `key=<n>` value among the lines containing `pattern`.
fn max_field(c: &Cluster, pattern: &str, key: &str) -> u64 {
    c.lines_with(&[pattern])
        .iter()
        .filter_map(|l| field_str(l, key).and_then(|v| v.parse::<u64>().ok()))
        .max()
        .unwrap_or_else(|| panic!("no {key}= in lines with {pattern}:\n{}", c.log_text()))
}

const LONG: Duration = Duration::from_secs(60);

#[test]
fn single_process_semantics_match_postgresql() {
    let c = start(&[lw("lw basic", "basic", 0)]);
    let code = exit_code_of(&c, "lw basic", PROMPT);
    assert_no_failures(&c);
    assert_eq!(code, 0, "{}", c.log_text());
    assert_eq!(c.count_log("lwlock_probe basic ok"), 1, "{}", c.log_text());
    c.wait_for_log(
        "lwlock_probe basic: caught \"lock lwlock_probe is not held\"",
        PROMPT,
    );
}

#[test]
fn exclusive_lock_gives_an_exact_total_across_workers() {
    const WORKERS: usize = 4;
    const ITERS: u64 = 20_000;
    let ws: Vec<Worker> = (0..WORKERS)
        .map(|i| lw(&format!("lw count {i}"), "count", ITERS as i32))
        .collect();
    let c = start(&ws);
    c.wait_for_log_count("lwlock_probe count finished", WORKERS, LONG);
    for i in 0..WORKERS {
        assert_eq!(
            exit_code_of(&c, &format!("lw count {i}"), LONG),
            0,
            "{}",
            c.log_text()
        );
    }
    assert_no_failures(&c);
    assert_eq!(
        max_field(&c, "lwlock_probe count finished", "last="),
        WORKERS as u64 * ITERS,
        "{}",
        c.log_text()
    );
    for l in c.lines_with(&["lwlock_probe count finished"]) {
        assert!(l.contains("overlaps=0"), "{l}");
    }
}

#[test]
fn shared_holders_coexist_while_an_exclusive_waiter_sleeps() {
    let c = start(&[
        lw("lw shared a", "shared_holder", 0),
        lw("lw shared b", "shared_holder", 0),
        lw("lw excl", "excl_waiter", 0),
    ]);
    for name in ["lw shared a", "lw shared b", "lw excl"] {
        assert_eq!(exit_code_of(&c, name, LONG), 0, "{}", c.log_text());
    }
    assert_no_failures(&c);
    assert_eq!(c.count_log("lwlock_probe shared_holder ok"), 2);
    assert_eq!(c.count_log("lwlock_probe excl_waiter ok"), 1);
    // The exclusive waiter got in only after both shared holders left (they hold on ~300 ms
    // after it started waiting), and LWLockAcquire reported that it had to wait.
    let got = c.wait_for_log("lwlock_probe excl_waiter: got the lock after", PROMPT);
    assert!(got.ends_with("immediately=0"), "{got}");
    let ms: i64 = got
        .split("after ")
        .nth(1)
        .and_then(|s| s.split(" ms").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{got}"));
    assert!(
        ms >= 250,
        "the exclusive waiter got in too early ({ms} ms): {got}"
    );
}

#[test]
fn releasing_a_lock_not_held_is_an_error() {
    let c = start(&[lw("lw unheld", "unheld", 0)]);
    let code = exit_code_of(&c, "lw unheld", PROMPT);
    assert_eq!(code, 1, "{}", c.log_text());
    let err = c.wait_for_log("lock lwlock_probe is not held", PROMPT);
    assert!(err.contains("ERROR"), "{err}");
    assert_eq!(c.count_log("lwlock_probe FAIL"), 0, "{}", c.log_text());
}

/// A worker exits holding the lock (`how`: 0 proc_exit, 1 uncaught ERROR); another worker then
/// blocks in LWLockAcquire and must get the lock.
fn lock_released_at_exit(how: i32) {
    let c = start(&[
        lw("lw holder", "exit_holding", how),
        lw("lw after", "after_exit", 0),
    ]);
    assert_eq!(
        exit_code_of(&c, "lw holder", PROMPT),
        how,
        "{}",
        c.log_text()
    );
    assert_eq!(exit_code_of(&c, "lw after", PROMPT), 0, "{}", c.log_text());
    assert_no_failures(&c);
    c.wait_for_log("lwlock_probe after_exit: acquired=1", PROMPT);
    assert_eq!(c.count_log("which no longer exists"), 0, "{}", c.log_text());
}

#[test]
fn locks_are_released_by_proc_exit() {
    lock_released_at_exit(0);
}

#[test]
fn locks_are_released_when_an_uncaught_error_ends_the_worker() {
    lock_released_at_exit(1);
}

#[test]
fn a_waiter_does_not_wait_forever_for_a_holder_that_vanished() {
    // The holder leaves with _exit(0): no clean-up at all. Either the supervisor treats that as
    // a crash (PostgreSQL's rule for a process that skipped proc_exit) and ends the waiter with
    // the crash-restart, or the waiter notices the holder is gone and PANICs after about a
    // second (which makes the supervisor rebuild shared memory). It must never sleep on.
    let c = start(&[
        lw("lw vanish", "exit_holding", 2),
        lw("lw stuck", "after_exit", 0),
    ]);
    c.wait_for_log("lwlock_probe exit_holding: holding the lock", PROMPT);
    let end = c.wait_for_log("background worker \"lw stuck\" (PID ", PROMPT);
    assert!(
        !end.contains("exited with exit code 0"),
        "the waiter finished as if it had the lock: {end}"
    );
    assert_eq!(c.count_log("lwlock_probe after_exit: acquired=1"), 0);
    for panic in c.lines_with(&["which no longer exists"]) {
        assert!(panic.contains("PANIC"), "{panic}");
        assert!(
            panic.contains("lock lwlock_probe is held by process "),
            "{panic}"
        );
    }
}

#[test]
fn spinlock_gives_an_exact_total_across_workers() {
    const WORKERS: usize = 4;
    const ITERS: u64 = 50_000;
    let ws: Vec<Worker> = (0..WORKERS)
        .map(|i| lw(&format!("lw spin {i}"), "spin", ITERS as i32))
        .collect();
    let c = start(&ws);
    c.wait_for_log_count("lwlock_probe spin finished", WORKERS, LONG);
    for i in 0..WORKERS {
        assert_eq!(
            exit_code_of(&c, &format!("lw spin {i}"), LONG),
            0,
            "{}",
            c.log_text()
        );
    }
    assert_no_failures(&c);
    assert_eq!(
        max_field(&c, "lwlock_probe spin finished", "last="),
        WORKERS as u64 * ITERS
    );
}

#[test]
fn atomic_fetch_add_gives_an_exact_total_across_workers() {
    const WORKERS: usize = 4;
    const ITERS: u64 = 100_000;
    let ws: Vec<Worker> = (0..WORKERS)
        .map(|i| lw(&format!("lw atomic {i}"), "atomic", ITERS as i32))
        .collect();
    let c = start(&ws);
    c.wait_for_log_count("lwlock_probe atomic finished", WORKERS, LONG);
    assert_no_failures(&c);
    let total = WORKERS as u64 * ITERS;
    assert_eq!(
        max_field(&c, "lwlock_probe atomic finished", "last64="),
        total
    );
    assert_eq!(
        max_field(&c, "lwlock_probe atomic finished", "last32="),
        total
    );
}

#[test]
fn locks_in_a_plain_program_are_clean_under_valgrind() {
    run_probe_program_under_valgrind("lwlock_probe", "LWLOCK_PROBE_PROGRAM");
}
