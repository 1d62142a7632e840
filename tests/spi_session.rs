//! SPI and the worker's database session under bgworkerd, where PostgreSQL itself cannot be the
//! reference: PostgreSQL's own worker_spi, built unchanged from its source tree; a procedure that
//! commits, called through non-atomic SPI; a million rows read through a cursor with the
//! worker's memory bounded; plans as the session's prepared statements; the worker's settings
//! and application_name on its session, also after a reload; a server shutdown seen while the
//! worker waits. Modules: c_tests/modules/spi_features.c (its bgworkerd-only modes).

mod common;

use common::pg::PgCluster;
use common::*;
use std::time::Duration;

fn conninfo(pg: &PgCluster) -> String {
    format!(
        "database_conninfo=host={} port={} user=postgres",
        pg.socket_dir.display(),
        pg.port
    )
}

fn sql(pg: &PgCluster, q: &str) -> String {
    pg.psql("postgres", q)
        .unwrap_or_else(|e| panic!("psql {q:?} failed: {e}"))
}

/// bgworkerd running one spi_features worker in `mode` against `pg`.
fn features(pg: &PgCluster, mode: &str) -> Setup {
    Setup::new()
        .env("SPI_FEATURES", mode)
        .preload(&["spi_features"])
        .c(&conninfo(pg))
}

/// The text after `spi_features MODE: ` of the log line containing `what`.
fn said(c: &Cluster, mode: &str, what: &str) -> String {
    let line = c.wait_for_log(&format!("spi_features {mode}: {what}"), PROMPT);
    let tag = format!("spi_features {mode}: ");
    line[line.find(&tag).unwrap() + tag.len()..].to_string()
}

#[test]
fn postgresqls_worker_spi_runs_unchanged() {
    let dir = build_postgresql_module("worker_spi");
    let pg = PgCluster::start("wspipg", &[], &[]);
    let c = Setup::new()
        .preload(&["worker_spi"])
        .c(&format!("dynamic_library_path={}", dir.display()))
        .c("worker_spi.naptime=1")
        .c("worker_spi.total_workers=2")
        .c("worker_spi.database=postgres")
        .c(&conninfo(&pg))
        .start();
    for n in 1..=2 {
        c.wait_for_log(
            &format!("worker_spi worker {n} initialized with schema{n}.counted"),
            PROMPT,
        );
        wait_until(&format!("schema{n}.counted exists"), PROMPT, || {
            pg.psql(
                "postgres",
                &format!("SELECT count(*) FROM schema{n}.counted"),
            )
            .is_ok()
        });
    }
    // As its regression test does: a total and a delta; the worker folds the delta in.
    sql(
        &pg,
        "INSERT INTO schema1.counted VALUES ('total', 0), ('delta', 1)",
    );
    c.wait_for_log(
        "worker_spi worker 1: count in schema1.counted is now 1",
        PROMPT,
    );
    assert_eq!(
        sql(&pg, "SELECT type, value FROM schema1.counted ORDER BY type"),
        "total|1"
    );
    sql(
        &pg,
        "INSERT INTO schema2.counted VALUES ('total', 40), ('delta', 1), ('delta', 1)",
    );
    c.wait_for_log(
        "worker_spi worker 2: count in schema2.counted is now 42",
        PROMPT,
    );
    assert_eq!(
        sql(&pg, "SELECT type, value FROM schema2.counted ORDER BY type"),
        "total|42"
    );
    // The unique index its one CREATE SCHEMA statement made.
    assert_eq!(
        sql(
            &pg,
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'schema1' \
             AND indexname = 'counted_unique_total'"
        ),
        "1"
    );
    assert!(!c.log_text().contains(" ERROR: "), "{}", c.log_text());
}

#[test]
fn a_procedure_that_commits_can_be_called() {
    let pg = PgCluster::start("spicall", &[], &[]);
    let c = features(&pg, "call").start();
    assert_eq!(
        said(&c, "call", "call "),
        "call SPI_OK_UTILITY processed=0 rows=none"
    );
    // The procedure committed 10, rolled back 11, and its last insert is committed with the
    // worker's transaction.
    assert_eq!(
        said(&c, "call", "rows "),
        "rows SPI_OK_SELECT processed=2 rows=10,12"
    );
    c.wait_for_log("spi_features call: done", PROMPT);
    assert_eq!(
        sql(
            &pg,
            "SELECT string_agg(i::text, ',' ORDER BY i) FROM call_t"
        ),
        "10,12"
    );
}

