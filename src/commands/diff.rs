//! `kiln diff`: what a change does to the rendered output, object by object.

use anyhow::{Context, Result};
use kiln::daemon::{repo, tree::GitTree};
use renderer::output::{self, Provenance};
use renderer::tree::Tree;
use renderer::{DirTree, Options, Value, yaml};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Render two refs of a git repository (or a ref and the work tree) and
/// print the difference per object: added, removed, and changed objects
/// with a unified diff of each change. Secret values are masked. Exit code
/// 1 when the renders differ.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The base: a branch, tag, `HEAD`, a full ref name or a 40-hex commit id.
    pub base: String,
    /// What to compare with (same forms); default: the work tree.
    pub head: Option<String>,
    /// The repository; default: the current directory.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub scope: super::RenderScope,
    /// `text` or `json`.
    #[arg(long, default_value = "text")]
    pub output: String,
}

/// How one object changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only in the new render.
    Added,
    /// Only in the base render.
    Removed,
    /// In both, different; the unified diff (Secret values masked).
    Changed(String),
}

/// One changed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    /// Its file in the output tree (`<cluster>/<unit>/...`).
    pub path: String,
    /// `apiVersion`, `kind`, namespace and name.
    pub id: [String; 4],
    /// What happened to it.
    pub change: Change,
}

/// Reads a ref into a commit id: `HEAD`, a 40-hex id, a full ref name, or a
/// branch, tag or remote-tracking branch by short name.
fn resolve(repo: &gix::Repository, rev: &str) -> Result<gix::ObjectId> {
    if rev == "HEAD" {
        return Ok(repo.head_id().context("reading HEAD")?.detach());
    }
    if rev.len() == 40 {
        if let Ok(id) = gix::ObjectId::from_hex(rev.as_bytes()) {
            return Ok(id);
        }
    }
    for name in [
        rev.to_string(),
        format!("refs/heads/{rev}"),
        format!("refs/tags/{rev}"),
        format!("refs/remotes/{rev}"),
    ] {
        if let Ok(Some(mut r)) = repo.try_find_reference(name.as_str()) {
            return Ok(r.peel_to_id().with_context(|| format!("resolving {name}"))?.detach());
        }
    }
    anyhow::bail!("{rev}: no such branch, tag or commit (short commit ids are not supported)")
}

/// Renders a tree into output files, without the index (which records the source).
pub fn rendered_files(tree: &dyn Tree, options: &Options) -> Result<BTreeMap<String, Vec<u8>>> {
    let rendered = renderer::render(tree, options)?;
    let mut files = output::files(&rendered, &Provenance::default());
    files.remove(output::INDEX_FILE);
    Ok(files)
}

fn parse(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    yaml::parse_documents(&text, "rendered").ok().and_then(|mut d| d.pop()).unwrap_or(Value::Null)
}

fn id(v: &Value) -> [String; 4] {
    let s = |p: &[&str]| v.get_path(p).and_then(Value::as_str).unwrap_or("").to_string();
    [s(&["apiVersion"]), s(&["kind"]), s(&["metadata", "namespace"]), s(&["metadata", "name"])]
}

fn is_secret(v: &Value) -> bool {
    let [api, kind, ..] = id(v);
    api == "v1" && kind == "Secret"
}

/// A Secret's `data` and `stringData` values replaced by `***`; on the new
/// side (`mark_changes`) a value that differs from `other`'s is
/// `*** (changed)`, so a diff shows which keys changed and never a value.
fn mask_secret(v: &Value, other: &Value, mark_changes: bool) -> Value {
    let mut masked = v.clone();
    for field in ["data", "stringData"] {
        if let Some(Value::Map(m)) = masked.get_path_mut(&[field]) {
            for (k, val) in m.iter_mut() {
                let changed = mark_changes && other.get_path(&[field, k]).is_some_and(|o| o != val);
                *val = Value::String(if changed { "*** (changed)" } else { "***" }.into());
            }
        }
    }
    masked
}

