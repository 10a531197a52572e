//! Validation and compilation of a catalog into a bundle: every rule compiled once, offers
//! indexed by placement and pre-sorted for priority ranking, caps, fatigue, suppressions and
//! experiments resolved to indices, a content hash as `version`. Every error is reported, each
//! with the JSON pointer of the field at fault.

use super::model::Catalog;
use crate::decide::template::Template;
use crate::error::{pointer_token, Error, ErrorKind};
use crate::hash::fnv1a_64;
use crate::json;
use crate::json::{Map, Value};
use crate::map::VecMap;
use crate::profile::Schema;
use crate::rules::{self, Names, Rule};
use crate::util::Ids;
use crate::util::{cat, num};
use std::collections::BTreeSet;

/// The key that marks a JSON document as a compiled bundle rather than a catalog.
const BUNDLE_TAG: &str = "rapport_bundle";

/// A validated, compiled catalog, ready to decide with.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Content hash of the catalog: changes exactly when the catalog does.
    pub version: String,
    /// The catalog as authored (after validation); read by [`Bundle::from_compiled`], only what
    /// deciding reads of it (`Catalog::for_deciding`), the rest being compiled.
    pub catalog: Catalog,
    /// Per-offer `{impressions, clicks}` carried into the bundle at publish time.
    pub stats: Value,
    /// What profiles need from the catalog.
    pub schema: Schema,
    pub(crate) audience_names: Vec<String>,
    pub(crate) audiences: Vec<Rule>,
    pub(crate) offers: Vec<CompiledOffer>,
    pub(crate) placements: VecMap<CompiledPlacement>,
    pub(crate) suppressions: Vec<CompiledSuppression>,
    pub(crate) experiments: Vec<CompiledExperiment>,
}

/// An offer with its rules, templates and limits compiled.
#[derive(Debug, Clone)]
pub struct CompiledOffer {
    /// Index of the audience this offer requires.
    pub audience: Option<usize>,
    /// The eligibility rule.
    pub eligibility: Option<Rule>,
    /// The compiled `content.html` template.
    pub html: Option<Template>,
    /// `(hidden counter, max, what it counts)` for each cap, then each fatigue rule that applies.
    pub limits: Vec<(String, u32, String)>,
}

/// How a placement orders its eligible offers.
#[derive(Debug, Clone)]
pub enum Ranking {
    Priority,
    Formula(Rule),
    Bandit,
}

/// A placement: its candidate offers in priority order, its fallback and ranking.
#[derive(Debug, Clone)]
pub struct CompiledPlacement {
    /// Indices of candidate offers, sorted by priority (descending) then id (ascending).
    pub offers: Vec<usize>,
    /// Index of the fallback offer.
    pub fallback: Option<usize>,
    /// How many offers the placement shows.
    pub max_items: usize,
    pub ranking: Ranking,
}

/// A suppression: while `when` holds, offers with any of `tags` are not eligible.
#[derive(Debug, Clone)]
pub struct CompiledSuppression {
    pub when: Rule,
    pub tags: Vec<String>,
}

/// An experiment with its audience and variant offers resolved.
#[derive(Debug, Clone)]
pub struct CompiledExperiment {
    /// Index into `catalog.experiments`.
    pub index: usize,
    pub audience: Option<usize>,
    /// Per variant: the offer's index.
    pub offers: Vec<Option<usize>>,
}

impl Bundle {
    /// Reads a catalog or a compiled bundle (contract §1: every command takes either).
    pub fn from_json(text: &str) -> Result<Bundle, Vec<Error>> {
        Bundle::from_value(parse(text)?)
    }

