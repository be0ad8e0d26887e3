//! How plain scalars resolve to types: yaml.v3 on input, goyaml.v2 on output.

use crate::value::Value;
use regex::Regex;
use std::sync::LazyLock;

static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").expect("valid regex")
});
static BASE60: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$").expect("valid regex")
});
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?").expect("valid regex")
});

/// Parses an integer the way Go's `strconv.ParseInt(s, 0, 64)` does after
/// underscores were removed: optional sign, then `0x`, `0o`, `0b`, a leading
/// `0` (octal) or decimal digits.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -magnitude } else { magnitude };
    i64::try_from(v).ok()
}

/// Resolves a plain (unquoted, untagged) scalar as yaml.v3 does when it
/// decodes into `interface{}`, then as JSON carries it on.
pub(crate) fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Value::String(s.to_string());
    }
    if let Some(ts) = timestamp(s) {
        return Value::String(ts);
    }
    let plain = s.replace('_', "");
    if let Some(i) = parse_go_int(&plain) {
        return Value::Int(i);
    }
    if let Some(f) = FLOAT.is_match(&plain).then(|| plain.parse::<f64>().ok()).flatten() {
        return Value::Float(f);
    }
    Value::String(s.to_string())
}

/// yaml.v3 decodes an unquoted date into a Go `time.Time`, which JSON then
/// writes in RFC 3339. Only the date-only form is common in manifests.
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() == 10 && DATE.is_match(s) && b[4] == b'-' && b[7] == b'-' {
        let (y, m, d) = (&s[0..4], &s[5..7], &s[8..10]);
        let (mm, dd): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
        if (1..=12).contains(&mm) && (1..=31).contains(&dd) {
            return Some(format!("{y}-{m}-{d}T00:00:00Z"));
        }
    }
    None
}

/// Whether goyaml.v2 would read this string back as something other than a
/// string (YAML 1.1 rules), so that the emitter must quote it.
pub(crate) fn v2_resolves_to_non_string(s: &str) -> bool {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return true,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "true" | "True"
        | "TRUE" | "false" | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => {
            return true;
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" | "<<" => return true,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return false;
    }
    if DATE.is_match(s) && v2_timestamp(s) {
        return true;
    }
    let plain = s.replace('_', "");
    if parse_go_int(&plain).is_some() || parse_go_uint(&plain) {
        return true;
    }
    if FLOAT.is_match(&plain) {
        return true;
    }
    if let Some(rest) = plain.strip_prefix("0b").or_else(|| plain.strip_prefix("-0b")) {
        return !rest.is_empty() && rest.chars().all(|c| c == '0' || c == '1');
    }
    BASE60.is_match(s)
}

fn parse_go_uint(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    !body.is_empty() && body.chars().all(|c| c.is_ascii_digit()) && body.parse::<u64>().is_ok()
}

/// The timestamp layouts goyaml.v2 accepts.
fn v2_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let date_ok = |d: &str| {
        let mut it = d.splitn(3, '-');
        matches!((it.next(), it.next(), it.next()),
            (Some(y), Some(m), Some(d)) if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len())
                && [y, m, d].iter().all(|p| p.chars().all(|c| c.is_ascii_digit())))
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        return date_ok(s);
    }
    // RFC 3339 style and the space-separated forms: a date, then T/t/space, then a time.
    let Some(split) = s.find(['T', 't', ' ']) else { return false };
    let (d, t) = (&s[..split], &s[split + 1..]);
    if !date_ok(d) {
        return false;
    }
    let t = t.trim_start();
    let tb = t.as_bytes();
    tb.len() >= 5 && tb[0].is_ascii_digit() && t.contains(':')
}
