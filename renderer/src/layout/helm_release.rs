//! Helm releases found in a repository (Flux v2 `HelmRelease`, Flux v1 `FluxHelmRelease` and `HelmRelease`) and the one place they are rendered.
//!
//! Every layout turns a release object into a [`Release`] and calls
//! [`render_release`], which renders the chart with the native Helm engine
//! ([`crate::helm`]), so every layout renders charts the same way. Charts
//! that are not in this repository come from the [`ChartCache`].

use super::chart_cache::{self, ChartCache, Pick};
use super::{Error, Location, chart_deps, post_render, release_values, str_at};
use crate::cache::{NoCache, Step, UnitCache, UnitKey};
use crate::helm::{self, chart::read_map};
use crate::resource::Resource;
use crate::revisions::{Revision, Revisions};
use crate::tree::{self, EntryKind, Tree};
use crate::value::{Map, Value};
use crate::yaml;

/// Where a release's chart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chart {
    /// A chart (directory or `.tgz`) in this repository (normalised path from the root).
    Path(String),
    /// A chart of a Helm repository or OCI repository, from the chart cache.
    Cached {
        /// The source as a user names it (`HelmRepository flux-system/podinfo`).
        source: String,
        /// The source's directory in the cache.
        dir: String,
        /// The chart's name.
        chart: String,
        /// How its version is chosen.
        pick: Pick,
    },
    /// A Flux v1 chart at `path` of the git repository `url` at
    /// `reference`, as the helm-operator clones it: from this repository's
    /// tree at that ref when `url` names the repository being rendered (see
    /// [`crate::revisions`]), else from the chart cache
    /// (`<cache>/<dir>@<reference>/`).
    Git {
        /// The repository's URL as written in `spec.chart.git`.
        url: String,
        /// Its directory in the chart cache (see [`chart_cache::git_dir`]).
        dir: String,
        /// The chart's normalised path in that repository.
        path: String,
        /// `spec.chart.ref`: a branch, tag or commit; when omitted, the
        /// helm-operator's `--git-default-ref` (`gitDefaultRef` in
        /// `kiln.yaml`, default `master`).
        reference: String,
    },
    /// A chart directory in the cached files of a source that is not this
    /// repository (`GitRepository`, `Bucket`).
    CachedPath {
        /// The source as a user names it.
        source: String,
        /// The source's directory in the cache.
        dir: String,
        /// The chart's path in the source.
        path: String,
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
    /// The chart source's `valuesFiles`, which replace the chart's `values.yaml`.
    pub values_files: Vec<String>,
    /// Whether a missing values file is passed over (`ignoreMissingValuesFiles`).
    pub ignore_missing_values_files: bool,
    /// A Flux v2 (`helm.toolkit.fluxcd.io`) release, rendered with the
    /// helm-controller's semantics; otherwise the Flux v1 helm-operator's.
    pub flux_v2: bool,
    /// The release object as written, for what the fields above do not carry
    /// (`valuesFrom`, `install.crds`, `postRenderers`).
    pub object: Value,
}

impl Release {
    /// `<kind> <name>`, how errors name the release.
    pub fn who(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

/// Where charts are read from: this repository and the chart cache.
#[derive(Clone, Copy)]
pub struct Charts<'a> {
    /// The repository being rendered.
    pub repo: &'a dyn Tree,
    /// The chart cache, if one was given.
    pub cache: Option<ChartCache<'a>>,
    /// The repository's URLs and its trees at other refs, when the caller
    /// read it from git.
    pub revisions: Option<&'a dyn Revisions>,
}

impl std::fmt::Debug for Charts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Charts").field("cache", &self.cache).finish_non_exhaustive()
    }
}

/// Whether `doc` is a Helm release kiln knows: Flux v2 `HelmRelease`
/// (`helm.toolkit.fluxcd.io`), Flux v1 `FluxHelmRelease`
/// (`helm.integrations.flux.weave.works`) or `HelmRelease` (`flux.weave.works`,
/// and the helm-operator 1.x `helm.fluxcd.io`).
pub fn is_release(doc: &Value) -> bool {
    let (api, kind) = super::api_kind(doc);
    api.split('/').next() == Some("helm.toolkit.fluxcd.io") && kind == "HelmRelease"
        || is_flux_v1_release(doc)
}

