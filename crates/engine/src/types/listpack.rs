//! Listpacks in Redis's byte format: the compact encoding of small hashes,
//! sorted sets and list nodes.
//!
//! ```text
//! total bytes: u32 LE | element count: u16 LE (65535 = unknown) | entries... | 0xFF
//! entry: encoding + data | back length (1-5 bytes, read right to left)
//! ```
//!
//! Canonical integer strings are stored as integers (7 to 64 bits) and come
//! back as the same text, so an element always reads back byte-for-byte.
//! Using Redis's format means RDB files can carry these blobs unchanged.
//! Positions are byte offsets of entries; they stay valid until the next
//! change of the listpack.

use std::borrow::Cow;

use super::buf::{splice, Buf};

const HDR: usize = 6;
const EOF: u8 = 0xFF;
const NUM_UNKNOWN: u16 = u16::MAX;

/// An element: listpacks store canonical integers as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val<'a> {
    /// An integer element.
    Int(i64),
    /// A string element.
    Str(&'a [u8]),
}

impl<'a> Val<'a> {
    /// The element's bytes (integers as their decimal text).
    pub fn bytes(&self) -> Cow<'a, [u8]> {
        match *self {
            Val::Str(s) => Cow::Borrowed(s),
            Val::Int(i) => Cow::Owned(ferrokv_resp::num::i64_to_vec(i)),
        }
    }

    /// Whether the element equals `b` (byte comparison of the text).
    pub fn eq_bytes(&self, b: &[u8]) -> bool {
        match *self {
            Val::Str(s) => s == b,
            Val::Int(i) => ferrokv_resp::num::parse_i64(b) == Some(i),
        }
    }

    /// Appends the element as a RESP bulk string.
    pub fn write_bulk(&self, out: &mut ferrokv_resp::Out) {
        match *self {
            Val::Str(s) => out.bulk(s),
            Val::Int(i) => out.bulk_i64(i),
        }
    }
}

/// A new, empty listpack.
pub fn new() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 1);
    v.extend_from_slice(&((HDR + 1) as u32).to_le_bytes());
    v.extend_from_slice(&0u16.to_le_bytes());
    v.push(EOF);
    v
}

fn set_header(lp: &mut [u8], count: usize) {
    let total = lp.len() as u32;
    lp[0..4].copy_from_slice(&total.to_le_bytes());
    let n = if count < NUM_UNKNOWN as usize { count as u16 } else { NUM_UNKNOWN };
    lp[4..6].copy_from_slice(&n.to_le_bytes());
}

/// Number of elements.
pub fn len(lp: &[u8]) -> usize {
    let n = u16::from_le_bytes([lp[4], lp[5]]);
    if n != NUM_UNKNOWN {
        return n as usize;
    }
    iter(lp).count()
}

/// Offset of the first entry, if any.
#[inline]
pub fn first(lp: &[u8]) -> Option<usize> {
    (lp[HDR] != EOF).then_some(HDR)
}

/// Offset of the last entry, if any.
pub fn last(lp: &[u8]) -> Option<usize> {
    prev(lp, lp.len() - 1)
}

/// Length of the encoding + data of the entry at `p` (without backlen).
#[inline]
fn encoded_len(lp: &[u8], p: usize) -> usize {
    let b = lp[p];
    if b & 0x80 == 0 {
        1
    } else if b & 0xC0 == 0x80 {
        1 + (b & 0x3F) as usize
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        2 + ((((b & 0x0F) as usize) << 8) | lp[p + 1] as usize)
    } else {
        match b {
            0xF1 => 3,
            0xF2 => 4,
            0xF3 => 5,
            0xF4 => 9,
            0xF0 => 5 + u32::from_le_bytes([lp[p + 1], lp[p + 2], lp[p + 3], lp[p + 4]]) as usize,
            _ => unreachable!("invalid listpack encoding byte {b:#x}"),
        }
    }
}

