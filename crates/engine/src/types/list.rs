//! Lists: a listpack while the list fits one node (stored inline in its
//! keyspace entry), and a quicklist beyond: a deque of listpack nodes, each
//! kept within `list-max-listpack-size` (Redis's node fill rules).
//!
//! Redis 7.0 reports every list as `quicklist`; the single-node inline form
//! is only a cheaper home for short lists (Redis 7.2 made the same choice
//! and calls it `listpack`).

use std::collections::VecDeque;

use super::buf::Buf;
use super::listpack::{self as lp, Val};

/// The node sizes a negative `list-max-listpack-size` selects.
const SIZE_CLASSES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest node a count-based fill allows (Redis's SIZE_SAFETY_LIMIT).
const SAFETY_LIMIT: usize = 8192;
/// Redis's SIZE_ESTIMATE_OVERHEAD: a new entry's header and back length.
const OVERHEAD: usize = 8;

/// Whether a node of `bytes` bytes and `count` elements may take one more
/// element of `len` bytes (Redis's `_quicklistNodeAllowInsert`).
pub fn node_allows(bytes: usize, count: usize, fill: i64, len: usize) -> bool {
    let fill = clamp_fill(fill);
    let new = bytes + len + OVERHEAD;
    if fill < 0 {
        return new <= SIZE_CLASSES[(-fill - 1) as usize];
    }
    new <= SAFETY_LIMIT && (count as i64) < fill
}

/// `list-max-listpack-size` as Redis applies it: -5 at the low end, 32767
/// elements at the high end.
fn clamp_fill(fill: i64) -> i64 {
    fill.clamp(-(SIZE_CLASSES.len() as i64), (1 << 15) - 1)
}

/// Whether a list of `bytes` and `count` elements is small enough to live
/// as one inline listpack again: half a node (Redis 7.2's rule, which keeps
/// a list near the limit from switching back and forth).
pub fn fits_inline(bytes: usize, count: usize, fill: i64) -> bool {
    let fill = clamp_fill(fill);
    if fill < 0 {
        bytes <= SIZE_CLASSES[(-fill - 1) as usize] / 2
    } else {
        bytes <= SAFETY_LIMIT / 2 && (count as i64) <= fill / 2
    }
}

/// One node: a listpack and its element count.
#[derive(Clone)]
struct Node {
    lp: Vec<u8>,
    count: usize,
}

impl Node {
    fn new() -> Node {
        Node { lp: lp::new(), count: 0 }
    }

    fn from_lp(l: Vec<u8>) -> Node {
        let count = lp::len(&l);
        Node { lp: l, count }
    }

    fn allows(&self, fill: i64, len: usize) -> bool {
        node_allows(self.lp.len(), self.count, fill, len)
    }

    /// Gives back capacity a shrinking listpack no longer needs.
    fn trim(&mut self) {
        if self.lp.capacity() > self.lp.len() + self.lp.len() / 4 + 64 {
            self.lp.shrink_to_fit();
        }
    }
}

/// A list of listpack nodes.
#[derive(Clone, Default)]
pub struct QuickList {
    nodes: VecDeque<Node>,
    len: usize,
}

/// Where an element is: node index and byte offset in its listpack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    node: usize,
    off: usize,
}

impl QuickList {
    /// An empty list.
    pub fn new() -> QuickList {
        QuickList::default()
    }

