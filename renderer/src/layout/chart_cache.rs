//! The chart cache: charts of Helm repositories, OCI repositories and sources outside this repository, read from a directory instead of the network.
//!
//! kiln fetches nothing. A release whose chart lives elsewhere is rendered
//! from a cache directory laid out by source:
//!
//! ```text
//! <cache>/<namespace>/<source-name>/<chart>-<version>.tgz   a chart as `helm pull` saves it
//! <cache>/<namespace>/<source-name>/<chart>-<version>/      or the same chart unpacked (Chart.yaml inside)
//! <cache>/<namespace>/<source-name>/<path>/                 GitRepository/Bucket sources: the source's files
//! <cache>/<host>/<path>/<chart>-<version>.tgz               Flux v1 `spec.chart.repository` URLs
//! <cache>/<host>/<path>@<ref>/<chart path>/                   Flux v1 `spec.chart.git` repositories at `spec.chart.ref`
//! ```
//!
//! `<namespace>/<source-name>` names the Flux `HelmRepository` (HTTP or
//! `type: oci`), `OCIRepository`, `GitRepository` or `Bucket` object. A
//! version constraint (`>=1.0.0 <2.0.0`, `1.x`, `~1.2`, `*`) picks the
//! highest cached version that meets it, as Helm's repository index and
//! Flux's source-controller pick the highest published one; pre-releases
//! match only constraints that name a pre-release.

use crate::gotmpl::sprig::semver;
use crate::tree::{self, EntryKind, Tree};

/// A chart cache: a directory of a tree (the filesystem for `--chart-cache`,
/// or the repository itself for `chartCache` in `kiln.yaml`).
pub type ChartCache<'a> = super::TreeDir<'a>;

/// The chart cache a render uses: a directory given by the user (opened as
/// `given`) wins over `chartCache` of the repository's `kiln.yaml`, a
/// directory of `repo`.
pub fn choose<'a>(
    given: Option<&'a dyn Tree>,
    repo: &'a dyn Tree,
    config: &'a super::Config,
) -> Option<ChartCache<'a>> {
    ChartCache::choose(given, repo, config.chart_cache.as_deref())
}

/// How a cached chart's version is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The highest version meeting a Masterminds constraint (`""` is `*`).
    Constraint(String),
    /// Exactly this tag (an `OCIRepository`'s `spec.ref.tag`).
    Tag(String),
}

impl std::fmt::Display for Pick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pick::Constraint(c) if c.trim().is_empty() => f.write_str("*"),
            Pick::Constraint(c) => f.write_str(c),
            Pick::Tag(t) => write!(f, "tag {t}"),
        }
    }
}

/// A chart found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its path in the cache's tree: a `.tgz` file or a chart directory.
    pub path: String,
    /// The version it was picked as.
    pub version: String,
}

/// The cache directory of a Flux v1 chart repository URL: host and path,
/// without scheme, credentials, query or trailing slash.
pub fn url_dir(url: &str) -> Result<String, String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let dir = tree::join("", rest).map_err(|e| format!("repository URL {url:?}: {e}"))?;
    if dir.is_empty() {
        return Err(format!("repository URL {url:?} has no host"));
    }
    Ok(dir)
}

/// The cache directory of a Flux v1 `spec.chart.git` URL: [`url_dir`] of
/// it, an scp-like `git@host:path` read as `host/path`, and a trailing
/// `.git` left out, so that `git@github.com:org/repo.git` and
/// `https://github.com/org/repo` are both `github.com/org/repo`; a local
/// repository (`/srv/git/repo.git`, `file:///srv/git/repo`) is its path,
/// `srv/git/repo`.
pub fn git_dir(url: &str) -> Result<String, String> {
    // A repository on this machine (`/srv/git/repo.git`, `file:///srv/...`)
    // is named by its path.
    if let Some(path) = url.strip_prefix("file://").or(url.starts_with('/').then_some(url)) {
        let dir = tree::join("", path.trim_start_matches('/'))
            .map_err(|e| format!("repository path {url:?}: {e}"))?;
        return Ok(dir.strip_suffix(".git").unwrap_or(&dir).to_string());
    }
    let scp = !url.contains("://")
        && url.find(':').is_some_and(|colon| url.find('/').is_none_or(|slash| colon < slash));
    let read = if scp { url.replacen(':', "/", 1) } else { url.to_string() };
    // Errors name the URL as written.
    let dir =
        url_dir(&read).map_err(|e| e.replacen(&format!("{read:?}"), &format!("{url:?}"), 1))?;
    Ok(dir.strip_suffix(".git").unwrap_or(&dir).to_string())
}

