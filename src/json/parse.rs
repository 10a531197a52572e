//! JSON text to a [`Value`]: the one parser there is.
//!
//! serde_json's deserializer is generic over readers and visitors and costs about 11 KB of the
//! SDK's Wasm for the one thing the core asks of it; this parser is a fraction of that. It
//! accepts exactly JSON (RFC 8259) and builds the value serde_json built, so nothing parses
//! differently than it did:
//! - integers that fit stay exact (`u64`, or `i64` when negative); `-0` is the float `-0.0`;
//! - other numbers are `f64`s computed as serde_json computes them (a `u64` significand of the
//!   first digits that fit, times or divided by an exact power of ten), and a magnitude past
//!   `f64::MAX` is an error, not infinity;
//! - a repeated key keeps its last value; nesting deeper than 127 levels is refused, which
//!   bounds the stack a parse (and everything after it) needs.
//!
//! Errors read as serde_json's did: what is wrong, then `at line L column C`.

use serde_json::{Map, Number, Value};
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

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.what, self.line, self.column)
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

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn digit(&self) -> Option<u8> {
        self.peek().filter(u8::is_ascii_digit).map(|b| b - b'0')
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
        let mut map = Map::new();
        if self.empty(b'}') {
            return Ok(Value::Object(map));
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
            map.insert(key, value);
            if self.next_member(b'}', "expected `,` or `}`", EOF)? {
                return Ok(Value::Object(map));
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

    /// A number, exactly as serde_json reads one (see the module's docs).
    fn number(&mut self) -> Result<Value, SyntaxError> {
        let positive = self.peek() != Some(b'-');
        self.at += usize::from(!positive);
        // The significand: the digits that fit in a u64, and the power of ten it is scaled by.
        let (mut significand, mut exponent, mut overflowed) = (0u64, 0i32, false);
        match self.digit() {
            Some(0) => {
                self.at += 1;
                if self.digit().is_some() {
                    return Err(self.fail("invalid number"));
                }
            }
            Some(_) => {
                while let Some(d) = self.digit() {
                    match significand.checked_mul(10).and_then(|s| s.checked_add(u64::from(d))) {
                        Some(s) if !overflowed => significand = s,
                        // Further integer digits only scale what fit.
                        _ => {
                            overflowed = true;
                            exponent = exponent.saturating_add(1);
                        }
                    }
                    self.at += 1;
                }
            }
            None => return Err(self.fail_or_eof("invalid number", "EOF while parsing a value")),
        }
        let mut float = overflowed;
        if self.peek() == Some(b'.') {
            self.at += 1;
            float = true;
            let (mut digits, mut full) = (0, false);
            while let Some(d) = self.digit() {
                match significand.checked_mul(10).and_then(|s| s.checked_add(u64::from(d))) {
                    Some(s) if !full => {
                        significand = s;
                        exponent = exponent.saturating_sub(1);
                    }
                    // Fraction digits past what fits are dropped.
                    _ => full = true,
                }
                digits += 1;
                self.at += 1;
            }
            if digits == 0 {
                return Err(self.fail_or_eof("invalid number", "EOF while parsing a value"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            float = true;
            let positive_exp = self.peek() != Some(b'-');
            self.at += usize::from(matches!(self.peek(), Some(b'+' | b'-')));
            if self.digit().is_none() {
                return Err(self.fail_or_eof("invalid number", "EOF while parsing a value"));
            }
            let mut exp = 0i32;
            while let Some(d) = self.digit() {
                self.at += 1;
                match exp.checked_mul(10).and_then(|e| e.checked_add(i32::from(d))) {
                    Some(e) => exp = e,
                    None => {
                        if significand != 0 && positive_exp {
                            return Err(self.fail("number out of range"));
                        }
                        while self.digit().is_some() {
                            self.at += 1;
                        }
                        return Ok(float_value(if positive { 0.0 } else { -0.0 }));
                    }
                }
            }
            exponent = if positive_exp { exponent.saturating_add(exp) } else { exponent.saturating_sub(exp) };
        }
        if float {
            let f = from_parts(significand, exponent).ok_or_else(|| self.fail("number out of range"))?;
            return Ok(float_value(if positive { f } else { -f }));
        }
        if positive {
            return Ok(Value::Number(Number::from(significand)));
        }
        // A negative integer stays exact where it fits an i64; `-0` and those past `i64::MIN`
        // are floats.
        let negative = (significand as i64).wrapping_neg();
        Ok(if negative < 0 {
            Value::Number(Number::from(negative))
        } else {
            float_value(-(significand as f64))
        })
    }
}

fn float_value(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// `significand × 10^exponent` as serde_json computes it: one multiplication or division by an
/// exact power of ten (two or more divisions below 1e-308); `None` past `f64::MAX`.
fn from_parts(significand: u64, mut exponent: i32) -> Option<f64> {
    let mut f = significand as f64;
    loop {
        match POW10.get(exponent.unsigned_abs() as usize) {
            Some(&pow) if exponent >= 0 => {
                f *= pow;
                return f.is_finite().then_some(f);
            }
            Some(&pow) => return Some(f / pow),
            None if f == 0.0 => return Some(f),
            None if exponent >= 0 => return None,
            None => {
                f /= 1e308;
                exponent += 308;
            }
        }
    }
}

/// The powers of ten an `f64` holds, each the nearest `f64` to its exact value.
#[rustfmt::skip]
static POW10: [f64; 309] = [
    1e000, 1e001, 1e002, 1e003, 1e004, 1e005, 1e006, 1e007, 1e008, 1e009,
    1e010, 1e011, 1e012, 1e013, 1e014, 1e015, 1e016, 1e017, 1e018, 1e019,
    1e020, 1e021, 1e022, 1e023, 1e024, 1e025, 1e026, 1e027, 1e028, 1e029,
    1e030, 1e031, 1e032, 1e033, 1e034, 1e035, 1e036, 1e037, 1e038, 1e039,
    1e040, 1e041, 1e042, 1e043, 1e044, 1e045, 1e046, 1e047, 1e048, 1e049,
    1e050, 1e051, 1e052, 1e053, 1e054, 1e055, 1e056, 1e057, 1e058, 1e059,
    1e060, 1e061, 1e062, 1e063, 1e064, 1e065, 1e066, 1e067, 1e068, 1e069,
    1e070, 1e071, 1e072, 1e073, 1e074, 1e075, 1e076, 1e077, 1e078, 1e079,
    1e080, 1e081, 1e082, 1e083, 1e084, 1e085, 1e086, 1e087, 1e088, 1e089,
    1e090, 1e091, 1e092, 1e093, 1e094, 1e095, 1e096, 1e097, 1e098, 1e099,
    1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109,
    1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119,
    1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139,
    1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159,
    1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169,
    1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179,
    1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189,
    1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199,
    1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209,
    1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219,
    1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229,
    1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239,
    1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249,
    1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269,
    1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289,
    1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299,
    1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];

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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Numbers: any mix of signs, digits, points and exponents, valid or not.
        #[test]
        fn numbers_parse_as_serde_json_parses_them(
            text in "-?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][+-]?[0-9]{0,12})?"
        ) {
            let (ours, theirs) = both(&text);
            prop_assert_eq!(ours, theirs, "{:?}", text);
        }

        /// Any value, as serde_json writes it compactly and pretty, reads as serde_json reads it
        /// (as itself but for floats: serde_json's reading may be off by one unit in the last
        /// place, and so is this one, alike).
        #[test]
        fn written_values_read_alike(value in any_value()) {
            for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
                let (ours, theirs) = both(&text);
                prop_assert!(ours.is_some());
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
