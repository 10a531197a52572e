//! Evaluating a compiled rule. Values are [`V`]: a borrow of the data or of a constant, an owned
//! value built by an operation, or a bare f64 (arithmetic keeps NaN and infinities, as JS does,
//! until the result is turned into JSON). Nothing is parsed here and data is cloned only where
//! an operation builds a new value from it (`map`, `filter`, `merge`, …).

#[cfg(feature = "index")]
use super::compile::{Listed, Test};
use super::compile::{Node, Op, Owner, Path, Seg, Slot, Var};
use super::js::{self, Prim};
use super::{Rule, Scope};
use crate::json::{Map, Value};
use std::cell::{OnceCell, RefCell};
use std::cmp::Ordering;
use std::sync::Arc;

pub(crate) static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

/// Evaluation stops following audiences past this many nesting levels (an audience's depth plus
/// the depths of the audiences it uses); `compile_audiences` refuses chains deeper than
/// [`AUDIENCE_DEPTH`], so only mismatched audience lists, and cycles in a bundle of format 2
/// written by hand (its reading does not look for them), ever meet this bound.
const EVAL_DEPTH: u32 = AUDIENCE_DEPTH + super::compile::MAX_DEPTH as u32;

/// The deepest an audience may be, counting the audiences it uses.
pub(crate) const AUDIENCE_DEPTH: u32 = 512;

/// An evaluated value.
#[derive(Debug)]
pub(crate) enum V<'a> {
    /// Borrowed from the data or from the rule.
    B(&'a Value),
    /// A number (possibly NaN or infinite).
    N(f64),
    /// Built by an operation.
    O(Value),
}

impl<'a> V<'a> {
    fn bool(b: bool) -> Self {
        V::B(if b { &TRUE } else { &FALSE })
    }

    fn null() -> Self {
        V::B(&NULL)
    }

    pub(crate) fn prim(&self) -> Prim<'_> {
        match self {
            V::B(v) => Prim::of(v),
            V::O(v) => Prim::of(v),
            V::N(f) => Prim::Num(*f),
        }
    }

    fn json(&self) -> Option<&Value> {
        match self {
            V::B(v) => Some(v),
            V::O(v) => Some(v),
            V::N(_) => None,
        }
    }

    fn as_array(&self) -> Option<&Vec<Value>> {
        self.json().and_then(Value::as_array)
    }

    pub(crate) fn truthy(&self) -> bool {
        match self {
            V::N(f) => truthy_num(*f),
            v => v.json().is_some_and(super::truthy),
        }
    }

    /// The JSON value (numbers normalised, see [`js::number_value`]).
    pub(crate) fn into_value(self) -> Value {
        match self {
            V::B(v) => v.clone(),
            V::O(v) => v,
            V::N(f) => js::number_value(f),
        }
    }

    /// The same value, no longer borrowing.
    fn into_owned(self) -> V<'static> {
        match self {
            V::B(v) => V::O(v.clone()),
            V::O(v) => V::O(v),
            V::N(f) => V::N(f),
        }
    }

    /// Whether this is a borrow of exactly `other`'s value.
    fn is_borrow_of(&self, other: &V) -> bool {
        match (self, other.json()) {
            (V::B(x), Some(y)) => std::ptr::eq(*x, y),
            _ => false,
        }
    }

    fn number(&self) -> f64 {
        js::to_number(&self.prim())
    }
}

pub(crate) fn truthy_num(f: f64) -> bool {
    f != 0.0 && !f.is_nan()
}

/// What `var` reads: the rule data, or inside `reduce` the pair `{current, accumulator}` (kept
/// apart so that no object is built per element).
#[derive(Clone, Copy)]
pub(crate) enum Ctx<'a> {
    Data(&'a Value),
    Reduce(&'a Value, &'a V<'a>),
}

/// What a [`Scope`] has learnt while its rules were evaluated.
#[derive(Debug, Default)]
pub(crate) struct Memo<'d> {
    /// Audience verdicts (0 unknown, 1 false, 2 true): an audience used by several rules is
    /// evaluated once per scope, not once per use.
    verdicts: RefCell<Vec<u8>>,
    /// The rules whose paths (and probes) this memo remembers (see [`Owner`]).
    owner: OnceCell<Arc<Owner>>,
    known: RefCell<Known<'d>>,
}

#[derive(Debug, Default)]
struct Known<'d> {
    /// By [`Slot::index`]: `None` until looked up, then what the path found (`None`: nothing).
    found: Vec<Option<Option<&'d Value>>>,
    /// By probe number, a bit each: the answers of the listed probes, once swept.
    #[cfg(feature = "index")]
    truths: Vec<u64>,
    /// The owner's [`Owner::version`] when every listed probe was last answered (rules
    /// compiled after a scope swept list more).
    #[cfg(feature = "index")]
    primed: usize,
}

