//! The authored catalog format, exactly as contract §1 writes it.

use crate::json;
use crate::json::{Map, Value};
use crate::map::VecMap;

/// A whole catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    /// The catalog's name.
    pub catalog: String,
    pub settings: Settings,
    pub computed: VecMap<Computed>,
    pub audiences: Map,
    pub placements: VecMap<Placement>,
    pub offers: Vec<Offer>,
    pub suppressions: Vec<Suppression>,
    pub experiments: Vec<Experiment>,
}

/// Catalog-wide settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub consent: Option<ConsentSettings>,
    pub merge_policy: Option<Value>,
    pub fatigue: Vec<Fatigue>,
    pub session_timeout: Option<String>,
    pub unique_namespaces: Option<Vec<String>>,
}

/// Consent defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsentSettings {
    pub default: Option<String>,
    pub opt_in_countries: Vec<String>,
}

/// A fatigue cap across offers carrying any of `tags`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fatigue {
    pub tags: Vec<String>,
    pub max: u32,
    pub window: String,
}

/// A streaming aggregate over events.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    pub event: String,
    pub filter: Option<Value>,
    pub agg: String,
    pub field: Option<String>,
    pub window: Option<String>,
}

/// Where offers are shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub fallback: Option<String>,
    pub max_items: Option<u32>,
    pub ranking: Option<Value>,
}

/// One offer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Offer {
    pub id: String,
    pub placements: Vec<String>,
    pub audience: Option<String>,
    pub eligibility: Option<Value>,
    pub priority: i64,
    pub tags: Vec<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub caps: Vec<Cap>,
    pub content: Content,
    pub edge_only: bool,
    pub experiment_only: bool,
}

/// A per-profile cap on one offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Cap {
    pub max: u32,
    pub window: String,
    pub on: Option<String>,
}

/// What an offer shows: an HTML template and/or JSON data whose strings are templates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Content {
    pub html: Option<String>,
    pub data: Option<Value>,
}

/// Offers with any of `tags` are not eligible while `when` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub id: String,
    pub when: Value,
    pub tags: Vec<String>,
}

/// An experiment on one placement.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub id: String,
    pub placement: String,
    pub audience: Option<String>,
    pub traffic: f64,
    pub variants: Vec<Variant>,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// One experiment variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub id: String,
    pub weight: f64,
    pub offer: Option<String>,
}

// Reading. `Catalog::from_checked` reads a value in which `shape::check` found no blocking error,
// so every field already has its type: reading only picks fields out (a JSON `null` in an
// optional rule or data field is absent, as before).

fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn text(v: &Value, key: &str) -> String {
    opt_text(v, key).unwrap_or_default()
}

fn opt_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn texts(v: &Value, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for x in list(v, key) {
        out.push(x.as_str().unwrap_or_default().to_owned());
    }
    out
}

fn count(v: &Value, key: &str) -> Option<u32> {
    v.get(key).and_then(Value::as_u64).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

fn float(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or_default()
}

/// The items of `v[key]`, none when it is not an array.
fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    json::array_items(v.get(key))
}

fn items<T>(v: &Value, key: &str, item: impl Fn(&Value) -> T) -> Vec<T> {
    let mut out = Vec::new();
    for x in list(v, key) {
        out.push(item(x));
    }
    out
}

fn entries<T>(v: &Value, key: &str, item: impl Fn(&Value) -> T) -> VecMap<T> {
    let mut map = VecMap::new();
    for (k, x) in json::object_entries(v.get(key)) {
        map.insert(k.clone(), item(x));
    }
    map
}

