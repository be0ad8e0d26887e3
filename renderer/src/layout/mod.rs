//! Repository layouts: how a whole config repository becomes clusters of units.
//!
//! A layout is found by [`detect`] (or declared in `kiln.yaml` at the repository
//! root) and turns the tree into [`Cluster`]s, each an ordered list of
//! [`Unit`]s: the things an applier applies one after the other (a Flux
//! `Kustomization`, a namespace folder, a Helm release, a directory of an
//! environment's templates).

pub mod chart_cache;
pub mod chart_deps;
pub mod config;
pub mod environments;
pub mod flux;
pub mod flux_v1;
pub mod glob;
pub mod helm_release;
pub mod manifests;
pub mod namespaces;
pub mod post_render;
pub mod release_values;
pub mod sourceignore;
pub mod substitute;
pub mod terraform;

use crate::resource::Resource;
use crate::tree::{self, EntryKind, Tree};
use crate::value::Value;
use crate::{kustomize, yaml};
use std::fmt;

pub use config::Config;

/// A directory kiln reads beside the repository's own files (a chart cache,
/// installed Terraform modules): of the filesystem when the user gives it,
/// or of the repository itself when its `kiln.yaml` names it.
#[derive(Clone, Copy)]
pub struct TreeDir<'a> {
    /// The tree that holds it.
    pub tree: &'a dyn Tree,
    /// Its directory in `tree` (`""` for the root).
    pub root: &'a str,
}

impl fmt::Debug for TreeDir<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeDir").field("root", &self.root).finish_non_exhaustive()
    }
}

impl<'a> TreeDir<'a> {
    /// The directory a render uses: one given by the user (opened as
    /// `given`) wins over `configured`, a directory of `repo` that
    /// `kiln.yaml` names.
    pub fn choose(
        given: Option<&'a dyn Tree>,
        repo: &'a dyn Tree,
        configured: Option<&'a str>,
    ) -> Option<Self> {
        match (given, configured) {
            (Some(tree), _) => Some(TreeDir { tree, root: "" }),
            (None, Some(root)) => Some(TreeDir { tree: repo, root }),
            (None, None) => None,
        }
    }
}

/// The layouts kiln renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layout {
    /// Flux v2: `clusters/<cluster>/` with Flux `Kustomization` objects.
    FluxV2,
    /// Flux v1: `releases/<env>/*.yaml` Helm releases of charts in `charts/`.
    FluxV1,
    /// `namespaces/<cluster>/<namespace>/*.yaml`.
    Namespaces,
    /// `environments/<env>.yaml` variables for minijinja templates in `manifests/`.
    Environments,
    /// `environments/<env>.tfvars` for the manifests a Terraform root module
    /// (`terraform/`) templates.
    Terraform,
    /// The whole repository is one directory of manifests (or a kustomization).
    Plain,
}

impl Layout {
    /// The name used in `kiln.yaml` and in plans.
    pub fn name(self) -> &'static str {
        match self {
            Layout::FluxV2 => "flux-v2",
            Layout::FluxV1 => "flux-v1",
            Layout::Namespaces => "namespaces",
            Layout::Environments => "environments",
            Layout::Terraform => "terraform",
            Layout::Plain => "plain",
        }
    }

    /// The layout called `name` in `kiln.yaml`.
    pub fn from_name(name: &str) -> Option<Layout> {
        [
            Layout::FluxV2,
            Layout::FluxV1,
            Layout::Namespaces,
            Layout::Environments,
            Layout::Terraform,
            Layout::Plain,
        ]
        .into_iter()
        .find(|l| l.name() == name)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Guesses the layout from the top-level directories of the tree, in order:
/// `clusters/` or directories bootstrapped by Flux (Flux v2, see
/// [`flux::cluster_roots`]), `releases/` (Flux v1), `namespaces/`,
/// `environments/` with `.tfvars` files beside a Terraform root module that
/// reads templates, `environments/` (an error without YAML environments:
/// templates there are never printed raw), and otherwise a plain directory
/// of manifests.
pub fn detect(tree: &dyn Tree) -> Layout {
    let dir = |p: &str| tree.kind(p) == Some(EntryKind::Dir);
    if flux::detect(tree) {
        Layout::FluxV2
    } else if dir("releases") && dir("charts") {
        Layout::FluxV1
    } else if dir("namespaces") {
        Layout::Namespaces
    } else if terraform::detect(tree) {
        Layout::Terraform
    } else if dir(environments::ENVIRONMENTS) {
        Layout::Environments
    } else {
        Layout::Plain
    }
}

/// Where in the repository something went wrong: every layout error names
/// the cluster (or environment), the unit and the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The cluster or environment.
    pub cluster: String,
    /// The unit (Flux Kustomization, namespace, release, template directory).
    pub unit: String,
    /// The file at fault, relative to the repository root.
    pub file: String,
}

