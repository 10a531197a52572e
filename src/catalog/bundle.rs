//! Validation and compilation of a catalog into a bundle: every rule compiled once, offers
//! indexed by placement and pre-sorted for priority ranking, a content hash as `version`.

use super::model::Catalog;
use crate::decide::template::Template;
use crate::error::{pointer_token, Error, ErrorKind};
use crate::hash::fnv1a_64;
use crate::rules::{self, Names, Rule};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The key that marks a JSON document as a compiled bundle rather than a catalog.
const BUNDLE_TAG: &str = "rapport_bundle";

/// A validated, compiled catalog, ready to decide with.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Content hash of the catalog: changes exactly when the catalog does.
    pub version: String,
    /// The catalog as authored (after validation).
    pub catalog: Catalog,
    /// Per-offer `{impressions, clicks}` carried into the bundle at publish time.
    pub stats: Value,
    pub(crate) audience_names: Vec<String>,
    pub(crate) audiences: Vec<Rule>,
    pub(crate) offers: Vec<CompiledOffer>,
    pub(crate) placements: BTreeMap<String, CompiledPlacement>,
}

/// An offer with its rules and templates compiled.
#[derive(Debug, Clone)]
pub struct CompiledOffer {
    /// Index of the audience this offer requires.
    pub audience: Option<usize>,
    /// The eligibility rule.
    pub eligibility: Option<Rule>,
    /// The compiled `content.html` template.
    pub html: Option<Template>,
}

/// A placement: its candidate offers in ranking order and its fallback.
#[derive(Debug, Clone, Default)]
pub struct CompiledPlacement {
    /// Indices of candidate offers, sorted by priority (descending) then id (ascending).
    pub offers: Vec<usize>,
    /// Index of the fallback offer.
    pub fallback: Option<usize>,
    /// How many offers the placement shows.
    pub max_items: usize,
}

