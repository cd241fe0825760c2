//! Values in Redis 7.0's RDB encoding (without the type byte), as
//! `rdbSaveObject` writes them. DEBUG OBJECT's `serializedlength` is the
//! length of this; DUMP/RESTORE and RDB snapshots build on it.
//!
//! Compact encodings are saved as their blobs (listpacks and intsets are
//! in Redis's byte format); small sets of strings, listpacks here as in
//! Redis 7.2, are saved as plain sets, which 7.0 can read.

use ferrokv_rdb::{write_len, write_string};

use crate::keyspace::{Entry, Value};
use crate::types::hash::HashRef;
use crate::types::list::ListRef;
use crate::types::set::SetRef;
use crate::types::zset::ZsetRef;

/// Quicklist node container tag for a listpack node.
const NODE_PACKED: u64 = 2;

/// Appends `e`'s value to `out`; strings over 20 bytes are LZF-compressed
/// when `compress` (rdbcompression).
pub fn write_value(out: &mut Vec<u8>, e: &Entry, compress: bool) {
    match e.value() {
        Value::Str(s, _) => write_string(out, s, compress),
        Value::List(ListRef::Lp(lp)) => {
            write_len(out, 1);
            write_len(out, NODE_PACKED);
            write_string(out, lp, compress);
        }
        Value::List(ListRef::Quick(q)) => {
            write_len(out, q.node_count() as u64);
            for lp in q.node_listpacks() {
                write_len(out, NODE_PACKED);
                write_string(out, lp, compress);
            }
        }
        Value::Set(SetRef::Intset(b)) => write_string(out, b, compress),
        Value::Set(s) => {
            write_len(out, s.len() as u64);
            s.for_each(|m| write_string(out, &m.bytes(), compress));
        }
        Value::Hash(HashRef::Lp(b)) | Value::Zset(ZsetRef::Lp(b)) => write_string(out, b, compress),
        Value::Hash(h) => {
            write_len(out, h.len() as u64);
            h.for_each(|f, v| {
                write_string(out, &f.bytes(), compress);
                write_string(out, &v.bytes(), compress);
            });
        }
        Value::Zset(z) => {
            // Highest score first, as Redis walks its skiplist from the tail.
            write_len(out, z.len() as u64);
            z.walk(z.len().saturating_sub(1), true, |m, score| {
                write_string(out, &m.bytes(), compress);
                out.extend_from_slice(&score.to_le_bytes());
                true
            });
        }
    }
}

/// The length of `e`'s value in the RDB encoding (DEBUG OBJECT's
/// `serializedlength`).
pub fn value_len(e: &Entry, compress: bool) -> usize {
    let mut out = Vec::new();
    write_value(&mut out, e, compress);
    out.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::entry::StrEnc;

    #[test]
    fn strings_use_the_integer_and_lzf_encodings() {
        let len = |s: &[u8]| value_len(&Entry::new_str(b"k", s, StrEnc::Raw, None, 0), true);
        assert_eq!(len(b"12"), 2);
        assert_eq!(len(b"1000"), 3);
        assert_eq!(len(b"100000"), 5);
        assert_eq!(len(b"hello"), 6);
        // LZF: marker, packed length, original length (100 takes 2 bytes).
        let packed = ferrokv_rdb::lzf::compress(&[b'a'; 100], 96).unwrap().len();
        assert_eq!(len(&[b'a'; 100]), 1 + 1 + 2 + packed);
        assert_eq!(len(&[b'a'; 20]), 21);
    }
}
