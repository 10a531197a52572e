//! The request context rules see (contract §2): what a host knows about a request. Hosts pass
//! the raw facts (path, country, User-Agent…); this module turns them into `context.*` the same
//! way at the edge and in the browser.

use crate::json::{Map, Value};

/// Substrings (lowercase) of User-Agents that crawlers and link previewers send.
const BOT_MARKERS: &[&str] = &[
    "bot/",
    "bot;",
    "bot)",
    "bot ",
    "crawler",
    "spider",
    "slurp",
    "facebookexternalhit",
    "mediapartners-google",
    "bingpreview",
    "yandex.com/bots",
    "baiduspider",
    "bytespider",
    "ccbot",
    "gptbot",
    "claudebot",
    "amazonbot",
    "petalbot",
    "semrushbot",
    "ahrefsbot",
    "mj12bot",
    "duckduckbot",
    "applebot",
    "whatsapp",
    "+http",
];

/// `bot`, `mobile`, `tablet` or `desktop` from a User-Agent.
pub fn device_type(user_agent: &str) -> &'static str {
    let ua = user_agent.to_ascii_lowercase();
    let has = |m: &str| crate::util::contains(&ua, m);
    if ua.is_empty() || BOT_MARKERS.iter().any(|m| has(m)) {
        "bot"
    } else if has("ipad") || has("tablet") || (has("android") && !has("mobile")) {
        "tablet"
    } else if has("mobi") || has("iphone") || has("ipod") {
        "mobile"
    } else {
        "desktop"
    }
}

/// What a host knows about one request.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts<'a> {
    pub url: &'a str,
    pub path: &'a str,
    pub referrer: &'a str,
    pub title: &'a str,
    pub country: Option<&'a str>,
    pub region: Option<&'a str>,
    pub city: Option<&'a str>,
    pub user_agent: &'a str,
    /// A host's own verdict that the request is automated (e.g. Cloudflare bot management).
    pub known_bot: bool,
}

/// The rule context for a request: `page`, `geo`, `device`.
pub fn request_context(facts: &RequestFacts) -> Value {
    let mut geo = Map::new();
    for (key, value) in [("country", facts.country), ("region", facts.region), ("city", facts.city)] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            geo.insert(key.to_owned(), Value::String(v.to_owned()));
        }
    }
    let device = if facts.known_bot { "bot" } else { device_type(facts.user_agent) };
    let text = |s: &str| Value::String(s.to_owned());
    let page =
        [("url", facts.url), ("path", facts.path), ("referrer", facts.referrer), ("title", facts.title)];
    let mut context = Map::new();
    let mut page_map = Map::new();
    for (k, v) in page {
        page_map.insert(k.to_owned(), text(v));
    }
    let mut device_map = Map::new();
    device_map.insert("type".to_owned(), text(device));
    context.insert("page".to_owned(), Value::Object(page_map));
    context.insert("geo".to_owned(), Value::Object(geo));
    context.insert("device".to_owned(), Value::Object(device_map));
    Value::Object(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawlers_are_bots() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "facebookexternalhit/1.1",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
            "",
        ] {
            assert_eq!(device_type(ua), "bot", "{ua}");
        }
    }

    #[test]
    fn people_have_devices() {
        let iphone =
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
        let ipad = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15";
        let android_tablet =
            "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
        let android_phone =
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36";
        let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36";
        assert_eq!(device_type(iphone), "mobile");
        assert_eq!(device_type(ipad), "tablet");
        assert_eq!(device_type(android_tablet), "tablet");
        assert_eq!(device_type(android_phone), "mobile");
        assert_eq!(device_type(desktop), "desktop");
    }

    #[test]
    fn the_context_has_page_geo_and_device() {
        let facts = RequestFacts {
            path: "/coats/",
            country: Some("DE"),
            user_agent: "Mozilla/5.0 (X11)",
            ..Default::default()
        };
        let context = request_context(&facts);
        assert_eq!(context["page"]["path"], "/coats/");
        assert_eq!(context["geo"]["country"], "DE");
        assert_eq!(context["device"]["type"], "desktop");
        let bot = request_context(&RequestFacts {
            known_bot: true,
            user_agent: "Mozilla/5.0 (X11)",
            ..Default::default()
        });
        assert_eq!(bot["device"]["type"], "bot");
    }
}
