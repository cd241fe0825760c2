//! Sorted sets: a listpack of (member, score) pairs in order while small, and
//! past `zset-max-listpack-entries` / `zset-max-listpack-value` a member
//! table plus an order-statistic B+tree (Redis uses a skiplist; OBJECT
//! ENCODING still says `skiplist`).
//!
//! Why a B+tree: it gives the skiplist's operations (rank, element by rank,
//! range by score or by member) in O(log n) with 8 bytes per member in
//! dense leaves instead of a skiplist node of 40+ bytes, and leaves that are
//! scanned sequentially. Each member lives once, in a block holding its
//! score; the table finds it by member, the tree orders pointers to it.
//!
//! Order is Redis's: by score, then by member bytes (memcmp, shorter first).
//! Scores are never NaN.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cmp::Ordering;
use std::ptr::{self, NonNull};

use super::buf::Buf;
use super::listpack::{self as lp, Val};
use crate::state::Rng;
use crate::table::{hash_bytes, Table, Thin};

unsafe extern "C" {
    fn ferrokv_strtod(s: *const u8, len: usize, out: *mut f64, erange: *mut i32) -> usize;
}

/// libc's strtod: (value, bytes consumed, ERANGE reported).
pub(crate) fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let (mut v, mut erange) = (0f64, 0i32);
    // Safety: pointer and length describe a live buffer; outputs are writable.
    let used = unsafe { ferrokv_strtod(s.as_ptr(), s.len(), &mut v, &mut erange) };
    (v, used, erange != 0)
}

fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A score argument (ZADD, ZINCRBY, WEIGHTS), as Redis's `string2d` reads
/// it: the whole text is the number, no leading space, no NaN, no overflow,
/// no underflow to zero.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() || c_isspace(s[0]) {
        return None;
    }
    let (v, used, erange) = strtod(s);
    if used != s.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

/// The score stored as text in a listpack (always written by us, so valid).
fn stored_score(s: &[u8]) -> f64 {
    strtod(s).0
}

/// Redis's `double2ll`: the score as an integer when that loses nothing.
pub fn double_to_i64(d: f64) -> Option<i64> {
    if d < (-(i64::MAX / 2)) as f64 || d > (i64::MAX / 2) as f64 {
        return None;
    }
    let l = d as i64;
    (l as f64 == d).then_some(l)
}

/// How a listpack stores a score: an integer when exact, else `%.17g`
/// (`inf`, `-inf` for infinities). Redis's `zzlInsertAt`.
pub fn score_text(d: f64) -> Vec<u8> {
    if let Some(l) = double_to_i64(d) {
        return ferrokv_resp::num::i64_to_vec(l);
    }
    if d.is_infinite() {
        return if d < 0.0 { b"-inf".to_vec() } else { b"inf".to_vec() };
    }
    let mut v = Vec::with_capacity(24);
    ferrokv_resp::float::push_g(&mut v, d, 17);
    v
}

/// A score range (`1.5`, `(1.5` exclusive, `-inf`, `+inf`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// Lower bound excluded.
    pub minex: bool,
    /// Upper bound excluded.
    pub maxex: bool,
}

/// One end of a score range, as Redis's `zslParseRange` reads it: a looser
/// parse than [`parse_score`] (leading space, empty text and overflow to
/// infinity pass; only trailing junk and NaN fail).
fn parse_range_item(s: &[u8]) -> Option<(f64, bool)> {
    let (ex, body) = if s.first() == Some(&b'(') { (true, &s[1..]) } else { (false, s) };
    let (v, used, _) = strtod(body);
    // The C string ends at the first NUL, so the number may stop there.
    if !(used == body.len() || body[used] == 0) || v.is_nan() {
        return None;
    }
    Some((v, ex))
}

impl ScoreRange {
    /// Parses `min` and `max`.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = parse_range_item(min)?;
        let (max, maxex) = parse_range_item(max)?;
        Some(ScoreRange { min, max, minex, maxex })
    }

    /// The score is not below the range.
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// The score is not above the range.
    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// Nothing can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lexicographic range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every string.
    Min,
    /// `+`: above every string.
    Max,
    /// `[x`: x included.
    Incl(Vec<u8>),
    /// `(x`: x excluded.
    Excl(Vec<u8>),
}

