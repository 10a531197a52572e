//! The JavaScript value semantics JsonLogic inherits from json-logic-js: `ToNumber`, `parseFloat`,
//! `ToString` (with JS number formatting), loose (`==`) and strict (`===`) equality and relational
//! comparison. Pure functions over [`Prim`], a borrowed JS-primitive view of an evaluated value.

use crate::json::{Number, Value};
use crate::util::push_uint;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::ptr;

/// A JS view of a value: arrays and objects stay references (JS compares them by identity).
pub(crate) enum Prim<'x> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'x, str>),
    Obj(&'x Value),
}

impl<'x> Prim<'x> {
    /// The view of a JSON value.
    pub(crate) fn of(v: &'x Value) -> Self {
        match v {
            Value::Null => Prim::Null,
            Value::Bool(b) => Prim::Bool(*b),
            Value::Number(n) => Prim::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Prim::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Prim::Obj(v),
        }
    }

    /// JS `ToPrimitive`: arrays and objects become their string form.
    fn primitive(self) -> Self {
        match self {
            Prim::Obj(v) => Prim::Str(Cow::Owned(obj_string(v))),
            p => p,
        }
    }
}

/// JS `ToNumber`.
pub(crate) fn to_number(p: &Prim) -> f64 {
    match p {
        Prim::Null => 0.0,
        Prim::Bool(b) => f64::from(u8::from(*b)),
        Prim::Num(f) => *f,
        Prim::Str(s) => str_number(s),
        Prim::Obj(v) => str_number(&obj_string(v)),
    }
}

/// JS `parseFloat` (of the value's string form).
pub(crate) fn parse_float(p: &Prim) -> f64 {
    match p {
        Prim::Num(f) => *f,
        Prim::Str(s) => parse_float_str(s),
        Prim::Obj(v) => parse_float_str(&obj_string(v)),
        Prim::Null | Prim::Bool(_) => f64::NAN,
    }
}

/// JS `ToIntegerOrInfinity` of a number.
pub(crate) fn to_integer(f: f64) -> f64 {
    if f.is_nan() {
        0.0
    } else {
        f.trunc()
    }
}

/// Appends JS `String(p)`.
pub(crate) fn push_string(out: &mut String, p: &Prim) {
    match p {
        Prim::Null => out.push_str("null"),
        Prim::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Prim::Num(f) => push_number(out, *f),
        Prim::Str(s) => out.push_str(s),
        Prim::Obj(v) => push_obj(out, v, 0),
    }
}

/// JS `String(p)`, borrowing when `p` already is a string.
pub(crate) fn string_of<'x>(p: Prim<'x>) -> Cow<'x, str> {
    match p {
        Prim::Str(s) => s,
        p => {
            let mut out = String::new();
            push_string(&mut out, &p);
            Cow::Owned(out)
        }
    }
}

/// Appends an element as `Array.prototype.join` does: `null` becomes the empty string.
pub(crate) fn push_joined(out: &mut String, p: &Prim) {
    if !matches!(p, Prim::Null) {
        push_string(out, p);
    }
}

/// `String(array)` is a comma join; any other object is `[object Object]`.
fn obj_string(v: &Value) -> String {
    let mut out = String::new();
    push_obj(&mut out, v, 0);
    out
}

/// Nested arrays deeper than this are left out of their string form (JSON input never nests so
/// deep; the bound only keeps a hand-built value from exhausting the stack).
const MAX_JOIN_DEPTH: u32 = 256;

fn push_obj(out: &mut String, v: &Value, depth: u32) {
    match v {
        Value::Array(items) if depth < MAX_JOIN_DEPTH => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match x {
                    Value::Null => {}
                    Value::Array(_) | Value::Object(_) => push_obj(out, x, depth + 1),
                    x => push_string(out, &Prim::of(x)),
                }
            }
        }
        Value::Array(_) => {}
        _ => out.push_str("[object Object]"),
    }
}

/// Appends a number formatted as JS `Number.prototype.toString()` does.
pub(crate) fn push_number(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 {
        out.push('0'); // -0 too
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        // Integral and exact: its digits are the shortest round trip too.
        if f < 0.0 {
            out.push('-');
        }
        push_uint(out, f.abs() as u64);
    } else {
        push_float(out, f);
    }
}

