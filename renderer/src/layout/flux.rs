//! Flux v2: `clusters/<cluster>/` is applied as the cluster's root Kustomization, and every Flux
//! `Kustomization` found in a rendered unit is followed to its `spec.path`, recursively.
//!
//! Each unit is built the way Flux's kustomize-controller builds it (see the
//! Kustomization API at fluxcd.io): the directory's kustomization, or one
//! generated when there is none (from the files the source artifact keeps,
//! see [`super::sourceignore`]); the Flux object's `targetNamespace`,
//! `namePrefix`, `nameSuffix`, `patches`, `images` (replacing same-name
//! entries), `components` and the v1beta2 legacy patches written into that
//! kustomization; the build run with `LoadRestrictionsNone`; then `postBuild`
//! variables substituted in the build, and `commonMetadata` set on every
//! object's metadata (not on selectors or pod templates) as the controller
//! applies them; labels the controller cannot read as strings are dropped,
//! as it replaces them with its owner labels (see `drop_unreadable_metadata`).

use super::helm_release::{self, Charts};
use super::manifests::{build_with, kustomization_in};
use super::post_render;
use super::sourceignore::{Artifact, Source};
use super::substitute::{self, Vars};
use super::{Cluster, Error, Location, Unit, api_kind, order_units, str_at};
use crate::cache::{NoCache, Step, UnitCache, UnitKey};
use crate::resource::Resource;
use crate::tree::{self, EntryKind, Tree};
use crate::value::{Map, Value};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// How deep Kustomizations may create Kustomizations before kiln gives up.
const MAX_DEPTH: usize = 32;

/// The name and namespace of the root unit when no Flux Kustomization in the
/// cluster directory points at the directory itself (`flux bootstrap`'s).
const ROOT: &str = "flux-system";

/// The file `flux bootstrap --path <dir>` writes in `<dir>`: the
/// `GitRepository` and the `Kustomization` that applies `<dir>`.
pub const BOOTSTRAP_FILE: &str = "flux-system/gotk-sync.yaml";

/// How many directory levels below the root kiln looks for bootstrapped
/// cluster directories when there is no `clusters/`.
const BOOTSTRAP_DEPTH: usize = 4;

/// The cluster name of a repository bootstrapped at its root (`--path .`).
const ROOT_CLUSTER: &str = "default";

/// Whether the tree looks like a Flux v2 repository: a `clusters/`
/// directory, or cluster directories made by `flux bootstrap` elsewhere
/// (`k8s/production/flux-system/gotk-sync.yaml`).
pub fn detect(tree: &dyn Tree) -> bool {
    tree.kind("clusters") == Some(EntryKind::Dir) || !bootstrap_dirs(tree).is_empty()
}

