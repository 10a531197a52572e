//! Streaming aggregates in bounded memory, as state-based CRDTs.
//!
//! A windowed aggregate keeps time buckets of width `window / 60` (rounded up), aligned to
//! absolute time so every replica cuts the same buckets; at most 61 are kept, so an aggregate is
//! exact to 1/60 of its window (contract §0). `count` and `sum` keep one slot per origin replica
//! (a G-counter: merge takes each slot's fuller state), so an event applied by the browser and
//! again by the edge under the browser's origin is counted once. `min`, `max`, `first`, `last`
//! and `distinct` are lattices: merge is a pointwise min/max/union, idempotent by nature.

use crate::catalog::shape::{opt, req, Shape};
use crate::json;
use crate::json::Value;
use crate::map::VecMap;
use std::cmp::Ordering;

/// How many buckets a window spans.
pub const BUCKETS: i64 = 60;
/// How many values `distinct` keeps.
pub const DISTINCT_KEEP: usize = 32;
/// Sums are kept in millionths, as integers, so they add up exactly in any order.
const SCALE: f64 = 1_000_000.0;

/// The aggregation functions of contract §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    Count,
    Sum,
    Min,
    Max,
    First,
    Last,
    Distinct,
}

/// The `agg` names.
const AGGS: [(&str, Agg); 7] = [
    ("count", Agg::Count),
    ("sum", Agg::Sum),
    ("min", Agg::Min),
    ("max", Agg::Max),
    ("first", Agg::First),
    ("last", Agg::Last),
    ("distinct", Agg::Distinct),
];

impl Agg {
    /// Parses an `agg` name.
    pub fn parse(name: &str) -> Option<Agg> {
        AGGS.iter().find(|a| a.0 == name).map(|a| a.1)
    }

    /// The `agg` name.
    pub fn name(self) -> &'static str {
        AGGS.iter().find(|a| a.1 == self).map_or("", |a| a.0)
    }
}

/// A value with the time of the event that set it; ordered by `ts`, then by the value's JSON
/// (so equal timestamps resolve the same way everywhere).
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp(pub i64, pub Value);

impl Stamp {
    fn key(&self) -> (i64, String) {
        (self.0, json::text(&self.1))
    }
}

/// One origin's buckets, dense from bucket `0` on: event counts and (for `sum`) sums in
/// millionths. Canonical: no leading empty bucket.
/// As JSON `[first bucket, counts, sums]`, sums left out when empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dense(pub i64, pub Vec<u64>, pub Vec<i64>);

impl Dense {
    fn last(&self) -> i64 {
        self.0 + self.1.len() as i64 - 1
    }

    /// The index of bucket `idx`, grown to reach it. Callers first trim to the kept range
    /// ([`make_room`]), so this never grows by more than [`BUCKETS`] + 1 slots.
    fn slot(&mut self, idx: i64, sums: bool) -> usize {
        if self.1.is_empty() {
            self.0 = idx;
        }
        if idx < self.0 {
            let grow = (self.0 - idx) as usize;
            prepend_zeros(&mut self.1, grow);
            if sums {
                prepend_zeros(&mut self.2, grow);
            }
            self.0 = idx;
        }
        let at = (idx - self.0) as usize;
        if at >= self.1.len() {
            self.1.resize(at + 1, 0);
            if sums {
                self.2.resize(at + 1, 0);
            }
        }
        at
    }

    /// Drops buckets at or before `oldest_gone`, then leading empty ones.
    fn trim(&mut self, oldest_gone: i64) {
        let mut cut = usize::try_from(oldest_gone - self.0 + 1).unwrap_or(0).min(self.1.len());
        while cut < self.1.len() && self.1[cut] == 0 {
            cut += 1;
        }
        drop_front(&mut self.1, cut);
        drop_front(&mut self.2, cut);
        self.0 += cut as i64;
    }
}

/// `v` after `n` zeros (what `splice` does, in less code).
fn prepend_zeros<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    let mut grown = vec![T::default(); n];
    grown.extend_from_slice(v);
    *v = grown;
}

/// `v` without its first `n` items, or empty (what `drain` does, in less code).
fn drop_front<T: Copy>(v: &mut Vec<T>, n: usize) {
    let n = n.min(v.len());
    v.copy_within(n.., 0);
    v.truncate(v.len() - n);
}

