//! Prints what kiln's kustomize engine builds for a directory: `kustomize_build [--load-restrictor R] [--root ROOT] DIR`.
//!
//! A small driver for comparing the engine with `kubectl kustomize DIR` on
//! trees kept outside the repository, without building the whole kiln binary.
//! A failure prints the error with its sources, joined by `: ` as kubectl
//! prints its wrapped errors. With `--root`, the tree is ROOT and DIR a
//! path inside it, so a kustomization may reach files beside its directory
//! (as `--load-restrictor LoadRestrictionsNone` allows).

use renderer::kustomize::{self, LoadRestrictor, Options};
use renderer::{DirTree, Value, yaml};
use std::process::ExitCode;

/// The error and its sources, joined with `: `.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn run(root: &str, dir: &str, options: &Options) -> Result<String, String> {
    let tree = DirTree::new(root).map_err(|e| chain(&e))?;
    let objects = kustomize::build(&tree, dir, options).map_err(|e| chain(&e))?;
    let values: Vec<Value> = objects.into_iter().map(|r| r.value).collect();
    Ok(yaml::to_stream(&values))
}

const USAGE: &str =
    "usage: kustomize_build [--load-restrictor LoadRestrictionsNone] [--root ROOT] DIR";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut options = Options::default();
    let mut root = None;
    let mut dir = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--load-restrictor" => {
                options.load_restrictor = match args.next().as_deref() {
                    Some("LoadRestrictionsNone") => LoadRestrictor::None,
                    Some("LoadRestrictionsRootOnly") => LoadRestrictor::RootOnly,
                    _ => {
                        eprintln!("{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--root" => root = args.next(),
            _ if dir.is_none() => dir = Some(arg),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (root, dir) = match root {
        Some(root) => (root, dir),
        None => (dir, String::new()),
    };
    match run(&root, &dir, &options) {
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
