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
    /// `--set-literal`: one key, its value the rest of the text, as it is.
    Literal,
}

/// Applies one `--set`-style argument (`a.b=1,c[0]=x`) to `values`, with
/// Helm's strvals syntax (see [`super::strvals`]).
///
/// A `--set-json` argument that starts with `{` is a JSON object merged
/// into the values as `-f` files are.
pub fn apply_set(values: &mut Map, arg: &str, kind: SetKind) -> Result<(), Error> {
    apply_set_tracked(values, &mut Vec::new(), arg, kind)
}

/// [`apply_set`], keeping `exact` up to date: the paths of the lists
/// whose Go capacity is their length (see [`super::Options::exact_lists`]).
pub fn apply_set_tracked(
    values: &mut Map,
    exact: &mut Vec<Vec<String>>,
    arg: &str,
    kind: SetKind,
) -> Result<(), Error> {
    let flag = match kind {
        SetKind::Typed => "--set",
        SetKind::String => "--set-string",
        SetKind::Json => "--set-json",
        SetKind::Literal => "--set-literal",
    };
    let error = |message: String| Error::Set { flag, arg: arg.to_string(), message };
    if kind == SetKind::Json && arg.trim_start().starts_with('{') {
        return match parse_json(arg.trim()) {
            Ok(Value::Map(m)) => {
                forget_replaced(values, &m, &mut Vec::new(), exact);
                merge_maps(values, m);
                Ok(())
            }
            Ok(_) => Err(error("not a JSON object".into())),
            Err(message) => Err(error(message)),
        };
    }
    let read = |s: &str| Ok(typed(s, kind));
    let reader = match kind {
        SetKind::Json => super::strvals::Reader::Json,
        SetKind::Literal => super::strvals::Reader::Literal,
        SetKind::Typed | SetKind::String => super::strvals::Reader::Text(&read),
    };
    super::strvals::parse_into(values, arg, reader, exact).map_err(error)
}

/// Drops the marks of `exact` below the paths a merge of `src` into `dst` replaces.
fn forget_replaced(dst: &Map, src: &Map, path: &mut Vec<String>, exact: &mut Vec<Vec<String>>) {
    for (k, v) in src {
        path.push(k.clone());
        match (dst.get(k), v) {
            (Some(Value::Map(d)), Value::Map(s)) => forget_replaced(d, s, path, exact),
            _ => super::strvals::forget(exact, path),
        }
        path.pop();
    }
}

