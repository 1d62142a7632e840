//! Error handling, interrupts, exit callbacks and timestamps (issue 4), each scenario run twice:
//! with the module built against our headers, and built with PGXS against PostgreSQL 15's. The
//! observable results must be the same — that is what "drop-in" means.

mod common;

use common::*;

fn probe(headers: Headers, modes: &str) -> Cluster {
    Setup::new()
        .env("ERRORS_PROBE", modes)
        .module_built_with("errors_probe", headers)
        .start()
}

const BOTH: [Headers; 2] = [Headers::Ours, Headers::Postgres];

#[test]
fn pg_try_catches_an_error_and_copies_it() {
    for h in BOTH {
        let c = probe(h, "catch");
        let line = c.wait_for_log("errors_probe catch: caught", PROMPT);
        assert!(
            line.contains("elevel=21 sqlstate=22023 message=\"bad value 42\" detail=\"The detail.\" hint=\"The hint.\" line=1"),
            "{h:?}: {line}"
        );
        c.wait_for_log("errors_probe catch: after the catch", PROMPT);
        c.wait_for_log("background worker \"errors_probe\"", PROMPT);
        assert!(
            c.log_text().contains("exited with exit code 0"),
            "{h:?}: recovered, then exit 0"
        );
        assert_eq!(
            c.count_log("ERROR:  bad value 42"),
            0,
            "{h:?}: a caught error is not logged"
        );
    }
}

#[test]
fn finally_runs_and_the_error_reaches_the_outer_handler() {
    for h in BOTH {
        let c = probe(h, "nested");
        let line = c.wait_for_log("errors_probe nested: outer caught", PROMPT);
        assert!(
            line.contains("\"inner failure\" finally=1"),
            "{h:?}: {line}"
        );
    }
}

#[test]
fn emit_error_report_logs_the_error_being_handled() {
    for h in BOTH {
        let c = probe(h, "emit");
        c.wait_for_log("ERROR:  reported from the handler", PROMPT);
        c.wait_for_log("errors_probe emit: continued", PROMPT);
    }
}

#[test]
fn rethrow_error_throws_a_copy_again() {
    for h in BOTH {
        let c = probe(h, "rethrow");
        let line = c.wait_for_log("errors_probe rethrow: outer saw", PROMPT);
        assert!(
            line.contains("\"first throw, thrown again\""),
            "{h:?}: {line}"
        );
    }
}

#[test]
fn error_context_callbacks_add_a_context_line() {
    for h in BOTH {
        let c = probe(h, "context");
        c.wait_for_log(
            "WARNING:  errors_probe context: a warning with context",
            PROMPT,
        );
        c.wait_for_log("CONTEXT:  while probing the context", PROMPT);
    }
}

#[test]
fn uncaught_error_is_logged_and_exits_1() {
    for h in BOTH {
        let c = probe(h, "uncaught");
        c.wait_for_log("ERROR:  uncaught failure", PROMPT);
        c.wait_for_log("DETAIL:  Nobody catches this.", PROMPT);
        c.wait_for_log("exited with exit code 1", PROMPT);
    }
}

#[test]
fn error_in_a_critical_section_is_a_panic() {
    for h in BOTH {
        let c = probe(h, "critical");
        c.wait_for_log("PANIC:  error inside a critical section", PROMPT);
        c.wait_for_log("was terminated by signal 6", PROMPT);
        c.wait_for_log("terminating any other active server processes", PROMPT);
    }
}

#[test]
fn log_min_messages_filters_levels() {
    for h in BOTH {
        let c = Setup::new()
            .env("ERRORS_PROBE", "levels")
            .module_built_with("errors_probe", h)
            .c("log_min_messages=warning")
            .start();
        c.wait_for_log("errors_probe levels: done", PROMPT);
        let log = c.log_text();
        for shown in [
            "LOG:  errors_probe levels: log line",
            "WARNING:  errors_probe levels: warning line",
            "errors_probe levels: 1 file",
            "errors_probe levels: 3 files",
        ] {
            assert!(log.contains(shown), "{h:?}: {shown} missing");
        }
        for hidden in ["debug1 line", "info line", "notice line"] {
            assert!(
                !log.contains(hidden),
                "{h:?}: {hidden} should be filtered at warning"
            );
        }
    }
}

