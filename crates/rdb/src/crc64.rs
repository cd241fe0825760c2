//! CRC-64/Jones as Redis computes it (reflected, polynomial
//! 0xad93d23594c935a9, no final xor): the checksum of DUMP payloads and RDB
//! files.

const POLY: u64 = 0x95AC_9329_AC4B_C9B5; // 0xad93d23594c935a9 bit-reversed

const fn table() -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u64; 256] = table();

/// Continues the checksum `crc` over `data` (start with 0).
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    for &b in data {
        crc = TABLE[((crc ^ b as u64) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn redis_check_value() {
        // crc64.c's own test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
        assert_eq!(super::crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }
}
