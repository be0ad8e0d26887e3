//! Deploy verification against a loopback API server, Flux webhook events, and the revert/promote flow end to end.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::process::Command;
use std::time::Duration;

use kiln::daemon::publish::{Published, Update, publish, with_provenance};
use kiln::daemon::repo::open;
use kiln::quarantine::Quarantine;
use kiln::verify::Verdict;
use kiln::verify::flux_events::{Hooks, await_verdict, sign};
use kiln::verify::kube::{Options, Target, verdict};
use serde_json::json;

use crate::util::{TestRepo, kiln_identity};
use crate::verify_api::{FakeApi, deployment, kustomization};

const R1: &str = "1111111111111111111111111111111111111111";
const R2: &str = "2222222222222222222222222222222222222222";
const T1: &str = "v1.0.0.2026-11-20t101500000Z.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const T2: &str = "v1.1.0.2026-11-22t101500000Z.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const IMAGE: &str = "registry.example.com/web";

fn web(
    image_tag: &str,
    generation: i64,
    observed: i64,
    counts: (i64, i64, i64, i64),
    progressing: (&str, &str),
) -> serde_json::Value {
    deployment(
        "web",
        "apps",
        &format!("{IMAGE}:{image_tag}"),
        generation,
        observed,
        counts,
        progressing,
    )
}

const NEW_RS: (&str, &str) =
    ("NewReplicaSetAvailable", "ReplicaSet \"web-5d8f7c9b6d\" has successfully progressed.");
const UPDATING: (&str, &str) =
    ("ReplicaSetUpdated", "ReplicaSet \"web-7c9f8d6b5f\" is progressing.");
const DEADLINE: (&str, &str) =
    ("ProgressDeadlineExceeded", "ReplicaSet \"web-7c9f8d6b5f\" has timed out progressing.");

fn ks_ready(rev: &str) -> serde_json::Value {
    let r = format!("rendered@sha1:{rev}");
    kustomization(
        "production",
        ("True", "ReconciliationSucceeded", &format!("Applied revision: {r}")),
        &r,
        &r,
        false,
    )
}

fn ks_progressing(old: &str, new: &str) -> serde_json::Value {
    let (o, n) = (format!("rendered@sha1:{old}"), format!("rendered@sha1:{new}"));
    kustomization(
        "production",
        ("Unknown", "Progressing", &format!("Reconciliation in progress for revision {n}")),
        &o,
        &n,
        true,
    )
}

fn ks_failed(old: &str, new: &str) -> serde_json::Value {
    let (o, n) = (format!("rendered@sha1:{old}"), format!("rendered@sha1:{new}"));
    kustomization(
        "production",
        (
            "False",
            "HealthCheckFailed",
            "health check failed after 2m0s: timeout waiting for: [Deployment/apps/web status: 'InProgress']",
        ),
        &o,
        &n,
        false,
    )
}

fn web_target() -> Target {
    Target {
        kind: "Deployment".into(),
        namespace: "apps".into(),
        name: "web".into(),
        images: vec![format!("{IMAGE}:{T2}")],
        revision: false,
    }
}

/// One scripted cluster: name, the versions of each object, the targets, the verdict's start.
type Case = (&'static str, Vec<Vec<serde_json::Value>>, Vec<Target>, &'static str);

