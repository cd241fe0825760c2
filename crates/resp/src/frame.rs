//! The RESP value model: everything RESP2 and RESP3 can carry.

use bytes::Bytes;

/// One RESP value. RESP2 replies use a subset; RESP3 adds the rest.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `+text`
    Simple(Bytes),
    /// `-ERR text`
    Error(Bytes),
    /// RESP3 `!len` blob error (may contain CR and LF).
    BlobError(Bytes),
    /// `:123`
    Integer(i64),
    /// `$len` binary-safe string.
    Bulk(Bytes),
    /// `*len` array.
    Array(Vec<Frame>),
    /// RESP2's `$-1` null bulk string.
    NullBulk,
    /// RESP2's `*-1` null array.
    NullArray,
    /// RESP3 `_` null.
    Null,
    /// RESP3 `#t` / `#f`.
    Boolean(bool),
    /// RESP3 `,` double.
    Double(f64),
    /// RESP3 `(` big number, kept as its decimal text.
    BigNumber(Bytes),
    /// RESP3 `=len` verbatim string: a three-byte format and the text.
    Verbatim([u8; 3], Bytes),
    /// RESP3 `%len` map, in wire order.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~len` set, in wire order.
    Set(Vec<Frame>),
    /// RESP3 `>len` out-of-band push.
    Push(Vec<Frame>),
    /// RESP3 `|len` attribute map followed by the value it annotates.
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
}

impl Frame {
    /// A bulk string from anything byte-like.
    pub fn bulk(b: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(b.as_ref()))
    }

    /// The bytes of a simple, bulk or verbatim string, or of an error.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Bulk(b) | Frame::Error(b) | Frame::BlobError(b) | Frame::Verbatim(_, b) => {
                Some(b)
            }
            _ => None,
        }
    }

    /// True for every null spelling.
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }

    /// Appends the wire form of this frame to `out`, exactly as tagged (no
    /// down-conversion): the inverse of [`crate::decode`].
    pub fn write_to(&self, out: &mut Vec<u8>) {
        use crate::num::push_i64;
        fn head(out: &mut Vec<u8>, tag: u8, n: usize) {
            out.push(tag);
            crate::num::push_u64(out, n as u64);
            out.extend_from_slice(b"\r\n");
        }
        match self {
            Frame::Simple(s) => {
                out.push(b'+');
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Error(s) => {
                out.push(b'-');
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Integer(i) => {
                out.push(b':');
                push_i64(out, *i);
                out.extend_from_slice(b"\r\n");
            }
            Frame::BlobError(b) => {
                head(out, b'!', b.len());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Bulk(b) => {
                head(out, b'$', b.len());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                let tag = match self {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                head(out, tag, items.len());
                items.iter().for_each(|f| f.write_to(out));
            }
            Frame::NullBulk => out.extend_from_slice(b"$-1\r\n"),
            Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::Double(d) => {
                out.push(b',');
                crate::float::push_resp3_double(out, *d);
                out.extend_from_slice(b"\r\n");
            }
            Frame::BigNumber(n) => {
                out.push(b'(');
                out.extend_from_slice(n);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Verbatim(fmt, text) => {
                head(out, b'=', text.len() + 4);
                out.extend_from_slice(fmt);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Map(pairs) | Frame::Attribute(pairs, _) => {
                head(out, if matches!(self, Frame::Map(_)) { b'%' } else { b'|' }, pairs.len());
                for (k, v) in pairs {
                    k.write_to(out);
                    v.write_to(out);
                }
                if let Frame::Attribute(_, inner) = self {
                    inner.write_to(out);
                }
            }
        }
    }
}
