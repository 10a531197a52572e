//! The visitor's profile: what rules may know about one person.
//!
//! Foundation slice: a profile holds attributes only and feeds the rule data. Events, computed
//! aggregates, fragments, merge, identity and consent arrive with the Profile issue.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One visitor's profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Attributes from `set` and `identify` traits.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Profile {
    /// The data rules see (contract §2) for this profile in `context` at `now`.
    pub fn rule_data(&self, context: &Value, now: i64) -> Value {
        let mut data = Map::new();
        data.insert("attributes".into(), Value::Object(self.attributes.clone()));
        data.insert("computed".into(), Value::Object(Map::new()));
        data.insert("visits".into(), Value::from(0));
        data.insert("first_seen".into(), Value::Null);
        data.insert("last_seen".into(), Value::Null);
        data.insert("known".into(), Value::Bool(false));
        data.insert("context".into(), context.clone());
        data.insert("now".into(), Value::from(now));
        Value::Object(data)
    }
}
