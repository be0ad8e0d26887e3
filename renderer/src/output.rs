//! The output tree for the applier: one file per object under `<cluster>/<unit>/`, plus an index.
//!
//! The tree is complete: it is meant to replace the target directory as a
//! whole, so no file of an earlier render survives. Flux `Kustomization`
//! objects that kiln rendered are rewritten to point at their unit's rendered
//! directory, with what kiln already applied (target namespace, name affixes,
//! patches, images, components, common metadata, substitutions) removed and
//! `dependsOn` kept, so the applier applies in the same order.

use crate::Rendered;
use crate::layout::{Cluster, flux};
use crate::resource::Resource;
use crate::tree;
use crate::value::{Map, Value};
use crate::yaml;
use std::collections::{BTreeMap, BTreeSet};

/// The file name of the index written at the top of every output tree.
pub const INDEX_FILE: &str = "kiln-index.yaml";

/// Fields of a Flux Kustomization that kiln has already applied.
const APPLIED_FIELDS: [&str; 10] = [
    "targetNamespace",
    "namePrefix",
    "nameSuffix",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "images",
    "components",
    "commonMetadata",
    "postBuild",
];

fn safe(segment: &str) -> String {
    let s: String = segment
        .chars()
        .map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c })
        .collect();
    match s.as_str() {
        "" => "_".to_string(),
        "." | ".." => s.replace('.', "_"),
        _ => s,
    }
}

/// The path of one object inside its unit's directory:
/// `<namespace or _cluster>/<group or core>_<version>_<kind>_<name>.yaml`.
pub fn object_path(r: &Resource) -> String {
    let gvk = r.gvk();
    let ns = if r.namespace().is_empty() { "_cluster" } else { r.namespace() };
    let group = if gvk.group.is_empty() { "core" } else { &gvk.group };
    format!(
        "{}/{}",
        safe(ns),
        safe(&format!("{group}_{}_{}_{}.yaml", gvk.version, gvk.kind, r.name()))
    )
}

/// Facts recorded in the index.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// Source branch, if rendered from a branch.
    pub source_branch: Option<String>,
    /// Source commit, if rendered from a commit.
    pub source_commit: Option<String>,
    /// Where the output tree lives in the target branch (`""` for its root);
    /// rewritten Flux Kustomizations point below it.
    pub target_dir: String,
}

/// The rendered directory of a unit, as a Flux `spec.path`.
pub fn unit_dir(provenance: &Provenance, cluster: &str, unit: &str) -> String {
    let rel = format!("{}/{}", safe(cluster), safe(unit));
    match tree::join("", &provenance.target_dir) {
        Ok(dir) if !dir.is_empty() => format!("./{dir}/{rel}"),
        _ => format!("./{rel}"),
    }
}

/// A Flux Kustomization rewritten to apply its rendered directory.
fn rewrite_kustomization(value: &Value, path: String) -> Value {
    let mut v = value.clone();
    if let Some(Value::Map(spec)) = v.get_path_mut(&["spec"]) {
        for f in APPLIED_FIELDS {
            spec.shift_remove(f);
        }
        spec.insert("path".into(), Value::String(path));
    }
    v
}

/// The object as it goes to the applier.
fn output_value(c: &Cluster, r: &Resource, provenance: &Provenance) -> Value {
    if flux::is_flux_kustomization(&r.value) {
        if let Some(u) = c.units.iter().find(|u| {
            u.object.as_ref().is_some_and(|o| {
                crate::layout::str_at(o, &["metadata", "name"]) == r.name()
                    && crate::layout::str_at(o, &["metadata", "namespace"]) == r.namespace()
            })
        }) {
            return rewrite_kustomization(&r.value, unit_dir(provenance, &c.name, &u.name));
        }
    }
    r.value.clone()
}

/// Lays out a render as files:
/// `<cluster>/<unit>/<namespace or _cluster>/<group>_<version>_<kind>_<name>.yaml`
/// and [`INDEX_FILE`] listing the source, the kiln version, every cluster
/// with its complete namespace set, and every unit with its dependencies and files.
pub fn files(rendered: &Rendered, provenance: &Provenance) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut index_clusters = Vec::new();
    for c in &rendered.clusters {
        let mut units = Vec::new();
        let mut namespaces = BTreeSet::new();
        for u in &c.units {
            let mut unit_files = Vec::new();
            for r in &u.objects {
                let gvk = r.gvk();
                if gvk.group.is_empty() && gvk.kind == "Namespace" {
                    namespaces.insert(r.name().to_string());
                }
                let base = format!("{}/{}/{}", safe(&c.name), safe(&u.name), object_path(r));
                // Two objects with one identity in a unit (possible outside
                // kustomize) still get a file each.
                let mut rel = base.clone();
                let mut n = 2;
                while out.contains_key(&rel) {
                    rel = format!("{}_{n}.yaml", base.trim_end_matches(".yaml"));
                    n += 1;
                }
                out.insert(
                    rel.clone(),
                    yaml::to_string(&output_value(c, r, provenance)).into_bytes(),
                );
                unit_files.push(Value::String(rel));
            }
            let mut m = Map::new();
            m.insert("name".into(), u.name.clone().into());
            if !u.namespace.is_empty() {
                m.insert("namespace".into(), u.namespace.clone().into());
            }
            m.insert("source".into(), u.path.clone().into());
            m.insert("definedIn".into(), u.source_file.clone().into());
            m.insert("output".into(), unit_dir(provenance, &c.name, &u.name).into());
            m.insert(
                "dependsOn".into(),
                Value::Seq(u.depends_on.iter().map(|d| Value::String(d.clone())).collect()),
            );
            m.insert("objects".into(), Value::Int(u.objects.len() as i64));
            m.insert("files".into(), Value::Seq(unit_files));
            units.push(Value::Map(m));
        }
        let mut m = Map::new();
        m.insert("name".into(), c.name.clone().into());
        m.insert(
            "namespaces".into(),
            Value::Seq(namespaces.into_iter().map(Value::String).collect()),
        );
        if !c.skipped.is_empty() {
            m.insert(
                "skipped".into(),
                Value::Seq(c.skipped.iter().cloned().map(Value::String).collect()),
            );
        }
        m.insert("units".into(), Value::Seq(units));
        index_clusters.push(Value::Map(m));
    }
    let mut index = Map::new();
    index.insert("kilnVersion".into(), env!("CARGO_PKG_VERSION").into());
    index.insert("layout".into(), rendered.layout.name().into());
    if let Some(b) = &provenance.source_branch {
        index.insert("sourceBranch".into(), b.clone().into());
    }
    if let Some(c) = &provenance.source_commit {
        index.insert("sourceCommit".into(), c.clone().into());
    }
    index.insert("clusters".into(), Value::Seq(index_clusters));
    out.insert(INDEX_FILE.to_string(), yaml::to_string(&Value::Map(index)).into_bytes());
    out
}

/// All objects of all clusters as one multi-document stream, each object
/// introduced by a comment naming its cluster, unit and source file.
pub fn stream(rendered: &Rendered) -> String {
    let mut out = String::new();
    for c in &rendered.clusters {
        for u in &c.units {
            for r in &u.objects {
                if !out.is_empty() {
                    out.push_str("---\n");
                }
                out.push_str(&format!(
                    "# cluster: {}, unit: {}, source: {}\n",
                    c.name, u.name, r.source
                ));
                yaml::write_document(&mut out, &r.value);
            }
        }
    }
    out
}
