//! JSON text exactly as CPython's `json.dumps(separators=(",", ":"), sort_keys=True,
//! ensure_ascii=True)` writes it, which is what Flask puts in its cookie.

use std::fmt::Write as _;

use serde_json::Value;

/// Writes `value` as Flask would. Object keys come out sorted because `serde_json::Map` is a
/// `BTreeMap` (byte order of UTF-8 is code-point order, Python's `str` order).
pub(crate) fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => write_float(f, out),
            None => {
                let _ = write!(out, "{n}");
            }
        },
        Value::String(s) => match super::bigint::digits(s) {
            Some(digits) => out.push_str(digits),
            None => write_string(s, out),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(item, out);
            }
            out.push('}');
        }
    }
}

/// A string with `ensure_ascii`: short escapes, `\uXXXX` (lowercase) for everything outside
/// printable ASCII, surrogate pairs above U+FFFF. `/` is not escaped.
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `float.__repr__`: the shortest round-trip digits, fixed notation when the decimal
/// exponent is in `-4..16` (always with a fraction), otherwise `d.ddde±XX`.
pub(crate) fn write_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `-1.5e300`, `1e-5`, `0e0`.
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let (sign, mantissa) = mantissa
        .strip_prefix('-')
        .map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    out.push_str(sign);
    if (-4..16).contains(&exponent) {
        write_fixed(&digits, exponent, out);
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
    }
}

fn write_fixed(digits: &str, exponent: i32, out: &mut String) {
    if exponent < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            exponent.unsigned_abs() as usize - 1,
        ));
        out.push_str(digits);
        return;
    }
    let int_len = exponent.unsigned_abs() as usize + 1;
    if digits.len() <= int_len {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        out.push_str(".0");
    } else {
        out.push_str(&digits[..int_len]);
        out.push('.');
        out.push_str(&digits[int_len..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(f: f64) -> String {
        let mut out = String::new();
        write_float(f, &mut out);
        out
    }

    #[test]
    fn floats_match_python_repr() {
        let cases = [
            (2.0, "2.0"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (123_456.789, "123456.789"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (-0.0, "-0.0"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (2.5e-8, "2.5e-08"),
            (f64::MAX, "1.7976931348623157e+308"),
            (3.25, "3.25"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, python) in cases {
            assert_eq!(float(value), python);
        }
    }

    #[test]
    fn strings_are_ascii_with_python_escapes() {
        let mut out = String::new();
        write(&Value::String("é\u{7f}\u{0}/\"\\\n😀".into()), &mut out);
        assert_eq!(out, r#""\u00e9\u007f\u0000/\"\\\n\ud83d\ude00""#);
    }

    #[test]
    fn objects_are_compact_and_sorted() {
        let value: Value =
            serde_json::from_str(r#"{"b":[1,2.5],"a":{"9":null,"10":true}}"#).unwrap();
        let mut out = String::new();
        write(&value, &mut out);
        assert_eq!(out, r#"{"a":{"10":true,"9":null},"b":[1,2.5]}"#);
    }
}