    /// Reads a compiled bundle of format 2 (`rapport_bundle: 2`, what `GET /v1/bundle?format=2`
    /// and `rapport compile --browser` write): the catalog, and under `compiled` what compiling
    /// it made (rules as trees, audiences and offers as indices, the profile schema resolved;
    /// see [`Bundle::write_compiled`]). Nothing is compiled or resolved again, the catalog's
    /// shape and content hash are trusted, and of the catalog only what deciding reads is read:
    /// such a bundle decides, views and applies events as the edge's, but is not written out
    /// again (its catalog lacks what compiling used).
    ///
    /// This is the browser SDK's loader. Its bundles come from its own edge, which validated the
    /// catalog when it was published; whoever could alter them could alter the page's scripts as
    /// well, so checking them again would protect nothing, and the rules compiler, the resolver
    /// and the checks were a sixth of the SDK's Wasm. What reading does check is what keeps
    /// deciding safe and narrow: every index in range, every rule tree one evaluation can take
    /// (operators known, argument counts, nesting), fallbacks without audience or eligibility,
    /// aggregates and windows known. Anything it cannot read refuses the whole bundle, never
    /// reads as something wider; so does another format, and an SDK a browser has cached never
    /// misreads what a newer edge writes. A bundle written by hand is checked by
    /// `rapport validate`, which takes bundles too.
    pub fn from_compiled(text: &str) -> Result<Bundle, Vec<Error>> {
        let mut value = parse(text)?;
        let refuse = |path: &str, message: &str| Err(vec![invalid(path.to_owned(), message.to_owned())]);
        if value.get(BUNDLE_TAG).and_then(Value::as_u64) != Some(2) {
            let message = "not a compiled bundle of format 2: load what GET /v1/bundle?format=2 or `rapport compile --browser` writes";
            return refuse("/rapport_bundle", message);
        }
        // No NUL: the SDK answers with the version as text, and a NUL first marks a failure there.
        let version = value.get("version").and_then(Value::as_str).filter(|v| !v.bytes().any(|b| b == 0));
        let Some(version) = version.map(str::to_owned) else {
            return refuse("/version", "a compiled bundle carries its version, a string");
        };
        let Some(catalog) = value.get("catalog").filter(|c| c.is_object()).map(Catalog::for_deciding) else {
            return refuse("/catalog", "a compiled bundle carries its catalog, an object");
        };
        let stats = value.get_mut("stats").map(Value::take).unwrap_or(Value::Object(Default::default()));
        let compiled = value.get("compiled").unwrap_or(&Value::Null);
        match Bundle::read_compiled(catalog, stats, compiled) {
            Some(bundle) => Ok(Bundle { version, ..bundle }),
            None => refuse("/compiled", "does not read as the compiled form of its catalog"),
        }
    }

    /// Appends what compiling the catalog made, as format 2 carries it: `{"audiences": [tree…],
    /// "offers": [{"audience"?, "eligibility"?, "limits"}…], "placements": {id: {"offers",
    /// "fallback"?, "max_items", "ranking"}}, "suppressions": [{"when", "tags"}…],
    /// "experiments": [{"index", "audience"?, "offers"}…], "schema"}`, each index into the
    /// catalog's lists (audiences in the order of their names), each rule a compiled tree
    /// (`rules/wire.rs`), a ranking `"priority"`, `"bandit"` or `{"formula": tree}`.
    pub fn write_compiled(&self, out: &mut String) {
        let index = |out: &mut String, key: &str, i: Option<usize>| {
            if let Some(i) = i {
                json::key(out, key);
                json::uint(out, i as u64);
            }
        };
        let indices = |out: &mut String, key: &str, list: &[Option<usize>]| {
            json::key(out, key);
            json::open(out, '[');
            for i in list {
                match i {
                    Some(i) => json::uint(out, *i as u64),
                    None => json::null(out),
                }
            }
            out.push(']');
        };
        json::open(out, '{');
        json::key(out, "audiences");
        json::open(out, '[');
        for rule in &self.audiences {
            rule.write_json(out);
        }
        out.push(']');
        json::key(out, "offers");
        json::open(out, '[');
        for o in &self.offers {
            json::open(out, '{');
            index(out, "audience", o.audience);
            if let Some(rule) = &o.eligibility {
                json::key(out, "eligibility");
                rule.write_json(out);
            }
            json::key(out, "limits");
            json::open(out, '[');
            for (counter, max, what) in &o.limits {
                json::open(out, '[');
                json::string(out, counter);
                json::uint(out, u64::from(*max));
                json::string(out, what);
                out.push(']');
            }
            out.push_str("]}");
        }
        out.push(']');
        json::key(out, "placements");
        json::open(out, '{');
        for (id, p) in &self.placements {
            json::key(out, id);
            json::open(out, '{');
            let offers: Vec<Option<usize>> = p.offers.iter().copied().map(Some).collect();
            indices(out, "offers", &offers);
            index(out, "fallback", p.fallback);
            json::key(out, "max_items");
            json::uint(out, p.max_items as u64);
            json::key(out, "ranking");
            match &p.ranking {
                Ranking::Priority => json::string(out, "priority"),
                Ranking::Bandit => json::string(out, "bandit"),
                Ranking::Formula(rule) => {
                    json::open(out, '{');
                    json::key(out, "formula");
                    rule.write_json(out);
                    out.push('}');
                }
            }
            out.push('}');
        }
        out.push('}');
        json::key(out, "suppressions");
        json::open(out, '[');
        for s in &self.suppressions {
            json::open(out, '{');
            json::key(out, "when");
            s.when.write_json(out);
            json::key(out, "tags");
            json::strings(out, &s.tags);
            out.push('}');
        }
        out.push(']');
        json::key(out, "experiments");
        json::open(out, '[');
        for e in &self.experiments {
            json::open(out, '{');
            index(out, "index", Some(e.index));
            index(out, "audience", e.audience);
            indices(out, "offers", &e.offers);
            out.push('}');
        }
        out.push(']');
        json::key(out, "schema");
        self.schema.write_json(out);
        out.push('}');
    }

