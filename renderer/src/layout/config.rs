//! `kiln.yaml` at the repository root: declares the layout instead of letting kiln guess it.
//!
//! ```yaml
//! layout: namespaces      # flux-v2 | flux-v1 | namespaces | terraform | environments | plain
//! path: deploy            # plain only: the directory to render (default: the root)
//! chartCache: vendor/charts   # a chart cache kept in the repository (see chart_cache)
//! terraformModules: vendor/modules   # terraform: what `terraform init` left in .terraform/modules
//! strictPostBuildSubstitutions: true   # an unset postBuild variable fails (Flux's feature gate)
//! clusterObjects:         # ConfigMaps and Secrets made in the cluster outside this repository
//! - Secret gitlab/gitlab-secrets
//! gitDefaultRef: main     # Flux v1: the helm-operator's --git-default-ref (default master)
//! ```

use super::{Error, Layout};
use crate::tree::{self, EntryKind, Tree};
use crate::value::Value;
use crate::yaml;

/// The file name of the repository configuration.
pub const FILE_NAME: &str = "kiln.yaml";

/// What `kiln.yaml` declares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The declared layout, if any.
    pub layout: Option<Layout>,
    /// For the plain layout: the directory to render.
    pub path: Option<String>,
    /// A chart cache directory inside the repository; `--chart-cache` wins.
    pub chart_cache: Option<String>,
    /// The terraform layout: a directory of the repository holding what
    /// `terraform init` left in `.terraform/modules` (see
    /// [`super::terraform::installed`]); `--terraform-modules` wins.
    pub terraform_modules: Option<String>,
    /// Whether a `postBuild` variable read without a default and not set
    /// fails the unit (the kustomize-controller's `StrictPostBuildSubstitutions`
    /// feature gate) instead of becoming empty, Flux's default.
    pub strict_post_build: bool,
    /// ConfigMaps and Secrets (`Kind namespace/name`) that exist in the
    /// cluster alone, made outside this repository (by Terraform, an
    /// operator): a HelmRelease (Flux v2, or Flux v1 `configMapKeyRef`,
    /// `secretKeyRef`, `valueFileSecrets`) that reads values from one is
    /// kept as written for its controller to render there.
    pub cluster_objects: Vec<String>,
    /// Flux v1: the helm-operator's `--git-default-ref`, the ref of a
    /// `spec.chart.git` chart whose release gives no `spec.chart.ref`;
    /// `None` is the helm-operator's default
    /// ([`super::helm_release::DEFAULT_GIT_REF`]).
    pub git_default_ref: Option<String>,
}

impl Config {
    /// The helm-operator's `--git-default-ref`: `gitDefaultRef`, else its default.
    pub fn git_default_ref(&self) -> &str {
        self.git_default_ref.as_deref().unwrap_or(super::helm_release::DEFAULT_GIT_REF)
    }

    /// Reads `kiln.yaml` from the root of `tree`; an absent file is the default.
    pub fn read(tree: &dyn Tree) -> Result<Config, Error> {
        if tree.kind(FILE_NAME) != Some(EntryKind::File) {
            return Ok(Config::default());
        }
        let err = |message: String| Error::Config { message };
        let text = tree::read_text(tree, FILE_NAME).map_err(|e| err(e.to_string()))?;
        let docs = yaml::parse_documents(&text, FILE_NAME).map_err(|e| err(e.to_string()))?;
        Config::from_value(docs.first().unwrap_or(&Value::Null)).map_err(err)
    }

    fn from_value(doc: &Value) -> Result<Config, String> {
        let mut config = Config::default();
        let Some(map) = doc.as_map() else {
            return if doc.is_null() { Ok(config) } else { Err("expected a mapping".into()) };
        };
        for (key, value) in map {
            if key == "strictPostBuildSubstitutions" {
                let Value::Bool(b) = value else {
                    return Err(format!("{key}: expected true or false"));
                };
                config.strict_post_build = *b;
                continue;
            }
            if key == "clusterObjects" {
                config.cluster_objects = cluster_objects(value)?;
                continue;
            }
            let s = value.as_str().ok_or_else(|| format!("{key}: expected a string"))?;
            match key.as_str() {
                "layout" => {
                    config.layout = Some(Layout::from_name(s).ok_or_else(|| {
                        format!(
                            "layout: unknown layout {s:?}; expected flux-v2, flux-v1, namespaces, terraform, environments or plain"
                        )
                    })?)
                }
                "path" => {
                    config.path = Some(tree::join("", s).map_err(|e| format!("path: {e}"))?)
                }
                "gitDefaultRef" => {
                    if s.trim().is_empty() {
                        return Err(format!("{key}: expected a branch, tag or commit"));
                    }
                    config.git_default_ref = Some(s.to_string())
                }
                "chartCache" => {
                    config.chart_cache =
                        Some(tree::join("", s).map_err(|e| format!("chartCache: {e}"))?)
                }
                "terraformModules" => {
                    config.terraform_modules =
                        Some(tree::join("", s).map_err(|e| format!("terraformModules: {e}"))?)
                }
                other => {
                    return Err(format!(
                        "unknown field {other:?}; expected layout, path, chartCache, terraformModules, strictPostBuildSubstitutions, clusterObjects or gitDefaultRef"
                    ));
                }
            }
        }
        Ok(config)
    }
}