/// Whether `doc` is a release of the Flux v1 helm-operator:
/// `FluxHelmRelease` (`helm.integrations.flux.weave.works`) or
/// `HelmRelease` (`flux.weave.works`, `helm.fluxcd.io`).
pub fn is_flux_v1_release(doc: &Value) -> bool {
    let (api, kind) = super::api_kind(doc);
    matches!(
        (api.split('/').next().unwrap_or(""), kind),
        ("helm.integrations.flux.weave.works", "FluxHelmRelease")
            | ("flux.weave.works", "HelmRelease")
            | ("helm.fluxcd.io", "HelmRelease")
    )
}

/// The chart of a chart spec (a HelmRelease's `spec.chart.spec` or a
/// HelmChart's `spec`): `sourceRef` (its namespace defaulting to
/// `namespace`), `chart` (a path for `GitRepository` and `Bucket` sources, a
/// chart name for `HelmRepository` sources) and `version` (a constraint).
/// `this_repo` names the `GitRepository` sources (`namespace/name`) that
/// are this repository.
fn source_chart(spec: &Value, namespace: &str, this_repo: &[String]) -> Result<Chart, String> {
    let kind = str_at(spec, &["sourceRef", "kind"]);
    let ns = match str_at(spec, &["sourceRef", "namespace"]) {
        "" => namespace,
        n => n,
    };
    let key = format!("{ns}/{}", str_at(spec, &["sourceRef", "name"]));
    let chart = str_at(spec, &["chart"]);
    let source = format!("{kind} {key}");
    match kind {
        "GitRepository" if this_repo.contains(&key) => {
            Ok(Chart::Path(tree::join("", chart).map_err(|e| format!("chart {chart:?}: {e}"))?))
        }
        "GitRepository" | "Bucket" => {
            Ok(Chart::CachedPath { source, dir: key, path: chart.into() })
        }
        "HelmRepository" => Ok(Chart::Cached {
            source,
            dir: key,
            chart: chart.to_string(),
            pick: Pick::Constraint(str_at(spec, &["version"]).to_string()),
        }),
        other => Err(format!(
            "chart sourceRef kind {other:?}: expected GitRepository, HelmRepository or Bucket"
        )),
    }
}

/// The Flux source object `kind` `namespace/name` among `available`.
fn find_source<'a>(
    available: &[&'a Resource],
    kind: &str,
    namespace: &str,
    name: &str,
) -> Option<&'a Resource> {
    available.iter().copied().find(|r| {
        r.gvk().group == "source.toolkit.fluxcd.io"
            && r.kind() == kind
            && r.name() == name
            && r.namespace() == namespace
    })
}

/// `valuesFiles` of a chart source, the deprecated `valuesFile` first, as
/// the source-controller lists them.
fn values_files(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(f) = spec.get_path(&["valuesFile"]).and_then(Value::as_str) {
        out.push(f.to_string());
    }
    if let Some(Value::Seq(files)) = spec.get_path(&["valuesFiles"]) {
        out.extend(files.iter().filter_map(Value::as_str).map(str::to_string));
    }
    out
}

