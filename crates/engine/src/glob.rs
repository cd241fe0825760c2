//! Glob matching exactly as Redis's `stringmatchlen` does it (KEYS, SCAN
//! MATCH, CONFIG GET, later PSUBSCRIBE), quirks included: `[^...]` negates,
//! `!` does not; an unclosed `[` swallows the rest of the pattern; ranges
//! compare bytes as C's signed `char`.

/// Whether `string` matches `pattern`, case-sensitively.
pub fn glob_match(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip = false;
    matches(pattern, string, false, &mut skip, 0)
}

/// Whether `string` matches `pattern`, ignoring ASCII case.
pub fn glob_match_nocase(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip = false;
    matches(pattern, string, true, &mut skip, 0)
}

fn lower(c: u8) -> u8 {
    c.to_ascii_lowercase()
}

fn matches(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    // Protection against abusive patterns, as in Redis.
    if nesting > 1000 {
        return false;
    }
    // Bytes past the end read as NUL, like the C string terminator.
    let at = |b: &[u8], i: usize| b.get(i).copied().unwrap_or(0);
    let (mut p, mut si) = (0usize, 0usize);
    let plen = pat.len();
    while p < plen && si < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < plen && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == plen {
                    return true;
                }
                while si < s.len() {
                    if matches(&pat[p + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                p += 1;
                let not = at(pat, p) == b'^';
                if not {
                    p += 1;
                }
                let c = s[si];
                let mut hit = false;
                loop {
                    let left = plen.saturating_sub(p);
                    if at(pat, p) == b'\\' && left >= 2 {
                        p += 1;
                        if pat[p] == c {
                            hit = true;
                        }
                    } else if at(pat, p) == b']' {
                        break;
                    } else if left == 0 {
                        p -= 1;
                        break;
                    } else if left >= 3 && pat[p + 1] == b'-' {
                        // C compares `char`s, which are signed on x86.
                        let (mut start, mut end) = (pat[p] as i8 as i32, pat[p + 2] as i32 as u8 as i8 as i32);
                        let mut cc = c as i8 as i32;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start as u8) as i8 as i32;
                            end = lower(end as u8) as i8 as i32;
                            cc = lower(cc as u8) as i8 as i32;
                        }
                        p += 2;
                        if cc >= start && cc <= end {
                            hit = true;
                        }
                    } else if (!nocase && pat[p] == c) || (nocase && lower(pat[p]) == lower(c)) {
                        hit = true;
                    }
                    p += 1;
                }
                if not {
                    hit = !hit;
                }
                if !hit {
                    return false;
                }
                si += 1;
            }
            b => {
                let mut b = b;
                if b == b'\\' && plen - p >= 2 {
                    p += 1;
                    b = pat[p];
                }
                let c = s[si];
                if (!nocase && b != c) || (nocase && lower(b) != lower(c)) {
                    return false;
                }
                si += 1;
            }
        }
        p += 1;
        if si == s.len() {
            while p < plen && pat[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= plen && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes())
    }

    #[test]
    fn redis_cases() {
        assert!(m("*", "anything"));
        // Redis never matches an empty string (KEYS * finds the empty key only
        // through its match-everything shortcut).
        assert!(!m("**", ""));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h[!e]llo", "hello"));
        assert!(m("h[\\]]llo", "h]llo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(!m("h[a-]llo", "hallo"));
        assert!(m("h[a-c-e]llo", "h-llo"));
        assert!(m("h[a-c-e]llo", "hello"));
        // An unclosed [ takes the rest of the pattern as its set (checked on 7.0.15).
        assert!(m("h[a", "ha"));
        assert!(m("[^]", "x"));
        assert!(m("a**b", "axxb"));
        assert!(m("a\\", "a\\"));
        assert!(!m("abc", "ab"));
        assert!(!m("ab", "abc"));
        assert!(m("ab*", "ab"));
        assert!(glob_match_nocase(b"HASH-*", b"hash-max-listpack-entries"));
    }

    #[test]
    fn abusive_patterns_terminate() {
        let pat = "a*".repeat(50) + "b";
        assert!(!m(&pat, &"a".repeat(60)));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(p in proptest::collection::vec(proptest::sample::select(b"ab*?[]^-\\\x80".to_vec()), 0..12),
                        s in proptest::collection::vec(proptest::sample::select(b"ab-]\x80".to_vec()), 0..12)) {
            let _ = glob_match(&p, &s);
            let _ = glob_match_nocase(&p, &s);
        }
    }
}
