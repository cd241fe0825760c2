//! Hash slots: CRC16 (XMODEM) of the key, or of its `{hash tag}`, mod 16384.

/// Number of hash slots in a cluster.
pub const SLOTS: usize = 16384;

/// The slot of `key`. When the key has a `{...}` with at least one byte
/// between the first `{` and the first `}` after it, only those bytes are
/// hashed, so related keys can be kept in one slot (Redis's `keyHashSlot`).
#[inline]
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = hash_tag(key).unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(hashed) & (SLOTS as u16 - 1)
}

/// The hash tag of `key`, if it has a non-empty one.
pub fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&c| c == b'{')?;
    let close = key[open + 1..].iter().position(|&c| c == b'}')?;
    (close > 0).then(|| &key[open + 1..open + 1 + close])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_slots() {
        // Values from `redis-cli CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b""), 0);
        assert_eq!(key_slot(b"123456789"), 0x31C3 & 16383);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"{user1000}.followers"), key_slot(b"{user1000}x"));
        // Empty tag: the whole key is hashed.
        assert_eq!(key_slot(b"foo{}{bar}"), crc16::State::<crc16::XMODEM>::calculate(b"foo{}{bar}") & 16383);
        // Only the first {..} counts.
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(hash_tag(b"no close {"), None);
    }

    proptest! {
        #[test]
        fn always_in_range(k in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!((key_slot(&k) as usize) < SLOTS);
        }
    }
}