/// Reads a Flux v2 `HelmRelease`: its chart from `spec.chart` (a source and
/// a chart in it) or `spec.chartRef` (an `OCIRepository` or `HelmChart`
/// found among `available`, what the render has produced so far).
pub fn from_flux_v2(
    doc: &Value,
    at: &Location,
    this_repo: &[String],
    available: &[&Resource],
) -> Result<Release, Error> {
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
    let bad = |m: String| at.invalid(format!("HelmRelease {name}: {m}"));
    let ns_or_own = |v: &Value| match str_at(v, &["namespace"]) {
        "" => own_ns.to_string(),
        n => n.to_string(),
    };
    let empty = Value::Null;
    let (chart, spec) = if let Some(spec) = doc.get_path(&["spec", "chart", "spec"]) {
        (source_chart(spec, own_ns, this_repo).map_err(bad)?, spec)
    } else if let Some(r) = doc.get_path(&["spec", "chartRef"]) {
        let (kind, ns, ref_name) = (str_at(r, &["kind"]), ns_or_own(r), str_at(r, &["name"]));
        let Some(found) = find_source(available, kind, &ns, ref_name) else {
            return Err(bad(format!(
                "spec.chartRef {kind} {ns}/{ref_name} is not in the render (kiln reads the chart's name and version from it; it must be rendered in this cluster before the release)"
            )));
        };
        match kind {
            "OCIRepository" => (oci_chart(&found.value, &ns, ref_name).map_err(bad)?, &empty),
            "HelmChart" => {
                let spec = found.value.get_path(&["spec"]).unwrap_or(&empty);
                (source_chart(spec, &ns, this_repo).map_err(bad)?, spec)
            }
            other => {
                return Err(bad(format!(
                    "spec.chartRef kind {other:?}: expected OCIRepository or HelmChart"
                )));
            }
        }
    } else {
        return Err(bad("neither spec.chart nor spec.chartRef".into()));
    };
    Ok(Release {
        at: at.clone(),
        kind: "HelmRelease".into(),
        name,
        release_name,
        namespace,
        chart,
        values: doc.get_path(&["spec", "values"]).cloned().unwrap_or(Value::Null),
        values_files: values_files(spec),
        ignore_missing_values_files: spec.get_path(&["ignoreMissingValuesFiles"])
            == Some(&Value::Bool(true)),
        flux_v2: true,
        object: doc.clone(),
    })
}

/// The chart an `OCIRepository` points at: named by the last segment of its
/// `spec.url`, the version by `spec.ref.semver` (a constraint) or
/// `spec.ref.tag` (default `latest`, Flux's).
fn oci_chart(repo: &Value, namespace: &str, name: &str) -> Result<Chart, String> {
    let url = str_at(repo, &["spec", "url"]);
    let chart = url.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
    if chart.is_empty() || !url.starts_with("oci://") {
        return Err(format!(
            "OCIRepository {namespace}/{name}: spec.url {url:?} is not an oci:// chart URL"
        ));
    }
    let pick = match (
        str_at(repo, &["spec", "ref", "digest"]),
        str_at(repo, &["spec", "ref", "semver"]),
        str_at(repo, &["spec", "ref", "tag"]),
    ) {
        (_, s, _) if !s.is_empty() => Pick::Constraint(s.to_string()),
        (d, _, _) if !d.is_empty() => {
            return Err(format!(
                "OCIRepository {namespace}/{name}: spec.ref.digest cannot be looked up in the chart cache, which is keyed by version; set spec.ref.tag or spec.ref.semver"
            ));
        }
        (_, _, "") => Pick::Tag("latest".into()),
        (_, _, t) => Pick::Tag(t.to_string()),
    };
    Ok(Chart::Cached {
        source: format!("OCIRepository {namespace}/{name}"),
        dir: format!("{namespace}/{name}"),
        chart,
        pick,
    })
}

