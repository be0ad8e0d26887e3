//! Helm releases found in a repository (Flux v2 `HelmRelease`, Flux v1 `FluxHelmRelease` and `HelmRelease`) and the one place they are rendered.
//!
//! Every layout turns a release object into a [`Release`] and calls
//! [`render_release`], which renders the chart with the native Helm engine
//! ([`crate::helm`]), so every layout renders charts the same way.

use super::substitute;
use super::{Error, Location, str_at};
use crate::cache::{NoCache, Step, UnitCache, UnitKey};
use crate::helm;
use crate::resource::Resource;
use crate::tree::{self, Tree};
use crate::value::{Map, Value};
use crate::yaml;

/// Where a release's chart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chart {
    /// A chart directory in this repository (normalised path from the root).
    Path(String),
    /// A chart of a `HelmRepository` (or OCI repository), by name and version
    /// constraint, to be found in the chart cache.
    Repository {
        /// `kind/namespace/name` of the source object.
        source: String,
        /// The chart's name.
        chart: String,
        /// The version or constraint, `""` for the latest.
        version: String,
    },
}

/// A Helm release to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// Where the release object was found.
    pub at: Location,
    /// The object's kind (`HelmRelease`, `FluxHelmRelease`).
    pub kind: String,
    /// The object's `metadata.name`.
    pub name: String,
    /// The Helm release name.
    pub release_name: String,
    /// The namespace the chart's objects go to.
    pub namespace: String,
    /// The chart.
    pub chart: Chart,
    /// Inline `values`.
    pub values: Value,
    /// The release object as written, for what the fields above do not carry
    /// (`valuesFrom`, `install.crds`, `postRenderers`).
    pub object: Value,
}

/// Whether `doc` is a Helm release kiln knows: Flux v2 `HelmRelease`
/// (`helm.toolkit.fluxcd.io`), Flux v1 `FluxHelmRelease`
/// (`helm.integrations.flux.weave.works`) or `HelmRelease` (`flux.weave.works`).
pub fn is_release(doc: &Value) -> bool {
    let (api, kind) = super::api_kind(doc);
    matches!(
        (api.split('/').next().unwrap_or(""), kind),
        ("helm.toolkit.fluxcd.io", "HelmRelease")
            | ("helm.integrations.flux.weave.works", "FluxHelmRelease")
            | ("flux.weave.works", "HelmRelease")
    )
}

/// Reads a Flux v2 `HelmRelease`. `this_repo` names the `GitRepository`
/// sources (`namespace/name`) that are this repository.
pub fn from_flux_v2(doc: &Value, at: &Location, this_repo: &[String]) -> Result<Release, Error> {
    let name = str_at(doc, &["metadata", "name"]).to_string();
    let own_ns = str_at(doc, &["metadata", "namespace"]);
    let target_ns = str_at(doc, &["spec", "targetNamespace"]);
    // Flux's default release name is `[<targetNamespace>-]<name>`.
    let release_name = match str_at(doc, &["spec", "releaseName"]) {
        "" if !target_ns.is_empty() => format!("{target_ns}-{name}"),
        "" => name.clone(),
        r => r.to_string(),
    };
    let namespace = if target_ns.is_empty() { own_ns } else { target_ns }.to_string();
    let spec = |p: &[&str]| {
        let mut full = vec!["spec", "chart", "spec"];
        full.extend_from_slice(p);
        str_at(doc, &full).to_string()
    };
    let chart = if doc.get_path(&["spec", "chart"]).is_some() {
        let kind = spec(&["sourceRef", "kind"]);
        let src_ns = match spec(&["sourceRef", "namespace"]) {
            n if n.is_empty() => own_ns.to_string(),
            n => n,
        };
        let source = format!("{src_ns}/{}", spec(&["sourceRef", "name"]));
        if kind == "GitRepository" {
            if !this_repo.contains(&source) {
                return Err(at.invalid(format!(
                    "HelmRelease {name}: chart source GitRepository {source} is not this repository"
                )));
            }
            Chart::Path(tree::join("", &spec(&["chart"])).map_err(|e| at.invalid(e.to_string()))?)
        } else {
            Chart::Repository {
                source: format!("{kind}/{source}"),
                chart: spec(&["chart"]),
                version: spec(&["version"]),
            }
        }
    } else if let Some(r) = doc.get_path(&["spec", "chartRef"]) {
        let ns = match str_at(r, &["namespace"]) {
            "" => own_ns,
            n => n,
        };
        Chart::Repository {
            source: format!("{}/{ns}/{}", str_at(r, &["kind"]), str_at(r, &["name"])),
            chart: str_at(r, &["name"]).to_string(),
            version: String::new(),
        }
    } else {
        return Err(at.invalid(format!("HelmRelease {name}: neither spec.chart nor spec.chartRef")));
    };
    Ok(Release {
        at: at.clone(),
        kind: "HelmRelease".into(),
        name,
        release_name,
        namespace,
        chart,
        values: doc.get_path(&["spec", "values"]).cloned().unwrap_or(Value::Null),
        object: doc.clone(),
    })
}

