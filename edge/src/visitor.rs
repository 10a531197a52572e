//! The visitor cookie at the edge: signed ids from `rapport::visitor`, fresh ids from the
//! platform's CSPRNG, and the cookie's attributes (HttpOnly, SameSite=Lax, Secure outside
//! localhost).

pub use rapport::visitor::{from_cookie_header, COOKIE};

/// How long the cookie lives.
const MAX_AGE_S: u32 = 400 * 24 * 3600;

/// A new random visitor id (128 bits, hex).
pub fn new_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The `Set-Cookie` value for `id`.
pub fn set_cookie(id: &str, secret: &str, host: &str) -> String {
    let value = rapport::visitor::cookie_value(id, secret);
    format!("{COOKIE}={value}; Path=/; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Lax{}", secure(host))
}

/// The `Set-Cookie` value that erases the cookie.
pub fn clear_cookie(host: &str) -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", secure(host))
}

fn secure(host: &str) -> &'static str {
    let local = host == "localhost" || host.starts_with("127.") || host == "[::1]";
    if local {
        ""
    } else {
        "; Secure"
    }
}
