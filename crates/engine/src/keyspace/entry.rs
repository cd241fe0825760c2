//! One key and its value in a single heap block.
//!
//! Layout (all integers native-endian, read unaligned):
//!
//! ```text
//! 0   meta: u32    bits 0-3 kind, bit 4 has-expire, bits 8-31 LRU/LFU
//! 4   key_len: u32
//! 8   expire_ms: i64              only when has-expire is set
//! ..  key bytes
//! ..  payload: len u32 + bytes
//! ```
//!
//! The kind says both the type and the encoding. Strings and the compact
//! encodings of collections (listpacks, intsets) are stored inline as the
//! payload, so a small hash costs one allocation; the scalable encodings
//! (hash tables, quicklists, skiplists) are separate objects whose address is
//! the 8-byte payload.
//!
//! A 16-byte key with a 100-byte value fits the 128-byte allocator class;
//! Redis spends about 200 bytes on the same pair (dictEntry, key sds, robj,
//! value sds). Entries are reached through the slot table's bucket; when a
//! block is reallocated the owner (`Db`) repoints the bucket.

use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
use std::ptr::{self, NonNull};

use crate::table::Thin;
use crate::types::buf::Buf;
use crate::types::hash::HashRef;
use crate::types::hashtable::{HashTable, SetTable};
use crate::types::list::{ListRef, QuickList};
use crate::types::set::SetRef;
pub use crate::types::string::StrEnc;
use crate::types::zset::{ZSet, ZsetRef};
use crate::types::Type;

const KIND_MASK: u32 = 0b1111;
const HAS_EXPIRE: u32 = 1 << 4;
const LRU_SHIFT: u32 = 8;
/// Largest value the 24-bit LRU field holds.
pub const LRU_MAX: u32 = (1 << 24) - 1;
const HEADER: usize = 8;

/// What an entry holds: its type and encoding in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// String, `raw`.
    Raw = 0,
    /// String, `embstr`.
    Embstr = 1,
    /// String, `int`.
    Int = 2,
    /// Short list, inline listpack.
    ListLp = 3,
    /// Set of integers, inline intset.
    Intset = 4,
    /// Small set, inline listpack of members.
    SetLp = 5,
    /// Small hash, inline listpack of fields and values.
    HashLp = 6,
    /// Small sorted set, inline listpack of members and scores.
    ZsetLp = 7,
    /// List, quicklist object.
    List = 8,
    /// Set, hash table object.
    Set = 9,
    /// Hash, hash table object.
    Hash = 10,
    /// Sorted set, member table and tree object.
    Zset = 11,
}

impl Kind {
    #[inline]
    fn from_bits(b: u32) -> Kind {
        match b {
            0 => Kind::Raw,
            1 => Kind::Embstr,
            2 => Kind::Int,
            3 => Kind::ListLp,
            4 => Kind::Intset,
            5 => Kind::SetLp,
            6 => Kind::HashLp,
            7 => Kind::ZsetLp,
            8 => Kind::List,
            9 => Kind::Set,
            10 => Kind::Hash,
            11 => Kind::Zset,
            _ => unreachable!("invalid entry kind {b}"),
        }
    }

    /// The Redis type.
    pub fn vtype(self) -> Type {
        match self {
            Kind::Raw | Kind::Embstr | Kind::Int => Type::String,
            Kind::ListLp | Kind::List => Type::List,
            Kind::Intset | Kind::SetLp | Kind::Set => Type::Set,
            Kind::HashLp | Kind::Hash => Type::Hash,
            Kind::ZsetLp | Kind::Zset => Type::Zset,
        }
    }

