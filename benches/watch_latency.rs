//! Watcher latency: webhook to pushed rendered commit, and the cost of a cycle with nothing to do, on the example repo and a generated 1,000-unit repo.
//!
//! Run with `cargo bench --bench watch_latency`; `KILN_BENCH_ROUNDS` sets the
//! number of pushes per repository (default 10). Prints one line per
//! measurement: min, median and max in milliseconds.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac as _};
use kiln::daemon::metrics::Metrics;
use kiln::daemon::remote::Remote;
use kiln::daemon::sync::Source;
use kiln::daemon::watch::{BranchMap, Config, CycleOutcome, DEFAULT_MESSAGE, Watcher, render_flux};
use renderer::cache::UnitCache;
use renderer::tree::Tree;
use sha2::Sha256;

#[allow(dead_code)]
#[path = "../tests/util.rs"]
mod util;

use util::{TestRepo, copy_dir};

/// The file each round changes, and how.
struct Repo {
    name: &'static str,
    work: TestRepo,
    changed_file: String,
    original: String,
}

fn example() -> Repo {
    let work = TestRepo::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["clusters", "apps", "infrastructure"] {
        copy_dir(&root.join(dir), &work.path().join(dir));
    }
    let changed_file = "apps/base/user-roles/service.yaml".to_string();
    let original = std::fs::read_to_string(work.path().join(&changed_file)).unwrap();
    Repo { name: "example", work, changed_file, original }
}

/// One cluster with `units` Flux Kustomizations, each a Deployment and a Service.
fn generated(units: usize) -> Repo {
    let work = TestRepo::new();
    let mut flux = String::new();
    for n in 0..units {
        flux.push_str(&format!(
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: unit-{n}\n  namespace: flux-system\nspec:\n  interval: 5m\n  path: ./apps/unit-{n}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        ));
        work.write(
            &format!("apps/unit-{n}/kustomization.yaml"),
            &format!("namespace: team-{}\nresources:\n- deployment.yaml\n- service.yaml\n", n % 20),
        );
        work.write(
            &format!("apps/unit-{n}/deployment.yaml"),
            &format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: unit-{n}\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/acme/unit-{n}:v1\n"),
        );
        work.write(
            &format!("apps/unit-{n}/service.yaml"),
            &format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: unit-{n}\nspec:\n  ports:\n  - port: 80\n"),
        );
    }
    work.write("clusters/bench/units.yaml", &flux);
    let changed_file = "apps/unit-7/service.yaml".to_string();
    let original = std::fs::read_to_string(work.path().join(&changed_file)).unwrap();
    Repo { name: "generated-1000", work, changed_file, original }
}

fn http(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn summary(name: &str, what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:16} {what:34} n={:3} min {:8.1} ms  median {:8.1} ms  max {:8.1} ms",
        samples.len(),
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    );
}

/// User plus system CPU time of process `pid` so far (Linux `/proc`, 100 ticks a second).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn read_ref(remote: &Path) -> String {
    std::fs::read_to_string(remote.join("refs/heads/rendered")).unwrap_or_default()
}

fn bench(repo: &Repo, rounds: u32) {
    repo.work.commit_all("initial");
    repo.work.git(&["branch", "-M", "staging"]);
    let remote = repo.work.bare_clone();
    let remote_path = remote.path().to_str().unwrap().to_string();
    let home = tempfile::tempdir().unwrap();

    // The cost of a cycle with nothing to do, in process, after a first full render.
    let config = Config {
        source: Remote::new(remote_path.clone()),
        target: Remote::new(remote_path.clone()),
        branches: vec![BranchMap { source: "staging".into(), dir: "staging".into() }],
        target_branch: "rendered".into(),
        author: util::kiln_identity(),
        message: DEFAULT_MESSAGE.into(),
        allow_empty: false,
        adopt: false,
        push_attempts: 3,
        workdir: home.path().join("in-process"),
        outside: Vec::new(),
    };
    let render = Arc::new(
        |tree: &dyn Tree, cache: &dyn UnitCache, source: &Source, dir: &str, revisions| {
            let options = renderer::Options { revisions, ..Default::default() };
            render_flux(tree, cache, source, dir, &options)
        },
    );
    let mut watcher = Watcher::new(
        config,
        render,
        Arc::new(Metrics::default()),
        Arc::new(AtomicBool::new(false)),
    );
    let start = Instant::now();
    assert!(matches!(watcher.cycle(), Ok(CycleOutcome::Committed { .. })));
    summary(repo.name, "first cycle (full render + push)", vec![start.elapsed()]);
    let idle: Vec<Duration> = (0..30)
        .map(|_| {
            let start = Instant::now();
            assert!(matches!(watcher.cycle(), Ok(CycleOutcome::Unchanged)));
            start.elapsed()
        })
        .collect();
    summary(repo.name, "cycle with nothing changed", idle);

    // Webhook to pushed commit, with a real watcher process.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["watch", "--repo", &remote_path, "--branch", "staging=staging"])
        .args(["--target-branch", "rendered", "--interval", "1h", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--github-secret-env", "BENCH_SECRET", "--workdir"])
        .arg(home.path().join("process"))
        .env("BENCH_SECRET", "secret")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(ready.elapsed() < Duration::from_secs(30), "the watcher did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut samples = Vec::new();
    let mut cpu = Vec::new();
    for round in 1..=rounds {
        let contents = repo.original.replacen(
            "metadata:\n",
            &format!("metadata:\n  annotations:\n    bench/round: \"{round}\"\n"),
            1,
        );
        repo.work.write(&repo.changed_file, &contents);
        repo.work.commit_all(&format!("round {round}"));
        repo.work.git(&["push", "--quiet", &remote_path, "staging:staging"]);
        let before = read_ref(remote.path());
        let body = format!("{{\"ref\":\"refs/heads/staging\",\"round\":{round}}}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(body.as_bytes());
        let signature = format!(
            "sha256={}",
            mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let cpu_before = cpu_time(child.id());
        let start = Instant::now();
        let status = http(
            port,
            "/hooks/github",
            &[("X-Hub-Signature-256", &signature), ("X-GitHub-Event", "push")],
            body.as_bytes(),
        );
        assert_eq!(status, 202);
        while read_ref(remote.path()) == before {
            assert!(start.elapsed() < Duration::from_secs(120), "no commit after the webhook");
            std::thread::sleep(Duration::from_millis(1));
        }
        samples.push(start.elapsed());
        cpu.push(cpu_time(child.id()).saturating_sub(cpu_before));
    }
    summary(repo.name, "webhook -> rendered commit pushed", samples);
    summary(repo.name, "  watcher CPU for that (no git)", cpu);
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing. Only benchmark when asked.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rounds = std::env::var("KILN_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(10);
    bench(&example(), rounds);
    bench(&generated(1000), rounds);
}
