//! One watch cycle: fetch, render the source branches that moved, one commit for every changed directory, push with a lease.
//!
//! The watcher keeps a bare mirror of its own (`workdir`) into which it
//! fetches the source branches (`refs/kiln/source/*`), the source
//! repository's tags (`refs/kiln/tags/*`) and the target branch,
//! writes the rendered commit, and from which it pushes. All the state that
//! matters lives in the target branch itself: each commit kiln makes carries
//! one `Source-Branch`/`Source-Commit` trailer pair per source branch and a
//! `Kiln-Version` trailer, and one `Source-Ref` trailer per other ref a
//! branch's render read (a Flux v1 `spec.chart.ref`) with the commit it
//! named, so a restarted watcher knows what is rendered, and from which
//! refs, without any local file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use renderer::cache::UnitCache;
use renderer::tree::{EntryKind, Tree};

use super::inputs::{Inputs, Recording};
use super::metrics::{Failure, Metrics};
use super::publish::{Identity, Provenance, commit_dirs, provenance, with_provenance_all};
use super::remote::{Pushed, Remote};
use super::repo::{commit_tree, open};
use super::revisions::{GitRevisions, RefRead};
use super::sync::Source;
use super::tree::GitTree;
use super::units::UnitStore;

/// The version recorded in every commit; a different version re-renders everything.
pub const KILN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the source branches are fetched to in the mirror.
const SOURCE_REFSPEC: &str = "+refs/heads/*:refs/kiln/source/*";

/// Where the source repository's tags are fetched to in the mirror: a Flux
/// v1 `spec.chart.ref` may name one (see [`super::revisions`]).
const TAGS_REFSPEC: &str = "+refs/tags/*:refs/kiln/tags/*";

/// The mirror's copies of the source repository's tags.
const TAGS_PREFIX: &str = "refs/kiln/tags/";

/// What is fetched from the source repository: its branches and its tags.
fn source_refspecs() -> Vec<String> {
    vec![SOURCE_REFSPEC.to_string(), TAGS_REFSPEC.to_string()]
}

/// The index file the renderer writes at the top of each target directory.
const INDEX_FILE: &str = "kiln-index.yaml";

/// Rendered files of one branch: paths relative to its target directory, to contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The refs of the watched repository a render may read beyond the tree
/// (Flux v1 `spec.chart.ref`), for [`renderer::Options::revisions`].
pub type RepoRevisions = Option<Arc<dyn renderer::revisions::Revisions>>;

/// Renders a source tree for a target directory, handing unit builds to the
/// cache (see [`renderer::cache`]) and other refs of the repository to the
/// renderer; called from a blocking thread.
pub type RenderFn = dyn Fn(&dyn Tree, &dyn UnitCache, &Source, &str, RepoRevisions) -> anyhow::Result<Files>
    + Send
    + Sync;

/// The default commit message template (minijinja).
pub const DEFAULT_MESSAGE: &str = "Render {% for c in changes %}{{ c.branch }} at {{ c.short }}{% if not loop.last %}, {% endif %}{% endfor %}\n\n{% for c in changes %}{{ c.branch }} -> {{ c.dir }}: {{ c.subject }} ({{ c.author }})\n{% for i in c.images %}  image {{ i.image }}: {{ i.from }} -> {{ i.to }}\n{% endfor %}{% for u in c.units %}  {{ u }}\n{% endfor %}{% endfor %}";

/// The render function of `kiln watch`: every cluster of the Flux layout,
/// laid out as files. The source commit is left out of the index file on
/// purpose: it is in the commit's trailers, and keeping it out of the files
/// lets a push that changes nothing rendered make no commit.
pub fn render_flux(
    tree: &dyn Tree,
    cache: &dyn UnitCache,
    source: &Source,
    target_dir: &str,
    options: &renderer::Options,
) -> anyhow::Result<Files> {
    let rendered = renderer::render_with(tree, options, cache)?;
    let provenance = renderer::output::Provenance {
        source_branch: Some(source.branch.clone()),
        source_commit: None,
        target_dir: target_dir.to_string(),
    };
    Ok(renderer::output::files(&rendered, &provenance))
}

/// One source branch and the directory of the target branch it is rendered into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchMap {
    /// The source branch, without `refs/heads/`.
    pub source: String,
    /// The target directory, relative to the root of the target branch.
    pub dir: String,
}

/// What the watcher watches and where it writes.
#[derive(Debug, Clone)]
pub struct Config {
    /// The repository holding the source branches.
    pub source: Remote,
    /// The repository receiving the target branch (often the same as `source`).
    pub target: Remote,
    /// Source branches and their target directories.
    pub branches: Vec<BranchMap>,
    /// The branch receiving rendered YAML.
    pub target_branch: String,
    /// Author and committer of rendered commits.
    pub author: Identity,
    /// The commit message template (minijinja).
    pub message: String,
    /// Accept a render in which a unit that had objects has none.
    pub allow_empty: bool,
    /// Write into a target branch whose tip kiln did not make.
    pub adopt: bool,
    /// How many times a push rejected by a racing writer is rebuilt and retried.
    pub push_attempts: u32,
    /// The watcher's own bare mirror.
    pub workdir: PathBuf,
    /// Directories outside the repository that renders read (a chart cache,
    /// installed Terraform modules given on the command line): when one
    /// changes, every branch is rendered again.
    pub outside: Vec<PathBuf>,
}

