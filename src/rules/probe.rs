//! A probe: what a [`super::compile::Test`] asks of its path's value (`{"==": [{"var": p}, k]}`,
//! `{"in": ["x", {"var": p}]}`…), and its answers.
//!
//! Why a module of its own: probes are most of a decision's work. A bundle's rules ask a dozen
//! paths hundreds of questions, and a scope answers all of them in one sweep, a path at a time
//! ([`Listed`]). So each probe is prepared when it is compiled ([`Fast`]) and the value found is
//! sorted once per path ([`Seen`]): the common pairs (a number against a number, a
//! string against a string, a boolean against a boolean, a string in a list or in an array) are
//! answered with one comparison and no coercion. Every other pair gets the generic operation,
//! with JavaScript's coercions, and the same answer.

use super::compile::{Op, Seg};
use super::eval::{self, V};
use crate::json::Value;

/// `op` between a path's value and a constant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Probe {
    pub(crate) op: Op,
    pub(crate) constant: Value,
    /// Whether the path is the first argument.
    pub(crate) path_first: bool,
    /// Derived from the three above when compiled.
    fast: Fast,
}

/// How a probe is answered for the common kinds of value found.
#[derive(Debug, Clone, PartialEq)]
enum Fast {
    /// A comparison with a number. Answers numbers.
    Num(Between),
    /// `==`, `===`, `!=`, `!==` with a string. Answers strings.
    Str(Equal),
    /// `==`, `===` (true) or `!=`, `!==` (false) with a boolean. Answers booleans.
    Bool(bool, bool),
    /// `{"in": [path, [strings…]]}`, the keys of the constant's elements. Answers strings.
    OneOf(Box<[Key]>),
    /// `{"in": [string, path]}`. Answers arrays.
    Has(Key),
    /// Only the generic operation.
    No,
}

/// A comparison of a number with a constant as an interval, `lo ≤ x ≤ hi`, its answer flipped
/// for `!=`: strict bounds are the next float in (`x > k` is `x ≥ next_up(k)`), so every
/// comparison is answered the same way, without a branch.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Between {
    lo: f64,
    hi: f64,
    flip: bool,
}

impl Between {
    /// `x op k` (the path's value first), for a finite `k`.
    fn of(op: Op, k: f64) -> Option<Between> {
        let (lo, hi, flip) = match op {
            Op::Eq | Op::StrictEq => (k, k, false),
            Op::Ne | Op::StrictNe => (k, k, true),
            Op::Gt => (k.next_up(), f64::INFINITY, false),
            Op::Ge => (k, f64::INFINITY, false),
            Op::Lt => (f64::NEG_INFINITY, k.next_down(), false),
            Op::Le => (f64::NEG_INFINITY, k, false),
            _ => return None,
        };
        k.is_finite().then_some(Between { lo, hi, flip })
    }

    /// NaN is in no interval, as it is neither equal to nor ordered with any number in JS.
    fn holds(self, x: f64) -> bool {
        ((x >= self.lo) & (x <= self.hi)) != self.flip
    }
}

/// String (in)equality: the constant's [`Key`], and whether the answer is flipped (`!=`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Equal {
    key: Key,
    flip: bool,
}

/// A string's length and first eight bytes (as a big-endian number): equal keys of strings of
/// at most eight bytes mean equal strings (most constants, values and object keys are that
/// short), unequal keys unequal strings, and comparing keys orders such strings as their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    head: u64,
    len: usize,
}

impl Key {
    /// Made with loads and shifts: bytes copied to a buffer and read back as a number would
    /// wait for the copy (no store-to-load forwarding), which cost more than the rest of a walk.
    pub(crate) fn of(s: &str) -> Key {
        let b = s.as_bytes();
        let byte = |i: usize, shift: u32| b.get(i).map_or(0, |x| u64::from(*x) << shift);
        let head = match (b.first_chunk::<8>(), b.first_chunk::<4>(), b.last_chunk::<4>()) {
            (Some(head), ..) => u64::from_be_bytes(*head),
            // 4 to 7 bytes: the first four and the last four, which overlap.
            (None, Some(first), Some(last)) => {
                (u64::from(u32::from_be_bytes(*first)) << 32)
                    | (u64::from(u32::from_be_bytes(*last)) << (64 - 8 * b.len()))
            }
            _ => byte(0, 56) | byte(1, 48) | byte(2, 40),
        };
        Key { head, len: s.len() }
    }

