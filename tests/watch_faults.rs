//! `kiln watch` as a real process on the example repository: kill -9 in a loop, racing watchers, a vanishing remote, a broken push, webhooks, SIGTERM.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::util::{BareRepo, TestRepo, copy_dir};

/// The file whose `test/generation` annotation each source commit changes.
const SERVICE: &str = "apps/base/user-roles/service.yaml";
/// Where that Service lands in a target directory.
const RENDERED_SERVICE: &str = "development/apps/apps/core_v1_Service_dev-user-roles.yaml";

/// The example GitOps repository of this workspace on `staging` and `production`, and its bare remote.
pub struct Example {
    work: TestRepo,
    /// The remote every watcher fetches from and pushes to.
    pub remote: BareRepo,
    original_service: String,
}

impl Example {
    /// Copies `clusters/`, `apps/` and `infrastructure/` of the workspace into a new repository.
    pub fn new() -> Self {
        let work = TestRepo::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["clusters", "apps", "infrastructure"] {
            copy_dir(&root.join(dir), &work.path().join(dir));
        }
        work.commit_all("example");
        work.git(&["branch", "staging"]);
        work.git(&["branch", "production"]);
        let remote = work.bare_clone();
        let original_service = std::fs::read_to_string(work.path().join(SERVICE)).unwrap();
        Example { work, remote, original_service }
    }

    /// Commits generation `n` of the Service on `branch`, pushes it and returns the commit.
    pub fn push_generation(&self, branch: &str, n: u32) -> String {
        let annotated = self.original_service.replacen(
            "  name: user-roles\n",
            &format!("  name: user-roles\n  annotations:\n    test/generation: \"{n}\"\n"),
            1,
        );
        self.push_file(branch, SERVICE, &annotated, &format!("generation {n}"))
    }

    /// Commits `contents` as `path` on `branch` and pushes it.
    pub fn push_file(&self, branch: &str, path: &str, contents: &str, message: &str) -> String {
        self.work.switch(branch);
        self.work.write(path, contents);
        let commit = self.work.commit_all(message);
        self.work.git(&[
            "push",
            "--quiet",
            "--force",
            self.remote_path(),
            &format!("{branch}:{branch}"),
        ]);
        commit
    }

    fn remote_path(&self) -> &str {
        self.remote.path().to_str().unwrap()
    }

    /// The rendered commits, newest first, each with its tree and trailers.
    pub fn rendered(&self) -> Vec<Rendered> {
        let out =
            run_git(self.remote.path(), &["log", "--format=%H %T%n%B%x00", "refs/heads/rendered"]);
        out.split('\0')
            .filter(|c| !c.trim().is_empty())
            .map(|c| {
                let c = c.trim_start();
                let (head, body) = c.split_once('\n').unwrap_or((c, ""));
                let (commit, tree) = head.split_once(' ').unwrap();
                let mut sources = BTreeMap::new();
                let mut branch = None;
                for line in body.lines() {
                    if let Some(b) = line.strip_prefix("Source-Branch: ") {
                        branch = Some(b.to_string());
                    } else if let Some(s) = line.strip_prefix("Source-Commit: ") {
                        if let Some(b) = branch.take() {
                            sources.insert(b, s.to_string());
                        }
                    }
                }
                Rendered { commit: commit.into(), tree: tree.into(), sources }
            })
            .collect()
    }

