//! Parsing of client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n...`) and
//! inline commands (`GET key\r\n`), with Redis's limits and error replies.
//!
//! The parser is resumable: when a command arrives over several reads it keeps
//! the arguments found so far and continues where it stopped, so a huge
//! pipeline or a million-argument MSET is parsed once, not once per read.
//! Arguments are byte ranges into the caller's buffer, so a command is
//! executed without copying its arguments.

use crate::inline::split_args;
use crate::num::parse_i64;

/// Longest inline command, and longest `*N`/`$N` header line (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;

/// Limits applied while parsing, from the server's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest bulk argument accepted.
    pub max_bulk_len: i64,
    /// Clients that have not authenticated may send at most 10 arguments of
    /// at most 16 KiB each, as in Redis.
    pub auth_required: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk_len: 512 * 1024 * 1024, auth_required: false }
    }
}

/// A request the server must refuse. The connection is closed after the
/// error reply is written, as Redis does (`setProtocolError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl ParseError {
    fn new(s: &str) -> Self {
        ParseError(s.to_string())
    }
}

/// What one call to [`RequestParser::parse`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// The buffer ends inside a command. `need` is how many more bytes the
    /// command needs at least, when known (so a big argument is read into a
    /// buffer reserved once).
    Incomplete {
        /// Bytes still missing, when the parser knows.
        need: usize,
    },
    /// A command is complete and occupies the first `consumed` bytes; read its
    /// arguments with [`RequestParser::args`] before advancing the buffer.
    Command {
        /// Bytes the command occupies.
        consumed: usize,
    },
    /// The first `consumed` bytes hold no command (an empty inline line,
    /// `*0`, `*-1`); Redis skips them silently.
    Empty {
        /// Bytes to skip.
        consumed: usize,
    },
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Start,
    /// Inside a multibulk: args left to read and the current bulk length
    /// (-1 while the `$N` header is still to be read).
    Multibulk { left: i64, bulk_len: i64 },
    /// A command (or an empty one) was returned; the next call starts afresh.
    Done,
}

/// Resumable request parser for one connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    state: State,
    pos: usize,
    inline: bool,
    args: Vec<(usize, usize)>,
    scratch: Vec<u8>,
}

/// Finds the first `needle` before any NUL byte, as C's `strchr` does on the
/// query buffer (so a NUL hides the rest of a header line, as in Redis).
fn strchr(hay: &[u8], needle: u8) -> Option<usize> {
    for (i, &c) in hay.iter().enumerate() {
        if c == needle {
            return Some(i);
        }
        if c == 0 {
            return None;
        }
    }
    None
}

impl RequestParser {
    /// A parser with no pending command.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a command has been started but not completed.
    pub fn in_progress(&self) -> bool {
        matches!(self.state, State::Multibulk { .. }) || (self.pos > 0 && !matches!(self.state, State::Done))
    }