    /// Whether `s`, of key `key`, equals `k`, of key `self`.
    fn same(self, key: Key, s: &str, k: &str) -> bool {
        self == key && (self.len <= 8 || s == k)
    }

    /// `a`, of key `self`, against `b`, of key `kb`, as their bytes compare (and as
    /// [`crate::json::Map`] orders its keys).
    pub(crate) fn order(self, a: &str, kb: Key, b: &str) -> std::cmp::Ordering {
        match self.head.cmp(&kb.head) {
            std::cmp::Ordering::Equal if self.len <= 8 && kb.len <= 8 => self.len.cmp(&kb.len),
            std::cmp::Ordering::Equal => a.as_bytes().cmp(b.as_bytes()),
            o => o,
        }
    }
}

/// A value found at a path, sorted once for all of the path's probes.
#[derive(Clone, Copy)]
pub(crate) enum Seen<'v> {
    Num(f64),
    Str(&'v str, Key),
    Bool(bool),
    Other,
}

impl<'v> Seen<'v> {
    pub(crate) fn of(v: &'v Value) -> Seen<'v> {
        match v {
            Value::Number(n) => n.as_f64().map_or(Seen::Other, Seen::Num),
            Value::String(s) => Seen::Str(s, Key::of(s)),
            Value::Bool(b) => Seen::Bool(*b),
            _ => Seen::Other,
        }
    }
}

impl Probe {
    pub(crate) fn new(op: Op, constant: Value, path_first: bool) -> Probe {
        let flip = matches!(op, Op::Ne | Op::StrictNe);
        let equality = matches!(op, Op::Eq | Op::StrictEq | Op::Ne | Op::StrictNe);
        let fast = match &constant {
            Value::Number(k) if op != Op::In => {
                let op = if path_first { op } else { turned(op) };
                k.as_f64().and_then(|k| Between::of(op, k)).map_or(Fast::No, Fast::Num)
            }
            Value::String(k) if equality => Fast::Str(Equal { key: Key::of(k), flip }),
            Value::Bool(k) if equality => Fast::Bool(!flip, *k),
            // (An empty list is in `rest`: a probe with no entry would never have its bit written.)
            Value::Array(items)
                if op == Op::In && path_first && !items.is_empty() && items.iter().all(Value::is_string) =>
            {
                let mut keys = Vec::with_capacity(items.len());
                for i in items {
                    keys.push(Key::of(i.as_str().unwrap_or_default()));
                }
                Fast::OneOf(keys.into())
            }
            Value::String(k) if op == Op::In && !path_first => Fast::Has(Key::of(k)),
            _ => Fast::No,
        };
        Probe { op, constant, path_first, fast }
    }

    /// The probe's answer on the path's value `found` (built by an operation, or a number).
    pub(crate) fn check(&self, found: &V) -> bool {
        match found {
            V::B(v) => self.check_value(v),
            found => self.generic(found),
        }
    }

    /// The probe's answer on `v`, found in the data.
    pub(crate) fn check_value(&self, v: &Value) -> bool {
        self.answer(v, &Seen::of(v))
    }

    /// The probe's answer on `v`, sorted as `seen`.
    pub(crate) fn answer(&self, v: &Value, seen: &Seen) -> bool {
        let k = &self.constant;
        match (&self.fast, seen) {
            (Fast::Num(b), Seen::Num(x)) => b.holds(*x),
            (Fast::Str(e), Seen::Str(s, found)) => {
                e.key.same(*found, s, k.as_str().unwrap_or_default()) != e.flip
            }
            (Fast::Bool(eq, b), Seen::Bool(x)) => (x == b) == *eq,
            (Fast::OneOf(keys), Seen::Str(s, found)) => {
                let items = k.as_array().map_or(&[][..], Vec::as_slice);
                keys.iter().zip(items).any(|(key, i)| key.same(*found, s, i.as_str().unwrap_or_default()))
            }
            (Fast::Has(key), _) => match v {
                Value::Array(items) => {
                    let k = k.as_str().unwrap_or_default();
                    items.iter().any(|i| matches!(i, Value::String(s) if key.same(Key::of(s), s, k)))
                }
                Value::String(s) if !s.is_empty() => crate::util::contains(s, k.as_str().unwrap_or_default()),
                _ => self.generic(&V::B(v)),
            },
            _ => self.generic(&V::B(v)),
        }
    }

