//! Intsets in Redis's byte format: sorted arrays of integers that all use
//! the smallest width that fits (16, 32 or 64 bits), the compact encoding of
//! small sets of integers.
//!
//! ```text
//! encoding: u32 LE (2, 4 or 8) | length: u32 LE | values... (LE, ascending)
//! ```

use super::buf::Buf;

const HDR: usize = 8;

fn width(lp: &[u8]) -> usize {
    u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize
}

/// A new, empty intset.
pub fn new() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR);
    v.extend_from_slice(&2u32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v
}

/// Number of values.
pub fn len(is: &[u8]) -> usize {
    u32::from_le_bytes([is[4], is[5], is[6], is[7]]) as usize
}

/// The value at index `i`.
#[inline]
pub fn get(is: &[u8], i: usize) -> i64 {
    let w = width(is);
    let p = HDR + i * w;
    match w {
        2 => i16::from_le_bytes([is[p], is[p + 1]]) as i64,
        4 => i32::from_le_bytes(is[p..p + 4].try_into().expect("4 bytes")) as i64,
        _ => i64::from_le_bytes(is[p..p + 8].try_into().expect("8 bytes")),
    }
}

fn width_for(v: i64) -> usize {
    if v >= i16::MIN as i64 && v <= i16::MAX as i64 {
        2
    } else if v >= i32::MIN as i64 && v <= i32::MAX as i64 {
        4
    } else {
        8
    }
}

/// Binary search: `Ok(index)` when present, `Err(insertion index)` otherwise.
pub fn search(is: &[u8], v: i64) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0usize, len(is));
    while lo < hi {
        let mid = (lo + hi) / 2;
        match get(is, mid).cmp(&v) {
            std::cmp::Ordering::Equal => return Ok(mid),
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    Err(lo)
}

/// Whether `v` is in the set.
pub fn contains(is: &[u8], v: i64) -> bool {
    search(is, v).is_ok()
}

fn write(is: &mut [u8], w: usize, i: usize, v: i64) {
    let p = HDR + i * w;
    match w {
        2 => is[p..p + 2].copy_from_slice(&(v as i16).to_le_bytes()),
        4 => is[p..p + 4].copy_from_slice(&(v as i32).to_le_bytes()),
        _ => is[p..p + 8].copy_from_slice(&v.to_le_bytes()),
    }
}

/// Adds `v`; returns false when it was already present.
pub fn add<B: Buf + ?Sized>(b: &mut B, v: i64) -> bool {
    let is = b.bytes();
    let n = len(is);
    let w = width(is);
    let need = width_for(v);
    if need > w {
        // Upgrade: every value is rewritten wider; `v` goes to one end.
        let old: Vec<i64> = (0..n).map(|i| get(is, i)).collect();
        b.resize_to(HDR + (n + 1) * need);
        let is = b.bytes_mut();
        is[0..4].copy_from_slice(&(need as u32).to_le_bytes());
        let front = v < 0;
        for (i, x) in old.iter().enumerate() {
            write(is, need, i + front as usize, *x);
        }
        write(is, need, if front { 0 } else { n }, v);
    } else {
        let Err(at) = search(is, v) else { return false };
        b.resize_to(HDR + (n + 1) * w);
        let is = b.bytes_mut();
        is.copy_within(HDR + at * w..HDR + n * w, HDR + (at + 1) * w);
        write(is, w, at, v);
    }
    b.bytes_mut()[4..8].copy_from_slice(&((n + 1) as u32).to_le_bytes());
    true
}

/// Removes `v`; returns false when it was absent.
pub fn remove<B: Buf + ?Sized>(b: &mut B, v: i64) -> bool {
    let is = b.bytes();
    let Ok(at) = search(is, v) else { return false };
    let n = len(is);
    let w = width(is);
    b.bytes_mut().copy_within(HDR + (at + 1) * w..HDR + n * w, HDR + at * w);
    b.resize_to(HDR + (n - 1) * w);
    b.bytes_mut()[4..8].copy_from_slice(&((n - 1) as u32).to_le_bytes());
    true
}

/// Values in ascending order.
pub fn iter(is: &[u8]) -> impl Iterator<Item = i64> + '_ {
    (0..len(is)).map(move |i| get(is, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn layout_and_upgrade() {
        let mut is = new();
        assert!(add(&mut is, 5));
        assert!(add(&mut is, -3));
        assert!(!add(&mut is, 5));
        assert_eq!(is, [2, 0, 0, 0, 2, 0, 0, 0, 0xFD, 0xFF, 5, 0]);
        assert!(add(&mut is, 70000));
        assert_eq!(width(&is), 4);
        assert!(add(&mut is, -(1 << 40)));
        assert_eq!(width(&is), 8);
        assert_eq!(iter(&is).collect::<Vec<_>>(), vec![-(1 << 40), -3, 5, 70000]);
        assert!(remove(&mut is, 5));
        assert!(!remove(&mut is, 5));
        assert_eq!(len(&is), 3);
    }

    proptest! {
        #[test]
        fn model(ops in prop::collection::vec((any::<bool>(), prop_oneof![-40i64..40, any::<i64>(), -70000i64..70000]), 0..100)) {
            let mut is = new();
            let mut m = BTreeSet::new();
            for (ins, v) in ops {
                if ins {
                    prop_assert_eq!(add(&mut is, v), m.insert(v));
                } else {
                    prop_assert_eq!(remove(&mut is, v), m.remove(&v));
                }
                prop_assert_eq!(iter(&is).collect::<Vec<_>>(), m.iter().copied().collect::<Vec<_>>());
                for x in [-1i64, 0, 1, 39] {
                    prop_assert_eq!(contains(&is, x), m.contains(&x));
                }
            }
        }
    }
}
