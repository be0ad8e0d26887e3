//! `kiln watch` processes on a Flux v1 repository whose releases read their charts at other refs of it (`spec.chart.ref`): tags, and refs that move while no watcher runs.

use std::path::Path;
use std::process::Command;

use crate::util::{BareRepo, TestRepo};

/// A chart `web` whose ConfigMap says `greeting`.
fn write_chart(work: &TestRepo, greeting: &str) {
    work.write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
    work.write("charts/web/values.yaml", &format!("greeting: {greeting}\n"));
    work.write(
        "charts/web/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting }}\n",
    );
}

/// A Flux v1 release `name` of the chart of `url` at `reference`.
fn release(name: &str, url: &str, reference: &str) -> String {
    format!(
        "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: staging\nspec:\n  releaseName: {name}\n  chart:\n    git: {url}\n    ref: {reference}\n    path: charts/web\n"
    )
}

/// `main` with the chart, the annotated tag `v1` on it, and `staging`
/// with releases of it at `v1` and at `main`; the bare remote.
fn fixture() -> (TestRepo, BareRepo) {
    let work = TestRepo::new();
    write_chart(&work, "main-1");
    work.commit_all("chart");
    work.git(&["tag", "-a", "v1", "-m", "v1"]);
    write_chart(&work, "main-2");
    work.commit_all("chart 2");
    let remote = work.bare_clone();
    let url = remote.path().to_str().unwrap().to_string();
    work.switch("staging");
    work.write("kiln.yaml", "layout: flux-v1\n");
    work.write("releases/staging/tagged.yaml", &release("tagged", &url, "v1"));
    work.write("releases/staging/tracking.yaml", &release("tracking", &url, "main"));
    work.commit_all("releases");
    push(&work, &remote, "staging");
    (work, remote)
}

fn push(work: &TestRepo, remote: &BareRepo, refspec: &str) {
    work.git(&["push", "--quiet", "--force", remote.path().to_str().unwrap(), refspec]);
}

/// One `kiln watch --once` process of `staging` with its mirror in `workdir`.
fn watch_once(remote: &BareRepo, workdir: &Path) -> (bool, String) {
    let cwd = workdir.parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["watch", "--once", "--target-branch", "rendered", "--branch", "staging=staging"])
        .arg("--repo")
        .arg(remote.path())
        .arg("--workdir")
        .arg(workdir)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Each release's greeting on the remote's `rendered` branch, sorted.
fn greetings(remote: &BareRepo) -> Vec<String> {
    let names = remote.git(&["ls-tree", "-r", "--name-only", "refs/heads/rendered"]);
    let mut found = Vec::new();
    for path in names.lines().filter(|p| p.contains("ConfigMap")) {
        let text = remote.git(&["show", &format!("refs/heads/rendered:{path}")]);
        let name = text.lines().find_map(|l| l.strip_prefix("  name: ")).unwrap_or("");
        let greeting = text.lines().find_map(|l| l.strip_prefix("  greeting: ")).unwrap_or("");
        found.push(format!("{name} {greeting}"));
    }
    found.sort();
    found
}

fn rendered_commits(remote: &BareRepo) -> usize {
    remote.git(&["rev-list", "--count", "refs/heads/rendered"]).parse().unwrap()
}

/// The watcher's mirror holds the source repository's tags, so a release
/// at a tag renders under `kiln watch` as under `kiln render`; a new tag
/// is fetched, and a tag deleted on the remote is gone from the mirror too.
#[test]
fn a_chart_ref_naming_a_tag_renders_under_watch() {
    let (work, remote) = fixture();
    let home = tempfile::tempdir().unwrap();
    let workdir = home.path().join("mirror");
    let (ok, log) = watch_once(&remote, &workdir);
    assert!(ok, "{log}");
    assert_eq!(greetings(&remote), ["tagged main-1", "tracking main-2"], "{log}");

    // A new tag, and the release moved to it.
    work.switch("main");
    write_chart(&work, "main-3");
    work.commit_all("chart 3");
    work.git(&["tag", "v2"]);
    push(&work, &remote, "main");
    push(&work, &remote, "refs/tags/v2");
    work.switch("staging");
    let url = remote.path().to_str().unwrap().to_string();
    work.write("releases/staging/tagged.yaml", &release("tagged", &url, "v2"));
    work.commit_all("to v2");
    push(&work, &remote, "staging");
    let (ok, log) = watch_once(&remote, &workdir);
    assert!(ok, "{log}");
    assert_eq!(greetings(&remote), ["tagged main-3", "tracking main-3"], "{log}");

    // v2 deleted on the remote: the mirror drops it, and the release's
    // render fails naming the ref, leaving the directory as it was.
    remote.git(&["tag", "-d", "v2"]);
    let before = rendered_commits(&remote);
    let (_, log) = watch_once(&remote, &workdir);
    assert!(
        log.contains("this repository has no branch, tag or commit \\\"v2\\\"")
            || log.contains("this repository has no branch, tag or commit \"v2\""),
        "{log}"
    );
    assert_eq!(rendered_commits(&remote), before);
    assert_eq!(greetings(&remote), ["tagged main-3", "tracking main-3"]);
}

