//! A Helm release's values: Flux v2 `valuesFrom` (helm-controller) and Flux v1 `valuesFrom`/`valueFileSecrets` (helm-operator), then inline `values`.
//!
//! Both controllers read values the way Helm reads a values file
//! (sigs.k8s.io/yaml, so every number is a float64), merge the sources in
//! order with maps merged key by key, and merge the inline `values` last.

use super::helm_release::{Loaded, Release};
use super::{Error, str_at, substitute};
use crate::helm::{self, chart::read_map, values::SetKind};
use crate::resource::Resource;
use crate::value::{Map, Value};

/// The values a release renders its chart with.
pub fn values(
    release: &Release,
    chart: &Loaded<'_>,
    available: &[&Resource],
    skipped: &mut Vec<String>,
) -> Result<Map, Error> {
    let who = release.who();
    let inline = match &release.values {
        Value::Null => Map::new(),
        Value::Map(m) => {
            // The API server hands the controllers JSON: numbers are float64.
            let mut v = Value::Map(m.clone());
            v.ints_to_floats();
            match v {
                Value::Map(m) => m,
                _ => Map::new(),
            }
        }
        other => {
            return Err(release.at.invalid(format!(
                "{who}: spec.values: expected a mapping, found a {}",
                other.type_name()
            )));
        }
    };
    let mut values = if release.flux_v2 {
        flux_v2(release, &inline, available)?
    } else {
        flux_v1(release, chart, available, skipped)?
    };
    helm::values::merge_maps(&mut values, inline);
    Ok(values)
}

/// Why a ConfigMap or Secret `namespace/name` that the render lacks may
/// still exist in the cluster, to follow "not in the render": an object of
/// the render that its controller turns into it there (a Bitnami
/// `SealedSecret` of the same name, an external-secrets `ExternalSecret`
/// whose target it is), whose values kiln cannot read. Empty when none is.
pub(crate) fn made_in_cluster(
    available: &[&Resource],
    kind: &str,
    namespace: &str,
    name: &str,
) -> String {
    if kind != "Secret" {
        return String::new();
    }
    let makes = |r: &Resource| {
        if r.namespace() != namespace {
            return false;
        }
        let gvk = r.gvk();
        match (gvk.group.as_str(), gvk.kind.as_str()) {
            ("bitnami.com", "SealedSecret") => r.name() == name,
            ("external-secrets.io", "ExternalSecret") => {
                match str_at(&r.value, &["spec", "target", "name"]) {
                    "" => r.name() == name,
                    target => target == name,
                }
            }
            _ => false,
        }
    };
    match available.iter().find(|r| makes(r)) {
        Some(r) => format!(
            "; {} {namespace}/{} ({}) makes it in the cluster from values kiln cannot read (it holds no key and reads no secret store)",
            r.kind(),
            r.name(),
            r.source
        ),
        None => String::new(),
    }
}

/// Why a Flux v2 HelmRelease cannot be rendered outside the cluster: a
/// `valuesFrom` Secret it needs (not optional) that the render holds only
/// as the object its controller makes it from in the cluster (see
/// [`made_in_cluster`]). The helm-controller reads that Secret there, so
/// the release is kept as written for it to render; kiln never sees the
/// values, nor writes them into the rendered tree.
/// A source `kiln.yaml` declares under `clusterObjects` counts too.
pub(crate) fn cluster_only_values(
    release: &Value,
    available: &[&Resource],
    declared: &[String],
) -> Option<String> {
    let namespace = str_at(release, &["metadata", "namespace"]);
    let Some(Value::Seq(froms)) = release.get_path(&["spec", "valuesFrom"]) else {
        return None;
    };
    froms.iter().find_map(|from| {
        let (kind, name) = (str_at(from, &["kind"]), str_at(from, &["name"]));
        if !matches!(kind, "ConfigMap" | "Secret")
            || from.get_path(&["optional"]) == Some(&Value::Bool(true))
            || available.iter().any(|r| {
                r.gvk().group.is_empty()
                    && r.kind() == kind
                    && r.name() == name
                    && r.namespace() == namespace
            })
        {
            return None;
        }
        let id = format!("{kind} {namespace}/{name}");
        if declared.contains(&id) {
            return Some(format!(
                "valuesFrom {id} exists only in the cluster (clusterObjects in kiln.yaml)"
            ));
        }
        let why = made_in_cluster(available, kind, namespace, name);
        let why = why.strip_prefix("; ")?;
        Some(format!("valuesFrom {kind} {namespace}/{name} exists only in the cluster: {why}"))
    })
}