/// Reads a Flux v1 release: `FluxHelmRelease` (`spec.chartGitPath` relative
/// to `charts/`) or `flux.weave.works` `HelmRelease` (`spec.chart.path`
/// relative to the repository root). The helm-operator's default release
/// name is `<namespace>-<name>`.
pub fn from_flux_v1(doc: &Value, at: &Location) -> Result<Release, Error> {
    let (_, kind) = super::api_kind(doc);
    let name = str_at(doc, &["metadata", "name"]).to_string();
    let namespace = str_at(doc, &["metadata", "namespace"]).to_string();
    let path = if kind == "FluxHelmRelease" {
        match str_at(doc, &["spec", "chartGitPath"]) {
            "" => return Err(at.invalid(format!("FluxHelmRelease {name}: no spec.chartGitPath"))),
            p => tree::join("charts", p),
        }
    } else {
        match str_at(doc, &["spec", "chart", "path"]) {
            "" => return Err(at.invalid(format!("HelmRelease {name}: no spec.chart.path"))),
            p => tree::join("", p),
        }
    }
    .map_err(|e| at.invalid(e.to_string()))?;
    let release_name = match str_at(doc, &["spec", "releaseName"]) {
        "" if namespace.is_empty() => name.clone(),
        "" => format!("{namespace}-{name}"),
        r => r.to_string(),
    };
    Ok(Release {
        at: at.clone(),
        kind: kind.to_string(),
        name,
        release_name,
        namespace,
        chart: Chart::Path(path),
        values: doc.get_path(&["spec", "values"]).cloned().unwrap_or(Value::Null),
        object: doc.clone(),
    })
}

/// Renders a release's chart with the native Helm engine into the objects
/// the release installs, the way Flux's helm-controller (or the Flux v1
/// helm-operator) installs it: values from `valuesFrom` then inline
/// `values`, CRDs unless the install policy skips them, test hooks left
/// out, and namespaced objects without a namespace placed in the release's
/// namespace. `available` is what the render has produced so far, where
/// `valuesFrom` ConfigMaps and Secrets are looked up.
pub fn render_release(
    tree: &dyn Tree,
    release: &Release,
    available: &[&Resource],
) -> Result<Vec<Resource>, Error> {
    render_release_with(tree, release, available, &NoCache)
}

/// [`render_release`], the chart render handed to `cache` once the values
/// are resolved: the release name, namespace, chart path, values and CRD
/// policy make its key, the chart's files are read from the tree.
pub fn render_release_with(
    tree: &dyn Tree,
    release: &Release,
    available: &[&Resource],
    cache: &dyn UnitCache,
) -> Result<Vec<Resource>, Error> {
    let at = &release.at;
    let who = format!("{} {}", release.kind, release.name);
    let dir = match &release.chart {
        Chart::Path(dir) => dir,
        Chart::Repository { source, chart, version } => {
            return Err(at.invalid(format!(
                "{who}: chart {chart:?} version {version:?} of {source}: charts from repositories are not supported yet"
            )));
        }
    };
    let chart_file = tree::join(dir, "Chart.yaml").map_err(|e| at.invalid(e.to_string()))?;
    if tree.kind(&chart_file).is_none() {
        return Err(at.invalid(format!("{who}: chart {dir:?} not found (no {chart_file})")));
    }
    let options = helm::Options {
        release: shorten_release_name(&release.release_name),
        namespace: release.namespace.clone(),
        values: release_values(release, available)?,
        include_crds: includes_crds(&release.object),
        skip_tests: true,
        ..helm::Options::default()
    };
    let mut spec = Map::new();
    spec.insert("file".into(), Value::String(at.file.clone()));
    spec.insert("chart".into(), Value::String(dir.clone()));
    spec.insert("release".into(), Value::String(options.release.clone()));
    spec.insert("namespace".into(), Value::String(options.namespace.clone()));
    spec.insert("crds".into(), Value::Bool(options.include_crds));
    spec.insert("values".into(), Value::Map(options.values.clone()));
    let spec = yaml::to_string(&Value::Map(spec));
    let unit = format!("{}/{}", at.unit, release.name);
    let key =
        UnitKey { cluster: &at.cluster, unit: &unit, step: Step::Helm, spec: spec.as_bytes() };
    cache.build(&key, tree, &|tree| {
        let text = helm::template(tree, dir, &options)
            .map_err(|e| at.invalid(format!("{who}: chart {dir}: {e}")))?;
        let docs = yaml::parse_documents(&text, dir)
            .map_err(|e| at.invalid(format!("{who}: chart {dir}: {e}")))?;
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            let mut r = Resource::new(doc, at.file.clone());
            if r.namespace().is_empty() && !r.gvk().is_cluster_scoped() {
                r.set_namespace(release.namespace.clone());
            }
            out.push(r);
        }
        Ok(out)
    })
}