    /// The encoding name OBJECT ENCODING prints (Redis 7's names).
    pub fn encoding_name(self) -> &'static str {
        match self {
            Kind::Raw => "raw",
            Kind::Embstr => "embstr",
            Kind::Int => "int",
            // Redis 7.0 reports every list as a quicklist.
            Kind::ListLp | Kind::List => "quicklist",
            Kind::Intset => "intset",
            Kind::SetLp | Kind::HashLp | Kind::ZsetLp => "listpack",
            Kind::Set | Kind::Hash => "hashtable",
            Kind::Zset => "skiplist",
        }
    }

    /// Whether the payload is the address of a separate object.
    #[inline]
    fn is_obj(self) -> bool {
        self as u8 >= 8
    }
}

impl From<StrEnc> for Kind {
    fn from(e: StrEnc) -> Kind {
        match e {
            StrEnc::Raw => Kind::Raw,
            StrEnc::Embstr => Kind::Embstr,
            StrEnc::Int => Kind::Int,
        }
    }
}

/// A scalable collection an entry can point to.
pub trait Object: Send + Sized {
    /// The entry kind that holds this object.
    const KIND: Kind;
    /// A deep copy (COPY).
    fn duplicate(&self) -> Self;
    /// Allocations freeing it takes (Redis's `lazyfreeGetFreeEffort`).
    fn free_effort(&self) -> usize;
}

impl Object for QuickList {
    const KIND: Kind = Kind::List;
    fn duplicate(&self) -> Self {
        self.clone()
    }
    fn free_effort(&self) -> usize {
        self.node_count()
    }
}

impl Object for ZSet {
    const KIND: Kind = Kind::Zset;
    fn duplicate(&self) -> Self {
        ZSet::duplicate(self)
    }
    fn free_effort(&self) -> usize {
        self.len()
    }
}

impl Object for SetTable {
    const KIND: Kind = Kind::Set;
    fn duplicate(&self) -> Self {
        SetTable::duplicate(self)
    }
    fn free_effort(&self) -> usize {
        self.len()
    }
}

impl Object for HashTable {
    const KIND: Kind = Kind::Hash;
    fn duplicate(&self) -> Self {
        HashTable::duplicate(self)
    }
    fn free_effort(&self) -> usize {
        self.len()
    }
}

