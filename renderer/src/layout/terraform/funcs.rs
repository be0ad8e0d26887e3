//! Terraform's built-in functions that manifest templates and the values fed to them use.
//!
//! Only pure functions are here: `file` and `templatefile` read the tree and
//! are resolved before evaluation (see `eval.rs`), and functions that read
//! the machine or the clock (`timestamp`, `uuid`, `pathexpand`) have no place
//! in a deterministic render: a call to one is an unknown function, which
//! the caller reports as a value kiln cannot know.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};

type Result = std::result::Result<Value, String>;

/// Declares every function on `ctx`.
pub fn declare(ctx: &mut Context<'_>) {
    let any = || ParamType::Any;
    let fixed = |n: usize, f: hcl::eval::Func| FuncDef::new(f, vec![ParamType::Any; n]);
    let variadic = |n: usize, f: hcl::eval::Func| {
        let mut b = FuncDef::builder();
        for _ in 0..n {
            b = b.param(any());
        }
        b.variadic_param(any()).build(f)
    };
    let table: Vec<(&str, FuncDef)> = vec![
        ("abs", fixed(1, |a| num(&a[0]).map(|n| float(n.abs())))),
        ("base64decode", fixed(1, base64decode)),
        ("base64encode", fixed(1, |a| Ok(Value::from(b64(text(&a[0])?.as_bytes()))))),
        ("ceil", fixed(1, |a| num(&a[0]).map(|n| float(n.ceil())))),
        ("chomp", fixed(1, |a| Ok(Value::from(text(&a[0])?.trim_end_matches(['\n', '\r']))))),
        ("coalesce", variadic(0, coalesce)),
        ("compact", fixed(1, compact)),
        ("concat", variadic(0, concat)),
        ("contains", fixed(2, |a| Ok(Value::Bool(list(&a[0])?.contains(&a[1]))))),
        ("distinct", fixed(1, distinct)),
        ("element", fixed(2, element)),
        ("endswith", fixed(2, |a| Ok(Value::Bool(text(&a[0])?.ends_with(&text(&a[1])?))))),
        ("flatten", fixed(1, |a| Ok(Value::Array(flat(list(&a[0])?))))),
        ("floor", fixed(1, |a| num(&a[0]).map(|n| float(n.floor())))),
        ("format", variadic(1, |a| format(&text(&a[0])?, &a[1..]).map(Value::from))),
        ("formatlist", variadic(1, formatlist)),
        ("indent", fixed(2, indent)),
        ("join", variadic(1, join)),
        ("jsonencode", fixed(1, jsonencode)),
        (
            "keys",
            fixed(1, |a| Ok(Value::Array(map(&a[0])?.keys().cloned().map(Value::from).collect()))),
        ),
        ("length", fixed(1, length)),
        ("lookup", variadic(2, lookup)),
        ("lower", fixed(1, |a| Ok(Value::from(text(&a[0])?.to_lowercase())))),
        ("max", variadic(0, |a| extreme(&a, f64::max))),
        ("merge", variadic(0, merge)),
        ("min", variadic(0, |a| extreme(&a, f64::min))),
        ("range", variadic(1, range)),
        (
            "replace",
            fixed(3, |a| Ok(Value::from(text(&a[0])?.replace(&text(&a[1])?, &text(&a[2])?)))),
        ),
        ("reverse", fixed(1, |a| Ok(Value::Array(list(&a[0])?.iter().rev().cloned().collect())))),
        ("sort", fixed(1, sort)),
        ("split", fixed(2, split)),
        ("startswith", fixed(2, |a| Ok(Value::Bool(text(&a[0])?.starts_with(&text(&a[1])?))))),
        ("substr", fixed(3, substr)),
        ("title", fixed(1, title)),
        ("tobool", fixed(1, tobool)),
        ("tolist", fixed(1, |a| Ok(Value::Array(list(&a[0])?.to_vec())))),
        ("tomap", fixed(1, |a| Ok(Value::Object(map(&a[0])?.clone())))),
        ("tonumber", fixed(1, tonumber)),
        ("toset", fixed(1, distinct)),
        ("tostring", fixed(1, |a| text(&a[0]).map(Value::from))),
        ("trim", fixed(2, trim)),
        ("trimprefix", fixed(2, |a| Ok(Value::from(trim_prefix(&text(&a[0])?, &text(&a[1])?))))),
        ("trimspace", fixed(1, |a| Ok(Value::from(text(&a[0])?.trim())))),
        ("trimsuffix", fixed(2, |a| Ok(Value::from(trim_suffix(&text(&a[0])?, &text(&a[1])?))))),
        ("upper", fixed(1, |a| Ok(Value::from(text(&a[0])?.to_uppercase())))),
        ("values", fixed(1, |a| Ok(Value::Array(map(&a[0])?.values().cloned().collect())))),
        ("zipmap", fixed(2, zipmap)),
    ];
    for (name, def) in table {
        ctx.declare_func(name, def);
    }
}