/// Reads a Flux v1 release: `FluxHelmRelease` (`spec.chartGitPath` relative
/// to `charts/`), or `HelmRelease` (`flux.weave.works`, `helm.fluxcd.io`)
/// with `spec.chart.path` (relative to the repository root; with
/// `spec.chart.git`, of that repository at `spec.chart.ref`: see
/// [`Chart::Git`]) or `spec.chart.repository`,
/// `name` and `version` (from the chart cache, by the repository's URL).
/// The helm-operator's release name is `<namespace>-<name>`, with the
/// target namespace in between when `spec.targetNamespace` differs.
/// `default_ref` is the helm-operator's `--git-default-ref`: the ref of a
/// `spec.chart.git` chart without `spec.chart.ref`.
pub fn from_flux_v1(doc: &Value, at: &Location, default_ref: &str) -> Result<Release, Error> {
    let (_, kind) = super::api_kind(doc);
    let name = str_at(doc, &["metadata", "name"]).to_string();
    let bad = |m: String| at.invalid(format!("{kind} {name}: {m}"));
    let own_ns = match str_at(doc, &["metadata", "namespace"]) {
        "" => "default",
        n => n,
    };
    let namespace = match str_at(doc, &["spec", "targetNamespace"]) {
        "" => own_ns,
        t => t,
    }
    .to_string();
    let chart = if kind == "FluxHelmRelease" {
        match str_at(doc, &["spec", "chartGitPath"]) {
            "" => return Err(bad("no spec.chartGitPath".into())),
            p => Chart::Path(tree::join("charts", p).map_err(|e| bad(e.to_string()))?),
        }
    } else {
        let c = |f: &str| str_at(doc, &["spec", "chart", f]);
        match (c("path"), c("repository")) {
            (p, _) if !p.is_empty() => {
                let path = tree::join("", p).map_err(|e| bad(e.to_string()))?;
                match c("git") {
                    "" => Chart::Path(path),
                    url => Chart::Git {
                        url: url.to_string(),
                        dir: chart_cache::git_dir(url)
                            .map_err(|e| bad(format!("spec.chart.git: {e}")))?,
                        path,
                        reference: match c("ref") {
                            "" => default_ref.to_string(),
                            r => r.to_string(),
                        },
                    },
                }
            }
            ("", r) if !r.is_empty() => {
                if c("name").is_empty() {
                    return Err(bad("spec.chart.repository without spec.chart.name".into()));
                }
                Chart::Cached {
                    source: format!("repository {r}"),
                    dir: chart_cache::url_dir(r).map_err(bad)?,
                    chart: c("name").to_string(),
                    pick: Pick::Constraint(c("version").to_string()),
                }
            }
            _ => return Err(bad("no spec.chart.path or spec.chart.repository".into())),
        }
    };
    let release_name = match str_at(doc, &["spec", "releaseName"]) {
        "" if own_ns != namespace => format!("{own_ns}-{namespace}-{name}"),
        "" => format!("{namespace}-{name}"),
        r => r.to_string(),
    };
    Ok(Release {
        at: at.clone(),
        kind: kind.to_string(),
        name,
        release_name,
        namespace,
        chart,
        values: doc.get_path(&["spec", "values"]).cloned().unwrap_or(Value::Null),
        values_files: Vec::new(),
        ignore_missing_values_files: false,
        flux_v2: false,
        object: doc.clone(),
    })
}

/// A chart loaded for a release, with where its source's files are.
pub struct Loaded<'a> {
    /// The chart.
    pub chart: helm::Chart,
    /// How errors name it (its path, and for cached charts the cache path).
    pub shown: String,
    /// The tree and directory that `valuesFiles` paths are relative to;
    /// `None` when they are relative to the chart itself (repository charts).
    pub source_root: Option<(&'a dyn Tree, String)>,
    /// The id of the repository's revision the chart was read from, when
    /// that is not the tree rendered (a Flux v1 `spec.chart.ref`).
    pub revision: Option<String>,
    /// What the render should report about where the chart came from.
    pub note: Option<String>,
    /// Whether the chart is a directory of a git repository, the only kind
    /// from which the Flux v1 helm-operator reads `chartFileRef` values.
    pub from_git: bool,
}

impl Loaded<'_> {
    /// The values of the file at `path` relative to the chart's root:
    /// `values.yaml` as loaded, any other file of the chart parsed as Helm
    /// reads values; `None` when the chart has no such file.
    pub fn chart_values_file(&self, path: &str) -> Option<Result<Map, String>> {
        let path = tree::join("", path).ok()?;
        if path == "values.yaml" {
            return Some(Ok(self.chart.values.clone()));
        }
        let (_, data) = self.chart.files.iter().find(|(p, _)| *p == path)?;
        Some(read_map(data, &path, true).map_err(|e| e.to_string()))
    }
}

/// The helm-operator's `spec.chart.ref` when none is given and its
/// `--git-default-ref` flag is not set (`gitDefaultRef` in `kiln.yaml`).
pub const DEFAULT_GIT_REF: &str = "master";

/// Where a Flux v1 `spec.chart.git` chart is read from.
pub enum GitChartAt<'a> {
    /// The repository being rendered, at the ref.
    Revision(Revision),
    /// The chart cache's directory of that repository at that ref.
    Cache(ChartCache<'a>, String),
    /// The tree rendered: the caller gave no git refs to read the ref from.
    Rendered,
}