/// A read-only view of a value, by encoding.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// A string and its encoding.
    Str(&'a [u8], StrEnc),
    /// A list.
    List(ListRef<'a>),
    /// A set.
    Set(SetRef<'a>),
    /// A hash.
    Hash(HashRef<'a>),
    /// A sorted set.
    Zset(ZsetRef<'a>),
}

/// A key/value block owned by a slot table.
pub struct Entry {
    ptr: NonNull<u8>,
}

// Safety: an Entry exclusively owns its block.
unsafe impl Send for Entry {}

#[inline]
fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("entry size fits a layout")
}

#[inline]
unsafe fn rd32(p: *const u8) -> u32 {
    unsafe { ptr::read_unaligned(p as *const u32) }
}

#[inline]
unsafe fn wr32(p: *mut u8, v: u32) {
    unsafe { ptr::write_unaligned(p as *mut u32, v) }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("keys and strings are limited to 4 GiB")
}

impl Entry {
    /// Allocates a block for `key` with a payload of `len` bytes, of which
    /// the caller writes all.
    fn alloc(key: &[u8], kind: Kind, len: usize, expire: Option<i64>, lru: u32) -> Entry {
        let exp = if expire.is_some() { 8 } else { 0 };
        let size = HEADER + exp + key.len() + 4 + len;
        // Safety: size > 0; every byte but the payload is written here.
        unsafe {
            let p = alloc(layout(size));
            let Some(ptr) = NonNull::new(p) else { handle_alloc_error(layout(size)) };
            let meta = kind as u32 | if expire.is_some() { HAS_EXPIRE } else { 0 } | (lru & LRU_MAX) << LRU_SHIFT;
            wr32(p, meta);
            wr32(p.add(4), len32(key.len()));
            if let Some(t) = expire {
                ptr::write_unaligned(p.add(HEADER) as *mut i64, t);
            }
            let k = p.add(HEADER + exp);
            ptr::copy_nonoverlapping(key.as_ptr(), k, key.len());
            wr32(k.add(key.len()), len32(len));
            Entry { ptr }
        }
    }

    /// A new entry whose value is stored inline: a string, or the bytes of
    /// a compact encoding (`kind` says which).
    pub fn new_inline(key: &[u8], kind: Kind, bytes: &[u8], expire: Option<i64>, lru: u32) -> Entry {
        debug_assert!(!kind.is_obj());
        let mut e = Entry::alloc(key, kind, bytes.len(), expire, lru);
        e.payload_mut().copy_from_slice(bytes);
        e
    }

    /// A new string entry.
    pub fn new_str(key: &[u8], val: &[u8], enc: StrEnc, expire: Option<i64>, lru: u32) -> Entry {
        Entry::new_inline(key, enc.into(), val, expire, lru)
    }

    /// A new entry pointing to a collection object.
    pub fn new_obj<T: Object>(key: &[u8], obj: Box<T>, expire: Option<i64>, lru: u32) -> Entry {
        let mut e = Entry::alloc(key, T::KIND, 8, expire, lru);
        let addr = Box::into_raw(obj) as usize as u64;
        e.payload_mut().copy_from_slice(&addr.to_ne_bytes());
        e
    }

    #[inline]
    fn meta(&self) -> u32 {
        // Safety: every block starts with its meta word.
        unsafe { rd32(self.ptr.as_ptr()) }
    }

    #[inline]
    fn set_meta(&mut self, m: u32) {
        // Safety: as above; we own the block.
        unsafe { wr32(self.ptr.as_ptr(), m) }
    }

    #[inline]
    fn key_len(&self) -> usize {
        // Safety: the key length follows the meta word.
        unsafe { rd32(self.ptr.as_ptr().add(4)) as usize }
    }

    #[inline]
    fn key_off(&self) -> usize {
        HEADER + if self.meta() & HAS_EXPIRE != 0 { 8 } else { 0 }
    }

    #[inline]
    fn val_off(&self) -> usize {
        self.key_off() + self.key_len()
    }

    /// The key.
    #[inline]
    pub fn key(&self) -> &[u8] {
        // Safety: the key lies inside the block, which outlives `&self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(self.key_off()), self.key_len()) }
    }

    /// Absolute expire time in milliseconds, if the key is volatile.
    #[inline]
    pub fn expire(&self) -> Option<i64> {
        // Safety: the expire slot exists exactly when the flag is set.
        (self.meta() & HAS_EXPIRE != 0)
            .then(|| unsafe { ptr::read_unaligned(self.ptr.as_ptr().add(HEADER) as *const i64) })
    }

    /// The LRU clock (or LFU data) of the last access.
    #[inline]
    pub fn lru(&self) -> u32 {
        self.meta() >> LRU_SHIFT
    }

    /// Records an access.
    #[inline]
    pub fn set_lru(&mut self, lru: u32) {
        let m = self.meta();
        self.set_meta((m & ((1 << LRU_SHIFT) - 1)) | (lru & LRU_MAX) << LRU_SHIFT);
    }

    /// Type and encoding.
    #[inline]
    pub fn kind(&self) -> Kind {
        Kind::from_bits(self.meta() & KIND_MASK)
    }

    /// The Redis type.
    #[inline]
    pub fn vtype(&self) -> Type {
        self.kind().vtype()
    }

    /// The payload bytes: a string, a compact encoding, or an object address.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let off = self.val_off();
        // Safety: the payload's length then its bytes are stored at `off`.
        unsafe {
            let p = self.ptr.as_ptr().add(off);
            std::slice::from_raw_parts(p.add(4), rd32(p) as usize)
        }
    }

    #[inline]
    fn payload_mut(&mut self) -> &mut [u8] {
        let off = self.val_off();
        // Safety: as in `payload`, and we hold the block exclusively.
        unsafe {
            let p = self.ptr.as_ptr().add(off);
            std::slice::from_raw_parts_mut(p.add(4), rd32(p) as usize)
        }
    }

    #[inline]
    fn obj_addr(&self) -> *mut u8 {
        debug_assert!(self.kind().is_obj());
        let b: [u8; 8] = self.payload().try_into().expect("object payloads are addresses");
        u64::from_ne_bytes(b) as usize as *mut u8
    }

    /// The object this entry points to; panics on another kind.
    #[inline]
    pub fn obj<T: Object>(&self) -> &T {
        assert_eq!(self.kind(), T::KIND, "entry holds another kind");
        // Safety: the kind says the payload is the address of a live T.
        unsafe { &*(self.obj_addr() as *const T) }
    }

    /// The object this entry points to, writable; panics on another kind.
    #[inline]
    pub fn obj_mut<T: Object>(&mut self) -> &mut T {
        assert_eq!(self.kind(), T::KIND, "entry holds another kind");
        // Safety: as above, and we hold the entry exclusively.
        unsafe { &mut *(self.obj_addr() as *mut T) }
    }

    /// The value, by encoding.
    #[inline]
    pub fn value(&self) -> Value<'_> {
        match self.kind() {
            Kind::Raw => Value::Str(self.payload(), StrEnc::Raw),
            Kind::Embstr => Value::Str(self.payload(), StrEnc::Embstr),
            Kind::Int => Value::Str(self.payload(), StrEnc::Int),
            Kind::ListLp => Value::List(ListRef::Lp(self.payload())),
            Kind::List => Value::List(ListRef::Quick(self.obj())),
            Kind::Intset => Value::Set(SetRef::Intset(self.payload())),
            Kind::SetLp => Value::Set(SetRef::Lp(self.payload())),
            Kind::HashLp => Value::Hash(HashRef::Lp(self.payload())),
            Kind::Set => Value::Set(SetRef::Table(self.obj())),
            Kind::Hash => Value::Hash(HashRef::Table(self.obj())),
            Kind::ZsetLp => Value::Zset(ZsetRef::Lp(self.payload())),
            Kind::Zset => Value::Zset(ZsetRef::Tree(self.obj())),
        }
    }

    /// The string value and its encoding (the entry must hold a string).
    #[inline]
    pub fn str(&self) -> (&[u8], StrEnc) {
        debug_assert!(self.is_string());
        let enc = match self.meta() & KIND_MASK {
            0 => StrEnc::Raw,
            1 => StrEnc::Embstr,
            _ => StrEnc::Int,
        };
        (self.payload(), enc)
    }

    /// The string bytes, writable in place (their length cannot change).
    pub fn str_mut(&mut self) -> &mut [u8] {
        debug_assert!(self.is_string());
        self.payload_mut()
    }

    /// True for string values.
    #[inline]
    pub fn is_string(&self) -> bool {
        self.meta() & KIND_MASK <= Kind::Int as u32
    }

    /// The type name TYPE prints.
    pub fn type_name(&self) -> &'static str {
        self.vtype().name()
    }

    /// The encoding name OBJECT ENCODING prints.
    pub fn encoding_name(&self) -> &'static str {
        self.kind().encoding_name()
    }

    /// Sets the encoding Redis would report for the current bytes of a string.
    pub fn set_enc(&mut self, enc: StrEnc) {
        debug_assert!(self.is_string());
        let m = self.meta();
        self.set_meta((m & !KIND_MASK) | Kind::from(enc) as u32);
    }

    /// How many allocations freeing this value takes (Redis's
    /// `lazyfreeGetFreeEffort`): 1 for anything stored inline.
    pub fn free_effort(&self) -> usize {
        match self.kind() {
            Kind::List => self.obj::<QuickList>().free_effort(),
            Kind::Set => self.obj::<SetTable>().free_effort(),
            Kind::Hash => self.obj::<HashTable>().free_effort(),
            Kind::Zset => self.obj::<ZSet>().free_effort(),
            _ => 1,
        }
    }

    /// Total bytes of the block (for memory accounting and DEBUG OBJECT).
    pub fn block_size(&self) -> usize {
        self.val_off() + 4 + self.payload().len()
    }

    /// Replaces the string value, keeping key, expire and LRU.
    pub fn with_str(mut self, val: &[u8], enc: StrEnc) -> Entry {
        debug_assert!(self.is_string());
        self.resize_payload(val.len());
        self.payload_mut().copy_from_slice(val);
        self.set_enc(enc);
        self
    }

    /// Changes the string length to `len`, keeping the leading bytes and
    /// zero-filling new ones (APPEND, SETRANGE, SETBIT growth).
    pub fn resize_str(mut self, len: usize) -> Entry {
        debug_assert!(self.is_string());
        self.resize_payload(len);
        self
    }

    /// Changes the inline payload's length, keeping its leading bytes and
    /// zero-filling new ones. The block may move.
    fn resize_payload(&mut self, len: usize) {
        let old_len = self.payload().len();
        if old_len == len {
            return;
        }
        let off = self.val_off();
        let old_size = off + 4 + old_len;
        let new_size = off + 4 + len;
        // Safety: the block was allocated with `layout(old_size)`; realloc
        // keeps the prefix (header, key, length word) and we fill the rest.
        unsafe {
            let np = realloc(self.ptr.as_ptr(), layout(old_size), new_size);
            if np.is_null() {
                handle_alloc_error(layout(new_size));
            }
            wr32(np.add(off), len32(len));
            if len > old_len {
                ptr::write_bytes(np.add(off + 4 + old_len), 0, len - old_len);
            }
            self.ptr = NonNull::new_unchecked(np);
        }
    }

    /// Relabels the inline payload, already rewritten by the caller, as
    /// another compact encoding of the same type (intset -> listpack).
    pub fn set_inline_kind(&mut self, kind: Kind) {
        debug_assert!(!kind.is_obj() && !self.kind().is_obj() && kind.vtype() == self.vtype());
        let m = self.meta();
        self.set_meta((m & !KIND_MASK) | kind as u32);
    }

    /// Replaces the value with an inline one of `kind` (an encoding
    /// conversion), keeping key, expire and LRU.
    pub fn with_inline(self, kind: Kind, bytes: &[u8]) -> Entry {
        Entry::new_inline(self.key(), kind, bytes, self.expire(), self.lru())
    }

    /// Replaces the value with an object (an encoding conversion), keeping
    /// key, expire and LRU.
    pub fn with_obj<T: Object>(self, obj: Box<T>) -> Entry {
        Entry::new_obj(self.key(), obj, self.expire(), self.lru())
    }

    /// Moves the value into a new block with another key and expire; the
    /// old block is freed but not its object, which the new block now owns.
    fn relocate(self, key: &[u8], expire: Option<i64>) -> Entry {
        let mut e = Entry::alloc(key, self.kind(), self.payload().len(), expire, self.lru());
        e.payload_mut().copy_from_slice(self.payload());
        let size = self.block_size();
        let p = std::mem::ManuallyDrop::new(self).ptr;
        // Safety: allocated with this size; the object (if any) is now owned
        // by `e`, so only the block is released.
        unsafe { dealloc(p.as_ptr(), layout(size)) };
        e
    }

    /// Sets or clears the expire time. The block is rebuilt when the expire
    /// slot appears or disappears.
    pub fn with_expire(self, expire: Option<i64>) -> Entry {
        match (self.expire().is_some(), expire) {
            (true, Some(t)) => {
                // Safety: the slot exists.
                unsafe { ptr::write_unaligned(self.ptr.as_ptr().add(HEADER) as *mut i64, t) };
                self
            }
            (false, None) => self,
            _ => {
                let key = self.key().to_vec();
                self.relocate(&key, expire)
            }
        }
    }

    /// This value under another key (RENAME), keeping LRU and encoding. An
    /// object moves; it is not copied.
    pub fn rename(self, key: &[u8], expire: Option<i64>) -> Entry {
        self.relocate(key, expire)
    }

    /// Copies this entry under another key (COPY, MOVE): a deep copy.
    pub fn clone_as(&self, key: &[u8], expire: Option<i64>) -> Entry {
        match self.kind() {
            Kind::List => Entry::new_obj(key, Box::new(self.obj::<QuickList>().duplicate()), expire, self.lru()),
            Kind::Set => Entry::new_obj(key, Box::new(self.obj::<SetTable>().duplicate()), expire, self.lru()),
            Kind::Hash => Entry::new_obj(key, Box::new(self.obj::<HashTable>().duplicate()), expire, self.lru()),
            Kind::Zset => Entry::new_obj(key, Box::new(self.obj::<ZSet>().duplicate()), expire, self.lru()),
            k => Entry::new_inline(key, k, self.payload(), expire, self.lru()),
        }
    }
}

