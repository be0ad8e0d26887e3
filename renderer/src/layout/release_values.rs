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

/// A ConfigMap or Secret a release reads values from.
struct ClusterSource<'a> {
    kind: &'static str,
    namespace: &'a str,
    name: &'a str,
    optional: bool,
}

/// The ConfigMaps and Secrets a release reads values from, in order: Flux
/// v2 `valuesFrom` (`kind`, `name`, in the release's namespace) or Flux v1
/// `valueFileSecrets` then `valuesFrom` `configMapKeyRef`/`secretKeyRef`
/// (`namespace` default the release's, `default` when it has none).
fn cluster_sources(release: &Value) -> Vec<ClusterSource<'_>> {
    let flux_v2 = super::api_kind(release).0.starts_with("helm.toolkit.fluxcd.io/");
    let own_ns = match str_at(release, &["metadata", "namespace"]) {
        "" if !flux_v2 => "default",
        n => n,
    };
    let optional = |v: &Value| v.get_path(&["optional"]) == Some(&Value::Bool(true));
    let mut out = Vec::new();
    if !flux_v2 {
        if let Some(Value::Seq(secrets)) = release.get_path(&["spec", "valueFileSecrets"]) {
            out.extend(secrets.iter().map(|s| ClusterSource {
                kind: "Secret",
                namespace: own_ns,
                name: str_at(s, &["name"]),
                optional: false,
            }));
        }
    }
    let Some(Value::Seq(froms)) = release.get_path(&["spec", "valuesFrom"]) else {
        return out;
    };
    for from in froms {
        let (kind, sel) = match from.get_path(&["kind"]).and_then(Value::as_str) {
            Some("ConfigMap") if flux_v2 => ("ConfigMap", from),
            Some("Secret") if flux_v2 => ("Secret", from),
            _ if flux_v2 => continue,
            _ => match (from.get_path(&["configMapKeyRef"]), from.get_path(&["secretKeyRef"])) {
                (Some(sel), _) => ("ConfigMap", sel),
                (None, Some(sel)) => ("Secret", sel),
                (None, None) => continue,
            },
        };
        let namespace = match str_at(sel, &["namespace"]) {
            n if !n.is_empty() && !flux_v2 => n,
            _ => own_ns,
        };
        out.push(ClusterSource {
            kind,
            namespace,
            name: str_at(sel, &["name"]),
            optional: optional(sel),
        });
    }
    out
}

/// Why a HelmRelease (Flux v2 or v1) cannot be rendered outside the
/// cluster: a ConfigMap or Secret it reads values from (not optional) that
/// the render lacks and that only the cluster holds: one `kiln.yaml`
/// declares under `clusterObjects`, or one the render holds only as the
/// object its controller makes it from in the cluster (see
/// [`made_in_cluster`]). The controller reads it there, so the release is
/// kept as written for it to render; kiln never sees the values, nor writes
/// them into the rendered tree.
pub(crate) fn cluster_only_values(
    release: &Value,
    available: &[&Resource],
    declared: &[String],
) -> Option<String> {
    cluster_sources(release).into_iter().find_map(|s| {
        let ClusterSource { kind, namespace, name, optional } = s;
        if optional
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
        if !namespace.is_empty() && declared.contains(&id) {
            return Some(format!(
                "valuesFrom {id} exists only in the cluster (clusterObjects in kiln.yaml)"
            ));
        }
        let why = made_in_cluster(available, kind, namespace, name);
        let why = why.strip_prefix("; ")?;
        Some(format!("valuesFrom {id} exists only in the cluster: {why}"))
    })
}

