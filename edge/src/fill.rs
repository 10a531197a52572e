//! HTML fill at the edge: every `[data-rapport-placement]` element gets its decided content and
//! `data-rapport-decision` / `data-rapport-offer`; the decisions are embedded for the browser SDK
//! in `<script type="application/json" id="rapport-state">` at the end of `<body>`.

use lol_html::html_content::ContentType;
use lol_html::{element, rewrite_str, EndTagHandler, RewriteStrSettings};
use rapport::{Bundle, Decision, Profile, Request};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Fills `html`; on markup lol-html cannot rewrite, the page is served unfilled.
pub fn fill(
    html: &str,
    bundle: &Bundle,
    profile: &mut Profile,
    context: &Value,
    now: i64,
    seed: u64,
) -> String {
    let profile = RefCell::new(profile);
    let decisions: Rc<RefCell<Vec<Decision>>> = Rc::default();
    let placements = decisions.clone();
    let state = decisions.clone();
    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!("[data-rapport-placement]", move |el| {
            let Some(placement) = el.get_attribute("data-rapport-placement") else {
                return Ok(());
            };
            let mut made = placements.borrow_mut();
            let request =
                Request { placement: &placement, context, now, seed: seed ^ made.len() as u64, trace: false };
            let decision = rapport::decide(bundle, &mut profile.borrow_mut(), &request);
            if let Some(item) = decision.items.first() {
                if let Some(content) = &item.content.html {
                    el.set_inner_content(content, ContentType::Html);
                }
                el.set_attribute("data-rapport-offer", &item.offer)?;
            }
            el.set_attribute("data-rapport-decision", &decision.decision_id)?;
            made.push(decision);
            Ok(())
        }))
        .append_element_content_handler(element!("body", move |el| {
            let state = state.clone();
            let version = bundle.version.clone();
            let embed: EndTagHandler<'static> = Box::new(move |end| {
                end.before(&state_script(&state.borrow(), &version), ContentType::Html);
                Ok(())
            });
            el.on_end_tag(embed)
        }));
    rewrite_str(html, settings).unwrap_or_else(|_| html.to_owned())
}

/// The state the SDK picks up: decisions made here and the bundle version they came from.
fn state_script(decisions: &[Decision], version: &str) -> String {
    let state = json!({ "version": version, "decisions": decisions });
    // `</` must not appear inside a script element; JSON allows `<\/`.
    let text = state.to_string().replace("</", "<\\/");
    format!("<script type=\"application/json\" id=\"rapport-state\">{text}</script>")
}