/// The inline payload as an editable buffer (compact encodings only): a
/// resize reallocates the block, so edits run inside [`super::Db::update`].
impl Buf for Entry {
    #[inline]
    fn bytes(&self) -> &[u8] {
        debug_assert!(!self.kind().is_obj());
        self.payload()
    }
    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        debug_assert!(!self.kind().is_obj());
        self.payload_mut()
    }
    #[inline]
    fn resize_to(&mut self, len: usize) {
        self.resize_payload(len)
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // Safety: an object kind's payload is the address of a Box it owns.
        unsafe {
            match self.kind() {
                Kind::List => drop(Box::from_raw(self.obj_addr() as *mut QuickList)),
                Kind::Set => drop(Box::from_raw(self.obj_addr() as *mut SetTable)),
                Kind::Hash => drop(Box::from_raw(self.obj_addr() as *mut HashTable)),
                Kind::Zset => drop(Box::from_raw(self.obj_addr() as *mut ZSet)),
                _ => {}
            }
        }
        let size = self.block_size();
        // Safety: the block was allocated with this size and alignment.
        unsafe { dealloc(self.ptr.as_ptr(), layout(size)) }
    }
}

// Safety: the pointer is the block's address; blocks are never moved while
// owned by a table (reallocation goes through `Db`, which repoints buckets).
unsafe impl Thin for Entry {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.ptr;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(p: NonNull<u8>) -> Self {
        Entry { ptr: p }
    }
    unsafe fn key_of<'a>(p: NonNull<u8>) -> &'a [u8] {
        let e = std::mem::ManuallyDrop::new(Entry { ptr: p });
        // Safety: the block outlives the borrow per the caller's contract.
        unsafe { std::slice::from_raw_parts(e.key().as_ptr(), e.key().len()) }
    }
}

