//! Splitting of inline commands with the rules of Redis's `sdssplitargs`:
//! blanks separate arguments; `"..."` understands `\n \r \t \b \a \xHH` and
//! `\<any>`; `'...'` understands only `\'`; a closing quote must be followed
//! by a blank or the end; a NUL byte ends the line, as it does for C strings.

/// Splits `line` into arguments appended to `scratch`, recording each
/// argument's `(start, end)` range in `args`. Returns false on unbalanced
/// quotes.
pub(crate) fn split_args(line: &[u8], scratch: &mut Vec<u8>, args: &mut Vec<(usize, usize)>) -> bool {
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };
    // C's isspace: space, \t, \n, \v, \f, \r.
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut p = 0usize;
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return true;
        }
        let start = scratch.len();
        let (mut inq, mut insq, mut done) = (false, false, false);
        while !done {
            let c = at(p);
            if inq {
                if c == b'\\' && at(p + 1) == b'x' && hex(at(p + 2)).is_some() && hex(at(p + 3)).is_some() {
                    scratch.push(hex(at(p + 2)).unwrap() * 16 + hex(at(p + 3)).unwrap());
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    scratch.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return false;
                    }
                    done = true;
                } else if c == 0 {
                    return false;
                } else {
                    scratch.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    scratch.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return false;
                    }
                    done = true;
                } else if c == 0 {
                    return false;
                } else {
                    scratch.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => scratch.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push((start, scratch.len()));
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &[u8]) -> Option<Vec<Vec<u8>>> {
        let (mut scratch, mut args) = (Vec::new(), Vec::new());
        split_args(s, &mut scratch, &mut args).then(|| args.iter().map(|&(a, b)| scratch[a..b].to_vec()).collect())
    }

    #[test]
    fn sdssplitargs_cases() {
        assert_eq!(split(b"set a b").unwrap(), vec![b"set".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(split(b"  \t ").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(split(b"set \"a b\" 'c d'").unwrap()[1..], [b"a b".to_vec(), b"c d".to_vec()]);
        assert_eq!(split(b"x \"\\x41\\n\\q\"").unwrap()[1], b"A\nq".to_vec());
        assert_eq!(split(b"x 'it\\'s'").unwrap()[1], b"it's".to_vec());
        assert_eq!(split(b"x foo\"bar baz\"").unwrap()[1], b"foobar baz".to_vec());
        assert_eq!(split(b"x \"\"").unwrap()[1], b"".to_vec());
        assert!(split(b"x \"abc").is_none());
        assert!(split(b"x \"abc\"d").is_none());
        assert!(split(b"x 'abc").is_none());
        assert_eq!(split(b"a\0b c").unwrap(), vec![b"a".to_vec()]);
    }
}