    /// Reads what [`Bundle::write_compiled`] wrote for `catalog`; `None` when it does not read
    /// (see [`Bundle::from_compiled`]).
    fn read_compiled(catalog: Catalog, stats: Value, c: &Value) -> Option<Bundle> {
        let mut audience_names = Vec::with_capacity(catalog.audiences.len());
        for name in catalog.audiences.keys() {
            audience_names.push(name.clone());
        }
        let paths = rules::Paths::default();
        let names = Names { audiences: &audience_names, computed: None, paths: Some(&paths) };
        let rule = |tree: &Value| Rule::read(tree, &names);
        let list = |key: &str| c.get(key).and_then(Value::as_array);
        // An index below `len`; `Some(None)` when absent (or, in a list, `null`).
        let below =
            |i: &Value, len: usize| i.as_u64().and_then(|i| usize::try_from(i).ok()).filter(|&i| i < len);
        let index = |v: &Value, key: &str, len: usize| match v.get(key) {
            None => Some(None),
            Some(i) => below(i, len).map(Some),
        };
        let mut audiences = Vec::new();
        for tree in list("audiences")? {
            audiences.push(rule(tree)?);
        }
        if audiences.len() != audience_names.len() {
            return None;
        }
        let mut offers = Vec::new();
        for (o, offer) in list("offers")?.iter().zip(&catalog.offers) {
            let html = match &offer.content.html {
                Some(html) => Some(Template::parse(html).ok()?),
                None => None,
            };
            let mut limits = Vec::new();
            for l in o.get("limits")?.as_array()? {
                let [counter, max, what] = l.as_array()?.as_slice() else { return None };
                let max = u32::try_from(max.as_u64()?).ok()?;
                limits.push((counter.as_str()?.to_owned(), max, what.as_str()?.to_owned()));
            }
            offers.push(CompiledOffer {
                audience: index(o, "audience", audiences.len())?,
                eligibility: match o.get("eligibility") {
                    Some(tree) => Some(rule(tree)?),
                    None => None,
                },
                html,
                limits,
            });
        }
        if offers.len() != catalog.offers.len() {
            return None;
        }
        let offer_list = |v: &Value| {
            let mut out = Vec::new();
            for i in v.get("offers")?.as_array()? {
                out.push(match i {
                    Value::Null => None,
                    i => Some(below(i, offers.len())?),
                });
            }
            Some(out)
        };
        let mut placements = VecMap::new();
        for (id, p) in c.get("placements")?.as_object()? {
            let mut candidates = Vec::new();
            for i in offer_list(p)? {
                candidates.push(i?);
            }
            let fallback = index(p, "fallback", offers.len())?;
            // A fallback is shown to everybody: one with an audience would be an open door.
            if fallback
                .and_then(|f| offers.get(f))
                .is_some_and(|f| f.audience.is_some() || f.eligibility.is_some())
            {
                return None;
            }
            let ranking = match p.get("ranking")? {
                Value::String(s) if s == "priority" => Ranking::Priority,
                Value::String(s) if s == "bandit" => Ranking::Bandit,
                r => Ranking::Formula(rule(r.get("formula")?)?),
            };
            let max_items = usize::try_from(p.get("max_items")?.as_u64()?).ok()?;
            placements
                .insert(id.clone(), CompiledPlacement { offers: candidates, fallback, max_items, ranking });
        }
        // One per authored suppression (deciding pairs them): a missing one would lift a pause.
        let mut suppressions = Vec::new();
        for s in list("suppressions")? {
            let tags = json::read_strings(s.get("tags")?)?;
            suppressions.push(CompiledSuppression { when: rule(s.get("when")?)?, tags });
        }
        if suppressions.len() != catalog.suppressions.len() {
            return None;
        }
        // One offer (or none) per variant, of the experiment's placement: deciding indexes them
        // by variant, and another placement's offer would be an open door.
        let mut experiments = Vec::new();
        for e in list("experiments")? {
            let i = index(e, "index", catalog.experiments.len())??;
            let authored = catalog.experiments.get(i)?;
            let variant_offers = offer_list(e)?;
            let elsewhere = |o: &Option<usize>| {
                o.and_then(|o| catalog.offers.get(o))
                    .is_some_and(|o| !o.placements.contains(&authored.placement))
            };
            if variant_offers.len() != authored.variants.len() || variant_offers.iter().any(elsewhere) {
                return None;
            }
            experiments.push(CompiledExperiment {
                index: i,
                audience: index(e, "audience", audiences.len())?,
                offers: variant_offers,
            });
        }
        let schema = Schema::read(c.get("schema")?)?;
        // A limit on a counter that is not kept would never be reached.
        for o in &offers {
            if o.limits.iter().any(|(counter, ..)| schema.def(counter).is_none()) {
                return None;
            }
        }
        Some(Bundle {
            version: String::new(),
            catalog,
            stats,
            schema,
            audience_names,
            audiences,
            offers,
            placements,
            suppressions,
            experiments,
        })
    }

