//! Prints what kiln's Helm engine renders for a chart: `helm_template RELEASE CHART [-f FILE]... [-n NS] [--kube-version V] [--set-json K=JSON]...`.
//!
//! A small driver for comparing the engine with real Helm on charts kept
//! outside the repository, without building the whole kiln binary.

use renderer::helm::values::{SetKind, apply_set, merge_maps};
use renderer::helm::{Options, chart, template};
use renderer::{DirTree, Map};
use std::path::Path;
use std::process::ExitCode;

fn run(args: &[String]) -> Result<String, String> {
    let mut positional = Vec::new();
    let mut options = Options::default();
    let mut values = Map::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut next = |flag: &str| it.next().cloned().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "-f" | "--values" => {
                let file = next(arg)?;
                let bytes = std::fs::read(&file).map_err(|e| format!("{file}: {e}"))?;
                let map = chart::load_values(&bytes, &file)
                    .map_err(|e| format!("failed to parse {file}: {e}"))?;
                merge_maps(&mut values, map);
            }
            "-n" | "--namespace" => options.namespace = next(arg)?,
            "--kube-version" => options.kube_version = Some(next(arg)?),
            "-a" | "--api-versions" => options.api_versions.push(next(arg)?),
            "--set-json" => {
                apply_set(&mut values, &next(arg)?, SetKind::Json).map_err(|e| e.to_string())?
            }
            "--include-crds" => options.include_crds = true,
            "--skip-tests" => options.skip_tests = true,
            _ => positional.push(arg.clone()),
        }
    }
    let [release, chart_dir] = positional.as_slice() else {
        return Err(
            "usage: helm_template RELEASE CHART [-f FILE]... [-n NS] [--kube-version V]".into()
        );
    };
    options.release = release.clone();
    options.values = values;
    let path = Path::new(chart_dir);
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).ok_or("bad chart path")?;
    let tree = DirTree::new(parent).map_err(|e| e.to_string())?;
    template(&tree, name, &options).map_err(|e| format!("Error: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
