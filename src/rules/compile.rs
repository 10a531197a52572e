//! Compiling a JsonLogic rule: operators resolved to [`Op`], arities checked, `var` paths split,
//! audience and computed names resolved, constant sub-rules folded. Errors carry a JSON pointer
//! into the rule; compilation goes on after an error so that every error is reported.

use super::eval;
use super::js;
#[cfg(feature = "index")]
pub(crate) use super::probe::{Listed, Probe};
#[cfg(feature = "index")]
use super::tree::Tree;
use super::{Names, Scope};
use crate::error::{pointer_token, Error, ErrorKind};
use crate::json::Value;
use crate::map::VecMap;
use std::sync::Arc;
#[cfg(feature = "index")]
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex,
};

/// Rules nested deeper than this (operators and arrays, counting the root as 1) are refused.
pub(crate) const MAX_DEPTH: u16 = 256;

/// A compiled rule node.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A literal, or a folded result.
    Const(Value),
    /// A folded arithmetic result (may be NaN or infinite, which JSON cannot hold).
    Num(f64),
    /// An array literal with computed elements.
    Array(Box<[Node]>),
    Var(Box<Var>),
    Op(Op, Box<[Node]>),
    /// `{"audience": name}`: the audience's index, and this node's depth (for the stack bound).
    Audience {
        index: usize,
        depth: u16,
    },
    /// `{"ago": duration}`: the duration in milliseconds.
    Ago(i64),
    /// A comparison of a constant path with a constant, the most common node of all (answered
    /// through its path's index: only with the `index` feature).
    #[cfg(feature = "index")]
    Test(Box<Test>),
}

/// `{op: [{"var": path}, constant]}` (or the constant first) for a comparison `op` or `in`
/// (two arguments): a [`Probe`] of a path. Its answer is remembered per scope with the path's
/// other probes, so that a probe shared by many rules is answered once per decision.
#[cfg(feature = "index")]
#[derive(Debug, Clone)]
pub(crate) struct Test {
    pub(crate) path: Arc<Slot>,
    /// The probe's number among its owner's probes (the same probe, the same number), when
    /// listed.
    pub(crate) id: usize,
    /// Whether the probe is listed with its path's (see [`Owner`]).
    pub(crate) listed: bool,
    pub(crate) probe: Probe,
}

/// `var`: where to look and what to answer when nothing is there.
#[derive(Debug, Clone)]
pub(crate) struct Var {
    pub(crate) path: Path,
    pub(crate) default: Option<Node>,
}

#[derive(Debug, Clone)]
pub(crate) enum Path {
    /// `""`, `null` or no path: the whole data.
    Whole,
    /// A constant path, split at dots; shared by the rules compiled with one [`super::Paths`].
    Segs(Arc<Slot>),
    /// A path computed by a rule, split when evaluated.
    Dyn(Node),
}

/// The identity of the rules that share slots (and, with `index`, probe numbers): those compiled
/// with one [`super::Paths`], or a rule compiled alone. A scope remembers what paths found (and
/// probes answered) for one owner, the first that uses it; the rules of any other owner are
/// evaluated without its memory.
///
/// With the `index` feature it also keeps, by slot index, the distinct probes of each path and
/// their numbers, so that a scope answers all of them in one sweep (see `eval::Known::sweep`).
#[derive(Debug, Default)]
pub(crate) struct Owner {
    #[cfg(feature = "index")]
    pub(crate) probes: Mutex<Probes>,
    /// Goes up each time a probe is listed: a scope that answered every listed probe at one
    /// version need not look again until the next.
    #[cfg(feature = "index")]
    pub(crate) version: AtomicUsize,
}

/// The listed probes of an [`Owner`]'s paths.
#[cfg(feature = "index")]
#[derive(Debug, Default)]
pub(crate) struct Probes {
    /// By slot index.
    pub(crate) by_slot: Vec<Listed>,
    /// The paths that have listed probes.
    pub(crate) tree: Tree,
}