impl Location {
    /// A location from its three parts.
    pub fn new(cluster: &str, unit: &str, file: &str) -> Location {
        Location { cluster: cluster.to_string(), unit: unit.to_string(), file: file.to_string() }
    }

    /// An [`Error::Invalid`] at this location.
    pub fn invalid(&self, message: impl Into<String>) -> Error {
        Error::Invalid { at: self.clone(), message: message.into() }
    }

    /// The same cluster and unit, another file.
    pub fn with_file(&self, file: &str) -> Location {
        Location { file: file.to_string(), ..self.clone() }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cluster {}, unit {}, file {}", self.cluster, self.unit, self.file)
    }
}

/// A repository render that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `kiln.yaml` is not usable.
    #[error("kiln.yaml: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// The layout's top directory is missing.
    #[error("layout {layout}: no {dir}/ directory at the repository root")]
    MissingRoot {
        /// The layout.
        layout: Layout,
        /// The directory it needs.
        dir: String,
    },
    /// The layout's directories hold nothing it can render.
    #[error("layout {layout}: {message}")]
    Empty {
        /// The layout.
        layout: Layout,
        /// What was expected and what was found.
        message: String,
    },
    /// The repository content is not what the layout expects.
    #[error("{at}: {message}")]
    Invalid {
        /// Where.
        at: Location,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A file could not be read.
    #[error("{at}")]
    Read {
        /// Where.
        at: Location,
        /// Why.
        #[source]
        source: Box<tree::Error>,
    },
    /// A file is not valid YAML.
    #[error("{at}")]
    Yaml {
        /// Where.
        at: Location,
        /// Why.
        #[source]
        source: Box<yaml::ParseError>,
    },
    /// A kustomize build failed.
    #[error("{at}")]
    Build {
        /// Where (the file is the Flux object or directory being built).
        at: Location,
        /// Why.
        #[source]
        source: Box<kustomize::Error>,
    },
    /// A template could not be rendered.
    #[error("{at}: template error: {message}")]
    Template {
        /// Where (the template file).
        at: Location,
        /// What went wrong; never holds variable values.
        message: String,
    },
    /// Several units (or clusters) failed; each is reported with its causes.
    #[error("{} errors:{}", .0.len(), .0.iter().map(|e| format!("\n- {}", chain(e as &dyn std::error::Error))).collect::<String>())]
    Many(Vec<Error>),
    /// `dependsOn` forms a cycle.
    #[error("{at}: dependsOn cycle: {cycle}")]
    Cycle {
        /// The first unit on the cycle.
        at: Location,
        /// The units on the cycle, `a -> b -> a`.
        cycle: String,
    },
}

