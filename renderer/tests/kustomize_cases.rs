//! Conformance of the kustomize engine with `kubectl kustomize` over the recorded corpus in `tests/cases/`.
//!
//! Each directory under `tests/cases/` holds a kustomization and either
//! `expected.yaml` (what `kubectl kustomize` printed) or `expected-error.txt`
//! (kubectl failed), both recorded by `tests/record-cases.sh`. Every case is
//! built with [`renderer::kustomize::build`]; the output must equal the
//! recording as YAML data, document by document, in order, and is also
//! compared byte for byte (measured, not required). An error case passes when
//! the engine fails too and kubectl's message, normalised (see
//! [`normalise_kubectl`]), stands whole in the engine's message (equal, or
//! with the file and line the engine adds); `ERROR_TEXT_INFEASIBLE` lists
//! the few messages no other program can reproduce. The figures of exact,
//! contained and other messages are printed. All cases run; the failures are
//! printed as a table.
//!
//! A case with a `build-dir` file builds the subdirectory it names (one
//! line, relative to the case), so a kustomization can have bases beside it.
//!
//! `tests/cases/KNOWN_FAILURES` lists cases allowed to fail, one a line:
//! the case name, then the reason. A listed case that passes fails the test,
//! so the list stays true. A reason starting `error text:` excuses only a
//! message that differs: the engine must still fail there.
//!
//! Environment: `KILN_CASE=substring` runs only the matching cases;
//! `KILN_SHOW_ERRORS=1` prints the engine's message next to kubectl's
//! (normalised) for every error case whose message is not the same. When `kubectl` is on PATH the test re-runs it on every
//! case through the record script and fails on stale recordings;
//! `KILN_LIVE_KUSTOMIZE=0` skips that, `=1` demands it.

use renderer::kustomize::{self, Options};
use renderer::{DirTree, Value, yaml};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

const EXPECTED: &str = "expected.yaml";
const EXPECTED_ERROR: &str = "expected-error.txt";
const KNOWN_FAILURES: &str = "KNOWN_FAILURES";
/// A case file naming the subdirectory to build instead of the case itself.
const BUILD_DIR: &str = "build-dir";
/// How much of a value or line a diff shows.
const SNIPPET: usize = 160;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("cases")
}

/// What kubectl did with a case.
enum Expected {
    /// It printed this stream.
    Output(String),
    /// It failed with this message.
    Error(String),
}

/// What the engine did, judged against the recording.
enum Outcome {
    /// Equal as data and as bytes.
    ByteEqual,
    /// Equal as data; the bytes differ as described.
    DataEqual { byte_diff: String },
    /// The data differs as described.
    DataDiffers { diff: String },
    /// kubectl failed and so did the engine, with this message.
    ErrorMatched { engine: String },
    /// Both failed, but kubectl's normalised message is not in the engine's.
    ErrorDiffers { kubectl: String, engine: String },
    /// kubectl built the case; the engine failed.
    UnexpectedError { engine: String },
    /// kubectl failed; the engine built something.
    MissingError { kubectl: String, documents: usize },
    /// The engine panicked.
    Panicked { message: String },
    /// The case has no usable recording.
    BadCase { problem: String },
}

impl Outcome {
    fn passes(&self) -> bool {
        matches!(
            self,
            Outcome::ByteEqual | Outcome::DataEqual { .. } | Outcome::ErrorMatched { .. }
        )
    }

    fn label(&self) -> &'static str {
        match self {
            Outcome::ByteEqual => "byte-equal",
            Outcome::DataEqual { .. } => "data-equal",
            Outcome::DataDiffers { .. } => "data differs",
            Outcome::ErrorMatched { .. } => "error matched",
            Outcome::ErrorDiffers { .. } => "error differs",
            Outcome::UnexpectedError { .. } => "engine failed",
            Outcome::MissingError { .. } => "engine did not fail",
            Outcome::Panicked { .. } => "engine panicked",
            Outcome::BadCase { .. } => "bad case",
        }
    }

    /// The engine's message, when both kubectl and the engine failed.
    fn engine_error(&self) -> Option<&str> {
        match self {
            Outcome::ErrorMatched { engine } | Outcome::ErrorDiffers { engine, .. } => Some(engine),
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            Outcome::ByteEqual | Outcome::ErrorMatched { .. } => String::new(),
            Outcome::DataEqual { byte_diff } => byte_diff.clone(),
            Outcome::DataDiffers { diff } => diff.clone(),
            Outcome::UnexpectedError { engine } => format!("engine: {engine}"),
            Outcome::ErrorDiffers { kubectl, engine } => {
                format!("engine: {}; kubectl: {}", clip(engine), clip(kubectl))
            }
            Outcome::MissingError { kubectl, documents } => {
                format!("engine built {documents} documents; kubectl: {}", clip(kubectl))
            }
            Outcome::Panicked { message } => format!("panic: {message}"),
            Outcome::BadCase { problem } => problem.clone(),
        }
    }
}