/// A non-owning reference to an entry, kept in the per-slot index of
/// volatile keys. Dropping an alias frees nothing.
pub struct Alias(NonNull<u8>);

// Safety: an alias is a plain address; the owning table decides lifetimes.
unsafe impl Send for Alias {}

// Safety: aliases point at live entries owned by the slot's key table; `Db`
// removes an alias before (or when) its entry is freed or moved.
unsafe impl Thin for Alias {
    fn into_raw(self) -> NonNull<u8> {
        self.0
    }
    unsafe fn from_raw(p: NonNull<u8>) -> Self {
        Alias(p)
    }
    unsafe fn key_of<'a>(p: NonNull<u8>) -> &'a [u8] {
        unsafe { Entry::key_of(p) }
    }
}

impl Alias {
    /// An alias of the block at `p`.
    pub fn new(p: NonNull<u8>) -> Self {
        Alias(p)
    }
}

/// A read-only view of an entry owned by a table.
pub struct EntryRef<'a> {
    e: std::mem::ManuallyDrop<Entry>,
    _borrow: std::marker::PhantomData<&'a Entry>,
}

/// A writable view of an entry owned by a table, for changes that keep the
/// block where it is (LRU, bytes of a string, encoding).
pub struct EntryMut<'a> {
    e: std::mem::ManuallyDrop<Entry>,
    _borrow: std::marker::PhantomData<&'a mut Entry>,
}