/// Where the chart of a `spec.chart.git` URL (cache directory `dir`) at
/// `reference` is: this repository's tree at the ref when the URL names the
/// repository being rendered (scp-like and HTTPS URLs of the same
/// repository are the same), else `<cache>/<dir>@<reference>/`; when the
/// caller read no git refs at all, the tree rendered stands for the ref.
/// The error says where the chart was looked for.
pub fn locate_git_chart<'a>(
    charts: &Charts<'a>,
    dir: &str,
    reference: &str,
) -> Result<GitChartAt<'a>, String> {
    let at_ref = format!("{dir}@{reference}");
    let urls = charts.revisions.map(|r| r.urls()).unwrap_or_default();
    let this_repo = urls.iter().any(|u| chart_cache::git_dir(u).is_ok_and(|d| d == dir));
    if let (Some(revisions), true) = (charts.revisions, this_repo) {
        return match revisions.tree_at(reference)? {
            Some(rev) => Ok(GitChartAt::Revision(rev)),
            None => Err(format!(
                "this repository has no branch, tag or commit {reference:?} (the helm-operator clones spec.chart.ref, or its --git-default-ref when none is given: gitDefaultRef in kiln.yaml, default {DEFAULT_GIT_REF})"
            )),
        };
    }
    if let Some(c) = charts.cache.filter(|c| c.has_source(&at_ref)) {
        return Ok(GitChartAt::Cache(c, at_ref));
    }
    if charts.revisions.is_none() {
        return Ok(GitChartAt::Rendered);
    }
    let known = match urls.as_slice() {
        [] => "it has no remote URL".to_string(),
        urls => format!("its remotes are {}", urls.join(", ")),
    };
    let cache = match charts.cache {
        Some(c) if c.has_source(dir) => format!(
            "the chart cache has {dir}/ but no {at_ref}/ (a git repository's charts are cached per ref)"
        ),
        Some(_) => format!("the chart cache has no {at_ref}/ directory"),
        None => format!(
            "no chart cache was given (pass --chart-cache DIR holding {at_ref}/<chart path>)"
        ),
    };
    Err(format!("not the repository rendered ({known}), and {cache}"))
}

