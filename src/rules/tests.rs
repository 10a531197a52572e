//! Unit tests of the rules engine: compile errors (pointers and messages), folding, the custom
//! operations, `eval_line`, and a deterministic random-input test that nothing panics or hangs.

use super::compile::Node;
use super::*;
use crate::json;

fn names() -> Vec<String> {
    vec!["a".into(), "b".into()]
}

fn compile_with(rule: Value, computed: Option<&[String]>) -> Result<Rule, Error> {
    let audiences = names();
    Rule::compile(&rule, &Names { audiences: &audiences, computed, paths: None })
}

fn run(rule: Value, data: Value) -> Value {
    let rule = Rule::compile(&rule, &Names::default()).unwrap_or_else(|e| panic!("{e}"));
    rule.evaluate(&Scope::new(&data, 0, &[]))
}

fn error(rule: Value) -> (String, String) {
    let computed = vec!["visits_7d".to_string()];
    let e = compile_with(rule, Some(&computed)).err().unwrap_or_else(|| panic!("expected an error"));
    assert_eq!(e.kind, ErrorKind::Rule);
    (e.path, e.message)
}

#[test]
fn compile_errors_point_into_the_rule() {
    let cases = [
        (json!({"frobnicate": [1]}), "/frobnicate", "unknown operator \"frobnicate\""),
        (json!({"and": [true, {"nope": 1}]}), "/and/1/nope", "unknown operator \"nope\""),
        (json!({"==": [1]}), "/==", "\"==\" takes 2 arguments, got 1"),
        (json!({"==": [1, 2, 3]}), "/==", "\"==\" takes 2 arguments, got 3"),
        (json!({"<": [1]}), "/<", "\"<\" takes 2 to 3 arguments, got 1"),
        (json!({"and": []}), "/and", "\"and\" takes at least 1 argument, got 0"),
        (json!({"!": []}), "/!", "\"!\" takes 1 argument, got 0"),
        (json!({"var": ["a", 1, 2]}), "/var", "\"var\" takes 0 to 2 arguments, got 3"),
        (json!({"and": [true, {"var": "computed.nope"}]}), "/and/1/var", "unknown computed value \"nope\""),
        (json!({"var": ["computed.nope", 0]}), "/var/0", "unknown computed value \"nope\""),
        (json!({"missing": ["computed.x"]}), "/missing/0", "unknown computed value \"x\""),
        (
            json!({"missing_some": [1, ["computed.visits_7d", "computed.y"]]}),
            "/missing_some/1/1",
            "unknown computed value \"y\"",
        ),
        (json!({"audience": "c"}), "/audience", "unknown audience \"c\""),
        (json!({"audience": 1}), "/audience", "\"audience\" takes one audience name"),
        (json!({"audience": ["a", "b"]}), "/audience", "\"audience\" takes one audience name"),
        (
            json!({"ago": "7w"}),
            "/ago",
            "\"ago\" takes a duration like \"7d\" (<n><unit>, unit s, m, h or d), not \"7w\"",
        ),
        (json!({"ago": 7}), "/ago", "\"ago\" takes one duration like \"7d\""),
        (json!({"if": [true, {"a/b~": 1}]}), "/if/1/a~1b~0", "unknown operator \"a/b~\""),
        (json!([1, {"?": 2}]), "/1/?", "unknown operator \"?\""),
    ];
    for (rule, path, message) in cases {
        let (p, m) = error(rule.clone());
        assert_eq!((p.as_str(), m.as_str()), (path, message), "{rule}");
    }
}

#[test]
fn known_names_compile() {
    let computed = vec!["visits_7d".to_string()];
    for rule in [
        json!({"var": "computed.visits_7d"}),
        json!({"var": "computed"}),
        json!({"var": "attributes.x"}),
        json!({"missing": ["computed.visits_7d"]}),
        json!({"and": [{"audience": "a"}, {"audience": ["b"]}]}),
        json!({"ago": "1s"}),
    ] {
        assert!(compile_with(rule.clone(), Some(&computed)).is_ok(), "{rule}");
    }
    // Without a list of computed names, any is accepted.
    assert!(compile_with(json!({"var": "computed.anything"}), None).is_ok());
}

#[test]
fn nesting_is_bounded() {
    let nest = |levels: usize| (0..levels).fold(json!(true), |inner, _| json!({ "!": [inner] }));
    assert!(Rule::compile(&nest(255), &Names::default()).is_ok());
    let e = Rule::compile(&nest(300), &Names::default()).err().unwrap_or_else(|| panic!("too deep"));
    assert_eq!(e.message, "rule is nested too deeply (more than 256 levels)");
    assert!(e.path.starts_with("/!/0/!/0"));
    let arrays = (0..300).fold(json!(1), |inner, _| json!([inner]));
    assert!(Rule::compile(&arrays, &Names::default()).is_err());
}

