//! Key extraction from key specs (Redis's `getKeysUsingKeySpecs`): which
//! arguments of a command are keys. WATCH, the cluster router, COMMAND
//! GETKEYS and ACL key patterns all ask this one function.

use super::spec::{BeginSearch, FindKeys};
use super::table::Command;
use ferrokv_resp::num::parse_i64;

/// Why keys could not be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysError {
    /// The arguments do not fit the key specs.
    Invalid,
}

/// Appends the argument indexes of `cmd`'s keys in `argv` to `out`.
pub fn key_positions(cmd: &Command, argv: &[&[u8]], out: &mut Vec<usize>) -> Result<(), KeysError> {
    let mut refs = Vec::new();
    key_refs(cmd, argv, &mut refs)?;
    out.extend(refs.iter().map(|&(pos, _)| pos));
    Ok(())
}

/// Appends `(argument index, key spec index)` for each key of `cmd` in `argv`.
pub fn key_refs(cmd: &Command, argv: &[&[u8]], out: &mut Vec<(usize, usize)>) -> Result<(), KeysError> {
    if let Some(f) = cmd.spec.getkeys {
        f(argv, out);
        return Ok(());
    }
    let argc = argv.len() as i64;
    for (spec_idx, spec) in cmd.spec.keys.iter().enumerate() {
        if spec.flags.split_whitespace().any(|f| f == "not_key") {
            continue;
        }
        let mut first: i64 = match spec.begin {
            BeginSearch::Index(i) => i as i64,
            BeginSearch::Keyword { word, start } => {
                let found = if start > 0 {
                    (start as i64..argc).find(|&i| argv[i as usize].eq_ignore_ascii_case(word.as_bytes()))
                } else {
                    (1..argc + start as i64 + 1).rev().find(|&i| argv[i as usize].eq_ignore_ascii_case(word.as_bytes()))
                };
                match found {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            // Keys no spec can locate are skipped (Redis returns the rest).
            BeginSearch::Unknown => continue,
        };
        let (last, step) = match spec.find {
            FindKeys::Range { last, step, limit } => {
                let l = if last >= 0 {
                    first + last as i64
                } else if limit <= 1 {
                    argc + last as i64
                } else {
                    first + ((argc - first) / limit as i64 + last as i64)
                };
                (l, step as i64)
            }
            FindKeys::KeyNum { num_idx, first: fk, step } => {
                let idx = first + num_idx as i64;
                if idx >= argc {
                    return Err(KeysError::Invalid);
                }
                let n = parse_i64(argv[idx as usize]).filter(|&n| n >= 0).ok_or(KeysError::Invalid)?;
                first += fk as i64;
                // A huge count is just out of range, not an overflow.
                (first.saturating_add(n).saturating_sub(1), step as i64)
            }
            FindKeys::Unknown => continue,
        };
        if last >= argc || last < first || first >= argc {
            return Err(KeysError::Invalid);
        }
        let mut i = first;
        while i <= last {
            out.push((i as usize, spec_idx));
            i += step;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    fn keys(args: &[&str]) -> Result<Vec<usize>, KeysError> {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let cmd = table().get(argv[0]).unwrap();
        let mut out = Vec::new();
        key_positions(cmd, &argv, &mut out).map(|_| out)
    }

    #[test]
    fn common_shapes() {
        assert_eq!(keys(&["get", "k"]).unwrap(), vec![1]);
        assert_eq!(keys(&["mset", "a", "1", "b", "2"]).unwrap(), vec![1, 3]);
        assert_eq!(keys(&["del", "a", "b", "c"]).unwrap(), vec![1, 2, 3]);
        assert_eq!(keys(&["bitop", "and", "d", "s1", "s2"]).unwrap(), vec![2, 3, 4]);
        assert_eq!(keys(&["ping"]).unwrap(), Vec::<usize>::new());
    }

    proptest::proptest! {
        /// Any argument vector yields in-range positions or an error, never a panic.
        #[test]
        fn positions_in_bounds(name in proptest::sample::select(vec!["get", "mset", "del", "bitop", "rename", "lcs", "set", "copy"]),
                               args in proptest::collection::vec("[a-z0-9]{0,3}", 0..8)) {
            let mut argv: Vec<&[u8]> = vec![name.as_bytes()];
            argv.extend(args.iter().map(|a| a.as_bytes()));
            let cmd = table().get(argv[0]).unwrap();
            let mut out = Vec::new();
            if key_positions(cmd, &argv, &mut out).is_ok() {
                proptest::prop_assert!(out.iter().all(|&i| i > 0 && i < argv.len()));
            }
        }
    }
}
