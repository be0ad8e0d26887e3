//! Acting on a verdict: revert a failed release (and quarantine its tags), or record a good one as production.
//!
//! A revert makes one commit on the source branch whose tree is the branch
//! tip with the release's changes undone (`merge_trees(base = release,
//! ours = tip, theirs = production)`, the way `git revert` works), plus the
//! release's new unique tags added to [`crate::quarantine::PATH`]. The target
//! directory is restored at once to the last rendered tree that succeeded;
//! the next render of the source branch gives the same tree, so the applier
//! and the renderer agree. Success fast-forwards the production branch (`main`)
//! to the source commit that was deployed, so it always names what runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use gix::objs::tree::EntryKind as GitKind;
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
use promoter::rewrite::{self, Field};
use promoter::tag::Tag;
use renderer::tree::Tree;

use crate::daemon::publish::{
    Identity, Published, SOURCE_COMMIT_TRAILER, Update, publish, with_provenance,
};
use crate::daemon::repo::{branch_ref, branch_tip, commit_tree, open};
use crate::daemon::tree::GitTree;
use crate::quarantine::{self, Entry, Quarantine};
use crate::verify::FailedObject;
use crate::verify::kube::files_under;

/// The trailer naming the source commit a revert undoes.
pub const REVERTS_TRAILER: &str = "Reverts-Commit";
/// The trailer naming the rendered commit whose deploy failed.
pub const FAILED_RENDERED_TRAILER: &str = "Failed-Rendered-Commit";
/// The trailer carrying the failure's one-line reason.
pub const REASON_TRAILER: &str = "Failure-Reason";
/// The trailer naming one failed object (repeated).
pub const FAILED_OBJECT_TRAILER: &str = "Failed-Object";
/// The trailer naming one quarantined `image:tag` (repeated).
pub const QUARANTINED_TRAILER: &str = "Quarantined-Tag";

/// The branches and directory a revert or promotion works on.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The repository holding all branches.
    pub repo: &'a Path,
    /// The branch releases are made on and reverted on.
    pub source_branch: &'a str,
    /// The branch holding rendered output.
    pub target_branch: &'a str,
    /// The directory of the target branch with the rendered output.
    pub target_dir: &'a str,
    /// The branch that names production (fast-forwarded on success); `None`
    /// for an environment other than production, whose failed release is undone
    /// alone (not everything since production) and whose directory the next
    /// render restores.
    pub main_branch: Option<&'a str>,
    /// Author and committer of the commits made.
    pub author: &'a Identity,
}

/// What [`revert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reverted {
    /// The source commit whose release was reverted.
    pub release: ObjectId,
    /// The rendered commit whose deploy failed, where known.
    pub rendered: Option<ObjectId>,
    /// The revert commit now at the tip of the source branch.
    pub revert: ObjectId,
    /// The tags added to the quarantine.
    pub quarantined: Vec<Entry>,
    /// The restoration of the target directory: `None` when no rendered tree
    /// ever succeeded (no production branch yet), so only the next render restores it.
    pub restored: Option<Published>,
}

/// What [`promote`] did to the production branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promoted {
    /// It already pointed to the commit.
    Unchanged,
    /// It did not exist and was created at the commit.
    Created,
    /// It was fast-forwarded from `from`.
    Moved {
        /// Where it pointed before.
        from: ObjectId,
    },
}