    /// Like [`Bundle::from_json`], from a parsed value.
    pub fn from_value(mut value: Value) -> Result<Bundle, Vec<Error>> {
        let mut stats = Value::Object(Default::default());
        let mut prefix = "";
        if value.get(BUNDLE_TAG).is_some() {
            stats = value.get_mut("stats").map(Value::take).unwrap_or(stats);
            value = value.get_mut("catalog").map(Value::take).unwrap_or_default();
            prefix = "/catalog";
        }
        let (mut errors, blocking) = super::shape::check(&value);
        let compiled =
            if blocking { Err(Vec::new()) } else { Bundle::compile(Catalog::from_checked(&value), stats) };
        match compiled {
            Ok(bundle) if errors.is_empty() => return Ok(bundle),
            Ok(_) => {}
            Err(more) => errors.extend(more),
        }
        for e in &mut errors {
            e.path.insert_str(0, prefix);
        }
        Err(errors)
    }

    /// Validates and compiles a catalog, reporting every error found.
    pub fn compile(catalog: Catalog, stats: Value) -> Result<Bundle, Vec<Error>> {
        let bundle = Bundle::resolve(catalog, stats)?;
        Ok(Bundle { version: content_version(&bundle.catalog), ..bundle })
    }

    /// Compiles a catalog's rules and resolves its references, with every error found; the
    /// version is left to [`Bundle::compile`].
    fn resolve(catalog: Catalog, stats: Value) -> Result<Bundle, Vec<Error>> {
        let mut errors = Vec::new();
        let mut audience_names = Vec::with_capacity(catalog.audiences.len());
        let mut audience_rules = Vec::with_capacity(catalog.audiences.len());
        for (name, rule) in &catalog.audiences {
            audience_names.push(name.clone());
            audience_rules.push((name.clone(), rule.clone()));
        }
        let mut computed_names = Vec::with_capacity(catalog.computed.len());
        for name in catalog.computed.keys() {
            computed_names.push(name.clone());
        }
        let paths = rules::Paths::default();
        let audiences = rules::compile_audiences(&audience_rules, Some(&computed_names), Some(&paths))
            .unwrap_or_else(|e| {
                for e in e {
                    errors.push(e.under("/audiences"));
                }
                Vec::new()
            });
        let names =
            Names { audiences: &audience_names, computed: Some(&computed_names), paths: Some(&paths) };
        let schema = Schema::compile(&catalog, &mut errors);
        let audience_index = |name: &str, at: String, errors: &mut Vec<Error>| {
            let found = audience_names.iter().position(|a| a == name);
            if found.is_none() {
                errors.push(invalid(at, cat(&["unknown audience ", name])));
            }
            found
        };
        let compile_rule = |rule: &Value, at: &str, errors: &mut Vec<Error>| {
            Rule::compile(rule, &names).map_err(|e| errors.push(e.under(at))).ok()
        };

        let mut placements: VecMap<CompiledPlacement> = VecMap::new();
        for (id, p) in &catalog.placements {
            let at = cat(&["/placements/", &pointer_token(id)]);
            let ranking = match &p.ranking {
                None => Ranking::Priority,
                Some(Value::String(s)) if s == "priority" => Ranking::Priority,
                Some(Value::String(s)) if s == "bandit" => Ranking::Bandit,
                Some(Value::Object(m)) if m.len() == 1 && m.contains_key("formula") => {
                    let formula = m.get("formula").unwrap_or(&Value::Null);
                    match compile_rule(formula, &cat(&[&at, "/ranking/formula"]), &mut errors) {
                        Some(rule) => Ranking::Formula(rule),
                        None => Ranking::Priority,
                    }
                }
                Some(_) => {
                    errors.push(invalid(
                        cat(&[&at, "/ranking"]),
                        "ranking is \"priority\", \"bandit\" or {\"formula\": RULE}".to_owned(),
                    ));
                    Ranking::Priority
                }
            };
            let max_items = p.max_items.unwrap_or(1) as usize;
            placements.insert(
                id.clone(),
                CompiledPlacement { offers: Vec::new(), fallback: None, max_items, ranking },
            );
        }

        let offer_ids = Ids::of(&catalog.offers, |o| &o.id);
        let mut offers = Vec::with_capacity(catalog.offers.len());
        for (i, offer) in catalog.offers.iter().enumerate() {
            let at = cat(&["/offers/", &num(i as u64)]);
            if offer_ids.repeated(i) {
                errors.push(invalid(cat(&[&at, "/id"]), cat(&["offer id ", &offer.id, " is used twice"])));
            }
            let audience = offer
                .audience
                .as_ref()
                .and_then(|n| audience_index(n, cat(&[&at, "/audience"]), &mut errors));
            let eligibility = offer
                .eligibility
                .as_ref()
                .and_then(|r| compile_rule(r, &cat(&[&at, "/eligibility"]), &mut errors));
            let html = offer.content.html.as_deref().and_then(|html| {
                Template::parse(html).map_err(|e| errors.push(e.under(&cat(&[&at, "/content/html"])))).ok()
            });
            if let Some(data) = &offer.content.data {
                check_templates(data, &cat(&[&at, "/content/data"]), &mut errors);
            }
            check_schedule(offer.start, offer.end, &at, &mut errors);
            if offer.placements.is_empty() {
                errors.push(invalid(
                    cat(&[&at, "/placements"]),
                    "an offer needs at least one placement".to_owned(),
                ));
            }
            for (j, placement) in offer.placements.iter().enumerate() {
                match placements.get_mut(placement) {
                    Some(p) => p.offers.push(i),
                    None => errors.push(invalid(
                        cat(&[&at, "/placements/", &num(j as u64)]),
                        cat(&["unknown placement ", placement]),
                    )),
                }
            }
            let mut limits: Vec<(String, u32, String)> = Vec::with_capacity(offer.caps.len());
            for cap in &offer.caps {
                let on = cap.on.as_deref().unwrap_or("impression");
                let what = cat(&["cap of ", &num(cap.max as u64), " ", on, "s in ", &cap.window]);
                limits.push((Schema::cap_name(&offer.id, on, &cap.window), cap.max, what));
            }
            for fatigue in &catalog.settings.fatigue {
                if offer.tags.iter().any(|t| fatigue.tags.contains(t)) {
                    let name = Schema::fatigue_name(&fatigue.tags, &fatigue.window);
                    let what = cat(&[
                        "fatigue limit of ",
                        &num(fatigue.max as u64),
                        " ",
                        &crate::util::join(&fatigue.tags, "/"),
                        " impressions in ",
                        &fatigue.window,
                    ]);
                    limits.push((name, fatigue.max, what));
                }
            }
            offers.push(CompiledOffer { audience, eligibility, html, limits });
        }

        for (id, placement) in &catalog.placements {
            let Some(compiled) = placements.get_mut(id) else { continue };
            if let Some(fallback) = &placement.fallback {
                let at = cat(&["/placements/", &pointer_token(id), "/fallback"]);
                match offer_ids.find(fallback) {
                    Some(i) => {
                        let offer = &catalog.offers[i];
                        // A fallback is shown to everybody: one with an audience would be an open
                        // door (format 2's reading checks it too).
                        if offer.audience.is_some() || offer.eligibility.is_some() {
                            errors.push(invalid(
                                at,
                                cat(&["fallback ", fallback, " must have no audience and no eligibility"]),
                            ));
                        } else if !offer.placements.contains(id) {
                            errors.push(invalid(
                                at,
                                cat(&["fallback ", fallback, " is not an offer of placement ", id]),
                            ));
                        }
                        compiled.fallback = Some(i);
                        compiled.offers.retain(|&o| o != i);
                    }
                    None => errors.push(invalid(at, cat(&["unknown offer ", fallback]))),
                }
            }
            crate::util::sort_by(&mut compiled.offers, |&a, &b| {
                let (a, b) = (&catalog.offers[a], &catalog.offers[b]);
                b.priority.cmp(&a.priority).then_with(|| a.id.cmp(&b.id))
            });
        }

        let mut suppressions = Vec::new();
        let suppression_ids = Ids::of(&catalog.suppressions, |s| &s.id);
        for (i, s) in catalog.suppressions.iter().enumerate() {
            let at = cat(&["/suppressions/", &num(i as u64)]);
            if suppression_ids.repeated(i) {
                errors.push(invalid(cat(&[&at, "/id"]), cat(&["suppression id ", &s.id, " is used twice"])));
            }
            if let Some(when) = compile_rule(&s.when, &cat(&[&at, "/when"]), &mut errors) {
                suppressions.push(CompiledSuppression { when, tags: s.tags.clone() });
            }
        }

        let mut experiments = Vec::new();
        let experiment_ids = Ids::of(&catalog.experiments, |e| &e.id);
        for (i, e) in catalog.experiments.iter().enumerate() {
            let at = cat(&["/experiments/", &num(i as u64)]);
            let audience =
                e.audience.as_ref().and_then(|n| audience_index(n, cat(&[&at, "/audience"]), &mut errors));
            if experiment_ids.repeated(i) {
                errors.push(invalid(cat(&[&at, "/id"]), cat(&["experiment id ", &e.id, " is used twice"])));
            }
            if !placements.contains_key(&e.placement) {
                errors.push(invalid(cat(&[&at, "/placement"]), cat(&["unknown placement ", &e.placement])));
            }
            if !(0.0..=100.0).contains(&e.traffic) {
                errors.push(invalid(cat(&[&at, "/traffic"]), "traffic is a percentage, 0 to 100".to_owned()));
            }
            check_schedule(e.start, e.end, &at, &mut errors);
            if e.variants.is_empty() {
                errors.push(invalid(
                    cat(&[&at, "/variants"]),
                    "an experiment needs at least one variant".to_owned(),
                ));
            }
            let (mut weights, mut whole, mut within) = (0.0, true, true);
            for v in &e.variants {
                weights += v.weight;
                whole &= v.weight >= 0.0 && v.weight.fract() == 0.0;
                within &= v.weight <= MAX_WEIGHT;
            }
            if !whole {
                errors
                    .push(invalid(cat(&[&at, "/variants"]), "weights are non-negative integers".to_owned()));
            } else if !within {
                errors.push(invalid(
                    cat(&[&at, "/variants"]),
                    "weights are at most 9007199254740992 (2^53, the largest whole number a JSON number holds exactly)"
                        .to_owned(),
                ));
            } else if !e.variants.is_empty() && weights <= 0.0 {
                errors.push(invalid(cat(&[&at, "/variants"]), "weights sum to 0".to_owned()));
            }
            let variant_ids = Ids::of(&e.variants, |v| &v.id);
            let mut variant_offers = Vec::new();
            for (j, v) in e.variants.iter().enumerate() {
                if variant_ids.repeated(j) {
                    errors.push(invalid(
                        cat(&[&at, "/variants/", &num(j as u64), "/id"]),
                        cat(&["variant id ", &v.id, " is used twice"]),
                    ));
                }
                variant_offers.push(v.offer.as_ref().and_then(|o| match offer_ids.find(o) {
                    Some(k) if catalog.offers[k].placements.contains(&e.placement) => Some(k),
                    Some(_) => {
                        errors.push(invalid(
                            cat(&[&at, "/variants/", &num(j as u64), "/offer"]),
                            cat(&["offer ", o, " is not an offer of placement ", &e.placement]),
                        ));
                        None
                    }
                    None => {
                        errors.push(invalid(
                            cat(&[&at, "/variants/", &num(j as u64), "/offer"]),
                            cat(&["unknown offer ", o]),
                        ));
                        None
                    }
                }));
            }
            experiments.push(CompiledExperiment { index: i, audience, offers: variant_offers });
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Bundle {
            version: String::new(),
            catalog,
            stats,
            schema,
            audience_names,
            audiences,
            offers,
            placements,
            suppressions,
            experiments,
        })
    }

