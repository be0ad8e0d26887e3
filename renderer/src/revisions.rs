//! The repository being rendered beyond the one tree given: the URLs it is known by and its trees at other git refs.
//!
//! A Flux v1 `HelmRelease` whose `spec.chart.git` names the repository
//! being rendered reads its chart at `spec.chart.ref` (default `master`),
//! which is often another branch than the one rendered: the helm-operator
//! clones the repository at that ref. The renderer does no git IO, so the
//! caller that opened the repository (the binary, through gix) hands it a
//! [`Revisions`], and the renderer asks it for the tree at a ref.
//!
//! ```
//! use renderer::revisions::{MemRevisions, Revisions};
//! use renderer::{MemTree, Tree};
//!
//! let mut master = MemTree::new();
//! master.insert("charts/web/Chart.yaml", "name: web\n");
//! let mut revisions = MemRevisions::new(&["git@github.com:org/repo.git"]);
//! revisions.insert("master", master);
//! let found = revisions.tree_at("master").unwrap().unwrap();
//! assert!(found.tree.kind("charts/web/Chart.yaml").is_some());
//! assert!(revisions.tree_at("nope").unwrap().is_none());
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::tree::{MemTree, Tree};

/// A tree of the repository at one ref.
#[derive(Clone)]
pub struct Revision {
    /// The files at that ref.
    pub tree: Arc<dyn Tree + Send>,
    /// What the ref resolved to (a commit or tree id): two revisions with
    /// the same id hold the same files, so a cached build that read one may
    /// be reused for the other.
    pub id: String,
}

impl std::fmt::Debug for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revision").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The repository a render reads, as its git refs see it.
pub trait Revisions: Send + Sync + std::fmt::Debug {
    /// The URLs the repository is known by (its remotes, as written), to
    /// tell whether a `spec.chart.git` URL names it.
    fn urls(&self) -> Vec<String>;
    /// The tree at `reference`: a branch, a tag or a (short) commit hash,
    /// as `git checkout` resolves it. `Ok(None)` when the repository has
    /// no such ref; `Err` when reading it failed.
    fn tree_at(&self, reference: &str) -> Result<Option<Revision>, String>;
}

/// [`Revisions`] held in memory: refs to trees. For tests and for callers
/// that build trees themselves.
#[derive(Debug, Default, Clone)]
pub struct MemRevisions {
    urls: Vec<String>,
    refs: BTreeMap<String, Arc<MemTree>>,
}

impl MemRevisions {
    /// A repository known by `urls`, with no refs yet.
    pub fn new(urls: &[&str]) -> Self {
        MemRevisions { urls: urls.iter().map(|u| u.to_string()).collect(), refs: BTreeMap::new() }
    }

    /// Adds (or replaces) the tree at `reference`.
    pub fn insert(&mut self, reference: &str, tree: MemTree) {
        self.refs.insert(reference.to_string(), Arc::new(tree));
    }
}

impl Revisions for MemRevisions {
    fn urls(&self) -> Vec<String> {
        self.urls.clone()
    }

    fn tree_at(&self, reference: &str) -> Result<Option<Revision>, String> {
        Ok(self.refs.get(reference).map(|t| Revision {
            tree: Arc::clone(t) as Arc<dyn Tree + Send>,
            id: format!("mem:{reference}"),
        }))
    }
}
