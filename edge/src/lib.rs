//! Rapport at the edge: a Cloudflare Worker (workers-rs) that decides offers per request, fills
//! `[data-rapport-placement]` elements before the HTML leaves the edge, ingests events and keeps
//! each visitor's edge fragment in a Durable Object of its own (`profiles`).
//!
//! Thin by design: each route decodes the request, calls the core and encodes the answer.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod fill;
mod ledger;
mod profiles;
mod stats;
mod store;
mod visitor;

pub use profiles::Profiles;
pub use stats::Stats;

use rapport::context::{request_context, RequestFacts};
use rapport::json;
use rapport::json::Value;
use rapport::profile::parse_batch;
use rapport::{Bundle, Profile, Request as DecideRequest};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{event, Context, Date, Env, Headers, Method, Request, Response, Result, Url};

/// A body's JSON, read as the core reads all JSON (numbers to the nearest f64; the serde_json
/// behind worker's `json()` is sometimes one unit in the last place off).
pub(crate) fn parse_json(text: &str) -> Result<Value> {
    json::parse(text).map_err(|e| worker::Error::RustError(format!("not JSON: {e}")))
}

/// The catalog served until one is published.
const DEMO_CATALOG: &str = include_str!("../../www/catalog.json");
/// The largest event batch body.
const MAX_BODY: usize = 64 * 1024;

thread_local! {
    /// The last bundle compiled by this isolate, keyed by its source text.
    static BUNDLE: RefCell<Option<(String, Rc<Bundle>)>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    let result = match (req.method(), path.as_str()) {
        (Method::Get, "/v1/decide") => decide(&req, &env, &ctx).await,
        (Method::Post, "/v1/events") => events(req, &env).await,
        (Method::Get, "/v1/bundle") => bundle(&req, &env).await,
        (Method::Get, "/v1/profile") => profile(&req, &env).await,
        (Method::Delete, "/v1/profile") => erase(&req, &env).await,
        (Method::Put, "/v1/admin/catalog") => publish(req, &env).await,
        (Method::Get, "/v1/admin/stats") => admin_stats(&req, &env).await,
        (method, p) if ROUTES.contains(&p) => {
            let response = error(405, "method_not_allowed", &format!("{p} does not take {method}"))?;
            let headers = response.headers().clone();
            headers.set("Allow", allowed(p))?;
            Ok(response.with_headers(headers))
        }
        (_, p) if p.starts_with("/v1/") => error(404, "not_found", &format!("no route {p}")),
        _ => page(req, &env, &ctx).await,
    };
    result.or_else(|e| error(500, "internal", &e.to_string()))
}

/// The API's paths, for `405` on a wrong method.
const ROUTES: [&str; 6] =
    ["/v1/decide", "/v1/events", "/v1/bundle", "/v1/profile", "/v1/admin/catalog", "/v1/admin/stats"];

fn allowed(path: &str) -> &'static str {
    match path {
        "/v1/events" => "POST",
        "/v1/profile" => "GET, DELETE",
        "/v1/admin/catalog" => "PUT",
        _ => "GET",
    }
}

/// Who is asking: the visitor (from the signed cookie, or new), the request context, and the
/// visitor's edge fragment. Bots get no id and no profile: they must not fill profiles.
struct Visit {
    id: Option<String>,
    fresh: bool,
    context: Value,
    profile: Profile,
    bot: bool,
}