    /// The paths below `dir` of rendered commit `commit`.
    pub fn paths(&self, commit: &str, dir: &str) -> BTreeSet<String> {
        run_git(self.remote.path(), &["ls-tree", "-r", "--name-only", commit, "--", dir])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// A file of rendered commit `commit`.
    pub fn show(&self, commit: &str, path: &str) -> String {
        run_git(self.remote.path(), &["show", &format!("{commit}:{path}")])
    }

    /// A `kiln watch` process on this remote with its mirror in `workdir` and `extra` arguments.
    pub fn spawn(&self, workdir: &Path, extra: &[&str]) -> Watch {
        let log = workdir.with_extension("log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
        cmd.args(["watch", "--repo", self.remote_path(), "--target-branch", "rendered"])
            .arg("--workdir")
            .arg(workdir)
            .args(extra)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", workdir.parent().unwrap())
            .env("GITHUB_SECRET", "hook-secret")
            .env("GITLAB_TOKEN", "hook-token")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        Watch { child: cmd.spawn().unwrap(), log }
    }
}

/// One commit of the rendered branch.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Its id.
    pub commit: String,
    /// Its tree id.
    pub tree: String,
    /// Source branch to source commit, from the trailers.
    pub sources: BTreeMap<String, String>,
}

/// A running watcher; killed when dropped.
pub struct Watch {
    child: Child,
    log: PathBuf,
}

impl Watch {
    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self, within: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < within, "no exit after SIGTERM:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.kill();
    }
}

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 request; returns the status code and the body. Connection errors give status 0.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    if stream.write_all(request.as_bytes()).and_then(|()| stream.write_all(body)).is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    if stream.read_to_string(&mut response).is_err() {
        return (0, String::new());
    }
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Polls `check` every 20 ms until it is true; panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `X-Hub-Signature-256` of `body`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// No two consecutive rendered commits have the same tree or the same sources.
fn assert_no_duplicates(rendered: &[Rendered]) {
    for pair in rendered.windows(2) {
        assert_ne!(pair[0].tree, pair[1].tree, "a commit that changes nothing: {pair:#?}");
        assert_ne!(pair[0].sources, pair[1].sources, "the same sources twice: {pair:#?}");
    }
}

#[test]
fn kill_9_at_random_points_never_leaves_a_partial_commit() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let workdir = home.path().join("mirror");
    let once = |extra: &[&str]| {
        let mut args = vec!["--branch", "staging=staging", "--once"];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["watch", "--repo", ex.remote_path(), "--target-branch", "rendered"])
            .arg("--workdir")
            .arg(&workdir)
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let mut generations = BTreeMap::new();
    generations.insert(ex.push_generation("staging", 0), 0);
    once(&[]);
    let baseline = ex.paths("refs/heads/rendered", "staging");
    assert!(baseline.len() > 20, "{baseline:?}");

    // A fixed pseudo-random sequence of kill delays between 0 and 400 ms.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let iterations = 50;
    for n in 1..=iterations {
        generations.insert(ex.push_generation("staging", n), n);
        let mut watch = ex.spawn(&workdir, &["--branch", "staging=staging", "--interval", "10ms"]);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 400));
        watch.kill();

        let tip = &ex.rendered()[0];
        assert_eq!(ex.paths(&tip.commit, "staging"), baseline, "iteration {n}: missing files");
        let source = &tip.sources["staging"];
        let generation = generations[source];
        let service = ex.show(&tip.commit, &format!("staging/{RENDERED_SERVICE}"));
        assert!(
            service.contains(&format!("test/generation: \"{generation}\"")),
            "iteration {n}: {source} is generation {generation}, the file says\n{service}"
        );
    }
    // A restarted watcher converges on the last generation, and once there, commits nothing more.
    once(&[]);
    let rendered = ex.rendered();
    assert_eq!(generations[&rendered[0].sources["staging"]], iterations);
    once(&[]);
    assert_eq!(ex.rendered().len(), rendered.len());
    assert_no_duplicates(&rendered);
}

#[test]
fn sigterm_mid_cycle_exits_0_and_leaves_a_complete_commit() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let workdir = home.path().join("mirror");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut generations = BTreeMap::new();
    let mut baseline = None;
    for n in 0..10 {
        generations.insert(ex.push_generation("staging", n), n);
        let mut watch = ex.spawn(&workdir, &["--branch", "staging=staging", "--interval", "10ms"]);
        wait_until(Duration::from_secs(20), "the watcher to start", || {
            watch.log().contains("watching")
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 300));
        let status = watch.terminate(Duration::from_secs(20));
        assert!(status.success(), "iteration {n}: {status:?}\n{}", watch.log());
        let Some(tip) = ex.rendered().into_iter().next() else {
            continue;
        };
        let paths = ex.paths(&tip.commit, "staging");
        let baseline = baseline.get_or_insert_with(|| paths.clone());
        assert_eq!(&paths, baseline, "iteration {n}: missing files");
        let generation = generations[&tip.sources["staging"]];
        let service = ex.show(&tip.commit, &format!("staging/{RENDERED_SERVICE}"));
        assert!(service.contains(&format!("test/generation: \"{generation}\"")), "{service}");
    }
    assert_no_duplicates(&ex.rendered());
}