/// What an aggregate's state looks like as JSON (see [`Series::write_json`]).
pub(crate) const SERIES: Shape = {
    const STAMP: Shape = Shape::Tuple(&[Shape::Int, Shape::Any], 0);
    const DENSE: Shape = Shape::Tuple(&[Shape::Int, Shape::List(&Shape::UInt), Shape::List(&Shape::Int)], 1);
    Shape::OneField(&[
        req(
            "counter",
            Shape::Obj(&[req("w", Shape::Int), req("sum", Shape::Bool), req("o", Shape::Entries(&DENSE))]),
        ),
        req(
            "extreme",
            Shape::Obj(&[
                req("w", Shape::Int),
                req("max", Shape::Bool),
                req("b", Shape::List(&Shape::Tuple(&[Shape::Int, Shape::Num], 0))),
            ]),
        ),
        req(
            "first",
            Shape::Obj(&[
                req("w", Shape::Int),
                req("b", Shape::List(&Shape::Tuple(&[Shape::Int, STAMP], 0))),
            ]),
        ),
        req("last", Shape::Obj(&[opt("v", Shape::OrNull(&STAMP))])),
        req("distinct", Shape::Obj(&[req("v", Shape::List(&Shape::Tuple(&[Shape::Any, Shape::Int], 0)))])),
    ])
};

/// The state of one aggregate. Serialised compactly (it lives in a ≤ 16 KiB fragment), as
/// `{"<variant in snake case>": {fields in order}}`; a stamp is `[ts, value]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Series {
    /// `count` and `sum`: per origin, dense buckets of event counts (and sums).
    Counter { w: i64, sum: bool, o: VecMap<Dense> },
    /// `min` (`max` false) or `max`: per bucket, the extreme.
    Extreme { w: i64, max: bool, b: Vec<(i64, f64)> },
    /// `first`: per bucket, the earliest value.
    First { w: i64, b: Vec<(i64, Stamp)> },
    /// `last`: the latest value overall (in the window exactly when its ts is).
    Last { v: Option<Stamp> },
    /// `distinct`: the most recent values with the ts of their last occurrence, newest first.
    Distinct { v: Vec<(Value, i64)> },
}

impl Series {
    /// An empty aggregate of `agg` over a window of `window_ms` (`None`: lifetime).
    pub fn new(agg: Agg, window_ms: Option<i64>) -> Series {
        let w = window_ms.map_or(0, |ms| (ms + BUCKETS - 1) / BUCKETS);
        match agg {
            Agg::Count => Series::Counter { w, sum: false, o: VecMap::new() },
            Agg::Sum => Series::Counter { w, sum: true, o: VecMap::new() },
            Agg::Min => Series::Extreme { w, max: false, b: Vec::new() },
            Agg::Max => Series::Extreme { w, max: true, b: Vec::new() },
            Agg::First => Series::First { w, b: Vec::new() },
            Agg::Last => Series::Last { v: None },
            Agg::Distinct => Series::Distinct { v: Vec::new() },
        }
    }

    /// An empty aggregate of the same kind and window: what merging into builds a copy from.
    fn empty(&self) -> Series {
        match *self {
            Series::Counter { w, sum, .. } => Series::Counter { w, sum, o: VecMap::new() },
            Series::Extreme { w, max, .. } => Series::Extreme { w, max, b: Vec::new() },
            Series::First { w, .. } => Series::First { w, b: Vec::new() },
            Series::Last { .. } => Series::Last { v: None },
            Series::Distinct { .. } => Series::Distinct { v: Vec::new() },
        }
    }

    /// A copy of `other`, built by merging it into an empty aggregate of its kind (sorted,
    /// deduplicated and pruned as merging leaves any state).
    pub(crate) fn copy_of(other: &Series) -> Series {
        let mut copy = other.empty();
        copy.merge(other);
        copy
    }

