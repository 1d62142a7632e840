//! Custom settings (DefineCustom*Variable): boot values, -c and file values given before the
//! definition, units, enums, check hooks, GetConfigOption, reserved prefixes, and a worker's
//! ProcessConfigFile after SIGHUP (restart-only variables keep their value). The module is
//! c_tests/modules/settings_probe.c; its worker logs `settings[N]:` and `getconfig[N]:` lines.

mod common;

use common::*;
use std::fs;
use std::time::Duration;

const MODULE: &str = "settings_probe";

fn settings(n: usize) -> String {
    format!("settings[{n}]: ")
}

fn getconfig(n: usize) -> String {
    format!("getconfig[{n}]: ")
}

/// The worker's `settings[n]` line (waits for it).
fn values(c: &Cluster, n: usize) -> String {
    c.wait_for_log(&settings(n), PROMPT)
}

fn assert_has(line: &str, parts: &[&str]) {
    for p in parts {
        assert!(line.contains(&format!(" {p}")), "expected {p:?} in: {line}");
    }
}

/// Appends `lines` to DATADIR/bgworker.conf, sends SIGHUP to the supervisor and returns the
/// worker's next `settings[n]` line.
fn reload_with(c: &Cluster, lines: &[&str], n: usize) -> String {
    let path = c.datadir.join("bgworker.conf");
    let mut text = fs::read_to_string(&path).expect("read bgworker.conf");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    fs::write(&path, text).expect("write bgworker.conf");
    c.signal(libc::SIGHUP);
    values(c, n)
}

fn start() -> Setup {
    Setup::new().preload(&[MODULE])
}

#[test]
fn defaults_are_the_boot_values() {
    let c = start().start();
    let v = values(&c, 0);
    assert_has(
        &v,
        &[
            "naptime=1000",
            "interval=10",
            "slots=2",
            "verbose=off",
            "ratio=0.5",
            "label=none",
            "mode=fast",
            "even=2",
        ],
    );
    assert!(
        log_source(&v).as_deref() == Some("settings probe"),
        "logged by the worker: {v}"
    );
}

#[test]
fn command_line_sets_custom_variables() {
    let c = start()
        .c("sprobe.naptime=250")
        .c("sprobe.verbose=yes")
        .c("sprobe.label=from -c")
        .start();
    assert_has(
        &values(&c, 0),
        &["naptime=250", "verbose=on", "label=from -c"],
    );
}

#[test]
fn settings_file_sets_custom_variables_and_c_wins() {
    let c = start()
        .conf("sprobe.label = 'from file'")
        .conf("sprobe.ratio = 0.25")
        .conf("sprobe.slots = 7")
        .conf("sprobe.naptime = 400")
        .c("sprobe.naptime=300")
        .start();
    assert_has(
        &values(&c, 0),
        &["label=from file", "ratio=0.25", "slots=7", "naptime=300"],
    );
}

#[test]
fn placeholder_is_applied_when_a_worker_loads_the_library() {
    // Only `probe` is preloaded: settings_probe is loaded by the worker, which defines the
    // variables there and finds the file's value waiting as a placeholder.
    build_module(MODULE);
    let c = Setup::new()
        .worker(
            Worker::new("late")
                .type_("settings probe")
                .lib(MODULE)
                .func("settings_probe_main"),
        )
        .conf("sprobe.naptime = '3s'")
        .conf("sprobe.mode = slow")
        .start();
    let v = values(&c, 0);
    assert_has(&v, &["naptime=3000", "mode=slow", "slots=-1"]);
    let g = c.wait_for_log(&getconfig(0), PROMPT);
    assert_has(&g, &["naptime=3000"]);
}

#[test]
fn units_are_parsed_and_shown() {
    let c = start()
        .conf("sprobe.naptime = '5s'")
        .c("sprobe.interval=2min")
        .start();
    assert_has(&values(&c, 0), &["naptime=5000", "interval=120"]);
    let g = c.wait_for_log(&getconfig(0), PROMPT);
    // GetConfigOption gives the number in the base unit; GetConfigOptionByName shows units.
    assert_has(&g, &["naptime=5000", "byname=sprobe.naptime/5s"]);

    let c = start()
        .c("sprobe.naptime=100ms")
        .c("sprobe.interval=1 h")
        .start();
    assert_has(&values(&c, 0), &["naptime=100", "interval=3600"]);
}

