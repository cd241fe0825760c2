//! Decoding of complete RESP2/RESP3 values (replies, scripted replies, test
//! clients). Requests from clients go through [`crate::request`] instead,
//! which never builds a tree.
//!
//! The decoder checks and parses in one pass over a byte slice; running out of
//! input is the ordinary [`DecodeError::Incomplete`] outcome, not a failure.

use crate::frame::Frame;
use crate::num::parse_i64;
use bytes::Bytes;

/// Why a value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// More bytes are needed; nothing was consumed.
    Incomplete,
    /// The bytes are not RESP.
    Protocol(&'static str),
}

/// Nesting deeper than this is refused rather than risking the stack.
pub const MAX_DEPTH: usize = 512;

/// Decodes one value from the start of `buf`, returning it and the number of
/// bytes it used.
pub fn decode(buf: &[u8]) -> Result<(Frame, usize), DecodeError> {
    let mut pos = 0;
    let f = value(buf, &mut pos, 0)?;
    Ok((f, pos))
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8], DecodeError> {
    let rest = &buf[*pos..];
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(i) => {
            *pos += i + 2;
            Ok(&rest[..i])
        }
        None => Err(DecodeError::Incomplete),
    }
}

fn int_line(buf: &[u8], pos: &mut usize) -> Result<i64, DecodeError> {
    let l = line(buf, pos)?;
    parse_i64(l).ok_or(DecodeError::Protocol("invalid integer"))
}

fn count(buf: &[u8], pos: &mut usize) -> Result<Option<usize>, DecodeError> {
    match int_line(buf, pos)? {
        -1 => Ok(None),
        n if n < 0 => Err(DecodeError::Protocol("invalid length")),
        n => Ok(Some(n as usize)),
    }
}

fn blob(buf: &[u8], pos: &mut usize, len: usize) -> Result<Bytes, DecodeError> {
    let end = pos.checked_add(len).ok_or(DecodeError::Protocol("invalid length"))?;
    if buf.len() < end.saturating_add(2) {
        return Err(DecodeError::Incomplete);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(DecodeError::Protocol("missing CRLF after blob"));
    }
    let b = Bytes::copy_from_slice(&buf[*pos..end]);
    *pos = end + 2;
    Ok(b)
}

fn items(buf: &[u8], pos: &mut usize, n: usize, depth: usize) -> Result<Vec<Frame>, DecodeError> {
    // A claimed count is not trusted for preallocation: each item needs at
    // least three bytes, which bounds the honest count by the input size.
    let mut v = Vec::with_capacity(n.min(buf.len().saturating_sub(*pos) / 3));
    for _ in 0..n {
        v.push(value(buf, pos, depth + 1)?);
    }
    Ok(v)
}

fn pairs(buf: &[u8], pos: &mut usize, n: usize, depth: usize) -> Result<Vec<(Frame, Frame)>, DecodeError> {
    let mut v = Vec::with_capacity(n.min(buf.len().saturating_sub(*pos) / 6));
    for _ in 0..n {
        let k = value(buf, pos, depth + 1)?;
        let val = value(buf, pos, depth + 1)?;
        v.push((k, val));
    }
    Ok(v)
}

