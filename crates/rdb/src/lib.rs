//! The pieces of Redis's RDB format that more than one part of ferrokv
//! needs: DUMP/RESTORE payloads (FUNCTION DUMP today, key DUMP later) and,
//! with the persistence issue, RDB files. Byte slices in, values out; no
//! I/O, so every decoder is testable on arbitrary input.

pub mod crc64;
pub mod lzf;

/// The RDB version ferrokv writes: Redis 7.0's.
pub const RDB_VERSION: u16 = 10;

/// Opcode before a library in a functions payload (Redis 7.0 GA format).
pub const OPCODE_FUNCTION2: u8 = 245;

/// File opcodes (Redis's RDB_OPCODE_*).
pub mod opcode {
    /// Seconds since the key's last access (LRU policies).
    pub const IDLE: u8 = 248;
    /// The key's LFU counter (LFU policies).
    pub const FREQ: u8 = 249;
    /// An auxiliary field: two strings.
    pub const AUX: u8 = 250;
    /// Sizes of the database that follows: keys, keys with a TTL.
    pub const RESIZEDB: u8 = 251;
    /// The next key's expire time, ms, 8 bytes little-endian.
    pub const EXPIRETIME_MS: u8 = 252;
    /// The database the following keys belong to.
    pub const SELECTDB: u8 = 254;
    /// End of the file; the CRC64 follows.
    pub const EOF: u8 = 255;
}

/// Value types (Redis's RDB_TYPE_*) that Redis 7.0 writes.
pub mod value_type {
    /// A string.
    pub const STRING: u8 = 0;
    /// A set as its members.
    pub const SET: u8 = 2;
    /// A sorted set as members and binary doubles.
    pub const ZSET_2: u8 = 5;
    /// A hash as fields and values.
    pub const HASH: u8 = 4;
    /// An intset blob.
    pub const SET_INTSET: u8 = 11;
    /// A hash listpack blob.
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted-set listpack blob.
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as quicklist nodes.
    pub const LIST_QUICKLIST_2: u8 = 18;
}

/// Starts an RDB file: the magic and version (`REDIS0010`).
pub fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
}

/// Appends an auxiliary field.
pub fn write_aux(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.push(opcode::AUX);
    write_string(out, key.as_bytes(), false);
    write_string(out, value, false);
}

/// Ends an RDB file: the EOF opcode and the CRC64 of everything before the
/// checksum, little-endian.
pub fn finish_file(out: &mut Vec<u8>) {
    out.push(opcode::EOF);
    let crc = crc64::crc64(0, out);
    out.extend_from_slice(&crc.to_le_bytes());
}
/// The 7.0 release candidates' library opcode (name, engine, description
/// and code as separate strings).
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Appends an RDB length.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Appends `s` as an RDB string the way Redis's `rdbSaveRawString` does:
/// small integers in the integer encodings, strings over 20 bytes
/// LZF-compressed when `compress` (rdbcompression) and when that saves at
/// least 4 bytes, anything else raw.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = canonical_int(s) {
            if let Ok(v) = i8::try_from(v) {
                out.extend_from_slice(&[0xC0 | ENC_INT8, v as u8]);
                return;
            }
            if let Ok(v) = i16::try_from(v) {
                out.push(0xC0 | ENC_INT16);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
            if let Ok(v) = i32::try_from(v) {
                out.push(0xC0 | ENC_INT32);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(packed) = lzf::compress(s, s.len() - 4) {
            out.push(0xC0 | ENC_LZF);
            write_len(out, packed.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&packed);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `s` as an integer when it prints back to exactly `s`.
fn canonical_int(s: &[u8]) -> Option<i64> {
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input ended inside a value.
    Truncated,
    /// A length or encoding that cannot be valid.
    Corrupt,
}

/// A cursor over RDB-encoded bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.remaining() < n {
            return Err(Error::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn read_u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    /// A length, or `Err` for an encoded (special) value.
    pub fn read_len(&mut self) -> Result<u64, Error> {
        match self.read_len_or_encoding()? {
            (len, false) => Ok(len),
            (_, true) => Err(Error::Corrupt),
        }
    }

    /// A length, or the special encoding number with `true`.
    fn read_len_or_encoding(&mut self) -> Result<(u64, bool), Error> {
        let b = self.read_u8()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3F) as u64, false),
            1 => ((((b & 0x3F) as u64) << 8) | self.read_u8()? as u64, false),
            2 => match b {
                0x80 => (u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")) as u64, false),
                0x81 => (u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")), false),
                _ => return Err(Error::Corrupt),
            },
            _ => ((b & 0x3F) as u64, true),
        })
    }

    /// A string in any of its encodings (raw, integer, LZF).
    pub fn read_string(&mut self) -> Result<Vec<u8>, Error> {
        let (len, encoded) = self.read_len_or_encoding()?;
        if !encoded {
            let len = usize::try_from(len).map_err(|_| Error::Corrupt)?;
            return Ok(self.take(len)?.to_vec());
        }
        let int = |b: &[u8]| -> i64 {
            match b.len() {
                1 => b[0] as i8 as i64,
                2 => i16::from_le_bytes([b[0], b[1]]) as i64,
                _ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            }
        };
        match len as u8 {
            ENC_INT8 => Ok(int(self.take(1)?).to_string().into_bytes()),
            ENC_INT16 => Ok(int(self.take(2)?).to_string().into_bytes()),
            ENC_INT32 => Ok(int(self.take(4)?).to_string().into_bytes()),
            ENC_LZF => {
                let clen = usize::try_from(self.read_len()?).map_err(|_| Error::Corrupt)?;
                let len = usize::try_from(self.read_len()?).map_err(|_| Error::Corrupt)?;
                let packed = self.take(clen)?;
                lzf::decompress(packed, len).ok_or(Error::Corrupt)
            }
            _ => Err(Error::Corrupt),
        }
    }
}

/// Ends a DUMP payload: the RDB version and the CRC64 of everything before
/// it, both little-endian (Redis's `createDumpPayload`).
pub fn finish_dump(payload: &mut Vec<u8>) {
    payload.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, payload);
    payload.extend_from_slice(&crc.to_le_bytes());
}