/// Lays out the shortest round-trip digits (from the JSON number writer, already linked) the
/// way ECMAScript's Number::toString does: plain up to 21 integer digits, down to 1e-6, else
/// exponential (`1e+21`, `1.5e-7`).
fn push_float(out: &mut String, f: f64) {
    let text = crate::json::text(&Value::from(f));
    let (neg, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (mantissa, exp) = match crate::util::split_once(text, b'e') {
        Some((m, e)) => (m, e.strip_prefix('+').unwrap_or(e)),
        None => (text, ""),
    };
    let exp = match exp.strip_prefix('-') {
        Some(e) => {
            -(e.bytes()
                .fold(0i32, |n, d| n.saturating_mul(10).saturating_add(i32::from(d.wrapping_sub(b'0')))))
        }
        None => exp
            .bytes()
            .fold(0i32, |n, d| n.saturating_mul(10).saturating_add(i32::from(d.wrapping_sub(b'0')))),
    };
    let mut digits: Vec<u8> = Vec::with_capacity(24);
    let mut point = None;
    for b in mantissa.bytes() {
        match b {
            b'.' => point = Some(digits.len()),
            b'0'..=b'9' => digits.push(b),
            _ => {}
        }
    }
    let mut n = point.unwrap_or(digits.len()) as i32 + exp;
    let lead = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..lead);
    n -= lead as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    let Some((&first, rest)) = digits.split_first() else {
        out.push('0');
        return;
    };
    if neg {
        out.push('-');
    }
    let k = digits.len() as i32;
    let push_digits = |out: &mut String, ds: &[u8]| ds.iter().for_each(|d| out.push(char::from(*d)));
    if k <= n && n <= 21 {
        push_digits(out, &digits);
        (0..n - k).for_each(|_| out.push('0'));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at_checked(n.unsigned_abs() as usize).unwrap_or((&digits, &[]));
        push_digits(out, int);
        out.push('.');
        push_digits(out, frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        (0..-n).for_each(|_| out.push('0'));
        push_digits(out, &digits);
    } else {
        out.push(char::from(first));
        if !rest.is_empty() {
            out.push('.');
            push_digits(out, rest);
        }
        out.push_str(if n > 0 { "e+" } else { "e-" });
        push_uint(out, u64::from((n - 1).unsigned_abs()));
    }
}

/// A JSON value for an f64 result: integral values in range become JSON integers, NaN and
/// infinities become `null` (as `JSON.stringify` writes them).
pub(crate) fn number_value(f: f64) -> Value {
    const I64_END: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.fract() == 0.0 {
        if (-I64_END..I64_END).contains(&f) {
            return Value::from(f as i64);
        }
        if (0.0..2.0 * I64_END).contains(&f) {
            return Value::from(f as u64);
        }
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// JS white space and line terminators, as `String.prototype.trim` and `ToNumber` skip them.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// JS `String.prototype.trim`.
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// JS `StringToNumber`: the whole trimmed string must be a number literal; `""` is 0.
pub(crate) fn str_number(s: &str) -> f64 {
    let t = trim(s);
    let b = t.as_bytes();
    let radix = match b {
        [] => return 0.0,
        [b'0', b'x' | b'X', ..] => 16,
        [b'0', b'o' | b'O', ..] => 8,
        [b'0', b'b' | b'B', ..] => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = t.get(2..).unwrap_or("");
        if digits.is_empty() {
            return f64::NAN;
        }
        let mut acc = 0.0f64;
        for c in digits.chars() {
            match c.to_digit(radix) {
                Some(d) => acc = acc * f64::from(radix) + f64::from(d),
                None => return f64::NAN,
            }
        }
        return acc;
    }
    if let Some(inf) = infinity(t, true) {
        return inf;
    }
    if decimal_prefix(b) == b.len() {
        parse_decimal(t)
    } else {
        f64::NAN
    }
}

/// JS `parseFloat` of a string: the longest decimal prefix after leading white space.
pub(crate) fn parse_float_str(s: &str) -> f64 {
    let t = s.trim_start_matches(is_js_space);
    if let Some(inf) = infinity(t, false) {
        return inf;
    }
    match decimal_prefix(t.as_bytes()) {
        0 => f64::NAN,
        n => parse_decimal(t.get(..n).unwrap_or("")),
    }
}

/// `[+-]Infinity`, exactly (`whole`) or as a prefix.
fn infinity(t: &str, whole: bool) -> Option<f64> {
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, t.get(1..)?),
        Some(b'+') => (1.0, t.get(1..)?),
        _ => (1.0, t),
    };
    let rest = rest.strip_prefix("Infinity")?;
    (!whole || rest.is_empty()).then_some(sign * f64::INFINITY)
}

/// Length of the longest prefix that is a `StrDecimalLiteral` (without `Infinity`), 0 if none.
fn decimal_prefix(b: &[u8]) -> usize {
    let digits_from = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let start = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let mut i = digits_from(start);
    let mut count = i - start;
    if b.get(i) == Some(&b'.') {
        let end = digits_from(i + 1);
        count += end - (i + 1);
        if count > 0 {
            i = end;
        }
    }
    if count == 0 {
        return 0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let from = i + 1 + usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let end = digits_from(from);
        if end > from {
            i = end;
        }
    }
    i
}

/// The value of a literal accepted by [`decimal_prefix`]: the nearest f64, by the JSON number
/// parser's conversion (so a string and the same JSON number always agree); past `f64::MAX`,
/// infinite, as in JS.
fn parse_decimal(lit: &str) -> f64 {
    let (sign, body) = match lit.as_bytes().first() {
        Some(b'-') => (-1.0, lit.get(1..).unwrap_or("")),
        Some(b'+') => (1.0, lit.get(1..).unwrap_or("")),
        _ => (1.0, lit),
    };
    if body.len() <= 15 && body.bytes().all(|b| b.is_ascii_digit()) {
        let n = body.bytes().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        return sign * n as f64;
    }
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(at) => (body.get(..at).unwrap_or(""), body.get(at + 1..).unwrap_or("")),
        None => (body, ""),
    };
    let (int, frac) = crate::util::split_once(mantissa, b'.').unwrap_or((mantissa, ""));
    let (negative, digits) = match exp.as_bytes() {
        [b'-', digits @ ..] => (true, digits),
        [b'+', digits @ ..] => (false, digits),
        digits => (false, digits),
    };
    let exp = crate::json::decimal::exponent(digits, negative);
    sign * crate::json::decimal::to_f64(int.as_bytes(), frac.as_bytes(), exp).unwrap_or(f64::INFINITY)
}

