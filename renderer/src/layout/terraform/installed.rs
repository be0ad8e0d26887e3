//! Modules that `terraform init` (or `terraform get`) installed: `.terraform/modules/modules.json` and the directories it names.
//!
//! Terraform fetches nothing at plan time: `init` downloads every module
//! whose source is not a local path into `.terraform/modules/` and records
//! each module call in `modules.json` (`{"Modules": [{"Key", "Source",
//! "Version", "Dir"}]}`); plan reads the files there. kiln does the same
//! and fetches nothing either: a remote module is read from the directory
//! its record names, in the repository (a committed `.terraform/modules`,
//! or a directory rendered as it is on disk after `init`) or in a modules
//! directory given to kiln (`--terraform-modules DIR`, `terraformModules:`
//! in `kiln.yaml`): what `init` left in `.terraform/modules`, mounted there.
//!
//! Two formats exist. Terraform 0.12 and later key a record by the module's
//! static path (`network`, `network.subnets`: names only, no instance keys)
//! and give its directory relative to where `terraform` runs
//! (`.terraform/modules/network`, with any `//subdir` of the source
//! appended). Terraform 0.10.6 to 0.11 key it `1.` followed by each level's
//! `name[#version];source` joined by `|`, with the package directory in
//! `Dir` and the source's subdirectory in `Root`. Before 0.10.6 Terraform
//! kept no manifest.

use std::collections::BTreeMap;

use crate::tree::{self, EntryKind, Tree};

/// Where `terraform init` keeps modules, relative to the root module.
pub const MODULES_DIR: &str = ".terraform/modules";
/// The manifest's name in [`MODULES_DIR`].
pub const MANIFEST: &str = "modules.json";

/// One installed module call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    /// The source the call had when it was installed.
    source: String,
    /// The module's directory, relative to the root module.
    dir: String,
}

/// The manifest of the installed modules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// The manifest's path in the tree, for messages.
    pub path: String,
    /// By static module path (`master`, `master.dns`).
    records: BTreeMap<String, Record>,
}

impl Installed {
    /// Reads `<root>/.terraform/modules/modules.json` when it is there.
    pub fn read(tree: &dyn Tree, root: &str) -> Result<Option<Installed>, String> {
        let path =
            tree::join(root, &format!("{MODULES_DIR}/{MANIFEST}")).map_err(|e| e.to_string())?;
        if tree.kind(&path) != Some(EntryKind::File) {
            return Ok(None);
        }
        let text = tree::read_text(tree, &path).map_err(|e| e.to_string())?;
        Installed::parse(&path, &text).map(Some)
    }

    fn parse(path: &str, text: &str) -> Result<Installed, String> {
        let bad = |why: String| format!("{path}: {why}");
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let modules = match json.get("Modules") {
            Some(serde_json::Value::Array(m)) => m.as_slice(),
            None | Some(serde_json::Value::Null) => &[],
            Some(_) => return Err(bad("\"Modules\" is not a list".to_string())),
        };
        let field = |m: &serde_json::Value, name: &str| -> Result<String, String> {
            match m.get(name) {
                None | Some(serde_json::Value::Null) => Ok(String::new()),
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(bad(format!("a module's {name:?} is not a string"))),
            }
        };
        let mut records = BTreeMap::new();
        for m in modules {
            let (key, source, dir, root) =
                (field(m, "Key")?, field(m, "Source")?, field(m, "Dir")?, field(m, "Root")?);
            if key.is_empty() {
                // The root module's own record, and (0.10.6 to 0.11) a
                // package's subdirectory noted apart from its module.
                continue;
            }
            let (module_path, source, dir) = match key.strip_prefix("1.") {
                // 0.11's key: `1.` then `name[#version];source` per level.
                Some(legacy) if key.contains(';') => {
                    let levels: Vec<(&str, &str)> = legacy
                        .split('|')
                        .map(|level| level.split_once(';').unwrap_or((level, "")))
                        .collect();
                    let names: Vec<&str> = levels
                        .iter()
                        .map(|(name, _)| name.split_once('#').map_or(*name, |(n, _)| n))
                        .collect();
                    let call_source = levels.last().map_or("", |(_, s)| *s).to_string();
                    let dir = if root.is_empty() { dir } else { format!("{dir}/{root}") };
                    (names.join("."), call_source, dir)
                }
                _ => (key.clone(), source, dir),
            };
            if dir.starts_with('/') || dir.contains(":\\") {
                return Err(bad(format!(
                    "module {module_path:?} is installed at the absolute path {dir:?}; kiln reads installed modules only below the root module ({MODULES_DIR})"
                )));
            }
            if records.insert(module_path.clone(), Record { source, dir }).is_some() {
                return Err(bad(format!("two records for module {module_path:?}")));
            }
        }
        Ok(Installed { path: path.to_string(), records })
    }