/// Paths of slots past this number are looked up every time instead of remembered.
const MAX_SLOTS: usize = 4096;
/// Probes past this number are answered every time instead of remembered (bounds the memo: at
/// most 32 KB of answers per scope). A path's probes are numbered in words of its own, so this
/// is a word for each of `MAX_SLOTS` paths.
#[cfg(feature = "index")]
const MAX_ANSWERS: usize = 64 * MAX_SLOTS;

impl<'d> Memo<'d> {
    fn owns(&self, owner: &Arc<Owner>) -> bool {
        Arc::ptr_eq(self.owner.get_or_init(|| owner.clone()), owner)
    }

    /// What `slot`'s path finds in `data` (the scope's data), looked up once per scope. Paths
    /// that end in something computed (a string's `length`…) are looked up every time.
    fn find(&self, slot: &Slot, data: &'d Value) -> Option<V<'d>> {
        if !self.owns(&slot.owner) {
            return descend(data, &slot.segs);
        }
        match self.known.try_borrow_mut() {
            Ok(mut known) => known.find(slot.index, &slot.segs, data),
            Err(_) => descend(data, &slot.segs),
        }
    }

    /// `t`'s answer on the scope's `data`, remembered; `None` when it is not remembered.
    #[cfg(feature = "index")]
    fn answer(&self, t: &Test, data: &'d Value) -> Option<bool> {
        if !self.owns(&t.path.owner) {
            return None;
        }
        let mut known = self.known.try_borrow_mut().ok()?;
        if t.listed && t.id < MAX_ANSWERS && known.prime(&t.path.owner, data) {
            return known.truth(t.id);
        }
        Some(t.probe.check(&known.find(t.path.index, &t.path.segs, data).unwrap_or(V::null())))
    }
}

impl<'d> Known<'d> {
    /// Whether every listed probe of `owner`'s paths is answered in `truths`: once per scope,
    /// and again when more were listed since (not when the owner's lock is poisoned).
    #[cfg(feature = "index")]
    #[inline]
    fn prime(&mut self, owner: &Owner, data: &'d Value) -> bool {
        let version = owner.version.load(std::sync::atomic::Ordering::Acquire);
        self.primed == version || self.sweep(owner, data, version)
    }

    /// Answers every listed probe of every path in one sweep: the paths found in one walk of
    /// the data, each path's probes through its index. A decision asks most of its bundle's
    /// probes anyway, and answering them all at once spares every rule a check per path.
    #[cfg(feature = "index")]
    #[inline(never)]
    fn sweep(&mut self, owner: &Owner, data: &'d Value, version: usize) -> bool {
        let Ok(mut probes) = owner.probes.lock() else { return false };
        let probes = &mut *probes;
        // Paths whose probe numbers are past the bound are left to be answered one by one.
        let last = probes.by_slot.iter().map(Listed::last_id).filter(|id| *id < MAX_ANSWERS).max();
        let words = last.map_or(0, |id| id / 64 + 1);
        if self.truths.len() < words {
            self.truths.resize(words, 0);
        }
        let slots = probes.by_slot.len().min(MAX_SLOTS);
        if self.found.len() < slots {
            self.found.resize(slots, None);
        }
        let found = &mut self.found;
        probes.tree.walk(data, &mut |slot, v| {
            if let Some(f) = found.get_mut(slot) {
                *f = Some(v);
            }
        });
        for (index, listed) in probes.by_slot.iter_mut().enumerate() {
            if listed.len() == 0 || listed.last_id() >= MAX_ANSWERS {
                continue;
            }
            match self.find(index, listed.segs(), data) {
                Some(V::B(v)) => listed.answer(v, &mut self.truths),
                // A computed value (a string's `length`…), not remembered but answered.
                Some(v) => listed.answer(&v.into_value(), &mut self.truths),
                None => listed.answer(&NULL, &mut self.truths),
            }
        }
        self.primed = version;
        true
    }

    #[cfg(feature = "index")]
    fn truth(&self, id: usize) -> Option<bool> {
        Some(self.truths.get(id / 64)? & (1u64 << (id % 64)) != 0)
    }

