//! The watch cycle in process against a bare remote: one commit for all changed directories, incremental, safety rails, races.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::bail;
use kiln::daemon::inputs::Recording;
use kiln::daemon::metrics::Metrics;
use kiln::daemon::remote::Remote;
use kiln::daemon::repo::open;
use kiln::daemon::sync::Source;
use kiln::daemon::tree::GitTree;
use kiln::daemon::watch::{BranchMap, Config, CycleOutcome, DEFAULT_MESSAGE, Files, Watcher};
use renderer::cache::{NoCache, UnitCache};
use renderer::tree::{EntryKind, Tree, join};

use crate::util::{BareRepo, TestRepo, kiln_identity};

/// A stand-in renderer: every file below `apps`, by its path relative to
/// `apps`; a file named `broken` is a render error.
pub fn copy_apps(
    tree: &dyn Tree,
    _: &dyn UnitCache,
    _: &Source,
    _: &str,
    _: kiln::daemon::watch::RepoRevisions,
) -> anyhow::Result<Files> {
    let mut out = BTreeMap::new();
    if tree.kind("apps").is_none() {
        return Ok(out);
    }
    let mut dirs = vec![String::new()];
    while let Some(rel) = dirs.pop() {
        for (name, kind) in tree.list(&join("apps", &rel)?)? {
            let child = join(&rel, &name)?;
            match kind {
                EntryKind::Dir => dirs.push(child),
                EntryKind::File if name == "broken" => bail!("apps/{child}: broken manifest"),
                EntryKind::File => {
                    drop(out.insert(child.clone(), tree.read(&join("apps", &child)?)?))
                }
            }
        }
    }
    Ok(out)
}

/// A source repository with `staging` and `production` branches and its bare remote.
pub struct Fixture {
    /// Where source commits are made.
    pub work: TestRepo,
    /// The remote the watchers fetch from and push to.
    pub remote: BareRepo,
}

impl Fixture {
    /// `main`, `staging` and `production`, each with `apps/a.yaml` and `apps/b.yaml`.
    pub fn new() -> Self {
        let work = TestRepo::new();
        work.write("apps/a.yaml", "a: 1\n");
        work.write("apps/b.yaml", "b: 1\n");
        work.commit_all("apps");
        work.git(&["branch", "staging"]);
        work.git(&["branch", "production"]);
        let remote = work.bare_clone();
        Fixture { work, remote }
    }

    /// Commits `files` (path, contents; empty contents delete) on `branch` and pushes it.
    pub fn push(&self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        self.work.switch(branch);
        for (path, contents) in files {
            if contents.is_empty() {
                self.work.git(&["rm", "--quiet", path]);
            } else {
                self.work.write(path, contents);
            }
        }
        let commit = self.work.commit_all(message);
        self.work.git(&[
            "push",
            "--quiet",
            self.remote.path().to_str().unwrap(),
            &format!("{branch}:{branch}"),
        ]);
        commit
    }

    /// A watcher of both branches with its own mirror in `workdir`.
    pub fn watcher(&self, workdir: &Path) -> Watcher {
        self.watcher_with(workdir, |_| {})
    }

    /// A watcher whose configuration `edit` changes first.
    pub fn watcher_with(&self, workdir: &Path, edit: impl FnOnce(&mut Config)) -> Watcher {
        let mut config = fx_config(self, workdir);
        edit(&mut config);
        Watcher::new(
            config,
            Arc::new(copy_apps),
            Arc::new(Metrics::default()),
            Arc::new(AtomicBool::new(false)),
        )
    }

    /// The commits of the remote's `rendered` branch, newest first.
    pub fn rendered_log(&self) -> Vec<String> {
        let out = self.remote.git(&["log", "--format=%H", "refs/heads/rendered", "--"]);
        out.lines().map(str::to_string).collect()
    }

    /// The files of the remote's `rendered` tip with their contents.
    pub fn rendered_files(&self) -> BTreeMap<String, String> {
        let names = self.remote.git(&["ls-tree", "-r", "--name-only", "refs/heads/rendered"]);
        names
            .lines()
            .map(|p| {
                (p.to_string(), self.remote.git(&["show", &format!("refs/heads/rendered:{p}")]))
            })
            .collect()
    }
}

