//! Fuzzing with proptest (issue 5, fault-injection item 6): the settings parser
//! (`guc::parse_file`, `Settings::set` and the value parsers it uses), the registration checks
//! (`registry::sanitise_field`, `registry::sanity_check`), and the supervisor's copy-in of a
//! slot. The supervisor's own `slot_changed` is a private method of the supervisor, so the
//! copy-in is fuzzed through the public pieces it is made of, in its order: a definition of
//! arbitrary bytes is written into a slot of a real segment, copied out with
//! `shmem::copy_definition`, its four strings sanitised, then `sanity_check`ed; the handle
//! readers (`slots::handle_status`, `slots::request_terminate`) get arbitrary slot numbers and
//! generations; and `Segment::attach` (what every external process does first) gets segments
//! whose header has been corrupted.
//!
//! Sizes: 10,000 inputs per property by default; `BGW_STRESS=1` (`make stress`) runs 1,000,000
//! (the attach property, which maps a file per input, runs a fiftieth of that). Seeds: proptest's
//! default random seed per run; a failure is shrunk and its seed saved under
//! `proptest-regressions/` (committed), and those saved cases are run first on every later run.
//! `PROPTEST_CASES` overrides the count.

use bgworker::guc::{self, Settings, Source};
use bgworker::pg::types::*;
use bgworker::registry::{self, field_bytes, sanitise_field, sanity_check};
use bgworker::shmem::{self, slots, Header, Segment, Sizes};
use libc::c_char;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use std::mem::offset_of;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::OnceLock;

fn cases() -> u32 {
    if let Some(n) = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var("BGW_STRESS").is_ok_and(|v| v == "1") {
        1_000_000
    } else {
        10_000
    }
}

fn config(divisor: u32) -> Config {
    Config {
        cases: (cases() / divisor).max(1),
        // Relative to the package root (cargo runs tests there); committed when it appears.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz.txt",
        ))),
        max_shrink_iters: 10_000,
        ..Config::default()
    }
}

const CONF: &str = "/fuzz/data/bgworker.conf";

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Integers as text in every syntax `parse_int` knows, with sign prefixes in odd places and the
/// values at the edges of i32/i64/u64 (a dictionary, as libFuzzer would be given).
fn int_text() -> impl Strategy<Value = String> {
    let magnitude = prop_oneof![
        Just(0u64),
        Just(1),
        Just(8),
        Just(i32::MAX as u64),
        Just(i32::MAX as u64 + 1),
        Just(u32::MAX as u64),
        Just(i64::MAX as u64),
        Just(i64::MAX as u64 + 1),
        Just(u64::MAX),
        any::<u64>(),
        0u64..300_000,
    ];
    (
        prop::sample::select(vec!["", "-", "+", "--", "-+", "+-", " ", " -"]),
        prop::sample::select(vec!["", "0x", "0X", "0"]),
        prop::sample::select(vec!["", "-", "+"]),
        magnitude,
        prop::sample::select(vec!["", " ", "kB", "x", ".5"]),
    )
        .prop_map(|(s1, radix, s2, m, tail)| {
            let digits = match radix {
                "0x" | "0X" => format!("{m:x}"),
                "0" => format!("{m:o}"),
                _ => m.to_string(),
            };
            format!("{s1}{radix}{s2}{digits}{tail}")
        })
}

fn core_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "shared_preload_libraries",
            "dynamic_library_path",
            "max_worker_processes",
            "max_parallel_workers",
            "restart_after_crash",
            "restart_after_crash_limit",
            "restart_after_crash_window",
            "log_min_messages",
            "cluster_name",
            "MAX_WORKER_PROCESSES",
            "my.custom",
            "a.b.c",
            ".x",
            "x.",
            "1a.b",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_.$0-9]{0,16}",
        ".{0,8}",
    ]
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        int_text(),
        prop::sample::select(vec![
            "on",
            "off",
            "of",
            "o",
            "t",
            "true",
            "yes",
            "no",
            "n",
            "1",
            "0",
            "",
            "debug1",
            "LOG",
            "panic",
            "\"a\", b",
            "a,,b",
            "\"unterminated",
            "'",
            "é",
        ])
        .prop_map(str::to_string),
        ".{0,12}",
        prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// One line of a settings file: mostly settings-shaped, sometimes anything at all.
