//! Which files a Flux source artifact leaves out: source-controller's default exclusions and `.sourceignore` files.
//!
//! source-controller packs a repository into an artifact without the files
//! its ignore rules match (fluxcd/pkg `sourceignore`): first its defaults
//! (version control files, images and archives, CI configuration,
//! `**/.sops.yaml`, ...), then the `.sourceignore` file of every directory,
//! each scoped to its directory, in gitignore syntax. The last pattern that
//! matches a path decides, so a deeper file's `!pattern` brings back what a
//! shallower one left out. A GitRepository's `spec.ignore` comes last (it
//! wins) and replaces the defaults but for the version control files. The
//! kustomize-controller only ever sees what is left, which matters most
//! where it generates a kustomization: a YAML file that is ignored is not a
//! resource.
//!
//! source-controller reads every `.sourceignore` of the repository, and when
//! any of them (or `spec.ignore`) holds a pattern, its defaults are dropped
//! but for the version control files ([`Source`]): a repository whose root
//! `.sourceignore` lists only `docs/` ships its `.github/` and `.sops.yaml`
//! files, which a generated kustomization then lists.

use crate::tree::{self, EntryKind, Tree};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The file that holds a directory's ignore patterns.
pub const FILE: &str = ".sourceignore";

/// source-controller's default exclusions, lowest priority first; the
/// first [`VCS`] are kept when a GitRepository sets `spec.ignore`.
const DEFAULTS: &[&str] = &[
    ".git/",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];

/// How many of [`DEFAULTS`] are version control files.
const VCS: usize = 4;

/// One gitignore line, scoped to the directory whose file holds it.
#[derive(Debug, Clone, PartialEq)]
struct Pattern {
    /// The directory's path components.
    domain: Vec<String>,
    /// The pattern's `/`-separated parts (a leading `/` gives an empty first part).
    parts: Vec<String>,
    /// `!pattern`: brings a path back.
    include: bool,
    /// `pattern/`: matches directories (and what is below them) only.
    dir_only: bool,
}

impl Pattern {
    fn parse(line: &str, domain: &[String]) -> Pattern {
        let (include, mut p) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        if !p.ends_with("\\ ") {
            p = p.trim_end_matches(' ');
        }
        let dir_only = p.ends_with('/');
        let p = p.strip_suffix('/').unwrap_or(p);
        Pattern {
            domain: domain.to_vec(),
            parts: p.split('/').map(str::to_string).collect(),
            include,
            dir_only,
        }
    }

    /// `Some(true)` when the pattern leaves `path` out, `Some(false)` when
    /// it brings it back, `None` when it does not match.
    fn verdict(&self, path: &[&str], is_dir: bool) -> Option<bool> {
        if path.len() <= self.domain.len() || self.domain.iter().zip(path).any(|(d, p)| d != p) {
            return None;
        }
        let path = &path[self.domain.len()..];
        let hit = if self.parts.len() > 1 {
            self.glob_match(path, is_dir)
        } else {
            self.name_match(path, is_dir)
        };
        hit.then_some(!self.include)
    }

    /// A pattern without `/` matches any component of the path.
    fn name_match(&self, path: &[&str], is_dir: bool) -> bool {
        for (i, name) in path.iter().enumerate() {
            match super::glob::matches(&self.parts[0], name) {
                None => return false,
                Some(false) => continue,
                Some(true) => return !(self.dir_only && !is_dir && i == path.len() - 1),
            }
        }
        false
    }

    /// A pattern with `/` matches from the domain down, `**` standing for
    /// any number of directories; a path may go on below what it matches.
    fn glob_match(&self, mut path: &[&str], is_dir: bool) -> bool {
        let mut matched = false;
        let mut traverse = false;
        for (i, part) in self.parts.iter().enumerate() {
            if part.is_empty() {
                traverse = false;
                continue;
            }
            if part == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                traverse = true;
                continue;
            }
            if part.contains("**") || path.is_empty() {
                return false;
            }
            if traverse {
                traverse = false;
                while let Some((first, rest)) = path.split_first() {
                    path = rest;
                    match super::glob::matches(part, first) {
                        None => return false,
                        Some(true) => {
                            matched = true;
                            break;
                        }
                        Some(false) if path.is_empty() => matched = false,
                        Some(false) => {}
                    }
                }
            } else {
                if super::glob::matches(part, path[0]) != Some(true) {
                    return false;
                }
                matched = true;
                path = &path[1..];
            }
        }
        matched && !(self.dir_only && !is_dir && path.is_empty())
    }
}

/// The ignore rules in effect for some directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignore {
    /// Defaults and `.sourceignore` lines, lowest priority first.
    patterns: Vec<Pattern>,
    /// A GitRepository's `spec.ignore` lines, above all others.
    source: Vec<Pattern>,
}