/// The configuration of a watcher of both branches of `fx` with its mirror in `workdir`.
fn fx_config(fx: &Fixture, workdir: &Path) -> Config {
    let remote = Remote::new(fx.remote.path().to_str().unwrap());
    Config {
        source: remote.clone(),
        target: remote,
        branches: ["staging", "production"]
            .iter()
            .map(|b| BranchMap { source: b.to_string(), dir: b.to_string() })
            .collect(),
        target_branch: "rendered".into(),
        author: kiln_identity(),
        message: DEFAULT_MESSAGE.into(),
        allow_empty: false,
        adopt: false,
        push_attempts: 3,
        workdir: workdir.to_path_buf(),
        outside: Vec::new(),
    }
}

fn committed(outcome: anyhow::Result<CycleOutcome>) -> Vec<String> {
    match outcome {
        Ok(CycleOutcome::Committed { branches, .. }) => branches,
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn unchanged(outcome: anyhow::Result<CycleOutcome>) {
    assert!(matches!(outcome, Ok(CycleOutcome::Unchanged)), "{outcome:?}");
}

fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect()
}

#[test]
fn one_commit_for_every_changed_directory_then_nothing() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut watcher = fx.watcher(dir.path());
    assert_eq!(committed(watcher.cycle()), ["staging", "production"]);
    assert_eq!(fx.rendered_log().len(), 1);
    assert_eq!(
        fx.rendered_files(),
        files(&[
            ("production/a.yaml", "a: 1"),
            ("production/b.yaml", "b: 1"),
            ("staging/a.yaml", "a: 1"),
            ("staging/b.yaml", "b: 1"),
        ])
    );
    unchanged(watcher.cycle());

    // Only staging moves: only its directory changes, in one commit.
    let staging = fx.push("staging", &[("apps/a.yaml", "a: 2\n"), ("apps/b.yaml", "")], "v2");
    assert_eq!(committed(watcher.cycle()), ["staging"]);
    assert_eq!(
        fx.rendered_files(),
        files(&[
            ("production/a.yaml", "a: 1"),
            ("production/b.yaml", "b: 1"),
            ("staging/a.yaml", "a: 2")
        ])
    );
    let message = fx.remote.git(&["log", "-1", "--format=%B", "refs/heads/rendered"]);
    assert!(message.starts_with("Render staging at "), "{message}");
    assert!(
        message.contains(&format!("Source-Branch: staging\nSource-Commit: {staging}")),
        "{message}"
    );
    assert!(message.contains("Source-Branch: production\nSource-Commit: "), "{message}");
    assert!(message.contains("Kiln-Version: "), "{message}");

    // Both move: still one commit.
    fx.push("staging", &[("apps/c.yaml", "c: 1\n")], "v3");
    fx.push("production", &[("apps/c.yaml", "c: 1\n")], "v3");
    assert_eq!(committed(watcher.cycle()), ["staging", "production"]);
    assert_eq!(fx.rendered_log().len(), 3);

    // A source commit that changes nothing the render reads is not rendered and makes no commit.
    fx.push("production", &[("README.md", "notes\n")], "notes");
    unchanged(watcher.cycle());
    unchanged(watcher.cycle());
    assert_eq!(fx.rendered_log().len(), 3);
    assert!(watcher.metrics().prometheus().contains("kiln_renders_total 5\n"));
    // Inputs are keyed by content, not by commit: a change and its revert, fetched together, cost nothing.
    fx.push("production", &[("apps/c.yaml", "c: 2\n")], "change");
    fx.push("production", &[("apps/c.yaml", "c: 1\n")], "revert");
    unchanged(watcher.cycle());
    assert!(watcher.metrics().prometheus().contains("kiln_renders_total 5\n"));
}

#[test]
fn a_restarted_watcher_resumes_from_the_provenance() {
    let fx = Fixture::new();
    let first = tempfile::tempdir().unwrap();
    committed(fx.watcher(first.path()).cycle());
    let tip = fx.rendered_log();
    // A fresh mirror and a reused one: neither commits again.
    let fresh = tempfile::tempdir().unwrap();
    let mut restarted = fx.watcher(fresh.path());
    unchanged(restarted.cycle());
    unchanged(fx.watcher(first.path()).cycle());
    assert_eq!(fx.rendered_log(), tip);
    assert!(restarted.metrics().prometheus().contains("kiln_renders_total 0\n"));

    // A tip made by another kiln version: everything renders again, and an
    // equal tree makes no commit.
    let message = fx.remote.git(&["log", "-1", "--format=%B", "refs/heads/rendered"]);
    let version = format!("Kiln-Version: {}", kiln::daemon::watch::KILN_VERSION);
    assert!(message.contains(&version), "{message}");
    let old = message.replace(&version, "Kiln-Version: 0.0.1");
    let tree = fx.remote.git(&["rev-parse", "refs/heads/rendered^{tree}"]);
    // The first rendered commit has no parent.
    let old_tip = fx.remote.git(&["commit-tree", &tree, "-m", &old]);
    fx.remote.git(&["update-ref", "refs/heads/rendered", &old_tip]);
    let upgraded_dir = tempfile::tempdir().unwrap();
    let mut upgraded = fx.watcher(upgraded_dir.path());
    unchanged(upgraded.cycle());
    assert!(upgraded.metrics().prometheus().contains("kiln_renders_total 2\n"));
    assert_eq!(fx.rendered_log()[0], old_tip);
}