/// Bytes needed to store a back length of `l`.
#[inline]
fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn push_backlen(out: &mut Vec<u8>, l: usize) {
    let l = l as u64;
    match backlen_size(l as usize) {
        1 => out.push(l as u8),
        2 => out.extend_from_slice(&[(l >> 7) as u8, ((l & 127) | 128) as u8]),
        3 => out.extend_from_slice(&[(l >> 14) as u8, (((l >> 7) & 127) | 128) as u8, ((l & 127) | 128) as u8]),
        4 => out.extend_from_slice(&[
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        _ => out.extend_from_slice(&[
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
    }
}

/// Total size of the entry at `p`, back length included.
#[inline]
fn entry_size(lp: &[u8], p: usize) -> usize {
    let e = encoded_len(lp, p);
    e + backlen_size(e)
}

/// Offset of the entry after `p`, if any.
#[inline]
pub fn next(lp: &[u8], p: usize) -> Option<usize> {
    let n = p + entry_size(lp, p);
    (lp[n] != EOF).then_some(n)
}

/// Offset of the entry before the one at `p` (`p` may be the EOF byte).
pub fn prev(lp: &[u8], p: usize) -> Option<usize> {
    if p <= HDR {
        return None;
    }
    // Decode the back length that ends right before `p`.
    let mut i = p - 1;
    let mut val: usize = 0;
    let mut shift = 0;
    loop {
        val |= ((lp[i] & 127) as usize) << shift;
        if lp[i] & 128 == 0 {
            break;
        }
        shift += 7;
        i -= 1;
    }
    Some(p - backlen_size(val) - val)
}

/// The element at `p`.
#[inline]
pub fn get(lp: &[u8], p: usize) -> Val<'_> {
    let b = lp[p];
    let sext = |v: u64, bits: u32| -> i64 {
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    };
    if b & 0x80 == 0 {
        Val::Int((b & 0x7F) as i64)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3F) as usize;
        Val::Str(&lp[p + 1..p + 1 + n])
    } else if b & 0xE0 == 0xC0 {
        Val::Int(sext((((b & 0x1F) as u64) << 8) | lp[p + 1] as u64, 13))
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0F) as usize) << 8) | lp[p + 1] as usize;
        Val::Str(&lp[p + 2..p + 2 + n])
    } else {
        let le = |n: usize| -> u64 { (0..n).fold(0u64, |acc, i| acc | (lp[p + 1 + i] as u64) << (8 * i)) };
        match b {
            0xF1 => Val::Int(sext(le(2), 16)),
            0xF2 => Val::Int(sext(le(3), 24)),
            0xF3 => Val::Int(sext(le(4), 32)),
            0xF4 => Val::Int(le(8) as i64),
            0xF0 => {
                let n = le(4) as usize;
                Val::Str(&lp[p + 5..p + 5 + n])
            }
            _ => unreachable!("invalid listpack encoding byte {b:#x}"),
        }
    }
}

/// Encodes `ele` as a listpack entry (encoding, data, back length).
fn encode(ele: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    if let Some(v) = ferrokv_resp::num::parse_i64(ele) {
        let b = v.to_le_bytes();
        if (0..=127).contains(&v) {
            out.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1i64 << 13) + v } else { v };
            out.extend_from_slice(&[((u >> 8) as u8) | 0xC0, (u & 0xFF) as u8]);
        } else if (-32768..=32767).contains(&v) {
            out.extend_from_slice(&[0xF1, b[0], b[1]]);
        } else if (-8388608..=8388607).contains(&v) {
            out.extend_from_slice(&[0xF2, b[0], b[1], b[2]]);
        } else if (-2147483648..=2147483647).contains(&v) {
            out.extend_from_slice(&[0xF3, b[0], b[1], b[2], b[3]]);
        } else {
            out.push(0xF4);
            out.extend_from_slice(&b);
        }
    } else {
        let n = ele.len();
        if n < 64 {
            out.push(n as u8 | 0x80);
        } else if n < 4096 {
            out.extend_from_slice(&[((n >> 8) as u8) | 0xE0, (n & 0xFF) as u8]);
        } else {
            out.push(0xF0);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        out.extend_from_slice(ele);
    }
    let enc = out.len() - start;
    push_backlen(out, enc);
}

