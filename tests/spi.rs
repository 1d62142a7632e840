//! SPI against a throwaway PostgreSQL 15 cluster (c_tests/modules/spi_probe.c): result codes
//! matched to the statement, SPI_processed and count limits, SPI_tuptable in PostgreSQL 15's
//! layout read through SPI_getbinval, heap_getattr and SPI_getvalue, SPI_execute_with_args, the
//! helpers, a server error caught with PG_TRY (SQLSTATE kept) and rolled back, and an uncaught
//! one ending the worker with exit 1 and nothing committed. Then worker_spi_like
//! (c_tests/modules/worker_spi_like.c) as static workers folding on SIGHUP, and as a dynamic
//! worker launched with `bgworkerctl` that outlives a restart of the database server.

mod common;

use common::pg::PgCluster;
use common::*;

const DB: i32 = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;

fn conninfo(pg: &PgCluster) -> String {
    format!(
        "database_conninfo=host={} port={} user=postgres",
        pg.socket_dir.display(),
        pg.port
    )
}

fn spi_worker(name: &str, mode: &str) -> Worker {
    build_module("spi_probe");
    Worker::new(name)
        .type_("spi probe")
        .flags(DB)
        .start(START_RECOVERY_FINISHED)
        .restart(BGW_NEVER_RESTART)
        .lib("spi_probe")
        .func("spi_probe_main")
        .mode(mode)
}

fn sql(pg: &PgCluster, q: &str) -> String {
    pg.psql("postgres", q)
        .unwrap_or_else(|e| panic!("psql {q:?} failed: {e}"))
}

/// The text after `spi_probe: ` of the first log line starting with `what`.
fn line(log: &str, what: &str) -> String {
    let tag = format!("spi_probe: {what}");
    log.lines()
        .find_map(|l| l.find(&tag).map(|i| l[i + 11..].to_string()))
        .unwrap_or_else(|| panic!("no line {tag:?} in:\n{log}"))
}

