//! Integers beyond 64 bits in the JSON Python writes (its ints are unbounded), kept exactly.
//!
//! `serde_json` reads such a number as a float and would write `18446744073709551616` back as
//! `1.8446744073709552e+19`. Before parsing, [`protect`] rewrites each integer literal that
//! fits neither `i64` nor `u64` as a string holding a marker and its digits; the writers turn
//! such a string back into the bare digits. A typed field sees the marked string, so a session
//! whose own field holds such a number is refused (no Rust integer type here holds it), while a
//! key another app owns passes through unchanged.

use std::borrow::Cow;

/// Starts a string that stands for an integer literal.
const MARKER: &str = "\u{0}sessionkit:int:";

/// `json` with every integer literal beyond 64 bits turned into a marked string; borrowed when
/// there is none (the common case, one scan of the bytes).
pub(crate) fn protect(json: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    let mut in_string = false;
    while i < json.len() {
        let b = json[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let end = json[i..]
                .iter()
                .position(|c| !(c.is_ascii_digit() || b"+-.eE".contains(c)))
                .map_or(json.len(), |n| i + n);
            let token = &json[i..end];
            if is_wide_integer(token) {
                let out = out.get_or_insert_with(|| Vec::with_capacity(json.len() + 32));
                out.extend_from_slice(&json[copied..i]);
                out.extend_from_slice(b"\"\\u0000sessionkit:int:");
                out.extend_from_slice(token);
                out.push(b'"');
                copied = end;
            }
            i = end;
            continue;
        }
        i += 1;
    }
    match out {
        Some(mut out) => {
            out.extend_from_slice(&json[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(json),
    }
}

fn is_wide_integer(token: &[u8]) -> bool {
    let digits = token.strip_prefix(b"-").unwrap_or(token);
    !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(token)
            .is_ok_and(|t| t.parse::<i64>().is_err() && t.parse::<u64>().is_err())
}

/// The digits a marked string stands for, if it is one.
pub(crate) fn digits(s: &str) -> Option<&str> {
    let digits = s.strip_prefix(MARKER)?;
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    (!unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_integers_beyond_64_bits_are_marked() {
        let json = br#"{"a":18446744073709551616,"b":18446744073709551615,"c":-9223372036854775809,"d":1.5e300,"e":"99999999999999999999","f":[123456789012345678901234567890]}"#;
        let protected = protect(json);
        let value: serde_json::Value = serde_json::from_slice(&protected).unwrap();
        assert_eq!(
            digits(value["a"].as_str().unwrap()),
            Some("18446744073709551616")
        );
        assert_eq!(value["b"].as_u64(), Some(u64::MAX));
        assert_eq!(
            digits(value["c"].as_str().unwrap()),
            Some("-9223372036854775809")
        );
        assert!(value["d"].is_f64());
        assert_eq!(value["e"], "99999999999999999999");
        assert_eq!(digits(value["e"].as_str().unwrap()), None);
        assert_eq!(
            digits(value["f"][0].as_str().unwrap()),
            Some("123456789012345678901234567890")
        );
        assert!(matches!(
            protect(br#"{"a":[1,2,"x\"1"]}"#),
            Cow::Borrowed(_)
        ));
    }
}
