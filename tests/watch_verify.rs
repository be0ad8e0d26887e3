//! `kiln watch --verify`: the real binary against a bare remote, judged by Flux events posted to `/hooks/flux`, acting on the verdict.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::watch_faults::{Example, free_port, http};

const KEY: &str = "flux-provider-token";
const OVERLAY: &str = "apps/overlays/production/kustomization.yaml";
const OLD_TAG: &str = "v0.8.4.2026-10-02t080512006Z.0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5";
const NEW_TAG: &str = "v0.8.5.2026-11-22t140000000Z.1111111111111111111111111111111111111111";

fn git(remote: &Path, args: &[&str]) -> String {
    let out = Command::new("git").arg("-C").arg(remote).args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `kiln watch --once --verify flux-events` on `production`, main at the production tip.
fn watch(ex: &Example, mirror: &Path, port: u16, on_timeout: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["watch", "--once", "--branch", "production=production", "--repo"])
        .arg(ex.remote.path())
        .arg("--workdir")
        .arg(mirror)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--verify", "flux-events", "--verify-timeout", "4s", "--on-timeout", on_timeout])
        .args(["--main-branch", "main", "--flux-hmac-key-env", "FLUX_KEY"])
        .env("FLUX_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn event(severity: &str, reason: &str, rendered: &str) -> String {
    event_from("production", severity, reason, rendered)
}

/// An event of kustomize-controller about the Kustomization `flux-system/<name>`.
fn event_from(name: &str, severity: &str, reason: &str, rendered: &str) -> String {
    serde_json::json!({
        "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": name,
                           "apiVersion": "kustomize.toolkit.fluxcd.io/v1"},
        "severity": severity,
        "timestamp": "2026-11-22T14:00:00Z",
        "message": "Health check failed after 30s: timeout waiting for: [Deployment/apps/web status: 'Failed']",
        "reason": reason,
        "metadata": {"revision": format!("rendered@sha1:{rendered}")},
        "reportingController": "kustomize-controller",
        "reportingInstance": "kustomize-controller-7f5c8b9d4-xk2lp"
    })
    .to_string()
}

/// An event to post (severity, reason), or none for a timeout.
type Posted = Option<(&'static str, &'static str)>;