struct Case {
    name: String,
    dir: PathBuf,
}

fn list_cases(root: &Path, filter: Option<&str>) -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.expect("readable cases directory").path())
        .filter(|p| p.is_dir())
        .map(|dir| Case { name: dir.file_name().unwrap().to_string_lossy().into_owned(), dir })
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The known failures: case name to reason.
fn known_failures(root: &Path) -> BTreeMap<String, String> {
    let path = root.join(KNOWN_FAILURES);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((name, reason)) => (name.to_string(), reason.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

fn read_expected(dir: &Path) -> Result<Expected, String> {
    let output = std::fs::read_to_string(dir.join(EXPECTED)).ok();
    let error = std::fs::read_to_string(dir.join(EXPECTED_ERROR)).ok();
    match (output, error) {
        (Some(out), None) => Ok(Expected::Output(out)),
        (None, Some(err)) => Ok(Expected::Error(err.trim_end().to_string())),
        (Some(_), Some(_)) => {
            Err(format!("both {EXPECTED} and {EXPECTED_ERROR}: re-record the case"))
        }
        (None, None) => {
            Err(format!("no {EXPECTED} or {EXPECTED_ERROR}: run tests/record-cases.sh"))
        }
    }
}

/// The error and its sources, joined with `: `.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let _ = write!(s, ": {inner}");
        source = inner.source();
    }
    s
}

fn clip(s: &str) -> String {
    let one_line = s.replace('\n', "⏎");
    if one_line.chars().count() <= SNIPPET {
        one_line
    } else {
        let cut: String = one_line.chars().take(SNIPPET).collect();
        format!("{cut}…")
    }
}

/// The directory of a case to build, relative to the case: the case itself,
/// or the one its `build-dir` file names (a kustomization beside its bases,
/// as `overlay/` next to `base/`).
fn build_dir(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(BUILD_DIR))
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// `dir` below the case directory `case` (relative to the corpus root).
fn join_dir(case: &str, dir: &str) -> String {
    if dir.is_empty() { case.to_string() } else { format!("{case}/{dir}") }
}

/// Builds the case: the emitted stream, or the error message.
fn build(dir: &Path) -> Result<Result<String, String>, String> {
    build_in(dir, &build_dir(dir))
}

/// Builds the kustomization at `dir` of the tree rooted at `root`: the
/// emitted stream, or the error message; `Err` when the engine panicked.
fn build_in(root: &Path, dir: &str) -> Result<Result<String, String>, String> {
    let tree = DirTree::new(root).map_err(|e| e.to_string())?;
    let run = catch_unwind(AssertUnwindSafe(|| kustomize::build(&tree, dir, &Options::default())));
    match run {
        Ok(Ok(resources)) => Ok(Ok(yaml::to_stream(resources.iter().map(|r| &r.value)))),
        Ok(Err(e)) => Ok(Err(chain(&e))),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic payload".into())),
    }
}

/// Error cases whose kubectl message no other program can reproduce: the
/// engine must fail there too, but its message is not compared. A listed
/// case whose message matches fails the test, so the list stays true.
const ERROR_TEXT_INFEASIBLE: &[(&str, &str)] = &[
    // kubectl's message is its failed network fetch: the resolver's address,
    // the path of the git binary and git's own words. kiln fetches nothing.
    ("319-error-remote-resource", "remote fetch"),
    // kubectl printed the bad byte as `\xff` in its klog line and the
    // record script's unescaping made that `xff`: the recording is not
    // kustomize's text (the engine prints the line's text lossily).
    ("1310-error-generator-env-invalid-utf8", "recording unescaped a byte"),
    // A deliberate difference (README, Fidelity): kiln renders `helmCharts`
    // with its own Helm engine, where kubectl without `--enable-helm`
    // refuses them; the chart is not vendored, so kiln says so instead.
    ("244-error-helmcharts-without-enable-helm", "helmCharts need no flag"),
    // The helmCharts corpus: kubectl's message is the helm command's failure,
    // with the command line, the helm binary's name and kustomize's
    // temporary directories; kiln runs no helm command.
    ("18-release-name-invalid", "helm command line"),
    // The recording holds the absolute path of the checkout it was recorded
    // in (the file is outside the case, where the record script's `<case>`
    // does not reach).
    ("19-values-outside-root", "recording holds a checkout path"),
];

