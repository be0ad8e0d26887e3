//! Differential tests of the YAML reader and emitter against `kubectl
//! kustomize` and Helm's `toYaml`.
//!
//! Each `tests/yaml/cases/NAME.yaml` was given to kustomize as the single
//! resource of a kustomization by `tests/yaml/record.sh`. Where kustomize
//! printed the object, `NAME.out` holds its bytes and kiln must print the same
//! bytes after `parse_documents` and `to_stream`. Where kustomize failed,
//! `NAME.err` holds its message: a YAML syntax or duplicate-key error must be
//! an error here too; any other rejection (JSON cannot carry infinities, Go's
//! YAML reader refuses some raw characters) must at least not panic.

use renderer::yaml::{Limits, parse_documents, parse_kustomize_stream, to_stream, validate};
use std::fs;
use std::path::{Path, PathBuf};

/// What kustomize did with one case.
enum Expected {
    Output(String),
    Error(String),
}

/// The files with extension `ext` in `tests/yaml/<folder>`, sorted.
fn inputs(folder: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml").join(folder);
    let mut found: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

fn cases() -> Vec<(PathBuf, Expected)> {
    inputs("cases", "yaml")
        .into_iter()
        .map(|input| {
            let out = input.with_extension("out");
            let err = input.with_extension("err");
            let expected = if out.exists() {
                Expected::Output(fs::read_to_string(out).expect("recorded output"))
            } else {
                Expected::Error(fs::read_to_string(&err).unwrap_or_else(|_| {
                    panic!("{} has no recording: run tests/yaml/record.sh", input.display())
                }))
            };
            (input, expected)
        })
        .collect()
}

/// The cases listed in `known-differences.txt`, which must still differ.
fn known_differences() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml/known-differences.txt");
    let text = fs::read_to_string(path).expect("known-differences.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Cases where both fail but kiln's message is not kustomize's, with the reason.
const MESSAGE_DIFFERENCES: &[(&str, &str)] = &[
    (
        "p-nonstrkeys",
        "kyaml reports a duplicate \"null\" key on a line past the end of the file; kiln the key that is not a string",
    ),
    (
        "p-emptykey-block",
        "yaml.v3 names the line where the block mapping starts, yaml.v2 (Helm) and kiln the line of the `:`",
    ),
];

/// Whether kustomize's message is a YAML reading error (as opposed to a
/// rejection after the YAML was read).
fn is_yaml_error(message: &str) -> bool {
    message.contains("MalformedYAMLError")
        || message.contains("already defined at line")
        || message.contains("invalid document separator")
        || message.contains("json: unsupported type")
}

/// Where two texts first differ, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  want {w:?}\n  got  {g:?}", i + 1);
        }
    }
    format!("lengths differ: want {} bytes, got {} bytes", want.len(), got.len())
}

#[test]
fn yaml_cases_match_kubectl_kustomize() {
    // Some cases nest 10,000 levels deep, which the checks walk recursively.
    renderer::stack::with_room(renderer::stack::ROOM, yaml_cases_match_kubectl_kustomize_here);
}

