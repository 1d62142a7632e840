//! The dynamic symbol table of a shared object, read from its file without loading it: which
//! names a module needs from elsewhere (`bgworkerctl check`, the supervisor's count of server
//! functions a preloaded module references that are not implemented) and which a library defines.

use std::path::Path;

/// One entry of `.dynsym`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynSymbol {
    pub name: String,
    /// Defined in this object (else a reference to be resolved elsewhere).
    pub defined: bool,
    /// `STT_FUNC` (or a GNU indirect function).
    pub function: bool,
}

fn read<const N: usize>(data: &[u8], base: usize, off: usize) -> Result<[u8; N], String> {
    let at = base.checked_add(off).ok_or("bad ELF offset")?;
    data.get(at..at.checked_add(N).ok_or("bad ELF offset")?)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| "truncated ELF file".to_string())
}

fn u16_at(d: &[u8], base: usize, off: usize) -> Result<u16, String> {
    Ok(u16::from_le_bytes(read(d, base, off)?))
}

fn u32_at(d: &[u8], base: usize, off: usize) -> Result<u32, String> {
    Ok(u32::from_le_bytes(read(d, base, off)?))
}

fn u64_at(d: &[u8], base: usize, off: usize) -> Result<usize, String> {
    usize::try_from(u64::from_le_bytes(read(d, base, off)?))
        .map_err(|_| "ELF offset too large".into())
}

/// The dynamic symbols of the 64-bit little-endian ELF file at `path` (what every platform
/// libbgworker builds for uses).
pub fn dynamic_symbols(path: &Path) -> Result<Vec<DynSymbol>, String> {
    let d =
        std::fs::read(path).map_err(|e| format!("could not read \"{}\": {e}", path.display()))?;
    dynamic_symbols_in(&d).map_err(|e| {
        format!(
            "\"{}\" is not a shared object this can read: {e}",
            path.display()
        )
    })
}

/// The dynamic symbols of an ELF file's bytes; an error (never a panic) for any other bytes.
pub fn dynamic_symbols_in(d: &[u8]) -> Result<Vec<DynSymbol>, String> {
    if d.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file".into());
    }
    if d.get(4) != Some(&2) || d.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    const SHT_DYNSYM: u32 = 11;
    let shoff = u64_at(d, 0, 0x28)?;
    let shentsize = usize::from(u16_at(d, 0, 0x3A)?);
    let shnum = usize::from(u16_at(d, 0, 0x3C)?);
    // (type, link, offset, size, entsize) of each section header.
    let section = |i: usize| -> Result<(u32, usize, usize, usize, usize), String> {
        let at = i
            .checked_mul(shentsize)
            .and_then(|o| o.checked_add(shoff))
            .ok_or("bad section header offset")?;
        Ok((
            u32_at(d, at, 4)?,
            u32_at(d, at, 40)? as usize,
            u64_at(d, at, 24)?,
            u64_at(d, at, 32)?,
            u64_at(d, at, 56)?,
        ))
    };
    let mut out = Vec::new();
    for i in 0..shnum {
        let (kind, link, offset, size, entsize) = section(i)?;
        if kind != SHT_DYNSYM || entsize < 24 {
            continue;
        }
        let (_, _, str_offset, str_size, _) = section(link)?;
        let strings = str_offset
            .checked_add(str_size)
            .and_then(|end| d.get(str_offset..end))
            .ok_or("truncated string table")?;
        let end = offset.checked_add(size).ok_or("bad symbol table size")?;
        // Entry 0 is the null symbol.
        for at in (offset.saturating_add(entsize)..end).step_by(entsize) {
            let name_off = u32_at(d, at, 0)? as usize;
            let info = read::<1>(d, at, 4)?[0];
            let shndx = u16_at(d, at, 6)?;
            let name = strings
                .get(name_off..)
                .and_then(|s| s.split(|&b| b == 0).next())
                .ok_or("bad symbol name")?;
            if name.is_empty() {
                continue;
            }
            out.push(DynSymbol {
                name: String::from_utf8_lossy(name).into_owned(),
                defined: shndx != 0,
                function: matches!(info & 0xF, 2 | 10),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_shared_object() {
        // libc defines `malloc` as a function.
        let syms = dynamic_symbols(Path::new("/lib/x86_64-linux-gnu/libc.so.6"))
            .or_else(|_| dynamic_symbols(Path::new("/lib/aarch64-linux-gnu/libc.so.6")))
            .expect("libc.so.6");
        let malloc = syms.iter().find(|s| s.name == "malloc").expect("malloc");
        assert!(malloc.defined && malloc.function);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(dynamic_symbols_in(b"").is_err());
        assert!(dynamic_symbols_in(b"\x7fELF\x02\x01").is_err());
        let mut d = vec![0u8; 64];
        d[..6].copy_from_slice(b"\x7fELF\x02\x01");
        d[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        d[0x3C] = 3;
        assert!(dynamic_symbols_in(&d).is_err());
    }
}