    /// Parses the command at the start of `buf`. After `Command`/`Empty`,
    /// the caller advances its buffer by `consumed` before the next call.
    pub fn parse(&mut self, buf: &[u8], limits: &Limits) -> Result<Parsed, ParseError> {
        if let State::Done = self.state {
            self.state = State::Start;
            self.pos = 0;
            self.args.clear();
        }
        if let State::Start = self.state {
            if buf.is_empty() {
                return Ok(Parsed::Incomplete { need: 1 });
            }
            if buf[0] != b'*' {
                return self.parse_inline(buf);
            }
            self.inline = false;
            let Some(cr) = strchr(&buf[1..], b'\r').map(|i| i + 1) else {
                if buf.len() > INLINE_MAX {
                    return Err(ParseError::new("Protocol error: too big mbulk count string"));
                }
                return Ok(Parsed::Incomplete { need: 1 });
            };
            if cr + 2 > buf.len() {
                return Ok(Parsed::Incomplete { need: 1 });
            }
            let n = match parse_i64(&buf[1..cr]) {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return Err(ParseError::new("Protocol error: invalid multibulk length")),
            };
            if n > 10 && limits.auth_required {
                return Err(ParseError::new("Protocol error: unauthenticated multibulk length"));
            }
            self.pos = cr + 2;
            if n <= 0 {
                self.state = State::Done;
                return Ok(Parsed::Empty { consumed: self.pos });
            }
            // Trust the count only as far as the buffer could honestly hold it.
            self.args.reserve((n as usize).min(buf.len() / 4 + 16));
            self.state = State::Multibulk { left: n, bulk_len: -1 };
        }
        let State::Multibulk { mut left, mut bulk_len } = self.state else {
            unreachable!("start handled above");
        };
        let result = loop {
            if left == 0 {
                self.state = State::Done;
                break Ok(Parsed::Command { consumed: self.pos });
            }
            if bulk_len < 0 {
                let rest = &buf[self.pos..];
                let Some(cr) = strchr(rest, b'\r') else {
                    if rest.len() > INLINE_MAX {
                        break Err(ParseError::new("Protocol error: too big bulk count string"));
                    }
                    break Ok(Parsed::Incomplete { need: 1 });
                };
                if cr + 2 > rest.len() {
                    break Ok(Parsed::Incomplete { need: 1 });
                }
                if rest[0] != b'$' {
                    break Err(ParseError(format!("Protocol error: expected '$', got '{}'", rest[0] as char)));
                }
                match parse_i64(&rest[1..cr]) {
                    Some(n) if n >= 0 && n <= limits.max_bulk_len => {
                        if n > 16384 && limits.auth_required {
                            break Err(ParseError::new("Protocol error: unauthenticated bulk length"));
                        }
                        bulk_len = n;
                    }
                    _ => break Err(ParseError::new("Protocol error: invalid bulk length")),
                }
                self.pos += cr + 2;
            }
            let end = self.pos + bulk_len as usize;
            if buf.len() < end + 2 {
                break Ok(Parsed::Incomplete { need: end + 2 - buf.len() });
            }
            // Like Redis, the two bytes after the data are skipped, not checked.
            self.args.push((self.pos, end));
            self.pos = end + 2;
            bulk_len = -1;
            left -= 1;
        };
        if let State::Multibulk { .. } = self.state {
            self.state = State::Multibulk { left, bulk_len };
        }
        if result.is_err() {
            self.state = State::Done;
        }
        result
    }

    fn parse_inline(&mut self, buf: &[u8]) -> Result<Parsed, ParseError> {
        self.inline = true;
        let Some(nl) = strchr(buf, b'\n') else {
            if buf.len() > INLINE_MAX {
                self.state = State::Done;
                return Err(ParseError::new("Protocol error: too big inline request"));
            }
            return Ok(Parsed::Incomplete { need: 1 });
        };
        let line_end = if nl > 0 && buf[nl - 1] == b'\r' { nl - 1 } else { nl };
        self.scratch.clear();
        self.state = State::Done;
        if !split_args(&buf[..line_end], &mut self.scratch, &mut self.args) {
            return Err(ParseError::new("Protocol error: unbalanced quotes in request"));
        }
        if self.args.is_empty() {
            return Ok(Parsed::Empty { consumed: nl + 1 });
        }
        Ok(Parsed::Command { consumed: nl + 1 })
    }