/// The patterns of an ignore file's lines (comments and blank lines skipped).
fn parse_lines(text: &str, domain: &[String]) -> Vec<Pattern> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| Pattern::parse(l, domain))
        .collect()
}

/// What shapes a source artifact beyond the `.sourceignore` files on a
/// path's way down: the GitRepository's `spec.ignore`, and whether any
/// `.sourceignore` of the repository holds a pattern. Either one drops
/// source-controller's defaults but for the version control files, as its
/// archive filter does when it has any pattern at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// The GitRepository's `spec.ignore` text (`""` when it has none).
    pub spec_ignore: String,
    /// Whether some `.sourceignore` file of the repository holds a pattern.
    pub file_patterns: bool,
    /// Whether some `.sourceignore` file holds a `!` pattern, which may
    /// bring a file back below a directory left out.
    pub file_includes: bool,
    /// Whether `spec_ignore` holds a pattern, and a `!` one: read once,
    /// when `spec_ignore` is set.
    spec_patterns: bool,
    spec_includes: bool,
}

impl Source {
    /// The source of `tree` with `spec_ignore`, every `.sourceignore` of
    /// the tree looked at (`.git` directories passed over, as Flux does).
    pub fn read(tree: &dyn Tree, spec_ignore: &str) -> Result<Source, tree::Error> {
        let mut source = Source::default();
        for (_, bytes) in tree.files_named(FILE)? {
            let patterns = parse_lines(&String::from_utf8_lossy(&bytes), &[]);
            source.file_patterns |= !patterns.is_empty();
            source.file_includes |= patterns.iter().any(|p| p.include);
        }
        Ok(source.with_spec_ignore(spec_ignore))
    }

    /// This source with the GitRepository's `spec.ignore` set to `spec_ignore`.
    pub fn with_spec_ignore(&self, spec_ignore: &str) -> Source {
        let patterns = parse_lines(spec_ignore, &[]);
        Source {
            spec_ignore: spec_ignore.to_string(),
            spec_patterns: !patterns.is_empty(),
            spec_includes: patterns.iter().any(|p| p.include),
            ..self.clone()
        }
    }

    /// Whether the defaults (but for the version control files) are dropped.
    fn drops_defaults(&self) -> bool {
        self.file_patterns || self.spec_patterns
    }

    /// Whether any pattern may bring a path back.
    fn includes(&self) -> bool {
        self.file_includes || self.spec_includes
    }
}

impl Ignore {
    /// source-controller's defaults alone.
    pub fn defaults() -> Ignore {
        Ignore::with_source(&Source::default())
    }

    /// The defaults, or only the version control ones when `source` drops
    /// them, with its `spec.ignore` lines above all others.
    pub fn with_source(source: &Source) -> Ignore {
        let defaults = if source.drops_defaults() { &DEFAULTS[..VCS] } else { DEFAULTS };
        Ignore {
            patterns: defaults.iter().map(|p| Pattern::parse(p, &[])).collect(),
            source: parse_lines(&source.spec_ignore, &[]),
        }
    }

    /// Adds the `.sourceignore` of `dir`, if it has one, as the rules of
    /// highest priority.
    pub fn read(&mut self, tree: &dyn Tree, dir: &str) -> Result<(), tree::Error> {
        let file = tree::join(dir, FILE)?;
        if tree.kind(&file) != Some(EntryKind::File) {
            return Ok(());
        }
        let text = tree::read_text(tree, &file)?;
        self.add(&text, dir);
        Ok(())
    }

    /// Adds the lines of an ignore file found in `dir` (comments and blank
    /// lines skipped).
    pub fn add(&mut self, text: &str, dir: &str) {
        let domain: Vec<String> =
            dir.split('/').filter(|p| !p.is_empty()).map(str::to_string).collect();
        self.patterns.extend(parse_lines(text, &domain));
    }

    /// Whether the artifact leaves out `path` (relative to the repository root).
    pub fn excludes(&self, path: &str, is_dir: bool) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut last_first = self.source.iter().rev().chain(self.patterns.iter().rev());
        last_first.find_map(|p| p.verdict(&parts, is_dir)).unwrap_or(false)
    }
}

/// A source artifact as source-controller packs it: `base` without the
/// files its ignore rules leave out. Each file is judged on its own, by the
/// rules of [`Source`] and the `.sourceignore` files of the directories
/// above it (an excluded directory's files stay out unless a later `!`
/// pattern brings them back, as go-git's matcher decides path by path); a
/// directory is there while it is not excluded or still holds something.
/// Symbolic links are left out, and all that is reached through them:
/// source-controller packs regular files and directories alone. Every Flux
/// unit builds in it, so a kustomization that names a left-out file fails
/// as the kustomize-controller fails.
pub struct Artifact<'a> {
    base: &'a dyn Tree,
    source: Source,
    /// The rules in effect in each directory asked about so far.
    rules: Mutex<HashMap<String, Arc<Ignore>>>,
    /// Whether each left-out directory asked about still holds a kept file.
    kept_dirs: Mutex<HashMap<String, bool>>,
    /// Whether any pattern may bring a path back (see [`Source`]).
    includes: bool,
}