    /// A list holding the elements of listpack `l` as its one node.
    pub fn from_listpack(l: &[u8]) -> QuickList {
        let mut q = QuickList::new();
        let n = Node::from_lp(l.to_vec());
        if n.count > 0 {
            q.len = n.count;
            q.nodes.push_back(n);
        }
        q
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of nodes (DEBUG OBJECT's ql_nodes, the lazy-free effort).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Each node's listpack, head to tail.
    pub fn node_listpacks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.nodes.iter().map(|n| n.lp.as_slice())
    }

    /// Total listpack bytes.
    pub fn bytes(&self) -> usize {
        self.nodes.iter().map(|n| n.lp.len()).sum()
    }

    /// The single node's listpack, when the list is small enough to be
    /// stored inline (see [`fits_inline`]).
    pub fn as_inline(&self, fill: i64) -> Option<&[u8]> {
        match self.nodes.len() {
            1 if fits_inline(self.nodes[0].lp.len(), self.len, fill) => Some(&self.nodes[0].lp),
            _ => None,
        }
    }

    /// Adds `e` at the head.
    pub fn push_front(&mut self, e: &[u8], fill: i64) {
        if !self.nodes.front().is_some_and(|n| n.allows(fill, e.len())) {
            self.nodes.push_front(Node::new());
        }
        let n = self.nodes.front_mut().expect("a head node");
        n.lp.reserve_exact(e.len() + OVERHEAD);
        lp::push_front(&mut n.lp, e);
        n.count += 1;
        self.len += 1;
    }

    /// Adds `e` at the tail.
    pub fn push_back(&mut self, e: &[u8], fill: i64) {
        if !self.nodes.back().is_some_and(|n| n.allows(fill, e.len())) {
            self.nodes.push_back(Node::new());
        }
        let n = self.nodes.back_mut().expect("a tail node");
        n.lp.reserve_exact(e.len() + OVERHEAD);
        lp::push_back(&mut n.lp, e);
        n.count += 1;
        self.len += 1;
    }

    /// Removes and returns the head element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let p = lp::first(&n.lp).expect("nodes are never empty");
        let v = lp::get(&n.lp, p).bytes().into_owned();
        self.delete_at(At { node: 0, off: p });
        Some(v)
    }

