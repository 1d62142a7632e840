//! A byte buffer over a caller's fixed array that truncates instead of growing: log records are
//! built in it on the stack, so writing one allocates nothing (elog may run in a signal handler).

use std::fmt;

/// Bytes written into `buf[..len]`; what does not fit is dropped and remembered in `truncated`.
pub struct Buf<'a> {
    buf: &'a mut [u8],
    len: usize,
    truncated: bool,
    /// What would have been written with room for everything.
    wanted: usize,
}

impl<'a> Buf<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Buf {
            buf,
            len: 0,
            truncated: false,
            wanted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether something did not fit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// How many bytes did not fit.
    pub fn overflow(&self) -> usize {
        self.wanted - self.len
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.wanted = 0;
        self.truncated = false;
    }

    /// Cuts the content back to `len` bytes (a mark taken earlier with `len()`).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
        self.wanted = self.len;
        self.truncated = false;
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let room = self.buf.len() - self.len;
        let n = bytes.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        self.wanted += bytes.len();
        if n < bytes.len() {
            self.truncated = true;
        }
    }

    pub fn byte(&mut self, b: u8) {
        self.push(&[b]);
    }

    pub fn spaces(&mut self, n: usize) {
        for _ in 0..n {
            self.byte(b' ');
        }
    }

    /// `bytes` in a field of `padding` columns as printf's `%*s` does: right-aligned for a
    /// positive width, left-aligned for a negative one; never cut.
    pub fn padded(&mut self, bytes: &[u8], padding: i32) {
        let width = padding.unsigned_abs() as usize;
        let fill = width.saturating_sub(bytes.len());
        if padding > 0 {
            self.spaces(fill);
        }
        self.push(bytes);
        if padding < 0 {
            self.spaces(fill);
        }
    }

    /// A signed decimal number.
    pub fn int(&mut self, v: i64) {
        let mut digits = [0u8; 20];
        let s = decimal(v, &mut digits);
        self.push(s);
    }

    /// A number zero-padded to `width` digits (no sign; for dates and times).
    pub fn zeroed(&mut self, v: u64, width: usize) {
        let mut digits = [0u8; 20];
        let s = decimal(v as i64, &mut digits);
        for _ in s.len()..width {
            self.byte(b'0');
        }
        self.push(s);
    }

    /// A number in lower-case hexadecimal.
    pub fn hex(&mut self, mut v: u64) {
        let mut digits = [0u8; 16];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b"0123456789abcdef"[(v & 15) as usize];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }
}

/// `v` in decimal, written at the end of `out`; the digits (with a sign) as a slice of it.
pub fn decimal(v: i64, out: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = out.len();
    loop {
        i -= 1;
        out[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        out[i] = b'-';
    }
    &out[i..]
}

impl fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_and_pads_as_printf() {
        let mut a = [0u8; 8];
        let mut b = Buf::new(&mut a);
        b.push(b"0123456789");
        assert_eq!(b.as_bytes(), b"01234567");
        assert!(b.truncated());
        let mut a = [0u8; 64];
        let mut b = Buf::new(&mut a);
        b.padded(b"ab", 5);
        b.byte(b'|');
        b.padded(b"ab", -5);
        b.byte(b'|');
        b.padded(b"abcdef", 3);
        b.byte(b'|');
        b.int(-42);
        b.byte(b'|');
        b.zeroed(7, 3);
        b.byte(b'|');
        b.hex(0x65a1b2c3);
        assert_eq!(b.as_bytes(), b"   ab|ab   |abcdef|-42|007|65a1b2c3");
    }
}