/// The per-object difference of two output trees.
pub fn diff_files(
    base: &BTreeMap<String, Vec<u8>>,
    head: &BTreeMap<String, Vec<u8>>,
) -> Vec<ObjectChange> {
    let mut out = Vec::new();
    for (path, old) in base {
        match head.get(path) {
            None => out.push(ObjectChange {
                path: path.clone(),
                id: id(&parse(old)),
                change: Change::Removed,
            }),
            Some(new) if new != old => {
                let (a, b) = (parse(old), parse(new));
                let (ta, tb) = if is_secret(&a) || is_secret(&b) {
                    (
                        yaml::to_string(&mask_secret(&a, &b, false)),
                        yaml::to_string(&mask_secret(&b, &a, true)),
                    )
                } else {
                    (
                        String::from_utf8_lossy(old).into_owned(),
                        String::from_utf8_lossy(new).into_owned(),
                    )
                };
                let diff = similar::TextDiff::from_lines(&ta, &tb)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{path}"), &format!("b/{path}"))
                    .to_string();
                out.push(ObjectChange {
                    path: path.clone(),
                    id: id(&b),
                    change: Change::Changed(diff),
                });
            }
            Some(_) => {}
        }
    }
    for (path, new) in head {
        if !base.contains_key(path) {
            out.push(ObjectChange {
                path: path.clone(),
                id: id(&parse(new)),
                change: Change::Added,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn describe(c: &ObjectChange) -> String {
    let [api, kind, ns, name] = &c.id;
    let ns = if ns.is_empty() { String::new() } else { format!("{ns}/") };
    let mut parts = c.path.splitn(3, '/');
    let (cluster, unit) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    format!("{cluster}/{unit}: {api} {kind} {ns}{name}")
}

/// The text report.
pub fn text_report(changes: &[ObjectChange]) -> String {
    let mut out = String::new();
    for (label, want) in [("added", 0), ("removed", 1), ("changed", 2)] {
        for c in changes {
            let kind = match &c.change {
                Change::Added => 0,
                Change::Removed => 1,
                Change::Changed(_) => 2,
            };
            if kind == want {
                out.push_str(&format!("{label}: {}\n", describe(c)));
                if let Change::Changed(d) = &c.change {
                    out.push_str(d);
                }
            }
        }
    }
    let count = |k: fn(&Change) -> bool| changes.iter().filter(|c| k(&c.change)).count();
    out.push_str(&format!(
        "{} added, {} removed, {} changed\n",
        count(|c| matches!(c, Change::Added)),
        count(|c| matches!(c, Change::Removed)),
        count(|c| matches!(c, Change::Changed(_)))
    ));
    out
}

/// The JSON report: `{"added": [...], "removed": [...], "changed": [...]}`.
pub fn json_report(changes: &[ObjectChange]) -> serde_json::Value {
    let entry = |c: &ObjectChange| {
        let [api, kind, ns, name] = &c.id;
        let mut parts = c.path.splitn(3, '/');
        let mut m = serde_json::json!({
            "cluster": parts.next().unwrap_or(""),
            "unit": parts.next().unwrap_or(""),
            "apiVersion": api, "kind": kind, "namespace": ns, "name": name, "path": c.path,
        });
        if let Change::Changed(d) = &c.change {
            m["diff"] = serde_json::Value::String(d.clone());
        }
        m
    };
    let pick = |k: fn(&Change) -> bool| -> Vec<serde_json::Value> {
        changes.iter().filter(|c| k(&c.change)).map(entry).collect()
    };
    serde_json::json!({
        "added": pick(|c| matches!(c, Change::Added)),
        "removed": pick(|c| matches!(c, Change::Removed)),
        "changed": pick(|c| matches!(c, Change::Changed(_))),
    })
}

/// Runs `kiln diff`; returns whether the renders differ.
pub fn cmd_diff(args: &DiffArgs) -> Result<bool> {
    if args.output != "text" && args.output != "json" {
        anyhow::bail!("--output {:?}: expected text or json", args.output);
    }
    let git = repo::open(&args.repo)?;
    let mut options = args.scope.options();
    options.revisions =
        Some(std::sync::Arc::new(kiln::daemon::revisions::GitRevisions::new(&git, &[])));
    let render_rev = |rev: &str| -> Result<BTreeMap<String, Vec<u8>>> {
        let commit = resolve(&git, rev)?;
        let tree = GitTree::at_commit(&git, commit)?;
        rendered_files(&tree, &options).with_context(|| format!("rendering {rev} ({commit})"))
    };
    let base = render_rev(&args.base)?;
    let head = match &args.head {
        Some(rev) => render_rev(rev)?,
        None => {
            let dir =
                git.workdir().context("the repository has no work tree: name a second ref")?;
            let tree = DirTree::new(dir).with_context(|| format!("opening {}", dir.display()))?;
            rendered_files(&tree, &options).context("rendering the work tree")?
        }
    };
    let changes = diff_files(&base, &head);
    if args.output == "json" {
        println!("{}", serde_json::to_string_pretty(&json_report(&changes))?);
    } else {
        print!("{}", text_report(&changes));
    }
    Ok(!changes.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect()
    }

    const CM: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: a\ndata:\n  k: v\n";
    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: a\ndata:\n  password: aHVudGVyMg==\n  user: YWRh\n";

    #[test]
    fn reports_objects_added_removed_and_changed() {
        let p = "c/u/a/core_v1_ConfigMap_cm.yaml";
        let s = "c/u/a/core_v1_Secret_s.yaml";
        let base = tree(&[(p, CM), (s, SECRET), ("c/u/a/gone.yaml", CM)]);
        let head = tree(&[
            (p, &CM.replace("k: v", "k: w")),
            (s, &SECRET.replace("aHVudGVyMg==", "c3dvcmRmaXNo")),
            ("c/v/a/new.yaml", CM),
        ]);
        let got = text_report(&diff_files(&base, &head));
        let want = "added: c/v: v1 ConfigMap a/cm\n\
removed: c/u: v1 ConfigMap a/cm\n\
changed: c/u: v1 ConfigMap a/cm\n\
--- a/c/u/a/core_v1_ConfigMap_cm.yaml\n+++ b/c/u/a/core_v1_ConfigMap_cm.yaml\n@@ -4,4 +4,4 @@\n   name: cm\n   namespace: a\n data:\n-  k: v\n+  k: w\n\
changed: c/u: v1 Secret a/s\n\
--- a/c/u/a/core_v1_Secret_s.yaml\n+++ b/c/u/a/core_v1_Secret_s.yaml\n@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  password: '***'\n+  password: '*** (changed)'\n   user: '***'\n kind: Secret\n metadata:\n\
1 added, 1 removed, 2 changed\n";
        assert_eq!(got, want);
        assert!(!got.contains("aHVudGVyMg") && !got.contains("c3dvcmRmaXNo"));
        assert_eq!(diff_files(&base, &base), []);
        let json = json_report(&diff_files(&base, &head));
        assert_eq!(json["added"][0]["unit"], "v");
        assert_eq!(json["changed"].as_array().unwrap().len(), 2);
        assert!(!json.to_string().contains("aHVudGVyMg"));
    }
}
