//! String operations, free of command parsing and of the keyspace: the
//! arithmetic of ranges, counters, bits and LCS as Redis defines it.

use crate::error::{CmdError, OVERFLOW};
use ferrokv_resp::num::parse_i64;

/// How a string value is encoded, as OBJECT ENCODING reports it. The bytes
/// are always stored; the encoding records what Redis would have made of
/// them, which clients can observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrEnc {
    /// A string that was modified in place or is longer than 44 bytes.
    Raw,
    /// A short string stored with its object header (at most 44 bytes).
    Embstr,
    /// A string that is the canonical form of a 64-bit integer.
    Int,
}

/// The encoding Redis gives a string it stores whole (`tryObjectEncoding`):
/// `int` for the canonical text of a 64-bit integer, `embstr` up to 44
/// bytes, `raw` beyond.
#[inline]
pub fn encoding_for(val: &[u8]) -> StrEnc {
    if val.len() <= 20 && parse_i64(val).is_some() {
        StrEnc::Int
    } else if val.len() <= 44 {
        StrEnc::Embstr
    } else {
        StrEnc::Raw
    }
}

/// GETRANGE's byte range `[from, to)` of a string of `len` bytes, or `None`
/// for an empty result.
pub fn getrange_bounds(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut s = if start < 0 { start + len } else { start };
    let mut e = if end < 0 { end + len } else { end };
    s = s.max(0);
    e = e.max(0);
    if e >= len {
        e = len - 1;
    }
    if s > e || len == 0 {
        None
    } else {
        Some((s as usize, e as usize + 1))
    }
}

/// `old + by` with Redis's overflow rule; `old` is the stored text (a
/// missing key counts as 0).
pub fn incr(old: Option<&[u8]>, by: i64) -> Result<i64, CmdError> {
    let v = match old {
        None => 0,
        Some(s) => parse_i64(s).ok_or(crate::error::NOT_INT)?,
    };
    v.checked_add(by).ok_or(OVERFLOW)
}

/// Number of set bits.
pub fn popcount(b: &[u8]) -> i64 {
    b.iter().map(|x| x.count_ones() as i64).sum()
}

/// A BITCOUNT/BITPOS range converted to bytes: in BIT mode, `first_neg` and
/// `last_neg` mask the bits of the first and last byte that lie outside it.
struct ByteRange {
    start: i64,
    end: i64,
    first_neg: u8,
    last_neg: u8,
}

/// Normalises `start..=end` over a string of `len` bytes as Redis does:
/// negative indexes count from the end, both clamp into the string, and BIT
/// indexes become bytes plus edge masks. `start > end` means empty.
fn byte_range(len: usize, mut start: i64, mut end: i64, is_bit: bool) -> ByteRange {
    let total = if is_bit { (len as i64) << 3 } else { len as i64 };
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_neg, mut last_neg) = (0u8, 0u8);
    if is_bit && start <= end {
        first_neg = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_neg = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    ByteRange { start, end, first_neg, last_neg }
}

/// BITCOUNT over `s` with an optional `(start, end, is_bit)` range.
pub fn bitcount(s: &[u8], range: Option<(i64, i64, bool)>) -> i64 {
    let Some((start, end, isbit)) = range else {
        return popcount(s);
    };
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let r = byte_range(s.len(), start, end, isbit);
    if r.start > r.end {
        return 0;
    }
    let (st, en) = (r.start as usize, r.end as usize);
    let mut count = popcount(&s[st..=en]);
    if r.first_neg != 0 {
        count -= (s[st] & r.first_neg).count_ones() as i64;
    }
    if r.last_neg != 0 {
        count -= (s[en] & r.last_neg).count_ones() as i64;
    }
    count
}

