//! Directories of manifests: building them as Flux's kustomize-controller does, and reading plain YAML objects.

use super::sourceignore::{self, Artifact, Source};
use super::{Error, Location, is_object, is_yaml, read_documents};
use crate::kustomize::{self, kustomization::FILE_NAMES};
use crate::resource::Resource;
use crate::tree::{self, EntryKind, MemTree, Tree};
use crate::value::{Map, Value};
use crate::yaml;

/// The kustomization file in `dir`, if it has one.
pub fn kustomization_file(tree: &dyn Tree, dir: &str) -> Option<String> {
    FILE_NAMES
        .iter()
        .filter_map(|n| tree::join(dir, n).ok())
        .find(|p| tree.kind(p) == Some(EntryKind::File))
}

/// The kustomization Flux would build in `dir`: the directory's own, or one
/// generated the way Flux's generator does when there is none: every YAML
/// file below `dir` that the source artifact keeps (see [`Ignore`]), and
/// every subdirectory holding a kustomization as a base (without descending
/// into it). Every such YAML file must hold Kubernetes objects: Flux fails
/// on one that does not ("failed to decode Kubernetes YAML"), and so does
/// kiln, naming the file. Returns the file's path and its content.
pub fn kustomization_for(tree: &dyn Tree, dir: &str) -> Result<(String, Value), kustomize::Error> {
    match own_kustomization(tree, dir)? {
        Some(found) => Ok(found),
        None => generated_kustomization(&Artifact::new(tree, Source::read(tree, "")?), dir),
    }
}

/// [`kustomization_for`] in a source artifact.
pub fn kustomization_in(
    artifact: &Artifact<'_>,
    dir: &str,
) -> Result<(String, Value), kustomize::Error> {
    match own_kustomization(artifact, dir)? {
        Some(found) => Ok(found),
        None => generated_kustomization(artifact, dir),
    }
}

fn own_kustomization(
    tree: &dyn Tree,
    dir: &str,
) -> Result<Option<(String, Value)>, kustomize::Error> {
    let Some(file) = kustomization_file(tree, dir) else { return Ok(None) };
    let text = tree::read_text(tree, &file)?;
    let doc = yaml::parse_documents_yaml11(&text, &file)?.into_iter().next();
    Ok(Some((file, doc.filter(|d| d.as_map().is_some()).unwrap_or(Value::Map(Map::new())))))
}

/// The kustomization Flux generates for `dir` of `artifact`.
fn generated_kustomization(
    artifact: &Artifact<'_>,
    dir: &str,
) -> Result<(String, Value), kustomize::Error> {
    let mut resources = Vec::new();
    generated_resources(artifact, dir, dir, &mut resources)?;
    let mut k = Map::new();
    k.insert("apiVersion".into(), "kustomize.config.k8s.io/v1beta1".into());
    k.insert("kind".into(), "Kustomization".into());
    k.insert("resources".into(), Value::Seq(resources));
    Ok((tree::join(dir, "kustomization.yaml")?, Value::Map(k)))
}

/// Builds `dir` with `kustomization` (see [`kustomization_for`]) laid over
/// the file at `file`, with kustomize's `LoadRestrictionsNone` as Flux builds.
pub fn build_with(
    tree: &dyn Tree,
    dir: &str,
    file: &str,
    kustomization: &Value,
) -> Result<Vec<Resource>, kustomize::Error> {
    let mut top = MemTree::new();
    top.insert(file, yaml::to_string(kustomization));
    let overlay = Overlay { top: &top, base: tree };
    let options = kustomize::Options {
        load_restrictor: kustomize::LoadRestrictor::None,
        ..Default::default()
    };
    kustomize::build(&overlay, dir, &options)
}

/// Builds a directory as Flux's kustomize-controller does (see [`kustomization_for`]).
pub fn build_dir(tree: &dyn Tree, dir: &str) -> Result<Vec<Resource>, kustomize::Error> {
    let (file, k) = kustomization_for(tree, dir)?;
    build_with(tree, dir, &file, &k)
}

fn generated_resources(
    artifact: &Artifact<'_>,
    root: &str,
    dir: &str,
    resources: &mut Vec<Value>,
) -> Result<(), kustomize::Error> {
    let rel = |p: &str| p.strip_prefix(&format!("{root}/")).unwrap_or(p).to_string();
    let rel = |p: &str| if root.is_empty() { p.to_string() } else { rel(p) };
    for (name, kind) in artifact.list(dir)? {
        let path = tree::join(dir, &name)?;
        match kind {
            EntryKind::Dir if kustomization_file(artifact, &path).is_some() => {
                resources.push(Value::String(rel(&path)));
            }
            EntryKind::Dir => generated_resources(artifact, root, &path, resources)?,
            EntryKind::File if is_yaml(&name) => {
                check_manifests(artifact, &path)?;
                resources.push(Value::String(rel(&path)));
            }
            EntryKind::File => {}
        }
    }
    Ok(())
}

