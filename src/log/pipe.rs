//! The collector's pipe protocol. Every process writes its log records into one pipe, so a
//! record must reach the collector whole, never interleaved with another process's: each
//! `write` is one chunk of at most `PIPE_BUF` bytes (which the kernel keeps in one piece), a
//! header naming the writer's pid, the destination and whether more chunks follow, then the
//! payload. The collector joins a process's chunks back into its record. Anything else in the
//! pipe (a module's own `fprintf(stderr)`) is taken as plain stderr text.

use std::collections::HashMap;

/// The most one write carries: `PIPE_BUF`, which a pipe never splits nor interleaves.
pub const CHUNK_SIZE: usize = libc::PIPE_BUF;
/// Two NULs, a 16-bit length, a 32-bit pid, a flags byte.
pub const HEADER_SIZE: usize = 9;
pub const MAX_PAYLOAD: usize = CHUNK_SIZE - HEADER_SIZE;

/// Destinations (one per record) and chunk flags.
pub const DEST_STDERR: u8 = 0x01;
pub const DEST_CSVLOG: u8 = 0x02;
pub const DEST_JSONLOG: u8 = 0x04;
const DEST_MASK: u8 = DEST_STDERR | DEST_CSVLOG | DEST_JSONLOG;
/// The record's first chunk: a partial record the collector still holds for that pid was lost
/// on the way (its writer gave up on the rest) and is dropped.
pub const FIRST: u8 = 0x10;
/// The record's last chunk.
pub const LAST: u8 = 0x20;

/// Fills `chunk` with the header and payload of one chunk; returns its length.
pub fn encode(chunk: &mut [u8; CHUNK_SIZE], pid: i32, flags: u8, payload: &[u8]) -> usize {
    debug_assert!(!payload.is_empty() && payload.len() <= MAX_PAYLOAD);
    chunk[0] = 0;
    chunk[1] = 0;
    chunk[2..4].copy_from_slice(&(payload.len() as u16).to_le_bytes());
    chunk[4..8].copy_from_slice(&pid.to_le_bytes());
    chunk[8] = flags;
    chunk[HEADER_SIZE..HEADER_SIZE + payload.len()].copy_from_slice(payload);
    HEADER_SIZE + payload.len()
}

/// Splits `record` into chunks and hands each to `write` in order; stops (false) as soon as one
/// is refused.
pub fn send_chunks(
    record: &[u8],
    pid: i32,
    dest: u8,
    mut write: impl FnMut(&[u8]) -> bool,
) -> bool {
    let mut chunk = [0u8; CHUNK_SIZE];
    let mut first = true;
    let mut rest = record;
    while !rest.is_empty() {
        let n = rest.len().min(MAX_PAYLOAD);
        let mut flags = dest;
        if first {
            flags |= FIRST;
        }
        if n == rest.len() {
            flags |= LAST;
        }
        let len = encode(&mut chunk, pid, flags, &rest[..n]);
        if !write(&chunk[..len]) {
            return false;
        }
        first = false;
        rest = &rest[n..];
    }
    true
}

/// The collector's side: joins chunks back into records, per writer.
#[derive(Default)]
pub struct Assembler {
    partial: HashMap<i32, (u8, Vec<u8>)>,
}

