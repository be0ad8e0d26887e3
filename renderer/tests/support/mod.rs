//! Helpers shared by the differential tests that re-run `kubectl kustomize` live.

use std::path::{Path, PathBuf};

use renderer::{Value, yaml};

/// Compares a live `kubectl kustomize` run (when kubectl is on PATH) with the
/// committed recording, counting the runs made.
pub fn check_live(now: Option<Vec<Value>>, want: &[Value], case: &Path, live_runs: &mut usize) {
    if let Some(now) = now {
        *live_runs += 1;
        assert_eq!(
            yaml::to_stream(now.iter()),
            yaml::to_stream(want.iter()),
            "{}: recording is stale",
            case.display()
        );
    }
}

/// The case directories under `root`, sorted; at least `min` of them.
pub fn case_dirs(root: &Path, min: usize) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= min, "{}: cases missing", root.display());
    cases
}
