//! Values as Helm builds them: `-f` files merged in order, `--set` strvals, and coalescing with chart defaults and globals.

use super::Error;
use super::chart::Chart;
use crate::value::{Map, Value};

/// Merges `src` into `dst` as Helm merges `-f` files: maps merge key by key,
/// anything else (null included) replaces.
pub fn merge_maps(dst: &mut Map, src: Map) {
    for (k, v) in src {
        match (dst.get_mut(&k), v) {
            (Some(Value::Map(d)), Value::Map(s)) => merge_maps(d, s),
            (_, v) => {
                dst.insert(k, v);
            }
        }
    }
}

/// How a `--set` family value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: `true`, `false`, `null` and decimal integers are typed.
    Typed,
    /// `--set-string`: every value is a string.
    String,
    /// `--set-json`: each value is JSON.
    Json,
}

/// Applies one `--set`-style argument (`a.b=1,c[0]=x`) to `values`.
pub fn apply_set(values: &mut Map, arg: &str, kind: SetKind) -> Result<(), Error> {
    let bad = |message: String| Error::Set { arg: arg.to_string(), message };
    if kind == SetKind::Json {
        let Some((key, json)) = split_unescaped(arg, '=') else {
            return Err(bad("key has no value".into()));
        };
        let value = parse_json(json).map_err(bad)?;
        return set_path(values, &parse_key(key).map_err(bad)?, value).map_err(bad);
    }
    let mut rest = arg;
    while !rest.is_empty() {
        let Some((key, after)) = split_unescaped(rest, '=') else {
            return Err(bad(format!("key {rest:?} has no value")));
        };
        let path = parse_key(key).map_err(bad)?;
        let (value, next) = if let Some(list) = after.strip_prefix('{') {
            let end = find_unescaped(list, '}').ok_or_else(|| bad("list is not closed".into()))?;
            let items = split_all(&list[..end], ',')
                .into_iter()
                .map(|s| typed(&unescape(s), kind))
                .collect();
            let tail = &list[end + 1..];
            (Value::Seq(items), tail.strip_prefix(',').unwrap_or(tail))
        } else {
            match find_unescaped(after, ',') {
                Some(i) => (typed(&unescape(&after[..i]), kind), &after[i + 1..]),
                None => (typed(&unescape(after), kind), ""),
            }
        };
        set_path(values, &path, value).map_err(bad)?;
        rest = next;
    }
    Ok(())
}

/// Sets `key=contents` for `--set-file`, the contents as a string.
pub fn apply_set_file(values: &mut Map, key: &str, contents: String) -> Result<(), Error> {
    let bad = |message: String| Error::Set { arg: key.to_string(), message };
    set_path(values, &parse_key(key).map_err(bad)?, Value::String(contents)).map_err(bad)
}

/// strvals' typing of a value.
fn typed(s: &str, kind: SetKind) -> Value {
    if kind == SetKind::String {
        return Value::String(s.to_string());
    }
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if s == "0" {
        return Value::Int(0);
    }
    if !s.starts_with('0') {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(i) = s.parse::<i64>() {
                return Value::Int(i);
            }
        }
    }
    Value::String(s.to_string())
}

/// A JSON text as a value: integers stay integers only if they fit, as Helm's `--set-json` reads them (float64).
fn parse_json(text: &str) -> Result<Value, String> {
    let docs = crate::yaml::parse_documents(text, "--set-json").map_err(|e| e.to_string())?;
    let mut v = docs.into_iter().next().unwrap_or(Value::Null);
    super::chart::to_floats(&mut v);
    Ok(v)
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parses `a.b[0].c` (with `\.` escaping a dot) into steps.
fn parse_key(key: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut cur = String::new();
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '.' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
                let mut digits = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    digits.push(d);
                }
                let i: usize =
                    digits.parse().map_err(|_| format!("failed to parse index {digits:?}"))?;
                if i > 65536 {
                    return Err(format!(
                        "index of {i} is greater than maximum supported index of 65536"
                    ));
                }
                steps.push(Step::Index(i));
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        steps.push(Step::Key(cur));
    }
    match steps.first() {
        Some(Step::Key(_)) => Ok(steps),
        _ => Err(format!("key {key:?} has no name")),
    }
}

/// Stores `value` at `path`, creating maps and lists on the way.
fn set_path(values: &mut Map, path: &[Step], value: Value) -> Result<(), String> {
    let Some(Step::Key(first)) = path.first() else {
        return Err("empty key".into());
    };
    if path.len() == 1 {
        values.insert(first.clone(), value);
        return Ok(());
    }
    let slot = values.entry(first.clone()).or_insert(Value::Null);
    set_in(slot, &path[1..], value)
}

fn set_in(slot: &mut Value, path: &[Step], value: Value) -> Result<(), String> {
    let Some(step) = path.first() else {
        *slot = value;
        return Ok(());
    };
    match step {
        Step::Key(k) => {
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(Map::new());
            }
            let Value::Map(m) = slot else { return Ok(()) };
            if path.len() == 1 {
                m.insert(k.clone(), value);
                return Ok(());
            }
            set_in(m.entry(k.clone()).or_insert(Value::Null), &path[1..], value)
        }
        Step::Index(i) => {
            if !matches!(slot, Value::Seq(_)) {
                *slot = Value::Seq(Vec::new());
            }
            let Value::Seq(items) = slot else { return Ok(()) };
            while items.len() <= *i {
                items.push(Value::Null);
            }
            set_in(&mut items[*i], &path[1..], value)
        }
    }
}

fn find_unescaped(s: &str, target: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == target {
            return Some(i);
        }
    }
    None
}

