//! What the edge keeps in Workers KV: the published bundle (`bundle`) and an index from
//! identities to visitors (`id:<ns>:<id>`). Visitors' fragments live in Durable Objects
//! (`profiles.rs`).
//!
//! KV is eventually consistent (about 60 s between locations) and last-write-wins per key: fine
//! for a bundle written by one publisher and an index whose entries rarely change.

use crate::profiles;
use rapport::Profile;
use worker::{Env, Result};

/// The KV namespace binding.
pub const KV: &str = "RAPPORT";

fn identity_key(namespace: &str, id: &str) -> String {
    format!("id:{namespace}:{id}")
}

/// Removes the identity index entries that point at `visitor`.
pub async fn unlink_identities(env: &Env, visitor: &str, profile: &Profile) -> Result<()> {
    let kv = env.kv(KV)?;
    for identity in &profile.ids {
        let key = identity_key(&identity.1, &identity.2);
        if kv.get(&key).text().await?.as_deref() == Some(visitor) {
            kv.delete(&key).await?;
        }
    }
    Ok(())
}

/// Links the profile's identities to `visitor`, merging in the fragment of another visitor
/// already known under one of them when it is the same person (one person, many devices).
/// Answers whether `profile` changed.
pub async fn link_identities(
    env: &Env,
    visitor: &str,
    profile: &mut Profile,
    schema: &rapport::profile::Schema,
) -> Result<bool> {
    let kv = env.kv(KV)?;
    let known: Vec<(String, String)> =
        profile.ids.iter().filter(|i| i.1 != "anonymous").map(|i| (i.1.clone(), i.2.clone())).collect();
    let mut changed = false;
    for (namespace, id) in known {
        let key = identity_key(&namespace, &id);
        match kv.get(&key).text().await? {
            Some(other) if other == visitor => continue,
            Some(other) => {
                let theirs = profiles::load(env, &other).await?;
                if profile.same_person(&theirs, schema) {
                    profile.merge(&theirs);
                    changed = true;
                }
            }
            None => {}
        }
        kv.put(&key, visitor)?.execute().await?;
    }
    Ok(changed)
}
