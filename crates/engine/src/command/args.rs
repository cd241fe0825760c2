//! Argument parsing helpers with Redis's rules and error replies.

use crate::error::{CmdError, INT_RANGE, NOT_INT};
use ferrokv_resp::num::parse_i64;

/// An integer argument (`string2ll` rules), or `ERR value is not an integer
/// or out of range`.
#[inline]
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(NOT_INT)
}

/// An integer that must fit a C `int` (SELECT, MOVE, COPY DB).
pub fn int32(arg: &[u8]) -> Result<i64, CmdError> {
    let v = int(arg)?;
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        return Err(INT_RANGE);
    }
    Ok(v)
}

/// A non-negative integer with a custom error for anything else
/// (Redis's `getPositiveLongFromObjectOrReply` / range helpers).
pub fn int_min(arg: &[u8], min: i64, err: CmdError) -> Result<i64, CmdError> {
    match parse_i64(arg) {
        Some(v) if v >= min => Ok(v),
        _ => Err(err),
    }
}

/// Case-insensitive comparison of an argument with an option name.
#[inline]
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// The argument as text for error messages (lossy, like `%s` on bytes).
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// An integer within `[min, max]` (Redis's `getRangeLongFromObjectOrReply`
/// without a custom message).
pub fn int_range(arg: &[u8], min: i64, max: i64) -> Result<i64, CmdError> {
    let v = int(arg)?;
    if v < min || v > max {
        return Err(CmdError::err(format_args!("value is out of range, value must between {min} and {max}")));
    }
    Ok(v)
}

/// A count of 0 or more (Redis's `getPositiveLongFromObjectOrReply` with no
/// message): every failure, a non-number included, reads "must be positive".
pub fn positive_count(arg: &[u8]) -> Result<usize, CmdError> {
    match parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v as usize),
        _ => Err(CmdError::fixed("ERR value is out of range, must be positive")),
    }
}
