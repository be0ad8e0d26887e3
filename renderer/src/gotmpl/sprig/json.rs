//! JSON functions: `toJson`, `toPrettyJson`, `toRawJson` (Go's `encoding/json` output) and `fromJson`, `fromJsonArray` (Helm's).

use std::collections::BTreeMap;

use super::{def, s};
use crate::gotmpl::{Funcs, Param, Value};

/// How deep a value is encoded before the encoder gives up, as Go does on a cycle.
const MAX_DEPTH: usize = 1000;

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
            Some(text) => Ok(text.into()),
            None if fails => Err(CYCLE.to_string()),
            None => Ok(Value::from("")),
        });
    }
    def(f, "fromJson", &[Param::String], None, |a| {
        Ok(match serde_json::from_str::<serde_json::Value>(s(&a[0])) {
            Ok(serde_json::Value::Object(o)) => from_serde(&serde_json::Value::Object(o)),
            Ok(other) => error_map(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
            Err(e) => error_map(go_json_error(s(&a[0]), &e)),
        })
    });
    // Sprig's own decoder of any JSON value, which Helm leaves in place.
    def(f, "mustFromJson", &[Param::String], None, |a| {
        serde_json::from_str::<serde_json::Value>(s(&a[0]))
            .map(|v| from_serde(&v))
            .map_err(|e| go_json_error(s(&a[0]), &e))
    });
    def(f, "fromJsonArray", &[Param::String], None, |a| {
        Ok(match serde_json::from_str::<serde_json::Value>(s(&a[0])) {
            Ok(serde_json::Value::Array(items)) => {
                Value::list(items.iter().map(from_serde).collect())
            }
            Ok(other) => Value::list(vec![Value::from(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::from(go_json_error(s(&a[0]), &e))]),
        })
    });
}

/// The syntax error Go's `encoding/json` reports for `text`, which serde
/// refused with `e` (whose text stands when the two disagree).
fn go_json_error(text: &str, e: &serde_json::Error) -> String {
    GoJson { b: text.as_bytes(), i: 0 }.check().err().unwrap_or_else(|| e.to_string())
}

/// A syntax check of JSON that fails with Go's scanner messages.
struct GoJson<'a> {
    b: &'a [u8],
    i: usize,
}