/// An error and its sources, joined as `anyhow` prints them with `{:#}`.
/// An error and every error below it, `: `-separated, for messages that
/// carry another layer's error as text.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl Error {
    /// One error from `errors`: itself when there is one, [`Error::Many`]
    /// (nested lists flattened) when there are more, `None` when empty.
    pub fn many(errors: Vec<Error>) -> Option<Error> {
        let mut flat: Vec<Error> = Vec::new();
        for e in errors {
            match e {
                Error::Many(inner) => flat.extend(inner),
                e => flat.push(e),
            }
        }
        match flat.len() {
            0 => None,
            1 => flat.pop(),
            _ => Some(Error::Many(flat)),
        }
    }

    /// Wraps a tree error at `at`.
    pub fn read(at: &Location, source: tree::Error) -> Error {
        Error::Read { at: at.clone(), source: Box::new(source) }
    }

    /// Wraps a YAML error at `at`.
    pub fn yaml(at: &Location, source: yaml::ParseError) -> Error {
        Error::Yaml { at: at.clone(), source: Box::new(source) }
    }

    /// Wraps a kustomize error at `at`.
    pub fn build(at: &Location, source: kustomize::Error) -> Error {
        Error::Build { at: at.clone(), source: Box::new(source) }
    }
}

/// One unit and what it rendered to.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The unit's name, unique in its cluster; also its output directory.
    pub name: String,
    /// The namespace of the object that defines the unit (Flux
    /// Kustomizations, Helm releases), or the namespace a folder stands for.
    pub namespace: String,
    /// The directory or file rendered, relative to the repository root.
    pub path: String,
    /// Units of the same cluster that must be applied first.
    pub depends_on: Vec<String>,
    /// The file that defines the unit.
    pub source_file: String,
    /// The unit that rendered this unit's defining object (recursive Flux
    /// Kustomizations), if any.
    pub parent: Option<String>,
    /// The object that defines the unit (a Flux Kustomization), if any.
    pub object: Option<Value>,
    /// The rendered objects, in apply order.
    pub objects: Vec<Resource>,
}

impl Unit {
    /// A unit with no objects yet.
    pub fn new(name: &str, path: &str, source_file: &str) -> Unit {
        Unit {
            name: name.to_string(),
            namespace: String::new(),
            path: path.to_string(),
            depends_on: Vec::new(),
            source_file: source_file.to_string(),
            parent: None,
            object: None,
            objects: Vec::new(),
        }
    }
}

/// One cluster (or environment) and its units in apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The cluster's name (directory under `clusters/`, `namespaces/` or
    /// `releases/`, or the environment's name).
    pub name: String,
    /// Units, dependencies first.
    pub units: Vec<Unit>,
    /// What was deliberately left out, with why (skip markers, files that are
    /// not manifests, sources outside this repository).
    pub skipped: Vec<String>,
}

impl Cluster {
    /// A cluster with no units yet.
    pub fn new(name: &str) -> Cluster {
        Cluster { name: name.to_string(), units: Vec::new(), skipped: Vec::new() }
    }
}

/// Whether a file name is a YAML manifest by its extension.
pub fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// The names of the subdirectories of `dir` (a layout's clusters or
/// environments), sorted.
pub fn subdirs(tree: &dyn Tree, dir: &str) -> Result<Vec<String>, Error> {
    let at = Location::new("", "", dir);
    Ok(tree
        .list(dir)
        .map_err(|e| Error::read(&at, e))?
        .into_iter()
        .filter(|(_, k)| *k == EntryKind::Dir)
        .map(|(n, _)| n)
        .collect())
}

/// Every YAML file below `dir`, recursively, sorted by path, the way
/// fluxd (Flux v1) loads manifests: a directory that looks like a Helm
/// chart (`Chart.yaml` and `values.yaml` in it) is passed over whole.
pub fn yaml_files(tree: &dyn Tree, dir: &str) -> Result<Vec<String>, tree::Error> {
    let mut out = Vec::new();
    for (name, kind) in tree.list(dir)? {
        let path = tree::join(dir, &name)?;
        let in_dir = |file: &str| tree::join(&path, file).is_ok_and(|f| tree.kind(&f).is_some());
        match kind {
            // Symbolic links to directories are not followed (one to a
            // directory above would loop).
            EntryKind::Dir if tree::through_link(tree, &path) => {}
            EntryKind::Dir if in_dir("Chart.yaml") && in_dir("values.yaml") => {}
            EntryKind::Dir => out.extend(yaml_files(tree, &path)?),
            EntryKind::File if is_yaml(&name) => out.push(path),
            EntryKind::File => {}
        }
    }
    Ok(out)
}

