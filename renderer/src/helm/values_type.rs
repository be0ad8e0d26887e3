//! `common.Values`, the Go type of every chart's `.Values`, with the methods templates can call on it.
//!
//! Helm hands templates their values as a named map type, not a plain
//! `map[string]interface{}`: `typeOf .Values` prints `common.Values`, Sprig's
//! `dig` refuses it, and its methods shadow keys of the same name, so charts
//! write `.Values.AsMap` or `.Values.Table "a.b"`.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use crate::gotmpl::{Function, MapRef, MapType, Value};

static VALUES_TYPE: LazyLock<Arc<MapType>> = LazyLock::new(|| {
    let mut methods = BTreeMap::new();
    methods.insert("AsMap".to_string(), method(0, |m, _| Ok(Value::Map(m.plain()))));
    methods.insert(
        "YAML".to_string(),
        method(0, |m, _| {
            // `yaml.Marshal` keeps the final newline that `toYaml` trims.
            let data = Value::Map(m.clone())
                .to_data()
                .ok_or("value contains itself or is too large to encode")?;
            Ok(Value::from(format!("{}\n", crate::yaml::helm_to_yaml(&data))))
        }),
    );
    methods.insert("Table".to_string(), method(1, |m, a| Ok(Value::Map(table(m, str_arg(a))?))));
    methods.insert("PathValue".to_string(), method(1, |m, a| path_value(m, str_arg(a))));
    methods.insert(
        "Encode".to_string(),
        method(1, |_, a| {
            Err(format!("wrong type for value; expected io.Writer; got {}", a[0].type_name()))
        }),
    );
    Arc::new(MapType {
        name: "common.Values".to_string(),
        methods,
        convertible: true,
        is_nil: false,
        elem_zero: Value::Nil,
    })
});

/// `entries` as a Go `map[string]string`, or that type's nil map for `None`.
pub fn string_map(entries: Option<BTreeMap<String, Value>>) -> Value {
    let is_nil = entries.is_none();
    let map = MapRef::new(entries.unwrap_or_default());
    Value::Map(map.with_type(MapType::string_map(is_nil)))
}

/// `map` as a `common.Values`.
pub fn values(map: &MapRef) -> Value {
    Value::Map(map.with_type(VALUES_TYPE.clone()))
}

/// A method taking `n` arguments after its receiver.
fn method(
    n: usize,
    body: impl Fn(&MapRef, &[Value]) -> Result<Value, String> + Send + Sync + 'static,
) -> Function {
    Function::new(move |_, a| match a.split_first() {
        Some((Value::Map(m), rest)) => body(m, rest),
        _ => Err("method called without its receiver".to_string()),
    })
    .arity(n, Some(n))
}

fn str_arg(a: &[Value]) -> &str {
    a.first().and_then(Value::as_str).unwrap_or_default()
}

/// `Values.Table`: the map at a dotted path, itself a `common.Values`.
fn table(m: &MapRef, path: &str) -> Result<MapRef, String> {
    let mut cur = m.clone();
    for step in path.split('.') {
        match cur.get(step) {
            Some(Value::Map(next)) => cur = next,
            _ => return Err(format!("{step:?} is not a table")),
        }
    }
    Ok(cur.with_type(VALUES_TYPE.clone()))
}

/// `Values.PathValue`: the value (not a table) at a dotted path.
fn path_value(m: &MapRef, path: &str) -> Result<Value, String> {
    if path.is_empty() {
        return Err("YAML path cannot be empty".to_string());
    }
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (table(m, parent).ok(), key),
        None => (Some(m.clone()), path),
    };
    match parent.and_then(|t| t.get(key)) {
        Some(v) if !matches!(v, Value::Map(_)) => Ok(v),
        _ => Err(format!("{key:?} is not a value")),
    }
}