impl<'a> Artifact<'a> {
    /// The artifact of `base` packed with `source`'s rules.
    pub fn new(base: &'a dyn Tree, source: Source) -> Artifact<'a> {
        let includes = source.includes();
        Artifact { base, source, rules: Mutex::default(), kept_dirs: Mutex::default(), includes }
    }

    /// The rules that judge the entries of `dir`.
    fn rules(&self, dir: &str) -> Result<Arc<Ignore>, tree::Error> {
        if let Some(found) = self.rules.lock().unwrap_or_else(|e| e.into_inner()).get(dir) {
            return Ok(found.clone());
        }
        let mut ignore = match dir.rsplit_once('/') {
            _ if dir.is_empty() => Ignore::with_source(&self.source),
            Some((parent, _)) => (*self.rules(parent)?).clone(),
            None => (*self.rules("")?).clone(),
        };
        ignore.read(self.base, dir)?;
        let ignore = Arc::new(ignore);
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_string(), ignore.clone());
        Ok(ignore)
    }

    /// Whether the left-out directory `dir` still holds a file the
    /// artifact keeps (answered once per directory).
    fn holds_any(&self, dir: &str) -> bool {
        if !self.includes {
            return false;
        }
        if let Some(known) = self.kept_dirs.lock().unwrap_or_else(|e| e.into_inner()).get(dir) {
            return *known;
        }
        let holds = self.base.list(dir).is_ok_and(|entries| {
            entries.iter().any(|(name, kind)| {
                tree::join(dir, name).is_ok_and(|child| match kind {
                    EntryKind::File => !self.leaves_out(&child, false),
                    EntryKind::Dir => !self.leaves_out(&child, true) || self.holds_any(&child),
                })
            })
        });
        self.kept_dirs.lock().unwrap_or_else(|e| e.into_inner()).insert(dir.to_string(), holds);
        holds
    }

    /// Whether the artifact leaves out `path` itself: a symbolic link, or
    /// a path through one, or a path the rules exclude.
    fn leaves_out(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() {
            return false;
        }
        if tree::through_link(self.base, path) {
            return true;
        }
        let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
        // A `.sourceignore` that cannot be read is an error where the
        // entry is read or listed; here it only keeps the entry.
        self.rules(parent).is_ok_and(|rules| rules.excludes(path, is_dir))
    }
}

