//! `values.schema.json` validation of each chart's values, as Helm does before rendering.

use super::Error;
use super::chart::Chart;
use crate::value::{Map, Value};

/// Validates `values` against the chart's schema and each subchart's values against its own.
pub fn validate(chart: &Chart, values: &Map) -> Result<(), Error> {
    let mut report = String::new();
    check(chart, values, &mut report)?;
    if report.is_empty() { Ok(()) } else { Err(Error::Schema { message: report }) }
}

fn check(chart: &Chart, values: &Map, report: &mut String) -> Result<(), Error> {
    if let Some(schema) = &chart.schema {
        let mut schema: serde_json::Value =
            serde_json::from_slice(schema).map_err(|e| Error::Chart {
                path: format!("{}/values.schema.json", chart.name),
                message: e.to_string(),
            })?;
        drop_unknown_meta_schema(&mut schema);
        let validator = jsonschema::validator_for(&schema).map_err(|e| Error::Chart {
            path: format!("{}/values.schema.json", chart.name),
            message: e.to_string(),
        })?;
        let instance = to_json(&Value::Map(values.clone()));
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("- at '{}': {}", e.instance_path(), e))
            .collect();
        if !errors.is_empty() {
            report.push_str(&format!("{}:\n{}\n", chart.name, errors.join("\n")));
        }
    }
    for sub in &chart.dependencies {
        let empty = Map::new();
        let sub_values = values.get(&sub.name).and_then(Value::as_map).unwrap_or(&empty);
        check(sub, sub_values, report)?;
    }
    Ok(())
}

/// Drops a `$schema` that names no draft the validator knows (charts often
/// write `http://json-schema.org/schema#`); Helm's validator then uses its
/// default draft, and so does this one.
fn drop_unknown_meta_schema(schema: &mut serde_json::Value) {
    const KNOWN: &[&str] = &["draft-04", "draft-06", "draft-07", "2019-09", "2020-12"];
    if let Some(obj) = schema.as_object_mut() {
        let known = obj
            .get("$schema")
            .and_then(serde_json::Value::as_str)
            .is_none_or(|s| KNOWN.iter().any(|k| s.contains(k)));
        if !known {
            obj.remove("$schema");
        }
    }
}

/// Values as JSON; integral floats become integers so that `"type": "integer"` accepts them, as Go's validator does.
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            serde_json::Value::from(*f as i64)
        }
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}
