//! Templated environments: minijinja templates in `manifests/` rendered once per `environments/<env>.yaml`.
//!
//! An environment file is a mapping of variables; its `secrets` mapping holds
//! variables whose values must never reach logs or errors (they are masked in
//! every message). Templates are `*.yaml.j2` files; plain `*.yaml` files are
//! taken as they are. Each top-level directory of `manifests/` is one unit
//! (files directly in `manifests/` form the unit `manifests`). An undefined
//! variable is an error, as is a template that does not yield Kubernetes
//! objects.

use super::manifests::read_objects;
use super::{Cluster, Error, Location, Unit, is_yaml, read_documents};
use crate::kustomize::order;
use crate::resource::Resource;
use crate::tree::{self, EntryKind, Tree};
use crate::value::Value;
use crate::yaml;
use std::collections::BTreeMap;

/// The directory of environment files.
pub const ENVIRONMENTS: &str = "environments";
/// The directory of templates and manifests.
pub const MANIFESTS: &str = "manifests";
/// Template file suffix.
pub const TEMPLATE_SUFFIX: &str = ".yaml.j2";
/// Bound on template execution (minijinja fuel), so a runaway loop ends.
const FUEL: u64 = 50_000_000;

/// One environment's variables.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The environment's name (file name without extension).
    pub name: String,
    /// The file it was read from.
    pub file: String,
    /// Every variable, secrets included.
    pub vars: BTreeMap<String, Value>,
    /// The string values of secret variables, to mask in messages.
    pub secret_values: Vec<String>,
}

/// The environment names: `environments/<env>.yaml` files. A directory
/// without any is an error naming what it holds instead (such as Terraform
/// `.tfvars` files, which kiln does not read), never an empty render.
pub fn environment_names(tree: &dyn Tree) -> Result<Vec<String>, Error> {
    let at = Location::new("", "", ENVIRONMENTS);
    let entries = tree.list(ENVIRONMENTS).map_err(|e| Error::read(&at, e))?;
    let names: Vec<String> = entries
        .iter()
        .filter(|(n, k)| *k == EntryKind::File && is_yaml(n))
        .map(|(n, _)| n.trim_end_matches(".yaml").trim_end_matches(".yml").to_string())
        .collect();
    if names.is_empty() {
        let found: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Error::Empty {
            layout: super::Layout::Environments,
            message: format!(
                "no environment file in {ENVIRONMENTS}/: expected <env>.yaml (a mapping of variables for the minijinja templates in {MANIFESTS}/); found {}",
                if found.is_empty() { "nothing".to_string() } else { found.join(", ") }
            ),
        });
    }
    Ok(names)
}

/// Reads `environments/<name>.yaml` (or `.yml`).
pub fn read_environment(tree: &dyn Tree, name: &str) -> Result<Environment, Error> {
    let file = [".yaml", ".yml"]
        .iter()
        .map(|ext| format!("{ENVIRONMENTS}/{name}{ext}"))
        .find(|f| tree.kind(f) == Some(EntryKind::File))
        .unwrap_or_else(|| format!("{ENVIRONMENTS}/{name}.yaml"));
    let at = Location::new(name, "", &file);
    let doc = read_documents(tree, &at, &file)?.into_iter().next().unwrap_or(Value::Null);
    let mut env = Environment { name: name.to_string(), file, ..Default::default() };
    let Value::Map(map) = doc else {
        return Err(at.invalid("expected a mapping of variables"));
    };
    for (k, v) in map {
        if k != "secrets" {
            env.vars.insert(k, v);
            continue;
        }
        let Value::Map(secrets) = v else {
            return Err(at.invalid("secrets: expected a mapping of variables"));
        };
        for (sk, sv) in secrets {
            collect_strings(&sv, &mut env.secret_values);
            if env.vars.insert(sk.clone(), sv).is_some() {
                return Err(at.invalid(format!(
                    "variable {sk:?} is set both as a secret and as a plain variable"
                )));
            }
        }
    }
    // Longest first, so a secret that contains another is masked whole.
    env.secret_values.retain(|s| !s.is_empty());
    env.secret_values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    Ok(env)
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Int(i) => out.push(i.to_string()),
        Value::Uint(u) => out.push(u.to_string()),
        Value::Float(f) => out.push(f.to_string()),
        Value::Seq(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Map(m) => m.values().for_each(|i| collect_strings(i, out)),
        Value::Null | Value::Bool(_) => {}
    }
}

impl Environment {
    /// `text` with every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        self.secret_values.iter().fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
    }
}