#[test]
fn die_ends_the_worker_at_the_next_check_for_interrupts() {
    for h in BOTH {
        let c = probe(h, "die");
        let line = c.wait_for_log("errors_probe die: waiting", PROMPT);
        let pid = log_pid(&line).unwrap();
        send_signal(pid, libc::SIGTERM);
        c.wait_for_log(
            "FATAL:  terminating background worker \"errors_probe\" due to administrator command",
            PROMPT,
        );
        c.wait_for_log(&format!("(PID {pid}) exited with exit code 1"), PROMPT);
    }
}

#[test]
fn held_interrupts_wait_until_resumed() {
    for h in BOTH {
        let c = probe(h, "hold");
        let line = c.wait_for_log("errors_probe hold: holding", PROMPT);
        let pid = log_pid(&line).unwrap();
        send_signal(pid, libc::SIGTERM);
        c.wait_for_log("errors_probe hold: still alive with die pending", PROMPT);
        c.wait_for_log("due to administrator command", PROMPT);
        assert_eq!(c.count_log("not reached"), 0, "{h:?}");
    }
}

#[test]
fn cancel_raises_an_error_that_can_be_caught() {
    for h in BOTH {
        let c = probe(h, "cancel");
        let line = c.wait_for_log("errors_probe cancel: waiting", PROMPT);
        send_signal(log_pid(&line).unwrap(), libc::SIGINT);
        c.wait_for_log(
            "errors_probe cancel: caught \"canceling statement due to user request\"",
            PROMPT,
        );
    }
}

#[test]
fn shutdown_and_reload_handlers_set_their_flags() {
    for h in BOTH {
        let c = probe(h, "shutdown,reload");
        let s = c.wait_for_log("errors_probe shutdown: waiting", PROMPT);
        let r = c.wait_for_log("errors_probe reload: waiting", PROMPT);
        send_signal(log_pid(&s).unwrap(), libc::SIGTERM);
        send_signal(log_pid(&r).unwrap(), libc::SIGHUP);
        c.wait_for_log(
            "errors_probe shutdown: flag seen shutdown=1 reload=0",
            PROMPT,
        );
        c.wait_for_log("errors_probe reload: flag seen shutdown=0 reload=1", PROMPT);
    }
}

#[test]
fn exit_callbacks_run_newest_first_and_can_be_cancelled() {
    for h in BOTH {
        let c = probe(h, "callbacks");
        c.wait_for_log("exited with exit code 0", PROMPT);
        let order: Vec<i32> = c
            .lines_with(&["errors_probe callbacks: exit callback"])
            .iter()
            .map(|l| field_i32(l, "callback ").unwrap())
            .collect();
        // before_shmem_exit (3; 4 was cancelled), then on_shmem_exit (2), then on_proc_exit (1).
        assert_eq!(order, vec![3, 2, 1], "{h:?}");
    }
}

#[test]
fn timestamps_are_microseconds_since_2000_and_differences_round_up() {
    for h in BOTH {
        let c = probe(h, "timestamps");
        let line = c.wait_for_log("errors_probe timestamps: now_s=", PROMPT);
        let now_s = field_str(&line, "now_s=").unwrap().parse::<i64>().unwrap();
        let unix_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((unix_now - 946_684_800 - now_s).abs() < 60, "{h:?}: {line}");
        assert!(
            line.contains("diff_ms=2 neg=0 secs=2 usecs=500001 exceeds=1,0"),
            "{h:?}: {line}"
        );
    }
}

#[test]
fn wait_events_and_activity_show_in_status() {
    for h in BOTH {
        let c = probe(h, "waitevent");
        c.wait_for_log("errors_probe waitevent: waiting", PROMPT);
        let mut out = String::new();
        wait_until("status shows the wait event", PROMPT, || {
            let o = bgworkerctl(&c.datadir, &["status", "--json"]);
            out = String::from_utf8_lossy(&o.stdout).into_owned();
            out.contains("\"wait_event\":\"Extension\"")
        });
        assert!(
            out.contains("\"activity\":\"probing wait events\""),
            "{h:?}: {out}"
        );
    }
}