impl LexBound {
    fn parse(s: &[u8]) -> Option<LexBound> {
        let alone = s.len() == 1 || s.get(1) == Some(&0);
        match s.first()? {
            b'+' if alone => Some(LexBound::Max),
            b'-' if alone => Some(LexBound::Min),
            b'(' => Some(LexBound::Excl(s[1..].to_vec())),
            b'[' => Some(LexBound::Incl(s[1..].to_vec())),
            _ => None,
        }
    }

    fn excl(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }

    /// Redis's `sdscmplex(v, self)`.
    fn cmp_value(&self, v: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Incl(b) | LexBound::Excl(b) => v.cmp(b),
        }
    }
}

/// A lexicographic range (`[a`, `(b`, `-`, `+`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Parses `min` and `max`.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange { min: LexBound::parse(min)?, max: LexBound::parse(max)? })
    }

    /// The member is not below the range.
    pub fn gte_min(&self, v: &[u8]) -> bool {
        let c = self.min.cmp_value(v);
        if self.min.excl() {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    /// The member is not above the range.
    pub fn lte_max(&self, v: &[u8]) -> bool {
        let c = self.max.cmp_value(v);
        if self.max.excl() {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    /// Nothing can be in the range.
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        let cmp = match (&self.min, &self.max) {
            (Min, Min) | (Max, Max) => Ordering::Equal,
            (Min, _) | (_, Max) => Ordering::Less,
            (Max, _) | (_, Min) => Ordering::Greater,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
        };
        cmp == Ordering::Greater || (cmp == Ordering::Equal && (self.min.excl() || self.max.excl()))
    }
}

// ---------------------------------------------------------------------------
// Listpack encoding: member, score, member, score, ... in order.

/// Number of members of a listpack zset.
pub fn lp_len(l: &[u8]) -> usize {
    lp::len(l) / 2
}

/// The score stored at offset `p`.
pub fn lp_score(l: &[u8], p: usize) -> f64 {
    match lp::get(l, p) {
        Val::Int(i) => i as f64,
        Val::Str(s) => stored_score(s),
    }
}

/// The member's offset and score.
pub fn lp_find(l: &[u8], m: &[u8]) -> Option<(usize, f64)> {
    let mut e = lp::first(l);
    while let Some(ep) = e {
        let sp = lp::next(l, ep).expect("a member has a score");
        if lp::get(l, ep).eq_bytes(m) {
            return Some((ep, lp_score(l, sp)));
        }
        e = lp::next(l, sp);
    }
    None
}

/// Inserts a member that is not present, keeping the order (Redis's
/// `zzlInsert`).
pub fn lp_insert<B: Buf + ?Sized>(b: &mut B, m: &[u8], score: f64) {
    let l = b.bytes();
    let mut at = None;
    let mut e = lp::first(l);
    while let Some(ep) = e {
        let sp = lp::next(l, ep).expect("a member has a score");
        let s = lp_score(l, sp);
        if s > score || (s == score && *lp::get(l, ep).bytes() > *m) {
            at = Some(ep);
            break;
        }
        e = lp::next(l, sp);
    }
    let text = score_text(score);
    match at {
        Some(ep) => {
            lp::insert(b, ep, m);
            let sp = lp::next(b.bytes(), ep).expect("just inserted");
            lp::insert(b, sp, &text);
        }
        None => {
            lp::push_back(b, m);
            lp::push_back(b, &text);
        }
    }
}

/// Deletes the member at offset `ep` and its score.
pub fn lp_delete<B: Buf + ?Sized>(b: &mut B, ep: usize) {
    lp::delete(b, ep, 2);
}

// ---------------------------------------------------------------------------
// Member blocks: [score f64][len u32][member bytes].

const BLOB_HDR: usize = 12;

#[inline]
fn blob_layout(len: usize) -> Layout {
    Layout::from_size_align(BLOB_HDR + len, 8).expect("member block fits a layout")
}

/// A member and its score in one heap block, owned by the member table.
struct ZBlob(NonNull<u8>);

// Safety: the block is owned exclusively.
unsafe impl Send for ZBlob {}

impl ZBlob {
    fn new(m: &[u8], score: f64) -> ZBlob {
        let lay = blob_layout(m.len());
        // Safety: the layout is non-zero; every byte is written below.
        unsafe {
            let p = alloc(lay);
            let Some(p) = NonNull::new(p) else { handle_alloc_error(lay) };
            ptr::write_unaligned(p.as_ptr() as *mut f64, score);
            ptr::write_unaligned(p.as_ptr().add(8) as *mut u32, u32::try_from(m.len()).expect("members < 4 GiB"));
            ptr::copy_nonoverlapping(m.as_ptr(), p.as_ptr().add(BLOB_HDR), m.len());
            ZBlob(p)
        }
    }
}

impl Drop for ZBlob {
    fn drop(&mut self) {
        // Safety: allocated by `new` with the length stored in the block.
        unsafe { dealloc(self.0.as_ptr(), blob_layout(member(self.0).len())) }
    }
}

// Safety: blocks do not move while owned; the key is the member.
unsafe impl Thin for ZBlob {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(p: NonNull<u8>) -> Self {
        ZBlob(p)
    }
    unsafe fn key_of<'a>(p: NonNull<u8>) -> &'a [u8] {
        unsafe { member(p) }
    }
}

type Item = NonNull<u8>;

#[inline]
fn score(p: Item) -> f64 {
    // Safety: items point at live member blocks of the sorted set.
    unsafe { ptr::read_unaligned(p.as_ptr() as *const f64) }
}

#[inline]
unsafe fn member<'a>(p: Item) -> &'a [u8] {
    unsafe {
        let len = ptr::read_unaligned(p.as_ptr().add(8) as *const u32) as usize;
        std::slice::from_raw_parts(p.as_ptr().add(BLOB_HDR), len)
    }
}

#[inline]
fn set_score(p: Item, v: f64) {
    // Safety: as in `score`; the caller holds the set mutably.
    unsafe { ptr::write_unaligned(p.as_ptr() as *mut f64, v) }
}

/// The order of sorted sets: score, then member bytes.
#[inline]
fn cmp_item(p: Item, s: f64, m: &[u8]) -> Ordering {
    let ps = score(p);
    if ps < s {
        Ordering::Less
    } else if ps > s {
        Ordering::Greater
    } else {
        // Safety: as in `score`.
        unsafe { member(p) }.cmp(m)
    }
}

// ---------------------------------------------------------------------------
// The order-statistic B+tree.

const CAP: usize = 64;

enum Node {
    Leaf(Vec<Item>),
    Inner(Vec<Child>),
}

struct Child {
    node: Box<Node>,
    /// Items in the subtree.
    count: usize,
    /// The subtree's last item, which routes searches.
    max: Item,
}

impl Node {
    fn total(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(k) => k.iter().map(|c| c.count).sum(),
        }
    }

    fn last(&self) -> Item {
        match self {
            Node::Leaf(v) => *v.last().expect("nodes are not empty"),
            Node::Inner(k) => k.last().expect("nodes are not empty").max,
        }
    }

    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(k) => k.len(),
        }
    }

    /// Inserts `it` (whose key is `s`, `m`); returns the right half when
    /// the node splits.
    fn insert(&mut self, it: Item, s: f64, m: &[u8]) -> Option<Node> {
        match self {
            Node::Leaf(v) => {
                let pos = v.partition_point(|&x| cmp_item(x, s, m) == Ordering::Less);
                v.insert(pos, it);
                (v.len() > CAP).then(|| Node::Leaf(v.split_off(v.len() / 2)))
            }
            Node::Inner(kids) => {
                let mut i = kids.partition_point(|c| cmp_item(c.max, s, m) == Ordering::Less);
                if i == kids.len() {
                    i -= 1;
                }
                let split = kids[i].node.insert(it, s, m);
                kids[i].count += 1;
                if cmp_item(kids[i].max, s, m) == Ordering::Less {
                    kids[i].max = it;
                }
                if let Some(right) = split {
                    let rc = right.total();
                    kids[i].count -= rc;
                    kids[i].max = kids[i].node.last();
                    let max = right.last();
                    kids.insert(i + 1, Child { node: Box::new(right), count: rc, max });
                    if kids.len() > CAP {
                        return Some(Node::Inner(kids.split_off(kids.len() / 2)));
                    }
                }
                None
            }
        }
    }

    /// Removes the item with key (`s`, `m`), which is present.
    fn remove(&mut self, s: f64, m: &[u8]) -> Item {
        match self {
            Node::Leaf(v) => {
                let pos = v.partition_point(|&x| cmp_item(x, s, m) == Ordering::Less);
                debug_assert!(pos < v.len() && cmp_item(v[pos], s, m) == Ordering::Equal);
                v.remove(pos)
            }
            Node::Inner(kids) => {
                let i = kids.partition_point(|c| cmp_item(c.max, s, m) == Ordering::Less);
                let it = kids[i].node.remove(s, m);
                kids[i].count -= 1;
                if kids[i].count == 0 {
                    kids.remove(i);
                    return it;
                }
                if it == kids[i].max {
                    kids[i].max = kids[i].node.last();
                }
                Self::merge_small(kids, i);
                it
            }
        }
    }

    /// Merges child `i` into a neighbour when it has become small and the
    /// two fit in one node, so the tree stays dense.
    fn merge_small(kids: &mut Vec<Child>, i: usize) {
        if kids[i].node.width() >= CAP / 4 || kids.len() < 2 {
            return;
        }
        let (l, r) = if i + 1 < kids.len() { (i, i + 1) } else { (i - 1, i) };
        if kids[l].node.width() + kids[r].node.width() > CAP {
            return;
        }
        let right = kids.remove(r);
        let left = &mut kids[l];
        match (&mut *left.node, *right.node) {
            (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
            (Node::Inner(a), Node::Inner(b)) => a.extend(b),
            _ => unreachable!("siblings are at the same depth"),
        }
        left.count += right.count;
        left.max = right.max;
    }

    /// Number of items for which `below` holds, `below` being true for a
    /// prefix of the order and false after it.
    fn count_below(&self, below: &impl Fn(Item) -> bool) -> usize {
        match self {
            Node::Leaf(v) => v.partition_point(|&x| below(x)),
            Node::Inner(kids) => {
                let i = kids.partition_point(|c| below(c.max));
                let before: usize = kids[..i].iter().map(|c| c.count).sum();
                match kids.get(i) {
                    Some(c) => before + c.node.count_below(below),
                    None => before,
                }
            }
        }
    }

    fn select(&self, mut rank: usize) -> Item {
        let mut node = self;
        loop {
            match node {
                Node::Leaf(v) => return v[rank],
                Node::Inner(kids) => {
                    let mut i = 0;
                    while rank >= kids[i].count {
                        rank -= kids[i].count;
                        i += 1;
                    }
                    node = &kids[i].node;
                }
            }
        }
    }
}