impl EntryRef<'_> {
    /// Views the block at `p`.
    ///
    /// # Safety
    /// `p` is a live entry block that is not freed, moved or written while
    /// the view lives.
    pub unsafe fn new(p: NonNull<u8>) -> Self {
        EntryRef { e: std::mem::ManuallyDrop::new(Entry { ptr: p }), _borrow: std::marker::PhantomData }
    }
}

impl<'a> EntryRef<'a> {
    /// The key, borrowed for as long as the table is.
    pub fn key(&self) -> &'a [u8] {
        let k = self.e.key();
        // Safety: the bytes live in the block, which outlives 'a.
        unsafe { std::slice::from_raw_parts(k.as_ptr(), k.len()) }
    }

    /// The string value and encoding, borrowed for as long as the table is.
    pub fn str(&self) -> (&'a [u8], StrEnc) {
        let (s, enc) = self.e.str();
        // Safety: as above.
        (unsafe { std::slice::from_raw_parts(s.as_ptr(), s.len()) }, enc)
    }

    /// The value, borrowed for as long as the table is.
    pub fn value(&self) -> Value<'a> {
        let v = self.e.value();
        // Safety: the value lives in the block (or its object), which
        // outlives 'a; only the lifetime is widened from the view's.
        unsafe { std::mem::transmute::<Value<'_>, Value<'a>>(v) }
    }
}