    /// What the path `segs` of slot `index` finds in `data`, looked up once per scope: what
    /// a path ending in something computed (a string's `length`…) is not remembered but made
    /// again.
    fn find(&mut self, index: usize, segs: &[Seg], data: &'d Value) -> Option<V<'d>> {
        if let Some(Some(found)) = self.found.get(index) {
            return found.map(V::B);
        }
        let found = match descend(data, segs) {
            Some(V::B(x)) => Some(x),
            None => None,
            computed => return computed,
        };
        if index < MAX_SLOTS {
            if self.found.len() <= index {
                self.found.resize(index + 1, None);
            }
            if let Some(f) = self.found.get_mut(index) {
                *f = Some(found);
            }
        }
        found.map(V::B)
    }
}

/// A rule made only of listed [`Test`]s joined by `and`, `or` and `!` (the shape of most
/// audiences and eligibility rules), as a disjunction of conjunctions over the tests' answers.
/// It is answered from the answer bits a scope's sweep wrote for every listed probe, a few word
/// operations per conjunction, with no tree to walk and no branch per test.
#[cfg(feature = "index")]
#[derive(Debug, Clone)]
pub(crate) struct Dnf {
    /// The rules whose probe numbers it uses.
    owner: Arc<Owner>,
    terms: Box<[Term]>,
}

/// A conjunction, by answer word: (word, bits that must be set, bits that must be clear).
#[cfg(feature = "index")]
type Term = Box<[(usize, u64, u64)]>;

/// Rules whose disjunction would need more conjunctions than this, or a conjunction more
/// literals, are walked as trees.
#[cfg(feature = "index")]
const MAX_TERMS: usize = 32;
#[cfg(feature = "index")]
const MAX_LITERALS: usize = 64;

/// A conjunction of literals: (probe number, whether the test must be true).
#[cfg(feature = "index")]
type Conjunction = Vec<(usize, bool)>;

#[cfg(feature = "index")]
impl Dnf {
    /// The disjunction of `n`, when it has that shape.
    pub(crate) fn of(n: &Node) -> Option<Dnf> {
        let mut owner = None;
        let terms = Self::terms(n, false, &mut owner)?;
        let owner = owner?;
        let terms = terms
            .into_iter()
            .map(|c| {
                let mut words: Vec<(usize, u64, u64)> = Vec::new();
                for (id, yes) in c {
                    let (word, bit) = (id / 64, 1u64 << (id % 64));
                    let at = match words.iter().position(|w| w.0 == word) {
                        Some(at) => at,
                        None => {
                            words.push((word, 0, 0));
                            words.len() - 1
                        }
                    };
                    if let Some(w) = words.get_mut(at) {
                        if yes {
                            w.1 |= bit;
                        } else {
                            w.2 |= bit;
                        }
                    }
                }
                words.into_boxed_slice()
            })
            .collect();
        Some(Dnf { owner, terms })
    }

