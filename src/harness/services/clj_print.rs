//! Clojure's `pr-str` and `str` over parsed JSON, for the text of error 22.
//!
//! The KV services build `current value <cur> is not <from>` with `pr-str`, and lww-kv
//! prints `<from>` with plain `str` (src/maelstrom/service.clj). The text reaches the node
//! verbatim, so we print what the JVM would:
//!
//! * Maelstrom keywordizes only the envelope and the body's top-level keys
//!   (`keywordize-keys-1`, src/maelstrom/process.clj), so objects inside values keep string
//!   keys: `{"a" 1, "b" [2 3]}`.
//! * cheshire returns Integer/Long for integers that fit in a long and `BigInteger` beyond,
//!   which `pr-str` prints with a `BIGINT` suffix (clojure core_print.clj).
//! * floats are `Double`, printed by `Double.toString` (JDK 19+ shortest form).
//! * `str` differs from `pr-str` only at top level: `nil` → `""`, strings unquoted, and no
//!   `BIGINT` suffix. Inside collections both print readably.
//!
//! Known gap: objects with more than 8 keys print in Clojure hash-map order on the JVM; we
//! print them in the order simd-json kept.

use simd_json::{OwnedValue, StaticNode};
use std::fmt::Write;

/// Clojure `pr-str` of a parsed JSON value.
pub fn pr_str(value: &OwnedValue) -> String {
    let mut out = String::new();
    print_readably(value, &mut out);
    out
}

/// Clojure `str` of a parsed JSON value.
pub fn str(value: &OwnedValue) -> String {
    match value {
        OwnedValue::Static(StaticNode::Null) => String::new(),
        OwnedValue::String(s) => s.clone(),
        OwnedValue::Static(StaticNode::U64(u)) => u.to_string(),
        OwnedValue::Static(StaticNode::F64(f)) => java_double(*f),
        other => pr_str(other),
    }
}

fn print_readably(value: &OwnedValue, out: &mut String) {
    match value {
        OwnedValue::Static(node) => print_static(node, out),
        OwnedValue::String(s) => print_string(s, out),
        OwnedValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_readably(item, out);
            }
            out.push(']');
        }
        OwnedValue::Object(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                print_string(k, out);
                out.push(' ');
                print_readably(v, out);
            }
            out.push('}');
        }
    }
}

fn print_static(node: &StaticNode, out: &mut String) {
    #[allow(unreachable_patterns)] // wider integer variants exist under simd-json's `128bit`
    match node {
        StaticNode::Null => out.push_str("nil"),
        StaticNode::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        StaticNode::I64(i) => {
            let _ = write!(out, "{i}");
        }
        StaticNode::U64(u) if i64::try_from(*u).is_ok() => {
            let _ = write!(out, "{u}");
        }
        StaticNode::U64(u) => {
            let _ = write!(out, "{u}BIGINT");
        }
        StaticNode::F64(f) if f.is_nan() => out.push_str("##NaN"),
        StaticNode::F64(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 { "##Inf" } else { "##-Inf" })
        }
        StaticNode::F64(f) => out.push_str(&java_double(*f)),
        other => {
            let _ = write!(out, "{other}BIGINT");
        }
    }
}

/// `print-method` for strings: quoted, with Clojure's `char-escape-string` table.
pub fn print_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            other => out.push(other),
        }
    }
    out.push('"');
}

/// Java's `Double.toString` (JDK 19+): the shortest decimal that round-trips, printed
/// plainly in [1e-3, 1e7) (`0.001`, `1.0`, `1234567.0`) and as `d.dddE±n` outside it.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let (digits, exponent) = shortest_digits(x.abs());
    let body = if (-3..7).contains(&exponent) {
        plain(&digits, exponent)
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{first}.{rest}E{exponent}")
    };
    format!("{sign}{body}")
}

/// Digits `d1 d2 …` (no trailing zeros) and `e` with `x = d1.d2… × 10^e`.
///
/// Java differs from a plain shortest form in one case: when one digit would do, it takes
/// the closest two-digit decimal that still round-trips (`4.9E-324`, not `5E-324`).
fn shortest_digits(x: f64) -> (String, i32) {
    let split = |text: &str| -> (String, i32) {
        let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let digits = digits.trim_end_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        (digits.to_string(), exponent.parse().unwrap_or(0))
    };
    let shortest = split(&format!("{x:e}"));
    if shortest.0.len() == 1 {
        let two = format!("{x:.1e}");
        if two.parse::<f64>().ok() == Some(x) {
            return split(&two);
        }
    }
    shortest
}

fn plain(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        let zeros = "0".repeat(integer_len - digits.len());
        format!("{digits}{zeros}.0")
    } else {
        let (integer, fraction) = digits.split_at(integer_len);
        format!("{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> OwnedValue {
        let mut bytes = text.as_bytes().to_vec();
        simd_json::to_owned_value(&mut bytes).expect("test JSON")
    }

    #[test]
    fn doubles_print_like_java() {
        let cases = [
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (100.0, "100.0"),
            (-0.0, "-0.0"),
            (1.2345e-5, "1.2345E-5"),
            (f64::MAX, "1.7976931348623157E308"),
            (5e-324, "4.9E-324"),
            (2e-323, "2.0E-323"),
        ];
        for (x, expected) in cases {
            assert_eq!(java_double(x), expected, "{x:e}");
        }
    }

    #[test]
    fn pr_str_and_str_follow_clojure() {
        let cases = [
            ("null", "nil", ""),
            ("true", "true", "true"),
            ("-3", "-3", "-3"),
            (
                "18446744073709551615",
                "18446744073709551615BIGINT",
                "18446744073709551615",
            ),
            ("2.5", "2.5", "2.5"),
            (r#""a\"b\n""#, r#""a\"b\n""#, "a\"b\n"),
            (r#"[1,"x",[null]]"#, r#"[1 "x" [nil]]"#, r#"[1 "x" [nil]]"#),
            (
                r#"{"a":1,"b":[2,3]}"#,
                r#"{"a" 1, "b" [2 3]}"#,
                r#"{"a" 1, "b" [2 3]}"#,
            ),
            ("{}", "{}", "{}"),
        ];
        for (json, readable, plain) in cases {
            let value = parse(json);
            assert_eq!(pr_str(&value), readable, "{json}");
            assert_eq!(str(&value), plain, "{json}");
        }
    }
}
