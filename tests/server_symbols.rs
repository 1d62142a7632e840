//! PostgreSQL 15's whole server symbol surface: the committed list is the installed server's
//! export list; libbgworker_compat.so defines every name of it with PostgreSQL's sizes and
//! alignment; a module referencing every one of them loads under bgworkerd and binds each name
//! libbgworker.so implements to libbgworker.so; a module reaching into every subsystem
//! (c_tests/modules/server_surface.c, built against include/ and with PGXS) reads PostgreSQL's
//! boot values, sets hooks, and gets the named ERROR when it calls what is not implemented;
//! `bgworkerctl check` reports it.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// (kind, size, align) by name, from server-symbols/postgresql-15.symbols.
fn committed_list() -> BTreeMap<String, (String, u64, u64)> {
    let text = std::fs::read_to_string(repo_dir().join("server-symbols/postgresql-15.symbols"))
        .expect("server-symbols/postgresql-15.symbols");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_string(),
                (
                    f[1].to_string(),
                    f[2].parse().unwrap_or(0),
                    f[3].parse().unwrap_or(0),
                ),
            )
        })
        .collect()
}

/// `nm -D -S --defined-only`: (type letter, size, address) by name (versions stripped).
fn defined(path: &Path) -> BTreeMap<String, (char, u64, u64)> {
    let out = Command::new("nm")
        .args(["-D", "-S", "--defined-only"])
        .arg(path)
        .output()
        .expect("nm (binutils)");
    assert!(out.status.success(), "nm {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (addr, size, typ, name) = match f.len() {
                4 => (f[0], f[1], f[2], f[3]),
                3 => (f[0], "0", f[1], f[2]),
                _ => return None,
            };
            Some((
                name.to_string(),
                (
                    typ.chars().next()?,
                    u64::from_str_radix(size, 16).ok()?,
                    u64::from_str_radix(addr, 16).ok()?,
                ),
            ))
        })
        .collect()
}

fn kind_of(letter: char) -> &'static str {
    match letter {
        'T' | 't' | 'W' | 'i' => "function",
        'R' | 'r' => "const",
        _ => "data",
    }
}

fn postgres_binary() -> PathBuf {
    pg_bindir_of_server().join("postgres")
}

fn pg_bindir_of_server() -> PathBuf {
    common::pg::pg_bindir()
}

fn compat_library() -> PathBuf {
    lib_dir().join("libbgworker_compat.so")
}

#[test]
fn the_committed_list_is_the_installed_servers_export_list() {
    let list = committed_list();
    // What generate.py keeps: the server's own symbols, not libc's copy-relocated data
    // (versioned names) nor the linker's markers.
    let linker = [
        "_IO_stdin_used",
        "__bss_start",
        "__data_start",
        "_edata",
        "_end",
        "_start",
        "data_start",
        "_init",
        "_fini",
        "main",
    ];
    let server: BTreeMap<String, (String, u64)> = defined(&postgres_binary())
        .into_iter()
        .filter(|(n, _)| !n.contains('@') && !linker.contains(&n.as_str()))
        .map(|(n, (t, size, _))| (n, (kind_of(t).to_string(), size)))
        .collect();
    let mut differences = Vec::new();
    for (name, (kind, size)) in &server {
        match list.get(name) {
            None => differences.push(format!("{name}: exported by the server, not in the list")),
            Some((k, s, _)) => {
                let listed_size = if k == "function" { *size } else { *s };
                if k != kind || listed_size != *size {
                    differences.push(format!(
                        "{name}: server has {kind} of {size} bytes, the list {k} of {s}"
                    ));
                }
            }
        }
    }
    for name in list.keys().filter(|n| !server.contains_key(*n)) {
        differences.push(format!("{name}: in the list, not exported by the server"));
    }
    assert!(
        differences.is_empty(),
        "server-symbols/postgresql-15.symbols differs from {} ({} differences; regenerate it \
         with `make server-symbols`): {:?}",
        postgres_binary().display(),
        differences.len(),
        &differences[..differences.len().min(20)]
    );
    assert!(list.len() > 10_000, "{} symbols", list.len());
}