#[test]
fn bad_value_before_definition_keeps_the_default() {
    let c = start()
        .conf("sprobe.naptime = 'soon'")
        .conf("sprobe.interval = '5 parsecs'")
        .c("sprobe.ratio=2")
        .start();
    assert_has(
        &values(&c, 0),
        &["naptime=1000", "interval=10", "ratio=0.5"],
    );
    // As PostgreSQL: a WARNING when the module defines the setting, and its default kept.
    c.wait_for_log(
        "WARNING:  invalid value for parameter \"sprobe.naptime\": \"soon\"",
        PROMPT,
    );
    c.wait_for_log(
        "WARNING:  invalid value for parameter \"sprobe.interval\": \"5 parsecs\"",
        PROMPT,
    );
    c.wait_for_log(
        "HINT:  Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".",
        PROMPT,
    );
    c.wait_for_log(
        "2 is outside the valid range for parameter \"sprobe.ratio\" (0 .. 1)",
        PROMPT,
    );
}

#[test]
fn sighup_reload_reaches_the_worker() {
    let c = start().start();
    assert_has(&values(&c, 0), &["naptime=1000", "label=none"]);
    let v = reload_with(
        &c,
        &[
            "sprobe.naptime = '100ms'",
            "sprobe.label = 'reloaded'",
            "sprobe.mode = SLOW",
        ],
        1,
    );
    assert_has(&v, &["naptime=100", "label=reloaded", "mode=slow"]);
    let g = c.wait_for_log(&getconfig(1), PROMPT);
    assert_has(
        &g,
        &[
            "naptime=100",
            "label=reloaded",
            "byname=sprobe.naptime/100ms",
        ],
    );
    c.wait_for_log("parameter \"sprobe.naptime\" changed to \"100ms\"", PROMPT);

    // A line taken out of the file puts the variable back to its default.
    let path = c.datadir.join("bgworker.conf");
    let text = fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("sprobe.label"))
        .collect();
    fs::write(&path, kept.join("\n") + "\n").unwrap();
    c.signal(libc::SIGHUP);
    assert_has(&values(&c, 2), &["naptime=100", "label=none"]);
    c.wait_for_log(
        "parameter \"sprobe.label\" removed from configuration file, reset to default",
        PROMPT,
    );
}

#[test]
fn postmaster_variable_keeps_its_value_on_reload() {
    let c = start().start();
    assert_has(&values(&c, 0), &["slots=2"]);
    let v = reload_with(&c, &["sprobe.slots = 5", "sprobe.naptime = 200"], 1);
    assert_has(&v, &["slots=2", "naptime=200"]);
    c.wait_for_log(
        "parameter \"sprobe.slots\" cannot be changed without restarting the server",
        PROMPT,
    );
}

#[test]
fn bad_values_on_reload_are_logged_and_the_old_value_kept() {
    let c = start().c("sprobe.even=4").start();
    assert_has(&values(&c, 0), &["even=4"]);
    let v = reload_with(
        &c,
        &[
            "sprobe.naptime = 'abc'",
            "sprobe.interval = 100000",
            "sprobe.label = 'forbidden'",
            "sprobe.verbose = maybe",
            "sprobe.ratio = 0.75",
        ],
        1,
    );
    assert_has(
        &v,
        &[
            "naptime=1000",
            "interval=10",
            "label=none",
            "verbose=off",
            "ratio=0.75",
        ],
    );
    for line in [
        "invalid value for parameter \"sprobe.naptime\": \"abc\"",
        "100000 s is outside the valid range for parameter \"sprobe.interval\" (1 .. 86400)",
        "invalid value for parameter \"sprobe.label\": \"forbidden\"",
        "parameter \"sprobe.verbose\" requires a Boolean value",
        "contains errors; unaffected changes were applied",
    ] {
        c.wait_for_log(line, PROMPT);
    }
}