/// A recorded kubectl message made comparable with the engine's:
/// - without kubectl's `error: ` prefix;
/// - the case directory (`<case>`, the root of the tree the engine builds)
///   turned into the relative paths the engine names files by: `<case>/x`
///   is `x`, `<case>` alone is `.`;
/// - without the Go pointer kustomize prints for a generator
///   (`merging from generator &{0xADDR <nil>}: ...`): a heap address of the
///   kubectl process (masked when recorded), which no other program can
///   print, so `merging from generator: ...` is compared.
/// - cut before the first line that still holds a heap address: Go's `%#v`
///   dumps of kustomize's internal structs (`&resource.Resource{...
///   (*yaml.Node)(0xADDR)...}`), which follow its own words.
///
/// Nothing else changes, so every other difference in wording shows.
fn normalise_kubectl(message: &str) -> String {
    let message = message.trim_end();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let mut out = message.replace("<case>/", "").replace("<case>", ".");
    while let Some(at) = out.find(" &{0xADDR") {
        let Some(len) = out[at..].find('}') else { break };
        out.replace_range(at..=at + len, "");
    }
    if let Some(at) = out.find("0xADDR") {
        let line_start = out[..at].rfind('\n').map_or(0, |i| i + 1);
        out.truncate(line_start);
        out.truncate(out.trim_end().len());
    }
    out
}

/// How closely the engine's message follows kubectl's normalised one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fidelity {
    /// The same text.
    Exact,
    /// kubectl's text stands whole inside the engine's (which adds the file
    /// or line it knows).
    Contained,
    /// Worded otherwise.
    Other,
}

fn error_fidelity(kubectl: &str, engine: &str) -> Fidelity {
    let (want, got) = (normalise_kubectl(kubectl), engine.trim_end());
    if got == want {
        Fidelity::Exact
    } else if got.contains(want.as_str()) {
        Fidelity::Contained
    } else {
        Fidelity::Other
    }
}

fn judge(case: &Case) -> Outcome {
    let expected = match read_expected(&case.dir) {
        Ok(e) => e,
        Err(problem) => return Outcome::BadCase { problem },
    };
    let built = match build(&case.dir) {
        Ok(b) => b,
        Err(message) => return Outcome::Panicked { message },
    };
    match (expected, built) {
        // Strict: kubectl's message (normalised) must stand whole in the
        // engine's, which may only add the file and line it knows.
        (Expected::Error(kubectl), Err(engine)) => {
            let infeasible = ERROR_TEXT_INFEASIBLE.iter().any(|(name, _)| *name == case.name);
            match (error_fidelity(&kubectl, &engine), infeasible) {
                (Fidelity::Other, true) => Outcome::ErrorMatched { engine },
                (Fidelity::Other, false) => Outcome::ErrorDiffers { kubectl, engine },
                (_, true) => Outcome::BadCase {
                    problem: "the message matches now: remove the case from ERROR_TEXT_INFEASIBLE"
                        .into(),
                },
                (_, false) => Outcome::ErrorMatched { engine },
            }
        }
        (Expected::Error(kubectl), Ok(actual)) => {
            let documents = yaml::parse_documents(&actual, "engine output").map_or(0, |d| d.len());
            Outcome::MissingError { kubectl, documents }
        }
        (Expected::Output(_), Err(engine)) => Outcome::UnexpectedError { engine },
        (Expected::Output(expected), Ok(actual)) => compare_output(&expected, &actual),
    }
}

fn compare_output(expected: &str, actual: &str) -> Outcome {
    let want = match yaml::parse_documents(expected, EXPECTED) {
        Ok(docs) => docs,
        Err(e) => return Outcome::BadCase { problem: format!("recording does not parse: {e}") },
    };
    let got = match yaml::parse_documents(actual, "engine output") {
        Ok(docs) => docs,
        Err(e) => {
            return Outcome::DataDiffers { diff: format!("engine output does not parse: {e}") };
        }
    };
    if let Some(diff) = data_difference(&want, &got) {
        return Outcome::DataDiffers { diff };
    }
    match line_difference(expected, actual) {
        None => Outcome::ByteEqual,
        Some(byte_diff) => Outcome::DataEqual { byte_diff },
    }
}

