//! [`VecMap`]: a map from names, kept as a vector sorted by name.
//!
//! The core's maps are small (a fragment's attributes, origins and aggregates; a catalog's
//! placements and computed definitions), and `BTreeMap` costs several KB of Wasm for every value
//! type it holds. A sorted vector behaves the same where the core needs it (iteration in key
//! order, so JSON is written as before) for a few hundred bytes per value type.

use std::fmt;

/// A map from `String` keys, iterated in key order (as a `BTreeMap<String, V>`).
#[derive(Clone, PartialEq)]
pub struct VecMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for VecMap<V> {
    fn default() -> Self {
        VecMap { entries: Vec::new() }
    }
}

impl<V: fmt::Debug> fmt::Debug for VecMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> VecMap<V> {
    /// An empty map.
    pub const fn new() -> Self {
        VecMap { entries: Vec::new() }
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().and_then(|i| self.entries.get(i)).map(|(_, v)| v)
    }

    /// The value of `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let i = self.find(key).ok()?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`'s value.
    pub fn insert(&mut self, key: String, value: V) {
        match self.find(&key) {
            Ok(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => self.entries.insert(i, (key, value)),
        }
    }

    /// The value of `key`, first set to `make()` when there is none.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key.to_owned(), make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.find(key).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Keeps the entries for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, V> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in key order, values to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in key order, to change.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

/// Iterator over a [`VecMap`]'s entries.
pub type Iter<'a, V> =
    std::iter::Map<std::slice::Iter<'a, (String, V)>, fn(&'a (String, V)) -> (&'a String, &'a V)>;

impl<'a, V> IntoIterator for &'a VecMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = Iter<'a, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// As a map, in key order (for the shells' serde).
impl<V: serde::Serialize> serde::Serialize for VecMap<V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<V> IntoIterator for VecMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<V> FromIterator<(String, V)> for VecMap<V> {
    /// The last of equal keys wins, as in a `BTreeMap`. Inserted one by one: for entries in
    /// order or few; see [`VecMap::from_entries`] for many in any order.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Self {
        let mut map = VecMap::new();
        for (k, v) in entries {
            map.insert(k, v);
        }
        map
    }
}

impl<V> VecMap<V> {
    /// A map of `entries` in any order, the last of equal keys winning (as `collect`). Entries
    /// in order are taken as they are; others are sorted once, since inserting them one by one
    /// costs a move of the entries after each (quadratic: a 64 KiB JSON object of keys in
    /// descending order would take a second).
    pub(crate) fn from_entries(mut entries: Vec<(String, V)>) -> Self {
        if entries.windows(2).all(|w| w[0].0 < w[1].0) {
            return VecMap { entries };
        }
        // Reversed, a stable sort puts the last of equal keys first, and dedup keeps firsts.
        entries.reverse();
        crate::util::sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, kept| later.0 == kept.0);
        VecMap { entries }
    }
}

#[cfg(test)]
impl<V> std::ops::Index<&str> for VecMap<V> {
    type Output = V;
    fn index(&self, key: &str) -> &V {
        self.get(key).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn builds_as_a_btreemap_does() {
        // In order, a few out of order, many out of order (sorted once), with repeated keys.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in [0, 1, 2, 5, 31, 32, 33, 100, 1000] {
            for keys in [8, 1000] {
                let pairs: Vec<(String, usize)> = (0..len)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (format!("k{}", seed % keys), i)
                    })
                    .collect();
                let mut sorted = pairs.clone();
                sorted.sort();
                sorted.dedup_by(|a, b| a.0 == b.0);
                for input in [pairs, sorted] {
                    let map = VecMap::from_entries(input.clone());
                    let collected: VecMap<usize> = input.iter().cloned().collect();
                    let reference: BTreeMap<String, usize> = input.into_iter().collect();
                    assert_eq!(map.iter().collect::<Vec<_>>(), reference.iter().collect::<Vec<_>>());
                    assert_eq!(collected.iter().collect::<Vec<_>>(), reference.iter().collect::<Vec<_>>());
                }
            }
        }
    }

    #[test]
    fn behaves_as_a_btreemap() {
        let mut map = VecMap::new();
        let mut reference = BTreeMap::new();
        for (i, key) in ["m", "b", "z", "b", "a", "m", "c"].into_iter().enumerate() {
            map.insert(key.to_owned(), i);
            reference.insert(key.to_owned(), i);
        }
        *map.get_or_insert_with("d", || 9) += 1;
        *reference.entry("d".to_owned()).or_insert(9) += 1;
        assert_eq!(map.remove("z"), reference.remove("z"));
        map.retain(|_, v| *v != 5);
        reference.retain(|_, v| *v != 5);
        let got: Vec<(&String, &usize)> = map.iter().collect();
        assert_eq!(got, reference.iter().collect::<Vec<_>>());
        assert_eq!(map.get("m"), reference.get("m"));
        assert_eq!(map.len(), reference.len());
        assert!(map.contains_key("d") && !map.contains_key("z"));
    }
}
