//! Small helpers that keep the Wasm build small: each replaces a standard routine whose generic
//! or panicking machinery would otherwise be compiled in once per use.

use std::cmp::Ordering;

/// Where `needle` first occurs in `haystack` (a plain search: the standard one brings a large
/// two-way searcher, and the core only looks for short needles in short strings).
pub(crate) fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..].starts_with(n))
}

/// The parts of `s` between the ASCII byte `sep`, like `str::split` with a `char` (whose
/// searcher and `memchr` are large for the short strings the core splits).
pub fn split(s: &str, sep: u8) -> Split<'_> {
    debug_assert!(sep.is_ascii(), "split at an ASCII byte");
    Split { rest: Some(s), sep }
}

/// See [`split`].
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        // An ASCII byte is never inside a UTF-8 sequence: both sides are whole characters.
        match rest.bytes().position(|b| b == self.sep) {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => self.rest.take(),
        }
    }
}

/// `s` split at the first ASCII byte `sep`, like `str::split_once`.
pub(crate) fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii(), "split at an ASCII byte");
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// `parts` joined by `sep`, like `[S]::join` (whose copying code is large).
pub(crate) fn join<S: AsRef<str>>(parts: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(part.as_ref());
    }
    out
}

/// `parts` one after another, like `[&str]::concat`. The core builds its messages with this and
/// [`num`], never `format!` (`lib.rs` makes one a compile error): without them, `core::fmt`
/// leaves the browser SDK, 0.9 KB gzip of its Wasm.
pub fn cat(parts: &[&str]) -> String {
    join(parts, "")
}

/// `n` in decimal.
pub(crate) fn num(n: u64) -> String {
    let mut out = String::new();
    push_uint(&mut out, n);
    out
}

/// Appends `n` in decimal.
pub(crate) fn push_uint(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// Appends `n` in decimal, with its sign.
pub(crate) fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_uint(out, n.unsigned_abs());
}

/// `n` in lowercase hexadecimal, zero-padded to `width` digits (like `{:016x}`).
pub(crate) fn hex(n: u64, width: usize) -> String {
    let mut out = String::new();
    let digits = (64 - n.leading_zeros() as usize).div_ceil(4).max(1);
    for _ in digits..width {
        out.push('0');
    }
    for i in (0..digits).rev() {
        out.push(char::from(b"0123456789abcdef"[(n >> (i * 4)) as usize & 15]));
    }
    out
}

/// `x.clamp(lo, hi)` for `lo <= hi` (NaN stays NaN), without `f64::clamp`'s assertion, whose
/// message pulls float formatting in.
pub(crate) fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// Ids as a catalog lists them, sorted once: which repeat an earlier one, and where an id is.
pub(crate) struct Ids<'a> {
    ids: Vec<&'a str>,
    order: Vec<usize>,
    repeated: Vec<bool>,
}

impl<'a> Ids<'a> {
    /// The ids of `items`, as `id` reads them.
    pub(crate) fn of<T>(items: &'a [T], id: impl Fn(&'a T) -> &'a String) -> Ids<'a> {
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            ids.push(id(item).as_str());
        }
        Ids::new(ids)
    }

    /// Kept apart from [`Ids::of`] so that only gathering the ids is compiled per item type
    /// (folded into `of`, the sort and scan came once per type: +0.3 KB gzip in the SDK).
    fn new(ids: Vec<&'a str>) -> Ids<'a> {
        let order = sorted_indices(ids.len(), &|a, b| ids[a].cmp(ids[b]));
        let mut repeated = vec![false; ids.len()];
        for pair in order.windows(2) {
            if ids[pair[0]] == ids[pair[1]] {
                repeated[pair[1]] = true; // the sort is stable: the later one
            }
        }
        Ids { ids, order, repeated }
    }

    /// Whether id `i` repeats an earlier one.
    pub(crate) fn repeated(&self, i: usize) -> bool {
        self.repeated.get(i).copied().unwrap_or(false)
    }

    /// The position of the last `id`.
    pub(crate) fn find(&self, id: &str) -> Option<usize> {
        let end = self.order.partition_point(|&k| self.ids[k] <= id);
        let k = *self.order.get(end.checked_sub(1)?)?;
        (self.ids[k] == id).then_some(k)
    }
}

