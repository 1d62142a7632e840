//! Acceptance: PostgreSQL 15's own src/test/modules/test_shm_mq, built unchanged with PGXS from
//! PostgreSQL's source, loads into bgworkerd; a worker of c_tests/modules/shm_mq_regress.c
//! (built against include/ and with PGXS) calls its functions test_shm_mq and
//! test_shm_mq_pipelined with every set of arguments of its regression script, and each returns
//! without error, as under PostgreSQL 15. Afterwards no DSM segment holds memory.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The directory where PostgreSQL's test_shm_mq (unchanged) and the driver, both built with
/// PGXS, lie. Once per test process.
fn pgxs_build() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new(repo_dir().join(".ci/pg-source.sh"))
            .output()
            .expect("run .ci/pg-source.sh");
        assert!(
            out.status.success(),
            "PostgreSQL's source is needed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let src = tree.join("src/test/modules/test_shm_mq");
        let dir = fresh_temp_dir("test_shm_mq");
        let status = Command::new("cp")
            .arg("-r")
            .arg(format!("{}/.", src.display()))
            .arg(&dir)
            .status()
            .expect("cp");
        assert!(status.success());
        make(&dir, &["USE_PGXS=1"]);
        for f in ["shm_mq_regress.c", "shm_mq_cases.h"] {
            std::fs::copy(repo_dir().join("c_tests/modules").join(f), dir.join(f)).unwrap();
        }
        std::fs::write(
            dir.join("Makefile.driver"),
            "MODULES = shm_mq_regress\nPG_CONFIG = pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n",
        )
        .unwrap();
        make(&dir, &["-f", "Makefile.driver"]);
        assert!(dir.join("test_shm_mq.so").exists());
        dir
    })
}

fn make(dir: &Path, args: &[&str]) {
    let out = Command::new("make")
        .arg("-s")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make {args:?} in {} failed:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A supervisor running the driver built against `headers`, with test_shm_mq beside it.
fn cluster(headers: Headers, rounds: u32) -> Cluster {
    let tsm = pgxs_build();
    let path = match headers {
        Headers::Postgres => tsm.display().to_string(),
        Headers::Ours => {
            build_module("shm_mq_regress");
            format!("{}:{}", modules_path().display(), tsm.display())
        }
    };
    Setup::new()
        .preload(&["shm_mq_regress"])
        .c(&format!("dynamic_library_path={path}"))
        .env("SHM_MQ_REGRESS_ROUNDS", &rounds.to_string())
        .start()
}

fn check(c: &Cluster, rounds: u32) {
    let total = 5 * rounds;
    c.wait_for_log(
        &format!("test_shm_mq regress: {total} of {total} calls passed"),
        Duration::from_secs(300),
    );
    let failed = c.lines_with(&["test_shm_mq regress: case", "failed"]);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    for case in 1..=5 {
        assert_eq!(
            c.lines_with(&[&format!("test_shm_mq regress: case {case} ok in ")])
                .len(),
            rounds as usize
        );
    }
    // Every worker test_shm_mq started left as it does under PostgreSQL (exit code 1).
    let workers = exit_lines(c, "test_shm_mq", 1).len();
    assert_eq!(
        workers,
        (1 + 1 + 1 + 1 + 3) * rounds as usize,
        "{}",
        c.log_text()
    );
    assert_eq!(
        c.count_log("terminating any other active server processes"),
        0
    );
    wait_dsm_released(c);
}

#[test]
fn postgresqls_test_shm_mq_passes_its_regression_script_unchanged() {
    for headers in [Headers::Postgres, Headers::Ours] {
        let c = cluster(headers, 1);
        check(&c, 1);
    }
}

#[test]
fn the_regression_script_passes_many_times_in_a_row_and_leaves_no_segment() {
    let c = cluster(Headers::Postgres, 5);
    check(&c, 5);
    let mapped: Vec<(i32, usize)> = dsm_mappings()
        .into_iter()
        .filter(|(pid, _)| *pid == c.pid || c.seen_pids().contains(pid))
        .collect();
    assert!(mapped.is_empty(), "DSM mappings left: {mapped:?}");
}