/// The `clusterObjects` entries: `ConfigMap namespace/name` or `Secret namespace/name`.
fn cluster_objects(value: &Value) -> Result<Vec<String>, String> {
    let bad = |entry: &str| {
        format!(
            "clusterObjects: {entry:?}: expected \"ConfigMap namespace/name\" or \"Secret namespace/name\""
        )
    };
    let Value::Seq(items) = value else {
        return Err("clusterObjects: expected a list".into());
    };
    items
        .iter()
        .map(|item| {
            let entry = item.as_str().ok_or_else(|| bad(&yaml::to_string(item)))?;
            let (kind, id) = entry.split_once(' ').ok_or_else(|| bad(entry))?;
            let (ns, name) = id.trim().split_once('/').ok_or_else(|| bad(entry))?;
            if !matches!(kind, "ConfigMap" | "Secret") || ns.is_empty() || name.is_empty() {
                return Err(bad(entry));
            }
            Ok(format!("{kind} {ns}/{name}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    #[test]
    fn reads_the_declared_layout() {
        let cases: &[(&str, Result<Config, &str>)] = &[
            (
                "layout: namespaces\n",
                Ok(Config { layout: Some(Layout::Namespaces), ..Config::default() }),
            ),
            (
                "layout: plain\npath: ./deploy/\n",
                Ok(Config {
                    layout: Some(Layout::Plain),
                    path: Some("deploy".into()),
                    ..Config::default()
                }),
            ),
            (
                "chartCache: ./vendor/charts\n",
                Ok(Config { chart_cache: Some("vendor/charts".into()), ..Config::default() }),
            ),
            ("chartCache: ../charts\n", Err("leaves the root")),
            (
                "terraformModules: vendor/modules/\n",
                Ok(Config {
                    terraform_modules: Some("vendor/modules".into()),
                    ..Config::default()
                }),
            ),
            ("terraformModules: /opt/modules\n", Err("terraformModules: ")),
            ("", Ok(Config::default())),
            ("layout: helmfile\n", Err("unknown layout \"helmfile\"")),
            ("layuot: plain\n", Err("unknown field \"layuot\"")),
            ("layout: [a]\n", Err("layout: expected a string")),
            (
                "strictPostBuildSubstitutions: true\n",
                Ok(Config { strict_post_build: true, ..Config::default() }),
            ),
            ("strictPostBuildSubstitutions: false\n", Ok(Config::default())),
            ("strictPostBuildSubstitutions: \"yes\"\n", Err("expected true or false")),
            ("path: ../up\n", Err("path leaves the root")),
            (
                "clusterObjects:\n- Secret gitlab/gitlab-secrets\n- ConfigMap  gitlab/ses\n",
                Ok(Config {
                    cluster_objects: vec![
                        "Secret gitlab/gitlab-secrets".into(),
                        "ConfigMap gitlab/ses".into(),
                    ],
                    ..Config::default()
                }),
            ),
            ("clusterObjects: Secret a/b\n", Err("clusterObjects: expected a list")),
            (
                "gitDefaultRef: main\n",
                Ok(Config { git_default_ref: Some("main".into()), ..Config::default() }),
            ),
            ("gitDefaultRef: \"\"\n", Err("gitDefaultRef: expected a branch")),
            ("gitDefaultRef: [main]\n", Err("gitDefaultRef: expected a string")),
            ("clusterObjects: [Pod a/b]\n", Err("\"Pod a/b\": expected")),
            ("clusterObjects: [Secret b]\n", Err("\"Secret b\": expected")),
        ];
        for (text, want) in cases {
            let mut t = MemTree::new();
            t.insert(FILE_NAME, *text);
            match (Config::read(&t), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want),
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{e}"),
                (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(Config::read(&MemTree::new()).unwrap(), Config::default());
        assert_eq!(Config::default().git_default_ref(), "master");
    }
}
