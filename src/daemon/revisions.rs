//! [`GitRevisions`]: the renderer's view of a repository's other refs (`renderer::revisions`), read from the git object database.
//!
//! A ref is resolved as `git checkout` in a clone of the repository would
//! resolve it: a full ref name, a branch (local, then `origin`'s; in the
//! watcher's mirror, its copy of the remote's branches), a tag, then a
//! (short) commit hash. Trees are kept per ref for the
//! handle's lifetime, so one render that asks again reads the same commit.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use renderer::revisions::{Revision, Revisions};

use super::remote::Remote;
use super::repo::open;
use super::tree::GitTree;

/// Where branch and tag names are looked for in a clone, in order.
const CLONE_PREFIXES: &[&str] = &["refs/heads/", "refs/remotes/origin/", "refs/tags/"];

/// Where they are looked for in the watcher's mirror, whose copies of the
/// remote's branches are `refs/kiln/source/*` and of its tags
/// `refs/kiln/tags/*` (its `refs/heads/*` are its own scratch space): the
/// same order as in a clone, branches before tags.
const MIRROR_PREFIXES: &[&str] = &["refs/kiln/source/", "refs/kiln/tags/"];

/// A repository's refs as trees.
pub struct GitRevisions {
    repo: gix::ThreadSafeRepository,
    urls: Vec<String>,
    prefixes: &'static [&'static str],
    trees: Mutex<HashMap<String, Option<Revision>>>,
    /// Every ref asked for and the commit it resolved to, in order.
    read: Mutex<Vec<RefRead>>,
}

/// A ref a render read and the commit it named then (`None`: no such ref).
pub type RefRead = (String, Option<ObjectId>);

impl std::fmt::Debug for GitRevisions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRevisions").field("urls", &self.urls).finish_non_exhaustive()
    }
}

impl GitRevisions {
    /// The refs of `repo`, which is known by `extra_urls` (the URL the
    /// watcher fetches it from) and by the URLs of its remotes.
    pub fn new(repo: &gix::Repository, extra_urls: &[String]) -> Self {
        Self::with_prefixes(repo, extra_urls, CLONE_PREFIXES)
    }

    /// The refs of the watcher's mirror `repo` of the repository at `url`.
    /// A repository on this machine (a path or a `file://` URL) is also
    /// known by its own remotes' URLs: a clone's `spec.chart.git` names the
    /// repository by its `origin`, as the helm-operator's clone of it does.
    pub fn of_mirror(repo: &gix::Repository, url: &str) -> Self {
        let mut urls = vec![url.to_string()];
        if Remote::new(url).is_local() {
            let path = url.strip_prefix("file://").unwrap_or(url);
            // A source that cannot be opened fails its fetch, which reports it.
            if let Ok(source) = open(Path::new(path)) {
                urls.extend(remote_urls(&source));
            }
        }
        Self::with_prefixes(repo, &urls, MIRROR_PREFIXES)
    }

    fn with_prefixes(
        repo: &gix::Repository,
        extra_urls: &[String],
        prefixes: &'static [&'static str],
    ) -> Self {
        let mut urls: Vec<String> = Vec::new();
        for url in extra_urls.iter().cloned().chain(remote_urls(repo)) {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        GitRevisions {
            repo: repo.clone().into_sync(),
            urls,
            prefixes,
            trees: Mutex::new(HashMap::new()),
            read: Mutex::new(Vec::new()),
        }
    }

    /// The refs read so far and the commits they named.
    pub fn refs_read(&self) -> Vec<RefRead> {
        self.read.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Whether any of `reads` names another commit in `repo` now (a render
    /// that read them would read other charts).
    pub fn moved(&self, repo: &gix::Repository, reads: &[RefRead]) -> bool {
        reads.iter().any(|(reference, then)| match Self::resolve(repo, self.prefixes, reference) {
            Ok(now) => now != *then,
            Err(_) => true,
        })
    }

    /// The commit `reference` names in `repo`, if any.
    fn resolve(
        repo: &gix::Repository,
        prefixes: &[&str],
        reference: &str,
    ) -> anyhow::Result<Option<ObjectId>> {
        let mut names: Vec<String> = prefixes.iter().map(|p| format!("{p}{reference}")).collect();
        if reference.starts_with("refs/") {
            names.insert(0, reference.to_string());
        }
        for name in &names {
            let Ok(Some(mut found)) = repo.try_find_reference(name.as_str()) else { continue };
            let id = found.peel_to_id().with_context(|| format!("resolving {name}"))?;
            return Ok(Some(Self::commit_of(repo, id.detach())?));
        }
        let is_hash =
            (4..=40).contains(&reference.len()) && reference.bytes().all(|b| b.is_ascii_hexdigit());
        if is_hash {
            let prefix = gix::hash::Prefix::from_hex(reference)
                .with_context(|| format!("reading {reference:?} as a commit hash"))?;
            // An ambiguous prefix names no commit, as git refuses it too.
            if let Ok(Some(Ok(id))) = repo.objects.lookup_prefix(prefix, None) {
                return Ok(Some(Self::commit_of(repo, id)?));
            }
        }
        Ok(None)
    }

    /// The commit an object peels to (an annotated tag's target).
    fn commit_of(repo: &gix::Repository, id: ObjectId) -> anyhow::Result<ObjectId> {
        let object = repo.find_object(id).with_context(|| format!("reading object {id}"))?;
        let commit = object.peel_to_commit().with_context(|| format!("{id} is not a commit"))?;
        Ok(commit.id)
    }
}

impl Revisions for GitRevisions {
    fn urls(&self) -> Vec<String> {
        self.urls.clone()
    }

    fn tree_at(&self, reference: &str) -> Result<Option<Revision>, String> {
        let mut trees = self.trees.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = trees.get(reference) {
            return Ok(found.clone());
        }
        let repo = self.repo.to_thread_local();
        let commit =
            Self::resolve(&repo, self.prefixes, reference).map_err(|e| format!("{e:#}"))?;
        self.read
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((reference.to_string(), commit));
        let found = match commit {
            Some(commit) => {
                let tree = GitTree::at_commit(&repo, commit).map_err(|e| format!("{e:#}"))?;
                Some(Revision { tree: Arc::new(tree), id: commit.to_string() })
            }
            None => None,
        };
        trees.insert(reference.to_string(), found.clone());
        Ok(found)
    }
}

/// The fetch and push URLs of `repo`'s remotes, as written.
fn remote_urls(repo: &gix::Repository) -> Vec<String> {
    let mut urls = Vec::new();
    for name in repo.remote_names() {
        let Ok(remote) = repo.find_remote(name.as_bstr()) else { continue };
        for direction in [gix::remote::Direction::Fetch, gix::remote::Direction::Push] {
            urls.extend(remote.url(direction).map(|u| u.to_bstring().to_string()));
        }
    }
    urls
}

/// The refs of the git repository at `path` (a bare repository or the
/// root of a work tree), or `None` when `path` is neither: a directory
/// inside a work tree is not the root its refs' trees are read from.
pub fn of_work_tree(path: &Path) -> anyhow::Result<Option<Arc<GitRevisions>>> {
    let abs = path.canonicalize().with_context(|| format!("reading {}", path.display()))?;
    let repo = if abs.join(".git").exists() {
        open(&abs)?
    } else {
        match open(&abs) {
            Ok(bare) if bare.workdir().is_none() => bare,
            _ => return Ok(None),
        }
    };
    Ok(Some(Arc::new(GitRevisions::new(&repo, &[]))))
}