    /// The bundle as JSON; `browser` leaves out `edge_only` offers. Not for a bundle read by
    /// [`Bundle::from_compiled`], whose catalog holds only what deciding reads (so for `export`
    /// and `export_compiled`).
    pub fn to_json(&self, browser: bool) -> String {
        self.export(browser).1
    }

    /// The bundle as JSON with its version (for the browser bundle, the hash of what it keeps),
    /// so a host can label it (an `ETag`) without reading it back.
    pub fn export(&self, browser: bool) -> (String, String) {
        let catalog = if browser { self.browser_catalog() } else { self.catalog.clone() };
        let version = if browser { content_version(&catalog) } else { self.version.clone() };
        // As a `Value` (keys sorted), as the bundle has always been written.
        let mut bundle = Map::new();
        bundle.insert(BUNDLE_TAG.to_owned(), Value::from(1));
        bundle.insert("version".to_owned(), Value::String(version.clone()));
        bundle.insert("catalog".to_owned(), json::parse(&catalog.to_json()).unwrap_or_default());
        bundle.insert("stats".to_owned(), self.stats.clone());
        (version, json::object_text(&bundle))
    }

    /// The browser's bundle in format 2 (see [`Bundle::from_compiled`]), with its version: the
    /// browser catalog (no `edge_only` offers), compiled again so that its indices are its own.
    /// It is read back before it is answered: its JSON nests deeper than the catalog's, and a
    /// rule near the parser's depth limit that compiled in the catalog would not read there.
    pub fn export_compiled(&self) -> Result<(String, String), Vec<Error>> {
        let browser = Bundle::compile(self.browser_catalog(), self.stats.clone())?;
        let text = json::written(|out| {
            json::open(out, '{');
            json::key(out, BUNDLE_TAG);
            json::uint(out, 2);
            json::key(out, "version");
            json::string(out, &browser.version);
            json::key(out, "catalog");
            browser.catalog.write_json(out);
            json::key(out, "compiled");
            browser.write_compiled(out);
            json::key(out, "stats");
            json::value(out, &browser.stats);
            out.push('}');
        });
        if let Err(errors) = Bundle::from_compiled(&text) {
            let why = errors.first().map(Error::text).unwrap_or_default();
            let message = cat(&["the browser bundle (format 2) does not read back, most likely a rule nested too deeply for it: ", &why]);
            return Err(vec![invalid(String::new(), message)]);
        }
        Ok((browser.version, text))
    }