#[test]
fn check_hook_refusal_keeps_the_old_value_and_says_why() {
    let c = start().start();
    assert_has(&values(&c, 0), &["even=2"]);
    let v = reload_with(&c, &["sprobe.even = 3"], 1);
    assert_has(&v, &["even=2"]);
    c.wait_for_log("invalid value for parameter \"sprobe.even\": 3", PROMPT);
    c.wait_for_log("DETAIL:  sprobe.even must be even, not 3.", PROMPT);

    // Refused before the definition too: the default stays.
    let c = start()
        .c("sprobe.even=5")
        .c("sprobe.label=forbidden")
        .start();
    assert_has(&values(&c, 0), &["even=2", "label=none"]);
    c.wait_for_log("invalid value for parameter \"sprobe.even\": 5", PROMPT);
    c.wait_for_log(
        "invalid value for parameter \"sprobe.label\": \"forbidden\"",
        PROMPT,
    );
}

#[test]
fn enum_values_ignore_case_and_accept_hidden_entries() {
    let c = start().c("sprobe.mode=SLOW").start();
    assert_has(&values(&c, 0), &["mode=slow"]);
    let c = start().c("sprobe.mode=Legacy").start();
    assert_has(&values(&c, 0), &["mode=legacy"]);
    let g = c.wait_for_log(&getconfig(0), PROMPT);
    assert_has(&g, &["mode=legacy"]);

    let c = start().c("sprobe.mode=turbo").start();
    assert_has(&values(&c, 0), &["mode=fast"]);
    c.wait_for_log(
        "invalid value for parameter \"sprobe.mode\": \"turbo\"",
        PROMPT,
    );
    // The hidden entry is not offered.
    c.wait_for_log("HINT:  Available values: fast, slow.", PROMPT);
}

#[test]
fn get_config_option_reads_core_and_custom_settings() {
    let c = start()
        .c("max_worker_processes=12")
        .c("sprobe.label=hello")
        .start();
    let g = c.wait_for_log(&getconfig(0), PROMPT);
    assert_has(
        &g,
        &[
            "max_worker_processes=12",
            "naptime=1000",
            "label=hello",
            "mode=fast",
            "typo=(null)",
            "byname=sprobe.naptime/1s",
        ],
    );
}

#[test]
fn reserved_prefix_removes_undefined_placeholders() {
    let c = start()
        .conf("sprobe.typo = 1")
        .conf("other.setting = 2")
        .start();
    let warning = c.wait_for_log(
        "WARNING:  invalid configuration parameter name \"sprobe.typo\", removing it",
        PROMPT,
    );
    assert_eq!(log_source(&warning).as_deref(), Some("postmaster"));
    c.wait_for_log("DETAIL:  \"sprobe\" is now a reserved prefix.", PROMPT);
    // Other prefixes keep their placeholders; the removed one is gone for the worker.
    assert_eq!(c.count_log("\"other.setting\""), 0);
    let g = c.wait_for_log(&getconfig(0), PROMPT);
    assert_has(&g, &["typo=(null)"]);

    // A reload does not bring it back.
    let before = c.log_len();
    c.signal(libc::SIGHUP);
    values(&c, 1);
    c.wait_for_log_since(
        before,
        "invalid configuration parameter name \"sprobe.typo\"",
        PROMPT,
    );
    c.wait_for_log_since(before, "\"sprobe\" is a reserved prefix.", PROMPT);
    let g = c.wait_for_log(&getconfig(1), PROMPT);
    assert_has(&g, &["typo=(null)"]);
}

#[test]
fn reload_with_nothing_changed_keeps_values() {
    let c = start().c("sprobe.naptime=2s").start();
    assert_has(&values(&c, 0), &["naptime=2000"]);
    c.signal(libc::SIGHUP);
    assert_has(&values(&c, 1), &["naptime=2000", "label=none"]);
    observe_window(Duration::from_millis(100));
    assert_eq!(c.count_log("changed to"), 0);
}
