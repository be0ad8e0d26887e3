//! Differential test of the Go-template engine against outputs recorded from Go's text/template.
//!
//! The cases live in `tests/gotmpl/cases/*.txt` (`sprig-*` run with Sprig's functions,
//! `helm-*` with Helm's, the others with Go's built-ins); `tests/gotmpl/record.py` records
//! what Go prints (or the error it reports) into `*.expected.json` next to them.
//! A case passes when the output is equal, or when both fail and the error
//! names the same `NAME:LINE[:COL]` location. Deliberate differences are listed
//! with their reason in `tests/gotmpl/known-differences.txt`. With
//! `KILN_GOTMPL_MESSAGES=1` the test also lists the cases where both fail but
//! the messages differ.
//!
//! `tests/gotmpl/fuzz.py` generates random templates from a seed and compares
//! kiln with the oracle live, through the ignored test `batch`; it is not part
//! of the default run, and what it finds is kept here as `*-fuzz-found` cases.

use std::collections::BTreeMap;
use std::path::Path;

use renderer::gotmpl::{Elem, Funcs, List, Options, Templates, Value, sprig};

struct Case {
    name: String,
    template: String,
    data: Option<serde_json::Value>,
}

/// Reads the case format of `record.py`: `=== NAME`, template lines, optional `--- data` JSON.
fn read_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut cur: Option<(String, Vec<&str>, Vec<&str>, bool)> = None;
    let flush = |cur: Option<(String, Vec<&str>, Vec<&str>, bool)>, cases: &mut Vec<Case>| {
        if let Some((name, t, d, _)) = cur {
            let data = d.join("\n");
            let data = data.trim();
            let data =
                if data.is_empty() { None } else { Some(serde_json::from_str(data).unwrap()) };
            cases.push(Case { name, template: t.join("\n"), data });
        }
    };
    for line in text.split('\n') {
        if let Some(name) = line.strip_prefix("=== ") {
            flush(cur.take(), &mut cases);
            cur = Some((name.trim().to_string(), Vec::new(), Vec::new(), false));
        } else if let Some((_, t, d, in_data)) = cur.as_mut() {
            if line == "--- data" {
                *in_data = true;
            } else if *in_data {
                d.push(line);
            } else {
                t.push(line);
            }
        }
    }
    flush(cur, &mut cases);
    cases
}

/// JSON data as Helm and the oracle see it: every number is a float64.
fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap()),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        // The oracle decodes data with encoding/json, which appends an
        // array's elements one by one: the capacity `slice` may reach.
        serde_json::Value::Array(a) => {
            Value::List(List::appended(Elem::Any, a.iter().map(to_value).collect()))
        }
        serde_json::Value::Object(o) => {
            Value::map(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect::<BTreeMap<_, _>>())
        }
    }
}

/// The `NAME:LINE` or `NAME:LINE:COL` an error message starts with.
fn location(err: &str) -> String {
    let rest = err.strip_prefix("template: ").unwrap_or(err);
    rest.split(": ").next().unwrap_or("").to_string()
}

fn run(template: &str, data: Value, funcs: &Funcs) -> Result<String, String> {
    let mut set = Templates::new();
    set.parse("t", template, funcs).map_err(|e| e.to_string())?;
    // The oracle answers in JSON, where Go's encoding/json writes each byte
    // that is not UTF-8 as U+FFFD.
    let lossy = |s: String| sprig::go_lossy(&sprig::go_bytes(&s));
    set.execute("t", data, funcs, &Options::default()).map(lossy).map_err(|e| lossy(e.to_string()))
}