    /// Whether the module called at `module_path` is recorded as installed from `source`.
    pub fn has(&self, module_path: &[String], source: &str) -> bool {
        self.records
            .get(&module_path.join("."))
            .is_some_and(|r| r.source == source || r.source == strip_subdir(source))
    }

    /// The directory (a tree path) of the module called at `module_path`
    /// (static names from the root) with `source`, installed below `root`;
    /// why not when it is not installed, or was installed from another source.
    pub fn dir(&self, root: &str, module_path: &[String], source: &str) -> Result<String, String> {
        let key = module_path.join(".");
        let Some(record) = self.records.get(&key) else {
            return Err(format!("not installed: {} has no record of module.{key}", self.path));
        };
        // 0.11 records the source without its `//subdir`.
        if !self.has(module_path, source) {
            return Err(format!(
                "module source has changed: {} records module.{key} as installed from {:?}",
                self.path, record.source
            ));
        }
        tree::join(root, &record.dir).map_err(|e| format!("{}: module.{key}: {e}", self.path))
    }
}

/// A go-getter source without its `//subdir` part (`git::https://h/r.git//mod?ref=v1`
/// is `git::https://h/r.git?ref=v1`), the `//` of a URL's scheme kept.
fn strip_subdir(source: &str) -> String {
    let start = source.find("://").map_or(0, |i| i + 3);
    let Some(at) = source[start..].find("//").map(|i| i + start) else {
        return source.to_string();
    };
    let rest = &source[at + 2..];
    match rest.find('?') {
        Some(q) => format!("{}{}", &source[..at], &rest[q..]),
        None => source[..at].to_string(),
    }
}

/// The repository with a modules directory mounted at
/// `<root>/.terraform/modules`: every path below the mount point is read
/// from `modules` (below `modules_root`), the rest from `base`.
pub struct Mounted<'a> {
    /// The repository.
    pub base: &'a dyn Tree,
    /// The mount point: `<root>/.terraform/modules`.
    pub at: String,
    /// The tree that holds the modules directory.
    pub modules: &'a dyn Tree,
    /// The modules directory in `modules` (`""` for its root).
    pub modules_root: String,
}

impl Mounted<'_> {
    /// The tree and path that `path` is read from.
    fn route(&self, path: &str) -> Result<(&dyn Tree, String), tree::Error> {
        match path.strip_prefix(self.at.as_str()) {
            Some("") => Ok((self.modules, self.modules_root.clone())),
            Some(rest) if rest.starts_with('/') => {
                Ok((self.modules, tree::join(&self.modules_root, &rest[1..])?))
            }
            _ => Ok((self.base, path.to_string())),
        }
    }
}

impl Tree for Mounted<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, tree::Error> {
        let (t, p) = self.route(path)?;
        t.read(&p)
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        if tree::is_within(&self.at, path) && path != self.at {
            // A directory on the way to the mount point.
            return Some(EntryKind::Dir);
        }
        let (t, p) = self.route(path).ok()?;
        t.kind(&p)
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, tree::Error> {
        let (t, p) = self.route(path)?;
        t.list(&p)
    }

    fn real_path(&self, path: &str) -> Result<String, tree::Error> {
        let (t, p) = self.route(path)?;
        if std::ptr::addr_eq(t, self.base) {
            return t.real_path(&p);
        }
        let real = t.real_path(&p)?;
        let inner = tree::relative(&self.modules_root, &real);
        Ok(if inner.is_empty() { self.at.clone() } else { format!("{}/{inner}", self.at) })
    }