/// Whether `kubectl apply -f <dir>` reads a file of the directory by its
/// name: `.json`, `.yaml` or `.yml`.
pub fn is_kubectl_manifest(name: &str) -> bool {
    is_yaml(name) || name.ends_with(".json")
}

/// How an applier tells a list of objects from an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    /// kubectl (`kubectl apply -f`): apimachinery's unstructured decoder
    /// reads any document with an `items` field (even `null`) as a list,
    /// whatever its kind; an item without `kind` and `apiVersion` takes the
    /// list's `apiVersion` and its kind without the `List` suffix; an item
    /// that is itself a list (`items` a sequence) fails the builder, while
    /// an item whose `items` is anything else is an object like any other
    /// (probed with `kubectl label --local -f`, which reads files as
    /// `apply -f` does).
    Kubectl,
    /// fluxd (Flux v1): a kind ending in `List` with an `items` list.
    Fluxd,
}

/// The objects of a document as the applier `lists` applies them: the
/// items of a list, else the document itself. A kubectl list whose
/// `items` is neither a list nor null is refused, as kubectl fails to
/// decode it.
pub fn list_items(doc: Value, lists: Lists) -> Result<Vec<Value>, String> {
    match lists {
        Lists::Fluxd => {
            let (_, kind) = api_kind(&doc);
            if !kind.ends_with("List") || !matches!(doc.get_path(&["items"]), Some(Value::Seq(_))) {
                return Ok(vec![doc]);
            }
            Ok(match doc {
                Value::Map(mut m) => match m.shift_remove("items") {
                    Some(Value::Seq(items)) => items,
                    _ => Vec::new(),
                },
                other => vec![other],
            })
        }
        Lists::Kubectl => {
            let Value::Map(mut map) = doc else { return Ok(vec![doc]) };
            let items = match map.shift_remove("items") {
                None => return Ok(vec![Value::Map(map)]),
                Some(Value::Null) => Vec::new(),
                Some(Value::Seq(items)) => items,
                Some(other) => {
                    return Err(format!(
                        "items: expected a list, got {}: kubectl reads a document with items as a list of objects",
                        yaml::to_string(&other).trim_end()
                    ));
                }
            };
            let doc = Value::Map(map);
            let (api, kind) = api_kind(&doc);
            let item_kind = kind.strip_suffix("List").unwrap_or(kind);
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let mut m = match item {
                    Value::Map(m) => m,
                    Value::Null => crate::value::Map::new(),
                    other => {
                        return Err(format!(
                            "items[{i}]: expected an object, got {}",
                            yaml::to_string(&other).trim_end()
                        ));
                    }
                };
                if matches!(m.get("items"), Some(Value::Seq(_))) {
                    return Err(format!(
                        "items[{i}]: a list inside a list, which kubectl refuses (it is not a list: no Items field in this object)"
                    ));
                }
                let named =
                    |k: &str| m.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
                if !named("kind") && !named("apiVersion") {
                    m.insert("apiVersion".into(), Value::from(api));
                    m.insert("kind".into(), Value::from(item_kind));
                }
                out.push(Value::Map(m));
            }
            Ok(out)
        }
    }
}

/// Reads and parses the YAML documents of `file`, with errors at `at`.
pub fn read_documents(tree: &dyn Tree, at: &Location, file: &str) -> Result<Vec<Value>, Error> {
    read_documents_as(tree, at, file, yaml::parse_documents)
}

/// Reads the documents of `file` as `kubectl apply -f` reads a manifest
/// (apimachinery's YAML-or-JSON decoder: `sigs.k8s.io/yaml` over yaml.v2,
/// and Go's JSON decoder for JSON): YAML 1.1 (`on`, `y`, `off` are
/// booleans, `0644` is octal, a key that is not a string becomes its
/// string form) and a repeated key replaces the earlier one, in YAML and
/// in JSON alike. Errors at `at`.
pub fn read_kubectl_documents(
    tree: &dyn Tree,
    at: &Location,
    file: &str,
) -> Result<Vec<Value>, Error> {
    read_documents_as(tree, at, file, parse_kubectl_documents)
}

