//! Publishing rendered files: one commit on the target branch that replaces one directory, guarded by compare-and-swap.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use gix::objs::tree::EntryKind as GitKind;

use super::repo::{branch_tip, commit_tree};

/// The trailer naming the source branch a rendered commit was made from.
pub const SOURCE_BRANCH_TRAILER: &str = "Source-Branch";
/// The trailer naming the source commit a rendered commit was made from.
pub const SOURCE_COMMIT_TRAILER: &str = "Source-Commit";

/// Who makes the commit, used as both author and committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The name, e.g. `kiln`.
    pub name: String,
    /// The e-mail address.
    pub email: String,
    /// Seconds since the Unix epoch (UTC); `None` means the current time.
    /// Tests fix it so commit ids are reproducible.
    pub time: Option<i64>,
}

impl Identity {
    /// The git signature for author and committer lines.
    pub fn signature(&self) -> gix::actor::Signature {
        let time = self
            .time
            .map_or_else(gix::date::Time::now_utc, |seconds| gix::date::Time::new(seconds, 0));
        gix::actor::Signature {
            name: self.name.as_str().into(),
            email: self.email.as_str().into(),
            time,
        }
    }
}

/// One publication: replace `target_dir` on `target_branch` with `files`.
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    /// The branch to commit to, without `refs/heads/`.
    pub target_branch: &'a str,
    /// The tip read before rendering; `None` means the branch must not exist yet.
    /// The ref update succeeds only if the branch still points here.
    pub expected_tip: Option<ObjectId>,
    /// The directory to replace, relative to the root, e.g. `production` or `rendered/production`.
    pub target_dir: &'a str,
    /// The new contents of `target_dir`: normalised paths relative to it, to file contents.
    /// Empty means the directory is removed.
    pub files: &'a BTreeMap<String, Vec<u8>>,
    /// Author and committer.
    pub author: &'a Identity,
    /// The full commit message.
    pub message: &'a str,
}

/// What [`publish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The new tree equals the old one: no commit was made and the branch was not touched.
    Unchanged,
    /// A commit was made and the branch now points to it.
    Committed {
        /// The new commit.
        commit: ObjectId,
        /// Its tree.
        tree: ObjectId,
    },
}

/// The branch moved between reading its tip and updating it; nothing was changed.
///
/// Callers detect it with `err.downcast_ref::<LostRace>()` and retry from a fresh read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostRace {
    /// The branch, without `refs/heads/`.
    pub branch: String,
    /// The tip the update was based on (`None`: the branch was expected not to exist).
    pub expected: Option<ObjectId>,
    /// The tip found afterwards (`None`: the branch no longer exists).
    pub found: Option<ObjectId>,
}

impl std::fmt::Display for LostRace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show =
            |id: Option<ObjectId>| id.map_or_else(|| "nothing".to_string(), |id| id.to_string());
        write!(
            f,
            "branch {} moved while rendering: expected {}, found {}",
            self.branch,
            show(self.expected),
            show(self.found)
        )
    }
}

impl std::error::Error for LostRace {}

/// Writes the tree of `update.expected_tip` with only `update.target_dir` replaced by
/// `update.files`, commits it on top of `expected_tip` and moves the branch there with
/// compare-and-swap.
///
/// No commit is made when the tree does not change. A branch that moved since
/// `expected_tip` was read gives a [`LostRace`] error and leaves it alone.
pub fn publish(repo: &gix::Repository, update: &Update<'_>) -> anyhow::Result<Published> {
    let target_dir = normalised(update.target_dir).context("invalid target directory")?;
    if target_dir.is_empty() {
        bail!("the target directory must not be the root of the branch");
    }
    check_files(update.files)?;

    let old_tree = match update.expected_tip {
        Some(tip) => commit_tree(repo, tip)?,
        None => ObjectId::empty_tree(repo.object_hash()),
    };
    let mut editor =
        repo.edit_tree(old_tree).with_context(|| format!("reading tree {old_tree}"))?;
    editor.remove(target_dir.as_str()).with_context(|| format!("removing {target_dir}"))?;
    for (path, contents) in update.files {
        let blob =
            repo.write_blob(contents).with_context(|| format!("writing {target_dir}/{path}"))?;
        editor
            .upsert(format!("{target_dir}/{path}").as_str(), GitKind::Blob, blob)
            .with_context(|| format!("adding {target_dir}/{path}"))?;
    }
    let new_tree = editor.write().context("writing the new tree")?.detach();
    if new_tree == old_tree {
        return Ok(Published::Unchanged);
    }

    let commit = super::edit::commit_and_move(
        repo,
        update.target_branch,
        update.expected_tip,
        new_tree,
        update.author,
        update.message,
    )?;
    Ok(Published::Committed { commit, tree: new_tree })
}

/// `body` followed by the provenance trailers [`last_provenance`] reads back.
pub fn with_provenance(body: &str, source_branch: &str, source_commit: ObjectId) -> String {
    let body = body.trim_end();
    let body = if body.is_empty() { format!("Render {source_branch}") } else { body.to_string() };
    format!(
        "{body}\n\n{SOURCE_BRANCH_TRAILER}: {source_branch}\n{SOURCE_COMMIT_TRAILER}: {source_commit}\n"
    )
}

/// The source branch and commit recorded in the trailers of the tip of `target_branch`,
/// or `None` if the branch does not exist or its tip carries no provenance.
pub fn last_provenance(
    repo: &gix::Repository,
    target_branch: &str,
) -> anyhow::Result<Option<(String, ObjectId)>> {
    let Some(tip) = branch_tip(repo, target_branch)? else {
        return Ok(None);
    };
    let commit = repo.find_commit(tip).with_context(|| format!("reading commit {tip}"))?;
    let message = commit.message().with_context(|| format!("decoding the message of {tip}"))?;
    let Some(body) = message.body() else {
        return Ok(None);
    };
    let (mut branch, mut source) = (None, None);
    for trailer in body.trailers() {
        if trailer.token.eq_ignore_ascii_case(SOURCE_BRANCH_TRAILER.as_bytes()) {
            branch = Some(trailer.value.to_str_lossy().into_owned());
        } else if trailer.token.eq_ignore_ascii_case(SOURCE_COMMIT_TRAILER.as_bytes()) {
            source = Some(ObjectId::from_hex(trailer.value.as_bytes()).with_context(|| {
                format!("commit {tip}: {SOURCE_COMMIT_TRAILER} is not an object id")
            })?);
        }
    }
    Ok(branch.zip(source))
}

/// `path` normalised; refuses paths that climb out of the root.
fn normalised(path: &str) -> anyhow::Result<String> {
    Ok(renderer::tree::join("", path)?)
}

/// Every path must be normalised, non-empty, and no file may also be a directory of another.
fn check_files(files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    for path in files.keys() {
        if path.is_empty() || normalised(path).ok().as_deref() != Some(path.as_str()) {
            bail!("rendered file path {path:?} is not a normalised relative path");
        }
        let mut dir = path.as_str();
        while let Some(i) = dir.rfind('/') {
            dir = &dir[..i];
            if files.contains_key(dir) {
                bail!("rendered path {dir:?} is both a file and the directory of {path:?}");
            }
        }
    }
    Ok(())
}