    /// Appends the state's JSON.
    pub fn write_json(&self, out: &mut String) {
        fn head(out: &mut String, variant: &str, w: Option<i64>) {
            json::open(out, '{');
            json::key(out, variant);
            json::open(out, '{');
            if let Some(w) = w {
                json::key(out, "w");
                json::int(out, w);
            }
        }
        fn stamp(out: &mut String, s: &Stamp) {
            json::open(out, '[');
            json::int(out, s.0);
            json::value(out, &s.1);
            out.push(']');
        }
        match self {
            Series::Counter { w, sum, o } => {
                head(out, "counter", Some(*w));
                json::key(out, "sum");
                json::boolean(out, *sum);
                json::key(out, "o");
                json::open(out, '{');
                for (origin, d) in o {
                    json::key(out, origin);
                    json::open(out, '[');
                    json::int(out, d.0);
                    json::open(out, '[');
                    for &n in &d.1 {
                        json::uint(out, n);
                    }
                    out.push(']');
                    if !d.2.is_empty() {
                        json::open(out, '[');
                        for &n in &d.2 {
                            json::int(out, n);
                        }
                        out.push(']');
                    }
                    out.push(']');
                }
                out.push('}');
            }
            Series::Extreme { w, max, b } => {
                head(out, "extreme", Some(*w));
                json::key(out, "max");
                json::boolean(out, *max);
                json::key(out, "b");
                json::open(out, '[');
                for (idx, x) in b {
                    json::open(out, '[');
                    json::int(out, *idx);
                    json::float(out, *x);
                    out.push(']');
                }
                out.push(']');
            }
            Series::First { w, b } => {
                head(out, "first", Some(*w));
                json::key(out, "b");
                json::open(out, '[');
                for (idx, s) in b {
                    json::open(out, '[');
                    json::int(out, *idx);
                    stamp(out, s);
                    out.push(']');
                }
                out.push(']');
            }
            Series::Last { v } => {
                head(out, "last", None);
                json::key(out, "v");
                match v {
                    Some(s) => stamp(out, s),
                    None => json::null(out),
                }
            }
            Series::Distinct { v } => {
                head(out, "distinct", None);
                json::key(out, "v");
                json::open(out, '[');
                for (x, ts) in v {
                    json::open(out, '[');
                    json::value(out, x);
                    json::int(out, *ts);
                    out.push(']');
                }
                out.push(']');
            }
        }
        out.push_str("}}");
    }

    /// Reads a state's JSON (as [`SERIES`] describes it; see `Fragment::read`). An item not as
    /// Rapport writes it is left out, and what is read is merged into an empty state of its kind,
    /// so it is what `add` and `merge` expect whatever the JSON held: sorted, one entry per
    /// bucket or value, one sum per count, at most 61 buckets.
    pub(crate) fn read(value: &Value) -> Series {
        use super::fragment::{int, time};
        use crate::json::{array_items, object_entries};
        let Some((name, fields)) = value.as_object().and_then(|m| m.iter().next()) else {
            return Series::Last { v: None };
        };
        let w = int(fields.get("w"));
        let flag = |key: &str| fields.get(key).and_then(Value::as_bool).unwrap_or(false);
        let stamp = |t: &Value| Some(Stamp(time(t.get(0))?, t.get(1)?.clone()));
        let list = |key: &str| array_items(fields.get(key));
        let read = match name.as_str() {
            "counter" => {
                let sum = flag("sum");
                let mut o = VecMap::new();
                for (origin, t) in object_entries(fields.get("o")) {
                    let mut d = Dense(int(t.get(0)), Vec::new(), Vec::new());
                    for n in array_items(t.get(1)) {
                        d.1.push(n.as_u64().unwrap_or(0));
                    }
                    for n in array_items(t.get(2)) {
                        d.2.push(n.as_i64().unwrap_or(0));
                    }
                    o.insert(origin.clone(), d);
                }
                Series::Counter { w, sum, o }
            }
            "extreme" => {
                let mut b = Vec::new();
                for t in list("b") {
                    if let (Some(idx), Some(x)) = (time(t.get(0)), t.get(1).and_then(Value::as_f64)) {
                        b.push((idx, x));
                    }
                }
                Series::Extreme { w, max: flag("max"), b }
            }
            "first" => {
                let mut b = Vec::new();
                for t in list("b") {
                    if let (Some(idx), Some(s)) = (time(t.get(0)), t.get(1).and_then(stamp)) {
                        b.push((idx, s));
                    }
                }
                Series::First { w, b }
            }
            "distinct" => {
                let mut v = Vec::new();
                for t in list("v") {
                    if let (Some(x), Some(ts)) = (t.get(0), time(t.get(1))) {
                        v.push((x.clone(), ts));
                    }
                }
                Series::Distinct { v }
            }
            _ => Series::Last { v: fields.get("v").and_then(stamp) },
        };
        Series::copy_of(&read)
    }