/// What one cycle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CycleOutcome {
    /// Nothing to commit: every branch is up to date or failed to render.
    Unchanged,
    /// A commit was pushed.
    Committed {
        /// The new tip of the target branch.
        commit: ObjectId,
        /// The source branches whose directories changed.
        branches: Vec<String>,
        /// Pushes it took (more than one after losing races).
        attempts: u32,
    },
}

/// The watcher: configuration, render function, caches, and the metrics it reports to.
pub struct Watcher {
    config: Config,
    render: Arc<RenderFn>,
    metrics: Arc<Metrics>,
    /// Per source branch: the last render, its inputs and its files.
    cache: HashMap<String, Cached>,
    /// Per source branch: the unit builds of its renders.
    units: HashMap<String, UnitStore>,
    /// Per source branch: (source commit, target tip) pairs known to need no
    /// commit, so an unchanged render is not redone every cycle.
    settled: HashMap<String, (ObjectId, Option<ObjectId>)>,
    /// Per source branch: the other refs its last render read (Flux v1
    /// charts at `spec.chart.ref`) and their commits then; when one moves,
    /// the branch is rendered again though its own tip did not.
    refs_read: HashMap<String, Vec<RefRead>>,
    /// Set when the process is asked to stop: the cycle is abandoned before it pushes.
    interrupt: Arc<AtomicBool>,
    repo: Option<gix::Repository>,
    /// The state of [`Config::outside`] the renders above were made from.
    outside: Option<OutsideStamp>,
    /// Whether [`Config::outside`] changed since the last cycle (or this is
    /// the first): every branch is rendered again, whatever the target
    /// records of the commits it was rendered from.
    outside_changed: bool,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The last render of a branch: reused while the tree or the inputs it read are unchanged.
struct Cached {
    tree: ObjectId,
    inputs: Inputs,
    files: Arc<Files>,
}

/// A branch ready to be written: its directory, files and source.
struct Change {
    map: BranchMap,
    source: Source,
    author: String,
    files: Arc<Files>,
}

impl Watcher {
    /// A watcher; nothing is touched until the first [`Watcher::cycle`].
    pub fn new(
        config: Config,
        render: Arc<RenderFn>,
        metrics: Arc<Metrics>,
        interrupt: Arc<AtomicBool>,
    ) -> Self {
        Watcher {
            config,
            render,
            metrics,
            cache: HashMap::new(),
            units: HashMap::new(),
            settled: HashMap::new(),
            refs_read: HashMap::new(),
            interrupt,
            repo: None,
            outside: None,
            outside_changed: false,
        }
    }