/// Redis's `redisBitpos`: position of the first bit equal to `bit` in `b`;
/// for a clear bit not found, the position just past the end; for a set bit
/// not found, -1.
fn raw_bitpos(b: &[u8], bit: bool) -> i64 {
    for (i, &byte) in b.iter().enumerate() {
        let v = if bit { byte } else { !byte };
        if v != 0 {
            return i as i64 * 8 + v.leading_zeros() as i64;
        }
    }
    if bit {
        -1
    } else {
        b.len() as i64 * 8
    }
}

/// The range part of BITPOS: `None` is "the whole string"; otherwise the
/// start, the end if given, and BIT mode.
pub struct BitposRange {
    /// Start index.
    pub start: i64,
    /// End index, if given.
    pub end: Option<i64>,
    /// Indexes are bits rather than bytes.
    pub is_bit: bool,
}

/// BITPOS over the string `p` (which exists).
pub fn bitpos(p: &[u8], bit: bool, range: Option<BitposRange>) -> i64 {
    let Some(r) = range else {
        return finish_bitpos(
            p,
            bit,
            ByteRange { start: 0, end: p.len() as i64 - 1, first_neg: 0, last_neg: 0 },
            false,
        );
    };
    let end = match r.end {
        Some(e) => e,
        None if r.is_bit => ((p.len() as i64) << 3) + 7,
        None => p.len() as i64 - 1,
    };
    finish_bitpos(p, bit, byte_range(p.len(), r.start, end, r.is_bit), r.end.is_some())
}

fn finish_bitpos(p: &[u8], bit: bool, r: ByteRange, end_given: bool) -> i64 {
    let ByteRange { mut start, end, first_neg, last_neg } = r;
    if start > end {
        return -1;
    }
    let mut bytes = end - start + 1;
    let apply = |b: u8, mask: u8| if bit { b & !mask } else { b | mask };
    let mut pos;
    'result: {
        if first_neg != 0 {
            let mut t = apply(p[start as usize], first_neg);
            if last_neg != 0 && bytes == 1 {
                t = apply(t, last_neg);
            }
            pos = raw_bitpos(&[t], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'result;
            }
            start += 1;
            bytes -= 1;
        }
        let curbytes = bytes - if last_neg != 0 { 1 } else { 0 };
        if curbytes > 0 {
            pos = raw_bitpos(&p[start as usize..(start + curbytes) as usize], bit);
            if bytes == curbytes || (pos != -1 && pos != curbytes << 3) {
                break 'result;
            }
            start += curbytes;
            bytes -= curbytes;
        }
        let t = apply(p[end as usize], last_neg);
        pos = raw_bitpos(&[t], bit);
    }
    if end_given && !bit && pos == bytes << 3 {
        return -1;
    }
    if pos != -1 {
        pos += start << 3;
    }
    pos
}

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    /// AND
    And,
    /// OR
    Or,
    /// XOR
    Xor,
    /// NOT
    Not,
}

/// BITOP over sources (missing keys are empty strings): the result has the
/// length of the longest source, shorter ones read as zero bytes.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let at = |s: &[u8], j: usize| s.get(j).copied().unwrap_or(0);
    (0..maxlen)
        .map(|j| {
            let mut out = at(srcs[0], j);
            if op == BitOp::Not {
                out = !out;
            }
            for s in &srcs[1..] {
                let b = at(s, j);
                match op {
                    BitOp::And => out &= b,
                    BitOp::Or => out |= b,
                    BitOp::Xor => out ^= b,
                    BitOp::Not => {}
                }
            }
            out
        })
        .collect()
}

/// A BITFIELD overflow policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Wrap around (the default).
    Wrap,
    /// Saturate at the type's limits.
    Sat,
    /// Refuse the operation (reply nil).
    Fail,
}

/// Reads an unsigned field of `bits` bits at bit `offset` (MSB first).
pub fn get_unsigned(p: &[u8], mut offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for _ in 0..bits {
        let byte = p.get((offset >> 3) as usize).copied().unwrap_or(0) as u64;
        let bit = 7 - (offset & 7);
        v = (v << 1) | ((byte >> bit) & 1);
        offset += 1;
    }
    v
}

