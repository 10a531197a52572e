//! A profile fragment: what one replica knows of one person, and how fragments merge.
//!
//! Every field is a state-based CRDT, so merge is commutative, associative and idempotent:
//! identities are a grow-only set (first-seen time per id), consent and attributes are
//! last-writer-wins registers ordered by `(ts, event id)` (attributes keep one register per
//! source, so both merge policies can be read off the same state), aggregates are the CRDTs of
//! `aggregate`, visits are kept per origin, `first_seen`/`last_seen` are min/max, experiment
//! assignments keep the earliest. ARCHITECTURE.md explains each law.

use super::aggregate::Series;
use super::event::Event;
use super::schema::{Filter, Schema};
use crate::catalog::shape::{self, opt, req, Shape};
use crate::error::{Error, ErrorKind};
use crate::hash::fnv1a_64;
use crate::json;
use crate::json::{array_items, object_entries, Map, Value};
use crate::map::VecMap;
use crate::util::cat;

/// The size a fragment stays under, as JSON, for catalogs of ordinary size.
pub const MAX_FRAGMENT_BYTES: usize = 16 * 1024;
/// How many attributes a profile keeps (the most recently set).
pub const MAX_ATTRIBUTES: usize = 32;
/// How many identities a profile keeps (the earliest recorded).
pub const MAX_IDENTITIES: usize = 16;
/// How many origins' visit counts a profile keeps (the most recently active).
pub const MAX_ORIGINS: usize = 8;
/// How many recent event ids a fragment remembers to make retries safe.
pub const RECENT_IDS: usize = 32;

/// Why [`Fragment::apply`] drops an event older than every id it remembers.
pub const LATE: &str = "older than the events this replica can still deduplicate";
/// How many visit spans an origin keeps before folding the oldest into a count.
const SPANS: usize = 8;
/// The namespace of the id a profile is created with (a cookie or device id).
pub const ANONYMOUS: &str = "anonymous";

/// A personalization consent state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Consent {
    Pending,
    Granted,
    /// Ordered last: on equal timestamps `denied` wins.
    Denied,
}

impl Consent {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::Pending => "pending",
            Consent::Granted => "granted",
            Consent::Denied => "denied",
        }
    }
}

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event changed the fragment.
    Applied,
    /// The replica had already applied this event id: nothing changed.
    Duplicate,
    /// Not applied, deliberately (no consent, or older than the replica can deduplicate).
    Dropped(&'static str),
}

/// One identity: namespace, id, and when it was first recorded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity(pub i64, pub String, pub String);

/// One attribute value from one source: `(source, ts, event id, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr(pub String, pub i64, pub String, pub Value);

/// The visits of one origin: events applied, visits folded away, recent visit spans.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Visits(pub u64, pub u64, pub Vec<(i64, i64)>);

/// What one replica knows of one person.
///
/// As JSON (fields in this order, empty ones left out): `replica`, `ids` (`[ts, namespace, id]`),
/// `consent` (`[ts, status]`), `region` (`[ts, country]`), `attrs` (name → `[source, ts, event
/// id, value]`s), `computed` (name → aggregate), `visits` (origin → `[events, folded, spans]`),
/// `seen` (`[first, last]`), `experiments` (id → `[ts, variant]`), `recent` (`[ts, id hash]`s).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fragment {
    /// The replica that keeps this fragment (`edge`, `browser:<device>`, `crm`…).
    pub replica: String,
    pub ids: Vec<Identity>,
    pub consent: Option<(i64, Consent)>,
    /// The first request's country `(ts, country)`, for `opt_in_countries`.
    pub region: Option<(i64, String)>,
    pub attrs: VecMap<Vec<Attr>>,
    pub computed: VecMap<Series>,
    pub visits: VecMap<Visits>,
    pub seen: Option<(i64, i64)>,
    pub experiments: VecMap<(i64, String)>,
    /// Recent `(ts, hashed event id)`, newest first: retries of these change nothing.
    pub recent: Vec<(i64, String)>,
}

impl Fragment {
    /// A new fragment for `replica`, of the profile first known as `profile_id`.
    pub fn new(replica: &str, profile_id: &str) -> Fragment {
        Fragment {
            replica: replica.to_owned(),
            ids: vec![Identity(0, ANONYMOUS.to_owned(), profile_id.to_owned())],
            ..Fragment::default()
        }
    }