    /// The metrics this watcher reports to.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The mirror, created on first use. Lock files left by a process killed
    /// mid-update are removed: the mirror belongs to this watcher alone.
    fn repo(&mut self) -> anyhow::Result<gix::Repository> {
        if let Some(repo) = &self.repo {
            return Ok(repo.clone());
        }
        let dir = &self.config.workdir;
        let reopened = if dir.join("HEAD").is_file() {
            remove_stale_locks(dir);
            // A mirror half-created by a killed process is made again: it holds
            // nothing that the remotes do not.
            open(dir).ok()
        } else {
            None
        };
        let repo = if let Some(repo) = reopened {
            repo
        } else {
            if dir.join("HEAD").is_file() || dir.join("objects").is_dir() {
                std::fs::remove_dir_all(dir)
                    .with_context(|| format!("removing the broken mirror {}", dir.display()))?;
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the work directory {}", dir.display()))?;
            gix::init_bare(dir)
                .with_context(|| format!("creating a mirror in {}", dir.display()))?;
            open(dir)?
        };
        self.repo = Some(repo.clone());
        Ok(repo)
    }

    fn same_remote(&self) -> bool {
        self.config.source.url == self.config.target.url
    }

    /// Where the fetched target branch lives in the mirror.
    fn target_ref(&self) -> String {
        if self.same_remote() {
            format!("refs/kiln/source/{}", self.config.target_branch)
        } else {
            format!("refs/kiln/target/{}", self.config.target_branch)
        }
    }

    /// Fetches the target branch (all branches when source and target are one repository).
    fn fetch_target(&self, repo: &gix::Repository) -> anyhow::Result<()> {
        if self.same_remote() {
            return self.fetch_source_refs(repo);
        }
        let branch = &self.config.target_branch;
        let spec = format!("+refs/heads/{branch}:refs/kiln/target/{branch}");
        let fetched = self.config.target.fetch(repo, &[spec], &self.interrupt)?;
        self.prune(repo, fetched.as_ref(), "refs/kiln/target/")
    }

    /// Fetches the source repository's branches and tags, and removes the
    /// copies of watched branches and of tags that it no longer has.
    fn fetch_source_refs(&self, repo: &gix::Repository) -> anyhow::Result<()> {
        let fetched = self.config.source.fetch(repo, &source_refspecs(), &self.interrupt)?;
        self.prune(repo, fetched.as_ref(), "refs/kiln/source/")?;
        let Some(fetched) = fetched else {
            return Ok(());
        };
        let mut gone = Vec::new();
        let platform = repo.references().context("listing the mirror's tags")?;
        for reference in platform.prefixed(TAGS_PREFIX).context("listing the mirror's tags")? {
            let reference = reference.map_err(|e| anyhow!("listing the mirror's tags: {e}"))?;
            let name = reference.name().as_bstr().to_str_lossy().into_owned();
            if !fetched.contains(&name) {
                gone.push(name);
            }
        }
        for name in gone {
            delete_ref(repo, &name)?;
        }
        Ok(())
    }

    /// Fetches the source branches, and the target when it lives in the same repository.
    fn fetch_source(&self, repo: &gix::Repository) -> anyhow::Result<()> {
        self.fetch_source_refs(repo)?;
        if self.same_remote() { Ok(()) } else { self.fetch_target(repo) }
    }

    /// Removes the local copies below `prefix` of the watched branches that the
    /// fetch into `prefix` found no longer on the remote.
    fn prune(
        &self,
        repo: &gix::Repository,
        fetched: Option<&BTreeSet<String>>,
        prefix: &str,
    ) -> anyhow::Result<()> {
        let Some(fetched) = fetched else {
            return Ok(());
        };
        let mut ours: Vec<String> =
            self.config.branches.iter().map(|b| format!("refs/kiln/source/{}", b.source)).collect();
        ours.push(self.target_ref());
        for name in ours {
            if name.starts_with(prefix)
                && !fetched.contains(&name)
                && ref_tip(repo, &name)?.is_some()
            {
                delete_ref(repo, &name)?;
            }
        }
        Ok(())
    }

    /// Runs one cycle. Errors of single branches (render, safety rails) are
    /// recorded in the metrics and leave that branch's directory alone; the
    /// cycle fails only when nothing can be done (fetch, push, a foreign target).
    pub fn cycle(&mut self) -> anyhow::Result<CycleOutcome> {
        let start = Instant::now();
        let result = self.cycle_inner();
        let error = result.as_ref().err().map(|e| format!("{e:#}"));
        self.metrics.cycle(start.elapsed().as_secs_f64(), error);
        result
    }

    fn cycle_inner(&mut self) -> anyhow::Result<CycleOutcome> {
        let repo = self.repo()?;
        let start = Instant::now();
        if let Err(e) = self.fetch_source(&repo).context("fetching the source and target branches")
        {
            self.metrics.failure(Failure::Fetch);
            return Err(e);
        }
        let fetch_ms = start.elapsed().as_millis();
        self.check_outside();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let target_tip = ref_tip(&repo, &self.target_ref())?;
            let start = Instant::now();
            let built = self.build(&repo, target_tip)?;
            let build_ms = start.elapsed().as_millis();
            let Some((commit, branches)) = built else {
                self.metrics.target_tip(target_tip.map(|t| t.to_string()));
                self.mark_success(&repo, target_tip)?;
                return Ok(CycleOutcome::Unchanged);
            };
            if self.interrupt.load(Ordering::SeqCst) {
                bail!("stopping: the cycle was abandoned before its push");
            }
            let start = Instant::now();
            let pushed =
                self.config.target.push(&repo, &self.config.target_branch, target_tip, commit);
            let push_ms = start.elapsed().as_millis();
            match pushed {
                Ok(Pushed::Updated) => {
                    self.metrics.push("updated");
                    self.metrics.commit();
                    set_ref(&repo, &self.target_ref(), commit)?;
                    self.metrics.target_tip(Some(commit.to_string()));
                    self.mark_success(&repo, Some(commit))?;
                    tracing::info!(
                        %commit,
                        ?branches,
                        attempts,
                        fetch_ms,
                        build_ms,
                        push_ms,
                        "pushed a rendered commit"
                    );
                    return Ok(CycleOutcome::Committed { commit, branches, attempts });
                }
                Ok(Pushed::Rejected { reason }) => {
                    self.metrics.push("rejected");
                    tracing::info!(reason, attempts, "push rejected: the target moved, rebuilding");
                    if attempts >= self.config.push_attempts {
                        bail!("push rejected {attempts} times ({reason}); giving up this cycle");
                    }
                    if let Err(e) = self.fetch_target(&repo) {
                        self.metrics.failure(Failure::Fetch);
                        return Err(e);
                    }
                }
                Err(e) => {
                    self.metrics.failure(Failure::Push);
                    return Err(e);
                }
            }
        }
    }

    /// Records, per branch, what the target branch at `tip` holds.
    fn mark_success(&self, repo: &gix::Repository, tip: Option<ObjectId>) -> anyhow::Result<()> {
        let recorded = match tip {
            Some(tip) => provenance(repo, tip)?,
            None => Provenance::default(),
        };
        let now = unix_now();
        for map in &self.config.branches {
            let rendered = recorded
                .source(&map.source)
                .or_else(|| self.settled.get(&map.source).map(|(c, _)| *c));
            self.metrics.branch(&map.source, |b| {
                b.last_rendered_commit = rendered.map(|c| c.to_string());
                if b.last_error.is_none() {
                    b.last_success = Some(now);
                }
            });
        }
        Ok(())
    }

