//! LZF (the format of liblzf, which Redis uses for RDB strings longer than
//! 20 bytes when rdbcompression is on): compression as Redis's bundled
//! liblzf 3.6 does it, so payloads are byte-identical, and decompression.

/// Hash table size, as a power of two (liblzf's HLOG, Redis keeps 16).
const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
/// Farthest back reference.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference.
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// liblzf's VERY_FAST hash of the three bytes accumulated in `h`.
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Appends one byte to the current literal run, closing the run (its
/// length byte written before it) when it is full.
fn push_literal(out: &mut [u8], op: &mut usize, lit: &mut usize, b: u8) {
    *lit += 1;
    out[*op] = b;
    *op += 1;
    if *lit == MAX_LIT {
        out[*op - *lit - 1] = (*lit - 1) as u8;
        *lit = 0;
        *op += 1;
    }
}

/// Compresses `input` into at most `out_len` bytes (`lzf_compress`);
/// `None` when it does not fit (Redis then stores the string raw).
///
/// liblzf leaves its hash table uninitialised, so a stale slot may offer a
/// (verified) match a fresh table would not; starting from an empty table
/// gives the output of a fresh process, which is what Redis produces in
/// practice and what any reader accepts regardless.
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    // Slots hold position + 1; 0 is empty.
    let mut htab = vec![0usize; HSIZE];
    let mut out = vec![0u8; out_len];
    let (mut ip, mut op, mut lit) = (0usize, 1usize, 0usize);
    let at = |i: usize| input.get(i).copied().unwrap_or(0) as u32;
    let mut hval = (at(0) << 8) | at(1);
    while ip + 2 < in_len {
        hval = (hval << 8) | at(ip + 2);
        let slot = idx(hval);
        let r = htab[slot];
        htab[slot] = ip + 1;
        // A match: within reach, never at offset 0 (liblzf's `ref > in`),
        // and its first three bytes equal.
        let found = r > 1 && ip - r < MAX_OFF && {
            let rp = r - 1;
            input[rp + 2] == input[ip + 2] && input[rp] == input[ip] && input[rp + 1] == input[ip + 1]
        };
        if found {
            let rp = r - 1;
            let off = ip - rp - 1;
            let mut len = 2;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 4 >= out_len && op - usize::from(lit == 0) + 4 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            'grow: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[rp + len] != input[ip + len] {
                            break 'grow;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[rp + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 2;
            lit = 0;
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            // Hash the two positions before the new one (VERY_FAST).
            ip -= 2;
            hval = (at(ip) << 8) | at(ip + 1);
            for _ in 0..2 {
                hval = (hval << 8) | at(ip + 2);
                htab[idx(hval)] = ip + 1;
                ip += 1;
            }
        } else {
            if op >= out_len {
                return None;
            }
            push_literal(&mut out, &mut op, &mut lit, input[ip]);
            ip += 1;
        }
    }
    if op + 3 > out_len {
        return None;
    }
    for &b in &input[ip..] {
        push_literal(&mut out, &mut op, &mut lit, b);
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Expands `input` into exactly `out_len` bytes; `None` when the input is
/// not a valid LZF stream of that length.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            // A literal run of ctrl + 1 bytes.
            let n = ctrl + 1;
            let lit = input.get(i..i + n)?;
            if out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            i += n;
        } else {
            // A back reference: length in the top 3 bits (7 means another
            // byte follows), offset in the low 5 bits and the next byte.
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1F) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            // Byte by byte: the reference may overlap what it produces.
            let start = out.len() - back;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{compress, decompress};
    use proptest::prelude::*;

    #[test]
    fn compresses_repetition_as_liblzf_does() {
        // liblzf 3.6 (Redis's) output for 40 'a's: one literal, then one
        // long reference (offset 0, length 7 + 30 + 2).
        let packed = compress(&[b'a'; 40], 36).expect("compressible");
        assert_eq!(decompress(&packed, 40).as_deref(), Some(&[b'a'; 40][..]));
        assert!(packed.len() < 10, "{packed:?}");
        assert_eq!(compress(b"abcdefghijklmnopqrstuvwxyz", 22), None, "incompressible");
    }

    proptest! {
        #[test]
        fn round_trips(data in prop::collection::vec(prop::sample::select(&b"abcab\0xyz"[..]), 1..3000)) {
            if let Some(packed) = compress(&data, data.len() + 64) {
                prop_assert_eq!(decompress(&packed, data.len()), Some(data));
            }
        }
    }

    #[test]
    fn literals_and_overlapping_references() {
        // "aaaaaaaaaa": literal 'a', then a reference of 9 bytes at offset 1.
        let packed = [0x00, b'a', 0xE0, 0x00, 0x00];
        assert_eq!(decompress(&packed, 10).as_deref(), Some(&b"aaaaaaaaaa"[..]));
        assert_eq!(decompress(&packed, 11), None);
        assert_eq!(decompress(&[0x20, 0x05], 3), None, "a reference before any output");
    }
}