/// A chart ref that moves while no watcher runs is noticed by the next
/// watcher process, though the source branch did not move: the refs a
/// render read are recorded in the target branch's commit, so a new
/// process on the same mirror, or on a new one, renders the branch again.
#[test]
fn a_chart_ref_that_moved_before_a_restart_is_noticed() {
    let (work, remote) = fixture();
    let home = tempfile::tempdir().unwrap();
    let workdir = home.path().join("mirror");
    let (ok, log) = watch_once(&remote, &workdir);
    assert!(ok, "{log}");
    assert_eq!(greetings(&remote), ["tagged main-1", "tracking main-2"]);
    let message = remote.git(&["log", "-1", "--format=%B", "refs/heads/rendered"]);
    let main = work.tip("main").unwrap();
    assert!(message.contains(&format!("Source-Ref: staging {main} main\n")), "{message}");
    // Nothing moved: a new process commits nothing.
    let (ok, log) = watch_once(&remote, &workdir);
    assert!(ok, "{log}");
    assert_eq!(rendered_commits(&remote), 1);

    for (n, mirror) in [(3, workdir.clone()), (4, home.path().join("fresh-mirror"))] {
        work.switch("main");
        write_chart(&work, &format!("main-{n}"));
        work.commit_all("chart");
        push(&work, &remote, "main");
        let (ok, log) = watch_once(&remote, &mirror);
        assert!(ok, "{log}");
        assert_eq!(greetings(&remote), ["tagged main-1", format!("tracking main-{n}").as_str()]);
    }
    assert_eq!(rendered_commits(&remote), 3);
}

/// A long-running `kiln watch` process, stopped with SIGTERM while the
/// chart ref moves, and started again: the new process renders the branch
/// at the moved ref, then commits nothing more.
#[test]
fn a_restarted_long_running_watcher_notices_a_moved_chart_ref() {
    use std::time::Duration;

    use crate::watch_faults::wait_until;

    let (work, remote) = fixture();
    let home = tempfile::tempdir().unwrap();
    let workdir = home.path().join("mirror");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["watch", "--target-branch", "rendered", "--branch", "staging=staging"])
            .args(["--interval", "50ms"])
            .arg("--repo")
            .arg(remote.path())
            .arg("--workdir")
            .arg(&workdir)
            .current_dir(home.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let stop = |mut child: std::process::Child| {
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        assert!(child.wait().unwrap().success());
    };
    let greets = |want: &str| {
        let remote = &remote;
        let want = want.to_string();
        move || {
            remote.git(&["branch", "--list", "rendered"]).contains("rendered")
                && greetings(remote).contains(&want)
        }
    };
    let watcher = spawn();
    wait_until(Duration::from_secs(30), "the first render", greets("tracking main-2"));
    stop(watcher);

    work.switch("main");
    write_chart(&work, "main-3");
    work.commit_all("chart 3");
    push(&work, &remote, "main");
    let watcher = spawn();
    wait_until(Duration::from_secs(30), "the render at the moved ref", greets("tracking main-3"));
    // Settled: a few more cycles commit nothing.
    std::thread::sleep(Duration::from_millis(300));
    stop(watcher);
    assert_eq!(rendered_commits(&remote), 2);
}

/// A clone watched by its path (`--repo /path/to/clone`) is also the
/// repository its remotes name: the helm-operator resolves `spec.chart.git`
/// by URL, and kubernetes-config's releases name their own repository by
/// its `origin` (`git@github.com:travis-ci/kubernetes-config.git`). Every
/// spelling of that URL (scp-like, https, ssh, with or without `.git` and a
/// trailing `/`) reads the clone at `spec.chart.ref`; another repository's
/// URL fails with the URLs the clone is known by and where a chart cache
/// would hold it.
#[test]
fn lf_a_clone_watched_by_path_is_the_repository_its_origin_names() {
    let work = TestRepo::new();
    write_chart(&work, "main-1");
    work.commit_all("chart");
    work.git(&["remote", "add", "origin", "git@github.com:org/this.git"]);
    work.switch("staging");
    work.write("kiln.yaml", "layout: flux-v1\n");
    let spellings = [
        ("scp", "git@github.com:org/this.git"),
        ("https", "https://github.com/org/this/"),
        ("ssh", "ssh://git@github.com/org/this"),
        ("slash", "https://github.com/org/this.git/"),
    ];
    for (name, url) in spellings {
        work.write(&format!("releases/staging/{name}.yaml"), &release(name, url, "main"));
    }
    work.commit_all("releases");
    let target = work.bare_clone();
    let home = tempfile::tempdir().unwrap();
    let watch = || {
        let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["watch", "--once", "--target-branch", "rendered", "--branch", "staging=staging"])
            .arg("--repo")
            .arg(work.path())
            .arg("--target-repo")
            .arg(target.path())
            .arg("--workdir")
            .arg(home.path().join("mirror"))
            .current_dir(home.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let log = watch();
    assert_eq!(
        greetings(&target),
        ["https main-1", "scp main-1", "slash main-1", "ssh main-1"],
        "{log}"
    );

    work.write(
        "releases/staging/other.yaml",
        &release("other", "https://github.com/org/other", "main"),
    );
    work.commit_all("another repository's chart");
    let log = watch();
    assert!(
        log.contains("not the repository rendered (its remotes are ")
            && log.contains(", git@github.com:org/this.git)")
            && log.contains("github.com/org/other@main/<chart path>"),
        "{log}"
    );
}
