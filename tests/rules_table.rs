//! `docs/rules.md` is the table of the numbered rules code comments cite (`EXIT-4`, `NTF-3c`, …).
//! It stays honest: every tag cited anywhere in the sources, tests, C tests, headers, examples
//! and benchmarks has a row, and every test a row names exists and is a test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where tags are cited.
const CITING_DIRS: &[&str] = &["src", "tests", "c_tests", "bench", "include", "examples"];

/// Words shaped like tags that are not rules, by their capitals.
const NOT_RULES: &[&str] = &["UTF"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rules_text() -> String {
    std::fs::read_to_string(root().join("docs/rules.md")).expect("docs/rules.md")
}

/// Every text file under `dir` (hidden entries skipped, files that are not UTF-8 too).
fn text_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        if p.is_dir() {
            todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(text) = std::fs::read_to_string(&p) {
            out.push((p, text));
        }
    }
    out
}

fn is_word(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
}

/// The digits starting at `at`, and where they end.
fn number_at(chars: &[char], at: usize) -> Option<(u32, usize)> {
    let end = (at..chars.len())
        .find(|&i| !chars[i].is_ascii_digit())
        .unwrap_or(chars.len());
    let text: String = chars[at..end].iter().collect();
    text.parse().ok().map(|n| (n, end))
}

/// The tags in `text`: a group of 2 to 6 capitals, `-`, a number and perhaps one small letter,
/// standing alone (`NTF-3c`). A range cites every rule in it (`HND-8..10`), a list each rule
/// named (`EXIT-1/2`, `NTF-3a/b`, `DYN-10/11`).
fn cited_tags(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tags = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        if !chars[i].is_ascii_uppercase() || (i > 0 && is_word(chars.get(i - 1))) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_uppercase() {
            j += 1;
        }
        let group: String = chars[i..j].iter().collect();
        i = j.max(i + 1);
        if !(2..=6).contains(&group.len()) || chars.get(j) != Some(&'-') {
            continue;
        }
        let Some((number, mut end)) = number_at(&chars, j + 1) else {
            continue;
        };
        let mut letter = None;
        if chars.get(end).is_some_and(|c| c.is_ascii_lowercase()) && !is_word(chars.get(end + 1)) {
            letter = Some(chars[end]);
            end += 1;
        }
        if is_word(chars.get(end)) || NOT_RULES.contains(&group.as_str()) {
            i = end.max(start + 1);
            continue;
        }
        let tag = |n: u32, l: Option<char>| {
            format!("{group}-{n}{}", l.map(String::from).unwrap_or_default())
        };
        tags.push(tag(number, letter));
        // Ranges and lists following the tag.
        loop {
            if letter.is_none() && chars.get(end) == Some(&'.') && chars.get(end + 1) == Some(&'.')
            {
                if let Some((last, after)) = number_at(&chars, end + 2) {
                    if !is_word(chars.get(after)) && last > number {
                        tags.extend((number + 1..=last).map(|n| tag(n, None)));
                        end = after;
                        continue;
                    }
                }
            }
            if chars.get(end) == Some(&'/') {
                if let Some((n, after)) = number_at(&chars, end + 1) {
                    if letter.is_none() && !is_word(chars.get(after)) {
                        tags.push(tag(n, None));
                        end = after;
                        continue;
                    }
                }
                let next = chars.get(end + 1);
                if letter.is_some()
                    && next.is_some_and(|c| c.is_ascii_lowercase())
                    && !is_word(chars.get(end + 2))
                {
                    tags.push(tag(number, next.copied()));
                    end += 2;
                    continue;
                }
            }
            break;
        }
        i = end;
    }
    tags
}

/// The rows of docs/rules.md: tag → its line.
fn rows() -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    let mut twice = Vec::new();
    for line in rules_text().lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[0].is_empty() {
            continue;
        }
        if cited_tags(cells[1]) != [cells[1]] {
            continue;
        }
        if rows
            .insert(cells[1].to_string(), line.to_string())
            .is_some()
        {
            twice.push(cells[1].to_string());
        }
    }
    assert!(twice.is_empty(), "tags with more than one row: {twice:?}");
    assert!(
        rows.len() > 50,
        "docs/rules.md has only {} rows",
        rows.len()
    );
    rows
}

#[test]
fn every_cited_tag_has_a_row() {
    let rows = rows();
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for dir in CITING_DIRS {
        for (path, text) in text_files(&root().join(dir)) {
            for tag in cited_tags(&text) {
                if !rows.contains_key(&tag) {
                    let at = path.strip_prefix(root()).unwrap_or(&path);
                    missing
                        .entry(tag)
                        .or_default()
                        .insert(at.display().to_string());
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tags cited but missing from docs/rules.md (tag: where): {missing:#?}"
    );
}

/// `path::name` of every Rust test a line names, and every C check.
fn named_tests(line: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut rust = Vec::new();
    let mut c = Vec::new();
    for (at, _) in line.match_indices("tests/") {
        let before = line[..at].chars().next_back();
        let rest = &line[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_/.:-".contains(c)))
            .unwrap_or(rest.len());
        let reference = rest[..end].trim_end_matches(['.', ':']);
        if before == Some('_') && line[..at].ends_with("c_") {
            c.push(format!("c_{reference}"));
        } else if !is_word(before.as_ref()) {
            let (file, name) = reference
                .split_once("::")
                .unwrap_or_else(|| panic!("{reference:?} names no test (tests/FILE.rs::TEST)"));
            rust.push((file.to_string(), name.to_string()));
        }
    }
    (rust, c)
}

/// Whether `text` has `fn name(` with `#[test]` among the attributes right above it.
fn has_test(text: &str, name: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().any(|(i, l)| {
        l.trim_start().starts_with(&format!("fn {name}("))
            && lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
                .any(|l| l == "#[test]")
    })
}

#[test]
fn every_named_test_exists() {
    let mut wrong = Vec::new();
    let mut untested = 0;
    for (tag, line) in rows() {
        let tests = line.rsplit('|').nth(1).unwrap_or("").trim();
        let (rust, c) = named_tests(tests);
        if rust.is_empty() && c.is_empty() {
            if tests == "no test" {
                untested += 1;
            } else {
                wrong.push(format!(
                    "{tag}: name its tests or say \"no test\": {tests:?}"
                ));
            }
        }
        for (file, name) in rust {
            match std::fs::read_to_string(root().join(&file)) {
                Ok(text) if has_test(&text, &name) => {}
                Ok(_) => wrong.push(format!("{tag}: no test fn {name} in {file}")),
                Err(e) => wrong.push(format!("{tag}: {file}: {e}")),
            }
        }
        for check in c {
            if !root().join(&check).is_file() {
                wrong.push(format!("{tag}: no {check}"));
            }
        }
    }
    eprintln!("rules without a test: {untested}");
    assert!(wrong.is_empty(), "docs/rules.md: {wrong:#?}");
}

#[test]
fn tags_are_read_as_cited() {
    assert_eq!(cited_tags("(NTF-3c, EXIT-4) UTF-8"), ["NTF-3c", "EXIT-4"]);
    assert_eq!(cited_tags("HND-8..10."), ["HND-8", "HND-9", "HND-10"]);
    assert_eq!(
        cited_tags("EXIT-1/2, NTF-3a/b, DYN-10/11"),
        ["EXIT-1", "EXIT-2", "NTF-3a", "NTF-3b", "DYN-10", "DYN-11"]
    );
    assert_eq!(
        cited_tags("WEXIT-1 xPM-1 PM-1xy PM-12ab NTF-* A-1 ABCDEFG-1"),
        ["WEXIT-1"]
    );
}
