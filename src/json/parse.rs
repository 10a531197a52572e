//! JSON text to a [`Value`]: the one parser there is.
//!
//! serde_json's deserializer is generic over readers and visitors and costs about 11 KB of the
//! SDK's Wasm for the one thing the core asks of it; this parser is a fraction of that. It
//! accepts exactly JSON (RFC 8259) and builds the value serde_json builds, but for one thing:
//! - integers that fit stay exact (`u64`, or `i64` when negative); `-0` is the float `-0.0`;
//! - other numbers are the nearest `f64`, as `JSON.parse` reads them (`decimal.rs`; serde_json
//!   is sometimes one unit in the last place off, so written numbers did not always read back
//!   as themselves), and a magnitude past `f64::MAX` is an error, not infinity;
//! - a repeated key keeps its last value; nesting deeper than 127 levels is refused, which
//!   bounds the stack a parse (and everything after it) needs.
//!
//! Errors read like serde_json's: what is wrong in its words, then `at line L column C` (a few
//! rare ones are worded or placed a little differently; no caller reads more than the text).

use super::decimal;
use super::{Map, Number, Value};
use std::fmt;

/// Why text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong, e.g. `expected value`.
    pub what: &'static str,
    /// The line of the offending byte, from 1.
    pub line: usize,
    /// Its column in bytes, from 1 (0 when the text ends right after a line break).
    pub column: usize,
}

impl SyntaxError {
    /// `what at line L column C`, as serde_json words it.
    pub fn text(&self) -> String {
        let (line, column) = (crate::util::num(self.line as u64), crate::util::num(self.column as u64));
        crate::util::cat(&[self.what, " at line ", &line, " column ", &column])
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for SyntaxError {}

/// Arrays and objects nested deeper than this are refused (serde_json's limit).
const MAX_DEPTH: usize = 127;

/// Parses JSON text.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    let mut p = Parser { text, at: 0 };
    let value = p.value(0)?;
    p.skip_space();
    match p.peek() {
        None => Ok(value),
        Some(_) => Err(p.fail("trailing characters")),
    }
}

struct Parser<'t> {
    text: &'t str,
    /// The next byte to read.
    at: usize,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// An error at the next byte.
    fn fail(&self, what: &'static str) -> SyntaxError {
        let bytes = self.text.as_bytes();
        let end = (self.at + 1).min(bytes.len());
        let before = bytes.get(..end).unwrap_or(bytes);
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let lines = before.get(..line_start).unwrap_or(before);
        let line = 1 + lines.iter().filter(|&&b| b == b'\n').count();
        SyntaxError { what, line, column: end - line_start }
    }

    /// Fails with `what`, or with "EOF while parsing `inside`" where the text has ended.
    fn fail_or_eof(&self, what: &'static str, inside: &'static str) -> SyntaxError {
        self.fail(if self.peek().is_none() { inside } else { what })
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.skip_space();
        match self.peek() {
            Some(b'n') => self.word("null", Value::Null),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(_) => Err(self.fail("expected value")),
            None => Err(self.fail("EOF while parsing a value")),
        }
    }

    fn word(&mut self, word: &'static str, value: Value) -> Result<Value, SyntaxError> {
        for &expected in word.as_bytes() {
            if self.peek() != Some(expected) {
                return Err(self.fail_or_eof("expected ident", "EOF while parsing a value"));
            }
            self.at += 1;
        }
        Ok(value)
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.enter(depth)?;
        let mut items = Vec::new();
        if self.empty(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            if self.next_member(b']', "expected `,` or `]`", "EOF while parsing a list")? {
                return Ok(Value::Array(items));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        const EOF: &str = "EOF while parsing an object";
        self.enter(depth)?;
        let mut entries = Vec::new();
        if self.empty(b'}') {
            return Ok(Value::Object(Map::new()));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.fail_or_eof("key must be a string", EOF));
            }
            let key = self.string()?;
            self.skip_space();
            if self.peek() != Some(b':') {
                return Err(self.fail_or_eof("expected `:`", EOF));
            }
            self.at += 1;
            let value = self.value(depth)?;
            entries.push((key, value));
            if self.next_member(b'}', "expected `,` or `}`", EOF)? {
                return Ok(Value::Object(Map::from_entries(entries)));
            }
        }
    }

