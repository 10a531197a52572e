//! Each visitor's edge fragment, in a Durable Object of its own (`PROFILES`, one object per
//! visitor id).
//!
//! Why an object and not KV: a fragment changes by read, apply, write. Two requests for one
//! visitor that do that at once in KV each write their own copy and the last write wins, so
//! events are lost (1,000 simultaneous batches kept about 1% of their events). A Durable Object
//! runs one request's storage operations at a time (its input gate), so the object applies
//! every change to the stored fragment, in turn, and nothing is lost or counted twice.
//!
//! The object speaks JSON over internal requests:
//! - `GET`: the stored fragment, `404` when there is none;
//! - `POST {"visitor", "events": [...], "fragments": [...]}`: applies the events in order, then
//!   merges each fragment that belongs to the same person (the edge's own working copy with its
//!   assignments, the browser's); answers what happened to each event and the new fragment;
//! - `DELETE`: erases the fragment.
//!
//! The object also keeps the id of every event it applied in the last 30 days (at most
//! 20,000, in its SQLite table `seen`): a fragment remembers only its 32 most recent ids, and
//! under load batches arrive out of order, so without this log a late event would be refused
//! as too old to deduplicate. An event is applied as the fragment decides (`apply`: a
//! duplicate if its recent ids hold it, which covers events that came in a merged fragment);
//! only one it refuses as too old, and that `seen` does not know, is applied late
//! (`apply_new`). So a late event counts and a retry never counts twice. (An event that
//! reached the object only inside a merged fragment, and then arrives itself behind more than
//! 32 newer ones, would count twice; the SDK sends its fragment only with the batch that
//! empties its queue, so its own events never do.)
//!
//! Erasing leaves a tombstone: requests still in flight under the erased id (a page fill
//! finishing, a batch) cannot bring the profile back.
//!
//! Events are applied before fragments merge: a fragment that already holds an event would make
//! it a duplicate, and a copy of the edge's own counters cannot be added up, only merged.

use crate::ledger::Ledger;
use rapport::json;
use rapport::json::Value;
use rapport::profile::{parse_batch, Event, Outcome, LATE};
use rapport::Profile;
use worker::{
    durable_object, Date, DurableObject, Env, Method, Request, RequestInit, Response, Result, State,
};

/// The Durable Object binding.
pub const BINDING: &str = "PROFILES";
const KEY: &str = "fragment";
/// Set when the visitor erased their profile.
const ERASED: &str = "erased";
/// How long and how many applied event ids the object remembers.
const SEEN_MS: i64 = 30 * 24 * 3_600_000;
const SEEN_MAX: i64 = 20_000;

/// What the object did with a batch.
pub struct Applied {
    /// Ids of the events that changed the fragment.
    pub applied: Vec<String>,
    /// Ids of the events it already held.
    pub duplicates: Vec<String>,
    /// `{id, reason}` of the events it would not apply.
    pub dropped: Vec<Value>,
    /// The fragment after the batch.
    pub profile: Profile,
}

fn stub(env: &Env, visitor: &str) -> Result<worker::Stub> {
    env.durable_object(BINDING)?.id_from_name(visitor)?.get_stub()
}

/// The visitor's stored fragment, or a new one first known by the visitor id.
pub async fn load(env: &Env, visitor: &str) -> Result<Profile> {
    let mut response = stub(env, visitor)?.fetch_with_str("https://profile/").await?;
    match response.status_code() {
        200 => Profile::from_json(&response.text().await?)
            .map_err(|e| worker::Error::RustError(format!("the stored fragment does not read: {e}"))),
        404 => Ok(Profile::new("edge", visitor)),
        status => Err(worker::Error::RustError(format!("the profile store answered {status}"))),
    }
}

/// Applies `events`, then merges `fragments` (JSON), in the visitor's object; in batches of at
/// most [`MAX_BATCH`](rapport::profile::MAX_BATCH) events, the fragments with the last.
pub async fn apply(env: &Env, visitor: &str, events: &[&Event], fragments: &[&str]) -> Result<Applied> {
    let mut chunks: Vec<&[&Event]> = events.chunks(rapport::profile::MAX_BATCH).collect();
    let last = chunks.pop().unwrap_or(&[]);
    let mut done = Applied {
        applied: Vec::new(),
        duplicates: Vec::new(),
        dropped: Vec::new(),
        profile: Profile::default(),
    };
    for chunk in chunks {
        done.add(apply_batch(env, visitor, chunk, &[]).await?);
    }
    done.add(apply_batch(env, visitor, last, fragments).await?);
    Ok(done)
}

impl Applied {
    fn add(&mut self, more: Applied) {
        self.applied.extend(more.applied);
        self.duplicates.extend(more.duplicates);
        self.dropped.extend(more.dropped);
        self.profile = more.profile;
    }
}