#[test]
fn a_render_error_leaves_that_directory_alone() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut watcher = fx.watcher(dir.path());
    committed(watcher.cycle());
    fx.push("staging", &[("apps/a.yaml", "a: 2\n"), ("apps/broken", "x\n")], "broken");
    fx.push("production", &[("apps/a.yaml", "a: 3\n")], "good");
    assert_eq!(committed(watcher.cycle()), ["production"]);
    let rendered = fx.rendered_files();
    assert_eq!(rendered["staging/a.yaml"], "a: 1");
    assert_eq!(rendered["production/a.yaml"], "a: 3");
    let status = watcher.metrics().status_json();
    let error = status["branches"]["staging"]["lastError"].as_str().unwrap_or_default();
    assert!(error.contains("apps/broken: broken manifest"), "{status:#}");
    assert!(status["branches"]["production"]["lastError"].is_null(), "{status:#}");
    assert!(watcher.metrics().prometheus().contains("kiln_failures_total{kind=\"render\"} 1\n"));
    // The provenance of staging still names the last good commit, so a restart does not skip the fix.
    let message = fx.remote.git(&["log", "-1", "--format=%B", "refs/heads/rendered"]);
    let good = fx.work.git(&["rev-parse", "staging^"]);
    assert!(message.contains(&format!("Source-Commit: {good}")), "{message}");

    fx.push("staging", &[("apps/broken", "")], "fixed");
    assert_eq!(committed(watcher.cycle()), ["staging"]);
    assert_eq!(fx.rendered_files()["staging/a.yaml"], "a: 2");
    assert!(watcher.metrics().status_json()["branches"]["staging"]["lastError"].is_null());
}

#[test]
fn an_empty_render_is_refused_unless_allowed() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    committed(fx.watcher(dir.path()).cycle());
    fx.push("staging", &[("apps/a.yaml", ""), ("apps/b.yaml", ""), ("other.txt", "x\n")], "empty");
    let mut watcher = fx.watcher(dir.path());
    unchanged(watcher.cycle());
    let error = watcher.metrics().status_json()["branches"]["staging"]["lastError"].clone();
    assert!(error.as_str().unwrap_or_default().contains("refusing an empty render"), "{error}");
    assert!(fx.rendered_files().contains_key("staging/a.yaml"));

    let mut allowed = fx.watcher_with(dir.path(), |c| c.allow_empty = true);
    assert_eq!(committed(allowed.cycle()), ["staging"]);
    assert!(!fx.rendered_files().keys().any(|p| p.starts_with("staging/")));
}

#[test]
fn a_foreign_target_branch_needs_adopt_and_keeps_other_files() {
    let fx = Fixture::new();
    fx.work.switch("rendered");
    fx.work.write("README.md", "hand-made\n");
    fx.work.write("staging/old.yaml", "old\n");
    fx.push("rendered", &[], "hand-made target");
    let before = fx.rendered_log();
    let dir = tempfile::tempdir().unwrap();
    let err = fx.watcher(dir.path()).cycle().unwrap_err();
    assert!(format!("{err:#}").contains("was not made by kiln"), "{err:#}");
    assert_eq!(fx.rendered_log(), before);

    committed(fx.watcher_with(dir.path(), |c| c.adopt = true).cycle());
    let rendered = fx.rendered_files();
    assert_eq!(rendered["README.md"], "hand-made");
    assert!(!rendered.contains_key("staging/old.yaml"));
    // Once kiln made the tip, no --adopt is needed.
    fx.push("staging", &[("apps/a.yaml", "a: 9\n")], "v9");
    committed(fx.watcher(dir.path()).cycle());
}

