//! Opening repositories and reading branch tips.

use std::path::Path;

use anyhow::Context as _;
use gix::ObjectId;

/// Opens the repository at `path` (a work tree or a bare repository).
///
/// Only the repository's own configuration is read: the user's and the
/// system's git configuration must not change what kiln commits.
pub fn open(path: &Path) -> anyhow::Result<gix::Repository> {
    gix::open_opts(path, gix::open::Options::isolated())
        .with_context(|| format!("opening git repository {}", path.display()))
}

/// The full reference name of branch `branch`.
pub fn branch_ref(branch: &str) -> String {
    format!("refs/heads/{branch}")
}

/// The commit `refs/heads/<branch>` points to, or `None` if the branch does not exist.
pub fn branch_tip(repo: &gix::Repository, branch: &str) -> anyhow::Result<Option<ObjectId>> {
    let name = branch_ref(branch);
    let Some(mut reference) =
        repo.try_find_reference(name.as_str()).with_context(|| format!("reading {name}"))?
    else {
        return Ok(None);
    };
    let id = reference.peel_to_id().with_context(|| format!("resolving {name}"))?;
    Ok(Some(id.detach()))
}

/// The tree of commit `commit`.
pub fn commit_tree(repo: &gix::Repository, commit: ObjectId) -> anyhow::Result<ObjectId> {
    let commit = repo.find_commit(commit).with_context(|| format!("reading commit {commit}"))?;
    let tree =
        commit.tree_id().with_context(|| format!("reading the tree of commit {}", commit.id))?;
    Ok(tree.detach())
}