/// Inserts `ele` before the entry at `p` (the EOF offset appends), and
/// returns the offset of the new entry.
pub fn insert<B: Buf + ?Sized>(lp: &mut B, p: usize, ele: &[u8]) -> usize {
    let count = len(lp.bytes());
    let mut e = Vec::with_capacity(ele.len() + 11);
    encode(ele, &mut e);
    splice(lp, p, 0, &e);
    set_header(lp.bytes_mut(), count + 1);
    p
}

/// Appends `ele`.
pub fn push_back<B: Buf + ?Sized>(lp: &mut B, ele: &[u8]) {
    let end = lp.bytes().len() - 1;
    insert(lp, end, ele);
}

/// Prepends `ele`.
pub fn push_front<B: Buf + ?Sized>(lp: &mut B, ele: &[u8]) {
    insert(lp, HDR, ele);
}

/// Replaces the entry at `p` with `ele`.
pub fn replace<B: Buf + ?Sized>(lp: &mut B, p: usize, ele: &[u8]) {
    let count = len(lp.bytes());
    let size = entry_size(lp.bytes(), p);
    let mut e = Vec::with_capacity(ele.len() + 11);
    encode(ele, &mut e);
    splice(lp, p, size, &e);
    set_header(lp.bytes_mut(), count);
}

/// Deletes `n` consecutive entries starting at `p` (fewer if the listpack
/// ends first). Returns the offset of the entry that followed, if any.
pub fn delete<B: Buf + ?Sized>(lp: &mut B, p: usize, n: usize) -> Option<usize> {
    let b = lp.bytes();
    let count = len(b);
    let mut end = p;
    let mut removed = 0;
    while removed < n && b[end] != EOF {
        end += entry_size(b, end);
        removed += 1;
    }
    splice(lp, p, end - p, &[]);
    set_header(lp.bytes_mut(), count - removed);
    (lp.bytes()[p] != EOF).then_some(p)
}

/// Iterates the elements front to back.
pub fn iter(lp: &[u8]) -> impl Iterator<Item = Val<'_>> + '_ {
    let mut p = first(lp);
    std::iter::from_fn(move || {
        let at = p?;
        p = next(lp, at);
        Some(get(lp, at))
    })
}

