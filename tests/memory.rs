//! Memory contexts, palloc and StringInfo as a PostgreSQL 15 module uses them
//! (c_tests/modules/memory_probe.c), under a real bgworkerd: every worker runs one group of
//! checks and logs `memory_probe <mode> ok` (exit 0) or `memory_probe FAIL: ...` (exit 1).
//! The same checks also run in a plain program under valgrind.

mod common;

use common::*;
use std::process::Command;

/// Starts a supervisor with `memory_probe` preloaded and one worker running `mode` once; waits
/// for the worker to exit and returns the cluster and the exit code the supervisor logged.
fn run_mode(mode: &str) -> (Cluster, i32) {
    run_mode_with(mode, Setup::new())
}

fn run_mode_with(mode: &str, setup: Setup) -> (Cluster, i32) {
    let name = format!("memory {mode}");
    let c = setup
        .preload(&["probe", "memory_probe"])
        .worker(
            Worker::new(&name)
                .lib("memory_probe")
                .func("memory_probe_main")
                .mode(mode)
                .restart(BGW_NEVER_RESTART),
        )
        .start();
    let line = c.wait_for_log(&format!("background worker \"{name}\" (PID "), PROMPT);
    let code = line
        .rsplit("exited with exit code ")
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("not an exit line: {line}"));
    (c, code)
}

/// Asserts the mode passed: its `ok` line, no FAIL line, exit code 0.
fn assert_passed(c: &Cluster, mode: &str, code: i32) {
    let fails = c.lines_with(&["memory_probe FAIL"]);
    assert!(fails.is_empty(), "failed checks:\n{}", fails.join("\n"));
    assert_eq!(
        c.count_log(&format!("memory_probe {mode} ok")),
        1,
        "{}",
        c.log_text()
    );
    assert_eq!(code, 0, "{}", c.log_text());
}

#[test]
fn current_memory_context_is_valid_in_init_and_at_worker_entry() {
    let (c, code) = run_mode("inherited");
    assert_passed(&c, "inherited", code);
    // _PG_init ran in the supervisor with TopMemoryContext current...
    let init = c.wait_for_log("memory_probe _PG_init in ", PROMPT);
    assert!(init.contains("in \"TopMemoryContext\" (top yes)"), "{init}");
    assert_eq!(log_pid(&init), Some(c.pid), "{init}");
    // ...and the worker starts in TopMemoryContext, with what _PG_init palloc'd still there.
    let entry = c.wait_for_log(
        "memory_probe inherited: CurrentMemoryContext at entry",
        PROMPT,
    );
    assert!(entry.ends_with("is \"TopMemoryContext\""), "{entry}");
    let inherited = c.wait_for_log("memory_probe inherited: \"made in _PG_init", PROMPT);
    assert!(
        inherited.contains(&format!("by pid {}\"", c.pid)),
        "{inherited}"
    );
}

#[test]
fn child_contexts_allocate_reset_delete_and_switch_back() {
    let (c, code) = run_mode("contexts");
    assert_passed(&c, "contexts", code);
    c.wait_for_log(
        "memory_probe contexts: built with libbgworker headers",
        PROMPT,
    );
    c.wait_for_log(
        "memory_probe contexts: 1000 values in \"probe child\", last \"value 999\"",
        PROMPT,
    );
}

#[test]
fn pfree_and_repalloc_work_across_contexts() {
    let (c, code) = run_mode("pfree");
    assert_passed(&c, "pfree", code);
}

#[test]
fn psprintf_formats_into_palloc_memory() {
    let (c, code) = run_mode("psprintf");
    assert_passed(&c, "psprintf", code);
    c.wait_for_log(
        "memory_probe psprintf: \"open: No such file or directory\" (504 bytes)",
        PROMPT,
    );
}

#[test]
fn stringinfo_grows_over_many_appends_and_keeps_binary_data() {
    let (c, code) = run_mode("stringinfo");
    assert_passed(&c, "stringinfo", code);
    c.wait_for_log(
        "memory_probe stringinfo: 10000 appends, len 48890 maxlen 65536",
        PROMPT,
    );
}

