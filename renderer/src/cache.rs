//! The hook through which a caller reuses unit builds between renders: each unit's build is handed to a [`UnitCache`].
//!
//! A render builds every unit of every cluster. Most pushes change the
//! inputs of few units, so a long-running caller (the watcher) keeps the
//! objects of each build together with what the build read, and answers a
//! later build of the same unit from that store when nothing it read has
//! changed. The renderer knows nothing of how the store decides: it names
//! each build by a [`UnitKey`], which carries every input of the build that
//! does not come from the tree, and runs the build on whatever tree the
//! cache gives it, so the cache can watch what is read.
//!
//! ```
//! use renderer::cache::{Build, UnitCache, UnitKey};
//! use renderer::{Error, MemTree, Options, Resource, Tree};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! /// Counts the builds and runs each one.
//! #[derive(Default)]
//! struct Counting(AtomicUsize);
//!
//! impl UnitCache for Counting {
//!     fn build(&self, _: &UnitKey<'_>, tree: &dyn Tree, build: &Build<'_>)
//!         -> Result<Vec<Resource>, Error> {
//!         self.0.fetch_add(1, Ordering::SeqCst);
//!         build(tree)
//!     }
//! }
//!
//! let mut tree = MemTree::new();
//! tree.insert("namespaces/live/team-a/quota.yaml",
//!     "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n");
//! tree.insert("namespaces/live/team-a/kustomization.yaml", "resources:\n- quota.yaml\n");
//! let counting = Counting::default();
//! renderer::render_with(&tree, &Options::default(), &counting).unwrap();
//! assert_eq!(counting.0.load(Ordering::SeqCst), 1);
//! ```

use crate::layout::Error;
use crate::resource::Resource;
use crate::tree::Tree;

/// The kinds of build a render hands to the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The kustomize build of a unit's directory (a Flux Kustomization's
    /// `spec.path` with its Flux fields, or a namespace folder).
    Kustomize,
    /// The render of a Helm release's chart with its values resolved.
    Helm,
    /// The templates and files one Terraform module instance reads,
    /// rendered with the variables the module walk gave them.
    Terraform,
}

impl Step {
    /// A short name, for metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Step::Kustomize => "kustomize",
            Step::Helm => "helm",
            Step::Terraform => "terraform",
        }
    }
}

/// One build of a unit, by name and by everything it depends on besides the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitKey<'a> {
    /// The cluster (or environment).
    pub cluster: &'a str,
    /// The unit; for a Helm release, `unit/release`.
    pub unit: &'a str,
    /// What kind of build.
    pub step: Step,
    /// Every input of the build that is not read from the tree (the Flux
    /// object, the resolved Helm values, ...), serialized: two builds of the
    /// same unit with the same `spec` over trees with the same contents
    /// give the same objects.
    pub spec: &'a [u8],
}

/// A unit's build: the objects it makes from a tree.
pub type Build<'a> = dyn Fn(&dyn Tree) -> Result<Vec<Resource>, Error> + Sync + 'a;

/// Where a render's unit builds go; the render runs them in parallel, so
/// the cache is shared between threads.
pub trait UnitCache: Sync {
    /// The objects of the build `key`: either a stored result of an earlier
    /// build with the same key over the same inputs, or `build` run on
    /// `tree` (or on a tree that reads exactly what `tree` reads, e.g. one
    /// that records the reads). Errors are the build's own.
    fn build(
        &self,
        key: &UnitKey<'_>,
        tree: &dyn Tree,
        build: &Build<'_>,
    ) -> Result<Vec<Resource>, Error>;
}

/// No cache: every build runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCache;

impl UnitCache for NoCache {
    fn build(
        &self,
        _: &UnitKey<'_>,
        tree: &dyn Tree,
        build: &Build<'_>,
    ) -> Result<Vec<Resource>, Error> {
        build(tree)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A cache that answers every key it has seen from memory.
    #[derive(Default)]
    pub(crate) struct Memo {
        builds: std::sync::Mutex<Vec<(String, Vec<Resource>)>>,
        pub(crate) ran: std::sync::atomic::AtomicUsize,
    }

    impl crate::cache::UnitCache for Memo {
        fn build(
            &self,
            key: &crate::cache::UnitKey<'_>,
            tree: &dyn Tree,
            build: &crate::cache::Build<'_>,
        ) -> Result<Vec<Resource>, Error> {
            let name = format!("{}/{}/{:?}", key.cluster, key.unit, key.spec);
            if let Some((_, r)) = self.builds.lock().unwrap().iter().find(|(n, _)| *n == name) {
                return Ok(r.clone());
            }
            self.ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let out = build(tree)?;
            self.builds.lock().unwrap().push((name, out.clone()));
            Ok(out)
        }
    }
}
