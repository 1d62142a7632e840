//! SPI and transactions compared with PostgreSQL 15 itself (c_tests/modules/spi_features.c):
//! the same module, built with PGXS, runs inside a PostgreSQL 15 cluster (preloaded) and under
//! bgworkerd against another PostgreSQL 15 cluster; every line each worker logs, with its exit,
//! must be the same. One worker per part: several statements in one string, `count`, prepared
//! plans, cursors, non-atomic SPI, the worker's settings and transaction state as SQL sees them,
//! transaction and subtransaction callbacks, and a session terminated while the worker waits.
//! The module built against our own headers must log the same under bgworkerd.

mod common;

use common::pg::{share_with_cluster, PgCluster};
use common::*;
use std::collections::BTreeMap;

const MODES: &str = "multi,limit,plans,cursors,nonatomic,settings,callbacks,terminate";

/// Per worker (keyed by its mode): the (level, message) lines it logged, then its exit.
type Events = BTreeMap<String, Vec<String>>;

/// `<date> <time> UTC [<pid>] <type> LEVEL:  text`, as PostgreSQL (log_line_prefix
/// '%m [%p] %b ') and bgworkerd write it: (pid, level, text).
fn parse(line: &str) -> Option<(i32, String, String)> {
    let pid = log_pid(line)?;
    let after = &line[line.find("] ")? + 2..];
    for level in [
        "DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC",
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
        if let Some(rest) = text.strip_prefix("spi_features ") {
            if let Some(mode) = rest.strip_suffix(": started") {
                mode_of_pid.insert(pid, mode.to_string());
            }
        }
        if let Some(mode) = mode_of_pid.get(&pid) {
            if level == "DEBUG" {
                continue;
            }
            out.entry(mode.clone())
                .or_default()
                .push(format!("{level}: {text}"));
            continue;
        }
        if text.starts_with("background worker \"spi_features\" (PID ") {
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

fn exited(e: &Events) -> usize {
    e.values()
        .filter(|v| v.last().is_some_and(|l| l.starts_with("exit: ")))
        .count()
}

/// Waits for the terminate worker to wait, terminates its database session on `pg`, then
/// waits for every worker to exit; returns the log.
fn terminate_then_wait(pg: &PgCluster, get_log: &dyn Fn() -> String) -> String {
    wait_until("the terminate worker waits", PROMPT, || {
        get_log().contains("spi_features terminate: waiting")
    });
    let killed = pg
        .psql(
            "postgres",
            "SELECT pg_terminate_backend(pid) FROM terminate_me",
        )
        .expect("pg_terminate_backend");
    assert_eq!(killed, "t");
    let want = MODES.split(',').count();
    let mut log = String::new();
    wait_until("every spi_features worker exited", PROMPT * 3, || {
        log = get_log();
        exited(&events(&log)) == want
    });
    log
}

const SETTINGS: [(&str, &str); 3] = [
    ("spi_features.greeting", "hi there"),
    ("spi_features.count", "120"),
    ("spi_features.placeholder", "kept"),
];

fn ours(pg: &PgCluster, headers: Headers) -> Events {
    let mut setup = Setup::new()
        .env("SPI_FEATURES", MODES)
        .module_built_with("spi_features", headers)
        .c("max_worker_processes=16")
        .c(&format!(
            "database_conninfo=host={} port={} user=postgres",
            pg.socket_dir.display(),
            pg.port
        ));
    for (k, v) in SETTINGS {
        setup = setup.c(&format!("{k}={v}"));
    }
    let c = setup.start();
    let log = terminate_then_wait(pg, &|| c.log_text());
    events(&log)
}

#[test]
fn spi_behaves_as_inside_postgresql_15() {
    let dir = build_module_pgxs("spi_features");
    share_with_cluster(&dir);
    let env = vec![("SPI_FEATURES".to_string(), MODES.to_string())];
    let mut conf = vec![
        "shared_preload_libraries = 'spi_features'".to_string(),
        format!("dynamic_library_path = '{}:$libdir'", dir.display()),
        "max_worker_processes = 16".into(),
        // Workers that exit 0 are logged at DEBUG1.
        "log_min_messages = debug1".into(),
    ];
    for (k, v) in SETTINGS {
        conf.push(format!("{k} = '{v}'"));
    }
    let inside = PgCluster::start("spiinside", &conf, &env);
    let pg_log = terminate_then_wait(&inside, &|| inside.log_text());
    let theirs = events(&pg_log);
    assert_eq!(
        theirs.len(),
        MODES.split(',').count(),
        "PostgreSQL ran every mode:\n{pg_log}"
    );

    let server = PgCluster::start("spioutside", &[], &[]);
    let mine = ours(&server, Headers::Postgres);
    for (mode, expected) in &theirs {
        assert_eq!(
            mine.get(mode),
            Some(expected),
            "mode {mode}: bgworkerd differs from PostgreSQL 15 (left: ours, right: PostgreSQL)"
        );
    }
    drop(server);

    // The module built against our headers behaves the same.
    let server = PgCluster::start("spiourheaders", &[], &[]);
    let mine = ours(&server, Headers::Ours);
    for (mode, expected) in &theirs {
        assert_eq!(
            mine.get(mode),
            Some(expected),
            "mode {mode}: built against include/, bgworkerd differs from PostgreSQL 15"
        );
    }
}
