//! Committing edited files to a branch in one commit, with compare-and-swap, and creating release tags that never move.
//!
//! A branch of a remote repository is edited in a bare copy made by
//! [`fetch_branch`] in a temporary directory: the commit is made there with
//! [`commit_files`] and pushed with [`Fetched::push`], whose lease makes the
//! remote update a compare-and-swap as well.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::objs::tree::EntryKind as GitKind;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::publish::{Identity, LostRace, Published};
use super::remote::{Pushed, Remote};
use super::repo::{branch_ref, branch_tip, commit_tree};

/// Writes `files` (paths from the root to new contents; other files keep
/// theirs) over the tree of `expected_tip`, commits on top of it and moves
/// `branch` there with compare-and-swap. No commit when nothing changes; a
/// branch that moved meanwhile is a [`LostRace`] and is left alone.
pub fn commit_files(
    repo: &gix::Repository,
    branch: &str,
    expected_tip: ObjectId,
    files: &BTreeMap<String, Vec<u8>>,
    author: &Identity,
    message: &str,
) -> anyhow::Result<Published> {
    let old_tree = commit_tree(repo, expected_tip)?;
    let mut editor =
        repo.edit_tree(old_tree).with_context(|| format!("reading tree {old_tree}"))?;
    for (path, contents) in files {
        if renderer::tree::join("", path).ok().as_deref() != Some(path.as_str()) || path.is_empty()
        {
            bail!("file path {path:?} is not a normalised relative path");
        }
        let blob = repo.write_blob(contents).with_context(|| format!("writing {path}"))?;
        editor
            .upsert(path.as_str(), GitKind::Blob, blob)
            .with_context(|| format!("adding {path}"))?;
    }
    let new_tree = editor.write().context("writing the new tree")?.detach();
    if new_tree == old_tree {
        return Ok(Published::Unchanged);
    }
    let commit = commit_and_move(repo, branch, Some(expected_tip), new_tree, author, message)?;
    Ok(Published::Committed { commit, tree: new_tree })
}

/// Commits `tree` with parent `expected_tip` and moves `branch` to the new
/// commit only if it still points at `expected_tip` (`None`: must not exist).
pub fn commit_and_move(
    repo: &gix::Repository,
    branch: &str,
    expected_tip: Option<ObjectId>,
    tree: ObjectId,
    author: &Identity,
    message: &str,
) -> anyhow::Result<ObjectId> {
    let signature = author.signature();
    let (mut committer_time, mut author_time) = Default::default();
    let committer = signature.to_ref(&mut committer_time);
    let commit = repo
        .new_commit_as(committer, signature.to_ref(&mut author_time), message, tree, expected_tip)
        .context("writing the commit")?
        .id;
    let name = branch_ref(branch);
    let edit = RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: format!("kiln: {}", message.lines().next().unwrap_or_default()).into(),
            },
            expected: match expected_tip {
                Some(tip) => PreviousValue::MustExistAndMatch(Target::Object(tip)),
                None => PreviousValue::MustNotExist,
            },
            new: Target::Object(commit),
        },
        name: name.as_str().try_into().with_context(|| format!("invalid branch name {branch}"))?,
        deref: false,
    };
    if let Err(err) = repo.edit_references_as(Some(edit), Some(committer)) {
        // Whatever the failure (out of date, created or deleted meanwhile, lock
        // held by the writer that won), a branch that no longer points where we
        // started is a lost race; anything else is a plain error.
        let found = branch_tip(repo, branch)?;
        if found != expected_tip {
            return Err(
                LostRace { branch: branch.to_string(), expected: expected_tip, found }.into()
            );
        }
        return Err(anyhow::Error::new(err).context(format!("updating {name}")));
    }
    Ok(commit)
}

/// Branches of a remote repository fetched into a bare repository of its own
/// in a temporary directory, which is removed when this is dropped.
pub struct Fetched {
    /// The bare copy; each branch is `refs/heads/<branch>` in it.
    pub repo: gix::Repository,
    /// Where it came from and where pushes go.
    pub remote: Remote,
    /// Each branch and its remote tip when fetched (`None`: the remote has no such branch).
    tips: Vec<(String, Option<ObjectId>)>,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched")
            .field("remote", &self.remote.url)
            .field("tips", &self.tips)
            .finish_non_exhaustive()
    }
}

/// Whether `--repo` text names a repository to fetch (a `file://`, `https://`
/// or ssh URL) rather than a local one to edit in place.
pub fn is_remote(repo: &str) -> bool {
    repo.starts_with("file://") || !Remote::new(repo).is_local()
}

/// Fetches `branch` of `remote`, and the tags `tags` where the remote has them,
/// into a new bare repository in a temporary directory.
pub fn fetch_branch(remote: &Remote, branch: &str, tags: &[&str]) -> anyhow::Result<Fetched> {
    fetch_branches(remote, &[branch], tags)
}