impl Visit {
    async fn open(req: &Request, env: &Env, page_path: &str) -> Result<Visit> {
        let url = req.url()?;
        let ua = req.headers().get("User-Agent")?.unwrap_or_default();
        let referrer = req.headers().get("Referer")?.unwrap_or_default();
        let cf = req.cf();
        let country = cf.and_then(|c| c.country());
        let region = cf.and_then(|c| c.region());
        let city = cf.and_then(|c| c.city());
        let known_bot =
            cf.and_then(|c| c.bot_management()).is_some_and(|b| b.score() < 30 && !b.verified_bot())
                || cf.and_then(|c| c.verified_bot_category()).is_some_and(|c| !c.is_empty());
        let facts = RequestFacts {
            url: url.as_str(),
            path: page_path,
            referrer: &referrer,
            title: "",
            country: country.as_deref(),
            region: region.as_deref(),
            city: city.as_deref(),
            user_agent: &ua,
            known_bot,
        };
        let context = request_context(&facts);
        let bot = context.pointer("/device/type").and_then(Value::as_str) == Some("bot");
        let secret = cookie_secret(env);
        let known = match (&secret, req.headers().get("Cookie")?) {
            (Some(secret), Some(header)) => visitor::from_cookie_header(&header, secret),
            _ => None,
        };
        let (id, fresh) = match (bot, secret.is_some(), known) {
            (true, _, _) | (_, false, _) => (None, false),
            (_, _, Some(id)) => (Some(id), false),
            (_, _, None) => (visitor::new_id(), true),
        };
        let mut profile = match &id {
            Some(id) if !fresh => profiles::load(env, id).await?,
            Some(id) => Profile::new("edge", id),
            None => Profile::new("edge", "anonymous"),
        };
        if let Some(country) = &country {
            profile.observe_country(country, now());
        }
        Ok(Visit { id, fresh, context, profile, bot })
    }

    /// Merges the working copy into the stored fragment when it changed; sets the cookie on a
    /// new visitor.
    async fn close(self, req: &Request, env: &Env, before: &str, headers: &Headers) -> Result<()> {
        let Some(id) = &self.id else { return Ok(()) };
        if self.profile.to_json() != before {
            profiles::merge(env, id, &self.profile).await?;
        }
        self.cookie(req, env, headers)
    }

    /// Sets the cookie on a new visitor.
    fn cookie(&self, req: &Request, env: &Env, headers: &Headers) -> Result<()> {
        if let (Some(id), true, Some(secret)) = (&self.id, self.fresh, cookie_secret(env)) {
            headers.append("Set-Cookie", &visitor::set_cookie(id, &secret, &host(req)))?;
        }
        Ok(())
    }
}

/// `GET /v1/decide?placement=a&placement=b[&path=/page]`: one decision per placement, in order.
async fn decide(req: &Request, env: &Env, _ctx: &Context) -> Result<Response> {
    let url = req.url()?;
    let bundle = current_bundle(env).await?;
    let page_path = url
        .query_pairs()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.into_owned())
        .or_else(|| referrer_path(req))
        .unwrap_or_else(|| "/".to_owned());
    let mut visit = Visit::open(req, env, &page_path).await?;
    let before = visit.profile.to_json();
    let seed = seed();
    let now = now();
    let decisions: Vec<_> = url
        .query_pairs()
        .filter(|(k, _)| k == "placement")
        .enumerate()
        .map(|(i, (_, placement))| {
            let request = DecideRequest {
                placement: &placement,
                context: &visit.context,
                now,
                seed: seed ^ i as u64,
                trace: false,
            };
            rapport::decide(&bundle, &mut visit.profile, &request)
        })
        .collect();
    let headers = json_headers()?;
    headers.set("Cache-Control", "private, no-store")?;
    visit.close(req, env, &before, &headers).await?;
    Ok(Response::from_json(&json!({ "decisions": decisions }))?.with_headers(headers))
}

