//! Flux v1: `releases/<env>/*.yaml` Helm releases of charts in `charts/`, rendered per environment, and the seed's lint rules.
//!
//! Flux v1 applies everything in `releases/<env>/`; its helm-operator turns
//! each `FluxHelmRelease` (`helm.integrations.flux.weave.works`) or
//! `HelmRelease` (`flux.weave.works`) into the chart's objects. Each release
//! is a unit; other objects in the directory form the unit `manifests`.

use super::helm_release::{self, Chart, Charts, GitChartAt};
use super::{
    Cluster, Error, Location, Unit, is_object, read_kubectl_documents, str_at, yaml_files,
};
use crate::resource::Resource;
use crate::tree::{EntryKind, Tree, file_name};

/// The directory of releases.
pub const RELEASES: &str = "releases";

/// The environment names under `releases/`.
pub fn environment_names(tree: &dyn Tree) -> Result<Vec<String>, Error> {
    super::subdirs(tree, RELEASES)
}

/// The annotation with which Flux v1 (fluxd) leaves a manifest alone; the
/// older `flux.weave.works/ignore` is read too.
pub const IGNORE_KEY: &str = "fluxcd.io/ignore";

/// Whether fluxd never applies `doc`: annotated `fluxcd.io/ignore: "true"`
/// (or `flux.weave.works/ignore`). `sync_only` only spares it from garbage
/// collection, so it is applied.
fn ignored(doc: &crate::value::Value) -> Option<&'static str> {
    [IGNORE_KEY, "flux.weave.works/ignore"].into_iter().find(|key| {
        let value = doc.get_path(&["metadata", "annotations", key]);
        value.and_then(crate::value::Value::as_str) == Some("true")
            || value == Some(&crate::value::Value::Bool(true))
    })
}

/// A release file's name without its extension: the release's name.
fn stem(file: &str) -> &str {
    file_name(file).trim_end_matches(".yaml").trim_end_matches(".yml")
}

/// Every document of `releases/<env>/`, with its file.
fn documents(tree: &dyn Tree, env: &str) -> Result<Vec<(String, crate::value::Value)>, Error> {
    let dir = format!("{RELEASES}/{env}");
    let at = Location::new(env, "", &dir);
    let mut out = Vec::new();
    for file in yaml_files(tree, &dir).map_err(|e| Error::read(&at, e))? {
        // A file that cannot be read is named by its unit too: a release
        // file is named after its release.
        let at = Location::new(env, stem(&file), &dir);
        for doc in read_kubectl_documents(tree, &at, &file)? {
            if !doc.is_null() {
                let items = super::list_items(doc, super::Lists::Fluxd)
                    .map_err(|e| Location::new(env, "manifests", &file).invalid(e))?;
                out.extend(items.into_iter().map(|d| (file.clone(), d)));
            }
        }
    }
    Ok(out)
}

/// Renders one environment: the plain objects of `releases/<env>/` first
/// (the ConfigMaps and Secrets that `valuesFrom` reads among them), then
/// each release, its chart from this repository or `charts.cache`.
pub fn render_environment(charts: &Charts<'_>, env: &str) -> Result<Cluster, Error> {
    render_environment_with(charts, env, &crate::cache::NoCache)
}

/// [`render_environment`], each chart render handed to `cache`.
pub fn render_environment_with(
    charts: &Charts<'_>,
    env: &str,
    cache: &dyn crate::cache::UnitCache,
) -> Result<Cluster, Error> {
    let tree = charts.repo;
    let mut cluster = Cluster::new(env);
    let mut plain =
        Unit::new("manifests", &format!("{RELEASES}/{env}"), &format!("{RELEASES}/{env}"));
    let mut releases = Vec::new();
    for (file, doc) in documents(tree, env)? {
        let name = str_at(&doc, &["metadata", "name"]).to_string();
        if let Some(key) = ignored(&doc) {
            let (_, kind) = super::api_kind(&doc);
            cluster.skipped.push(format!(
                "{kind} {name} ({file}): annotated {key}: \"true\", which Flux v1 never applies; left out"
            ));
        } else if helm_release::is_release(&doc) {
            releases.push((file, name, doc));
        } else if is_object(&doc) && !name.is_empty() {
            // fluxd applies these with kubectl apply, which the API server
            // refuses for metadata that does not decode into ObjectMeta.
            super::check_object_meta(&doc)
                .map_err(|e| Location::new(env, "manifests", &file).invalid(e))?;
            plain.objects.push(Resource::new(doc, file));
        } else {
            return Err(Location::new(env, "manifests", &file).invalid(
                "document is not a Kubernetes object: expected apiVersion, kind and metadata.name",
            ));
        }
    }
    render_units(charts, &mut cluster, plain, releases, cache)?;
    Ok(cluster)
}