/// A value as Terraform converts it to a string: numbers and booleans
/// convert, collections and null do not.
pub fn text(v: &Value) -> std::result::Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("a null value where a string is required".to_string()),
        Value::Array(_) => Err("a list where a string is required".to_string()),
        Value::Object(_) => Err("a map where a string is required".to_string()),
    }
}

fn num(v: &Value) -> std::result::Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a number")),
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| format!("{s:?} is not a number")),
        _ => Err("a number is required".to_string()),
    }
}

pub(super) fn float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        // Whole numbers print without a fraction, as Terraform's do.
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn list(v: &Value) -> std::result::Result<&[Value], String> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err("a list is required".to_string()),
    }
}

fn map(v: &Value) -> std::result::Result<&Map<String, Value>, String> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err("a map is required".to_string()),
    }
}

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64decode(a: FuncArgs) -> Result {
    let s = text(&a[0])?;
    let mut bits: u32 = 0;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("failed to decode base64 data: illegal byte {:?}", c as char)),
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out)
        .map(Value::from)
        .map_err(|_| "the result of decoding the provided string is not valid UTF-8".to_string())
}

fn coalesce(a: FuncArgs) -> Result {
    a.iter()
        .find(|v| !matches!(v, Value::Null) && !matches!(v, Value::String(s) if s.is_empty()))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty-string arguments".to_string())
}

fn compact(a: FuncArgs) -> Result {
    let items = list(&a[0])?;
    Ok(Value::Array(
        items
            .iter()
            .filter(|v| !matches!(v, Value::Null) && !matches!(v, Value::String(s) if s.is_empty()))
            .cloned()
            .collect(),
    ))
}

