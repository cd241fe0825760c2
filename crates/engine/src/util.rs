//! Small helpers shared by command families.

/// Appends `s` quoted and escaped like Redis's `sdscatrepr` (MONITOR lines,
/// log lines): printable bytes as they are, `\n \r \t \a \b` escaped, other
/// bytes as `\xHH`, quotes and backslashes backslashed.
pub fn push_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// `bytesToHuman`: 1023B, 1.00K, 941.51K, 6.71M, ...
pub fn bytes_to_human(n: u64) -> String {
    let n = n as f64;
    const UNITS: [(&str, f64); 5] =
        [("K", 1024.0), ("M", 1048576.0), ("G", 1073741824.0), ("T", 1099511627776.0), ("P", 1125899906842624.0)];
    if n < 1024.0 {
        return format!("{}B", n as u64);
    }
    for (i, (u, d)) in UNITS.iter().enumerate() {
        if i + 1 == UNITS.len() || n < UNITS[i + 1].1 {
            return format!("{:.2}{u}", n / d);
        }
    }
    unreachable!()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_and_human() {
        let mut v = Vec::new();
        push_repr(&mut v, b"a\"b\\\n\x01 ");
        assert_eq!(v, b"\"a\\\"b\\\\\\n\\x01 \"");
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(964104), "941.51K");
        assert_eq!(bytes_to_human(7036928), "6.71M");
    }
}
