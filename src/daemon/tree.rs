//! [`GitTree`]: the renderer's file tree read straight from a git object database.
//!
//! Paths resolve entry by entry from the root tree. Symbolic links are
//! followed when their target stays inside the tree, as a checkout would
//! follow them; a link that climbs above the root or is absolute is
//! [`Error::Escapes`]. Submodules (commit entries) are not part of the tree:
//! listings leave them out and reading them finds nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use gix::ObjectId;
use gix::objs::tree::EntryKind as GitKind;
use renderer::tree::{EntryKind, Error, Tree, join};

/// Linux gives up after 40 links in one lookup (`ELOOP`); so do we.
const MAX_LINK_HOPS: usize = 40;

/// A read-only view of one git tree object and everything below it.
///
/// The tree is `Sync` so renders can read it from several threads: each
/// thread borrows a repository handle from a small pool, and decoded
/// directories are cached by object id, so a directory is decoded once.
pub struct GitTree {
    shared: gix::ThreadSafeRepository,
    handles: Mutex<Vec<gix::Repository>>,
    dirs: Mutex<HashMap<ObjectId, Arc<[DirEntry]>>>,
    root: ObjectId,
}

/// One entry of a decoded directory.
#[derive(Debug, Clone)]
struct DirEntry {
    name: String,
    node: Node,
}

/// What a directory entry holds, before symbolic links are followed.
#[derive(Debug, Clone, Copy)]
enum Node {
    Dir(ObjectId),
    File(ObjectId),
    Link(ObjectId),
    Submodule,
}

/// A path after all symbolic links along it were followed.
enum Resolved {
    Dir(ObjectId),
    File(ObjectId),
}

/// Where a path led: what is there, and its path in the tree with every
/// symbolic link along the way replaced by its target.
struct Walk {
    resolved: Resolved,
    real: String,
}

impl GitTree {
    /// The tree of commit `commit` in `repo`.
    pub fn at_commit(repo: &gix::Repository, commit: ObjectId) -> anyhow::Result<Self> {
        let tree = super::repo::commit_tree(repo, commit)?;
        Self::at_tree(repo, tree)
    }

    /// The tree object `tree` in `repo`.
    pub fn at_tree(repo: &gix::Repository, tree: ObjectId) -> anyhow::Result<Self> {
        // Fail early on a missing or mistyped object rather than at the first read.
        repo.find_tree(tree).with_context(|| format!("reading tree {tree}"))?;
        Ok(GitTree {
            shared: repo.clone().into_sync(),
            handles: Mutex::new(vec![repo.clone()]),
            dirs: Mutex::new(HashMap::new()),
            root: tree,
        })
    }

    /// The id of the root tree object.
    pub fn id(&self) -> ObjectId {
        self.root
    }

    /// The blob id of the file at `path` (symbolic links followed), or `None`
    /// when nothing readable is there. Two trees whose files at `path` have the
    /// same id read the same bytes there.
    pub fn file_id(&self, path: &str) -> Option<ObjectId> {
        match self.resolve(path) {
            Ok(Walk { resolved: Resolved::File(id), .. }) => Some(id),
            _ => None,
        }
    }

    /// The tree id of the directory at `path` (symbolic links followed), or
    /// `None` when no directory is there. Two trees whose directories at
    /// `path` have the same id hold the same files below it.
    pub fn dir_id(&self, path: &str) -> Option<ObjectId> {
        match self.resolve(path) {
            Ok(Walk { resolved: Resolved::Dir(id), .. }) => Some(id),
            _ => None,
        }
    }

    /// Whether the last component of `path` is a symbolic link: the id of
    /// the directory holding it covers the link's target text, not what the
    /// target holds.
    pub fn is_link(&self, path: &str) -> bool {
        let Ok(path) = join("", path) else { return false };
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let Ok(Walk { resolved: Resolved::Dir(id), .. }) = self.resolve(parent) else {
            return false;
        };
        let Ok(entries) = self.dir(id, parent) else { return false };
        entries
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .is_ok_and(|i| matches!(entries[i].node, Node::Link(_)))
    }

    /// Runs `f` with a repository handle of this thread's own.
    fn with_repo<T>(&self, f: impl FnOnce(&gix::Repository) -> T) -> T {
        let popped = self.handles.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let repo = popped.unwrap_or_else(|| self.shared.to_thread_local());
        let out = f(&repo);
        self.handles.lock().unwrap_or_else(PoisonError::into_inner).push(repo);
        out
    }

