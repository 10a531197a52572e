//! What the catalog tells a profile: computed definitions (including the hidden counters behind
//! caps and fatigue), the session timeout, identity and consent settings, the merge policy.

use super::aggregate::Agg;
use super::fragment::Consent;
use crate::catalog::Catalog;
use crate::duration::{parse_ms, parse_window, Window, MAX_WINDOW_MS};
use crate::error::{pointer_token, Error, ErrorKind};
use crate::json::{self, Value};
use crate::rules::{Names, Rule};
use crate::util::{cat, num};

/// Prefix of the hidden aggregates that count impressions and clicks for caps and fatigue. `~`
/// is not allowed in catalog identifiers, so they never clash with a marketer's names.
pub const HIDDEN: char = '~';

/// Which events an aggregate counts, beyond their type.
#[derive(Debug, Clone)]
pub enum Filter {
    /// Every event of the type.
    All,
    /// Events for which the `where` rule holds.
    Rule(Rule),
    /// Events whose `props.offer` is one of these offers.
    Offers(Vec<String>),
}

/// One aggregate kept on the profile.
#[derive(Debug, Clone)]
pub struct ComputedDef {
    pub name: String,
    pub event: String,
    pub filter: Filter,
    pub agg: Agg,
    /// Path into `{type, ts, props}`; empty for `count`.
    pub field: Vec<String>,
    /// Window in ms; `None` for lifetime.
    pub window: Option<i64>,
}

impl ComputedDef {
    /// Whether the aggregate is one of the catalog's (shown in views) or a hidden counter.
    pub fn visible(&self) -> bool {
        !self.name.starts_with(HIDDEN)
    }
}

/// Everything a fragment needs from the catalog to apply events and be viewed.
#[derive(Debug, Clone)]
pub struct Schema {
    pub computed: Vec<ComputedDef>,
    pub session_timeout: i64,
    pub unique_namespaces: Vec<String>,
    pub consent_default: Consent,
    pub opt_in_countries: Vec<String>,
    /// `Some(sources)` for the `precedence` merge policy; `None` for `latest`.
    pub precedence: Option<Vec<String>>,
}

impl Schema {
    /// The name of the hidden counter behind a cap.
    pub fn cap_name(offer: &str, on: &str, window: &str) -> String {
        let h = String::from(HIDDEN);
        cat(&[&h, "cap", &h, offer, &h, on, &h, window])
    }

    /// The name of the hidden counter behind a fatigue rule.
    pub fn fatigue_name(tags: &[String], window: &str) -> String {
        let h = String::from(HIDDEN);
        cat(&[&h, "fatigue", &h, &crate::util::join(tags, ","), &h, window])
    }