    /// Renders what moved and writes one commit on top of `target_tip`; `None` when nothing changed.
    /// Notes whether a directory of [`Config::outside`] changed since the
    /// last cycle, and if so drops every render, unit build and settled pair:
    /// what a render read there is not among the inputs recorded from the
    /// repository. A watcher that starts with such directories renders every
    /// branch once, as they may have changed while it was not running.
    fn check_outside(&mut self) {
        if self.config.outside.is_empty() {
            return;
        }
        let now = OutsideStamp::of(&self.config.outside);
        self.outside_changed = self.outside.as_ref() != Some(&now);
        if self.outside_changed {
            if self.outside.is_some() {
                tracing::info!(dirs = ?self.config.outside, "a directory outside the repository changed: rendering every branch again");
            }
            self.cache.clear();
            self.units.clear();
            self.settled.clear();
        }
        self.outside = Some(now);
    }

    fn build(
        &mut self,
        repo: &gix::Repository,
        target_tip: Option<ObjectId>,
    ) -> anyhow::Result<Option<(ObjectId, Vec<String>)>> {
        let recorded = match target_tip {
            Some(tip) => provenance(repo, tip)?,
            None => Provenance::default(),
        };
        if let Some(tip) = target_tip {
            if recorded.sources.is_empty() && !self.config.adopt {
                self.metrics.failure(Failure::Safety);
                bail!(
                    "the tip {tip} of {} was not made by kiln (no Source-Commit trailer); pass --adopt to write into it",
                    self.config.target_branch
                );
            }
        }
        let same_version = recorded.kiln_version.as_deref() == Some(KILN_VERSION);
        let target_tree = match target_tip {
            Some(tip) => Some(GitTree::at_commit(repo, tip)?),
            None => None,
        };

        let mut changes = Vec::new();
        let mut sources =
            Provenance { kiln_version: Some(KILN_VERSION.into()), ..Default::default() };
        for map in self.config.branches.clone() {
            let branch = map.source.clone();
            let keep = recorded.source(&branch);
            // A restarted watcher learns from the target which other refs
            // the render it holds read, and at which commits.
            if !self.refs_read.contains_key(&branch) && keep.is_some() {
                self.refs_read.insert(branch.clone(), recorded.refs_of(&branch));
            }
            let Some(tip) = ref_tip(repo, &format!("refs/kiln/source/{branch}"))? else {
                self.branch_error(&branch, format!("source branch {branch} does not exist"));
                if let Some(c) = keep {
                    sources.sources.push((branch, c));
                }
                continue;
            };
            self.metrics.branch(&branch, |b| b.last_source_commit = Some(tip.to_string()));
            let refs_moved = self.refs_moved(repo, &branch);
            if !refs_moved
                && !self.outside_changed
                && ((keep == Some(tip) && same_version)
                    || self.settled.get(&branch) == Some(&(tip, target_tip)))
            {
                self.metrics.branch(&branch, |b| b.last_error = None);
                sources.sources.push((branch, tip));
                continue;
            }
            match self.render_branch(repo, &map, tip, target_tree.as_ref()) {
                Ok(change) => {
                    self.metrics.branch(&branch, |b| b.last_error = None);
                    sources.sources.push((branch, tip));
                    changes.push(change);
                }
                Err(e) => {
                    self.branch_error(&branch, format!("{e:#}"));
                    if let Some(c) = keep {
                        sources.sources.push((branch, c));
                    }
                }
            }
        }
        if changes.is_empty() {
            return Ok(None);
        }

        for (branch, _) in &sources.sources {
            for read in self.refs_read.get(branch).into_iter().flatten() {
                sources.refs.push((branch.clone(), read.clone()));
            }
        }
        let message = self.message(&changes, target_tree.as_ref())?;
        let message = with_provenance_all(&message, &sources);
        let dirs: Vec<(&str, &Files)> =
            changes.iter().map(|c| (c.map.dir.as_str(), c.files.as_ref())).collect();
        let written = commit_dirs(repo, target_tip, &dirs, &self.config.author, &message)?;
        let Some((commit, _tree)) = written else {
            // The renders equal what the target holds: remember that, so the
            // next cycle neither renders nor commits them again.
            for c in &changes {
                self.settled.insert(c.map.source.clone(), (c.source.commit, target_tip));
            }
            return Ok(None);
        };
        Ok(Some((commit, changes.iter().map(|c| c.map.source.clone()).collect())))
    }

    /// Whether a ref that the last render of `branch` read names another
    /// commit now.
    fn refs_moved(&self, repo: &gix::Repository, branch: &str) -> bool {
        let mirror = GitRevisions::of_mirror(repo, &self.config.source.url);
        self.refs_read.get(branch).is_some_and(|reads| mirror.moved(repo, reads))
    }

    fn branch_error(&self, branch: &str, error: String) {
        tracing::error!(
            branch,
            error,
            "branch not rendered; its target directory is left as it was"
        );
        self.metrics.branch(branch, |b| b.last_error = Some(error));
    }

