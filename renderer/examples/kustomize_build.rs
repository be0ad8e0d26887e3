//! Prints what kiln's kustomize engine builds for a directory: `kustomize_build DIR`.
//!
//! A small driver for comparing the engine with `kubectl kustomize` on
//! trees kept outside the repository, without building the whole kiln binary.

use renderer::kustomize::{self, Options};
use renderer::{DirTree, yaml};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: kustomize_build DIR");
        return ExitCode::from(2);
    };
    let tree = match DirTree::new(&dir) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{dir}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match kustomize::build(&tree, "", &Options::default()) {
        Ok(resources) => {
            print!("{}", yaml::to_stream(resources.iter().map(|r| &r.value)));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
