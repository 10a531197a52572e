//! What a profile shows: to rules (the rule data of contract §2) and to people (the profile
//! view of contract §5). Without consent, rules see an empty profile and the full context.

use super::fragment::{Consent, Fragment};
use super::schema::Schema;
use crate::json;
use crate::json::{Map, Value};

/// The profile view (`rapport profile view`, `GET /v1/profile`); as JSON, its fields in order.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub attributes: Map,
    pub computed: Map,
    pub visits: u64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    /// Audience name → whether the profile is in it.
    pub audiences: Map,
    /// `{"personalization": status}`.
    pub consent: Map,
    /// Namespace → ids.
    pub identities: Map,
    /// Experiment → variant.
    pub experiments: Map,
}

impl View {
    /// The view as JSON text, its fields in order.
    pub fn to_json(&self) -> String {
        json::written(|out| {
            json::open(out, '{');
            json::key(out, "attributes");
            json::object(out, &self.attributes);
            json::key(out, "computed");
            json::object(out, &self.computed);
            json::key(out, "visits");
            json::uint(out, self.visits);
            for (name, seen) in [("first_seen", self.first_seen), ("last_seen", self.last_seen)] {
                json::key(out, name);
                match seen {
                    Some(ts) => json::int(out, ts),
                    None => json::null(out),
                }
            }
            json::key(out, "audiences");
            json::object(out, &self.audiences);
            json::key(out, "consent");
            json::object(out, &self.consent);
            json::key(out, "identities");
            json::object(out, &self.identities);
            json::key(out, "experiments");
            json::object(out, &self.experiments);
            out.push('}');
        })
    }
}

json::serialize_as_text!(View);

impl Fragment {
    /// The attributes under the catalog's merge policy (nulls left out).
    pub fn attributes(&self, schema: &Schema) -> Map {
        let rank = |source: &str| -> usize {
            match &schema.precedence {
                Some(order) => order.iter().position(|s| s == source).unwrap_or(order.len()),
                None => 0,
            }
        };
        let mut attributes = Map::new();
        for (name, values) in &self.attrs {
            // Lower rank wins; within a rank, the newest.
            let best = values
                .iter()
                .min_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| (b.1, &b.2).cmp(&(a.1, &a.2))));
            if let Some(best) = best.filter(|b| !b.3.is_null()) {
                attributes.insert(name.clone(), best.3.clone());
            }
        }
        attributes
    }

    /// The catalog's computed aggregates at `now`.
    pub fn computed_values(&self, schema: &Schema, now: i64) -> Map {
        let mut values = Map::new();
        for d in &schema.computed {
            if d.visible() {
                values.insert(d.name.clone(), self.computed_value(schema, &d.name, now));
            }
        }
        values
    }

    /// One aggregate (visible or hidden) at `now`: 0 / `[]` / null when nothing was counted.
    pub fn computed_value(&self, schema: &Schema, name: &str, now: i64) -> Value {
        let Some(def) = schema.def(name) else { return Value::Null };
        match self.computed.get(name).filter(|s| s.fits(def.agg, def.window)) {
            Some(series) => series.value(def.agg, now, def.window),
            None => super::aggregate::Series::new(def.agg, def.window).value(def.agg, now, def.window),
        }
    }

    /// Visits: the most any one origin saw (sessions can straddle replicas; see ARCHITECTURE.md).
    pub fn visit_count(&self) -> u64 {
        self.visits.values().map(|v| v.count()).max().unwrap_or(0)
    }

    /// The data rules see (contract §2). Without consent: an empty profile, the full context.
    pub fn rule_data(&self, schema: &Schema, context: &Value, now: i64) -> Value {
        let granted = self.consent(schema) == Consent::Granted;
        let mut data = Map::new();
        let (attributes, computed) = if granted {
            (self.attributes(schema), self.computed_values(schema, now))
        } else {
            let empty = Fragment::default();
            (Map::new(), empty.computed_values(schema, now))
        };
        data.insert("attributes".into(), Value::Object(attributes));
        data.insert("computed".into(), Value::Object(computed));
        data.insert("visits".into(), Value::from(if granted { self.visit_count() } else { 0 }));
        let seen = self.seen.filter(|_| granted);
        data.insert("first_seen".into(), seen.map_or(Value::Null, |s| Value::from(s.0)));
        data.insert("last_seen".into(), seen.map_or(Value::Null, |s| Value::from(s.1)));
        data.insert("known".into(), Value::Bool(granted && self.known()));
        data.insert("context".into(), context.clone());
        data.insert("now".into(), Value::from(now));
        Value::Object(data)
    }

    /// The profile view at `now`; `audiences` are evaluated by the caller (they need the bundle).
    pub fn view(&self, schema: &Schema, now: i64, audiences: Map) -> View {
        let mut identities = Map::new();
        for id in &self.ids {
            let ids = identities.get_or_insert_with(&id.1, || Value::Array(Vec::new()));
            if let Value::Array(ids) = ids {
                ids.push(Value::String(id.2.clone()));
            }
        }
        let mut consent = Map::new();
        consent.insert("personalization".to_owned(), Value::from(self.consent(schema).as_str()));
        let mut experiments = Map::new();
        for (experiment, (_, variant)) in &self.experiments {
            experiments.insert(experiment.clone(), Value::String(variant.clone()));
        }
        View {
            attributes: self.attributes(schema),
            computed: self.computed_values(schema, now),
            visits: self.visit_count(),
            first_seen: self.seen.map(|s| s.0),
            last_seen: self.seen.map(|s| s.1),
            audiences,
            consent,
            identities,
            experiments,
        }
    }
}
