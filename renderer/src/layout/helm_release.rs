//! Helm releases found in a repository (Flux v2 `HelmRelease`, Flux v1 `FluxHelmRelease` and `HelmRelease`) and the one place they are rendered.
//!
//! Every layout turns a release object into a [`Release`] and calls
//! [`render_release`]; pointing that function at a Helm engine makes every
//! layout render charts. Until then it is a clear error, never a silent drop.

use super::{Error, Location, str_at};
use crate::resource::Resource;
use crate::tree::{self, Tree};
use crate::value::Value;

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

/// Renders a release's chart into objects. No Helm engine is wired in yet,
/// so this checks what can be checked without one (a chart in this
/// repository exists) and then reports that Helm rendering is not available.
pub fn render_release(tree: &dyn Tree, release: &Release) -> Result<Vec<Resource>, Error> {
    if let Chart::Path(dir) = &release.chart {
        let chart_file =
            tree::join(dir, "Chart.yaml").map_err(|e| release.at.invalid(e.to_string()))?;
        if tree.kind(&chart_file).is_none() {
            return Err(release.at.invalid(format!(
                "{} {}: chart {dir:?} not found (no {chart_file})",
                release.kind, release.name
            )));
        }
    }
    Err(Error::HelmUnavailable {
        at: release.at.clone(),
        kind: release.kind.clone(),
        name: release.name.clone(),
    })
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
    fn reads_flux_v1_releases_and_reports_helm_unavailable() {
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
        let err = render_release(&t, &r).unwrap_err().to_string();
        assert!(err.contains("chart \"charts/jupiter-brain\" not found"), "{err}");
        t.insert("charts/jupiter-brain/Chart.yaml", "name: jupiter-brain\n");
        let err = render_release(&t, &r).unwrap_err().to_string();
        assert_eq!(
            err,
            "cluster staging, unit jupiter-brain-org, file releases/staging/jupiter-brain-org.yaml: FluxHelmRelease jupiter-brain-org: helm rendering not available yet"
        );
        let v1 = doc(
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {name: a, namespace: ns}\nspec: {chart: {path: charts/a}}\n",
        );
        let r = from_flux_v1(&v1, &at).unwrap();
        assert_eq!((r.release_name.as_str(), &r.chart), ("ns-a", &Chart::Path("charts/a".into())));
    }
}