/// `kind/name` of a document, for messages.
fn doc_id(doc: &Value) -> String {
    let field =
        |path: &[&str]| doc.get_path(path).and_then(Value::as_str).unwrap_or("?").to_string();
    format!("{}/{}", field(&["kind"]), field(&["metadata", "name"]))
}

/// Where two streams of documents first differ as data, if they do.
fn data_difference(want: &[Value], got: &[Value]) -> Option<String> {
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        if let Some(d) = value_difference(w, g, String::new()) {
            return Some(format!("document {i} ({}): {d}", doc_id(w)));
        }
    }
    if want.len() != got.len() {
        let ids = |docs: &[Value]| docs.iter().map(doc_id).collect::<Vec<_>>().join(", ");
        let (extra, which) = if want.len() > got.len() {
            (&want[got.len()..], "missing")
        } else {
            (&got[want.len()..], "extra")
        };
        return Some(format!(
            "expected {} documents, got {}; {which}: {}",
            want.len(),
            got.len(),
            clip(&ids(extra))
        ));
    }
    None
}

fn show(v: &Value) -> String {
    clip(yaml::to_string(v).trim_end())
}

/// The first path at which two values differ, with both sides.
fn value_difference(want: &Value, got: &Value, path: String) -> Option<String> {
    match (want, got) {
        (Value::Map(w), Value::Map(g)) => {
            for (k, wv) in w {
                let here = format!("{path}.{k}");
                match g.get(k) {
                    Some(gv) => {
                        if let Some(d) = value_difference(wv, gv, here) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{here}: missing, expected {}", show(wv))),
                }
            }
            g.keys()
                .find(|k| !w.contains_key(*k))
                .map(|k| format!("{path}.{k}: unexpected {}", show(&g[k])))
        }
        (Value::Seq(w), Value::Seq(g)) => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                if let Some(d) = value_difference(wv, gv, format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (w.len() != g.len())
                .then(|| format!("{path}: expected {} items, got {}", w.len(), g.len()))
        }
        _ if want == got => None,
        _ => Some(format!("{path}: expected {}, got {}", show(want), show(got))),
    }
}

/// The first line at which two texts differ, with a line of context.
fn line_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let at = w.iter().zip(&g).position(|(a, b)| a != b).unwrap_or(w.len().min(g.len()));
    if at == w.len() && at == g.len() {
        return Some("texts differ only in the final newline".into());
    }
    let line = |lines: &[&str], i: usize| lines.get(i).map_or("<end>".to_string(), |l| clip(l));
    Some(format!("line {}: expected `{}`, got `{}`", at + 1, line(&w, at), line(&g, at)))
}

/// Re-runs kubectl through the record script into a scratch directory and
/// returns the cases whose recordings differ from what kubectl prints now.
fn stale_recordings(cases: &[Case], corpus: &Corpus) -> Result<Vec<String>, String> {
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("record-cases.sh");
    let status = Command::new("bash")
        .arg(&script)
        .env("KUSTOMIZE_FLAGS", &corpus.flags)
        .envs(corpus.path.iter().map(|p| ("PATH", p)))
        .arg("--out")
        .arg(scratch.path())
        .args(cases.iter().map(|c| &c.dir))
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", script.display()));
    }
    let mut stale = Vec::new();
    for case in cases {
        let fresh = scratch.path().join(&case.name);
        let same = [EXPECTED, EXPECTED_ERROR].iter().all(|file| {
            std::fs::read(case.dir.join(file)).ok() == std::fs::read(fresh.join(file)).ok()
        });
        if !same {
            stale.push(case.name.clone());
        }
    }
    Ok(stale)
}

fn kubectl_on_path() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A corpus of recorded cases and how kubectl re-runs it live.
struct Corpus {
    /// The directory of case directories (and its KNOWN_FAILURES).
    root: PathBuf,
    /// Extra `kubectl kustomize` flags for the live re-run.
    flags: String,
    /// PATH for the live re-run, when it needs more than the test's own.
    path: Option<String>,
    /// Whether to re-run kubectl live when it is on PATH.
    live: bool,
}