/// Reads a signed (two's complement) field.
pub fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(p, offset, bits) as i64;
    if bits < 64 && v & (1i64 << (bits - 1)) != 0 {
        v |= (-1i64) << bits;
    }
    v
}

/// Writes the low `bits` bits of `value` at bit `offset`.
pub fn set_field(p: &mut [u8], mut offset: u64, bits: u32, value: u64) {
    for j in 0..bits {
        let bitval = (value & (1u64 << (bits - 1 - j))) != 0;
        let byte = (offset >> 3) as usize;
        let bit = 7 - (offset & 7);
        p[byte] = (p[byte] & !(1 << bit)) | ((bitval as u8) << bit);
        offset += 1;
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: whether `value + incr` overflows a
/// `bits`-bit unsigned field, and the value to store under `ow`.
pub fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, u64) {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || {
        let mask = u64::MAX.checked_shl(bits).unwrap_or(0);
        value.wrapping_add(incr as u64) & !mask
    };
    if value > max || (incr > 0 && incr > maxincr) {
        return (true, if ow == Overflow::Sat { max } else { wrap() });
    }
    if incr < 0 && incr < minincr {
        return (true, if ow == Overflow::Sat { 0 } else { wrap() });
    }
    (false, value.wrapping_add(incr as u64))
}

/// Redis's `checkSignedBitfieldOverflow`, likewise for signed fields.
pub fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let msb = 1u64 << (bits - 1);
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        return (true, if ow == Overflow::Sat { max } else { wrap() });
    }
    if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
        return (true, if ow == Overflow::Sat { min } else { wrap() });
    }
    (false, value.wrapping_add(incr))
}

/// One contiguous match found by LCS: inclusive ranges in each string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LcsMatch {
    /// Range in the first string.
    pub a: (u32, u32),
    /// Range in the second string.
    pub b: (u32, u32),
    /// Length of the match.
    pub len: u32,
}