fn concat(a: FuncArgs) -> Result {
    let mut out = Vec::new();
    for v in a.iter() {
        out.extend(list(v)?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn distinct(a: FuncArgs) -> Result {
    let mut out: Vec<Value> = Vec::new();
    for v in list(&a[0])? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}

fn element(a: FuncArgs) -> Result {
    let items = list(&a[0])?;
    if items.is_empty() {
        return Err("cannot use element function with an empty list".to_string());
    }
    let i = num(&a[1])?;
    if i < 0.0 {
        return Err("cannot use element function with a negative index".to_string());
    }
    // Terraform wraps the index around the list's length.
    Ok(items[(i as usize) % items.len()].clone())
}

fn flat(items: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for v in items {
        match v {
            Value::Array(inner) => out.extend(flat(inner)),
            v => out.push(v.clone()),
        }
    }
    out
}

/// Terraform's `format` verbs: `%s`, `%d`, `%v`, `%q`, `%f`, `%t` and `%%`
/// (width and flags are not read).
fn format(spec: &str, args: &[Value]) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().ok_or("format string ends with %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let v = args.next().ok_or_else(|| format!("not enough arguments for %{verb}"))?;
        match verb {
            's' | 'v' | 't' => out.push_str(&match v {
                Value::Array(_) | Value::Object(_) if verb == 'v' => json(v)?,
                v => text(v)?,
            }),
            'd' => out.push_str(&(num(v)?.trunc() as i64).to_string()),
            'f' => out.push_str(&format!("{:.6}", num(v)?)),
            'q' => out.push_str(&json(&Value::from(text(v)?))?),
            other => return Err(format!("unsupported format verb %{other}")),
        }
    }
    Ok(out)
}

fn formatlist(a: FuncArgs) -> Result {
    let spec = text(&a[0])?;
    let rest = &a[1..];
    let len = rest
        .iter()
        .filter_map(|v| if let Value::Array(l) = v { Some(l.len()) } else { None })
        .max();
    let Some(len) = len else {
        return format(&spec, rest).map(|s| Value::Array(vec![Value::from(s)]));
    };
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let row: Vec<Value> = rest
            .iter()
            .map(|v| match v {
                Value::Array(l) => l.get(i).cloned().ok_or("lists of different lengths"),
                v => Ok(v.clone()),
            })
            .collect::<std::result::Result<_, _>>()?;
        out.push(Value::from(format(&spec, &row)?));
    }
    Ok(Value::Array(out))
}

fn indent(a: FuncArgs) -> Result {
    let pad = " ".repeat(num(&a[0])? as usize);
    let s = text(&a[1])?;
    Ok(Value::from(s.replace('\n', &format!("\n{pad}"))))
}

fn join(a: FuncArgs) -> Result {
    let sep = text(&a[0])?;
    let mut parts = Vec::new();
    for v in &a[1..] {
        for item in list(v)? {
            parts.push(text(item)?);
        }
    }
    Ok(Value::from(parts.join(&sep)))
}

/// JSON as Terraform's `jsonencode` writes it: object keys sorted (its maps
/// and objects have no other order), no spaces.
fn json(v: &Value) -> std::result::Result<String, String> {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            v => v.clone(),
        }
    }
    serde_json::to_string(&sorted(v)).map_err(|e| e.to_string())
}

fn jsonencode(a: FuncArgs) -> Result {
    json(&a[0]).map(Value::from)
}

fn length(a: FuncArgs) -> Result {
    let n = match &a[0] {
        Value::Array(l) => l.len(),
        Value::Object(m) => m.len(),
        Value::String(s) => s.chars().count(),
        _ => return Err("a list, map or string is required".to_string()),
    };
    Ok(Value::from(n as u64))
}

fn lookup(a: FuncArgs) -> Result {
    let m = map(&a[0])?;
    let key = text(&a[1])?;
    match (m.get(&key), a.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(format!("the given key {key:?} does not exist in the map")),
    }
}

fn extreme(a: &FuncArgs, pick: fn(f64, f64) -> f64) -> Result {
    let mut nums = a.iter().map(num);
    let first = nums.next().ok_or("at least one number is required")??;
    nums.try_fold(first, |acc, n| n.map(|n| pick(acc, n))).map(float)
}

