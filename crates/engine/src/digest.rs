//! DEBUG DIGEST and DIGEST-VALUE with Redis's algorithm, so that a ferrokv
//! dataset and a Redis dataset holding the same data have the same digest.
//! Tests use it to compare a server with its oracle, and later a master
//! with its replicas.

use crate::keyspace::{Db, Entry, Value};

type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// `d ^= SHA1(data)`: order-independent accumulation.
fn xor_digest(d: &mut Digest, data: &[u8]) {
    let h = sha1(data);
    d.iter_mut().zip(h).for_each(|(a, b)| *a ^= b);
}

/// `d = SHA1(d ^ SHA1(data))`: order-dependent accumulation.
fn mix_digest(d: &mut Digest, data: &[u8]) {
    xor_digest(d, data);
    *d = sha1(d);
}

/// Redis's `xorObjectDigest`: mixes the type, the value (and the presence of
/// an expire) into `d`. Collections contribute their elements the way
/// Redis's do, so the digest does not depend on the encoding.
fn object_digest(d: &mut Digest, e: &Entry) {
    mix_digest(d, &(e.vtype() as u32).to_be_bytes());
    match e.value() {
        Value::Str(s, _) => mix_digest(d, s),
        Value::Hash(h) => h.for_each(|f, v| {
            let mut ele = [0u8; 20];
            mix_digest(&mut ele, &f.bytes());
            mix_digest(&mut ele, &v.bytes());
            xor_digest(d, &ele);
        }),
        Value::List(l) => {
            if !l.is_empty() {
                l.walk(0, false, |v| {
                    mix_digest(d, &v.bytes());
                    true
                });
            }
        }
        Value::Zset(z) => {
            if !z.is_empty() {
                z.walk(0, false, |m, score| {
                    let mut ele = [0u8; 20];
                    mix_digest(&mut ele, &m.bytes());
                    mix_digest(&mut ele, ferrokv_resp::float::fmt_g17(score).as_bytes());
                    xor_digest(d, &ele);
                    true
                });
            }
        }
        Value::Set(set) => set.for_each(|m| xor_digest(d, &m.bytes())),
    }
    if e.expire().is_some() {
        xor_digest(d, b"!!expire!!");
    }
}

/// DEBUG DIGEST-VALUE for one entry (or all zeros for a missing key).
pub fn value_digest(e: Option<&Entry>) -> String {
    let mut d = [0u8; 20];
    if let Some(e) = e {
        object_digest(&mut d, e);
    }
    hex(&d)
}

/// DEBUG DIGEST over all databases.
pub fn dataset_digest(dbs: &[Db]) -> String {
    let mut fin = [0u8; 20];
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut fin, &(i as u32).to_be_bytes());
        db.for_each(|e| {
            let mut d = [0u8; 20];
            mix_digest(&mut d, e.key());
            object_digest(&mut d, e);
            xor_digest(&mut fin, &d);
        });
    }
    hex(&fin)
}

fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::StrEnc;

    #[test]
    fn matches_redis() {
        // Values from redis-server 7.0.15.
        let s = Entry::new_str(b"s", b"hello", StrEnc::Embstr, None, 0);
        let n = Entry::new_str(b"n", b"12345", StrEnc::Int, None, 0);
        assert_eq!(value_digest(Some(&s)), "36b23a1456b2dce2c3ed252c456761301dba8060");
        assert_eq!(value_digest(Some(&n)), "e1cf90774e995ae03de66e8109dc5cb9d9c2dc83");
        let mut dbs = vec![Db::new(), Db::new()];
        dbs[0].insert(s);
        dbs[0].insert(n);
        assert_eq!(dataset_digest(&dbs), "baf18ca1bdca04a150966a2a9aad5f879f003438");
        assert_eq!(dataset_digest(&[Db::new()]), "0000000000000000000000000000000000000000");
    }
}
