//! The library's exported symbols: PostgreSQL 15's names for everything a module calls, checked
//! against the real server binary's own export list; our additions carry our prefixes.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn library() -> PathBuf {
    // cargo's deps/ holds the library as just built (see tests/common).
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_bgworkerd"))
        .parent()
        .unwrap()
        .to_path_buf();
    let fresh = dir.join("deps/libbgworker.so");
    if fresh.exists() {
        fresh
    } else {
        dir.join("libbgworker.so")
    }
}

fn defined_symbols(path: &std::path::Path) -> BTreeSet<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(path)
        .output()
        .expect("nm (binutils)");
    assert!(out.status.success(), "nm {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|s| s.split('@').next().unwrap().to_string())
        .collect()
}

fn postgres_binary() -> PathBuf {
    let p = PathBuf::from("/usr/lib/postgresql/15/bin/postgres");
    assert!(
        p.exists(),
        "PostgreSQL 15's server binary is needed (package postgresql-15)"
    );
    p
}

/// What the modules of symbol-surface.md need from the server, in this project's scope (no
/// buffer manager or catalogs): hello_bgw and test_shm_mq entirely, worker_spi and pg_prewarm
/// minus their server-internal parts; and the rest of dynamic shared memory.
const REQUIRED: &[&str] = &[
    // bgworker API
    "RegisterBackgroundWorker",
    "RegisterDynamicBackgroundWorker",
    "WaitForBackgroundWorkerStartup",
    "WaitForBackgroundWorkerShutdown",
    "GetBackgroundWorkerPid",
    "TerminateBackgroundWorker",
    "GetBackgroundWorkerTypeByPid",
    "BackgroundWorkerBlockSignals",
    "BackgroundWorkerUnblockSignals",
    "MyBgworkerEntry",
    // latches
    "WaitLatch",
    "WaitLatchOrSocket",
    "SetLatch",
    "ResetLatch",
    "MyLatch",
    "PostmasterIsAliveInternal",
    // signals and interrupts
    "pqsignal",
    "die",
    "procsignal_sigusr1_handler",
    "SignalHandlerForConfigReload",
    "SignalHandlerForShutdownRequest",
    "StatementCancelHandler",
    "ConfigReloadPending",
    "ShutdownRequestPending",
    "InterruptPending",
    "ProcDiePending",
    "QueryCancelPending",
    "InterruptHoldoffCount",
    "QueryCancelHoldoffCount",
    "CritSectionCount",
    "ProcessInterrupts",
    // process
    "MyProcPid",
    "process_shared_preload_libraries_in_progress",
    "IsUnderPostmaster",
    "IsBackgroundWorker",
    "proc_exit",
    "on_proc_exit",
    "on_shmem_exit",
    "before_shmem_exit",
    "cancel_before_shmem_exit",
    "max_worker_processes",
    "BlockSig",
    "UnBlockSig",
    // errors
    "errstart",
    "errstart_cold",
    "errfinish",
    "errcode",
    "errcode_for_file_access",
    "errmsg",
    "errmsg_internal",
    "errmsg_plural",
    "errdetail",
    "errdetail_internal",
    "errdetail_log",
    "errhint",
    "errcontext_msg",
    "set_errcontext_domain",
    "pg_re_throw",
    "PG_exception_stack",
    "error_context_stack",
    "CopyErrorData",
    "FlushErrorState",
    "FreeErrorData",
    "EmitErrorReport",
    "geterrcode",
    "ReThrowError",
    // settings
    "DefineCustomBoolVariable",
    "DefineCustomIntVariable",
    "DefineCustomRealVariable",
    "DefineCustomStringVariable",
    "DefineCustomEnumVariable",
    "MarkGUCPrefixReserved",
    "GetConfigOption",
    "GetConfigOptionByName",
    "ProcessConfigFile",
    // memory
    "palloc",
    "palloc0",
    "palloc_extended",
    "repalloc",
    "pfree",
    "pstrdup",
    "pnstrdup",
    "psprintf",
    "MemoryContextAlloc",
    "MemoryContextAllocZero",
    "AllocSetContextCreateInternal",
    "MemoryContextDelete",
    "MemoryContextReset",
    "TopMemoryContext",
    "CurrentMemoryContext",
    "CurTransactionContext",
    "TopTransactionContext",
    "add_size",
    "mul_size",
    // strings and formatting
    "initStringInfo",
    "makeStringInfo",
    "resetStringInfo",
    "appendStringInfo",
    "appendStringInfoString",
    "appendStringInfoChar",
    "appendBinaryStringInfo",
    "enlargeStringInfo",
    "pg_snprintf",
    "pg_sprintf",
    "pg_vsnprintf",
    "pg_printf",
    "pg_fprintf",
    "pg_qsort",
    "pg_strerror",
    // files (pg_prewarm's autoprewarm dump), text values
    "AllocateFile",
    "FreeFile",
    "durable_rename",
    "AllocateDir",
    "ReadDir",
    "FreeDir",
    "pg_detoast_datum_packed",
    "text_to_cstring",
    "cstring_to_text",
    // lists, settings, resource owners, the process
    "lappend",
    "list_free",
    "list_member",
    "equal",
    "SplitIdentifierString",
    "SetConfigOption",
    "set_config_option",
    "GetConfigOptionResetString",
    "ResourceOwnerCreate",
    "CurrentResourceOwner",
    "RegisterResourceReleaseCallback",
    "CacheMemoryContext",
    "CreateCacheMemoryContext",
    "set_ps_display",
    "MyBackendType",
    "RecoveryInProgress",
    "DataDir",
    "work_mem",
    "pg_strcasecmp",
    "pg_usleep",
    // dynamic shared memory, message queues, hash tables, condition variables (test_shm_mq's
    // whole surface, and what parallel-style modules reach for)
    "MyProc",
    "BackendPidGetProc",
    "s_lock",
    "dsm_create",
    "dsm_attach",
    "dsm_detach",
    "dsm_segment_address",
    "dsm_segment_handle",
    "dsm_pin_segment",
    "dsm_unpin_segment",
    "dsm_pin_mapping",
    "on_dsm_detach",
    "cancel_on_dsm_detach",
    "shm_toc_create",
    "shm_toc_attach",
    "shm_toc_allocate",
    "shm_toc_estimate",
    "shm_toc_insert",
    "shm_toc_lookup",
    "shm_mq_create",
    "shm_mq_attach",
    "shm_mq_send",
    "shm_mq_sendv",
    "shm_mq_receive",
    "shm_mq_set_sender",
    "shm_mq_set_receiver",
    "shm_mq_set_handle",
    "shm_mq_detach",
    "shm_mq_wait_for_attach",
    "shm_mq_minimum_size",
    "ShmemInitHash",
    "ShmemAlloc",
    "hash_create",
    "hash_search",
    "hash_search_with_hash_value",
    "get_hash_value",
    "hash_seq_init",
    "hash_seq_search",
    "hash_seq_term",
    "hash_get_num_entries",
    "hash_estimate_size",
    "tag_hash",
    "hash_bytes",
    "ConditionVariableInit",
    "ConditionVariableSleep",
    "ConditionVariableBroadcast",
    "dsa_create",
    "dsa_attach",
    "dsa_allocate_extended",
    "dsa_free",
    "dsa_get_address",
    "dshash_create",
    "dshash_find_or_insert",
    "load_external_function",
    // activity and time
    "pgstat_report_activity",
    "my_wait_event_info",
    "GetCurrentTimestamp",
    "TimestampDifferenceMilliseconds",
];