    /// Renders `map.source` at `tip` (or takes it from the cache) and checks the safety rails.
    fn render_branch(
        &mut self,
        repo: &gix::Repository,
        map: &BranchMap,
        tip: ObjectId,
        target: Option<&GitTree>,
    ) -> anyhow::Result<Change> {
        let commit = repo.find_commit(tip).with_context(|| format!("reading commit {tip}"))?;
        let raw = commit.message_raw_sloppy();
        let subject = raw.lines().next().map(|l| l.to_str_lossy().into_owned()).unwrap_or_default();
        let author = commit
            .author()
            .map(|a| format!("{} <{}>", a.name.to_str_lossy(), a.email.to_str_lossy()))
            .unwrap_or_default();
        let source = Source { branch: map.source.clone(), commit: tip, subject };
        let tree_id = commit_tree(repo, tip)?;
        let tree = GitTree::at_tree(repo, tree_id)?;
        let refs_moved = self.refs_moved(repo, &map.source);
        let cached = match self.cache.get_mut(&map.source) {
            _ if refs_moved => None,
            Some(entry) if entry.tree == tree_id => Some(Arc::clone(&entry.files)),
            Some(entry) if entry.inputs.unchanged_in(&tree) => {
                entry.tree = tree_id;
                Some(Arc::clone(&entry.files))
            }
            _ => None,
        };
        let files = match cached {
            Some(files) => files,
            None => {
                let recording = Recording::new(&tree);
                let start = Instant::now();
                let store = self.units.entry(map.source.clone()).or_default();
                let units = store.for_render(&tree, &recording, &self.metrics);
                let revisions = Arc::new(GitRevisions::of_mirror(repo, &self.config.source.url));
                let given: RepoRevisions = Some(revisions.clone());
                let rendered = (self.render)(&recording, &units, &source, &map.dir, given);
                // A failed render leaves the reads of the last good one, so
                // the branch is tried again while the refs differ from them.
                if rendered.is_ok() {
                    store.keep_only_used(&units);
                    self.refs_read.insert(map.source.clone(), revisions.refs_read());
                }
                self.metrics.render(start.elapsed().as_secs_f64());
                let files = Arc::new(rendered.map_err(|e| {
                    self.metrics.failure(Failure::Render);
                    e.context(format!("rendering {} at {tip}", map.source))
                })?);
                let inputs = recording.into_inputs();
                tracing::info!(
                    branch = map.source,
                    %tip,
                    render_ms = start.elapsed().as_millis(),
                    files = files.len(),
                    inputs = inputs.len(),
                    "rendered"
                );
                self.cache.insert(
                    map.source.clone(),
                    Cached { tree: tree_id, inputs, files: Arc::clone(&files) },
                );
                files
            }
        };
        if !self.config.allow_empty {
            if let Some(target) = target {
                let emptied = emptied_units(target, &map.dir, &files);
                if !emptied.is_empty() {
                    self.metrics.failure(Failure::Safety);
                    bail!(
                        "refusing an empty render of {} (at {tip}) for {}, which had objects; allow empty renders to accept it",
                        emptied.join(", "),
                        map.source
                    );
                }
            }
        }
        Ok(Change { map: map.clone(), source, author, files })
    }

