//! Values in Redis 7.0's RDB encoding, as `rdbSaveObject` writes them, and
//! whole snapshots as `rdbSaveRio` does (SAVE, SHUTDOWN SAVE). DEBUG
//! OBJECT's `serializedlength` is the length of a value's encoding.
//!
//! Compact encodings are saved as their blobs (listpacks and intsets are
//! in Redis's byte format); small sets of strings, listpacks here as in
//! Redis 7.2, are saved as plain sets, which 7.0 can read.

use ferrokv_rdb::{opcode, value_type, write_len, write_string};

use crate::keyspace::{Entry, Value};
use crate::state::State;
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

/// The RDB type byte of `e`'s value (the form [`write_value`] writes).
pub fn value_type(e: &Entry) -> u8 {
    match e.value() {
        Value::Str(..) => value_type::STRING,
        Value::List(_) => value_type::LIST_QUICKLIST_2,
        Value::Set(SetRef::Intset(_)) => value_type::SET_INTSET,
        Value::Set(_) => value_type::SET,
        Value::Hash(HashRef::Lp(_)) => value_type::HASH_LISTPACK,
        Value::Hash(_) => value_type::HASH,
        Value::Zset(ZsetRef::Lp(_)) => value_type::ZSET_LISTPACK,
        Value::Zset(_) => value_type::ZSET_2,
    }
}

/// The whole dataset as an RDB file (Redis 7.0's `rdbSaveRio`): header,
/// auxiliary fields, function libraries, each non-empty database with its
/// sizes, every key with its expire time and, under an LRU or LFU policy,
/// its idle time or access counter, then EOF and the checksum.
pub fn snapshot(st: &State, now_ms: i64) -> Vec<u8> {
    let compress = st.cfg.rdb_compression;
    let mut out = Vec::new();
    ferrokv_rdb::write_header(&mut out);
    ferrokv_rdb::write_aux(&mut out, "redis-ver", crate::REDIS_VERSION.as_bytes());
    ferrokv_rdb::write_aux(&mut out, "redis-bits", b"64");
    ferrokv_rdb::write_aux(&mut out, "ctime", (now_ms / 1000).to_string().as_bytes());
    ferrokv_rdb::write_aux(&mut out, "used-mem", (st.platform.alloc)().allocated.to_string().as_bytes());
    ferrokv_rdb::write_aux(&mut out, "aof-base", b"0");
    crate::script::functions::write_libraries(st, &mut out);
    let (save_lru, save_lfu) = (st.cfg.maxmemory_policy.is_lru(), st.cfg.maxmemory_policy.is_lfu());
    for (i, db) in st.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        out.push(opcode::SELECTDB);
        write_len(&mut out, i as u64);
        out.push(opcode::RESIZEDB);
        write_len(&mut out, db.len() as u64);
        write_len(&mut out, db.volatile_len() as u64);
        db.for_each(|e| {
            if let Some(t) = e.expire() {
                out.push(opcode::EXPIRETIME_MS);
                out.extend_from_slice(&t.to_le_bytes());
            }
            if save_lru {
                out.push(opcode::IDLE);
                write_len(&mut out, crate::cmd::keys::idle_seconds(e.lru(), now_ms).max(0) as u64);
            } else if save_lfu {
                out.push(opcode::FREQ);
                out.push(db.clock.frequency(e.lru(), now_ms).min(255) as u8);
            }
            out.push(value_type(e));
            write_string(&mut out, e.key(), compress);
            write_value(&mut out, e, compress);
        });
    }
    ferrokv_rdb::finish_file(&mut out);
    out
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