/// The three verdicts, each from a fresh example: (event to post, on-timeout, reverted?).
#[test]
fn the_watcher_acts_on_flux_verdicts() {
    let cases: [(Posted, &str, bool); 3] = [
        (Some(("error", "HealthCheckFailed")), "succeed", true),
        (Some(("info", "ReconciliationSucceeded")), "fail", false),
        (None, "fail", true),
    ];
    for (posted, on_timeout, reverted) in cases {
        let ex = Example::new();
        let remote = ex.remote.path();
        let base = git(remote, &["rev-parse", "production"]);
        git(remote, &["branch", "main", &base]);
        // The release: a new unique tag for web-frontend in the production overlay.
        let overlay =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(OVERLAY)).unwrap();
        let release =
            ex.push_file("production", OVERLAY, &overlay.replace(OLD_TAG, NEW_TAG), "release");
        let home = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = watch(&ex, &home.path().join("mirror"), port, on_timeout);
        let start = Instant::now();
        let rendered = loop {
            let tip = git(remote, &["rev-parse", "--verify", "--quiet", "rendered"]);
            if !tip.is_empty() {
                break tip;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "no rendered commit");
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some((severity, reason)) = posted {
            let body = event(severity, reason, &rendered);
            let (bad, _) =
                http(port, "POST", "/hooks/flux", &[("X-Signature", "sha256=00")], body.as_bytes());
            assert_eq!(bad, 401);
            let signature = kiln::verify::flux_events::sign(body.as_bytes(), KEY.as_bytes());
            let (status, _) =
                http(port, "POST", "/hooks/flux", &[("X-Signature", &signature)], body.as_bytes());
            assert_eq!(status, 202);
        }
        let out = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{log}");
        let tip = git(remote, &["rev-parse", "production"]);
        let main = git(remote, &["rev-parse", "main"]);
        if reverted {
            assert_eq!(main, base, "main moved on a failure: {log}");
            assert_eq!(git(remote, &["rev-parse", "production^"]), release, "{log}");
            let message = git(remote, &["log", "-1", "--format=%B", "production"]);
            assert!(message.contains(&format!("Reverts-Commit: {release}")), "{message}");
            assert!(message.contains(&format!("Failed-Rendered-Commit: {rendered}")), "{message}");
            let quarantine = git(remote, &["show", "production:.kiln/quarantine.yaml"]);
            assert!(quarantine.contains(NEW_TAG), "{quarantine}");
            // The next cycle renders the revert: the target names it as its source.
            let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
                .args(["watch", "--once", "--branch", "production=production", "--repo"])
                .arg(remote)
                .arg("--workdir")
                .arg(home.path().join("mirror"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let rendered_log = git(remote, &["log", "-1", "--format=%B", "rendered"]);
            assert!(rendered_log.contains(&format!("Source-Commit: {tip}")), "{rendered_log}");
        } else {
            assert_eq!(tip, release, "{log}");
            assert_eq!(main, release, "main not fast-forwarded: {log}");
        }
    }
}

/// `kiln watch --once` on `branches`, with `extra` arguments and environment.
fn watch_once(
    ex: &Example,
    mirror: &Path,
    branches: &[&str],
    extra: &[&str],
    envs: &[(&str, &Path)],
) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.args(["watch", "--once", "--repo"]).arg(ex.remote.path()).arg("--workdir").arg(mirror);
    for b in branches {
        cmd.args(["--branch", b]);
    }
    cmd.args(extra).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{log}");
    log
}

fn wait_for_new(remote: &Path, branch: &str, old: &str) -> String {
    let start = Instant::now();
    loop {
        let tip = git(remote, &["rev-parse", "--verify", "--quiet", branch]);
        if !tip.is_empty() && tip != old {
            return tip;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no new commit on {branch}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The example remote with main at the production tip, and a first render
/// of `branches` (with `extra` arguments): the last good render.
struct Start {
    ex: Example,
    base: String,
    mirror: std::path::PathBuf,
    good: String,
    _home: tempfile::TempDir,
}

fn first_render(branches: &[&str], extra: &[&str]) -> Start {
    let ex = Example::new();
    let remote = ex.remote.path();
    let base = git(remote, &["rev-parse", "production"]);
    git(remote, &["branch", "main", &base]);
    let home = tempfile::tempdir().unwrap();
    let mirror = home.path().join("mirror");
    finish(watch_once(&ex, &mirror, branches, extra, &[]));
    let good = git(remote, &["rev-parse", "rendered"]);
    Start { ex, base, mirror, good, _home: home }
}

/// A release on `branch`: the new unique tag for web-frontend in the production overlay.
fn release(ex: &Example, branch: &str) -> String {
    let overlay =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(OVERLAY)).unwrap();
    ex.push_file(
        branch,
        OVERLAY,
        &overlay.replace(OLD_TAG, NEW_TAG),
        &format!("release to {branch}"),
    )
}

/// How a workload or Flux object of the rendered output looks in the cluster
/// once its deploy ended: healthy, or (a Deployment) past its progress deadline.
fn live(target: &kiln::verify::kube::Target, healthy: bool) -> serde_json::Value {
    use serde_json::json;
    let api = match target.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Job" => "batch/v1",
        "Kustomization" => "kustomize.toolkit.fluxcd.io/v1",
        _ => "helm.toolkit.fluxcd.io/v2",
    };
    let containers: Vec<_> = target
        .images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    let ready = |reason: &str| {
        json!([{"type": "Ready", "status": "True", "reason": reason, "message": "Release reconciliation succeeded",
                "lastTransitionTime": "2026-11-22T14:01:00Z"}])
    };
    let status = match target.kind.as_str() {
        "Deployment" => json!({
            "observedGeneration": 2, "replicas": 1, "updatedReplicas": 1,
            "readyReplicas": u8::from(healthy), "availableReplicas": u8::from(healthy),
            "conditions": [
                {"type": "Available", "status": if healthy { "True" } else { "False" },
                 "reason": if healthy { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                 "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": if healthy { "True" } else { "False" },
                 "reason": if healthy { "NewReplicaSetAvailable" } else { "ProgressDeadlineExceeded" },
                 "message": format!("ReplicaSet \"{}-7c9f8d6b5f\" has timed out progressing.", target.name)}
            ]
        }),
        "StatefulSet" => {
            json!({"observedGeneration": 2, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
                                "currentRevision": "r-1", "updateRevision": "r-1"})
        }
        "DaemonSet" => {
            json!({"observedGeneration": 2, "desiredNumberScheduled": 1, "updatedNumberScheduled": 1,
                              "numberAvailable": 1})
        }
        "Job" => json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
        _ => {
            json!({"observedGeneration": 2, "lastAppliedRevision": "", "conditions": ready("ReconciliationSucceeded")})
        }
    };
    json!({
        "apiVersion": api,
        "kind": target.kind,
        "metadata": {"name": target.name, "namespace": target.namespace, "generation": 2,
                     "uid": "3a7d5c1e-9b2f-4e6a-8c0d-1f2e3a4b5c6d", "creationTimestamp": "2026-11-22T14:00:00Z"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}},
        "status": status
    })
}

/// `kiln watch --verify kube` against a loopback API server serving the
/// cluster after the deploy: a rollout past its deadline reverts the release,
/// quarantines its tag and restores the target directory; a healthy one moves main.
#[test]
fn the_watcher_acts_on_kube_verdicts() {
    use kiln::daemon::tree::GitTree;
    use kiln::verify::kube::targets_in_tree;
    for healthy in [false, true] {
        let branches = ["production=production"];
        // The last good render, made from production = main.
        let Start { ex, base, mirror, good, _home } =
            first_render(&branches, &["--cluster", "production"]);
        let remote = ex.remote.path();
        let release = release(&ex, "production");

        let api = crate::verify_api::FakeApi::cluster(Duration::from_millis(20));
        let kubeconfig = api.kubeconfig();
        let extra = [
            "--cluster",
            "production",
            "--verify",
            "kube",
            "--verify-timeout",
            "30s",
            "--flux-kustomization",
            "flux-system/production",
            "--main-branch",
            "main",
        ];
        let child =
            watch_once(&ex, &mirror, &branches, &extra, &[("KUBECONFIG", kubeconfig.as_path())]);
        let rendered = wait_for_new(remote, "rendered", &good);
        // The cluster once the rendered commit is applied: every workload and
        // Flux object of the output, and the Kustomization that applied it.
        let repo = kiln::daemon::repo::open(remote).unwrap();
        let tree = GitTree::at_commit(&repo, rendered.parse().unwrap()).unwrap();
        let targets = targets_in_tree(&tree, "production", "default").unwrap();
        assert!(targets.iter().any(|t| t.kind == "Deployment"), "{targets:?}");
        let mut failed = None;
        for target in &targets {
            let released = target.images.iter().any(|i| i.contains(NEW_TAG));
            let ok = healthy || !(released && target.kind == "Deployment");
            if !ok {
                failed = Some(format!("Deployment/{}/{}", target.namespace, target.name));
            }
            api.put(vec![live(target, ok)]);
        }
        let revision = format!("rendered@sha1:{rendered}");
        api.put(vec![crate::verify_api::kustomization(
            "production",
            ("True", "ReconciliationSucceeded", &format!("Applied revision: {revision}")),
            &revision,
            &revision,
            false,
        )]);
        let log = finish(child);
        let tip = git(remote, &["rev-parse", "production"]);
        let main = git(remote, &["rev-parse", "main"]);
        if let Some(failed) = failed {
            assert_eq!(main, base, "main moved on a failure: {log}");
            assert_eq!(git(remote, &["rev-parse", "production^"]), release, "{log}");
            let message = git(remote, &["log", "-1", "--format=%B", "production"]);
            for line in [
                format!("Reverts-Commit: {release}"),
                format!("Failed-Rendered-Commit: {rendered}"),
                format!("Failed-Object: {failed}"),
                "ProgressDeadlineExceeded".to_string(),
            ] {
                assert!(message.contains(&line), "missing {line:?} in\n{message}");
            }
            assert!(git(remote, &["show", "production:.kiln/quarantine.yaml"]).contains(NEW_TAG));
            // The target directory is the last good render again.
            assert_eq!(
                git(remote, &["rev-parse", "rendered:production"]),
                git(remote, &["rev-parse", &format!("{good}:production")]),
                "{log}"
            );
            let restored = git(remote, &["log", "-1", "--format=%B", "rendered"]);
            assert!(restored.contains(&format!("Source-Commit: {tip}")), "{restored}");
            // The quarantine of the remote, listed and released through its URL.
            let url = format!("file://{}", remote.display());
            let quarantine = |args: &[&str]| {
                let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
                    .arg("quarantine")
                    .args(args)
                    .args(["--repo", &url, "--branch", "production"])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                String::from_utf8_lossy(&out.stdout).into_owned()
            };
            assert!(quarantine(&["list"]).contains(&format!(":{NEW_TAG}\t{release}")));
            quarantine(&["release", NEW_TAG]);
            assert_eq!(quarantine(&["list"]), "");
            assert_eq!(git(remote, &["rev-parse", "production^"]), tip);
        } else {
            assert_eq!(tip, release, "{log}");
            assert_eq!(main, release, "main not fast-forwarded: {log}");
            assert_eq!(git(remote, &["rev-parse", "rendered"]), rendered);
        }
    }
}

/// One rendered commit that changes staging and production: each environment
/// gets its own verdict (and timeout), only the failed one's release is
/// reverted, and main follows production alone.
#[test]
fn each_environment_of_a_commit_gets_its_own_verdict() {
    // (check command, per-environment timeouts, reverted environment)
    let cases = [
        ("case \"$KILN_ENV\" in staging) exit 1;; esac", "production=20s", "staging"),
        ("case \"$KILN_ENV\" in production) sleep 30;; esac", "production=1s", "production"),
    ];
    for (check, env_timeout, reverted) in cases {
        let branches = ["staging=staging", "production=production"];
        let Start { ex, base, mirror, good, _home } = first_render(&branches, &[]);
        let remote = ex.remote.path();
        let releases =
            [("staging", release(&ex, "staging")), ("production", release(&ex, "production"))];
        let start = Instant::now();
        let extra = [
            "--verify",
            "command",
            "--check-command",
            check,
            "--verify-timeout",
            "20s",
            "--env-timeout",
            env_timeout,
            "--main-follows",
            "production",
        ];
        let log = finish(watch_once(&ex, &mirror, &branches, &extra, &[]));
        assert!(start.elapsed() < Duration::from_secs(15), "a timeout was not per environment");
        let rendered = git(remote, &["log", "--format=%H", &format!("{good}..rendered")]);
        let first = rendered.lines().last().unwrap_or_default();
        let sources = git(remote, &["log", "-1", "--format=%B", first]);
        for (branch, release) in &releases {
            assert!(
                sources.contains(&format!("Source-Commit: {release}")),
                "one commit renders both: {sources}"
            );
            let tip = git(remote, &["rev-parse", branch]);
            if *branch == reverted {
                assert_eq!(git(remote, &["rev-parse", &format!("{branch}^")]), *release, "{log}");
                let message = git(remote, &["log", "-1", "--format=%B", branch]);
                assert!(message.contains(&format!("Reverts-Commit: {release}")), "{message}");
                assert!(message.contains(&format!("Failed-Rendered-Commit: {first}")), "{message}");
            } else {
                assert_eq!(tip, *release, "{branch} was touched: {log}");
            }
        }
        let main = git(remote, &["rev-parse", "main"]);
        let production_release = &releases[1].1;
        if reverted == "production" {
            assert_eq!(main, base, "{log}");
            let message = git(remote, &["log", "-1", "--format=%B", "production"]);
            assert!(message.contains("Failure-Reason: deploy not healthy after 1s"), "{message}");
        } else {
            assert_eq!(main, *production_release, "main follows production: {log}");
        }
    }
}

/// Flux events for two environments of one rendered commit, each environment
/// naming its own Kustomization: staging's failure reverts staging alone,
/// production's success moves main.
#[test]
fn flux_events_are_matched_to_their_environment() {
    let branches = ["staging=staging", "production=production"];
    let Start { ex, base: _, mirror, good, _home } = first_render(&branches, &[]);
    let remote = ex.remote.path();
    let staging = release(&ex, "staging");
    let production = release(&ex, "production");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let extra = [
        "--listen",
        &listen,
        "--verify",
        "flux-events",
        "--verify-timeout",
        "20s",
        "--flux-kustomization",
        "staging=flux-system/staging",
        "--flux-kustomization",
        "production=flux-system/production",
    ];
    let child = watch_once(&ex, &mirror, &branches, &extra, &[]);
    let rendered = wait_for_new(remote, "rendered", &good);
    let start = Instant::now();
    // Production's success arrives first: it must not count for staging.
    for (name, severity, reason) in [
        ("production", "info", "ReconciliationSucceeded"),
        ("staging", "error", "HealthCheckFailed"),
    ] {
        let body = event_from(name, severity, reason, &rendered);
        loop {
            let (status, _) = http(port, "POST", "/hooks/flux", &[], body.as_bytes());
            if status == 202 {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "the listener never took events");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let log = finish(child);
    assert_eq!(git(remote, &["rev-parse", "production"]), production, "{log}");
    assert_eq!(git(remote, &["rev-parse", "main"]), production, "{log}");
    assert_eq!(git(remote, &["rev-parse", "staging^"]), staging, "{log}");
    let message = git(remote, &["log", "-1", "--format=%B", "staging"]);
    assert!(message.contains(&format!("Reverts-Commit: {staging}")), "{message}");
    assert!(message.contains("Failed-Object: Kustomization/flux-system/staging"), "{message}");
}
