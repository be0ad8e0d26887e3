//! Sprig's dict functions: dict, get/set/unset/hasKey, keys/values/pluck/pick/omit, merge, deepCopy, dig.

use std::collections::BTreeMap;

use super::{def, is_empty, s, strval};
use crate::gotmpl::Elem;
use crate::gotmpl::value::{MAX_NESTING, MAX_NODES};
use crate::gotmpl::{Funcs, List, MapRef, Param, Value};

use Param::{Any, Map, String as Str};

/// The map of a `map` parameter; a nil map reads as empty.
fn m(v: &Value) -> MapRef {
    match v {
        Value::Map(m) => m.clone(),
        _ => MapRef::default(),
    }
}

pub(super) fn register(f: &mut Funcs) {
    def(f, "dict", &[], Some(Any), |a| {
        let mut out = BTreeMap::new();
        for pair in a.chunks(2) {
            let value = pair.get(1).cloned().unwrap_or_else(|| Value::from(""));
            out.insert(strval(&pair[0]), value);
        }
        Ok(Value::map(out))
    });
    def(f, "get", &[Map, Str], None, |a| {
        Ok(m(&a[0]).get(s(&a[1])).unwrap_or_else(|| Value::from("")))
    });
    def(f, "set", &[Map, Str, Any], None, |a| {
        // Setting into a nil map panics in Go.
        let Value::Map(map) = &a[0] else {
            return Err("assignment to entry in nil map".into());
        };
        map.write().insert(s(&a[1]).to_string(), a[2].clone());
        Ok(a[0].clone())
    });
    def(f, "unset", &[Map, Str], None, |a| {
        // Deleting from a nil map does nothing; the nil map comes back.
        let Value::Map(map) = &a[0] else {
            return Ok(Value::Map(super::json::nil_map()));
        };
        map.write().remove(s(&a[1]));
        Ok(a[0].clone())
    });
    def(f, "hasKey", &[Map, Str], None, |a| Ok(m(&a[0]).read().contains_key(s(&a[1])).into()));
    def(f, "keys", &[], Some(Map), |a| {
        // Go's map order is random; sorted order is one of its possible orders.
        let mut keys: Vec<String> =
            a.iter().flat_map(|d| m(d).read().keys().cloned().collect::<Vec<_>>()).collect();
        keys.sort();
        // Sprig appends each key to an empty list.
        Ok(Value::List(List::appended(Elem::String, keys.into_iter().map(Value::from).collect())))
    });
    def(f, "values", &[Map], None, |a| {
        let values = m(&a[0]).entries().into_iter().map(|(_, v)| v).collect();
        Ok(Value::List(List::appended(Elem::Any, values)))
    });
    def(f, "pluck", &[Str], Some(Map), |a| {
        let key = s(&a[0]);
        // Sprig appends each value found to an empty slice.
        let found = a[1..].iter().filter_map(|d| m(d).get(key)).collect();
        Ok(Value::List(List::appended(Elem::Any, found)))
    });
    def(f, "pick", &[Map], Some(Str), |a| {
        let src = m(&a[0]);
        let src = src.read();
        let out = a[1..]
            .iter()
            .filter_map(|k| src.get(s(k)).map(|v| (s(k).to_string(), v.clone())))
            .collect();
        Ok(Value::map(out))
    });
    def(f, "omit", &[Map], Some(Str), |a| {
        let omit: Vec<&str> = a[1..].iter().map(s).collect();
        let out =
            m(&a[0]).entries().into_iter().filter(|(k, _)| !omit.contains(&k.as_str())).collect();
        Ok(Value::map(out))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        def(f, name, &[Map], Some(Map), move |a| {
            // mergo gives a nil destination a new map when a source has entries.
            let mut dst = match &a[0] {
                Value::Map(dst) => Some(dst.clone()),
                _ => None,
            };
            // A source may contain itself, as Go's maps may: the merge follows
            // only keys that hold maps on both sides, and gives up where Go's
            // recursion would not end.
            let mut budget = MAX_NODES;
            for src in &a[1..] {
                if let Value::Map(src) = src {
                    let dst = dst.get_or_insert_with(MapRef::default);
                    merge_into(dst, src, overwrite, 0, &mut budget)?;
                }
            }
            Ok(Value::Map(dst.unwrap_or_else(super::json::nil_map)))
        });
    }
    for name in ["deepCopy", "mustDeepCopy"] {
        def(f, name, &[Any], None, |a| {
            if a[0].is_nil() {
                // copystructure asks a nil interface for its type, which panics in Go.
                return Err("reflect: call of reflect.Value.Type on zero Value".into());
            }
            if !a[0].is_bounded(MAX_NODES, MAX_NESTING) {
                return Err("value contains itself or is too large to copy".into());
            }
            Ok(deep_copy(&a[0]))
        });
    }
    def(f, "dig", &[], Some(Any), |a| {
        if a.len() < 3 {
            return Err("dig needs at least three arguments".into());
        }
        let (keys, rest) = a.split_at(a.len() - 2);
        // Sprig asserts `map[string]interface {}`, which a named map type
        // such as Helm's `common.Values` is not.
        let mut cur = match &rest[1] {
            Value::Map(m) if is_plain(m) => m.clone(),
            other => return Err(not_a(other, "map[string]interface {}")),
        };
        for (n, k) in keys.iter().enumerate() {
            let Value::String(k) = k else {
                return Err(not_a(k, "string"));
            };
            let Some(step) = cur.get(k) else {
                return Ok(rest[0].clone());
            };
            if n + 1 == keys.len() {
                return Ok(step);
            }
            match step {
                Value::Map(next) if is_plain(&next) => cur = next,
                other => return Err(not_a(&other, "map[string]interface {}")),
            }
        }
        Ok(rest[0].clone())
    });
}

/// Whether a map is a `map[string]interface {}`: of no named type, or the
/// nil map of that type (what `fromJson "null"` gives).
fn is_plain(m: &MapRef) -> bool {
    m.map_type().is_none_or(|t| t.name == "map[string]interface {}")
}

/// The panic of Go's type assertion `v.(want)` on an `interface{}`, which
/// names a nil interface `nil`.
fn not_a(v: &Value, want: &str) -> String {
    let have = if v.is_nil() { "nil".to_string() } else { v.type_name() };
    format!("interface conversion: interface {{}} is {have}, not {want}")
}

/// mergo's map merge: a key missing or empty in `dst` takes `src`'s value;
/// with `overwrite`, every `src` value replaces `dst`'s, empty ones too; maps
/// on both sides merge deeply. A nil `src` value is copied only when
/// overwriting: mergo skips nil interfaces before it looks at `dst`.
fn merge_into(
    dst: &MapRef,
    src: &MapRef,
    overwrite: bool,
    depth: usize,
    budget: &mut usize,
) -> Result<(), String> {
    if dst.same(src) {
        return Ok(());
    }
    let entries = src.entries();
    if depth > MAX_NESTING || *budget < entries.len() {
        return Err("value contains itself or is too large to merge".into());
    }
    *budget -= entries.len();
    // A map of another element type (`splitn`'s `map[string]string`) takes
    // only values of that static type: Go panics on the first value mergo
    // stores from a `map[string]interface{}`.
    if let Some(elem) = typed_elem(dst)
        && src.map_type().map(|t| &t.name) != dst.map_type().map(|t| &t.name)
    {
        return check_typed_merge(dst, &elem, &entries, overwrite);
    }
    for (k, sv) in entries {
        if sv.is_nil() {
            if overwrite {
                dst.write().insert(k, sv);
            }
            continue;
        }
        let dv = dst.get(&k);
        match (&dv, &sv) {
            // A map into a map merges; the destination map, filled by then,
            // counts as not empty and stays (mergo checks it after merging).
            (Some(Value::Map(d)), Value::Map(s)) => merge_into(d, s, overwrite, depth + 1, budget)?,
            // Without overwriting, mergo keeps a non-empty value against a
            // map or a list; overwriting, a map or a list replaces a value
            // of another kind.
            (Some(d), _)
                if !is_empty(d) && matches!(sv, Value::Map(_) | Value::List(_)) && !overwrite => {}
            (None, _) => {
                dst.write().insert(k, sv);
            }
            (Some(d), _) if is_empty(d) || overwrite => {
                dst.write().insert(k, sv);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The element type of a map that is neither a `map[string]interface{}` nor
/// a named type on it, e.g. `string` for `map[string]string`.
fn typed_elem(m: &MapRef) -> Option<String> {
    m.map_type().filter(|t| !t.convertible).map(|t| t.elem_zero.type_name())
}

/// What mergo does when it merges `map[string]interface{}` entries into a
/// map of element type `elem`: every value it would store panics, as
/// `reflect.Value.SetMapIndex` cannot assign an `interface {}` (or, for a
/// slice, the slice's type) to `elem`; a slice against a key that is present
/// panics earlier, when mergo asks the `elem` value whether it is nil. A
/// merge that stores nothing leaves the map as it is.
fn check_typed_merge(
    dst: &MapRef,
    elem: &str,
    entries: &[(String, Value)],
    overwrite: bool,
) -> Result<(), String> {
    let cannot = |ty: &str| {
        format!("reflect.Value.SetMapIndex: value of type {ty} is not assignable to type {elem}")
    };
    for (k, sv) in entries {
        let dv = dst.get(k);
        match sv {
            // mergo skips a nil value unless it overwrites.
            v if v.is_nil() => {
                if overwrite {
                    return Err(cannot("interface {}"));
                }
            }
            Value::List(l) => {
                return Err(match dv {
                    Some(_) => format!("reflect: call of reflect.Value.IsNil on {elem} Value"),
                    None => cannot(&l.type_name()),
                });
            }
            _ if overwrite || dv.as_ref().is_none_or(is_empty) => {
                return Err(cannot("interface {}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A copy sharing no maps with the original.
fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(m) => {
            // copystructure keeps the copy's type, so a copy of Helm's
            // `.Values` is still a `common.Values`.
            let copy =
                MapRef::new(m.entries().into_iter().map(|(k, v)| (k, deep_copy(&v))).collect());
            Value::Map(match m.map_type() {
                Some(t) => copy.with_type(t.clone()),
                None => copy,
            })
        }
        // A copy keeps the slice type and capacity (the spare elements are
        // zero: only the length is copied), and a nil slice stays nil.
        // copystructure copies only exported fields, and a semantic version
        // has none: the copy is the zero version.
        Value::Struct(st) if st.type_name.ends_with("semver.Version") => {
            super::semver::zero_version(st.type_name.starts_with('*'))
        }
        Value::List(l) if l.is_nil() => v.clone(),
        Value::List(l) => {
            Value::List(List::with_cap(l.elem(), l.iter().map(deep_copy).collect(), l.cap()))
        }
        other => other.clone(),
    }
}