impl GoJson<'_> {
    fn check(mut self) -> Result<(), String> {
        self.value()?;
        self.space();
        match self.b.get(self.i) {
            None => Ok(()),
            Some(&c) => Err(Self::bad(c, "after top-level value")),
        }
    }

    fn bad(c: u8, context: &str) -> String {
        let shown = match c {
            b'\'' => "'\\''".to_string(),
            b'"' => "'\"'".to_string(),
            c => {
                let q = crate::gotmpl::fmt::quote(&char::from(c).to_string());
                format!("'{}'", &q[1..q.len() - 1])
            }
        };
        format!("invalid character {shown} {context}")
    }

    fn space(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    /// The next byte, or Go's end-of-input error.
    fn next(&mut self) -> Result<u8, String> {
        let c = *self.b.get(self.i).ok_or("unexpected end of JSON input")?;
        self.i += 1;
        Ok(c)
    }

    /// The next byte inside a number or literal: Go's scanner feeds a space
    /// at the end of the input, so an unfinished one fails on `' '`.
    fn next_in_token(&mut self) -> u8 {
        let c = self.b.get(self.i).copied().unwrap_or(b' ');
        self.i += 1;
        c
    }

    fn value(&mut self) -> Result<(), String> {
        self.space();
        match self.next()? {
            b'{' => {
                self.space();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    match self.next()? {
                        b'"' => self.string()?,
                        c => {
                            return Err(Self::bad(c, "looking for beginning of object key string"));
                        }
                    }
                    self.space();
                    match self.next()? {
                        b':' => {}
                        c => return Err(Self::bad(c, "after object key")),
                    }
                    self.value()?;
                    self.space();
                    match self.next()? {
                        b',' => self.space(),
                        b'}' => return Ok(()),
                        c => return Err(Self::bad(c, "after object key:value pair")),
                    }
                }
            }
            b'[' => {
                self.space();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.value()?;
                    self.space();
                    match self.next()? {
                        b',' => {}
                        b']' => return Ok(()),
                        c => return Err(Self::bad(c, "after array element")),
                    }
                }
            }
            b'"' => self.string(),
            c @ (b'-' | b'0'..=b'9') => self.number(c),
            c @ (b't' | b'f' | b'n') => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                let name = String::from_utf8_lossy(word);
                for &want in &word[1..] {
                    let got = self.next_in_token();
                    if got != want {
                        let context = format!("in literal {name} (expecting '{}')", want as char);
                        return Err(Self::bad(got, &context));
                    }
                }
                Ok(())
            }
            c => Err(Self::bad(c, "looking for beginning of value")),
        }
    }

    fn string(&mut self) -> Result<(), String> {
        loop {
            match self.next()? {
                b'"' => return Ok(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            let c = self.next()?;
                            if !c.is_ascii_hexdigit() {
                                return Err(Self::bad(c, "in \\u hexadecimal character escape"));
                            }
                        }
                    }
                    c => return Err(Self::bad(c, "in string escape code")),
                },
                c if c < 0x20 => return Err(Self::bad(c, "in string literal")),
                _ => {}
            }
        }
    }

    fn number(&mut self, first: u8) -> Result<(), String> {
        let digits = |this: &mut Self| {
            while matches!(this.b.get(this.i), Some(b'0'..=b'9')) {
                this.i += 1;
            }
        };
        let mut c = first;
        if c == b'-' {
            c = self.next_in_token();
            if !c.is_ascii_digit() {
                return Err(Self::bad(c, "in numeric literal"));
            }
        }
        if c != b'0' {
            digits(self);
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            let c = self.next_in_token();
            if !c.is_ascii_digit() {
                return Err(Self::bad(c, "after decimal point in numeric literal"));
            }
            digits(self);
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            let mut c = self.next_in_token();
            if c == b'+' || c == b'-' {
                c = self.next_in_token();
            }
            if !c.is_ascii_digit() {
                return Err(Self::bad(c, "in exponent of numeric literal"));
            }
            digits(self);
        }
        Ok(())
    }
}

fn error_map(message: String) -> Value {
    Value::map(BTreeMap::from([("Error".to_string(), Value::from(message))]))
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Decoded JSON as Go's `json.Unmarshal` into `interface{}` gives it: numbers are float64.
pub(crate) fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::list(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(o) => {
            Value::map(o.iter().map(|(k, v)| (k.clone(), from_serde(v))).collect())
        }
    }
}

/// Go's `json.Marshal` (or `MarshalIndent` with `indent`); `None` where Go fails (NaN, infinities, functions).
pub(crate) fn to_json(v: &Value, escape_html: bool, indent: Option<&str>) -> Option<String> {
    if !v.is_bounded(crate::gotmpl::value::MAX_NODES, MAX_DEPTH) {
        return None;
    }
    let mut out = String::new();
    encode(&mut out, v, escape_html, indent, 0)?;
    Some(out)
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
) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    match v {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::String(s) => quote(out, s, html),
        Value::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Some(());
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
        Value::Struct(st) => match st.json_string() {
            Some(text) => quote(out, &text, html),
            None => {
                object(out, st.fields.iter().map(|(k, v)| (k.as_str(), v)), html, indent, depth)?
            }
        },
        Value::Func(_) => return None,
    }
    Some(())
}

fn object<'a>(
    out: &mut String,
    entries: impl ExactSizeIterator<Item = (&'a str, &'a Value)>,
    html: bool,
    indent: Option<&str>,
    depth: usize,
) -> Option<()> {
    if entries.len() == 0 {
        out.push_str("{}");
        return Some(());
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
    Some(())
}

/// A float as `encoding/json` writes it: `%f`-like shortest form, exponent form outside [1e-6, 1e21).
fn json_float(f: f64) -> Option<String> {
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
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