    /// Whether this state was made for `agg` over `window_ms` (a catalog edit can change both).
    pub fn fits(&self, agg: Agg, window_ms: Option<i64>) -> bool {
        let fresh = Series::new(agg, window_ms);
        match (self, &fresh) {
            (Series::Counter { w, sum, .. }, Series::Counter { w: w2, sum: s2, .. }) => w == w2 && sum == s2,
            (Series::Extreme { w, max, .. }, Series::Extreme { w: w2, max: m2, .. }) => w == w2 && max == m2,
            (Series::First { w, .. }, Series::First { w: w2, .. }) => w == w2,
            (Series::Last { .. }, Series::Last { .. })
            | (Series::Distinct { .. }, Series::Distinct { .. }) => true,
            _ => false,
        }
    }

    /// Records one event's `value` (ignored where the aggregate needs a number and it is not).
    pub fn add(&mut self, origin: &str, ts: i64, value: &Value) {
        match self {
            Series::Counter { w, sum, o } => {
                let idx = bucket(ts, *w);
                if idx <= make_room(o, idx) {
                    return; // older than every bucket kept
                }
                let dense = o.get_or_insert_with(origin, Dense::default);
                let at = dense.slot(idx, *sum);
                dense.1[at] = dense.1[at].saturating_add(1);
                if *sum {
                    let amount = value.as_f64().map_or(0, |f| (f * SCALE).round() as i64);
                    dense.2[at] = dense.2[at].saturating_add(amount);
                }
            }
            Series::Extreme { w, max, b } => {
                let Some(x) = value.as_f64() else { return };
                let idx = bucket(ts, *w);
                let max = *max;
                let slot = bucket_mut(b, idx, || x);
                *slot = extreme(*slot, x, max);
            }
            Series::First { w, b } => {
                let stamp = Stamp(ts, value.clone());
                let idx = bucket(ts, *w);
                let slot = bucket_mut(b, idx, || stamp.clone());
                if stamp.key() < slot.key() {
                    *slot = stamp;
                }
            }
            Series::Last { v } => {
                let stamp = Stamp(ts, value.clone());
                if v.as_ref().is_none_or(|old| stamp.key() > old.key()) {
                    *v = Some(stamp);
                }
            }
            Series::Distinct { v } => {
                merge_distinct(v, &[(value.clone(), ts)]);
            }
        }
        self.prune();
    }

    /// Merges another state of the same aggregate (commutative, associative, idempotent).
    pub fn merge(&mut self, other: &Series) {
        match (&mut *self, other) {
            (Series::Counter { w, sum, o }, Series::Counter { w: w2, sum: s2, o: o2 })
                if w == w2 && sum == s2 =>
            {
                let sums = *sum;
                let cutoff = newest(o2).map_or(i64::MIN, |idx| make_room(o, idx));
                for (origin, theirs) in o2 {
                    let mine = o.get_or_insert_with(origin, Dense::default);
                    for (k, &n) in theirs.1.iter().enumerate() {
                        if n == 0 || theirs.0 + k as i64 <= cutoff {
                            continue;
                        }
                        let s = theirs.2.get(k).copied().unwrap_or(0);
                        let at = mine.slot(theirs.0 + k as i64, sums);
                        let current = (mine.1[at], mine.2.get(at).copied().unwrap_or(0));
                        if (n, s) > current {
                            mine.1[at] = n;
                            if sums {
                                mine.2[at] = s;
                            }
                        }
                    }
                }
            }
            (Series::Extreme { w, max, b }, Series::Extreme { w: w2, max: m2, b: b2 })
                if w == w2 && max == m2 =>
            {
                let max = *max;
                merge_buckets(b, b2, |mine, theirs| *mine = extreme(*mine, *theirs, max));
            }
            (Series::First { w, b }, Series::First { w: w2, b: b2 }) if w == w2 => {
                merge_buckets(b, b2, |mine, theirs| {
                    if theirs.key() < mine.key() {
                        *mine = theirs.clone();
                    }
                });
            }
            (Series::Last { v }, Series::Last { v: Some(theirs) }) => {
                if v.as_ref().is_none_or(|mine| theirs.key() > mine.key()) {
                    *v = Some(theirs.clone());
                }
            }
            (Series::Distinct { v }, Series::Distinct { v: theirs }) => merge_distinct(v, theirs),
            (mine, theirs) => {
                // Different shapes: the catalog changed this aggregate. Keep the newer definition's
                // data deterministically: the larger serialised state wins.
                if shape_rank(theirs) > shape_rank(mine) {
                    *mine = Series::copy_of(theirs);
                }
            }
        }
        self.prune();
    }