    /// Parses a fragment's JSON.
    pub fn from_json(text: &str) -> Result<Fragment, Error> {
        let not = |e: String| Error::new(ErrorKind::Parse, "", cat(&["not a profile fragment: ", &e]));
        let value = json::parse(text).map_err(|e| not(e.text()))?;
        Fragment::from_value(&value).map_err(|e| not(e.text()))
    }

    /// Reads a fragment from its JSON value; errors name the field.
    pub fn from_value(value: &Value) -> Result<Fragment, Error> {
        if let Some(e) = shape::errors(value, &FRAGMENT).into_iter().next() {
            return Err(e);
        }
        Ok(Fragment::read(value))
    }

    /// Reads a fragment Rapport wrote, without the shape check: the browser SDK's reading of the
    /// fragment it stored and of the one its edge put in the page. `None` unless the text is a
    /// JSON object. The SDK's reasons are those for trusting its bundle (ARCHITECTURE.md); what
    /// keeps this reading safe whatever the text holds is [`Fragment::read`]'s, which leaves out
    /// every item not as Rapport writes it. What a browser sends the edge is checked there.
    pub fn from_trusted_json(text: &str) -> Option<Fragment> {
        json::parse(text).ok().filter(Value::is_object).map(|value| Fragment::read(&value))
    }

    /// Reads the fields of a fragment. An item not as Rapport writes it is left out rather than
    /// read as zeros: a zero time would win every merge that keeps the earliest (an identity, an
    /// experiment's variant, the first request's country); so is a time outside the range of
    /// event timestamps. Aggregates come out sorted and deduplicated (`Series::read`). Fields
    /// Rapport does not know are ignored.
    fn read(value: &Value) -> Fragment {
        let field = |key: &str| value.get(key).filter(|v| !v.is_null());
        let mut f = Fragment { replica: text(field("replica")), ..Fragment::default() };
        for t in array_items(field("ids")) {
            if let (Some((ts, namespace)), Some(id)) = (stamped(t), t.get(2).and_then(Value::as_str)) {
                f.ids.push(Identity(ts, namespace, id.to_owned()));
            }
        }
        f.consent = field("consent").and_then(stamped).and_then(|(ts, status)| {
            let status = match status.as_str() {
                "granted" => Consent::Granted,
                "denied" => Consent::Denied,
                "pending" => Consent::Pending,
                _ => return None,
            };
            Some((ts, status))
        });
        f.region = field("region").and_then(stamped);
        for (name, values) in object_entries(field("attrs")) {
            let mut attrs = Vec::new();
            for t in array_items(Some(values)) {
                let (source, id) = (t.get(0).and_then(Value::as_str), t.get(2).and_then(Value::as_str));
                if let (Some(source), Some(ts), Some(id), Some(v)) = (source, time(t.get(1)), id, t.get(3)) {
                    attrs.push(Attr(source.to_owned(), ts, id.to_owned(), v.clone()));
                }
            }
            f.attrs.insert(name.clone(), attrs);
        }
        for (name, series) in object_entries(field("computed")) {
            f.computed.insert(name.clone(), Series::read(series));
        }
        for (origin, t) in object_entries(field("visits")) {
            let count = |i: usize| t.get(i).and_then(Value::as_u64).unwrap_or(0);
            let mut spans = Vec::new();
            for s in array_items(t.get(2)) {
                if let Some(s) = span(s) {
                    spans.push(s);
                }
            }
            f.visits.insert(origin.clone(), Visits(count(0), count(1), spans));
        }
        f.seen = field("seen").and_then(span);
        for (id, t) in object_entries(field("experiments")) {
            if let Some(assignment) = stamped(t) {
                f.experiments.insert(id.clone(), assignment);
            }
        }
        for t in array_items(field("recent")) {
            if let Some(t) = stamped(t) {
                f.recent.push(t);
            }
        }
        f
    }

