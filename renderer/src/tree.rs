//! The read-only, path-confined file tree every render reads through.
//!
//! Paths are relative, `/`-separated and normalised (no `.`, `..` or empty
//! segments); the root is `""`. [`join`] is the only way to combine a base and
//! a user-written path, and it refuses paths that leave the root, the way
//! kustomize's `LoadRestrictionsRootOnly` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    /// A regular file (or a symlink that resolves to one inside the tree).
    File,
    /// A directory.
    Dir,
}

/// A failure to read the tree.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing at this path.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// The path would leave the tree's root.
    #[error("{path}: path leaves the root of the tree (no such file or directory below it)")]
    Escapes {
        /// The offending path as written.
        path: String,
    },
    /// An operating-system or object-database error.
    #[error("{path}: {message}")]
    Io {
        /// The path being read.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// A read-only tree of files.
pub trait Tree: Sync {
    /// The bytes of the file at `path`.
    fn read(&self, path: &str) -> Result<Vec<u8>, Error>;
    /// What `path` is, or `None` if nothing is there.
    fn kind(&self, path: &str) -> Option<EntryKind>;
    /// The entries of the directory at `path`, sorted by name.
    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, Error>;
    /// Where `path` resolves once symlinks are followed, as a path in the
    /// tree; a tree without symlinks gives the path itself.
    fn real_path(&self, path: &str) -> Result<String, Error> {
        Ok(path.to_string())
    }
    /// The name of the directory the tree is rooted at, where it has one
    /// (kustomize derives some defaults from a kustomization directory's name).
    fn root_name(&self) -> Option<String> {
        None
    }
    /// Every file below the directory `dir`, with its path relative to
    /// `dir`, depth first in listing order: what [`Tree::list`] and
    /// [`Tree::read`] give, asked path by path (a tree that can answer in
    /// one walk does).
    fn files_below(&self, dir: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let mut out = Vec::new();
        listed_files_below(self, dir, "", &mut out)?;
        Ok(out)
    }
    /// Every file called `name` anywhere in the tree (`.git` directories
    /// passed over, as Flux passes them over), with its bytes, sorted by
    /// path. One question, so that a tree that records what is asked of it
    /// can tie the answer to those files alone rather than to every
    /// directory walked to find them.
    fn files_named(&self, name: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let mut out = Vec::new();
        let mut dirs = vec![String::new()];
        while let Some(dir) = dirs.pop() {
            for (entry, kind) in self.list(&dir)? {
                let path = join(&dir, &entry)?;
                match kind {
                    // Symbolic links are not followed: Flux walks without
                    // them, and a link to a directory above would loop.
                    EntryKind::Dir if entry != ".git" && !through_link(self, &path) => {
                        dirs.push(path)
                    }
                    EntryKind::File if entry == name => {
                        let bytes = self.read(&path)?;
                        out.push((path, bytes));
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// [`Tree::files_below`] for the directory `rel` of `dir`, by listing.
fn listed_files_below<T: Tree + ?Sized>(
    tree: &T,
    dir: &str,
    rel: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), Error> {
    for (name, kind) in tree.list(&join_path(dir, rel))? {
        let child = join_path(rel, &name);
        match kind {
            EntryKind::Dir => listed_files_below(tree, dir, &child, out)?,
            EntryKind::File => {
                let bytes = tree.read(&join_path(dir, &child))?;
                out.push((child, bytes));
            }
        }
    }
    Ok(())
}

/// `a/b`, or either alone where the other is the root `""`.
fn join_path(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

/// Whether `path` is a symbolic link or reached through one.
pub fn through_link(tree: &(impl Tree + ?Sized), path: &str) -> bool {
    tree.real_path(path).is_ok_and(|real| real != path)
}

/// `path` relative to the directory `from`, both tree paths (`..` where
/// `path` is not below `from`).
pub fn relative(from: &str, path: &str) -> String {
    let parts = |p: &str| -> Vec<String> {
        p.split('/').filter(|s| !s.is_empty() && *s != ".").map(str::to_string).collect()
    };
    let (from, to) = (parts(from), parts(path));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = vec!["..".to_string(); from.len() - common];
    out.extend(to[common..].iter().cloned());
    out.join("/")
}

/// Joins `rel` (as written by a user, relative to `base`) onto `base` and
/// normalises the result; an absolute path or one that climbs above the root
/// is [`Error::Escapes`].
pub fn join(base: &str, rel: &str) -> Result<String, Error> {
    if rel.starts_with('/') || rel.contains('\\') && rel.starts_with("\\\\") {
        return Err(Error::Escapes { path: rel.to_string() });
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(Error::Escapes { path: rel.to_string() });
                }
            }
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

/// The directory part of a normalised path (`""` for top-level entries).
pub fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The last segment of a normalised path.
pub fn file_name(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// Whether `path` is `dir` or lies below it.
pub fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// Reads a file as UTF-8 text.
pub fn read_text(tree: &dyn Tree, path: &str) -> Result<String, Error> {
    let bytes = tree.read(path)?;
    String::from_utf8(bytes).map_err(|e| Error::Io {
        path: path.to_string(),
        message: format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// A tree held in memory: paths to file contents. Directories are implied.
#[derive(Debug, Default, Clone)]
pub struct MemTree {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a file; `path` is normalised.
    pub fn insert(&mut self, path: &str, contents: impl Into<Vec<u8>>) {
        let path = join("", path).expect("MemTree paths are relative");
        self.files.insert(path, contents.into());
    }
}

impl Tree for MemTree {
    fn read(&self, path: &str) -> Result<Vec<u8>, Error> {
        self.files.get(path).cloned().ok_or_else(|| Error::NotFound { path: path.to_string() })
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        if self.files.contains_key(path) {
            return Some(EntryKind::File);
        }
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        self.files
            .range(prefix.clone()..)
            .next()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|_| EntryKind::Dir)
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, Error> {
        let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
        let mut out: BTreeMap<String, EntryKind> = BTreeMap::new();
        for k in self
            .files
            .range(prefix.clone()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(&prefix))
        {
            let rest = &k[prefix.len()..];
            match rest.split_once('/') {
                Some((dir, _)) => out.insert(dir.to_string(), EntryKind::Dir),
                None => out.insert(rest.to_string(), EntryKind::File),
            };
        }
        if out.is_empty() && !path.is_empty() {
            return Err(Error::NotFound { path: path.to_string() });
        }
        Ok(out.into_iter().collect())
    }
}

/// A directory on disk, confined: symlinks that resolve outside the root
/// are refused.
#[derive(Debug, Clone)]
pub struct DirTree {
    root: PathBuf,
}

impl DirTree {
    /// A tree rooted at `root`, which must exist.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, Error> {
        let root = root.as_ref();
        let root = root
            .canonicalize()
            .map_err(|e| Error::Io { path: root.display().to_string(), message: e.to_string() })?;
        Ok(DirTree { root })
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `path` is on disk once symlinks are followed, with what is
    /// there (symlinks followed); a path that resolves outside the root is
    /// [`Error::Escapes`].
    ///
    /// The root is canonical, so a path below it whose every segment is a
    /// plain name and no symlink is its own canonical form: one `lstat` per
    /// segment proves that, where `canonicalize` would `readlink` every
    /// segment of the root's own path as well and a caller would `stat`
    /// the result again. Anything else (a symlink, an odd segment, an error
    /// other than a missing entry) takes the full `canonicalize`, so its
    /// answers and errors are the ones that gives.
    fn resolve(&self, path: &str) -> Result<(PathBuf, std::fs::Metadata), Error> {
        if path.is_empty() {
            let md = std::fs::metadata(&self.root).map_err(|e| io_error(path, &e))?;
            return Ok((self.root.clone(), md));
        }
        let mut full = PathBuf::with_capacity(self.root.as_os_str().len() + path.len() + 1);
        full.push(&self.root);
        let mut segments = path.split('/').peekable();
        while let Some(seg) = segments.next() {
            if matches!(seg, "" | "." | "..") {
                return self.resolve_canonical(path);
            }
            full.push(seg);
            match std::fs::symlink_metadata(&full) {
                Ok(md) if md.file_type().is_symlink() => return self.resolve_canonical(path),
                Ok(md) if segments.peek().is_none() => return Ok((full, md)),
                Ok(md) if md.is_dir() => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::NotFound { path: path.to_string() });
                }
                _ => return self.resolve_canonical(path),
            }
        }
        self.resolve_canonical(path)
    }

    /// The entries of the directory `path`, which is at `disk` (inside the
    /// root), sorted by name, each with where it is on disk and its kind.
    /// An entry that is no symlink, in a directory inside the root, is
    /// inside it too: its type, from the directory listing, is its kind. A
    /// symlink is resolved, and left out where it leads out of the root or
    /// nowhere (reading it directly is an error). Names that are not UTF-8
    /// are passed over.
    fn confined_entries(&self, path: &str, disk: &Path) -> Result<Vec<ConfinedEntry>, Error> {
        let io = |e: std::io::Error| Error::Io { path: path.to_string(), message: e.to_string() };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(disk).map_err(io)? {
            let entry = entry.map_err(io)?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            let found = match entry.file_type() {
                Ok(t) if !t.is_symlink() => {
                    let kind = if t.is_dir() { EntryKind::Dir } else { EntryKind::File };
                    ConfinedEntry { name, disk: entry.path(), kind, len: None }
                }
                _ => match self.resolve(&join_path(path, &name)) {
                    Ok((disk, md)) => {
                        let kind = if md.is_dir() { EntryKind::Dir } else { EntryKind::File };
                        ConfinedEntry { name, disk, kind, len: Some(md.len()) }
                    }
                    Err(_) => continue,
                },
            };
            out.push(found);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// [`Tree::files_below`] for the directory `rel` of `dir`, which is at
    /// `disk` (inside the root): one directory read each, with no path
    /// resolved again where an entry is no symlink.
    fn confined_files_below(
        &self,
        dir: &str,
        disk: &Path,
        rel: &str,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> Result<(), Error> {
        for entry in self.confined_entries(&join_path(dir, rel), disk)? {
            let child = join_path(rel, &entry.name);
            match entry.kind {
                EntryKind::Dir => self.confined_files_below(dir, &entry.disk, &child, out)?,
                EntryKind::File => {
                    // A plain entry's size comes from its own `stat`, to size
                    // the buffer; a symlink's from resolving it.
                    let len = entry.len.unwrap_or_else(|| {
                        std::fs::symlink_metadata(&entry.disk).map_or(0, |md| md.len())
                    });
                    let at = join_path(dir, &child);
                    out.push((child, read_file(&at, &entry.disk, len)?));
                }
            }
        }
        Ok(())
    }

    /// [`DirTree::resolve`] by `canonicalize`, for paths through symlinks.
    fn resolve_canonical(&self, path: &str) -> Result<(PathBuf, std::fs::Metadata), Error> {
        let full = self.root.join(path);
        let canon = full.canonicalize().map_err(|e| io_error(path, &e))?;
        if !canon.starts_with(&self.root) {
            return Err(Error::Escapes { path: path.to_string() });
        }
        let md = std::fs::metadata(&canon).map_err(|e| io_error(path, &e))?;
        Ok((canon, md))
    }
}

/// An entry of a directory inside a [`DirTree`]'s root (see
/// [`DirTree::confined_entries`]).
struct ConfinedEntry {
    name: String,
    /// Where it is on disk, symlinks followed.
    disk: PathBuf,
    kind: EntryKind,
    /// Its size, where resolving a symlink gave it.
    len: Option<u64>,
}

/// The bytes of the file at `at` on disk, the tree's `path`, `len` bytes
/// long when last seen: one buffer, and no second `stat` of the open file
/// as `fs::read` makes. A file that grew since is still read whole.
fn read_file(path: &str, at: &Path, len: u64) -> Result<Vec<u8>, Error> {
    let io = |e: std::io::Error| Error::Io { path: path.to_string(), message: e.to_string() };
    let file = std::fs::File::open(at).map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, u64::MAX), &mut bytes).map_err(io)?;
    Ok(bytes)
}

/// An I/O error on `path`: [`Error::NotFound`] when nothing is there.
fn io_error(path: &str, e: &std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound { path: path.to_string() },
        _ => Error::Io { path: path.to_string(), message: e.to_string() },
    }
}

impl Tree for DirTree {
    fn root_name(&self) -> Option<String> {
        // The root was made canonical when the tree was opened.
        self.root.file_name().map(|n| n.to_string_lossy().into_owned())
    }

    fn real_path(&self, path: &str) -> Result<String, Error> {
        let (canon, _) = self.resolve(path)?;
        let rel =
            canon.strip_prefix(&self.root).map_err(|_| Error::Escapes { path: path.into() })?;
        let parts: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        Ok(parts.join("/"))
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, Error> {
        let (p, md) = self.resolve(path)?;
        if md.is_dir() {
            return Err(Error::Io { path: path.to_string(), message: "is a directory".into() });
        }
        read_file(path, &p, md.len())
    }

    fn files_below(&self, dir: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let (disk, _) = self.resolve(dir)?;
        let mut out = Vec::new();
        self.confined_files_below(dir, &disk, "", &mut out)?;
        Ok(out)
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        let (_, md) = self.resolve(path).ok()?;
        Some(if md.is_dir() { EntryKind::Dir } else { EntryKind::File })
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, Error> {
        let (disk, _) = self.resolve(path)?;
        Ok(self.confined_entries(path, &disk)?.into_iter().map(|e| (e.name, e.kind)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let cases = [
            ("", "base/kustomization.yaml", "base/kustomization.yaml"),
            ("top", "top/a/b.yaml", "a/b.yaml"),
            ("top/x", "top/base/k.yaml", "../base/k.yaml"),
            ("top", "other/k.yaml", "../other/k.yaml"),
        ];
        for (from, path, want) in cases {
            assert_eq!(relative(from, path), want, "{from} {path}");
        }
    }

    #[test]
    fn join_normalises_and_confines() {
        assert_eq!(join("a/b", "../c").unwrap(), "a/c");
        assert_eq!(join("", "./x//y").unwrap(), "x/y");
        assert_eq!(join("a", "..").unwrap(), "");
        assert!(matches!(join("a", "../.."), Err(Error::Escapes { .. })));
        assert!(matches!(join("a", "/etc/passwd"), Err(Error::Escapes { .. })));
    }

    #[test]
    fn mem_tree_lists_directories() {
        let mut t = MemTree::new();
        t.insert("a/b.yaml", "x");
        t.insert("a/c/d.yaml", "y");
        assert_eq!(t.kind("a"), Some(EntryKind::Dir));
        assert_eq!(t.kind("a/b.yaml"), Some(EntryKind::File));
        assert_eq!(t.kind("ab"), None);
        let names: Vec<String> = t.list("a").unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["b.yaml", "c"]);
    }

    #[test]
    fn dir_tree_refuses_symlinks_out() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("link"))
            .unwrap();
        let t = DirTree::new(root.path()).unwrap();
        assert!(matches!(t.read("link"), Err(Error::Escapes { .. })));
        assert!(matches!(t.real_path("link"), Err(Error::Escapes { .. })));
    }

    /// Listing types entries from the directory read itself; links are
    /// still followed one by one, those out of the root (or nowhere) left
    /// out, and every answer is the one `canonicalize` gives.
    #[test]
    fn dir_tree_lists_and_resolves_as_canonicalize_does() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("d")).unwrap();
        std::fs::write(outside.path().join("d/f"), "out").unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("a/b")).unwrap();
        std::fs::write(r.join("a/b/f.yaml"), "in").unwrap();
        std::fs::write(r.join("a/file"), "x").unwrap();
        std::os::unix::fs::symlink("b", r.join("a/in-dir")).unwrap();
        std::os::unix::fs::symlink("b/f.yaml", r.join("a/in-file")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("d"), r.join("a/out-dir")).unwrap();
        std::os::unix::fs::symlink("missing", r.join("a/dangling")).unwrap();
        let t = DirTree::new(r).unwrap();
        let listed = t.list("a").unwrap();
        let want = [
            ("b", EntryKind::Dir),
            ("file", EntryKind::File),
            ("in-dir", EntryKind::Dir),
            ("in-file", EntryKind::File),
        ];
        let want: Vec<(String, EntryKind)> =
            want.iter().map(|(n, k)| (n.to_string(), *k)).collect();
        assert_eq!(listed, want);
        assert_eq!(t.read("a/in-dir/f.yaml").unwrap(), b"in");
        assert_eq!(t.read("a/in-file").unwrap(), b"in");
        assert_eq!(t.real_path("a/in-dir/f.yaml").unwrap(), "a/b/f.yaml");
        // Through a link out of the root, even to a file that is there.
        assert!(matches!(t.read("a/out-dir/f"), Err(Error::Escapes { .. })));
        assert!(matches!(t.list("a/out-dir"), Err(Error::Escapes { .. })));
        assert_eq!(t.kind("a/out-dir"), None);
        assert!(matches!(t.read("a/dangling"), Err(Error::NotFound { .. })));
        assert!(matches!(t.read("a/missing/f"), Err(Error::NotFound { .. })));
        // Below a file: the operating system's error, as before.
        assert!(matches!(t.read("a/file/x"), Err(Error::Io { .. })));
        assert!(matches!(t.read("a/b"), Err(Error::Io { .. })));
        assert_eq!(t.kind("a/b"), Some(EntryKind::Dir));
        assert_eq!(t.kind(""), Some(EntryKind::Dir));
        assert_eq!(t.real_path("").unwrap(), "");
        // A tree rooted below a link is rooted at the link's target.
        let via = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(r.join("a"), via.path().join("link")).unwrap();
        let t = DirTree::new(via.path().join("link")).unwrap();
        assert_eq!(t.read("b/f.yaml").unwrap(), b"in");
        assert!(matches!(t.read("out-dir/f"), Err(Error::Escapes { .. })));
        assert_eq!(t.root_name().as_deref(), Some("a"));
    }

    /// The one-walk read of a directory gives what listing and reading it
    /// path by path gives: links inside the root followed, links out of the
    /// root (or nowhere) left out, and a directory reached through a link
    /// out refused with the same error.
    #[test]
    fn dir_tree_files_below_stays_confined() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("d")).unwrap();
        std::fs::write(outside.path().join("d/f"), "out").unwrap();
        std::fs::write(outside.path().join("secret"), "out").unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("chart/templates/sub")).unwrap();
        std::fs::create_dir_all(r.join("other")).unwrap();
        std::fs::write(r.join("chart/Chart.yaml"), "name: c").unwrap();
        std::fs::write(r.join("chart/templates/a.yaml"), "a").unwrap();
        std::fs::write(r.join("chart/templates/sub/b.yaml"), "b").unwrap();
        std::fs::write(r.join("other/o.yaml"), "o").unwrap();
        let link = |to: &Path, at: &str| std::os::unix::fs::symlink(to, r.join(at)).unwrap();
        link(Path::new("../../other/o.yaml"), "chart/templates/in-root.yaml");
        link(Path::new("../other"), "chart/linked");
        link(&outside.path().join("secret"), "chart/templates/secret.yaml");
        link(&outside.path().join("d"), "chart/templates/out-dir");
        link(&outside.path().join("d"), "out-chart");
        link(Path::new("missing"), "chart/dangling");
        let t = DirTree::new(r).unwrap();
        let got = t.files_below("chart").unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Chart.yaml",
                "linked/o.yaml",
                "templates/a.yaml",
                "templates/in-root.yaml",
                "templates/sub/b.yaml"
            ]
        );
        assert!(got.iter().all(|(_, bytes)| bytes != b"out"));
        let mut listed = Vec::new();
        listed_files_below(&t, "chart", "", &mut listed).unwrap();
        assert_eq!(got, listed);
        let escapes = t.files_below("out-chart").unwrap_err();
        assert!(matches!(escapes, Error::Escapes { .. }));
        assert_eq!(escapes.to_string(), t.list("out-chart").unwrap_err().to_string());
        assert_eq!(t.files_below("").unwrap().len(), got.len() + 1);
    }

    /// Links to directories above would make a walk endless: whole-tree
    /// walks do not follow links, as Flux's do not.
    #[test]
    fn whole_tree_walks_do_not_follow_links() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a")).unwrap();
        std::fs::write(root.path().join("a/.sourceignore"), "x\n").unwrap();
        std::os::unix::fs::symlink(".", root.path().join("l1")).unwrap();
        std::os::unix::fs::symlink("..", root.path().join("a/l2")).unwrap();
        let t = DirTree::new(root.path()).unwrap();
        let found: Vec<String> =
            t.files_named(".sourceignore").unwrap().into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["a/.sourceignore"]);
        assert!(through_link(&t, "l1") && through_link(&t, "a/l2/a") && !through_link(&t, "a"));
    }

    #[test]
    fn real_paths_follow_symlinks() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a/b")).unwrap();
        std::fs::write(root.path().join("top.yaml"), "x").unwrap();
        std::os::unix::fs::symlink("../../top.yaml", root.path().join("a/b/up.yaml")).unwrap();
        std::os::unix::fs::symlink("b", root.path().join("a/c")).unwrap();
        let t = DirTree::new(root.path()).unwrap();
        let cases = [("a/b/up.yaml", "top.yaml"), ("a/c", "a/b"), ("top.yaml", "top.yaml")];
        for (path, want) in cases {
            assert_eq!(t.real_path(path).unwrap(), want, "{path}");
        }
        let mem = MemTree::new();
        assert_eq!(mem.real_path("a/b").unwrap(), "a/b");
        assert!(matches!(t.real_path("missing"), Err(Error::NotFound { .. })));
    }
}