/// The verdict for each scripted cluster, all watched at once on one runtime.
#[test]
fn kube_verdicts() {
    let ks = Target::flux_kustomization("flux-system/production").unwrap();
    let helm = Target {
        kind: "HelmRelease".into(),
        namespace: "apps".into(),
        name: "web".into(),
        images: vec![],
        revision: false,
    };
    let cases: Vec<Case> = vec![
        (
            "rollout completes",
            vec![vec![
                web(T1, 2, 1, (3, 3, 3, 3), NEW_RS),
                web(T2, 2, 2, (3, 1, 3, 3), UPDATING),
                web(T2, 2, 2, (3, 3, 2, 2), UPDATING),
                web(T2, 2, 2, (3, 3, 3, 3), NEW_RS),
            ]],
            vec![web_target()],
            "success",
        ),
        (
            "progress deadline exceeded",
            vec![vec![web(T2, 2, 1, (3, 3, 3, 3), NEW_RS), web(T2, 2, 2, (3, 1, 3, 3), DEADLINE)]],
            vec![web_target()],
            "failure: Deployment apps/web failed: ProgressDeadlineExceeded",
        ),
        (
            "old image still running is not success",
            vec![vec![web(T1, 1, 1, (3, 3, 3, 3), NEW_RS)]],
            vec![web_target()],
            "timeout after 1s\n  pending: Deployment/apps/web: running images registry.example.com/web:v1.0.0",
        ),
        (
            "kustomization applies the rendered commit",
            vec![vec![ks_ready(R1), ks_progressing(R1, R2), ks_ready(R2)]],
            vec![ks.clone()],
            "success",
        ),
        (
            "kustomization health check fails at the rendered commit",
            vec![vec![ks_ready(R1), ks_progressing(R1, R2), ks_failed(R1, R2)]],
            vec![ks.clone()],
            "failure: Kustomization flux-system/production failed: HealthCheckFailed",
        ),
        (
            "a failure at an older revision is not this deploy's",
            vec![vec![ks_failed(R1, R1)]],
            vec![ks.clone()],
            "timeout after 1s\n  pending: Kustomization/flux-system/production: not ready: HealthCheckFailed",
        ),
        (
            "object never appears",
            vec![],
            vec![web_target()],
            "timeout after 1s\n  pending: Deployment/apps/web: not seen yet",
        ),
        (
            "kind not installed (404 Status)",
            vec![],
            vec![helm],
            "timeout after 1s\n  pending: HelmRelease/apps/web: watch error",
        ),
        ("nothing to check", vec![], vec![], "success"),
    ];
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let servers: Vec<FakeApi> = cases
        .iter()
        .map(|(_, scripts, ..)| FakeApi::start(scripts.clone(), Duration::from_millis(40)))
        .collect();
    let results = runtime.block_on(futures::future::join_all(cases.iter().zip(&servers).map(
        |((_, _, targets, want), server)| async move {
            let client = server.client().await;
            // Cases that end in a timeout wait 1s; the others end as soon as they are decided.
            let timeout = if want.starts_with("timeout") { 1 } else { 30 };
            verdict(client, targets, R2, Options { timeout: Duration::from_secs(timeout) }).await
        },
    )));
    let mut failures = vec![];
    for ((name, _, _, want), got) in cases.iter().zip(results) {
        let got = got.to_string();
        if !got.starts_with(want) {
            failures.push(format!("{name}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Other workload kinds, judged from their JSON alone.
#[test]
fn workload_states() {
    use kiln::verify::kube::{State, assess};
    let target = |kind: &str| Target {
        kind: kind.into(),
        namespace: "apps".into(),
        name: "x".into(),
        images: vec![],
        revision: false,
    };
    let sts = |ready: i64, update: &str, current: &str| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "x", "generation": 3},
               "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
               "status": {"observedGeneration": 3, "replicas": 3, "readyReplicas": ready, "updatedReplicas": 3,
                          "currentRevision": current, "updateRevision": update}})
    };
    let ds = |desired: i64, updated: i64, available: i64, observed: i64| {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "x", "generation": 2},
               "status": {"observedGeneration": observed, "desiredNumberScheduled": desired,
                          "updatedNumberScheduled": updated, "numberAvailable": available}})
    };
    let job = |condition: &str, reason: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x", "generation": 1},
               "status": {"succeeded": 0, "conditions": [{"type": condition, "status": "True", "reason": reason, "message": "Job has reached the specified backoff limit"}]}})
    };
    let cases: Vec<(&str, serde_json::Value, State)> = vec![
        ("StatefulSet", sts(3, "x-6d4b", "x-6d4b"), State::Ready),
        ("StatefulSet", sts(2, "x-6d4b", "x-6d4b"), State::Pending("2 of 3 replicas ready".into())),
        (
            "StatefulSet",
            sts(3, "x-7f9c", "x-6d4b"),
            State::Pending("revision x-7f9c rolling out over x-6d4b".into()),
        ),
        ("DaemonSet", ds(4, 4, 4, 2), State::Ready),
        ("DaemonSet", ds(4, 2, 4, 2), State::Pending("2 of 4 pods updated".into())),
        (
            "DaemonSet",
            ds(4, 4, 4, 1),
            State::Pending("generation 2 not yet observed (observed 1)".into()),
        ),
        ("Job", job("Complete", ""), State::Ready),
        (
            "Job",
            job("Failed", "BackoffLimitExceeded"),
            State::Failed(
                "BackoffLimitExceeded: Job has reached the specified backoff limit".into(),
            ),
        ),
        ("Job", job("Suspended", ""), State::Pending("0 pods succeeded, not complete".into())),
    ];
    for (kind, object, want) in cases {
        assert_eq!(assess(&target(kind), &object, R2), want, "{kind} {object}");
    }
}

