//! Terraform-templated platforms: Kubernetes manifests that Terraform templates and
//! uploads, rendered once per `environments/<env>.tfvars`.
//!
//! The layout of kube-coreos style repositories: a root module (`terraform/`,
//! or the repository root) whose `variables.tf` declares the settings, an
//! environment file per environment, and local modules that turn manifest
//! templates (static pods, add-ons) into files through `data "template_file"`
//! data sources or `templatefile()`, or read plain manifests with `file()`.
//! kiln evaluates what Terraform would evaluate at plan time (variables from
//! defaults, `terraform.tfvars`, `*.auto.tfvars` and the environment's file,
//! locals, module arguments) and renders every template or file that holds a
//! Kubernetes manifest. What exists only after `terraform apply` (resource,
//! data source and module attributes) is never guessed: a template that uses
//! such a value fails naming its line, the variable and the chain of
//! arguments that led to it. Each module instance is a unit.

pub mod eval;
mod funcs;
mod gotemplate;
pub mod installed;
mod module;
pub mod source;
mod types;

use super::{Error, Location, is_object, str_at};
use crate::tree::{EntryKind, Tree};

pub use module::{render_environment, render_environment_with};

/// A modules directory given to kiln: what `terraform init` left in
/// `.terraform/modules` (`modules.json` and the packages it names), read as
/// if it were there (see [`installed`]).
pub type ModulesDir<'a> = super::TreeDir<'a>;

/// The modules directory a render uses: one given by the user (opened as
/// `given`) wins over `terraformModules` of the repository's `kiln.yaml`, a
/// directory of `repo`.
pub fn modules_dir<'a>(
    given: Option<&'a dyn Tree>,
    repo: &'a dyn Tree,
    config: &'a super::Config,
) -> Option<ModulesDir<'a>> {
    ModulesDir::choose(given, repo, config.terraform_modules.as_deref())
}

/// The directory of environment files.
pub const ENVIRONMENTS: &str = "environments";
/// The suffix of an environment file.
pub const TFVARS: &str = ".tfvars";
/// The directory that holds the root module when there is one.
pub const TERRAFORM: &str = "terraform";

fn files_in(tree: &dyn Tree, dir: &str) -> Vec<String> {
    tree.list(dir)
        .map(|entries| {
            entries.into_iter().filter(|(_, k)| *k == EntryKind::File).map(|(n, _)| n).collect()
        })
        .unwrap_or_default()
}

/// Whether the tree is a Terraform-templated platform: `environments/`
/// holds `.tfvars` files and no YAML environment (which would make it
/// minijinja's [`super::environments`] layout), and a root module exists
/// whose module files read templates or files, or which calls a module
/// from outside the repository (whose templates `terraform init`
/// installs; kube-coreos's later commits call only such modules). A
/// Terraform repository that does neither templates no manifest, and its
/// Kubernetes files belong to another layout.
pub fn detect(tree: &dyn Tree) -> bool {
    let envs = files_in(tree, ENVIRONMENTS);
    envs.iter().any(|n| n.ends_with(TFVARS))
        && !envs.iter().any(|n| super::is_yaml(n))
        && root_dir(tree).is_some_and(|root| {
            reads_files(tree, &root, MODULE_DEPTH) || calls_remote_module(tree, &root)
        })
}

/// Whether a `.tf` file of `dir` has a `module` block whose literal
/// `source` is not a local path (as Terraform 0.10.6 to 0.11 read one:
/// a registry address first, then go-getter's remote forms).
fn calls_remote_module(tree: &dyn Tree, dir: &str) -> bool {
    files_in(tree, dir).iter().filter(|n| n.ends_with(".tf")).any(|name| {
        let Ok(path) = crate::tree::join(dir, name) else { return false };
        let Ok(text) = crate::tree::read_text(tree, &path) else { return false };
        if !text.contains("module") {
            return false;
        }
        let Ok(body) = hcl::edit::parser::parse_body(&text) else { return false };
        body.blocks().filter(|b| b.ident.as_str() == "module").any(|b| {
            matches!(
                b.body.get_attribute("source").map(|a| &a.value),
                Some(hcl::edit::expr::Expression::String(s))
                    if source::classify(s.value(), source::Era::Registry) == Ok(source::Source::Remote)
            )
        })
    })
}

/// How deep below the root module [`reads_files`] looks for local modules.
const MODULE_DEPTH: usize = 4;

