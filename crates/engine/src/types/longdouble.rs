//! Safe wrappers around the C long double helper (csrc/longdouble.c).

use crate::error::{CmdError, NOT_FLOAT};

const CAP: usize = 5 * 1024 + 3;

unsafe extern "C" {
    fn ferrokv_incrbyfloat(
        cur: *const u8,
        curlen: usize,
        incr: *const u8,
        incrlen: usize,
        out: *mut u8,
        outcap: usize,
        outlen: *mut usize,
    ) -> i32;
    fn ferrokv_long_double_class(s: *const u8, len: usize) -> i32;
    fn ferrokv_timeout_ms(s: *const u8, len: usize, ms: *mut i64) -> i32;
}

/// A blocking command's timeout in seconds, as Redis reads it: a long
/// double, rounded up to whole milliseconds. `None` when it is not a number;
/// a negative result (which overflow also gives) is the caller's error.
pub fn timeout_ms(s: &[u8]) -> Option<i64> {
    let mut ms = 0i64;
    // Safety: pointer and length describe a live buffer; `ms` is writable.
    (unsafe { ferrokv_timeout_ms(s.as_ptr(), s.len(), &mut ms) } == 1).then_some(ms)
}

/// Why a long double addition failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LdError {
    /// The current value is not a number.
    Current,
    /// The increment is not a number.
    Incr,
    /// The result is NaN or infinite.
    NanOrInf,
}

/// Whether `s` is a long double as Redis parses one: `None` when it is not,
/// `Some(true)` when it is finite, `Some(false)` when it is infinite.
pub fn long_double_finite(s: &[u8]) -> Option<bool> {
    // Safety: pointer and length describe a live buffer.
    match unsafe { ferrokv_long_double_class(s.as_ptr(), s.len()) } {
        0 => None,
        1 => Some(true),
        _ => Some(false),
    }
}

/// `current + incr` in long double, formatted as Redis stores it, with the
/// failure told apart (HINCRBYFLOAT words its errors differently).
pub fn add_long_double(current: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, LdError> {
    let mut out = vec![0u8; CAP];
    let mut len = 0usize;
    let (cp, cl) = current.map_or((std::ptr::null(), 0), |c| (c.as_ptr(), c.len()));
    // Safety: pointers and lengths describe live buffers; `out` has CAP
    // bytes and the helper writes at most `outcap` of them.
    let rc = unsafe { ferrokv_incrbyfloat(cp, cl, incr.as_ptr(), incr.len(), out.as_mut_ptr(), CAP, &mut len) };
    match rc {
        0 => {
            out.truncate(len);
            Ok(out)
        }
        1 => Err(LdError::Current),
        2 => Err(LdError::Incr),
        _ => Err(LdError::NanOrInf),
    }
}

/// `current + incr` in long double, formatted as Redis stores it. `current`
/// is `None` for a missing key (zero).
pub fn incr_by_float(current: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, CmdError> {
    add_long_double(current, incr).map_err(|e| match e {
        LdError::Current | LdError::Incr => NOT_FLOAT,
        LdError::NanOrInf => CmdError::fixed("ERR increment would produce NaN or Infinity"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(cur: Option<&str>, by: &str) -> String {
        String::from_utf8(incr_by_float(cur.map(str::as_bytes), by.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn matches_redis_on_x86_64() {
        // Results observed on redis-server 7.0.15 (x86-64).
        assert_eq!(add(Some("10.5"), "0.1"), "10.6");
        assert_eq!(add(Some("0.1"), "0.2"), "0.3");
        assert_eq!(add(Some("1"), "-1.1"), "-0.1");
        assert_eq!(add(Some("5.0e3"), "0"), "5000");
        assert_eq!(add(None, "1e-20"), "0");
        assert_eq!(add(None, "-0.0"), "0");
        assert_eq!(add(None, "1.23456789012345678"), "1.23456789012345678");
        assert_eq!(add(Some("3"), "0x10"), "19");
        assert_eq!(add(None, "1e20"), "100000000000000000000");
        assert_eq!(add(Some("1e308"), "1e308").len(), 309);
    }

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(b"0"), Some(0));
        assert_eq!(timeout_ms(b"1.5"), Some(1500));
        assert_eq!(timeout_ms(b"0.0001"), Some(1));
        assert_eq!(timeout_ms(b"-0.0001"), Some(0));
        assert_eq!(timeout_ms(b"0x10"), Some(16000));
        assert!(timeout_ms(b"inf").unwrap() < 0);
        assert!(timeout_ms(b"1e400").is_none_or(|v| v < 0));
        assert!(timeout_ms(b"1e16").unwrap() < 0);
        assert_eq!(timeout_ms(b"nan"), None);
        assert_eq!(timeout_ms(b" 1"), None);
    }

    #[test]
    fn errors() {
        assert_eq!(incr_by_float(Some(b"abc"), b"1"), Err(NOT_FLOAT));
        assert_eq!(incr_by_float(None, b"nan"), Err(NOT_FLOAT));
        assert_eq!(incr_by_float(None, b" 1"), Err(NOT_FLOAT));
        assert_eq!(incr_by_float(None, b"1 "), Err(NOT_FLOAT));
        assert_eq!(incr_by_float(None, b""), Err(NOT_FLOAT));
        assert!(incr_by_float(None, b"inf").unwrap_err().message().contains("NaN or Infinity"));
        assert_eq!(incr_by_float(None, b"1e5000"), Err(NOT_FLOAT));
        assert_eq!(incr_by_float(Some(b"\0"), b"0.1"), Err(NOT_FLOAT));
        assert_eq!(incr_by_float(Some(b"1\0"), b"0.1"), Err(NOT_FLOAT));
    }
}