#[test]
fn two_watchers_on_one_remote_lose_nothing_and_duplicate_nothing() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let args =
        ["--branch", "staging=staging", "--branch", "production=production", "--interval", "20ms"];
    let mut a = ex.spawn(&home.path().join("a"), &args);
    let mut b = ex.spawn(&home.path().join("b"), &args);
    let mut last = BTreeMap::new();
    for n in 1..=8 {
        for branch in ["staging", "production"] {
            last.insert(branch.to_string(), ex.push_generation(branch, n));
        }
        std::thread::sleep(Duration::from_millis(60));
    }
    wait_until(Duration::from_secs(30), "both watchers to catch up", || {
        ex.rendered().first().is_some_and(|r| r.sources == last)
    });
    assert!(a.terminate(Duration::from_secs(10)).success(), "{}", a.log());
    assert!(b.terminate(Duration::from_secs(10)).success(), "{}", b.log());
    let rendered = ex.rendered();
    assert_no_duplicates(&rendered);
    for branch in ["staging", "production"] {
        let service = ex.show(&rendered[0].commit, &format!("{branch}/{RENDERED_SERVICE}"));
        assert!(service.contains("test/generation: \"8\""), "{branch}: {service}");
    }
}

#[test]
fn a_vanished_remote_a_broken_push_webhooks_and_sigterm() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut watch = ex.spawn(
        &home.path().join("mirror"),
        &[
            "--branch",
            "staging=staging",
            "--interval",
            "100ms",
            "--listen",
            &listen,
            "--github-secret-env",
            "GITHUB_SECRET",
            "--gitlab-token-env",
            "GITLAB_TOKEN",
            "--log-format",
            "json",
        ],
    );
    let get = |path: &str| http(port, "GET", path, &[], b"");
    wait_until(Duration::from_secs(20), "readiness", || get("/readyz").0 == 200);
    assert_eq!(get("/healthz"), (200, "ok\n".into()));
    let first = ex.rendered();
    assert_eq!(first.len(), 1);

    // The remote goes away: cycles fail, are counted, and the watcher lives on.
    let away = ex.remote.path().with_extension("away");
    std::fs::rename(ex.remote.path(), &away).unwrap();
    wait_until(Duration::from_secs(20), "fetch failures", || {
        get("/metrics").1.lines().any(|l| {
            l.strip_prefix("kiln_failures_total{kind=\"fetch\"} ")
                .is_some_and(|n| n.parse::<u32>().unwrap_or(0) >= 2)
        })
    });
    let status: serde_json::Value = serde_json::from_str(&get("/status").1).unwrap();
    assert!(
        status["lastError"].as_str().unwrap_or_default().contains("fetching the source"),
        "{status:#}"
    );
    std::fs::rename(&away, ex.remote.path()).unwrap();
    let v1 = ex.push_generation("staging", 1);
    wait_until(Duration::from_secs(20), "catching up after the remote came back", || {
        ex.rendered()[0].sources["staging"] == v1
    });

    // A broken manifest: the target stays, the error shows, the next good push renders.
    let tip = ex.rendered()[0].commit.clone();
    ex.push_file(
        "staging",
        SERVICE,
        "apiVersion: v1\nkind: Service\nmetadata: [unclosed\n",
        "broken",
    );
    wait_until(Duration::from_secs(20), "the render error in /status", || {
        let status: serde_json::Value = serde_json::from_str(&get("/status").1).unwrap_or_default();
        status["branches"]["staging"]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("service.yaml"))
    });
    assert_eq!(ex.rendered()[0].commit, tip);
    assert!(get("/metrics").1.contains("kiln_branch_error{branch=\"staging\"} 1\n"));
    // The JSON log names the branch, the cluster, the unit and the file.
    let logged = watch.log();
    let line = logged
        .lines()
        .find(|l| l.contains("branch not rendered") && l.contains("service.yaml"))
        .unwrap_or_else(|| panic!("no render error logged:\n{logged}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["level"], "ERROR", "{line}");
    assert_eq!(line["fields"]["branch"], "staging", "{line}");
    let error = line["fields"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("cluster ") && error.contains("unit apps"), "{error}");
    let v2 = ex.push_generation("staging", 2);
    wait_until(Duration::from_secs(20), "the good push after the broken one", || {
        ex.rendered()[0].sources["staging"] == v2
    });

    // Webhooks: a bad signature or token is refused, a good one is accepted.
    let body = br#"{"ref":"refs/heads/staging"}"#;
    /// Path, headers, and the status wanted.
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, u16);
    let cases: &[Case] = &[
        ("/hooks/github", vec![("X-Hub-Signature-256", "sha256=00".into())], 401),
        ("/hooks/github", vec![], 401),
        (
            "/hooks/github",
            vec![
                ("X-Hub-Signature-256", github_signature("hook-secret", body)),
                ("X-GitHub-Event", "push".into()),
            ],
            202,
        ),
        ("/hooks/gitlab", vec![("X-Gitlab-Token", "wrong".into())], 401),
        ("/hooks/gitlab", vec![("X-Gitlab-Token", "hook-token".into())], 202),
    ];
    for (path, headers, want) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(http(port, "POST", path, &headers, body).0, *want, "{path} {headers:?}");
    }

    let status = watch.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status:?}\n{}", watch.log());
    let log = watch.log();
    assert!(log.lines().all(|l| l.starts_with('{')), "not JSON logs:\n{log}");
    assert!(log.contains("\"stopped\""), "{log}");
    assert_no_duplicates(&ex.rendered());
}

