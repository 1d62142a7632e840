//! Differential test against PostgreSQL 15 itself: the same module binary, built with PGXS,
//! runs under a throwaway PostgreSQL 15 cluster and under bgworkerd; what each worker logs and
//! how it exits must be the same.

mod common;

use common::pg::{share_with_cluster, PgCluster};
use common::*;
use std::collections::BTreeMap;

/// Modes whose behaviour does not depend on timing or on the server's own processes.
const MODES: &str = "catch,nested,emit,rethrow,context,uncaught,callbacks,levels";

/// Per worker (keyed by its mode): the (level, message) lines it logged, then its exit code.
type Events = BTreeMap<String, Vec<String>>;

/// Parses lines of the form `<date> <time> UTC [<pid>] <type> LEVEL:  text`: both PostgreSQL
/// (with log_line_prefix '%m [%p] %b ') and bgworkerd write that shape.
fn parse(line: &str) -> Option<(i32, String, String)> {
    let pid = log_pid(line)?;
    let after = &line[line.find("] ")? + 2..];
    for level in [
        "DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC", "DETAIL", "HINT",
        "CONTEXT",
    ] {
        let tag = format!(" {level}:  ");
        if let Some(i) = after.find(&tag) {
            return Some((pid, level.to_string(), after[i + tag.len()..].to_string()));
        }
    }
    None
}

fn events(log: &str) -> Events {
    let mut mode_of_pid: BTreeMap<i32, String> = BTreeMap::new();
    let mut out = Events::new();
    for line in log.lines() {
        let Some((pid, level, text)) = parse(line) else {
            continue;
        };
        if let Some(rest) = text.strip_prefix("errors_probe ") {
            if let Some(mode) = rest.strip_suffix(": started") {
                mode_of_pid.insert(pid, mode.to_string());
            }
        }
        if let Some(mode) = mode_of_pid.get(&pid) {
            out.entry(mode.clone())
                .or_default()
                .push(format!("{level}: {text}"));
            continue;
        }
        // The supervisor's exit line for one of the workers.
        if text.starts_with("background worker \"errors_probe\" (PID ") {
            let wpid = field_i32(&text, "(PID ").unwrap_or(0);
            if let (Some(mode), Some(i)) =
                (mode_of_pid.get(&wpid), text.find("exited with exit code "))
            {
                out.entry(mode.clone())
                    .or_default()
                    .push(format!("exit: {}", &text[i + 22..]));
            }
        }
    }
    out
}

fn wait_all_exited(get_log: &dyn Fn() -> String) -> String {
    let want = MODES.split(',').count();
    let mut log = String::new();
    wait_until("every probe worker exited", PROMPT, || {
        log = get_log();
        events(&log)
            .values()
            .filter(|v| v.last().is_some_and(|l| l.starts_with("exit: ")))
            .count()
            == want
    });
    log
}

#[test]
fn same_module_behaves_the_same_under_postgresql_15_and_bgworkerd() {
    let dir = build_module_pgxs("errors_probe");
    share_with_cluster(&dir);
    let env = vec![("ERRORS_PROBE".to_string(), MODES.to_string())];

    let pg = PgCluster::start(
        "differential",
        &[
            "shared_preload_libraries = 'errors_probe'".into(),
            format!("dynamic_library_path = '{}:$libdir'", dir.display()),
            "log_min_messages = debug1".into(),
            "max_worker_processes = 16".into(),
        ],
        &env,
    );
    let pg_log = wait_all_exited(&|| pg.log_text());

    let ours = Setup::new()
        .env("ERRORS_PROBE", MODES)
        .module_built_with("errors_probe", Headers::Postgres)
        .c("max_worker_processes=16")
        .start();
    let our_log = wait_all_exited(&|| ours.log_text());

    let (theirs, mine) = (events(&pg_log), events(&our_log));
    assert_eq!(
        theirs.len(),
        MODES.split(',').count(),
        "PostgreSQL ran every mode:\n{pg_log}"
    );
    for (mode, expected) in &theirs {
        assert_eq!(
            mine.get(mode),
            Some(expected),
            "mode {mode}: bgworkerd differs from PostgreSQL 15\nPostgreSQL:\n{pg_log}"
        );
    }
}