    fn root_name(&self) -> Option<String> {
        self.base.root_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn reads_terraform_0_12_manifests() {
        let text = r#"{"Modules":[{"Key":"","Source":"","Dir":"."},
            {"Key":"master","Source":"git::https://github.com/gambol99/kube-tf-master.git?ref=master","Dir":".terraform/modules/master"},
            {"Key":"master.dns","Source":"./dns","Dir":".terraform/modules/master/dns"},
            {"Key":"vpc","Source":"terraform-aws-modules/vpc/aws","Version":"5.1.0","Dir":".terraform/modules/vpc"},
            {"Key":"sub","Source":"git::https://example.com/pkg.git//modules/sub?ref=v1","Dir":".terraform/modules/sub/modules/sub"}]}"#;
        let m = Installed::parse("terraform/.terraform/modules/modules.json", text).unwrap();
        let git = "git::https://github.com/gambol99/kube-tf-master.git?ref=master";
        assert_eq!(
            m.dir("terraform", &path("master"), git).unwrap(),
            "terraform/.terraform/modules/master"
        );
        assert_eq!(
            m.dir("terraform", &path("vpc"), "terraform-aws-modules/vpc/aws").unwrap(),
            "terraform/.terraform/modules/vpc"
        );
        assert_eq!(
            m.dir("", &path("sub"), "git::https://example.com/pkg.git//modules/sub?ref=v1")
                .unwrap(),
            ".terraform/modules/sub/modules/sub"
        );
        let err = m.dir("terraform", &path("api"), git).unwrap_err();
        assert!(err.contains("not installed") && err.contains("module.api"), "{err}");
        let err = m.dir("terraform", &path("master"), "git::https://x/y.git?ref=v2").unwrap_err();
        assert!(err.contains("module source has changed"), "{err}");
    }

    #[test]
    fn reads_terraform_0_11_manifests() {
        let text = r#"{"Modules":[
            {"Source":"git::https://github.com/gambol99/kube-tf-master.git?ref=master","Key":"1.master;git::https://github.com/gambol99/kube-tf-master.git?ref=master","Version":"","Dir":".terraform/modules/3f9c1b2a","Root":""},
            {"Source":"git::https://example.com/pkg.git?ref=v1","Key":"1.pkg;git::https://example.com/pkg.git//mods/a?ref=v1|inner#1.0.0;./inner","Version":"","Dir":".terraform/modules/77aa","Root":"mods/a/inner"}]}"#;
        let m = Installed::parse("modules.json", text).unwrap();
        assert_eq!(
            m.dir(
                "",
                &path("master"),
                "git::https://github.com/gambol99/kube-tf-master.git?ref=master"
            )
            .unwrap(),
            ".terraform/modules/3f9c1b2a"
        );
        assert_eq!(
            m.dir("", &path("pkg.inner"), "./inner").unwrap(),
            ".terraform/modules/77aa/mods/a/inner"
        );
    }

    #[test]
    fn refuses_bad_manifests() {
        for (text, want) in [
            ("{", "not valid JSON"),
            (r#"{"Modules": 3}"#, "not a list"),
            (r#"{"Modules":[{"Key":"a","Source":"x","Dir":"/abs/a"}]}"#, "absolute path"),
            (
                r#"{"Modules":[{"Key":"a","Source":"x","Dir":"a"},{"Key":"a","Source":"x","Dir":"b"}]}"#,
                "two records",
            ),
            (r#"{"Modules":[{"Key":1}]}"#, "not a string"),
        ] {
            let err = Installed::parse("m.json", text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        let m =
            Installed::parse("m.json", r#"{"Modules":[{"Key":"a","Source":"x","Dir":"../../a"}]}"#)
                .unwrap();
        assert!(m.dir("terraform", &path("a"), "x").unwrap_err().contains("leaves"));
    }

    #[test]
    fn subdirectories_are_stripped_as_terraform_0_11_records_them() {
        for (source, want) in [
            ("git::https://h/r.git//mod?ref=v1", "git::https://h/r.git?ref=v1"),
            ("git::https://h/r.git//mod", "git::https://h/r.git"),
            ("github.com/a/b//c", "github.com/a/b"),
            ("git::https://h/r.git?ref=v1", "git::https://h/r.git?ref=v1"),
        ] {
            assert_eq!(strip_subdir(source), want);
        }
    }

    #[test]
    fn a_mounted_modules_directory_answers_below_its_mount_point() {
        let mut repo = MemTree::new();
        repo.insert("terraform/main.tf", "x");
        let mut modules = MemTree::new();
        modules.insert("cache/modules.json", "{}");
        modules.insert("cache/master/main.tf", "y");
        let t = Mounted {
            base: &repo,
            at: "terraform/.terraform/modules".into(),
            modules: &modules,
            modules_root: "cache".into(),
        };
        assert_eq!(t.read("terraform/main.tf").unwrap(), b"x");
        assert_eq!(t.read("terraform/.terraform/modules/master/main.tf").unwrap(), b"y");
        assert_eq!(t.kind("terraform/.terraform"), Some(EntryKind::Dir));
        assert_eq!(t.kind("terraform/.terraform/modules/master"), Some(EntryKind::Dir));
        assert_eq!(
            t.list("terraform/.terraform/modules").unwrap(),
            vec![
                ("master".to_string(), EntryKind::Dir),
                ("modules.json".to_string(), EntryKind::File)
            ]
        );
        assert!(t.read("terraform/.terraform/modules/../../../x").is_err());
        assert_eq!(
            t.real_path("terraform/.terraform/modules/master/main.tf").unwrap(),
            "terraform/.terraform/modules/master/main.tf"
        );
    }
}
