//! Where the edge keeps things, in Workers KV: the published bundle (`bundle`), each visitor's
//! edge fragment (`p:<visitor id>`) and an index from identities to visitors (`id:<ns>:<id>`).
//!
//! KV is eventually consistent (about 60 s between locations) and last-write-wins per key, so
//! two locations writing one visitor's fragment at once can lose the other's events (see
//! ARCHITECTURE.md); merges make whatever survives converge, and the browser's fragment, sent
//! with its next batch, heals the rest.

use rapport::Profile;
use worker::{Env, Result};

/// The KV namespace binding.
pub const KV: &str = "RAPPORT";

fn profile_key(visitor: &str) -> String {
    format!("p:{visitor}")
}

fn identity_key(namespace: &str, id: &str) -> String {
    format!("id:{namespace}:{id}")
}

/// The visitor's edge fragment, or a new one first known by the visitor id.
pub async fn load_profile(env: &Env, visitor: &str) -> Result<Profile> {
    let text = env.kv(KV)?.get(&profile_key(visitor)).text().await?;
    Ok(text.and_then(|t| Profile::from_json(&t).ok()).unwrap_or_else(|| Profile::new("edge", visitor)))
}

/// Stores the visitor's edge fragment.
pub async fn save_profile(env: &Env, visitor: &str, profile: &Profile) -> Result<()> {
    env.kv(KV)?.put(&profile_key(visitor), profile.to_json())?.execute().await?;
    Ok(())
}

/// Erases the visitor's fragment and the identity index entries that point at it.
pub async fn erase_profile(env: &Env, visitor: &str, profile: &Profile) -> Result<()> {
    let kv = env.kv(KV)?;
    for identity in &profile.ids {
        let key = identity_key(&identity.1, &identity.2);
        if kv.get(&key).text().await?.as_deref() == Some(visitor) {
            kv.delete(&key).await?;
        }
    }
    kv.delete(&profile_key(visitor)).await?;
    Ok(())
}

/// Links the profile's identities to `visitor`, merging in the fragment of another visitor
/// already known under one of them when it is the same person (one person, many devices).
pub async fn link_identities(
    env: &Env,
    visitor: &str,
    profile: &mut Profile,
    schema: &rapport::profile::Schema,
) -> Result<()> {
    let kv = env.kv(KV)?;
    let known: Vec<(String, String)> =
        profile.ids.iter().filter(|i| i.1 != "anonymous").map(|i| (i.1.clone(), i.2.clone())).collect();
    for (namespace, id) in known {
        let key = identity_key(&namespace, &id);
        match kv.get(&key).text().await? {
            Some(other) if other == visitor => continue,
            Some(other) => {
                let theirs = load_profile(env, &other).await?;
                if profile.same_person(&theirs, schema) {
                    profile.merge(&theirs);
                }
            }
            None => {}
        }
        kv.put(&key, visitor)?.execute().await?;
    }
    Ok(())
}