fn value(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Frame, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::Protocol("nesting too deep"));
    }
    let Some(&tag) = buf.get(*pos) else {
        return Err(DecodeError::Incomplete);
    };
    *pos += 1;
    Ok(match tag {
        b'+' => Frame::Simple(Bytes::copy_from_slice(line(buf, pos)?)),
        b'-' => Frame::Error(Bytes::copy_from_slice(line(buf, pos)?)),
        b':' => Frame::Integer(int_line(buf, pos)?),
        b'$' => match count(buf, pos)? {
            None => Frame::NullBulk,
            Some(n) => Frame::Bulk(blob(buf, pos, n)?),
        },
        b'!' => match count(buf, pos)? {
            None => return Err(DecodeError::Protocol("invalid length")),
            Some(n) => Frame::BlobError(blob(buf, pos, n)?),
        },
        b'=' => match count(buf, pos)? {
            Some(n) if n >= 4 => {
                let b = blob(buf, pos, n)?;
                if b[3] != b':' {
                    return Err(DecodeError::Protocol("invalid verbatim string"));
                }
                Frame::Verbatim([b[0], b[1], b[2]], b.slice(4..))
            }
            _ => return Err(DecodeError::Protocol("invalid verbatim string")),
        },
        b'*' => match count(buf, pos)? {
            None => Frame::NullArray,
            Some(n) => Frame::Array(items(buf, pos, n, depth)?),
        },
        b'~' => match count(buf, pos)? {
            None => return Err(DecodeError::Protocol("invalid length")),
            Some(n) => Frame::Set(items(buf, pos, n, depth)?),
        },
        b'>' => match count(buf, pos)? {
            None => return Err(DecodeError::Protocol("invalid length")),
            Some(n) => Frame::Push(items(buf, pos, n, depth)?),
        },
        b'%' => match count(buf, pos)? {
            None => return Err(DecodeError::Protocol("invalid length")),
            Some(n) => Frame::Map(pairs(buf, pos, n, depth)?),
        },
        b'|' => match count(buf, pos)? {
            None => return Err(DecodeError::Protocol("invalid length")),
            Some(n) => {
                let attrs = pairs(buf, pos, n, depth)?;
                let inner = value(buf, pos, depth + 1)?;
                Frame::Attribute(attrs, Box::new(inner))
            }
        },
        b'_' => {
            if !line(buf, pos)?.is_empty() {
                return Err(DecodeError::Protocol("invalid null"));
            }
            Frame::Null
        }
        b'#' => match line(buf, pos)? {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(DecodeError::Protocol("invalid boolean")),
        },
        b',' => {
            let l = line(buf, pos)?;
            Frame::Double(crate::float::parse_resp3_double(l).ok_or(DecodeError::Protocol("invalid double"))?)
        }
        b'(' => {
            let l = line(buf, pos)?;
            let digits = l.strip_prefix(b"-").unwrap_or(l);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(DecodeError::Protocol("invalid big number"));
            }
            Frame::BigNumber(Bytes::copy_from_slice(l))
        }
        _ => return Err(DecodeError::Protocol("unknown type byte")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf() -> impl Strategy<Value = Frame> {
        let text = "[a-zA-Z0-9 ]{0,12}".prop_map(|s| Bytes::from(s.into_bytes()));
        prop_oneof![
            text.clone().prop_map(Frame::Simple),
            text.clone().prop_map(Frame::Error),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(|v| Frame::BlobError(v.into())),
            any::<i64>().prop_map(Frame::Integer),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|v| Frame::Bulk(v.into())),
            Just(Frame::NullBulk),
            Just(Frame::NullArray),
            Just(Frame::Null),
            any::<bool>().prop_map(Frame::Boolean),
            any::<f64>().prop_filter("nan has no equality", |d| !d.is_nan()).prop_map(Frame::Double),
            "-?[1-9][0-9]{0,30}".prop_map(|s| Frame::BigNumber(s.into_bytes().into())),
            text.prop_map(|t| Frame::Verbatim(*b"txt", t)),
        ]
    }

    pub(crate) fn frame() -> impl Strategy<Value = Frame> {
        leaf().prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
                proptest::collection::vec((inner.clone(), inner.clone()), 0..4).prop_map(Frame::Map),
                (proptest::collection::vec((inner.clone(), inner.clone()), 0..3), inner)
                    .prop_map(|(a, v)| Frame::Attribute(a, Box::new(v))),
            ]
        })
    }

    proptest! {
        #[test]
        fn roundtrip(f in frame()) {
            let mut wire = Vec::new();
            f.write_to(&mut wire);
            let (back, used) = decode(&wire).unwrap();
            prop_assert_eq!(used, wire.len());
            prop_assert_eq!(back, f);
        }

        #[test]
        fn every_prefix_is_incomplete(f in frame()) {
            let mut wire = Vec::new();
            f.write_to(&mut wire);
            for cut in 0..wire.len() {
                prop_assert_eq!(decode(&wire[..cut]).unwrap_err(), DecodeError::Incomplete);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&b);
        }
    }

    #[test]
    fn blob_errors_keep_their_line_breaks() {
        // Found by the resp_decode fuzz target.
        let wire = b"*1\r\n!9\r\n!1\r\n1\r\n+0\r\n";
        let (f, n) = decode(wire).unwrap();
        assert_eq!(n, wire.len());
        assert_eq!(f, Frame::Array(vec![Frame::BlobError(Bytes::from_static(b"!1\r\n1\r\n+0"))]));
        let mut again = Vec::new();
        f.write_to(&mut again);
        assert_eq!(again, wire);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let wire = b"*1\r\n".repeat(MAX_DEPTH + 5);
        assert_eq!(decode(&wire).unwrap_err(), DecodeError::Protocol("nesting too deep"));
    }

    #[test]
    fn huge_claimed_count_does_not_allocate() {
        assert_eq!(decode(b"*2147483647\r\n:1\r\n").unwrap_err(), DecodeError::Incomplete);
    }
}