/// A stable sort by `cmp`, like `slice::sort_by`. The merge sort runs on indices behind one
/// non-generic function, so each use adds only its comparison and a reordering, not a copy of
/// the standard library's sort.
pub(crate) fn sort_by<T>(items: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let order = sorted_indices(items.len(), &|a, b| cmp(&items[a], &items[b]));
    permute(&order, &mut |i, j| items.swap(i, j));
}

/// A stable sort, like `slice::sort`.
pub(crate) fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// Puts the item at `order[i]` at `i`, for every `i`, by swaps along the permutation's cycles.
fn permute(order: &[usize], swap: &mut dyn FnMut(usize, usize)) {
    let mut done = vec![false; order.len()];
    for start in 0..order.len() {
        let mut i = start;
        while !done[i] {
            done[i] = true;
            let j = order[i];
            if j == start {
                break;
            }
            swap(i, j);
            i = j;
        }
    }
}

/// The indices `0..n` in the order `cmp` gives (stable: equal items keep their order).
pub(crate) fn sorted_indices(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut scratch = Vec::with_capacity(n);
    merge_sort(&mut order, &mut scratch, cmp);
    order
}

fn merge_sort(run: &mut [usize], scratch: &mut Vec<usize>, cmp: &dyn Fn(usize, usize) -> Ordering) {
    let n = run.len();
    if n < 2 {
        return;
    }
    let mid = n / 2;
    merge_sort(&mut run[..mid], scratch, cmp);
    merge_sort(&mut run[mid..], scratch, cmp);
    scratch.clear();
    scratch.extend_from_slice(&run[..mid]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < scratch.len() {
        // Take from the right only when strictly smaller: that keeps the sort stable.
        if j < n && cmp(run[j], scratch[i]) == Ordering::Less {
            run[k] = run[j];
            j += 1;
        } else {
            run[k] = scratch[i];
            i += 1;
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_str_split_with_a_byte() {
        for s in ["", ".", "a", "a.b", ".a..b.", "é.ü.€", "a\u{0}b"] {
            for sep in [b'.', 0] {
                let ours: Vec<&str> = split(s, sep).collect();
                let std: Vec<&str> = s.split(char::from(sep)).collect();
                assert_eq!(ours, std, "{s:?} at {sep}");
                assert_eq!(split_once(s, sep), s.split_once(char::from(sep)), "{s:?} at {sep}");
            }
        }
    }

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for n in [0, 7, 10, 99, 1_000_000, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(num(n), n.to_string());
            for width in [0, 1, 2, 12, 16, 20] {
                assert_eq!(hex(n, width), format!("{n:0width$x}"));
            }
        }
        for n in [0, -1, 42, i64::MIN, i64::MAX] {
            let mut out = String::new();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..200 {
            let mut items: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    ((seed % 7) as u8, i)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|b| std::cmp::Reverse(b.0));
            sort_by(&mut items, |a, b| b.0.cmp(&a.0));
            assert_eq!(items, expected);
        }
    }

    #[test]
    fn finds_like_the_standard_search() {
        for (h, n) in
            [("abc", ""), ("", ""), ("", "a"), ("abcabc", "ca"), ("ééa", "a"), ("ab", "abc"), ("aab", "ab")]
        {
            assert_eq!(find(h, n), h.find(n), "{h:?} {n:?}");
        }
    }

    #[test]
    fn clamps_like_f64_clamp() {
        for x in [-1.0, 0.0, 0.5, 3.0, 7.0, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(clamp(x, 0.0, 3.0), x.clamp(0.0, 3.0));
        }
        assert!(clamp(f64::NAN, 0.0, 3.0).is_nan());
    }
}