impl Bundle {
    /// Reads a catalog or a compiled bundle (contract §1: every command takes either).
    pub fn from_json(text: &str) -> Result<Bundle, Vec<Error>> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| vec![Error::new(ErrorKind::Parse, "", format!("not JSON: {e}"))])?;
        Bundle::from_value(value)
    }

    /// Like [`Bundle::from_json`], from a parsed value.
    pub fn from_value(mut value: Value) -> Result<Bundle, Vec<Error>> {
        let mut stats = Value::Object(Default::default());
        let mut prefix = "";
        if value.get(BUNDLE_TAG).is_some() {
            stats = value.get_mut("stats").map(Value::take).unwrap_or(stats);
            value = value
                .get_mut("catalog")
                .map(Value::take)
                .unwrap_or_default();
            prefix = "/catalog";
        }
        let catalog: Catalog = serde_json::from_value(value).map_err(|e| {
            vec![Error::new(
                ErrorKind::Parse,
                prefix,
                format!("not a catalog: {e}"),
            )]
        })?;
        Bundle::compile(catalog, stats)
            .map_err(|errors| errors.into_iter().map(|e| e.under(prefix)).collect())
    }

    /// Validates and compiles a catalog, reporting every error found.
    pub fn compile(catalog: Catalog, stats: Value) -> Result<Bundle, Vec<Error>> {
        let mut errors = Vec::new();
        let audience_names: Vec<String> = catalog.audiences.keys().cloned().collect();
        let computed_names: Vec<String> = catalog.computed.keys().cloned().collect();
        let audience_rules: Vec<(String, Value)> = catalog
            .audiences
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let audiences = rules::compile_audiences(&audience_rules, Some(&computed_names))
            .unwrap_or_else(|e| {
                errors.extend(e.into_iter().map(|e| e.under("/audiences")));
                Vec::new()
            });
        let names = Names {
            audiences: &audience_names,
            computed: Some(&computed_names),
        };

        let mut offers = Vec::with_capacity(catalog.offers.len());
        let mut placements: BTreeMap<String, CompiledPlacement> = catalog
            .placements
            .iter()
            .map(|(id, p)| {
                let max_items = p.max_items.unwrap_or(1) as usize;
                (
                    id.clone(),
                    CompiledPlacement {
                        max_items,
                        ..Default::default()
                    },
                )
            })
            .collect();
        let offer_index: BTreeMap<&str, usize> = catalog
            .offers
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.as_str(), i))
            .collect();

        for (i, offer) in catalog.offers.iter().enumerate() {
            let at = format!("/offers/{i}");
            let audience = offer.audience.as_ref().and_then(|name| {
                let found = audience_names.iter().position(|a| a == name);
                if found.is_none() {
                    errors.push(Error::new(
                        ErrorKind::Invalid,
                        format!("{at}/audience"),
                        format!("unknown audience {name}"),
                    ));
                }
                found
            });
            let eligibility = offer.eligibility.as_ref().and_then(|rule| {
                Rule::compile(rule, &names)
                    .map_err(|e| errors.push(e.under(&format!("{at}/eligibility"))))
                    .ok()
            });
            let html = offer.content.html.as_deref().and_then(|html| {
                Template::parse(html)
                    .map_err(|e| errors.push(e.under(&format!("{at}/content/html"))))
                    .ok()
            });
            for (j, placement) in offer.placements.iter().enumerate() {
                match placements.get_mut(placement) {
                    Some(p) => p.offers.push(i),
                    None => errors.push(Error::new(
                        ErrorKind::Invalid,
                        format!("{at}/placements/{j}"),
                        format!("unknown placement {placement}"),
                    )),
                }
            }
            offers.push(CompiledOffer {
                audience,
                eligibility,
                html,
            });
        }

        for (id, placement) in &catalog.placements {
            let Some(compiled) = placements.get_mut(id) else {
                continue;
            };
            if let Some(fallback) = &placement.fallback {
                let at = format!("/placements/{}/fallback", pointer_token(id));
                match offer_index.get(fallback.as_str()) {
                    Some(&i) => {
                        let offer = &catalog.offers[i];
                        if offer.audience.is_some() || offer.eligibility.is_some() {
                            errors.push(Error::new(
                                ErrorKind::Invalid,
                                at,
                                format!(
                                    "fallback {fallback} must have no audience and no eligibility"
                                ),
                            ));
                        }
                        compiled.fallback = Some(i);
                        compiled.offers.retain(|&o| o != i);
                    }
                    None => errors.push(Error::new(
                        ErrorKind::Invalid,
                        at,
                        format!("unknown offer {fallback}"),
                    )),
                }
            }
            compiled.offers.sort_by(|&a, &b| {
                let (a, b) = (&catalog.offers[a], &catalog.offers[b]);
                b.priority.cmp(&a.priority).then_with(|| a.id.cmp(&b.id))
            });
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        let version = content_version(&catalog);
        Ok(Bundle {
            version,
            catalog,
            stats,
            audience_names,
            audiences,
            offers,
            placements,
        })
    }

    /// The bundle as JSON; `browser` leaves out `edge_only` offers.
    pub fn to_json(&self, browser: bool) -> String {
        let mut catalog = self.catalog.clone();
        if browser {
            catalog.offers.retain(|o| !o.edge_only);
        }
        let version = if browser {
            content_version(&catalog)
        } else {
            self.version.clone()
        };
        json!({ BUNDLE_TAG: 1, "version": version, "catalog": catalog, "stats": self.stats })
            .to_string()
    }

    /// The ids of the catalog's placements.
    pub fn placement_ids(&self) -> impl Iterator<Item = &str> {
        self.placements.keys().map(String::as_str)
    }
}

/// The content hash of a catalog. Serialisation is canonical (struct fields in order, maps sorted),
/// so equal catalogs get equal versions on every runtime.
fn content_version(catalog: &Catalog) -> String {
    let canonical = serde_json::to_string(catalog).unwrap_or_default();
    format!("{:016x}", fnv1a_64(canonical.as_bytes()))
}
