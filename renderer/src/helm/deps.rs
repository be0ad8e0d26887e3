//! Dependencies as Helm processes them before rendering: aliases, `condition`, `tags`, and `import-values`.

use super::Error;
use super::chart::Chart;
use super::values::coalesce;
use crate::value::{Map, Value};

/// Renames aliased subcharts, drops disabled ones and imports values, for the whole tree.
pub fn process(chart: &mut Chart, user: &Map) -> Result<(), Error> {
    let wrap = |e| Error::Dependencies { cause: Box::new(e) };
    enable(chart, user, "").map_err(wrap)?;
    super::imports::import_values(chart).map_err(wrap)
}

/// The error `helm template` gives when Chart.yaml lists a dependency that is not in `charts/`.
pub fn check_present(chart: &Chart) -> Result<(), Error> {
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

/// Helm's `getAliasDependency` over a chart's `charts/`: the subchart a
/// requirement names, if its version meets the requirement's constraint,
/// copied and renamed after the alias.
fn alias_dependency(subcharts: &[Chart], r: &Value) -> Option<Chart> {
    let found = subcharts.iter().find(|c| matches_requirement(c, r))?;
    let mut c = found.clone();
    let alias = req_str(r, "alias");
    if !alias.is_empty() {
        c.name = alias.to_string();
        c.metadata.insert("name".into(), Value::String(alias.to_string()));
    }
    Some(c)
}

/// Whether a subchart is the one a requirement names: the same name and a
/// version within the requirement's range (an absent or unreadable range
/// matches nothing, as in Helm).
fn matches_requirement(c: &Chart, r: &Value) -> bool {
    c.name == req_str(r, "name")
        && crate::gotmpl::sprig::semver::is_compatible_range(
            &r.get_path(&["version"]).map(super::chart::go_string).unwrap_or_default(),
            &c.meta_str("version"),
        )
}

fn path_value<'a>(values: &'a Map, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = values.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_map()?.get(p)?;
    }
    Some(cur)
}

/// Helm's `processDependencyEnabled`: resolves the aliases of a chart's
/// own requirements, coalesces the chart's values (with its subcharts')
/// over `v`, drops the requirements that tags or conditions (looked up
/// under `path`) disable, and recurses with those values. Subcharts in
/// `charts/` that no requirement matches stay, unless a disabled
/// requirement bears their name.
fn enable(chart: &mut Chart, v: &Map, path: &str) -> Result<(), Error> {
    // Helm leaves the subcharts of a chart that lists no dependencies as
    // they are, their own conditions and aliases unapplied.
    if !chart.lists_dependencies {
        return Ok(());
    }
    chart.dependencies_enabled = true;
    let mut deps: Vec<Chart> = chart
        .dependencies
        .iter()
        .filter(|c| !chart.requirements.iter().any(|r| matches_requirement(c, r)))
        .cloned()
        .collect();
    deps.extend(chart.requirements.iter().filter_map(|r| alias_dependency(&chart.dependencies, r)));
    chart.dependencies = deps;
    // From here on Helm knows an aliased requirement by its alias, also
    // when it imports values; a chart this walk never reaches keeps the
    // names its Chart.yaml gives.
    for r in &mut chart.requirements {
        let alias = req_str(r, "alias").to_string();
        if let (false, Value::Map(m)) = (alias.is_empty(), r) {
            m.insert("name".into(), Value::String(alias));
        }
    }
    let cvals = coalesce(chart, v.clone())?;
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
            if let Some(Value::Bool(b)) = path_value(&cvals, &format!("{path}{cond}")) {
                enabled = *b;
                break;
            }
        }
        if !enabled {
            disabled.push(req_str(r, "name").to_string());
        }
    }
    chart.dependencies.retain(|c| !disabled.contains(&c.name));
    chart.requirements.retain(|r| !disabled.iter().any(|d| d == req_str(r, "name")));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.name);
        enable(sub, &cvals, &sub_path)?;
    }
    Ok(())
}
