//! Reply encoding for one connection's protocol version.
//!
//! Commands describe replies in RESP3 terms (maps, sets, doubles, nulls,
//! booleans, pushes); [`Out`] writes them in the connection's protocol, doing
//! the RESP2 down-conversion Redis does: maps become flat arrays, sets and
//! pushes arrays, doubles and big numbers bulk strings, booleans integers and
//! verbatim strings bulk strings.

use crate::num::{push_i64, push_u64};

/// The protocol a connection speaks (chosen with HELLO).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2, the default.
    #[default]
    Resp2,
    /// RESP3.
    Resp3,
}

impl Protocol {
    /// 2 or 3, as HELLO and CLIENT LIST print it.
    pub fn number(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// An output buffer plus the protocol to write it in.
#[derive(Debug, Default)]
pub struct Out {
    /// Encoded replies waiting to be written to the socket.
    pub buf: Vec<u8>,
    /// The connection's protocol version.
    pub proto: Protocol,
}

/// A position where a length header will be inserted once the number of
/// elements is known (Redis's deferred length replies).
#[derive(Debug, Clone, Copy)]
#[must_use = "a deferred length must be filled in"]
pub struct Deferred(usize);

/// Which aggregate a deferred header introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// `*`
    Array,
    /// `%` (RESP2: `*2n`)
    Map,
    /// `~` (RESP2: `*`)
    Set,
}

impl Out {
    /// An empty buffer for `proto`.
    pub fn new(proto: Protocol) -> Self {
        Out { buf: Vec::new(), proto }
    }

    #[inline]
    fn head(&mut self, tag: u8, n: usize) {
        self.buf.push(tag);
        push_u64(&mut self.buf, n as u64);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Whether the connection speaks RESP3 (some replies change shape).
    #[inline]
    pub fn resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    /// `+OK`
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply; `s` must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` carries its own prefix (`ERR ...`,
    /// `WRONGTYPE ...`); line breaks are replaced by spaces so the reply stays
    /// one protocol line, as Redis does.
    pub fn error(&mut self, msg: impl AsRef<[u8]>) {
        self.buf.push(b'-');
        self.buf.extend(msg.as_ref().iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer reply.
    #[inline]
    pub fn int(&mut self, v: i64) {
        self.buf.push(b':');
        push_i64(&mut self.buf, v);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string.
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.head(b'$', b.len());
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `v`.
    pub fn bulk_i64(&mut self, v: i64) {
        let mut tmp = Vec::with_capacity(20);
        push_i64(&mut tmp, v);
        self.bulk(&tmp);
    }

    /// A null where a string was expected (`$-1` in RESP2).
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(match self.proto {
            Protocol::Resp2 => b"$-1\r\n",
            Protocol::Resp3 => b"_\r\n",
        });
    }

    /// A null where an array was expected (`*-1` in RESP2).
    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(match self.proto {
            Protocol::Resp2 => b"*-1\r\n",
            Protocol::Resp3 => b"_\r\n",
        });
    }

    /// An array header for `n` elements.
    #[inline]
    pub fn array(&mut self, n: usize) {
        self.head(b'*', n);
    }

    /// A map header for `n` key/value pairs.
    pub fn map(&mut self, n: usize) {
        match self.proto {
            Protocol::Resp2 => self.head(b'*', n * 2),
            Protocol::Resp3 => self.head(b'%', n),
        }
    }

    /// A set header for `n` elements.
    pub fn set(&mut self, n: usize) {
        match self.proto {
            Protocol::Resp2 => self.head(b'*', n),
            Protocol::Resp3 => self.head(b'~', n),
        }
    }

    /// A push header for `n` elements (pub/sub messages, invalidations).
    pub fn push(&mut self, n: usize) {
        match self.proto {
            Protocol::Resp2 => self.head(b'*', n),
            Protocol::Resp3 => self.head(b'>', n),
        }
    }

    /// An attribute header for `n` pairs. RESP2 has no attributes: Redis
    /// drops them there, and so does the caller when this returns false.
    pub fn attribute(&mut self, n: usize) -> bool {
        match self.proto {
            Protocol::Resp2 => false,
            Protocol::Resp3 => {
                self.head(b'|', n);
                true
            }
        }
    }

    /// A double, `%.17g` as Redis 7.0 prints it.
    pub fn double(&mut self, d: f64) {
        let mut tmp = Vec::with_capacity(24);
        crate::float::push_resp3_double(&mut tmp, d);
        match self.proto {
            Protocol::Resp2 => self.bulk(&tmp),
            Protocol::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(&tmp);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A boolean (`:1`/`:0` in RESP2).
    pub fn boolean(&mut self, b: bool) {
        match self.proto {
            Protocol::Resp2 => self.int(b as i64),
            Protocol::Resp3 => self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A verbatim string with a three-letter format such as `txt`.
    pub fn verbatim(&mut self, text: &[u8], format: &[u8; 3]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.head(b'=', text.len() + 4);
                self.buf.extend_from_slice(format);
                self.buf.push(b':');
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A big number given as its decimal digits.
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(digits),
            Protocol::Resp3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(digits);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Pre-encoded protocol bytes, appended as they are.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Marks where an aggregate header goes whose length is not known yet.
    pub fn defer(&mut self) -> Deferred {
        Deferred(self.buf.len())
    }

    /// Inserts the header marked by `d` for `n` elements of kind `kind`.
    pub fn fill(&mut self, d: Deferred, kind: Aggregate, n: usize) {
        let mut head = Out::new(self.proto);
        match kind {
            Aggregate::Array => head.array(n),
            Aggregate::Map => head.map(n),
            Aggregate::Set => head.set(n),
        }
        self.buf.splice(d.0..d.0, head.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut Out)) -> (String, String) {
        let mut a = Out::new(Protocol::Resp2);
        let mut b = Out::new(Protocol::Resp3);
        f(&mut a);
        f(&mut b);
        (String::from_utf8(a.buf).unwrap(), String::from_utf8(b.buf).unwrap())
    }

    #[test]
    fn down_conversion() {
        assert_eq!(both(|o| o.map(2)), ("*4\r\n".into(), "%2\r\n".into()));
        assert_eq!(both(|o| o.set(3)), ("*3\r\n".into(), "~3\r\n".into()));
        assert_eq!(both(|o| o.null()), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|o| o.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|o| o.double(1.5)), ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into()));
        assert_eq!(both(|o| o.double(f64::INFINITY)), ("$3\r\ninf\r\n".into(), ",inf\r\n".into()));
        assert_eq!(both(|o| o.boolean(true)), (":1\r\n".into(), "#t\r\n".into()));
        assert_eq!(both(|o| o.verbatim(b"hi", b"txt")), ("$2\r\nhi\r\n".into(), "=6\r\ntxt:hi\r\n".into()));
        assert_eq!(both(|o| o.push(1)), ("*1\r\n".into(), ">1\r\n".into()));
    }

    #[test]
    fn errors_stay_on_one_line() {
        let mut o = Out::default();
        o.error("ERR bad\r\nthing");
        assert_eq!(o.buf, b"-ERR bad  thing\r\n");
    }

    #[test]
    fn deferred_headers() {
        let mut o = Out::new(Protocol::Resp2);
        o.int(7);
        let d = o.defer();
        o.bulk(b"a");
        o.bulk(b"b");
        o.fill(d, Aggregate::Map, 1);
        assert_eq!(o.buf, b":7\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    }
}