    /// The commit message body from the template.
    fn message(&self, changes: &[Change], target: Option<&GitTree>) -> anyhow::Result<String> {
        let context: Vec<serde_json::Value> = changes
            .iter()
            .map(|c| {
                let commit = c.source.commit.to_string();
                let changed = dir_changes(target, &c.map.dir, &c.files);
                let images: Vec<serde_json::Value> = changed
                    .images
                    .iter()
                    .map(|(image, from, to)| serde_json::json!({"image": image, "from": from, "to": to}))
                    .collect();
                serde_json::json!({
                    "branch": c.map.source,
                    "dir": c.map.dir,
                    "commit": commit,
                    "short": &commit[..12],
                    "subject": c.source.subject,
                    "author": c.author,
                    "units": changed.units,
                    "images": images,
                })
            })
            .collect();
        let mut env = minijinja::Environment::new();
        env.add_template("message", &self.config.message).context("the commit message template")?;
        let template = env.get_template("message").context("the commit message template")?;
        template
            .render(serde_json::json!({ "changes": context }))
            .context("rendering the commit message template")
    }
}

/// `cluster/unit` names that had objects in `dir` of `target` and have none in `files`.
///
/// Units are read from the index the renderer writes; a render without an
/// index counts as one unit, the whole directory.
fn emptied_units(target: &GitTree, dir: &str, files: &Files) -> Vec<String> {
    let old_index = target.read(&format!("{dir}/{INDEX_FILE}")).ok();
    let new_index = files.get(INDEX_FILE);
    match (old_index, new_index) {
        (Some(old), Some(new)) => {
            let old = index_units(&old);
            let new = index_units(new);
            let new_total: i64 = new.values().sum();
            old.into_iter()
                .filter(|(unit, count)| {
                    *count > 0
                        && match new.get(unit) {
                            Some(n) => *n == 0,
                            // A unit that disappeared from the source is not an
                            // empty render, unless everything disappeared.
                            None => new_total == 0,
                        }
                })
                .map(|(unit, _)| unit)
                .collect()
        }
        _ => {
            let had = target.list(dir).map(|l| !l.is_empty()).unwrap_or(false);
            let has = files.keys().any(|p| p != INDEX_FILE);
            if had && !has { vec![dir.to_string()] } else { Vec::new() }
        }
    }
}

/// `cluster/unit` to object count, from a `kiln-index.yaml`.
fn index_units(text: &[u8]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::str::from_utf8(text) else {
        return out;
    };
    let Ok(docs) = renderer::yaml::parse_documents(text, INDEX_FILE) else {
        return out;
    };
    for doc in docs {
        let Some(renderer::Value::Seq(clusters)) = doc.get_path(&["clusters"]) else {
            continue;
        };
        for cluster in clusters {
            let name = cluster.get_path(&["name"]).and_then(|v| v.as_str()).unwrap_or_default();
            let Some(renderer::Value::Seq(units)) = cluster.get_path(&["units"]) else {
                continue;
            };
            for unit in units {
                let unit_name =
                    unit.get_path(&["name"]).and_then(|v| v.as_str()).unwrap_or_default();
                let count = match unit.get_path(&["objects"]) {
                    Some(renderer::Value::Int(n)) => *n,
                    _ => 0,
                };
                out.insert(format!("{name}/{unit_name}"), count);
            }
        }
    }
    out
}

/// What changed in one target directory, for the commit message.
#[derive(Debug, Default, PartialEq, Eq)]
struct DirChanges {
    /// `cluster/unit` (the first two path components) of every added, changed or removed file.
    units: Vec<String>,
    /// Image repository, old reference, new reference, for every image whose tag or digest changed.
    images: Vec<(String, String, String)>,
}

/// Compares the files below `dir` of `target` with `files`.
fn dir_changes(target: Option<&GitTree>, dir: &str, files: &Files) -> DirChanges {
    let unit = |path: &str| -> String {
        let mut parts = path.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), Some(_)) => format!("{a}/{b}"),
            _ => path.to_string(),
        }
    };
    // Old files are compared by blob id and read only when they differ.
    let mut old = BTreeSet::new();
    if let Some(target) = target {
        let mut dirs = vec![dir.to_string()];
        while let Some(d) = dirs.pop() {
            for (name, kind) in target.list(&d).unwrap_or_default() {
                let path = format!("{d}/{name}");
                match kind {
                    EntryKind::Dir => dirs.push(path),
                    EntryKind::File => drop(old.insert(path[dir.len() + 1..].to_string())),
                }
            }
        }
    }
    let mut units = BTreeSet::new();
    let mut images = BTreeSet::new();
    for (path, contents) in files {
        if path == INDEX_FILE {
            continue;
        }
        let full = format!("{dir}/{path}");
        let old_id = target.and_then(|t| t.file_id(&full));
        let new_id =
            gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, contents).ok();
        if old_id.is_some() && old_id == new_id {
            continue;
        }
        units.insert(unit(path));
        if let (Some(target), Some(_)) = (target, old_id) {
            let before = image_refs(&target.read(&full).unwrap_or_default());
            let after = image_refs(contents);
            for new in after.difference(&before) {
                let name = image_name(new);
                if let Some(old) =
                    before.iter().find(|o| image_name(o) == name && !after.contains(*o))
                {
                    images.insert((name.to_string(), old.clone(), new.clone()));
                }
            }
        }
    }
    for path in &old {
        if path != INDEX_FILE && !files.contains_key(path) {
            units.insert(unit(path));
        }
    }
    DirChanges { units: units.into_iter().collect(), images: images.into_iter().collect() }
}

/// The values of `image:` fields in a rendered manifest.
fn image_refs(text: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|line| {
            let line = line.trim_start().trim_start_matches("- ");
            let value = line.strip_prefix("image:")?.trim();
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            (!value.is_empty()).then(|| value.to_string())
        })
        .collect()
}

/// An image reference without its tag or digest.
fn image_name(reference: &str) -> &str {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    match without_digest.rfind(':') {
        // A colon after the last slash starts the tag; before it, it is a registry port.
        Some(i) if !without_digest[i..].contains('/') => &without_digest[..i],
        _ => without_digest,
    }
}