#[test]
fn an_empty_render_of_a_real_unit_is_refused_unless_allowed() {
    use kiln::daemon::metrics::Metrics;
    use kiln::daemon::remote::Remote;
    use kiln::daemon::watch::{
        BranchMap, Config, CycleOutcome, DEFAULT_MESSAGE, Watcher, render_flux,
    };
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let watcher = |allow_empty: bool| {
        let remote = Remote::new(ex.remote_path());
        let config = Config {
            source: remote.clone(),
            target: remote,
            branches: vec![BranchMap { source: "production".into(), dir: "prod".into() }],
            target_branch: "rendered".into(),
            author: crate::util::kiln_identity(),
            message: DEFAULT_MESSAGE.into(),
            allow_empty,
            adopt: false,
            push_attempts: 3,
            workdir: home.path().join("mirror"),
            outside: Vec::new(),
        };
        Watcher::new(
            config,
            Arc::new(
                |tree: &dyn renderer::tree::Tree,
                 cache: &dyn renderer::cache::UnitCache,
                 source: &kiln::daemon::sync::Source,
                 dir: &str,
                 _| {
                    render_flux(tree, cache, source, dir, &renderer::Options::default())
                },
            ),
            Arc::new(Metrics::default()),
            Arc::new(AtomicBool::new(false)),
        )
    };
    assert!(matches!(watcher(false).cycle(), Ok(CycleOutcome::Committed { .. })));
    let tip = ex.rendered()[0].commit.clone();
    assert!(ex.paths(&tip, "prod/production/apps").len() > 3);

    // The production cluster's `apps` unit now builds an empty kustomization.
    ex.push_file("production", "apps/empty/kustomization.yaml", "resources: []\n", "empty dir");
    let apps = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("clusters/production/apps.yaml"),
    )
    .unwrap();
    let emptied = apps.replace("path: ./apps/overlays/production", "path: ./apps/empty");
    assert_ne!(emptied, apps);
    ex.push_file("production", "clusters/production/apps.yaml", &emptied, "empty apps");

    let mut refusing = watcher(false);
    assert!(matches!(refusing.cycle(), Ok(CycleOutcome::Unchanged)));
    assert_eq!(ex.rendered()[0].commit, tip);
    let error = refusing.metrics().branch_status("production").unwrap().last_error.unwrap();
    assert!(error.contains("refusing an empty render of production/apps"), "{error}");
    assert!(refusing.metrics().prometheus().contains("kiln_failures_total{kind=\"safety\"} 1\n"));

    assert!(matches!(watcher(true).cycle(), Ok(CycleOutcome::Committed { .. })));
    assert!(
        !ex.paths("refs/heads/rendered", "prod/production/apps")
            .iter()
            .any(|p| p.ends_with(".yaml"))
    );
}