fn merge(a: FuncArgs) -> Result {
    let mut out = Map::new();
    for v in a.iter() {
        if matches!(v, Value::Null) {
            continue;
        }
        for (k, v) in map(v)? {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

fn range(a: FuncArgs) -> Result {
    let n: Vec<f64> = a.iter().map(num).collect::<std::result::Result<_, _>>()?;
    let (start, end, step) = match n.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, if start <= end { 1.0 } else { -1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => return Err("range takes one to three numbers".to_string()),
    };
    if step == 0.0 {
        return Err("step must not be zero".to_string());
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0.0 && i < end) || (step < 0.0 && i > end) {
        if out.len() >= 1024 {
            return Err("more than 1024 numbers".to_string());
        }
        out.push(float(i));
        i += step;
    }
    Ok(Value::Array(out))
}

fn sort(a: FuncArgs) -> Result {
    let mut items: Vec<String> =
        list(&a[0])?.iter().map(text).collect::<std::result::Result<_, _>>()?;
    items.sort();
    Ok(Value::Array(items.into_iter().map(Value::from).collect()))
}

fn split(a: FuncArgs) -> Result {
    let sep = text(&a[0])?;
    let s = text(&a[1])?;
    if s.is_empty() {
        return Ok(Value::Array(vec![Value::from("")]));
    }
    Ok(Value::Array(s.split(sep.as_str()).map(Value::from).collect()))
}

fn substr(a: FuncArgs) -> Result {
    let chars: Vec<char> = text(&a[0])?.chars().collect();
    let offset = num(&a[1])? as i64;
    let length = num(&a[2])? as i64;
    let len = chars.len() as i64;
    let start = if offset < 0 { (len + offset).max(0) } else { offset.min(len) };
    let end = if length < 0 { len } else { (start + length).min(len) };
    Ok(Value::from(chars[start as usize..end as usize].iter().collect::<String>()))
}

fn title(a: FuncArgs) -> Result {
    let s = text(&a[0])?;
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    Ok(Value::from(out))
}

fn tobool(a: FuncArgs) -> Result {
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        // Terraform's conversion (cty) reads "1" and "0" as bools too.
        Value::String(s) if s == "true" || s == "1" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" || s == "0" => Ok(Value::Bool(false)),
        Value::Null => Ok(Value::Null),
        _ => Err("cannot convert to bool".to_string()),
    }
}

fn tonumber(a: FuncArgs) -> Result {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => num(v).map(float),
    }
}

fn trim(a: FuncArgs) -> Result {
    let cut = text(&a[1])?;
    Ok(Value::from(text(&a[0])?.trim_matches(|c| cut.contains(c))))
}

fn trim_prefix(s: &str, p: &str) -> String {
    s.strip_prefix(p).unwrap_or(s).to_string()
}

fn trim_suffix(s: &str, p: &str) -> String {
    s.strip_suffix(p).unwrap_or(s).to_string()
}

fn zipmap(a: FuncArgs) -> Result {
    let keys = list(&a[0])?;
    let values = list(&a[1])?;
    if keys.len() != values.len() {
        return Err("the keys and values lists must have the same length".to_string());
    }
    let mut out = Map::new();
    for (k, v) in keys.iter().zip(values) {
        out.insert(text(k)?, v.clone());
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;
    use std::str::FromStr;

    #[test]
    fn functions_follow_terraform() {
        let cases: &[(&str, &str)] = &[
            (
                r#"join(",", formatlist("https://%s:2379", ["a", "b"]))"#,
                "https://a:2379,https://b:2379",
            ),
            (r#"length({a = 1, b = 2})"#, "2"),
            (r#"upper(lookup({a = "x"}, "b", "dflt"))"#, "DFLT"),
            (r#"base64encode("kiln!")"#, "a2lsbiE="),
            (r#"base64decode("a2lsbiE=")"#, "kiln!"),
            (r#"format("%s-%d-%%", "a", 3.7)"#, "a-3-%"),
            (r#"join("/", split(".", "a.b.c"))"#, "a/b/c"),
            (r#"element(["a", "b"], 3)"#, "b"),
            (r#"jsonencode({b = [1, true], a = "x"})"#, r#"{"a":"x","b":[1,true]}"#),
            (r#"substr("kubernetes", -6, 3)"#, "rne"),
            (r#"title("kube api")"#, "Kube Api"),
            (r#"indent(2, "a\nb")"#, "a\n  b"),
            (r#"max(1, 7, 3)"#, "7"),
            (r#"join(",", range(3))"#, "0,1,2"),
            (r#"coalesce("", "b")"#, "b"),
            (r#"trimsuffix("a.yml", ".yml")"#, "a"),
        ];
        for (src, want) in cases {
            let mut ctx = Context::new();
            declare(&mut ctx);
            let got = hcl::Expression::from_str(src).unwrap().evaluate(&ctx).unwrap();
            assert_eq!(text(&got).unwrap_or_else(|_| json(&got).unwrap()), *want, "{src}");
        }
    }
}
