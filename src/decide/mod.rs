//! Offer decisions: eligibility, ranking, fallback, templates and a trace with one reason for
//! every offer not chosen (contract §1, §5).

mod experiment;
pub mod sample;
pub mod template;

use crate::catalog::{Bundle, CompiledPlacement, Ranking};
use crate::error::{Error, ErrorKind};
use crate::hash::fnv1a_64;
use crate::json;
use crate::json::Value;
use crate::profile::Consent;
use crate::profile::Profile;
use crate::rules::Scope;
use crate::util::cat;

/// What a caller asks for: one placement, in a context, at a time, with a seed.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The placement to fill.
    pub placement: &'a str,
    /// The request context (`page`, `geo`, `device`, …).
    pub context: &'a Value,
    /// Milliseconds since the epoch.
    pub now: i64,
    /// Per-decision randomness from the host; the decision id derives from it.
    pub seed: u64,
    /// Whether to explain every offer not chosen.
    pub trace: bool,
}

/// One decision for one placement.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub placement: String,
    pub decision_id: String,
    pub fallback: bool,
    pub items: Vec<Item>,
    pub experiment: Option<ExperimentRef>,
    pub trace: Option<Vec<TraceEntry>>,
    pub error: Option<Error>,
}

/// A chosen offer with its rendered content.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub offer: String,
    pub tags: Vec<String>,
    pub content: Content,
}

/// Rendered content.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub html: Option<String>,
    pub data: Option<Value>,
}

/// The experiment and variant a decision was made under.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRef {
    pub id: String,
    pub variant: String,
}

/// Why an offer was or was not chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    pub offer: String,
    pub eligible: bool,
    pub reason: String,
}

impl Decision {
    /// Appends `{placement, decision_id, fallback, items, experiment, trace?, error?}`.
    pub fn write_json(&self, out: &mut String) {
        json::open(out, '{');
        json::key(out, "placement");
        json::string(out, &self.placement);
        json::key(out, "decision_id");
        json::string(out, &self.decision_id);
        json::key(out, "fallback");
        json::boolean(out, self.fallback);
        json::key(out, "items");
        json::open(out, '[');
        for item in &self.items {
            json::open(out, '{');
            json::key(out, "offer");
            json::string(out, &item.offer);
            json::key(out, "tags");
            json::strings(out, &item.tags);
            json::key(out, "content");
            json::open(out, '{');
            if let Some(html) = &item.content.html {
                json::key(out, "html");
                json::string(out, html);
            }
            if let Some(data) = &item.content.data {
                json::key(out, "data");
                json::value(out, data);
            }
            out.push_str("}}");
        }
        out.push(']');
        json::key(out, "experiment");
        match &self.experiment {
            Some(e) => {
                json::open(out, '{');
                json::key(out, "id");
                json::string(out, &e.id);
                json::key(out, "variant");
                json::string(out, &e.variant);
                out.push('}');
            }
            None => json::null(out),
        }
        if let Some(trace) = &self.trace {
            json::key(out, "trace");
            json::open(out, '[');
            for t in trace {
                json::open(out, '{');
                json::key(out, "offer");
                json::string(out, &t.offer);
                json::key(out, "eligible");
                json::boolean(out, t.eligible);
                json::key(out, "reason");
                json::string(out, &t.reason);
                out.push('}');
            }
            out.push(']');
        }
        if let Some(error) = &self.error {
            json::key(out, "error");
            error.write_json(out);
        }
        out.push('}');
    }

    /// The decision as JSON text.
    pub fn to_json(&self) -> String {
        json::written(|out| self.write_json(out))
    }
}

json::serialize_as_text!(Decision);