/// The directories below the root (up to [`BOOTSTRAP_DEPTH`] levels, hidden
/// ones passed over) that hold a [`BOOTSTRAP_FILE`], sorted; `""` is the root.
fn bootstrap_dirs(tree: &dyn Tree) -> Vec<String> {
    fn walk(tree: &dyn Tree, dir: &str, depth: usize, out: &mut Vec<String>) {
        let file = if dir.is_empty() {
            BOOTSTRAP_FILE.to_string()
        } else {
            format!("{dir}/{BOOTSTRAP_FILE}")
        };
        if tree.kind(&file) == Some(EntryKind::File) {
            out.push(dir.to_string());
        }
        if depth == BOOTSTRAP_DEPTH {
            return;
        }
        for (name, kind) in tree.list(dir).unwrap_or_default() {
            if kind == EntryKind::Dir && !name.starts_with('.') && name != "flux-system" {
                if let Ok(sub) = tree::join(dir, &name) {
                    walk(tree, &sub, depth + 1, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, "", 0, &mut out);
    out.sort();
    out
}

/// The clusters and their directories: the subdirectories of `clusters/`,
/// or else every directory bootstrapped by Flux, named by its last path
/// component (by its whole path when two share one; `default` for the root).
pub fn cluster_roots(tree: &dyn Tree) -> Result<Vec<(String, String)>, Error> {
    if tree.kind("clusters") == Some(EntryKind::Dir) {
        return Ok(super::subdirs(tree, "clusters")?
            .into_iter()
            .map(|n| (n.clone(), format!("clusters/{n}")))
            .collect());
    }
    let dirs = bootstrap_dirs(tree);
    let last = |d: &str| match d.rsplit('/').next() {
        Some("") | None => ROOT_CLUSTER.to_string(),
        Some(n) => n.to_string(),
    };
    let unique = |d: &str| dirs.iter().filter(|o| last(o) == last(d)).count() == 1;
    Ok(dirs.iter().map(|d| (if unique(d) { last(d) } else { d.clone() }, d.clone())).collect())
}

/// The label or annotation with which an object opts out of being applied.
pub const RECONCILE_KEY: &str = "kustomize.toolkit.fluxcd.io/reconcile";

/// Whether `v` carries `kustomize.toolkit.fluxcd.io/reconcile: disabled` as a
/// label or an annotation: the kustomize-controller then never applies it
/// (not even to create it) and never prunes it. kiln keeps such an object
/// in the output as written, so a Flux applier skips it the same way, and
/// renders nothing from it: a HelmRelease's chart is not rendered and a
/// Kustomization is not followed.
pub fn reconcile_disabled(v: &Value) -> bool {
    ["annotations", "labels"].iter().any(|field| {
        v.get_path(&["metadata", field, RECONCILE_KEY]).and_then(Value::as_str) == Some("disabled")
    })
}

/// A note for a Flux object with `spec.suspend: true`: its controller
/// applies nothing from it until it is resumed and leaves what it applied
/// last in place, which kiln cannot know; kiln renders what the object
/// would apply once resumed and says so.
fn suspended(v: &Value, file: &str) -> Option<String> {
    (v.get_path(&["spec", "suspend"]) == Some(&Value::Bool(true))).then(|| {
        format!(
            "{} {}/{} ({file}): spec.suspend is true, so Flux applies nothing from it until it is resumed; rendered as it would apply then",
            str_at(v, &["kind"]),
            str_at(v, &["metadata", "namespace"]),
            str_at(v, &["metadata", "name"]),
        )
    })
}

/// Whether `v` is a Flux `Kustomization` (any `kustomize.toolkit.fluxcd.io` version).
pub fn is_flux_kustomization(v: &Value) -> bool {
    let (api, kind) = api_kind(v);
    api.starts_with("kustomize.toolkit.fluxcd.io/") && kind == "Kustomization"
}

/// The cluster names (see [`cluster_roots`]); an error when there are none.
pub fn cluster_names(tree: &dyn Tree) -> Result<Vec<String>, Error> {
    let roots = cluster_roots(tree)?;
    if roots.is_empty() && tree.kind("clusters") != Some(EntryKind::Dir) {
        return Err(Error::Empty {
            layout: super::Layout::FluxV2,
            message: format!(
                "no clusters/ directory at the repository root and no directory below it holding {BOOTSTRAP_FILE} (as flux bootstrap --path writes it)"
            ),
        });
    }
    Ok(roots.into_iter().map(|(n, _)| n).collect())
}

/// A Flux Kustomization waiting to be built.
#[derive(Debug, Clone)]
struct Pending {
    name: String,
    namespace: String,
    file: String,
    path: String,
    parent: Option<String>,
    object: Option<Value>,
}

impl Pending {
    fn at(&self, cluster: &str) -> Location {
        Location::new(cluster, &self.name, &self.file)
    }

    fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    fn spec(&self, path: &[&str]) -> Option<&Value> {
        let mut full = vec!["spec"];
        full.extend_from_slice(path);
        self.object.as_ref().and_then(|o| o.get_path(&full))
    }
}

/// Renders one cluster: its root directory and every Kustomization reached
/// from it, Helm releases rendered from this repository or `charts.cache`.
pub fn render_cluster(charts: &Charts<'_>, cluster: &str) -> Result<Cluster, Error> {
    render_cluster_with(charts, cluster, &repository_source(charts.repo)?, &NoCache)
}

/// What the `.sourceignore` files of the repository hold ([`Source`]),
/// which shapes every unit's artifact in every cluster: read once per
/// render, as it walks the whole tree.
pub fn repository_source(tree: &dyn Tree) -> Result<Source, Error> {
    Source::read(tree, "")
        .map_err(|e| Error::read(&Location::new("", "", super::sourceignore::FILE), e))
}

/// [`render_cluster`] with the repository's [`repository_source`], each
/// unit's kustomize build and each chart render handed to `cache`.
pub fn render_cluster_with(
    charts: &Charts<'_>,
    cluster: &str,
    files: &Source,
    cache: &dyn UnitCache,
) -> Result<Cluster, Error> {
    let tree = charts.repo;
    let root_dir = cluster_roots(tree)?
        .into_iter()
        .find(|(n, _)| n == cluster)
        .map(|(_, d)| d)
        .unwrap_or_else(|| format!("clusters/{cluster}"));
    let mut root = Pending {
        name: ROOT.into(),
        namespace: ROOT.into(),
        file: root_dir.clone(),
        path: root_dir.clone(),
        parent: None,
        object: None,
    };
    // The Kustomization that applies the cluster directory itself (written by
    // `flux bootstrap`) names the root unit and its source, this repository.
    let config = super::Config::read(tree)?;
    let unset = match config.strict_post_build {
        true => substitute::Unset::Error,
        false => substitute::Unset::Empty,
    };
    // Whether any `.sourceignore` holds a pattern shapes every unit's
    // artifact: looked at once per render, it is part of each unit's key.
    // The cluster directory is first built before this repository's
    // GitRepository is known; when that fails, the `spec.ignore` written
    // beside the root Kustomization may leave out what failed, as Flux
    // builds every unit, the root included, in the artifact it narrows.
    let plain = match build_unit(tree, cluster, &root, files, cache) {
        Ok(plain) => plain,
        Err(e) => match spec_ignore_written_in(tree, &root_dir) {
            Some(ignore) => {
                build_unit(tree, cluster, &root, &files.with_spec_ignore(&ignore), cache)?
            }
            None => return Err(e),
        },
    };
    if let Some(r) = plain.iter().find(|r| {
        is_flux_kustomization(&r.value)
            && tree::join("", str_at(&r.value, &["spec", "path"])).ok().as_deref()
                == Some(&root_dir)
    }) {
        root = pending_from(&r.value, &r.source, None);
    }
    let mut this_repo = vec![format!("{ROOT}/{ROOT}")];
    if let Some(obj) = &root.object {
        this_repo.push(source_key(obj));
    }
    // This repository's GitRepository may narrow its artifact with
    // `spec.ignore`; every unit, the root included, is built in it.
    let spec_ignore = plain
        .iter()
        .find(|r| {
            r.kind() == "GitRepository"
                && r.gvk().group == "source.toolkit.fluxcd.io"
                && this_repo.contains(&format!("{}/{}", r.namespace(), r.name()))
        })
        .map(|r| str_at(&r.value, &["spec", "ignore"]).to_string())
        .unwrap_or_default();
    let source = files.with_spec_ignore(&spec_ignore);

    let mut cx = Cluster::new(cluster);
    let mut seen: BTreeMap<String, Pending> = BTreeMap::new();
    seen.insert(root.key(), root.clone());
    let mut wave = vec![root];
    let mut done: Vec<Unit> = Vec::new();
    let mut external: Vec<String> = Vec::new();
    // A unit that fails is reported with every other failure of the
    // cluster; its name still counts for `dependsOn` checks.
    let mut errors: Vec<Error> = Vec::new();
    let mut failed: Vec<Unit> = Vec::new();
    for depth in 0.. {
        if wave.is_empty() {
            break;
        }
        if depth >= MAX_DEPTH {
            let p = &wave[0];
            return Err(p
                .at(cluster)
                .invalid(format!("Kustomizations nest more than {MAX_DEPTH} levels deep")));
        }
        let results: Vec<Result<Vec<Resource>, Error>> =
            wave.par_iter().map(|p| build_unit(tree, cluster, p, &source, cache)).collect();
        let mut built: Vec<(Pending, Vec<Resource>)> = Vec::new();
        for (p, result) in wave.into_iter().zip(results) {
            match result {
                Ok(objects) => built.push((p, objects)),
                Err(e) => {
                    failed.push(unit_from(&p, Vec::new()));
                    errors.push(e);
                }
            }
        }
        // Variables come from everything rendered so far, this wave included.
        let available: Vec<&Resource> = done
            .iter()
            .flat_map(|u| u.objects.iter())
            .chain(built.iter().flat_map(|(_, o)| o.iter()))
            .collect();
        let mut next = Vec::new();
        let mut units = Vec::new();
        for (p, objects) in &built {
            let rendered =
                post_build(tree, cluster, p, objects, &available, unset, &mut cx.skipped);
            let rendered = rendered.and_then(|objects| {
                let known = Known {
                    this_repo: &this_repo,
                    available: &available,
                    cluster_objects: &config.cluster_objects,
                    git_default_ref: config.git_default_ref(),
                };
                render_releases(charts, &p.at(cluster), objects, &known, &mut cx.skipped, cache)
            });
            let objects = match rendered {
                Ok(objects) => objects,
                Err(e) => {
                    failed.push(unit_from(p, Vec::new()));
                    errors.push(e);
                    continue;
                }
            };
            for r in objects.iter().filter(|r| is_flux_kustomization(&r.value)) {
                let child = pending_from(&r.value, &r.source, Some(&p.name));
                let at = child.at(cluster);
                if child.name.is_empty() {
                    errors.push(at.invalid("Flux Kustomization without metadata.name"));
                    continue;
                }
                // Flux applies no namespaced object without a namespace
                // ("namespace not specified"), so its parent never applies
                // this one and its source cannot be resolved.
                if child.namespace.is_empty() {
                    errors.push(at.invalid(format!(
                        "Flux Kustomization {:?} has no metadata.namespace (and unit {} sets no targetNamespace): Flux cannot apply it (namespace not specified)",
                        child.name, p.name
                    )));
                    continue;
                }
                if let Some(prev) = seen.get(&child.key()) {
                    if prev.object != child.object {
                        errors.push(at.invalid(format!(
                            "Kustomization {} is also defined, differently, in {}",
                            child.key(),
                            prev.file
                        )));
                    }
                    continue;
                }
                if reconcile_disabled(&r.value) {
                    external.push(child.key());
                    cx.skipped.push(format!(
                        "Kustomization {} ({}): {RECONCILE_KEY}: disabled, so its parent {} never applies it; kept as written, not followed",
                        child.key(),
                        r.source,
                        p.name
                    ));
                    continue;
                }
                if !this_repo.contains(&source_key(&r.value)) {
                    external.push(child.key());
                    cx.skipped.push(format!(
                        "Kustomization {} ({}): source {} is not this repository; applied as written",
                        child.key(),
                        r.source,
                        source_key(&r.value)
                    ));
                    continue;
                }
                if let Some(note) = suspended(&r.value, &r.source) {
                    cx.skipped.push(note);
                }
                seen.insert(child.key(), child.clone());
                next.push(child);
            }
            units.push(unit_from(p, objects));
        }
        done.extend(units);
        wave = next;
    }
    // Units that failed are checked too: their own dependsOn may be wrong as well.
    let all: Vec<&Unit> = done.iter().chain(failed.iter()).collect();
    errors.extend(check_names_and_dependencies(cluster, &all, &external));
    if let Some(e) = Error::many(errors) {
        return Err(e);
    }
    cx.units = order_units(cluster, done)?;
    Ok(cx)
}

/// The `spec.ignore` of the GitRepository that the Kustomization applying
/// `dir` itself names, both read from the YAML files below `dir` as they
/// are written (files that do not parse are passed over): `None` when
/// there is no such pair or the GitRepository ignores nothing.
fn spec_ignore_written_in(tree: &dyn Tree, dir: &str) -> Option<String> {
    fn collect(tree: &dyn Tree, dir: &str, depth: usize, out: &mut Vec<Value>) {
        for (name, kind) in tree.list(dir).unwrap_or_default() {
            let Ok(path) = tree::join(dir, &name) else { continue };
            match kind {
                EntryKind::Dir if depth < MAX_DEPTH && !name.starts_with('.') => {
                    collect(tree, &path, depth + 1, out);
                }
                EntryKind::File if super::is_yaml(&name) => {
                    let Ok(text) = tree::read_text(tree, &path) else { continue };
                    if let Ok(docs) = crate::yaml::parse_documents(&text, &path) {
                        out.extend(docs);
                    }
                }
                _ => {}
            }
        }
    }
    let mut docs = Vec::new();
    collect(tree, dir, 0, &mut docs);
    let root = docs.iter().find(|d| {
        is_flux_kustomization(d)
            && tree::join("", str_at(d, &["spec", "path"])).ok().as_deref() == Some(dir)
    })?;
    let wanted = source_key(root);
    let repo = docs.iter().find(|d| {
        api_kind(d).1 == "GitRepository"
            && api_kind(d).0.starts_with("source.toolkit.fluxcd.io/")
            && format!(
                "{}/{}",
                str_at(d, &["metadata", "namespace"]),
                str_at(d, &["metadata", "name"])
            ) == wanted
    })?;
    Some(str_at(repo, &["spec", "ignore"]).to_string()).filter(|i| !i.trim().is_empty())
}

fn source_key(obj: &Value) -> String {
    let kind = str_at(obj, &["spec", "sourceRef", "kind"]);
    let ns = match str_at(obj, &["spec", "sourceRef", "namespace"]) {
        "" => str_at(obj, &["metadata", "namespace"]),
        n => n,
    };
    let name = str_at(obj, &["spec", "sourceRef", "name"]);
    if kind.is_empty() || kind == "GitRepository" {
        format!("{ns}/{name}")
    } else {
        format!("{kind}/{ns}/{name}")
    }
}

fn pending_from(obj: &Value, file: &str, parent: Option<&str>) -> Pending {
    Pending {
        name: str_at(obj, &["metadata", "name"]).to_string(),
        namespace: str_at(obj, &["metadata", "namespace"]).to_string(),
        file: file.to_string(),
        path: str_at(obj, &["spec", "path"]).to_string(),
        parent: parent.map(str::to_string),
        object: Some(obj.clone()),
    }
}

fn depends_on(p: &Pending) -> Vec<(String, String)> {
    match p.spec(&["dependsOn"]) {
        Some(Value::Seq(deps)) => deps
            .iter()
            .map(|d| {
                let ns = match str_at(d, &["namespace"]) {
                    "" => p.namespace.clone(),
                    n => n.to_string(),
                };
                (ns, str_at(d, &["name"]).to_string())
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn unit_from(p: &Pending, objects: Vec<Resource>) -> Unit {
    Unit {
        name: p.name.clone(),
        namespace: p.namespace.clone(),
        path: tree::join("", &p.path).unwrap_or_else(|_| p.path.clone()),
        depends_on: depends_on(p).into_iter().map(|(_, n)| n).collect(),
        source_file: p.file.clone(),
        parent: p.parent.clone(),
        object: p.object.clone(),
        objects,
    }
}

/// Unit names are output directories, so they must be unique in a cluster;
/// every `dependsOn` must name a unit of the cluster or a Kustomization of
/// another source (`known`, `namespace/name`), which the applier orders.
/// Every violation is returned.
fn check_names_and_dependencies(cluster: &str, units: &[&Unit], known: &[String]) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut by_name: BTreeMap<&str, &Unit> = BTreeMap::new();
    for &u in units {
        if let Some(other) = by_name.insert(&u.name, u) {
            errors.push(Location::new(cluster, &u.name, &u.source_file).invalid(format!(
                "two Kustomizations named {:?} (namespaces {:?} and {:?}, the other in {}): unit names must be unique in a cluster",
                u.name, other.namespace, u.namespace, other.source_file
            )));
        }
    }
    for u in units {
        let Some(obj) = &u.object else { continue };
        let p = pending_from(obj, &u.source_file, None);
        for (ns, name) in depends_on(&p) {
            let found = units.iter().any(|o| o.name == name && o.namespace == ns)
                || known.contains(&format!("{ns}/{name}"));
            if !found {
                errors.push(Location::new(cluster, &u.name, &u.source_file).invalid(format!(
                    "dependsOn {ns}/{name}: no such Kustomization in this cluster"
                )));
            }
        }
    }
    errors
}

/// Builds one unit, through `cache`: the kustomization with the Flux fields
/// written into it, in the source artifact (see [`Artifact`]). The build
/// depends on the tree, the unit's path, its Flux object and the source's
/// ignore rules, which make its key (the `.sourceignore` files on the way
/// to what the build reads are inputs the cache sees being read).
fn build_unit(
    tree: &dyn Tree,
    cluster: &str,
    p: &Pending,
    source: &Source,
    cache: &dyn UnitCache,
) -> Result<Vec<Resource>, Error> {
    let mut spec = p.path.clone().into_bytes();
    spec.push(b'\n');
    if let Some(object) = &p.object {
        spec.extend_from_slice(crate::yaml::to_string(object).as_bytes());
    }
    let Source { spec_ignore, file_patterns, file_includes, .. } = source;
    spec.extend_from_slice(
        format!(
            "---\nsource ignore:\n{spec_ignore}\nfile patterns: {file_patterns} {file_includes}\n"
        )
        .as_bytes(),
    );
    let key = UnitKey { cluster, unit: &p.name, step: Step::Kustomize, spec: &spec };
    cache
        .build(&key, tree, &|tree| build_unit_now(&Artifact::new(tree, source.clone()), cluster, p))
}

fn build_unit_now(tree: &Artifact<'_>, cluster: &str, p: &Pending) -> Result<Vec<Resource>, Error> {
    let at = p.at(cluster);
    let dir = tree::join("", &p.path).map_err(|e| at.invalid(format!("spec.path: {e}")))?;
    if tree.kind(&dir) != Some(EntryKind::Dir) {
        return Err(
            at.invalid(format!("spec.path {:?} is not a directory of the repository", p.path))
        );
    }
    let (file, mut k) = kustomization_in(tree, &dir).map_err(|e| Error::build(&at, e))?;
    apply_flux_fields(tree, &dir, p, &mut k).map_err(|m| at.invalid(m))?;
    build_with(tree, &dir, &file, &k).map_err(|e| Error::build(&at, e))
}

/// What a unit's Helm releases are rendered with beyond their own objects.
struct Known<'a> {
    /// The keys of the sources that are this repository.
    this_repo: &'a [String],
    /// Everything the cluster rendered so far.
    available: &'a [&'a Resource],
    /// `kiln.yaml`'s `clusterObjects`.
    cluster_objects: &'a [String],
    /// The helm-operator's `--git-default-ref`, for Flux v1 releases.
    git_default_ref: &'a str,
}

/// Replaces every Helm release among a unit's objects (after `postBuild`,
/// as the helm-controller sees what the kustomize-controller applied) by
/// its chart's rendered objects.
fn render_releases(
    charts: &Charts<'_>,
    at: &Location,
    objects: Vec<Resource>,
    known: &Known<'_>,
    skipped: &mut Vec<String>,
    cache: &dyn UnitCache,
) -> Result<Vec<Resource>, Error> {
    let Known { this_repo, available, cluster_objects, git_default_ref } = *known;
    let mut out = Vec::with_capacity(objects.len());
    for r in objects {
        // Flux Kustomizations so marked are reported where they would be followed.
        if reconcile_disabled(&r.value) && !is_flux_kustomization(&r.value) {
            let rendered = match helm_release::is_release(&r.value) {
                true => "its chart not rendered",
                false => "as a Flux applier skips it too",
            };
            skipped.push(format!(
                "{} {}/{} ({}): {RECONCILE_KEY}: disabled, so unit {} never applies it; kept as written, {rendered}",
                r.kind(),
                r.namespace(),
                r.name(),
                r.source,
                at.unit
            ));
            out.push(r);
        } else if let Some(why) = helm_release::is_release(&r.value)
            .then(|| {
                super::release_values::cluster_only_values(&r.value, available, cluster_objects)
            })
            .flatten()
        {
            skipped.push(format!(
                "{} {}/{} ({}): {why}; kept as written, its chart not rendered (the helm-controller renders it with the cluster's values)",
                r.kind(),
                r.namespace(),
                r.name(),
                r.source
            ));
            out.push(r);
        } else if helm_release::is_release(&r.value) {
            skipped.extend(suspended(&r.value, &r.source));
            let at = at.with_file(&r.source);
            // A Flux v1 release applied by Flux v2 is the helm-operator's
            // to render, as it reads it.
            let release = if helm_release::is_flux_v1_release(&r.value) {
                helm_release::from_flux_v1(&r.value, &at, git_default_ref)?
            } else {
                helm_release::from_flux_v2(&r.value, &at, this_repo, available)?
            };
            out.extend(helm_release::render_release_with(
                charts, &release, available, skipped, cache,
            )?);
        } else {
            out.push(r);
        }
    }
    Ok(out)
}

/// Writes a Flux Kustomization's kustomize-level fields into the
/// kustomization it builds, as the kustomize-controller does: the target
/// namespace and name affixes replace the file's own; patches, images and
/// components are appended.
fn apply_flux_fields(tree: &dyn Tree, dir: &str, p: &Pending, k: &mut Value) -> Result<(), String> {
    let Some(map) = k.as_map_mut() else { return Err("kustomization is not a mapping".into()) };
    for (flux, field) in [
        ("targetNamespace", "namespace"),
        ("namePrefix", "namePrefix"),
        ("nameSuffix", "nameSuffix"),
    ] {
        match p.spec(&[flux]) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v @ Value::String(_)) => {
                map.insert(field.into(), v.clone());
            }
            Some(other) => {
                return Err(format!(
                    "spec.{flux}: expected a string, found a {}",
                    other.type_name()
                ));
            }
        }
    }
    // The deprecated `patchesStrategicMerge` (objects) and `patchesJson6902`
    // (a target and operations) of v1beta2 go to the kustomization's fields
    // of the same names, which kustomize applies in their own order: the
    // objects and the operations as inline YAML (Flux writes the operations
    // as JSON, which reads the same).
    if let Some(Value::Seq(objects)) = p.spec(&["patchesStrategicMerge"]) {
        let inline = objects.iter().map(|o| Value::String(crate::yaml::to_string(o)));
        append(map, "patchesStrategicMerge", inline.collect())?;
    }
    if let Some(Value::Seq(items)) = p.spec(&["patchesJson6902"]) {
        let mut entries = Vec::new();
        for item in items {
            let ops = item.get_path(&["patch"]).unwrap_or(&Value::Null);
            let mut m = Map::new();
            m.insert("patch".into(), Value::String(crate::yaml::to_string(ops)));
            if let Some(t) = item.get_path(&["target"]) {
                m.insert("target".into(), t.clone());
            }
            entries.push(Value::Map(m));
        }
        append(map, "patchesJson6902", entries)?;
    }
    let list = |field: &str| match p.spec(&[field]) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Seq(items)) => Ok(items.clone()),
        Some(other) => Err(format!("spec.{field}: expected a list, found a {}", other.type_name())),
    };
    append(map, "patches", list("patches")?)?;
    // An image of the same name as one in the kustomization replaces it
    // (Flux's generator); others are appended.
    for image in list("images")? {
        let name = image.get_path(&["name"]);
        let entry = map.entry("images".to_string()).or_insert_with(|| Value::Seq(Vec::new()));
        let Value::Seq(existing) = entry else {
            return Err("kustomization field images is not a list".into());
        };
        match existing.iter_mut().find(|i| i.get_path(&["name"]) == name) {
            Some(same) => *same = image,
            None => existing.push(image),
        }
    }
    // Components must be local relative paths; with
    // `ignoreMissingComponents` the ones not in the repository are dropped.
    let ignore_missing = p.spec(&["ignoreMissingComponents"]) == Some(&Value::Bool(true));
    let mut components = Vec::new();
    for c in list("components")? {
        let Some(path) = c.as_str() else {
            return Err(format!("spec.components: expected strings, found a {}", c.type_name()));
        };
        if path.starts_with('/') || path.contains("://") {
            return Err(format!("component path '{path}' must be local and relative"));
        }
        if ignore_missing && !tree::join(dir, path).is_ok_and(|c| tree.kind(&c).is_some()) {
            continue;
        }
        components.push(c);
    }
    append(map, "components", components)?;
    Ok(())
}

/// Appends `items` to the list `field` of a kustomization.
fn append(map: &mut Map, field: &str, items: Vec<Value>) -> Result<(), String> {
    if items.is_empty() {
        return Ok(());
    }
    match map.entry(field.to_string()).or_insert_with(|| Value::Seq(Vec::new())) {
        Value::Seq(existing) => existing.extend(items),
        _ => return Err(format!("kustomization field {field} is not a list")),
    }
    Ok(())
}

/// `commonMetadata` and `postBuild` on the built objects; each variable
/// that was unset and became empty is noted in `notes`.
fn post_build(
    tree: &dyn Tree,
    cluster: &str,
    p: &Pending,
    objects: &[Resource],
    available: &[&Resource],
    unset: substitute::Unset,
    notes: &mut Vec<String>,
) -> Result<Vec<Resource>, Error> {
    let at = p.at(cluster);
    let mut out = objects.to_vec();
    // Substitution runs in the build, commonMetadata at apply time, so the
    // common labels and annotations are not substituted (kustomize-controller).
    // Flux substitutes only when there is a variable, unless
    // `substituteStrategy: Always` asks for the defaults to be applied anyway.
    let always = p.spec(&["postBuild", "substituteStrategy"]) == Some(&Value::from("Always"));
    let vars = match p.spec(&["postBuild"]) {
        Some(_) => postbuild_vars(p, &at, available)?,
        None => Vars::new(),
    };
    if !vars.is_empty() || (always && p.spec(&["postBuild"]).is_some()) {
        for r in &mut out {
            // Where the expression is written, when the object's file holds it.
            let source = || tree::read_text(tree, &r.source).unwrap_or_default();
            let written = |line: Option<usize>| match line {
                Some(n) => format!(", line {n} of {}", r.source),
                None => String::new(),
            };
            let (value, missing) =
                substitute::substitute_object(&r.value, &vars, unset).map_err(|e| {
                    let line = substitute::line_in_source(&source(), &e);
                    at.with_file(&r.source).invalid(format!(
                        "postBuild substitution in {}/{}: {e}{}",
                        r.kind(),
                        r.name(),
                        written(line)
                    ))
                })?;
            for m in missing {
                let line = substitute::line_of_variable(&source(), &m.name);
                let line = line.map(|n| format!(":{n}")).unwrap_or_default();
                notes.push(format!(
                    "Kustomization {} ({}{}): postBuild variable {:?} in {}/{} (line {} of its built YAML) is not set and became empty, as in Flux; set strictPostBuildSubstitutions: true in kiln.yaml to fail instead",
                    p.key(),
                    r.source,
                    line,
                    m.name,
                    r.kind(),
                    r.name(),
                    m.line
                ));
            }
            r.value = value;
        }
    }
    drop_unreadable_metadata(p, &mut out, notes);
    if let Some(meta) = p.spec(&["commonMetadata"]) {
        for field in ["labels", "annotations"] {
            let Some(Value::Map(pairs)) = meta.get_path(&[field]) else { continue };
            post_render::set_metadata(out.iter_mut().map(|r| &mut r.value), field, pairs);
        }
    }
    Ok(out)
}

/// Labels the kustomize-controller cannot read, dropped as it drops them.
/// At apply time it reads each object's labels as a map of strings
/// (apimachinery's `Unstructured.GetLabels`, which finds none when one value
/// is not a string: `is-production: true`, `x: null`) and writes back only
/// `commonMetadata`'s labels and its own owner labels
/// (`kustomize.toolkit.fluxcd.io/name`, `/namespace`: fluxcd/pkg/ssa's
/// `SetCommonMetadata` and `SetOwnerLabels`), which kiln does not write.
/// Annotations are read the same way, and replaced, only when
/// `commonMetadata` sets some. Each object whose labels or annotations
/// are lost is noted.
fn drop_unreadable_metadata(p: &Pending, objects: &mut [Resource], notes: &mut Vec<String>) {
    let common_annotations = p
        .spec(&["commonMetadata", "annotations"])
        .and_then(Value::as_map)
        .is_some_and(|m| !m.is_empty());
    for r in objects {
        let (kind, name) = (r.kind().to_string(), r.name().to_string());
        let Some(Value::Map(md)) = r.value.get_path_mut(&["metadata"]) else { continue };
        for field in ["labels", "annotations"] {
            if field == "annotations" && !common_annotations {
                continue;
            }
            let readable = |v: &Value| {
                v.as_map().is_some_and(|m| m.values().all(|v| matches!(v, Value::String(_))))
            };
            let Some(found) = md.get(field).filter(|v| !readable(v)) else { continue };
            if found.as_map().is_some_and(|m| !m.is_empty()) {
                notes.push(format!(
                    "Kustomization {} ({}): {kind}/{name}: metadata.{field} holds a value that is not a string, so the kustomize-controller reads no {field} there and applies only {}; quote the values to keep them",
                    p.key(),
                    r.source,
                    if field == "labels" {
                        "its owner labels and commonMetadata's labels"
                    } else {
                        "commonMetadata's annotations"
                    },
                ));
            }
            md.shift_remove(field);
        }
    }
}

/// The variables of `postBuild`: `substituteFrom` ConfigMaps and Secrets of
/// the Kustomization's namespace found in the render, in order, then
/// `substitute`, which wins.
fn postbuild_vars(p: &Pending, at: &Location, available: &[&Resource]) -> Result<Vars, Error> {
    let mut vars = Vars::new();
    if let Some(Value::Seq(froms)) = p.spec(&["postBuild", "substituteFrom"]) {
        for from in froms {
            let kind = str_at(from, &["kind"]);
            let name = str_at(from, &["name"]);
            let optional = from.get_path(&["optional"]) == Some(&Value::Bool(true));
            if kind != "ConfigMap" && kind != "Secret" {
                return Err(at.invalid(format!(
                    "substituteFrom kind {kind:?}: expected ConfigMap or Secret"
                )));
            }
            let found = available.iter().find(|r| {
                r.gvk().group.is_empty()
                    && r.kind() == kind
                    && r.name() == name
                    && r.namespace() == p.namespace
            });
            let Some(found) = found else {
                if optional {
                    continue;
                }
                return Err(at.invalid(format!(
                    "substituteFrom {kind} {}/{name} is not in the render (mark it optional: true if it may be missing){}",
                    p.namespace,
                    super::release_values::made_in_cluster(available, kind, &p.namespace, name)
                )));
            };
            if let Some(Value::Map(data)) = found.value.get_path(&["data"]) {
                for (k, v) in data {
                    let text = v.as_str().unwrap_or_default();
                    let value = if kind == "Secret" {
                        substitute::base64_decode(text)
                            .and_then(|b| String::from_utf8(b).ok())
                            .ok_or_else(|| {
                                at.invalid(format!(
                                    "Secret {name}: data.{k} is not base64 of UTF-8 text"
                                ))
                            })?
                    } else {
                        text.to_string()
                    };
                    vars.insert(k.clone(), value.replace('\n', ""));
                }
            }
            // The API server folds a Secret's stringData into its data.
            if let Some(Value::Map(data)) = found.value.get_path(&["stringData"]) {
                for (k, v) in data {
                    vars.insert(k.clone(), v.as_str().unwrap_or_default().replace('\n', ""));
                }
            }
        }
    }
    // The API server takes only strings here (the CRD's map of strings
    // rejects `replicas: 3`), and Flux removes newlines from every value.
    if let Some(Value::Map(inline)) = p.spec(&["postBuild", "substitute"]) {
        for (k, v) in inline {
            let Value::String(s) = v else {
                return Err(at.invalid(format!(
                    "postBuild.substitute.{k}: expected a string, found a {} (quote it: the API server rejects the Kustomization otherwise)",
                    v.type_name()
                )));
            };
            vars.insert(k.clone(), s.replace('\n', ""));
        }
    }
    substitute::check_names(&vars).map_err(|e| at.invalid(format!("postBuild: {e}")))?;
    Ok(vars)
}