fn yaml_cases_match_kubectl_kustomize_here() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let known = known_differences();
    let mut failures = Vec::new();
    let mut known_seen = 0;
    for (input, expected) in &cases {
        let name = input.file_name().expect("file name").to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".yaml");
        let failures_before = failures.len();
        let bytes = fs::read(input).expect("case input");
        let text = String::from_utf8(bytes).expect("cases are UTF-8");
        let parsed = parse_kustomize_stream(&text, &name, Limits::default());
        match (expected, parsed) {
            (Expected::Output(want), Ok(docs)) => {
                let got = to_stream(&docs);
                if &got != want {
                    failures.push(format!("{name}: {}", first_difference(want, &got)));
                }
            }
            (Expected::Output(_), Err(e)) => {
                failures.push(format!("{name}: kustomize read it, kiln did not: {e}"))
            }
            (Expected::Error(message), Ok(docs)) => {
                // Emitting must not panic either.
                let _ = to_stream(&docs);
                if !is_yaml_error(message) && docs.iter().all(|d| validate(d).is_ok()) {
                    failures.push(format!(
                        "{name}: kustomize failed to print it, kiln's validate accepts it: {}",
                        message.trim()
                    ));
                }
                if is_yaml_error(message) {
                    failures.push(format!(
                        "{name}: kustomize failed to read it, kiln read it: {}",
                        message.trim()
                    ));
                }
            }
            (Expected::Error(message), Err(e)) => {
                if !is_yaml_error(message) {
                    failures.push(format!(
                        "{name}: kiln failed ({e}), kustomize read it: {}",
                        message.trim()
                    ));
                }
                // A syntax or duplicate-key error reads as yaml.v3 words it.
                let flat = message.replace('\t', "");
                let syntax = message.contains("MalformedYAMLError")
                    || message.contains("already defined at line");
                let excused = MESSAGE_DIFFERENCES.iter().any(|(case, _)| *case == stem);
                if syntax && !excused && !flat.contains(&e.go_message()) {
                    failures.push(format!(
                        "{name}: kiln's message {:?} is not yaml.v3's: {}",
                        e.go_message(),
                        message.trim()
                    ));
                }
            }
        }
        if known.iter().any(|k| k == stem) {
            known_seen += 1;
            if failures.len() == failures_before {
                failures.push(format!("{name}: now matches; remove it from known-differences.txt"));
            } else {
                failures.truncate(failures_before);
            }
        }
    }
    assert_eq!(known_seen, known.len(), "known-differences.txt names a case that does not exist");
    let total = cases.len();
    eprintln!(
        "yaml cases: {} of {total} match kubectl kustomize ({} known differences)",
        total - failures.len() - known.len(),
        known.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Helm's `toYaml` is `sigs.k8s.io/yaml.Marshal` without the final newline.
/// Each `tests/yaml/helm/NAME.json` holds data that `record_helm.sh` gave to
/// `{{ toYaml . }}` in the go-template oracle (Go text/template with Helm's
/// function); `NAME.out` is what it printed.
#[test]
fn helm_to_yaml_cases_match_the_oracle() {
    let inputs = inputs("helm", "json");
    assert!(inputs.len() >= 50, "only {} helm cases", inputs.len());
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().expect("file name").to_string_lossy().into_owned();
        let want = fs::read_to_string(input.with_extension("out"))
            .unwrap_or_else(|_| panic!("{name} has no recording: run tests/yaml/record_helm.sh"));
        let text = fs::read_to_string(input).expect("case input");
        // JSON is YAML; quoted strings and JSON numbers read the same in both.
        let data = match parse_documents(&text, &name) {
            Ok(mut docs) if docs.len() == 1 => docs.remove(0),
            other => {
                failures.push(format!("{name}: not one JSON document: {other:?}"));
                continue;
            }
        };
        let got = renderer::yaml::helm_to_yaml(&data);
        if got != want {
            failures.push(format!("{name}: {}", first_difference(&want, &got)));
        }
    }
    let total = inputs.len();
    eprintln!("helm toYaml cases: {} of {total} match", total - failures.len());
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The corpus with bytes inserted and cut at pseudo-random places: reading
/// and writing may fail but must not panic.
#[test]
fn mutated_cases_do_not_panic() {
    // Some cases nest 10,000 levels deep, which the checks walk recursively.
    renderer::stack::with_room(renderer::stack::ROOM, mutated_cases_do_not_panic_here);
}

fn mutated_cases_do_not_panic_here() {
    const INSERTS: &[&str] = &[
        "\t",
        ":",
        "\\'",
        "\\/",
        "\"",
        "'",
        "\n",
        "\r\n",
        "---",
        "\n--- x\n",
        "|",
        ">",
        "{",
        "[",
        "&a ",
        "*a",
        "!!binary ",
        "%YAML 1.1\n",
        "\u{85}",
        "\u{2028}",
        "\u{feff}",
        "é",
        "? ",
        "- ",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    for input in inputs("cases", "yaml") {
        let text = fs::read_to_string(&input).expect("case input");
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        for _ in 0..20 {
            let mut mutated = text.clone();
            mutated.insert_str(bounds[next() % bounds.len()], INSERTS[next() % INSERTS.len()]);
            if next() % 3 == 0 {
                let cut = bounds[next() % bounds.len()];
                if mutated.is_char_boundary(cut) {
                    mutated.truncate(cut);
                }
            }
            let read = [
                parse_documents(&mutated, "m.yaml"),
                parse_kustomize_stream(&mutated, "m.yaml", Limits::default()),
            ];
            for docs in read.into_iter().flatten() {
                let _ = to_stream(&docs);
            }
        }
    }
}