#[test]
fn kustomize_cases_match_kubectl() {
    // Some cases nest 10,000 levels deep, which the checks walk recursively.
    renderer::stack::with_room(renderer::stack::ROOM, kustomize_cases_match_kubectl_here);
}

fn kustomize_cases_match_kubectl_here() {
    let setting = std::env::var("KILN_LIVE_KUSTOMIZE").ok();
    check_corpus(&Corpus {
        root: cases_dir(),
        flags: String::new(),
        path: None,
        live: setting.as_deref() != Some("0"),
    });
}

/// The `helmCharts` corpus in `tests/kustomize-helm/cases`: kubectl
/// kustomize ran `--enable-helm` with `tests/kustomize-helm/helm-shim` as its
/// helm command, a `helm` that renders through the helm-template oracle
/// (real Helm). The live re-run needs that oracle, so it runs only with
/// `KILN_LIVE_HELM=1`.
#[test]
fn kustomize_helm_chart_cases_match_kubectl_with_real_helm() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("kustomize-helm");
    let path = format!("{}:{}", root.display(), std::env::var("PATH").unwrap_or_default());
    check_corpus(&Corpus {
        root: root.join("cases"),
        flags: "--enable-helm --helm-command helm-shim".into(),
        path: Some(path),
        live: std::env::var("KILN_LIVE_HELM").is_ok_and(|v| v == "1"),
    });
}

fn check_corpus(corpus: &Corpus) {
    let filter = std::env::var("KILN_CASE").ok();
    let cases = list_cases(&corpus.root, filter.as_deref());
    assert!(!cases.is_empty(), "no cases under {}", corpus.root.display());
    let known = known_failures(&corpus.root);
    let show_errors = std::env::var("KILN_SHOW_ERRORS").is_ok_and(|v| v == "1");

    let mut report = String::new();
    let mut problems = Vec::new();
    let (mut outputs, mut data_equal, mut byte_equal, mut errors, mut errors_matched) =
        (0, 0, 0, 0, 0);
    let mut fidelities: BTreeMap<String, usize> = BTreeMap::new();
    for case in &cases {
        let outcome = judge(case);
        if case.dir.join(EXPECTED_ERROR).exists() {
            errors += 1;
            errors_matched += usize::from(matches!(outcome, Outcome::ErrorMatched { .. }));
        } else {
            outputs += 1;
            data_equal +=
                usize::from(matches!(outcome, Outcome::ByteEqual | Outcome::DataEqual { .. }));
            byte_equal += usize::from(matches!(outcome, Outcome::ByteEqual));
        }
        if let Some(engine) = outcome.engine_error()
            && let Ok(kubectl) = std::fs::read_to_string(case.dir.join(EXPECTED_ERROR))
        {
            let fidelity = error_fidelity(&kubectl, engine);
            *fidelities.entry(format!("{fidelity:?}")).or_default() += 1;
            if show_errors && fidelity != Fidelity::Exact {
                let _ = writeln!(report, "{} [{fidelity:?}]", case.name);
                let _ = writeln!(report, "  kubectl: {}", normalise_kubectl(&kubectl));
                let _ = writeln!(report, "  engine:  {engine}");
            }
        }
        // A known error-text difference does not excuse a case that no
        // longer fails at all.
        let listed = known.get(&case.name).filter(|reason| {
            outcome.passes()
                || !reason.starts_with("error text:")
                || matches!(outcome, Outcome::ErrorDiffers { .. })
        });
        let tag = match (outcome.passes(), listed) {
            (true, None) => {
                if let Outcome::DataEqual { byte_diff } = &outcome {
                    let _ =
                        writeln!(report, "{:<52} {:<20} {}", case.name, "bytes differ", byte_diff);
                }
                continue;
            }
            (false, Some(reason)) => format!("known: {reason}"),
            (false, None) => {
                problems.push(case.name.clone());
                "FAIL".to_string()
            }
            (true, Some(_)) => {
                problems.push(case.name.clone());
                "FAIL: passes now, remove from KNOWN_FAILURES".to_string()
            }
        };
        let _ = writeln!(
            report,
            "{:<52} {:<20} {} [{tag}]",
            case.name,
            outcome.label(),
            outcome.detail()
        );
    }
    for name in known.keys().filter(|n| filter.is_none() && !cases.iter().any(|c| &c.name == *n)) {
        problems.push(name.clone());
        let _ = writeln!(report, "{name:<52} KNOWN_FAILURES names no case [FAIL]");
    }

    let setting = std::env::var("KILN_LIVE_KUSTOMIZE").ok();
    if corpus.live && kubectl_on_path() {
        match stale_recordings(&cases, corpus) {
            Ok(stale) => {
                for name in stale {
                    let _ = writeln!(
                        report,
                        "{name:<52} recording is stale: run tests/record-cases.sh [FAIL]"
                    );
                    problems.push(name);
                }
            }
            Err(e) => {
                let _ = writeln!(report, "live kubectl run failed: {e} [FAIL]");
                problems.push("live kubectl run".into());
            }
        }
    } else if setting.as_deref() == Some("1") {
        let _ = writeln!(
            report,
            "KILN_LIVE_KUSTOMIZE=1 but kubectl is not on PATH: recordings not re-checked"
        );
    }

    println!("{report}");
    println!(
        "kustomize cases: {} run; data-equal {data_equal}/{outputs}, byte-equal {byte_equal}/{outputs}, \
         errors-matched {errors_matched}/{errors}",
        cases.len()
    );
    let count = |f: Fidelity| fidelities.get(&format!("{f:?}")).copied().unwrap_or(0);
    println!(
        "kustomize error texts: exact {}, kubectl's contained in the engine's {}, other {} \
         (of {errors} error cases the engine also failed; {} infeasible to match, listed)",
        count(Fidelity::Exact),
        count(Fidelity::Contained),
        count(Fidelity::Other),
        ERROR_TEXT_INFEASIBLE.len(),
    );
    assert!(problems.is_empty(), "{} failing cases: {}", problems.len(), problems.join(", "));
}

