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
        .env("API_PROBE_DIR", probe_dir().to_str().unwrap())
        .module_built_with("api_probe", headers)
        .c("max_worker_processes=16")
        .start();
    let log = wait_all_exited(modes, &|| c.log_text());
    let ev = events(&log, true);
    (c, ev)
}

/// A fresh directory the probe's file modes work in, usable by the PostgreSQL cluster's user.
fn probe_dir() -> std::path::PathBuf {
    let dir = fresh_temp_dir("api-probe-files");
    share_with_cluster(&dir);
    if let Some((uid, gid)) = unprivileged_user() {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    }
    dir
}

/// `database_conninfo` for a cluster.
fn conninfo(pg: &PgCluster) -> String {
    format!(
        "database_conninfo=host={} port={} user=postgres",
        pg.socket_dir.display(),
        pg.port
    )
}

/// Settings both servers get (PostgreSQL's postgresql.conf, bgworkerd's bgworker.conf).
const SHARED_SETTINGS: &[&str] = &["cluster_name = 'apitest'", "work_mem = '8MB'"];

/// bgworkerd with the shared settings.
fn setup() -> Setup {
    SHARED_SETTINGS
        .iter()
        .fold(Setup::new(), |s, line| s.conf(line))
}

/// Runs `modes` with both header sets and hands each result to `check`.
fn for_both_builds(modes: &[&str], check: impl Fn(Headers, &Cluster, &Events)) {
    for headers in [Headers::Ours, Headers::Postgres] {
        let (c, ev) = run_with(modes, headers, setup());
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

/// Asserts `mode` logged `done` and exited with code 0 (exit callbacks may log in between).
fn passed(ev: &Events, mode: &str) {
    let v = ev.get(mode).cloned().unwrap_or_default();
    assert!(
        v.iter().any(|l| l == "LOG: done") && v.last().is_some_and(|l| l == "exit: 0"),
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
        has(
            ev,
            "lists",
            "lcons, list_insert_nth: (\"z\" \"a\" \"y\" \"b\" \"c\" \"d\") nth(2) y",
        );
        has(
            ev,
            "lists",
            "delete_ptr(b), delete_ptr(a copy of c): (\"z\" \"a\" \"y\" \"c\" \"d\")",
        );
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

#[test]
fn files_are_counted_closed_and_reported_as_postgresql_does() {
    for_both_builds(&["files"], |_, _, ev| {
        passed(ev, "files");
        has(ev, "files", "read back: first line");
        has(ev, "files", "created with mode 600");
        has(
            ev,
            "files",
            "durable_rename a.txt -> d.txt: 0, a.txt gone 1, d.txt there 1",
        );
        has(ev, "files", "directory holds (\"c.txt\")");
        has(ev, "files", "durable_rename of a missing file at LOG: -1");
        has(
            ev,
            "files",
            "(local) reporting it: could not open file \"missing.txt\": No such file or directory",
        );
        has(
            ev,
            "files",
            "(local) durable_rename of a missing file at ERROR: could not open file \"nothing.txt\": No such file or directory",
        );
        has(ev, "files", "(local) ReadDir of it: could not open directory \"nowhere\": No such file or directory");
        has(ev, "files", "OpenPipeStream read: piped");
        has(
            ev,
            "files",
            "opening without closing ends in an ERROR: sqlstate 53000 1, at least 16 open 1",
        );
        has(
            ev,
            "files",
            "and after closing them, AllocateFile works again: 1",
        );
        let v = ev["files"].join("\n");
        assert!(
            v.contains("WARNING: could not open directory \"nowhere\": No such file or directory")
                && v.contains(
                    "WARNING: file passed to FreeFile was not obtained from AllocateFile"
                )
                && v.contains(
                    "WARNING: could not remove file \"b.txt\": No such file or directory"
                ),
            "{v}"
        );
    });
}

#[test]
fn resource_owners_release_children_first_and_run_callbacks_per_phase() {
    for_both_builds(&["resowner", "resowner_misuse"], |_, _, ev| {
        passed(ev, "resowner");
        has(
            ev,
            "resowner",
            "at entry: current NULL, top transaction NULL, aux NULL",
        );
        let v = &ev["resowner"];
        let released: Vec<&String> = v
            .iter()
            .skip_while(|l| !l.contains("releasing parent (commit)"))
            .skip(1)
            .take_while(|l| l.contains("callback"))
            .collect();
        // Children first, newest callback first, each owner current while released.
        let want = [
            "callback B: phase 0 commit 1 toplevel 1 current child",
            "callback A: phase 0 commit 1 toplevel 1 current child",
            "callback B: phase 0 commit 1 toplevel 1 current parent",
            "callback A: phase 0 commit 1 toplevel 1 current parent",
        ];
        for (got, want) in released.iter().zip(want) {
            assert_eq!(got.as_str(), format!("LOG: {want}"), "{}", v.join("\n"));
        }
        assert_eq!(released.len(), 12, "{}", v.join("\n"));
        // At exit the aux owner is released once more, with isCommit from the exit code.
        let n = v.len();
        assert_eq!(
            v[n - 2],
            "LOG: callback A: phase 2 commit 1 toplevel 1 current AuxiliaryProcess",
            "{}",
            v.join("\n")
        );
        passed(ev, "resowner_misuse");
        for what in [
            "deleting an ancestor of the current owner",
            "making an owner its own descendant's child",
            "releasing in phase 7",
            "CreateAuxProcessResourceOwner with a current owner",
        ] {
            has(ev, "resowner_misuse", &format!("{what} raised ERROR"));
        }
        has(ev, "resowner_misuse", "tree unchanged: 1");
    });
}

#[test]
fn the_end_of_a_transaction_closes_its_files_and_releases_its_owner() {
    let pg = PgCluster::start("api-xact", &[], &[]);
    for headers in [Headers::Ours, Headers::Postgres] {
        let (_c, ev) = run_with(
            &["db_xact", "db_contexts"],
            headers,
            setup().c(&conninfo(&pg)),
        );
        passed(&ev, "db_xact");
        has(
            &ev,
            "db_xact",
            "in a transaction: current is TopTransactionResourceOwner 1, CurTransaction too 1",
        );
        has(
            &ev,
            "db_xact",
            "after commit: the file is closed 1, current NULL, top transaction NULL",
        );
        has(
            &ev,
            "db_xact",
            "after abort: the file is closed 1, current NULL",
        );
        let v = ev["db_xact"].join("\n");
        assert!(
            v.contains(
                "WARNING: 1 temporary files and directories not closed at end-of-transaction"
            ) && v.contains("callback X: phase 2 commit 1 toplevel 1 current TopTransaction")
                && v.contains("callback X: phase 0 commit 0 toplevel 1 current TopTransaction"),
            "{v}"
        );
    }
}

#[test]
fn the_process_knows_what_it_is_and_shows_its_title() {
    for_both_builds(&["process"], |_, _, ev| {
        passed(ev, "process");
        has(
            ev,
            "process",
            "MyBackendType is B_BG_WORKER 1, described as \"background worker\"",
        );
        has(
            ev,
            "process",
            "IsPostmasterEnvironment 1 IsUnderPostmaster 1 IsBackgroundWorker 1 IsBinaryUpgrade 0 RecoveryInProgress 0",
        );
        has(
            ev,
            "process",
            "PostmasterPid is the parent 1, not this process 1",
        );
        has(
            ev,
            "process",
            "MyStartTime within the last minute 1, agrees with MyStartTimestamp 1",
        );
        has(
            ev,
            "process",
            "DataDir is absolute 1 and holds postmaster.pid 1",
        );
        has(
            ev,
            "process",
            "after set_ps_display: title ends with \"api_probe process probing 1\" 1, get_ps_display \"probing 1\" (9)",
        );
        has(
            ev,
            "process",
            "with update_process_title off: title unchanged 1, get_ps_display \"probing 1\"",
        );
        has(
            ev,
            "process",
            "(local) title now: bgworker: apitest: api_probe process probing 1",
        );
        has(
            ev,
            "process",
            "init_ps_display: title ends with \"apitest: api_probe renamed again\" 1",
        );
    });
}

#[test]
fn set_ps_display_shows_in_ps_and_bgworkerctl_status() {
    for headers in [Headers::Ours, Headers::Postgres] {
        let c = setup()
            .env("API_PROBE", "title_wait")
            .module_built_with("api_probe", headers)
            .start();
        let line = c.wait_for_log("api_probe title_wait: title set", PROMPT);
        let pid = log_pid(&line).unwrap();
        c.track(pid);
        let want = "bgworker: apitest: api_probe title_wait waiting for the test";
        wait_until("the title in ps", PROMPT, || {
            cmdline(pid).as_deref() == Some(want)
        });
        let status = status_json(&c);
        let w = status["workers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["pid"] == pid)
            .unwrap_or_else(|| panic!("no worker {pid} in {status}"));
        assert_eq!(w["title"], want, "{status}");
        let text = bgworkerctl(&c.datadir, &["status", "--wide"]);
        assert!(
            String::from_utf8_lossy(&text.stdout).contains(want),
            "{}",
            String::from_utf8_lossy(&text.stdout)
        );
        // The default SIGTERM handling of a worker that installed die: FATAL, exit 1.
        send_signal(pid, libc::SIGTERM);
        c.wait_for_log(
            "FATAL:  terminating background worker \"api_probe\" due to administrator command",
            PROMPT,
        );
    }
}

#[test]
fn settings_change_at_run_time_by_postgresql_rules() {
    for_both_builds(&["settings"], |_, _, ev| {
        passed(ev, "settings");
        has(
            ev,
            "settings",
            "globals: cluster_name \"apitest\" work_mem 8192 maintenance_work_mem 65536 max_worker_processes 16 log_min_messages 14 update_process_title 1 shared_preload_libraries \"api_probe\" max_files_per_process 1000",
        );
        has(
            ev,
            "settings",
            "work_mem: GetConfigOption \"8192\" reset \"8192\"",
        );
        has(
            ev,
            "settings",
            "SetConfigOption(work_mem, 16MB): work_mem 16384",
        );
        has(
            ev,
            "settings",
            "work_mem: GetConfigOption \"16384\" reset \"8192\"",
        );
        has(ev, "settings", "reset: 1, work_mem 8192");
        has(ev, "settings", "32 kB refused: 0, work_mem 8192");
        has(
            ev,
            "settings",
            "restart-only setting in a reload, new value: 0, still 16",
        );
        has(
            ev,
            "settings",
            "(local) an unknown setting: unrecognized configuration parameter \"no_such_setting\"",
        );
        has(
            ev,
            "settings",
            "apiprobe.color: GetConfigOption \"blue\" reset \"(null)\"",
        );
        has(
            ev,
            "settings",
            "apiprobe.limit: GetConfigOption \"20\" reset \"10\"",
        );
        has(ev, "settings", "from a lower-priority source: -1, still 20");
        has(ev, "settings", "as a new reset value: -1, value 20");
        has(ev, "settings", "after RESET: 40");
        let v = ev["settings"].join("\n");
        assert!(
            v.contains(
                "WARNING: 32 kB is outside the valid range for parameter \"work_mem\" (64 .. 2147483647)"
            ) && !v.contains("this WARNING is filtered out")
                && v.contains("WARNING: this WARNING shows again"),
            "{v}"
        );
    });
}

#[test]
fn values_set_at_run_time_outrank_the_file_on_reload_and_refusals_change_nothing() {
    for_both_builds(&["settings_reload", "settings_misuse"], |_, _, ev| {
        passed(ev, "settings_reload");
        has(
            ev,
            "settings_reload",
            "after reading the file again: work_mem 16384 (set here), maintenance_work_mem 131072 (from the file)",
        );
        has(ev, "settings_reload", "work_mem reset value now \"1024\"");
        has(ev, "settings_reload", "after RESET: work_mem 1024");
        passed(ev, "settings_misuse");
        has(
            ev,
            "settings_misuse",
            "(local) a superuser setting as an ordinary user: permission denied to set parameter \"log_min_messages\"",
        );
        has(
            ev,
            "settings_misuse",
            "(local) a placeholder under a reserved prefix: invalid configuration parameter name \"apiprobe.nothing\"",
        );
        has(ev, "settings_misuse", "refused at LOG: 0, work_mem 8192");
        assert!(
            ev["settings_misuse"]
                .contains(&"LOG: invalid value for parameter \"work_mem\": \"oops\"".to_string()),
            "{}",
            show(ev, "settings_misuse")
        );
    });
}

#[test]
fn memory_contexts_are_there_when_postgresql_has_them() {
    for_both_builds(&["contexts"], |_, _, ev| {
        passed(ev, "contexts");
        has(
            ev,
            "contexts",
            "at entry: CacheMemoryContext NULL 1, MessageContext NULL 1, PortalContext NULL 1, PostmasterContext NULL 1",
        );
        has(
            ev,
            "contexts",
            "CreateCacheMemoryContext: made 1, under TopMemoryContext 1, named \"CacheMemoryContext\"",
        );
        has(ev, "contexts", "a second call keeps it 1");
    });
}

/// The modes whose results do not depend on the server they run in.
const COMPARABLE: &[&str] = &[
    "lists",
    "text",
    "split",
    "strings",
    "files",
    "resowner",
    "db_xact",
    "process",
    "settings",
    "settings_reload",
    "contexts",
    "db_contexts",
];

#[test]
fn same_module_logs_the_same_under_postgresql_15_and_bgworkerd() {
    let dir = build_module_pgxs("api_probe");
    share_with_cluster(&dir);
    let modes = COMPARABLE.join(",");
    let files = probe_dir();
    let pg = PgCluster::start(
        "server-api",
        &[
            "shared_preload_libraries = 'api_probe'".into(),
            format!("dynamic_library_path = '{}:$libdir'", dir.display()),
            "log_min_messages = debug1".into(),
            "max_worker_processes = 16".into(),
            "cluster_name = 'apitest'".into(),
            "work_mem = '8MB'".into(),
        ],
        &[
            ("API_PROBE".to_string(), modes.clone()),
            ("API_PROBE_DIR".to_string(), files.display().to_string()),
        ],
    );
    let pg_log = wait_all_exited(COMPARABLE, &|| pg.log_text());
    let (ours, _) = run_with(COMPARABLE, Headers::Postgres, setup().c(&conninfo(&pg)));
    let our_log = ours.log_text();

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
