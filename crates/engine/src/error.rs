//! Command errors. Each carries Redis's exact reply line, prefix included
//! (`ERR ...`, `WRONGTYPE ...`), because clients parse these lines and INFO
//! errorstats counts them by prefix.

use std::borrow::Cow;
use std::fmt;

/// An error reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdError(Cow<'static, str>);

/// Result of a command handler: the reply was written, or this error must be.
pub type CmdResult = Result<(), CmdError>;

impl CmdError {
    /// An error with a fixed text (prefix included).
    pub const fn fixed(s: &'static str) -> Self {
        CmdError(Cow::Borrowed(s))
    }

    /// An `ERR`-prefixed error with a formatted text.
    pub fn err(msg: impl fmt::Display) -> Self {
        CmdError(Cow::Owned(format!("ERR {msg}")))
    }

    /// An error whose text (prefix included) is given whole.
    pub fn full(msg: String) -> Self {
        CmdError(Cow::Owned(msg))
    }

    /// The reply line without the leading `-`.
    pub fn message(&self) -> &str {
        &self.0
    }

    /// The error code, as INFO errorstats counts it (`afterErrorReply`):
    /// the text before a space within the reply line's first 32 bytes
    /// (its `-` included), else `ERR`.
    pub fn code(&self) -> &str {
        code_of(&self.0)
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `WRONGTYPE Operation against a key holding the wrong kind of value`
pub const WRONGTYPE: CmdError = CmdError::fixed("WRONGTYPE Operation against a key holding the wrong kind of value");
/// `ERR syntax error`
pub const SYNTAX: CmdError = CmdError::fixed("ERR syntax error");
/// `ERR value is not an integer or out of range`
pub const NOT_INT: CmdError = CmdError::fixed("ERR value is not an integer or out of range");
/// `ERR value is not a valid float`
pub const NOT_FLOAT: CmdError = CmdError::fixed("ERR value is not a valid float");
/// `ERR no such key`
pub const NO_SUCH_KEY: CmdError = CmdError::fixed("ERR no such key");
/// `ERR DB index is out of range`
pub const DB_RANGE: CmdError = CmdError::fixed("ERR DB index is out of range");
/// `ERR value is out of range, value must between ...` (Redis's typo kept).
pub const INT_RANGE: CmdError =
    CmdError::fixed("ERR value is out of range, value must between -2147483648 and 2147483647");
/// `ERR increment or decrement would overflow`
pub const OVERFLOW: CmdError = CmdError::fixed("ERR increment or decrement would overflow");
/// `ERR string exceeds maximum allowed size (proto-max-bulk-len)`
pub const TOO_BIG: CmdError = CmdError::fixed("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
/// `ERR bit offset is not an integer or out of range`
pub const BIT_OFFSET: CmdError = CmdError::fixed("ERR bit offset is not an integer or out of range");
/// `ERR source and destination objects are the same`
pub const SAME_OBJECT: CmdError = CmdError::fixed("ERR source and destination objects are the same");

/// `ERR invalid expire time in '<cmd>' command`
pub fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::err(format_args!("invalid expire time in '{cmd}' command"))
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(sub: &[u8], container: &str) -> CmdError {
    let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
    CmdError::err(format_args!("unknown subcommand '{sub}'. Try {} HELP.", container.to_ascii_uppercase()))
}

/// [`CmdError::code`] of an error line given without its `-`.
pub fn code_of(line: &str) -> &str {
    match line.as_bytes().iter().take(31).position(|&c| c == b' ') {
        Some(p) => &line[..p],
        None => "ERR",
    }
}