/// Checks that every document of `file` is a Kubernetes object the way
/// kustomize's resource factory does when Flux's generator reads it: empty
/// documents pass, others need a `kind` and, unless the kind is a `List`,
/// a `metadata.name`.
fn check_manifests(tree: &dyn Tree, file: &str) -> Result<(), kustomize::Error> {
    let text = tree::read_text(tree, file)?;
    for (i, doc) in yaml::parse_documents(&text, file)?.iter().enumerate() {
        let kind = doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("");
        let name = doc.get_path(&["metadata", "name"]).and_then(Value::as_str).unwrap_or("");
        let missing = match doc {
            Value::Null => continue,
            Value::Map(_) if kind.is_empty() => "has no kind",
            Value::Map(_) if name.is_empty() && !kind.ends_with("List") => "has no metadata.name",
            Value::Map(_) => continue,
            _ => "is not a mapping",
        };
        return Err(kustomize::Error::Invalid {
            file: file.to_string(),
            message: format!(
                "document {} {missing}: with no kustomization in the directory, Flux generates one listing every YAML file below spec.path, and each must be a Kubernetes manifest (leave others out with a {} file or add a kustomization.yaml)",
                i + 1,
                sourceignore::FILE
            ),
        });
    }
    Ok(())
}

/// The original tree with some files laid over it.
pub struct Overlay<'a> {
    /// The files that replace or add to `base`.
    pub top: &'a MemTree,
    /// The original tree.
    pub base: &'a dyn Tree,
}

impl Tree for Overlay<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, tree::Error> {
        match self.top.read(path) {
            Ok(bytes) => Ok(bytes),
            Err(_) => self.base.read(path),
        }
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        self.top.kind(path).or_else(|| self.base.kind(path))
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, tree::Error> {
        let mut entries = match (self.base.list(path), self.top.list(path)) {
            (Ok(b), Ok(t)) => b.into_iter().chain(t).collect(),
            (Ok(b), Err(_)) => b,
            (Err(_), Ok(t)) => t,
            (Err(e), Err(_)) => return Err(e),
        };
        entries.sort();
        entries.dedup_by(|a, b| a.0 == b.0);
        Ok(entries)
    }

    /// A file laid on top is where it is; anything else resolves in `base`
    /// (a directory of the top layer that `base` lacks stays where it is).
    fn real_path(&self, path: &str) -> Result<String, tree::Error> {
        match self.top.kind(path) {
            Some(EntryKind::File) => self.top.real_path(path),
            Some(EntryKind::Dir) => self.base.real_path(path).or_else(|_| self.top.real_path(path)),
            None => self.base.real_path(path),
        }
    }
}

