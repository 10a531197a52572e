//! JsonLogic rules: compiled once into a compact tree, evaluated many times.
//!
//! This module owns the public API ([`Rule`], [`Names`], [`Scope`], [`compile_audiences`],
//! [`eval_line`]); `compile` turns JSON into nodes, `eval` runs them and `js` holds the
//! JavaScript coercions that json-logic-js semantics rest on.

mod compile;
mod eval;
mod js;
#[cfg(feature = "index")]
mod probe;
#[cfg(test)]
mod tests;
#[cfg(feature = "index")]
mod tree;
mod wire;

use crate::error::{pointer_token, Error, ErrorKind};
use crate::json::{Map, Value};
use crate::util::{cat, num};
use compile::{Compiler, Interner, Node};
pub(crate) use eval::array_index;
pub(crate) use js::trim as js_trim;
use std::cell::RefCell;

/// Names a rule may refer to, resolved at compile time.
#[derive(Debug, Default, Clone, Copy)]
pub struct Names<'a> {
    /// Audience names; `{"audience": name}` compiles to the index in this slice.
    pub audiences: &'a [String],
    /// Computed attribute names; when `Some`, `var computed.<x>` must name one of them.
    pub computed: Option<&'a [String]>,
    /// Where rules compiled together share their `var` paths, so that one [`Scope`] looks each
    /// path up once for all of them; `None` gives every rule paths of its own.
    pub paths: Option<&'a Paths>,
}

/// The constant `var` paths of rules compiled together (a bundle's audiences, eligibility
/// rules, formulas…), one slot each.
///
/// Why: a decision evaluates hundreds of rules that read the same dozen paths; looking each up
/// in the data once per [`Scope`] instead of once per `var` is most of the engine's speed.
#[derive(Debug, Default)]
pub struct Paths(RefCell<Interner>);

/// What rules are evaluated against, and what evaluating them has learnt about it: the value at
/// each `var` path and each audience's verdict, shared by every rule evaluated with this scope.
/// Make one per decision (the data must not change while it lives; it is borrowed).
#[derive(Debug)]
pub struct Scope<'a> {
    /// The rule data (`attributes`, `computed`, `context`, `now`…).
    pub data: &'a Value,
    /// Milliseconds since the epoch, for `ago`.
    pub now: i64,
    /// Compiled audiences, indexed as in [`Names::audiences`].
    pub audiences: &'a [Rule],
    memo: eval::Memo<'a>,
}

impl<'a> Scope<'a> {
    /// A scope over `data` at `now` with `audiences`, nothing looked up yet.
    pub fn new(data: &'a Value, now: i64, audiences: &'a [Rule]) -> Self {
        Scope { data, now, audiences, memo: eval::Memo::default() }
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    node: Node,
    /// Nesting depth of the rule (the root is 1), bounding the stack an evaluation needs.
    depth: u16,
    /// The rule as a disjunction over remembered test answers, when it has that shape.
    #[cfg(feature = "index")]
    dnf: Option<eval::Dnf>,
}

impl Rule {
    fn new(node: Node, depth: u16) -> Rule {
        Rule {
            #[cfg(feature = "index")]
            dnf: eval::Dnf::of(&node),
            node,
            depth,
        }
    }

    /// Compiles `rule`; errors carry a JSON pointer relative to the rule.
    pub fn compile(rule: &Value, names: &Names) -> Result<Rule, Error> {
        let mut c = Compiler::new(names);
        let node = c.rule(rule);
        match c.errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(Rule::new(node, c.depth)),
        }
    }

    /// Reads a compiled tree that [`Rule::write_json`] wrote, against `names` (as
    /// [`Rule::compile`] takes them); `None` when it is not one (see `wire.rs`).
    pub fn read(tree: &Value, names: &Names) -> Option<Rule> {
        let mut c = Compiler::new(names);
        let node = c.read(tree, 1)?;
        Some(Rule::new(node, c.depth))
    }

    /// Evaluates the rule.
    pub fn evaluate(&self, scope: &Scope) -> Value {
        eval::run(&self.node, scope).into_value()
    }

    /// Evaluates the rule and applies JsonLogic truthiness.
    pub fn test(&self, scope: &Scope) -> bool {
        #[cfg(feature = "index")]
        if let Some(answer) = self.dnf.as_ref().and_then(|d| eval::run_dnf(d, scope)) {
            return answer;
        }
        eval::run_truth(&self.node, scope)
    }

    /// The rule's value when it does not depend on the data, `now` or audiences (after folding).
    pub fn constant(&self) -> Option<Value> {
        match &self.node {
            Node::Const(v) => Some(v.clone()),
            Node::Num(f) => Some(js::number_value(*f)),
            _ => None,
        }
    }
}

/// JsonLogic truthiness.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

