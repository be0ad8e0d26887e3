//! Temporary git repositories made with the `git` CLI, with a fixed identity and clock and no user or system configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kiln::daemon::publish::Identity;

/// The clock of every commit the tests make, in seconds since the epoch.
pub const TIME: i64 = 1_700_000_000;

/// The identity kiln commits as in the tests.
pub fn kiln_identity() -> Identity {
    Identity { name: "kiln".into(), email: "kiln@example.com".into(), time: Some(TIME + 60) }
}

/// A work-tree repository in a temporary directory, on branch `main`.
pub struct TestRepo {
    home: tempfile::TempDir,
    path: PathBuf,
}

impl TestRepo {
    /// An empty repository with `main` as its unborn branch.
    pub fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("work");
        std::fs::create_dir(&path).unwrap();
        let repo = TestRepo { home, path };
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `git` in the work tree and returns its standard output, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.home.path(), &self.path, args)
    }

    /// Writes `contents` to `path` in the work tree, creating directories.
    pub fn write(&self, path: &str, contents: &str) {
        let full = self.path.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    /// Makes `path` a symbolic link to `target`.
    pub fn symlink(&self, path: &str, target: &str) {
        let full = self.path.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, full).unwrap();
    }

    /// Stages everything and commits it; returns the new commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Switches to `branch`, starting it empty (no parent, no files) when it does not exist.
    pub fn switch(&self, branch: &str) {
        if self.tip(branch).is_some() {
            self.git(&["switch", "--quiet", branch]);
        } else {
            self.git(&["switch", "--quiet", "--orphan", branch]);
        }
    }

    /// The commit `refs/heads/<branch>` points to.
    pub fn tip(&self, branch: &str) -> Option<String> {
        let out = run(
            self.home.path(),
            &self.path,
            &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")],
        );
        out.status.success().then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
    }

    /// `git ls-tree -r <rev>` as path to `mode type id` lines.
    pub fn ls_tree(&self, rev: &str) -> BTreeMap<String, String> {
        ls_tree(&self.git(&["ls-tree", "-r", rev]))
    }

    /// A bare clone of this repository, with all its branches.
    pub fn bare_clone(&self) -> BareRepo {
        let path = self.home.path().join("bare.git");
        git_in(
            self.home.path(),
            self.home.path(),
            &["clone", "--quiet", "--mirror", path_str(&self.path), path_str(&path)],
        );
        BareRepo { home: self.home.path().to_path_buf(), path }
    }
}

/// A bare repository living inside a [`TestRepo`]'s temporary directory.
pub struct BareRepo {
    home: PathBuf,
    path: PathBuf,
}

impl BareRepo {
    /// The repository directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `git` in the repository and returns its standard output, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.home, &self.path, args)
    }
}

/// Parses `git ls-tree -r` output into path to `mode type id`.
fn ls_tree(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .map(|line| {
            let (meta, path) = line.split_once('\t').unwrap();
            (path.to_string(), meta.to_string())
        })
        .collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The whole environment `git` runs with: nothing of the user's.
fn git_env(home: &Path) -> Vec<(&'static str, String)> {
    let date = format!("{TIME} +0000");
    vec![
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("HOME", path_str(home).to_string()),
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ("GIT_AUTHOR_NAME", "Ada Author".into()),
        ("GIT_AUTHOR_EMAIL", "ada@example.com".into()),
        ("GIT_AUTHOR_DATE", date.clone()),
        ("GIT_COMMITTER_NAME", "Carl Committer".into()),
        ("GIT_COMMITTER_EMAIL", "carl@example.com".into()),
        ("GIT_COMMITTER_DATE", date),
        ("LC_ALL", "C".into()),
    ]
}

fn run(home: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(git_env(home))
        .output()
        .unwrap()
}

fn git_in(home: &Path, dir: &Path, args: &[&str]) -> String {
    let out = run(home, dir, args);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
