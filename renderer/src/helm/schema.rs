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
        let validator = match jsonschema::validator_for(&schema) {
            Ok(v) => v,
            // Helm resolves a relative `$ref` against `file:///` and fails
            // to open it: its report names the file, as this one does.
            Err(e) => match first_relative_ref(&schema) {
                Some(file) => {
                    report.push_str(&format!(
                        "{}:\nfailing loading \"file:///{file}\": open /{file}: no such file or directory\n",
                        chart.name
                    ));
                    return Ok(());
                }
                None => {
                    return Err(Error::Chart {
                        path: format!("{}/values.schema.json", chart.name),
                        message: e.to_string(),
                    });
                }
            },
        };
        let instance = to_json(&Value::Map(values.clone()));
        let errors: Vec<(String, String)> = validator
            .iter_errors(&instance)
            .map(|e| (e.instance_path().to_string(), go_message(&e)))
            .collect();
        if !errors.is_empty() {
            report.push_str(&format!("{}:\n{}\n", chart.name, group(&errors).join("\n")));
        }
    }
    for sub in &chart.dependencies {
        let empty = Map::new();
        let sub_values = values.get(&sub.name).and_then(Value::as_map).unwrap_or(&empty);
        check(sub, sub_values, report)?;
    }
    Ok(())
}

/// The file the first `$ref` naming another document points to, as a path
/// below `/` (`./a/../b.json#/x` is `b.json`); `None` without such a `$ref`.
fn first_relative_ref(schema: &serde_json::Value) -> Option<String> {
    match schema {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                let file = r.split('#').next().unwrap_or_default();
                if !file.is_empty() && !file.contains("://") {
                    let mut parts: Vec<&str> = Vec::new();
                    for seg in file.split('/') {
                        match seg {
                            "" | "." => {}
                            ".." => {
                                parts.pop();
                            }
                            s => parts.push(s),
                        }
                    }
                    return Some(parts.join("/"));
                }
            }
            m.values().find_map(first_relative_ref)
        }
        serde_json::Value::Array(items) => items.iter().find_map(first_relative_ref),
        _ => None,
    }
}

/// The report lines: errors under the same top-level property are listed
/// under one `validation failed` line, as Helm's validator nests the causes
/// of a failed property schema.
fn group(errors: &[(String, String)]) -> Vec<String> {
    let top = |path: &str| -> String {
        path.split('/').nth(1).map(|s| format!("/{s}")).unwrap_or_default()
    };
    let mut lines = Vec::new();
    let mut done = vec![false; errors.len()];
    for (i, (path, message)) in errors.iter().enumerate() {
        if done[i] {
            continue;
        }
        let key = top(path);
        let members: Vec<usize> = (i..errors.len())
            .filter(|j| !done[*j] && !key.is_empty() && top(&errors[*j].0) == key)
            .collect();
        if members.len() > 1 {
            lines.push(format!("- at '{key}': validation failed"));
            for j in members {
                done[j] = true;
                lines.push(format!("  - at '{}': {}", errors[j].0, errors[j].1));
            }
        } else {
            done[i] = true;
            lines.push(format!("- at '{path}': {message}"));
        }
    }
    lines
}

/// A JSON value as Helm's validator quotes it in messages.
fn quoted(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// The JSON type name of a value, as Helm's validator reports it.
fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// The message Helm 4's validator (santhosh-tekuri/jsonschema v6) prints
/// for the common keywords; others keep the validator's own words.
fn go_message(e: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let got = e.instance();
    let limit = |name: &str, got: String, want: String| {
        format!("{name}: got {}, want {}", grouped(&got), grouped(&want))
    };
    let number = |n: &dyn std::fmt::Display| {
        n.to_string().parse::<f64>().map_or(n.to_string(), crate::yaml::go_format_float_g)
    };
    let count = || match got.as_ref() {
        serde_json::Value::String(s) => s.chars().count(),
        serde_json::Value::Array(a) => a.len(),
        serde_json::Value::Object(o) => o.len(),
        _ => 0,
    };
    match e.kind() {
        K::Required { property } => {
            format!("missing property {}", quoted(property))
        }
        K::Type { kind } => {
            let want = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => {
                    ts.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or ")
                }
            };
            format!("got {}, want {want}", json_type(got))
        }
        K::Minimum { limit: l } => limit("minimum", number(got), number(l)),
        K::Maximum { limit: l } => limit("maximum", number(got), number(l)),
        K::ExclusiveMinimum { limit: l } => limit("exclusiveMinimum", number(got), number(l)),
        K::ExclusiveMaximum { limit: l } => limit("exclusiveMaximum", number(got), number(l)),
        K::MinLength { limit: l } => limit("minLength", count().to_string(), l.to_string()),
        K::MaxLength { limit: l } => limit("maxLength", count().to_string(), l.to_string()),
        K::MinItems { limit: l } => limit("minItems", count().to_string(), l.to_string()),
        K::MaxItems { limit: l } => limit("maxItems", count().to_string(), l.to_string()),
        K::MinProperties { limit: l } => limit("minProperties", count().to_string(), l.to_string()),
        K::MaxProperties { limit: l } => limit("maxProperties", count().to_string(), l.to_string()),
        K::Pattern { pattern } => {
            format!("{} does not match pattern '{pattern}'", quoted(got))
        }
        K::Enum { options } => match options {
            serde_json::Value::Array(items) => format!(
                "value must be one of {}",
                items.iter().map(quoted).collect::<Vec<_>>().join(", ")
            ),
            other => format!("value must be one of {}", quoted(other)),
        },
        K::Constant { expected_value } => format!("value must be {}", quoted(expected_value)),
        K::AdditionalProperties { unexpected } => format!(
            "additional properties {} not allowed",
            unexpected.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", ")
        ),
        _ => e.to_string(),
    }
}

/// A number as the validator's English message printer writes it: digits
/// of the whole part grouped by threes with commas (`70,000`).
fn grouped(number: &str) -> String {
    if number.contains(['e', 'E']) {
        return number.to_string();
    }
    let (sign, rest) = number.strip_prefix('-').map_or(("", number), |r| ("-", r));
    let (whole, frac) = rest.split_once('.').map_or((rest, None), |(w, f)| (w, Some(f)));
    let mut out = String::from(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn numbers_are_grouped_as_the_validator_prints_them() {
        let cases = [
            ("0", "0"),
            ("999", "999"),
            ("1000", "1,000"),
            ("65535", "65,535"),
            ("-1234567", "-1,234,567"),
            ("1234.5", "1,234.5"),
            ("0.25", "0.25"),
            ("1e+21", "1e+21"),
        ];
        for (input, want) in cases {
            assert_eq!(grouped(input), want, "{input}");
        }
    }
}
