//! Flux v2: `clusters/<cluster>/` holds Flux `Kustomization` objects whose
//! `spec.path` names a directory of the repository to build, in `dependsOn` order.

use crate::kustomize::{self, kustomization::FILE_NAMES};
use crate::resource::Resource;
use crate::tree::{self, EntryKind, Tree};
use crate::value::Value;
use crate::yaml;
use std::collections::{BTreeMap, BTreeSet};

/// A Flux repository render that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository has no `clusters/` directory.
    #[error("no clusters/ directory at the repository root")]
    NoClusters,
    /// A file could not be read.
    #[error(transparent)]
    Tree(#[from] tree::Error),
    /// A file is not valid YAML.
    #[error(transparent)]
    Yaml(#[from] yaml::ParseError),
    /// A Flux object is not usable.
    #[error("cluster {cluster}: {file}: {message}")]
    Invalid {
        /// The cluster.
        cluster: String,
        /// The file holding the object.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// `dependsOn` forms a cycle.
    #[error("cluster {cluster}: dependsOn cycle among {units}")]
    Cycle {
        /// The cluster.
        cluster: String,
        /// The units on the cycle.
        units: String,
    },
    /// Building one unit failed.
    #[error("cluster {cluster}, unit {unit} (path {path})")]
    Unit {
        /// The cluster.
        cluster: String,
        /// The Flux Kustomization.
        unit: String,
        /// Its `spec.path`.
        path: String,
        /// Why.
        #[source]
        source: Box<kustomize::Error>,
    },
}

/// One Flux `Kustomization` and what it built.
#[derive(Debug, Clone)]
pub struct Unit {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `spec.path`, normalised.
    pub path: String,
    /// Names of the units it depends on.
    pub depends_on: Vec<String>,
    /// The file the Flux object was read from.
    pub source_file: String,
    /// The Flux object itself.
    pub object: Value,
    /// The built objects, in kustomize's order.
    pub objects: Vec<Resource>,
}

/// One cluster's units, in apply order.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The directory name under `clusters/`.
    pub name: String,
    /// Units, dependencies first.
    pub units: Vec<Unit>,
}

/// Whether the tree looks like a Flux v2 repository.
pub fn detect(tree: &dyn Tree) -> bool {
    tree.kind("clusters") == Some(EntryKind::Dir)
}

/// Every YAML file below `dir`, recursively, sorted by path.
pub fn yaml_files(tree: &dyn Tree, dir: &str) -> Result<Vec<String>, tree::Error> {
    let mut out = Vec::new();
    for (name, kind) in tree.list(dir)? {
        let path = tree::join(dir, &name)?;
        match kind {
            EntryKind::Dir => out.extend(yaml_files(tree, &path)?),
            EntryKind::File if name.ends_with(".yaml") || name.ends_with(".yml") => out.push(path),
            EntryKind::File => {}
        }
    }
    Ok(out)
}

fn has_kustomization(tree: &dyn Tree, dir: &str) -> bool {
    FILE_NAMES
        .iter()
        .any(|n| tree::join(dir, n).is_ok_and(|p| tree.kind(&p) == Some(EntryKind::File)))
}

/// Builds a directory as Flux's kustomize-controller does: with its
/// kustomization when it has one, otherwise with a generated one that lists
/// every manifest below it, and every subdirectory that has a kustomization
/// of its own as a base (without descending into it).
pub fn build_dir(tree: &dyn Tree, dir: &str) -> Result<Vec<Resource>, kustomize::Error> {
    let options = kustomize::Options::default();
    if has_kustomization(tree, dir) {
        return kustomize::build(tree, dir, &options);
    }
    let mut mem = tree::MemTree::new();
    let mut resources = Vec::new();
    generated_resources(tree, dir, dir, &mut mem, &mut resources)?;
    let mut k = crate::value::Map::new();
    k.insert("resources".into(), Value::Seq(resources));
    mem.insert(&tree::join(dir, "kustomization.yaml")?, yaml::to_string(&Value::Map(k)));
    // Bases found below are read from the original tree through an overlay.
    let overlay =
        Overlay { top: &mem, base: tree, generated: tree::join(dir, "kustomization.yaml")? };
    kustomize::build(&overlay, dir, &options)
}

/// Collects what Flux's generated kustomization lists: manifest files with
/// Kubernetes objects, and subdirectories that hold a kustomization.
fn generated_resources(
    tree: &dyn Tree,
    root: &str,
    dir: &str,
    mem: &mut tree::MemTree,
    resources: &mut Vec<Value>,
) -> Result<(), kustomize::Error> {
    let rel = |p: &str| p.strip_prefix(&format!("{root}/")).unwrap_or(p).to_string();
    for (name, kind) in tree.list(dir)? {
        let path = tree::join(dir, &name)?;
        match kind {
            EntryKind::Dir if has_kustomization(tree, &path) => {
                resources.push(Value::String(rel(&path)))
            }
            EntryKind::Dir => generated_resources(tree, root, &path, mem, resources)?,
            EntryKind::File if name.ends_with(".yaml") || name.ends_with(".yml") => {
                let text = tree::read_text(tree, &path)?;
                let docs = yaml::parse_documents(&text, &path)?;
                let is_manifest = |d: &Value| {
                    d.get_path(&["kind"]).is_some()
                        && d.get_path(&["apiVersion"])
                            .and_then(Value::as_str)
                            .is_some_and(|a| !a.starts_with("kustomize.config.k8s.io/"))
                };
                if docs.iter().any(is_manifest) {
                    mem.insert(&path, text);
                    resources.push(Value::String(rel(&path)));
                }
            }
            EntryKind::File => {}
        }
    }
    Ok(())
}

/// The original tree with a generated kustomization file laid over it.
struct Overlay<'a> {
    top: &'a tree::MemTree,
    base: &'a dyn Tree,
    generated: String,
}

