//! The inputs of a render: every path the renderer read, asked the kind of, or listed, with what it found.
//!
//! A render is a function of what it reads through the [`Tree`], so a render
//! whose recorded inputs are all unchanged in a newer source tree would give
//! the same output: the watcher reuses it instead of rendering again. A push
//! that touches only files no render looks at (docs, CI files, other
//! directories) costs no render.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use gix::ObjectId;
use renderer::tree::{EntryKind, Error, Tree};

use super::tree::GitTree;

/// The kinds of question, as recorded.
const READ: u8 = 0;
const KIND: u8 = 1;
const LIST: u8 = 2;
const REAL: u8 = 3;
const NAMED: u8 = 4;

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
    /// `files_named`: each file's path and blob id (`None`: an error).
    Named(Option<Vec<(String, Option<ObjectId>)>>),
}

/// The answer to `files_named` as recorded: paths and blob ids.
fn named(tree: &GitTree, name: &str) -> Option<Vec<(String, Option<ObjectId>)>> {
    let files = tree.files_named(name).ok()?;
    Some(files.into_iter().map(|(path, _)| (path.clone(), tree.file_id(&path))).collect())
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
            Found::Named(files) => named(tree, path) == *files,
        })
    }

    /// Adds the questions of `other` not asked here yet.
    pub fn merge(&mut self, other: &Inputs) {
        for (key, found) in &other.found {
            self.found.entry(key.clone()).or_insert_with(|| found.clone());
        }
    }

    /// The same dependency in the cheapest form git offers: the tree id, in
    /// `tree`, of each directory a file was read from or that was listed, and
    /// the exact answer of the other questions (what kind a path is, and
    /// reads of symbolic links, whose directory's id does not cover what
    /// they point to). Asking what kind a path is costs one lookup, and
    /// keeping it exact keeps a question like "is `apps` a directory" from
    /// tying the unit to every change below `apps`.
    pub fn by_directory(&self, tree: &GitTree) -> DirInputs {
        let mut dirs = BTreeSet::new();
        let mut exact = Inputs::default();
        for ((question, path), found) in &self.found {
            match *question {
                LIST => drop(dirs.insert(path.clone())),
                READ if !tree.is_link(path) => {
                    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
                    dirs.insert(parent.to_string());
                }
                _ => drop(exact.found.insert((*question, path.clone()), found.clone())),
            }
        }
        let dirs = dirs.into_iter().map(|d| (tree.dir_id(&d), d)).map(|(id, d)| (d, id)).collect();
        DirInputs { dirs, exact }
    }
}

/// What a unit's build depended on, by directory (see [`Inputs::by_directory`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirInputs {
    dirs: BTreeMap<String, Option<ObjectId>>,
    exact: Inputs,
}

impl DirInputs {
    /// Whether every directory has the same tree id in `tree`, and every
    /// other question the same answer.
    pub fn unchanged_in(&self, tree: &GitTree) -> bool {
        self.dirs.iter().all(|(dir, id)| tree.dir_id(dir) == *id) && self.exact.unchanged_in(tree)
    }

    /// The directories, with their tree ids (`None`: not a directory).
    pub fn dirs(&self) -> impl Iterator<Item = (&str, Option<ObjectId>)> {
        self.dirs.iter().map(|(d, id)| (d.as_str(), *id))
    }
}

/// A tree that records what is asked of it: the answers come from `reads`,
/// the ids they are recorded by from `ids`, a [`GitTree`] with the same files.
pub struct Recording<'a> {
    reads: &'a dyn Tree,
    tree: &'a GitTree,
    inputs: Mutex<Inputs>,
}

impl std::fmt::Debug for Recording<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").field("tree", &self.tree).finish_non_exhaustive()
    }
}

impl<'a> Recording<'a> {
    /// Starts recording the questions asked of `tree`.
    pub fn new(tree: &'a GitTree) -> Self {
        Self::over(tree, tree)
    }

    /// Starts recording the questions asked of `reads` (e.g. another
    /// recording), a view of the same files as `tree`.
    pub fn over(reads: &'a dyn Tree, tree: &'a GitTree) -> Self {
        Recording { reads, tree, inputs: Mutex::new(Inputs::default()) }
    }

    /// Records the questions of `inputs` as if they were asked here: a build
    /// answered from a store still depends on what it read.
    pub fn absorb(&self, inputs: &Inputs) {
        self.inputs.lock().unwrap_or_else(PoisonError::into_inner).merge(inputs);
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
        self.record(READ, path, || Found::File(self.tree.file_id(path)));
        self.reads.read(path)
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        let kind = self.reads.kind(path);
        self.record(KIND, path, || Found::Kind(kind));
        kind
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, Error> {
        let entries = self.reads.list(path);
        self.record(LIST, path, || Found::Entries(entries.as_ref().ok().cloned()));
        entries
    }

    fn real_path(&self, path: &str) -> Result<String, Error> {
        let real = self.reads.real_path(path);
        self.record(REAL, path, || Found::Real(real.as_ref().ok().cloned()));
        real
    }

    /// Recorded as one question whose answer is the files' paths and blob
    /// ids, so that it does not tie a build to every directory of the tree.
    fn files_named(&self, name: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let files = self.reads.files_named(name);
        self.record(NAMED, name, || {
            let ids = |v: &Vec<(String, Vec<u8>)>| {
                v.iter().map(|(path, _)| (path.clone(), self.tree.file_id(path))).collect()
            };
            Found::Named(files.as_ref().ok().map(ids))
        });
        files
    }
}