/// Walks the tree's items in order from a rank, forwards or backwards.
struct Cursor<'a> {
    stack: Vec<(&'a [Child], usize)>,
    leaf: &'a [Item],
    /// Position in `leaf`; `None` once past either end.
    idx: Option<usize>,
    reverse: bool,
}

impl<'a> Cursor<'a> {
    fn seek(root: &'a Node, mut rank: usize, reverse: bool) -> Cursor<'a> {
        let mut stack = Vec::new();
        let mut node = root;
        loop {
            match node {
                Node::Leaf(v) => {
                    let idx = (rank < v.len()).then_some(rank);
                    return Cursor { stack, leaf: v, idx, reverse };
                }
                Node::Inner(kids) => {
                    let mut i = 0;
                    while i + 1 < kids.len() && rank >= kids[i].count {
                        rank -= kids[i].count;
                        i += 1;
                    }
                    stack.push((&kids[..], i));
                    node = &kids[i].node;
                }
            }
        }
    }

    /// Moves to the next leaf in the walking direction.
    fn next_leaf(&mut self) {
        while let Some((kids, i)) = self.stack.pop() {
            let j = if self.reverse { i.checked_sub(1) } else { (i + 1 < kids.len()).then_some(i + 1) };
            let Some(j) = j else { continue };
            self.stack.push((kids, j));
            let mut node: &Node = &kids[j].node;
            loop {
                match node {
                    Node::Leaf(v) => {
                        self.leaf = v;
                        self.idx = Some(if self.reverse { v.len() - 1 } else { 0 });
                        return;
                    }
                    Node::Inner(k) => {
                        let c = if self.reverse { k.len() - 1 } else { 0 };
                        self.stack.push((&k[..], c));
                        node = &k[c].node;
                    }
                }
            }
        }
        self.idx = None;
    }
}

impl Iterator for Cursor<'_> {
    type Item = Item;
    fn next(&mut self) -> Option<Item> {
        let i = self.idx?;
        let it = self.leaf[i];
        let step = if self.reverse { i.checked_sub(1) } else { (i + 1 < self.leaf.len()).then_some(i + 1) };
        match step {
            Some(j) => self.idx = Some(j),
            None => self.next_leaf(),
        }
        Some(it)
    }
}