impl EntryMut<'_> {
    /// Views the block at `p` for writing.
    ///
    /// # Safety
    /// As for [`EntryRef::new`], and no other view of the block exists.
    pub unsafe fn new(p: NonNull<u8>) -> Self {
        EntryMut { e: std::mem::ManuallyDrop::new(Entry { ptr: p }), _borrow: std::marker::PhantomData }
    }
}

impl std::ops::Deref for EntryRef<'_> {
    type Target = Entry;
    fn deref(&self) -> &Entry {
        &self.e
    }
}

impl std::ops::Deref for EntryMut<'_> {
    type Target = Entry;
    fn deref(&self) -> &Entry {
        &self.e
    }
}

impl std::ops::DerefMut for EntryMut<'_> {
    fn deref_mut(&mut self) -> &mut Entry {
        &mut self.e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_roundtrip() {
        let e = Entry::new_str(b"key:000000000001", &[b'x'; 100], StrEnc::Raw, None, 77);
        assert_eq!(e.key(), b"key:000000000001");
        assert_eq!(e.str().0, &[b'x'; 100][..]);
        assert_eq!(e.expire(), None);
        assert_eq!(e.lru(), 77);
        assert_eq!(e.block_size(), 128);
        let e = e.with_expire(Some(12345));
        assert_eq!(e.expire(), Some(12345));
        assert_eq!(e.key(), b"key:000000000001");
        assert_eq!(e.lru(), 77);
        let e = e.with_str(b"42", StrEnc::Int);
        assert_eq!(e.str(), (&b"42"[..], StrEnc::Int));
        assert_eq!(e.expire(), Some(12345));
        let mut e = e.resize_str(5);
        assert_eq!(e.str().0, b"42\0\0\0");
        e.str_mut()[4] = b'!';
        e.set_lru(LRU_MAX + 5);
        assert_eq!(e.lru(), 4);
        let e = e.with_expire(None);
        assert_eq!(e.str().0, b"42\0\0!");
        assert_eq!(e.expire(), None);
        let c = e.clone_as(b"other", Some(1));
        assert_eq!((c.key(), c.expire()), (&b"other"[..], Some(1)));
    }
}
