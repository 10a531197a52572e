//! Offer decisions: eligibility, ranking, fallback, templates and a trace with one reason for
//! every offer not chosen (contract §1, §5).

pub mod template;

use crate::catalog::Bundle;
use crate::error::{Error, ErrorKind};
use crate::hash::fnv1a_64;
use crate::profile::Profile;
use crate::rules::Scope;
use serde::Serialize;
use serde_json::Value;

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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub placement: String,
    pub decision_id: String,
    pub fallback: bool,
    pub items: Vec<Item>,
    pub experiment: Option<ExperimentRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

/// A chosen offer with its rendered content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub offer: String,
    pub tags: Vec<String>,
    pub content: Content,
}

/// Rendered content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// The experiment and variant a decision was made under.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentRef {
    pub id: String,
    pub variant: String,
}

/// Why an offer was or was not chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEntry {
    pub offer: String,
    pub eligible: bool,
    pub reason: String,
}

/// Decides `request.placement` for `profile`.
pub fn decide(bundle: &Bundle, profile: &Profile, request: &Request) -> Decision {
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
        decision.error = Some(Error::new(
            ErrorKind::NotFound,
            "/placement",
            format!("unknown placement {}", request.placement),
        ));
        return decision;
    };
    let data = profile.rule_data(request.context, request.now);
    let scope = Scope {
        data: &data,
        now: request.now,
        audiences: &bundle.audiences,
    };
    let bot = request
        .context
        .pointer("/device/type")
        .and_then(Value::as_str)
        == Some("bot");

    for &i in &placement.offers {
        let full = decision.items.len() >= placement.max_items;
        if full && decision.trace.is_none() {
            break;
        }
        let verdict = eligible(bundle, i, &scope, request.now, bot);
        let (eligible, reason) = match verdict {
            Ok(()) if full => match decision.items.last() {
                Some(last) => (true, format!("ranked below {}", last.offer)),
                None => (true, "placement shows no items".to_owned()),
            },
            Ok(()) => {
                decision.items.push(item(bundle, i, &data));
                continue;
            }
            Err(reason) => (false, reason),
        };
        if let Some(trace) = decision.trace.as_mut() {
            trace.push(TraceEntry {
                offer: bundle.catalog.offers[i].id.clone(),
                eligible,
                reason,
            });
        }
    }
    if let Some(fallback) = placement.fallback {
        if decision.items.is_empty() {
            decision.items.push(item(bundle, fallback, &data));
            decision.fallback = true;
        } else if let Some(trace) = decision.trace.as_mut() {
            let offer = bundle.catalog.offers[fallback].id.clone();
            trace.push(TraceEntry {
                offer,
                eligible: true,
                reason: "fallback, not needed".to_owned(),
            });
        }
    }
    decision
}

/// `Ok` when offer `i` may be shown, else the reason it may not.
fn eligible(bundle: &Bundle, i: usize, scope: &Scope, now: i64, bot: bool) -> Result<(), String> {
    let offer = &bundle.catalog.offers[i];
    let compiled = &bundle.offers[i];
    if bot {
        return Err("bots get fallbacks only".to_owned());
    }
    if offer.experiment_only {
        return Err("shown only as an experiment variant".to_owned());
    }
    if offer.start.is_some_and(|start| now < start) {
        return Err("schedule has not started".to_owned());
    }
    if offer.end.is_some_and(|end| now >= end) {
        return Err("schedule has ended".to_owned());
    }
    if let Some(a) = compiled.audience {
        if !bundle.audiences.get(a).is_some_and(|rule| rule.test(scope)) {
            let name = bundle
                .audience_names
                .get(a)
                .map(String::as_str)
                .unwrap_or_default();
            return Err(format!("audience {name} is false"));
        }
    }
    if let Some(rule) = &compiled.eligibility {
        if !rule.test(scope) {
            return Err("eligibility rule is false".to_owned());
        }
    }
    Ok(())
}

fn item(bundle: &Bundle, i: usize, data: &Value) -> Item {
    let offer = &bundle.catalog.offers[i];
    Item {
        offer: offer.id.clone(),
        tags: offer.tags.clone(),
        content: Content {
            html: bundle.offers[i].html.as_ref().map(|t| t.render(data, true)),
            data: offer
                .content
                .data
                .as_ref()
                .map(|d| template::render_data(d, data)),
        },
    }
}

/// A decision id: 16 hex digits derived from the host's seed and the placement.
fn decision_id(seed: u64, placement: &str) -> String {
    let mut bytes = seed.to_le_bytes().to_vec();
    bytes.extend_from_slice(placement.as_bytes());
    format!("{:016x}", fnv1a_64(&bytes))
}