impl Tree for Artifact<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, tree::Error> {
        if self.kind(path) != Some(EntryKind::File) {
            return Err(tree::Error::NotFound { path: path.to_string() });
        }
        self.base.read(path)
    }

    fn kind(&self, path: &str) -> Option<EntryKind> {
        match self.base.kind(path)? {
            EntryKind::File if self.leaves_out(path, false) => None,
            EntryKind::Dir if self.leaves_out(path, true) => {
                self.holds_any(path).then_some(EntryKind::Dir)
            }
            kind => Some(kind),
        }
    }

    fn list(&self, path: &str) -> Result<Vec<(String, EntryKind)>, tree::Error> {
        let entries = self.base.list(path)?;
        let mut kept = Vec::with_capacity(entries.len());
        for (name, kind) in entries {
            let child = tree::join(path, &name)?;
            let there = match kind {
                EntryKind::File => !self.leaves_out(&child, false),
                EntryKind::Dir => self.kind(&child).is_some(),
            };
            if there {
                kept.push((name, kind));
            }
        }
        Ok(kept)
    }

    fn real_path(&self, path: &str) -> Result<String, tree::Error> {
        self.base.real_path(path)
    }

    fn root_name(&self) -> Option<String> {
        self.base.root_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gitignore semantics as source-controller applies them (fluxcd/pkg
    /// `sourceignore` and go-git's gitignore matcher).
    #[test]
    fn ignores_like_source_controller() {
        let mut ignore = Ignore::defaults();
        ignore.add("# comment\n/drafts\n*.tmpl.yaml\nbuild/\n!keep.tmpl.yaml\n", "");
        ignore.add("**/secret-*.yaml\n/local.yaml\n", "apps");
        let cases: &[(&str, bool)] = &[
            (".github/workflows/ci.yml", true),
            ("deploy/.github/x.yaml", true),
            (".gitlab-ci.yml", true),
            ("clusters/prod/.sops.yaml", true),
            (".sops.yaml", true),
            ("logo.png", true),
            ("app/deploy.yaml", false),
            ("drafts/a.yaml", true),
            ("app/drafts/a.yaml", false),
            ("app/x.tmpl.yaml", true),
            ("app/keep.tmpl.yaml", false),
            ("app/build/x.yaml", true),
            ("app/build", false),
            ("apps/secret-a.yaml", true),
            ("apps/a/b/secret-b.yaml", true),
            ("other/secret-a.yaml", false),
            ("apps/local.yaml", true),
            ("apps/sub/local.yaml", false),
            ("local.yaml", false),
        ];
        for (path, want) in cases {
            assert_eq!(ignore.excludes(path, false), *want, "{path}");
        }
        assert!(ignore.excludes("app/build", true));
    }

    #[test]
    fn reads_the_files_down_to_a_directory() {
        let mut t = tree::MemTree::new();
        t.insert(".sourceignore", "*.draft.yaml\n");
        t.insert("apps/.sourceignore", "!keep.draft.yaml\n");
        t.insert("other/.sourceignore", "*.yaml\n");
        t.insert(".git/config", "[core]\n");
        for f in ["a.draft.yaml", "keep.draft.yaml", "a.yaml", ".sops.yaml", ".gitignore"] {
            t.insert(&format!("apps/web/{f}"), "x: 1\n");
        }
        t.insert("apps/web/.git/config", "[core]\n");
        t.insert("infra/a.yaml", "x: 1\n");
        let kept = |source: &Source| -> Vec<String> {
            let artifact = Artifact::new(&t, source.clone());
            let mut out = Vec::new();
            for dir in ["", "apps/web", "apps/web/.git", "infra", ".git"] {
                for (name, _) in artifact.list(dir).unwrap_or_default() {
                    out.push(tree::join(dir, &name).unwrap());
                }
            }
            out
        };
        let source = Source::read(&t, "").unwrap();
        assert!(source.file_patterns && source.file_includes);
        // The files hold patterns, so the defaults are dropped (a SOPS
        // config is in the artifact) but for version control files.
        assert_eq!(
            kept(&source),
            [
                ".sourceignore",
                "apps",
                "infra",
                "other",
                "apps/web/.sops.yaml",
                "apps/web/a.yaml",
                "apps/web/keep.draft.yaml",
                "infra/a.yaml",
            ]
        );
        // Without patterns anywhere the defaults hold.
        assert!(!kept(&Source::default()).contains(&"apps/web/.sops.yaml".to_string()));
        // A GitRepository's spec.ignore wins over the files and replaces
        // the defaults but for version control files; `!/apps` is the last
        // pattern to match below it, so it wins even over the version
        // control default there.
        let source = source.with_spec_ignore("/*\n!/apps\n*.draft.yaml\n");
        assert_eq!(
            kept(&source),
            [
                "apps",
                "apps/web/.git",
                "apps/web/.gitignore",
                "apps/web/.sops.yaml",
                "apps/web/a.yaml",
                "apps/web/.git/config",
            ]
        );
    }

    /// Symbolic links are not in the artifact, nor what is reached
    /// through them.
    #[test]
    fn leaves_out_symbolic_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("shared")).unwrap();
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::write(root.join("shared/cm.yaml"), "kind: ConfigMap\n").unwrap();
        std::os::unix::fs::symlink("../shared/cm.yaml", root.join("app/cm.yaml")).unwrap();
        std::os::unix::fs::symlink("../shared", root.join("app/linked")).unwrap();
        let t = tree::DirTree::new(root).unwrap();
        let artifact = Artifact::new(&t, Source::default());
        assert_eq!(t.kind("app/cm.yaml"), Some(EntryKind::File));
        assert_eq!(artifact.kind("app/cm.yaml"), None);
        assert_eq!(artifact.kind("app/linked/cm.yaml"), None);
        assert!(artifact.read("app/linked/cm.yaml").is_err());
        assert_eq!(artifact.list("app").unwrap(), []);
        assert_eq!(artifact.kind("shared/cm.yaml"), Some(EntryKind::File));
    }

    /// Only a pattern drops the defaults: comments, blank lines and files
    /// inside `.git` do not, and a pattern at any depth does.
    #[test]
    fn finds_patterns_anywhere_in_the_repository() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[], false),
            (&[(".sourceignore", "# only a comment\n\n   \n")], false),
            (&[(".git/.sourceignore", "*.yaml\n")], false),
            (&[("a/b/c/.sourceignore", "docs/\n")], true),
            (&[(".sourceignore", "# c\n"), ("x/.sourceignore", "!keep.yaml\n")], true),
            (&[("a/sourceignore", "docs/\n")], false),
        ];
        for (files, want) in cases {
            let mut t = tree::MemTree::new();
            t.insert("app/a.yaml", "kind: ConfigMap\n");
            for (path, text) in *files {
                t.insert(path, *text);
            }
            assert_eq!(Source::read(&t, "").unwrap().file_patterns, *want, "{files:?}");
        }
    }
}