/// The Kubernetes objects of the YAML files of `files`, in file order;
/// documents that are empty are skipped, anything else that is not an
/// object (no `apiVersion`/`kind`/`metadata.name`) is an error at its file.
pub fn read_objects(
    tree: &dyn Tree,
    at: &Location,
    files: &[String],
) -> Result<Vec<Resource>, Error> {
    let mut out = Vec::new();
    for file in files {
        for (i, doc) in read_documents(tree, at, file)?.into_iter().enumerate() {
            if doc.is_null() {
                continue;
            }
            if !is_object(&doc) || super::str_at(&doc, &["metadata", "name"]).is_empty() {
                return Err(at.with_file(file).invalid(format!(
                    "document {} is not a Kubernetes object: expected apiVersion, kind and metadata.name",
                    i + 1
                )));
            }
            out.push(Resource::new(doc, file.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flux's generator (fluxcd/pkg kustomize generator, source-controller
    /// ignore rules): YAML files below the path that the artifact keeps,
    /// subdirectories with a kustomization as bases, empty files included.
    #[test]
    fn generates_a_kustomization_like_flux() {
        let mut t = MemTree::new();
        t.insert("app/deploy.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
        t.insert("app/notes.yaml", "title: not a manifest\n");
        // Its patterns drop source-controller's defaults, so CI files are
        // left out here by a pattern of their own.
        t.insert("app/.sourceignore", "notes.yaml\n/drafts/\n.github/\n");
        t.insert("app/drafts/x.yaml", "title: draft\n");
        t.insert("app/.github/workflows/ci.yml", "on: push\n");
        t.insert("app/empty.yaml", "# nothing yet\n");
        t.insert("app/sub/more.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n");
        t.insert("app/list.yaml", "apiVersion: v1\nkind: List\nitems: []\n");
        t.insert("app/base/kustomization.yaml", "resources: [cm.yaml]\n");
        t.insert("app/base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
        t.insert("app/README.md", "# docs\n");
        let (file, k) = kustomization_for(&t, "app").unwrap();
        assert_eq!(file, "app/kustomization.yaml");
        assert_eq!(
            yaml::to_string(k.get_path(&["resources"]).unwrap()),
            "- base\n- deploy.yaml\n- empty.yaml\n- list.yaml\n- sub/more.yml\n"
        );
        let names: Vec<String> =
            build_dir(&t, "app").unwrap().iter().map(|r| r.name().to_string()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        // A directory with its own kustomization is built with it.
        let names: Vec<String> =
            build_dir(&t, "app/base").unwrap().iter().map(|r| r.name().to_string()).collect();
        assert_eq!(names, ["c"]);
    }

    /// A subdirectory's own ignore file counts for its kustomization: an
    /// ignored kustomization makes the directory's YAML files listed one by
    /// one, as source-controller leaves the file out of the artifact.
    /// source-controller's default exclusions hold only while no
    /// `.sourceignore` of the repository (wherever it is) has a pattern:
    /// then the CI and SOPS files are in the artifact, and Flux's generator
    /// fails on them as kiln does, naming the file.
    #[test]
    fn drops_the_default_exclusions_when_an_ignore_file_has_patterns() {
        let base: &[(&str, &str)] = &[
            ("app/deploy.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"),
            ("app/.github/workflows/ci.yml", "on: push\n"),
            ("app/.sops.yaml", "creation_rules: []\n"),
            ("app/logo.png", "not yaml\n"),
        ];
        type Files = &'static [(&'static str, &'static str)];
        let cases: &[(Files, Result<&str, &str>)] = &[
            (&[], Ok("- deploy.yaml\n")),
            (&[(".sourceignore", "# no pattern\n")], Ok("- deploy.yaml\n")),
            (&[("docs/.sourceignore", "*.md\n")], Err("app/.github/workflows/ci.yml")),
            (&[(".sourceignore", ".github/\n")], Err("app/.sops.yaml")),
            (&[(".sourceignore", ".github/\n.sops.yaml\n")], Ok("- deploy.yaml\n")),
        ];
        for (extra, want) in cases {
            let mut t = MemTree::new();
            for (path, text) in base.iter().chain(extra.iter()) {
                t.insert(path, *text);
            }
            match (kustomization_for(&t, "app"), want) {
                (Ok((_, k)), Ok(want)) => {
                    assert_eq!(&yaml::to_string(k.get_path(&["resources"]).unwrap()), want)
                }
                (Err(e), Err(file)) => assert!(e.to_string().starts_with(file), "{e}"),
                (got, want) => panic!("{extra:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn reads_a_directory_ignore_file_before_its_kustomization() {
        let cm =
            |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "- sub\n"),
            (&[("app/sub/.sourceignore", "kustomization.yaml\n")], "- sub/a.yaml\n- sub/b.yaml\n"),
            (&[("app/sub/.sourceignore", "/kustomization.yaml\n")], "- sub/a.yaml\n- sub/b.yaml\n"),
            (&[("app/sub/.sourceignore", "b.yaml\n")], "- sub\n"),
            (&[("app/.sourceignore", "sub/kustomization.yaml\n")], "- sub/a.yaml\n- sub/b.yaml\n"),
            (
                &[
                    ("app/.sourceignore", "kustomization.yaml\n"),
                    ("app/sub/.sourceignore", "!kustomization.yaml\n"),
                ],
                "- sub\n",
            ),
        ];
        for (extra, want) in cases {
            let mut t = MemTree::new();
            t.insert("app/sub/kustomization.yaml", "resources: [a.yaml]\n");
            t.insert("app/sub/a.yaml", cm("a"));
            t.insert("app/sub/b.yaml", cm("b"));
            for (path, text) in *extra {
                t.insert(path, *text);
            }
            let (_, k) = kustomization_for(&t, "app").unwrap();
            assert_eq!(yaml::to_string(k.get_path(&["resources"]).unwrap()), *want, "{extra:?}");
        }
    }

    /// A YAML file that is not a Kubernetes manifest fails the generation,
    /// as it fails Flux's ("failed to decode Kubernetes YAML").
    #[test]
    fn rejects_files_that_are_not_manifests() {
        let cases: &[(&str, &str)] = &[
            ("values: {a: 1}\n", "document 1 has no kind"),
            ("apiVersion: v1\nkind: ConfigMap\n", "document 1 has no metadata.name"),
            (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n- x\n",
                "document 2 is not a mapping",
            ),
        ];
        for (text, want) in cases {
            let mut t = MemTree::new();
            t.insert("app/x.yaml", *text);
            let err = kustomization_for(&t, "app").unwrap_err().to_string();
            assert!(err.starts_with(&format!("app/x.yaml: {want}: ")), "{err}");
        }
    }

    #[test]
    fn reads_objects_and_rejects_other_documents() {
        let mut t = MemTree::new();
        t.insert("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n");
        t.insert("b.yaml", "apiVersion: v1\nkind: ConfigMap\n");
        let at = Location::new("c", "u", "");
        assert_eq!(read_objects(&t, &at, &["a.yaml".into()]).unwrap().len(), 1);
        let err = read_objects(&t, &at, &["b.yaml".into()]).unwrap_err().to_string();
        assert_eq!(
            err,
            "cluster c, unit u, file b.yaml: document 1 is not a Kubernetes object: expected apiVersion, kind and metadata.name"
        );
    }
}