/// Loads the release's chart from this repository or the chart cache.
fn load_chart<'a>(charts: &Charts<'a>, release: &Release) -> Result<Loaded<'a>, Error> {
    let at = &release.at;
    let who = release.who();
    let cache = |what: String| {
        charts.cache.ok_or_else(|| {
            at.invalid(format!(
                "{who}: {what} is not in this repository: pass --chart-cache DIR (or set chartCache in kiln.yaml) to render it from a chart cache; see the chart cache layout in the README"
            ))
        })
    };
    let load = |t: &dyn Tree, path: &str, shown: &str| {
        helm::chart::load(t, path)
            .map_err(|e| at.invalid(format!("{who}: chart {shown}: {}", super::chain(&e))))
    };
    let from_repo = |dir: &str, missing: &dyn Fn(&str) -> String| {
        let is_dir = charts.repo.kind(dir) == Some(EntryKind::Dir);
        let chart_file = tree::join(dir, "Chart.yaml").map_err(|e| at.invalid(e.to_string()))?;
        if is_dir && charts.repo.kind(&chart_file).is_none() || charts.repo.kind(dir).is_none() {
            return Err(at.invalid(missing(&chart_file)));
        }
        let mut chart = load(charts.repo, dir, dir)?;
        chart_deps::add_missing(charts.repo, dir, charts.cache, &mut chart)
            .map_err(|e| at.invalid(format!("{who}: chart {dir}: {e}")))?;
        Ok(Loaded {
            chart,
            shown: dir.to_string(),
            source_root: Some((charts.repo, String::new())),
            revision: None,
            note: None,
            from_git: true,
        })
    };
    let from_source = |c: ChartCache<'a>, dir: &str, path: &str, source: &str| {
        let what = format!("chart {path} of {source}");
        let found =
            c.find_path(dir, path).map_err(|e| at.invalid(format!("{who}: {what}: {e}")))?;
        let root = tree::join(c.root, dir).map_err(|e| at.invalid(e.to_string()))?;
        let mut chart = load(c.tree, &found, &found)?;
        chart_deps::add_missing(c.tree, &found, Some(c), &mut chart)
            .map_err(|e| at.invalid(format!("{who}: chart {found}: {e}")))?;
        Ok(Loaded {
            chart,
            shown: found,
            source_root: Some((c.tree, root)),
            revision: None,
            note: None,
            from_git: true,
        })
    };
    match &release.chart {
        Chart::Path(dir) => {
            from_repo(dir, &|file| format!("{who}: chart {dir:?} not found (no {file})"))
        }
        Chart::Git { url, dir, path, reference } => {
            let shown = format!("{url} at ref {reference}");
            match locate_git_chart(charts, dir, reference).map_err(|e| {
                at.invalid(format!("{who}: chart {path:?} of spec.chart.git {shown}: {e}"))
            })? {
                GitChartAt::Revision(rev) => {
                    let t: &dyn Tree = &*rev.tree;
                    let found = tree::join(path, "Chart.yaml")
                        .ok()
                        .filter(|f| t.kind(f) == Some(EntryKind::File));
                    if t.kind(path) != Some(EntryKind::File) && found.is_none() {
                        return Err(at.invalid(format!(
                            "{who}: chart {path:?} of spec.chart.git {shown}: no {path}/Chart.yaml in this repository at that ref"
                        )));
                    }
                    let mut chart = load(t, path, &format!("{path} at ref {reference}"))?;
                    chart_deps::add_missing(t, path, charts.cache, &mut chart)
                        .map_err(|e| at.invalid(format!("{who}: chart {path}: {e}")))?;
                    Ok(Loaded {
                        chart,
                        shown: format!("{path} at ref {reference}"),
                        source_root: None,
                        revision: Some(rev.id),
                        note: None,
                        from_git: true,
                    })
                }
                GitChartAt::Cache(c, source_dir) => {
                    from_source(c, &source_dir, path, &format!("git repository {shown}"))
                }
                GitChartAt::Rendered => {
                    let mut loaded = from_repo(path, &|file| {
                        format!(
                            "{who}: chart {path:?} of spec.chart.git {shown} not found: no {file} in the tree rendered, and the chart cache has no {dir}@{reference}/ directory"
                        )
                    })?;
                    loaded.note = Some(format!(
                        "{who} ({}): chart {path} of spec.chart.git {shown} read from the tree rendered: kiln was not given the repository's git refs (render a git work tree to read the chart at its ref)",
                        at.file
                    ));
                    Ok(loaded)
                }
            }
        }
        Chart::Cached { source, dir, chart, pick } => {
            let what = format!("chart {chart} version {pick} of {source}");
            let c = cache(what.clone())?;
            let found = c
                .find_chart(dir, chart, pick)
                .map_err(|e| at.invalid(format!("{who}: {what}: {e}")))?;
            Ok(Loaded {
                chart: load(c.tree, &found.path, &found.path)?,
                shown: format!("{chart}-{} from the chart cache ({})", found.version, found.path),
                source_root: None,
                revision: None,
                note: None,
                from_git: false,
            })
        }
        Chart::CachedPath { source, dir, path } => {
            let c = cache(format!("chart {path} of {source}"))?;
            from_source(c, dir, path, source)
        }
    }
}

/// Replaces the chart's default values by its source's `valuesFiles`,
/// merged in order, as the source-controller packages the chart.
fn apply_values_files(loaded: &mut Loaded<'_>, release: &Release) -> Result<(), Error> {
    if release.values_files.is_empty() {
        return Ok(());
    }
    let who = release.who();
    let mut merged = Map::new();
    for file in &release.values_files {
        let bad = |m: String| release.at.invalid(format!("{who}: valuesFiles {file}: {m}"));
        let values = match &loaded.source_root {
            Some((t, root)) => {
                let path = tree::join(root, file).map_err(|e| bad(e.to_string()))?;
                match t.kind(&path) {
                    Some(EntryKind::File) => {
                        let data = t.read(&path).map_err(|e| bad(e.to_string()))?;
                        Some(read_map(&data, file, true).map_err(|e| bad(e.to_string()))?)
                    }
                    _ => None,
                }
            }
            None => loaded.chart_values_file(file).transpose().map_err(bad)?,
        };
        match values {
            Some(v) => helm::values::merge_maps(&mut merged, v),
            None if release.ignore_missing_values_files => {}
            None => {
                return Err(bad(
                    "no such file (set ignoreMissingValuesFiles to pass it over)".into()
                ));
            }
        }
    }
    loaded.chart.values = merged;
    Ok(())
}

