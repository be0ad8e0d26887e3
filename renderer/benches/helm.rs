//! Benchmark: renders each real chart of `shared/charts` 100 times and prints the mean beside the helm-template oracle's.
//!
//! Run with `cargo bench -p renderer --bench helm`. `KILN_CHARTS` is the charts
//! directory (default `/work/shared/charts`), `KILN_BENCH_RUNS` the renders per
//! case (default 100), `HELM_TEMPLATE_ORACLE` the oracle (default
//! `/work/shared/oracles/helm-template`) and `KILN_BENCH_ORACLE_RUNS` its
//! renders per case in `--batch` mode (default 10; 0 leaves the column out).
//! `KILN_BENCH_CASES`, a comma-separated list of case names (`podinfo`,
//! `podinfo (full)`), runs only those (for a profiler).
//! The oracle's first job loads its library and is not timed.
//!
//! kiln's first render of each case is timed on its own (`first`): it is
//! what one `kiln helm template` run pays, where the later renders of the
//! same unchanged chart (the mean) are what the watcher pays when it renders
//! a release again, with the loaded chart and parsed templates kept.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use renderer::DirTree;
use renderer::helm::{Options, chart, template, values::merge_maps};

const CHARTS: [&str; 3] = ["podinfo", "bitnami-nginx", "ingress-nginx"];

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn options(dir: &Path, values: Option<&str>) -> Options {
    let mut map = renderer::Map::new();
    if let Some(f) = values {
        let bytes = std::fs::read(dir.join(f)).expect("values file");
        merge_maps(&mut map, chart::load_values(&bytes, f).expect("values YAML"));
    }
    Options {
        release: "rel".into(),
        namespace: "ns1".into(),
        values: map,
        kube_version: Some("1.31.0".into()),
        ..Options::default()
    }
}

/// The oracle's mean time per render of `job` over `runs` renders in one batch, after a warm-up.
fn oracle_mean(oracle: &str, job: &serde_json::Value, runs: usize) -> Option<Duration> {
    let mut child = Command::new(oracle)
        .arg("--batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let mut out = BufReader::new(child.stdout.take()?);
    let mut line = String::new();
    let mut one = |stdin: &mut std::process::ChildStdin, line: &mut String| -> Option<bool> {
        writeln!(stdin, "{job}").ok()?;
        stdin.flush().ok()?;
        line.clear();
        out.read_line(line).ok()?;
        let r: serde_json::Value = serde_json::from_str(line).ok()?;
        Some(r["ok"].as_bool() == Some(true))
    };
    let ok = one(&mut stdin, &mut line)?;
    let start = Instant::now();
    for _ in 0..runs {
        one(&mut stdin, &mut line)?;
    }
    let mean = start.elapsed() / runs as u32;
    drop(stdin);
    let _ = child.wait();
    ok.then_some(mean)
}

fn main() {
    let dir = PathBuf::from(env_or("KILN_CHARTS", "/work/shared/charts"));
    let runs: usize = env_or("KILN_BENCH_RUNS", "100").parse().expect("KILN_BENCH_RUNS");
    let oracle = env_or("HELM_TEMPLATE_ORACLE", "/work/shared/oracles/helm-template");
    let oracle_runs: usize =
        env_or("KILN_BENCH_ORACLE_RUNS", "10").parse().expect("KILN_BENCH_ORACLE_RUNS");
    let only = env_or("KILN_BENCH_CASES", "");
    let only: Vec<&str> = only.split(',').filter(|c| !c.is_empty()).collect();
    let tree = DirTree::new(&dir).expect("charts directory");
    println!(
        "{:<28} {:>14} {:>14} {:>16}",
        "case", "kiln first ms", "kiln ms/render", "oracle ms/render"
    );
    for name in CHARTS {
        let full = format!("values/{name}-full.yaml");
        for values in [None, Some(full.as_str())] {
            let case = format!("{name}{}", if values.is_some() { " (full)" } else { "" });
            if !only.is_empty() && !only.contains(&case.as_str()) {
                continue;
            }
            let opts = options(&dir, values);
            let start = Instant::now();
            if let Err(e) = template(&tree, name, &opts) {
                println!("{case:<28} error: {e}");
                continue;
            }
            let first = start.elapsed().as_secs_f64() * 1000.0;
            let start = Instant::now();
            for _ in 0..runs {
                std::hint::black_box(template(&tree, name, &opts).ok());
            }
            let kiln = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
            let job = serde_json::json!({
                "release": "rel", "namespace": "ns1", "kube_version": "1.31.0",
                "chart": dir.join(name).to_string_lossy(),
                "values": values.map(|v| vec![dir.join(v).to_string_lossy().into_owned()])
                    .unwrap_or_default(),
            });
            let theirs =
                if oracle_runs > 0 { oracle_mean(&oracle, &job, oracle_runs) } else { None };
            let theirs =
                theirs.map_or("-".to_string(), |d| format!("{:.2}", d.as_secs_f64() * 1000.0));
            println!("{case:<28} {first:>14.2} {kiln:>14.2} {theirs:>16}");
        }
    }
}