    /// Removes and returns the tail element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let last = self.nodes.len().checked_sub(1)?;
        let n = &self.nodes[last];
        let p = lp::last(&n.lp).expect("nodes are never empty");
        let v = lp::get(&n.lp, p).bytes().into_owned();
        self.delete_at(At { node: last, off: p });
        Some(v)
    }

    /// Where element `i` is (negative counts from the tail), walking from
    /// the nearer end.
    pub fn seek(&self, i: i64) -> Option<At> {
        let len = self.len as i64;
        let i = if i < 0 { len + i } else { i };
        if i < 0 || i >= len {
            return None;
        }
        let i = i as usize;
        if i < self.len / 2 {
            let mut skip = i;
            for (ni, n) in self.nodes.iter().enumerate() {
                if skip < n.count {
                    return Some(At { node: ni, off: lp::seek(&n.lp, skip as i64).expect("index in node") });
                }
                skip -= n.count;
            }
        } else {
            let mut skip = self.len - 1 - i;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if skip < n.count {
                    return Some(At { node: ni, off: lp::seek(&n.lp, -(skip as i64) - 1).expect("index in node") });
                }
                skip -= n.count;
            }
        }
        unreachable!("index below length")
    }

    /// The element at `at`.
    pub fn get(&self, at: At) -> Val<'_> {
        lp::get(&self.nodes[at.node].lp, at.off)
    }

    /// The position after `at`.
    pub fn next(&self, at: At) -> Option<At> {
        if let Some(off) = lp::next(&self.nodes[at.node].lp, at.off) {
            return Some(At { node: at.node, off });
        }
        let node = at.node + 1;
        let n = self.nodes.get(node)?;
        Some(At { node, off: lp::first(&n.lp).expect("nodes are never empty") })
    }

    /// The position before `at`.
    pub fn prev(&self, at: At) -> Option<At> {
        if let Some(off) = lp::prev(&self.nodes[at.node].lp, at.off) {
            return Some(At { node: at.node, off });
        }
        let node = at.node.checked_sub(1)?;
        Some(At { node, off: lp::last(&self.nodes[node].lp).expect("nodes are never empty") })
    }

    /// Position of the first element.
    pub fn first(&self) -> Option<At> {
        let n = self.nodes.front()?;
        Some(At { node: 0, off: lp::first(&n.lp).expect("nodes are never empty") })
    }

    /// Position of the last element.
    pub fn last(&self) -> Option<At> {
        let node = self.nodes.len().checked_sub(1)?;
        Some(At { node, off: lp::last(&self.nodes[node].lp).expect("nodes are never empty") })
    }

    /// Removes the element at `at`; returns the position of the element
    /// that followed it, if any.
    pub fn delete_at(&mut self, at: At) -> Option<At> {
        let n = &mut self.nodes[at.node];
        let next = lp::delete(&mut n.lp, at.off, 1);
        n.count -= 1;
        self.len -= 1;
        if n.count == 0 {
            self.nodes.remove(at.node);
            return self.nodes.get(at.node).map(|n| At { node: at.node, off: lp::first(&n.lp).expect("not empty") });
        }
        n.trim();
        match next {
            Some(off) => Some(At { node: at.node, off }),
            None => self.nodes.get(at.node + 1).map(|n| At { node: at.node + 1, off: lp::first(&n.lp).expect("x") }),
        }
    }

    /// Replaces the element at `at` with `e`; a node that grows past its
    /// limit is split in two.
    pub fn replace(&mut self, at: At, e: &[u8], fill: i64) {
        let n = &mut self.nodes[at.node];
        lp::replace(&mut n.lp, at.off, e);
        if n.count > 1 && !node_allows(n.lp.len(), n.count - 1, fill, 0) {
            let half = n.count / 2;
            self.split(at.node, half);
        }
    }

    /// Inserts `e` before (`after` false) or after the element at `at`.
    pub fn insert(&mut self, at: At, e: &[u8], after: bool, fill: i64) {
        let n = &mut self.nodes[at.node];
        let off = if after { at.off + entry_len(&n.lp, at.off) } else { at.off };
        if n.allows(fill, e.len()) {
            n.lp.reserve_exact(e.len() + OVERHEAD);
            lp::insert(&mut n.lp, off, e);
            n.count += 1;
            self.len += 1;
            return;
        }
        // The node is full: split it where the element goes, and put the
        // element at the end of the first half or in a node of its own.
        let idx = lp::entries(&n.lp).take_while(|(p, _)| *p < off).count();
        self.split(at.node, idx);
        let left = &mut self.nodes[at.node];
        if left.count > 0 && left.allows(fill, e.len()) {
            lp::push_back(&mut left.lp, e);
            left.count += 1;
        } else {
            let mut fresh = Node::new();
            lp::push_back(&mut fresh.lp, e);
            fresh.count = 1;
            self.nodes.insert(at.node + 1, fresh);
        }
        self.nodes.retain(|n| n.count > 0);
        self.len += 1;
    }

    /// Splits node `i` so that its first `keep` elements stay and the rest
    /// move to a new node right after it.
    fn split(&mut self, i: usize, keep: usize) {
        let n = &mut self.nodes[i];
        let cut = lp::seek(&n.lp, keep as i64).unwrap_or(n.lp.len() - 1);
        let mut right = lp::new();
        let tail = &n.lp[cut..n.lp.len() - 1];
        right.splice(right.len() - 1..right.len() - 1, tail.iter().copied());
        let moved = n.count - keep;
        fix_header(&mut right, moved);
        let end = n.lp.len() - 1;
        n.lp.drain(cut..end);
        fix_header(&mut n.lp, keep);
        n.count = keep;
        n.trim();
        self.nodes.insert(i + 1, Node { lp: right, count: moved });
    }

    /// Removes `count` elements starting at index `start` (negative counts
    /// from the tail), as Redis's `quicklistDelRange`.
    pub fn delete_range(&mut self, start: i64, count: usize) {
        let len = self.len as i64;
        let start = if start < 0 { len + start } else { start };
        if start < 0 || start >= len || count == 0 {
            return;
        }
        let mut left = count.min(self.len - start as usize);
        // The node holding `start`, and the index within it.
        let (mut ni, mut j) = (0, start as usize);
        while j >= self.nodes[ni].count {
            j -= self.nodes[ni].count;
            ni += 1;
        }
        while left > 0 {
            let n = &mut self.nodes[ni];
            if j == 0 && left >= n.count {
                // The range covers the whole node.
                left -= n.count;
                self.len -= n.count;
                self.nodes.remove(ni);
                continue;
            }
            let k = left.min(n.count - j);
            let off = lp::seek(&n.lp, j as i64).expect("index in node");
            lp::delete(&mut n.lp, off, k);
            n.count -= k;
            n.trim();
            self.len -= k;
            left -= k;
            ni += 1;
            j = 0;
        }
    }

    /// Removes elements equal to `e`: all of them when `limit` is 0, else
    /// the first `limit` from the head (or from the tail when `from_tail`).
    /// Returns how many were removed.
    pub fn remove_matching(&mut self, e: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let order: Vec<usize> =
            if from_tail { (0..self.nodes.len()).rev().collect() } else { (0..self.nodes.len()).collect() };
        for ni in order {
            if limit != 0 && removed == limit {
                break;
            }
            let n = &mut self.nodes[ni];
            if from_tail {
                let mut p = lp::last(&n.lp);
                while let Some(at) = p {
                    let prev = lp::prev(&n.lp, at);
                    if lp::get(&n.lp, at).eq_bytes(e) {
                        lp::delete(&mut n.lp, at, 1);
                        n.count -= 1;
                        removed += 1;
                        if limit != 0 && removed == limit {
                            break;
                        }
                    }
                    p = prev;
                }
            } else {
                let mut p = lp::first(&n.lp);
                while let Some(at) = p {
                    if lp::get(&n.lp, at).eq_bytes(e) {
                        p = lp::delete(&mut n.lp, at, 1);
                        n.count -= 1;
                        removed += 1;
                        if limit != 0 && removed == limit {
                            break;
                        }
                    } else {
                        p = lp::next(&n.lp, at);
                    }
                }
            }
            n.trim();
        }
        self.nodes.retain(|n| n.count > 0);
        self.len -= removed;
        removed
    }

    /// Iterates from index `start` towards the tail (or the head when
    /// `reverse`).
    pub fn iter_from(&self, start: i64, reverse: bool) -> Iter<'_> {
        Iter { q: self, at: self.seek(start), reverse }
    }
}