    /// The conjunctions of `n` (negated when `negate`): `and` of disjunctions multiplies out,
    /// `!` moves inwards (De Morgan). Its tests must all have one `owner`.
    fn terms(n: &Node, negate: bool, owner: &mut Option<Arc<Owner>>) -> Option<Vec<Conjunction>> {
        match n {
            Node::Test(t) if t.listed && t.id < MAX_ANSWERS => {
                if !Arc::ptr_eq(owner.get_or_insert_with(|| t.path.owner.clone()), &t.path.owner) {
                    return None;
                }
                Some(vec![vec![(t.id, !negate)]])
            }
            Node::Op(Op::Not, args) => match &args[..] {
                [a] => Self::terms(a, !negate, owner),
                _ => None,
            },
            Node::Op(Op::NotNot, args) => match &args[..] {
                [a] => Self::terms(a, negate, owner),
                _ => None,
            },
            Node::Op(op @ (Op::And | Op::Or), args) if !args.is_empty() => {
                let all = (*op == Op::And) != negate;
                let mut out: Vec<Conjunction> = if all { vec![Vec::new()] } else { Vec::new() };
                for a in args.iter() {
                    let part = Self::terms(a, negate, owner)?;
                    out = if all {
                        let mut product = Vec::new();
                        for x in &out {
                            for y in &part {
                                if let Some(c) = conjoin(x, y)? {
                                    product.push(c);
                                }
                            }
                        }
                        product
                    } else {
                        out.extend(part);
                        out
                    };
                    if out.len() > MAX_TERMS {
                        return None;
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }
}

/// `x and y` as one conjunction, `Some(None)` when it can never hold (`t and not t`), or
/// `None` when it would be longer than [`MAX_LITERALS`] (the rule is then walked as a tree):
/// compiling a long `and` stays cheap. Literals are kept once.
#[cfg(feature = "index")]
fn conjoin(x: &Conjunction, y: &Conjunction) -> Option<Option<Conjunction>> {
    let mut c = x.clone();
    for &(id, yes) in y {
        if c.contains(&(id, !yes)) {
            return Some(None);
        }
        if !c.contains(&(id, yes)) {
            c.push((id, yes));
        }
    }
    (c.len() <= MAX_LITERALS).then_some(Some(c))
}

/// A disjunction's truth over `scope`; `None` when the scope cannot answer it from memory (its
/// tests belong to rules it does not remember, its memory is in use, or the owner's lock is
/// poisoned): the rule is then walked as a tree.
#[cfg(feature = "index")]
pub(crate) fn run_dnf(d: &Dnf, scope: &Scope) -> Option<bool> {
    let memo = &scope.memo;
    if !memo.owns(&d.owner) {
        return None;
    }
    let mut known = memo.known.try_borrow_mut().ok()?;
    if !known.prime(&d.owner, scope.data) {
        return None;
    }
    let truths = &known.truths;
    Some(d.terms.iter().any(|term| {
        term.iter().all(|&(word, yes, no)| {
            let w = truths.get(word).copied().unwrap_or(0);
            w & yes == yes && w & no == 0
        })
    }))
}

/// What stays the same for a whole evaluation: `'d` is the data's lifetime.
#[derive(Clone, Copy)]
pub(crate) struct Env<'s, 'd> {
    data: &'d Value,
    now: i64,
    audiences: &'s [Rule],
    /// Nesting levels already used by the audiences being evaluated.
    base: u32,
    memo: &'s Memo<'d>,
}

impl<'s, 'd> Env<'s, 'd> {
    fn new(scope: &'s Scope<'d>) -> Self {
        Env { data: scope.data, now: scope.now, audiences: scope.audiences, base: 0, memo: &scope.memo }
    }
}

/// Evaluates a rule over `scope`.
pub(crate) fn run<'a, 'd: 'a>(n: &'a Node, scope: &Scope<'d>) -> V<'a> {
    eval(n, Ctx::Data(scope.data), &Env::new(scope))
}

/// A rule's truthiness over `scope`.
pub(crate) fn run_truth(n: &Node, scope: &Scope) -> bool {
    truth(n, Ctx::Data(scope.data), &Env::new(scope))
}

/// Evaluates `n`.
///
/// Each family of operations is its own small function, so that the frames on the recursion
/// path stay small (a deep rule needs little stack, natively and in Wasm).
pub(crate) fn eval<'a, 'd: 'a>(n: &'a Node, c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    match n {
        Node::Const(v) => V::B(v),
        Node::Num(f) => V::N(*f),
        Node::Var(var) => eval_var(var, c, e),
        Node::Op(op, args) => match op {
            Op::If => if_chain(args, c, e),
            Op::And | Op::Or => and_or(*op == Op::And, args, c, e),
            Op::Not | Op::NotNot | Op::Log => unary(*op, args, c, e),
            Op::Eq | Op::Ne | Op::StrictEq | Op::StrictNe => equality(*op, args, c, e),
            Op::Gt | Op::Ge | Op::Lt | Op::Le => relation(*op, args, c, e),
            Op::Max | Op::Min | Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Mod => {
                arithmetic(*op, args, c, e)
            }
            Op::Map | Op::Filter | Op::All | Op::None | Op::Some => each(*op, args, c, e),
            Op::Reduce => reduce(args, c, e),
            Op::Merge => merge(args, c, e),
            Op::In => contains(args, c, e),
            Op::Cat => cat(args, c, e),
            Op::Substr => substr_op(args, c, e),
            Op::Missing | Op::MissingSome => missing(*op, args, c, e),
        },
        Node::Array(items) => array(items, c, e),
        Node::Audience { index, depth } => V::bool(audience(*index, *depth, e)),
        Node::Ago(ms) => V::N(e.now.saturating_sub(*ms) as f64),
        #[cfg(feature = "index")]
        Node::Test(t) => V::bool(test(t, c, e)),
    }
}

/// `n`'s JsonLogic truthiness: what `if`, `filter`, eligibility and audiences ask. `and`, `or`
/// and `!` answer it without building the values they would return.
pub(crate) fn truth(n: &Node, c: Ctx, e: &Env) -> bool {
    match n {
        #[cfg(feature = "index")]
        Node::Test(t) => test(t, c, e),
        Node::Op(Op::And, args) => !args.is_empty() && args.iter().all(|a| truth(a, c, e)),
        Node::Op(Op::Or, args) => args.iter().any(|a| truth(a, c, e)),
        Node::Op(Op::Not, args) => !args.first().is_some_and(|a| truth(a, c, e)),
        Node::Op(Op::NotNot, args) => args.first().is_some_and(|a| truth(a, c, e)),
        _ => eval(n, c, e).truthy(),
    }
}

/// A [`Test`]: the operation of [`equality`], [`relation`] or [`contains`] on the path's value
/// and the constant.
#[cfg(feature = "index")]
#[inline(never)]
fn test(t: &Test, c: Ctx, e: &Env) -> bool {
    if let Ctx::Data(d) = c {
        if std::ptr::eq(d, e.data) {
            if let Some(answer) = e.memo.answer(t, e.data) {
                return answer;
            }
        }
    }
    t.probe.check(&path_value(&t.path, c, e).unwrap_or(V::null()))
}

/// `op` (a comparison or `in`) between `a` and `b`, as the operation would answer it.
#[cfg(feature = "index")]
pub(crate) fn operate(op: Op, a: &V, b: &V) -> bool {
    match op {
        Op::Eq | Op::Ne | Op::StrictEq | Op::StrictNe => equal(op, a, b),
        Op::In => contains_value(a, b),
        op => holds(op, cmp(a, b)),
    }
}

#[inline(never)]
fn array<'a, 'd: 'a>(items: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let mut out = Vec::with_capacity(items.len());
    for x in items {
        out.push(eval(x, c, e).into_value());
    }
    V::O(Value::Array(out))
}

#[inline(never)]
fn audience(index: usize, depth: u16, e: &Env<'_, '_>) -> bool {
    let known = e.memo.verdicts.try_borrow().ok().and_then(|m| m.get(index).copied()).unwrap_or(0);
    if known != 0 {
        return known == 2;
    }
    let base = e.base + u32::from(depth);
    let hit = match e.audiences.get(index) {
        Some(rule) if base + u32::from(rule.depth) <= EVAL_DEPTH => {
            let inner = Env { base, ..*e };
            truth(&rule.node, Ctx::Data(e.data), &inner)
        }
        _ => false,
    };
    if let Ok(mut memo) = e.memo.verdicts.try_borrow_mut() {
        if memo.len() < e.audiences.len() {
            memo.resize(e.audiences.len(), 0);
        }
        if let Some(slot) = memo.get_mut(index) {
            *slot = 1 + u8::from(hit);
        }
    }
    hit
}

#[inline(never)]
fn if_chain<'a, 'd: 'a>(args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    for pair in args.chunks(2) {
        match pair {
            [cond, then] if truth(cond, c, e) => return eval(then, c, e),
            [otherwise] => return eval(otherwise, c, e),
            _ => {}
        }
    }
    V::null()
}

/// `and` answers the first falsy value (or the last), `or` the first truthy one (or the last).
#[inline(never)]
fn and_or<'a, 'd: 'a>(and: bool, args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let mut last = V::null();
    for a in args {
        last = eval(a, c, e);
        if last.truthy() != and {
            break;
        }
    }
    last
}

#[inline(never)]
fn unary<'a, 'd: 'a>(op: Op, args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let Some(a) = args.first() else { return V::null() };
    let v = eval(a, c, e);
    match op {
        Op::Not => V::bool(!v.truthy()),
        Op::NotNot => V::bool(v.truthy()),
        _ => v, // `log`: the value, and no output
    }
}

