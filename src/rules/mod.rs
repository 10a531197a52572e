//! JsonLogic rules: compiled once into a compact tree, evaluated many times.
//!
//! STUB: only `var`, `==` and `audience` for now; the full engine replaces this file behind the
//! same API.

use crate::error::{Error, ErrorKind};
use serde_json::Value;

/// Names a rule may refer to, resolved at compile time.
#[derive(Debug, Default, Clone, Copy)]
pub struct Names<'a> {
    /// Audience names; `{"audience": name}` compiles to the index in this slice.
    pub audiences: &'a [String],
    /// Computed attribute names; when `Some`, `var computed.<x>` must name one of them.
    pub computed: Option<&'a [String]>,
}

/// What a rule is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The rule data (`attributes`, `computed`, `context`, `now`…).
    pub data: &'a Value,
    /// Milliseconds since the epoch, for `ago`.
    pub now: i64,
    /// Compiled audiences, indexed as in [`Names::audiences`].
    pub audiences: &'a [Rule],
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule(Node);

#[derive(Debug, Clone)]
enum Node {
    Const(Value),
    Var(Vec<String>),
    Eq(Box<Node>, Box<Node>),
    Audience(usize),
}

impl Rule {
    /// Compiles `rule`; errors carry a JSON pointer relative to the rule.
    pub fn compile(rule: &Value, names: &Names) -> Result<Rule, Error> {
        compile(rule, names).map(Rule)
    }

    /// Evaluates the rule.
    pub fn evaluate(&self, scope: &Scope) -> Value {
        eval(&self.0, scope)
    }

    /// Evaluates the rule and applies JsonLogic truthiness.
    pub fn test(&self, scope: &Scope) -> bool {
        truthy(&self.evaluate(scope))
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

fn compile(rule: &Value, names: &Names) -> Result<Node, Error> {
    let Value::Object(map) = rule else {
        return Ok(Node::Const(rule.clone()));
    };
    let Some((op, args)) = map.iter().next() else {
        return Ok(Node::Const(rule.clone()));
    };
    match op.as_str() {
        "var" => match args {
            Value::String(s) => Ok(Node::Var(s.split('.').map(str::to_owned).collect())),
            _ => Err(Error::new(ErrorKind::Rule, "/var", "var takes a path")),
        },
        "==" => match args.as_array().map(Vec::as_slice) {
            Some([a, b]) => Ok(Node::Eq(
                Box::new(compile(a, names)?),
                Box::new(compile(b, names)?),
            )),
            _ => Err(Error::new(ErrorKind::Rule, "/==", "== takes 2 arguments")),
        },
        "audience" => {
            let name = args.as_str().unwrap_or_default();
            names
                .audiences
                .iter()
                .position(|a| a == name)
                .map(Node::Audience)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Rule,
                        "/audience",
                        format!("unknown audience {name}"),
                    )
                })
        }
        other => Err(Error::new(
            ErrorKind::Rule,
            "",
            format!("unknown operator {other}"),
        )),
    }
}

fn eval(node: &Node, scope: &Scope) -> Value {
    match node {
        Node::Const(v) => v.clone(),
        Node::Var(path) => path
            .iter()
            .try_fold(scope.data, |v, k| v.get(k))
            .cloned()
            .unwrap_or(Value::Null),
        Node::Eq(a, b) => Value::Bool(eval(a, scope) == eval(b, scope)),
        Node::Audience(i) => Value::Bool(scope.audiences.get(*i).is_some_and(|r| r.test(scope))),
    }
}

/// STUB: compiles named audiences (no cycle check yet).
pub fn compile_audiences(
    audiences: &[(String, Value)],
    computed: Option<&[String]>,
) -> Result<Vec<Rule>, Vec<Error>> {
    let names: Vec<String> = audiences.iter().map(|(n, _)| n.clone()).collect();
    let names = Names {
        audiences: &names,
        computed,
    };
    let mut errors = Vec::new();
    let rules: Vec<Rule> = audiences
        .iter()
        .filter_map(|(n, r)| {
            Rule::compile(r, &names)
                .map_err(|e| errors.push(e.under(&format!("/{n}"))))
                .ok()
        })
        .collect();
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// STUB: one `rapport eval` line.
pub fn eval_line(line: &str) -> String {
    let Ok(input) = serde_json::from_str::<Value>(line) else {
        return r#"{"error":"not JSON"}"#.into();
    };
    match Rule::compile(&input["rule"], &Names::default()) {
        Ok(rule) => serde_json::json!({"result": rule.evaluate(&Scope { data: &input["data"], now: 0, audiences: &[] })}).to_string(),
        Err(e) => serde_json::json!({"error": e.to_string()}).to_string(),
    }
}