/// The text under `key` of a ConfigMap or Secret `namespace/name` in
/// `available`: `Ok(None)` when the object is missing, `Ok(Some(None))`
/// when the key is. A Secret's `data` is base64-decoded; its `stringData`
/// (which the API server folds into `data`) is read too and wins.
fn source_value(
    available: &[&Resource],
    kind: &str,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Option<Option<String>>, String> {
    let Some(found) = available.iter().find(|r| {
        r.gvk().group.is_empty()
            && r.kind() == kind
            && r.name() == name
            && r.namespace() == namespace
    }) else {
        return Ok(None);
    };
    if kind == "Secret" {
        if let Some(v) = found.value.get_path(&["stringData", key]) {
            return Ok(Some(v.as_str().map(str::to_string)));
        }
        return match found.value.get_path(&["data", key]).and_then(Value::as_str) {
            None => Ok(Some(None)),
            Some(b64) => substitute::base64_decode(b64)
                .and_then(|b| String::from_utf8(b).ok())
                .map(|s| Some(Some(s)))
                .ok_or_else(|| format!("data.{key} is not base64 of UTF-8 text")),
        };
    }
    Ok(Some(found.value.get_path(&["data", key]).and_then(Value::as_str).map(str::to_string)))
}

/// Flux v2: each `valuesFrom` entry (`kind` ConfigMap or Secret of the
/// release's namespace, `valuesKey` default `values.yaml`, `optional`)
/// merged in order; with `targetPath` the text is set at that path as
/// Helm's `--set` does (`--set-string` when quoted), over the values so far
/// and the inline values, exactly as fluxcd/pkg's chartutil does.
fn flux_v2(release: &Release, inline: &Map, available: &[&Resource]) -> Result<Map, Error> {
    let who = release.who();
    let own_ns = str_at(&release.object, &["metadata", "namespace"]);
    let mut result = Map::new();
    let Some(Value::Seq(froms)) = release.object.get_path(&["spec", "valuesFrom"]) else {
        return Ok(result);
    };
    for from in froms {
        let kind = str_at(from, &["kind"]);
        let name = str_at(from, &["name"]);
        let key = match str_at(from, &["valuesKey"]) {
            "" => "values.yaml",
            k => k,
        };
        let optional = from.get_path(&["optional"]) == Some(&Value::Bool(true));
        let bad = |m: String| {
            release.at.invalid(format!("{who}: valuesFrom {kind} {own_ns}/{name} key {key:?}: {m}"))
        };
        if kind != "ConfigMap" && kind != "Secret" {
            return Err(bad("unsupported kind: expected ConfigMap or Secret".into()));
        }
        let text = match source_value(available, kind, own_ns, name, key).map_err(bad)? {
            Some(Some(text)) => text,
            None | Some(None) if optional => continue,
            None => {
                return Err(bad(match made_in_cluster(available, kind, own_ns, name) {
                    why if why.is_empty() => format!(
                        "not in the render (mark it optional: true if it may be missing, or list \"{kind} {own_ns}/{name}\" under clusterObjects in kiln.yaml if the cluster holds it)"
                    ),
                    why => format!(
                        "not in the render (mark it optional: true if it may be missing){why}"
                    ),
                }));
            }
            Some(None) => return Err(bad("no such key".into())),
        };
        match str_at(from, &["targetPath"]) {
            "" => {
                let m = read_map(text.as_bytes(), key, true).map_err(|e| bad(e.to_string()))?;
                helm::values::merge_maps(&mut result, m);
            }
            path => {
                helm::values::merge_maps(&mut result, inline.clone());
                replace_path_value(&mut result, path, &text)
                    .map_err(|e| bad(format!("targetPath {path}: {e}")))?;
            }
        }
    }
    Ok(result)
}

/// fluxcd/pkg's `ReplacePathValue`: `path=value` through Helm's strvals
/// parser, typed, or as a string when the value is wrapped in quotes (which
/// are trimmed, every leading and trailing one). Nothing is escaped, so a
/// comma in the value splits it as it does for Flux.
fn replace_path_value(values: &mut Map, path: &str, value: &str) -> Result<(), helm::Error> {
    let quoted = |q: char| value.starts_with(q) && value.ends_with(q);
    if quoted('\'') || quoted('"') {
        let trimmed = value.trim_matches(['\'', '"']);
        return helm::values::apply_set(values, &format!("{path}={trimmed}"), SetKind::String);
    }
    helm::values::apply_set(values, &format!("{path}={value}"), SetKind::Typed)
}

/// Flux v1 helm-operator: `valueFileSecrets` (each a Secret's `values.yaml`)
/// first, then `valuesFrom` in order: `configMapKeyRef` and `secretKeyRef`
/// (`name`, `namespace` default the release's, `key` default
/// `values.yaml`, `optional`), `chartFileRef` (a file of the chart,
/// `path`, `optional`) and `externalSourceRef` (a URL, which kiln never
/// fetches: optional ones are passed over and reported, others are errors).
fn flux_v1(
    release: &Release,
    chart: &Loaded<'_>,
    available: &[&Resource],
    skipped: &mut Vec<String>,
) -> Result<Map, Error> {
    let who = release.who();
    let spec = |f: &str| release.object.get_path(&["spec", f]);
    let own_ns = match str_at(&release.object, &["metadata", "namespace"]) {
        "" => "default",
        n => n,
    };
    let mut refs: Vec<Value> = Vec::new();
    if let Some(Value::Seq(secrets)) = spec("valueFileSecrets") {
        for s in secrets {
            let mut m = Map::new();
            m.insert("secretKeyRef".into(), s.clone());
            refs.push(Value::Map(m));
        }
    }
    if let Some(Value::Seq(froms)) = spec("valuesFrom") {
        refs.extend(froms.iter().cloned());
    }
    let mut result = Map::new();
    for r in &refs {
        let (field, sel) = match r.as_map().and_then(|m| m.iter().next()) {
            Some((f, sel)) => (f.as_str(), sel),
            None => return Err(release.at.invalid(format!("{who}: valuesFrom entry is empty"))),
        };
        let optional = sel.get_path(&["optional"]) == Some(&Value::Bool(true));
        let values = match field {
            "configMapKeyRef" | "secretKeyRef" => {
                let kind = if field == "secretKeyRef" { "Secret" } else { "ConfigMap" };
                let name = str_at(sel, &["name"]);
                let ns = match str_at(sel, &["namespace"]) {
                    "" => own_ns,
                    n => n,
                };
                let key = match str_at(sel, &["key"]) {
                    "" => "values.yaml",
                    k => k,
                };
                let bad = |m: String| {
                    release
                        .at
                        .invalid(format!("{who}: valuesFrom {field} {ns}/{name} key {key:?}: {m}"))
                };
                match source_value(available, kind, ns, name, key).map_err(bad)? {
                    Some(Some(text)) => {
                        Some(read_map(text.as_bytes(), key, true).map_err(|e| bad(e.to_string()))?)
                    }
                    None | Some(None) if optional => None,
                    None => {
                        return Err(bad(format!(
                            "{kind} not in the render (mark it optional: true if it may be missing){}",
                            made_in_cluster(available, kind, ns, name)
                        )));
                    }
                    Some(None) => return Err(bad("no such key".into())),
                }
            }
            "chartFileRef" => {
                let path = str_at(sel, &["path"]);
                match chart.chart_values_file(path) {
                    Some(Ok(m)) => Some(m),
                    Some(Err(e)) => {
                        return Err(release
                            .at
                            .invalid(format!("{who}: valuesFrom chartFileRef {path}: {e}")));
                    }
                    None if optional => None,
                    None => {
                        return Err(release.at.invalid(format!(
                            "{who}: valuesFrom chartFileRef {path}: the chart has no such file"
                        )));
                    }
                }
            }
            "externalSourceRef" => {
                let url = str_at(sel, &["url"]);
                if !optional {
                    return Err(release.at.invalid(format!(
                        "{who}: valuesFrom externalSourceRef {url}: kiln fetches nothing from the network; mark it optional: true to render without it"
                    )));
                }
                skipped.push(format!(
                    "{who} ({}): optional values from {url} not fetched",
                    release.at.file
                ));
                None
            }
            other => {
                return Err(release.at.invalid(format!(
                    "{who}: valuesFrom {other}: expected configMapKeyRef, secretKeyRef, chartFileRef or externalSourceRef"
                )));
            }
        };
        if let Some(v) = values {
            helm::values::merge_maps(&mut result, v);
        }
    }
    Ok(result)
}
