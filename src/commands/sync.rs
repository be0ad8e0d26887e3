//! `kiln sync`: render a source branch into a directory of a target branch, once.

use anyhow::{Context as _, Result};
use kiln::daemon::publish::{Identity, Published};
use kiln::daemon::sync::{Context, Source, sync_once};
use renderer::output;
use renderer::tree::Tree;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Render the tip of a source branch straight from the git object database
/// and commit the result as `<target-dir>` of the target branch (created if
/// missing). Nothing else of the target branch changes; no commit is made
/// when the rendered tree is unchanged; the branch moves only by a
/// compare-and-swap against the tip read before rendering.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The repository (a local path; bare or with a work tree).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The branch to render.
    #[arg(long)]
    pub source_branch: String,
    /// The branch that receives the rendered YAML.
    #[arg(long)]
    pub target_branch: String,
    /// The directory of the target branch that is replaced.
    #[arg(long)]
    pub target_dir: String,
    /// Render and commit once, then exit (continuous syncing is `kiln watch`).
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub scope: super::RenderScope,
    /// Commit author name.
    #[arg(long, default_value = "kiln")]
    pub author_name: String,
    /// Commit author email.
    #[arg(long, default_value = "kiln@localhost")]
    pub author_email: String,
}

/// Renders a repository tree into the files of the target directory.
pub fn render_files(
    tree: &dyn Tree,
    options: &renderer::Options,
    source: &Source,
    target_dir: &str,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let rendered = renderer::render(tree, options)?;
    let provenance = output::Provenance {
        source_branch: Some(source.branch.clone()),
        source_commit: Some(source.commit.to_string()),
        target_dir: target_dir.to_string(),
    };
    Ok(output::files(&rendered, &provenance))
}

/// Runs `kiln sync`.
pub fn cmd_sync(args: &SyncArgs) -> Result<()> {
    if !args.once {
        anyhow::bail!("kiln sync needs --once; continuous syncing is kiln watch");
    }
    let author =
        Identity { name: args.author_name.clone(), email: args.author_email.clone(), time: None };
    let cx = Context {
        repo: &args.repo,
        source_branch: &args.source_branch,
        target_branch: &args.target_branch,
        target_dir: &args.target_dir,
        author: &author,
    };
    let options = args.scope.options_for(&args.repo)?;
    let outcome = sync_once(
        &cx,
        |tree, source| render_files(tree, &options, source, &args.target_dir),
        |source| {
            format!(
                "Render {} at {}\n\n{}\n",
                source.branch,
                short(&source.commit.to_string()),
                source.subject
            )
        },
    )
    .with_context(|| {
        format!("syncing {} into {}:{}", args.source_branch, args.target_branch, args.target_dir)
    })?;
    match outcome.published {
        Published::Unchanged => {
            println!(
                "{} at {}: rendered output unchanged, no commit",
                outcome.source.branch, outcome.source.commit
            )
        }
        Published::Committed { commit, .. } => println!(
            "{} at {}: committed {} to {}",
            outcome.source.branch, outcome.source.commit, commit, args.target_branch
        ),
    }
    Ok(())
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
