//! Offer statistics: impressions, clicks and conversions per offer, per experiment variant and
//! per day, counted in one Durable Object (`STATS`), whose single-threaded storage makes every
//! increment count exactly once. Publishing a catalog carries the per-offer counts into the
//! bundle's `stats`, which `bandit` ranking samples from.
//!
//! Each increment names its event (`visitor:event id`) and the object counts an event once
//! (it keeps the keys it counted for 30 days, at most 200,000), so the worker can send a
//! retried batch's events again: a request that failed after the visitor's profile object had
//! applied them still gets them counted, and nothing counts twice.
//!
//! One object serves every visitor: fine for a store's traffic; a busy site would shard by offer.

use crate::ledger::Ledger;
use rapport::json;
use rapport::json::{Map, Value};
use rapport::profile::Event;
use rapport::{Bundle, Profile};
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, State};

/// The Durable Object binding.
pub const BINDING: &str = "STATS";
/// How long and how many event keys the object remembers having counted.
const COUNTED_MS: i64 = 30 * 24 * 3_600_000;
const COUNTED_MAX: i64 = 200_000;
const KINDS: [&str; 3] = ["impressions", "clicks", "conversions"];

/// What one event of `visitor` adds: its kind, its offer, the experiment variants it is
/// credited to, its day, and the key it is counted once under.
pub fn increments(bundle: &Bundle, visitor: &str, profile: &Profile, events: &[&Event]) -> Vec<Value> {
    let mut out = Vec::new();
    for event in events {
        let kind = match event.kind.as_str() {
            "impression" => "impressions",
            "click" => "clicks",
            "conversion" | "purchase" => "conversions",
            _ => continue,
        };
        let offer = event.props.get("offer").and_then(Value::as_str);
        let placement = event.props.get("placement").and_then(Value::as_str);
        let variants: Vec<Value> = bundle
            .catalog
            .experiments
            .iter()
            .filter(|e| kind == "conversions" || Some(e.placement.as_str()) == placement)
            .filter_map(|e| profile.experiments.get(&e.id).map(|(_, v)| json!([e.id, v])))
            .collect();
        let key = format!("{visitor}:{}", event.id);
        out.push(
            json!({ "key": key, "kind": kind, "offer": offer, "variants": variants, "day": day(event.ts) }),
        );
    }
    out
}

/// Sends increments to the stats object (nothing when there are none).
pub async fn record(env: &Env, increments: Vec<Value>) -> Result<()> {
    if increments.is_empty() {
        return Ok(());
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(json!(increments).to_string().into()));
    let request = Request::new_with_init("https://stats/add", &init)?;
    stub(env)?.fetch_with_request(request).await?;
    Ok(())
}

/// The whole stats document.
pub async fn read(env: &Env) -> Result<Value> {
    let mut response = stub(env)?.fetch_with_str("https://stats/").await?;
    crate::parse_json(&response.text().await?)
}

/// Per-offer `{impressions, clicks}`, the shape `bandit` ranking reads from a bundle's stats.
pub fn for_bundle(stats: &Value) -> Value {
    let offers: Map = stats
        .get("offers")
        .and_then(Value::as_object)
        .map(|offers| {
            offers
                .iter()
                .map(|(id, c)| {
                    (id.clone(), json!({ "impressions": c["impressions"], "clicks": c["clicks"] }))
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "offers": offers })
}

fn stub(env: &Env) -> Result<worker::Stub> {
    env.durable_object(BINDING)?.id_from_name("global")?.get_stub()
}

/// `YYYY-MM-DD` (UTC) of a timestamp in ms.
fn day(ts: i64) -> String {
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = ts.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn bump(doc: &mut Value, path: &[&str], kind: &str) {
    let mut at = doc;
    for key in path {
        let Some(map) = object_mut(at) else { return };
        at = map.get_or_insert_with(key, || Value::Object(Map::new()));
    }
    let Some(counts) = object_mut(at) else { return };
    for k in KINDS {
        counts.get_or_insert_with(k, || json!(0));
    }
    let n = counts.get(kind).and_then(Value::as_u64).unwrap_or(0);
    counts.insert(kind.to_owned(), json!(n + 1));
}

/// `v` as an object, first made an empty one when it is anything else.
fn object_mut(v: &mut Value) -> Option<&mut Map> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut()
}

/// The counting object.
#[durable_object]
pub struct Stats {
    state: State,
}

impl DurableObject for Stats {
    fn new(state: State, _env: Env) -> Self {
        Stats { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let storage = self.state.storage();
        let text: Option<String> = storage.get("stats").await?;
        let mut doc: Value = text.and_then(|t| json::parse(&t).ok()).unwrap_or_else(|| json!({}));
        if req.method() == Method::Post {
            let adds = crate::parse_json(&req.text().await?)?;
            let adds = adds.as_array().map(Vec::as_slice).unwrap_or_default();
            let counted = Ledger::open(&storage, "counted", "key", COUNTED_MS, COUNTED_MAX)?;
            for add in adds {
                let Some(kind) = add["kind"].as_str().filter(|k| KINDS.contains(k)) else { continue };
                let Some(key) = add["key"].as_str() else { continue };
                if counted.has(key)? {
                    continue;
                }
                counted.add(key)?;
                if let Some(offer) = add["offer"].as_str() {
                    bump(&mut doc, &["offers", offer], kind);
                }
                for pair in add["variants"].as_array().into_iter().flatten() {
                    if let (Some(e), Some(v)) = (pair[0].as_str(), pair[1].as_str()) {
                        bump(&mut doc, &["experiments", e, v], kind);
                    }
                }
                if let Some(day) = add["day"].as_str() {
                    bump(&mut doc, &["days", day], kind);
                }
            }
            storage.put("stats", doc.to_string()).await?;
        }
        Response::from_json(&doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_civil_dates() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(1_763_800_000_000), "2025-11-22");
        assert_eq!(day(951_782_400_000), "2000-02-29");
    }
}
