//! JSON functions: `toJson`, `toPrettyJson`, `toRawJson` (Go's `encoding/json` output) and `fromJson` (Helm's), and Helm's `fromJsonArray` for the Helm engine.

use std::collections::BTreeMap;

use std::sync::Arc;

use super::json_decode::{self, Decoded};
use super::{def, s};
use crate::gotmpl::value::{MapRef, MapType};
use crate::gotmpl::{Funcs, Param, Value};

/// How deep a value is encoded before the encoder gives up, as Go does on a
/// cycle: the bound of kiln's deep walks, which is Go's bound on decoding.
const MAX_DEPTH: usize = crate::gotmpl::value::MAX_NESTING;

/// Go's `encoding/json` error for a map that contains itself.
pub(crate) const CYCLE: &str =
    "json: unsupported value: encountered a cycle via map[string]interface {}";

pub(super) fn register(f: &mut Funcs) {
    // `toJson` and `toPrettyJson` print nothing for a value Go's encoder
    // refuses (a map that contains itself); `toRawJson` and the `must`
    // forms fail with the encoder's error.
    let forms: [(&str, bool, bool, Option<&'static str>); 6] = [
        ("toJson", false, true, None),
        ("mustToJson", true, true, None),
        ("toRawJson", true, false, None),
        ("mustToRawJson", true, false, None),
        ("toPrettyJson", false, true, Some("  ")),
        ("mustToPrettyJson", true, true, Some("  ")),
    ];
    for (name, fails, escape_html, indent) in forms {
        def(f, name, &[Param::Any], None, move |a| match to_json(&a[0], escape_html, indent) {
            Ok(text) => Ok(text.into()),
            Err(e) if fails => Err(e),
            Err(_) => Ok(Value::from("")),
        });
    }
    def(f, "fromJson", &[Param::String], None, |a| {
        // Helm's fromJson: the decoded map, with an `Error` key when
        // decoding failed (a type error keeps what was decoded).
        Ok(match json_decode::decode(s(&a[0])) {
            Ok(Decoded { value: Value::Map(m), error }) => {
                if let Some(e) = error {
                    m.write().insert("Error".to_string(), Value::from(e));
                }
                Value::Map(m)
            }
            // Go's null leaves a nil map.
            Ok(Decoded { value: Value::Nil, .. }) => Value::Map(nil_map()),
            Ok(Decoded { value, .. }) => error_map(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_decode::kind(&value)
            )),
            Err(e) => error_map(e),
        })
    });
    // Sprig's own decoder of any JSON value, which Helm leaves in place.
    def(f, "mustFromJson", &[Param::String], None, |a| {
        let decoded = json_decode::decode(s(&a[0]))?;
        decoded.error.map_or(Ok(decoded.value), Err)
    });
}

/// Helm's `fromJsonArray` (not Sprig's: the Helm engine adds it): the
/// decoded list, or a list of the error.
pub(crate) fn from_json_array(text: &str) -> Value {
    match json_decode::decode(text) {
        Ok(Decoded { value: value @ (Value::List(_) | Value::Nil), error: None }) => value,
        Ok(Decoded { value: Value::List(_), error: Some(e) }) => Value::list(vec![e.into()]),
        Ok(Decoded { value, .. }) => Value::list(vec![Value::from(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_decode::kind(&value)
        ))]),
        Err(e) => Value::list(vec![Value::from(e)]),
    }
}

/// Go's nil `map[string]interface{}`: empty, and `null` when encoded.
pub(super) fn nil_map() -> MapRef {
    let nil = MapType {
        name: "map[string]interface {}".to_string(),
        methods: BTreeMap::new(),
        convertible: true,
        is_nil: true,
        elem_zero: Value::Nil,
    };
    MapRef::default().with_type(Arc::new(nil))
}

fn error_map(message: String) -> Value {
    Value::map(BTreeMap::from([("Error".to_string(), Value::from(message))]))
}