impl Assembler {
    /// Takes what was read from the pipe; calls `record(dest, bytes)` for each complete record
    /// (plain text counts as `DEST_STDERR`). Returns how many bytes were used: the rest, a chunk
    /// not yet whole, is to be offered again with more data after it.
    pub fn feed(&mut self, data: &[u8], mut record: impl FnMut(u8, &[u8])) -> usize {
        let mut at = 0;
        while at < data.len() {
            let rest = &data[at..];
            if rest[0] == 0 && rest.len() < HEADER_SIZE {
                break; // maybe the start of a header: wait for more
            }
            if let Some((pid, flags, len)) = header(rest) {
                if rest.len() < HEADER_SIZE + len {
                    break;
                }
                let payload = &rest[HEADER_SIZE..HEADER_SIZE + len];
                let dest = flags & DEST_MASK;
                if flags & FIRST != 0 {
                    self.partial.remove(&pid);
                }
                if flags & LAST != 0 {
                    match self.partial.remove(&pid) {
                        Some((d, mut buf)) => {
                            buf.extend_from_slice(payload);
                            record(d, &buf);
                        }
                        None => record(dest, payload),
                    }
                } else {
                    self.partial
                        .entry(pid)
                        .or_insert_with(|| (dest, Vec::new()))
                        .1
                        .extend_from_slice(payload);
                }
                at += HEADER_SIZE + len;
                continue;
            }
            // Plain text, up to the next NUL (where a chunk may start).
            let end = rest[1..]
                .iter()
                .position(|&b| b == 0)
                .map_or(rest.len(), |i| i + 1);
            record(DEST_STDERR, &rest[..end]);
            at += end;
        }
        at
    }

    /// At the end (the pipe closed): records never finished are dropped, as their writers
    /// counted them lost. How many there were.
    pub fn abandon(&mut self) -> usize {
        let n = self.partial.len();
        self.partial.clear();
        n
    }
}

/// A valid header at the start of `b`: (pid, flags, payload length).
fn header(b: &[u8]) -> Option<(i32, u8, usize)> {
    if b.len() < HEADER_SIZE || b[0] != 0 || b[1] != 0 {
        return None;
    }
    let len = u16::from_le_bytes([b[2], b[3]]) as usize;
    let pid = i32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let flags = b[8];
    let dest = flags & DEST_MASK;
    let valid = len > 0
        && len <= MAX_PAYLOAD
        && pid != 0
        && dest.count_ones() == 1
        && flags & !(DEST_MASK | FIRST | LAST) == 0;
    valid.then_some((pid, flags, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(record: &[u8], pid: i32, dest: u8) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        send_chunks(record, pid, dest, |c| {
            assert!(c.len() <= CHUNK_SIZE);
            out.push(c.to_vec());
            true
        });
        out
    }

    #[test]
    fn interleaved_chunks_of_long_records_come_back_whole() {
        let a: Vec<u8> = (0..10_000).map(|i| b'a' + (i % 26) as u8).collect();
        let b: Vec<u8> = (0..9_000).map(|i| b'A' + (i % 26) as u8).collect();
        let ca = chunks(&a, 100, DEST_STDERR);
        let cb = chunks(&b, 200, DEST_CSVLOG);
        assert_eq!(ca.len(), 3);
        let mut stream = Vec::new();
        for (i, chunk) in ca.iter().enumerate() {
            stream.extend_from_slice(chunk);
            if let Some(c) = cb.get(i) {
                stream.extend_from_slice(c);
            }
            if i == 0 {
                stream.extend_from_slice(b"plain text from a module\n");
            }
        }
        let mut asm = Assembler::default();
        let mut got = Vec::new();
        // Fed in awkward pieces, as reads may return them.
        let mut pending: Vec<u8> = Vec::new();
        for piece in stream.chunks(1000) {
            pending.extend_from_slice(piece);
            let used = asm.feed(&pending, |d, r| got.push((d, r.to_vec())));
            pending.drain(..used);
        }
        assert!(pending.is_empty());
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (DEST_STDERR, b"plain text from a module\n".to_vec())
        );
        assert!(got.contains(&(DEST_STDERR, a.clone())));
        assert!(got.contains(&(DEST_CSVLOG, b.clone())));
    }

    #[test]
    fn a_record_abandoned_half_way_is_dropped_at_its_writers_next_record() {
        let long = vec![b'x'; 6000];
        let c = chunks(&long, 7, DEST_STDERR);
        let next = chunks(b"next\n", 7, DEST_STDERR);
        let mut stream = c[0].clone();
        stream.extend_from_slice(&next[0]);
        let mut asm = Assembler::default();
        let mut got = Vec::new();
        asm.feed(&stream, |d, r| got.push((d, r.to_vec())));
        assert_eq!(got, vec![(DEST_STDERR, b"next\n".to_vec())]);
        assert_eq!(asm.abandon(), 0);
    }
}