/// The scalable encoding: members by name, and their order.
pub struct ZSet {
    dict: Table<ZBlob>,
    root: Node,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet { dict: Table::new(), root: Node::Leaf(Vec::new()) }
    }
}

// Safety: a ZSet owns its blocks (through `dict`) and the tree only points
// into them.
unsafe impl Send for ZSet {}

impl ZSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    fn item(&self, m: &[u8]) -> Option<Item> {
        self.dict.find(hash_bytes(m), m).map(|pos| self.dict.raw(pos))
    }

    /// The member's score.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        self.item(m).map(score)
    }

    /// Adds a member that is not present.
    pub fn insert(&mut self, m: &[u8], s: f64) {
        let pos = self.dict.insert_new(hash_bytes(m), ZBlob::new(m, s), hash_bytes);
        let it = self.dict.raw(pos);
        if let Some(right) = self.root.insert(it, s, m) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let (lc, lmax) = (left.total(), left.last());
            let (rc, rmax) = (right.total(), right.last());
            self.root = Node::Inner(vec![
                Child { node: Box::new(left), count: lc, max: lmax },
                Child { node: Box::new(right), count: rc, max: rmax },
            ]);
        }
    }

    /// Changes a present member's score.
    pub fn update(&mut self, m: &[u8], s: f64) {
        let it = self.item(m).expect("member present");
        let old = score(it);
        self.tree_remove(old, m);
        set_score(it, s);
        if let Some(right) = self.root.insert(it, s, m) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let (lc, lmax) = (left.total(), left.last());
            let (rc, rmax) = (right.total(), right.last());
            self.root = Node::Inner(vec![
                Child { node: Box::new(left), count: lc, max: lmax },
                Child { node: Box::new(right), count: rc, max: rmax },
            ]);
        }
    }

    fn tree_remove(&mut self, s: f64, m: &[u8]) {
        self.root.remove(s, m);
        // A root left with one child hands over to it.
        while let Node::Inner(kids) = &mut self.root {
            if kids.len() != 1 {
                break;
            }
            let only = kids.pop().expect("one child");
            self.root = *only.node;
        }
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let pos = self.dict.find(hash_bytes(m), m)?;
        let s = score(self.dict.raw(pos));
        self.tree_remove(s, m);
        drop(self.dict.remove(pos, hash_bytes));
        Some(s)
    }

    /// The 0-based rank of a member in ascending order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = self.score(m)?;
        Some(self.root.count_below(&|x| cmp_item(x, s, m) == Ordering::Less))
    }

    /// The member and score at `rank` (ascending, below the length).
    pub fn at(&self, rank: usize) -> (&[u8], f64) {
        let it = self.root.select(rank);
        // Safety: the item is a live block of `self`.
        (unsafe { member(it) }, score(it))
    }

    /// Members and scores from `rank` on, ascending (or descending when
    /// `reverse`, `rank` then being an ascending rank to start from).
    pub fn walk_from(&self, rank: usize, reverse: bool) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        // Safety: items are live blocks while `self` is borrowed.
        Cursor::seek(&self.root, rank, reverse).map(|it| (unsafe { member(it) }, score(it)))
    }

    /// Ranks `[lo, hi)` of the members whose scores are in `r`.
    pub fn score_span(&self, r: &ScoreRange) -> (usize, usize) {
        let lo = self.root.count_below(&|x| !r.gte_min(score(x)));
        let hi = self.root.count_below(&|x| r.lte_max(score(x)));
        (lo, hi.max(lo))
    }

    /// Ranks `[lo, hi)` of the members in lexicographic range `r` (which
    /// is meaningful when all scores are equal).
    pub fn lex_span(&self, r: &LexRange) -> (usize, usize) {
        // Safety: items are live blocks while `self` is borrowed.
        let lo = self.root.count_below(&|x| !r.gte_min(unsafe { member(x) }));
        let hi = self.root.count_below(&|x| r.lte_max(unsafe { member(x) }));
        (lo, hi.max(lo))
    }

    /// Removes the members of ranks `[lo, hi)`; returns how many.
    pub fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        let doomed: Vec<Vec<u8>> = self.walk_from(lo, false).take(hi - lo).map(|(m, _)| m.to_vec()).collect();
        for m in &doomed {
            self.remove(m);
        }
        doomed.len()
    }

    /// A uniformly random member and its score.
    pub fn random(&self, rng: &mut Rng) -> (&[u8], f64) {
        let it = self.dict.random_fair(|| rng.next()).expect("stored sorted sets are not empty");
        // Safety: as above.
        (unsafe { member(it) }, score(it))
    }

    /// One SCAN step over the member table.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        // Safety: as above.
        self.dict.scan(cursor, hash_bytes, |p| f(unsafe { member(p) }, score(p)))
    }

    /// Visits the members in table order (SORT loads them this way, as
    /// Redis iterates its dict).
    pub fn for_each_member(&self, mut f: impl FnMut(&[u8])) {
        // Safety: as above.
        self.dict.for_each_raw(|p| f(unsafe { member(p) }));
    }

    /// A deep copy.
    pub fn duplicate(&self) -> ZSet {
        let mut z = ZSet::default();
        for (m, s) in self.walk_from(0, false) {
            z.insert(m, s);
        }
        z
    }
}