fn post(addr: &str, body: &str, signature: Option<&str>) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let header = signature.map(|s| format!("X-Signature: {s}\r\n")).unwrap_or_default();
    write!(
        stream,
        "POST /hooks/flux HTTP/1.1\r\nHost: kiln\r\nContent-Type: application/json\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_string()
}

fn event(severity: &str, reason: &str, revision: &str) -> String {
    json!({
        "involvedObject": {"kind": "Kustomization", "namespace": "flux-system", "name": "production",
                           "uid": "5d1e4a7c-2f53-4d39-8d6e-1f0c4b9a7e21", "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                           "resourceVersion": "80211"},
        "severity": severity,
        "timestamp": "2026-11-22T10:05:00Z",
        "message": "Deployment/apps/web configured",
        "reason": reason,
        "metadata": {"revision": format!("rendered@sha1:{revision}")},
        "reportingController": "kustomize-controller",
        "reportingInstance": "kustomize-controller-5f8d7b6c4d-x2kqz"
    })
    .to_string()
}

/// `POST /hooks/flux` with `generic-hmac` signatures, and the verdict the events give.
#[test]
fn flux_webhook() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let key = b"token-from-the-provider-secret".to_vec();
    let hooks = Hooks::new(Some(key.clone()));
    let mut events = hooks.subscribe();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    runtime.spawn(async move { axum::serve(listener, hooks.router()).await.unwrap() });

    let progressing = event("info", "Progressing", R2);
    let failed = event("error", "HealthCheckFailed", R2);
    let older = event("error", "HealthCheckFailed", R1);
    let cases: Vec<(&str, &str, Option<String>, &str)> = vec![
        ("unsigned", &failed, None, "HTTP/1.1 401"),
        (
            "signed with another key",
            &failed,
            Some(sign(failed.as_bytes(), b"other")),
            "HTTP/1.1 401",
        ),
        (
            "signature of another body",
            &failed,
            Some(sign(progressing.as_bytes(), &key)),
            "HTTP/1.1 401",
        ),
        ("not an event", "{\"hello\": 1}", Some(sign(b"{\"hello\": 1}", &key)), "HTTP/1.1 400"),
        ("progressing", &progressing, Some(sign(progressing.as_bytes(), &key)), "HTTP/1.1 202"),
        (
            "failure at an older revision",
            &older,
            Some(sign(older.as_bytes(), &key)),
            "HTTP/1.1 202",
        ),
        ("failure", &failed, Some(sign(failed.as_bytes(), &key)), "HTTP/1.1 202"),
    ];
    for (name, body, signature, want) in &cases {
        let got = post(&addr, body, signature.as_deref());
        assert!(got.starts_with(want), "{name}: {got}");
    }
    let verdict = runtime.block_on(await_verdict(&mut events, R2, &[], Duration::from_secs(2)));
    let Verdict::Failure { reason, objects } = verdict else { panic!("{verdict}") };
    assert_eq!(reason, "Kustomization flux-system/production reported HealthCheckFailed");
    assert_eq!(objects[0].name, "production");

    let succeeded = event("info", "ReconciliationSucceeded", R2);
    assert!(
        post(&addr, &succeeded, Some(&sign(succeeded.as_bytes(), &key)))
            .starts_with("HTTP/1.1 202")
    );
    let expect = ["flux-system/production".to_string()];
    let verdict = runtime.block_on(await_verdict(&mut events, R2, &expect, Duration::from_secs(2)));
    assert_eq!(verdict, Verdict::Success);
    let verdict =
        runtime.block_on(await_verdict(&mut events, R2, &expect, Duration::from_millis(200)));
    assert!(verdict.to_string().starts_with("timeout"), "{verdict}");
}

fn manifest(tag: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: {IMAGE}:{tag}\n"
    )
}

/// A source branch with release c2 on top of production c1 (= main), and their rendered commits r1, r2.
struct World {
    repo: TestRepo,
    /// What commands get as `--repo`: the work tree's path, or a URL.
    repo_arg: String,
    c1: String,
    c2: String,
    r1: String,
    r2: String,
}

