//! Prints what kiln's kustomize engine builds for a directory: `kustomize_build DIR`.
//!
//! A small driver for comparing the engine with `kubectl kustomize DIR` on
//! trees kept outside the repository, without building the whole kiln binary.

use renderer::kustomize::{self, Options};
use renderer::{DirTree, Value, yaml};
use std::process::ExitCode;

fn run(dir: &str) -> Result<String, String> {
    let tree = DirTree::new(dir).map_err(|e| e.to_string())?;
    let objects = kustomize::build(&tree, "", &Options::default()).map_err(|e| format!("{e:#}"))?;
    let values: Vec<Value> = objects.into_iter().map(|r| r.value).collect();
    Ok(yaml::to_stream(&values))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        eprintln!("usage: kustomize_build DIR");
        return ExitCode::from(2);
    };
    match run(dir) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
