//! Content templates: `{{ path | fallback }}` over the rule data (contract §5). Parsed once at
//! compile time; in HTML every inserted value, fallbacks included, is escaped.

use crate::error::{Error, ErrorKind};
use crate::json::Value;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Slot { path: Vec<String>, fallback: Option<String> },
}

impl Template {
    /// Parses a template; an unclosed `{{` is an error.
    pub fn parse(source: &str) -> Result<Template, Error> {
        let mut parts = Vec::new();
        let mut rest = source;
        // `find` gives char boundaries, and `{{`/`}}` are ASCII, so no `get` here is `None`.
        while let Some(open) = crate::util::find(rest, "{{") {
            let text = rest.get(..open).unwrap_or_default();
            if !text.is_empty() {
                parts.push(Part::Text(text.to_owned()));
            }
            let after = rest.get(open + 2..).unwrap_or_default();
            let close = crate::util::find(after, "}}")
                .ok_or_else(|| Error::new(ErrorKind::Invalid, "", "template has `{{` without `}}`"))?;
            let inner = after.get(..close).unwrap_or_default();
            // Trimmed as JS trims (`String.prototype.trim`), as the rules do.
            let trim = crate::rules::js_trim;
            let (path, fallback) = match crate::util::split_once(inner, b'|') {
                Some((p, f)) => (trim(p), Some(trim(f).to_owned())),
                None => (trim(inner), None),
            };
            if path.is_empty() {
                return Err(Error::new(ErrorKind::Invalid, "", "template slot `{{ }}` names no path"));
            }
            parts.push(Part::Slot {
                path: crate::util::split(path, b'.').map(str::to_owned).collect(),
                fallback,
            });
            rest = after.get(close + 2..).unwrap_or_default();
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template(parts))
    }

    /// Renders against `data`; `html` escapes every inserted value.
    pub fn render(&self, data: &Value, html: bool) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Slot { path, fallback } => {
                    let value = path.iter().try_fold(data, |v, key| match v {
                        Value::Object(m) => m.get(key),
                        // An index as JSON pointers and rules take one: no sign, no leading zero.
                        Value::Array(a) => crate::rules::array_index(key).and_then(|i| a.get(i)),
                        _ => None,
                    });
                    let text = match (value, fallback) {
                        (Some(Value::String(s)), _) => s.clone(),
                        (Some(v), _) if !v.is_null() => crate::json::text(v),
                        (_, Some(f)) => f.clone(),
                        _ => String::new(),
                    };
                    if html {
                        escape_html_into(&text, &mut out);
                    } else {
                        out.push_str(&text);
                    }
                }
            }
        }
        out
    }
}

/// Renders every string inside `value` as a template (JSON `data` content: not HTML-escaped).
pub fn render_data(value: &Value, data: &Value) -> Value {
    match value {
        Value::String(s) if crate::util::contains(s, "{{") => match Template::parse(s) {
            Ok(t) => Value::String(t.render(data, false)),
            Err(_) => value.clone(),
        },
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for v in a {
                out.push(render_data(v, data));
            }
            Value::Array(out)
        }
        Value::Object(m) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, v) in m {
                out.push((k.clone(), render_data(v, data)));
            }
            Value::Object(crate::json::Map::from_entries(out))
        }
        other => other.clone(),
    }
}

/// Escapes the five HTML-significant characters.
pub fn escape_html_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn render(src: &str, data: Value) -> String {
        Template::parse(src).unwrap().render(&data, true)
    }

    #[test]
    fn inserts_values_and_escapes_them() {
        let data = json!({"attributes": {"first_name": "<Dana & co>"}});
        assert_eq!(render("Hi {{ attributes.first_name }}!", data), "Hi &lt;Dana &amp; co&gt;!");
    }

    #[test]
    fn fallback_is_trimmed_and_escaped() {
        assert_eq!(render("{{ attributes.first_name | <there> }}", json!({})), "&lt;there&gt;");
        assert_eq!(render("{{ a | x }}", json!({"a": null})), "x");
    }

    #[test]
    fn slots_are_trimmed_and_indexed_as_rules_do() {
        // JS white space (here a no-break space and a byte-order mark) is trimmed, as JS trims.
        assert_eq!(render("{{\u{a0}a\u{feff}|\u{feff} x }}", json!({})), "x");
        // An array index has no sign and no leading zero, as in a rule's `var` path.
        let data = json!({"items": ["a", "b"]});
        assert_eq!(render("{{ items.1 }}/{{ items.01 | - }}/{{ items.+1 | - }}", data), "b/-/-");
    }

    #[test]
    fn non_strings_are_written_as_json() {
        assert_eq!(render("{{ a }}/{{ b }}", json!({"a": 3, "b": [1]})), "3/[1]");
    }

    #[test]
    fn unclosed_slot_is_an_error() {
        assert!(Template::parse("{{ a").is_err());
        assert!(Template::parse("{{ | x }}").is_err());
    }

    #[test]
    fn data_strings_are_templates_without_escaping() {
        let out = render_data(&json!({"code": "{{ c }}", "n": 1}), &json!({"c": "<A>"}));
        assert_eq!(out, json!({"code": "<A>", "n": 1}));
    }
}