impl ChartCache<'_> {
    /// Whether the cache has the directory of a source (see the module docs).
    pub fn has_source(&self, source_dir: &str) -> bool {
        self.dir(source_dir).is_ok_and(|d| self.tree.kind(&d) == Some(EntryKind::Dir))
    }

    fn dir(&self, source_dir: &str) -> Result<String, String> {
        let rel = tree::join("", source_dir).map_err(|e| e.to_string())?;
        tree::join(self.root, &rel).map_err(|e| e.to_string())
    }

    /// The cached chart `chart` of the source at `source_dir` (see the module
    /// docs) whose version `pick` chooses. The error says what was looked
    /// for and which versions are there.
    pub fn find_chart(&self, source_dir: &str, chart: &str, pick: &Pick) -> Result<Found, String> {
        let dir = self.dir(source_dir)?;
        let shown = &dir;
        let entries = match self.tree.kind(&dir) {
            Some(EntryKind::Dir) => self.tree.list(&dir).map_err(|e| e.to_string())?,
            _ => {
                return Err(format!(
                    "not in the chart cache: no directory {shown}/ (expected {shown}/{chart}-<version>.tgz)"
                ));
            }
        };
        let prefix = format!("{chart}-");
        let mut candidates: Vec<(String, String)> = Vec::new();
        for (name, kind) in entries {
            let stem = match kind {
                EntryKind::File => name.strip_suffix(".tgz"),
                EntryKind::Dir => Some(name.as_str()),
            };
            let Some(version) = stem.and_then(|s| s.strip_prefix(&prefix)) else { continue };
            let path = tree::join(&dir, &name).map_err(|e| e.to_string())?;
            if kind == EntryKind::Dir && self.tree.kind(&format!("{path}/Chart.yaml")).is_none() {
                continue;
            }
            candidates.push((version.to_string(), path));
        }
        let chosen = match pick {
            Pick::Tag(tag) => candidates.iter().position(|(v, _)| v == tag),
            Pick::Constraint(c) => {
                let versions: Vec<&str> = candidates.iter().map(|(v, _)| v.as_str()).collect();
                semver::highest_matching(c, &versions).map_err(|e| format!("version {c:?}: {e}"))?
            }
        };
        match chosen {
            Some(i) => {
                let (version, path) = candidates.swap_remove(i);
                Ok(Found { path, version })
            }
            None => {
                let have: Vec<&str> = candidates
                    .iter()
                    .map(|(v, _)| v.as_str())
                    .filter(|v| matches!(pick, Pick::Tag(_)) || semver::is_version(v))
                    .collect();
                Err(format!(
                    "not in the chart cache: no {shown}/{chart}-<version>.tgz (or unpacked directory) with version {pick}; cached versions: {}",
                    if have.is_empty() { "none".to_string() } else { have.join(", ") }
                ))
            }
        }
    }

    /// The directory `path` inside the cached files of a source that is not
    /// this repository (a `GitRepository` or `Bucket`).
    pub fn find_path(&self, source_dir: &str, path: &str) -> Result<String, String> {
        let dir = self.dir(source_dir)?;
        let full = tree::join(&dir, path).map_err(|e| format!("{path:?}: {e}"))?;
        if !tree::is_within(&full, &dir) {
            return Err(format!("{path:?} leaves the source's directory"));
        }
        match self.tree.kind(&full) {
            Some(_) => Ok(full),
            None => Err(format!("not in the chart cache: no {full}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    fn cache_tree() -> MemTree {
        let mut t = MemTree::new();
        for f in [
            "cache/flux-system/podinfo/podinfo-6.5.0.tgz",
            "cache/flux-system/podinfo/podinfo-6.9.1.tgz",
            "cache/flux-system/podinfo/podinfo-7.0.0-rc.1.tgz",
            "cache/flux-system/podinfo/podinfo-extra-9.0.0.tgz",
            "cache/flux-system/podinfo/README.md",
            "cache/flux-system/podinfo/podinfo-latest.tgz",
            "cache/flux-system/podinfo/podinfo-6.7.0/Chart.yaml",
            "cache/flux-system/podinfo/podinfo-8.0.0/values.yaml",
            "cache/charts.example.com/stable/redis-8.0.13.tgz",
        ] {
            t.insert(f, "x");
        }
        t
    }

    #[test]
    fn picks_the_highest_matching_version() {
        let t = cache_tree();
        let cache = ChartCache { tree: &t, root: "cache" };
        let c = |s: &str| Pick::Constraint(s.to_string());
        let cases: &[(&str, &str, Pick, Result<&str, &str>)] = &[
            ("flux-system/podinfo", "podinfo", c(""), Ok("podinfo-6.9.1.tgz")),
            ("flux-system/podinfo", "podinfo", c("*"), Ok("podinfo-6.9.1.tgz")),
            ("flux-system/podinfo", "podinfo", c(">=6.0.0 <6.9.0"), Ok("podinfo-6.7.0")),
            ("flux-system/podinfo", "podinfo", c("6.x"), Ok("podinfo-6.9.1.tgz")),
            ("flux-system/podinfo", "podinfo", c("~6.5"), Ok("podinfo-6.5.0.tgz")),
            ("flux-system/podinfo", "podinfo", c("6.5.0"), Ok("podinfo-6.5.0.tgz")),
            ("flux-system/podinfo", "podinfo", c(">=7.0.0-0"), Ok("podinfo-7.0.0-rc.1.tgz")),
            (
                "flux-system/podinfo",
                "podinfo",
                c("^7"),
                Err("cached versions: 6.5.0, 6.7.0, 6.9.1, 7.0.0-rc.1"),
            ),
            ("flux-system/podinfo", "podinfo", c("not a range"), Err("improper constraint")),
            ("flux-system/podinfo", "podinfo-extra", c(""), Ok("podinfo-extra-9.0.0.tgz")),
            (
                "flux-system/podinfo",
                "podinfo",
                Pick::Tag("latest".into()),
                Ok("podinfo-latest.tgz"),
            ),
            (
                "flux-system/podinfo",
                "podinfo",
                Pick::Tag("6.9".into()),
                Err("with version tag 6.9"),
            ),
            ("charts.example.com/stable", "redis", c("8.0.13"), Ok("redis-8.0.13.tgz")),
            ("apps/podinfo", "podinfo", c(""), Err("no directory cache/apps/podinfo/")),
            ("../up", "podinfo", c(""), Err("leaves the root")),
        ];
        for (dir, chart, pick, want) in cases {
            match (cache.find_chart(dir, chart, pick), want) {
                (Ok(found), Ok(want)) => {
                    assert_eq!(tree::file_name(&found.path), *want, "{dir} {chart} {pick}")
                }
                (Err(e), Err(want)) => assert!(e.contains(want), "{dir} {chart} {pick}: {e}"),
                (got, want) => panic!("{dir} {chart} {pick}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn maps_repository_urls_to_directories() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "https://kubernetes-charts.storage.googleapis.com/",
                Ok("kubernetes-charts.storage.googleapis.com"),
            ),
            ("https://user:pw@charts.example.com/stable?x=1", Ok("charts.example.com/stable")),
            ("oci://ghcr.io/org/charts", Ok("ghcr.io/org/charts")),
            ("https://", Err("has no host")),
            ("https://h/../../x", Err("leaves the root")),
        ];
        for (url, want) in cases {
            match (url_dir(url), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want),
                (Err(e), Err(want)) => assert!(e.contains(want), "{e}"),
                (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn names_git_repositories_by_host_and_path() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "git@github.com:travis-ci/kubernetes-config.git",
                Ok("github.com/travis-ci/kubernetes-config"),
            ),
            (
                "https://github.com/travis-ci/kubernetes-config.git",
                Ok("github.com/travis-ci/kubernetes-config"),
            ),
            ("ssh://git@github.com/org/repo", Ok("github.com/org/repo")),
            (
                "ssh://git@gitlab.example.com:2222/org/repo.git",
                Ok("gitlab.example.com:2222/org/repo"),
            ),
            ("https://github.com/org/repo/", Ok("github.com/org/repo")),
            ("https://github.com/org/repo.git/", Ok("github.com/org/repo")),
            ("git@github.com:org/repo.git/", Ok("github.com/org/repo")),
            ("git@github.com:../../etc", Err("leaves the root")),
            ("/srv/git/repo.git", Ok("srv/git/repo")),
            ("file:///srv/git/repo", Ok("srv/git/repo")),
            ("file:///srv/../../etc", Err("leaves the root")),
            ("https://", Err("has no host")),
        ];
        for (url, want) in cases {
            match (git_dir(url), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{url}"),
                (Err(e), Err(want)) => assert!(e.contains(want), "{url}: {e}"),
                (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
            }
        }
    }
}