    #[inline(never)]
    fn generic(&self, found: &V) -> bool {
        let constant = V::B(&self.constant);
        let (a, b) = if self.path_first { (found, &constant) } else { (&constant, found) };
        eval::operate(self.op, a, b)
    }
}

/// The comparison that holds of `(b, a)` when `op` holds of `(a, b)`.
fn turned(op: Op) -> Op {
    match op {
        Op::Gt => Op::Lt,
        Op::Ge => Op::Le,
        Op::Lt => Op::Gt,
        Op::Le => Op::Ge,
        op => op,
    }
}

/// The distinct probes of one path, numbered, and grouped by how they are answered: a scope's
/// sweep answers all of them at once ([`Listed::answer`]), numbers and strings through the
/// path's [`Index`], booleans and arrays by group, the rest one by one.
///
/// Why groups: a loop over probes of one kind runs without a branch per probe. The answer of
/// probes of mixed kinds is a jump per probe, and mispredicted jumps were most of the time.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    /// The path.
    segs: Box<[Seg]>,
    /// In the order listed, with their numbers.
    probes: Vec<(Probe, usize)>,
    /// By probe number and index in `probes`: numeric comparisons (answer numbers) …
    nums: Vec<(Between, usize, usize)>,
    /// … string (in)equalities and `in` a list of strings, an entry per string (answer
    /// strings) …
    strs: Vec<(Equal, usize, usize)>,
    /// … boolean (in)equalities (answer booleans) …
    bools: Vec<(bool, bool, usize, usize)>,
    /// … `in` a path with a string (answer arrays of strings) …
    has: Vec<(Key, usize, usize)>,
    /// … and the indexes in `probes` of all the others.
    rest: Vec<usize>,
    /// Made by [`Listed::answer`] when missing; listing a probe drops it.
    index: Option<Box<Index>>,
}

/// What answers a path's numeric comparisons and its string equalities in a few steps however
/// many there are: a decision's answers then cost a search and a few word writes per path
/// instead of a comparison per probe.
///
/// Its size is bounded by the path's probes: at most 4 words (256 probes) for each of at most
/// 1,025 regions.
#[derive(Debug)]
struct Index {
    /// The answer words of the path's probes (its own: see `Interner::probe`).
    words: Box<[usize]>,
    /// By word: the bits of the numeric comparisons, …
    num_bits: Box<[u64]>,
    /// … the points where any of their answers changes, sorted, …
    bounds: Box<[f64]>,
    /// … and their answers in each region of the line: below the first point, at it, between it
    /// and the next, …, above the last; a word of `words` each.
    regions: Box<[u64]>,
    /// By word: the bits of the string equalities, their answers when the value is none of
    /// their strings, …
    str_bits: Box<[u64]>,
    str_none: Box<[u64]>,
    /// … and the entries of `strs` sorted by key.
    by_key: Box<[(Equal, usize, usize)]>,
}