/// A read-only view of a sorted set in either encoding.
#[derive(Clone, Copy)]
pub enum ZsetRef<'a> {
    /// Listpack of member, score pairs.
    Lp(&'a [u8]),
    /// Member table and tree.
    Tree(&'a ZSet),
}

impl<'a> ZsetRef<'a> {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZsetRef::Lp(l) => lp_len(l),
            ZsetRef::Tree(z) => z.len(),
        }
    }

    /// True when empty (never, for a stored sorted set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The member's score.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match *self {
            ZsetRef::Lp(l) => lp_find(l, m).map(|(_, s)| s),
            ZsetRef::Tree(z) => z.score(m),
        }
    }

    /// The member's ascending rank.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        match *self {
            ZsetRef::Lp(l) => {
                let mut rank = 0;
                let mut e = lp::first(l);
                while let Some(ep) = e {
                    if lp::get(l, ep).eq_bytes(m) {
                        return Some(rank);
                    }
                    rank += 1;
                    e = lp::next(l, ep).and_then(|sp| lp::next(l, sp));
                }
                None
            }
            ZsetRef::Tree(z) => z.rank(m),
        }
    }

    /// Visits members and scores from ascending rank `rank` on, ascending
    /// or (when `reverse`) descending, while `f` returns true.
    pub fn walk(&self, rank: usize, reverse: bool, mut f: impl FnMut(Val<'a>, f64) -> bool) {
        match *self {
            ZsetRef::Lp(l) => {
                let mut e = lp::seek(l, 2 * rank as i64);
                while let Some(ep) = e {
                    let sp = lp::next(l, ep).expect("a member has a score");
                    if !f(lp::get(l, ep), lp_score(l, sp)) {
                        return;
                    }
                    e = if reverse { lp::prev(l, ep).and_then(|x| lp::prev(l, x)) } else { lp::next(l, sp) };
                }
            }
            ZsetRef::Tree(z) => {
                for (m, s) in z.walk_from(rank, reverse) {
                    if !f(Val::Str(m), s) {
                        return;
                    }
                }
            }
        }
    }

    /// Ranks `[lo, hi)` of the members with scores in `r`.
    pub fn score_span(&self, r: &ScoreRange) -> (usize, usize) {
        match *self {
            ZsetRef::Lp(l) => lp_span(l, |_, s| r.gte_min(s), |_, s| r.lte_max(s)),
            ZsetRef::Tree(z) => z.score_span(r),
        }
    }

    /// Ranks `[lo, hi)` of the members in lexicographic range `r`.
    pub fn lex_span(&self, r: &LexRange) -> (usize, usize) {
        // Redis first rejects a range that the last member is below or the
        // first member above (zzlIsInLexRange); with mixed scores that
        // check decides on its own.
        let n = self.len();
        let mut first = None;
        let mut last = None;
        if n > 0 {
            self.walk(0, false, |m, _| {
                first = Some(m.bytes().into_owned());
                false
            });
            self.walk(n - 1, true, |m, _| {
                last = Some(m.bytes().into_owned());
                false
            });
        }
        match (first, last) {
            (Some(f), Some(l)) if r.gte_min(&l) && r.lte_max(&f) => {}
            _ => return (0, 0),
        }
        match *self {
            ZsetRef::Lp(l) => lp_span(l, |m, _| r.gte_min(&m.bytes()), |m, _| r.lte_max(&m.bytes())),
            ZsetRef::Tree(z) => z.lex_span(r),
        }
    }

    /// A uniformly random member and its score.
    pub fn random(&self, rng: &mut Rng) -> (Val<'a>, f64) {
        match *self {
            ZsetRef::Lp(l) => {
                let i = rng.below(lp_len(l) as u64) as i64;
                let ep = lp::seek(l, 2 * i).expect("index below length");
                (lp::get(l, ep), lp_score(l, lp::next(l, ep).expect("score")))
            }
            ZsetRef::Tree(z) => {
                let (m, s) = z.random(rng);
                // Safety of the widened borrow: the set is borrowed for 'a.
                (Val::Str(unsafe { std::slice::from_raw_parts(m.as_ptr(), m.len()) }), s)
            }
        }
    }
}