fn known_differences(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("known-differences.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' ').map(|(k, v)| (k.to_string(), v.trim().to_string())))
        .collect()
}

#[test]
fn cases_match_go() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gotmpl");
    let known = known_differences(&dir);
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let plain = Funcs::new();
    let with_sprig = sprig::funcs();
    let with_helm = renderer::helm::helm_funcs();
    let (mut total, mut equal, mut errors, mut same_message) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut stale = Vec::new();
    let show_messages = std::env::var_os("KILN_GOTMPL_MESSAGES").is_some();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let funcs = if stem.starts_with("sprig-") {
            &with_sprig
        } else if stem.starts_with("helm-") {
            &with_helm
        } else {
            &plain
        };
        let expected_path = file.with_file_name(format!("{stem}.expected.json"));
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
        for case in read_cases(&std::fs::read_to_string(&file).unwrap()) {
            total += 1;
            let id = format!("{stem}/{}", case.name);
            let want = &expected[&case.name];
            assert!(!want.is_null(), "{id}: no recorded answer; run tests/gotmpl/record.py");
            let data = case.data.as_ref().map_or(Value::Missing, to_value);
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&case.template, data, funcs)
            }))
            .unwrap_or_else(|_| Err("PANIC".to_string()));
            let pass = match (&got, want["ok"].as_bool().unwrap()) {
                (Ok(out), true) => out == want["output"].as_str().unwrap(),
                (Err(e), false) => {
                    errors += 1;
                    let want_error = want["error"].as_str().unwrap();
                    same_message += usize::from(e == want_error);
                    if show_messages && e != want_error {
                        eprintln!("message differs: {id}\n   want: {want_error}\n   got:  {e}");
                    }
                    location(e) == location(want["error"].as_str().unwrap())
                }
                _ => false,
            };
            if pass {
                equal += 1;
                if known.contains_key(&id) {
                    stale.push(id);
                }
            } else if !known.contains_key(&id) {
                failures.push(format!(
                    "{id}\n   template: {:?}\n   want: {want}\n   got:  {got:?}",
                    case.template
                ));
            }
        }
    }
    eprintln!("gotmpl differential: {equal}/{total} cases equal to Go");
    eprintln!("  of the {errors} cases where both fail, {same_message} have Go's exact message");
    assert!(
        failures.is_empty(),
        "{} cases differ from Go:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(stale.is_empty(), "known differences that now pass: {stale:?}");
}

/// The message of a caught panic.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("PANIC: {text}")
}

/// Runs the jobs that `tests/gotmpl/fuzz.py` writes when `KILN_GOTMPL_BATCH` names
/// a file of them: one JSON job a line in the go-template oracle's batch format
/// (`{"template", "data", "sprig"}`; `sprig` runs with Sprig's functions and
/// Helm's `toYaml`, `fromYaml`, `toJson` and `fromJson`, as the oracle does).
/// One answer a line (`{"ok", "output"}` or
/// `{"ok": false, "error"}`) goes to the file `KILN_GOTMPL_BATCH_OUT`, written
/// as each job ends so that the driver can see a job that does not end.
#[test]
#[ignore = "run by tests/gotmpl/fuzz.py with a file of jobs"]
fn batch() {
    use std::io::Write;
    let (Some(input), Some(output)) =
        (std::env::var_os("KILN_GOTMPL_BATCH"), std::env::var_os("KILN_GOTMPL_BATCH_OUT"))
    else {
        panic!("set KILN_GOTMPL_BATCH and KILN_GOTMPL_BATCH_OUT");
    };
    let plain = Funcs::new();
    let helm = renderer::helm::helm_funcs();
    let mut with_sprig = sprig::funcs();
    for name in ["toYaml", "fromYaml", "toJson", "fromJson"] {
        with_sprig.insert(name, helm.get(name).unwrap().clone());
    }
    let mut out = std::fs::File::create(output).unwrap();
    std::panic::set_hook(Box::new(|_| {}));
    for line in std::fs::read_to_string(input).unwrap().lines().filter(|l| !l.trim().is_empty()) {
        let job: serde_json::Value = serde_json::from_str(line).unwrap();
        let funcs = if job["sprig"].as_bool().unwrap_or(true) { &with_sprig } else { &plain };
        let data = if job["data"].is_null() { Value::Missing } else { to_value(&job["data"]) };
        let template = job["template"].as_str().unwrap_or_default();
        let got =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(template, data, funcs)))
                .unwrap_or_else(|p| Err(panic_text(p.as_ref())));
        let answer = match got {
            Ok(s) => serde_json::json!({"ok": true, "output": s}),
            Err(e) => serde_json::json!({"ok": false, "error": e}),
        };
        writeln!(out, "{answer}").unwrap();
        out.flush().unwrap();
    }
}