fn to_jinja(v: &Value) -> minijinja::Value {
    match v {
        Value::Null => minijinja::Value::from(()),
        Value::Bool(b) => minijinja::Value::from(*b),
        Value::Int(i) => minijinja::Value::from(*i),
        Value::Uint(u) => minijinja::Value::from(*u),
        Value::Float(f) => minijinja::Value::from(*f),
        Value::String(s) => minijinja::Value::from(s.as_str()),
        Value::Seq(items) => minijinja::Value::from(items.iter().map(to_jinja).collect::<Vec<_>>()),
        Value::Map(m) => minijinja::Value::from(
            m.iter().map(|(k, v)| (k.clone(), to_jinja(v))).collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// Renders one template with the environment's variables.
pub fn render_template(
    env: &Environment,
    at: &Location,
    file: &str,
    source: &str,
) -> Result<String, Error> {
    let mut jinja = minijinja::Environment::new();
    jinja.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    jinja.set_fuel(Some(FUEL));
    jinja.set_keep_trailing_newline(true);
    let ctx = to_jinja(&Value::Map(env.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect()));
    jinja.render_named_str(file, source, ctx).map_err(|e| {
        // Built from the error's parts, not its debug rendering, which would
        // print the values of the variables in scope.
        let mut message = e.kind().to_string();
        if let Some(detail) = e.detail() {
            message = format!("{message}: {detail}");
        }
        if let Some(line) = e.line() {
            message = format!("line {line}: {message}");
        }
        Error::Template { at: at.with_file(file), message: env.mask(&message) }
    })
}

/// Every template and manifest file below `dir`, sorted.
fn files_below(tree: &dyn Tree, dir: &str, out: &mut Vec<String>) -> Result<(), tree::Error> {
    for (name, kind) in tree.list(dir)? {
        let path = tree::join(dir, &name)?;
        match kind {
            EntryKind::Dir if tree::through_link(tree, &path) => {}
            EntryKind::Dir => files_below(tree, &path, out)?,
            EntryKind::File if name.ends_with(TEMPLATE_SUFFIX) || is_yaml(&name) => out.push(path),
            EntryKind::File => {}
        }
    }
    Ok(())
}

/// The units of the layout: (unit name, its files).
fn unit_files(tree: &dyn Tree, at: &Location) -> Result<Vec<(String, Vec<String>)>, Error> {
    let mut units = Vec::new();
    let mut top = Vec::new();
    for (name, kind) in tree.list(MANIFESTS).map_err(|e| Error::read(at, e))? {
        let path = tree::join(MANIFESTS, &name).map_err(|e| Error::read(at, e))?;
        match kind {
            EntryKind::Dir => {
                let mut files = Vec::new();
                files_below(tree, &path, &mut files).map_err(|e| Error::read(at, e))?;
                units.push((name, files));
            }
            EntryKind::File if name.ends_with(TEMPLATE_SUFFIX) || is_yaml(&name) => top.push(path),
            EntryKind::File => {}
        }
    }
    if !top.is_empty() {
        units.insert(0, (MANIFESTS.to_string(), top));
    }
    Ok(units)
}

/// Renders one environment.
pub fn render_environment(tree: &dyn Tree, name: &str) -> Result<Cluster, Error> {
    render_environment_with(tree, name, &crate::cache::NoCache)
}

/// [`render_environment`], each unit's render handed to `cache`: the key
/// holds the environment's variables and the unit's file list, the files
/// themselves are read from the tree the cache gives.
pub fn render_environment_with(
    tree: &dyn Tree,
    name: &str,
    cache: &dyn crate::cache::UnitCache,
) -> Result<Cluster, Error> {
    let env = read_environment(tree, name)?;
    let at = Location::new(name, "", MANIFESTS);
    let mut cluster = Cluster::new(name);
    for (unit_name, files) in unit_files(tree, &at)? {
        let at = Location::new(name, &unit_name, "");
        let spec = format!("{}\0{:?}\0{}", env.file, env.vars, files.join("\0"));
        let key = crate::cache::UnitKey {
            cluster: name,
            unit: &unit_name,
            step: crate::cache::Step::Kustomize,
            spec: spec.as_bytes(),
        };
        let objects = cache.build(&key, tree, &|tree| render_unit(tree, &env, &at, &files))?;
        let mut unit = Unit::new(&unit_name, &format!("{MANIFESTS}/{unit_name}"), &env.file);
        if unit_name == MANIFESTS {
            unit.path = MANIFESTS.to_string();
        }
        unit.objects = objects;
        cluster.units.push(unit);
    }
    Ok(cluster)
}

/// One unit's objects: its plain files as they are, its templates rendered
/// with the environment's variables.
fn render_unit(
    tree: &dyn Tree,
    env: &Environment,
    at: &Location,
    files: &[String],
) -> Result<Vec<Resource>, Error> {
    let mut objects: Vec<Resource> = Vec::new();
    for file in files {
        if !file.ends_with(TEMPLATE_SUFFIX) {
            objects.extend(read_objects(tree, at, std::slice::from_ref(file))?);
            continue;
        }
        let fat = at.with_file(file);
        let source = tree::read_text(tree, file).map_err(|e| Error::read(&fat, e))?;
        let text = render_template(env, &fat, file, &source)?;
        let docs = yaml::parse_documents(&text, file).map_err(|e| Error::Template {
            at: fat.clone(),
            message: env.mask(&format!("rendered template is not valid YAML: {e}")),
        })?;
        for (i, doc) in docs.into_iter().enumerate() {
            if doc.is_null() {
                continue;
            }
            if !super::is_object(&doc) || super::str_at(&doc, &["metadata", "name"]).is_empty() {
                return Err(fat.invalid(format!(
                    "rendered document {} is not a Kubernetes object: expected apiVersion, kind and metadata.name",
                    i + 1
                )));
            }
            objects.push(Resource::new(doc, file.clone()));
        }
    }
    order::legacy_sort(&mut objects);
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    fn repo() -> MemTree {
        let mut t = MemTree::new();
        t.insert(
            "environments/dev.yaml",
            "replicas: 1\nhost: dev.example.com\nsecrets:\n  token: s3cr3t-t0ken\n",
        );
        t.insert(
            "manifests/web/deploy.yaml.j2",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-{{ host | replace('.', '-') }}\nstringData:\n  token: {{ token }}\n{% for i in range(replicas) %}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-{{ i }}\n{% endfor %}",
        );
        t.insert("manifests/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n");
        t.insert("manifests/README.md", "not a manifest\n");
        t
    }

    /// Each unit of an environment goes through the unit cache: the same
    /// variables and files reuse the build; a changed variable rebuilds.
    #[test]
    fn units_are_cached_by_variables_and_files() {
        use std::sync::atomic::Ordering;
        let memo = crate::cache::tests::Memo::default();
        let mut tree = repo();
        let first = render_environment_with(&tree, "dev", &memo).unwrap();
        assert_eq!(memo.ran.load(Ordering::SeqCst), 2);
        let again = render_environment_with(&tree, "dev", &memo).unwrap();
        assert_eq!(memo.ran.load(Ordering::SeqCst), 2, "nothing rebuilt");
        let ids = |c: &Cluster| -> Vec<String> {
            c.units.iter().flat_map(|u| u.objects.iter().map(|r| r.id().to_string())).collect()
        };
        assert_eq!(ids(&first), ids(&again));
        tree.insert(
            "environments/dev.yaml",
            "replicas: 2\nhost: dev.example.com\nsecrets:\n  token: s3cr3t-t0ken\n",
        );
        let changed = render_environment_with(&tree, "dev", &memo).unwrap();
        assert_eq!(memo.ran.load(Ordering::SeqCst), 4, "new variables rebuild every unit");
        assert_eq!(ids(&changed), ids(&render_environment(&tree, "dev").unwrap()));
        assert_eq!(ids(&changed).len(), ids(&first).len() + 1);
    }

    #[test]
    fn renders_templates_per_environment() {
        let c = render_environment(&repo(), "dev").unwrap();
        let got: Vec<(String, Vec<String>)> = c
            .units
            .iter()
            .map(|u| (u.name.clone(), u.objects.iter().map(|r| r.id().to_string()).collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("manifests".to_string(), vec!["~G_v1_Namespace|~X|web".to_string()]),
                (
                    "web".to_string(),
                    vec![
                        "~G_v1_ConfigMap|~X|web-0".to_string(),
                        "~G_v1_Secret|~X|web-dev-example-com".to_string()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn template_errors_name_the_file_and_never_show_secrets() {
        let cases: &[(&str, &str)] = &[
            (
                "{{ nope }}",
                "cluster dev, unit web, file manifests/web/bad.yaml.j2: template error: line 1: undefined value",
            ),
            (
                "{% for %}",
                "cluster dev, unit web, file manifests/web/bad.yaml.j2: template error: line 1: syntax error",
            ),
            ("{{ token + 1 }}", "template error: line 1: invalid operation"),
            ("{{ token | int }}", "template error"),
            ("kind: [{{ token }}", "rendered template is not valid YAML"),
            ("{{ token }}: x\n", "is not a Kubernetes object"),
        ];
        for (template, want) in cases {
            let mut t = repo();
            t.insert("manifests/web/bad.yaml.j2", *template);
            let err = render_environment(&t, "dev").unwrap_err().to_string();
            assert!(err.contains(want), "{template}: {err}");
            assert!(!err.contains("s3cr3t"), "{template}: {err}");
        }
    }

    #[test]
    fn masks_secret_values() {
        let env = read_environment(&repo(), "dev").unwrap();
        assert_eq!(env.mask("token s3cr3t-t0ken here"), "token *** here");
        let mut t = repo();
        t.insert("environments/bad.yaml", "a: 1\nsecrets:\n  a: 2\n");
        assert!(read_environment(&t, "bad").unwrap_err().to_string().contains("both as a secret"));
    }
}