/// A constant path and its slot: the index where an evaluation keeps what the path found in the
/// data, so that the rules of one decision look each path up once.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) index: usize,
    pub(crate) segs: Box<[Seg]>,
    pub(crate) owner: Arc<Owner>,
}

/// Probes of one path past this many are not shared (bounds the compile-time search).
#[cfg(feature = "index")]
const MAX_PROBES: usize = 256;

/// Numbers paths (and, with `index`, probes) while rules compile (see [`super::Paths`]).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    owner: Arc<Owner>,
    slots: VecMap<Arc<Slot>>,
    /// The next word of answer bits to give a path (see [`Interner::probe`]).
    #[cfg(feature = "index")]
    next_word: usize,
}

impl Interner {
    fn slot(&mut self, path: &str) -> Arc<Slot> {
        if let Some(slot) = self.slots.get(path) {
            return slot.clone();
        }
        let mut segs = Vec::new();
        for k in crate::util::split(path, b'.') {
            segs.push(Seg { key: k.into(), index: eval::array_index(k) });
        }
        let segs = segs.into_boxed_slice();
        let slot = Arc::new(Slot { index: self.slots.len(), segs, owner: self.owner.clone() });
        self.slots.insert(path.to_owned(), slot.clone());
        slot
    }

    /// The number of `probe` of `slot`'s path, a new one if it is new, and whether it is listed
    /// among the path's probes (answered with them; the number means nothing otherwise).
    ///
    /// A path's probes are numbered in words of 64 of its own, so that its answers fill a few
    /// words that a scope writes whole (see [`Listed::answer`]).
    #[cfg(feature = "index")]
    fn probe(&mut self, slot: &Slot, probe: &Probe) -> (usize, bool) {
        let owner = self.owner.clone();
        let mut probes = owner.probes.lock().ok();
        let Some(Probes { by_slot, tree }) = probes.as_deref_mut() else { return (usize::MAX, false) };
        if by_slot.len() <= slot.index {
            by_slot.resize_with(slot.index + 1, Listed::default);
        }
        let known = by_slot.get_mut(slot.index);
        if let Some(id) = known.as_ref().and_then(|k| k.find(probe)) {
            return (id, true);
        }
        match known.filter(|k| k.len() < MAX_PROBES) {
            Some(known) => {
                let id = match known.len() % 64 {
                    0 => {
                        self.next_word += 1;
                        (self.next_word - 1) * 64
                    }
                    _ => known.last_id() + 1,
                };
                if known.len() == 0 {
                    tree.insert(&slot.segs, slot.index);
                }
                known.push(&slot.segs, probe.clone(), id);
                self.owner.version.fetch_add(1, Ordering::Release);
                (id, true)
            }
            None => (usize::MAX, false),
        }
    }
}

/// One path segment, with its array index when it is a canonical index (`"0"`, `"12"`).
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    pub(crate) key: Box<str>,
    pub(crate) index: Option<usize>,
}

/// The operators with evaluated arguments (`var`, `audience` and `ago` have their own nodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    If,
    And,
    Or,
    Not,
    NotNot,
    Eq,
    StrictEq,
    Ne,
    StrictNe,
    Gt,
    Ge,
    Lt,
    Le,
    Max,
    Min,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Map,
    Filter,
    Reduce,
    All,
    None,
    Some,
    Merge,
    In,
    Cat,
    Substr,
    Log,
    Missing,
    MissingSome,
}

const ANY: u8 = u8::MAX;