/// Renders Flux v1 `releases` (file, name, object) as the helm-operator
/// does, each a unit of `cluster` (a release reading values only the
/// cluster holds is kept as written), with the objects of `plain`, which
/// `valuesFrom` may read, as the first unit. Every release's error is
/// reported, not only the first one's.
pub fn render_units(
    charts: &Charts<'_>,
    cluster: &mut Cluster,
    plain: Unit,
    releases: Vec<(String, String, crate::value::Value)>,
    cache: &dyn crate::cache::UnitCache,
) -> Result<(), Error> {
    let tree = charts.repo;
    let available: Vec<&Resource> = plain.objects.iter().collect();
    let config = super::Config::read(tree)?;
    // Every release's error is reported, not only the first one's.
    let mut errors = Vec::new();
    for (file, name, doc) in releases {
        let at = Location::new(&cluster.name, &name, &file);
        // A release reading values that only the cluster holds is left to
        // the helm-operator there, as written.
        let why =
            super::release_values::cluster_only_values(&doc, &available, &config.cluster_objects);
        if let Some(why) = why {
            let (_, kind) = super::api_kind(&doc);
            cluster.skipped.push(format!(
                "{kind} {name} ({file}): {why}; kept as written, its chart not rendered (the helm-operator renders it with the cluster's values)"
            ));
            let mut unit = Unit::new(&name, &file, &file);
            unit.namespace = str_at(&doc, &["metadata", "namespace"]).to_string();
            unit.objects.push(Resource::new(doc.clone(), file.clone()));
            unit.object = Some(doc);
            cluster.units.push(unit);
            continue;
        }
        let rendered =
            helm_release::from_flux_v1(&doc, &at, config.git_default_ref()).and_then(|release| {
                let objects = helm_release::render_release_with(
                    charts,
                    &release,
                    &available,
                    &mut cluster.skipped,
                    cache,
                )?;
                Ok((release, objects))
            });
        let (release, objects) = match rendered {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let path = match &release.chart {
            Chart::Path(p) | Chart::Git { path: p, .. } => p.clone(),
            Chart::Cached { dir, chart, .. } => format!("{dir}/{chart}"),
            Chart::CachedPath { dir, path, .. } => format!("{dir}/{path}"),
        };
        let mut unit = Unit::new(&name, &path, &file);
        unit.namespace = release.namespace;
        unit.object = Some(doc);
        unit.objects = objects;
        cluster.units.push(unit);
    }
    if let Some(e) = Error::many(errors) {
        return Err(e);
    }
    if !plain.objects.is_empty() {
        cluster.units.insert(0, plain);
    }
    Ok(())
}

/// A broken rule of the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where.
    pub at: Location,
    /// What is wrong.
    pub message: String,
}