/// Whether the chart's `crds/` are installed. Flux v2: `spec.install.crds`
/// is `Create` when omitted and `Skip` leaves them out (`Create` and
/// `CreateReplace` install them); Flux v1 helm-operator: unless
/// `spec.skipCRDs` is true.
fn includes_crds(object: &Value) -> bool {
    if object.get_path(&["spec", "skipCRDs"]) == Some(&Value::Bool(true)) {
        return false;
    }
    str_at(object, &["spec", "install", "crds"]) != "Skip"
}

/// Flux's helm-controller shortens release names longer than 53 characters
/// (Helm's limit) to their first 40 characters, a dash and the first 12 hex
/// digits of the name's SHA-256.
pub fn shorten_release_name(name: &str) -> String {
    use sha2::{Digest, Sha256};
    if name.len() <= 53 {
        return name.to_string();
    }
    let hash = Sha256::digest(name.as_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let head: String = name.chars().take(40).collect();
    format!("{head}-{hex}")
}

/// The release's values: each `valuesFrom` source merged in order, then the
/// inline `values` merged last, so they win.
fn release_values(release: &Release, available: &[&Resource]) -> Result<Map, Error> {
    let at = &release.at;
    let who = format!("{} {}", release.kind, release.name);
    let mut values = Map::new();
    let own_ns = str_at(&release.object, &["metadata", "namespace"]);
    if let Some(Value::Seq(froms)) = release.object.get_path(&["spec", "valuesFrom"]) {
        for from in froms {
            let kind = str_at(from, &["kind"]);
            let name = str_at(from, &["name"]);
            let key = match str_at(from, &["valuesKey"]) {
                "" => "values.yaml",
                k => k,
            };
            let optional = from.get_path(&["optional"]) == Some(&Value::Bool(true));
            if kind != "ConfigMap" && kind != "Secret" {
                return Err(at.invalid(format!(
                    "{who}: valuesFrom kind {kind:?}: expected ConfigMap or Secret"
                )));
            }
            let Some(text) = source_value(available, kind, own_ns, name, key).map_err(|m| {
                at.invalid(format!("{who}: valuesFrom {kind} {own_ns}/{name}: {m}"))
            })?
            else {
                if optional {
                    continue;
                }
                return Err(at.invalid(format!(
                    "{who}: valuesFrom {kind} {own_ns}/{name} key {key:?} is not in the render (mark it optional: true if it may be missing)"
                )));
            };
            match str_at(from, &["targetPath"]) {
                "" => {
                    let mut docs = yaml::parse_documents(&text, key).map_err(|e| {
                        at.invalid(format!("{who}: valuesFrom {kind} {name} key {key}: {e}"))
                    })?;
                    match docs.pop() {
                        None | Some(Value::Null) => {}
                        Some(Value::Map(m)) => helm::values::merge_maps(&mut values, m),
                        Some(other) => {
                            return Err(at.invalid(format!(
                                "{who}: valuesFrom {kind} {name} key {key}: expected a mapping, found a {}",
                                other.type_name()
                            )));
                        }
                    }
                }
                path => {
                    let escaped = text.replace('\\', "\\\\").replace(',', "\\,");
                    helm::values::apply_set(
                        &mut values,
                        &format!("{path}={escaped}"),
                        helm::values::SetKind::Typed,
                    )
                    .map_err(|e| at.invalid(format!("{who}: valuesFrom targetPath {path}: {e}")))?;
                }
            }
        }
    }
    match &release.values {
        Value::Null => {}
        Value::Map(m) => helm::values::merge_maps(&mut values, m.clone()),
        other => {
            return Err(at.invalid(format!(
                "{who}: spec.values: expected a mapping, found a {}",
                other.type_name()
            )));
        }
    }
    Ok(values)
}

/// The text under `key` of a ConfigMap or Secret `namespace/name` in
/// `available` (Secret `data` decoded from base64, `stringData` as is);
/// `Ok(None)` when the object or the key is missing.
fn source_value(
    available: &[&Resource],
    kind: &str,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Option<String>, String> {
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
            return Ok(v.as_str().map(str::to_string));
        }
        return match found.value.get_path(&["data", key]).and_then(Value::as_str) {
            None => Ok(None),
            Some(b64) => substitute::base64_decode(b64)
                .and_then(|b| String::from_utf8(b).ok())
                .map(Some)
                .ok_or_else(|| format!("data.{key} is not base64 of UTF-8 text")),
        };
    }
    Ok(found.value.get_path(&["data", key]).and_then(Value::as_str).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;
    use crate::yaml;

    fn doc(text: &str) -> Value {
        yaml::parse_documents(text, "t").unwrap().remove(0)
    }

    #[test]
    fn reads_flux_v2_releases() {
        let at = Location::new("prod", "apps", "apps/podinfo.yaml");
        let repo = vec!["flux-system/flux-system".to_string()];
        type Want = Result<(&'static str, &'static str, Chart), &'static str>;
        let cases: &[(&str, Want)] = &[
            (
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo, namespace: flux-system}\nspec:\n  targetNamespace: apps\n  chart:\n    spec: {chart: podinfo, version: '6.x', sourceRef: {kind: HelmRepository, name: podinfo}}\n",
                Ok((
                    "apps-podinfo",
                    "apps",
                    Chart::Repository {
                        source: "HelmRepository/flux-system/podinfo".into(),
                        chart: "podinfo".into(),
                        version: "6.x".into(),
                    },
                )),
            ),
            (
                "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata: {name: web, namespace: flux-system}\nspec:\n  releaseName: web\n  chart:\n    spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system}}\n",
                Ok(("web", "flux-system", Chart::Path("charts/web".into()))),
            ),
            (
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: apps}\nspec:\n  chart:\n    spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: other}}\n",
                Err("GitRepository apps/other is not this repository"),
            ),
            (
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: apps}\nspec: {}\n",
                Err("neither spec.chart nor spec.chartRef"),
            ),
        ];
        for (text, want) in cases {
            let d = doc(text);
            assert!(is_release(&d));
            match (from_flux_v2(&d, &at, &repo), want) {
                (Ok(r), Ok((rn, ns, chart))) => {
                    assert_eq!(
                        (r.release_name.as_str(), r.namespace.as_str(), &r.chart),
                        (*rn, *ns, chart)
                    );
                }
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{e}"),
                (got, want) => panic!("got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn reads_flux_v1_releases_and_renders_their_charts() {
        let at = Location::new(
            "staging",
            "jupiter-brain-org",
            "releases/staging/jupiter-brain-org.yaml",
        );
        let d = doc(
            "apiVersion: helm.integrations.flux.weave.works/v1alpha2\nkind: FluxHelmRelease\nmetadata: {name: jupiter-brain-org, namespace: staging, labels: {chart: jupiter-brain}}\nspec: {chartGitPath: jupiter-brain, releaseName: jupiter-brain-org, values: {secretEnv: staging-1}}\n",
        );
        let r = from_flux_v1(&d, &at).unwrap();
        assert_eq!(r.chart, Chart::Path("charts/jupiter-brain".into()));
        assert_eq!(r.release_name, "jupiter-brain-org");
        let mut t = MemTree::new();
        let err = render_release(&t, &r, &[]).unwrap_err().to_string();
        assert!(err.contains("chart \"charts/jupiter-brain\" not found"), "{err}");
        t.insert(
            "charts/jupiter-brain/Chart.yaml",
            "apiVersion: v2\nname: jupiter-brain\nversion: 1.0.0\n",
        );
        t.insert(
            "charts/jupiter-brain/templates/s.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: {{ .Release.Name }}}\nspec: {selector: {env: {{ .Values.secretEnv }}}}\n",
        );
        let objects = render_release(&t, &r, &[]).unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(
            (
                objects[0].name(),
                objects[0].namespace(),
                str_at(&objects[0].value, &["spec", "selector", "env"])
            ),
            ("jupiter-brain-org", "staging", "staging-1")
        );
        let v1 = doc(
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {name: a, namespace: ns}\nspec: {chart: {path: charts/a}}\n",
        );
        let r = from_flux_v1(&v1, &at).unwrap();
        assert_eq!((r.release_name.as_str(), &r.chart), ("ns-a", &Chart::Path("charts/a".into())));
    }

    /// helm-controller shortens release names over Helm's 53 characters to
    /// 40 characters, `-` and 12 hex digits of the SHA-256 of the name.
    #[test]
    fn shortens_long_release_names() {
        let long = "a".repeat(60);
        let cases: &[(&str, usize)] = &[("web", 3), (&long[..53], 53), (&long, 53)];
        for (name, len) in cases {
            let got = shorten_release_name(name);
            assert_eq!(got.len(), *len, "{got}");
            assert_eq!(got == *name, name.len() <= 53, "{got}");
        }
        let got = shorten_release_name(&long);
        assert!(got.starts_with(&format!("{}-", &long[..40])), "{got}");
        assert_ne!(shorten_release_name(&"b".repeat(60))[41..], got[41..]);
    }
}
