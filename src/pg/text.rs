//! Names a module wrote (a worker's `bgw_name`, `bgw_type`), shown in log lines and process
//! titles as text: UTF-8 kept, control characters and bytes that are not UTF-8 written as
//! `\xNN`, so a module that left a field uninitialised cannot break a log line or a title.

use std::fmt;

/// Escapes `src` into `dst`; returns the bytes written (truncated at a whole escape when `dst`
/// is too small). Allocates nothing: usable while a worker starts.
pub fn escape_into(src: &[u8], dst: &mut [u8]) -> usize {
    let mut n = 0;
    let mut put = |piece: &[u8], n: &mut usize| -> bool {
        if *n + piece.len() > dst.len() {
            return false;
        }
        dst[*n..*n + piece.len()].copy_from_slice(piece);
        *n += piece.len();
        true
    };
    for chunk in src.utf8_chunks() {
        for c in chunk.valid().chars() {
            let mut buf = [0u8; 4];
            let ok = if c.is_control() {
                put(&hex(c as u32 as u8), &mut n)
            } else {
                put(c.encode_utf8(&mut buf).as_bytes(), &mut n)
            };
            if !ok {
                return n;
            }
        }
        for &b in chunk.invalid() {
            if !put(&hex(b), &mut n) {
                return n;
            }
        }
    }
    n
}

fn hex(b: u8) -> [u8; 4] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [
        b'\\',
        b'x',
        DIGITS[(b >> 4) as usize],
        DIGITS[(b & 15) as usize],
    ]
}

/// `escape_into` for `format_args!`: the escaping happens as it is formatted.
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_control() {
                    write!(f, "\\x{:02x}", c as u32)?;
                } else {
                    write!(f, "{c}")?;
                }
            }
            for &b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(b: &[u8]) -> String {
        Escaped(b).to_string()
    }

    #[test]
    fn text_stays_and_the_rest_is_escaped() {
        assert_eq!(esc(b"ticker worker"), "ticker worker");
        assert_eq!(esc("café".as_bytes()), "café");
        assert_eq!(esc(b"a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
        assert_eq!(esc(b"\xff\xfe garbage"), "\\xff\\xfe garbage");
        let mut small = [0u8; 6];
        assert_eq!(escape_into(b"ab\x01cd", &mut small), 6);
        assert_eq!(&small, b"ab\\x01");
    }
}