/// Renders a release's chart with the native Helm engine into the objects
/// the release installs, the way Flux's helm-controller (or the Flux v1
/// helm-operator) installs it: values from `valuesFrom` then inline
/// `values`, CRDs unless the install policy skips them, test hooks left
/// out, Flux v2 post-renderers and origin labels on the chart's manifests,
/// the target namespace as an object when `install.createNamespace` is set,
/// and namespaced objects without a namespace placed in the release's
/// namespace. `available` is what the render has produced so far, where
/// `valuesFrom` ConfigMaps and Secrets are looked up; sources deliberately
/// passed over (optional external values) are added to `skipped`.
pub fn render_release(
    charts: &Charts<'_>,
    release: &Release,
    available: &[&Resource],
    skipped: &mut Vec<String>,
) -> Result<Vec<Resource>, Error> {
    render_release_with(charts, release, available, skipped, &NoCache)
}

/// [`render_release`], the chart render handed to `cache` once the values
/// are resolved: the release object, chart, release name, namespace, values
/// and CRD policy make its key; inside the build the chart is loaded again
/// from the tree the cache gives, so the cache sees every file it reads.
pub fn render_release_with(
    charts: &Charts<'_>,
    release: &Release,
    available: &[&Resource],
    skipped: &mut Vec<String>,
    cache: &dyn UnitCache,
) -> Result<Vec<Resource>, Error> {
    let at = &release.at;
    let mut loaded = load_chart(charts, release)?;
    apply_values_files(&mut loaded, release)?;
    skipped.extend(loaded.note.take());
    let values = release_values::values(release, &loaded, available, skipped)?;
    let options = helm::Options {
        release: shorten_release_name(&release.release_name),
        namespace: release.namespace.clone(),
        values,
        include_crds: includes_crds(&release.object),
        skip_tests: true,
        ..helm::Options::default()
    };
    let shown = loaded.shown.clone();
    let mut spec = Map::new();
    spec.insert("file".into(), Value::String(at.file.clone()));
    spec.insert("chart".into(), Value::String(shown.clone()));
    spec.insert("object".into(), release.object.clone());
    spec.insert("release".into(), Value::String(options.release.clone()));
    spec.insert("namespace".into(), Value::String(options.namespace.clone()));
    spec.insert("crds".into(), Value::Bool(options.include_crds));
    spec.insert("values".into(), Value::Map(options.values.clone()));
    // A chart read at another ref of the repository is not in the tree the
    // cache watches: the ref's id stands for its files.
    if let Some(id) = &loaded.revision {
        spec.insert("revision".into(), Value::String(id.clone()));
    }
    let spec = yaml::to_string(&Value::Map(spec));
    let unit = format!("{}/{}", at.unit, release.name);
    let key =
        UnitKey { cluster: &at.cluster, unit: &unit, step: Step::Helm, spec: spec.as_bytes() };
    let (chart_cache, revisions) = (charts.cache, charts.revisions);
    // A cache that hands the build the repository itself (no cache at all)
    // gets the chart loaded above; one that hands it a recording tree gets
    // the chart loaded again through that tree, so it sees every file read.
    let repo = charts.repo;
    let preloaded = std::sync::Mutex::new(Some(loaded.chart));
    cache.build(&key, repo, &|tree| {
        let same_tree = std::ptr::addr_eq(tree as *const dyn Tree, repo as *const dyn Tree);
        let ready = preloaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let chart = match ready.filter(|_| same_tree) {
            Some(chart) => chart,
            None => {
                let charts = Charts { repo: tree, cache: chart_cache, revisions };
                let mut loaded = load_chart(&charts, release)?;
                apply_values_files(&mut loaded, release)?;
                loaded.chart
            }
        };
        render_loaded(release, chart, &options, &shown)
    })
}