    /// Appends the fragment's JSON (see [`Fragment`]).
    pub fn write_json(&self, out: &mut String) {
        json::open(out, '{');
        json::key(out, "replica");
        json::string(out, &self.replica);
        if !self.ids.is_empty() {
            json::key(out, "ids");
            json::open(out, '[');
            for i in &self.ids {
                json::open(out, '[');
                json::int(out, i.0);
                json::string(out, &i.1);
                json::string(out, &i.2);
                out.push(']');
            }
            out.push(']');
        }
        if let Some((ts, status)) = self.consent {
            json::key(out, "consent");
            json::stamped(out, ts, status.as_str());
        }
        if let Some((ts, country)) = &self.region {
            json::key(out, "region");
            json::stamped(out, *ts, country);
        }
        if !self.attrs.is_empty() {
            json::key(out, "attrs");
            json::open(out, '{');
            for (name, values) in &self.attrs {
                json::key(out, name);
                json::open(out, '[');
                for a in values {
                    json::open(out, '[');
                    json::string(out, &a.0);
                    json::int(out, a.1);
                    json::string(out, &a.2);
                    json::value(out, &a.3);
                    out.push(']');
                }
                out.push(']');
            }
            out.push('}');
        }
        if !self.computed.is_empty() {
            json::key(out, "computed");
            json::open(out, '{');
            for (name, series) in &self.computed {
                json::key(out, name);
                series.write_json(out);
            }
            out.push('}');
        }
        if !self.visits.is_empty() {
            json::key(out, "visits");
            json::open(out, '{');
            for (origin, v) in &self.visits {
                json::key(out, origin);
                json::open(out, '[');
                json::uint(out, v.0);
                json::uint(out, v.1);
                json::open(out, '[');
                for span in &v.2 {
                    json::open(out, '[');
                    json::int(out, span.0);
                    json::int(out, span.1);
                    out.push(']');
                }
                out.push_str("]]");
            }
            out.push('}');
        }
        if let Some((first, last)) = self.seen {
            json::key(out, "seen");
            json::open(out, '[');
            json::int(out, first);
            json::int(out, last);
            out.push(']');
        }
        if !self.experiments.is_empty() {
            json::key(out, "experiments");
            json::open(out, '{');
            for (experiment, (ts, variant)) in &self.experiments {
                json::key(out, experiment);
                json::stamped(out, *ts, variant);
            }
            out.push('}');
        }
        if !self.recent.is_empty() {
            json::key(out, "recent");
            json::open(out, '[');
            for (ts, id) in &self.recent {
                json::stamped(out, *ts, id);
            }
            out.push(']');
        }
        out.push('}');
    }

    /// The profile key: the bare id of the first identity recorded (experiment allocation).
    pub fn key(&self) -> Option<&str> {
        self.ids.first().map(|i| i.2.as_str())
    }

    /// Whether the profile has a non-anonymous identity.
    pub fn known(&self) -> bool {
        self.ids.iter().any(|i| i.1 != ANONYMOUS)
    }

    /// The personalization consent in force.
    pub fn consent(&self, schema: &Schema) -> Consent {
        if let Some((_, c)) = self.consent {
            return c;
        }
        match &self.region {
            Some((_, country)) if schema.opt_in_countries.iter().any(|c| c == country) => Consent::Pending,
            _ => schema.consent_default,
        }
    }

    /// Records the country of a request, for `opt_in_countries` (the first one counts).
    pub fn observe_country(&mut self, country: &str, ts: i64) {
        let candidate = (ts, country.to_owned());
        if self.region.as_ref().is_none_or(|r| candidate < *r) {
            self.region = Some(candidate);
        }
    }

    /// Records a sticky experiment assignment; an earlier one is kept.
    pub fn assign(&mut self, experiment: &str, variant: &str, ts: i64) {
        let candidate = (ts, variant.to_owned());
        let slot = self.experiments.get_or_insert_with(experiment, || candidate.clone());
        if candidate < *slot {
            *slot = candidate;
        }
    }

    /// Applies one validated event (contract §3, §4). Idempotent per event id: the fragment
    /// remembers the [`RECENT_IDS`] most recent ids, and refuses an event older than all of them
    /// (it cannot tell whether it was applied).
    pub fn apply(&mut self, schema: &Schema, event: &Event) -> Outcome {
        let tag = (event.ts, id_hash(&event.id));
        if self.recent.iter().any(|r| r.1 == tag.1) {
            return Outcome::Duplicate;
        }
        if self.recent.len() >= RECENT_IDS && self.recent.last().is_some_and(|oldest| tag < *oldest) {
            return Outcome::Dropped(LATE);
        }
        self.apply_new(schema, event)
    }

