//! The output tree: one file per object, in a collision-safe layout, plus an index.

use crate::layout::flux::Cluster;
use crate::resource::Resource;
use crate::value::{Map, Value};
use crate::yaml;
use std::collections::BTreeMap;

/// The file name of the index written at the top of every output tree.
pub const INDEX_FILE: &str = "kiln-index.yaml";

/// The path of one object inside its unit's directory:
/// `<namespace or _cluster>/<group or core>_<version>_<kind>_<name>.yaml`.
pub fn object_path(r: &Resource) -> String {
    let gvk = r.gvk();
    let ns = if r.namespace().is_empty() { "_cluster" } else { r.namespace() };
    let group = if gvk.group.is_empty() { "core" } else { &gvk.group };
    format!("{ns}/{group}_{}_{}_{}.yaml", gvk.version, gvk.kind, r.name())
}

/// Extra facts recorded in the index.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// Source branch, if rendered from a branch.
    pub source_branch: Option<String>,
    /// Source commit, if rendered from a commit.
    pub source_commit: Option<String>,
}

/// Lays out rendered clusters as files:
/// `<cluster>/<unit>/<namespace or _cluster>/<group>_<version>_<kind>_<name>.yaml`
/// and an index listing every unit, its path, dependencies and files.
pub fn files(clusters: &[Cluster], provenance: &Provenance) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut index_clusters = Vec::new();
    for c in clusters {
        let mut units = Vec::new();
        for u in &c.units {
            let mut unit_files = Vec::new();
            for r in &u.objects {
                let rel = format!("{}/{}/{}", c.name, u.name, object_path(r));
                out.insert(rel.clone(), yaml::to_string(&r.value).into_bytes());
                unit_files.push(Value::String(rel));
            }
            let mut m = Map::new();
            m.insert("name".into(), u.name.clone().into());
            m.insert("path".into(), u.path.clone().into());
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
        m.insert("units".into(), Value::Seq(units));
        index_clusters.push(Value::Map(m));
    }
    let mut index = Map::new();
    index.insert("kilnVersion".into(), env!("CARGO_PKG_VERSION").into());
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

/// All objects of all clusters as one multi-document stream, each cluster
/// and unit introduced by a comment.
pub fn stream(clusters: &[Cluster]) -> String {
    let mut out = String::new();
    for c in clusters {
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