/// The documents of a manifest as kubectl's YAML-or-JSON decoder reads
/// them: a stream whose first character is `{` is JSON, any number of
/// objects one after another (`{...}{...}`); anything else is YAML
/// documents. Each is read through `sigs.k8s.io/yaml` (JSON is YAML to it).
fn parse_kubectl_documents(text: &str, file: &str) -> Result<Vec<Value>, yaml::ParseError> {
    let Some(pieces) = json_stream(text) else {
        return yaml::parse_documents_helm(text, file);
    };
    let mut out = Vec::new();
    for (start, end) in pieces {
        // Lines before the piece keep the error lines of the file.
        let line = text[..start].matches('\n').count();
        let piece = format!("{}{}", "\n".repeat(line), &text[start..end]);
        out.extend(yaml::parse_documents_helm(&piece, file)?);
    }
    Ok(out)
}

/// The byte ranges of the JSON values of a stream of two or more JSON
/// objects, or `None` when `text` is not such a stream (one object, or
/// text that is not JSON after the first value, is left to the YAML reader).
fn json_stream(text: &str) -> Option<Vec<(usize, usize)>> {
    let mut pieces = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut start = None;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if depth > 0 => in_string = true,
            '{' | '[' if depth > 0 => depth += 1,
            '{' => {
                depth = 1;
                start = Some(i);
            }
            '}' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    pieces.push((start?, i + 1));
                }
            }
            c if depth == 0 && !c.is_whitespace() => return None,
            _ => {}
        }
    }
    (depth == 0 && pieces.len() > 1).then_some(pieces)
}

fn read_documents_as(
    tree: &dyn Tree,
    at: &Location,
    file: &str,
    parse: fn(&str, &str) -> Result<Vec<Value>, yaml::ParseError>,
) -> Result<Vec<Value>, Error> {
    let at = at.with_file(file);
    let text = tree::read_text(tree, file).map_err(|e| Error::read(&at, e))?;
    parse(&text, file).map_err(|e| Error::yaml(&at, e))
}

/// Whether `doc` is a Kubernetes object: a map with `apiVersion` and `kind`.
pub fn is_object(doc: &Value) -> bool {
    doc.get_path(&["apiVersion"]).and_then(Value::as_str).is_some()
        && doc.get_path(&["kind"]).and_then(Value::as_str).is_some()
}

/// The `metadata` fields of an object that the API server decodes into
/// `ObjectMeta`'s Go types, with the type each must have.
const OBJECT_META: &[(&str, &str)] = &[
    ("name", "string"),
    ("generateName", "string"),
    ("namespace", "string"),
    ("labels", "map[string]string"),
    ("annotations", "map[string]string"),
];

/// Whether an object's `metadata` decodes into `ObjectMeta`, as it must
/// before `kubectl apply` can create it: the API server decodes the object
/// with Go's `encoding/json`, which refuses a label `true` or an annotation
/// `1` (a string is wanted; `null` is allowed anywhere). The error names
/// the object and gives Go's words, as the server and `kubectl label
/// --local -f` print them.
pub fn check_object_meta(doc: &Value) -> Result<(), String> {
    let refused = |found: &Value, field: &str, ty: &str| {
        let (_, kind) = api_kind(doc);
        Err(format!(
            "{kind} {:?}: kubectl apply is refused: json: cannot unmarshal {} into Go struct field ObjectMeta.metadata.{field} of type {ty}",
            str_at(doc, &["metadata", "name"]),
            kustomize::kustomization::json_kind(found)
        ))
    };
    let Some(Value::Map(meta)) = doc.get_path(&["metadata"]) else { return Ok(()) };
    for &(field, ty) in OBJECT_META {
        let is_map = ty != "string";
        match meta.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(_)) if !is_map => {}
            Some(Value::Map(entries)) if is_map => {
                let wrong = entries.values().find(|v| !matches!(v, Value::Null | Value::String(_)));
                if let Some(v) = wrong {
                    return refused(v, field, "string");
                }
            }
            Some(v) => return refused(v, field, ty),
        }
    }
    Ok(())
}