/// The seed repository's rules for releases: `metadata.name` matches the
/// file name, `metadata.labels.chart` matches `spec.chartGitPath`, and the
/// chart exists in `charts/` (or, for `spec.chart.repository` charts, in
/// `cache` when one is given).
pub fn check(charts: &Charts<'_>) -> Result<Vec<Finding>, Error> {
    let (tree, cache) = (charts.repo, charts.cache);
    let config = super::Config::read(tree)?;
    let default_ref = config.git_default_ref();
    let mut findings = Vec::new();
    for env in environment_names(tree)? {
        for (file, doc) in documents(tree, &env)? {
            if !helm_release::is_release(&doc) {
                continue;
            }
            let name = str_at(&doc, &["metadata", "name"]);
            let at = Location::new(&env, name, &file);
            let mut finding = |message: String| findings.push(Finding { at: at.clone(), message });
            let stem = stem(&file);
            if name != stem {
                finding(format!("metadata.name {name:?} does not match the file name {stem:?}"));
            }
            let (_, kind) = super::api_kind(&doc);
            if kind == "FluxHelmRelease" {
                let chart = str_at(&doc, &["spec", "chartGitPath"]);
                let label = str_at(&doc, &["metadata", "labels", "chart"]);
                if label != chart {
                    finding(format!(
                        "metadata.labels.chart {label:?} does not match spec.chartGitPath {chart:?}"
                    ));
                }
            }
            match helm_release::from_flux_v1(&doc, &at, default_ref) {
                Ok(r) => match (&r.chart, cache) {
                    (Chart::Path(dir), _) => {
                        if tree.kind(&format!("{dir}/Chart.yaml")) != Some(EntryKind::File) {
                            finding(format!("chart {dir:?} does not exist (no {dir}/Chart.yaml)"));
                        }
                    }
                    (Chart::Git { url, dir, path, reference }, _) => {
                        let chart_file = format!("{path}/Chart.yaml");
                        let found = match helm_release::locate_git_chart(charts, dir, reference) {
                            Ok(GitChartAt::Revision(rev)) => {
                                rev.tree.kind(&chart_file) == Some(EntryKind::File)
                            }
                            Ok(GitChartAt::Cache(c, source)) => c.find_path(&source, path).is_ok(),
                            Ok(GitChartAt::Rendered) => {
                                tree.kind(&chart_file) == Some(EntryKind::File)
                            }
                            Err(e) => {
                                finding(format!(
                                    "chart {path:?} of spec.chart.git {url} at ref {reference}: {e}"
                                ));
                                true
                            }
                        };
                        if !found {
                            finding(format!(
                                "chart {path:?} of spec.chart.git {url} at ref {reference} does not exist"
                            ));
                        }
                    }
                    (Chart::Cached { source, dir, chart, pick }, Some(c)) => {
                        if let Err(e) = c.find_chart(dir, chart, pick) {
                            finding(format!("chart {chart} version {pick} of {source}: {e}"));
                        }
                    }
                    _ => {}
                },
                Err(Error::Invalid { message, .. }) => finding(message),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    const RELEASE: &str = "apiVersion: helm.integrations.flux.weave.works/v1alpha2\nkind: FluxHelmRelease\nmetadata:\n  name: jupiter-brain-org\n  namespace: macstadium-staging\n  labels:\n    chart: jupiter-brain\nspec:\n  chartGitPath: jupiter-brain\n  releaseName: jupiter-brain-org\n  values:\n    secretEnv: staging-1\n";

    #[test]
    fn checks_the_seed_rules() {
        let mut t = MemTree::new();
        t.insert("charts/jupiter-brain/Chart.yaml", "name: jupiter-brain\n");
        t.insert("releases/staging/jupiter-brain-org.yaml", RELEASE);
        t.insert(
            "releases/staging/renamed.yaml",
            RELEASE.replace("labels:\n    chart: jupiter-brain", "labels:\n    chart: jupiter"),
        );
        t.insert(
            "releases/prod/gone.yaml",
            RELEASE
                .replace("name: jupiter-brain-org\n  namespace", "name: gone\n  namespace")
                .replace("chartGitPath: jupiter-brain", "chartGitPath: gone"),
        );
        let got: Vec<String> = check(&Charts { repo: &t, cache: None, revisions: None })
            .unwrap()
            .iter()
            .map(|f| format!("{}: {}", f.at, f.message))
            .collect();
        assert_eq!(
            got,
            [
                "cluster prod, unit gone, file releases/prod/gone.yaml: metadata.labels.chart \"jupiter-brain\" does not match spec.chartGitPath \"gone\"",
                "cluster prod, unit gone, file releases/prod/gone.yaml: chart \"charts/gone\" does not exist (no charts/gone/Chart.yaml)",
                "cluster staging, unit jupiter-brain-org, file releases/staging/renamed.yaml: metadata.name \"jupiter-brain-org\" does not match the file name \"renamed\"",
                "cluster staging, unit jupiter-brain-org, file releases/staging/renamed.yaml: metadata.labels.chart \"jupiter\" does not match spec.chartGitPath \"jupiter-brain\"",
            ]
        );
    }

    /// A tree with the chart `charts/jupiter-brain`: a ConfigMap of `secretEnv`.
    fn chart_tree() -> MemTree {
        let mut t = MemTree::new();
        t.insert(
            "charts/jupiter-brain/Chart.yaml",
            "apiVersion: v2\nname: jupiter-brain\nversion: 1.0.0\n",
        );
        t.insert(
            "charts/jupiter-brain/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  env: {{ .Values.secretEnv }}\n",
        );
        t
    }

    #[test]
    fn releases_render_through_helm() {
        let mut t = chart_tree();
        t.insert("releases/staging/jupiter-brain-org.yaml", RELEASE);
        let c = render_environment(&Charts { repo: &t, cache: None, revisions: None }, "staging")
            .unwrap();
        let objects: Vec<String> = c
            .units
            .iter()
            .flat_map(|u| u.objects.iter())
            .map(|r| {
                format!(
                    "{}/{} {}",
                    r.kind(),
                    r.name(),
                    r.value.get_path(&["data", "env"]).and_then(|v| v.as_str()).unwrap_or("")
                )
            })
            .collect();
        assert_eq!(objects, ["ConfigMap/jupiter-brain-org staging-1"]);
        let mut t = MemTree::new();
        t.insert(
            "releases/staging/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: staging\n",
        );
        // fluxd applies a List's items, and passes over a directory that
        // looks like a chart (Chart.yaml and values.yaml) whole.
        t.insert(
            "releases/staging/list.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: staging}}\n",
        );
        t.insert("releases/staging/vendored/Chart.yaml", "name: vendored\n");
        t.insert("releases/staging/vendored/values.yaml", "a: 1\n");
        t.insert("releases/staging/vendored/templates/x.yaml", "{{ .Values.a }}\n");
        t.insert(
            "releases/staging/half/Chart.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: half}\n",
        );
        let c = render_environment(&Charts { repo: &t, cache: None, revisions: None }, "staging")
            .unwrap();
        assert_eq!(c.units.len(), 1);
        assert_eq!(c.units[0].name, "manifests");
        let ids: Vec<String> = c.units[0].objects.iter().map(|r| r.id().to_string()).collect();
        assert_eq!(
            ids,
            ["~G_v1_ConfigMap|~X|half", "~G_v1_ConfigMap|staging|a", "~G_v1_Namespace|~X|staging"]
        );
    }

    /// fluxd never applies a manifest annotated `fluxcd.io/ignore: "true"`
    /// (nor `flux.weave.works/ignore`), so neither a release (whose chart
    /// is not even looked for) nor an object so marked is rendered; both are
    /// reported. `sync_only` is applied. A file that is not YAML is named
    /// with its release's unit.
    /// fluxd applies each manifest with `kubectl apply -f -`, which reads
    /// YAML 1.1 through `sigs.k8s.io/yaml` and keeps the last of a key
    /// given twice (`kubectl label --local -f` answers the same).
    #[test]
    fn manifests_are_read_as_kubectl_reads_them() {
        let mut t = MemTree::new();
        t.insert(
            "releases/staging/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  name: d\ndata:\n  mode: 0644\n  o: off\n",
        );
        let c = render_environment(&Charts { repo: &t, cache: None, revisions: None }, "staging")
            .unwrap();
        let got = crate::yaml::to_string(&c.units[0].objects[0].value);
        assert_eq!(
            got,
            "apiVersion: v1\ndata:\n  mode: 420\n  o: false\nkind: ConfigMap\nmetadata:\n  name: d\n"
        );
    }

    /// fluxd applies the plain objects of `releases/<env>/` with kubectl
    /// apply, which the API server refuses when their metadata does not
    /// decode into `ObjectMeta` (the message is Go's, as `kubectl label
    /// --local -f` prints it for this file).
    #[test]
    fn manifests_whose_metadata_does_not_decode_are_refused() {
        let mut t = MemTree::new();
        t.insert(
            "releases/staging/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    replicas: 2\n",
        );
        let err = render_environment(&Charts { repo: &t, cache: None, revisions: None }, "staging")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cluster staging, unit manifests, file releases/staging/cm.yaml: ConfigMap \"c\": kubectl apply is refused: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
        );
    }

    #[test]
    fn leaves_out_what_fluxd_ignores() {
        let mut t = MemTree::new();
        let annotated = |key: &str, value: &str| {
            RELEASE
                .replace("  labels:\n", &format!("  annotations:\n    {key}: {value}\n  labels:\n"))
        };
        t.insert("releases/staging/a.yaml", annotated(IGNORE_KEY, "\"true\""));
        t.insert("releases/staging/b.yaml", annotated("flux.weave.works/ignore", "\"true\""));
        t.insert(
            "releases/staging/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n    fluxcd.io/ignore: sync_only\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n  annotations:\n    fluxcd.io/ignore: \"true\"\n",
        );
        let c = render_environment(&Charts { repo: &t, cache: None, revisions: None }, "staging")
            .unwrap();
        let objects: Vec<String> =
            c.units.iter().flat_map(|u| u.objects.iter()).map(|r| r.id().to_string()).collect();
        assert_eq!(objects, ["~G_v1_Namespace|~X|a"]);
        assert_eq!(
            c.skipped,
            [
                "FluxHelmRelease jupiter-brain-org (releases/staging/a.yaml): annotated fluxcd.io/ignore: \"true\", which Flux v1 never applies; left out",
                "FluxHelmRelease jupiter-brain-org (releases/staging/b.yaml): annotated flux.weave.works/ignore: \"true\", which Flux v1 never applies; left out",
                "Namespace b (releases/staging/ns.yaml): annotated fluxcd.io/ignore: \"true\", which Flux v1 never applies; left out",
            ]
        );
        t.insert("releases/staging/broken.yaml", "a: [1\n");
        let err = render_environment(&Charts { repo: &t, cache: None, revisions: None }, "staging")
            .unwrap_err();
        assert!(
            crate::layout::chain(&err).starts_with(
                "cluster staging, unit broken, file releases/staging/broken.yaml: releases/staging/broken.yaml:2:1: "
            ),
            "{}",
            crate::layout::chain(&err)
        );
    }

    /// A release reading values from a ConfigMap or Secret that only the
    /// cluster holds (declared under `clusterObjects` in kiln.yaml, or made
    /// there from a SealedSecret of the release) is kept as written for the
    /// helm-operator, as Flux v2 releases are; an optional one is passed
    /// over and the chart rendered.
    #[test]
    fn releases_with_cluster_values_are_kept_as_written() {
        let tree = |with_b: bool| {
            let mut t = chart_tree();
            let release = |name: &str, from: &str| {
                format!(
                    "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: macstadium-staging\nspec:\n  releaseName: {name}\n  chart: {{path: charts/jupiter-brain}}\n  valuesFrom:\n  - {from}\n"
                )
            };
            t.insert(
                "releases/staging/a.yaml",
                release("a", "secretKeyRef: {name: tf-outputs, namespace: infra}"),
            );
            if with_b {
                t.insert(
                    "releases/staging/b.yaml",
                    release("b", "configMapKeyRef: {name: sealed}"),
                );
            }
            t.insert("releases/staging/c.yaml", release("c", "secretKeyRef: {name: sealed}"));
            t.insert(
                "releases/staging/d.yaml",
                release("d", "secretKeyRef: {name: gone, optional: true}"),
            );
            t.insert(
                "releases/staging/sealed.yaml",
                "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: sealed, namespace: macstadium-staging}\nspec: {encryptedData: {values.yaml: AgB9}}\n",
            );
            t.insert("kiln.yaml", "clusterObjects:\n- Secret infra/tf-outputs\n");
            t
        };
        let t = tree(true);
        let charts = Charts { repo: &t, cache: None, revisions: None };
        // b reads a ConfigMap, which no SealedSecret makes.
        let err = render_environment(&charts, "staging").unwrap_err();
        assert!(
            crate::layout::chain(&err).contains("HelmRelease b: valuesFrom configMapKeyRef macstadium-staging/sealed key \"values.yaml\": ConfigMap not in the render (mark it optional: true if it may be missing, or list \"ConfigMap macstadium-staging/sealed\" under clusterObjects"),
            "{}",
            crate::layout::chain(&err)
        );
        let t = tree(false);
        let c = render_environment(&Charts { repo: &t, cache: None, revisions: None }, "staging")
            .unwrap();
        let units: Vec<String> = c
            .units
            .iter()
            .map(|u| {
                let ids: Vec<String> = u.objects.iter().map(|r| r.id().to_string()).collect();
                format!("{}: {}", u.name, ids.join(" "))
            })
            .collect();
        assert_eq!(
            units,
            [
                "manifests: bitnami.com_v1alpha1_SealedSecret|macstadium-staging|sealed",
                "a: helm.fluxcd.io_v1_HelmRelease|macstadium-staging|a",
                "c: helm.fluxcd.io_v1_HelmRelease|macstadium-staging|c",
                "d: ~G_v1_ConfigMap|macstadium-staging|d",
            ]
        );
        assert_eq!(
            c.skipped,
            [
                "HelmRelease a (releases/staging/a.yaml): valuesFrom Secret infra/tf-outputs exists only in the cluster (clusterObjects in kiln.yaml); kept as written, its chart not rendered (the helm-operator renders it with the cluster's values)",
                "HelmRelease c (releases/staging/c.yaml): valuesFrom Secret macstadium-staging/sealed exists only in the cluster: SealedSecret macstadium-staging/sealed (releases/staging/sealed.yaml) makes it in the cluster from values kiln cannot read (it holds no key and reads no secret store); kept as written, its chart not rendered (the helm-operator renders it with the cluster's values)",
            ]
        );
    }
}