#[test]
fn spi_suite_against_postgresql() {
    let pg = PgCluster::start("spisuite", &[], &[]);
    let mut c = Setup::new()
        .worker(spi_worker("spi1", "suite"))
        .c(&conninfo(&pg))
        .start();
    c.wait_for_log("spi_probe: done", PROMPT);
    let log = c.log_text();
    let has = |want: &str| {
        let tail = format!("spi_probe: {want}");
        assert!(
            log.lines().any(|l| l.ends_with(&tail)),
            "no line ending {tail:?} in:\n{log}"
        );
    };
    has("connect SPI_OK_CONNECT context switched");
    has("create SPI_OK_UTILITY processed=0 tuptable=null");
    has("insert SPI_OK_INSERT processed=3 tuptable=null");
    has("select SPI_OK_SELECT processed=3 tuptable=set");
    has("select natts=10 numvals=3 types=23,20,21,701,700,16,25,1043,1700,26");
    has("select row 0 bin: i=1 b=5000000000 s=-7 f=1.5 r=0.25 ok=true txt=one/3 v=uno/3 o=42");
    has("select row 0 txt: i=1 b=5000000000 s=-7 f=1.5 r=0.25 ok=t txt=one v=uno n=1.10 o=42");
    has("select row 1 bin: i=2 b=-1 s=300 f=-1e+300 r=-3.5 ok=false txt=/0 v=dos/3 o=0");
    has("select row 1 txt: i=2 b=-1 s=300 f=-1e+300 r=-3.5 ok=f txt= v=dos n=2 o=0");
    has("select row 2 bin: i=3 b=NULL s=NULL f=NULL r=NULL ok=NULL txt=NULL v=NULL o=NULL");
    has("select row 2 txt: i=3 b=NULL s=NULL f=NULL r=NULL ok=NULL txt=NULL v=NULL n=NULL o=NULL");
    has("count2 SPI_OK_SELECT processed=2 tuptable=set");
    has("count2 numvals=2");
    has("empty SPI_OK_SELECT processed=0 tuptable=set");
    has("update SPI_OK_UPDATE processed=2 tuptable=null");
    has("update returning SPI_OK_UPDATE_RETURNING processed=1 tuptable=set");
    has("update returning row 0 bin: i=1 s=-5");
    has("insert returning SPI_OK_INSERT_RETURNING processed=2 tuptable=set");
    has("insert returning row 1 txt: i=11 txt=eleven");
    has("delete SPI_OK_DELETE processed=1 tuptable=null");
    has("delete returning SPI_OK_DELETE_RETURNING processed=1 tuptable=set");
    has("delete returning row 0 bin: txt=ten/3");
    has("utility SPI_OK_UTILITY processed=0 tuptable=null");
    has("show SPI_OK_UTILITY processed=1 tuptable=set");
    has("show row 0 txt: standard_conforming_strings=on");
    // CREATE TABLE AS is a utility statement in SPI (SELECT ... INTO would be SPI_OK_SELINTO).
    has("selinto SPI_OK_UTILITY processed=3 tuptable=null");
    has("args insert SPI_OK_INSERT_RETURNING processed=1");
    has("args insert row 0 bin: i=40 txt=it's $1/7 f=-2.25 ok=true");
    has("args nulls row 0 txt: i=40 txt=NULL f=-2.25 ok=NULL");
    has("args select row 0 bin: count=4");
    has("fnumber txt=2 nope=-9");
    has("fname 1=i 3=n");
    has("gettype 1=int4 2=text 3=numeric typeid=23,25,1700");
    has("getvalue out of range NULL result=SPI_ERROR_NOATTRIBUTE");
    has("fname 0 NULL result=SPI_ERROR_NOATTRIBUTE");
    has("code strings SPI_OK_UPDATE_RETURNING SPI_ERROR_UNCONNECTED Unrecognized SPI code 99");
    has("numeric getbinval caught sqlstate=0A000");
    has("finish SPI_OK_FINISH context restored");
    has("finish again SPI_ERROR_UNCONNECTED");
    has("unconnected execute SPI_ERROR_UNCONNECTED");
    has("division caught sqlstate=22012 message=division by zero detail=NULL");
    assert!(
        line(&log, "aborted caught")
            .starts_with("aborted caught sqlstate=25P02 message=current transaction is aborted"),
        "{log}"
    );
    has("after rollback row 0 bin: count=0");
    // What the server holds: the first transaction committed, the second rolled back.
    assert_eq!(sql(&pg, "SELECT count(*) FROM spi_t"), "5");
    assert_eq!(sql(&pg, "SELECT count(*) FROM spi_t WHERE i = 99"), "0");
    assert_eq!(sql(&pg, "SELECT count(*) FROM spi_copy"), "3");
    c.signal(libc::SIGTERM);
    c.wait_exit(PROMPT);
}

#[test]
fn uncaught_server_error_exits_1_and_commits_nothing() {
    let pg = PgCluster::start("spiuncaught", &[], &[]);
    sql(&pg, "CREATE TABLE spi_u (i int)");
    let mut c = Setup::new()
        .worker(spi_worker("spi2", "uncaught"))
        .c(&conninfo(&pg))
        .start();
    let err = c.wait_for_log("spi probe ERROR:", PROMPT);
    assert!(
        err.contains("relation \"no_such_table\" does not exist"),
        "{err}"
    );
    let exit = c.wait_for_log("exited with exit code 1", PROMPT);
    assert!(exit.contains("spi probe"), "{exit}");
    assert_eq!(
        line(&c.log_text(), "uncaught insert"),
        "uncaught insert SPI_OK_INSERT processed=1 tuptable=null"
    );
    assert!(!c.log_text().contains("still running"));
    assert_eq!(sql(&pg, "SELECT count(*) FROM spi_u"), "0");
    c.signal(libc::SIGTERM);
    c.wait_exit(PROMPT);
}

/// The rows of `schema<n>.counted` as `type|value` lines, or None while the table is missing.
fn counted(pg: &PgCluster, n: i32) -> Option<String> {
    pg.psql(
        "postgres",
        &format!("SELECT type, value FROM schema{n}.counted ORDER BY type"),
    )
    .ok()
}