/// An object as client-side `kubectl apply` creates it (probed with
/// `kubectl apply --dry-run=client -o yaml`, see
/// `tests/kubectl-apply-view.py`), less the last-applied annotation kubectl
/// adds for itself:
/// - annotations with a `null` value are all lost: kubectl reads the
///   annotations as a map of strings, finds none when one value is not a
///   string, and writes back only its own;
/// - then every mapping entry whose value is `null` is removed, at any
///   depth (inside list items too), while `null` list items stay: kubectl
///   prunes them before it creates an object, so that the object equals what
///   applying the file to an existing object leaves, where the patch reads a
///   `null` as "delete this field". `kubectl create` and `kubectl kustomize`
///   keep them.
pub fn as_kubectl_applies(object: &mut Value) {
    if let Some(Value::Map(md)) = object.get_path_mut(&["metadata"]) {
        let has_null = |a: &Value| a.as_map().is_some_and(|m| m.values().any(Value::is_null));
        if md.get("annotations").is_some_and(has_null) {
            md.shift_remove("annotations");
        }
    }
    prune_nulls(object);
}

fn prune_nulls(v: &mut Value) {
    crate::stack::grow(|| match v {
        Value::Map(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        Value::Seq(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
    })
}

/// `apiVersion` and `kind` of a document.
pub fn api_kind(doc: &Value) -> (&str, &str) {
    (
        doc.get_path(&["apiVersion"]).and_then(Value::as_str).unwrap_or(""),
        doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or(""),
    )
}

/// A string field of a document, `""` when missing.
pub fn str_at<'a>(doc: &'a Value, path: &[&str]) -> &'a str {
    doc.get_path(path).and_then(Value::as_str).unwrap_or("")
}

/// Orders `units` so that each comes after what it depends on (and after
/// its parent); ties keep their given order. A cycle is an error naming the
/// units on it.
pub fn order_units(cluster: &str, units: Vec<Unit>) -> Result<Vec<Unit>, Error> {
    let names: Vec<String> = units.iter().map(|u| u.name.clone()).collect();
    let deps = |u: &Unit| -> Vec<String> {
        u.depends_on.iter().chain(u.parent.iter()).filter(|d| names.contains(d)).cloned().collect()
    };
    let mut done: Vec<String> = Vec::new();
    let mut pending = units;
    let mut out = Vec::new();
    while !pending.is_empty() {
        let Some(i) = pending.iter().position(|u| deps(u).iter().all(|d| done.contains(d))) else {
            return Err(cycle_error(cluster, &pending, &deps));
        };
        let u = pending.remove(i);
        done.push(u.name.clone());
        out.push(u);
    }
    Ok(out)
}