fn split_unescaped(s: &str, target: char) -> Option<(&str, &str)> {
    find_unescaped(s, target).map(|i| (&s[..i], &s[i + target.len_utf8()..]))
}

fn split_all(mut s: &str, target: char) -> Vec<&str> {
    let mut out = Vec::new();
    while let Some((a, b)) = split_unescaped(s, target) {
        out.push(a);
        s = b;
    }
    out.push(s);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Helm's `CoalesceValues`: the user's values over the chart's defaults, recursively for subcharts, with globals passed down and `null` deleting a default.
pub fn coalesce(chart: &Chart, user: Map) -> Map {
    let mut dest = user;
    coalesce_chart(chart, &mut dest, false);
    dest
}

/// Like [`coalesce`], but nulls are kept (Helm's merge mode, used before dependencies are processed).
pub fn merge_with_defaults(chart: &Chart, user: Map) -> Map {
    let mut dest = user;
    coalesce_chart(chart, &mut dest, true);
    dest
}

fn coalesce_chart(chart: &Chart, dest: &mut Map, merge: bool) {
    coalesce_values(chart, dest, merge);
    for sub in &chart.dependencies {
        let entry = dest.entry(sub.name.clone()).or_insert_with(|| Value::Map(Map::new()));
        if entry.is_null() {
            *entry = Value::Map(Map::new());
        }
        if !matches!(entry, Value::Map(_)) {
            continue;
        }
        let parent_global = dest.get("global").cloned();
        if let Some(Value::Map(sub_values)) = dest.get_mut(&sub.name) {
            coalesce_globals(sub_values, parent_global);
            coalesce_chart(sub, sub_values, merge);
        }
    }
}

fn coalesce_globals(dest: &mut Map, src_global: Option<Value>) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Map(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src_global {
        None => Map::new(),
        Some(Value::Map(m)) => m,
        Some(_) => return,
    };
    for (key, val) in sg {
        match val {
            Value::Map(vv) => {
                let mut vv = vv;
                match dg.get(&key) {
                    None => {
                        dg.insert(key, Value::Map(vv));
                    }
                    Some(Value::Map(destv)) => {
                        coalesce_tables(&mut vv, destv.clone(), true);
                        dg.insert(key, Value::Map(vv));
                    }
                    Some(_) => {}
                }
            }
            other => {
                if !matches!(dg.get(&key), Some(Value::Map(_))) {
                    dg.insert(key, other);
                }
            }
        }
    }
    dest.insert("global".into(), Value::Map(dg));
}

fn coalesce_values(chart: &Chart, v: &mut Map, merge: bool) {
    let subcharts: Vec<&str> = chart.dependencies.iter().map(|c| c.name.as_str()).collect();
    for (key, val) in chart.values.clone() {
        match v.get_mut(&key) {
            Some(Value::Null) if !merge => {
                v.shift_remove(&key);
            }
            Some(Value::Map(dest)) => {
                if let Value::Map(src) = val {
                    let merge = merge || subcharts.contains(&key.as_str());
                    coalesce_tables(dest, src, merge);
                }
            }
            Some(_) => {}
            None => {
                if merge {
                    v.insert(key, val);
                } else if let Some(val) = without_nulls(val) {
                    v.insert(key, val);
                }
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: `dst` has precedence; `src` fills in.
///
/// A null in `dst` deletes the key only where `src` has a value for it: a
/// user's null for a key the defaults lack, or also null, stays null.
pub fn coalesce_tables(dst: &mut Map, src: Map, merge: bool) {
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge && !val.is_null() => {
                dst.shift_remove(&key);
            }
            None => {
                if merge {
                    dst.insert(key, val);
                } else if let Some(val) = without_nulls(val) {
                    dst.insert(key, val);
                }
            }
            Some(dv) => {
                if let Value::Map(sv) = val {
                    if let Value::Map(dm) = dv {
                        coalesce_tables(dm, sv, merge);
                    }
                }
            }
        }
    }
}

/// A default with its null map entries removed (`None` if it is null itself):
/// a null in a chart's defaults means "no value" once values are coalesced.
fn without_nulls(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Map(m) => Some(Value::Map(
            m.into_iter().filter_map(|(k, v)| without_nulls(v).map(|v| (k, v))).collect(),
        )),
        other => Some(other),
    }
}

/// The map at a dotted `path` of `values`, if every step is a map.
pub fn table(values: &Map, path: &str) -> Option<Map> {
    let mut cur = values;
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        match cur.get(seg) {
            Some(Value::Map(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_syntax() {
        let cases: &[(&str, SetKind, &str)] = &[
            ("a=1", SetKind::Typed, "a: 1\n"),
            ("a=01", SetKind::Typed, "a: \"01\"\n"),
            ("a.b=true,c=x", SetKind::Typed, "a:\n  b: true\nc: x\n"),
            ("a[1]=x", SetKind::Typed, "a:\n- null\n- x\n"),
            ("a={x,z}", SetKind::Typed, "a:\n- x\n- z\n"),
            ("a\\.b=c\\,d", SetKind::Typed, "a.b: c,d\n"),
            ("a=1", SetKind::String, "a: \"1\"\n"),
            ("a={\"b\":[1,2]}", SetKind::Json, "a:\n  b:\n  - 1\n  - 2\n"),
            ("a=null", SetKind::Typed, "a: null\n"),
        ];
        for (arg, kind, want) in cases {
            let mut m = Map::new();
            apply_set(&mut m, arg, *kind).unwrap();
            assert_eq!(crate::yaml::to_string(&Value::Map(m)), *want, "{arg}");
        }
    }
}