/// The source commit recorded in `commit`'s `Source-Commit` trailer, if it is a rendered commit.
pub fn source_of(repo: &gix::Repository, commit: ObjectId) -> anyhow::Result<Option<ObjectId>> {
    let object = repo.find_commit(commit).with_context(|| format!("reading commit {commit}"))?;
    let message =
        object.message_raw().with_context(|| format!("reading the message of {commit}"))?;
    let message = gix::objs::commit::MessageRef::from_bytes(message);
    let Some(body) = message.body() else {
        return Ok(None);
    };
    for trailer in body.trailers() {
        if trailer.token.eq_ignore_ascii_case(SOURCE_COMMIT_TRAILER.as_bytes()) {
            let id = ObjectId::from_hex(trailer.value.as_bytes()).with_context(|| {
                format!("commit {commit}: {SOURCE_COMMIT_TRAILER} is not an object id")
            })?;
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Whether `ancestor` is `of` or one of its ancestors.
fn is_ancestor(repo: &gix::Repository, ancestor: ObjectId, of: ObjectId) -> anyhow::Result<bool> {
    if ancestor == of {
        return Ok(true);
    }
    for info in repo.rev_walk([of]).all().with_context(|| format!("walking history of {of}"))? {
        if info.with_context(|| format!("walking history of {of}"))?.id == ancestor {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Fast-forwards `main_branch` to `commit` (creating it if missing), with compare-and-swap.
///
/// Refuses when the branch has commits `commit` does not contain: production
/// only ever moves forward along the source history.
pub fn promote(
    repo: &gix::Repository,
    main_branch: &str,
    commit: ObjectId,
    author: &Identity,
) -> anyhow::Result<Promoted> {
    let current = branch_tip(repo, main_branch)?;
    match current {
        Some(tip) if tip == commit => return Ok(Promoted::Unchanged),
        Some(tip) if !is_ancestor(repo, tip, commit)? => {
            bail!("{main_branch} ({tip}) is not an ancestor of {commit}: refusing to move it")
        }
        _ => {}
    }
    move_branch(repo, main_branch, current, commit, author, "record production")?;
    Ok(current.map_or(Promoted::Created, |from| Promoted::Moved { from }))
}

/// Points `branch` at `new` if it still points at `expected` (`None`: must not exist).
fn move_branch(
    repo: &gix::Repository,
    branch: &str,
    expected: Option<ObjectId>,
    new: ObjectId,
    author: &Identity,
    why: &str,
) -> anyhow::Result<()> {
    let name = branch_ref(branch);
    let signature = author.signature();
    let mut time = Default::default();
    let edit = RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: format!("kiln: {why}").into(),
            },
            expected: match expected {
                Some(tip) => PreviousValue::MustExistAndMatch(Target::Object(tip)),
                None => PreviousValue::MustNotExist,
            },
            new: Target::Object(new),
        },
        name: name.as_str().try_into().with_context(|| format!("invalid branch name {branch}"))?,
        deref: false,
    };
    repo.edit_references_as(Some(edit), Some(signature.to_ref(&mut time)))
        .with_context(|| format!("updating {name} (did it move meanwhile?)"))?;
    Ok(())
}

/// Reverts the release that `failed` names: a rendered commit of the target
/// branch (its `Source-Commit` is the release) or a source commit.
///
/// Makes the revert commit on the source branch (message naming the failed
/// commit, `reason` and `objects`, with trailers), quarantines the unique tags
/// the release introduced, and restores the target directory to the last
/// rendered tree whose source was production.
pub fn revert(
    cx: &Context<'_>,
    failed: ObjectId,
    reason: &str,
    objects: &[FailedObject],
) -> anyhow::Result<Reverted> {
    let repo = open(cx.repo)?;
    let (release, rendered) = match source_for(&repo, failed, cx.source_branch)? {
        Some(source) => (source, Some(failed)),
        None => (failed, find_rendered(&repo, cx.target_branch, cx.source_branch, failed)?),
    };
    let tip = branch_tip(&repo, cx.source_branch)?
        .with_context(|| format!("source branch {} does not exist", cx.source_branch))?;
    if !is_ancestor(&repo, release, tip)? {
        bail!("{release} is not on source branch {}", cx.source_branch);
    }
    let production = match cx.main_branch {
        Some(main) => branch_tip(&repo, main)?,
        None => None,
    };
    if production == Some(release) {
        bail!(
            "{release} is production ({}): refusing to revert it",
            cx.main_branch.unwrap_or_default()
        );
    }
    // Undo everything since production when production is behind the release;
    // otherwise (no production yet) undo the release commit alone.
    let good = match production {
        Some(p) if is_ancestor(&repo, p, release)? => p,
        _ => {
            let commit = repo.find_commit(release).with_context(|| format!("reading {release}"))?;
            commit
                .parent_ids()
                .next()
                .with_context(|| format!("{release} has no parent to revert to"))?
                .detach()
        }
    };
    let release_tree = commit_tree(&repo, release)?;
    let good_tree = commit_tree(&repo, good)?;
    let tip_tree = commit_tree(&repo, tip)?;

    let options = repo.tree_merge_options().context("reading merge options")?;
    let mut outcome = repo
        .merge_trees(release_tree, tip_tree, good_tree, Default::default(), options)
        .with_context(|| format!("reverting {release} onto {tip}"))?;
    if outcome.has_unresolved_conflicts(gix::merge::tree::TreatAsUnresolved::git()) {
        let paths: BTreeSet<String> = outcome
            .conflicts
            .iter()
            .map(|c| c.ours.location().to_str_lossy().into_owned())
            .collect();
        bail!(
            "reverting {release} conflicts with later commits on {} in {}: revert by hand",
            cx.source_branch,
            paths.into_iter().collect::<Vec<_>>().join(", ")
        );
    }

    let summary = one_line(reason);
    let tip_files = GitTree::at_tree(&repo, tip_tree)?;
    let mut record = Quarantine::load(&tip_files)?;
    let mut quarantined = vec![];
    for (image, tag) in new_unique_tags(
        &GitTree::at_tree(&repo, good_tree)?,
        &GitTree::at_tree(&repo, release_tree)?,
    )? {
        let entry = Entry { tag, image, commit: release.to_string(), reason: summary.clone() };
        if record.add(entry.clone()) {
            quarantined.push(entry);
        }
    }
    if !quarantined.is_empty() {
        let blob =
            repo.write_blob(record.to_yaml().as_bytes()).context("writing the quarantine")?;
        outcome
            .tree
            .upsert(quarantine::PATH, GitKind::Blob, blob)
            .context("adding the quarantine to the revert")?;
    }
    let new_tree = outcome.tree.write().context("writing the revert tree")?.detach();

    let message = revert_message(release, rendered, &summary, objects, &quarantined);
    let sig = cx.author.signature();
    let (mut t1, mut t2) = Default::default();
    let revert = repo
        .new_commit_as(
            sig.to_ref(&mut t1),
            sig.to_ref(&mut t2),
            message.as_str(),
            new_tree,
            Some(tip),
        )
        .context("writing the revert commit")?
        .id;
    move_branch(&repo, cx.source_branch, Some(tip), revert, cx.author, "revert failed release")?;

    let restored = match production {
        Some(production) => restore_target(&repo, cx, production, revert, &message)?,
        None => None,
    };
    Ok(Reverted { release, rendered, revert, quarantined, restored })
}

/// Puts the target directory of the last rendered commit made from `production` back.
fn restore_target(
    repo: &gix::Repository,
    cx: &Context<'_>,
    production: ObjectId,
    revert: ObjectId,
    revert_message: &str,
) -> anyhow::Result<Option<Published>> {
    let Some(good) = find_rendered(repo, cx.target_branch, cx.source_branch, production)? else {
        return Ok(None);
    };
    let tree = GitTree::at_commit(repo, good)?;
    let paths = match tree.kind(cx.target_dir) {
        Some(_) => files_under(&tree, cx.target_dir)?,
        None => vec![],
    };
    let mut files = BTreeMap::new();
    for path in paths {
        let contents = tree.read(&path).with_context(|| format!("reading {path} at {good}"))?;
        let relative = path.strip_prefix(&format!("{}/", cx.target_dir)).unwrap_or(&path);
        files.insert(relative.to_string(), contents);
    }
    let subject = revert_message.lines().next().unwrap_or_default();
    let body = format!("{subject}\n\nRestores {} as rendered in {good}.", cx.target_dir);
    let message = with_provenance(&body, cx.source_branch, revert);
    let update = Update {
        target_branch: cx.target_branch,
        expected_tip: branch_tip(repo, cx.target_branch)?,
        target_dir: cx.target_dir,
        files: &files,
        author: cx.author,
        message: &message,
    };
    Ok(Some(publish(repo, &update)?))
}

/// The source commit of `source_branch` that the rendered commit `commit`
/// records; for a commit that records a single source under another branch
/// name, that source; `None` for a commit that is not rendered, or that
/// renders several branches but not this one.
fn source_for(
    repo: &gix::Repository,
    commit: ObjectId,
    source_branch: &str,
) -> anyhow::Result<Option<ObjectId>> {
    let recorded = crate::daemon::publish::provenance(repo, commit)?;
    match recorded.source(source_branch) {
        Some(source) => Ok(Some(source)),
        None if recorded.sources.len() <= 1 => source_of(repo, commit),
        None => Ok(None),
    }
}

/// The newest commit of `target_branch` (first parents) that rendered `source`
/// of `source_branch` (a commit rendering several branches records each).
fn find_rendered(
    repo: &gix::Repository,
    target_branch: &str,
    source_branch: &str,
    source: ObjectId,
) -> anyhow::Result<Option<ObjectId>> {
    let Some(tip) = branch_tip(repo, target_branch)? else {
        return Ok(None);
    };
    let walk =
        repo.rev_walk([tip]).first_parent_only().all().context("walking the target branch")?;
    for info in walk {
        let id = info.context("walking the target branch")?.id;
        if source_for(repo, id, source_branch)? == Some(source) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// `(image, tag)` for every unique tag in a YAML file of `after` that the same file of `before` does not have.
fn new_unique_tags(before: &dyn Tree, after: &dyn Tree) -> anyhow::Result<Vec<(String, String)>> {
    let paths = files_under(after, "")?;
    let mut out = vec![];
    for path in paths {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) || path == quarantine::PATH {
            continue;
        }
        let new = after.read(&path)?;
        let old = before.read(&path).unwrap_or_default();
        if new == old {
            continue;
        }
        let old_tags: BTreeSet<(String, String)> = tags_in(&old).into_iter().collect();
        for pair in tags_in(&new) {
            if !old_tags.contains(&pair) && !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    Ok(out)
}

/// `(image, tag)` of the unique tags in a YAML file; files that are not YAML give none.
fn tags_in(bytes: &[u8]) -> Vec<(String, String)> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return vec![];
    };
    let Ok(refs) = rewrite::find(text) else {
        return vec![];
    };
    refs.into_iter()
        .filter_map(|r| {
            let tag = match r.field {
                Field::Image => rewrite::split_reference(&r.value).1?.to_string(),
                Field::Tag => r.value.clone(),
                Field::Name | Field::Digest => return None,
            };
            matches!(Tag::parse(&tag), Tag::Unique(_)).then(|| (r.image.unwrap_or_default(), tag))
        })
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn revert_message(
    release: ObjectId,
    rendered: Option<ObjectId>,
    reason: &str,
    objects: &[FailedObject],
    quarantined: &[Entry],
) -> String {
    let short = release.to_hex_with_len(12);
    let mut m = format!("Revert release {short}: deploy failed\n\n");
    match rendered {
        Some(r) => {
            m.push_str(&format!("The deploy of rendered commit {r} (source {release}) failed.\n"))
        }
        None => m.push_str(&format!("The deploy of source commit {release} failed.\n")),
    }
    m.push_str(&format!("Reason: {reason}\n"));
    if !objects.is_empty() {
        m.push_str("\nFailed objects:\n");
        for o in objects {
            m.push_str(&format!("- {}\n", one_line(&o.to_string())));
        }
    }
    if !quarantined.is_empty() {
        m.push_str("\nQuarantined tags (kiln quarantine release TAG to allow again):\n");
        for e in quarantined {
            m.push_str(&format!("- {}:{}\n", e.image, e.tag));
        }
    }
    m.push_str(&format!("\n{REVERTS_TRAILER}: {release}\n"));
    if let Some(r) = rendered {
        m.push_str(&format!("{FAILED_RENDERED_TRAILER}: {r}\n"));
    }
    m.push_str(&format!("{REASON_TRAILER}: {reason}\n"));
    for o in objects {
        let label = if o.namespace.is_empty() {
            format!("{}/{}", o.kind, o.name)
        } else {
            format!("{}/{}/{}", o.kind, o.namespace, o.name)
        };
        m.push_str(&format!("{FAILED_OBJECT_TRAILER}: {label}\n"));
    }
    for e in quarantined {
        m.push_str(&format!("{QUARANTINED_TRAILER}: {}:{}\n", e.image, e.tag));
    }
    m
}

/// Commits a new quarantine record on `branch` (compare-and-swap on its tip); `None` if unchanged.
pub fn commit_quarantine(
    repo: &gix::Repository,
    branch: &str,
    author: &Identity,
    message: &str,
    change: impl FnOnce(&mut Quarantine) -> bool,
) -> anyhow::Result<Option<ObjectId>> {
    let tip =
        branch_tip(repo, branch)?.with_context(|| format!("branch {branch} does not exist"))?;
    let tree = commit_tree(repo, tip)?;
    let mut record = Quarantine::load(&GitTree::at_tree(repo, tree)?)?;
    if !change(&mut record) {
        return Ok(None);
    }
    let blob = repo.write_blob(record.to_yaml().as_bytes()).context("writing the quarantine")?;
    let mut editor = repo.edit_tree(tree).with_context(|| format!("reading tree {tree}"))?;
    editor.upsert(quarantine::PATH, GitKind::Blob, blob).context("updating the quarantine")?;
    let new_tree = editor.write().context("writing the tree")?.detach();
    let sig = author.signature();
    let (mut t1, mut t2) = Default::default();
    let commit = repo
        .new_commit_as(sig.to_ref(&mut t1), sig.to_ref(&mut t2), message, new_tree, Some(tip))
        .context("writing the commit")?
        .id;
    move_branch(repo, branch, Some(tip), commit, author, "update quarantine")?;
    Ok(Some(commit))
}

/// What [`act`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// The deploy succeeded and production was moved (or already there).
    Promoted {
        /// The source commit now production.
        source: ObjectId,
        /// What happened to the production branch.
        how: Promoted,
    },
    /// The deploy failed and the release was reverted.
    Reverted(Reverted),
    /// Nothing to do: a timeout configured to do nothing, or a success in an
    /// environment that is not production.
    Nothing,
}

/// Acts on `verdict` for the rendered commit `rendered`: promote on success,
/// revert on failure, timeouts as `on_timeout` says.
pub fn act(
    cx: &Context<'_>,
    rendered: ObjectId,
    verdict: &crate::verify::Verdict,
    on_timeout: crate::verify::OnTimeout,
) -> anyhow::Result<Acted> {
    use crate::verify::Action;
    match verdict.action(on_timeout) {
        Action::Promote => {
            let Some(main) = cx.main_branch else { return Ok(Acted::Nothing) };
            let repo = open(cx.repo)?;
            let source = source_for(&repo, rendered, cx.source_branch)?.with_context(|| {
                format!("rendered commit {rendered} has no {SOURCE_COMMIT_TRAILER} trailer")
            })?;
            let how = promote(&repo, main, source, cx.author)?;
            Ok(Acted::Promoted { source, how })
        }
        Action::Revert => {
            let (reason, objects) = verdict.failure().unwrap_or_default();
            Ok(Acted::Reverted(revert(cx, rendered, &reason, &objects)?))
        }
        Action::Nothing => Ok(Acted::Nothing),
    }
}

/// A commit given on the command line: a full 40-hex id or a branch name.
pub fn resolve(repo: &gix::Repository, text: &str) -> anyhow::Result<ObjectId> {
    if text.len() == 40 {
        if let Ok(id) = ObjectId::from_hex(text.as_bytes()) {
            repo.find_commit(id).with_context(|| format!("{text} is not a commit here"))?;
            return Ok(id);
        }
    }
    branch_tip(repo, text)?
        .with_context(|| format!("{text} is neither a full commit id nor a branch"))
}