#[test]
fn worker_spi_like_folds_deltas_on_sighup() {
    let pg = PgCluster::start("wspi", &[], &[]);
    let c = Setup::new()
        .preload(&["worker_spi_like"])
        // A long naptime: only the SIGHUP can make the fold happen within the test.
        .c("worker_spi_like.naptime=3600")
        .c(&conninfo(&pg))
        .start();
    for n in 1..=2 {
        c.wait_for_log(
            &format!("worker_spi_like worker {n} initialized with schema{n}.counted"),
            PROMPT,
        );
        wait_until(&format!("schema{n}.counted exists"), PROMPT, || {
            counted(&pg, n).is_some()
        });
    }
    sql(
        &pg,
        "INSERT INTO schema1.counted VALUES ('total', 0), ('delta', 1)",
    );
    sql(
        &pg,
        "INSERT INTO schema2.counted VALUES ('total', 10), ('delta', 2), ('delta', 3)",
    );
    c.signal(libc::SIGHUP);
    c.wait_for_log(
        "worker_spi_like worker 1: count in schema1.counted is now 1",
        PROMPT,
    );
    c.wait_for_log(
        "worker_spi_like worker 2: count in schema2.counted is now 15",
        PROMPT,
    );
    assert_eq!(counted(&pg, 1).as_deref(), Some("total|1"));
    assert_eq!(counted(&pg, 2).as_deref(), Some("total|15"));
    // The workers' sessions carry their bgw_type.
    assert_eq!(
        sql(
            &pg,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'worker_spi_like'"
        ),
        "2"
    );
}

/// worker_spi_like started as a dynamic worker with `bgworkerctl launch` (the way worker_spi's
/// `worker_spi_launch()` does), then the database server restarted under it: the worker's
/// statement fails, it exits 1, is restarted after its restart time, keeps failing to connect
/// while the server is down, and once the server is back it reconnects and folds again.
#[test]
fn dynamic_worker_spi_like_survives_a_server_restart() {
    let pg = PgCluster::start("wspidyn", &[], &[]);
    build_module("worker_spi_like");
    let c = Setup::new()
        .c("worker_spi_like.naptime=1")
        .c(&conninfo(&pg))
        .start();
    let launched = bgworkerctl(
        &c.datadir,
        &[
            "launch",
            "--library",
            "worker_spi_like",
            "--function",
            "worker_spi_like_main",
            "--name",
            "worker_spi_like dynamic 3",
            "--type",
            "worker_spi_like",
            "--arg",
            "3",
            "--flags",
            "shmem,db",
            "--restart-time",
            "1",
            "--wait",
        ],
    );
    assert_eq!(
        launched.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&launched.stderr)
    );
    c.wait_for_log(
        "worker_spi_like dynamic 3 initialized with schema3.counted",
        PROMPT,
    );
    wait_until("schema3.counted exists", PROMPT, || {
        counted(&pg, 3).is_some()
    });
    sql(
        &pg,
        "INSERT INTO schema3.counted VALUES ('total', 100), ('delta', 5)",
    );
    c.wait_for_log("count in schema3.counted is now 105", PROMPT);

    pg.stop();
    let down = c.log_len();
    // Its session is gone: the next fold fails, the worker exits 1 and is started again, and
    // cannot connect while the server is down.
    c.wait_for_log_since(down, "background worker \"worker_spi_like\" (PID", PROMPT);
    c.wait_for_log_since(
        down,
        "worker_spi_like FATAL:  could not connect to the database server",
        PROMPT,
    );
    let initialized_before = c.count_log("worker_spi_like dynamic 3 initialized");
    pg.start_server(&[]);
    let back = c.log_len();
    wait_until("the worker reconnects", PROMPT, || {
        c.count_log("worker_spi_like dynamic 3 initialized") > initialized_before
    });
    sql(&pg, "INSERT INTO schema3.counted VALUES ('delta', 7)");
    c.wait_for_log_since(back, "count in schema3.counted is now 112", PROMPT);
    assert_eq!(counted(&pg, 3).as_deref(), Some("total|112"));
    // The supervisor kept the worker registered throughout.
    let status = bgworkerctl(&c.datadir, &["status", "--wide"]);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("worker_spi_like dynamic 3"),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
}