/// Applies one `--set-file` argument (`a=path,b[0]=path,c={p1,p2}`): the
/// strvals syntax, each value a file name whose contents `read` gives as a
/// string (or fails with the reason, Go's `open path: ...`). An empty value
/// is `""`, no file read.
pub fn apply_set_file(
    values: &mut Map,
    exact: &mut Vec<Vec<String>>,
    arg: &str,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(), Error> {
    let read = |name: &str| read(name).map(Value::String);
    super::strvals::parse_into(values, arg, super::strvals::Reader::Text(&read), exact)
        .map_err(|message| Error::Set { flag: "--set-file", arg: arg.to_string(), message })
}

/// strvals' typing of a value.
pub(super) fn typed(s: &str, kind: SetKind) -> Value {
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

/// A JSON text as Go's `json.Unmarshal` reads it (numbers are float64), or Go's error.
pub(super) fn parse_json(text: &str) -> Result<Value, String> {
    let (value, end) = crate::gotmpl::sprig::json_decode::decode_first(text)?;
    match text[end..].trim_start_matches([' ', '\t', '\r', '\n']).chars().next() {
        None => Ok(value),
        Some(c) => Err(format!(
            "invalid character {} after top-level value",
            crate::gotmpl::fmt::quote_char(c, false)
        )),
    }
}

/// Helm's `CoalesceValues`: the user's values over the chart's defaults, recursively for subcharts, with globals passed down and `null` deleting a default.
///
/// Fails as Helm does when the values for a subchart are not a table.
pub fn coalesce(chart: &Chart, user: Map) -> Result<Map, Error> {
    let mut dest = user;
    let shared = coalesce_chart(chart, &mut dest, false)?;
    share_down(&shared, &mut dest);
    Ok(dest)
}

/// Like [`coalesce`], but nulls are kept (Helm's merge mode, used before dependencies are processed).
pub fn merge_with_defaults(chart: &Chart, user: Map) -> Result<Map, Error> {
    let mut dest = user;
    let shared = coalesce_chart(chart, &mut dest, true)?;
    share_down(&shared, &mut dest);
    Ok(dest)
}

/// The tables below `global`'s first level that a subchart shares with
/// its parent, per subchart, recursively.
///
/// Helm hands a subchart a copy of each first-level table of the parent's
/// `global`, but a shallow one: the tables inside (`global.a.b` where `b` is
/// a table) are the parent's own. Whatever the subchart's values add to them
/// (its defaults, its user values, its own subcharts') lands in the parent's
/// `global` and in every other chart that shares them.
#[derive(Default)]
struct Shared {
    /// Per subchart: its name, the tables it shares with this chart, and the same for its subcharts.
    subs: Vec<(String, Vec<TablePath>, Shared)>,
}

/// The first-level and second-level keys of a table below `global`.
type TablePath = (String, String);

fn coalesce_chart(chart: &Chart, dest: &mut Map, merge: bool) -> Result<Shared, Error> {
    coalesce_values(chart, dest, merge);
    let mut shared = Shared::default();
    for sub in &chart.dependencies {
        // A subchart's values must be a table: null (a user's null for a
        // key the chart lacks, or any null while merging) is not one.
        let entry = dest.entry(sub.name.clone()).or_insert_with(|| Value::Map(Map::new()));
        if !matches!(entry, Value::Map(_)) {
            let value = crate::gotmpl::fmt::sprintf("%t", &[crate::gotmpl::Value::from(&*entry)]);
            return Err(Error::TypeMismatch { name: sub.name.clone(), value });
        }
        let parent_global = dest.get("global").cloned();
        let Some(Value::Map(sub_values)) = dest.get_mut(&sub.name) else { continue };
        let tables = shared_tables(sub_values, parent_global.as_ref());
        coalesce_globals(sub_values, parent_global);
        let inner = coalesce_chart(sub, sub_values, merge)?;
        // What the subchart did to the shared tables, the parent sees.
        let back: Vec<(String, String, Value)> = tables
            .iter()
            .filter_map(|(a, b)| Some((a.clone(), b.clone(), global_table(sub_values, a, b)?)))
            .collect();
        for (a, b, table) in back {
            if let Some(slot) = global_table_mut(dest, &a, &b) {
                *slot = table;
            }
        }
        shared.subs.push((sub.name.clone(), tables, inner));
    }
    Ok(shared)
}

/// The tables of `parent_global` that a subchart with values `sub_values`
/// will share: Helm copies a first-level table `global.a` into the
/// subchart's `global` unless the subchart has a non-table there, and the
/// copy holds the parent's tables `global.a.b`.
fn shared_tables(sub_values: &Map, parent_global: Option<&Value>) -> Vec<TablePath> {
    let Some(Value::Map(pg)) = parent_global else { return Vec::new() };
    let sub_global = match sub_values.get("global") {
        None => None,
        Some(Value::Map(m)) => Some(m),
        Some(_) => return Vec::new(),
    };
    let mut out = Vec::new();
    for (a, first) in pg {
        let Value::Map(first) = first else { continue };
        if sub_global.and_then(|g| g.get(a)).is_some_and(|v| !matches!(v, Value::Map(_))) {
            continue;
        }
        for (b, second) in first {
            if matches!(second, Value::Map(_)) {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

/// The table `global.a.b` of `values`, if it is one.
fn global_table(values: &Map, a: &str, b: &str) -> Option<Value> {
    match values.get("global")? {
        Value::Map(g) => match g.get(a)? {
            Value::Map(first) => first.get(b).filter(|v| matches!(v, Value::Map(_))).cloned(),
            _ => None,
        },
        _ => None,
    }
}

fn global_table_mut<'a>(values: &'a mut Map, a: &str, b: &str) -> Option<&'a mut Value> {
    match values.get_mut("global")? {
        Value::Map(g) => match g.get_mut(a)? {
            Value::Map(first) => first.get_mut(b).filter(|v| matches!(v, Value::Map(_))),
            _ => None,
        },
        _ => None,
    }
}

/// Gives every subchart the final state of the tables it shares with its
/// parent: a later sibling's additions reach an earlier subchart too.
fn share_down(shared: &Shared, dest: &mut Map) {
    for (name, tables, inner) in &shared.subs {
        let tables: Vec<(String, String, Value)> = tables
            .iter()
            .filter_map(|(a, b)| Some((a.clone(), b.clone(), global_table(dest, a, b)?)))
            .collect();
        let Some(Value::Map(sub_values)) = dest.get_mut(name) else { continue };
        for (a, b, table) in tables {
            if let Some(slot) = global_table_mut(sub_values, &a, &b) {
                *slot = table;
            }
        }
        share_down(inner, sub_values);
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

    #[test]
    fn set_errors() {
        // Helm names the flag and the parser's error, but for --set-json
        // only the argument (with "JSON:" for an object that does not parse).
        let cases: &[(&str, &str, SetKind, &str)] = &[
            ("a: [1]", "a.b=2", SetKind::Json, "failed parsing --set-json data a.b=2"),
            ("{}", "{\"a\": ", SetKind::Json, "failed parsing --set-json data JSON: {\"a\": "),
            ("{}", "a", SetKind::Typed, "failed parsing --set data: key \"a\" has no value"),
            (
                "{}",
                "a",
                SetKind::String,
                "failed parsing --set-string data: key \"a\" has no value",
            ),
            ("{}", "{\"a\": {\"b\": 1}}", SetKind::Json, ""),
        ];
        for (base, arg, kind, want) in cases {
            let mut m = match crate::yaml::parse_documents(base, "base").unwrap().remove(0) {
                Value::Map(m) => m,
                _ => Map::new(),
            };
            let got =
                apply_set(&mut m, arg, *kind).err().map(|e| e.to_string()).unwrap_or_default();
            assert_eq!(got, *want, "{arg}");
        }
    }

    /// `--set-json` takes JSON nested as deep as Go's decoder allows
    /// (10,000 levels) on a thread with Rust's default 2 MiB stack, as
    /// object and as `key=JSON`, and refuses one level more.
    #[test]
    fn set_json_nests_to_gos_bound_on_a_small_stack() {
        let nest = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        let run = move || {
            for (arg, ok) in [
                (nest(10_000), true),
                (format!("k={}", nest(10_000)), true),
                (nest(10_001), false),
                (format!("k={}", nest(10_001)), false),
            ] {
                let mut m = Map::new();
                let got = apply_set(&mut m, &arg, SetKind::Json);
                assert_eq!(got.is_ok(), ok, "{}", &arg[..8]);
                if let Err(e) = got {
                    assert!(e.to_string().starts_with("failed parsing --set-json data"));
                }
                // What the render does with the values keeps its own room.
                crate::stack::with_room(crate::stack::ROOM, move || drop(m));
            }
        };
        let small = std::thread::Builder::new().stack_size(2 << 20);
        small.spawn(run).expect("thread").join().expect("no overflow");
    }
}