impl Catalog {
    /// Reads a catalog in which [`super::shape::check`] found no blocking error.
    pub(crate) fn from_checked(v: &Value) -> Catalog {
        let mut catalog = Catalog::for_deciding(v);
        let settings = v.get("settings").unwrap_or(&Value::Null);
        catalog.settings = Settings {
            consent: get(settings, "consent").map(|c| ConsentSettings {
                default: opt_text(c, "default"),
                opt_in_countries: texts(c, "opt_in_countries"),
            }),
            merge_policy: get(settings, "merge_policy").cloned(),
            fatigue: items(settings, "fatigue", |f| Fatigue {
                tags: texts(f, "tags"),
                max: count(f, "max").unwrap_or_default(),
                window: text(f, "window"),
            }),
            session_timeout: opt_text(settings, "session_timeout"),
            unique_namespaces: get(settings, "unique_namespaces")
                .map(|_| texts(settings, "unique_namespaces")),
        };
        catalog.computed = entries(v, "computed", |c| Computed {
            event: text(c, "event"),
            filter: get(c, "where").cloned(),
            agg: text(c, "agg"),
            field: opt_text(c, "field"),
            window: opt_text(c, "window"),
        });
        catalog.placements = entries(v, "placements", |p| Placement {
            fallback: opt_text(p, "fallback"),
            max_items: count(p, "max_items"),
            ranking: get(p, "ranking").cloned(),
        });
        for (offer, o) in catalog.offers.iter_mut().zip(list(v, "offers")) {
            offer.eligibility = get(o, "eligibility").cloned();
            offer.caps = items(o, "caps", |c| Cap {
                max: count(c, "max").unwrap_or_default(),
                window: text(c, "window"),
                on: opt_text(c, "on"),
            });
        }
        for (suppression, s) in catalog.suppressions.iter_mut().zip(list(v, "suppressions")) {
            suppression.when = s.get("when").cloned().unwrap_or_default();
        }
        catalog
    }

    /// Reads, of such a catalog, what deciding reads once it is compiled: its name, audiences,
    /// offers (but their caps and eligibility), suppressions' ids and tags, experiments.
    /// Settings, computed values and placements are left empty, and so are the rules and caps in
    /// offers and suppressions: compiling them made bundle format 2's compiled form, which the
    /// browser reads instead (`Bundle::from_compiled`).
    pub(crate) fn for_deciding(v: &Value) -> Catalog {
        Catalog {
            catalog: text(v, "catalog"),
            settings: Settings::default(),
            computed: VecMap::new(),
            audiences: v.get("audiences").and_then(Value::as_object).cloned().unwrap_or_default(),
            placements: VecMap::new(),
            offers: items(v, "offers", |o| Offer {
                id: text(o, "id"),
                placements: texts(o, "placements"),
                audience: opt_text(o, "audience"),
                eligibility: None,
                priority: int(o, "priority").unwrap_or_default(),
                tags: texts(o, "tags"),
                start: int(o, "start"),
                end: int(o, "end"),
                caps: Vec::new(),
                content: o
                    .get("content")
                    .map(|c| Content { html: opt_text(c, "html"), data: get(c, "data").cloned() })
                    .unwrap_or_default(),
                edge_only: o.get("edge_only").and_then(Value::as_bool).unwrap_or_default(),
                experiment_only: o.get("experiment_only").and_then(Value::as_bool).unwrap_or_default(),
            }),
            suppressions: items(v, "suppressions", |s| Suppression {
                id: text(s, "id"),
                when: Value::Null,
                tags: texts(s, "tags"),
            }),
            experiments: items(v, "experiments", |e| Experiment {
                id: text(e, "id"),
                placement: text(e, "placement"),
                audience: opt_text(e, "audience"),
                traffic: float(e, "traffic"),
                variants: items(e, "variants", |x| Variant {
                    id: text(x, "id"),
                    weight: float(x, "weight"),
                    offer: opt_text(x, "offer"),
                }),
                start: int(e, "start"),
                end: int(e, "end"),
            }),
        }
    }