#[test]
fn a_separate_target_repository() {
    let fx = Fixture::new();
    let target = TestRepo::new();
    target.write("README.md", "target\n");
    target.commit_all("target");
    let target = target.bare_clone();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", target.path().display());
    let mut watcher = fx.watcher_with(dir.path(), |c| c.target = Remote::new(url));
    committed(watcher.cycle());
    unchanged(watcher.cycle());
    assert_eq!(
        target.git(&["ls-tree", "-r", "--name-only", "refs/heads/rendered"]),
        "production/a.yaml\nproduction/b.yaml\nstaging/a.yaml\nstaging/b.yaml"
    );
    assert!(fx.remote.git(&["branch", "--list", "rendered"]).is_empty());
}

#[test]
fn a_push_that_loses_the_race_is_rebuilt_on_the_winner() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    committed(fx.watcher(dir.path()).cycle());
    let v5 = fx.push("staging", &[("apps/a.yaml", "a: 5\n")], "v5");
    let before = fx.rendered_log().len();

    // While this watcher renders, another one with its own mirror renders the
    // same change and pushes first.
    let other_dir = tempfile::tempdir().unwrap();
    let other = std::sync::Mutex::new(
        fx.watcher_with(other_dir.path(), |c| c.author.time = c.author.time.map(|t| t + 1)),
    );
    let raced = AtomicBool::new(false);
    let render = move |tree: &dyn Tree, cache: &dyn UnitCache, source: &Source, dir: &str, _| {
        if !raced.swap(true, std::sync::atomic::Ordering::SeqCst) {
            committed(other.lock().unwrap().cycle());
        }
        copy_apps(tree, cache, source, dir, None)
    };
    let metrics = Arc::new(Metrics::default());
    let mut watcher = Watcher::new(
        fx_config(&fx, dir.path()),
        Arc::new(render),
        Arc::clone(&metrics),
        Arc::new(AtomicBool::new(false)),
    );
    unchanged(watcher.cycle());
    assert_eq!(fx.rendered_log().len(), before + 1, "exactly the winner's commit");
    assert!(metrics.prometheus().contains("kiln_pushes_total{result=\"rejected\"} 1\n"));
    let message = fx.remote.git(&["log", "-1", "--format=%B", "refs/heads/rendered"]);
    assert!(message.contains(&format!("Source-Commit: {v5}")), "{message}");
}

#[test]
fn the_commit_message_names_units_and_image_changes() {
    let fx = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let deployment = "kind: Deployment\nspec:\n  containers:\n  - image: ghcr.io/acme/app:v1\n";
    fx.push("staging", &[("apps/prod/web/deploy.yaml", deployment)], "web v1");
    fx.push("production", &[("apps/prod/web/deploy.yaml", deployment)], "web v1");
    committed(fx.watcher(dir.path()).cycle());
    let v2 = deployment.replace(":v1", ":v2");
    fx.push(
        "staging",
        &[("apps/prod/web/deploy.yaml", &v2), ("apps/prod/db/x.yaml", "x: 1\n")],
        "web v2",
    );
    committed(fx.watcher(dir.path()).cycle());
    let staging = fx.work.tip("staging").unwrap();
    let message = fx.remote.git(&["log", "-1", "--format=%B", "refs/heads/rendered"]);
    let body = message.split("\n\nSource-Branch").next().unwrap();
    assert_eq!(
        body,
        format!(
            "Render staging at {}\n\nstaging -> staging: web v2 (Ada Author <ada@example.com>)\n  image ghcr.io/acme/app: ghcr.io/acme/app:v1 -> ghcr.io/acme/app:v2\n  prod/db\n  prod/web",
            &staging[..12]
        )
    );

    // A template of one's own sees every variable of every change.
    fx.push("staging", &[("apps/a.yaml", "a: 7\n")], "a7");
    let v3 = deployment.replace(":v1", ":v3");
    fx.push("production", &[("apps/prod/web/deploy.yaml", &v3)], "web v3");
    let template = "{{ changes | length }} change(s)\n\n{% for c in changes %}{{ c.branch }}|{{ c.dir }}|{{ c.commit }}|{{ c.short }}|{{ c.subject }}|{{ c.author }}|{{ c.units | join(',') }}|{% for i in c.images %}{{ i.image }} {{ i.from }} {{ i.to }}{% endfor %}\n{% endfor %}";
    committed(fx.watcher_with(dir.path(), |c| c.message = template.into()).cycle());
    let message = fx.remote.git(&["log", "-1", "--format=%B", "refs/heads/rendered"]);
    let body = message.split("\n\nSource-Branch").next().unwrap();
    let (staging, production) =
        (fx.work.tip("staging").unwrap(), fx.work.tip("production").unwrap());
    let author = "Ada Author <ada@example.com>";
    let want = [
        "2 change(s)".to_string(),
        String::new(),
        format!("staging|staging|{staging}|{}|a7|{author}|a.yaml|", &staging[..12]),
        format!(
            "production|production|{production}|{}|web v3|{author}|prod/web|ghcr.io/acme/app ghcr.io/acme/app:v1 ghcr.io/acme/app:v3",
            &production[..12]
        ),
    ];
    assert_eq!(body, want.join("\n"));
}