    /// The aggregate's value at `now` over a window of `window_ms` (`None`: lifetime).
    pub fn value(&self, agg: Agg, now: i64, window_ms: Option<i64>) -> Value {
        let in_window = |ts: i64| window_ms.is_none_or(|w| ts > now - w && ts <= now);
        let live = |idx: i64, w: i64| match window_ms {
            None => true,
            Some(win) => idx > bucket(now - win, w) && idx <= bucket(now, w),
        };
        match self {
            Series::Counter { w, o, .. } => {
                let (mut n, mut sum) = (0u64, 0i64);
                for dense in o.values() {
                    for (k, count) in dense.1.iter().enumerate() {
                        if live(dense.0 + k as i64, *w) {
                            n = n.saturating_add(*count);
                            sum = sum.saturating_add(dense.2.get(k).copied().unwrap_or(0));
                        }
                    }
                }
                match agg {
                    Agg::Sum => number(sum as f64 / SCALE),
                    _ => Value::from(n),
                }
            }
            Series::Extreme { w, max, b } => {
                let mut best = None;
                for &(idx, x) in b {
                    if live(idx, *w) {
                        best = Some(best.map_or(x, |a| extreme(a, x, *max)));
                    }
                }
                best.map_or(Value::Null, number)
            }
            Series::First { w, b } => {
                b.iter().find(|(idx, _)| live(*idx, *w)).map_or(Value::Null, |(_, stamp)| stamp.1.clone())
            }
            Series::Last { v } => v.as_ref().filter(|s| in_window(s.0)).map_or(Value::Null, |s| s.1.clone()),
            Series::Distinct { v } => {
                let mut values = Vec::new();
                for (x, ts) in v {
                    if in_window(*ts) {
                        values.push(x.clone());
                    }
                }
                Value::Array(values)
            }
        }
    }

    /// Keeps the 61 newest buckets: enough for the window at any `now` from the newest event on.
    fn prune(&mut self) {
        fn keep<T>(b: &mut Vec<(i64, T)>) {
            if let Some(newest) = b.last().map(|(idx, _)| *idx) {
                b.retain(|(idx, _)| *idx > newest - BUCKETS - 1);
            }
        }
        match self {
            Series::Counter { o, .. } => match newest(o) {
                Some(idx) => {
                    make_room(o, idx);
                }
                None => o.retain(|_, d| !d.1.is_empty()),
            },
            Series::Extreme { w, b, .. } if *w > 0 => keep(b),
            Series::First { w, b } if *w > 0 => keep(b),
            _ => {}
        }
    }
}

/// The newest bucket any origin holds.
fn newest(o: &VecMap<Dense>) -> Option<i64> {
    o.values().filter(|d| !d.1.is_empty()).map(Dense::last).max()
}

/// Drops every bucket more than [`BUCKETS`] behind the newest one, counting bucket `idx` as held;
/// returns the newest bucket dropped. Growing a dense vector to any bucket after it then costs at
/// most 61 slots, however far apart events or replicas are. A lifetime counter keeps only bucket
/// 0, so this drops nothing Rapport wrote.
fn make_room(o: &mut VecMap<Dense>, idx: i64) -> i64 {
    let cutoff = newest(o).map_or(idx, |n| n.max(idx)) - BUCKETS - 1; // buckets are ≥ 0
    for dense in o.values_mut() {
        dense.trim(cutoff);
    }
    o.retain(|_, d| !d.1.is_empty());
    cutoff
}