/// Iterates `(offset, element)` front to back.
pub fn entries(lp: &[u8]) -> impl Iterator<Item = (usize, Val<'_>)> + '_ {
    let mut p = first(lp);
    std::iter::from_fn(move || {
        let at = p?;
        p = next(lp, at);
        Some((at, get(lp, at)))
    })
}

/// Offset of the element at index `i` (negative counts from the end).
pub fn seek(lp: &[u8], i: i64) -> Option<usize> {
    if i >= 0 {
        let mut p = first(lp)?;
        for _ in 0..i {
            p = next(lp, p)?;
        }
        Some(p)
    } else {
        let mut p = last(lp)?;
        for _ in 0..(-i - 1) {
            p = prev(lp, p)?;
        }
        Some(p)
    }
}

/// Offset of the first element equal to `ele` at or after `p`, looking at
/// every `skip + 1`-th element (skip 1 walks the fields of field/value
/// pairs).
pub fn find(lp: &[u8], mut p: Option<usize>, ele: &[u8], skip: usize) -> Option<usize> {
    while let Some(at) = p {
        if get(lp, at).eq_bytes(ele) {
            return Some(at);
        }
        p = next(lp, at);
        for _ in 0..skip {
            p = p.and_then(|x| next(lp, x));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn elems(lp: &[u8]) -> Vec<Vec<u8>> {
        iter(lp).map(|v| v.bytes().into_owned()).collect()
    }

    #[test]
    fn byte_format_matches_redis() {
        // lpNew + append "hello", 1, -1, 500, "x"*70: bytes as Redis lays them.
        let mut lp = new();
        assert_eq!(lp, [7, 0, 0, 0, 0, 0, 0xFF]);
        push_back(&mut lp, b"hello");
        assert_eq!(&lp[6..13], &[0x85, b'h', b'e', b'l', b'l', b'o', 6]);
        push_back(&mut lp, b"1");
        assert_eq!(&lp[13..15], &[0x01, 1]);
        push_back(&mut lp, b"-1");
        assert_eq!(&lp[15..18], &[0xDF, 0xFF, 2]);
        push_back(&mut lp, b"70000");
        assert_eq!(&lp[18..23], &[0xF2, 0x70, 0x11, 0x01, 4]);
        let long = vec![b'x'; 70];
        push_back(&mut lp, &long);
        assert_eq!(&lp[23..25], &[0xE0, 70]);
        assert_eq!(u32::from_le_bytes(lp[0..4].try_into().unwrap()) as usize, lp.len());
        assert_eq!(len(&lp), 5);
        assert_eq!(elems(&lp), vec![b"hello".to_vec(), b"1".to_vec(), b"-1".to_vec(), b"70000".to_vec(), long]);
    }

    #[test]
    fn navigation_and_edits() {
        let mut lp = new();
        for i in 0..10 {
            push_back(&mut lp, format!("e{i}").as_bytes());
        }
        push_front(&mut lp, b"front");
        assert_eq!(get(&lp, seek(&lp, 0).unwrap()), Val::Str(b"front"));
        assert_eq!(get(&lp, seek(&lp, -1).unwrap()), Val::Str(b"e9"));
        assert_eq!(get(&lp, seek(&lp, -2).unwrap()), Val::Str(b"e8"));
        assert!(seek(&lp, 11).is_none());
        let p = find(&lp, first(&lp), b"e5", 0).unwrap();
        replace(&mut lp, p, b"12345678901");
        let p = find(&lp, first(&lp), b"12345678901", 0).unwrap();
        delete(&mut lp, p, 3);
        assert_eq!(len(&lp), 8);
        assert_eq!(elems(&lp)[6..], [b"e8".to_vec(), b"e9".to_vec()]);
    }

    proptest! {
        /// Any sequence of operations matches a Vec model, forwards and backwards.
        #[test]
        fn model(ops in prop::collection::vec((0u8..4, any::<prop::sample::Index>(), prop_oneof![
            "[a-z]{0,5}".prop_map(String::into_bytes),
            any::<i64>().prop_map(|i| i.to_string().into_bytes()),
            (-5000i64..5000).prop_map(|i| i.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 60..5000),
            Just(b"007".to_vec()),
            Just(b"-0".to_vec()),
        ]), 0..40)) {
            let mut lp = new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for (op, idx, ele) in ops {
                match op {
                    0 => { push_back(&mut lp, &ele); model.push(ele); }
                    1 => { push_front(&mut lp, &ele); model.insert(0, ele); }
                    2 if !model.is_empty() => {
                        let i = idx.index(model.len());
                        let p = seek(&lp, i as i64).unwrap();
                        replace(&mut lp, p, &ele);
                        model[i] = ele;
                    }
                    3 if !model.is_empty() => {
                        let i = idx.index(model.len());
                        let p = seek(&lp, i as i64).unwrap();
                        delete(&mut lp, p, 1);
                        model.remove(i);
                    }
                    _ => {}
                }
                prop_assert_eq!(elems(&lp), model.clone());
                prop_assert_eq!(len(&lp), model.len());
                prop_assert_eq!(u32::from_le_bytes(lp[0..4].try_into().unwrap()) as usize, lp.len());
                let mut back = Vec::new();
                let mut p = last(&lp);
                while let Some(at) = p {
                    back.push(get(&lp, at).bytes().into_owned());
                    p = prev(&lp, at);
                }
                back.reverse();
                prop_assert_eq!(back, model.clone());
            }
        }
    }
}

#[cfg(test)]
mod redis_bytes {
    use super::*;

    #[test]
    fn same_bytes_as_redis_dump() {
        // `HSET h hello 1 f -1 g 70000 n -9223372036854775808 s 007`, then
        // DUMP h on redis-server 7.0.15 (rdbcompression no): the listpack blob.
        let want =
            "330000000a008568656c6c6f060101816602dfff02816702f270110104816e02f40000000000000080098173028330303704ff";
        let mut lp = new();
        for e in ["hello", "1", "f", "-1", "g", "70000", "n", "-9223372036854775808", "s", "007"] {
            push_back(&mut lp, e.as_bytes());
        }
        let got: String = lp.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want);
    }
}