/// Acts on the `verdict` about the rendered commit `rendered`, which changed
/// the directories of the source branches `branches`: on success the
/// production branch `main_branch` is fast-forwarded to each branch's source
/// commit; on failure each branch's release is reverted (tags quarantined,
/// target directory restored); timeouts as `on_timeout` says.
///
/// The watcher judges each environment (source branch) of a commit on its
/// own and calls this once per branch, with `main_branch` only for the branch
/// production follows: `None` makes a success change nothing and a failure
/// undo that branch's release commit alone (see [`crate::revert::Context`]).
///
/// The source branches, the target branch and `main_branch` are fetched into
/// `refs/heads/*` of the mirror (a namespace the cycle does not use), changed
/// there by [`crate::revert`], and pushed with leases: source branches and
/// production first, then the target branch. A source push that loses a race
/// starts over from a fresh fetch, up to `push_attempts` times; a lost target
/// push is left to the next cycle, which renders the revert anyway.
pub fn settle(
    config: &Config,
    main_branch: Option<&str>,
    rendered: ObjectId,
    branches: &[String],
    verdict: &crate::verify::Verdict,
    on_timeout: crate::verify::OnTimeout,
    interrupt: &AtomicBool,
) -> anyhow::Result<Vec<crate::revert::Acted>> {
    use crate::revert::{self, Acted};
    use crate::verify::Action;
    let action = verdict.action(on_timeout);
    if action == Action::Nothing {
        return Ok(vec![Acted::Nothing]);
    }
    let repo = open(&config.workdir)?;
    let maps: Vec<&BranchMap> =
        config.branches.iter().filter(|m| branches.contains(&m.source)).collect();
    let provenance = super::publish::provenance(&repo, rendered)?;
    let mut attempts = 0;
    'attempt: loop {
        attempts += 1;
        let mut source_branches: Vec<&str> = maps.iter().map(|m| m.source.as_str()).collect();
        source_branches.extend(main_branch);
        for branch in &source_branches {
            fetch_head(&repo, &config.source, branch, interrupt)?;
        }
        fetch_head(&repo, &config.target, &config.target_branch, interrupt)?;
        let heads = |names: &[&str]| -> anyhow::Result<Vec<(String, Option<ObjectId>)>> {
            names.iter().map(|b| Ok((b.to_string(), super::repo::branch_tip(&repo, b)?))).collect()
        };
        let before = heads(&source_branches)?;
        let target_before = super::repo::branch_tip(&repo, &config.target_branch)?;

        let mut acted = vec![];
        for map in &maps {
            let source = provenance.source(&map.source).with_context(|| {
                format!("rendered commit {rendered} names no commit of {}", map.source)
            })?;
            acted.push(match (action, main_branch) {
                (Action::Promote, None) => Acted::Nothing,
                (Action::Promote, Some(main)) => Acted::Promoted {
                    source,
                    how: revert::promote(&repo, main, source, &config.author)?,
                },
                (Action::Revert | Action::Nothing, _) => {
                    let cx = revert::Context {
                        repo: &config.workdir,
                        source_branch: &map.source,
                        target_branch: &config.target_branch,
                        target_dir: &map.dir,
                        main_branch,
                        author: &config.author,
                    };
                    let (reason, objects) = verdict.failure().unwrap_or_default();
                    Acted::Reverted(revert::revert(&cx, source, &reason, &objects)?)
                }
            });
        }

        for (branch, old) in before {
            let Some(new) = super::repo::branch_tip(&repo, &branch)? else { continue };
            if Some(new) == old {
                continue;
            }
            match config.source.push(&repo, &branch, old, new)? {
                Pushed::Updated => {}
                Pushed::Rejected { reason } if attempts < config.push_attempts => {
                    tracing::info!(branch, reason, "push after a verdict rejected, starting over");
                    continue 'attempt;
                }
                Pushed::Rejected { reason } => {
                    bail!("pushing {branch} after a verdict rejected {attempts} times: {reason}")
                }
            }
        }
        if let Some(new) = super::repo::branch_tip(&repo, &config.target_branch)? {
            if Some(new) != target_before {
                let pushed =
                    config.target.push(&repo, &config.target_branch, target_before, new)?;
                if let Pushed::Rejected { reason } = pushed {
                    tracing::info!(
                        reason,
                        "restoring the target lost a race: the next cycle renders the revert"
                    );
                }
            }
        }
        return Ok(acted);
    }
}

/// Fetches `branch` of `remote` into `refs/heads/<branch>` of the mirror, or
/// removes that ref when the remote has no such branch.
fn fetch_head(
    repo: &gix::Repository,
    remote: &Remote,
    branch: &str,
    interrupt: &AtomicBool,
) -> anyhow::Result<()> {
    let name = super::repo::branch_ref(branch);
    let fetched = remote
        .fetch(repo, &[format!("+{name}:{name}")], interrupt)
        .with_context(|| format!("fetching {branch}"))?;
    if fetched.is_some_and(|f| !f.contains(&name)) && ref_tip(repo, &name)?.is_some() {
        delete_ref(repo, &name)?;
    }
    Ok(())
}

fn ref_tip(repo: &gix::Repository, name: &str) -> anyhow::Result<Option<ObjectId>> {
    let Some(mut reference) =
        repo.try_find_reference(name).with_context(|| format!("reading {name}"))?
    else {
        return Ok(None);
    };
    Ok(Some(reference.peel_to_id().with_context(|| format!("resolving {name}"))?.detach()))
}

fn set_ref(repo: &gix::Repository, name: &str, id: ObjectId) -> anyhow::Result<()> {
    repo.reference(name, id, gix::refs::transaction::PreviousValue::Any, "kiln: pushed")
        .with_context(|| format!("updating {name}"))?;
    Ok(())
}

