//! LZF decompression (the format of liblzf, which Redis uses for RDB
//! strings longer than 20 bytes when rdbcompression is on).

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
    use super::decompress;

    #[test]
    fn literals_and_overlapping_references() {
        // "aaaaaaaaaa": literal 'a', then a reference of 9 bytes at offset 1.
        let packed = [0x00, b'a', 0xE0, 0x00, 0x00];
        assert_eq!(decompress(&packed, 10).as_deref(), Some(&b"aaaaaaaaaa"[..]));
        assert_eq!(decompress(&packed, 11), None);
        assert_eq!(decompress(&[0x20, 0x05], 3), None, "a reference before any output");
    }
}