/// JS `a % b`: the exact remainder of truncating division, with the sign of `a` (the fdlibm/musl
/// algorithm on integer mantissas; no 128-bit arithmetic, so it stays small in Wasm).
pub(crate) fn remainder(x: f64, y: f64) -> f64 {
    let (mut ux, mut uy) = (x.to_bits(), y.to_bits());
    let mut ex = ((ux >> 52) & 0x7ff) as i32;
    let mut ey = ((uy >> 52) & 0x7ff) as i32;
    let sign = ux & (1 << 63);
    if uy << 1 == 0 || y.is_nan() || ex == 0x7ff {
        return f64::NAN;
    }
    if ux << 1 <= uy << 1 {
        return if ux << 1 == uy << 1 { 0.0 * x } else { x };
    }
    // Normalise both mantissas (subnormals included) to an explicit leading bit at 2^52.
    let normalise = |u: u64, e: &mut i32| -> u64 {
        if *e == 0 {
            let mut i = u << 12;
            while i >> 63 == 0 {
                *e -= 1;
                i <<= 1;
            }
            u.checked_shl((1 - *e).unsigned_abs()).unwrap_or(0)
        } else {
            (u & (u64::MAX >> 12)) | (1 << 52)
        }
    };
    ux = normalise(ux, &mut ex);
    uy = normalise(uy, &mut ey);
    while ex > ey {
        let i = ux.wrapping_sub(uy);
        if i >> 63 == 0 {
            if i == 0 {
                return 0.0 * x;
            }
            ux = i;
        }
        ux <<= 1;
        ex -= 1;
    }
    let i = ux.wrapping_sub(uy);
    if i >> 63 == 0 {
        if i == 0 {
            return 0.0 * x;
        }
        ux = i;
    }
    while ux >> 52 == 0 {
        ux <<= 1;
        ex -= 1;
    }
    if ex > 0 {
        ux -= 1 << 52;
        ux |= u64::from(ex.unsigned_abs()) << 52;
    } else {
        ux = ux.checked_shr((1 - ex).unsigned_abs()).unwrap_or(0);
    }
    f64::from_bits(ux | sign)
}

/// JS `x == y` over JSON values (`null` only equals `null`: there is no `undefined`).
pub(crate) fn loose_eq(a: Prim, b: Prim) -> bool {
    match (a, b) {
        (Prim::Null, Prim::Null) => true,
        (Prim::Null, _) | (_, Prim::Null) => false,
        (Prim::Bool(x), Prim::Bool(y)) => x == y,
        (Prim::Num(x), Prim::Num(y)) => x == y,
        (Prim::Str(x), Prim::Str(y)) => x == y,
        (Prim::Obj(x), Prim::Obj(y)) => ptr::eq(x, y),
        (Prim::Bool(x), y) => loose_eq(Prim::Num(f64::from(u8::from(x))), y),
        (x, Prim::Bool(y)) => loose_eq(x, Prim::Num(f64::from(u8::from(y)))),
        (x @ Prim::Obj(_), y) => loose_eq(x.primitive(), y),
        (x, y @ Prim::Obj(_)) => loose_eq(x, y.primitive()),
        (Prim::Num(x), Prim::Str(y)) => x == str_number(&y),
        (Prim::Str(x), Prim::Num(y)) => str_number(&x) == y,
    }
}