fn world() -> World {
    let repo = TestRepo::new();
    repo.write("apps/web/deployment.yaml", &manifest(T1));
    repo.write("apps/web/kustomization.yaml", "resources:\n- deployment.yaml\n");
    let c1 = repo.commit_all("web 1.0.0");
    repo.git(&["switch", "--quiet", "-c", "source"]);
    repo.write("apps/web/deployment.yaml", &manifest(T2));
    let c2 = repo.commit_all("web 1.1.0");
    let git = open(repo.path()).unwrap();
    let mut tip = None;
    let mut rendered = vec![];
    for (source, tag) in [(&c1, T1), (&c2, T2)] {
        let files =
            BTreeMap::from([("apps/deployment-web.yaml".to_string(), manifest(tag).into_bytes())]);
        let message = with_provenance("Render source", "source", source.parse().unwrap());
        let update = Update {
            target_branch: "rendered",
            expected_tip: tip,
            target_dir: "production",
            files: &files,
            author: &kiln_identity(),
            message: &message,
        };
        let Published::Committed { commit, .. } = publish(&git, &update).unwrap() else {
            panic!("unchanged")
        };
        tip = Some(commit);
        rendered.push(commit.to_string());
    }
    let r2 = rendered.pop().unwrap();
    let r1 = rendered.pop().unwrap();
    let repo_arg = repo.path().to_str().unwrap().to_string();
    World { repo, repo_arg, c1, c2, r1, r2 }
}