fn delete_ref(repo: &gix::Repository, name: &str) -> anyhow::Result<()> {
    use gix::refs::transaction::{Change, PreviousValue, RefEdit, RefLog};
    let edit = RefEdit {
        change: Change::Delete { expected: PreviousValue::Any, log: RefLog::AndReference },
        name: name.try_into().with_context(|| format!("invalid ref name {name}"))?,
        deref: false,
    };
    repo.edit_reference(edit).with_context(|| format!("deleting {name}"))?;
    Ok(())
}

/// Removes `*.lock` files below the mirror's `refs/` and `packed-refs.lock`.
fn remove_stale_locks(dir: &std::path::Path) {
    let _ = std::fs::remove_file(dir.join("packed-refs.lock"));
    let mut dirs = vec![dir.join("refs")];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The delay before retry `failures` (1, 2, ...): exponential from one second,
/// capped at `max`, with up to 25% random jitter so several watchers do not
/// retry in step.
pub fn backoff(failures: u32, max: std::time::Duration) -> std::time::Duration {
    let base = std::time::Duration::from_secs(1)
        .saturating_mul(1u32.checked_shl(failures.saturating_sub(1).min(16)).unwrap_or(u32::MAX))
        .min(max);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let seed = u64::from(nanos) ^ u64::from(std::process::id()).rotate_left(32);
    let jitter = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) % 1000;
    base + base.mul_f64(jitter as f64 / 4000.0)
}

/// Parses `SOURCE=DIR` (or `SOURCE`, meaning a directory of the same name).
pub fn parse_branch_map(text: &str) -> anyhow::Result<BranchMap> {
    let (source, dir) = text.split_once('=').unwrap_or((text, text));
    if source.is_empty() || dir.is_empty() {
        return Err(anyhow!("expected SOURCE=TARGET_DIR, got {text:?}"));
    }
    Ok(BranchMap { source: source.to_string(), dir: dir.to_string() })
}

/// What a directory tree holds as far as its metadata tells: for every entry
/// (links followed, in name order) its path, kind, size, modification time
/// and, on Unix, inode; an entry that cannot be read counts with its error.
/// Files are not read: a cache of chart archives is stamped cheaply every
/// cycle, and an edit that keeps a file's size, time and inode alike is not
/// one any editor, `helm pull` or `terraform init` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OutsideStamp(u64);

impl OutsideStamp {
    fn of(dirs: &[PathBuf]) -> Self {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for dir in dirs {
            dir.hash(&mut hasher);
            for entry in walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name() {
                match entry {
                    Ok(entry) => {
                        entry.path().hash(&mut hasher);
                        match entry.metadata() {
                            Ok(meta) => metadata_stamp(&meta).hash(&mut hasher),
                            Err(e) => e.to_string().hash(&mut hasher),
                        }
                    }
                    Err(e) => e.to_string().hash(&mut hasher),
                }
            }
        }
        OutsideStamp(hasher.finish())
    }
}

/// The parts of a file's metadata that change when it is written or replaced.
fn metadata_stamp(meta: &std::fs::Metadata) -> (bool, u64, Option<std::time::SystemTime>, u64) {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    (meta.is_dir(), meta.len(), meta.modified().ok(), inode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn backoff_grows_and_is_capped() {
        let max = Duration::from_secs(30);
        let cases = [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (40, 30.0)];
        for (failures, base) in cases {
            let d = backoff(failures, max).as_secs_f64();
            assert!(d >= base && d <= base * 1.25, "{failures}: {d}");
        }
    }

    #[test]
    fn branch_maps() {
        let cases = [
            ("staging=staging", Some(("staging", "staging"))),
            ("production=rendered/prod", Some(("production", "rendered/prod"))),
            ("main", Some(("main", "main"))),
            ("=x", None),
            ("x=", None),
        ];
        for (text, want) in cases {
            let got = parse_branch_map(text).ok();
            let want = want.map(|(s, d)| BranchMap { source: s.into(), dir: d.into() });
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn image_names() {
        let cases = [
            ("nginx", "nginx"),
            ("nginx:1.27", "nginx"),
            ("ghcr.io/acme/app:v1.2", "ghcr.io/acme/app"),
            ("registry:5000/app", "registry:5000/app"),
            ("registry:5000/app:v1", "registry:5000/app"),
            ("app@sha256:abc", "app"),
            ("app:v1@sha256:abc", "app"),
        ];
        for (reference, want) in cases {
            assert_eq!(image_name(reference), want, "{reference}");
        }
    }

    #[test]
    fn image_refs_of_a_manifest() {
        let text = b"spec:\n  containers:\n  - image: ghcr.io/acme/app:v1\n    name: app\n  - name: side\n    image: \"nginx:1.27\"\n";
        let want: BTreeSet<String> = ["ghcr.io/acme/app:v1", "nginx:1.27"].map(String::from).into();
        assert_eq!(image_refs(text), want);
    }

    #[test]
    fn index_units_counts_objects() {
        let index = b"kilnVersion: 0.1.0\nclusters:\n- name: prod\n  units:\n  - name: apps\n    objects: 3\n  - name: infra\n    objects: 0\n";
        let units = index_units(index);
        assert_eq!(units.get("prod/apps"), Some(&3));
        assert_eq!(units.get("prod/infra"), Some(&0));
        assert_eq!(units.len(), 2);
    }
}
