//! `kiln check`: a repository's layout rules, without rendering charts.

use anyhow::{Context, Result};
use renderer::layout::chart_cache;
use renderer::layout::{self, Layout, flux_v1};
use renderer::{DirTree, Options};
use std::path::PathBuf;

/// Check a repository against its layout's rules and print every problem
/// with its cluster, unit and file. Flux v1 (`releases/`): `metadata.name`
/// matches the file name, `metadata.labels.chart` matches
/// `spec.chartGitPath`, the chart exists in `charts/` (and repository charts
/// in the chart cache, when one is given). Other layouts: the
/// repository renders. Exit code 1 when a problem is found.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The repository root; default: the current directory.
    pub path: Option<PathBuf>,
    /// A chart cache directory for charts that are not in the repository:
    /// `<namespace>/<source>/<chart>-<version>.tgz` (or unpacked), see the README.
    #[arg(long, value_name = "DIR")]
    pub chart_cache: Option<PathBuf>,
    /// Terraform layout: the directory `terraform init` filled
    /// (`.terraform/modules`, with its `modules.json`), read for modules
    /// whose source is remote; kiln fetches none itself.
    #[arg(long, value_name = "DIR")]
    pub terraform_modules: Option<PathBuf>,
}

/// Runs `kiln check`; returns whether problems were found.
pub fn cmd_check(args: &CheckArgs) -> Result<bool> {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let tree = DirTree::new(&path).with_context(|| format!("opening {}", path.display()))?;
    let config = layout::Config::read(&tree)?;
    let found = config.layout.unwrap_or_else(|| layout::detect(&tree));
    let problems: Vec<String> = match found {
        Layout::FluxV1 => {
            let cache_tree = match &args.chart_cache {
                Some(dir) => Some(
                    DirTree::new(dir)
                        .with_context(|| format!("opening the chart cache {}", dir.display()))?,
                ),
                None => None,
            };
            let given = cache_tree.as_ref().map(|t| t as &dyn renderer::Tree);
            let cache = chart_cache::choose(given, &tree, &config);
            let revisions = kiln::daemon::revisions::of_work_tree(&path)?;
            let charts = renderer::layout::helm_release::Charts {
                repo: &tree,
                cache,
                revisions: revisions.as_deref().map(|r| r as &dyn renderer::revisions::Revisions),
            };
            flux_v1::check(&charts)?
                .into_iter()
                .map(|f| format!("{}: {}", f.at, f.message))
                .collect()
        }
        _ => match renderer::render(
            &tree,
            &Options {
                chart_cache: args.chart_cache.clone(),
                terraform_modules: args.terraform_modules.clone(),
                revisions: kiln::daemon::revisions::of_work_tree(&path)?
                    .map(|r| r as std::sync::Arc<dyn renderer::revisions::Revisions>),
                ..Default::default()
            },
        ) {
            Ok(_) => Vec::new(),
            // Each failing unit is one problem.
            Err(layout::Error::Many(errors)) => {
                errors.into_iter().map(|e| format!("{:#}", anyhow::Error::new(e))).collect()
            }
            Err(e) => vec![format!("{:#}", anyhow::Error::new(e))],
        },
    };
    for p in &problems {
        println!("{p}");
    }
    match problems.len() {
        0 => println!("{}: layout {found}: no problems", path.display()),
        n => println!(
            "{}: layout {found}: {n} problem{}",
            path.display(),
            if n == 1 { "" } else { "s" }
        ),
    }
    Ok(!problems.is_empty())
}