#[test]
fn the_compat_library_defines_every_name_with_postgresqls_kind_size_and_alignment() {
    let list = committed_list();
    let compat = defined(&compat_library());
    let mut wrong = Vec::new();
    for (name, (kind, size, align)) in &list {
        let Some(&(t, s, addr)) = compat.get(name) else {
            wrong.push(format!("{name}: missing"));
            continue;
        };
        let k = kind_of(t);
        if k != kind {
            wrong.push(format!("{name}: {k}, PostgreSQL has {kind}"));
        } else if kind != "function" && s != *size {
            wrong.push(format!("{name}: {s} bytes, PostgreSQL has {size}"));
        } else if kind != "function" && *align > 0 && addr % align != 0 {
            wrong.push(format!("{name}: at {addr:#x}, not {align}-aligned"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );
}

#[test]
fn data_libbgworker_implements_has_postgresqls_size() {
    let list = committed_list();
    let ours = defined(&lib_dir().join("libbgworker.so"));
    let wrong: Vec<String> = ours
        .iter()
        .filter_map(|(name, &(t, size, _))| {
            let (kind, listed, _) = list.get(name)?;
            (kind != "function" && kind_of(t) != "function" && size != *listed)
                .then(|| format!("{name}: {size} bytes, PostgreSQL has {listed}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
}

/// A module that references every name of the list (as addresses, in a file of its own that
/// includes no header), linked with -z now as PGXS links, whose worker checks where each name
/// bound: to libbgworker.so when it defines the name, else to the compat library.
#[test]
fn every_server_symbol_resolves_and_each_implemented_one_binds_to_libbgworker() {
    let list = committed_list();
    let dir = fresh_temp_dir("every-symbol");
    let mut refs =
        String::from("/* Every PostgreSQL 15 server symbol, by address. */\n#include <stddef.h>\n");
    for name in list.keys() {
        refs.push_str(&format!("extern char {name}[];\n"));
    }
    refs.push_str("const struct { const char *name; const void *addr; } every_ref[] = {\n");
    for name in list.keys() {
        refs.push_str(&format!("\t{{\"{name}\", {name}}},\n"));
    }
    refs.push_str("\t{NULL, NULL}\n};\n");
    std::fs::write(dir.join("refs.c"), refs).unwrap();
    std::fs::write(
        dir.join("every_symbol.c"),
        r#"#define _GNU_SOURCE
#include "postgres.h"
#include <dlfcn.h>
#include <string.h>
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"

PG_MODULE_MAGIC;

extern const struct { const char *name; const void *addr; } every_ref[];
PGDLLEXPORT void every_symbol_main(Datum arg);
void _PG_init(void);

/* The object that defines `addr`, by its file name's last part. */
static const char *
owner(const void *addr)
{
	Dl_info info;
	const char *slash;

	if (addr == NULL || dladdr(addr, &info) == 0 || info.dli_fname == NULL)
		return "?";
	slash = strrchr(info.dli_fname, '/');
	return slash ? slash + 1 : info.dli_fname;
}

void
every_symbol_main(Datum arg)
{
	void *lib = dlopen("libbgworker.so.1", RTLD_NOW | RTLD_NOLOAD);
	void *compat = dlopen("libbgworker_compat.so", RTLD_NOW | RTLD_NOLOAD);
	int total = 0, ours = 0, theirs = 0, wrong = 0;

	(void) arg;
	if (lib == NULL || compat == NULL)
		elog(ERROR, "every_symbol: libraries not loaded: %s", dlerror());
	for (int i = 0; every_ref[i].name != NULL; i++)
	{
		const char *name = every_ref[i].name;
		const void *in_lib = dlsym(lib, name);
		const void *expected;

		/* dlsym with a handle also searches its dependencies: only ours count. */
		if (in_lib != NULL && strncmp(owner(in_lib), "libbgworker.so", 14) != 0)
			in_lib = NULL;
		expected = in_lib ? in_lib : dlsym(compat, name);
		total++;
		if (every_ref[i].addr != expected || expected == NULL)
		{
			if (wrong++ < 10)
				elog(LOG, "every_symbol: %s bound to %s", name, owner(every_ref[i].addr));
		}
		else if (in_lib)
			ours++;
		else
			theirs++;
	}
	elog(LOG, "every_symbol: total=%d libbgworker=%d compat=%d wrong=%d",
		 total, ours, theirs, wrong);
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "every_symbol");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "every_symbol_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "every symbol");
	RegisterBackgroundWorker(&w);
}
"#,
    )
    .unwrap();
    let module = dir.join("every_symbol.so");
    let out = Command::new("cc")
        .args(["-std=c11", "-O0", "-fPIC", "-shared", "-fno-builtin", "-w"])
        .arg(format!("-I{}", include_dir().display()))
        .args(["-Wl,-z,now", "-o"])
        .arg(&module)
        .arg(dir.join("every_symbol.c"))
        .arg(dir.join("refs.c"))
        .arg("-ldl")
        .output()
        .expect("cc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: BTreeSet<String> = defined(&lib_dir().join("libbgworker.so"))
        .into_keys()
        .filter(|n| list.contains_key(n))
        .collect();
    let c = Setup::new()
        .preload(&["every_symbol"])
        .c(&format!("dynamic_library_path={}", dir.display()))
        .start();
    let line = c.wait_for_log("every_symbol: total=", PROMPT);
    assert!(
        line.ends_with(&format!(
            "every_symbol: total={} libbgworker={} compat={} wrong=0",
            list.len(),
            ours.len(),
            list.len() - ours.len()
        )),
        "{line}\n{}",
        c.log_text()
    );
    assert!(ours.len() > 250, "libbgworker implements {}", ours.len());
}

fn surface(headers: Headers, mode: &str) -> Cluster {
    Setup::new()
        .module_built_with("server_surface", headers)
        .c(&format!("server_surface.mode={mode}"))
        .start()
}

fn module_path(c: &Cluster) -> String {
    // The LOG line at preload names the file the supervisor loaded.
    let line = c.wait_for_log("\"bgworkerctl check ", PROMPT);
    let at = line.find("\"bgworkerctl check ").unwrap() + 19;
    line[at..line.rfind("\" lists").unwrap()].to_string()
}

#[test]
fn a_module_reaching_into_every_subsystem_loads_and_reads_postgresqls_boot_values() {
    for headers in [Headers::Postgres, Headers::Ours] {
        let c = surface(headers, "values");
        c.wait_for_log("server_surface: done mode=values", PROMPT);
        let log = c.log_text();
        for want in [
            "server_surface: work_mem=4096 maintenance_work_mem=65536 MaxConnections=100 \
             NBuffers=16384 PostPortNumber=5432 IsBinaryUpgrade=false max_worker_processes=8 \
             IsUnderPostmaster=true ones(255)=8",
            "server_surface: alignment work_mem=aligned MaxConnections=aligned \
             IsBinaryUpgrade=aligned planner_hook=aligned",
            "server_surface: hooks planner_hook=ours ExecutorStart_hook=ours ProcessUtility_hook=null",
            // emit_log_hook is called (and may drop a report); the "suppress me" line is gone.
            "server_surface: emit_log_hook saw 1 reports",
            // At preload: the count of unimplemented functions and the command that lists them.
            "LOG:  library \"server_surface\" references 9 server functions that bgworkerd does \
             not implement (calling one raises an ERROR); \"bgworkerctl check ",
            // The hooks set that are never called, in one DEBUG1 line.
            "set hooks that bgworkerd never calls: ExecutorStart_hook, planner_hook",
            // Registrations for events that never happen: accepted, said once.
            "CacheRegisterRelcacheCallback: accepted, but relation cache invalidations never \
             happen under bgworkerd",
            "server_surface: add_reloption_kind gave 4096, then 8192",
        ] {
            assert!(log.contains(want), "{headers:?}: no {want:?} in:\n{log}");
        }
        assert_eq!(
            c.count_log("server_surface: suppress me"),
            0,
            "{headers:?}:\n{log}"
        );
        assert_eq!(
            c.count_log("CacheRegisterRelcacheCallback: accepted"),
            1,
            "{headers:?}: said once though called twice:\n{log}"
        );
    }
}

#[test]
fn calling_an_unimplemented_function_raises_the_named_error_which_pg_try_catches() {
    for headers in [Headers::Postgres, Headers::Ours] {
        let c = surface(headers, "catch");
        c.wait_for_log("server_surface: done mode=catch", PROMPT);
        let path = module_path(&c);
        let log = c.log_text();
        for want in [
            "server_surface: caught sqlstate=0A000 message=\"function \"relation_open\" is not \
             supported by bgworkerd\""
                .to_string(),
            format!("server_surface: caught detail=\"It was called by the library \"{path}\".\""),
            format!(
                "server_surface: caught hint=\"\"bgworkerctl check {path}\" lists every server \
                 function the library references that bgworkerd does not implement.\""
            ),
            "server_surface: working after the catch".to_string(),
        ] {
            assert!(log.contains(&want), "{headers:?}: no {want:?} in:\n{log}");
        }
    }
}

#[test]
fn an_uncaught_call_ends_the_worker_with_exit_1_and_it_is_restarted_per_its_restart_time() {
    let c = surface(Headers::Postgres, "uncaught");
    let lines = c.wait_for_log_count("server_surface: started mode=uncaught", 2, PROMPT);
    assert_eq!(lines.len(), 2);
    // A second apart: the worker's restart time, counted from the exit.
    let gap = log_time_ms(&lines[1]) - log_time_ms(&lines[0]);
    assert!((900..5000).contains(&gap), "restarted after {gap} ms");
    let log = c.log_text();
    assert!(
        log.contains(
            "server surface ERROR:  function \"LockAcquire\" is not supported by bgworkerd"
        ),
        "{log}"
    );
    assert!(log.contains("exited with exit code 1"), "{log}");
    assert_eq!(c.count_log("server_surface: LockAcquire returned"), 0);
}

#[test]
fn called_from_pg_init_at_preload_it_is_fatal_naming_library_and_function_and_leaves_nothing() {
    let mut c = Setup::new()
        .module_built_with("server_surface", Headers::Postgres)
        .c("server_surface.call_in_init=on")
        .spawn();
    let status = c.wait_exit(PROMPT);
    assert_eq!(exit_code(&status), Some(1), "{}", c.log_text());
    let log = c.log_text();
    assert!(
        log.contains("postmaster FATAL:  function \"raw_parser\" is not supported by bgworkerd"),
        "{log}"
    );
    assert!(
        log.contains("postmaster DETAIL:  It was called by the library \"")
            && log.contains("server_surface.so\"."),
        "{log}"
    );
    let left: Vec<String> = std::fs::read_dir(&c.datadir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "bgworker.conf")
        .collect();
    assert!(
        left.is_empty(),
        "left behind in the data directory: {left:?}"
    );
    assert!(c.worker_pids().is_empty(), "processes left behind");
}

fn bgworkerctl_check(args: &[&str]) -> std::process::Output {
    with_fresh_library(&mut Command::new(env!("CARGO_BIN_EXE_bgworkerctl")))
        .arg("check")
        .args(args)
        .output()
        .expect("bgworkerctl")
}

#[test]
fn bgworkerctl_check_lists_each_referenced_server_symbol_by_header_and_fails_on_unimplemented() {
    let dir = build_module_pgxs("server_surface");
    let module = dir.join("server_surface.so");
    let out = bgworkerctl_check(&[module.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("references 9 server functions bgworkerd does not implement"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Grouped under the declaring header, with what bgworkerd gives for each.
    for (header, line) in [
        ("access/relation.h", "relation_open"),
        ("storage/lock.h", "LockAcquire"),
        ("libpq/pqformat.h", "pq_beginmessage"),
        ("replication/syncrep.h", "SyncRepWaitForLSN"),
        ("utils/lsyscache.h", "get_rel_name"),
        ("miscadmin.h", "MaxConnections"),
        ("optimizer/planner.h", "planner_hook"),
        ("postmaster/bgworker.h", "RegisterBackgroundWorker"),
    ] {
        let at = text
            .find(&format!("\n{header}\n"))
            .unwrap_or_else(|| panic!("no {header} group in:\n{text}"));
        let group = &text[at + header.len() + 2..];
        let group = &group[..group.find("\n\n").unwrap_or(group.len())];
        assert!(group.contains(line), "{line} not under {header}:\n{text}");
    }
    let status_of = |name: &str| -> String {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{text}"))
            .split_whitespace()
            .skip(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(status_of("relation_open"), "not implemented");
    assert_eq!(status_of("RegisterBackgroundWorker"), "implemented");
    assert_eq!(status_of("MaxConnections"), "boot value (100)");
    // A setting bgworkerd has (bgworker.conf's work_mem) is implemented here.
    assert_eq!(status_of("work_mem"), "implemented");
    assert_eq!(status_of("planner_hook"), "hook never called");

    let json = bgworkerctl_check(&[module.to_str().unwrap(), "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("check --json is JSON");
    assert_eq!(v["schema"], 1);
    assert_eq!(v["summary"]["not_implemented"], 9);
    let symbols = v["symbols"].as_array().unwrap();
    let relation_open = symbols
        .iter()
        .find(|s| s["name"] == "relation_open")
        .unwrap();
    assert_eq!(relation_open["kind"], "function");
    assert_eq!(relation_open["header"], "access/relation.h");
    assert_eq!(relation_open["status"], "not implemented");
    let max_connections = symbols
        .iter()
        .find(|s| s["name"] == "MaxConnections")
        .unwrap();
    assert_eq!(max_connections["status"], "boot value");
    assert_eq!(max_connections["value"], "100");
    assert_eq!(
        v["summary"]["referenced"].as_u64().unwrap() as usize,
        symbols.len()
    );
}

#[test]
fn bgworkerctl_check_passes_a_module_using_only_what_is_implemented_and_refuses_a_non_module() {
    let hello = build_module_pgxs("hello_bgw").join("hello_bgw.so");
    let out = bgworkerctl_check(&[hello.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(" 0 functions not implemented"), "{text}");
    assert!(text.contains("RegisterBackgroundWorker"), "{text}");

    let not_elf = module_source("hello_bgw");
    let out = bgworkerctl_check(&[not_elf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a shared object"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bgworkerctl_check(&[]);
    assert_eq!(out.status.code(), Some(2));
}