/// Go's `json.Marshal` (or `MarshalIndent` with `indent`), or its error
/// where Go fails (a value that contains itself, NaN, infinities, functions).
/// Helm 4's encoder's error for a `time.Time` that `MarshalJSON` refuses.
fn marshal_error(e: &str) -> String {
    format!("json: error calling MarshalJSON for type *time.Time: {e}")
}

/// The error Go's JSON encoder meets first in `v`, a value [`Value::is_bounded`]
/// accepts, from a type that marshals itself (a `time.Time` out of range).
pub(crate) fn marshal_refusal(v: &Value) -> Option<String> {
    match v {
        Value::List(l) => l.iter().find_map(marshal_refusal),
        Value::Map(m) => m.entries().iter().find_map(|(_, v)| marshal_refusal(v)),
        Value::Struct(st) if st.json_string().is_some() => {
            super::time_marshal_error(st).map(marshal_error)
        }
        Value::Struct(st) => match st.underlying() {
            Some(u) => marshal_refusal(&u),
            None => st.json_fields().into_iter().find_map(|(_, v)| marshal_refusal(v)),
        },
        _ => None,
    }
}

pub(crate) fn to_json(
    v: &Value,
    escape_html: bool,
    indent: Option<&str>,
) -> Result<String, String> {
    if !v.is_bounded(crate::gotmpl::value::MAX_NODES, MAX_DEPTH) {
        return Err(refusal(v));
    }
    let mut out = String::new();
    encode(&mut out, v, escape_html, indent, 0)?;
    Ok(out)
}

/// Go's encoder checks for cycles only below this many nested maps and
/// slices.
const CYCLE_CHECKS_AFTER: usize = 1000;

/// Go's error for a value nested deeper than its encoder goes.
const TOO_DEEP: &str = "exceeded max depth";

/// Why Go's encoder refuses a value that [`Value::is_bounded`] refuses: the
/// first thing it meets in encoding order (keys sorted), either a map or
/// slice nested deeper than [`MAX_DEPTH`], or a map or slice met again inside itself,
/// which Go notices once [`CYCLE_CHECKS_AFTER`] levels are open and names by
/// the type where the check found it. A value too large to walk (kiln's
/// bound on nodes; Go has none) is refused with the cycle text.
fn refusal(v: &Value) -> String {
    enum Step {
        Enter(Value, usize),
        Leave(usize),
    }
    let mut budget = crate::gotmpl::value::MAX_NODES;
    let mut open = std::collections::HashSet::new();
    let mut todo = vec![Step::Enter(v.clone(), 1)];
    while let Some(step) = todo.pop() {
        let (v, level) = match step {
            Step::Leave(id) => {
                open.remove(&id);
                continue;
            }
            Step::Enter(v, level) => (v, level),
        };
        if budget == 0 {
            break;
        }
        budget -= 1;
        let (children, identity): (Vec<Value>, Option<usize>) = match &v {
            Value::List(l) if l.as_bytes().is_none() => {
                (l.iter().cloned().collect(), Some(l.identity()))
            }
            Value::Map(m) => (m.read().values().cloned().collect(), Some(m.identity())),
            Value::Struct(st) if st.json_string().is_some() => continue,
            Value::Struct(st) => match st.underlying() {
                Some(u) => {
                    todo.push(Step::Enter(u, level));
                    continue;
                }
                None => (st.json_fields().into_iter().map(|(_, x)| x.clone()).collect(), None),
            },
            _ => continue,
        };
        if level > MAX_DEPTH {
            return TOO_DEEP.to_string();
        }
        if let Some(id) = identity.filter(|_| level > CYCLE_CHECKS_AFTER) {
            if !open.insert(id) {
                return format!(
                    "json: unsupported value: encountered a cycle via {}",
                    v.type_name()
                );
            }
            todo.push(Step::Leave(id));
        }
        todo.extend(children.into_iter().rev().map(|c| Step::Enter(c, level + 1)));
    }
    CYCLE.to_string()
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn encode(
    out: &mut String,
    v: &Value,
    html: bool,
    indent: Option<&str>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(CYCLE.to_string());
    }
    match v {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) | Value::Named(super::super::Named { value: i, .. }) => {
            out.push_str(&i.to_string())
        }
        Value::Uint64(u) => out.push_str(&u.to_string()),
        Value::Uint8(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f).ok_or_else(|| unsupported_float(*f))?),
        Value::String(s) => quote(out, s, html),
        Value::List(items) if items.is_nil() => out.push_str("null"),
        Value::List(items) if let Some(b) = items.as_bytes() => {
            quote(out, &super::base64_encode(&b), html)
        }
        Value::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                encode(out, item, html, indent, depth + 1)?;
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Map(m) if m.map_type().is_some_and(|t| t.is_nil) => out.push_str("null"),
        Value::Map(m) => {
            let entries = m.entries();
            object(out, entries.iter().map(|(k, v)| (k.as_str(), v)), html, indent, depth)?;
        }
        Value::Struct(st) => match (st.json_string(), st.underlying()) {
            (Some(_), _) if let Some(e) = super::time_marshal_error(st) => {
                return Err(marshal_error(e));
            }
            (Some(text), _) => quote(out, &text, html),
            (None, Some(u)) => encode(out, &u, html, indent, depth)?,
            (None, None) => object(out, st.json_fields().into_iter(), html, indent, depth)?,
        },
        Value::Complex(..) => return Err("json: unsupported type: complex128".to_string()),
        Value::Func(_) => return Err(format!("json: unsupported type: {}", v.type_name())),
    }
    Ok(())
}