/// Checks a DUMP payload's footer (`verifyDumpPayload`) and returns the
/// RDB version it was written with and the body before the footer.
pub fn verify_dump(payload: &[u8]) -> Option<(u16, &[u8])> {
    if payload.len() < 10 {
        return None;
    }
    let footer = &payload[payload.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return None;
    }
    let crc = u64::from_le_bytes(footer[2..].try_into().expect("8 bytes"));
    (crc64::crc64(0, &payload[..payload.len() - 8]) == crc).then_some((version, &payload[..payload.len() - 10]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_use_redis_encodings() {
        let enc = |n: u64| {
            let mut v = Vec::new();
            write_len(&mut v, n);
            v
        };
        assert_eq!(enc(10), [10]);
        assert_eq!(enc(300), [0x41, 0x2C]);
        assert_eq!(enc(70_000), [0x80, 0, 1, 0x11, 0x70]);
        assert_eq!(enc(1 << 40), [0x81, 0, 0, 1, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn integers_are_stored_as_integers() {
        let enc = |s: &[u8]| {
            let mut v = Vec::new();
            write_string(&mut v, s, true);
            v
        };
        assert_eq!(enc(b"12"), [0xC0, 12]);
        assert_eq!(enc(b"-300"), [0xC1, 0xD4, 0xFE]);
        assert_eq!(enc(b"100000"), [0xC2, 0xA0, 0x86, 1, 0]);
        // Not canonical: kept as text.
        assert_eq!(enc(b"012"), [3, b'0', b'1', b'2']);
    }

    /// A payload produced by Redis 7.0.15's FUNCTION DUMP (LZF-compressed
    /// library code) decodes and verifies.
    #[test]
    fn reads_a_redis_function_dump() {
        let code = b"#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)";
        let hex = concat!(
            "f5c34056405b1f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e6374696f6e",
            "28276d79400b02272c2040066012116b6579732c2061726773292072657475726e600c075b315d20656e64290a008d59",
            "36adc6e707da"
        );
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let (version, body) = verify_dump(&bytes).expect("valid footer");
        assert_eq!(version, 10);
        let mut r = Reader::new(body);
        assert_eq!(r.read_u8().unwrap(), OPCODE_FUNCTION2);
        assert_eq!(r.read_string().unwrap(), code.to_vec());
        assert_eq!(r.remaining(), 0);
        // And ferrokv writes the same bytes.
        let mut ours = vec![OPCODE_FUNCTION2];
        write_string(&mut ours, code, true);
        finish_dump(&mut ours);
        assert_eq!(ours, bytes);
    }

    proptest! {
        #[test]
        fn strings_round_trip(
            s in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                proptest::collection::vec(proptest::sample::select(&b"ab1 "[..]), 0..3000),
            ],
            compress in any::<bool>(),
        ) {
            let mut v = Vec::new();
            write_string(&mut v, &s, compress);
            let mut r = Reader::new(&v);
            prop_assert_eq!(r.read_string().unwrap(), s);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&b);
            while r.read_string().is_ok() && r.remaining() > 0 {}
            let _ = verify_dump(&b);
        }

        #[test]
        fn dumps_verify_and_corruption_is_caught(body in proptest::collection::vec(any::<u8>(), 0..100), flip in any::<usize>()) {
            let mut p = body.clone();
            finish_dump(&mut p);
            prop_assert_eq!(verify_dump(&p), Some((RDB_VERSION, &body[..])));
            let i = flip % p.len();
            p[i] ^= 0x20;
            prop_assert!(verify_dump(&p).is_none_or(|(_, b)| b != &body[..]));
        }
    }
}
