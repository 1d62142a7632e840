//! Variable-length values (`text`, `bytea`: PostgreSQL's varlena) and the list-splitting helpers
//! PostgreSQL keeps beside them in `utils/adt/varlena.c` (`SplitIdentifierString`,
//! `SplitDirectoriesString`, `SplitGUCList`).
//!
//! Values here are never compressed nor stored out of line (there is no TOAST storage to fetch
//! them from): a 4-byte or 1-byte header, then the bytes. Detoasting therefore only widens a
//! 1-byte header; a compressed or external value handed in by a module is an ERROR naming the
//! function.

use crate::list::{self, List, ListCell};
use crate::mcxt;
use crate::nodes::T_List;
use crate::pg::types::{ERROR, MAXPGPATH, NAMEDATALEN};
use libc::{c_char, c_void};
use std::ptr::null_mut;

/// `VARHDRSZ`.
pub const VARHDRSZ: usize = 4;

/// What a varlena's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// 4-byte header, uncompressed: `total` bytes, header included.
    Long { total: usize },
    /// 1-byte header (a packed short value): `total` bytes, header included.
    Short { total: usize },
    /// Compressed inline.
    Compressed,
    /// A TOAST pointer.
    External,
}

/// Reads the header of the varlena at `p` (PostgreSQL's little-endian layout).
///
/// # Safety
/// `p` must point to a varlena's first byte (and, for a 4-byte header, its first four bytes).
pub unsafe fn header(p: *const u8) -> Header {
    // SAFETY: as the caller promises.
    unsafe {
        let b = *p;
        if b == 0x01 {
            Header::External
        } else if b & 0x01 == 0x01 {
            Header::Short {
                total: (b >> 1) as usize,
            }
        } else if b & 0x03 == 0x02 {
            Header::Compressed
        } else {
            Header::Long {
                total: ((p.cast::<u32>().read_unaligned() >> 2) & 0x3FFF_FFFF) as usize,
            }
        }
    }
}

/// The bytes of a varlena that is neither compressed nor external; otherwise an ERROR saying
/// `function` cannot take it.
///
/// # Safety
/// `p` must be a live varlena.
pub unsafe fn bytes<'a>(function: &str, p: *const c_void) -> &'a [u8] {
    if p.is_null() {
        crate::pg::raise_fmt(ERROR, 0, format_args!("{function}: the value is NULL"));
    }
    let p = p.cast::<u8>();
    // SAFETY: as the caller promises; the sizes come from the header.
    unsafe {
        match header(p) {
            Header::Long { total } => {
                std::slice::from_raw_parts(p.add(VARHDRSZ), total.saturating_sub(VARHDRSZ))
            }
            Header::Short { total } => {
                std::slice::from_raw_parts(p.add(1), total.saturating_sub(1))
            }
            h => unsupported(function, h),
        }
    }
}

fn unsupported(function: &str, h: Header) -> ! {
    let what = if h == Header::Compressed {
        "a compressed value"
    } else {
        "a TOAST pointer to a value stored out of line"
    };
    crate::pg::raise_fmt(
        ERROR,
        crate::pg::make_sqlstate(b"0A000"),
        format_args!("{function}: {what} cannot be read here: bgworkerd has no TOAST storage"),
    )
}

/// A new varlena with a 4-byte header holding `data`, in `CurrentMemoryContext`.
pub fn make(data: &[u8]) -> *mut c_void {
    let p = mcxt::alloc(data.len() + VARHDRSZ, false).cast::<u8>();
    // SAFETY: p has room for the header and the data.
    unsafe {
        p.cast::<u32>()
            .write_unaligned(((data.len() + VARHDRSZ) as u32) << 2);
        std::ptr::copy_nonoverlapping(data.as_ptr(), p.add(VARHDRSZ), data.len());
    }
    p.cast()
}

/// `pg_detoast_datum`: the value itself when it has a 4-byte header, else a copy that has one.
///
/// # Safety
/// `p` must be a live varlena.
pub unsafe fn detoast(function: &str, p: *mut c_void) -> *mut c_void {
    // SAFETY: as the caller promises.
    unsafe {
        if !p.is_null() && matches!(header(p.cast()), Header::Long { .. }) {
            return p;
        }
        make(bytes(function, p))
    }
}

/// `pg_detoast_datum_packed`: the value itself (a 1-byte header is fine).
///
/// # Safety
/// As for `detoast`.
pub unsafe fn detoast_packed(function: &str, p: *mut c_void) -> *mut c_void {
    // SAFETY: as the caller promises; `bytes` raises for what cannot be read.
    unsafe {
        let _ = bytes(function, p);
    }
    p
}