    /// Compiles the catalog's settings and computed definitions; every error, with its pointer.
    pub fn compile(catalog: &Catalog, errors: &mut Vec<Error>) -> Schema {
        let settings = &catalog.settings;
        let mut computed = Vec::new();
        let no_names: [String; 0] = [];
        let event_names = Names { audiences: &no_names, computed: Some(&no_names), paths: None };
        for (name, def) in &catalog.computed {
            let at = cat(&["/computed/", &pointer_token(name)]);
            let Some(agg) = Agg::parse(&def.agg) else {
                errors.push(invalid(
                    &cat(&[&at, "/agg"]),
                    "agg must be one of count sum min max first last distinct",
                ));
                continue;
            };
            let field: Vec<String> = def
                .field
                .as_deref()
                .map(|f| crate::util::split(f, b'.').map(str::to_owned).collect())
                .unwrap_or_default();
            if agg != Agg::Count && field.is_empty() {
                errors.push(invalid(
                    &cat(&[&at, "/field"]),
                    &cat(&[&def.agg, " needs a field, like props.total"]),
                ));
            }
            let window = match def.window.as_deref().map(|w| parse_window(w, Some(MAX_WINDOW_MS))) {
                None | Some(Ok(Window::Lifetime)) => None,
                Some(Ok(Window::Ms(ms))) => Some(ms),
                Some(Err(e)) => {
                    errors.push(e.under(&cat(&[&at, "/window"])));
                    None
                }
            };
            let filter = match &def.filter {
                None => Filter::All,
                Some(rule) => match Rule::compile(rule, &event_names) {
                    Ok(rule) => Filter::Rule(rule),
                    Err(e) => {
                        errors.push(e.under(&cat(&[&at, "/where"])));
                        Filter::All
                    }
                },
            };
            computed.push(ComputedDef {
                name: name.clone(),
                event: def.event.clone(),
                filter,
                agg,
                field,
                window,
            });
        }
        for (i, offer) in catalog.offers.iter().enumerate() {
            for (j, cap) in offer.caps.iter().enumerate() {
                let at = cat(&["/offers/", &num(i as u64), "/caps/", &num(j as u64)]);
                let on = cap.on.as_deref().unwrap_or("impression");
                // A cap on events nobody sends would never be reached.
                if !matches!(on, "impression" | "click") {
                    errors.push(invalid(&cat(&[&at, "/on"]), "on must be impression or click"));
                }
                let window = hidden_window(&cap.window, &cat(&[&at, "/window"]), errors);
                computed.push(ComputedDef {
                    name: Schema::cap_name(&offer.id, on, &cap.window),
                    event: on.to_owned(),
                    filter: Filter::Offers(vec![offer.id.clone()]),
                    agg: Agg::Count,
                    field: Vec::new(),
                    window,
                });
            }
        }
        for (i, fatigue) in settings.fatigue.iter().enumerate() {
            let window = hidden_window(
                &fatigue.window,
                &cat(&["/settings/fatigue/", &num(i as u64), "/window"]),
                errors,
            );
            let mut offers = Vec::new();
            for o in &catalog.offers {
                if o.tags.iter().any(|t| fatigue.tags.contains(t)) {
                    offers.push(o.id.clone());
                }
            }
            computed.push(ComputedDef {
                name: Schema::fatigue_name(&fatigue.tags, &fatigue.window),
                event: "impression".to_owned(),
                filter: Filter::Offers(offers),
                agg: Agg::Count,
                field: Vec::new(),
                window,
            });
        }
        let session_timeout = match settings.session_timeout.as_deref().map(parse_ms) {
            None => 30 * 60 * 1000,
            Some(Ok(ms)) => ms,
            Some(Err(e)) => {
                errors.push(e.under("/settings/session_timeout"));
                30 * 60 * 1000
            }
        };
        let consent = settings.consent.clone().unwrap_or_default();
        let consent_default = match consent.default.as_deref() {
            None | Some("pending") => Consent::Pending,
            Some("granted") => Consent::Granted,
            Some("denied") => Consent::Denied,
            Some(_) => {
                errors
                    .push(invalid("/settings/consent/default", "default must be granted, denied or pending"));
                Consent::Pending
            }
        };
        let precedence = match &settings.merge_policy {
            None => None,
            Some(policy) => match policy.get("attributes") {
                None => None,
                Some(Value::String(s)) if s == "latest" => None,
                Some(Value::Object(p)) => match p.get("precedence").and_then(Value::as_array) {
                    Some(list) if list.iter().all(Value::is_string) && p.len() == 1 => {
                        let mut sources = Vec::with_capacity(list.len());
                        for source in list {
                            sources.push(source.as_str().unwrap_or_default().to_owned());
                        }
                        Some(sources)
                    }
                    _ => {
                        errors.push(invalid(
                            "/settings/merge_policy/attributes",
                            "expected {\"precedence\": [sources]}",
                        ));
                        None
                    }
                },
                Some(_) => {
                    errors.push(invalid(
                        "/settings/merge_policy/attributes",
                        "expected \"latest\" or {\"precedence\": [...]}",
                    ));
                    None
                }
            },
        };
        if let Some(Value::Object(p)) = &settings.merge_policy {
            if let Some(k) = p.keys().find(|k| *k != "attributes") {
                errors.push(invalid(&cat(&["/settings/merge_policy/", &pointer_token(k)]), "unknown field"));
            }
        }
        Schema {
            computed,
            session_timeout,
            unique_namespaces: settings.unique_namespaces.clone().unwrap_or_else(|| vec!["crm".to_owned()]),
            consent_default,
            opt_in_countries: consent.opt_in_countries,
            precedence,
        }
    }

