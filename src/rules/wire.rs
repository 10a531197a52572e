//! A compiled rule as JSON, for bundle format 2 (the browser's): the edge writes the tree it
//! compiled and the SDK reads it back, so the browser needs no rules compiler.
//!
//! A node is a value that is not an array (a constant: itself) or an array whose first item
//! names it: an operator (`["==", a, b]`, as `OPERATORS` spells it), or `["const", v]` (an
//! array constant), `["num", x]` (a folded number, `"NaN"`, `"Infinity"` or `"-Infinity"` when
//! JSON cannot hold it), `["array", n…]`, `["var", path, default?]` (`path` `null` for the whole
//! data, a string for a constant path, else a node), `["audience", index]`, `["ago", ms]`.
//!
//! Reading checks what evaluating relies on, so that no tree can crash it: operators known,
//! their argument counts within bounds, audience indices in range, nesting within
//! [`MAX_DEPTH`]. Anything else refuses the whole tree: a tree this SDK cannot read is never
//! read as something wider.

use super::compile::{op_name, operator, takes, Compiler, Node, Path, Var, MAX_DEPTH};
use super::Rule;
use crate::json::{self, Value};

impl Rule {
    /// Appends the rule's compiled tree as JSON (see the module's doc).
    pub fn write_json(&self, out: &mut String) {
        write(out, &self.node);
    }
}

fn write(out: &mut String, node: &Node) {
    let tagged = |out: &mut String, tag: &str| {
        json::open(out, '[');
        json::string(out, tag);
    };
    match node {
        Node::Const(v @ Value::Array(_)) => {
            tagged(out, "const");
            json::value(out, v);
        }
        Node::Const(v) => json::value(out, v),
        Node::Num(f) => {
            tagged(out, "num");
            match f {
                f if f.is_nan() => json::string(out, "NaN"),
                f if f.is_infinite() => json::string(out, if *f > 0.0 { "Infinity" } else { "-Infinity" }),
                f => json::float(out, *f),
            }
        }
        Node::Array(items) => {
            tagged(out, "array");
            for n in items.iter() {
                write(out, n);
            }
        }
        Node::Var(var) => {
            tagged(out, "var");
            match &var.path {
                Path::Whole => json::null(out),
                Path::Segs(slot) => {
                    let mut path = String::new();
                    for (i, seg) in slot.segs.iter().enumerate() {
                        if i > 0 {
                            path.push('.');
                        }
                        path.push_str(&seg.key);
                    }
                    json::string(out, &path);
                }
                Path::Dyn(n) => write(out, n),
            }
            if let Some(default) = &var.default {
                write(out, default);
            }
        }
        Node::Op(op, args) => {
            tagged(out, op_name(*op));
            for n in args.iter() {
                write(out, n);
            }
        }
        Node::Audience { index, .. } => {
            tagged(out, "audience");
            json::uint(out, *index as u64);
        }
        Node::Ago(ms) => {
            tagged(out, "ago");
            json::int(out, *ms);
        }
        // A test is the comparison it was compiled from: its path and constant, in their order.
        #[cfg(feature = "index")]
        Node::Test(t) => {
            tagged(out, op_name(t.probe.op));
            let var = Node::Var(Box::new(Var { path: Path::Segs(t.path.clone()), default: None }));
            let constant = Node::Const(t.probe.constant.clone());
            let (a, b) = if t.probe.path_first { (&var, &constant) } else { (&constant, &var) };
            write(out, a);
            write(out, b);
        }
    }
    if !matches!(node, Node::Const(v) if !v.is_array()) {
        out.push(']');
    }
}

impl Compiler<'_> {
    /// Reads a tree [`Rule::write_json`] wrote; `None` for anything else (see the module's doc).
    pub(crate) fn read(&mut self, v: &Value, depth: u16) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.depth = self.depth.max(depth);
        let Value::Array(items) = v else { return Some(Node::Const(v.clone())) };
        let (tag, rest) = items.split_first()?;
        let mut nodes = || {
            let mut nodes = Vec::with_capacity(rest.len());
            for n in rest {
                nodes.push(self.read(n, depth + 1)?);
            }
            Some(nodes)
        };
        Some(match (tag.as_str()?, rest) {
            ("const", [v]) => Node::Const(v.clone()),
            ("num", [x]) => Node::Num(match x.as_str() {
                Some("NaN") => f64::NAN,
                Some("Infinity") => f64::INFINITY,
                Some("-Infinity") => f64::NEG_INFINITY,
                _ => x.as_f64()?,
            }),
            ("array", _) => Node::Array(nodes()?.into_boxed_slice()),
            ("var", [path, default @ ..]) if default.len() < 2 => {
                let path = match path {
                    Value::Null | Value::String(_) => self.const_path(path),
                    n => Path::Dyn(self.read(n, depth + 1)?),
                };
                let default = match default.first() {
                    Some(d) => Some(self.read(d, depth + 1)?),
                    None => None,
                };
                Node::Var(Box::new(Var { path, default }))
            }
            ("audience", [index]) => {
                let index = usize::try_from(index.as_u64()?).ok()?;
                if index >= self.audience_count() {
                    return None;
                }
                self.refs.push((index, depth));
                Node::Audience { index, depth }
            }
            ("ago", [ms]) => Node::Ago(ms.as_i64()?),
            (name, _) => {
                let (op, min, max) = operator(name)?;
                if !takes(min, max, rest.len()) {
                    return None;
                }
                let node = Node::Op(op, nodes()?.into_boxed_slice());
                self.test(node)
            }
        })
    }
}
