//! One module per subcommand: its arguments and its `cmd_*` function.

pub mod check;
pub mod diff;
pub mod helm;
pub mod plan;
pub mod promote;
pub mod quarantine;
pub mod render;
pub mod revert;
pub mod sync;
pub mod tag;
pub mod verify;
pub mod watch;
pub mod watch_config;

/// What of a repository to render, shared by the commands that render one.
#[derive(Debug, Clone, clap::Args)]
pub struct RenderScope {
    /// Render only these clusters (repeatable).
    #[arg(long = "cluster")]
    pub clusters: Vec<String>,
    /// A chart cache directory for charts that are not in the repository:
    /// `<namespace>/<source>/<chart>-<version>.tgz` (or unpacked), see the README.
    #[arg(long, value_name = "DIR")]
    pub chart_cache: Option<std::path::PathBuf>,
    /// Terraform layout: the directory `terraform init` filled
    /// (`.terraform/modules`, with its `modules.json`), read for modules
    /// whose source is remote; kiln fetches none itself.
    #[arg(long, value_name = "DIR")]
    pub terraform_modules: Option<std::path::PathBuf>,
}

impl RenderScope {
    /// The renderer options these flags ask for.
    pub fn options(&self) -> renderer::Options {
        renderer::Options {
            clusters: self.clusters.clone(),
            chart_cache: self.chart_cache.clone(),
            terraform_modules: self.terraform_modules.clone(),
            ..Default::default()
        }
    }

    /// [`Self::options`] for the repository at `path`: when it is a git
    /// repository, its refs are handed to the renderer (a Flux v1 chart of
    /// this repository is read at its `spec.chart.ref`).
    pub fn options_for(&self, path: &std::path::Path) -> anyhow::Result<renderer::Options> {
        let mut options = self.options();
        options.revisions = kiln::daemon::revisions::of_work_tree(path)?
            .map(|r| r as std::sync::Arc<dyn renderer::revisions::Revisions>);
        Ok(options)
    }
}