/// What to do about a ConfigMap or Secret `kind namespace/name` that the
/// render lacks, for the error that says it is missing: mark it optional,
/// or declare it under `clusterObjects` (which needs a namespace), or why
/// the cluster makes it from values kiln cannot read.
fn missing_hint(available: &[&Resource], kind: &str, namespace: &str, name: &str) -> String {
    match made_in_cluster(available, kind, namespace, name) {
        why if !why.is_empty() => {
            format!("not in the render (mark it optional: true if it may be missing){why}")
        }
        _ if namespace.is_empty() => "not in the render (mark it optional: true if it may be missing; the release has no metadata.namespace, so it cannot be declared under clusterObjects in kiln.yaml)".to_string(),
        _ => format!(
            "not in the render (mark it optional: true if it may be missing, or list \"{kind} {namespace}/{name}\" under clusterObjects in kiln.yaml if the cluster holds it)"
        ),
    }
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
            None => return Err(bad(missing_hint(available, kind, own_ns, name))),
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
                // The helm-operator passes over an optional source that is
                // missing, lacks the key, or (a ConfigMap's) is not YAML.
                match source_value(available, kind, ns, name, key).map_err(bad)? {
                    Some(Some(text)) => match read_map(text.as_bytes(), key, true) {
                        Ok(m) => Some(m),
                        Err(_) if optional && kind == "ConfigMap" => None,
                        Err(e) => return Err(bad(e.to_string())),
                    },
                    None | Some(None) if optional => None,
                    None => {
                        return Err(bad(format!(
                            "{kind} {}",
                            missing_hint(available, kind, ns, name)
                        )));
                    }
                    Some(None) => return Err(bad("no such key".into())),
                }
            }
            "chartFileRef" => {
                // The helm-operator reads the file from the chart's
                // directory, which only a git chart has (a repository chart
                // is a downloaded archive); an optional file that is missing
                // or not YAML is passed over.
                let path = str_at(sel, &["path"]);
                let bad = |m: &str| {
                    release.at.invalid(format!("{who}: valuesFrom chartFileRef {path}: {m}"))
                };
                let found = chart.from_git.then(|| chart.chart_values_file(path)).flatten();
                match found {
                    Some(Ok(m)) => Some(m),
                    Some(Err(_)) | None if optional => None,
                    Some(Err(e)) => return Err(bad(&e)),
                    None if !chart.from_git => {
                        return Err(bad(
                            "chart files are read only from charts of a git repository (spec.chart.git or a path in this repository), not from a Helm repository's chart",
                        ));
                    }
                    None => return Err(bad("the chart has no such file")),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        crate::yaml::parse_documents(text, "t").unwrap().remove(0)
    }

    /// A release without a namespace reads from namespace "" (Flux v2),
    /// which `clusterObjects` cannot name: the hint does not suggest an
    /// entry kiln.yaml would refuse, and no declared entry matches it.
    #[test]
    fn a_release_without_a_namespace_gets_no_cluster_objects_hint() {
        let hint = missing_hint(&[], "Secret", "", "vals");
        assert!(hint.contains("the release has no metadata.namespace"), "{hint}");
        assert!(!hint.contains("\"Secret /vals\""), "{hint}");
        let hint = missing_hint(&[], "Secret", "apps", "vals");
        assert!(hint.contains("list \"Secret apps/vals\" under clusterObjects"), "{hint}");
        let hr = doc(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\nspec:\n  valuesFrom: [{kind: Secret, name: vals}]\n",
        );
        assert_eq!(cluster_only_values(&hr, &[], &["Secret /vals".to_string()]), None);
    }

    /// Both controllers' forms name the same ConfigMaps and Secrets: Flux v2
    /// `kind`/`name` in the release's namespace, Flux v1 `valueFileSecrets`
    /// and `configMapKeyRef`/`secretKeyRef` with their own namespace
    /// (default the release's, `default` when it has none).
    #[test]
    fn cluster_sources_of_both_flux_versions() {
        let cases = [
            (
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: a, namespace: apps}\nspec:\n  valuesFrom:\n  - {kind: ConfigMap, name: c, optional: true}\n  - {kind: Secret, name: s}\n",
                vec!["ConfigMap apps/c optional", "Secret apps/s"],
            ),
            (
                "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: a}\nspec:\n  valueFileSecrets: [{name: f}]\n  valuesFrom:\n  - configMapKeyRef: {name: c, namespace: other}\n  - secretKeyRef: {name: s, optional: true}\n  - chartFileRef: {path: v.yaml}\n",
                vec!["Secret default/f", "ConfigMap other/c", "Secret default/s optional"],
            ),
        ];
        for (text, want) in cases {
            let release = doc(text);
            let got: Vec<String> = cluster_sources(&release)
                .iter()
                .map(|s| {
                    let opt = if s.optional { " optional" } else { "" };
                    format!("{} {}/{}{opt}", s.kind, s.namespace, s.name)
                })
                .collect();
            assert_eq!(got, want, "{text}");
        }
    }
}