#[inline(never)]
fn equality<'a, 'd: 'a>(op: Op, args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let [a, b] = args else { return V::null() };
    V::bool(equal(op, &eval(a, c, e), &eval(b, c, e)))
}

fn equal(op: Op, a: &V, b: &V) -> bool {
    match op {
        Op::Eq => js::loose_eq(a.prim(), b.prim()),
        Op::Ne => !js::loose_eq(a.prim(), b.prim()),
        Op::StrictEq => js::strict_eq(&a.prim(), &b.prim()),
        _ => !js::strict_eq(&a.prim(), &b.prim()),
    }
}

/// Whether the ordering `o` satisfies the relation `op`.
fn holds(op: Op, o: Option<Ordering>) -> bool {
    match op {
        Op::Gt => o == Some(Ordering::Greater),
        Op::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => o == Some(Ordering::Less),
        _ => matches!(o, Some(Ordering::Less | Ordering::Equal)),
    }
}

/// `>`, `>=`, and `<`, `<=` with their 3-argument "between" forms.
#[inline(never)]
fn relation<'a, 'd: 'a>(op: Op, args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let [a, b, rest @ ..] = args else { return V::null() };
    let (a, b) = (eval(a, c, e), eval(b, c, e));
    let ok = holds(op, cmp(&a, &b)) && rest.first().is_none_or(|x| holds(op, cmp(&b, &eval(x, c, e))));
    V::bool(ok)
}

#[inline(never)]
fn arithmetic<'a, 'd: 'a>(op: Op, args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let num = |n: &'a Node| eval(n, c, e).number();
    // `+` and `*` go through `parseFloat`, the others through `ToNumber`.
    let float = |n: &'a Node| js::parse_float(&eval(n, c, e).prim());
    V::N(match (op, args) {
        (Op::Add, _) => args.iter().fold(0.0, |acc, a| acc + float(a)),
        (Op::Mul, [first, rest @ ..]) => rest.iter().fold(float(first), |acc, a| acc * float(a)),
        (Op::Sub, [a]) => -num(a),
        (Op::Sub, [a, b]) => num(a) - num(b),
        (Op::Div, [a, b]) => num(a) / num(b),
        (Op::Mod, [a, b]) => js::remainder(num(a), num(b)),
        (Op::Max | Op::Min, _) => {
            let mut acc = if op == Op::Max { f64::NEG_INFINITY } else { f64::INFINITY };
            for a in args {
                let f = num(a);
                if f.is_nan() {
                    return V::N(f);
                }
                if (op == Op::Max && f > acc) || (op == Op::Min && f < acc) {
                    acc = f;
                }
            }
            acc
        }
        // Arities are checked when compiling: no other shape reaches here.
        _ => f64::NAN,
    })
}

