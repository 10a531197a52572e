//! The visitor cookie: a random id signed with HMAC-SHA256, so a tampered or foreign cookie is
//! ignored and a fresh id issued. HttpOnly, SameSite=Lax, Secure outside localhost.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The cookie's name.
pub const COOKIE: &str = "rapport_vid";
/// How long the cookie lives.
const MAX_AGE_S: u32 = 400 * 24 * 3600;
/// Hex digits of the signature kept in the cookie (128 bits).
const SIGNATURE_HEX: usize = 32;

/// The visitor id in a request's `Cookie` header, when its signature holds.
pub fn from_cookie_header(header: &str, secret: &str) -> Option<String> {
    let value = header.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == COOKIE)?.1;
    let (id, signature) = value.rsplit_once('.')?;
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || signature.len() != SIGNATURE_HEX {
        return None;
    }
    let signature = hex_decode(signature)?;
    mac(secret, id).verify_truncated_left(&signature).ok()?;
    Some(id.to_owned())
}

/// A new random visitor id (128 bits, hex).
pub fn new_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The `Set-Cookie` value for `id`.
pub fn set_cookie(id: &str, secret: &str, host: &str) -> String {
    let signature: String = mac(secret, id)
        .finalize()
        .into_bytes()
        .iter()
        .take(SIGNATURE_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{COOKIE}={id}.{signature}; Path=/; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Lax{}", secure(host))
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

/// HMAC-SHA256 keyed with SHA-256 of the secret (a fixed-size key, so construction cannot fail).
fn mac(secret: &str, id: &str) -> Hmac<Sha256> {
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(&Sha256::digest(secret.as_bytes()));
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&key.into());
    mac.update(id.as_bytes());
    mac
}

fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}