/// `POST /v1/events`: applies a batch to the visitor's edge fragment. JSON or `text/plain`
/// (sendBeacon). An optional `fragment` (the browser's) is merged in, which heals what KV lost.
async fn events(mut req: Request, env: &Env) -> Result<Response> {
    let declared = req.headers().get("Content-Length")?.and_then(|l| l.parse::<usize>().ok()).unwrap_or(0);
    if declared > MAX_BODY {
        return error(413, "too_large", "an event batch is at most 64 KiB");
    }
    let body = req.bytes().await?;
    if body.len() > MAX_BODY {
        return error(413, "too_large", "an event batch is at most 64 KiB");
    }
    let Some(value) = std::str::from_utf8(&body).ok().and_then(|text| parse_json(text).ok()) else {
        return error(400, "parse", "the body is not JSON: send {\"events\": [...]}");
    };
    let (events, rejected) = match parse_batch(&value, true) {
        Ok(parsed) => parsed,
        Err(e) => return error_at(400, &e),
    };
    let bundle = current_bundle(env).await?;
    let visit = Visit::open(&req, env, &referrer_path(&req).unwrap_or_default()).await?;
    let mut accepted = 0;
    let mut dropped = Vec::new();
    match (&visit.id, visit.bot) {
        (Some(id), false) => {
            // Applied in the visitor's object, in turn with every other request for them; then
            // the edge's working copy (what it observed) and the browser's fragment, which
            // heals what the edge missed, are merged.
            let mut fragments = vec![visit.profile.to_json()];
            if let Some(fragment) = value.get("fragment").filter(|f| f.is_object()) {
                fragments.push(fragment.to_string());
            }
            let fragments: Vec<&str> = fragments.iter().map(String::as_str).collect();
            let all: Vec<&rapport::profile::Event> = events.iter().collect();
            let done = profiles::apply(env, id, &all, &fragments).await?;
            accepted = done.applied.len() + done.duplicates.len();
            dropped = done.dropped;
            // The stats get every event the object took, duplicates too (the first event of
            // each id: a batch may repeat one): the stats object counts each once, and a retry
            // of a batch whose request failed after the object applied it still gets counted.
            let mut taken: Vec<&str> =
                done.applied.iter().chain(&done.duplicates).map(String::as_str).collect();
            let counted: Vec<_> = events
                .iter()
                .filter(|e| {
                    let first = taken.contains(&e.id.as_str());
                    taken.retain(|id| *id != e.id);
                    first
                })
                .collect();
            let mut profile = done.profile;
            if store::link_identities(env, id, &mut profile, &bundle.schema).await? {
                profiles::merge(env, id, &profile).await?;
            }
            stats::record(env, stats::increments(&bundle, id, &profile, &counted)).await?;
        }
        _ => dropped
            .extend(events.iter().map(|e| json!({ "id": e.id, "reason": "automated or anonymous request" }))),
    }
    let headers = json_headers()?;
    visit.cookie(&req, env, &headers)?;
    let body = json!({ "accepted": accepted, "rejected": rejected, "dropped": dropped });
    Ok(Response::from_json(&body)?.with_status(202).with_headers(headers))
}

/// `GET /v1/profile`: the visitor's own profile view.
async fn profile(req: &Request, env: &Env) -> Result<Response> {
    let bundle = current_bundle(env).await?;
    let visit = Visit::open(req, env, "/").await?;
    let view = bundle.view(&visit.profile, now());
    let headers = json_headers()?;
    headers.set("Cache-Control", "private, no-store")?;
    Ok(Response::from_json(&view)?.with_headers(headers))
}