/// `text_to_cstring`: a NUL-terminated copy in `CurrentMemoryContext`.
///
/// # Safety
/// As for `detoast`.
pub unsafe fn to_cstring(p: *const c_void) -> *mut c_char {
    // SAFETY: as the caller promises.
    unsafe {
        let b = bytes("text_to_cstring", p);
        mcxt::copy_string(mcxt::CurrentMemoryContext, b.as_ptr().cast(), b.len())
    }
}

/// `text_to_cstring_buffer`: the text copied into `dst` (`dst_len` bytes), truncated to fit and
/// always NUL-terminated (nothing is written when `dst_len` is 0).
///
/// # Safety
/// `p` a live varlena; `dst` writable for `dst_len` bytes.
pub unsafe fn to_cstring_buffer(p: *const c_void, dst: *mut c_char, dst_len: usize) {
    // SAFETY: as the caller promises.
    unsafe {
        let b = bytes("text_to_cstring_buffer", p);
        if dst_len == 0 {
            return;
        }
        let n = b.len().min(dst_len - 1);
        std::ptr::copy_nonoverlapping(b.as_ptr(), dst.cast::<u8>(), n);
        *dst.add(n) = 0;
    }
}

// ---- splitting lists of names --------------------------------------------------------------

/// What the parts of a split list are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// SQL identifiers: unquoted ones down-cased, all truncated to `NAMEDATALEN - 1` bytes.
    Identifiers,
    /// Directories: copies, canonicalised; unquoted ones may contain blanks.
    Directories,
    /// Setting values (`GUC_LIST_QUOTE` lists): kept as written.
    GucList,
}

/// PostgreSQL's `scanner_isspace`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// `SplitIdentifierString`, `SplitDirectoriesString`, `SplitGUCList`: splits `raw` at
/// `separator` into `*namelist` (a new pointer list, NIL for an empty string); quoted parts
/// may hold the separator and `""`. `raw` is modified in place and the names (but for
/// directories, which are copied) point into it. Returns false on bad syntax (the list then
/// holds the names read so far).
///
/// # Safety
/// `raw` must be a writable NUL-terminated string; `namelist` writable.
pub unsafe fn split(
    raw: *mut c_char,
    separator: c_char,
    kind: Split,
    namelist: *mut *mut List,
) -> bool {
    let sep = separator as u8;
    // SAFETY: as the caller promises; every index stays within the string and its NUL, which
    // only moves towards the start (a removed quote, a written terminator).
    unsafe {
        *namelist = null_mut();
        let s = raw.cast::<u8>();
        let at = |i: usize| *s.add(i);
        let mut i = 0;
        while is_space(at(i)) {
            i += 1;
        }
        if at(i) == 0 {
            return true;
        }
        loop {
            let start;
            let end;
            if at(i) == b'"' {
                start = i + 1;
                let mut from = i + 1;
                loop {
                    let Some(q) = find(s, from, b'"') else {
                        return false; // an unmatched quote
                    };
                    if at(q + 1) != b'"' {
                        end = q;
                        break;
                    }
                    // A doubled quote stands for one: drop the first, look past the second.
                    let rest = libc::strlen(s.add(q + 1).cast()) + 1;
                    std::ptr::copy(s.add(q + 1), s.add(q), rest);
                    from = q + 1;
                }
                i = end + 1;
            } else {
                start = i;
                let mut last = i;
                while at(i) != 0 && at(i) != sep {
                    if is_space(at(i)) {
                        if kind != Split::Directories {
                            break;
                        }
                    } else {
                        last = i + 1;
                    }
                    i += 1;
                }
                end = if kind == Split::Directories { last } else { i };
                if end == start {
                    return false; // an empty unquoted name
                }
                if kind == Split::Identifiers {
                    for k in start..end {
                        *s.add(k) = at(k).to_ascii_lowercase();
                    }
                }
            }
            while is_space(at(i)) {
                i += 1;
            }
            let done = if at(i) == sep {
                i += 1;
                while is_space(at(i)) {
                    i += 1;
                }
                false
            } else if at(i) == 0 {
                true
            } else {
                return false; // something after a name that is not the separator
            };
            *s.add(end) = 0;
            let mut name = s.add(start).cast::<c_char>();
            match kind {
                Split::Identifiers => {
                    if end - start >= NAMEDATALEN as usize {
                        *name.add(NAMEDATALEN as usize - 1) = 0;
                    }
                }
                Split::Directories => {
                    if end - start >= MAXPGPATH as usize {
                        *name.add(MAXPGPATH as usize - 1) = 0;
                    }
                    name = mcxt::strdup(name);
                    canonicalize_path(name);
                }
                Split::GucList => {}
            }
            *namelist = list::append(
                *namelist,
                T_List,
                ListCell {
                    ptr_value: name.cast(),
                },
            );
            if done {
                return true;
            }
        }
    }
}

