//! Module loading (LOAD-3): the magic block is checked — our headers' and PostgreSQL 15's both
//! accepted, anything else refused by name — and `_PG_init` runs once per process per library.

mod common;

use common::*;
use std::process::Command;

fn build_variant(name: &str, out_name: &str, defines: &[&str]) -> std::path::PathBuf {
    let dir = fresh_temp_dir(&format!("variant-{out_name}"));
    let out = dir.join(format!("{out_name}.so"));
    let mut cmd = Command::new("cc");
    cmd.args([
        "-std=c11", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
    ])
    .arg(format!("-I{}", include_dir().display()))
    .args(defines)
    .arg("-o")
    .arg(&out)
    .arg(module_source(name));
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir
}

#[test]
fn other_major_version_is_refused_naming_library_and_versions() {
    let dir = build_variant("wrong_magic", "wrong_magic", &[]);
    let mut c = Setup::new()
        .preload(&[])
        .c("shared_preload_libraries=wrong_magic")
        .c(&format!("dynamic_library_path={}", dir.display()))
        .spawn();
    let st = c.wait_exit(PROMPT);
    assert_eq!(exit_code(&st), Some(1));
    let line = c.wait_for_log("FATAL:  incompatible library", PROMPT);
    assert!(line.contains("wrong_magic.so"), "{line}");
    assert!(line.contains("version mismatch"), "{line}");
    assert!(
        line.contains("server is version 15") && line.contains("library is version 14"),
        "{line}"
    );
    assert_eq!(c.count_log("_PG_init must not run"), 0);
}

#[test]
fn other_abi_is_refused_naming_it() {
    let dir = build_variant("wrong_magic", "wrong_abi", &["-DWRONG_ABI"]);
    let mut c = Setup::new()
        .preload(&[])
        .c("shared_preload_libraries=wrong_abi")
        .c(&format!("dynamic_library_path={}", dir.display()))
        .spawn();
    assert_eq!(exit_code(&c.wait_exit(PROMPT)), Some(1));
    let line = c.wait_for_log("FATAL:  incompatible library", PROMPT);
    assert!(
        line.contains("ABI mismatch") && line.contains("\"SomeFork\""),
        "{line}"
    );
}

#[test]
fn postgresql_built_module_is_accepted() {
    // The magic block PostgreSQL 15's PG_MODULE_MAGIC produces ("PostgreSQL" ABI) loads.
    let c = Setup::new()
        .env("ERRORS_PROBE", "levels")
        .module_built_with("errors_probe", Headers::Postgres)
        .start();
    c.wait_for_log("errors_probe levels: done", PROMPT);
}

#[test]
fn pg_init_runs_once_per_process_per_library() {
    let c = Setup::new().preload(&["init_once"]).start();
    let line = c.wait_for_log("init_once: _PG_init ran", PROMPT);
    assert!(
        line.contains("ran 1 time(s)"),
        "inherited from the supervisor, not run again: {line}"
    );
    assert_eq!(c.count_log("init_once: _PG_init call 1 in pid"), 1);
    assert_eq!(c.count_log("init_once: _PG_init call 2"), 0);
    assert!(c.log_text().contains("preload=1"));
}