#[test]
fn constants_are_folded() {
    let folded = |rule: Value| Rule::compile(&rule, &Names::default()).ok().and_then(|r| r.constant());
    assert_eq!(folded(json!({"+": [1, 1]})), Some(json!(2)));
    assert_eq!(folded(json!({"*": [{"+": [1, 2]}, "2"]})), Some(json!(6)));
    let pie: Value = serde_json::from_str(r#"{"cat": ["I love", " pie ", 3.14]}"#).unwrap_or_default();
    assert_eq!(folded(pie), Some(json!("I love pie 3.14")));
    assert_eq!(folded(json!({"and": [true, {"<": [1, 2, 3]}]})), Some(json!(true)));
    assert_eq!(folded(json!({"map": [[1, 2], {"*": [2, 3]}]})), Some(json!([6, 6])));
    assert_eq!(folded(json!({"/": [1, 0]})), Some(Value::Null));
    // A folded infinity is still infinite where it is used.
    assert_eq!(folded(json!({">": [{"/": [1, 0]}, 1e300]})), Some(json!(true)));
    assert_eq!(folded(json!({"var": "x"})), None);
    assert_eq!(folded(json!({"missing": ["x"]})), None);
    assert_eq!(folded(json!({"ago": "1d"})), None);

    let node = |rule: Value| Rule::compile(&rule, &Names::default()).map(|r| r.node).ok();
    // Operands that cannot decide are dropped, a deciding one ends the list.
    assert!(matches!(node(json!({"and": [true, 1, {"var": "x"}]})), Some(Node::Var(_))));
    assert!(matches!(node(json!({"or": [0, "", {"var": "x"}]})), Some(Node::Var(_))));
    assert!(
        matches!(node(json!({"and": [{"var": "x"}, false, {"var": "y"}]})), Some(Node::Op(_, args)) if args.len() == 2)
    );
    assert!(matches!(node(json!({"if": [false, 1, true, {"var": "x"}, 3]})), Some(Node::Var(_))));
    assert!(
        matches!(node(json!({"if": [{"var": "c"}, 1, false, 2, 3]})), Some(Node::Op(_, args)) if args.len() == 3)
    );
    assert!(matches!(node(json!([1, {"+": [1, 1]}])), Some(Node::Const(v)) if v == json!([1, 2])));
    assert!(
        matches!(node(json!({"var": {"cat": ["a", ".b"]}})), Some(Node::Var(v)) if matches!(&v.path, compile::Path::Segs(s) if s.segs.len() == 2))
    );
    assert!(matches!(node(json!({"*": [{"var": "x"}]})), Some(Node::Var(_))));
}

#[test]
fn numbers_and_strings_follow_js() {
    assert_eq!(run(json!({"+": [1, 1]}), Value::Null).to_string(), "2");
    assert_eq!(run(json!({"/": [1, 3]}), Value::Null), json!(1.0 / 3.0));
    assert_eq!(run(json!({"-": ["a", 1]}), Value::Null), Value::Null);
    assert_eq!(run(json!({"+": ["3.5kg", " 1"]}), Value::Null), json!(4.5));
    assert_eq!(run(json!({"*": ["1"]}), Value::Null), json!("1"));
    assert_eq!(run(json!({"-": ["-5"]}), Value::Null), json!(5));
    assert_eq!(run(json!({"%": [-7, 3]}), Value::Null), json!(-1));
    assert_eq!(run(json!({"max": ["3", 1, {"var": "n"}]}), json!({"n": 2})), json!(3));
    assert_eq!(run(json!({"min": [1, "x"]}), Value::Null), Value::Null);
    assert_eq!(
        run(
            json!({"cat": [1e21, " ", 1e-7, " ", null, [1, [2, null]], {"var": "o"}]}),
            json!({"o": {"k": 1}})
        ),
        json!("1e+21 1e-7 1,2,[object Object]")
    );
    assert_eq!(run(json!({"==": [[], false]}), Value::Null), json!(true));
    assert_eq!(run(json!({"==": [[1, 2], "1,2"]}), Value::Null), json!(true));
    assert_eq!(run(json!({"==": [null, 0]}), Value::Null), json!(false));
    assert_eq!(run(json!({"==": [" 1 ", true]}), Value::Null), json!(true));
    assert_eq!(run(json!({"==": [[1], [1]]}), Value::Null), json!(false));
    assert_eq!(run(json!({"===": [{"var": "a"}, {"var": "a"}]}), json!({"a": [1]})), json!(true));
    assert_eq!(run(json!({"<": ["10", "9"]}), Value::Null), json!(true));
    assert_eq!(run(json!({"<": ["10", 9]}), Value::Null), json!(false));
    assert_eq!(run(json!({"<=": [1, {"var": "x"}, 3]}), json!({"x": "2"})), json!(true));
    assert_eq!(run(json!({"in": [1, "a1"]}), Value::Null), json!(true));
    assert_eq!(run(json!({"in": ["", ""]}), Value::Null), json!(false));
    assert_eq!(run(json!({"in": [{"var": "a.0"}, {"var": "a"}]}), json!({"a": [[1]]})), json!(true));
    assert_eq!(run(json!({"substr": ["héllo wörld", -5, 3]}), Value::Null), json!("wör"));
    assert_eq!(run(json!({"substr": ["héllo", 1, -1.5]}), Value::Null), json!("él"));
    assert_eq!(run(json!({"substr": ["héllo", 1, "-1"]}), Value::Null), json!(""));
    assert_eq!(run(json!({"substr": [null, 0, 2]}), Value::Null), json!("nu"));
    assert_eq!(run(json!({"substr": ["😀é", 1]}), Value::Null), json!("é"));
}

#[test]
fn var_reads_like_json_logic_js() {
    let data = json!({"a": {"b": [10, {"c": "deep"}]}, "s": "héllo", "n": null, "1": "one"});
    assert_eq!(run(json!({"var": "a.b.1.c"}), data.clone()), json!("deep"));
    assert_eq!(run(json!({"var": "a.b.01"}), data.clone()), Value::Null);
    assert_eq!(run(json!({"var": "a.b.length"}), data.clone()), json!(2));
    assert_eq!(run(json!({"var": "s.1"}), data.clone()), json!("é"));
    assert_eq!(run(json!({"var": "s.length"}), data.clone()), json!(5));
    assert_eq!(run(json!({"var": 1}), data.clone()), json!("one"));
    assert_eq!(run(json!({"var": ["n", "dflt"]}), data.clone()), Value::Null);
    assert_eq!(run(json!({"var": ["n.x", "dflt"]}), data.clone()), json!("dflt"));
    assert_eq!(run(json!({"var": [{"cat": ["a", ".b.", 0]}]}), data.clone()), json!(10));
    assert_eq!(run(json!({"var": ""}), json!(5)), json!(5));
    assert_eq!(run(json!({"missing": [["a", "x"], "zz"]}), data.clone()), json!(["x"]));
    // A key that is itself an array is `var`'s argument list: path and default.
    assert_eq!(run(json!({"missing": [[["q", "dflt"], "a", "zz"]]}), data.clone()), json!(["zz"]));
    assert_eq!(run(json!({"missing": ["n", "s", "q"]}), data.clone()), json!(["n", "q"]));
    assert_eq!(run(json!({"missing_some": [1, [["q", "r"]]]}), data), json!(["q", "r"]));
}

#[test]
fn scoped_operations() {
    let data = json!({"xs": [1, 2, 3], "os": [{"q": 1}, {"q": 2}]});
    assert_eq!(
        run(json!({"reduce": [{"var": "xs"}, {"var": "accumulator"}, {"var": "os"}]}), data.clone()),
        data["os"]
    );
    assert_eq!(
        run(
            json!({"reduce": [{"var": "os"}, {"+": [{"var": "accumulator"}, {"var": "current.q"}]}, 10]}),
            data.clone()
        ),
        json!(13)
    );
    assert_eq!(
        run(json!({"reduce": [{"var": "xs"}, {"var": ""}]}), data.clone()),
        json!({"current": 3, "accumulator": {"current": 2, "accumulator": {"current": 1, "accumulator": null}}})
    );
    assert_eq!(
        run(json!({"reduce": [{"var": "xs"}, {"/": [{"var": "current"}, 0]}]}), data.clone()),
        Value::Null
    );
    assert_eq!(
        run(
            json!({"filter": [{"map": [{"var": "xs"}, {"*": [{"var": ""}, 2]}]}, {">": [{"var": ""}, 2]}]}),
            data.clone()
        ),
        json!([4, 6])
    );
    assert_eq!(run(json!({"all": [{"var": "nope"}, true]}), data.clone()), json!(false));
    assert_eq!(run(json!({"none": [{"var": "nope"}, true]}), data.clone()), json!(true));
    assert_eq!(run(json!({"some": [{"var": "os"}, {"==": [{"var": "q"}, 2]}]}), data), json!(true));
}

#[test]
fn ago_is_now_minus_the_duration() {
    let rule = Rule::compile(&json!({"ago": "7d"}), &Names::default()).unwrap_or_else(|e| panic!("{e}"));
    let scope = Scope::new(&Value::Null, 1_000_000_000_000, &[]);
    assert_eq!(rule.evaluate(&scope), json!(1_000_000_000_000i64 - 7 * 86_400_000));
    let recent = Rule::compile(&json!({">": [{"var": "last_seen"}, {"ago": "30m"}]}), &Names::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let data = json!({"last_seen": 1_000_000_000_000i64 - 60_000});
    assert!(recent.test(&Scope::new(&data, scope.now, &[])));
    assert!(!recent.test(&Scope::new(&data, 1_000_000_000_000 + 30 * 60_000, &[])));
    for bad in ["", "d", "7", "7w", "-1d", "1.5h", "lifetime", "99999999999999999d", " 7d"] {
        assert!(Rule::compile(&json!({"ago": bad}), &Names::default()).is_err(), "{bad:?}");
    }
    let ms = |d: &str| {
        Rule::compile(&json!({"ago": d}), &Names::default())
            .map(|r| r.evaluate(&Scope::new(&Value::Null, 0, &[])))
    };
    assert_eq!(ms("90s"), Ok(json!(-90_000)));
    assert_eq!(ms("2h"), Ok(json!(-7_200_000)));
}

#[test]
fn audiences_use_each_other() {
    let audiences = vec![
        ("loyal".to_string(), json!({">=": [{"var": "visits"}, 3]})),
        ("big_spender".to_string(), json!({">": [{"var": "computed.spend"}, 100]})),
        ("vip".to_string(), json!({"and": [{"audience": "loyal"}, {"audience": "big_spender"}]})),
    ];
    let computed = vec!["spend".to_string()];
    let rules = compile_audiences(&audiences, Some(&computed), None).unwrap_or_else(|e| panic!("{e:?}"));
    let data = json!({"visits": 4, "computed": {"spend": 150}});
    let scope = Scope::new(&data, 0, &rules);
    assert!(rules.iter().all(|r| r.test(&scope)));
    let data = json!({"visits": 4, "computed": {"spend": 50}});
    let scope = Scope::new(&data, 0, &rules);
    assert!(rules.first().is_some_and(|r| r.test(&scope)));
    assert!(!rules.get(2).is_some_and(|r| r.test(&scope)));
    // An audience inside a scoped operation still sees the whole data.
    let names: Vec<String> = audiences.iter().map(|(n, _)| n.clone()).collect();
    let rule = Rule::compile(
        &json!({"some": [[1, 2], {"audience": "loyal"}]}),
        &Names { audiences: &names, computed: None, paths: None },
    );
    assert!(rule.is_ok_and(|r| r.evaluate(&scope) == json!(true)));
}

#[test]
fn shared_audiences_are_evaluated_once() {
    // a1 uses a0 twice, a2 uses a1 twice…: 2^60 paths, 60 evaluations.
    let mut audiences = vec![("a0".to_string(), json!({"var": "ok"}))];
    for i in 1..=60 {
        let prev = format!("a{}", i - 1);
        audiences.push((format!("a{i}"), json!({"and": [{"audience": prev}, {"audience": prev}]})));
    }
    let rules = compile_audiences(&audiences, None, None).unwrap_or_else(|e| panic!("{e:?}"));
    let data = json!({"ok": true});
    let scope = Scope::new(&data, 0, &rules);
    assert!(rules.last().is_some_and(|r| r.test(&scope)));
}

#[test]
fn audience_errors_are_all_reported() {
    let audiences = vec![
        ("a".to_string(), json!({"audience": "b"})),
        ("b".to_string(), json!({"or": [{"audience": "c"}, {"audience": "a"}]})),
        ("c".to_string(), json!({"==": [1]})),
        ("self".to_string(), json!({"!": {"audience": "self"}})),
        ("d".to_string(), json!({"audience": "nobody"})),
        ("e".to_string(), json!({"var": "computed.nope"})),
    ];
    let errors = compile_audiences(&audiences, Some(&[]), None).err().unwrap_or_default();
    let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("/c/==", "\"==\" takes 2 arguments, got 1"),
            ("/d/audience", "unknown audience \"nobody\""),
            ("/e/var", "unknown computed value \"nope\""),
            ("/a", "audience cycle: a -> b -> a"),
            ("/self", "audience cycle: self -> self"),
        ]
    );
    let dup = vec![("x".to_string(), json!(true)), ("x".to_string(), json!(false))];
    let errors = compile_audiences(&dup, None, None).err().unwrap_or_default();
    assert_eq!(
        errors.first().map(|e| (e.path.as_str(), e.message.as_str())),
        Some(("/x", "duplicate audience \"x\""))
    );
    assert_eq!(compile_audiences(&[], None, None).map(|r| r.len()), Ok(0));
}