#[inline(never)]
fn merge<'a, 'd: 'a>(args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let mut out = Vec::new();
    for a in args {
        match eval(a, c, e) {
            V::O(Value::Array(items)) => out.extend(items),
            V::B(Value::Array(items)) => out.extend_from_slice(items),
            v => out.push(v.into_value()),
        }
    }
    V::O(Value::Array(out))
}

/// `in`: a substring of a string, or an element (`===`) of an array.
#[inline(never)]
fn contains<'a, 'd: 'a>(args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let [needle, hay] = args else { return V::null() };
    V::bool(contains_value(&eval(needle, c, e), &eval(hay, c, e)))
}

fn contains_value(needle: &V, hay: &V) -> bool {
    match hay.prim() {
        Prim::Str(s) if !s.is_empty() => crate::util::contains(&s, &js::string_of(needle.prim())),
        Prim::Obj(Value::Array(items)) => {
            let needle = needle.prim();
            items.iter().any(|x| js::strict_eq(&needle, &Prim::of(x)))
        }
        _ => false,
    }
}

#[inline(never)]
fn cat<'a, 'd: 'a>(args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let mut out = String::new();
    for a in args {
        js::push_joined(&mut out, &eval(a, c, e).prim());
    }
    V::O(Value::String(out))
}

#[inline(never)]
fn substr_op<'a, 'd: 'a>(args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let [s, start, len @ ..] = args else { return V::null() };
    let source = eval(s, c, e);
    let start = eval(start, c, e).number();
    let len = len.first().map(|l| eval(l, c, e));
    let source = js::string_of(source.prim());
    V::O(Value::String(substr(&source, start, len.as_ref()).to_owned()))
}

#[inline(never)]
fn missing<'a, 'd: 'a>(op: Op, args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    if op == Op::Missing {
        // The keys are the arguments, or the elements of the first one when it is an array.
        let Some((first, rest)) = args.split_first() else { return V::O(Value::Array(Vec::new())) };
        let first = eval(first, c, e);
        let mut absent = Vec::new();
        if let Some(keys) = first.as_array() {
            missing_of(&mut absent, keys, c);
        } else {
            push_missing(&mut absent, first, c);
            for a in rest {
                push_missing(&mut absent, eval(a, c, e), c);
            }
        }
        return V::O(Value::Array(absent));
    }
    let [need, keys] = args else { return V::null() };
    let need = eval(need, c, e);
    let keys = eval(keys, c, e);
    // json-logic-js applies `missing` to the options: a first option that is an array holds the
    // keys, as for `missing` itself.
    let mut absent = Vec::new();
    let total = match keys.as_array() {
        Some(list) => {
            match list.first() {
                Some(Value::Array(inner)) => missing_of(&mut absent, inner, c),
                _ => missing_of(&mut absent, list, c),
            }
            list.len() as f64
        }
        None => {
            let total = match keys.prim() {
                Prim::Str(s) => s.encode_utf16().count() as f64,
                _ => f64::NAN,
            };
            push_missing(&mut absent, keys, c);
            total
        }
    };
    let enough = V::N(total - absent.len() as f64);
    match cmp(&enough, &need) {
        Some(Ordering::Greater | Ordering::Equal) => V::O(Value::Array(Vec::new())),
        _ => V::O(Value::Array(absent)),
    }
}

fn cmp(a: &V, b: &V) -> Option<Ordering> {
    js::compare(a.prim(), b.prim())
}

/// `map`, `filter`, `all`, `none`, `some`: `body` evaluated with each element as the data.
#[inline(never)]
fn each<'a, 'd: 'a>(op: Op, args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let [list, body] = args else { return V::null() };
    let list = eval(list, c, e);
    let Some(items) = list.as_array() else {
        return match op {
            Op::Map | Op::Filter => V::O(Value::Array(Vec::new())),
            _ => V::bool(op == Op::None),
        };
    };
    // One loop for the five (an iterator chain each costs more code than the loop). A filter
    // copies what it keeps, even from a list the rule built: such lists are rare and short.
    let mut out = Vec::new();
    for x in items {
        if op == Op::Map {
            out.push(eval(body, Ctx::Data(x), e).into_value());
            continue;
        }
        let holds = truth(body, Ctx::Data(x), e);
        match op {
            Op::Filter if holds => out.push(x.clone()),
            Op::Filter => {}
            Op::All if !holds => return V::bool(false),
            Op::None if holds => return V::bool(false),
            Op::Some if holds => return V::bool(true),
            _ => {}
        }
    }
    match op {
        Op::Map | Op::Filter => V::O(Value::Array(out)),
        // All of an empty list is false, as in json-logic-js.
        Op::All => V::bool(!items.is_empty()),
        _ => V::bool(op == Op::None),
    }
}