/// Index of the first `byte` at or after `from` in the NUL-terminated string `s`.
///
/// # Safety
/// `from` within `s` or at its NUL.
unsafe fn find(s: *const u8, from: usize, byte: u8) -> Option<usize> {
    let mut i = from;
    // SAFETY: walks the string up to its NUL.
    unsafe {
        while *s.add(i) != 0 {
            if *s.add(i) == byte {
                return Some(i);
            }
            i += 1;
        }
    }
    None
}

/// PostgreSQL's `canonicalize_path`, in place: no repeated or trailing `/`, no `.` components,
/// `..` cancelling the name before it (a leading `..` kept in a relative path, dropped after
/// the root); an empty relative result is `.`.
///
/// # Safety
/// `path` must be a writable NUL-terminated string.
pub unsafe fn canonicalize_path(path: *mut c_char) {
    // SAFETY: as the caller promises; the result is never longer than the input.
    unsafe {
        let len = libc::strlen(path);
        if len == 0 {
            return;
        }
        let bytes = std::slice::from_raw_parts(path.cast::<u8>(), len);
        let absolute = bytes[0] == b'/';
        let mut parts: Vec<&[u8]> = Vec::new();
        for part in bytes.split(|&b| b == b'/').filter(|p| !p.is_empty()) {
            match part {
                b"." => {}
                b".." => match parts.last() {
                    Some(&last) if last != b".." => {
                        parts.pop();
                    }
                    None if absolute => {}
                    _ => parts.push(part),
                },
                _ => parts.push(part),
            }
        }
        let mut out: Vec<u8> = Vec::with_capacity(len);
        if absolute {
            out.push(b'/');
        }
        out.extend_from_slice(&parts.join(&b'/'));
        if out.is_empty() {
            out.push(b'.');
        }
        std::ptr::copy_nonoverlapping(out.as_ptr(), path.cast::<u8>(), out.len());
        *path.add(out.len()) = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{CStr, CString};

    fn canon(p: &str) -> String {
        let c = CString::new(p).unwrap().into_raw();
        // SAFETY: c is a writable NUL-terminated string we own.
        unsafe {
            canonicalize_path(c);
            CString::from_raw(c).into_string().unwrap()
        }
    }

    #[test]
    fn paths_are_canonicalised_as_postgresql_does() {
        assert_eq!(canon("/a//b/./c/"), "/a/b/c");
        assert_eq!(canon("/a/b/../c"), "/a/c");
        assert_eq!(canon("/.."), "/");
        assert_eq!(canon("a/.."), ".");
        assert_eq!(canon("../a/../.."), "../..");
        assert_eq!(canon("./x"), "x");
        assert_eq!(canon("/"), "/");
    }

    fn names(list: *const List) -> Vec<String> {
        // SAFETY: lists of C strings made by split.
        unsafe {
            list::cells(list)
                .iter()
                .map(|c| {
                    CStr::from_ptr(c.ptr_value.cast())
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
        }
    }

    fn run(input: &str, kind: Split) -> (bool, Vec<String>) {
        let raw = CString::new(input).unwrap().into_raw();
        let mut list = null_mut();
        // SAFETY: raw is writable; the names point into it, read before it is freed.
        unsafe {
            let ok = split(raw, b',' as c_char, kind, &mut list);
            let out = names(list);
            drop(CString::from_raw(raw));
            (ok, out)
        }
    }

    #[test]
    fn identifiers_are_downcased_unless_quoted() {
        assert_eq!(
            run(" Foo , \"Bar\"\"x\", baz ", Split::Identifiers),
            (true, vec!["foo".into(), "Bar\"x".into(), "baz".into()])
        );
        assert_eq!(run("", Split::Identifiers), (true, vec![]));
        assert!(!run("a,,b", Split::Identifiers).0);
        assert!(!run("a b", Split::Identifiers).0);
        assert!(!run("\"open", Split::Identifiers).0);
        assert_eq!(
            run("/a dir/x/ , /b//", Split::Directories),
            (true, vec!["/a dir/x".into(), "/b".into()])
        );
        assert_eq!(
            run("A, \"B,C\"", Split::GucList),
            (true, vec!["A".into(), "B,C".into()])
        );
    }
}