fn conf_line() -> impl Strategy<Value = String> {
    let quoted = "'([^'\\\\\n]|''|\\\\.){0,10}'?";
    let value = prop_oneof![
        value_text().prop_map(|v| v.replace('\n', " ")),
        quoted.prop_map(|s: String| s),
    ];
    prop_oneof![
        4 => (
            "[ \t]{0,2}",
            core_name(),
            prop::sample::select(vec!["", " = ", "=", " ", "\t=\t", "=="]),
            value,
            prop::sample::select(vec!["", " # comment", " junk", "#", " 'x'", " \\"]),
        )
            .prop_map(|(ws, n, sep, v, tail)| format!("{ws}{n}{sep}{v}{tail}").replace('\n', " ")),
        1 => "[^\n]{0,40}",
        1 => prop::sample::select(vec!["", "# only a comment", "   ", "=", "'", "= x"])
            .prop_map(str::to_string),
    ]
}

fn conf_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(conf_line(), 0..16),
        prop::sample::select(vec!["\n", "\r\n"]),
        any::<bool>(),
    )
        .prop_map(|(lines, nl, trailing)| {
            let mut t = lines.join(nl);
            if trailing {
                t.push_str(nl);
            }
            t
        })
}

fn field_of(bytes: &[u8]) -> [c_char; BGW_MAXLEN] {
    let mut f = [0 as c_char; BGW_MAXLEN];
    for (d, s) in f.iter_mut().zip(bytes) {
        *d = *s as c_char;
    }
    f
}

