//! The inputs of a render: every path the renderer read, asked the kind of, or listed, with what it found.
//!
//! A render is a function of what it reads through the [`Tree`], so a render
//! whose recorded inputs are all unchanged in a newer source tree would give
//! the same output: the watcher reuses it instead of rendering again. A push
//! that touches only files no render looks at (docs, CI files, other
//! directories) costs no render.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use gix::ObjectId;
use renderer::tree::{EntryKind, Error, Tree};

use super::tree::GitTree;

/// What one question to the tree found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    /// `read`: the blob id (`None`: nothing readable).
    File(Option<ObjectId>),
    /// `kind`.
    Kind(Option<EntryKind>),
    /// `list`: the entries (`None`: an error).
    Entries(Option<Vec<(String, EntryKind)>>),
    /// `real_path`: where the path leads (`None`: an error).
    Real(Option<String>),
}

/// The questions a render asked, by kind of question and path, and their answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    found: BTreeMap<(u8, String), Found>,
}

impl Inputs {
    /// How many distinct questions were asked.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// Whether no question was asked.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Whether every question gets the same answer from `tree`.
    pub fn unchanged_in(&self, tree: &GitTree) -> bool {
        self.found.iter().all(|((_, path), found)| match found {
            Found::File(id) => tree.file_id(path) == *id,
            Found::Kind(kind) => tree.kind(path) == *kind,
            Found::Entries(entries) => tree.list(path).ok() == *entries,
            Found::Real(real) => tree.real_path(path).ok() == *real,
        })
    }
}

/// A [`GitTree`] that records what is asked of it.
#[derive(Debug)]
pub struct Recording<'a> {
    tree: &'a GitTree,
    inputs: Mutex<Inputs>,
}

impl<'a> Recording<'a> {
    /// Starts recording the questions asked of `tree`.
    pub fn new(tree: &'a GitTree) -> Self {
        Recording { tree, inputs: Mutex::new(Inputs::default()) }
    }

    /// What was asked so far.
    pub fn into_inputs(self) -> Inputs {
        self.inputs.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, question: u8, path: &str, found: impl FnOnce() -> Found) {
        let mut inputs = self.inputs.lock().unwrap_or_else(PoisonError::into_inner);
        inputs.found.entry((question, path.to_string())).or_insert_with(found);
    }
}

impl Tree for Recording<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, Error> {
        self.record(0, path, || Found::File(self.tree.file_id(path)));
        self.tree.read(path)
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        let kind = self.tree.kind(path);
        self.record(1, path, || Found::Kind(kind));
        kind
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, Error> {
        let entries = self.tree.list(path);
        self.record(2, path, || Found::Entries(entries.as_ref().ok().cloned()));
        entries
    }

    fn real_path(&self, path: &str) -> Result<String, Error> {
        let real = self.tree.real_path(path);
        self.record(3, path, || Found::Real(real.as_ref().ok().cloned()));
        real
    }
}