/// The bucket of `ts` for width `w` (0: the one lifetime bucket).
fn bucket(ts: i64, w: i64) -> i64 {
    if w == 0 {
        0
    } else {
        ts.div_euclid(w)
    }
}

fn bucket_mut<T>(b: &mut Vec<(i64, T)>, idx: i64, init: impl FnOnce() -> T) -> &mut T {
    let i = match b.binary_search_by(|(k, _)| k.cmp(&idx)) {
        Ok(i) => i,
        Err(i) => {
            b.insert(i, (idx, init()));
            i
        }
    };
    &mut b[i].1
}

fn merge_buckets<T: Clone>(mine: &mut Vec<(i64, T)>, theirs: &[(i64, T)], mut join: impl FnMut(&mut T, &T)) {
    for (idx, value) in theirs {
        match mine.binary_search_by(|(k, _)| k.cmp(idx)) {
            Ok(i) => join(&mut mine[i].1, value),
            Err(i) => mine.insert(i, (*idx, value.clone())),
        }
    }
}

fn extreme(a: f64, b: f64, max: bool) -> f64 {
    match (a.total_cmp(&b), max) {
        (Ordering::Less, true) | (Ordering::Greater, false) => b,
        _ => a,
    }
}

/// Union with the latest ts per value, newest first (ties by the value's JSON), top 32.
fn merge_distinct(mine: &mut Vec<(Value, i64)>, theirs: &[(Value, i64)]) {
    for (value, ts) in theirs {
        match mine.iter_mut().find(|(v, _)| v == value) {
            Some(entry) => entry.1 = entry.1.max(*ts),
            None => mine.push((value.clone(), *ts)),
        }
    }
    crate::util::sort_by(mine, |(a, ta), (b, tb)| tb.cmp(ta).then_with(|| json::text(a).cmp(&json::text(b))));
    mine.truncate(DISTINCT_KEEP);
}

fn shape_rank(s: &Series) -> (u8, i64) {
    match s {
        Series::Counter { w, .. } => (0, *w),
        Series::Extreme { w, max, .. } => (2 + u8::from(*max), *w),
        Series::First { w, .. } => (4, *w),
        Series::Last { .. } => (5, 0),
        Series::Distinct { .. } => (6, 0),
    }
}