/// Decides `request.placement` for `profile`. The only thing a decision records on the profile
/// is a new experiment assignment (contract §5).
pub fn decide(bundle: &Bundle, profile: &mut Profile, request: &Request) -> Decision {
    let mut decision = Decision {
        placement: request.placement.to_owned(),
        decision_id: decision_id(request.seed, request.placement),
        fallback: false,
        items: Vec::new(),
        experiment: None,
        trace: request.trace.then(Vec::new),
        error: None,
    };
    let Some(placement) = bundle.placements.get(request.placement) else {
        let message = cat(&["unknown placement ", request.placement]);
        decision.error = Some(Error::new(ErrorKind::NotFound, "/placement", message));
        return decision;
    };
    let now = request.now;
    let bot =
        request.context.get("device").and_then(|d| d.get("type")).and_then(Value::as_str) == Some("bot");
    let granted = profile.consent(&bundle.schema) == Consent::Granted;
    let data = profile.rule_data(&bundle.schema, request.context, now);
    let scope = Scope::new(&data, now, &bundle.audiences);

    let assignment =
        if bot || !granted { None } else { experiment::assign(bundle, profile, request.placement, &scope) };
    let variant_offer = assignment.and_then(|(e, v)| bundle.experiments[e].offers[v]);
    if let Some((e, v)) = assignment {
        let experiment = &bundle.catalog.experiments[bundle.experiments[e].index];
        decision.experiment =
            Some(ExperimentRef { id: experiment.id.clone(), variant: experiment.variants[v].id.clone() });
    }

    let mut suppressed: Vec<(&str, &[String])> = Vec::new();
    for (s, authored) in bundle.suppressions.iter().zip(&bundle.catalog.suppressions) {
        if s.when.test(&scope) {
            suppressed.push((authored.id.as_str(), s.tags.as_slice()));
        }
    }
    let check =
        Check { bundle, profile, scope: &scope, now, bot, granted, suppressed: &suppressed, variant_offer };
    let mut eligible = Vec::new();
    let mut trace = Vec::new();
    for &i in &placement.offers {
        match check.eligible(i) {
            Ok(()) => eligible.push(i),
            Err(reason) => trace.push((i, false, reason)),
        }
    }

    let ranked = rank(bundle, placement, eligible, &data, request.seed, variant_offer);
    for i in ranked {
        if decision.items.len() < placement.max_items {
            decision.items.push(item(bundle, i, &data));
        } else {
            let reason = match decision.items.last() {
                Some(last) => cat(&["ranked below ", &last.offer]),
                None => "the placement shows no items".to_owned(),
            };
            trace.push((i, true, reason));
        }
    }
    if let Some(fallback) = placement.fallback {
        if decision.items.is_empty() {
            decision.items.push(item(bundle, fallback, &data));
            decision.fallback = true;
        } else {
            trace.push((fallback, true, "fallback, not needed".to_owned()));
        }
    }
    if let Some(entries) = decision.trace.as_mut() {
        for (i, eligible, reason) in trace {
            entries.push(TraceEntry { offer: bundle.catalog.offers[i].id.clone(), eligible, reason });
        }
    }
    decision
}

/// Everything eligibility depends on, for one decision.
struct Check<'a> {
    bundle: &'a Bundle,
    profile: &'a Profile,
    scope: &'a Scope<'a>,
    now: i64,
    bot: bool,
    granted: bool,
    suppressed: &'a [(&'a str, &'a [String])],
    variant_offer: Option<usize>,
}

impl Check<'_> {
    /// `Ok` when offer `i` may be shown, else the reason it may not.
    fn eligible(&self, i: usize) -> Result<(), String> {
        let bundle = self.bundle;
        let offer = &bundle.catalog.offers[i];
        let compiled = &bundle.offers[i];
        if self.bot {
            return Err("bots get fallbacks only".to_owned());
        }
        if offer.experiment_only && self.variant_offer != Some(i) {
            return Err("shown only as an experiment variant".to_owned());
        }
        if offer.start.is_some_and(|start| self.now < start) {
            return Err("schedule has not started".to_owned());
        }
        if offer.end.is_some_and(|end| self.now >= end) {
            return Err("schedule has ended".to_owned());
        }
        if let Some((id, _)) =
            self.suppressed.iter().find(|(_, tags)| offer.tags.iter().any(|t| tags.contains(t)))
        {
            return Err(cat(&["suppressed by ", id]));
        }
        if self.granted {
            for (counter, max, what) in &compiled.limits {
                let count =
                    self.profile.computed_value(&bundle.schema, counter, self.now).as_u64().unwrap_or(0);
                if count >= u64::from(*max) {
                    return Err(cat(&[what, " reached"]));
                }
            }
        }
        if let Some(a) = compiled.audience {
            if !bundle.audiences.get(a).is_some_and(|rule| rule.test(self.scope)) {
                let name = bundle.audience_names.get(a).map(String::as_str).unwrap_or_default();
                return Err(cat(&["audience ", name, " is false"]));
            }
        }
        if let Some(rule) = &compiled.eligibility {
            if !rule.test(self.scope) {
                return Err("eligibility rule is false".to_owned());
            }
        }
        Ok(())
    }
}