/// Finds one cycle among `pending` (each of which waits on another pending
/// unit) and names it.
fn cycle_error(cluster: &str, pending: &[Unit], deps: &dyn Fn(&Unit) -> Vec<String>) -> Error {
    let by_name = |n: &str| pending.iter().find(|u| u.name == n);
    let mut path: Vec<&Unit> = vec![&pending[0]];
    loop {
        let last = path[path.len() - 1];
        let next = deps(last).into_iter().find_map(|d| by_name(&d));
        let Some(next) = next else { break };
        if let Some(start) = path.iter().position(|u| u.name == next.name) {
            let mut names: Vec<&str> = path[start..].iter().map(|u| u.name.as_str()).collect();
            names.push(&next.name);
            let first = path[start];
            return Error::Cycle {
                at: Location::new(cluster, &first.name, &first.source_file),
                cycle: names.join(" -> "),
            };
        }
        path.push(next);
    }
    let first = &pending[0];
    Error::Cycle {
        at: Location::new(cluster, &first.name, &first.source_file),
        cycle: first.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kubectl's decoder takes any document with `items` for a list
    /// (apimachinery `unstructuredJSONScheme.decode`), whatever its kind,
    /// and gives an item without kind and apiVersion the list's; a list in
    /// a list fails (cli-runtime `FlattenListVisitor`); each case as
    /// `kubectl label --local -f FILE x=y -o yaml` answers. fluxd flattens
    /// only kinds ending in `List`.
    #[test]
    fn lists_as_kubectl_and_fluxd_flatten_them() {
        let names = |text: &str, lists: Lists| -> Result<Vec<String>, String> {
            let doc = yaml::parse_documents(text, "t.yaml").unwrap().remove(0);
            Ok(list_items(doc, lists)?
                .iter()
                .map(|d| {
                    let (api, kind) = api_kind(d);
                    format!("{api} {kind} {}", str_at(d, &["metadata", "name"]))
                })
                .collect())
        };
        let foo = "apiVersion: x/v1\nkind: Foo\nmetadata: {name: f}\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n";
        assert_eq!(names(foo, Lists::Kubectl).unwrap(), ["v1 ConfigMap a"]);
        assert_eq!(names(foo, Lists::Fluxd).unwrap(), ["x/v1 Foo f"]);
        let typed = "apiVersion: v1\nkind: ConfigMapList\nitems:\n- {metadata: {name: a}}\n- {kind: Service, metadata: {name: c}}\n- {apiVersion: v1, kind: Secret, metadata: {name: s}, items: {}}\n";
        assert_eq!(
            names(typed, Lists::Kubectl).unwrap(),
            ["v1 ConfigMap a", " Service c", "v1 Secret s"]
        );
        assert_eq!(names(typed, Lists::Fluxd).unwrap(), ["  a", " Service c", "v1 Secret s"]);
        let foo_items = "apiVersion: x/v1\nkind: Foo\nitems:\n- {metadata: {name: c}}\n";
        assert_eq!(names(foo_items, Lists::Kubectl).unwrap(), ["x/v1 Foo c"]);
        let nested = "kind: List\nitems:\n- {apiVersion: v1, kind: List, items: []}\n";
        let err = names(nested, Lists::Kubectl).unwrap_err();
        assert!(err.contains("items[0]: a list inside a list"), "{err}");
        for empty in ["kind: Foo\nitems:\n", "kind: Foo\nitems: []\n", "items: null\n"] {
            assert_eq!(names(empty, Lists::Kubectl).unwrap(), Vec::<String>::new(), "{empty}");
        }
        let err = names("kind: Foo\nitems: 3\n", Lists::Kubectl).unwrap_err();
        assert!(err.contains("items: expected a list, got 3"), "{err}");
        let err = names("kind: List\nitems: [x]\n", Lists::Kubectl).unwrap_err();
        assert!(err.contains("items[0]: expected an object, got x"), "{err}");
        assert_eq!(names("kind: Foo\nitems: 3\n", Lists::Fluxd).unwrap(), [" Foo "]);
    }

    fn unit(name: &str, deps: &[&str]) -> Unit {
        let mut u = Unit::new(name, name, &format!("{name}.yaml"));
        u.depends_on = deps.iter().map(|d| d.to_string()).collect();
        u
    }

    #[test]
    fn orders_units_by_dependencies() {
        type Units = &'static [(&'static str, &'static [&'static str])];
        let cases: &[(Units, Result<&[&str], &str>)] = &[
            (&[("a", &[]), ("b", &[])], Ok(&["a", "b"])),
            (
                &[("apps", &["infra"]), ("infra", &["ns"]), ("ns", &[])],
                Ok(&["ns", "infra", "apps"]),
            ),
            (&[("a", &["b"]), ("b", &["a"])], Err("a -> b -> a")),
            (&[("x", &[]), ("a", &["b"]), ("b", &["c"]), ("c", &["b"])], Err("b -> c -> b")),
            (&[("a", &["a"])], Err("a -> a")),
        ];
        for (units, want) in cases {
            let units = units.iter().map(|(n, d)| unit(n, d)).collect();
            match (order_units("c", units), want) {
                (Ok(got), Ok(want)) => {
                    let got: Vec<&str> = got.iter().map(|u| u.name.as_str()).collect();
                    assert_eq!(&got, want);
                }
                (Err(Error::Cycle { cycle, at }), Err(want)) => {
                    assert_eq!(&cycle, want);
                    assert_eq!(at.cluster, "c");
                    assert!(at.file.ends_with(".yaml"));
                }
                (got, want) => panic!("got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn detects_layouts_by_top_directories() {
        let cases: &[(&[&str], Layout)] = &[
            (&["clusters/prod/a.yaml", "apps/x.yaml"], Layout::FluxV2),
            (&["releases/staging/a.yaml", "charts/a/Chart.yaml"], Layout::FluxV1),
            (&["namespaces/live/ns/a.yaml"], Layout::Namespaces),
            (&["environments/dev.yaml", "manifests/a.yaml.j2"], Layout::Environments),
            (&["deploy.yaml"], Layout::Plain),
            (&["environments/dev.tfvars", "terraform/main.tf"], Layout::Terraform),
            (&["environments/dev.tfvars", "manifests/a.yaml.j2"], Layout::Environments),
            (
                &["namespaces/live/ns/a.yaml", "environments/a.tfvars", "main.tf"],
                Layout::Namespaces,
            ),
            (
                &["k8s/production/flux-system/gotk-sync.yaml", "k8s/production/a.yaml"],
                Layout::FluxV2,
            ),
            (&["flux-system/gotk-sync.yaml", "apps/a.yaml"], Layout::FluxV2),
            (&["a/b/c/d/e/flux-system/gotk-sync.yaml"], Layout::Plain),
            (&["releases/staging/a.yaml"], Layout::Plain),
        ];
        for (files, want) in cases {
            let mut t = tree::MemTree::new();
            for f in *files {
                t.insert(f, if f.ends_with(".tf") { READS_TEMPLATE } else { "x: 1\n" });
            }
            assert_eq!(detect(&t), *want, "{files:?}");
        }
    }

    /// A module file that templates a manifest.
    const READS_TEMPLATE: &str =
        "data \"template_file\" \"a\" {\n  template = file(\"${path.module}/a.yml\")\n}\n";

    /// A Terraform root module that reads no template or file templates no
    /// manifest: the repository is not the terraform layout (`environments/`
    /// then makes it minijinja's, which fails naming the missing YAML
    /// environments), and a template read by a local module below the root
    /// still counts.
    #[test]
    fn a_terraform_root_reading_no_template_is_not_the_terraform_layout() {
        let cases: &[(&[(&str, &str)], Layout)] = &[
            (
                &[
                    ("environments/dev.tfvars", "region = \"eu\"\n"),
                    ("terraform/main.tf", "variable \"region\" {}\n"),
                    ("apps/base/kustomization.yaml", "resources: [cm.yaml]\n"),
                ],
                Layout::Environments,
            ),
            (
                &[
                    ("environments/dev.tfvars", "region = \"eu\"\n"),
                    ("terraform/main.tf", "module \"m\" { source = \"./modules/m\" }\n"),
                    ("terraform/modules/m/manifests.tf", READS_TEMPLATE),
                ],
                Layout::Terraform,
            ),
            (
                &[
                    ("environments/dev.tfvars", "region = \"eu\"\n"),
                    ("terraform/main.tf", "variable \"region\" {}\n"),
                    ("terraform/.terraform/modules/m/main.tf", READS_TEMPLATE),
                ],
                Layout::Environments,
            ),
        ];
        for (files, want) in cases {
            let mut t = tree::MemTree::new();
            for (path, text) in *files {
                t.insert(path, *text);
            }
            assert_eq!(detect(&t), *want, "{files:?}");
        }
    }
}