/// Size of the entry at `p`, back length included.
fn entry_len(l: &[u8], p: usize) -> usize {
    lp::next(l, p).unwrap_or(l.len() - 1) - p
}

/// Rewrites a listpack header after raw edits.
fn fix_header(l: &mut [u8], count: usize) {
    let total = l.len() as u32;
    l[0..4].copy_from_slice(&total.to_le_bytes());
    let n = if count < u16::MAX as usize { count as u16 } else { u16::MAX };
    l[4..6].copy_from_slice(&n.to_le_bytes());
}

/// Iterator over a quicklist's elements.
pub struct Iter<'a> {
    q: &'a QuickList,
    at: Option<At>,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Val<'a>;
    fn next(&mut self) -> Option<Val<'a>> {
        let at = self.at?;
        self.at = if self.reverse { self.q.prev(at) } else { self.q.next(at) };
        Some(self.q.get(at))
    }
}

/// A read-only view of a list in either form.
#[derive(Clone, Copy)]
pub enum ListRef<'a> {
    /// One inline listpack.
    Lp(&'a [u8]),
    /// A quicklist.
    Quick(&'a QuickList),
}

impl<'a> ListRef<'a> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ListRef::Lp(l) => lp::len(l),
            ListRef::Quick(q) => q.len(),
        }
    }

    /// True when empty (never, for a stored list).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element at index `i` (negative counts from the tail).
    pub fn get(&self, i: i64) -> Option<Val<'a>> {
        match *self {
            ListRef::Lp(l) => lp::seek(l, i).map(|p| lp::get(l, p)),
            ListRef::Quick(q) => q.seek(i).map(|at| q.get(at)),
        }
    }

    /// Visits the elements from index `start` (non-negative, below the
    /// length) towards the tail, or towards the head when `reverse`, while
    /// `f` returns true.
    pub fn walk(&self, start: usize, reverse: bool, mut f: impl FnMut(Val<'a>) -> bool) {
        match *self {
            ListRef::Lp(l) => {
                let mut p = lp::seek(l, start as i64);
                while let Some(at) = p {
                    if !f(lp::get(l, at)) {
                        return;
                    }
                    p = if reverse { lp::prev(l, at) } else { lp::next(l, at) };
                }
            }
            ListRef::Quick(q) => {
                for v in q.iter_from(start as i64, reverse) {
                    if !f(v) {
                        return;
                    }
                }
            }
        }
    }
}

/// Pushes onto an inline listpack if it still fits one node; false when
/// the list must become a quicklist first.
pub fn lp_push<B: Buf + ?Sized>(b: &mut B, e: &[u8], front: bool, fill: i64) -> bool {
    let l = b.bytes();
    if !node_allows(l.len(), lp::len(l), fill, e.len()) {
        return false;
    }
    if front {
        lp::push_front(b, e);
    } else {
        lp::push_back(b, e);
    }
    true
}