/// A JSON number, integral when it is (so `2`, not `2.0`); `null` when not finite.
pub fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        crate::json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    const H: i64 = 3_600_000;

    #[test]
    fn a_windowed_count_forgets_what_leaves_the_window() {
        let mut s = Series::new(Agg::Count, Some(H));
        for ts in [10 * H, 10 * H + 1000, 10 * H + H / 2] {
            s.add("edge", ts, &Value::Null);
        }
        assert_eq!(s.value(Agg::Count, 10 * H + H / 2, Some(H)), json!(3));
        assert_eq!(s.value(Agg::Count, 11 * H + H / 4, Some(H)), json!(1));
        assert_eq!(s.value(Agg::Count, 12 * H, Some(H)), json!(0));
    }

    #[test]
    fn sums_are_exact_in_any_order() {
        let mut a = Series::new(Agg::Sum, None);
        let mut b = Series::new(Agg::Sum, None);
        for x in [0.1, 0.2, 0.3] {
            a.add("edge", 1, &json!(x));
        }
        for x in [0.3, 0.2, 0.1] {
            b.add("edge", 1, &json!(x));
        }
        assert_eq!(a.value(Agg::Sum, 1, None), json!(0.6));
        assert_eq!(a, b);
    }

    #[test]
    fn counters_merge_once_per_origin() {
        let mut browser = Series::new(Agg::Count, None);
        browser.add("browser:d1", 1, &Value::Null);
        browser.add("browser:d1", 2, &Value::Null);
        // The edge applied one of the browser's events, under the browser's origin.
        let mut edge = Series::new(Agg::Count, None);
        edge.add("browser:d1", 1, &Value::Null);
        edge.add("edge", 3, &Value::Null);
        let mut merged = browser.clone();
        merged.merge(&edge);
        assert_eq!(merged.value(Agg::Count, 5, None), json!(3));
        let mut again = merged.clone();
        again.merge(&merged);
        assert_eq!(again, merged);
    }

    #[test]
    fn memory_is_bounded_however_many_events_arrive() {
        let mut s = Series::new(Agg::Sum, Some(24 * H));
        for i in 0..100_000i64 {
            s.add("edge", i * 60_000, &json!(1));
        }
        let Series::Counter { o, .. } = &s else { unreachable!() };
        assert!(o["edge"].1.len() <= 61, "{}", o["edge"].1.len());
    }

    #[test]
    fn an_event_long_after_the_last_one_costs_no_more_memory() {
        // Window 1 minute: buckets of 1 s. Both timestamps are valid events, 9e9 buckets apart.
        let mut s = Series::new(Agg::Count, Some(60_000));
        s.add("edge", 0, &Value::Null);
        s.add("edge", 9_000_000_000_000, &Value::Null);
        s.add("edge", 0, &Value::Null);
        let Series::Counter { o, .. } = &s else { unreachable!() };
        assert_eq!(o["edge"].1, vec![1]);
        assert_eq!(s.value(Agg::Count, 9_000_000_000_000, Some(60_000)), json!(1));
    }

    #[test]
    fn merging_far_apart_states_stays_bounded() {
        let mut near = Series::new(Agg::Sum, Some(H));
        near.add("edge", H, &json!(2));
        let far = Series::read(&json!({"counter": {"w": 60_000, "sum": true, "o": {
            "edge": [i64::MAX, [1], [5]],
            "browser:d": [150_000_000, [3], [7_000_000]],
        }}}));
        for (mut a, b) in [(near.clone(), far.clone()), (far, near)] {
            a.merge(&b);
            let Series::Counter { o, .. } = &a else { unreachable!() };
            assert!(o.values().all(|d| d.1.len() <= 61 && d.1.len() == d.2.len()), "{o:?}");
            a.add("edge", H, &json!(1));
        }
    }

    #[test]
    fn a_stored_counter_of_any_shape_takes_events() {
        // A fragment may come from a browser: sums missing or too many, counts at their limit,
        // a lifetime counter off bucket 0. None of it may trap when the next event arrives.
        let stored = json!({"counter": {"w": 60_000, "sum": true, "o": {
            "a": [5, [1, 1]],
            "b": [5, [1], [1, 2, 3]],
            "c": [5, [u64::MAX, u64::MAX], [i64::MAX, i64::MAX]],
        }}});
        let mut s = Series::read(&stored);
        for origin in ["a", "b", "c"] {
            s.add(origin, 6 * 60_000, &json!(1.5));
        }
        assert_eq!(s.value(Agg::Count, 6 * 60_000, Some(H)), json!(u64::MAX));
        let mut lifetime =
            Series::read(&json!({"counter": {"w": 0, "sum": false, "o": {"a": [7, [1], [1]]}}}));
        lifetime.add("a", 1, &Value::Null);
        lifetime.merge(&Series::read(&stored));
    }

    #[test]
    fn distinct_keeps_the_32_most_recent_values() {
        let mut s = Series::new(Agg::Distinct, None);
        for i in 0..40 {
            s.add("edge", i, &json!(format!("v{i}")));
        }
        s.add("edge", 100, &json!("v0"));
        let v = s.value(Agg::Distinct, 100, None);
        assert_eq!(v.as_array().unwrap().len(), 32);
        assert_eq!(v[0], json!("v0"));
        assert_eq!(v[1], json!("v39"));
    }

    #[test]
    fn first_last_min_max_follow_timestamps_not_arrival() {
        let mut first = Series::new(Agg::First, None);
        let mut last = Series::new(Agg::Last, None);
        let mut min = Series::new(Agg::Min, None);
        for (ts, v) in [(5, "b"), (1, "a"), (9, "c")] {
            first.add("edge", ts, &json!(v));
            last.add("edge", ts, &json!(v));
            min.add("edge", ts, &json!(ts));
        }
        assert_eq!(first.value(Agg::First, 10, None), json!("a"));
        assert_eq!(last.value(Agg::Last, 10, None), json!("c"));
        assert_eq!(min.value(Agg::Min, 10, None), json!(1));
        assert_eq!(Series::new(Agg::Max, None).value(Agg::Max, 10, None), Value::Null);
    }
}
