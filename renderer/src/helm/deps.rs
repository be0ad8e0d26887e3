//! Dependencies as Helm processes them before rendering: aliases, `condition`, `tags`, and `import-values`.

use super::Error;
use super::chart::Chart;
use super::values::merge_with_defaults;
use crate::value::{Map, Value};

/// Renames aliased subcharts, drops disabled ones and imports values, for the whole tree.
pub fn process(chart: &mut Chart, user: &Map) -> Result<(), Error> {
    check_present(chart)?;
    resolve_aliases(chart);
    let cvals = merge_with_defaults(chart, user.clone());
    enable(chart, &cvals, "");
    super::imports::import_values(chart)
}

/// The error `helm template` gives when Chart.yaml lists a dependency that is not in `charts/`.
fn check_present(chart: &Chart) -> Result<(), Error> {
    let missing: Vec<String> = chart
        .requirements
        .iter()
        .filter_map(|r| r.get_path(&["name"]).and_then(Value::as_str))
        .filter(|n| !chart.dependencies.iter().any(|c| c.name == *n))
        .map(str::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingDependency { names: missing.join(", ") })
    }
}

fn req_str<'a>(r: &'a Value, key: &str) -> &'a str {
    r.get_path(&[key]).and_then(Value::as_str).unwrap_or_default()
}

/// Replaces each listed dependency by a copy named after its alias; unlisted subcharts stay.
fn resolve_aliases(chart: &mut Chart) {
    let mut out: Vec<Chart> = chart
        .dependencies
        .iter()
        .filter(|c| !chart.requirements.iter().any(|r| req_str(r, "name") == c.name))
        .cloned()
        .collect();
    for r in &chart.requirements {
        let name = req_str(r, "name");
        if let Some(c) = chart.dependencies.iter().find(|c| c.name == name) {
            let mut c = c.clone();
            let alias = req_str(r, "alias");
            if !alias.is_empty() {
                c.name = alias.to_string();
                c.metadata.insert("name".into(), Value::String(alias.to_string()));
            }
            out.push(c);
        }
    }
    for c in &mut out {
        resolve_aliases(c);
    }
    chart.dependencies = out;
}

/// The name a requirement ends up with.
pub(super) fn req_name(r: &Value) -> &str {
    let alias = req_str(r, "alias");
    if alias.is_empty() { req_str(r, "name") } else { alias }
}

fn path_value<'a>(values: &'a Map, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = values.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_map()?.get(p)?;
    }
    Some(cur)
}

/// Drops subcharts disabled by tags or conditions, recursively.
fn enable(chart: &mut Chart, cvals: &Map, path: &str) {
    let tags = cvals.get("tags").and_then(Value::as_map);
    let mut disabled = Vec::new();
    for r in &chart.requirements {
        let mut enabled = true;
        if let Some(tags) = tags {
            let (mut has_true, mut has_false) = (false, false);
            if let Some(Value::Seq(rt)) = r.get_path(&["tags"]) {
                for t in rt.iter().filter_map(Value::as_str) {
                    match tags.get(t) {
                        Some(Value::Bool(true)) => has_true = true,
                        Some(Value::Bool(false)) => has_false = true,
                        _ => {}
                    }
                }
            }
            enabled = has_true || !has_false;
        }
        for cond in req_str(r, "condition").trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            if let Some(Value::Bool(b)) = path_value(cvals, &format!("{path}{cond}")) {
                enabled = *b;
                break;
            }
        }
        if !enabled {
            disabled.push(req_name(r).to_string());
        }
    }
    chart.dependencies.retain(|c| !disabled.contains(&c.name));
    chart.requirements.retain(|r| !disabled.iter().any(|d| d == req_name(r)));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.name);
        enable(sub, cvals, &sub_path);
    }
}