#[test]
fn a_million_rows_through_a_cursor_in_bounded_memory() {
    let pg = PgCluster::start("spimillion", &[], &[]);
    let c = features(&pg, "million").start();
    let rows = said(&c, "million", "rows ");
    assert_eq!(rows, "rows 1000000 sum 500000500000");
    let peak = said(&c, "million", "peak memory");
    eprintln!("{peak}");
    let grew: i64 = field_str(&peak, "VmHWM grew ")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{peak}"));
    let contexts: i64 = field_str(&peak, "contexts at most ")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{peak}"));
    // One chunk of 1,000 rows is about 100 kB; the whole result would be over 100 MB.
    assert!(
        grew < 16 * 1024,
        "the worker's peak memory grew {grew} kB: {peak}"
    );
    assert!(
        contexts < 2 * 1024,
        "SPI memory reached {contexts} kB: {peak}"
    );
}

#[test]
fn plans_are_prepared_statements_of_the_session() {
    let pg = PgCluster::start("spistmts", &[], &[]);
    let c = features(&pg, "statements").start();
    assert_eq!(
        said(&c, "statements", "two plans"),
        "two plans: 2 prepared statements"
    );
    // The plan not kept went with SPI_finish; its statement with the commit.
    assert_eq!(
        said(&c, "statements", "after the transient"),
        "after the transient plan's SPI_finish: 1"
    );
    assert_eq!(
        said(&c, "statements", "kept "),
        "kept SPI_OK_SELECT processed=1 rows=8"
    );
    assert_eq!(
        said(&c, "statements", "after DEALLOCATE ALL"),
        "after DEALLOCATE ALL: 0"
    );
    assert_eq!(
        said(&c, "statements", "kept, prepared again"),
        "kept, prepared again SPI_OK_SELECT processed=1 rows=8"
    );
    assert_eq!(
        said(&c, "statements", "after running it"),
        "after running it: 1"
    );
    assert_eq!(
        said(&c, "statements", "freed, after the commit"),
        "freed, after the commit: 0"
    );
    c.wait_for_log("spi_features statements: done", PROMPT);
}

#[test]
fn settings_and_application_name_reach_the_session_and_follow_a_reload() {
    let pg = PgCluster::start("spireload", &[], &[]);
    let c = features(&pg, "reload")
        .conf("spi_features.greeting = 'one'")
        .start();
    assert_eq!(said(&c, "reload", "sql sees"), "sql sees greeting one");
    // Set inside a transaction that rolled back: applied when it ended, and kept.
    wait_until("the session is renamed", PROMPT, || {
        sql(
            &pg,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'spi_features renamed'",
        ) == "1"
    });
    let conf = c.datadir.join("bgworker.conf");
    let text = std::fs::read_to_string(&conf).unwrap().replace(
        "spi_features.greeting = 'one'",
        "spi_features.greeting = 'two'",
    );
    std::fs::write(&conf, text).unwrap();
    c.signal(libc::SIGHUP);
    c.wait_for_log("spi_features reload: sql sees greeting two", PROMPT);
}

#[test]
fn a_server_shutdown_ends_a_waiting_worker() {
    let pg = PgCluster::start("spishutdown", &[], &[]);
    let c = features(&pg, "terminate").start();
    c.wait_for_log("spi_features terminate: waiting", PROMPT);
    let since = c.log_len();
    // The worker sleeps up to a minute between checks: only its session tells it.
    pg.stop();
    let fatal = c.wait_for_log_since(since, "spi_features FATAL:", Duration::from_secs(10));
    assert!(
        fatal.ends_with(
            "terminating background worker \"spi_features\" due to administrator command"
        ),
        "{fatal}"
    );
    c.wait_for_log_since(since, "exited with exit code 1", PROMPT);
}