fn kiln(world: &World, api: &FakeApi, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .args(["--repo", &world.repo_arg])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KUBECONFIG", api.kubeconfig())
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn verify(world: &World, api: &FakeApi, timeout: &str, on_timeout: &str) -> (bool, String) {
    kiln(
        world,
        api,
        &[
            "verify",
            "--commit",
            &world.r2,
            "--env",
            "production",
            "--flux-kustomization",
            "flux-system/production",
            "--verify-timeout",
            timeout,
            "--on-timeout",
            on_timeout,
            "--act",
            "--source-branch",
            "source",
            "--target-branch",
            "rendered",
            "--main-branch",
            "main",
            "--author-name",
            "kiln",
            "--author-email",
            "kiln@example.com",
        ],
    )
}

/// A release whose deploy fails is reverted, its tag quarantined and not picked again; main stays.
#[test]
fn failed_deploy_is_reverted() {
    let w = world();
    let api = FakeApi::start(
        vec![
            vec![ks_ready(&w.r1), ks_progressing(&w.r1, &w.r2), ks_failed(&w.r1, &w.r2)],
            vec![web(T2, 2, 1, (3, 3, 3, 3), NEW_RS), web(T2, 2, 2, (3, 1, 3, 3), UPDATING)],
        ],
        Duration::from_millis(40),
    );
    let (ok, out) = verify(&w, &api, "20s", "fail");
    assert!(!ok, "{out}");
    assert!(
        out.contains("failure: Kustomization flux-system/production failed: HealthCheckFailed"),
        "{out}"
    );

    let repo = &w.repo;
    assert_eq!(repo.tip("main").unwrap(), w.c1, "main must not move");
    let revert = repo.tip("source").unwrap();
    assert_eq!(repo.git(&["rev-parse", &format!("{revert}^")]), w.c2);
    let message = repo.git(&["show", "-s", "--format=%B", &revert]);
    for line in [
        format!("Revert release {}: deploy failed", &w.c2[..12]),
        format!("Reverts-Commit: {}", w.c2),
        format!("Failed-Rendered-Commit: {}", w.r2),
        "Failed-Object: Kustomization/flux-system/production".to_string(),
        format!("Quarantined-Tag: {IMAGE}:{T2}"),
    ] {
        assert!(message.contains(&line), "missing {line:?} in\n{message}");
    }
    assert_eq!(
        repo.git(&["show", &format!("{revert}:apps/web/deployment.yaml")]),
        manifest(T1).trim_end()
    );
    let record =
        Quarantine::parse(&repo.git(&["show", &format!("{revert}:.kiln/quarantine.yaml")]))
            .unwrap();
    assert!(record.contains(T2) && !record.contains(T1), "{record:?}");
    // The target directory is the last good render again, made from the revert commit.
    assert_eq!(
        repo.git(&["rev-parse", "rendered:production"]),
        repo.git(&["rev-parse", &format!("{}:production", w.r1)])
    );
    let provenance = repo.git(&["show", "-s", "--format=%B", "rendered"]);
    assert!(provenance.contains(&format!("Source-Commit: {revert}")), "{provenance}");

    // The promoter's selection skips the quarantined tag until it is released.
    let policy: promoter::policy::Policy = "semver:>=1.0.0".parse().unwrap();
    assert_eq!(policy.select(&[T1, T2]).unwrap(), Some(T2));
    assert_eq!(policy.select(&record.exclude(&[T1, T2])).unwrap(), Some(T1));
    let (ok, out) = kiln(&w, &api, &["quarantine", "list", "--branch", "source"]);
    assert!(ok && out.contains(&format!("{IMAGE}:{T2}\t{}", w.c2)), "{out}");
    // kiln promote update does not pick the quarantined tag again... (The
    // work tree of `source` is brought up to the branch kiln moved.)
    repo.git(&["reset", "--quiet", "--hard"]);
    let update = [
        "promote",
        "update",
        "--branch",
        "source",
        "--policy",
        "latest-unique",
        "--tag",
        T1,
        "--tag",
        T2,
    ];
    let (ok, out) = kiln(&w, &api, &update);
    assert!(ok && out.contains("nothing to change"), "{out}");
    assert_eq!(repo.tip("source").unwrap(), revert);
    let (ok, out) = kiln(&w, &api, &["promote", "set", IMAGE, T2, "--branch", "source"]);
    assert!(!ok && out.contains("is quarantined"), "{out}");
    let (ok, out) = kiln(&w, &api, &["quarantine", "release", T2, "--branch", "source"]);
    assert!(ok, "{out}");
    // ...until it is released.
    let (ok, out) = kiln(&w, &api, &update);
    assert!(ok, "{out}");
    assert!(repo.git(&["show", "source:apps/web/deployment.yaml"]).contains(T2));
    let (ok, out) = kiln(&w, &api, &["quarantine", "list", "--branch", "source"]);
    assert!(ok && out.is_empty(), "{out}");
    let (ok, out) = kiln(&w, &api, &["quarantine", "release", T2, "--branch", "source"]);
    assert!(!ok && out.contains("is not quarantined"), "{out}");
}

/// A release whose deploy succeeds moves main to it.
#[test]
fn successful_deploy_moves_main() {
    let w = world();
    let api = FakeApi::start(
        vec![
            vec![ks_ready(&w.r1), ks_progressing(&w.r1, &w.r2), ks_ready(&w.r2)],
            vec![
                web(T2, 2, 1, (3, 3, 3, 3), NEW_RS),
                web(T2, 2, 2, (3, 1, 3, 3), UPDATING),
                web(T2, 2, 2, (3, 3, 3, 3), NEW_RS),
            ],
        ],
        Duration::from_millis(40),
    );
    let (ok, out) = verify(&w, &api, "20s", "fail");
    assert!(ok, "{out}");
    assert_eq!(w.repo.tip("main").unwrap(), w.c2);
    assert_eq!(w.repo.tip("source").unwrap(), w.c2);
    assert_eq!(w.repo.tip("rendered").unwrap(), w.r2);
}

/// A rollout that never finishes times out: a failure by default, nothing with `--on-timeout ignore`.
#[test]
fn timeout_as_configured() {
    for (policy, reverted) in [("fail", true), ("ignore", false)] {
        let w = world();
        let api = FakeApi::start(
            vec![vec![ks_ready(&w.r2)], vec![web(T2, 2, 2, (3, 1, 3, 3), UPDATING)]],
            Duration::from_millis(40),
        );
        let (ok, out) = verify(&w, &api, "1s", policy);
        assert!(!ok, "{policy}: {out}");
        assert!(
            out.contains(
                "timeout after 1s\n  pending: Deployment/apps/web: 1 of 3 replicas updated"
            ),
            "{out}"
        );
        assert_eq!(w.repo.tip("main").unwrap(), w.c1, "{policy}");
        let source = w.repo.tip("source").unwrap();
        assert_eq!(source != w.c2, reverted, "{policy}");
        if reverted {
            let message = w.repo.git(&["show", "-s", "--format=%B", &source]);
            assert!(message.contains("Failure-Reason: deploy not healthy after 1s"), "{message}");
        }
    }
}

/// `kiln revert` by hand on a source commit, with no production branch yet.
#[test]
fn revert_by_hand() {
    let w = world();
    w.repo.git(&["branch", "-D", "main"]);
    let api = FakeApi::start(vec![], Duration::from_millis(40));
    let (ok, out) = kiln(
        &w,
        &api,
        &[
            "revert",
            &w.c2,
            "--target-dir",
            "production",
            "--reason",
            "smoke test failed",
            "--failed-object",
            "Deployment/apps/web",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("no rendered tree succeeded before"), "{out}");
    let message = w.repo.git(&["show", "-s", "--format=%B", "source"]);
    assert!(
        message.contains("Failure-Reason: smoke test failed")
            && message.contains("Failed-Object: Deployment/apps/web"),
        "{message}"
    );
    assert_eq!(w.repo.git(&["show", "source:apps/web/deployment.yaml"]), manifest(T1).trim_end());
    assert_eq!(w.repo.tip("rendered").unwrap(), w.r2, "nothing to restore to");
}

/// A loopback HTTP server answering connection n with `answers[min(n, last)]`; records request lines.
fn scripted_http(
    answers: Vec<(u16, &'static str)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead as _, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            log.lock().unwrap().push(line.trim().to_string());
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let (status, body) = answers[n.min(answers.len() - 1)];
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, seen)
}

/// What a scripted server answers, connection by connection (`None`: no server).
type Answers = Option<Vec<(u16, &'static str)>>;

/// `--verify http`: a URL polled until it answers 2xx, an error status that persists, no server.
#[test]
fn http_check_verdicts() {
    use kiln::verify::http::verdict;
    let free =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let cases: Vec<(Answers, &str)> = vec![
        (Some(vec![(503, "starting"), (503, "starting"), (200, "ok")]), "success"),
        (Some(vec![(500, "database migration failed")]), "failure: GET http://"),
        (None, "timeout after 2s\n  pending: GET http://"),
    ];
    for (answers, want) in cases {
        let (addr, seen) = match answers {
            Some(answers) => {
                let (addr, seen) = scripted_http(answers);
                (addr, Some(seen))
            }
            None => (free.clone(), None),
        };
        let url = format!("http://{addr}/healthz?rev={{commit}}&env={{env}}");
        let got = verdict(&url, R2, "production", Duration::from_secs(2)).to_string();
        assert!(got.starts_with(want), "{want}: {got}");
        if want.starts_with("failure") {
            assert!(got.ends_with("answered HTTP 500: database migration failed"), "{got}");
        }
        if let Some(seen) = seen {
            let first = seen.lock().unwrap()[0].clone();
            assert_eq!(first, format!("GET /healthz?rev={R2}&env=production HTTP/1.1"));
        }
    }
}

/// `kiln verify --act` and `kiln revert` on a remote given by URL: the branches
/// are fetched, changed in a temporary copy and pushed back with leases.
#[test]
fn verify_and_revert_through_a_url() {
    let mut w = world();
    let bare = w.repo.bare_clone();
    w.repo_arg = format!("file://{}", bare.path().display());
    let api = FakeApi::start(
        vec![vec![ks_ready(&w.r1), ks_progressing(&w.r1, &w.r2), ks_failed(&w.r1, &w.r2)]],
        Duration::from_millis(40),
    );
    let (ok, out) = verify(&w, &api, "20s", "fail");
    assert!(!ok && out.contains("pushed rendered, source to file://"), "{out}");
    assert_eq!(bare.git(&["rev-parse", "main"]), w.c1, "main must not move");
    let revert = bare.git(&["rev-parse", "source"]);
    assert_eq!(bare.git(&["rev-parse", "source^"]), w.c2);
    assert!(bare.git(&["show", "source:.kiln/quarantine.yaml"]).contains(T2));
    assert_eq!(
        bare.git(&["rev-parse", "rendered:production"]),
        bare.git(&["rev-parse", &format!("{}:production", w.r1)])
    );
    // The local repository the remote came from is untouched.
    assert_eq!(w.repo.tip("source").unwrap(), w.c2);
    // A release that is production already is refused, and nothing is pushed.
    let (ok, out) = kiln(&w, &api, &["revert", &w.c1, "--target-dir", "production"]);
    assert!(!ok && out.contains("is production (main): refusing to revert it"), "{out}");
    assert_eq!(bare.git(&["rev-parse", "source"]), revert);
    // A revert by hand through the URL: committed in the copy and pushed.
    let args = ["revert", &revert, "--target-dir", "production", "--reason", "smoke test failed"];
    let (ok, out) = kiln(&w, &api, &args);
    assert!(ok && out.contains("pushed source"), "{out}");
    assert_eq!(bare.git(&["rev-parse", "source^"]), revert);
    let message = bare.git(&["log", "-1", "--format=%B", "source"]);
    assert!(message.contains("Failure-Reason: smoke test failed"), "{message}");
}
