//! HTML fill at the edge, streamed: the page flows through lol-html chunk by chunk (the first
//! bytes leave before the last arrive); every `[data-rapport-placement]` element gets its
//! decided content and `data-rapport-decision` / `data-rapport-offer`; each filled offer is
//! recorded as an impression; at `</body>` the decisions and the visitor's edge fragment are
//! embedded for the browser SDK in `<script type="application/json" id="rapport-state">`.

use futures_util::stream::{self, Stream, StreamExt};
use lol_html::html_content::ContentType;
use lol_html::{element, EndTagHandler, HtmlRewriter, Settings};
use rapport::json;
use rapport::json::Value;
use rapport::profile::{Event, Outcome};
use rapport::{Bundle, Decision, Profile, Request};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use worker::ByteStream;

/// What the fill leaves behind once the page has streamed: the fragment (impressions and
/// assignments applied) and the impressions recorded.
pub type Done = Box<dyn FnOnce(Profile, Vec<Event>) -> Pin<Box<dyn Future<Output = ()>>>>;

type Sink = Box<dyn FnMut(&[u8])>;

struct Filling {
    upstream: ByteStream,
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    out: Rc<RefCell<Vec<u8>>>,
    profile: Rc<RefCell<Profile>>,
    impressions: Rc<RefCell<Vec<Event>>>,
    decisions: Rc<RefCell<Vec<Decision>>>,
    embedded: Rc<Cell<bool>>,
    version: String,
    done: Option<Done>,
}

/// One visit's page fill: what every decision needs.
pub struct Page {
    pub bundle: Rc<Bundle>,
    pub profile: Profile,
    pub context: Value,
    pub now: i64,
    pub seed: u64,
    /// Whether filled offers are recorded as impressions (not for crawlers).
    pub record: bool,
}

/// Streams `upstream` with its placements filled; `done` runs once the last chunk is out.
/// Markup lol-html cannot rewrite is passed on as it is from that point.
pub fn stream(upstream: ByteStream, page: Page, done: Done) -> impl Stream<Item = worker::Result<Vec<u8>>> {
    let out: Rc<RefCell<Vec<u8>>> = Rc::default();
    let profile = Rc::new(RefCell::new(page.profile));
    let impressions: Rc<RefCell<Vec<Event>>> = Rc::default();
    let decisions: Rc<RefCell<Vec<Decision>>> = Rc::default();
    let (bundle, context, now, seed, record) =
        (page.bundle, Rc::new(page.context), page.now, page.seed, page.record);

    let placements = {
        let (bundle, profile, impressions, decisions) =
            (bundle.clone(), profile.clone(), impressions.clone(), decisions.clone());
        element!("[data-rapport-placement]", move |el| {
            let Some(placement) = el.get_attribute("data-rapport-placement") else { return Ok(()) };
            let mut made = decisions.borrow_mut();
            let mut profile = profile.borrow_mut();
            let request = Request {
                placement: &placement,
                context: &context,
                now,
                seed: seed ^ made.len() as u64,
                trace: false,
            };
            let decision = rapport::decide(&bundle, &mut profile, &request);
            if let Some(item) = decision.items.first() {
                if let Some(content) = &item.content.html {
                    el.set_inner_content(content, ContentType::Html);
                }
                el.set_attribute("data-rapport-offer", &item.offer)?;
            }
            el.set_attribute("data-rapport-decision", &decision.decision_id)?;
            if record {
                let applied = record_impressions(&bundle, &mut profile, &decision, &placement, now);
                impressions.borrow_mut().extend(applied);
            }
            made.push(decision);
            Ok(())
        })
    };
    // The state goes before `</body>`; a page without one gets it at the very end.
    let embedded = Rc::new(Cell::new(false));
    let body_end = {
        let (profile, decisions, version, embedded) =
            (profile.clone(), decisions.clone(), bundle.version.clone(), embedded.clone());
        element!("body", move |el| {
            let (profile, decisions, version, embedded) =
                (profile.clone(), decisions.clone(), version.clone(), embedded.clone());
            let embed: EndTagHandler<'static> = Box::new(move |end| {
                end.before(
                    &state_script(&decisions.borrow(), &profile.borrow(), &version),
                    ContentType::Html,
                );
                embedded.set(true);
                Ok(())
            });
            el.on_end_tag(embed)
        })
    };
    let version = bundle.version.clone();
    let settings =
        Settings::new().append_element_content_handler(placements).append_element_content_handler(body_end);
    let sink_out = out.clone();
    let sink: Sink = Box::new(move |chunk: &[u8]| sink_out.borrow_mut().extend_from_slice(chunk));
    let rewriter = HtmlRewriter::new(settings, sink);
    let state = Filling {
        upstream,
        rewriter: Some(rewriter),
        out,
        profile,
        impressions,
        decisions,
        embedded,
        version,
        done: Some(done),
    };
    stream::unfold(state, |mut st| async move {
        let next = st.upstream.next().await;
        match next {
            Some(Ok(chunk)) => {
                let rewritten = st.rewriter.as_mut().is_some_and(|rewriter| rewriter.write(&chunk).is_ok());
                if !rewritten {
                    // Give up rewriting; what is left goes out untouched.
                    st.rewriter = None;
                    st.out.borrow_mut().extend_from_slice(&chunk);
                }
                let bytes = std::mem::take(&mut *st.out.borrow_mut());
                Some((Ok(bytes), st))
            }
            Some(Err(e)) => Some((Err(e), st)),
            None => {
                if let Some(rewriter) = st.rewriter.take() {
                    let _ = rewriter.end();
                }
                let done = st.done.take()?;
                if !st.embedded.get() {
                    let state = state_script(&st.decisions.borrow(), &st.profile.borrow(), &st.version);
                    st.out.borrow_mut().extend_from_slice(state.as_bytes());
                }
                let bytes = std::mem::take(&mut *st.out.borrow_mut());
                let profile = std::mem::take(&mut *st.profile.borrow_mut());
                let impressions = std::mem::take(&mut *st.impressions.borrow_mut());
                done(profile, impressions).await;
                Some((Ok(bytes), st))
            }
        }
    })
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
            if profile.apply(&bundle.schema, &event) == Outcome::Applied {
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