/// Operators with their least and greatest argument counts (a table: smaller than a `match`).
const OPERATORS: [(&str, Op, u8, u8); 34] = [
    ("if", Op::If, 0, ANY),
    ("?:", Op::If, 0, ANY),
    ("and", Op::And, 1, ANY),
    ("or", Op::Or, 1, ANY),
    ("!", Op::Not, 1, 1),
    ("!!", Op::NotNot, 1, 1),
    ("==", Op::Eq, 2, 2),
    ("===", Op::StrictEq, 2, 2),
    ("!=", Op::Ne, 2, 2),
    ("!==", Op::StrictNe, 2, 2),
    (">", Op::Gt, 2, 2),
    (">=", Op::Ge, 2, 2),
    ("<", Op::Lt, 2, 3),
    ("<=", Op::Le, 2, 3),
    ("max", Op::Max, 1, ANY),
    ("min", Op::Min, 1, ANY),
    ("+", Op::Add, 0, ANY),
    ("-", Op::Sub, 1, 2),
    ("*", Op::Mul, 1, ANY),
    ("/", Op::Div, 2, 2),
    ("%", Op::Mod, 2, 2),
    ("map", Op::Map, 2, 2),
    ("filter", Op::Filter, 2, 2),
    ("reduce", Op::Reduce, 2, 3),
    ("all", Op::All, 2, 2),
    ("none", Op::None, 2, 2),
    ("some", Op::Some, 2, 2),
    ("merge", Op::Merge, 0, ANY),
    ("in", Op::In, 2, 2),
    ("cat", Op::Cat, 0, ANY),
    ("substr", Op::Substr, 2, 3),
    ("log", Op::Log, 1, 1),
    ("missing", Op::Missing, 0, ANY),
    ("missing_some", Op::MissingSome, 2, 2),
];

/// The operator named `name`, with its least and greatest argument counts.
pub(super) fn operator(name: &str) -> Option<(Op, u8, u8)> {
    OPERATORS.iter().find(|o| o.0 == name).map(|o| (o.1, o.2, o.3))
}

/// Whether `n` arguments are within an operator's counts (`max` [`ANY`]: no upper bound).
pub(super) fn takes(min: u8, max: u8, n: usize) -> bool {
    n >= usize::from(min) && (max == ANY || n <= usize::from(max))
}

/// The name `op` is written with: its first in [`OPERATORS`] (`if` rather than `?:`).
pub(super) fn op_name(op: Op) -> &'static str {
    OPERATORS.iter().find(|o| o.1 == op).map_or("", |o| o.0)
}

/// One step of a JSON pointer, kept on the stack while compiling; the pointer string is only
/// built for an error.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Clone, Copy)]
struct At<'a> {
    parent: Option<&'a At<'a>>,
    step: Step<'a>,
}

fn pointer(at: Option<&At>) -> String {
    let mut steps = Vec::new();
    let mut cur = at;
    while let Some(a) = cur {
        steps.push(a.step);
        cur = a.parent;
    }
    let mut out = String::new();
    for step in steps.iter().rev() {
        out.push('/');
        match step {
            Step::Key(k) => out.push_str(&pointer_token(k)),
            Step::Index(i) => crate::util::push_uint(&mut out, *i as u64),
        }
    }
    out
}

/// Compiles rules against one set of names, collecting every error.
pub(crate) struct Compiler<'n> {
    names: &'n Names<'n>,
    pub(crate) errors: Vec<Error>,
    /// Audiences referenced: (index, depth of the reference).
    pub(crate) refs: Vec<(usize, u16)>,
    /// The deepest level reached.
    pub(crate) depth: u16,
    too_deep: bool,
    /// This rule's own paths (and probes), when the names carry no [`super::Paths`].
    own: Interner,
}

impl<'n> Compiler<'n> {
    pub(crate) fn new(names: &'n Names<'n>) -> Self {
        Compiler {
            names,
            errors: Vec::new(),
            refs: Vec::new(),
            depth: 0,
            too_deep: false,
            own: Interner::default(),
        }
    }

    /// How many audiences the names hold (an audience node's index is below it).
    pub(super) fn audience_count(&self) -> usize {
        self.names.audiences.len()
    }