#[inline(never)]
fn reduce<'a, 'd: 'a>(args: &'a [Node], c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let [list, body, init @ ..] = args else { return V::null() };
    let list = eval(list, c, e);
    let mut acc = init.first().map_or(V::null(), |i| eval(i, c, e));
    let Some(items) = list.as_array() else { return acc };
    for x in items {
        let next = {
            let r = eval(body, Ctx::Reduce(x, &acc), e);
            // `{"var": "accumulator"}` keeps the accumulator as it is, without a copy.
            (!r.is_borrow_of(&acc)).then(|| r.into_owned())
        };
        if let Some(next) = next {
            // An accumulator that wraps itself (`[{"var": "accumulator"}]`, `{"var": ""}`) nests
            // one level per element: past what JSON input may nest, stop rather than build a
            // value too deep to drop or print without exhausting the stack.
            if next.json().is_some_and(|v| deeper_than(v, MAX_BUILT_DEPTH)) {
                return V::null();
            }
            acc = next;
        }
    }
    acc
}

/// How deep `reduce` may nest the values it builds (about what the JSON parser accepts: 127
/// levels).
const MAX_BUILT_DEPTH: u32 = 128;

fn deeper_than(v: &Value, limit: u32) -> bool {
    let Some(inner) = limit.checked_sub(1) else { return matches!(v, Value::Array(_) | Value::Object(_)) };
    match v {
        Value::Array(items) => items.iter().any(|x| deeper_than(x, inner)),
        Value::Object(m) => m.values().any(|x| deeper_than(x, inner)),
        _ => false,
    }
}

/// `String.prototype.substr(start, length)`, counting characters, with json-logic-js's
/// negative-length extension (a negative length leaves that many characters off the end).
fn substr<'s>(s: &'s str, start: f64, len: Option<&V>) -> &'s str {
    let size = s.chars().count() as f64;
    let from = match js::to_integer(start) {
        f if f < 0.0 => (size + f).max(0.0),
        f => f.min(size),
    };
    let count = match len {
        None => size,
        Some(len) => match cmp(len, &V::N(0.0)) {
            Some(Ordering::Less) => match len {
                // json-logic-js takes `temp.length + end`: with a non-number that is a string
                // concatenation, which is not a number, so nothing is left.
                V::N(_) | V::B(Value::Number(_)) | V::O(Value::Number(_)) => {
                    js::to_integer(size - from + len.number())
                }
                _ => 0.0,
            },
            _ => js::to_integer(len.number()),
        },
    };
    let end = (from + crate::util::clamp(count, 0.0, size)).min(size);
    if end <= from {
        return "";
    }
    let byte_at = |i: f64| s.char_indices().nth(i as usize).map_or(s.len(), |(b, _)| b);
    s.get(byte_at(from)..byte_at(end)).unwrap_or("")
}

#[inline(never)]
fn eval_var<'a, 'd: 'a>(var: &'a Var, c: Ctx<'a>, e: &Env<'_, 'd>) -> V<'a> {
    let found = match &var.path {
        Path::Whole => Some(whole(c)),
        Path::Segs(slot) => path_value(slot, c, e),
        Path::Dyn(path) => lookup(&eval(path, c, e), c),
    };
    match (found, &var.default) {
        (Some(v), _) => v,
        (None, Some(d)) => eval(d, c, e),
        (None, None) => V::null(),
    }
}

/// What a constant path finds: looked up once per scope in the scope's data.
fn path_value<'a, 'd: 'a>(slot: &'a Slot, c: Ctx<'a>, e: &Env<'_, 'd>) -> Option<V<'a>> {
    match c {
        Ctx::Data(d) if std::ptr::eq(d, e.data) => e.memo.find(slot, e.data),
        Ctx::Data(d) => descend(d, &slot.segs),
        _ => walk(c, slot.segs.iter().map(Seg::as_ref)),
    }
}

/// The common case of [`walk`]: members of objects and elements of arrays, without building a
/// value per step.
fn descend<'a>(data: &'a Value, segs: &[Seg]) -> Option<V<'a>> {
    let mut v = data;
    for (i, s) in segs.iter().enumerate() {
        let next = match v {
            Value::Object(m) => m.get(&s.key),
            Value::Array(items) if s.index.is_some() => s.index.and_then(|at| items.get(at)),
            // `length`, string characters: the general path.
            Value::Array(_) | Value::String(_) => {
                return walk(Ctx::Data(v), segs.get(i..).unwrap_or_default().iter().map(Seg::as_ref));
            }
            _ => None,
        };
        v = next?;
    }
    Some(V::B(v))
}

/// `{"var": key}` for an evaluated key: `None` when nothing is there (JS `undefined`).
fn lookup<'a>(key: &V, c: Ctx<'a>) -> Option<V<'a>> {
    match key.prim() {
        Prim::Null => Some(whole(c)),
        Prim::Str(s) if s.is_empty() => Some(whole(c)),
        p => {
            let path = js::string_of(p);
            walk(c, crate::util::split(&path, b'.').map(|k| SegRef { key: k, index: array_index(k) }))
        }
    }
}