    /// Appends the schema as bundle format 2 carries it, resolved: `{"computed": [[name, event,
    /// filter, agg, field, window]…], "session_timeout", "unique_namespaces",
    /// "consent_default", "opt_in_countries", "precedence"}`, a filter `null` (every event),
    /// `{"where": tree}` or `{"offers": [ids]}`, a window in ms or `null` (lifetime).
    pub fn write_json(&self, out: &mut String) {
        json::open(out, '{');
        json::key(out, "computed");
        json::open(out, '[');
        for d in &self.computed {
            json::open(out, '[');
            json::string(out, &d.name);
            json::string(out, &d.event);
            match &d.filter {
                Filter::All => json::null(out),
                Filter::Rule(rule) => {
                    json::open(out, '{');
                    json::key(out, "where");
                    rule.write_json(out);
                    out.push('}');
                }
                Filter::Offers(offers) => {
                    json::open(out, '{');
                    json::key(out, "offers");
                    json::strings(out, offers);
                    out.push('}');
                }
            }
            json::string(out, d.agg.name());
            json::strings(out, &d.field);
            match d.window {
                Some(ms) => json::int(out, ms),
                None => json::null(out),
            }
            out.push(']');
        }
        out.push(']');
        json::key(out, "session_timeout");
        json::int(out, self.session_timeout);
        json::key(out, "unique_namespaces");
        json::strings(out, &self.unique_namespaces);
        json::key(out, "consent_default");
        json::string(out, self.consent_default.as_str());
        json::key(out, "opt_in_countries");
        json::strings(out, &self.opt_in_countries);
        json::key(out, "precedence");
        match &self.precedence {
            Some(sources) => json::strings(out, sources),
            None => json::null(out),
        }
        out.push('}');
    }

    /// Reads what [`Schema::write_json`] wrote; `None` when it is not that. An unknown `agg`,
    /// consent default or filter, or a window out of range, refuses it all: read as something
    /// else, it could widen who sees an offer.
    pub fn read(v: &Value) -> Option<Schema> {
        let no_names: [String; 0] = [];
        let event_names = Names { audiences: &no_names, computed: Some(&no_names), paths: None };
        let mut computed = Vec::new();
        for d in v.get("computed")?.as_array()? {
            let [name, event, filter, agg, field, window] = d.as_array()?.as_slice() else { return None };
            let filter = match filter {
                Value::Null => Filter::All,
                f => match (f.get("where"), f.get("offers")) {
                    (Some(tree), None) => Filter::Rule(Rule::read(tree, &event_names)?),
                    (None, Some(offers)) => Filter::Offers(json::read_strings(offers)?),
                    _ => return None,
                },
            };
            let window = match window {
                Value::Null => None,
                w => Some(w.as_i64().filter(|ms| (1..=MAX_WINDOW_MS).contains(ms))?),
            };
            let (name, event) = (name.as_str()?, event.as_str()?);
            // The counters behind caps and fatigue count impressions or clicks: one counting
            // events nobody sends would never reach its limit.
            if name.starts_with(HIDDEN) && !matches!(event, "impression" | "click") {
                return None;
            }
            computed.push(ComputedDef {
                name: name.to_owned(),
                event: event.to_owned(),
                filter,
                agg: Agg::parse(agg.as_str()?)?,
                field: json::read_strings(field)?,
                window,
            });
        }
        let consent_default = match v.get("consent_default")?.as_str()? {
            "pending" => Consent::Pending,
            "granted" => Consent::Granted,
            "denied" => Consent::Denied,
            _ => return None,
        };
        Some(Schema {
            computed,
            session_timeout: v.get("session_timeout")?.as_i64()?,
            unique_namespaces: json::read_strings(v.get("unique_namespaces")?)?,
            consent_default,
            opt_in_countries: json::read_strings(v.get("opt_in_countries")?)?,
            precedence: match v.get("precedence")? {
                Value::Null => None,
                sources => Some(json::read_strings(sources)?),
            },
        })
    }

    /// The definition of a computed or hidden aggregate.
    pub fn def(&self, name: &str) -> Option<&ComputedDef> {
        self.computed.iter().find(|d| d.name == name)
    }
}

fn hidden_window(text: &str, at: &str, errors: &mut Vec<Error>) -> Option<i64> {
    match parse_window(text, Some(MAX_WINDOW_MS)) {
        Ok(Window::Ms(ms)) => Some(ms),
        Ok(Window::Lifetime) => None,
        Err(e) => {
            errors.push(e.under(at));
            None
        }
    }
}

fn invalid(path: &str, message: &str) -> Error {
    Error::new(ErrorKind::Invalid, path, message)
}