impl Index {
    fn of(listed: &Listed) -> Index {
        // Numbers grow as probes are listed: the words come in order.
        let mut words: Vec<usize> = listed.probes.iter().map(|(_, id)| id / 64).collect();
        words.dedup();
        let mask = |answers: &mut dyn Iterator<Item = (usize, bool)>| {
            let mut m = vec![0u64; words.len()];
            for (id, yes) in answers {
                if let (true, Some(at)) = (yes, words.iter().position(|w| *w == id / 64)) {
                    if let Some(w) = m.get_mut(at) {
                        *w |= 1 << (id % 64);
                    }
                }
            }
            m
        };
        let mut bounds: Vec<f64> = listed.nums.iter().flat_map(|(b, ..)| [b.lo, b.hi]).collect();
        crate::util::sort_by(&mut bounds, f64::total_cmp);
        bounds.dedup_by(|a, b| a == b);
        let mut regions = Vec::with_capacity((2 * bounds.len() + 1) * words.len());
        for r in 0..=2 * bounds.len() {
            // A number of the region, finite where the region holds one (JSON numbers are).
            let i = r / 2;
            let x = match (r % 2, i.checked_sub(1).and_then(|j| bounds.get(j)), bounds.get(i)) {
                (1, _, Some(at)) => *at,
                (_, Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => lo / 2.0 + hi / 2.0,
                (_, Some(lo), _) if lo.is_finite() => lo.next_up(),
                (_, _, Some(hi)) if hi.is_finite() => hi.next_down(),
                _ => 0.0,
            };
            regions.extend(mask(&mut listed.nums.iter().map(|(b, id, _)| (*id, b.holds(x)))));
        }
        let mut by_key = listed.strs.clone();
        crate::util::sort_by(&mut by_key, |(a, ..), (b, ..)| a.key.cmp(&b.key));
        Index {
            num_bits: mask(&mut listed.nums.iter().map(|(_, id, _)| (*id, true))).into(),
            str_bits: mask(&mut listed.strs.iter().map(|(_, id, _)| (*id, true))).into(),
            str_none: mask(&mut listed.strs.iter().map(|(e, id, _)| (*id, e.flip))).into(),
            words: words.into(),
            bounds: bounds.into(),
            regions: regions.into(),
            by_key: by_key.into(),
        }
    }

    /// Sets the bits `bits` of the path's words to `answers`.
    fn write(&self, truths: &mut [u64], bits: &[u64], answers: &[u64]) {
        for ((w, bits), answers) in self.words.iter().zip(bits).zip(answers) {
            if let Some(t) = truths.get_mut(*w) {
                *t = (*t & !bits) | answers;
            }
        }
    }

    /// The string equalities' answers on a string of key `found`: only the entries of that key
    /// can match. A string of at most eight bytes matches them all; a longer one is compared
    /// whole, by `whole` (the probe at an index in `probes`).
    fn strings(&self, found: Key, out: &mut Bits, whole: &dyn Fn(usize) -> Option<(usize, bool)>) {
        self.write(out.words(), &self.str_bits, &self.str_none);
        let from = self.by_key.partition_point(|(e, ..)| e.key < found);
        let mut last = usize::MAX;
        // Entries of one `in` share a bit: it is set when one of them matches.
        for (e, id, at) in self.by_key.iter().skip(from).take_while(|(e, ..)| e.key == found) {
            match found.len <= 8 {
                true => out.set(*id, !e.flip),
                // One comparison per probe, however many of its strings share the key.
                false if *at != last => {
                    last = *at;
                    whole(*at).into_iter().for_each(|a| out.put(a));
                }
                false => {}
            }
        }
    }

    /// The numeric comparisons' answers on `x` (not NaN).
    fn numbers(&self, x: f64, out: &mut Bits) {
        let i = self.bounds.partition_point(|p| *p < x);
        let r = 2 * i + usize::from(self.bounds.get(i) == Some(&x));
        let n = self.words.len();
        if let Some(answers) = self.regions.get(r * n..(r + 1) * n) {
            self.write(out.words(), &self.num_bits, answers);
        }
    }
}

/// Arrays longer than this are answered by the generic `in` (their strings' keys are made
/// once per sweep, on the stack).
const MAX_ITEMS: usize = 16;

impl Listed {
    pub(crate) fn len(&self) -> usize {
        self.probes.len()
    }

    /// The largest number listed (numbers grow as probes are listed).
    pub(crate) fn last_id(&self) -> usize {
        self.probes.last().map_or(0, |(_, id)| *id)
    }

    /// The number of `probe`, when listed.
    pub(crate) fn find(&self, probe: &Probe) -> Option<usize> {
        self.probes.iter().find(|(p, _)| p == probe).map(|(_, id)| *id)
    }

    pub(crate) fn segs(&self) -> &[Seg] {
        &self.segs
    }