/// Adds each of `keys` that is missing from the data to `out`.
fn missing_of(out: &mut Vec<Value>, keys: &[Value], c: Ctx) {
    for key in keys {
        push_missing(out, V::B(key), c);
    }
}

/// Adds `key` to `out` when it is missing from the data.
fn push_missing(out: &mut Vec<Value>, key: V, c: Ctx) {
    if absent(&key, c) {
        out.push(key.into_value());
    }
}

/// Whether `{"var": key}` is `null` or `""`. A key that is an array is the argument list of
/// `var` (path and default), as json-logic-js spreads it.
fn absent(key: &V, c: Ctx) -> bool {
    let empty = |v: &V| match v.json() {
        Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    let Some(parts) = key.as_array() else { return lookup(key, c).is_none_or(|v| empty(&v)) };
    let found = match parts.first() {
        None => Some(whole(c)),
        Some(path) => lookup(&V::B(path), c),
    };
    match (found, parts.get(1)) {
        (Some(v), _) => empty(&v),
        (None, Some(default)) => empty(&V::B(default)),
        (None, None) => true,
    }
}

/// The whole data of the context.
fn whole<'a>(c: Ctx<'a>) -> V<'a> {
    match c {
        Ctx::Data(d) => V::B(d),
        Ctx::Reduce(current, acc) => {
            let mut m = Map::new();
            m.insert("current".into(), current.clone());
            let acc = match acc {
                V::N(f) => js::number_value(*f),
                other => other.json().cloned().unwrap_or(Value::Null),
            };
            m.insert("accumulator".into(), acc);
            V::O(Value::Object(m))
        }
    }
}

/// A path segment, borrowed.
#[derive(Clone, Copy)]
pub(crate) struct SegRef<'k> {
    key: &'k str,
    index: Option<usize>,
}

impl Seg {
    fn as_ref(&self) -> SegRef<'_> {
        SegRef { key: &self.key, index: self.index }
    }
}

/// Follows a path as json-logic-js does: `None` (JS `undefined`) as soon as a step finds nothing,
/// or steps into `null`; a `null` found at the end is a value.
fn walk<'a, 'k>(c: Ctx<'a>, mut segs: impl Iterator<Item = SegRef<'k>>) -> Option<V<'a>> {
    let mut cur = match c {
        Ctx::Data(d) => V::B(d),
        Ctx::Reduce(current, acc) => match segs.next() {
            None => return Some(whole(c)),
            Some(s) => match s.key {
                "current" => V::B(current),
                "accumulator" => match acc {
                    V::N(f) => V::N(*f),
                    other => V::B(other.json()?),
                },
                _ => return None,
            },
        },
    };
    for s in segs {
        cur = match cur {
            V::B(v) => step(v, s)?,
            V::O(v) => step(&v, s)?.into_owned(),
            V::N(_) => return None,
        };
    }
    Some(cur)
}

/// `value[key]` for JSON values: object members, array elements and `length`, string
/// characters (UTF-16 units, as in JS) and `length`.
fn step<'v>(v: &'v Value, s: SegRef) -> Option<V<'v>> {
    match v {
        Value::Object(m) => m.get(s.key).map(V::B),
        Value::Array(items) => match s.index {
            Some(i) => items.get(i).map(V::B),
            None if s.key == "length" => Some(V::N(items.len() as f64)),
            None => None,
        },
        Value::String(text) => match s.index {
            Some(i) => utf16_unit(text, i).map(|c| V::O(Value::String(c.into()))),
            None if s.key == "length" => Some(V::N(text.encode_utf16().count() as f64)),
            None => None,
        },
        _ => None,
    }
}

/// The character at UTF-16 index `i` (U+FFFD for half of a surrogate pair).
fn utf16_unit(text: &str, i: usize) -> Option<char> {
    let mut at = 0;
    for ch in text.chars() {
        let w = ch.len_utf16();
        if i < at + w {
            return Some(if w == 1 { ch } else { char::REPLACEMENT_CHARACTER });
        }
        at += w;
    }
    None
}

/// A canonical array index (`"0"`, `"17"`, not `"01"` or `"+1"`), as JS reads property names.
pub(crate) fn array_index(k: &str) -> Option<usize> {
    let b = k.as_bytes();
    if b.is_empty()
        || b.len() > 10
        || (b.len() > 1 && b.first() == Some(&b'0'))
        || !b.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let n: u64 = b.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0'));
    (n < u64::from(u32::MAX)).then_some(n as usize)
}

/// JS `String(key)` for a constant `var` path.
pub(crate) fn key_string(v: &Value) -> String {
    js::string_of(Prim::of(v)).into_owned()
}

/// A folded numeric `var` path as a key value.
pub(crate) fn number_key(f: f64) -> Value {
    let mut s = String::new();
    js::push_number(&mut s, f);
    Value::String(s)
}
