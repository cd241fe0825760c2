//! Heap blocks that collection tables hold: a member (`[len u32][bytes]`)
//! and a hash field with its value (`[flen u32][vlen u32][field][value]`).
//! One allocation each, addressed by a thin pointer, like keyspace entries.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::{self, NonNull};

use crate::table::Thin;

#[inline]
fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 4).expect("block size fits a layout")
}

#[inline]
unsafe fn rd32(p: *const u8) -> usize {
    unsafe { ptr::read_unaligned(p as *const u32) as usize }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("elements are limited to 4 GiB")
}

fn alloc_block(size: usize) -> NonNull<u8> {
    // Safety: size > 0 (every block has a header).
    let p = unsafe { alloc(layout(size)) };
    NonNull::new(p).unwrap_or_else(|| handle_alloc_error(layout(size)))
}

/// A set member (or any byte string) in one heap block.
pub struct Blob(NonNull<u8>);

// Safety: a Blob exclusively owns its block.
unsafe impl Send for Blob {}

impl Blob {
    /// A block holding `b`.
    pub fn new(b: &[u8]) -> Blob {
        let p = alloc_block(4 + b.len());
        // Safety: the block has 4 + len bytes.
        unsafe {
            ptr::write_unaligned(p.as_ptr() as *mut u32, len32(b.len()));
            ptr::copy_nonoverlapping(b.as_ptr(), p.as_ptr().add(4), b.len());
        }
        Blob(p)
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        // Safety: the block was built by `new`.
        unsafe { Self::key_of(self.0) }
    }
}

impl Drop for Blob {
    fn drop(&mut self) {
        // Safety: allocated in `new` with this size.
        unsafe { dealloc(self.0.as_ptr(), layout(4 + rd32(self.0.as_ptr()))) }
    }
}

// Safety: blocks are stable while owned; key_of reads the bytes.
unsafe impl Thin for Blob {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(p: NonNull<u8>) -> Self {
        Blob(p)
    }
    unsafe fn key_of<'a>(p: NonNull<u8>) -> &'a [u8] {
        unsafe { std::slice::from_raw_parts(p.as_ptr().add(4), rd32(p.as_ptr())) }
    }
}

/// A hash field and its value in one heap block.
pub struct Pair(NonNull<u8>);

// Safety: a Pair exclusively owns its block.
unsafe impl Send for Pair {}

impl Pair {
    /// A block holding `field` and `value`.
    pub fn new(field: &[u8], value: &[u8]) -> Pair {
        let p = alloc_block(8 + field.len() + value.len());
        // Safety: the block has room for both lengths and both strings.
        unsafe {
            let b = p.as_ptr();
            ptr::write_unaligned(b as *mut u32, len32(field.len()));
            ptr::write_unaligned(b.add(4) as *mut u32, len32(value.len()));
            ptr::copy_nonoverlapping(field.as_ptr(), b.add(8), field.len());
            ptr::copy_nonoverlapping(value.as_ptr(), b.add(8 + field.len()), value.len());
        }
        Pair(p)
    }

    /// The field.
    pub fn field(&self) -> &[u8] {
        // Safety: the block was built by `new`.
        unsafe { Self::key_of(self.0) }
    }

    /// The value.
    pub fn value(&self) -> &[u8] {
        // Safety: as above.
        unsafe { Self::value_of(self.0) }
    }

    /// The value of the block at `p`.
    ///
    /// # Safety
    /// `p` is a live Pair block for `'a`.
    pub unsafe fn value_of<'a>(p: NonNull<u8>) -> &'a [u8] {
        unsafe {
            let b = p.as_ptr();
            let (fl, vl) = (rd32(b), rd32(b.add(4)));
            std::slice::from_raw_parts(b.add(8 + fl), vl)
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // Safety: allocated in `new` with this size.
        unsafe {
            let b = self.0.as_ptr();
            dealloc(b, layout(8 + rd32(b) + rd32(b.add(4))))
        }
    }
}

// Safety: blocks are stable while owned; key_of reads the field.
unsafe impl Thin for Pair {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(p: NonNull<u8>) -> Self {
        Pair(p)
    }
    unsafe fn key_of<'a>(p: NonNull<u8>) -> &'a [u8] {
        unsafe { std::slice::from_raw_parts(p.as_ptr().add(8), rd32(p.as_ptr())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_their_bytes() {
        let b = Blob::new(b"member");
        assert_eq!(b.bytes(), b"member");
        let p = Pair::new(b"field", b"");
        assert_eq!((p.field(), p.value()), (&b"field"[..], &b""[..]));
        let raw = p.into_raw();
        // Safety: raw came from into_raw just above.
        let p = unsafe { Pair::from_raw(raw) };
        assert_eq!(p.field(), b"field");
    }
}
