//! The watcher's store of unit builds, behind the renderer's [`UnitCache`] hook: a unit is built again only when its key or a tree it read changed.
//!
//! Each entry is named by cluster, unit and kind of build, and holds the
//! build's key (the Flux object or the resolved Helm values, see
//! [`UnitKey::spec`]), the git tree ids of the directories the build read
//! (see [`Inputs::by_directory`]) and the objects it made. The store lives
//! in the watcher's memory, so the kiln version is the running one; the
//! target branch records the version of every rendered commit, and a
//! watcher of another version renders everything once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use renderer::cache::{Build, Step, UnitCache, UnitKey};
use renderer::{Error, Resource, Tree};

use super::inputs::{DirInputs, Inputs, Recording};
use super::metrics::Metrics;
use super::tree::GitTree;

/// A build's name: cluster, unit, kind of build and key.
type Name = (String, String, Step, Vec<u8>);

/// One stored build.
#[derive(Debug)]
struct Stored {
    dirs: DirInputs,
    /// Every question the build asked, for the branch's own record.
    inputs: Inputs,
    objects: Vec<Resource>,
    /// The render that last used it.
    generation: u64,
}

/// The unit builds of one source branch.
#[derive(Debug, Default)]
pub struct UnitStore {
    /// By cluster, unit, kind of build and key: a unit built twice in one
    /// render with different keys (Flux's root, before and after its own
    /// Kustomization is found) keeps both builds.
    entries: Mutex<HashMap<Name, Stored>>,
    generation: AtomicU64,
}

impl UnitStore {
    /// A view of the store for one render of `tree`: builds run on the
    /// tree the renderer hands over, recorded, and every build's questions
    /// (run or reused) are also recorded in `branch`, the recording of the
    /// whole render.
    pub fn for_render<'a>(
        &'a self,
        tree: &'a GitTree,
        branch: &'a Recording<'a>,
        metrics: &'a Metrics,
    ) -> RenderCache<'a> {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        RenderCache { store: self, tree, branch, metrics, generation }
    }

    /// Forgets the builds that the render `cache` did not use (units that
    /// are gone), so the store holds one entry per unit at most.
    pub fn keep_only_used(&self, cache: &RenderCache<'_>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, e| e.generation == cache.generation);
    }

    /// How many builds are stored.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no build is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The store as one render sees it.
pub struct RenderCache<'a> {
    store: &'a UnitStore,
    tree: &'a GitTree,
    branch: &'a Recording<'a>,
    metrics: &'a Metrics,
    generation: u64,
}

impl UnitCache for RenderCache<'_> {
    fn build(
        &self,
        key: &UnitKey<'_>,
        tree: &dyn Tree,
        build: &Build<'_>,
    ) -> Result<Vec<Resource>, Error> {
        let name: Name =
            (key.cluster.to_string(), key.unit.to_string(), key.step, key.spec.to_vec());
        {
            let mut entries = self.store.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(stored) = entries.get_mut(&name) {
                if stored.dirs.unchanged_in(self.tree) {
                    stored.generation = self.generation;
                    self.branch.absorb(&stored.inputs);
                    self.metrics.unit(key.step.name(), true);
                    return Ok(stored.objects.clone());
                }
            }
        }
        // Built outside the lock: builds of other units run in parallel.
        let recording = Recording::over(tree, self.tree);
        let objects = build(&recording)?;
        let inputs = recording.into_inputs();
        self.metrics.unit(key.step.name(), false);
        tracing::debug!(
            cluster = key.cluster,
            unit = key.unit,
            step = key.step.name(),
            "unit built"
        );
        let stored = Stored {
            dirs: inputs.by_directory(self.tree),
            inputs,
            objects: objects.clone(),
            generation: self.generation,
        };
        self.store.entries.lock().unwrap_or_else(PoisonError::into_inner).insert(name, stored);
        Ok(objects)
    }
}
