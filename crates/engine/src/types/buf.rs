//! The byte buffer compact encodings (listpacks, intsets) are edited in.
//!
//! A compact value lives either in a `Vec` (a list node, a scratch copy) or
//! inline in its keyspace entry's block, where growing it reallocates the
//! whole entry. Editing code is written once against this trait, and does
//! what Redis does with its listpacks: resize, then move the tail.

/// A resizable run of bytes.
pub trait Buf {
    /// The bytes.
    fn bytes(&self) -> &[u8];
    /// The bytes, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Changes the length, keeping the leading bytes (new bytes are zero).
    fn resize_to(&mut self, len: usize);
}

impl Buf for Vec<u8> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    #[inline]
    fn resize_to(&mut self, len: usize) {
        self.resize(len, 0);
    }
}

/// Replaces `len` bytes at `at` with `with`, moving the tail as needed.
pub fn splice<B: Buf + ?Sized>(b: &mut B, at: usize, len: usize, with: &[u8]) {
    let old = b.bytes().len();
    let new = old - len + with.len();
    if with.len() > len {
        b.resize_to(new);
        b.bytes_mut().copy_within(at + len..old, at + with.len());
    } else if with.len() < len {
        b.bytes_mut().copy_within(at + len..old, at + with.len());
        b.resize_to(new);
    }
    b.bytes_mut()[at..at + with.len()].copy_from_slice(with);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_grows_and_shrinks() {
        let mut v = b"abcdef".to_vec();
        splice(&mut v, 1, 2, b"XYZW");
        assert_eq!(v, b"aXYZWdef");
        splice(&mut v, 0, 5, b"");
        assert_eq!(v, b"def");
        splice(&mut v, 3, 0, b"!");
        assert_eq!(v, b"def!");
        splice(&mut v, 1, 1, b"E");
        assert_eq!(v, b"dEf!");
    }
}