impl Tree for Overlay<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, tree::Error> {
        if path == self.generated { self.top.read(path) } else { self.base.read(path) }
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        if path == self.generated { Some(EntryKind::File) } else { self.base.kind(path) }
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, tree::Error> {
        let mut entries = self.base.list(path)?;
        if tree::parent(&self.generated) == path {
            let name = tree::file_name(&self.generated).to_string();
            if !entries.iter().any(|(n, _)| *n == name) {
                entries.push((name, EntryKind::File));
                entries.sort();
            }
        }
        Ok(entries)
    }
}

fn is_flux_kustomization(v: &Value) -> bool {
    v.get_path(&["apiVersion"])
        .and_then(Value::as_str)
        .is_some_and(|a| a.starts_with("kustomize.toolkit.fluxcd.io/"))
        && v.get_path(&["kind"]).and_then(Value::as_str) == Some("Kustomization")
}

/// Renders every cluster under `clusters/` (or only those named in `only`).
pub fn render(tree: &dyn Tree, only: &[String]) -> Result<Vec<Cluster>, Error> {
    if !detect(tree) {
        return Err(Error::NoClusters);
    }
    let mut clusters = Vec::new();
    for (name, kind) in tree.list("clusters")? {
        if kind != EntryKind::Dir || (!only.is_empty() && !only.contains(&name)) {
            continue;
        }
        clusters.push(render_cluster(tree, &name)?);
    }
    Ok(clusters)
}

fn render_cluster(tree: &dyn Tree, cluster: &str) -> Result<Cluster, Error> {
    let dir = format!("clusters/{cluster}");
    let invalid = |file: &str, message: String| Error::Invalid {
        cluster: cluster.to_string(),
        file: file.to_string(),
        message,
    };
    let mut found: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for file in yaml_files(tree, &dir)? {
        let text = tree::read_text(tree, &file)?;
        for doc in yaml::parse_documents(&text, &file)? {
            if !is_flux_kustomization(&doc) {
                continue;
            }
            let name = doc
                .get_path(&["metadata", "name"])
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if name.is_empty() {
                return Err(invalid(&file, "Flux Kustomization without metadata.name".into()));
            }
            if found.insert(name.clone(), (file.clone(), doc)).is_some() {
                return Err(invalid(&file, format!("two Flux Kustomizations named {name:?}")));
            }
        }
    }
    let mut units = Vec::new();
    for (name, (file, obj)) in &found {
        let Some(path) = obj.get_path(&["spec", "path"]).and_then(Value::as_str) else {
            return Err(invalid(file, format!("Kustomization {name:?} has no spec.path")));
        };
        let path = tree::join("", path).map_err(|e| invalid(file, e.to_string()))?;
        let depends_on: Vec<String> = match obj.get_path(&["spec", "dependsOn"]) {
            Some(Value::Seq(deps)) => deps
                .iter()
                .filter_map(|d| d.get_path(&["name"]).and_then(Value::as_str).map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        for d in &depends_on {
            if !found.contains_key(d) {
                return Err(invalid(
                    file,
                    format!(
                        "Kustomization {name:?} depends on {d:?}, which is not in this cluster"
                    ),
                ));
            }
        }
        if tree.kind(&path) != Some(EntryKind::Dir) {
            return Err(invalid(
                file,
                format!("Kustomization {name:?}: spec.path {path:?} is not a directory"),
            ));
        }
        units.push(Unit {
            name: name.clone(),
            namespace: obj
                .get_path(&["metadata", "namespace"])
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            path,
            depends_on,
            source_file: file.clone(),
            object: obj.clone(),
            objects: Vec::new(),
        });
    }
    let mut units = order(cluster, units)?;
    for unit in &mut units {
        unit.objects = build_dir(tree, &unit.path).map_err(|source| Error::Unit {
            cluster: cluster.to_string(),
            unit: unit.name.clone(),
            path: unit.path.clone(),
            source: Box::new(source),
        })?;
    }
    Ok(Cluster { name: cluster.to_string(), units })
}

/// Orders units so that each comes after what it depends on; ties by name.
fn order(cluster: &str, units: Vec<Unit>) -> Result<Vec<Unit>, Error> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut pending = units;
    let mut out = Vec::new();
    while !pending.is_empty() {
        let ready: Vec<usize> = (0..pending.len())
            .filter(|&i| pending[i].depends_on.iter().all(|d| done.contains(d)))
            .collect();
        if ready.is_empty() {
            let names: Vec<&str> = pending.iter().map(|u| u.name.as_str()).collect();
            return Err(Error::Cycle { cluster: cluster.to_string(), units: names.join(", ") });
        }
        let mut wave: Vec<Unit> = ready.into_iter().rev().map(|i| pending.remove(i)).collect();
        wave.sort_by(|a, b| a.name.cmp(&b.name));
        for u in wave {
            done.insert(u.name.clone());
            out.push(u);
        }
    }
    Ok(out)
}