#[test]
fn every_symbol_modules_need_is_exported() {
    let ours = defined_symbols(&library());
    let missing: Vec<&&str> = REQUIRED.iter().filter(|s| !ours.contains(**s)).collect();
    assert!(missing.is_empty(), "not exported: {missing:?}");
}

#[test]
fn exported_symbols_are_postgresql_names_or_carry_our_prefix() {
    let ours = defined_symbols(&library());
    let postgres = defined_symbols(&postgres_binary());
    let strays: Vec<&String> = ours
        .iter()
        .filter(|s| !postgres.contains(*s))
        .filter(|s| !s.starts_with("bgw_") && !s.starts_with("BackgroundWorker"))
        .filter(|s| !s.starts_with('_'))
        .collect();
    assert!(
        strays.is_empty(),
        "exports that are neither PostgreSQL 15 names nor prefixed bgw_/BackgroundWorker: {strays:?}"
    );
}

#[test]
fn postgresql_names_keep_their_kind() {
    // A name PostgreSQL exports as data must be data here too, and a function a function:
    // modules reference them through the dynamic linker by that kind.
    let kinds = |path: &std::path::Path| -> std::collections::BTreeMap<String, char> {
        let out = Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let (_, k, n) = (it.next()?, it.next()?, it.next()?);
                let kind = if matches!(k, "T" | "t" | "W" | "i") {
                    'F'
                } else {
                    'D'
                };
                Some((n.split('@').next().unwrap().to_string(), kind))
            })
            .collect()
    };
    let ours = kinds(&library());
    let postgres = kinds(&postgres_binary());
    let wrong: Vec<String> = ours
        .iter()
        .filter_map(|(n, k)| {
            postgres
                .get(n)
                .filter(|pk| *pk != k)
                .map(|pk| format!("{n}: ours {k}, postgres {pk}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
}

/// Every exported function states its policy where it is defined: its body is one
/// `export!(boundary|raises|signal_safe, NAME, ...)` call naming the function itself, or it is
/// one of the C shim's functions listed under `raises:` in `src/abi/c_shim.rs`. Every function
/// the library exports is one of these.
#[test]
fn every_exported_function_states_its_policy() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut declared = BTreeSet::new();
    let mut wrong = Vec::new();
    let mut files = vec![src.clone()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            if p.ends_with("bin") {
                continue; // programs, not the library
            }
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim() != "#[no_mangle]" {
                continue;
            }
            // The item: skip further attributes; statics are data, not functions.
            let Some(item) = lines[i + 1..]
                .iter()
                .find(|l| !l.trim_start().starts_with("#["))
            else {
                continue;
            };
            let Some(at) = item.find("extern \"C\" fn ") else {
                continue;
            };
            let name: String = item[at + 14..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                continue; // the C shim's trampoline macro, checked below
            }
            // The start of the body after the signature, on one line.
            let body_line: String = lines[i + 1..]
                .iter()
                .skip_while(|l| !l.trim_end().ends_with('{') || l.trim_start().starts_with("///"))
                .skip(1)
                .take(3)
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ")
                .replace("( ", "(");
            let ok = ["boundary", "raises", "signal_safe"]
                .iter()
                .any(|p| body_line.starts_with(&format!("export!({p}, {name},")));
            if ok {
                declared.insert(name);
            } else {
                wrong.push(format!("{}: {name}: {body_line}", p.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "exports without export!(policy, name, ...): {wrong:#?}"
    );

    let shim = std::fs::read_to_string(src.join("abi/c_shim.rs")).unwrap();
    let list = &shim[shim
        .find("raises:")
        .expect("c_shim.rs lists its exports under raises:")..];
    for l in list.lines().skip(1) {
        if let Some((export, _)) = l.trim().split_once(" => ") {
            declared.insert(export.to_string());
        }
    }
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(library())
        .output()
        .unwrap();
    let undeclared: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (_, kind, name) = (it.next()?, it.next()?, it.next()?);
            (kind == "T").then(|| name.split('@').next().unwrap().to_string())
        })
        .filter(|n| !declared.contains(n))
        .collect();
    assert!(
        undeclared.is_empty(),
        "functions the library exports with no stated policy: {undeclared:?}"
    );
}