    /// Applies an event its caller knows this replica never applied: a store that keeps every
    /// id it applied (the edge's per-visitor object) vouches for that, so an event that arrives
    /// late, behind more than [`RECENT_IDS`] newer ones, still counts.
    pub fn apply_new(&mut self, schema: &Schema, event: &Event) -> Outcome {
        let tag = (event.ts, id_hash(&event.id));
        if event.kind == "consent" {
            let status = match event.props.get("personalization").and_then(Value::as_str) {
                Some("granted") => Consent::Granted,
                _ => Consent::Denied,
            };
            self.merge_consent(Some((event.ts, status)));
            self.remember(tag);
            return Outcome::Applied;
        }
        if self.consent(schema) != Consent::Granted {
            return Outcome::Dropped("no personalization consent");
        }
        let origin = event.origin.as_deref().unwrap_or(&self.replica).to_owned();
        if event.kind == "identify" {
            self.identify(schema, event);
        }
        if let Some(attributes) = event.attributes() {
            let source = crate::util::split(&origin, b':').next().unwrap_or_default();
            for (name, value) in attributes {
                let attr = Attr(source.to_owned(), event.ts, event.id.clone(), value.clone());
                merge_attr(self.attrs.get_or_insert_with(name, Vec::new), &attr);
            }
            prune_attrs(&mut self.attrs);
        }
        let mut data = None;
        for def in schema.computed.iter().filter(|d| d.event == event.kind) {
            let passes = match &def.filter {
                Filter::All => true,
                Filter::Offers(offers) => event
                    .props
                    .get("offer")
                    .and_then(Value::as_str)
                    .is_some_and(|o| offers.iter().any(|x| x == o)),
                Filter::Rule(rule) => {
                    let data = data.get_or_insert_with(|| event_data(event));
                    rule.test(&crate::rules::Scope::new(data, event.ts, &[]))
                }
            };
            if !passes {
                continue;
            }
            let value = if def.field.is_empty() {
                Value::Null
            } else {
                let data = data.get_or_insert_with(|| event_data(event));
                def.field.iter().try_fold(&*data, |v, k| v.get(k)).cloned().unwrap_or(Value::Null)
            };
            let series = self.computed.get_or_insert_with(&def.name, || Series::new(def.agg, def.window));
            if !series.fits(def.agg, def.window) {
                *series = Series::new(def.agg, def.window);
            }
            series.add(&origin, event.ts, &value);
        }
        let visits = self.visits.get_or_insert_with(&origin, Visits::default);
        visits.0 = visits.0.saturating_add(1);
        add_span(&mut visits.2, &mut visits.1, event.ts, schema.session_timeout);
        prune_origins(&mut self.visits);
        self.seen = Some(match self.seen {
            None => (event.ts, event.ts),
            Some((first, last)) => (first.min(event.ts), last.max(event.ts)),
        });
        self.remember(tag);
        Outcome::Applied
    }

    /// `identify`: links the id, or starts a fresh profile when it names a different person in a
    /// unique namespace (a shared device must not collapse two customers).
    fn identify(&mut self, schema: &Schema, event: &Event) {
        let text = |k: &str| event.props.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let (namespace, id) = (text("namespace"), text("id"));
        let conflict = schema.unique_namespaces.contains(&namespace)
            && self.ids.iter().any(|i| i.1 == namespace && i.2 != id);
        if conflict {
            let kept =
                (self.replica.clone(), self.consent, self.region.clone(), std::mem::take(&mut self.recent));
            *self = Fragment {
                replica: kept.0,
                consent: kept.1,
                region: kept.2,
                recent: kept.3,
                ..Fragment::default()
            };
        }
        merge_ids(&mut self.ids, &[Identity(event.ts, namespace, id)]);
    }

    fn remember(&mut self, tag: (i64, String)) {
        merge_recent(&mut self.recent, std::slice::from_ref(&tag));
    }

    fn merge_consent(&mut self, other: Option<(i64, Consent)>) {
        if let Some(theirs) = other {
            if self.consent.is_none_or(|mine| theirs > mine) {
                self.consent = Some(theirs);
            }
        }
    }