/// The longest common subsequence of `a` and `b`: its text and its matches,
/// listed from the end of the strings backwards, as Redis reports them.
pub fn lcs(a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<LcsMatch>) {
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    let mut dp = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for j in 1..=blen {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let mut idx = dp[alen * w + blen] as usize;
    let mut result = vec![0u8; idx];
    let mut matches = Vec::new();
    let unset = alen as u32;
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (unset, 0u32, 0u32, 0u32);
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == unset {
                a_start = (i - 1) as u32;
                a_end = (i - 1) as u32;
                b_start = (j - 1) as u32;
                b_end = (j - 1) as u32;
            } else if a_start == i as u32 && b_start == j as u32 {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != unset {
                emit = true;
            }
        }
        if emit {
            matches.push(LcsMatch { a: (a_start, a_end), b: (b_start, b_end), len: a_end - a_start + 1 });
            a_start = unset;
        }
    }
    (result, matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(encoding_for(b"123"), StrEnc::Int);
        assert_eq!(encoding_for(b"-9223372036854775808"), StrEnc::Int);
        assert_eq!(encoding_for(b"0123"), StrEnc::Embstr);
        assert_eq!(encoding_for(&[b'a'; 44]), StrEnc::Embstr);
        assert_eq!(encoding_for(&[b'a'; 45]), StrEnc::Raw);
    }

    #[test]
    fn getrange_examples() {
        let r = |s, e| getrange_bounds(11, s, e).map(|(a, b)| &b"Hello World"[a..b]);
        assert_eq!(r(-3, -1), Some(&b"rld"[..]));
        assert_eq!(r(10, 100), Some(&b"d"[..]));
        assert_eq!(r(5, 3), None);
        assert_eq!(r(-1, -5), None);
        assert_eq!(r(-100, -50), Some(&b"H"[..]));
        assert_eq!(r(0, -100), Some(&b"H"[..]));
        assert_eq!(r(11, 11), None);
        assert_eq!(r(0, i64::MAX), Some(&b"Hello World"[..]));
        assert_eq!(r(i64::MIN, -1), Some(&b"Hello World"[..]));
    }

    #[test]
    fn bitcount_examples() {
        let s = b"foobar";
        assert_eq!(bitcount(s, None), 26);
        assert_eq!(bitcount(s, Some((1, 1, false))), 6);
        assert_eq!(bitcount(s, Some((5, 30, true))), 17);
        assert_eq!(bitcount(s, Some((-1, -5, false))), 0);
        assert_eq!(bitcount(s, Some((-100, -50, false))), 4);
        assert_eq!(bitcount(s, Some((0, -1, true))), 26);
        assert_eq!(bitcount(b"", Some((0, -1, false))), 0);
    }

    #[test]
    fn bitpos_examples() {
        let r = |start, end, is_bit| Some(BitposRange { start, end, is_bit });
        assert_eq!(bitpos(b"\xff\xff", false, None), 16);
        assert_eq!(bitpos(b"\xff\xff", false, r(0, None, false)), 16);
        assert_eq!(bitpos(b"\xff\xff", false, r(0, Some(-1), false)), -1);
        let s = b"\xff\xf0\x00";
        assert_eq!(bitpos(s, false, r(7, Some(15), true)), 12);
        assert_eq!(bitpos(s, true, r(7, Some(15), true)), 7);
        assert_eq!(bitpos(s, false, r(0, Some(7), true)), -1);
        assert_eq!(bitpos(s, false, r(17, Some(19), true)), 17);
        assert_eq!(bitpos(b"\xff\xf0\x00", false, None), 12);
        assert_eq!(bitpos(b"\xff\xf0\x00", true, r(2, None, false)), -1);
        assert_eq!(bitpos(b"\xff\xf0\x00", false, r(2, None, false)), 16);
        assert_eq!(bitpos(b"\xff\xf0\x00", false, r(0, Some(0), false)), -1);
        assert_eq!(bitpos(b"\xff\xf0\x00", false, r(100, None, false)), -1);
        assert_eq!(bitpos(b"foobar", true, r(-10, Some(-20), false)), 1);
        assert_eq!(bitpos(b"", true, None), -1);
        assert_eq!(bitpos(b"", false, None), -1);
    }

    #[test]
    fn bitfield_overflow_examples() {
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), (true, -128));
        assert_eq!(signed_overflow(200, 0, 8, Overflow::Wrap), (true, -56));
        assert_eq!(signed_overflow(-200, 0, 8, Overflow::Sat), (true, -128));
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Overflow::Wrap), (true, 255));
        assert!(unsigned_overflow(3, 1, 2, Overflow::Fail).0);
        assert_eq!(unsigned_overflow(3, 1, 2, Overflow::Wrap), (true, 0));
        assert_eq!(signed_overflow(-1, i64::MIN, 64, Overflow::Wrap), (true, i64::MAX));
        let mut p = vec![0u8; 2];
        set_field(&mut p, 4, 8, 0xAB);
        assert_eq!(p, vec![0x0A, 0xB0]);
        assert_eq!(get_unsigned(&p, 4, 8), 0xAB);
        assert_eq!(get_signed(&p, 4, 8), 0xABu8 as i8 as i64);
    }

    #[test]
    fn lcs_example() {
        let (s, m) = lcs(b"ohmytext", b"mynewtext");
        assert_eq!(s, b"mytext");
        assert_eq!(m, vec![LcsMatch { a: (4, 7), b: (5, 8), len: 4 }, LcsMatch { a: (2, 3), b: (0, 1), len: 2 }]);
        assert_eq!(lcs(b"", b"abc").0, b"");
    }

    #[test]
    fn incr_rules() {
        assert_eq!(incr(None, 5), Ok(5));
        assert_eq!(incr(Some(b"9223372036854775807"), 1), Err(OVERFLOW));
        assert_eq!(incr(Some(b" 5"), 1), Err(crate::error::NOT_INT));
    }
}
