//! Database connections (CONN-1..6) against a throwaway PostgreSQL 15 cluster: the worker's
//! connection shows in the server's `pg_stat_activity` under its `bgw_type`; a missing
//! registration flag, a second call, an unknown database or role, and a database refusing
//! connections are FATAL (exit 1) with the server's message; `...ByOid` resolves through the
//! catalog; no connection outlives its worker (1,000 short workers in a row;
//! `DB_CYCLES=N` changes the count).

mod common;

use common::pg::PgCluster;
use common::*;
use std::time::{Duration, Instant};

const DB: i32 = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;

fn conninfo(pg: &PgCluster) -> String {
    format!(
        "database_conninfo=host={} port={} user=postgres",
        pg.socket_dir.display(),
        pg.port
    )
}

/// A `db_probe` worker of type `type_` doing `extra` (see c_tests/modules/db_probe.c).
fn db_worker(name: &str, type_: &str, extra: &str) -> Worker {
    build_module("db_probe");
    Worker::new(name)
        .type_(type_)
        .flags(DB)
        .start(START_RECOVERY_FINISHED)
        .lib("db_probe")
        .func("db_probe_main")
        .mode(extra)
}

fn sql(pg: &PgCluster, db: &str, q: &str) -> String {
    pg.psql(db, q)
        .unwrap_or_else(|e| panic!("psql {q:?} failed: {e}"))
}

/// `application_name = app` sessions in the server, as `datname|usename|application_name` lines.
fn sessions(pg: &PgCluster, app: &str) -> String {
    sql(
        pg,
        "postgres",
        &format!(
            "SELECT datname, usename, application_name FROM pg_stat_activity \
             WHERE application_name = '{app}' ORDER BY pid"
        ),
    )
}