/// The span of a listpack as Redis walks it: from the first member that
/// satisfies `from`, up to the first one after it that fails `to`.
fn lp_span(l: &[u8], from: impl Fn(Val<'_>, f64) -> bool, to: impl Fn(Val<'_>, f64) -> bool) -> (usize, usize) {
    let n = lp_len(l);
    let mut rank = 0;
    let mut lo = None;
    let mut e = lp::first(l);
    while let Some(ep) = e {
        let sp = lp::next(l, ep).expect("a member has a score");
        let (m, s) = (lp::get(l, ep), lp_score(l, sp));
        match lo {
            None if from(m, s) => {
                if !to(m, s) {
                    return (rank, rank);
                }
                lo = Some(rank);
            }
            Some(_) if !to(m, s) => return (lo.expect("set"), rank),
            _ => {}
        }
        rank += 1;
        e = lp::next(l, sp);
    }
    match lo {
        Some(lo) => (lo, n),
        None => (n, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[derive(Clone, Debug, PartialEq, PartialOrd)]
    struct K(f64, Vec<u8>);
    impl Eq for K {}
    #[allow(clippy::derive_ord_xor_partial_ord)]
    impl Ord for K {
        fn cmp(&self, o: &Self) -> Ordering {
            self.0.partial_cmp(&o.0).unwrap().then_with(|| self.1.cmp(&o.1))
        }
    }

    #[test]
    fn parsing() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"5e-324"), Some(5e-324));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"1e400", b"1e-400", b"abc"] {
            assert_eq!(parse_score(bad), None, "{bad:?}");
        }
        let r = ScoreRange::parse(b"(1", b" 2").unwrap();
        assert!(r.minex && !r.maxex && r.max == 2.0);
        assert_eq!(ScoreRange::parse(b"", b"(").map(|r| (r.min, r.max, r.maxex)), Some((0.0, 0.0, true)));
        assert_eq!(ScoreRange::parse(b"1e400", b"2").map(|r| r.min), Some(f64::INFINITY));
        assert!(ScoreRange::parse(b"2 ", b"3").is_none());
        assert!(ScoreRange::parse(b"(nan", b"3").is_none());
        assert!(LexRange::parse(b"-a", b"+").is_none());
        assert!(LexRange::parse(b"a", b"+").is_none());
        let l = LexRange::parse(b"[b", b"(d").unwrap();
        assert!(l.gte_min(b"b") && !l.gte_min(b"a") && l.lte_max(b"c") && !l.lte_max(b"d"));
        assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"(a", b"[a").unwrap().is_empty());
        assert!(!LexRange::parse(b"-", b"+").unwrap().is_empty());
        assert_eq!(score_text(-0.0), b"0");
        assert_eq!(score_text(1.1), b"1.1000000000000001");
        assert_eq!(score_text(f64::NEG_INFINITY), b"-inf");
    }

    #[test]
    fn listpack_order_and_spans() {
        let mut l = lp::new();
        for (m, s) in [("b", 2.0), ("a", 2.0), ("c", 1.0), ("x", 2.5)] {
            lp_insert(&mut l, m.as_bytes(), s);
        }
        let z = ZsetRef::Lp(&l);
        let mut got = Vec::new();
        z.walk(0, false, |m, s| {
            got.push((m.bytes().into_owned(), s));
            true
        });
        assert_eq!(got, vec![(b"c".to_vec(), 1.0), (b"a".to_vec(), 2.0), (b"b".to_vec(), 2.0), (b"x".to_vec(), 2.5)]);
        assert_eq!(z.rank(b"b"), Some(2));
        assert_eq!(z.score_span(&ScoreRange::parse(b"(1", b"2").unwrap()), (1, 3));
        let (ep, s) = lp_find(&l, b"a").unwrap();
        assert_eq!(s, 2.0);
        lp_delete(&mut l, ep);
        assert_eq!(lp_len(&l), 3);
    }

    #[test]
    fn deep_tree_grows_and_shrinks() {
        // Enough members for inner nodes to split and merge, and for the
        // root to collapse again.
        let mut z = ZSet::default();
        let n = 60_000usize;
        for i in 0..n {
            let m = format!("{:08}", (i * 7919) % n);
            z.insert(m.as_bytes(), ((i * 31) % 1000) as f64);
        }
        assert_eq!(z.len(), n);
        let mut prev: Option<(Vec<u8>, f64)> = None;
        for (r, (m, s)) in z.walk_from(0, false).enumerate() {
            if let Some((pm, ps)) = &prev {
                assert!(*ps < s || (*ps == s && pm.as_slice() < m));
            }
            if r % 997 == 0 {
                assert_eq!(z.rank(m), Some(r));
                assert_eq!(z.at(r).0, m);
            }
            prev = Some((m.to_vec(), s));
        }
        for i in (0..n).step_by(2) {
            let m = format!("{:08}", i);
            assert!(z.remove(m.as_bytes()).is_some());
        }
        assert_eq!(z.len(), n / 2);
        assert_eq!(z.remove_ranks(0, n / 2 - 10), n / 2 - 10);
        assert_eq!(z.walk_from(0, false).count(), 10);
        assert_eq!(z.walk_from(9, true).count(), 10);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The tree keeps the order, ranks and spans of a BTreeSet model.
        #[test]
        fn tree_matches_model(ops in prop::collection::vec((0u8..4, 0u16..400, -20i32..20), 1..2500)) {
            let mut z = ZSet::default();
            let mut model: BTreeSet<K> = BTreeSet::new();
            let mut scores = std::collections::HashMap::new();
            for (op, mi, sc) in ops {
                let m = format!("m{mi}").into_bytes();
                let s = sc as f64 / 2.0;
                match op {
                    0 | 1 => {
                        match scores.get(&m) {
                            Some(&old) => { model.remove(&K(old, m.clone())); z.update(&m, s); }
                            None => z.insert(&m, s),
                        }
                        model.insert(K(s, m.clone()));
                        scores.insert(m, s);
                    }
                    2 => {
                        let got = z.remove(&m);
                        let want = scores.remove(&m);
                        if let Some(w) = want { model.remove(&K(w, m.clone())); }
                        prop_assert_eq!(got, want);
                    }
                    _ => {
                        if let Some(&w) = scores.get(&m) {
                            let want = model.iter().position(|k| *k == K(w, m.clone()));
                            prop_assert_eq!(z.rank(&m), want);
                        }
                    }
                }
            }
            prop_assert_eq!(z.len(), model.len());
            let all: Vec<K> = z.walk_from(0, false).map(|(m, s)| K(s, m.to_vec())).collect();
            prop_assert_eq!(&all, &model.iter().cloned().collect::<Vec<_>>());
            let back: Vec<K> = z.walk_from(z.len().saturating_sub(1), true).map(|(m, s)| K(s, m.to_vec())).collect();
            prop_assert_eq!(back, model.iter().rev().cloned().collect::<Vec<_>>());
            for r in [0, z.len() / 3, z.len().saturating_sub(1)] {
                if r < z.len() {
                    let (m, s) = z.at(r);
                    prop_assert_eq!(K(s, m.to_vec()), all[r].clone());
                    let tail: Vec<K> = z.walk_from(r, false).map(|(m, s)| K(s, m.to_vec())).collect();
                    prop_assert_eq!(&tail[..], &all[r..]);
                }
            }
            let range = ScoreRange::parse(b"(-3", b"4").unwrap();
            let (lo, hi) = z.score_span(&range);
            let want: Vec<&K> = all.iter().filter(|k| range.gte_min(k.0) && range.lte_max(k.0)).collect();
            prop_assert_eq!(hi - lo, want.len());
            if hi > lo { prop_assert_eq!(&all[lo], want[0]); }
            let n = z.len();
            let removed = z.remove_ranks(n / 4, n / 2);
            prop_assert_eq!(removed, n / 2 - n / 4);
            prop_assert_eq!(z.len(), n - removed);
            prop_assert_eq!(z.duplicate().len(), z.len());
        }
    }
}
