//! Conformance of the Helm engine with real Helm (`helm template`) over the recorded cases in `tests/helm/`.
//!
//! `tests/helm/cases.json` lists the cases (chart, release, namespace, values
//! files, `--set-json` values, kube and API versions); `tests/helm/record.py`
//! recorded what the helm-template oracle (real Helm v4 library) printed into
//! `tests/helm/expected/<case>.out`, or its error into `<case>.err`. Each case
//! renders with [`renderer::helm::template`]. The output must equal the
//! recording as YAML data, document by document, in order, with its
//! `# Source:` comment; bytes are compared too and reported. In cases marked
//! `random` (charts that call `randAlphaNum`, `genCA`, ...) two strings that
//! differ still match when they have the same shape (same length, or both PEM
//! or base64 of PEM). An error case passes when the engine fails too; its
//! message is compared and reported; in cases marked `exact_error` it must
//! equal Helm's (as a set of lines in cases also marked
//! `error_lines_as_set`, where Helm's order of the lines is random).
//!
//! `tests/helm/KNOWN_FAILURES` lists cases allowed to fail (name, then
//! reason); a listed case that passes fails the test. `KILN_CASE=substring`
//! runs only matching cases.

use renderer::helm::values::{SetKind, apply_set, merge_maps};
use renderer::helm::{Options, chart, template};
use renderer::{DirTree, Value, yaml};
use std::path::{Path, PathBuf};

fn helm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("helm")
}

/// One document of a `helm template` stream: its source and its data.
fn documents(stream: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for piece in stream.split("---\n# Source: ").skip(1) {
        let (source, body) = piece.split_once('\n').unwrap_or((piece, ""));
        let data = yaml::parse_documents(body, source)
            .ok()
            .and_then(|d| d.into_iter().find(|v| !v.is_null()))
            .unwrap_or(Value::String(body.trim().to_string()));
        out.push((source.to_string(), data));
    }
    out
}

/// Whether two random strings have the same shape.
fn same_shape(a: &str, b: &str) -> bool {
    let pem = |s: &str| s.contains("-----BEGIN") || s.starts_with("LS0tLS1CRUdJT");
    a.len() == b.len() || (pem(a) && pem(b) && a.len().abs_diff(b.len()) * 20 <= a.len())
}

fn equal(a: &Value, b: &Value, random: bool) -> bool {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w, random)))
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equal(v, w, random))
        }
        (Value::String(x), Value::String(y)) if random => x == y || same_shape(x, y),
        // A document may hold `.nan` where Helm reads no number (a hook's
        // name); the same text is the same data.
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

struct Case {
    name: String,
    random: bool,
    /// The error text must equal Helm's too, not only the failure.
    exact_error: bool,
    /// Error texts are compared as sets of lines.
    error_lines_as_set: bool,
    options: Options,
    chart: String,
}

