//! HTML fill at the edge: every `[data-rapport-placement]` element gets its decided content and
//! `data-rapport-decision` / `data-rapport-offer`; each filled offer is recorded as an
//! impression; the decisions and the visitor's edge fragment are embedded for the browser SDK in
//! `<script type="application/json" id="rapport-state">` at the end of `<body>`.

use lol_html::html_content::ContentType;
use lol_html::{element, rewrite_str, EndTagHandler, RewriteStrSettings};
use rapport::profile::Event;
use rapport::{Bundle, Decision, Profile, Request};
use serde_json::{json, Value};
use std::cell::RefCell;

/// Fills `html`; `record` applies an impression per filled offer to `profile` and returns them.
/// Markup lol-html cannot rewrite is served unfilled.
pub fn fill(
    html: &str,
    bundle: &Bundle,
    profile: &mut Profile,
    context: &Value,
    now: i64,
    seed: u64,
    record: bool,
) -> (String, Vec<Event>) {
    let decisions: RefCell<Vec<Decision>> = RefCell::default();
    let impressions: RefCell<Vec<Event>> = RefCell::default();
    let profile = RefCell::new(profile);
    // The end-of-body handler outlives this call's borrows, so it leaves a marker that is
    // replaced by the state once every placement is decided.
    let marker = format!("<!--rapport-state-{seed:016x}-->");
    let end_marker = marker.clone();
    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!("[data-rapport-placement]", |el| {
            let Some(placement) = el.get_attribute("data-rapport-placement") else { return Ok(()) };
            let mut made = decisions.borrow_mut();
            let mut profile = profile.borrow_mut();
            let request =
                Request { placement: &placement, context, now, seed: seed ^ made.len() as u64, trace: false };
            let decision = rapport::decide(bundle, &mut profile, &request);
            if let Some(item) = decision.items.first() {
                if let Some(content) = &item.content.html {
                    el.set_inner_content(content, ContentType::Html);
                }
                el.set_attribute("data-rapport-offer", &item.offer)?;
            }
            el.set_attribute("data-rapport-decision", &decision.decision_id)?;
            if record {
                let applied = record_impressions(bundle, &mut profile, &decision, &placement, now);
                impressions.borrow_mut().extend(applied);
            }
            made.push(decision);
            Ok(())
        }))
        .append_element_content_handler(element!("body", move |el| {
            let marker = end_marker.clone();
            let embed: EndTagHandler<'static> = Box::new(move |end| {
                end.before(&marker, ContentType::Html);
                Ok(())
            });
            el.on_end_tag(embed)
        }));
    let Ok(out) = rewrite_str(html, settings) else { return (html.to_owned(), Vec::new()) };
    let state = state_script(&decisions.borrow(), &profile.borrow(), &bundle.version);
    let page = match out.rfind(&marker) {
        Some(at) => format!("{}{state}{}", &out[..at], &out[at + marker.len()..]),
        None => out + &state,
    };
    (page, impressions.into_inner())
}

/// What the edge showed is an impression, recorded under the edge's own origin; returns those
/// applied.
fn record_impressions(
    bundle: &Bundle,
    profile: &mut Profile,
    decision: &Decision,
    placement: &str,
    now: i64,
) -> Vec<Event> {
    let mut applied = Vec::new();
    for item in &decision.items {
        let impression = json!({
            "id": format!("imp-{}-{}", decision.decision_id, item.offer),
            "type": "impression",
            "ts": now,
            "props": { "offer": item.offer, "placement": placement, "decision_id": decision.decision_id },
        });
        if let Ok(event) = Event::from_value(&impression, true) {
            if profile.apply(&bundle.schema, &event) == rapport::profile::Outcome::Applied {
                applied.push(event);
            }
        }
    }
    applied
}

/// The state the SDK picks up: the bundle version, the decisions made here and the fragment.
fn state_script(decisions: &[Decision], profile: &Profile, version: &str) -> String {
    let state = json!({ "version": version, "decisions": decisions, "fragment": profile });
    // `</` must not appear inside a script element; JSON allows `<\/`.
    let text = state.to_string().replace("</", "<\\/");
    format!("<script type=\"application/json\" id=\"rapport-state\">{text}</script>")
}
