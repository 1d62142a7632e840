//! The server APIs worker code calls besides the bgworker API (c_tests/modules/api_probe.c):
//! lists and nodes, text values, list splitting, string helpers, settings, files, resource
//! owners, memory contexts, the process's identity and title. Each area runs under bgworkerd
//! with the module built against include/ and with PGXS against PostgreSQL 15's headers; what it
//! logs is asserted here, and the modes whose results do not depend on the server also run
//! inside a throwaway PostgreSQL 15 cluster, whose log must match ours line for line.

mod common;

use common::pg::{share_with_cluster, PgCluster};
use common::*;
use std::collections::BTreeMap;

/// Per mode: what its worker logged (`LEVEL: text`, the `api_probe MODE: ` prefix removed, lines
/// marked "(local)" and DEBUG lines left out unless `local`), then `exit: N`.
type Events = BTreeMap<String, Vec<String>>;

/// `<date> <time> UTC [<pid>] <type> LEVEL:  text` (bgworkerd, and PostgreSQL with
/// log_line_prefix '%m [%p] %b '): the pid, the level and the text.
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

fn events(log: &str, local: bool) -> Events {
    let mut mode_of_pid: BTreeMap<i32, String> = BTreeMap::new();
    let mut out = Events::new();
    for line in log.lines() {
        let Some((pid, level, text)) = parse(line) else {
            continue;
        };
        if let Some(rest) = text.strip_prefix("api_probe ") {
            if let Some(mode) = rest.strip_suffix(": started") {
                mode_of_pid.insert(pid, mode.to_string());
                continue;
            }
        }
        if let Some(mode) = mode_of_pid.get(&pid) {
            if level.starts_with("DEBUG") || (!local && text.contains("(local)")) {
                continue;
            }
            let text = text
                .strip_prefix(&format!("api_probe {mode}: "))
                .unwrap_or(&text);
            out.entry(mode.clone())
                .or_default()
                .push(format!("{level}: {text}"));
            continue;
        }
        if text.starts_with("background worker \"api_probe\" (PID ") {
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

/// Waits until every worker of `modes` has exited; returns the log then.
fn wait_all_exited(modes: &[&str], get_log: &dyn Fn() -> String) -> String {
    let mut log = String::new();
    wait_until("every api_probe worker exited", PROMPT, || {
        log = get_log();
        let ev = events(&log, true);
        modes.iter().all(|m| {
            ev.get(*m)
                .and_then(|v| v.last())
                .is_some_and(|l| l.starts_with("exit: "))
        })
    });
    log
}

/// Runs `modes` under bgworkerd with the module built against `headers`, plus `setup`'s own
/// settings; returns the cluster and the events (local lines included).
fn run_with(modes: &[&str], headers: Headers, setup: Setup) -> (Cluster, Events) {
    let c = setup
        .env("API_PROBE", &modes.join(","))
        .module_built_with("api_probe", headers)
        .c("max_worker_processes=16")
        .start();
    let log = wait_all_exited(modes, &|| c.log_text());
    let ev = events(&log, true);
    (c, ev)
}

/// Runs `modes` with both header sets and hands each result to `check`.
fn for_both_builds(modes: &[&str], check: impl Fn(Headers, &Cluster, &Events)) {
    for headers in [Headers::Ours, Headers::Postgres] {
        let (c, ev) = run_with(modes, headers, Setup::new());
        check(headers, &c, &ev);
    }
}

/// The mode's lines, for assertion messages.
fn show(ev: &Events, mode: &str) -> String {
    ev.get(mode).map(|v| v.join("\n")).unwrap_or_default()
}

/// Asserts `mode` logged exactly `line` (after `LOG: `).
fn has(ev: &Events, mode: &str, line: &str) {
    let want = format!("LOG: {line}");
    assert!(
        ev.get(mode).is_some_and(|v| v.contains(&want)),
        "mode {mode} did not log {want:?}; it logged:\n{}",
        show(ev, mode)
    );
}

/// Asserts `mode` ended with `done` and exit code 0.
fn passed(ev: &Events, mode: &str) {
    let v = ev.get(mode).cloned().unwrap_or_default();
    let n = v.len();
    assert!(
        n >= 2 && v[n - 2] == "LOG: done" && v[n - 1] == "exit: 0",
        "mode {mode} did not finish cleanly:\n{}",
        v.join("\n")
    );
}

#[test]
fn lists_behave_as_postgresql_lists() {
    for_both_builds(&["lists"], |_, _, ev| {
        passed(ev, "lists");
        has(
            ev,
            "lists",
            "appended: length 20 (1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20)",
        );
        has(ev, "lists", "odd only: (3 5 7 9 11 13 15 17 19)");
        has(ev, "lists", "union: (3 5 7 9 11 13 15 17 19 30 50)");
        has(
            ev,
            "lists",
            "oids sorted and deduplicated: (7 42 4000000000) member 7: 1",
        );
        has(
            ev,
            "lists",
            "names (\"alpha\" \"beta\" \"gamma\") member(beta) 1 member_ptr(beta copy) 0 member_ptr(own) 1",
        );
        has(
            ev,
            "lists",
            "copy_deep equal 1, same first node 0, same first string 0",
        );
        has(
            ev,
            "lists",
            "big: length 1000 last 999, list and cells in its context: 1 1",
        );
        has(ev, "lists", "(local) list_free leaves its context empty: 1");
    });
}

#[test]
fn list_misuse_is_an_error_that_changes_nothing() {
    for_both_builds(&["list_misuse"], |_, _, ev| {
        passed(ev, "list_misuse");
        for what in [
            "lappend_int on a pointer list",
            "list_insert_nth_int past the end",
            "list_delete_nth_cell past the end",
            "list_member_oid on an integer list",
            "equal on memory contexts",
            "copyObject of a memory context",
        ] {
            has(ev, "list_misuse", &format!("{what} raised ERROR"));
        }
        has(
            ev,
            "list_misuse",
            "(local) lappend_int on a pointer list: lappend_int: the list is a pointer list (node type 231), not an integer list",
        );
        has(
            ev,
            "list_misuse",
            "(local) list_insert_nth_int past the end: list_insert_nth_int: position 3 is out of range for a list of length 2",
        );
        has(
            ev,
            "list_misuse",
            "(local) equal on memory contexts: equal() is not supported for node type 223 by bgworkerd: only lists and the value nodes Integer, Float, Boolean, String and BitString exist here",
        );
        has(ev, "list_misuse", "lists unchanged: (\"x\") (1 2)");
    });
}

#[test]
fn text_values_convert_and_detoast() {
    for_both_builds(&["text"], |_, _, ev| {
        passed(ev, "text");
        has(
            ev,
            "text",
            "cstring_to_text: VARSIZE 16 VARSIZE_ANY_EXHDR 12 text \"hello, world\"",
        );
        has(
            ev,
            "text",
            "text_to_cstring_buffer: \"hello\" \"hello, world\"",
        );
        has(
            ev,
            "text",
            "detoast of a short value: new copy 1, 4-byte header 1, size 9, \"short\"",
        );
        has(
            ev,
            "text",
            "detoast of a plain value is itself 1, packed is itself 1 1",
        );
    });
}

#[test]
fn lists_of_names_split_as_postgresql_splits_them() {
    for_both_builds(&["split"], |_, _, ev| {
        passed(ev, "split");
        has(
            ev,
            "split",
            "identifiers [  Foo, \"Bar Baz\" ,qux] -> ok (\"foo\" \"Bar Baz\" \"qux\")",
        );
        has(ev, "split", "identifiers [a,,b] -> bad (\"a\")");
        has(ev, "split", "directories [/a/b/../../..] -> ok (\"/\")");
    });
}

#[test]
fn string_helpers_of_port_h() {
    for_both_builds(&["strings"], |_, _, ev| {
        passed(ev, "strings");
        has(ev, "strings", "strcasecmp: 1 1 1 1");
        has(ev, "strings", "strlcpy: \"truncat\" 14");
        has(ev, "strings", "pg_usleep(20 ms) slept at least 20 ms: 1");
        has(
            ev,
            "strings",
            "pg_set_noblock 1 nonblocking 1, pg_set_block 1 blocking 1, bad fd 0",
        );
    });
}

/// The modes whose results do not depend on the server they run in.
const COMPARABLE: &[&str] = &["lists", "text", "split", "strings"];

#[test]
fn same_module_logs_the_same_under_postgresql_15_and_bgworkerd() {
    let dir = build_module_pgxs("api_probe");
    share_with_cluster(&dir);
    let modes = COMPARABLE.join(",");
    let pg = PgCluster::start(
        "server-api",
        &[
            "shared_preload_libraries = 'api_probe'".into(),
            format!("dynamic_library_path = '{}:$libdir'", dir.display()),
            "log_min_messages = debug1".into(),
            "max_worker_processes = 16".into(),
        ],
        &[("API_PROBE".to_string(), modes.clone())],
    );
    let pg_log = wait_all_exited(COMPARABLE, &|| pg.log_text());
    let (_ours, _) = run_with(COMPARABLE, Headers::Postgres, Setup::new());
    let our_log = _ours.log_text();

    let (theirs, mine) = (events(&pg_log, false), events(&our_log, false));
    for mode in COMPARABLE {
        let (t, m) = (theirs.get(*mode), mine.get(*mode));
        assert!(t.is_some(), "PostgreSQL ran mode {mode}:\n{pg_log}");
        if t != m {
            let t = t.cloned().unwrap_or_default();
            let m = m.cloned().unwrap_or_default();
            let first = t
                .iter()
                .zip(m.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(t.len().min(m.len()));
            panic!(
                "mode {mode}: bgworkerd differs from PostgreSQL 15 at line {first}:\n  \
                 PostgreSQL: {:?}\n  bgworkerd:  {:?}\nPostgreSQL's lines:\n{}\nours:\n{}",
                t.get(first),
                m.get(first),
                t.join("\n"),
                m.join("\n")
            );
        }
    }
}
