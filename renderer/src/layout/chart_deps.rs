//! Dependencies of charts kept in git that are not vendored in `charts/`, found as Flux builds them.
//!
//! Helm renders only the subcharts present in a chart's `charts/`
//! directory. Flux does more for a chart read from a Git source: the
//! source-controller (v2) and the helm-operator (v1, `--update-chart-deps`)
//! run the equivalent of `helm dependency build` first. kiln fetches
//! nothing, so a dependency missing from `charts/` is taken from where it
//! can be read without the network: a `file://` dependency from the tree
//! the chart lives in, a repository dependency (`https://`, `oci://`) from
//! the chart cache at `<cache>/<host>/<path>/<name>-<version>.tgz` (or
//! unpacked), the highest cached version that meets the constraint. A
//! dependency named by a repository alias (`@stable`, `alias:stable`) has no
//! URL to look under and is left to Helm's own error.

use super::chart_cache::{self, ChartCache, Pick};
use crate::helm::{self, Chart};
use crate::tree::{self, Tree};
use crate::value::Value;

/// Adds to `chart` (loaded from `dir` of `tree`) every dependency listed in
/// its Chart.yaml (or requirements.yaml) that `charts/` lacks, from the tree
/// or the chart cache. The error names the dependency and where it was
/// looked for.
pub fn add_missing(
    tree: &dyn Tree,
    dir: &str,
    cache: Option<ChartCache<'_>>,
    chart: &mut Chart,
) -> Result<(), String> {
    let field =
        |r: &Value, k: &str| r.get_path(&[k]).and_then(Value::as_str).unwrap_or("").to_string();
    for req in chart.requirements.clone() {
        let (name, version, repository) =
            (field(&req, "name"), field(&req, "version"), field(&req, "repository"));
        if name.is_empty() || chart.dependencies.iter().any(|c| c.name == name) {
            continue;
        }
        let load = |t: &dyn Tree, path: &str| {
            helm::chart::load(t, path)
                .map_err(|e| format!("dependency {name}: {}", super::chain(&e)))
        };
        let sub = if let Some(rel) = repository.strip_prefix("file://") {
            let path = tree::join(dir, rel).map_err(|e| format!("dependency {name}: {e}"))?;
            load(tree, &path)?
        } else if repository.contains("://") {
            let Some(cache) = cache else {
                return Err(format!(
                    "dependency {name} {version} of {repository} is not in {dir}/charts/: Flux downloads it, kiln fetches nothing; vendor it in charts/ or pass --chart-cache DIR holding {}/{name}-<version>.tgz",
                    chart_cache::url_dir(&repository).unwrap_or_else(|_| repository.clone())
                ));
            };
            let source = chart_cache::url_dir(&repository)?;
            let found = cache
                .find_chart(&source, &name, &Pick::Constraint(version.clone()))
                .map_err(|e| format!("dependency {name} {version} of {repository}: {e}"))?;
            load(cache.tree, &found.path)?
        } else {
            continue;
        };
        chart.dependencies.push(sub);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    fn chart(tree: &MemTree, dir: &str) -> Chart {
        helm::chart::load(tree, dir).unwrap()
    }

    #[test]
    fn fills_dependencies_from_the_tree_and_the_cache() {
        let mut repo = MemTree::new();
        repo.insert(
            "charts/app/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: common\n  version: 0.1.0\n  repository: file://../common\n- name: cache\n  version: ~8.0.0\n  repository: https://charts.example.org/stable\n- name: vendored\n  version: 1.0.0\n  repository: https://charts.example.org/stable\n- name: aliased\n  version: 1.0.0\n  repository: '@stable'\n",
        );
        repo.insert(
            "charts/app/charts/vendored/Chart.yaml",
            "apiVersion: v2\nname: vendored\nversion: 1.0.0\n",
        );
        repo.insert("charts/common/Chart.yaml", "apiVersion: v2\nname: common\nversion: 0.1.0\n");
        let mut cache_tree = MemTree::new();
        for v in ["8.0.1", "8.0.13", "9.0.0"] {
            cache_tree.insert(
                &format!("charts.example.org/stable/cache-{v}/Chart.yaml"),
                format!("apiVersion: v2\nname: cache\nversion: {v}\n"),
            );
        }
        let cache = ChartCache { tree: &cache_tree, root: "" };
        let mut c = chart(&repo, "charts/app");
        add_missing(&repo, "charts/app", Some(cache), &mut c).unwrap();
        let got: Vec<(String, String)> = c
            .dependencies
            .iter()
            .map(|d| (d.name.clone(), d.meta_str("version").to_string()))
            .collect();
        let want = [("vendored", "1.0.0"), ("common", "0.1.0"), ("cache", "8.0.13")];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));

        let cases: &[(Option<ChartCache<'_>>, &str)] = &[
            (
                None,
                "dependency cache ~8.0.0 of https://charts.example.org/stable is not in charts/app/charts/: Flux downloads it, kiln fetches nothing; vendor it in charts/ or pass --chart-cache DIR holding charts.example.org/stable/cache-<version>.tgz",
            ),
            (
                Some(ChartCache { tree: &repo, root: "" }),
                "dependency cache ~8.0.0 of https://charts.example.org/stable: not in the chart cache: no directory charts.example.org/stable/",
            ),
        ];
        for (cache, want) in cases {
            let mut c = chart(&repo, "charts/app");
            let err = add_missing(&repo, "charts/app", *cache, &mut c).unwrap_err();
            assert!(err.starts_with(want), "{err}");
        }
    }
}