/// Fetches `branches` of `remote` (those it has), and the tags `tags` where it
/// has them, into a new bare repository in a temporary directory.
pub fn fetch_branches(
    remote: &Remote,
    branches: &[&str],
    tags: &[&str],
) -> anyhow::Result<Fetched> {
    let dir = tempfile::Builder::new()
        .prefix("kiln-edit-")
        .tempdir()
        .context("creating a temporary directory for the remote's branches")?;
    gix::init_bare(dir.path())
        .with_context(|| format!("creating a repository in {}", dir.path().display()))?;
    let repo = super::repo::open(dir.path())?;
    let never = std::sync::atomic::AtomicBool::new(false);
    // One fetch per ref: the git CLI fails a whole fetch when one ref is missing.
    for branch in branches {
        let name = branch_ref(branch);
        remote
            .fetch(&repo, &[format!("+{name}:{name}")], &never)
            .with_context(|| format!("fetching {branch} from {}", remote.url))?;
    }
    for tag in tags {
        let name = format!("refs/tags/{tag}");
        remote
            .fetch(&repo, &[format!("+{name}:{name}")], &never)
            .with_context(|| format!("fetching tag {tag} from {}", remote.url))?;
    }
    let tips = branches
        .iter()
        .map(|b| Ok((b.to_string(), branch_tip(&repo, b)?)))
        .collect::<anyhow::Result<_>>()?;
    Ok(Fetched { repo, remote: remote.clone(), tips, dir })
}

impl Fetched {
    /// The directory of the bare copy.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The remote tip, when fetched, of the first branch asked for.
    pub fn tip(&self) -> Option<ObjectId> {
        self.tips.first().and_then(|(_, tip)| *tip)
    }

    /// Pushes `commit` to the first branch asked for, if the remote branch
    /// still points where it did when fetched, together with `tag` at
    /// `commit` when given, which must not exist on the remote: both move, or neither.
    pub fn push(&self, commit: ObjectId, tag: Option<&str>) -> anyhow::Result<Pushed> {
        let branch = self.tips.first().map_or("", |(b, _)| b.as_str());
        let mut updates = vec![(branch_ref(branch), self.tip(), commit)];
        if let Some(tag) = tag {
            updates.push((format!("refs/tags/{tag}"), None, commit));
        }
        self.remote.push_refs(&self.repo, &updates)
    }

    /// Pushes every fetched branch that moved in the copy, in one atomic push
    /// with a lease on each remote tip as fetched; the branches that moved.
    pub fn push_moved(&self) -> anyhow::Result<(Pushed, Vec<String>)> {
        let mut updates = vec![];
        let mut moved = vec![];
        for (branch, fetched) in &self.tips {
            let Some(now) = branch_tip(&self.repo, branch)? else { continue };
            if Some(now) != *fetched {
                updates.push((branch_ref(branch), *fetched, now));
                moved.push(branch.clone());
            }
        }
        if updates.is_empty() {
            return Ok((Pushed::Updated, moved));
        }
        Ok((self.remote.push_refs(&self.repo, &updates)?, moved))
    }
}

/// Whether `refs/tags/<tag>` exists.
pub fn tag_exists(repo: &gix::Repository, tag: &str) -> anyhow::Result<bool> {
    let name = format!("refs/tags/{tag}");
    Ok(repo.try_find_reference(name.as_str()).with_context(|| format!("reading {name}"))?.is_some())
}

/// Creates the lightweight tag `refs/tags/<tag>` at `commit`; an existing tag is never moved.
pub fn create_tag(repo: &gix::Repository, tag: &str, commit: ObjectId) -> anyhow::Result<()> {
    let name = format!("refs/tags/{tag}");
    let edit = RefEdit {
        change: Change::Update {
            log: LogChange::default(),
            expected: PreviousValue::MustNotExist,
            new: Target::Object(commit),
        },
        name: name.as_str().try_into().with_context(|| format!("invalid tag name {tag}"))?,
        deref: false,
    };
    repo.edit_references(Some(edit)).with_context(|| {
        format!("creating {name}: release tags are immutable and it may exist already")
    })?;
    Ok(())
}

/// The work tree where `branch` is checked out, if the repository has one and its HEAD is `branch`.
pub fn checked_out(
    repo: &gix::Repository,
    branch: &str,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    let Some(dir) = repo.workdir() else { return Ok(None) };
    let head = repo.head_name().context("reading HEAD")?;
    Ok(head.filter(|h| h.as_bstr() == branch_ref(branch).as_str()).map(|_| dir.to_path_buf()))
}

/// Refuses to touch `paths` when they have uncommitted changes in `workdir`
/// (staged or not), which a commit made beside the work tree would strand.
pub fn check_clean(workdir: &std::path::Path, paths: &[&str]) -> anyhow::Result<()> {
    let out =
        git(workdir, &[&["status", "--porcelain", "--untracked-files=no", "--"], paths].concat())?;
    if !out.trim().is_empty() {
        bail!(
            "uncommitted changes in {} would be overwritten; commit or stash them first:\n{}",
            workdir.display(),
            out.trim_end()
        );
    }
    Ok(())
}

/// Brings `paths` of the work tree and index to their state in `commit`,
/// after the checked-out branch was moved there without a checkout.
pub fn refresh(workdir: &std::path::Path, commit: ObjectId, paths: &[&str]) -> anyhow::Result<()> {
    let commit = commit.to_string();
    git(workdir, &[&["checkout", "--quiet", commit.as_str(), "--"], paths].concat())?;
    Ok(())
}

/// Runs `git` in `dir` without the user's or the system's configuration.
fn git(dir: &std::path::Path, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !out.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
