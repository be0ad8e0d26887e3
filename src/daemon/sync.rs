//! One render-and-publish pass: source branch tip in, one commit on the target branch out.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use renderer::tree::Tree;

use super::publish::{Identity, Published, Update, publish, with_provenance};
use super::repo::{branch_tip, open};
use super::tree::GitTree;

/// The required inputs of [`sync_once`].
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The repository holding both branches (a work tree or a bare repository).
    pub repo: &'a Path,
    /// The branch to render, without `refs/heads/`.
    pub source_branch: &'a str,
    /// The branch to commit the rendered files to, without `refs/heads/`.
    pub target_branch: &'a str,
    /// The directory of the target branch that the rendered files replace.
    pub target_dir: &'a str,
    /// Author and committer of the rendered commit.
    pub author: &'a Identity,
}

/// The source commit a sync rendered, handed to the message builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The source branch, without `refs/heads/`.
    pub branch: String,
    /// Its tip, which was rendered.
    pub commit: ObjectId,
    /// The first line of the source commit's message.
    pub subject: String,
}

/// What [`sync_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The source commit that was rendered.
    pub source: Source,
    /// Whether a commit was made.
    pub published: Published,
}

/// Renders the tip of the source branch and publishes the result into the target directory.
///
/// The target tip is read before rendering and is the compare-and-swap value of
/// the ref update, so a target branch moved meanwhile gives a
/// [`LostRace`](super::publish::LostRace) error. `message` builds the commit
/// message body; the `Source-Branch` and `Source-Commit` trailers are appended
/// to it. A render error is returned as is and nothing is written.
pub fn sync_once(
    cx: &Context<'_>,
    render: impl FnOnce(&dyn Tree, &Source) -> anyhow::Result<BTreeMap<String, Vec<u8>>>,
    message: impl FnOnce(&Source) -> String,
) -> anyhow::Result<SyncOutcome> {
    let repo = open(cx.repo)?;
    let expected_tip = branch_tip(&repo, cx.target_branch)?;
    let source_commit = branch_tip(&repo, cx.source_branch)?
        .ok_or_else(|| anyhow!("source branch {} does not exist", cx.source_branch))?;
    let subject = repo
        .find_commit(source_commit)
        .with_context(|| format!("reading commit {source_commit}"))?
        .message_raw_sloppy()
        .lines()
        .next()
        .map(|line| line.to_str_lossy().into_owned())
        .unwrap_or_default();
    let source = Source { branch: cx.source_branch.to_string(), commit: source_commit, subject };

    let tree = GitTree::at_commit(&repo, source_commit)?;
    let files = render(&tree, &source)
        .with_context(|| format!("rendering {} at {}", cx.source_branch, source_commit))?;
    let message = with_provenance(&message(&source), &source.branch, source.commit);
    let published = publish(
        &repo,
        &Update {
            target_branch: cx.target_branch,
            expected_tip,
            target_dir: cx.target_dir,
            files: &files,
            author: cx.author,
            message: &message,
        },
    )?;
    Ok(SyncOutcome { source, published })
}
