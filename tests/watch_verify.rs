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
    serde_json::json!({
        "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": "production",
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