    /// Merges another fragment of the same person into this one (keeping this replica's name).
    pub fn merge(&mut self, other: &Fragment) {
        merge_ids(&mut self.ids, &other.ids);
        self.merge_consent(other.consent);
        if let Some((ts, country)) = &other.region {
            self.observe_country(country, *ts);
        }
        for (name, values) in &other.attrs {
            let mine = self.attrs.get_or_insert_with(name, Vec::new);
            for attr in values {
                merge_attr(mine, attr);
            }
        }
        prune_attrs(&mut self.attrs);
        for (name, series) in &other.computed {
            match self.computed.get_mut(name) {
                Some(mine) => mine.merge(series),
                None => {
                    self.computed.insert(name.clone(), Series::copy_of(series));
                }
            }
        }
        for (origin, visits) in &other.visits {
            let mine = self.visits.get_or_insert_with(origin, Visits::default);
            if visits > mine {
                *mine = visits.clone();
            }
        }
        prune_origins(&mut self.visits);
        self.seen = match (self.seen, other.seen) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        for (experiment, (ts, variant)) in &other.experiments {
            self.assign(experiment, variant, *ts);
        }
        merge_recent(&mut self.recent, &other.recent);
    }

    /// Whether two fragments may be merged: they share an identity and no unique namespace
    /// names two different people.
    pub fn same_person(&self, other: &Fragment, schema: &Schema) -> bool {
        let shares = self.ids.iter().any(|a| other.ids.iter().any(|b| a.1 == b.1 && a.2 == b.2));
        let clash = self.ids.iter().any(|a| {
            schema.unique_namespaces.contains(&a.1) && other.ids.iter().any(|b| a.1 == b.1 && a.2 != b.2)
        });
        shares && !clash
    }

    /// The fragment as JSON (its size is what the 16 KiB bound is about).
    pub fn to_json(&self) -> String {
        json::written(|out| self.write_json(out))
    }
}

json::serialize_as_text!(Fragment);