/// Orders the eligible offers (given in priority order): the experiment variant's offer first,
/// then by the placement's ranking; ties keep priority order (higher priority, then id).
fn rank(
    bundle: &Bundle,
    placement: &CompiledPlacement,
    mut eligible: Vec<usize>,
    data: &Value,
    seed: u64,
    variant_offer: Option<usize>,
) -> Vec<usize> {
    match &placement.ranking {
        Ranking::Priority => {}
        Ranking::Formula(rule) => {
            // The formula sees the rule data plus `offer`; a copy keeps `data` as it was.
            let mut data = data.clone();
            let mut scored: Vec<(f64, usize)> = Vec::with_capacity(eligible.len());
            for &i in &eligible {
                let offer = &bundle.catalog.offers[i];
                if let Value::Object(map) = &mut data {
                    let mut view = crate::json::Map::new();
                    view.insert("id".to_owned(), Value::String(offer.id.clone()));
                    view.insert("priority".to_owned(), Value::from(offer.priority));
                    let mut tags = Vec::with_capacity(offer.tags.len());
                    for t in &offer.tags {
                        tags.push(Value::String(t.clone()));
                    }
                    view.insert("tags".to_owned(), Value::Array(tags));
                    map.insert("offer".to_owned(), Value::Object(view));
                }
                let scope = Scope::new(&data, 0, &bundle.audiences);
                let score =
                    rule.evaluate(&scope).as_f64().filter(|f| f.is_finite()).unwrap_or(f64::NEG_INFINITY);
                scored.push((score, i));
            }
            eligible = by_score(&scored);
        }
        Ranking::Bandit => {
            let mut rng = sample::Rng::new(seed ^ 0x7468_6f6d_7073_6f6e);
            let mut sampled: Vec<(f64, usize)> = Vec::with_capacity(eligible.len());
            for &i in &eligible {
                // Offer ids are identifiers: no `/` or `~` to escape in a pointer.
                let stats = bundle.stats.get("offers").and_then(|o| o.get(&bundle.catalog.offers[i].id));
                let count =
                    |k: &str| stats.and_then(|s| s.get(k)).and_then(Value::as_u64).unwrap_or(0) as f64;
                let (shown, clicked) = (count("impressions"), count("clicks"));
                let clicked = clicked.min(shown);
                sampled.push((rng.beta(clicked + 1.0, shown - clicked + 1.0), i));
            }
            eligible = by_score(&sampled);
        }
    }
    if let Some(v) = variant_offer {
        if let Some(pos) = eligible.iter().position(|&i| i == v) {
            let chosen = eligible.remove(pos);
            eligible.insert(0, chosen);
        }
    }
    eligible
}

/// The offers of `(score, offer)` pairs, highest score first (ties keep their order).
fn by_score(scored: &[(f64, usize)]) -> Vec<usize> {
    let order = crate::util::sorted_indices(scored.len(), &|a, b| scored[b].0.total_cmp(&scored[a].0));
    let mut offers = Vec::with_capacity(order.len());
    for k in order {
        offers.push(scored[k].1);
    }
    offers
}

fn item(bundle: &Bundle, i: usize, data: &Value) -> Item {
    let offer = &bundle.catalog.offers[i];
    Item {
        offer: offer.id.clone(),
        tags: offer.tags.clone(),
        content: Content {
            html: bundle.offers[i].html.as_ref().map(|t| t.render(data, true)),
            data: offer.content.data.as_ref().map(|d| template::render_data(d, data)),
        },
    }
}

/// A decision id: 16 hex digits derived from the host's seed and the placement.
fn decision_id(seed: u64, placement: &str) -> String {
    let mut bytes = seed.to_le_bytes().to_vec();
    bytes.extend_from_slice(placement.as_bytes());
    crate::util::hex(fnv1a_64(&bytes), 16)
}