fn object<'a>(
    out: &mut String,
    entries: impl ExactSizeIterator<Item = (&'a str, &'a Value)>,
    html: bool,
    indent: Option<&str>,
    depth: usize,
) -> Result<(), String> {
    if entries.len() == 0 {
        out.push_str("{}");
        return Ok(());
    }
    out.push('{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, indent, depth + 1);
        quote(out, k, html);
        out.push(':');
        if indent.is_some() {
            out.push(' ');
        }
        encode(out, v, html, indent, depth + 1)?;
    }
    newline(out, indent, depth);
    out.push('}');
    Ok(())
}

/// `encoding/json`'s error for a float JSON cannot hold: `json: unsupported
/// value: NaN` (`+Inf`, `-Inf`).
pub(crate) fn unsupported_float(f: f64) -> String {
    format!("json: unsupported value: {}", non_finite_name(f))
}

/// How Go's `%v` names a float that is not finite: `NaN`, `+Inf` or `-Inf`
/// (with `%g`'s sign).
pub(crate) fn non_finite_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

/// A float as `encoding/json` writes it: `%f`-like shortest form, exponent form outside [1e-6, 1e21).
pub(crate) fn json_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Shortest digits in exponent form, with Go's `e-07` cleaned to `e-7`.
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let sign = if exp < 0 { '-' } else { '+' };
        return Some(format!("{mant}e{sign}{}", exp.abs()));
    }
    // Rust's `Display` is the shortest round-trip form padded with zeros, as Go's 'f' with precision -1.
    Some(format!("{f}"))
}

/// Go's `encoding/json` string encoding; `html` adds the `<`, `>`, `&`
/// escapes `json.Marshal` applies.
pub(crate) fn quote(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for r in super::go_runes(s) {
        // Go coerces the bytes a string carries that are not UTF-8.
        // Helm 4's JSON v2 engine writes U+FFFD as it is; Go 1.19's
        // encoding/json wrote `\ufffd`.
        let c = match r {
            super::GoRune::Byte(_) => {
                out.push(char::REPLACEMENT_CHARACTER);
                continue;
            }
            super::GoRune::Char(c) => c,
        };
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22's encoding/json (Helm 4) writes these two short forms;
            // Go 1.19 wrote `\u0008` and `\u000c`.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => super::push_char(out, c),
        }
    }
    out.push('"');
}
