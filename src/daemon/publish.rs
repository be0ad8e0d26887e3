//! Publishing rendered files: one commit on the target branch that replaces one directory, guarded by compare-and-swap.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use gix::objs::tree::EntryKind as GitKind;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use super::repo::{branch_ref, branch_tip, commit_tree};
use super::revisions::RefRead;

/// The trailer naming the source branch a rendered commit was made from.
pub const SOURCE_BRANCH_TRAILER: &str = "Source-Branch";
/// The trailer naming the source commit a rendered commit was made from.
pub const SOURCE_COMMIT_TRAILER: &str = "Source-Commit";
/// The trailer naming the kiln version that rendered a commit.
pub const KILN_VERSION_TRAILER: &str = "Kiln-Version";
/// The trailer recording another ref of the source repository that a
/// branch's render read (a Flux v1 `spec.chart.ref`) and the commit it
/// named then: `<branch> <commit or none> <ref>`.
pub const SOURCE_REF_TRAILER: &str = "Source-Ref";

/// What the trailers of one rendered commit record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Each source branch and the commit of it that was rendered, in trailer order.
    pub sources: Vec<(String, ObjectId)>,
    /// The kiln version that made the commit, if recorded.
    pub kiln_version: Option<String>,
    /// Per source branch, the other refs its render read and the commits
    /// they named (`None`: no such ref), so that a restarted watcher
    /// notices when one moves.
    pub refs: Vec<(String, RefRead)>,
}

impl Provenance {
    /// The source commit recorded for `branch`.
    pub fn source(&self, branch: &str) -> Option<ObjectId> {
        self.sources.iter().rev().find(|(b, _)| b == branch).map(|(_, c)| *c)
    }

    /// The other refs recorded as read by `branch`'s render.
    pub fn refs_of(&self, branch: &str) -> Vec<RefRead> {
        self.refs.iter().filter(|(b, _)| b == branch).map(|(_, read)| read.clone()).collect()
    }
}

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
    let dirs = [(update.target_dir, update.files)];
    let Some((commit, new_tree)) =
        commit_dirs(repo, update.expected_tip, &dirs, update.author, update.message)?
    else {
        return Ok(Published::Unchanged);
    };
    let committer = update.author.signature();
    let mut committer_time = Default::default();
    let committer = committer.to_ref(&mut committer_time);

    let name = branch_ref(update.target_branch);
    let edit = RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: format!("kiln: {}", update.message.lines().next().unwrap_or_default())
                    .into(),
            },
            expected: match update.expected_tip {
                Some(tip) => PreviousValue::MustExistAndMatch(Target::Object(tip)),
                None => PreviousValue::MustNotExist,
            },
            new: Target::Object(commit),
        },
        name: name
            .as_str()
            .try_into()
            .with_context(|| format!("invalid branch name {}", update.target_branch))?,
        deref: false,
    };
    if let Err(err) = repo.edit_references_as(Some(edit), Some(committer)) {
        // Whatever the failure (out of date, created or deleted meanwhile, lock
        // held by the writer that won), a branch that no longer points where we
        // started is a lost race; anything else is a plain error.
        let found = branch_tip(repo, update.target_branch)?;
        if found != update.expected_tip {
            return Err(LostRace {
                branch: update.target_branch.to_string(),
                expected: update.expected_tip,
                found,
            }
            .into());
        }
        return Err(anyhow::Error::new(err).context(format!("updating {name}")));
    }
    Ok(Published::Committed { commit, tree: new_tree })
}

/// Writes a commit on top of `parent` (or a root commit) whose tree is the
/// parent's tree with each directory of `dirs` replaced by its files (an empty
/// map removes the directory), and returns the commit and its tree; no
/// reference moves. `None` when the tree would not change: no object is
/// written for the commit then.
///
/// Directories must be distinct, non-empty and not nested in one another, so
/// that the order of replacement cannot matter.
pub fn commit_dirs(
    repo: &gix::Repository,
    parent: Option<ObjectId>,
    dirs: &[(&str, &BTreeMap<String, Vec<u8>>)],
    author: &Identity,
    message: &str,
) -> anyhow::Result<Option<(ObjectId, ObjectId)>> {
    let mut normal = Vec::with_capacity(dirs.len());
    for (dir, files) in dirs {
        let dir = normalised(dir).with_context(|| format!("invalid target directory {dir:?}"))?;
        if dir.is_empty() {
            bail!("the target directory must not be the root of the branch");
        }
        check_files(files)?;
        normal.push((dir, *files));
    }
    for (i, (a, _)) in normal.iter().enumerate() {
        for (b, _) in &normal[i + 1..] {
            if a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/")) {
                bail!("target directories {a:?} and {b:?} overlap");
            }
        }
    }

    let old_tree = match parent {
        Some(tip) => commit_tree(repo, tip)?,
        None => ObjectId::empty_tree(repo.object_hash()),
    };
    let mut editor =
        repo.edit_tree(old_tree).with_context(|| format!("reading tree {old_tree}"))?;
    for (target_dir, files) in &normal {
        editor.remove(target_dir.as_str()).with_context(|| format!("removing {target_dir}"))?;
        for (path, contents) in *files {
            let blob = repo
                .write_blob(contents)
                .with_context(|| format!("writing {target_dir}/{path}"))?;
            editor
                .upsert(format!("{target_dir}/{path}").as_str(), GitKind::Blob, blob)
                .with_context(|| format!("adding {target_dir}/{path}"))?;
        }
    }
    let new_tree = editor.write().context("writing the new tree")?.detach();
    if new_tree == old_tree {
        return Ok(None);
    }

    let signature = author.signature();
    let (mut committer_time, mut author_time) = Default::default();
    let commit = repo
        .new_commit_as(
            signature.to_ref(&mut committer_time),
            signature.to_ref(&mut author_time),
            message,
            new_tree,
            parent,
        )
        .context("writing the commit")?
        .id;
    Ok(Some((commit, new_tree)))
}