#[test]
fn audience_chains_are_bounded() {
    // A chain of audiences each nesting 100 levels: fine for a few, refused when too deep.
    let deep = |next: Option<String>| {
        let leaf = next.map_or(json!(true), |n| json!({ "audience": n }));
        (0..99).fold(leaf, |inner, _| json!({ "!!": inner }))
    };
    let chain = |n: usize| -> Vec<(String, Value)> {
        (0..n).map(|i| (format!("x{i}"), deep((i + 1 < n).then(|| format!("x{}", i + 1))))).collect()
    };
    assert!(compile_audiences(&chain(4), None, None).is_ok());
    let errors = compile_audiences(&chain(8), None, None).err().unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert!(errors.first().is_some_and(|e| e.message.starts_with("audience nests too deeply")), "{errors:?}");

    // Audiences that do not match the names they were compiled with cannot loop forever.
    let names = vec!["loop".to_string()];
    let looped = Rule::compile(
        &json!({"audience": "loop"}),
        &Names { audiences: &names, computed: None, paths: None },
    );
    let looped = vec![looped.unwrap_or_else(|e| panic!("{e}"))];
    let scope = Scope::new(&Value::Null, 0, &looped);
    assert!(looped.first().is_some_and(|r| !r.test(&scope)));
}

#[test]
fn eval_line_answers_one_line() {
    assert_eq!(eval_line(r#"{"rule": {"+": [1, 1]}, "data": null}"#), r#"{"result":2}"#);
    assert_eq!(eval_line(r#"{"rule": {"var": "a"}, "data": {"a": [1, "x"]}}"#), r#"{"result":[1,"x"]}"#);
    assert_eq!(eval_line(r#"{"rule": {"ago": "1s"}, "data": {}, "now": 5000}"#), r#"{"result":4000}"#);
    assert_eq!(eval_line(r#"{"rule": {"ago": "1s"}, "data": {"now": 3000}}"#), r#"{"result":2000}"#);
    assert_eq!(
        eval_line(r#"{"rule": {"nope": []}, "data": {}}"#),
        r#"{"error":"/nope: unknown operator \"nope\""}"#
    );
    assert_eq!(
        eval_line(r#"{"rule": {"audience": "x"}}"#),
        r#"{"error":"/audience: unknown audience \"x\""}"#
    );
    assert_eq!(eval_line(r#"{"data": {}}"#), r#"{"error":"expected an object with \"rule\" and \"data\""}"#);
    assert_eq!(eval_line(r#"{"rule": 1, "now": "soon"}"#), r#"{"error":"\"now\" must be an integer (ms)"}"#);
    assert!(eval_line("{not json").starts_with(r#"{"error":"invalid JSON: "#));
    assert!(eval_line("").starts_with(r#"{"error":"invalid JSON: "#));
}

/// A small deterministic generator of random JSON rules and data (xorshift64*).
struct Gen(u64);

const OPS: &[&str] = &[
    "var",
    "var",
    "var",
    "missing",
    "missing_some",
    "if",
    "?:",
    "==",
    "===",
    "!=",
    "!==",
    "!",
    "!!",
    "or",
    "and",
    ">",
    ">=",
    "<",
    "<=",
    "max",
    "min",
    "+",
    "-",
    "*",
    "/",
    "%",
    "map",
    "filter",
    "reduce",
    "all",
    "none",
    "some",
    "merge",
    "in",
    "cat",
    "substr",
    "log",
    "audience",
    "ago",
    "bogus",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "b",
    "a.b",
    "x.0",
    "0",
    "1",
    "-1",
    " 2 ",
    "1e3",
    "1e400",
    "-0",
    "0x1f",
    "NaN",
    "Infinity",
    ".",
    "..",
    "length",
    "computed.c",
    "computed.zz",
    "😀",
    "é",
    "\u{2028}",
    "7d",
    "30m",
    "1s",
    "\u{0}",
    "current",
    "accumulator",
];

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from.get(self.below(from.len())).copied().unwrap_or("")
    }

    fn number(&mut self) -> Value {
        match self.below(6) {
            0 => json!(self.below(10)),
            1 => json!(-(self.below(1000) as i64)),
            2 => crate::json::Number::from_f64(f64::from_bits(self.next()) % 1e6)
                .map_or(Value::Null, Value::Number),
            3 => json!(u64::MAX - self.below(3) as u64),
            4 => json!(i64::MIN),
            _ => json!([0.5, 1e-7, 1e21, 1.7976931348623157e308, 5e-324, -0.0][self.below(6)]),
        }
    }

    fn scalar(&mut self) -> Value {
        match self.below(5) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => self.number(),
            _ => {
                let s = self.pick(STRINGS);
                let extra = self.below(3);
                Value::String(format!("{s}{}", self.pick(STRINGS).repeat(extra)))
            }
        }
    }

    fn value(&mut self, depth: usize) -> Value {
        if depth == 0 {
            return self.scalar();
        }
        match self.below(6) {
            0 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
            1 => {
                let mut m = Map::new();
                for _ in 0..self.below(4) {
                    m.insert(self.pick(STRINGS).into(), self.value(depth - 1));
                }
                Value::Object(m)
            }
            _ => self.scalar(),
        }
    }

    fn rule(&mut self, depth: usize) -> Value {
        if depth == 0 || self.below(4) == 0 {
            return self.value(2);
        }
        let op = self.pick(OPS);
        let args: Vec<Value> = (0..self.below(5)).map(|_| self.rule(depth - 1)).collect();
        let args = match (op, self.below(3)) {
            ("var", 0) => json!(self.pick(STRINGS)),
            ("audience", 0) => json!(["a", "b", "c"][self.below(3)]),
            ("ago", 0) => json!(self.pick(STRINGS)),
            (_, 1) if !args.is_empty() => args.into_iter().next().unwrap_or(Value::Null),
            _ => Value::Array(args),
        };
        let mut m = Map::new();
        m.insert(op.into(), args);
        Value::Object(m)
    }
}

#[test]
fn random_rules_never_panic() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let audience_names = names();
    let computed = vec!["c".to_string()];
    let audiences = compile_audiences(
        &[("a".into(), json!({"var": "a"})), ("b".into(), json!({"!": {"audience": "a"}}))],
        Some(&computed),
        None,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    // Long-lived scopes whose memo many rules fill, against a fresh scope per evaluation.
    let datas: Vec<Value> = (0..16).map(|_| g.value(4)).collect();
    let now = g.next() as i64;
    let kept: Vec<Scope> = datas.iter().map(|d| Scope::new(d, now, &audiences)).collect();
    let shared = Paths::default();
    let mut compiled = 0;
    for i in 0..20_000 {
        let rule = g.rule(1 + i % 7);
        let data = &datas[i % datas.len()];
        let computed = if i % 2 == 0 { Some(computed.as_slice()) } else { None };
        let names = Names { audiences: &audience_names, computed, paths: None };
        if let Ok(r) = Rule::compile(&rule, &names) {
            compiled += 1;
            let scope = Scope::new(data, now, &audiences);
            let v = r.evaluate(&scope);
            // (An infinite result is truthy, though JSON writes it as null.)
            assert!(v.is_null() || r.test(&scope) == truthy(&v), "{rule} on {data}");
            if let Some(c) = r.constant() {
                assert_eq!(c, v, "{rule}");
            }
            let with_shared = Rule::compile(&rule, &Names { paths: Some(&shared), ..names });
            let with_shared = with_shared.unwrap_or_else(|e| panic!("{rule}: {e}"));
            let scope = &kept[i % datas.len()];
            assert_eq!(with_shared.evaluate(scope), v, "{rule} on {data}, shared paths");
            assert_eq!(r.evaluate(scope), v, "{rule} on {data}, a scope other rules filled");
        }
        let line = json!({"rule": rule, "data": data}).to_string();
        let out: Value = serde_json::from_str(&eval_line(&line)).unwrap_or_default();
        assert!(out.get("result").is_some() || out.get("error").is_some_and(Value::is_string), "{line}");
    }
    // The generator must reach the evaluator, not only the error paths.
    assert!(compiled > 5_000, "only {compiled} rules compiled");
}

#[test]
fn huge_inputs_stay_linear() {
    let big: Vec<Value> = (0..100_000).map(|i| json!(i)).collect();
    let data = json!({ "xs": big });
    let sum = run(
        json!({"reduce": [{"var": "xs"}, {"+": [{"var": "accumulator"}, {"var": "current"}]}, 0]}),
        data.clone(),
    );
    assert_eq!(sum, json!(4_999_950_000i64));
    let kept = run(json!({"reduce": [{"var": "xs"}, {"var": "accumulator"}, {"var": "xs"}]}), data.clone());
    assert_eq!(kept.as_array().map(Vec::len), Some(100_000));
    let evens = run(json!({"filter": [{"var": "xs"}, {"!": {"%": [{"var": ""}, 2]}}]}), data.clone());
    assert_eq!(evens.as_array().map(Vec::len), Some(50_000));
    // Accumulators that nest themselves stop at 128 levels instead of exhausting the stack.
    let nested = run(json!({"reduce": [{"var": "xs"}, [{"var": "accumulator"}], 0]}), data.clone());
    assert_eq!(nested, Value::Null);
    let wrapped = run(json!({"reduce": [{"var": "xs"}, {"var": ""}]}), data.clone());
    assert_eq!(wrapped, Value::Null);
    let shallow = json!({"xs": [1, 2, 3]});
    assert_eq!(run(json!({"reduce": [{"var": "xs"}, [{"var": "accumulator"}], 0]}), shallow), json!([[[0]]]));
    // A long `in` list answers each probe once, not once per string (quadratic before): strings
    // that share their length and first eight bytes with the value, and values of other kinds.
    let list: Vec<Value> = (0..20_000).map(|i| json!(format!("prefix::{i:05}"))).collect();
    let rule = Rule::compile(&json!({"in": [{"var": "c"}, list]}), &Names::default())
        .unwrap_or_else(|e| panic!("{e}"));
    for (c, expected) in [
        (json!("prefix::19999"), true),
        (json!("prefix::2000x"), false),
        (json!(7), false),
        (json!(null), false),
    ] {
        let data = json!({ "c": c });
        assert_eq!(rule.test(&Scope::new(&data, 0, &[])), expected, "{c}");
    }
    let long = "é".repeat(100_000);
    assert_eq!(run(json!({"substr": [long, -2]}), Value::Null), json!("éé"));
}

#[test]
fn tests_of_a_path_and_a_constant_answer_as_the_generic_operations() {
    // One path collects every constant's probes, listed up to 256: the long strings (which
    // share their first eight bytes) and the lists come first so that they are among them.
    let values = [
        json!(null),
        json!("abcdefghij"),
        json!("abcdefghik"),
        json!(["abcdefghij", "a"]),
        json!(["1", "b"]),
        json!(-0.0),
        json!(true),
        json!(false),
        json!(0),
        json!(1),
        json!(1.5),
        json!(-2),
        json!(""),
        json!("1"),
        json!("1.5"),
        json!("a"),
        json!("ab"),
        json!("b"),
        json!("true"),
        json!([]),
        json!([1]),
        json!(["a", "b"]),
        json!([1, "1", true]),
        json!({}),
        json!({"a": 1, "b": 2}),
    ];
    let ops = ["==", "===", "!=", "!==", ">", ">=", "<", "<=", "in"];
    let shared = Paths::default();
    let names = Names { paths: Some(&shared), ..Names::default() };
    let mut specialised = 0;
    for x in &values {
        for k in &values {
            let data = json!({"x": x, "k": k});
            let scope = Scope::new(&data, 0, &[]);
            for op in ops {
                for (quick, generic) in [
                    (json!({op: [{"var": "x"}, k]}), json!({op: [{"var": "x"}, {"var": "k"}]})),
                    (json!({op: [k, {"var": "x"}]}), json!({op: [{"var": "k"}, {"var": "x"}]})),
                ] {
                    let quick = Rule::compile(&quick, &names).unwrap_or_else(|e| panic!("{quick}: {e}"));
                    let generic = Rule::compile(&generic, &names).unwrap_or_else(|e| panic!("{e}"));
                    specialised += usize::from(is_test(&quick.node));
                    assert!(matches!(generic.node, Node::Op(..)));
                    assert_eq!(quick.evaluate(&scope), generic.evaluate(&scope), "{op} {x} {k}");
                    assert_eq!(quick.test(&scope), generic.test(&scope), "{op} {x} {k}");
                }
            }
        }
    }
    // Constants that are single-key objects would be operations; the rest are specialised, when
    // the index answers them (without it, comparisons stay generic operations).
    if cfg!(feature = "index") {
        assert!(specialised > 6_000, "{specialised}");
    } else {
        assert_eq!(specialised, 0);
    }
}

/// Whether `n` is a `Node::Test`, which only the `index` feature makes.
#[cfg(feature = "index")]
fn is_test(n: &Node) -> bool {
    matches!(n, Node::Test(_))
}

#[cfg(not(feature = "index"))]
fn is_test(_: &Node) -> bool {
    false
}

#[test]
fn compiled_rules_and_bundles_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Rule>();
    shared::<crate::Bundle>();
}

#[test]
fn long_conjunctions_compile_quickly_and_answer_as_trees() {
    let names = Names::default();
    let test = json!({"==": [{"var": "a"}, 1]});
    let long = json!({"and": vec![test.clone(); 3_000]});
    let rule = Rule::compile(&long, &names).unwrap_or_else(|e| panic!("{e}"));
    for (a, expected) in [(1, true), (2, false)] {
        let data = json!({ "a": a });
        assert_eq!(rule.test(&Scope::new(&data, 0, &[])), expected);
    }
    // Distinct tests past the longest conjunction kept as bits: walked as a tree, same answers.
    let distinct: Vec<Value> = (0..100).map(|i| json!({"!=": [{"var": "a"}, i]})).collect();
    let rule = Rule::compile(&json!({ "and": distinct }), &names).unwrap_or_else(|e| panic!("{e}"));
    assert!(rule.test(&Scope::new(&json!({"a": 100}), 0, &[])));
    assert!(!rule.test(&Scope::new(&json!({"a": 7}), 0, &[])));
    // `t and not t` never holds; `not (a or b)` is `not a and not b`.
    let never = json!({"and": [test, {"!": test}]});
    let never = Rule::compile(&never, &names).unwrap_or_else(|e| panic!("{e}"));
    let neither = json!({"!": {"or": [{"==": [{"var": "a"}, 1]}, {"==": [{"var": "b"}, 2]}]}});
    let neither = Rule::compile(&neither, &names).unwrap_or_else(|e| panic!("{e}"));
    for (a, b) in [(1, 2), (1, 0), (0, 2), (0, 0)] {
        let data = json!({ "a": a, "b": b });
        let scope = Scope::new(&data, 0, &[]);
        assert!(!never.test(&scope));
        assert_eq!(neither.test(&scope), a != 1 && b != 2, "{data}");
    }
}

#[test]
fn a_scope_answers_every_listed_probe_once_and_again_after_more_are_listed() {
    let paths = Paths::default();
    let shared = Names { paths: Some(&paths), ..Names::default() };
    let compile = |rule: Value, names: &Names| Rule::compile(&rule, names).unwrap_or_else(|e| panic!("{e}"));
    // Computed values (a string's length and characters, an array's length) are answered too.
    let rules = [
        json!({"and": [{"==": [{"var": "s.length"}, 3]}, {">=": [{"var": "xs.length"}, 2]}]}),
        json!({"or": [{"==": [{"var": "s.0"}, "a"]}, {"<": [{"var": "n"}, 0]}]}),
        json!({"!": {"in": ["b", {"var": "s"}]}}),
        json!({"in": [{"var": "missing.path"}, ["x", "y"]]}),
    ];
    let datas =
        [json!({"s": "abc", "xs": [1, 2], "n": 1}), json!({"s": "xbcd", "xs": [], "n": -1}), json!(null)];
    for data in &datas {
        let scope = Scope::new(data, 0, &[]);
        let mut kept = Vec::new();
        for rule in &rules {
            // A rule compiled after the scope answered the others' probes lists more of them.
            kept.push(compile(rule.clone(), &shared));
            for r in &kept {
                // `evaluate` walks the tree, asking each test on its own.
                assert_eq!(r.test(&scope), truthy(&r.evaluate(&Scope::new(data, 0, &[]))), "{data}");
            }
        }
        let answers: Vec<bool> = kept.iter().map(|r| r.test(&scope)).collect();
        let fresh: Vec<bool> =
            rules.iter().map(|r| compile(r.clone(), &Names::default()).test(&scope)).collect();
        assert_eq!(answers, fresh, "{data}");
    }
}

#[test]
fn a_paths_probes_answered_together_answer_as_the_generic_operations() {
    // Many probes of one path, answered through its index (numbers by region, strings by key),
    // for values at, between, beside and beyond their constants, and of every other kind.
    let numbers: [f64; 9] = [-f64::MAX, -3.0, -1.0, 0.0, 0.5, 2.0, 7.0, 1e9, f64::MAX];
    let strings = ["a", "ab", "abcdefghi", "abcdefghij", "abcdefghik", "US", "CA"];
    let mut constants: Vec<Value> = numbers.iter().map(|n| json!(n)).collect();
    constants.extend(strings.iter().map(|s| json!(s)));
    constants.extend([json!(["US", "CA"]), json!(["ab", "abcdefghij"]), json!(true), json!("1"), json!([])]);
    constants.push(json!(["abcdefghij", "abcdefghik", "abcdefghij", "US"]));
    let mut values: Vec<Value> = (-24..=44).map(|i| json!(f64::from(i) / 4.0)).collect();
    values.extend(numbers.iter().flat_map(|n| [json!(n.next_up()), json!(n.next_down())]));
    values.extend([json!(1e300), json!(-1e300), json!(-0.0), json!(f64::MAX), json!(-f64::MAX)]);
    values.extend(strings.iter().map(|s| json!(s)));
    values.extend([json!("abcdefghz"), json!("abcdefghix"), json!(""), json!("zz"), json!("1")]);
    values.extend([json!(["a", "US"]), json!([]), json!(true), json!(false), json!(null), json!({})]);
    let ops = ["==", "===", "!=", "!==", ">", ">=", "<", "<=", "in"];
    let shared = Paths::default();
    let names = Names { paths: Some(&shared), ..Names::default() };
    let compile = |rule: &Value| Rule::compile(rule, &names).unwrap_or_else(|e| panic!("{rule}: {e}"));
    // Each path holds the probes of one operation (both ways round) and of every constant, and
    // "all" holds them all.
    let mut rules = Vec::new();
    for k in &constants {
        for op in ops {
            for path in [op, "all"] {
                let (var, other) = (json!({ "var": path }), json!({"var": "k"}));
                rules.push((compile(&json!({op: [var, k]})), json!({op: [{"var": "x"}, other]}), k));
                rules.push((compile(&json!({op: [k, var]})), json!({op: [other, {"var": "x"}]}), k));
            }
        }
    }
    for x in &values {
        let mut data = json!({ "all": x });
        for op in ops {
            data.as_object_mut().unwrap().insert(op.to_string(), x.clone());
        }
        let scope = Scope::new(&data, 0, &[]);
        for (rule, generic, k) in &rules {
            let with_k = json!({"x": x, "k": k});
            let expected = compile(generic).test(&Scope::new(&with_k, 0, &[]));
            assert_eq!(rule.test(&scope), expected, "{generic} with x = {x}, k = {k}");
        }
    }
}

#[cfg(feature = "index")]
#[test]
fn string_keys_tell_short_strings_apart_and_order_them_as_bytes() {
    use super::probe::Key;
    let mut strings = vec![String::new()];
    for len in 1..=10 {
        for fill in ["a", "b", "\u{0}", "z"] {
            for last in ["a", "b", "\u{0}", "é"] {
                strings.push(format!("{}{last}", fill.repeat(len - 1)));
            }
        }
    }
    for a in &strings {
        for b in &strings {
            let (ka, kb) = (Key::of(a), Key::of(b));
            let same_head = a.len() == b.len() && a.as_bytes().iter().take(8).eq(b.as_bytes().iter().take(8));
            assert_eq!(ka == kb, same_head, "{a:?} {b:?}");
            assert_eq!(ka.order(a, kb, b), a.as_bytes().cmp(b.as_bytes()), "{a:?} {b:?}");
        }
    }
}