/// Compiles named audiences (result `i` is `audiences[i]`); they may use each other with
/// `{"audience": name}`. Every error is reported, with a pointer relative to the audiences object
/// (`/<name>/…`); cycles are errors.
pub fn compile_audiences(
    audiences: &[(String, Value)],
    computed: Option<&[String]>,
    paths: Option<&Paths>,
) -> Result<Vec<Rule>, Vec<Error>> {
    let mut names = Vec::with_capacity(audiences.len());
    for (name, _) in audiences {
        names.push(name.clone());
    }
    let scope = Names { audiences: &names, computed, paths };
    let prefix = |name: &str| cat(&["/", &pointer_token(name)]);
    let mut errors = Vec::new();
    let mut rules = Vec::with_capacity(audiences.len());
    let mut refs = Vec::with_capacity(audiences.len());
    for (i, (name, rule)) in audiences.iter().enumerate() {
        if names.get(..i).is_some_and(|earlier| earlier.contains(name)) {
            errors.push(Error::new(
                ErrorKind::Rule,
                prefix(name),
                cat(&["duplicate audience \"", name, "\""]),
            ));
        }
        let mut c = Compiler::new(&scope);
        let node = c.rule(rule);
        for e in c.errors {
            errors.push(e.under(&prefix(name)));
        }
        rules.push(Rule::new(node, c.depth));
        refs.push(c.refs);
    }
    check_graph(&names, &rules, &refs, &mut errors);
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// Finds cycles between audiences (one error per cycle found, naming it) and audiences nested
/// too deeply through the audiences they use. Iterative, so a long chain cannot exhaust the stack.
fn check_graph(names: &[String], rules: &[Rule], refs: &[Vec<(usize, u16)>], errors: &mut Vec<Error>) {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let name = |i: usize| names.get(i).map_or("", String::as_str);
    let mut state = vec![WHITE; rules.len()];
    // Nesting depth of each audience, counting the audiences it uses.
    let mut reach = vec![0u32; rules.len()];
    for root in 0..rules.len() {
        if state.get(root) != Some(&WHITE) {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        if let Some(s) = state.get_mut(root) {
            *s = GREY;
        }
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            let out = refs.get(node).map_or(&[][..], Vec::as_slice);
            if let Some(&(to, _)) = out.get(*next) {
                *next += 1;
                match state.get(to) {
                    Some(&WHITE) => {
                        if let Some(s) = state.get_mut(to) {
                            *s = GREY;
                        }
                        stack.push((to, 0));
                    }
                    Some(&GREY) => {
                        let from = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let mut cycle = Vec::new();
                        for &(n, _) in stack.get(from..).unwrap_or_default() {
                            cycle.push(name(n));
                        }
                        cycle.push(name(to));
                        errors.push(Error::new(
                            ErrorKind::Rule,
                            cat(&["/", &pointer_token(name(to))]),
                            crate::util::cat(&["audience cycle: ", &crate::util::join(&cycle, " -> ")]),
                        ));
                    }
                    _ => {}
                }
                continue;
            }
            let mut deepest = rules.get(node).map_or(0, |r| u32::from(r.depth));
            let mut inherited = false;
            for &(to, at) in out {
                let to_reach = reach.get(to).copied().unwrap_or(0);
                if state.get(to) == Some(&BLACK) {
                    deepest = deepest.max(u32::from(at).saturating_add(to_reach));
                }
                inherited |= to_reach > eval::AUDIENCE_DEPTH;
            }
            if deepest > eval::AUDIENCE_DEPTH && !inherited {
                errors.push(Error::new(
                    ErrorKind::Rule,
                    cat(&["/", &pointer_token(name(node))]),
                    cat(&[
                        "audience nests too deeply through the audiences it uses (more than ",
                        &num(u64::from(eval::AUDIENCE_DEPTH)),
                        " levels)",
                    ]),
                ));
            }
            if let Some(r) = reach.get_mut(node) {
                *r = deepest;
            }
            if let Some(s) = state.get_mut(node) {
                *s = BLACK;
            }
            stack.pop();
        }
    }
}

/// The core of `rapport eval`: one JSON line `{"rule": R, "data": D, "now"?: ms}` in, one line
/// `{"result": V}` or `{"error": "message"}` out. No audiences are known; computed names are not
/// checked. `now` defaults to the data's `now`, else 0.
pub fn eval_line(line: &str) -> String {
    let input = match crate::json::parse(line) {
        Ok(v) => v,
        Err(e) => return answer("error", Value::String(cat(&["invalid JSON: ", &e.text()]))),
    };
    let Some(rule) = input.get("rule") else {
        return answer("error", Value::String("expected an object with \"rule\" and \"data\"".into()));
    };
    let data = input.get("data").unwrap_or(&Value::Null);
    let ms = |n: &Value| {
        n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e18).map(|f| f as i64))
    };
    let now = match input.get("now") {
        Some(n) => match ms(n) {
            Some(n) => n,
            None => return answer("error", Value::String("\"now\" must be an integer (ms)".into())),
        },
        None => data.get("now").and_then(ms).unwrap_or(0),
    };
    match Rule::compile(rule, &Names::default()) {
        Ok(r) => answer("result", r.evaluate(&Scope::new(data, now, &[]))),
        Err(e) => answer("error", Value::String(e.text())),
    }
}

fn answer(key: &str, v: Value) -> String {
    let mut m = Map::new();
    m.insert(key.into(), v);
    crate::json::text(&Value::Object(m))
}