    /// The entries of directory object `id`, sorted by name; `path` is for error messages.
    fn dir(&self, id: ObjectId, path: &str) -> Result<Arc<[DirEntry]>, Error> {
        if let Some(entries) = self.dirs.lock().unwrap_or_else(PoisonError::into_inner).get(&id) {
            return Ok(Arc::clone(entries));
        }
        let entries = self.with_repo(|repo| -> Result<Vec<DirEntry>, gix::Error> {
            let tree = repo.find_tree(id)?;
            let decoded = tree.decode()?;
            Ok(decoded
                .entries
                .iter()
                .filter_map(|e| {
                    // A name that is not UTF-8 cannot be asked for with a `&str`
                    // path, so it is not part of the tree the renderer sees.
                    let name = std::str::from_utf8(e.filename).ok()?.to_string();
                    let oid = e.oid.to_owned();
                    let node = match e.mode.kind() {
                        GitKind::Tree => Node::Dir(oid),
                        GitKind::Blob | GitKind::BlobExecutable => Node::File(oid),
                        GitKind::Link => Node::Link(oid),
                        GitKind::Commit => Node::Submodule,
                    };
                    Some(DirEntry { name, node })
                })
                .collect())
        });
        let mut entries = entries.map_err(|e| io_error(path, &e))?;
        // Git orders a directory `a` as if it were `a/`; listings are by plain name.
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let entries: Arc<[DirEntry]> = entries.into();
        self.dirs.lock().unwrap_or_else(PoisonError::into_inner).insert(id, Arc::clone(&entries));
        Ok(entries)
    }

    fn blob(&self, id: ObjectId, path: &str) -> Result<Vec<u8>, Error> {
        self.with_repo(|repo| repo.find_blob(id).map(|mut b| b.take_data()))
            .map_err(|e| io_error(path, &e))
    }

    /// Follows `path` from the root, resolving symbolic links on the way.
    fn resolve(&self, path: &str) -> Result<Walk, Error> {
        let not_found = || Error::NotFound { path: path.to_string() };
        let escapes = || Error::Escapes { path: path.to_string() };
        let mut pending: VecDeque<String> = components(&join("", path)?);
        let mut here: Vec<String> = Vec::new();
        let mut dir = self.root;
        let mut hops = 0;
        while let Some(name) = pending.pop_front() {
            let entries = self.dir(dir, &here.join("/"))?;
            let Ok(index) = entries.binary_search_by(|e| e.name.as_str().cmp(&name)) else {
                return Err(not_found());
            };
            match entries[index].node {
                Node::Dir(id) => {
                    here.push(name);
                    dir = id;
                }
                Node::File(id) if pending.is_empty() => {
                    here.push(name);
                    return Ok(Walk { resolved: Resolved::File(id), real: here.join("/") });
                }
                Node::File(_) | Node::Submodule => return Err(not_found()),
                Node::Link(id) => {
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Err(Error::Io {
                            path: path.to_string(),
                            message: "too many levels of symbolic links".into(),
                        });
                    }
                    let target = self.blob(id, path)?;
                    let target = String::from_utf8(target).map_err(|_| Error::Io {
                        path: path.to_string(),
                        message: "symbolic link target is not valid UTF-8".into(),
                    })?;
                    if target.is_empty() {
                        return Err(not_found());
                    }
                    if target.starts_with('/') {
                        return Err(escapes());
                    }
                    let rebased = join(&here.join("/"), &target).map_err(|_| escapes())?;
                    // Start over from the root with the link's target in place of the link.
                    let mut next = components(&rebased);
                    next.extend(pending.drain(..));
                    pending = next;
                    here.clear();
                    dir = self.root;
                }
            }
        }
        Ok(Walk { resolved: Resolved::Dir(dir), real: here.join("/") })
    }
}

impl std::fmt::Debug for GitTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitTree").field("root", &self.root).finish_non_exhaustive()
    }
}

impl Tree for GitTree {
    fn read(&self, path: &str) -> Result<Vec<u8>, Error> {
        match self.resolve(path)?.resolved {
            Resolved::File(id) => self.blob(id, path),
            Resolved::Dir(_) => {
                Err(Error::Io { path: path.to_string(), message: "is a directory".into() })
            }
        }
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        match self.resolve(path).ok()?.resolved {
            Resolved::File(_) => Some(EntryKind::File),
            Resolved::Dir(_) => Some(EntryKind::Dir),
        }
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, Error> {
        let id = match self.resolve(path)?.resolved {
            Resolved::Dir(id) => id,
            Resolved::File(_) => {
                return Err(Error::Io {
                    path: path.to_string(),
                    message: "not a directory".into(),
                });
            }
        };
        let mut out = Vec::new();
        for entry in self.dir(id, path)?.iter() {
            let kind = match entry.node {
                Node::Dir(_) => EntryKind::Dir,
                Node::File(_) => EntryKind::File,
                Node::Submodule => continue,
                // Links that escape or dangle are left out of listings, as
                // `DirTree` does; reading them directly is the error.
                Node::Link(_) => {
                    let child = if path.is_empty() {
                        entry.name.clone()
                    } else {
                        format!("{path}/{}", entry.name)
                    };
                    match self.kind(&child) {
                        Some(kind) => kind,
                        None => continue,
                    }
                }
            };
            out.push((entry.name.clone(), kind));
        }
        Ok(out)
    }

    /// The path with every symbolic link along it followed, so that the
    /// kustomize engine's root confinement sees where a link really leads,
    /// as it does on a checkout.
    fn real_path(&self, path: &str) -> Result<String, Error> {
        Ok(self.resolve(path)?.real)
    }
}

fn components(path: &str) -> VecDeque<String> {
    path.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect()
}

fn io_error(path: &str, e: &gix::Error) -> Error {
    Error::Io { path: path.to_string(), message: e.to_string() }
}