/// JS `x === y`.
pub(crate) fn strict_eq(a: &Prim, b: &Prim) -> bool {
    match (a, b) {
        (Prim::Null, Prim::Null) => true,
        (Prim::Bool(x), Prim::Bool(y)) => x == y,
        (Prim::Num(x), Prim::Num(y)) => x == y,
        (Prim::Str(x), Prim::Str(y)) => x == y,
        (Prim::Obj(x), Prim::Obj(y)) => ptr::eq(*x, *y),
        _ => false,
    }
}

/// JS abstract relational comparison: two strings compare by UTF-16 code units, anything else as
/// numbers; `None` when a side is NaN (every comparison is then false).
pub(crate) fn compare(a: Prim, b: Prim) -> Option<Ordering> {
    match (a.primitive(), b.primitive()) {
        (Prim::Str(x), Prim::Str(y)) => Some(x.encode_utf16().cmp(y.encode_utf16())),
        (x, y) => to_number(&x).partial_cmp(&to_number(&y)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(f: f64) -> String {
        let mut s = String::new();
        push_number(&mut s, f);
        s
    }

    #[test]
    fn numbers_print_as_in_js() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-3.0, "-3"),
            (3.15, "3.15"),
            (0.5, "0.5"),
            (-0.25, "-0.25"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (1e-7, "1e-7"),
            (2f64.powi(60), "1152921504606847000"),
            (9007199254740993.0, "9007199254740992"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (i64::MIN as f64, "-9223372036854776000"),
        ];
        for (f, want) in cases {
            assert_eq!(num(*f), *want, "{f:e}");
        }
    }

    #[test]
    fn strings_convert_as_in_js() {
        for (s, want) in [
            ("", 0.0),
            ("  12  ", 12.0),
            ("1e3", 1000.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("+5", 5.0),
            ("-0x10", f64::NAN),
            ("0x10", 16.0),
            ("0b101", 5.0),
            ("0o17", 15.0),
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("infinity", f64::NAN),
            ("1_000", f64::NAN),
            ("12abc", f64::NAN),
            ("\u{feff}7\u{2028}", 7.0),
            ("007", 7.0),
            ("1e400", f64::INFINITY),
            ("-1e400", f64::NEG_INFINITY),
            ("1e-400", 0.0),
            ("0.1", 0.1),
            ("123456789012345678901234567890", 1.2345678901234568e29),
        ] {
            let got = str_number(s);
            assert!(got == want || (got.is_nan() && want.is_nan()), "{s:?}: {got} != {want}");
        }
        for (s, want) in [
            ("3.5abc", 3.5),
            ("  -.5e-3x", -0.0005),
            ("1e", 1.0),
            ("1e+", 1.0),
            ("0x10", 0.0),
            ("Infinityx", f64::INFINITY),
            ("", f64::NAN),
            (".", f64::NAN),
            ("e5", f64::NAN),
        ] {
            let got = parse_float_str(s);
            assert!(got == want || (got.is_nan() && want.is_nan()), "{s:?}: {got} != {want}");
        }
    }

    #[test]
    fn remainder_is_exact() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            3.0,
            5e-324,
            1e-310,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            7.5,
            -2.5,
        ];
        for &a in &specials {
            for &b in &specials {
                let (got, want) = (remainder(a, b), a % b);
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{a} % {b}: {got} != {want}"
                );
            }
        }
        for _ in 0..200_000 {
            let (a, b) = (f64::from_bits(next()), f64::from_bits(next() >> (next() % 12)));
            let (got, want) = (remainder(a, b), a % b);
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{a:e} % {b:e}: {got:e} != {want:e}"
            );
        }
    }

    #[test]
    fn comparisons_follow_js() {
        let s = |x: &'static str| Prim::Str(Cow::Borrowed(x));
        assert!(loose_eq(Prim::Num(1.0), s("1")));
        assert!(loose_eq(Prim::Bool(false), s("0")));
        assert!(!loose_eq(Prim::Null, Prim::Num(0.0)));
        let empty = Value::Array(vec![]);
        assert!(loose_eq(Prim::Obj(&empty), Prim::Bool(false)));
        let pair = crate::json!([1, 2]);
        assert!(loose_eq(Prim::Obj(&pair), s("1,2")));
        assert_eq!(compare(s("a"), s("b")), Some(Ordering::Less));
        assert_eq!(compare(s("10"), s("9")), Some(Ordering::Less));
        assert_eq!(compare(s("10"), Prim::Num(9.0)), Some(Ordering::Greater));
        assert_eq!(compare(Prim::Null, Prim::Num(0.0)), Some(Ordering::Equal));
        assert_eq!(compare(s("x"), Prim::Num(0.0)), None);
        // UTF-16 order: U+FF5E sorts after U+1F600 in UTF-8 but before it in UTF-16.
        assert_eq!(compare(s("\u{ff5e}"), s("\u{1f600}")), Some(Ordering::Greater));
    }
}