    /// Appends the catalog's JSON: fields in the order of contract §1, empty optional ones left
    /// out. The text is canonical (the content hash is taken of it).
    pub fn write_json(&self, out: &mut String) {
        json::open(out, '{');
        json::key(out, "catalog");
        json::string(out, &self.catalog);
        let s = &self.settings;
        json::key(out, "settings");
        json::open(out, '{');
        if let Some(c) = &s.consent {
            json::key(out, "consent");
            json::open(out, '{');
            opt_string(out, "default", &c.default);
            if !c.opt_in_countries.is_empty() {
                json::key(out, "opt_in_countries");
                json::strings(out, &c.opt_in_countries);
            }
            out.push('}');
        }
        opt_value(out, "merge_policy", &s.merge_policy);
        if !s.fatigue.is_empty() {
            json::key(out, "fatigue");
            json::open(out, '[');
            for f in &s.fatigue {
                json::open(out, '{');
                json::key(out, "tags");
                json::strings(out, &f.tags);
                json::key(out, "max");
                json::uint(out, f.max.into());
                json::key(out, "window");
                json::string(out, &f.window);
                out.push('}');
            }
            out.push(']');
        }
        opt_string(out, "session_timeout", &s.session_timeout);
        if let Some(namespaces) = &s.unique_namespaces {
            json::key(out, "unique_namespaces");
            json::strings(out, namespaces);
        }
        out.push('}');
        json::key(out, "computed");
        json::open(out, '{');
        for (name, c) in &self.computed {
            json::key(out, name);
            json::open(out, '{');
            json::key(out, "event");
            json::string(out, &c.event);
            opt_value(out, "where", &c.filter);
            json::key(out, "agg");
            json::string(out, &c.agg);
            opt_string(out, "field", &c.field);
            opt_string(out, "window", &c.window);
            out.push('}');
        }
        out.push('}');
        json::key(out, "audiences");
        json::open(out, '{');
        for (name, rule) in &self.audiences {
            json::key(out, name);
            json::value(out, rule);
        }
        out.push('}');
        json::key(out, "placements");
        json::open(out, '{');
        for (name, p) in &self.placements {
            json::key(out, name);
            json::open(out, '{');
            opt_string(out, "fallback", &p.fallback);
            if let Some(n) = p.max_items {
                json::key(out, "max_items");
                json::uint(out, n.into());
            }
            opt_value(out, "ranking", &p.ranking);
            out.push('}');
        }
        out.push('}');
        json::key(out, "offers");
        json::open(out, '[');
        for o in &self.offers {
            o.write_json(out);
        }
        out.push(']');
        json::key(out, "suppressions");
        json::open(out, '[');
        for x in &self.suppressions {
            json::open(out, '{');
            json::key(out, "id");
            json::string(out, &x.id);
            json::key(out, "when");
            json::value(out, &x.when);
            json::key(out, "tags");
            json::strings(out, &x.tags);
            out.push('}');
        }
        out.push(']');
        json::key(out, "experiments");
        json::open(out, '[');
        for e in &self.experiments {
            json::open(out, '{');
            json::key(out, "id");
            json::string(out, &e.id);
            json::key(out, "placement");
            json::string(out, &e.placement);
            opt_string(out, "audience", &e.audience);
            json::key(out, "traffic");
            json::float(out, e.traffic);
            json::key(out, "variants");
            json::open(out, '[');
            for v in &e.variants {
                json::open(out, '{');
                json::key(out, "id");
                json::string(out, &v.id);
                json::key(out, "weight");
                json::float(out, v.weight);
                opt_string(out, "offer", &v.offer);
                out.push('}');
            }
            out.push(']');
            opt_int(out, "start", e.start);
            opt_int(out, "end", e.end);
            out.push('}');
        }
        out.push_str("]}");
    }

    /// The catalog's JSON text (see [`Catalog::write_json`]).
    pub fn to_json(&self) -> String {
        json::written(|out| self.write_json(out))
    }
}

impl Offer {
    fn write_json(&self, out: &mut String) {
        json::open(out, '{');
        json::key(out, "id");
        json::string(out, &self.id);
        json::key(out, "placements");
        json::strings(out, &self.placements);
        opt_string(out, "audience", &self.audience);
        opt_value(out, "eligibility", &self.eligibility);
        json::key(out, "priority");
        json::int(out, self.priority);
        if !self.tags.is_empty() {
            json::key(out, "tags");
            json::strings(out, &self.tags);
        }
        opt_int(out, "start", self.start);
        opt_int(out, "end", self.end);
        if !self.caps.is_empty() {
            json::key(out, "caps");
            json::open(out, '[');
            for c in &self.caps {
                json::open(out, '{');
                json::key(out, "max");
                json::uint(out, c.max.into());
                json::key(out, "window");
                json::string(out, &c.window);
                opt_string(out, "on", &c.on);
                out.push('}');
            }
            out.push(']');
        }
        json::key(out, "content");
        json::open(out, '{');
        opt_string(out, "html", &self.content.html);
        opt_value(out, "data", &self.content.data);
        out.push('}');
        for (name, set) in [("edge_only", self.edge_only), ("experiment_only", self.experiment_only)] {
            if set {
                json::key(out, name);
                json::boolean(out, true);
            }
        }
        out.push('}');
    }
}

fn opt_string(out: &mut String, key: &str, value: &Option<String>) {
    if let Some(s) = value {
        json::key(out, key);
        json::string(out, s);
    }
}

fn opt_value(out: &mut String, key: &str, value: &Option<Value>) {
    if let Some(v) = value {
        json::key(out, key);
        json::value(out, v);
    }
}

fn opt_int(out: &mut String, key: &str, value: Option<i64>) {
    if let Some(n) = value {
        json::key(out, key);
        json::int(out, n);
    }
}