    /// The catalog without its `edge_only` offers, and without references to them.
    fn browser_catalog(&self) -> Catalog {
        let mut catalog = self.catalog.clone();
        catalog.offers.retain(|o| !o.edge_only);
        let kept: BTreeSet<&str> = catalog.offers.iter().map(|o| o.id.as_str()).collect();
        for p in catalog.placements.values_mut() {
            p.fallback = p.fallback.take().filter(|f| kept.contains(f.as_str()));
        }
        for e in &mut catalog.experiments {
            for v in &mut e.variants {
                v.offer = v.offer.take().filter(|o| kept.contains(o.as_str()));
            }
        }
        catalog
    }

    /// Every audience's verdict for `data` at `now` (for profile views and debugging).
    pub fn audiences(&self, data: &Value, now: i64) -> Map {
        let scope = rules::Scope::new(data, now, &self.audiences);
        let mut verdicts = Map::new();
        for (name, rule) in self.audience_names.iter().zip(&self.audiences) {
            verdicts.insert(name.clone(), Value::Bool(rule.test(&scope)));
        }
        verdicts
    }

    /// The profile view of `profile` at `now`, audiences evaluated with an empty context.
    pub fn view(&self, profile: &crate::Profile, now: i64) -> crate::profile::View {
        let data = profile.rule_data(&self.schema, &Value::Object(Default::default()), now);
        profile.view(&self.schema, now, self.audiences(&data, now))
    }