    /// Lists `probe` of the path `segs` as number `id`.
    pub(crate) fn push(&mut self, segs: &[Seg], probe: Probe, id: usize) {
        if self.segs.is_empty() {
            self.segs = segs.into();
        }
        self.index = None;
        let at = self.probes.len();
        match &probe.fast {
            Fast::Num(b) => self.nums.push((*b, id, at)),
            Fast::Str(e) => self.strs.push((*e, id, at)),
            Fast::OneOf(keys) => {
                self.strs.extend(keys.iter().map(|&key| (Equal { key, flip: false }, id, at)))
            }
            Fast::Bool(eq, k) => self.bools.push((*eq, *k, id, at)),
            Fast::Has(key) => self.has.push((*key, id, at)),
            Fast::No => self.rest.push(at),
        }
        self.probes.push((probe, id));
    }

    /// Sets each probe's bit in `truths` (by probe number; numbers past its end are skipped) to
    /// its answer on `v`, the path's value; makes the path's [`Index`] first if probes were
    /// listed since it was made.
    pub(crate) fn answer(&mut self, v: &Value, truths: &mut [u64]) {
        if self.index.is_none() {
            self.index = Some(Box::new(Index::of(self)));
        }
        let Some(index) = self.index.as_deref() else { return };
        let seen = Seen::of(v);
        let whole = |at: usize| self.probes.get(at).map(|(p, id)| (*id, p.answer(v, &seen)));
        // The probes at `ats` one by one: entries of one `in` list come together, answered once.
        let each = |out: &mut Bits, ats: &mut dyn Iterator<Item = usize>| {
            let mut last = usize::MAX;
            for at in ats.filter(|at| std::mem::replace(&mut last, *at) != *at) {
                whole(at).into_iter().for_each(|a| out.put(a));
            }
        };
        let mut out = Bits::new(truths);
        match seen {
            Seen::Num(x) if !x.is_nan() => index.numbers(x, &mut out),
            _ => each(&mut out, &mut self.nums.iter().map(|(.., at)| *at)),
        }
        match seen {
            Seen::Str(_, found) => index.strings(found, &mut out, &whole),
            _ => each(&mut out, &mut self.strs.iter().map(|(.., at)| *at)),
        }
        match seen {
            Seen::Bool(x) => self.bools.iter().for_each(|(eq, k, id, _)| out.set(*id, (x == *k) == *eq)),
            _ => each(&mut out, &mut self.bools.iter().map(|(.., at)| *at)),
        }
        match v {
            Value::Array(items) if items.len() <= MAX_ITEMS => {
                let mut keys = [None; MAX_ITEMS];
                for (key, item) in keys.iter_mut().zip(items) {
                    *key = item.as_str().map(Key::of);
                }
                let keys = keys.get(..items.len()).unwrap_or_default();
                for (k, id, at) in &self.has {
                    match keys.contains(&Some(*k)) {
                        true if k.len > 8 => whole(*at).into_iter().for_each(|a| out.put(a)),
                        yes => out.set(*id, yes),
                    }
                }
            }
            _ => each(&mut out, &mut self.has.iter().map(|(.., at)| *at)),
        }
        each(&mut out, &mut self.rest.iter().copied());
        out.flush();
    }
}

/// Writes answer bits a word at a time: a path's probes mostly have nearby numbers, and setting
/// bits in memory one by one makes each answer wait for the previous one's store.
struct Bits<'t> {
    truths: &'t mut [u64],
    /// The word being written, its bits answered and their answers.
    word: usize,
    mask: u64,
    bits: u64,
}

impl<'t> Bits<'t> {
    fn new(truths: &'t mut [u64]) -> Bits<'t> {
        Bits { truths, word: usize::MAX, mask: 0, bits: 0 }
    }

    /// The answer words, with the answers held here written first: for writing whole words.
    fn words(&mut self) -> &mut [u64] {
        self.flush();
        self.truths
    }

    /// Answers probe `id` (numbers past the end of `truths` are skipped). Answers of one
    /// number are ORed until the word is written.
    fn set(&mut self, id: usize, yes: bool) {
        if id / 64 != self.word {
            self.flush();
            self.word = id / 64;
        }
        self.mask |= 1 << (id % 64);
        self.bits |= u64::from(yes) << (id % 64);
    }

    fn put(&mut self, (id, yes): (usize, bool)) {
        self.set(id, yes);
    }

    fn flush(&mut self) {
        if let Some(w) = self.truths.get_mut(self.word) {
            *w = (*w & !self.mask) | self.bits;
        }
        (self.mask, self.bits) = (0, 0);
    }
}
