//! Renders Kustomize overlays, Helm charts and Flux layouts into plain Kubernetes objects.
//!
//! The library reads through a [`tree::Tree`], starts no processes and does
//! no network or git-remote IO; the same input gives the same bytes.
//!
//! ```
//! use renderer::{MemTree, Options, layout::Layout};
//!
//! let mut tree = MemTree::new();
//! tree.insert("namespaces/live/team-a/quota.yaml",
//!     "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n");
//! let rendered = renderer::render(&tree, &Options::default()).unwrap();
//! assert_eq!(rendered.layout, Layout::Namespaces);
//! let unit = &rendered.clusters[0].units[0];
//! assert_eq!((unit.name.as_str(), unit.objects.len()), ("team-a", 2));
//! ```

#![deny(missing_docs)]

pub mod value;
pub mod yaml;

pub use value::{Map, Value};
pub mod resource;
pub mod tree;

pub use resource::{Gvk, ResId, Resource};
pub use tree::{DirTree, MemTree, Tree};
pub mod cache;
pub mod gotmpl;
pub mod helm;
pub mod kustomize;
pub mod layout;
pub mod output;
pub mod revisions;
pub mod stack;

pub use layout::{Cluster, Error, Layout, Unit};
use rayon::prelude::*;

/// Knobs of a repository render.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Render only these clusters (or environments); empty for all.
    pub clusters: Vec<String>,
    /// Use this layout instead of `kiln.yaml`'s or the detected one.
    pub layout: Option<Layout>,
    /// A local directory of charts that are not in the repository (see
    /// [`layout::chart_cache`] for its layout); wins over `chartCache` in
    /// `kiln.yaml`.
    pub chart_cache: Option<std::path::PathBuf>,
    /// The terraform layout: a local directory holding what `terraform
    /// init` left in `.terraform/modules` (see
    /// [`layout::terraform::installed`]); wins over `terraformModules` in
    /// `kiln.yaml`.
    pub terraform_modules: Option<std::path::PathBuf>,
    /// The repository's URLs and its trees at other git refs, when the
    /// caller read it from git: a Flux v1 `spec.chart.git` chart of this
    /// repository is read at its `spec.chart.ref` through it.
    pub revisions: Option<std::sync::Arc<dyn revisions::Revisions>>,
}

/// A rendered repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The layout that was rendered.
    pub layout: Layout,
    /// Clusters (or environments) by name, each with its units in apply order.
    pub clusters: Vec<Cluster>,
}

/// Renders a whole repository: finds its layout (`kiln.yaml`, else by its
/// top directories), then renders every cluster, clusters in parallel.
/// Either every unit renders or the first error in cluster order is
/// returned (all results are gathered before looking, so which error is
/// reported does not depend on thread timing).
pub fn render(tree: &dyn Tree, options: &Options) -> Result<Rendered, Error> {
    render_with(tree, options, &cache::NoCache)
}

