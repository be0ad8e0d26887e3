//! Side-by-side benchmark: kiln against `kubectl kustomize` on generated
//! overlays, process to process, plus kiln in-process, with peak memory.
//!
//! Run with `cargo bench --bench render`. Sizes: `KILN_BENCH_SIZES=1,500,4000`
//! (resources in the base); kubectl is timed when it is on PATH.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Writes a base of `n` Deployments (with a Service and a ConfigMap for
/// every tenth) and an overlay with a prefix, labels, an image override, a
/// generator and up to 50 strategic-merge patches.
fn generate(root: &Path, n: usize) {
    let base = root.join("base");
    let overlay = root.join("overlay");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(overlay.join("patches")).unwrap();
    let mut objects = String::new();
    let mut count = 0;
    let mut i = 0;
    while count < n {
        objects.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels:\n    app: app-{i}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: app-{i}\n  template:\n    metadata:\n      labels:\n        app: app-{i}\n    spec:\n      containers:\n      - name: main\n        image: registry.example.com/app:v1.0.0\n        ports:\n        - containerPort: 8080\n        env:\n        - name: MODE\n          value: base\n        envFrom:\n        - configMapRef:\n            name: settings\n---\n"
        ));
        count += 1;
        if i % 10 == 0 && count < n {
            objects.push_str(&format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i}\nspec:\n  selector:\n    app: app-{i}\n  ports:\n  - port: 80\n    targetPort: 8080\n---\n"
            ));
            count += 1;
        }
        if i % 10 == 5 && count < n {
            objects.push_str(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-{i}\ndata:\n  key: value-{i}\n---\n"
            ));
            count += 1;
        }
        i += 1;
    }
    std::fs::write(base.join("objects.yaml"), objects).unwrap();
    std::fs::write(base.join("kustomization.yaml"), "resources:\n- objects.yaml\n").unwrap();
    let patches = i.min(50);
    let mut k = String::from(
        "resources:\n- ../base\nnamePrefix: prod-\nnamespace: production\nlabels:\n- pairs:\n    env: production\n  includeSelectors: true\nimages:\n- name: registry.example.com/app\n  newTag: v1.2.2.2022-01-15t161730814Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785\nconfigMapGenerator:\n- name: settings\n  literals:\n  - LOG_LEVEL=info\npatches:\n",
    );
    for p in 0..patches {
        let file = format!("patches/p{p}.yaml");
        std::fs::write(
            overlay.join(&file),
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{p}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: main\n        env:\n        - name: MODE\n          value: production\n"),
        )
        .unwrap();
        k.push_str(&format!("- path: {file}\n"));
    }
    std::fs::write(overlay.join("kustomization.yaml"), k).unwrap();
}

/// Runs a command to completion, returning its wall time and peak resident
/// memory (VmHWM, sampled from /proc by a second thread while it runs). The
/// time is taken when the process exits, not at the next memory sample, so
/// a run of a few milliseconds is not rounded up to the sampling period.
fn run(cmd: &mut Command) -> (Duration, u64, Vec<u8>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                    if let Some(kb) = status
                        .lines()
                        .find(|l| l.starts_with("VmHWM:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|v| v.parse::<u64>().ok())
                    {
                        peak = peak.max(kb);
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    child.wait().unwrap();
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    (elapsed, sampler.join().unwrap(), out)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let sizes: Vec<usize> = std::env::var("KILN_BENCH_SIZES")
        .unwrap_or_else(|_| "1,500,4000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let kubectl = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    let kiln = env!("CARGO_BIN_EXE_kiln");
    println!(
        "{:>6} {:>12} {:>12} {:>12} {:>9} {:>10} {:>10}",
        "objs", "kiln-lib", "kiln-proc", "kubectl", "ratio", "kiln-MiB", "kubectl-MiB"
    );
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), n);
        let overlay = dir.path().join("overlay");
        // In process.
        let tree = renderer::DirTree::new(dir.path()).unwrap();
        let runs = if n <= 100 { 200 } else { 10 };
        let mut lib = Vec::new();
        let mut objects = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let out = renderer::kustomize::build(&tree, "overlay", &Default::default()).unwrap();
            let text = renderer::yaml::to_stream(out.iter().map(|r| &r.value));
            lib.push(t.elapsed());
            objects = out.len();
            std::hint::black_box(text);
        }
        // Process to process.
        let proc_runs = if n <= 100 { 30 } else { 5 };
        let mut procs = Vec::new();
        let mut kiln_peak = 0;
        let mut kiln_out = Vec::new();
        for _ in 0..proc_runs {
            let (t, peak, out) = run(Command::new(kiln).arg("render").arg(&overlay));
            procs.push(t);
            kiln_peak = kiln_peak.max(peak);
            kiln_out = out;
        }
        let (kube_time, kube_peak, same) = if kubectl {
            let kube_runs = if n <= 100 { 10 } else { 1 };
            let mut times = Vec::new();
            let mut peak = 0;
            let mut out = Vec::new();
            for _ in 0..kube_runs {
                let (t, p, o) = run(Command::new("kubectl").arg("kustomize").arg(&overlay));
                times.push(t);
                peak = peak.max(p);
                out = o;
            }
            (Some(median(times)), peak, out == kiln_out)
        } else {
            (None, 0, true)
        };
        let kiln_proc = median(procs);
        println!(
            "{:>6} {:>12.3?} {:>12.3?} {:>12} {:>9} {:>10.1} {:>10}{}",
            objects,
            median(lib),
            kiln_proc,
            kube_time.map_or("-".into(), |t| format!("{t:.3?}")),
            kube_time.map_or("-".into(), |t| format!(
                "{:.1}x",
                t.as_secs_f64() / kiln_proc.as_secs_f64()
            )),
            kiln_peak as f64 / 1024.0,
            if kubectl { format!("{:.1}", kube_peak as f64 / 1024.0) } else { "-".into() },
            if same { "" } else { "  (outputs differ!)" },
        );
    }
}