    /// The ids of the catalog's placements.
    pub fn placement_ids(&self) -> impl Iterator<Item = &str> {
        self.placements.keys().map(String::as_str)
    }
}

/// An offer's or experiment's schedule (at `at`) must end after it starts.
fn check_schedule(start: Option<i64>, end: Option<i64>, at: &str, errors: &mut Vec<Error>) {
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            errors.push(invalid(cat(&[at, "/end"]), "end must be after start".to_owned()));
        }
    }
}

/// Template strings inside `content.data` must parse.
fn check_templates(value: &Value, at: &str, errors: &mut Vec<Error>) {
    match value {
        Value::String(s) => {
            if let Err(e) = Template::parse(s) {
                errors.push(e.under(at));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_templates(v, &cat(&[at, "/", &num(i as u64)]), errors);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                check_templates(v, &cat(&[at, "/", &pointer_token(k)]), errors);
            }
        }
        _ => {}
    }
}

/// The largest variant weight: allocation computes with weights exactly, as integers.
const MAX_WEIGHT: f64 = 9_007_199_254_740_992.0;

/// The text as JSON, or the one error that says why not.
fn parse(text: &str) -> Result<Value, Vec<Error>> {
    json::parse(text).map_err(|e| vec![Error::new(ErrorKind::Parse, "", cat(&["not JSON: ", &e.text()]))])
}

fn invalid(path: String, message: String) -> Error {
    Error::new(ErrorKind::Invalid, path, message)
}

/// The content hash of a catalog. Serialisation is canonical (struct fields in order, maps sorted),
/// so equal catalogs get equal versions on every runtime.
fn content_version(catalog: &Catalog) -> String {
    let canonical = catalog.to_json();
    crate::util::hex(fnv1a_64(canonical.as_bytes()), 16)
}