async fn apply_batch(env: &Env, visitor: &str, events: &[&Event], fragments: &[&str]) -> Result<Applied> {
    let events: Vec<String> = events.iter().map(|e| e.to_json()).collect();
    let body = format!(
        "{{\"visitor\":{},\"events\":[{}],\"fragments\":[{}]}}",
        Value::String(visitor.to_owned()),
        events.join(","),
        fragments.join(",")
    );
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let request = Request::new_with_init("https://profile/", &init)?;
    let mut response = stub(env, visitor)?.fetch_with_request(request).await?;
    let answer = crate::parse_json(&response.text().await?)?;
    if response.status_code() != 200 {
        return Err(worker::Error::RustError(format!("the profile store refused a batch: {answer}")));
    }
    let ids = |key: &str| -> Vec<String> {
        answer[key].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    let profile = Profile::from_value(&answer["fragment"]).unwrap_or_else(|_| Profile::new("edge", visitor));
    Ok(Applied {
        applied: ids("applied"),
        duplicates: ids("duplicates"),
        dropped: answer["dropped"].as_array().cloned().unwrap_or_default(),
        profile,
    })
}

/// Merges the edge's working copy (its assignments, observations) into the stored fragment.
pub async fn merge(env: &Env, visitor: &str, profile: &Profile) -> Result<()> {
    apply(env, visitor, &[], &[&profile.to_json()]).await.map(|_| ())
}

/// Erases the visitor's fragment.
pub async fn erase(env: &Env, visitor: &str) -> Result<()> {
    let mut init = RequestInit::new();
    init.with_method(Method::Delete);
    let request = Request::new_with_init("https://profile/", &init)?;
    stub(env, visitor)?.fetch_with_request(request).await?;
    Ok(())
}

/// One visitor's fragment.
#[durable_object]
pub struct Profiles {
    state: State,
    env: Env,
}

impl DurableObject for Profiles {
    fn new(state: State, env: Env) -> Self {
        Profiles { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let storage = self.state.storage();
        match req.method() {
            Method::Get if storage.get::<i64>(ERASED).await?.is_some() => {
                Ok(Response::empty()?.with_status(404))
            }
            Method::Get => match storage.get::<String>(KEY).await? {
                Some(text) => Response::ok(text),
                None => Ok(Response::empty()?.with_status(404)),
            },
            Method::Delete => {
                storage.delete_all().await?;
                storage.put(ERASED, Date::now().as_millis() as i64).await?;
                Ok(Response::empty()?.with_status(204))
            }
            Method::Post => {
                let body = crate::parse_json(&req.text().await?)?;
                let Some(visitor) = body["visitor"].as_str() else {
                    return Ok(Response::from_json(&json!({ "error": "no visitor" }))?.with_status(400));
                };
                let (events, _) = match parse_batch(&body, true) {
                    Ok(parsed) => parsed,
                    Err(e) => return Ok(Response::from_json(&json!({ "error": e }))?.with_status(400)),
                };
                let bundle = crate::current_bundle(&self.env).await?;
                // From here to `put`, nothing but storage is awaited: the input gate keeps every
                // other request for this visitor out, so no change is lost. (Awaiting anything
                // else, such as the KV read above, would let them in between.)
                let erased = storage.get::<i64>(ERASED).await?.is_some();
                let before: String = storage.get(KEY).await?.unwrap_or_default();
                if erased {
                    // The visitor erased their profile: what was in flight is dropped.
                    let none = json!({ "applied": [], "duplicates": [], "dropped": [], "fragment": Profile::new("edge", visitor) });
                    return Response::from_json(&none);
                }
                let mut profile = match before.as_str() {
                    "" => Profile::new("edge", visitor),
                    text => match Profile::from_json(text) {
                        Ok(profile) => profile,
                        // Never overwrite what cannot be read: refuse, and keep it.
                        Err(e) => {
                            let error = json!({ "error": format!("the stored fragment does not read: {e}") });
                            return Ok(Response::from_json(&error)?.with_status(500));
                        }
                    },
                };
                let seen = Ledger::open(&storage, "seen", "id", SEEN_MS, SEEN_MAX)?;
                let (mut applied, mut duplicates, mut dropped) = (Vec::new(), Vec::new(), Vec::new());
                for event in &events {
                    let outcome = match seen.has(&event.id)? {
                        true => Outcome::Duplicate,
                        false => match profile.apply(&bundle.schema, event) {
                            Outcome::Dropped(LATE) => profile.apply_new(&bundle.schema, event),
                            outcome => outcome,
                        },
                    };
                    match outcome {
                        Outcome::Applied => {
                            seen.add(&event.id)?;
                            applied.push(event.id.clone());
                        }
                        Outcome::Duplicate => duplicates.push(event.id.clone()),
                        Outcome::Dropped(reason) => dropped.push(json!({ "id": event.id, "reason": reason })),
                    }
                }
                for fragment in body["fragments"].as_array().into_iter().flatten() {
                    if let Ok(fragment) = Profile::from_value(fragment) {
                        if profile.same_person(&fragment, &bundle.schema) {
                            profile.merge(&fragment);
                        }
                    }
                }
                let after = profile.to_json();
                if after != before {
                    storage.put(KEY, &after).await?;
                }
                let answer = format!(
                    "{{\"applied\":{},\"duplicates\":{},\"dropped\":{},\"fragment\":{after}}}",
                    json!(applied),
                    json!(duplicates),
                    json!(dropped)
                );
                let response = Response::ok(answer)?;
                response.headers().set("Content-Type", "application/json")?;
                Ok(response)
            }
            _ => Ok(Response::empty()?.with_status(405)),
        }
    }
}
