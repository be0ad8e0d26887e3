//! Differential test of the patch functions against outputs recorded from `kubectl kustomize`.
//!
//! Each directory under `tests/patch-cases/` holds a kustomization, its
//! resources and patches, what `kubectl kustomize` printed for it
//! (`expected.yaml`, or `expected-error.txt` when it failed; recorded by
//! `record.sh`), and a `case.yaml` that lists the resource files and the
//! patches in the order kustomize applies them, so that this test can apply
//! them with the patch functions alone, without a kustomize pipeline:
//!
//! ```yaml
//! resources: [deploy.yaml]
//! patches:
//! - strategic: patch.yaml          # targets: objects with the patch's kind and name
//! - json6902: ops.yaml             # or strategic with a target
//!   target: {group: apps, kind: Deployment, name: app}
//! ```

use renderer::Value;
use renderer::kustomize::patch::{json6902, strategic_merge};
use renderer::resource::Gvk;
use renderer::yaml::parse_documents;
use std::path::{Path, PathBuf};

fn read_docs(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let docs = parse_documents(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    v.get_path(path).and_then(Value::as_str).unwrap_or("")
}

fn gvk(v: &Value) -> Gvk {
    Gvk::from_api_version(str_at(v, &["apiVersion"]), str_at(v, &["kind"]))
}

/// Whether `obj` is selected by `target` (exact group, version, kind, name, namespace where given).
fn selected(obj: &Value, target: &Value) -> bool {
    let g = gvk(obj);
    let checks: [(&str, &str); 5] = [
        ("group", &g.group),
        ("version", &g.version),
        ("kind", &g.kind),
        ("name", str_at(obj, &["metadata", "name"])),
        ("namespace", str_at(obj, &["metadata", "namespace"])),
    ];
    checks.iter().all(|(field, have)| match target.get_path(&[field]) {
        Some(Value::String(want)) => want == have,
        _ => true,
    })
}

/// Applies the case's patches the way kustomize's patch transformers do.
fn run_case(dir: &Path) -> Result<Vec<Value>, String> {
    let case = read_docs(&dir.join("case.yaml"))?.into_iter().next().ok_or("empty case.yaml")?;
    let files = |field: &str| -> Vec<String> {
        case.get_path(&[field])
            .and_then(Value::as_seq)
            .map(|s| s.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut objects = Vec::new();
    for file in files("resources") {
        objects.extend(read_docs(&dir.join(file))?);
    }
    let patches = case.get_path(&["patches"]).and_then(Value::as_seq).cloned().unwrap_or_default();
    for entry in &patches {
        let target = entry.get_path(&["target"]);
        if let Some(file) = entry.get_path(&["strategic"]).and_then(Value::as_str) {
            for patch in read_docs(&dir.join(file))? {
                let selector = match target {
                    Some(t) => t.clone(),
                    None => {
                        let g = gvk(&patch);
                        let mut m = renderer::Map::new();
                        m.insert("group".into(), g.group.into());
                        m.insert("kind".into(), g.kind.into());
                        m.insert("name".into(), str_at(&patch, &["metadata", "name"]).into());
                        Value::Map(m)
                    }
                };
                let mut matched = false;
                let mut next = Vec::new();
                for obj in objects {
                    if !selected(&obj, &selector) {
                        next.push(obj);
                        continue;
                    }
                    matched = true;
                    let (name, kind) = (
                        str_at(&obj, &["metadata", "name"]).to_string(),
                        str_at(&obj, &["kind"]).to_string(),
                    );
                    let namespace = obj.get_path(&["metadata", "namespace"]).cloned();
                    let merged = strategic_merge::apply(&obj, &patch, &gvk(&obj))
                        .map_err(|e| e.to_string())?;
                    // kustomize keeps the target's name, namespace and kind.
                    if let Some(mut m) = merged {
                        if let Some(Value::Map(meta)) = m.get_path_mut(&["metadata"]) {
                            meta.insert("name".into(), name.into());
                            match namespace {
                                Some(ns) => meta.insert("namespace".into(), ns),
                                None => meta.shift_remove("namespace"),
                            };
                        }
                        if let Value::Map(top) = &mut m {
                            top.insert("kind".into(), kind.into());
                        }
                        next.push(m);
                    }
                }
                objects = next;
                if !matched {
                    return Err(format!("patch {file} matches no object"));
                }
            }
        } else if let Some(file) = entry.get_path(&["json6902"]).and_then(Value::as_str) {
            let ops = read_docs(&dir.join(file))?.into_iter().next().unwrap_or(Value::Null);
            let target = target.ok_or("json6902 patch without target")?;
            let mut matched = false;
            for obj in objects.iter_mut().filter(|o| selected(o, target)) {
                matched = true;
                json6902::apply(obj, &ops, None).map_err(|e| e.to_string())?;
            }
            if !matched {
                return Err(format!("patch {file} matches no object"));
            }
        } else {
            return Err(format!("unknown patch entry in case.yaml: {entry:?}"));
        }
    }
    Ok(objects)
}

/// kustomize sorts its output by kind; compare as sets of objects keyed by
/// identity. kustomize also leaves out an empty top-level
/// `metadata.annotations` from every object it prints, patched or not: that is
/// the pipeline's business, done here so the patch functions can be compared.
fn sorted(mut objects: Vec<Value>) -> Vec<Value> {
    for obj in &mut objects {
        if let Some(Value::Map(meta)) = obj.get_path_mut(&["metadata"]) {
            if matches!(meta.get("annotations"), Some(Value::Map(m)) if m.is_empty()) {
                meta.shift_remove("annotations");
            }
        }
    }
    let key = |v: &Value| {
        (str_at(v, &["kind"]).to_string(), str_at(v, &["metadata", "name"]).to_string())
    };
    objects.sort_by_key(key);
    objects
}

/// The lines around the first place two texts differ.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let at = w.iter().zip(&g).position(|(a, b)| a != b).unwrap_or(w.len().min(g.len()));
    let around = |lines: &[&str]| lines[at.saturating_sub(4)..(at + 4).min(lines.len())].join("\n");
    format!("output differs at line {}\n--- want\n{}\n--- got\n{}", at + 1, around(&w), around(&g))
}

fn case_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/patch-cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/patch-cases exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("case.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn patch_cases_match_kubectl_kustomize() {
    let dirs = case_dirs();
    assert!(dirs.len() >= 40, "expected at least 40 cases, found {}", dirs.len());
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let got = run_case(dir);
        let expected_error = dir.join("expected-error.txt");
        let verdict = if expected_error.is_file() {
            match got {
                Err(_) => Ok(()),
                Ok(objects) => Err(format!(
                    "kustomize fails, we printed:\n{}",
                    renderer::yaml::to_stream(&objects)
                )),
            }
        } else {
            match (got, read_docs(&dir.join("expected.yaml"))) {
                (Err(e), _) => Err(format!("we fail: {e}")),
                (_, Err(e)) => Err(format!("cannot read expected output: {e}")),
                (Ok(got), Ok(want)) => {
                    let (got, want) = (sorted(got), sorted(want));
                    if got == want {
                        Ok(())
                    } else {
                        Err(first_difference(
                            &renderer::yaml::to_stream(&want),
                            &renderer::yaml::to_stream(&got),
                        ))
                    }
                }
            }
        };
        if let Err(why) = verdict {
            failures.push(format!("== {name}: {why}"));
        }
    }
    println!("patch cases: {} passed, {} failed", dirs.len() - failures.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from kubectl kustomize:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

/// Why the recording of one case no longer matches `kubectl kustomize`, if it does not.
fn stale_recording(dir: &Path) -> Option<String> {
    let name = dir.display().to_string();
    let out = std::process::Command::new("kubectl").arg("kustomize").arg(dir).output();
    let Ok(out) = out else { return Some(format!("{name}: kubectl does not run")) };
    let recorded_error = dir.join("expected-error.txt").is_file();
    if !out.status.success() {
        return (!recorded_error).then(|| format!("{name}: kubectl fails now"));
    }
    let live = parse_documents(&String::from_utf8_lossy(&out.stdout), &name);
    match (live, read_docs(&dir.join("expected.yaml"))) {
        (Ok(live), Ok(recorded)) if live == recorded => None,
        _ => Some(format!("{name}: recording differs from kubectl's output")),
    }
}

/// When `kubectl` is on PATH, the recordings must still be what it prints:
/// a newer kustomize or an edited case shows up here, and `record.sh` fixes it.
/// It takes most of a minute on a busy machine; `KILN_SKIP_LIVE=1` skips it.
#[test]
fn recordings_match_live_kubectl_kustomize() {
    if std::env::var_os("KILN_SKIP_LIVE").is_some_and(|v| v == "1") {
        println!("KILN_SKIP_LIVE=1: recordings not re-checked");
        return;
    }
    let probe = std::process::Command::new("kubectl").args(["version", "--client"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!("kubectl is not on PATH: recordings not re-checked");
        return;
    }
    // kubectl takes most of a second to start: four at a time.
    let dirs = case_dirs();
    let stale: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = dirs
            .chunks(dirs.len().div_ceil(4).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk.iter().filter_map(|d| stale_recording(d)).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("worker finishes")).collect()
    });
    assert!(stale.is_empty(), "stale recordings, run record.sh:\n{}", stale.join("\n"));
}