fn wait_sessions(pg: &PgCluster, app: &str, want: &str) {
    let deadline = Instant::now() + PROMPT;
    loop {
        let got = sessions(pg, app);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pg_stat_activity for {app:?}: {got:?}, expected {want:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fatal_line(c: &Cluster, type_: &str, text: &str) -> String {
    c.wait_for_log(&format!("{type_} FATAL:  {text}"), PROMPT)
}

#[test]
fn a_connected_worker_is_visible_in_pg_stat_activity_and_gone_after_it() {
    let pg = PgCluster::start("dbvis", &[], &[]);
    sql(&pg, "postgres", "CREATE DATABASE appdb");
    let mut c = Setup::new()
        .worker(db_worker("dbvis1", "dbvis", "idle:appdb:-"))
        .worker(db_worker("dbdef1", "dbdefault", "idle:-:-"))
        .c(&conninfo(&pg))
        .start();
    c.wait_for_log("db_probe connected", PROMPT);
    wait_sessions(&pg, "dbvis", "appdb|postgres|dbvis");
    // NULL database: the server's `postgres`.
    wait_sessions(&pg, "dbdefault", "postgres|postgres|dbdefault");
    // Sleeping with PG_WAIT_EXTENSION on our side: the server sees an idle session.
    assert_eq!(
        sql(
            &pg,
            "postgres",
            "SELECT state FROM pg_stat_activity WHERE application_name = 'dbvis'"
        ),
        "idle"
    );
    c.signal(libc::SIGTERM);
    let st = c.wait_exit(PROMPT);
    assert_eq!(exit_code(&st), Some(0));
    wait_sessions(&pg, "dbvis", "");
    wait_sessions(&pg, "dbdefault", "");
    // A clean close (Terminate message): the server saw no broken connection.
    assert!(
        !pg.log_text().contains("unexpected EOF"),
        "{}",
        pg.log_text()
    );
}

#[test]
fn without_the_registration_flag_connecting_is_fatal() {
    let pg = PgCluster::start("dbflag", &[], &[]);
    let c = Setup::new()
        .worker(
            db_worker("noflag1", "noflag", "idle:postgres:-")
                .flags(BGWORKER_SHMEM_ACCESS)
                .restart(BGW_NEVER_RESTART),
        )
        .c(&conninfo(&pg))
        .start();
    fatal_line(
        &c,
        "noflag",
        "database connection requirement not indicated during registration",
    );
    wait_until("exit 1", PROMPT, || !exit_lines(&c, "noflag", 1).is_empty());
    assert_eq!(c.count_log("db_probe connected"), 0);
    assert_eq!(sessions(&pg, "noflag"), "");
}

#[test]
fn a_second_call_is_a_clean_fatal_and_disturbs_nothing_else() {
    let pg = PgCluster::start("dbtwice", &[], &[]);
    let c = Setup::new()
        .worker(db_worker("twice1", "twice", "twice:postgres").restart(BGW_NEVER_RESTART))
        .worker(db_worker("calm1", "calm", "idle:postgres:-"))
        .c(&conninfo(&pg))
        .start();
    let line = fatal_line(
        &c,
        "twice",
        "BackgroundWorkerInitializeConnection called more than once",
    );
    assert!(line.contains("already initialized"), "{line}");
    wait_until("exit 1", PROMPT, || !exit_lines(&c, "twice", 1).is_empty());
    assert_eq!(c.count_log("db_probe second call returned"), 0);
    // No crash-restart: the other worker keeps its one connection.
    wait_sessions(&pg, "calm", "postgres|postgres|calm");
    observe_window(Duration::from_millis(500));
    assert_eq!(
        c.count_log("terminating any other active server processes"),
        0
    );
    assert_eq!(c.count_log("db_probe \"calm1\" started"), 1);
    wait_sessions(&pg, "twice", "");
}

#[test]
fn an_unknown_database_is_fatal_with_the_server_message_and_restarted() {
    let pg = PgCluster::start("dbunknown", &[], &[]);
    let c = Setup::new()
        .worker(db_worker("nodb1", "nodb", "idle:nosuchdb:-").restart(1))
        .c(&conninfo(&pg))
        .start();
    fatal_line(&c, "nodb", "database \"nosuchdb\" does not exist");
    let lines = c.wait_for_log_count("db_probe \"nodb1\" started", 2, PROMPT);
    let gap = log_time_ms(&lines[1]) - log_time_ms(&lines[0]);
    assert!(
        gap >= 900,
        "restarted after its restart time (1 s), not {gap} ms"
    );
    assert!(!exit_lines(&c, "nodb", 1).is_empty());
}

#[test]
fn an_unknown_role_is_fatal() {
    let pg = PgCluster::start("dbrole", &[], &[]);
    let c = Setup::new()
        .worker(
            db_worker("norole1", "norole", "idle:postgres:nosuchrole").restart(BGW_NEVER_RESTART),
        )
        .c(&conninfo(&pg))
        .start();
    fatal_line(&c, "norole", "role \"nosuchrole\" does not exist");
    wait_until("exit 1", PROMPT, || !exit_lines(&c, "norole", 1).is_empty());
}

#[test]
fn a_server_that_is_down_is_fatal() {
    let pg = PgCluster::start("dbdown", &[], &[]);
    let info = format!(
        "database_conninfo=host={} port={} user=postgres",
        pg.socket_dir.display(),
        pg.port + 1
    );
    let c = Setup::new()
        .worker(db_worker("down1", "down", "idle:postgres:-").restart(BGW_NEVER_RESTART))
        .c(&info)
        .start();
    fatal_line(&c, "down", "could not connect to the database server");
    // libpq's own lines, each as it wrote it, as DETAIL; a hint about the setting.
    let detail = c.wait_for_log("down DETAIL:  connection to server on socket", PROMPT);
    assert!(detail.contains("No such file or directory"), "{detail}");
    c.wait_for_log(
        "down HINT:  Check that the server database_conninfo names is running",
        PROMPT,
    );
    wait_until("exit 1", PROMPT, || !exit_lines(&c, "down", 1).is_empty());
}

#[test]
fn with_database_conninfo_empty_and_no_server_the_fatal_names_the_setting() {
    // No server where libpq's defaults point (a socket directory with nothing in it).
    let dir = fresh_temp_dir("no-server");
    let c = Setup::new()
        .worker(db_worker("nodefault1", "nodefault", "idle:postgres:-").restart(BGW_NEVER_RESTART))
        .env("PGHOST", dir.to_str().unwrap())
        .env("PGPORT", "1")
        .start();
    fatal_line(&c, "nodefault", "could not connect to the database server");
    let hint = c.wait_for_log("nodefault HINT:  database_conninfo is empty", PROMPT);
    assert!(
        hint.contains("set database_conninfo in bgworker.conf"),
        "{hint}"
    );
    // libpq's multi-line message: its lines kept apart, not run together.
    let detail = c.wait_for_log("nodefault DETAIL:  connection to server on socket", PROMPT);
    let lines = c.log_lines();
    let at = lines.iter().position(|l| *l == detail).unwrap();
    assert!(
        lines[at + 1]
            .trim_start()
            .starts_with("Is the server running locally"),
        "the second line of libpq's message is its own line: {:?}",
        &lines[at..at + 2]
    );
    wait_until("exit 1", PROMPT, || {
        !exit_lines(&c, "nodefault", 1).is_empty()
    });
}

#[test]
fn by_oid_resolves_through_the_catalog() {
    let pg = PgCluster::start("dboid", &[], &[]);
    sql(&pg, "postgres", "CREATE DATABASE oiddb");
    sql(&pg, "postgres", "CREATE ROLE worker_role LOGIN");
    let dboid = sql(
        &pg,
        "postgres",
        "SELECT oid FROM pg_database WHERE datname = 'oiddb'",
    );
    let roleoid = sql(
        &pg,
        "postgres",
        "SELECT oid FROM pg_roles WHERE rolname = 'worker_role'",
    );
    let c = Setup::new()
        .worker(db_worker(
            "byoid1",
            "byoid",
            &format!("byoid:{dboid}:{roleoid}"),
        ))
        .worker(db_worker("byoid2", "byoiddefault", "byoid:0:0"))
        .worker(db_worker("byoid3", "byoidmissing", "byoid:4242424:0").restart(BGW_NEVER_RESTART))
        .c(&conninfo(&pg))
        .start();
    wait_sessions(&pg, "byoid", "oiddb|worker_role|byoid");
    wait_sessions(&pg, "byoiddefault", "postgres|postgres|byoiddefault");
    fatal_line(&c, "byoidmissing", "database 4242424 does not exist");
    // The short-lived look-up connections are gone.
    wait_until("only the two workers' sessions", PROMPT, || {
        sql(
            &pg,
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'byoid%'",
        ) == "2"
    });
}

#[test]
fn bypass_allowconn_cannot_bypass_datallowconn() {
    let pg = PgCluster::start("dballow", &[], &[]);
    sql(&pg, "postgres", "CREATE DATABASE closeddb");
    sql(
        &pg,
        "postgres",
        "ALTER DATABASE closeddb ALLOW_CONNECTIONS false",
    );
    let c = Setup::new()
        .worker(db_worker("bypass1", "bypass", "bypass:closeddb").restart(BGW_NEVER_RESTART))
        .worker(db_worker("plain1", "plainclosed", "idle:closeddb:-").restart(BGW_NEVER_RESTART))
        .c(&conninfo(&pg))
        .start();
    let line = fatal_line(
        &c,
        "bypass",
        "database \"closeddb\" is not currently accepting connections",
    );
    assert!(line.contains("cannot bypass datallowconn"), "{line}");
    // Without the flag: the server's own message.
    let plain = fatal_line(
        &c,
        "plainclosed",
        "database \"closeddb\" is not currently accepting connections",
    );
    assert!(!plain.contains("bypass"), "{plain}");
    wait_until("both exit 1", PROMPT, || {
        !exit_lines(&c, "bypass", 1).is_empty() && !exit_lines(&c, "plainclosed", 1).is_empty()
    });
    // Server state untouched.
    assert_eq!(
        sql(
            &pg,
            "postgres",
            "SELECT datallowconn FROM pg_database WHERE datname = 'closeddb'"
        ),
        "f"
    );
}

#[test]
fn transactions_snapshots_and_quoting() {
    let pg = PgCluster::start("dbxact", &[], &[]);
    let c = Setup::new()
        .worker(db_worker("xact1", "xact", "xact:postgres"))
        .c(&conninfo(&pg))
        .start();
    let expect = [
        "db_probe xact: in transaction 1",
        "db_probe xact: snapshot non-null",
        "db_probe xact: active 1",
        "db_probe xact: after commit 0",
        "db_probe xact: pop without push caught: PopActiveSnapshot: no active snapshot",
        "db_probe xact: start twice caught: StartTransactionCommand: a transaction is already in progress",
        "db_probe xact: after abort 0",
        "db_probe xact: commit outside caught: CommitTransactionCommand: no transaction is in progress",
        "db_probe xact: snapshot outside caught: GetTransactionSnapshot: no transaction is in progress",
        "db_probe xact: ident counted \"Mixed Case\" \"select\" \"a\"\"b\"",
        "db_probe xact: literal 'it''s' E'back\\\\slash'",
        "db_probe xact: debug_query_string NULL",
    ];
    for e in expect {
        c.wait_for_log(e, PROMPT);
    }
    // BEGIN and COMMIT went to the server and nothing stayed open.
    wait_until("the session is idle, not in a transaction", PROMPT, || {
        sql(
            &pg,
            "postgres",
            "SELECT state FROM pg_stat_activity WHERE application_name = 'xact'",
        ) == "idle"
    });
}

#[test]
fn short_db_workers_in_a_row_leave_no_connection_behind() {
    let n: i32 = std::env::var("DB_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let pg = PgCluster::start("dbcycle", &[], &[]);
    let c = Setup::new()
        .worker(
            db_worker("cycle1", "dbcycle", "cycle:postgres")
                .restart(0)
                .arg(n),
        )
        .c(&conninfo(&pg))
        .start();
    let timeout = Duration::from_secs(30 + n as u64 / 10);
    c.wait_for_log(&format!("db_probe cycle {n}"), timeout);
    wait_until("the last run exited 0", PROMPT, || {
        !exit_lines(&c, "dbcycle", 0).is_empty()
    });
    assert_eq!(c.count_log("db_probe connected"), n as usize);
    wait_sessions(&pg, "dbcycle", "");
    assert_eq!(
        sql(
            &pg,
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
             AND application_name <> 'psql'"
        ),
        "0"
    );
}

#[test]
fn a_worker_killed_inside_a_transaction_leaves_no_session() {
    let pg = PgCluster::start("dbkill", &[], &[]);
    let c = Setup::new()
        .worker(db_worker("begin1", "dbbegin", "begin:postgres").restart(BGW_NEVER_RESTART))
        .c(&conninfo(&pg))
        .start();
    c.wait_for_log("db_probe begin: in transaction", PROMPT);
    let pid = c.wait_for_worker_process("begin1", PROMPT);
    wait_sessions(&pg, "dbbegin", "postgres|postgres|dbbegin");
    assert_eq!(
        sql(
            &pg,
            "postgres",
            "SELECT state FROM pg_stat_activity WHERE application_name = 'dbbegin'"
        ),
        "idle in transaction"
    );
    send_signal(pid, libc::SIGKILL);
    // The kernel closes the socket; the server rolls back and ends the session.
    wait_sessions(&pg, "dbbegin", "");
}

#[test]
fn a_worker_killed_after_an_uncommitted_insert_leaves_no_row() {
    let pg = PgCluster::start("dbpartial", &[], &[]);
    sql(&pg, "postgres", "CREATE TABLE killed_mid_xact (v int)");
    let c = Setup::new()
        .worker(db_worker("insert1", "dbinsert", "insert:postgres").restart(BGW_NEVER_RESTART))
        .c(&conninfo(&pg))
        .start();
    c.wait_for_log("db_probe insert: 2 rows pending (ret 7)", PROMPT);
    let pid = c.wait_for_worker_process("insert1", PROMPT);
    send_signal(pid, libc::SIGKILL);
    wait_sessions(&pg, "dbinsert", "");
    assert_eq!(
        sql(&pg, "postgres", "SELECT count(*) FROM killed_mid_xact"),
        "0"
    );
}
