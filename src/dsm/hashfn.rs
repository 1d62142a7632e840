//! PostgreSQL 15's hash functions for keys (`common/hashfn.h`): `hash_bytes` and
//! `hash_bytes_uint32` (Bob Jenkins' lookup3 mixing, with PostgreSQL's seed), and the ones
//! dynahash picks (`tag_hash`, `uint32_hash`, `string_hash`). The same key hashes to the same
//! value as in PostgreSQL, so a module that stores hash values or partitions by them sees
//! PostgreSQL's numbers.

fn rot(x: u32, k: u32) -> u32 {
    x.rotate_left(k)
}

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= rot(*c, 4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= rot(*a, 6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= rot(*b, 8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= rot(*c, 16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= rot(*a, 19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= rot(*b, 4);
    *b = b.wrapping_add(*a);
}

fn final_mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(rot(*b, 14));
    *a ^= *c;
    *a = a.wrapping_sub(rot(*c, 11));
    *b ^= *a;
    *b = b.wrapping_sub(rot(*a, 25));
    *c ^= *b;
    *c = c.wrapping_sub(rot(*b, 16));
    *a ^= *c;
    *a = a.wrapping_sub(rot(*c, 4));
    *b ^= *a;
    *b = b.wrapping_sub(rot(*a, 14));
    *c ^= *b;
    *c = c.wrapping_sub(rot(*b, 24));
}

const SEED: u32 = 0x9e37_79b9u32.wrapping_add(3_923_095);

fn le(k: &[u8]) -> u32 {
    k.iter()
        .take(4)
        .enumerate()
        .fold(0u32, |v, (i, &b)| v | u32::from(b) << (8 * i))
}

/// `hash_bytes`: the 32-bit hash of `k`.
pub fn hash_bytes(k: &[u8]) -> u32 {
    let len = k.len() as u32;
    let (mut a, mut b, mut c) = (
        SEED.wrapping_add(len),
        SEED.wrapping_add(len),
        SEED.wrapping_add(len),
    );
    let mut rest = k;
    while rest.len() >= 12 {
        a = a.wrapping_add(le(&rest[0..4]));
        b = b.wrapping_add(le(&rest[4..8]));
        c = c.wrapping_add(le(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    // The last 0..11 bytes, little-endian; c's lowest byte is left for the length.
    let n = rest.len();
    if n > 8 {
        c = c.wrapping_add(le(&rest[8..n]) << 8);
    }
    if n > 4 {
        b = b.wrapping_add(le(&rest[4..n.min(8)]));
    }
    if n > 0 {
        a = a.wrapping_add(le(&rest[0..n.min(4)]));
    }
    final_mix(&mut a, &mut b, &mut c);
    c
}

/// `hash_bytes_uint32`: the hash of one 32-bit value.
pub fn hash_bytes_uint32(k: u32) -> u32 {
    let s = SEED.wrapping_add(4);
    let (mut a, mut b, mut c) = (s.wrapping_add(k), s, s);
    final_mix(&mut a, &mut b, &mut c);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values PostgreSQL 15.18 gives for `SELECT hashtext('…')` (hash_bytes of the text's
    /// bytes) and `SELECT hashint4(…)` (hash_bytes_uint32), as signed integers.
    #[test]
    fn hashes_are_postgresqls() {
        for (text, want) in [
            ("", -1_477_818_771i32),
            ("a", 1_075_015_857),
            ("abc", -785_388_649),
            ("hello world!", 1_400_155_871),
            ("PostgreSQL 15 background workers", -1_016_691_361),
            ("0123456789a", -1_884_806_007),
        ] {
            assert_eq!(
                hash_bytes(text.as_bytes()) as i32,
                want,
                "hashtext('{text}')"
            );
        }
        for (v, want) in [
            (0i32, -272_711_505i32),
            (1, -1_905_060_026),
            (-1, 385_747_274),
            (123_456_789, 524_883_300),
        ] {
            assert_eq!(hash_bytes_uint32(v as u32) as i32, want, "hashint4({v})");
        }
    }
}
