//! Rapport at the edge: a Cloudflare Worker (workers-rs) that decides offers per request and
//! fills `[data-rapport-placement]` elements before the HTML leaves the edge.
//!
//! Thin by design: each route decodes the request, calls the core and encodes the answer.
//! Where the bundle comes from: KV key `bundle` (published with `PUT /v1/admin/catalog`), else
//! the demo catalog compiled into the worker.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod fill;

use rapport::{Bundle, Profile, Request as DecideRequest};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{event, Context, Date, Env, Headers, Method, Request, Response, Result, Url};

/// The KV namespace binding that holds bundles and profile fragments.
const KV: &str = "RAPPORT";
/// The catalog served until one is published.
const DEMO_CATALOG: &str = include_str!("../../www/catalog.json");

thread_local! {
    /// The last bundle compiled by this isolate, keyed by its source text.
    static BUNDLE: RefCell<Option<(String, Rc<Bundle>)>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Get, "/v1/decide") => decide(&req, &env).await,
        (Method::Get, "/v1/bundle") => bundle(&req, &env).await,
        (Method::Put, "/v1/admin/catalog") => publish(req, &env).await,
        (_, p) if p.starts_with("/v1/") => error(404, "not_found", &format!("no route {p}")),
        _ => page(req, &env).await,
    }
}

/// `GET /v1/decide?placement=a&placement=b[&path=/page]`: one decision per placement, in order.
async fn decide(req: &Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let bundle = current_bundle(env).await?;
    let page_path = url
        .query_pairs()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.into_owned())
        .or_else(|| referrer_path(req))
        .unwrap_or_else(|| "/".to_owned());
    let context = request_context(req, &page_path);
    let seed = seed();
    let decisions: Vec<_> = url
        .query_pairs()
        .filter(|(k, _)| k == "placement")
        .enumerate()
        .map(|(i, (_, placement))| {
            let request = DecideRequest {
                placement: &placement,
                context: &context,
                now: now(),
                seed: seed ^ i as u64,
                trace: false,
            };
            rapport::decide(&bundle, &mut Profile::default(), &request)
        })
        .collect();
    json_response(200, &json!({ "decisions": decisions }))
}

/// `GET /v1/bundle`: the browser bundle, with an `ETag` and `304` on `If-None-Match`.
async fn bundle(req: &Request, env: &Env) -> Result<Response> {
    let bundle = current_bundle(env).await?;
    let body = bundle.to_json(true);
    let etag = format!("\"{}\"", Bundle::from_json(&body).map(|b| b.version).unwrap_or_default());
    let headers = Headers::new();
    headers.set("ETag", &etag)?;
    headers.set("Cache-Control", "no-cache")?;
    if req.headers().get("If-None-Match")?.as_deref() == Some(etag.as_str()) {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    headers.set("Content-Type", "application/json")?;
    Ok(Response::ok(body)?.with_headers(headers))
}

/// `PUT /v1/admin/catalog`: validate and publish; the last good bundle keeps serving otherwise.
async fn publish(mut req: Request, env: &Env) -> Result<Response> {
    let token = env.secret("ADMIN_TOKEN").map(|s| s.to_string()).unwrap_or_default();
    let given = req.headers().get("Authorization")?.unwrap_or_default();
    if token.is_empty() || given != format!("Bearer {token}") {
        return error(401, "unauthorized", "a valid admin bearer token is required");
    }
    let text = req.text().await?;
    match Bundle::from_json(&text) {
        Ok(bundle) => {
            env.kv(KV)?.put("bundle", bundle.to_json(false))?.execute().await?;
            json_response(200, &json!({ "published": bundle.version }))
        }
        Err(errors) => json_response(400, &json!({ "errors": errors })),
    }
}

/// Any other request: the page from the origin (or the demo site), placements filled.
async fn page(req: Request, env: &Env) -> Result<Response> {
    let origin = env.var("ORIGIN").map(|v| v.to_string()).unwrap_or_default();
    let mut upstream = if origin.is_empty() {
        env.assets("ASSETS")?.fetch_request(req.clone()?).await?
    } else {
        let url = req.url()?;
        let target = Url::parse(&origin)?.join(&format!(
            "{}{}",
            url.path(),
            url.query().map(|q| format!("?{q}")).unwrap_or_default()
        ))?;
        worker::Fetch::Url(target).send().await?
    };
    let is_html = upstream.headers().get("Content-Type")?.is_some_and(|t| t.starts_with("text/html"));
    if !is_html || upstream.status_code() != 200 {
        return Ok(upstream);
    }
    let html = upstream.text().await?;
    let bundle = current_bundle(env).await?;
    let path = req.path();
    let context = request_context(&req, &path);
    let filled = fill::fill(&html, &bundle, &mut Profile::default(), &context, now(), seed());
    let headers = Headers::new();
    headers.set("Content-Type", "text/html; charset=utf-8")?;
    headers.set("Cache-Control", "private, no-store")?;
    Ok(Response::ok(filled)?.with_headers(headers))
}

/// The published bundle, compiled once per isolate; the demo catalog when none is published.
async fn current_bundle(env: &Env) -> Result<Rc<Bundle>> {
    let source = env.kv(KV)?.get("bundle").text().await?.unwrap_or_else(|| DEMO_CATALOG.to_owned());
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

/// The rule context of a request (contract §2): the page, for now.
fn request_context(req: &Request, page_path: &str) -> Value {
    let url = req.url().map(|u| u.to_string()).unwrap_or_default();
    let referrer = req.headers().get("Referer").ok().flatten().unwrap_or_default();
    json!({ "page": { "path": page_path, "url": url, "referrer": referrer } })
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
    let draw = || (worker::js_sys::Math::random() * (1u64 << 32) as f64) as u64;
    (draw() << 32) ^ draw()
}

fn json_response(status: u16, body: &Value) -> Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

fn error(status: u16, kind: &str, message: &str) -> Result<Response> {
    json_response(status, &json!({ "error": { "type": kind, "message": message } }))
}