    /// Compiles a whole rule.
    pub(crate) fn rule(&mut self, rule: &Value) -> Node {
        self.node(rule, None, 1)
    }

    fn error(&mut self, at: Option<&At>, message: impl Into<String>) -> Node {
        self.errors.push(Error::new(ErrorKind::Rule, pointer(at), message));
        Node::Const(Value::Null)
    }

    fn node(&mut self, v: &Value, at: Option<&At>, depth: u16) -> Node {
        if depth > MAX_DEPTH {
            if !self.too_deep {
                self.too_deep = true;
                return self.error(at, "rule is nested too deeply (more than 256 levels)");
            }
            return Node::Const(Value::Null);
        }
        self.depth = self.depth.max(depth);
        match v {
            Value::Array(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                let mut constant = true;
                for (i, x) in items.iter().enumerate() {
                    let node = self.node(x, Some(&At { parent: at, step: Step::Index(i) }), depth + 1);
                    constant &= is_const(&node);
                    nodes.push(node);
                }
                if constant {
                    let mut values = Vec::with_capacity(nodes.len());
                    for node in nodes {
                        values.push(const_value(node));
                    }
                    Node::Const(Value::Array(values))
                } else {
                    Node::Array(nodes.into_boxed_slice())
                }
            }
            Value::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((name, args)) => self.operation(name, args, at, depth),
                None => Node::Const(v.clone()),
            },
            // Not logic (JsonLogic needs exactly one key): passed through as a literal.
            _ => Node::Const(v.clone()),
        }
    }

    #[inline(never)]
    fn operation(&mut self, name: &str, args: &Value, parent: Option<&At>, depth: u16) -> Node {
        let at = At { parent, step: Step::Key(name) };
        let at = Some(&at);
        // `{"op": x}` is shorthand for `{"op": [x]}`.
        let (items, listed) = match args {
            Value::Array(items) => (items.as_slice(), true),
            one => (std::slice::from_ref(one), false),
        };
        let arg_at = |i: usize| if listed { Some(At { parent: at, step: Step::Index(i) }) } else { None };
        match name {
            "var" => return self.var(items, at, listed, depth),
            "audience" => return self.audience(items, at, depth),
            "ago" => return self.ago(items, at),
            _ => {}
        }
        let Some((op, min, max)) = operator(name) else {
            return self.error(at, crate::util::cat(&["unknown operator \"", name, "\""]));
        };
        if !takes(min, max, items.len()) {
            return self.error(at, arity(name, min, max, items.len()));
        }
        let mut nodes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let step = arg_at(i);
            nodes.push(self.node(item, step.as_ref().or(at), depth + 1));
        }
        if matches!(op, Op::Missing | Op::MissingSome) {
            self.check_keys(&nodes, at, listed);
        }
        let node = build(op, nodes);
        self.test(node)
    }

    #[inline(never)]
    fn var(&mut self, items: &[Value], at: Option<&At>, listed: bool, depth: u16) -> Node {
        if items.len() > 2 {
            return self.error(at, arity("var", 0, 2, items.len()));
        }
        let path_at = if listed { Some(At { parent: at, step: Step::Index(0) }) } else { None };
        let path_at = path_at.as_ref().or(at);
        let path = match items.first().map(|p| self.node(p, path_at, depth + 1)) {
            None => Path::Whole,
            Some(Node::Const(p)) => {
                if let Value::String(p) = &p {
                    self.check_computed(p, path_at);
                }
                self.const_path(&p)
            }
            Some(Node::Num(f)) => self.const_path(&eval::number_key(f)),
            Some(n) => Path::Dyn(n),
        };
        let default = match items.get(1) {
            Some(d) => match self.node(d, Some(&At { parent: at, step: Step::Index(1) }), depth + 1) {
                Node::Const(Value::Null) => None,
                n => Some(n),
            },
            None => None,
        };
        Node::Var(Box::new(Var { path, default }))
    }

    /// With known computed names, a path `computed.<name>…` must name one of them.
    fn check_computed(&mut self, path: &str, at: Option<&At>) {
        let Some(known) = self.names.computed else { return };
        let Some(rest) = path.strip_prefix("computed.") else { return };
        let name = crate::util::split(rest, b'.').next().unwrap_or(rest);
        if !known.iter().any(|k| k == name) {
            self.error(at, crate::util::cat(&["unknown computed value \"", name, "\""]));
        }
    }

    /// Constant `missing` / `missing_some` keys are paths too: check their computed names.
    fn check_keys(&mut self, nodes: &[Node], at: Option<&At>, listed: bool) {
        for (i, n) in nodes.iter().enumerate() {
            let arg_at = listed.then_some(At { parent: at, step: Step::Index(i) });
            let arg_at = arg_at.as_ref().or(at);
            match n {
                Node::Const(Value::String(k)) => self.check_computed(k, arg_at),
                Node::Const(Value::Array(keys)) => {
                    for (j, k) in keys.iter().enumerate() {
                        if let Value::String(k) = k {
                            self.check_computed(k, Some(&At { parent: arg_at, step: Step::Index(j) }));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn audience(&mut self, items: &[Value], at: Option<&At>, depth: u16) -> Node {
        let [Value::String(name)] = items else {
            return self.error(at, "\"audience\" takes one audience name");
        };
        match self.names.audiences.iter().position(|a| a == name) {
            Some(index) => {
                self.refs.push((index, depth));
                Node::Audience { index, depth }
            }
            None => self.error(at, crate::util::cat(&["unknown audience \"", name, "\""])),
        }
    }

    fn ago(&mut self, items: &[Value], at: Option<&At>) -> Node {
        match items {
            [Value::String(d)] => match crate::duration::parse_ms(d) {
                Ok(ms) => Node::Ago(ms),
                Err(_) => {
                    let message = [
                        "\"ago\" takes a duration like \"7d\" (<n><unit>, unit s, m, h or d), not \"",
                        d,
                        "\"",
                    ];
                    self.error(at, crate::util::cat(&message))
                }
            },
            _ => self.error(at, "\"ago\" takes one duration like \"7d\""),
        }
    }
}

fn arity(name: &str, min: u8, max: u8, got: usize) -> String {
    let mut m = crate::util::cat(&["\"", name, "\" takes "]);
    if max == ANY {
        m.push_str("at least ");
    }
    crate::util::push_uint(&mut m, u64::from(min));
    if max != ANY && max != min {
        m.push_str(" to ");
        crate::util::push_uint(&mut m, u64::from(max));
    }
    m.push_str(if min == 1 && (max == 1 || max == ANY) { " argument, got " } else { " arguments, got " });
    crate::util::push_uint(&mut m, got as u64);
    m
}

impl Compiler<'_> {
    pub(super) fn const_path(&mut self, p: &Value) -> Path {
        match p {
            Value::Null => Path::Whole,
            Value::String(s) if s.is_empty() => Path::Whole,
            Value::String(s) => self.slot(s),
            other => self.slot(&eval::key_string(other)),
        }
    }

    /// The interner: the shared one when the names carry a [`super::Paths`], else this rule's.
    fn interner<R>(&mut self, f: impl FnOnce(&mut Interner) -> R) -> R {
        match self.names.paths.and_then(|p| p.0.try_borrow_mut().ok()) {
            Some(mut shared) => f(&mut shared),
            None => f(&mut self.own),
        }
    }

    fn slot(&mut self, path: &str) -> Path {
        Path::Segs(self.interner(|i| i.slot(path)))
    }

    /// Without the `index` feature, `node` unchanged: comparisons stay generic operations. A
    /// probe saves little when it is not answered through its path's index, and without probes
    /// the browser SDK is 2 KB gzip smaller, its decisions within a few percent
    /// (`script/bench.d/sdk-ab.mjs`).
    #[cfg(not(feature = "index"))]
    pub(super) fn test(&mut self, node: Node) -> Node {
        node
    }

    /// `node`, or the [`Test`] it is when it compares a constant path (no default) with a
    /// constant.
    #[cfg(feature = "index")]
    pub(super) fn test(&mut self, node: Node) -> Node {
        let Node::Op(op, args) = &node else { return node };
        let comparison = matches!(
            op,
            Op::Eq | Op::StrictEq | Op::Ne | Op::StrictNe | Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::In
        );
        let path = |n: &Node| match n {
            Node::Var(v) if v.default.is_none() => match &v.path {
                Path::Segs(slot) => Some(slot.clone()),
                _ => None,
            },
            _ => None,
        };
        let (path, constant, path_first) = match &args[..] {
            [var, Node::Const(k)] if comparison => match path(var) {
                Some(p) => (p, k, true),
                None => return node,
            },
            [Node::Const(k), var] if comparison => match path(var) {
                Some(p) => (p, k, false),
                None => return node,
            },
            _ => return node,
        };
        let probe = Probe::new(*op, constant.clone(), path_first);
        let (id, listed) = self.interner(|i| i.probe(&path, &probe));
        Node::Test(Box::new(Test { path, id, listed, probe }))
    }
}

fn is_const(n: &Node) -> bool {
    matches!(n, Node::Const(_) | Node::Num(_))
}

fn const_value(n: Node) -> Value {
    match n {
        Node::Const(v) => v,
        Node::Num(f) => js::number_value(f),
        _ => Value::Null,
    }
}

/// Builds an operation node, folding what is known at compile time.
#[inline(never)]
fn build(op: Op, mut args: Vec<Node>) -> Node {
    match op {
        Op::And | Op::Or => {
            // Constant operands that cannot decide are dropped; one that decides ends the list.
            let last = args.len().saturating_sub(1);
            let mut kept = Vec::with_capacity(args.len());
            for (i, a) in args.into_iter().enumerate() {
                match const_truthy(&a) {
                    Some(t) if t == (op == Op::And) && i < last => continue,
                    Some(_) => {
                        kept.push(a);
                        break;
                    }
                    None => kept.push(a),
                }
            }
            args = kept;
        }
        Op::If => {
            let mut kept = Vec::with_capacity(args.len());
            let mut rest = args.into_iter();
            while let Some(cond) = rest.next() {
                let Some(then) = rest.next() else {
                    kept.push(cond); // the final else
                    break;
                };
                match const_truthy(&cond) {
                    Some(true) => {
                        kept.push(then);
                        break;
                    }
                    Some(false) => {}
                    None => {
                        kept.push(cond);
                        kept.push(then);
                    }
                }
            }
            if kept.is_empty() {
                return Node::Const(Value::Null);
            }
            args = kept;
        }
        // `[x].reduce(f)` never calls `f`: one factor is returned as it is.
        Op::Mul if args.len() == 1 => return args.pop().unwrap_or(Node::Const(Value::Null)),
        _ => {}
    }
    if matches!(op, Op::And | Op::Or | Op::If) && args.len() == 1 {
        return args.pop().unwrap_or(Node::Const(Value::Null));
    }
    let node = Node::Op(op, args.into_boxed_slice());
    let Node::Op(_, ref args) = node else { return node };
    // `missing` reads the data; everything else depends on its arguments alone.
    if matches!(op, Op::Missing | Op::MissingSome) || !args.iter().all(is_const) {
        return node;
    }
    let folded = eval::run(&node, &Scope::new(&eval::NULL, 0, &[]));
    match folded {
        eval::V::N(f) => Node::Num(f),
        v => Node::Const(v.into_value()),
    }
}

fn const_truthy(n: &Node) -> Option<bool> {
    match n {
        Node::Const(v) => Some(super::truthy(v)),
        Node::Num(f) => Some(eval::truthy_num(*f)),
        _ => None,
    }
}