/// Whether a `.tf` file in `dir`, or in a directory up to `depth` levels
/// below it (local modules; `.terraform/` and other hidden ones left out),
/// reads a file or template: `template_file`, `templatefile()` or `file()`.
fn reads_files(tree: &dyn Tree, dir: &str, depth: usize) -> bool {
    let Ok(entries) = tree.list(dir) else { return false };
    entries.iter().any(|(name, kind)| {
        let path = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
        match kind {
            EntryKind::File if name.ends_with(".tf") => crate::tree::read_text(tree, &path)
                .is_ok_and(|text| text.contains("template_file") || text.contains("file(")),
            EntryKind::Dir if depth > 0 && !name.starts_with('.') => {
                reads_files(tree, &path, depth - 1)
            }
            _ => false,
        }
    })
}

/// The root module's directory: `terraform/` when it holds `.tf` files,
/// else the repository root when it does.
pub fn root_dir(tree: &dyn Tree) -> Option<String> {
    [TERRAFORM, ""]
        .into_iter()
        .find(|d| files_in(tree, d).iter().any(|n| n.ends_with(".tf")))
        .map(str::to_string)
}

/// The environments: `environments/<env>.tfvars`.
pub fn environment_names(tree: &dyn Tree) -> Result<Vec<String>, Error> {
    let names: Vec<String> = files_in(tree, ENVIRONMENTS)
        .iter()
        .filter_map(|n| n.strip_suffix(TFVARS))
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return Err(Error::Empty {
            layout: super::Layout::Terraform,
            message: format!("no environment file in {ENVIRONMENTS}/: expected <env>{TFVARS}"),
        });
    }
    Ok(names)
}

/// Whether a template's or file's text is a Kubernetes manifest: a line
/// that starts with `apiVersion:` and one that starts with `kind:`, read
/// before rendering (cloud-init files, IAM policies and unit files that
/// Terraform templates beside the manifests have neither at the margin).
pub fn is_manifest(text: &str) -> bool {
    let starts = |key: &str| text.lines().any(|l| l.trim_start_matches("- ").starts_with(key));
    starts("apiVersion:") && starts("kind:")
}

/// The objects of a rendered manifest, read as the kubelet and kubectl read
/// YAML; each must be a named Kubernetes object.
fn objects(at: &Location, text: &str) -> Result<Vec<crate::resource::Resource>, Error> {
    let docs =
        crate::yaml::parse_documents_yaml11(text, &at.file).map_err(|e| Error::Template {
            at: at.clone(),
            message: format!("rendered manifest is not valid YAML: {e}"),
        })?;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        if !is_object(&doc) || str_at(&doc, &["metadata", "name"]).is_empty() {
            return Err(at.invalid(format!(
                "rendered document {} is not a Kubernetes object: expected apiVersion, kind and metadata.name",
                i + 1
            )));
        }
        out.push(crate::resource::Resource::new(doc, at.file.clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    #[test]
    fn detects_tfvars_environments_beside_a_root_module() {
        let cases: &[(&[&str], bool)] = &[
            (&["environments/dev.tfvars", "terraform/variables.tf"], true),
            (&["environments/dev.tfvars", "main.tf"], true),
            (&["environments/dev.tfvars", "environments/dev.yaml", "main.tf"], false),
            (&["environments/dev.tfvars"], false),
            (&["environments/dev.tfvars.sample", "main.tf"], false),
            (&["environments/dev.tfvars", "terraform/remote.tf"], true),
            (&["environments/dev.tfvars", "terraform/local.tf"], false),
        ];
        for (files, want) in cases {
            let mut t = MemTree::new();
            for f in *files {
                let text = match *f {
                    "terraform/remote.tf" => {
                        "module \"m\" {\n  source = \"git::https://example.com/m.git?ref=v1\"\n}\n"
                    }
                    "terraform/local.tf" => "module \"m\" {\n  source = \"./m\"\n}\n",
                    f if f.ends_with(".tf") => "locals { a = file(\"a.yml\") }\n",
                    _ => "",
                };
                t.insert(f, text);
            }
            assert_eq!(detect(&t), *want, "{files:?}");
        }
    }

    #[test]
    fn manifests_are_told_from_other_templates() {
        assert!(is_manifest("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n"));
        assert!(is_manifest("---\nkind: Pod\napiVersion: v1\n"));
        assert!(!is_manifest(
            "#cloud-config\nwrite_files:\n- path: /x\n  content: |\n    apiVersion: v1\n    kind: Pod\n"
        ));
        assert!(!is_manifest("{\"Version\": \"2012-10-17\"}"));
    }
}
