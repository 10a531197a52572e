//! The visitor cookie's value: a visitor id signed with HMAC-SHA256, so a tampered or foreign
//! cookie is recognised and ignored. Pure: the edge supplies the secret and the fresh ids.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The cookie's name.
pub const COOKIE: &str = "rapport_vid";
/// Hex digits of the signature kept in the cookie (128 bits).
const SIGNATURE_HEX: usize = 32;

/// The visitor id in a `Cookie` header, when its signature holds for `secret`.
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

/// The cookie value for `id`: `<id>.<signature>`.
pub fn cookie_value(id: &str, secret: &str) -> String {
    crate::util::cat(&[id, ".", &signature(id, secret)])
}

/// The signature of `id` under `secret`, as it appears in the cookie.
pub fn signature(id: &str, secret: &str) -> String {
    mac(secret, id)
        .finalize()
        .into_bytes()
        .iter()
        .take(SIGNATURE_HEX / 2)
        .map(|&b| crate::util::hex(u64::from(b), 2))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signed_cookie_verifies_and_a_tampered_one_does_not() {
        let header = format!("a=1; {COOKIE}={}; b=2", cookie_value(ID, "s3cret"));
        assert_eq!(from_cookie_header(&header, "s3cret").as_deref(), Some(ID));
        assert_eq!(from_cookie_header(&header, "other secret"), None);
        let tampered = header.replace("0123456789abcdef0123", "1123456789abcdef0123");
        assert_eq!(from_cookie_header(&tampered, "s3cret"), None);
    }

    #[test]
    fn malformed_cookies_are_ignored() {
        for header in
            ["", "rapport_vid", "rapport_vid=", "rapport_vid=abc.def", "rapport_vid=%%%.%%%", "rapport_vid=ü"]
        {
            assert_eq!(from_cookie_header(header, "s"), None, "{header}");
        }
    }
}