impl<'de> serde::Deserialize<'de> for Fragment {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Fragment, D::Error> {
        let value = <Value as serde::Deserialize>::deserialize(deserializer)?;
        Fragment::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// What a fragment looks like as JSON (checked before it is read).
const STAMPED: Shape = Shape::Tuple(&[Shape::Int, Shape::Str], 0);
const SPAN: Shape = Shape::Tuple(&[Shape::Int, Shape::Int], 0);
const FRAGMENT: Shape = Shape::Obj(&[
    req("replica", Shape::Str),
    opt("ids", Shape::List(&Shape::Tuple(&[Shape::Int, Shape::Str, Shape::Str], 0))),
    opt(
        "consent",
        Shape::OrNull(&Shape::Tuple(&[Shape::Int, Shape::OneOf(&["pending", "granted", "denied"])], 0)),
    ),
    opt("region", Shape::OrNull(&STAMPED)),
    opt(
        "attrs",
        Shape::Entries(&Shape::List(&Shape::Tuple(&[Shape::Str, Shape::Int, Shape::Str, Shape::Any], 0))),
    ),
    opt("computed", Shape::Entries(&super::aggregate::SERIES)),
    opt("visits", Shape::Entries(&Shape::Tuple(&[Shape::UInt, Shape::UInt, Shape::List(&SPAN)], 0))),
    opt("seen", Shape::OrNull(&SPAN)),
    opt("experiments", Shape::Entries(&STAMPED)),
    opt("recent", Shape::List(&STAMPED)),
]);

// Readers of a fragment's values, checked or not (`Fragment::read`).

/// A bucket or window, within the range of event timestamps: a fragment's integers are never
/// negative, and clamping them keeps all arithmetic on them from overflowing.
pub(crate) fn int(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(0).clamp(0, super::event::MAX_TS)
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// A time, if it is an integer within the range of event timestamps (none is negative).
pub(crate) fn time(v: Option<&Value>) -> Option<i64> {
    v?.as_i64().filter(|t| (0..=super::event::MAX_TS).contains(t))
}

/// `[ts, text, …]`.
fn stamped(t: &Value) -> Option<(i64, String)> {
    Some((time(t.get(0))?, t.get(1)?.as_str()?.to_owned()))
}

/// `[ts, ts]`.
fn span(t: &Value) -> Option<(i64, i64)> {
    Some((time(t.get(0))?, time(t.get(1))?))
}

/// The data a `where` rule or a `field` path sees: `{event: {type, ts, props}}` and the bare
/// `{type, ts, props}` paths of `field`.
fn event_data(event: &Event) -> Value {
    let mut inner = Map::new();
    inner.insert("type".to_owned(), Value::String(event.kind.clone()));
    inner.insert("ts".to_owned(), Value::from(event.ts));
    inner.insert("props".to_owned(), Value::Object(event.props.clone()));
    let inner = Value::Object(inner);
    let mut data = inner.clone();
    if let Value::Object(map) = &mut data {
        map.insert("event".to_owned(), inner);
    }
    data
}

/// 48 bits of the id's hash: collisions among 32 recent ids are negligible (~1e-12).
fn id_hash(id: &str) -> String {
    crate::util::hex(fnv1a_64(id.as_bytes()) >> 16, 12)
}

fn merge_ids(mine: &mut Vec<Identity>, theirs: &[Identity]) {
    for identity in theirs {
        match mine.iter_mut().find(|i| i.1 == identity.1 && i.2 == identity.2) {
            Some(existing) => existing.0 = existing.0.min(identity.0),
            None => mine.push(identity.clone()),
        }
    }
    crate::util::sort(mine);
    mine.truncate(MAX_IDENTITIES);
}

/// Keeps, per source, the value with the greatest `(ts, event id)`.
fn merge_attr(mine: &mut Vec<Attr>, attr: &Attr) {
    match mine.iter_mut().find(|a| a.0 == attr.0) {
        Some(existing) => {
            if (attr.1, &attr.2) > (existing.1, &existing.2) {
                *existing = attr.clone();
            }
        }
        None => {
            mine.push(attr.clone());
            crate::util::sort_by(mine, |a, b| a.0.cmp(&b.0));
        }
    }
}

/// Keeps the `MAX_ATTRIBUTES` most recently set attributes (ties by name).
fn prune_attrs(attrs: &mut VecMap<Vec<Attr>>) {
    if attrs.len() <= MAX_ATTRIBUTES {
        return;
    }
    let mut ranked = Vec::with_capacity(attrs.len());
    for (name, values) in attrs.iter() {
        ranked.push((values.iter().map(|a| a.1).max().unwrap_or(i64::MIN), name.clone()));
    }
    for (_, name) in least_recent(ranked, MAX_ATTRIBUTES) {
        attrs.remove(&name);
    }
}

/// What pruning drops: all but the `keep` most recent `(ts, name)`s (ties by name).
fn least_recent(mut ranked: Vec<(i64, String)>, keep: usize) -> Vec<(i64, String)> {
    crate::util::sort_by(&mut ranked, |a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    ranked.split_off(keep.min(ranked.len()))
}

/// Keeps the `MAX_ORIGINS` origins with the latest activity (ties by name).
fn prune_origins(visits: &mut VecMap<Visits>) {
    if visits.len() <= MAX_ORIGINS {
        return;
    }
    let mut ranked = Vec::with_capacity(visits.len());
    for (origin, v) in visits.iter() {
        ranked.push((v.2.last().map_or(i64::MIN, |s| s.1), origin.clone()));
    }
    for (_, origin) in least_recent(ranked, MAX_ORIGINS) {
        visits.remove(&origin);
    }
}

/// Union of recent ids, newest first, `RECENT_IDS` kept.
fn merge_recent(mine: &mut Vec<(i64, String)>, theirs: &[(i64, String)]) {
    for tag in theirs {
        if !mine.iter().any(|t| t.1 == tag.1) {
            mine.push(tag.clone());
        }
    }
    crate::util::sort_by(mine, |a, b| b.cmp(a));
    mine.truncate(RECENT_IDS);
}

/// Adds an event at `ts` to visit spans: a gap of `timeout` or more starts a new visit.
fn add_span(spans: &mut Vec<(i64, i64)>, folded: &mut u64, ts: i64, timeout: i64) {
    spans.push((ts, ts));
    crate::util::sort(spans);
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for &(start, end) in spans.iter() {
        match merged.last_mut() {
            Some(last) if start - last.1 < timeout => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    while merged.len() > SPANS {
        merged.remove(0);
        *folded = folded.saturating_add(1);
    }
    *spans = merged;
}

impl Visits {
    /// Visits of this origin: folded ones plus the spans kept.
    pub fn count(&self) -> u64 {
        self.1.saturating_add(self.2.len() as u64)
    }
}