/// [`render`], with every unit build handed to `cache` (see [`cache`]), so a
/// caller that keeps builds can skip the units whose inputs did not change.
/// The output is the same as [`render`]'s whenever the cache keeps its
/// contract.
pub fn render_with(
    tree: &dyn Tree,
    options: &Options,
    cache: &dyn cache::UnitCache,
) -> Result<Rendered, Error> {
    let config = layout::Config::read(tree)?;
    let layout = options.layout.or(config.layout).unwrap_or_else(|| layout::detect(tree));
    let names = match layout {
        Layout::FluxV2 => layout::flux::cluster_names(tree)?,
        Layout::FluxV1 => root_names(tree, layout, "releases", layout::flux_v1::environment_names)?,
        Layout::Namespaces => {
            root_names(tree, layout, "namespaces", layout::namespaces::cluster_names)?
        }
        Layout::Environments => {
            root_names(tree, layout, "environments", layout::environments::environment_names)?
        }
        Layout::Terraform => {
            root_names(tree, layout, "environments", layout::terraform::environment_names)?
        }
        Layout::Plain => vec![PLAIN_CLUSTER.to_string()],
    };
    for wanted in &options.clusters {
        if !names.contains(wanted) {
            return Err(Error::Config {
                message: format!(
                    "no cluster {wanted:?} in this {layout} repository; found: {}",
                    names.join(", ")
                ),
            });
        }
    }
    let cache_dir = match &options.chart_cache {
        Some(dir) => Some(DirTree::new(dir).map_err(|e| Error::Config {
            message: format!("chart cache {}: {e}", dir.display()),
        })?),
        None => None,
    };
    let given = cache_dir.as_ref().map(|t| t as &dyn Tree);
    let chart_cache = layout::chart_cache::choose(given, tree, &config);
    let modules_dir = match (&options.terraform_modules, layout) {
        (Some(dir), Layout::Terraform) => Some(DirTree::new(dir).map_err(|e| Error::Config {
            message: format!("terraform modules {}: {e}", dir.display()),
        })?),
        _ => None,
    };
    let modules_dir =
        layout::terraform::modules_dir(modules_dir.as_ref().map(|t| t as &dyn Tree), tree, &config);
    let charts = layout::helm_release::Charts {
        repo: tree,
        cache: chart_cache,
        revisions: options.revisions.as_deref(),
    };
    // What the `.sourceignore` files hold shapes every Flux cluster: read once.
    let flux_source = match layout {
        Layout::FluxV2 => layout::flux::repository_source(tree)?,
        _ => layout::sourceignore::Source::default(),
    };
    let selected: Vec<&String> = names
        .iter()
        .filter(|n| options.clusters.is_empty() || options.clusters.contains(n))
        .collect();
    let clusters = selected
        .par_iter()
        .map(|name| match layout {
            Layout::FluxV2 => layout::flux::render_cluster_with(&charts, name, &flux_source, cache),
            Layout::FluxV1 => layout::flux_v1::render_environment_with(&charts, name, cache),
            Layout::Namespaces => layout::namespaces::render_cluster_with(tree, name, cache),
            Layout::Environments => {
                layout::environments::render_environment_with(tree, name, cache)
            }
            Layout::Terraform => {
                layout::terraform::render_environment_with(tree, name, modules_dir, cache)
            }
            Layout::Plain => render_plain(&charts, config.path.as_deref().unwrap_or(""), cache),
        })
        .collect::<Vec<_>>();
    // Every cluster's errors are reported, not only the first cluster's.
    let (clusters, errors): (Vec<_>, Vec<_>) = clusters.into_iter().partition(Result::is_ok);
    if let Some(e) = Error::many(errors.into_iter().filter_map(Result::err).collect()) {
        return Err(e);
    }
    let clusters = clusters.into_iter().filter_map(Result::ok).collect();
    Ok(Rendered { layout, clusters })
}

/// The one cluster of a plain repository.
pub const PLAIN_CLUSTER: &str = "default";

fn root_names(
    tree: &dyn Tree,
    layout: Layout,
    dir: &str,
    names: fn(&dyn Tree) -> Result<Vec<String>, Error>,
) -> Result<Vec<String>, Error> {
    if tree.kind(dir) != Some(tree::EntryKind::Dir) {
        return Err(Error::MissingRoot { layout, dir: dir.to_string() });
    }
    names(tree)
}

/// A plain repository: one directory built as Flux builds a path (its
/// kustomization, or every manifest below it), as the unit `manifests`.
fn render_plain(
    charts: &layout::helm_release::Charts<'_>,
    dir: &str,
    cache: &dyn cache::UnitCache,
) -> Result<Cluster, Error> {
    let shown = if dir.is_empty() { "." } else { dir };
    let at = layout::Location::new(PLAIN_CLUSTER, "manifests", shown);
    let objects =
        layout::manifests::build_dir(charts.repo, dir).map_err(|e| Error::build(&at, e))?;
    let mut unit = Unit::new("manifests", shown, shown);
    // Flux v1 releases among them are the helm-operator's to render, as in
    // `releases/<env>/`; the other objects are applied as built.
    let mut releases = Vec::new();
    for r in objects {
        if layout::helm_release::is_flux_v1_release(&r.value) {
            let name = r.name().to_string();
            releases.push((r.source, name, r.value));
        } else {
            unit.objects.push(r);
        }
    }
    let mut cluster = Cluster::new(PLAIN_CLUSTER);
    layout::flux_v1::render_units(charts, &mut cluster, unit, releases, cache)?;
    Ok(cluster)
}