    /// Number of arguments of the command just parsed.
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// The arguments of the command just parsed, borrowed from `buf` (the
    /// same buffer given to [`parse`](Self::parse)) or from the parser's own
    /// scratch space for inline commands.
    pub fn args<'a>(&'a self, buf: &'a [u8]) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let src: &'a [u8] = if self.inline { &self.scratch } else { buf };
        self.args.iter().map(move |&(a, b)| &src[a..b])
    }

    /// Bytes of the current partial command held by the argument list: the
    /// query-buffer accounting for CLIENT LIST's `argv-mem`.
    pub fn pending_args(&self) -> usize {
        self.args.iter().map(|&(a, b)| b - a).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ParseError> {
        let mut p = RequestParser::new();
        let mut buf = input.to_vec();
        let mut out = Vec::new();
        loop {
            match p.parse(&buf, &Limits::default())? {
                Parsed::Incomplete { .. } => return Ok(out),
                Parsed::Empty { consumed } => {
                    buf.drain(..consumed);
                }
                Parsed::Command { consumed } => {
                    out.push(p.args(&buf).map(|a| a.to_vec()).collect());
                    buf.drain(..consumed);
                }
            }
        }
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_inline() {
        let got = all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n\r\nset a \"b c\"\n").unwrap();
        assert_eq!(got, vec![v(&["GET", "k"]), v(&["PING"]), v(&["set", "a", "b c"])]);
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        assert_eq!(all(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n").unwrap(), vec![v(&["PING"])]);
    }

    #[test]
    fn errors_match_redis() {
        let e = |b: &[u8]| all(b).unwrap_err().0;
        assert_eq!(e(b"*abc\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(e(b"*2147483648\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(e(b"*1\r\n+foo\r\n"), "Protocol error: expected '$', got '+'");
        assert_eq!(e(b"*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(e(b"*1\r\n$536870913\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(e(b"set a \"b\n"), "Protocol error: unbalanced quotes in request");
        assert_eq!(e(&vec![b'a'; INLINE_MAX + 1]), "Protocol error: too big inline request");
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(e(&big), "Protocol error: too big mbulk count string");
        let mut big = b"*1\r\n$".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(e(&big), "Protocol error: too big bulk count string");
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = RequestParser::new();
        let l = Limits { auth_required: true, ..Limits::default() };
        assert_eq!(p.parse(b"*11\r\n", &l).unwrap_err().0, "Protocol error: unauthenticated multibulk length");
        let mut p = RequestParser::new();
        assert_eq!(p.parse(b"*1\r\n$16385\r\n", &l).unwrap_err().0, "Protocol error: unauthenticated bulk length");
    }

    #[test]
    fn need_hint_for_big_bulk() {
        let mut p = RequestParser::new();
        let buf = b"*2\r\n$3\r\nSET\r\n$1000\r\nab";
        assert_eq!(p.parse(buf, &Limits::default()).unwrap(), Parsed::Incomplete { need: 1000 });
    }

    fn encode(cmds: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let mut w = Vec::new();
        for c in cmds {
            w.extend(format!("*{}\r\n", c.len()).bytes());
            for a in c {
                w.extend(format!("${}\r\n", a.len()).bytes());
                w.extend(a);
                w.extend(b"\r\n");
            }
        }
        w
    }

    proptest! {
        /// Any split of a valid stream into reads parses like the whole.
        #[test]
        fn any_split_parses_like_the_whole(
            cmds in proptest::collection::vec(proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..5), 1..6),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let wire = encode(&cmds);
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
            cuts.sort();
            let mut p = RequestParser::new();
            let mut buf: Vec<u8> = Vec::new();
            let mut got = Vec::new();
            let mut fed = 0;
            for cut in cuts.into_iter().chain(std::iter::once(wire.len())) {
                buf.extend_from_slice(&wire[fed..cut.max(fed)]);
                fed = cut.max(fed);
                loop {
                    match p.parse(&buf, &Limits::default()).unwrap() {
                        Parsed::Incomplete { .. } => break,
                        Parsed::Empty { consumed } => { buf.drain(..consumed); }
                        Parsed::Command { consumed } => {
                            got.push(p.args(&buf).map(|a| a.to_vec()).collect::<Vec<_>>());
                            buf.drain(..consumed);
                        }
                    }
                }
            }
            prop_assert_eq!(got, cmds);
        }

        /// Random bytes never panic and never make the parser claim more
        /// bytes than it was given.
        #[test]
        fn random_bytes(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut p = RequestParser::new();
            let mut buf = b;
            for _ in 0..64 {
                match p.parse(&buf, &Limits::default()) {
                    Ok(Parsed::Incomplete { .. }) | Err(_) => break,
                    Ok(Parsed::Empty { consumed }) | Ok(Parsed::Command { consumed }) => {
                        prop_assert!(consumed <= buf.len());
                        let _ = p.args(&buf).count();
                        buf.drain(..consumed);
                    }
                }
            }
        }
    }
}