/// `DELETE /v1/profile`: erases the visitor's profile and cookie (GDPR/CCPA).
async fn erase(req: &Request, env: &Env) -> Result<Response> {
    let visit = Visit::open(req, env, "/").await?;
    if let (Some(id), false) = (&visit.id, visit.fresh) {
        store::unlink_identities(env, id, &visit.profile).await?;
        profiles::erase(env, id).await?;
    }
    let headers = Headers::new();
    headers.set("Set-Cookie", &visitor::clear_cookie(&host(req)))?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

/// `GET /v1/bundle`: the browser bundle, with an `ETag` and `304` on `If-None-Match`. Format 1
/// (the catalog alone) unless `?format=2` asks for the catalog with its compiled form, which is
/// what this SDK reads; an SDK a browser cached before format 2 keeps getting format 1.
async fn bundle(req: &Request, env: &Env) -> Result<Response> {
    let bundle = current_bundle(env).await?;
    let compiled = req.url()?.query_pairs().any(|(k, v)| k == "format" && v == "2");
    let (version, body) = match compiled {
        true => match browser_bundle(&bundle) {
            Ok((version, body)) => (format!("{version}.2"), body),
            // Publishing refuses a catalog whose browser bundle would not read back; only one
            // published before that check can get here.
            Err(message) => return error(500, "invalid", &message),
        },
        false => bundle.export(true),
    };
    let etag = format!("\"{version}\"");
    let headers = Headers::new();
    headers.set("ETag", &etag)?;
    headers.set("Cache-Control", "no-cache")?;
    if req.headers().get("If-None-Match")?.as_deref() == Some(etag.as_str()) {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    headers.set("Content-Type", "application/json")?;
    Ok(Response::ok(body)?.with_headers(headers))
}

/// The browser bundle in format 2, compiled once per published bundle by this isolate.
fn browser_bundle(bundle: &Bundle) -> std::result::Result<(String, String), String> {
    thread_local! {
        static BROWSER: RefCell<Option<(String, (String, String))>> = const { RefCell::new(None) };
    }
    if let Some(cached) =
        BROWSER.with_borrow(|c| c.as_ref().filter(|c| c.0 == bundle.version).map(|c| c.1.clone()))
    {
        return Ok(cached);
    }
    let exported = bundle
        .export_compiled()
        .map_err(|errors| errors.iter().map(rapport::Error::text).collect::<Vec<_>>().join("\n"))?;
    BROWSER.with_borrow_mut(|c| *c = Some((bundle.version.clone(), exported.clone())));
    Ok(exported)
}

/// Whether the request carries the admin bearer token.
fn authorized(req: &Request, env: &Env) -> bool {
    let token = env.secret("ADMIN_TOKEN").map(|s| s.to_string()).unwrap_or_default();
    let given = req.headers().get("Authorization").ok().flatten().unwrap_or_default();
    !token.is_empty() && given == format!("Bearer {token}")
}

/// `GET /v1/admin/stats`: impressions, clicks and conversions per offer, variant and day.
async fn admin_stats(req: &Request, env: &Env) -> Result<Response> {
    if !authorized(req, env) {
        return error(401, "unauthorized", "a valid admin bearer token is required");
    }
    json_response(200, &stats::read(env).await?)
}

/// `PUT /v1/admin/catalog`: validate and publish, carrying the offers' counts into the bundle's
/// `stats` (for `bandit` ranking); the last good bundle keeps serving otherwise.
async fn publish(mut req: Request, env: &Env) -> Result<Response> {
    if !authorized(&req, env) {
        return error(401, "unauthorized", "a valid admin bearer token is required");
    }
    let text = req.text().await?;
    // The browser's bundle must read back too (a rule nested near JSON's depth limit may not):
    // refused now, the last good bundle keeps serving every browser.
    match Bundle::from_json(&text).and_then(|b| b.export_compiled().map(|_| b)) {
        Ok(mut bundle) => {
            bundle.stats = stats::for_bundle(&stats::read(env).await?);
            env.kv(store::KV)?.put("bundle", bundle.to_json(false))?.execute().await?;
            json_response(200, &json!({ "published": bundle.version }))
        }
        Err(errors) => json_response(400, &json!({ "errors": errors })),
    }
}

/// Any other request: the page from the origin (or the demo site), placements filled, each
/// edge-filled offer recorded as an impression.
async fn page(req: Request, env: &Env, _ctx: &Context) -> Result<Response> {
    let origin = env.var("ORIGIN").map(|v| v.to_string()).unwrap_or_default();
    let mut upstream = if origin.is_empty() {
        env.assets("ASSETS")?.fetch_request(req.clone()?).await?
    } else {
        let url = req.url()?;
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        let target = Url::parse(&origin)?.join(&format!("{}{query}", url.path()))?;
        worker::Fetch::Url(target).send().await?
    };
    let is_html = upstream.headers().get("Content-Type")?.is_some_and(|t| t.starts_with("text/html"));
    if !is_html || upstream.status_code() != 200 {
        return Ok(upstream);
    }
    let bundle = current_bundle(env).await?;
    let mut visit = Visit::open(&req, env, &req.path()).await?;
    let headers = Headers::new();
    headers.set("Content-Type", "text/html; charset=utf-8")?;
    headers.set("Cache-Control", "private, no-store")?;
    // The cookie goes out with the headers; the fragment is stored once the page has streamed.
    visit.cookie(&req, env, &headers)?;
    let before = visit.profile.to_json();
    let profile = std::mem::take(&mut visit.profile);
    let (env, id, stats_bundle) = (env.clone(), visit.id.clone(), bundle.clone());
    let done: fill::Done = Box::new(move |profile, impressions| {
        Box::pin(async move {
            let shown: Vec<_> = impressions.iter().collect();
            let visitor = id.as_deref().unwrap_or("anonymous");
            let increments = stats::increments(&stats_bundle, visitor, &profile, &shown);
            if let Some(id) = id.filter(|_| profile.to_json() != before) {
                // The impressions are applied in the visitor's object; the working copy brings
                // the assignments the fill made.
                if let Err(e) = profiles::apply(&env, &id, &shown, &[&profile.to_json()]).await {
                    worker::console_error!("rapport: storing the fragment after a fill: {e}");
                }
            }
            if let Err(e) = stats::record(&env, increments).await {
                worker::console_error!("rapport: recording impressions: {e}");
            }
        })
    });
    let page =
        fill::Page { bundle, profile, context: visit.context, now: now(), seed: seed(), record: !visit.bot };
    let body = fill::stream(upstream.stream()?, page, done);
    Ok(Response::from_stream(body)?.with_headers(headers))
}

/// The published bundle, compiled once per isolate; the demo catalog when none is published.
pub(crate) async fn current_bundle(env: &Env) -> Result<Rc<Bundle>> {
    let source = env.kv(store::KV)?.get("bundle").text().await?.unwrap_or_else(|| DEMO_CATALOG.to_owned());
    if let Some(bundle) =
        BUNDLE.with_borrow(|c| c.as_ref().filter(|(s, _)| *s == source).map(|(_, b)| b.clone()))
    {
        return Ok(bundle);
    }
    let bundle = Rc::new(Bundle::from_json(&source).map_err(|errors| {
        worker::Error::RustError(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    })?);
    BUNDLE.with_borrow_mut(|c| *c = Some((source, bundle.clone())));
    Ok(bundle)
}

/// The secret that signs visitor cookies; without it the edge keeps no profiles.
fn cookie_secret(env: &Env) -> Option<String> {
    env.secret("COOKIE_SECRET").ok().map(|s| s.to_string()).filter(|s| !s.is_empty())
}

fn host(req: &Request) -> String {
    req.url().ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
}

fn referrer_path(req: &Request) -> Option<String> {
    let referrer = req.headers().get("Referer").ok().flatten()?;
    Url::parse(&referrer).ok().map(|u| u.path().to_owned())
}

fn now() -> i64 {
    Date::now().as_millis() as i64
}

/// Per-request randomness for decision ids and sampling (not for secrets).
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    // Without a CSPRNG the seed is 0: decisions stay valid, ids merely repeat.
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

fn json_headers() -> Result<Headers> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    Ok(headers)
}

fn json_response(status: u16, body: &Value) -> Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

fn error(status: u16, kind: &str, message: &str) -> Result<Response> {
    json_response(status, &json!({ "error": { "type": kind, "message": message } }))
}

fn error_at(status: u16, e: &rapport::Error) -> Result<Response> {
    json_response(status, &json!({ "error": e }))
}