/// `body` followed by the provenance trailers [`last_provenance`] reads back.
pub fn with_provenance(body: &str, source_branch: &str, source_commit: ObjectId) -> String {
    let body = body.trim_end();
    let body = if body.is_empty() { format!("Render {source_branch}") } else { body.to_string() };
    format!(
        "{body}\n\n{SOURCE_BRANCH_TRAILER}: {source_branch}\n{SOURCE_COMMIT_TRAILER}: {source_commit}\n"
    )
}

/// `body` followed by one `Source-Branch`/`Source-Commit` trailer pair per source
/// and a `Kiln-Version` trailer; [`provenance`] reads them back.
pub fn with_provenance_all(body: &str, provenance: &Provenance) -> String {
    let mut out = body.trim_end().to_string();
    if out.is_empty() {
        out.push_str("Render");
    }
    out.push_str("\n\n");
    for (branch, commit) in &provenance.sources {
        out.push_str(&format!(
            "{SOURCE_BRANCH_TRAILER}: {branch}\n{SOURCE_COMMIT_TRAILER}: {commit}\n"
        ));
    }
    for (branch, (reference, commit)) in &provenance.refs {
        // A ref on more than one line names nothing git can resolve: it
        // never moves, so there is nothing to remember.
        if reference.contains(['\n', '\r']) {
            continue;
        }
        let commit = commit.map_or_else(|| "none".to_string(), |c| c.to_string());
        out.push_str(&format!("{SOURCE_REF_TRAILER}: {branch} {commit} {reference}\n"));
    }
    if let Some(version) = &provenance.kiln_version {
        out.push_str(&format!("{KILN_VERSION_TRAILER}: {version}\n"));
    }
    out
}

/// The provenance recorded in the trailers of commit `commit`; empty when it has none,
/// which means kiln did not make it.
pub fn provenance(repo: &gix::Repository, commit: ObjectId) -> anyhow::Result<Provenance> {
    let found = repo.find_commit(commit).with_context(|| format!("reading commit {commit}"))?;
    let message = found.message().with_context(|| format!("decoding the message of {commit}"))?;
    let mut out = Provenance::default();
    let Some(body) = message.body() else {
        return Ok(out);
    };
    let mut branch: Option<String> = None;
    for trailer in body.trailers() {
        let value = trailer.value.to_str_lossy().trim().to_string();
        if trailer.token.eq_ignore_ascii_case(SOURCE_BRANCH_TRAILER.as_bytes()) {
            branch = Some(value);
        } else if trailer.token.eq_ignore_ascii_case(SOURCE_COMMIT_TRAILER.as_bytes()) {
            let id = ObjectId::from_hex(value.as_bytes()).with_context(|| {
                format!("commit {commit}: {SOURCE_COMMIT_TRAILER} is not an object id")
            })?;
            if let Some(branch) = branch.take() {
                out.sources.push((branch, id));
            }
        } else if trailer.token.eq_ignore_ascii_case(KILN_VERSION_TRAILER.as_bytes()) {
            out.kiln_version = Some(value);
        } else if trailer.token.eq_ignore_ascii_case(SOURCE_REF_TRAILER.as_bytes()) {
            // One kiln did not write is ignored: at worst the branch is
            // rendered again.
            let mut parts = value.splitn(3, ' ');
            let (Some(branch), Some(id), Some(reference)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let id = match id {
                "none" => None,
                hex => match ObjectId::from_hex(hex.as_bytes()) {
                    Ok(id) => Some(id),
                    Err(_) => continue,
                },
            };
            out.refs.push((branch.to_string(), (reference.to_string(), id)));
        }
    }
    Ok(out)
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
