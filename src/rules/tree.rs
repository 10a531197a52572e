//! The listed paths of a set of rules as a tree, so that a scope finds all of their values in one
//! walk of the data instead of one map search per path.
//!
//! Why: a sweep ([`super::eval`]) looks up every listed path of a bundle's rules, a dozen or more
//! per decision, most of them in the same object. A search in an object's map compares the key
//! with several others; walking the object's keys once in order, beside the tree's keys in the
//! same order, compares each key once, and by its first eight bytes as one number.

use super::compile::Seg;
use super::probe::Key;
use crate::json::{Map, Value};
use std::cmp::Ordering;

/// Paths deeper than this are left to the search (bounds the walk's recursion).
const MAX_SEGS: usize = 32;

#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// The slot of the path that ends here.
    slot: Option<usize>,
    /// Sorted by key, as [`Key::order`] sorts.
    children: Vec<(Seg, Key, Tree)>,
}

impl Tree {
    /// Adds the path `segs` of slot `slot` (paths deeper than [`MAX_SEGS`] are left out).
    pub(crate) fn insert(&mut self, segs: &[Seg], slot: usize) {
        if segs.len() > MAX_SEGS {
            return;
        }
        let mut node = self;
        for seg in segs {
            let k = Key::of(&seg.key);
            let at = match node.children.binary_search_by(|(s, sk, _)| sk.order(&s.key, k, &seg.key)) {
                Ok(at) => at,
                Err(at) => {
                    node.children.insert(at, (seg.clone(), k, Tree::default()));
                    at
                }
            };
            match node.children.get_mut(at) {
                Some((_, _, child)) => node = child,
                None => return,
            }
        }
        node.slot = Some(slot);
    }

    /// Tells `found` what each path of the tree finds in `v` (`None`: nothing). Paths that end
    /// in something computed (a string's `length`, an array's `length`…) are not told: they
    /// need the general lookup. Relies on objects keeping their keys in byte order, as
    /// [`crate::json::Map`] always does.
    pub(crate) fn walk<'d>(&self, v: &'d Value, found: &mut impl FnMut(usize, Option<&'d Value>)) {
        if let Some(slot) = self.slot {
            found(slot, Some(v));
        }
        match v {
            Value::Object(m) => self.walk_object(m, found),
            Value::Array(items) => {
                for (seg, _, child) in &self.children {
                    // `length` or another key of an array: the general lookup.
                    if let Some(i) = seg.index {
                        match items.get(i) {
                            Some(item) => child.walk(item, found),
                            None => child.absent(found),
                        }
                    }
                }
            }
            // A string's characters and length: the general lookup.
            Value::String(_) => {}
            _ => self.children.iter().for_each(|(_, _, child)| child.absent(found)),
        }
    }

    /// The children beside `m`'s keys, both in order: each key compared once.
    fn walk_object<'d>(&self, m: &'d Map, found: &mut impl FnMut(usize, Option<&'d Value>)) {
        let mut children = self.children.iter().peekable();
        for (key, value) in m {
            let k = Key::of(key);
            while let Some((seg, sk, child)) = children.peek() {
                match sk.order(&seg.key, k, key) {
                    Ordering::Less => child.absent(found),
                    Ordering::Equal => child.walk(value, found),
                    Ordering::Greater => break,
                }
                children.next();
            }
            if children.peek().is_none() {
                break;
            }
        }
        children.for_each(|(_, _, child)| child.absent(found));
    }

    /// Tells `found` that every path of the tree finds nothing.
    fn absent<'d>(&self, found: &mut impl FnMut(usize, Option<&'d Value>)) {
        if let Some(slot) = self.slot {
            found(slot, None);
        }
        self.children.iter().for_each(|(_, _, child)| child.absent(found));
    }
}