#[test]
fn huge_requests_raise_errors_that_pg_try_catches() {
    let (c, code) = run_mode("huge_caught");
    assert_passed(&c, "huge_caught", code);
    let too_large = c.wait_for_log("memory_probe caught too large:", PROMPT);
    assert!(
        too_large.contains("elevel=21")
            && too_large.contains("message=\"invalid memory alloc request size 1073741824\""),
        "{too_large}"
    );
    // SQLSTATE 53200 (out_of_memory), with PostgreSQL's DETAIL.
    let oom = c.wait_for_log("memory_probe caught out of memory:", PROMPT);
    assert!(
        oom.contains(&format!("sqlstate={}", sqlstate("53200")))
            && oom.contains("message=\"out of memory\"")
            && oom.contains(
                "detail=\"Failed on request of size 4611686018427387903 in memory context \"TopMemoryContext\".\""
            ),
        "{oom}"
    );
    // SQLSTATE 54000 (program_limit_exceeded) for a string past 1 GB.
    let long = c.wait_for_log("memory_probe caught string too long:", PROMPT);
    assert!(
        long.contains(&format!("sqlstate={}", sqlstate("54000")))
            && long.contains(
                "detail=\"Cannot enlarge string buffer containing 5 bytes by 1073741823 more bytes.\""
            ),
        "{long}"
    );
    let overflow = c.wait_for_log("memory_probe caught overflow:", PROMPT);
    assert!(
        overflow.contains("invalid memory allocation request size 9223372036854775807 * 4"),
        "{overflow}"
    );
    // Nothing was reported to the log as an ERROR: each was caught.
    assert!(c.lines_with(&[" ERROR:  "]).is_empty(), "{}", c.log_text());
}

#[test]
fn uncaught_oversized_request_is_logged_and_exits_1() {
    let (c, code) = run_mode("huge_uncaught");
    assert_eq!(code, 1, "{}", c.log_text());
    let err = c.wait_for_log(
        " ERROR:  invalid memory alloc request size 1073741824",
        PROMPT,
    );
    assert_eq!(
        log_source(&err).as_deref(),
        Some("memory huge_uncaught"),
        "{err}"
    );
    assert_eq!(c.count_log("memory_probe FAIL"), 0, "{}", c.log_text());
}

#[test]
fn uncaught_out_of_memory_logs_detail_with_context_name_and_exits_1() {
    let (c, code) = run_mode("oom_uncaught");
    assert_eq!(code, 1, "{}", c.log_text());
    let lines = c.log_lines();
    let at = lines
        .iter()
        .position(|l| l.contains(" ERROR:  out of memory"))
        .unwrap_or_else(|| panic!("no out-of-memory ERROR:\n{}", c.log_text()));
    assert!(
        lines[at + 1].ends_with(
            " DETAIL:  Failed on request of size 4611686018427387903 in memory context \"probe oom\"."
        ),
        "{}",
        c.log_text()
    );
    assert_eq!(c.count_log("memory_probe FAIL"), 0, "{}", c.log_text());
}

#[test]
fn dynamic_worker_handle_is_palloced_and_freed_with_pfree() {
    let (c, code) = run_mode("dynhandle");
    assert_passed(&c, "dynhandle", code);
    c.wait_for_log("memory_probe dynhandle: handle freed with pfree", PROMPT);
    assert_eq!(
        exit_lines(&c, "memory_probe child", 0).len(),
        1,
        "{}",
        c.log_text()
    );
}

#[test]
fn module_built_with_postgres_headers_uses_the_same_contexts() {
    if Command::new("pg_config").arg("--pgxs").output().is_err() {
        eprintln!("SKIPPED: pg_config (postgresql-server-dev-15) is not installed");
        return;
    }
    // The PGXS build goes first on the path, so it is the memory_probe the workers load.
    let pgxs = build_module_pgxs("memory_probe");
    let path = format!(
        "dynamic_library_path={}:{}",
        pgxs.display(),
        modules_path().display()
    );
    for mode in ["contexts", "stringinfo", "huge_caught"] {
        let (c, code) = run_mode_with(mode, Setup::new().c(&path));
        assert_passed(&c, mode, code);
        c.wait_for_log(
            &format!("memory_probe {mode}: built with PostgreSQL headers"),
            PROMPT,
        );
    }
}

#[test]
fn contexts_and_stringinfo_are_clean_under_valgrind() {
    run_probe_program_under_valgrind("memory_probe", "MEMORY_PROBE_PROGRAM");
}

/// PostgreSQL's packed SQLSTATE (MAKE_SQLSTATE) as the module logs it.
fn sqlstate(code: &str) -> i32 {
    code.bytes()
        .enumerate()
        .map(|(i, b)| (((b as i32) - ('0' as i32)) & 0x3F) << (6 * i))
        .sum()
}