#[test]
fn recorded_inputs_tell_which_pushes_can_change_a_render() {
    let repo = TestRepo::new();
    repo.write("apps/a.yaml", "a: 1\n");
    repo.write("docs/readme.md", "docs\n");
    let base = repo.commit_all("base");
    let git = open(repo.path()).unwrap();
    let tree_at = |commit: &str| {
        GitTree::at_commit(&git, gix::ObjectId::from_hex(commit.as_bytes()).unwrap()).unwrap()
    };
    let base_tree = tree_at(&base);
    let recording = Recording::new(&base_tree);
    copy_apps(&recording, &NoCache, &dummy_source(), "staging", None).unwrap();
    let inputs = recording.into_inputs();
    assert_eq!(inputs.len(), 3, "{inputs:?}");

    /// Files changed on top of the base, and whether the render's inputs still hold.
    type Case = (&'static [(&'static str, &'static str)], bool);
    let cases: &[Case] = &[
        (&[("docs/readme.md", "more docs\n")], true),
        (&[("other/x.yaml", "x\n")], true),
        (&[("apps/a.yaml", "a: 2\n")], false),
        (&[("apps/b.yaml", "b: 1\n")], false),
    ];
    for (files, want) in cases {
        repo.git(&["reset", "--quiet", "--hard", &base]);
        for (path, contents) in *files {
            repo.write(path, contents);
        }
        let commit = repo.commit_all("change");
        assert_eq!(inputs.unchanged_in(&tree_at(&commit)), *want, "{files:?}");
    }
}

fn dummy_source() -> Source {
    Source {
        branch: "staging".into(),
        commit: gix::ObjectId::null(gix::hash::Kind::Sha1),
        subject: String::new(),
    }
}

/// A Flux v1 release of the watched repository reads its chart at
/// `spec.chart.ref` (here `main`) from the mirror: the chart moving on
/// `main` renders `staging` again though `staging` did not move, and a
/// cycle after that changes nothing.
#[test]
fn a_chart_ref_that_moves_renders_the_branch_again() {
    let fx = Fixture::new();
    let chart = |greeting: &str| {
        vec![
            ("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n".to_string()),
            ("charts/web/values.yaml", format!("greeting: {greeting}\n")),
            (
                "charts/web/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  greeting: {{ .Values.greeting }}\n".to_string(),
            ),
        ]
    };
    let push_chart = |greeting: &str| {
        let files = chart(greeting);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        fx.push("main", &files, greeting);
    };
    push_chart("main-1");
    let release = format!(
        "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: staging\nspec:\n  chart:\n    git: {}\n    ref: main\n    path: charts/web\n",
        fx.remote.path().display()
    );
    fx.push(
        "staging",
        &[("kiln.yaml", "layout: flux-v1\n"), ("releases/staging/web.yaml", &release)],
        "release web",
    );
    let home = tempfile::tempdir().unwrap();
    let render = |tree: &dyn Tree, cache: &dyn UnitCache, source: &Source, dir: &str, revs| {
        let options = renderer::Options { revisions: revs, ..Default::default() };
        kiln::daemon::watch::render_flux(tree, cache, source, dir, &options)
    };
    let mut config = fx_config(&fx, home.path());
    config.branches.retain(|b| b.source == "staging");
    let metrics = Arc::new(Metrics::default());
    let mut watcher =
        Watcher::new(config, Arc::new(render), metrics.clone(), Arc::new(AtomicBool::new(false)));
    let error = || metrics.branch_status("staging").and_then(|s| s.last_error);
    let greeting = || {
        let files = fx.rendered_files();
        let found: Vec<String> = files
            .values()
            .flat_map(|c| c.lines().filter(|l| l.contains("greeting:")).map(str::to_string))
            .collect();
        found
    };
    let outcome = watcher.cycle();
    assert_eq!(error(), None);
    assert_eq!(committed(outcome), ["staging"]);
    assert_eq!(greeting(), ["  greeting: main-1"]);
    push_chart("main-2");
    assert_eq!(committed(watcher.cycle()), ["staging"], "{:?}", error());
    assert_eq!(greeting(), ["  greeting: main-2"]);
    unchanged(watcher.cycle());
}