/// The line number in `... in file "PATH" line N...`.
fn error_line(message: &str) -> Option<usize> {
    let marker = format!("in file \"{CONF}\" line ");
    let at = message.find(&marker)? + marker.len();
    message[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Asserts what a sanitised field must be: NUL-terminated within 96 bytes, at most 95 bytes of
/// printable ASCII or \n \r \t, zeros after the terminator.
fn assert_clean(field: &[c_char; BGW_MAXLEN]) -> Result<(), TestCaseError> {
    let bytes: Vec<u8> = field.iter().map(|&c| c as u8).collect();
    let nul = bytes.iter().position(|&b| b == 0);
    prop_assert!(nul.is_some(), "not NUL-terminated: {bytes:?}");
    let nul = nul.unwrap();
    prop_assert!(nul < BGW_MAXLEN);
    for &b in &bytes[..nul] {
        prop_assert!(
            (32..127).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'),
            "byte {b:#x} left in {bytes:?}"
        );
    }
    prop_assert!(
        bytes[nul..].iter().all(|&b| b == 0),
        "junk after the NUL: {bytes:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The settings parser
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1))]

    /// `parse_file` never panics; an error names the file and a line that exists; entries come
    /// in order with valid names; feeding them to `Settings::set` (as `Settings::load` does)
    /// never panics and every error names the entry's file and line.
    #[test]
    fn settings_file_parser(text in conf_text()) {
        let nlines = text.lines().count().max(1);
        match guc::parse_file(&text, CONF) {
            Err(e) => {
                let line = error_line(&e.message);
                prop_assert!(line.is_some(), "error without file and line: {}", e.message);
                let line = line.unwrap();
                prop_assert!((1..=nlines).contains(&line), "line {line} of {nlines}: {}", e.message);
            }
            Ok(entries) => {
                let mut last = 0;
                let mut s = Settings::default();
                for e in entries {
                    prop_assert!(e.line > last && e.line <= nlines, "line {} after {last} of {nlines}", e.line);
                    last = e.line;
                    prop_assert!(!e.name.is_empty());
                    prop_assert!(e.name.chars().all(|c| c.is_ascii_alphanumeric() || "_.$".contains(c)), "{:?}", e.name);
                    let src = Source::File { path: CONF.into(), line: e.line };
                    if let Err(err) = s.set(&e.name, &e.value, &src) {
                        prop_assert_eq!(error_line(&err.message), Some(e.line), "{}", err.message);
                    }
                }
            }
        }
    }

    /// `Settings::set` with any name and value never panics; an accepted value reads back within
    /// its setting's range; a refused one leaves the settings unchanged.
    #[test]
    fn settings_set(name in core_name(), value in value_text()) {
        let mut s = Settings::default();
        let before = s.clone();
        match s.set(&name, &value, &Source::CommandLine) {
            Ok(()) => {
                prop_assert!((0..=262_143).contains(&s.max_worker_processes));
                prop_assert!((0..=MAX_PARALLEL_WORKER_LIMIT).contains(&s.max_parallel_workers));
                prop_assert!((0..=1_000_000).contains(&s.restart_after_crash_limit));
                prop_assert!((1..=86_400).contains(&s.restart_after_crash_window));
                prop_assert!(s.cluster_name.bytes().all(|b| (32..127).contains(&b)));
                prop_assert!(s.get(&name).is_some(), "{name} accepted but not readable");
            }
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                prop_assert_eq!(s, before);
            }
        }
    }

    /// The value parsers `Settings::set` is made of: never panic; an accepted integer is in range.
    #[test]
    fn settings_value_parsers(text in prop_oneof![int_text(), value_text()], lo in -5i32..5, span in prop_oneof![Just(i32::MAX), 0i32..1000]) {
        let hi = lo.saturating_add(span);
        if let Ok(n) = guc::parse_int(&text, lo, hi) {
            prop_assert!((lo..=hi).contains(&n), "{text:?} -> {n} outside {lo}..={hi}");
        }
        let _ = guc::parse_bool(&text);
        if let Ok(items) = guc::split_list(&text) {
            prop_assert!(items.iter().all(|i| !i.is_empty() || text.contains("\"\"")));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The registration checks and the slot copy-in
// ---------------------------------------------------------------------------------------------

/// A segment of our own for the copy-in properties (one per test thread: `Segment` is not
/// `Sync`, and proptest runs a property's cases on one thread).
fn segment() -> &'static Segment {
    thread_local! {
        static SEG: &'static Segment = {
            let dir = std::env::temp_dir().join(format!(
                "bgwt-{}-fuzz-seg-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::create_dir_all(&dir);
            Segment::create(
                &dir,
                Sizes {
                    slots: 8,
                    addin_size: 4096,
                    named_locks: 2,
                },
            )
            .expect("create a segment")
        };
    }
    SEG.with(|s| *s)
}

fn definition(bytes: &[u8]) -> BackgroundWorker {
    assert_eq!(bytes.len(), std::mem::size_of::<BackgroundWorker>());
    // SAFETY: BackgroundWorker is plain integers and integer arrays: every bit pattern is valid.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) }
}

/// Arbitrary definitions, with the integer fields often at the values the checks look at.
fn worker_bytes() -> impl Strategy<Value = Vec<u8>> {
    let n = std::mem::size_of::<BackgroundWorker>();
    let interesting = prop::sample::select(vec![
        0i32,
        1,
        2,
        3,
        16,
        17,
        19,
        -1,
        -2,
        86_400_000,
        86_400_001,
        i32::MIN,
        i32::MAX,
    ]);
    (
        prop::collection::vec(any::<u8>(), n),
        prop::option::of((interesting.clone(), interesting.clone(), interesting)),
    )
        .prop_map(move |(mut b, ints)| {
            if let Some((flags, start, restart)) = ints {
                for (off, v) in [
                    (offset_of!(BackgroundWorker, bgw_flags), flags),
                    (offset_of!(BackgroundWorker, bgw_start_time), start),
                    (offset_of!(BackgroundWorker, bgw_restart_time), restart),
                ] {
                    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
                }
            }
            b
        })
}

proptest! {
    #![proptest_config(config(1))]

    /// `sanitise_field` of any 96 bytes: clean (see `assert_clean`), idempotent, and the kept
    /// bytes are the original's (non-printables as '?').
    #[test]
    fn sanitise_field_makes_any_bytes_clean(bytes in prop::collection::vec(any::<u8>(), BGW_MAXLEN)) {
        let mut f = field_of(&bytes);
        sanitise_field(&mut f);
        assert_clean(&f)?;
        let once = f;
        sanitise_field(&mut f);
        prop_assert_eq!(once, f, "not idempotent");
        let orig_len = bytes.iter().position(|&b| b == 0).unwrap_or(BGW_MAXLEN).min(BGW_MAXLEN - 1);
        let kept = field_bytes(&f);
        prop_assert_eq!(kept.len(), orig_len);
        for (k, o) in kept.iter().zip(&bytes) {
            prop_assert!(*k == *o || *k == b'?');
        }
    }

    /// The copy-in: arbitrary bytes in a slot, copied out, sanitised and checked as the
    /// supervisor does. Never panics; what passes obeys the rules (SAN-*).
    #[test]
    fn slot_copy_in_checks(bytes in worker_bytes(), slot in 0usize..8) {
        let seg = segment();
        let s = seg.slot(slot);
        let raw = definition(&bytes);
        // SAFETY: this test process is the only user of its segment; a volatile write of plain
        // data, as a registrant writes a slot.
        unsafe { std::ptr::write_volatile(s.worker.get(), raw) };
        let mut def = shmem::copy_definition(s);
        for field in [
            &mut def.bgw_name,
            &mut def.bgw_type,
            &mut def.bgw_library_name,
            &mut def.bgw_function_name,
        ] {
            sanitise_field(field);
            assert_clean(field)?;
        }
        let name = registry::field_string(&def.bgw_name);
        prop_assert!(name.len() < BGW_MAXLEN);
        let _ = registry::is_core_library(&def);
        if sanity_check(&mut def).is_ok() {
            let r = def.bgw_restart_time;
            prop_assert!(r == BGW_NEVER_RESTART || (0..=86_400_000).contains(&r), "restart {r}");
            if def.bgw_flags & BGWORKER_CLASS_PARALLEL != 0 {
                prop_assert_eq!(r, BGW_NEVER_RESTART);
            }
            if def.bgw_flags & BGWORKER_BACKEND_DATABASE_CONNECTION != 0 {
                prop_assert!(def.bgw_flags & BGWORKER_SHMEM_ACCESS != 0);
                prop_assert!(def.bgw_start_time != BgWorkerStart_PostmasterStart);
            }
            // SAN-5: an empty type takes the name.
            prop_assert!(!field_bytes(&def.bgw_type).is_empty() || field_bytes(&def.bgw_name).is_empty());
            assert_clean(&def.bgw_type)?;
        }
    }

    /// Handles with any slot number and generation read a status and never reach outside the
    /// slot array.
    #[test]
    fn handles_with_any_slot_and_generation(slot in prop_oneof![0usize..16, any::<usize>()], generation in any::<u64>()) {
        let seg = segment();
        let (st, pid) = slots::handle_status(seg, slot, generation);
        if slot >= seg.total_slots() {
            prop_assert_eq!(st, BgwHandleStatus::BGWH_STOPPED);
            prop_assert_eq!(pid, 0);
            prop_assert!(!slots::request_terminate(seg, slot, generation));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attaching to a corrupted segment
// ---------------------------------------------------------------------------------------------

/// (field offset, width) of every integer in the segment header.
fn header_fields() -> Vec<(usize, usize)> {
    vec![
        (offset_of!(Header, layout_version), 4),
        (offset_of!(Header, total_slots), 4),
        (offset_of!(Header, size), 8),
        (offset_of!(Header, owner_uid), 4),
        (offset_of!(Header, supervisor_pid), 4),
        (offset_of!(Header, epoch), 8),
        (offset_of!(Header, free_head), 8),
        (offset_of!(Header, named_locks), 4),
        (offset_of!(Header, addin_size), 8),
        (offset_of!(Header, addin_used), 8),
    ]
}

/// A directory with a freshly made segment for this test thread, and the header bytes as made.
fn attach_fixture() -> &'static (PathBuf, Vec<u8>) {
    static FIX: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    FIX.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("bgwt-{}-fuzz-attach", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let seg = Segment::create(
            &dir,
            Sizes {
                slots: 4,
                addin_size: 1024,
                named_locks: 1,
            },
        )
        .expect("create a segment");
        let n = std::mem::size_of::<Header>();
        // SAFETY: the mapping starts with the header, n bytes.
        let header = unsafe { std::slice::from_raw_parts(seg.base(), n) }.to_vec();
        (dir, header)
    })
}

proptest! {
    #![proptest_config(config(50))]

    /// `Segment::attach` to a segment whose header fields (or any header bytes) are garbage:
    /// an error or a consistent mapping, never a panic.
    #[test]
    fn attach_to_a_corrupted_header(
        field_edits in prop::collection::vec((0usize..10, prop_oneof![
            Just(0u64), Just(1), Just(u32::MAX as u64), Just(u64::MAX), Just(u64::MAX - 4095),
            Just(i64::MAX as u64), any::<u64>(), 0u64..100_000,
        ]), 0..4),
        byte_edits in prop::collection::vec((0usize..std::mem::size_of::<Header>(), any::<u8>()), 0..4),
    ) {
        let (dir, pristine) = attach_fixture();
        let mut header = pristine.clone();
        let fields = header_fields();
        for (i, v) in field_edits {
            let (off, w) = fields[i];
            header[off..off + w].copy_from_slice(&v.to_ne_bytes()[..w]);
        }
        for (off, b) in byte_edits {
            header[off] = b;
        }
        let file = std::fs::OpenOptions::new().write(true).open(dir.join(shmem::FILE_NAME)).unwrap();
        file.write_all_at(&header, 0).unwrap();
        let result = std::panic::catch_unwind(|| Segment::attach(dir).map(|s| (s.total_slots(), s.sizes())));
        file.write_all_at(pristine, 0).unwrap();
        prop_assert!(result.is_ok(), "Segment::attach panicked on header {:?}", header);
        if let Ok(Ok((total, sizes))) = result {
            let len = std::fs::metadata(dir.join(shmem::FILE_NAME)).unwrap().len();
            prop_assert!(total as u64 * 64 < len, "{total} slots in a {len}-byte file");
            prop_assert!(sizes.addin_size < len, "addin_size {} in a {len}-byte file", sizes.addin_size);
        }
    }
}

/// A real ELF shared object's bytes (the C library), read once.
fn elf_fixture() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/aarch64-linux-gnu/libc.so.6",
        ]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .expect("libc.so.6")
    })
}

proptest! {
    #![proptest_config(config(10))]

    /// `bgworkerctl check` and the supervisor read modules' symbol tables from the file: any
    /// corruption of the ELF header, the section headers or the tables is an error or a list,
    /// never a panic.
    #[test]
    fn reading_a_corrupted_shared_object(
        edits in prop::collection::vec((any::<u64>(), any::<u8>(), 0u8..3), 1..8),
        cut in prop::option::of(any::<u64>()),
    ) {
        let mut d = elf_fixture().to_vec();
        let shoff = u64::from_le_bytes(d[0x28..0x30].try_into().unwrap()) as usize;
        for (at, b, region) in edits {
            let at = at as usize;
            let off = match region {
                0 => at % 64,                                          // the ELF header
                1 => shoff + at % (d.len() - shoff).max(1),            // the section headers
                _ => at % d.len(),                                     // anywhere
            };
            if off < d.len() {
                d[off] = b;
            }
        }
        if let Some(c) = cut {
            d.truncate(c as usize % (d.len() + 1));
        }
        let result = std::panic::catch_unwind(|| bgworker::elf::dynamic_symbols_in(&d).map(|s| s.len()));
        prop_assert!(result.is_ok(), "the ELF reader panicked");
    }
}