/// Renders a loaded chart with resolved options into the release's objects.
fn render_loaded(
    release: &Release,
    chart: helm::Chart,
    options: &helm::Options,
    shown: &str,
) -> Result<Vec<Resource>, Error> {
    let at = &release.at;
    let who = release.who();
    let text = helm::render_chart(chart, options)
        .map_err(|e| at.invalid(format!("{who}: chart {shown}: {}", super::chain(&e))))?;
    let parts = split_output(&text, release.flux_v2)
        .map_err(|e| at.invalid(format!("{who}: chart {shown}: {e}")))?;
    let mut manifests = parts.manifests;
    if release.flux_v2 {
        manifests = post_render::kustomize(&release.object, manifests)
            .map_err(|e| at.invalid(format!("{who}: postRenderers: {e}")))?;
        post_render::common_metadata(&release.object, &mut manifests);
        let own_ns = str_at(&release.object, &["metadata", "namespace"]);
        post_render::origin_labels(&release.name, own_ns, &mut manifests);
    }
    let mut out = Vec::new();
    // `install.createNamespace` has Helm create the target namespace; the
    // applier of the rendered objects needs it as an object.
    let creates_ns = release.flux_v2
        && release.object.get_path(&["spec", "install", "createNamespace"])
            == Some(&Value::Bool(true));
    let has_ns = |docs: &[Value]| {
        docs.iter().any(|d| {
            super::api_kind(d) == ("v1", "Namespace")
                && str_at(d, &["metadata", "name"]) == release.namespace
        })
    };
    if creates_ns && !has_ns(&manifests) && !has_ns(&parts.crds) {
        let mut md = Map::new();
        md.insert("name".into(), Value::String(release.namespace.clone()));
        let mut ns = Map::new();
        ns.insert("apiVersion".into(), "v1".into());
        ns.insert("kind".into(), "Namespace".into());
        ns.insert("metadata".into(), Value::Map(md));
        out.push(Resource::new(Value::Map(ns), at.file.clone()));
    }
    for doc in parts.crds.into_iter().chain(manifests).chain(parts.hooks) {
        if !super::is_object(&doc) || !matches!(doc.get_path(&["metadata"]), Some(Value::Map(_))) {
            return Err(at.invalid(format!(
                "{who}: chart {shown} rendered a document that is not a Kubernetes object (apiVersion, kind and metadata expected)"
            )));
        }
        let mut r = Resource::new(doc, at.file.clone());
        if r.namespace().is_empty() && !r.gvk().is_cluster_scoped() {
            r.set_namespace(release.namespace.clone());
        }
        out.push(r);
    }
    Ok(out)
}

/// A chart's output split as Helm installs it: CRDs from `crds/`, the
/// manifests (which post-renderers see), and hooks.
#[derive(Debug, Default)]
struct Output {
    crds: Vec<Value>,
    manifests: Vec<Value>,
    hooks: Vec<Value>,
}

/// Splits `helm template` output at its `# Source:` headers and reads each
/// document as the controller that installs the release reads it. Flux v2's
/// helm-controller always post-renders (its origin labels) through
/// kustomize, which reads the manifests as kustomize does (`by_kustomize`):
/// a duplicated mapping key is an error there. The Flux v1 helm-operator
/// hands them to Helm's Kubernetes client, which reads them through
/// `sigs.k8s.io/yaml` (YAML 1.1 scalars, the last of duplicated keys wins).
fn split_output(text: &str, by_kustomize: bool) -> Result<Output, String> {
    let mut out = Output::default();
    let text = format!("\n{text}");
    for chunk in text.split("\n---\n# Source: ").skip(1) {
        let (source, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let docs = if by_kustomize {
            yaml::parse_documents(body, source)
        } else {
            yaml::parse_documents_helm(body, source)
        }
        .map_err(|e| e.to_string())?;
        let crd = is_crd_file(source);
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            if crd {
                out.crds.push(doc);
            } else if doc.get_path(&["metadata", "annotations", "helm.sh/hook"]).is_some() {
                out.hooks.push(doc);
            } else {
                out.manifests.push(doc);
            }
        }
    }
    Ok(out)
}

/// Whether a `# Source:` path is in the `crds/` directory of the chart or
/// of one of its subcharts (`<chart>[/charts/<sub>]*/crds/...`).
fn is_crd_file(source: &str) -> bool {
    let mut rest = source.split_once('/').map_or("", |(_, r)| r);
    loop {
        if rest.starts_with("crds/") {
            return true;
        }
        match rest.strip_prefix("charts/").and_then(|r| r.split_once('/')) {
            Some((_, inner)) => rest = inner,
            None => return false,
        }
    }
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

#[cfg(test)]
#[path = "helm_release_tests.rs"]
mod tests;