/// Pops from an inline listpack.
pub fn lp_pop<B: Buf + ?Sized>(b: &mut B, front: bool) -> Option<Vec<u8>> {
    let l = b.bytes();
    let p = if front { lp::first(l) } else { lp::last(l) }?;
    let v = lp::get(l, p).bytes().into_owned();
    lp::delete(b, p, 1);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn items(q: &QuickList) -> Vec<Vec<u8>> {
        q.iter_from(0, false).map(|v| v.bytes().into_owned()).collect()
    }

    fn check(q: &QuickList, model: &VecDeque<Vec<u8>>, fill: i64) {
        assert_eq!(q.len(), model.len());
        assert_eq!(items(q), model.iter().cloned().collect::<Vec<_>>());
        let mut back: Vec<Vec<u8>> = q.iter_from(-1, true).map(|v| v.bytes().into_owned()).collect();
        back.reverse();
        assert_eq!(back, items(q));
        for n in &q.nodes {
            assert!(n.count > 0);
            assert_eq!(lp::len(&n.lp), n.count);
            assert_eq!(u32::from_le_bytes(n.lp[0..4].try_into().unwrap()) as usize, n.lp.len());
            if fill < 0 {
                assert!(n.lp.len() <= SIZE_CLASSES[(-fill - 1) as usize] + 200, "node of {} bytes", n.lp.len());
            }
        }
    }

    #[test]
    fn fill_rules() {
        assert!(node_allows(100, 5, -2, 50));
        assert!(!node_allows(8150, 5, -2, 50));
        assert!(node_allows(100, 4, 5, 1) && !node_allows(100, 5, 5, 1));
        assert!(!node_allows(8190, 1, 1000, 10));
        let mut q = QuickList::new();
        for i in 0..10 {
            q.push_back(format!("{i}").as_bytes(), 3);
        }
        assert_eq!(q.node_count(), 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any sequence of list operations matches a VecDeque model.
        #[test]
        fn model(fill in prop_oneof![Just(-1i64), Just(-2), Just(3), Just(1)],
                 ops in prop::collection::vec((0u8..9, any::<prop::sample::Index>(), -3i64..3, prop_oneof![
                    "[a-c]{0,3}".prop_map(String::into_bytes),
                    (-300i64..300).prop_map(|i| i.to_string().into_bytes()),
                    prop::collection::vec(any::<u8>(), 100..1500),
                 ]), 0..120)) {
            let mut q = QuickList::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for (op, idx, k, e) in ops {
                match op {
                    0 => { q.push_front(&e, fill); m.push_front(e); }
                    1 => { q.push_back(&e, fill); m.push_back(e); }
                    2 => prop_assert_eq!(q.pop_front(), m.pop_front()),
                    3 => prop_assert_eq!(q.pop_back(), m.pop_back()),
                    4 if !m.is_empty() => {
                        let i = idx.index(m.len());
                        let at = q.seek(i as i64).unwrap();
                        q.replace(at, &e, fill);
                        m[i] = e;
                    }
                    5 if !m.is_empty() => {
                        let i = idx.index(m.len());
                        let at = q.seek(i as i64).unwrap();
                        let after = k > 0;
                        q.insert(at, &e, after, fill);
                        m.insert(if after { i + 1 } else { i }, e);
                    }
                    6 if !m.is_empty() => {
                        let i = idx.index(m.len());
                        let n = (k.unsigned_abs() as usize) * 3;
                        q.delete_range(i as i64, n);
                        for _ in 0..n.min(m.len() - i) { m.remove(i); }
                    }
                    7 if !m.is_empty() => {
                        let target = m[idx.index(m.len())].clone();
                        let limit = k.unsigned_abs() as usize;
                        let got = q.remove_matching(&target, limit, k < 0);
                        let mut removed = 0;
                        if k < 0 {
                            let mut i = m.len();
                            while i > 0 { i -= 1; if m[i] == target && (limit == 0 || removed < limit) { m.remove(i); removed += 1; } }
                        } else {
                            let mut i = 0;
                            while i < m.len() { if m[i] == target && (limit == 0 || removed < limit) { m.remove(i); removed += 1; } else { i += 1; } }
                        }
                        prop_assert_eq!(got, removed);
                    }
                    8 if !m.is_empty() => {
                        let i = idx.index(m.len());
                        let at = q.seek(i as i64).unwrap();
                        q.delete_at(at);
                        m.remove(i);
                    }
                    _ => {}
                }
                check(&q, &m, fill);
            }
        }
    }
}