fn load_cases() -> Vec<Case> {
    let dir = helm_dir();
    let text = std::fs::read_to_string(dir.join("cases.json")).expect("cases.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let mut cases = Vec::new();
    for c in json.as_array().expect("a list of cases") {
        let s = |k: &str, d: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or(d).to_string();
        let list = |k: &str| -> Vec<String> {
            c.get(k)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let mut values = renderer::Map::new();
        for f in list("values") {
            let bytes = std::fs::read(dir.join(&f)).expect("values file");
            merge_maps(&mut values, chart::load_values(&bytes, &f).expect("values YAML"));
        }
        for s in list("set_json") {
            apply_set(&mut values, &s, SetKind::Json).expect("--set-json");
        }
        cases.push(Case {
            name: s("name", ""),
            random: c.get("random").and_then(|v| v.as_bool()).unwrap_or(false),
            exact_error: c.get("exact_error").and_then(|v| v.as_bool()).unwrap_or(false),
            error_lines_as_set: c
                .get("error_lines_as_set")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            chart: s("chart", ""),
            options: Options {
                release: s("release", "rel"),
                namespace: s("namespace", "ns1"),
                values,
                kube_version: Some(s("kube_version", "1.31.0")),
                api_versions: list("api_versions"),
                ..Options::default()
            },
        });
    }
    cases
}

#[test]
fn helm_cases_match_real_helm() {
    // Some charts' values and output nest 10,000 levels deep, which the
    // comparison below walks recursively.
    renderer::stack::with_room(renderer::stack::ROOM, match_real_helm);
}

fn match_real_helm() {
    let dir = helm_dir();
    let tree = DirTree::new(&dir).expect("tests/helm");
    let known: Vec<String> = std::fs::read_to_string(dir.join("KNOWN_FAILURES"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let filter = std::env::var("KILN_CASE").unwrap_or_default();
    let (mut docs_total, mut docs_equal, mut cases_run, mut bytes_equal) = (0, 0, 0, 0);
    let (mut errors_total, mut errors_same_text) = (0, 0);
    let mut failures = Vec::new();
    for case in load_cases() {
        if !case.name.contains(&filter) {
            continue;
        }
        cases_run += 1;
        let got = template(&tree, &case.chart, &case.options);
        let expected_out =
            std::fs::read_to_string(dir.join("expected").join(format!("{}.out", case.name)));
        let ok = match (expected_out, got) {
            (Ok(want), Ok(got)) => {
                if want == got {
                    bytes_equal += 1;
                }
                let (w, g) = (documents(&want), documents(&got));
                docs_total += w.len();
                let same = w
                    .iter()
                    .zip(&g)
                    .filter(|((s1, v1), (s2, v2))| s1 == s2 && equal(v1, v2, case.random))
                    .count();
                docs_equal += same;
                if same == w.len() && w.len() == g.len() {
                    true
                } else {
                    let first = w
                        .iter()
                        .zip(&g)
                        .position(|(a, b)| a.0 != b.0 || !equal(&a.1, &b.1, case.random));
                    failures.push(format!(
                        "{}: {} of {} documents equal (kiln printed {}); first difference at document {:?}",
                        case.name, same, w.len(), g.len(), first
                    ));
                    false
                }
            }
            (Err(_), Err(e)) => {
                errors_total += 1;
                if std::env::var("KILN_SHOW_ERRORS").is_ok() {
                    eprintln!("{}: kiln: {e}", case.name);
                }
                let want = std::fs::read_to_string(
                    dir.join("expected").join(format!("{}.err", case.name)),
                )
                .unwrap_or_default();
                let want =
                    want.trim_end().trim_end_matches("Use --debug flag to render out invalid YAML");
                let lines = |t: &str| {
                    let mut l: Vec<String> = t.trim().lines().map(str::to_string).collect();
                    l.sort();
                    l
                };
                let got = e.to_string();
                let same = if case.error_lines_as_set {
                    lines(want) == lines(&got)
                } else {
                    want.trim() == got.trim()
                };
                if same {
                    errors_same_text += 1;
                    true
                } else if case.exact_error {
                    failures.push(format!(
                        "{}: error text differs\n--- helm\n{}\n--- kiln\n{}",
                        case.name,
                        want.trim(),
                        e.to_string().trim()
                    ));
                    false
                } else {
                    true
                }
            }
            (Ok(_), Err(e)) => {
                failures.push(format!("{}: kiln failed: {e}", case.name));
                false
            }
            (Err(_), Ok(_)) => {
                failures.push(format!("{}: Helm failed, kiln rendered", case.name));
                false
            }
        };
        if ok && known.contains(&case.name) {
            failures.push(format!("{}: passes but is listed in KNOWN_FAILURES", case.name));
        }
        if !ok && known.contains(&case.name) {
            failures.pop();
        }
    }
    eprintln!(
        "helm cases: {cases_run} run; documents equal as data {docs_equal}/{docs_total}; \
         output byte-equal in {bytes_equal} cases; error cases {errors_total} (same text {errors_same_text})"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
