//! Durations and windows (contract §0): `<n><unit>` with unit `s m h d`, or `lifetime`.

use crate::error::{Error, ErrorKind};
use crate::json;
use crate::util::{cat, num};

/// The longest window a computed aggregate may have.
pub const MAX_WINDOW_MS: i64 = 90 * DAY;
const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// A parsed window: a length in ms, or the whole lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Lifetime,
    Ms(i64),
}

/// Parses `"30m"`, `"1h"`, `"7d"`… into milliseconds (positive, at most 100 years).
pub fn parse_ms(text: &str) -> Result<i64, Error> {
    let bad = || {
        Error::new(
            ErrorKind::Invalid,
            "",
            cat(&[&json::quoted(text), " is not a duration like \"30m\", \"1h\" or \"7d\""]),
        )
    };
    let unit = match text.as_bytes().last() {
        Some(b's') => SECOND,
        Some(b'm') => MINUTE,
        Some(b'h') => HOUR,
        Some(b'd') => DAY,
        _ => return Err(bad()),
    };
    let digits = &text.as_bytes()[..text.len() - 1];
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    // At most six ASCII digits: no overflow.
    let n = digits.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    if n == 0 {
        return Err(Error::new(
            ErrorKind::Invalid,
            "",
            cat(&["duration ", &json::quoted(text), " must be positive"]),
        ));
    }
    Ok(n * unit)
}

/// Parses a window: a duration or `"lifetime"`, at most `max_ms` when given.
pub fn parse_window(text: &str, max_ms: Option<i64>) -> Result<Window, Error> {
    if text == "lifetime" {
        return Ok(Window::Lifetime);
    }
    let ms = parse_ms(text)?;
    match max_ms {
        Some(max) if ms > max => Err(Error::new(
            ErrorKind::Invalid,
            "",
            cat(&[
                "window ",
                &json::quoted(text),
                " is longer than the ",
                &num((max / DAY) as u64),
                " days allowed",
            ]),
        )),
        _ => Ok(Window::Ms(ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_ms("30s").unwrap(), 30_000);
        assert_eq!(parse_ms("30m").unwrap(), 1_800_000);
        assert_eq!(parse_ms("1h").unwrap(), 3_600_000);
        assert_eq!(parse_ms("7d").unwrap(), 604_800_000);
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in ["", "d", "1", "1w", "-1d", "1.5h", "0m", " 1h", "1h ", "9999999d"] {
            assert!(parse_ms(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn windows_have_a_ceiling() {
        assert_eq!(parse_window("lifetime", Some(MAX_WINDOW_MS)).unwrap(), Window::Lifetime);
        assert_eq!(parse_window("90d", Some(MAX_WINDOW_MS)).unwrap(), Window::Ms(MAX_WINDOW_MS));
        assert!(parse_window("91d", Some(MAX_WINDOW_MS)).is_err());
    }
}