    /// Steps past `[` or `{` opening nesting level `depth`.
    fn enter(&mut self, depth: usize) -> Result<(), SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("recursion limit exceeded"));
        }
        self.at += 1;
        Ok(())
    }

    /// Whether the array or object ends at once (`close` is stepped past).
    fn empty(&mut self, close: u8) -> bool {
        self.skip_space();
        let empty = self.peek() == Some(close);
        self.at += usize::from(empty);
        empty
    }

    /// After a member: whether `close` ended the array or object, else steps past the comma.
    fn next_member(
        &mut self,
        close: u8,
        expected: &'static str,
        eof: &'static str,
    ) -> Result<bool, SyntaxError> {
        self.skip_space();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                self.skip_space();
                match self.peek() {
                    Some(b) if b == close => Err(self.fail("trailing comma")),
                    _ => Ok(false),
                }
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(self.fail_or_eof(expected, eof)),
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        const EOF: &str = "EOF while parsing a string";
        self.at += 1;
        let mut out = String::new();
        let mut start = self.at;
        loop {
            match self.peek() {
                Some(b'"') => {
                    out.push_str(self.text.get(start..self.at).unwrap_or_default());
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.text.get(start..self.at).unwrap_or_default());
                    self.at += 1;
                    let c = self.escape()?;
                    out.push(c);
                    start = self.at;
                }
                Some(0..=0x1f) => {
                    return Err(self.fail("control character (\\u0000-\\u001F) found while parsing a string"))
                }
                Some(_) => self.at += 1,
                None => return Err(self.fail(EOF)),
            }
        }
    }

    /// The character of the escape after a backslash.
    fn escape(&mut self) -> Result<char, SyntaxError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.at += 1;
                return self.unicode();
            }
            _ => return Err(self.fail_or_eof("invalid escape", "EOF while parsing a string")),
        };
        self.at += 1;
        Ok(c)
    }

    /// `\uXXXX`, or a surrogate pair of two; a lone surrogate is an error (a `String` cannot
    /// hold one).
    fn unicode(&mut self) -> Result<char, SyntaxError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.text.as_bytes().get(self.at..self.at + 2) != Some(b"\\u") {
                    return Err(self.fail("lone leading surrogate in hex escape"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.fail("lone leading surrogate in hex escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            _ => first,
        };
        char::from_u32(code).ok_or_else(|| self.fail("lone trailing surrogate in hex escape"))
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|b| char::from(b).to_digit(16));
            let Some(digit) = digit else {
                return Err(self.fail_or_eof("invalid escape", "EOF while parsing a string"));
            };
            n = n * 16 + digit;
            self.at += 1;
        }
        Ok(n)
    }

    /// The ASCII digits from here on, stepped past.
    fn digits(&mut self) -> &'t [u8] {
        let bytes = self.text.as_bytes();
        let start = self.at;
        while bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        bytes.get(start..self.at).unwrap_or_default()
    }

    /// A number (see the module's docs).
    fn number(&mut self) -> Result<Value, SyntaxError> {
        const EOF: &str = "EOF while parsing a value";
        let positive = self.peek() != Some(b'-');
        self.at += usize::from(!positive);
        let int = self.digits();
        match int {
            [] => return Err(self.fail_or_eof("invalid number", EOF)),
            [b'0', _, ..] => return Err(self.fail("invalid number")),
            _ => {}
        }
        let mut frac: &[u8] = &[];
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            frac = self.digits();
            if frac.is_empty() {
                return Err(self.fail_or_eof("invalid number", EOF));
            }
            float = true;
        }
        let mut exp = 0i64;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            float = true;
            let negative = self.peek() == Some(b'-');
            self.at += usize::from(matches!(self.peek(), Some(b'+' | b'-')));
            let digits = self.digits();
            if digits.is_empty() {
                return Err(self.fail_or_eof("invalid number", EOF));
            }
            exp = decimal::exponent(digits, negative);
        }
        if !float {
            let exact =
                int.iter().try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')));
            if let Some(n) = exact {
                if positive {
                    return Ok(Value::Number(Number::from(n)));
                }
                // A negative integer stays exact where it fits an i64; `-0` and those past
                // `i64::MIN` are floats.
                let negative = (n as i64).wrapping_neg();
                return Ok(if negative < 0 {
                    Value::Number(Number::from(negative))
                } else {
                    Value::from(-(n as f64))
                });
            }
        }
        match decimal::to_f64(int, frac, exp) {
            Some(f) => Ok(Value::from(if positive { f } else { -f })),
            None => Err(self.fail("number out of range")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Both parsers' answers, comparable: the value's text (so `-0.0`, `0` and `0.0` differ), or
    /// that it failed.
    fn both(text: &str) -> (Option<String>, Option<String>) {
        let ours = parse(text).ok().map(|v| serde_json::to_string(&v).unwrap());
        let theirs = serde_json::from_str::<Value>(text).ok().map(|v| serde_json::to_string(&v).unwrap());
        (ours, theirs)
    }

    fn agrees(text: &str) {
        let (ours, theirs) = both(text);
        assert_eq!(ours, theirs, "{text:?}");
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "-0.0",
            "1",
            "-1",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "0.1",
            "1e2",
            "1E+2",
            "1e-2",
            "-2.5e-8",
            "1e308",
            "1.7976931348623157e308",
            "1.8e308",
            "1e309",
            "4.9e-324",
            "1e-400",
            "0e999999999999",
            "1e99999999999",
            "1e-99999999999",
            "123456789012345678901234567890",
            "1844674407370955161.5",
            "18446744073709551616.5",
            "0.000000000000000000000000000001234567890123456789",
            "01",
            "1.",
            "1.e5",
            ".5",
            "-",
            "-a",
            "1e",
            "1e+",
            "+1",
            "NaN",
            "Infinity",
            "[]",
            "[1,2]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{}",
            r#"{"a":1,"a":2}"#,
            r#"{"b":[{}],"a":null}"#,
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            "{1:2}",
            r#"{"a":1"#,
            "[",
            "{",
            "",
            "   ",
            "nul",
            "truex",
            "[true false]",
            r#""a\"b\\c\/d\be\ff\ng\rh\ti""#,
            r#""\u00e9\u0000\uD83D\uDE00""#,
            r#""\uD83D""#,
            r#""\uDE00""#,
            r#""\uD83Dx""#,
            r#""\uD83D\u0041""#,
            r#""\x""#,
            r#""\u12""#,
            "\"a\nb\"",
            "\"\u{7f}é😀\"",
            r#""abc"#,
            "1 2",
            "[1]x",
            "{\"a\":\n  [1,\n 2,,]}",
        ] {
            agrees(text);
        }
    }

    #[test]
    fn nesting_stops_where_serde_json_stops() {
        for depth in [126, 127, 128, 129, 10_000] {
            agrees(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
            agrees(&format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)));
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = parse("{\"a\":\n  [1,\n 2,,]}").unwrap_err();
        assert_eq!(e.to_string(), "expected value at line 3 column 4");
        assert_eq!(parse("[1").unwrap_err().to_string(), "EOF while parsing a list at line 1 column 2");
        assert_eq!(parse("\"a").unwrap_err().what, "EOF while parsing a string");
        assert_eq!(parse("1e400").unwrap_err().what, "number out of range");
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// What `str::parse` (exact) makes of a JSON number: `None` past `f64::MAX`.
    fn exact(text: &str) -> Option<f64> {
        text.parse::<f64>().ok().filter(|f| f.is_finite())
    }

    fn float_of(text: &str) -> Option<u64> {
        match parse(text).ok()? {
            Value::Number(n) => n.as_f64().map(f64::to_bits),
            _ => None,
        }
    }

    #[test]
    fn numbers_are_the_nearest_f64() {
        // Halfway between 2^53 and the next f64 up, then a little above, past 800 digits.
        let long_half = format!("9007199254740993.{}", "0".repeat(900));
        let long_above = format!("9007199254740993.{}1", "0".repeat(900));
        for text in [
            "918.8899999999999",
            "0.30000000000000004",
            "9007199254740993.0",
            "9007199254740995.0",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
            "2.2250738585072014e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1e-324",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.797693134862315799e308",
            "123456789012345678901234567890",
            "0.1e1",
            "100e-2",
            "7.2057594037927933e16",
            "1.00000000000000011102230246251565404236316680908203125",
            &long_half,
            &long_above,
        ] {
            let ours = float_of(text);
            assert_eq!(ours, exact(text).map(f64::to_bits), "{text}");
        }
        for text in ["1.7976931348623159e308", "5e308", "9.99e309", "1e309", "1e1000000000000"] {
            assert_eq!(parse(text).unwrap_err().what, "number out of range", "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Every finite f64, written as the core writes it, reads back as itself.
        #[test]
        fn written_floats_read_back(bits in any::<u64>()) {
            let f = f64::from_bits(bits);
            prop_assume!(f.is_finite());
            let text = crate::json::written(|out| crate::json::float(out, f));
            prop_assert_eq!(float_of(&text), Some(f.to_bits()), "{}", text);
        }

        /// Any decimal reads as `str::parse` reads it.
        #[test]
        fn decimals_read_as_rust_reads_them(
            text in "-?(0|[1-9][0-9]{0,30})\\.[0-9]{1,30}([eE][+-]?[0-9]{1,3})?"
        ) {
            prop_assert_eq!(float_of(&text), exact(&text).map(f64::to_bits), "{}", text);
        }

        /// Numbers: any mix of signs, digits, points and exponents, valid or not.
        #[test]
        fn numbers_parse_as_serde_json_parses_them(
            text in "-?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][+-]?[0-9]{0,12})?"
        ) {
            let (ours, theirs) = both(&text);
            prop_assert_eq!(ours, theirs, "{:?}", text);
        }

        /// Any value, as serde_json writes it compactly and pretty, reads back as itself, and as
        /// serde_json reads it (with `float_roundtrip`, as in tests).
        #[test]
        fn written_values_read_alike(value in any_value()) {
            for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
                prop_assert_eq!(parse(&text).ok(), Some(value.clone()));
                let (ours, theirs) = both(&text);
                prop_assert_eq!(ours, theirs);
            }
        }

        /// Short texts of JSON's characters: mostly invalid, all judged alike.
        #[test]
        fn any_text_is_judged_as_serde_json_judges_it(
            text in "[\\[\\]{}\",:0-9.eE+\\- \\\\ntrufalsu\\na-f]{0,24}"
        ) {
            let (ours, theirs) = both(&text);
            prop_assert_eq!(ours, theirs, "{:?}", text);
        }
    }
}