#[test]
fn kustomize_cases_build_alike_from_a_subdirectory() {
    // Some cases nest 10,000 levels deep, which the checks walk recursively.
    renderer::stack::with_room(
        renderer::stack::ROOM,
        kustomize_cases_build_alike_from_a_subdirectory_here,
    );
}

fn kustomize_cases_build_alike_from_a_subdirectory_here() {
    let root = cases_dir();
    let filter = std::env::var("KILN_CASE").ok();
    let mut differ = Vec::new();
    for case in list_cases(&root, filter.as_deref()) {
        if !case.dir.join(EXPECTED).exists() {
            continue;
        }
        // Objects and their `buildMetadata` must not depend on where the
        // tree given to the engine starts: a repository holds its
        // kustomizations in subdirectories.
        let (Ok(Ok(at_root)), from_parent) =
            (build(&case.dir), build_in(&root, &join_dir(&case.name, &build_dir(&case.dir))))
        else {
            continue;
        };
        match from_parent {
            Ok(Ok(text)) if text == at_root => {}
            Ok(Ok(text)) => differ.push(format!(
                "{}: {}",
                case.name,
                line_difference(&at_root, &text).unwrap_or_default()
            )),
            Ok(Err(e)) | Err(e) => differ.push(format!("{}: {}", case.name, clip(&e))),
        }
    }
    assert!(differ.is_empty(), "{} cases build otherwise:\n{}", differ.len(), differ.join("\n"));
}

/// `buildMetadata: [originAnnotations]` names files relative to the
/// kustomization being built, also those of a base beside it (`../base/...`);
/// a generator with `behavior: replace` becomes the origin of what it
/// replaced. Expected texts as `kubectl kustomize prod` prints them.
#[test]
fn origin_annotations_are_relative_to_the_built_directory() {
    let files: &[(&str, &str)] = &[
        (
            "base/kustomization.yaml",
            "resources:\n- svc.yaml\nconfigMapGenerator:\n- name: tint\n  literals:\n  - hue=teal\n",
        ),
        ("base/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: front\n"),
        (
            "prod/kustomization.yaml",
            "resources:\n- ../base\nconfigMapGenerator:\n- name: tint\n  behavior: replace\n  literals:\n  - hue=amber\nbuildMetadata: [originAnnotations]\n",
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    let tree = DirTree::new(dir.path()).expect("tree");
    let built = kustomize::build(&tree, "prod", &Options::default()).expect("build");
    let origins: Vec<&str> = built
        .iter()
        .filter_map(|r| {
            r.value.get_path(&["metadata", "annotations", "config.kubernetes.io/origin"])?.as_str()
        })
        .collect();
    assert_eq!(
        origins,
        [
            "configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n",
            "path: ../base/svc.yaml\n",
        ]
    );
}
