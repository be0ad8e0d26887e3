//! Loading a chart as Helm's loader does: Chart.yaml, values, templates, files, subcharts in `charts/` (directories and `.tgz` archives).

use super::{Error, Locate};
use crate::layout::glob::Glob;
use crate::tree::{EntryKind, Tree};
use crate::value::{Map, Value};

/// Files of a chart: paths relative to its root, and contents.
pub type Files = Vec<(String, Vec<u8>)>;

/// A loaded chart: its metadata, default values, templates, other files and subcharts.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Chart.yaml as read (YAML 1.1, as Helm reads it).
    pub metadata: Map,
    /// The chart's name (its alias once a dependency renames it).
    pub name: String,
    /// values.yaml, numbers as float64.
    pub values: Map,
    /// values.schema.json, if present.
    pub schema: Option<Vec<u8>>,
    /// `templates/...` files: path relative to the chart root, and text.
    pub templates: Vec<(String, String)>,
    /// Every other file (not Chart.yaml, values, requirements, templates or charts), for `.Files`.
    pub files: Vec<(String, Vec<u8>)>,
    /// The subcharts found in `charts/`, in path order.
    pub dependencies: Vec<Chart>,
    /// The `dependencies` of Chart.yaml (or requirements.yaml for apiVersion v1).
    pub requirements: Vec<Value>,
    /// Whether the chart lists dependencies at all (a list, even an empty
    /// one, not a missing or null field): Helm applies no conditions, tags or
    /// aliases below a chart that lists none.
    pub lists_dependencies: bool,
    /// Whether Helm's dependency walk reached this chart: its requirements
    /// then carry their aliases as names and count as enabled (a chart
    /// below one that lists no dependencies is never reached).
    pub dependencies_enabled: bool,
}

impl Chart {
    /// Whether this is a library chart (`type: library`).
    pub fn is_library(&self) -> bool {
        self.metadata.get("type").and_then(Value::as_str) == Some("library")
    }

    /// A string field of Chart.yaml, empty if absent.
    pub fn meta_str(&self, key: &str) -> String {
        self.metadata.get(key).map(go_string).unwrap_or_default()
    }
}

/// A scalar of Chart.yaml as the string Helm's struct field holds:
/// `sigs.k8s.io/yaml` turns a YAML bool, integer or float it reads into a
/// string field into its Go text (`name: n` is "false", `appVersion: 1.10`
/// is "1.1", floats at float32 precision).
pub fn go_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => crate::yaml::go_format_float32_g(*f),
        other => crate::yaml::helm_to_yaml(other),
    }
}

/// Loads the chart at `path` of `tree`: a directory, or a `.tgz` file,
/// checked first as Helm 4's loader checks the chart it is given (a
/// Chart.yaml must be there and name a chart apiVersion it knows; a file
/// must be a gzipped archive).
pub fn load(tree: &dyn Tree, path: &str) -> Result<Chart, Error> {
    // Values nest as deep as Go's readers allow; walks over them recurse.
    crate::stack::with_room(crate::stack::ROOM, || load_here(tree, path))
}

fn load_here(tree: &dyn Tree, path: &str) -> Result<Chart, Error> {
    match tree.kind(path) {
        Some(EntryKind::Dir) => {
            let files = tree.files_below(path).map_err(|source| Error::Tree { source })?;
            kept_or_load(Source { path: path.to_string(), archive: false, files }, load_dir)
        }
        Some(EntryKind::File) => {
            let bytes = tree.read(path).map_err(|source| Error::Tree { source })?;
            let files = vec![(String::new(), bytes)];
            kept_or_load(Source { path: path.to_string(), archive: true, files }, load_archive)
        }
        None => Err(Error::Chart { path: path.to_string(), message: "no such chart".into() }),
    }
}

/// Everything a chart's loading reads: the path it was asked for (which
/// errors name), whether it is an archive, and the files read (a
/// directory's, in listing order; an archive's bytes as one nameless file).
#[derive(PartialEq, Eq)]
struct Source {
    path: String,
    archive: bool,
    files: Files,
}

/// How many loaded charts [`kept_or_load`] keeps.
const LOADED_KEPT: usize = 16;

/// The chart loaded from `source`, kept from an earlier load of the same
/// bytes at the same path when there is one. Loading depends on nothing
/// but what [`Source`] holds, and parsing Chart.yaml, values.yaml and
/// subchart archives costs far more than reading the files again, so a
/// caller that renders the same unchanged chart again (the watcher, a
/// benchmark) pays for the reads and a copy only. Errors are not kept.
fn kept_or_load(
    source: Source,
    load: fn(&str, Files) -> Result<Chart, Error>,
) -> Result<Chart, Error> {
    type Kept = Vec<(Source, Chart)>;
    static KEPT: std::sync::Mutex<Kept> = std::sync::Mutex::new(Vec::new());
    let lock = || KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    {
        let mut kept = lock();
        if let Some(i) = kept.iter().position(|(k, _)| *k == source) {
            // Most recently used last, so the oldest goes first.
            let entry = kept.remove(i);
            let chart = entry.1.clone();
            kept.push(entry);
            return Ok(chart);
        }
    }
    let chart = load(&source.path, source.files.clone())?;
    let mut kept = lock();
    if kept.len() >= LOADED_KEPT {
        kept.remove(0);
    }
    kept.push((source, chart.clone()));
    Ok(chart)
}

/// Loads a chart directory from its files (see [`load`]).
fn load_dir(path: &str, files: Files) -> Result<Chart, Error> {
    let Some((_, meta)) = files.iter().find(|(n, _)| n == "Chart.yaml") else {
        return Err(Error::Locate { path: path.to_string(), problem: Locate::NoChartYaml });
    };
    check_api_version(meta, path)?;
    top_chart(from_files(without_ignored(files)?, path)?)
}

/// Loads a chart archive from its bytes, the one file of `files` (see [`load`]).
fn load_archive(path: &str, files: Files) -> Result<Chart, Error> {
    let locate = |problem| Error::Locate { path: path.to_string(), problem };
    let bytes = files.into_iter().next().map(|(_, b)| b).unwrap_or_default();
    match super::archive::not_gzip(path, &bytes) {
        Some(Ok(content_type)) => return Err(locate(Locate::NotGzip(content_type))),
        Some(Err(())) => return Err(locate(Locate::YamlNotGzip)),
        None => {}
    }
    let files = super::archive::files(&bytes).map_err(|e| {
        locate(if e == "gzip: invalid header" { Locate::BadGzip } else { Locate::BadArchive })
    })?;
    // Helm reads the first Chart.yaml of the archive for its apiVersion.
    let Some((_, meta)) = files.iter().find(|(n, _)| n == "Chart.yaml") else {
        return Err(locate(Locate::NoChartYamlInArchive));
    };
    check_api_version(meta, path)?;
    top_chart(from_archive_files(files, path)?)
}

/// Helm 4 picks its loader by Chart.yaml's apiVersion (read as a string
/// field): v1, v2 or none load as v2 charts, v3 as a v3 chart, anything
/// else is refused.
fn check_api_version(meta: &[u8], path: &str) -> Result<(), Error> {
    // A Chart.yaml that does not parse fails the same way when it loads.
    let Ok(map) = read_map(meta, &format!("{path}/Chart.yaml"), false) else { return Ok(()) };
    match map.get("apiVersion") {
        Some(Value::String(v)) if !matches!(v.as_str(), "" | "v1" | "v2" | "v3") => {
            Err(Error::Locate { path: path.to_string(), problem: Locate::UnsupportedVersion })
        }
        _ => Ok(()),
    }
}

/// The chart `helm template` renders must be a v2 chart: Helm 4 loads a v3
/// chart, then its install refuses it. (A subchart of any apiVersion loads
/// as a v2 chart.)
fn top_chart(chart: Chart) -> Result<Chart, Error> {
    if chart.meta_str("apiVersion") == "v3" {
        return Err(Error::Invalid { message: "invalid chart apiVersion".into() });
    }
    Ok(chart)
}

/// Reads a gzipped tar chart archive (a subchart in `charts/`): its files
/// sit under one top directory, which is dropped; errors are Go's.
pub fn from_archive(bytes: &[u8], path: &str) -> Result<Chart, Error> {
    let files = super::archive::files(bytes).map_err(|message| Error::Invalid { message })?;
    from_archive_files(files, path)
}

fn from_archive_files(mut files: Vec<(String, Vec<u8>)>, path: &str) -> Result<Chart, Error> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    from_files(files, path)
}

/// A chart directory's files less those its `.helmignore` (and Helm's
/// default `templates/.?*`) rules out. Helm applies these rules only when it
/// reads a chart directory: an archive, and a subchart's own `.helmignore`
/// below the directory, filter nothing.
fn without_ignored(files: Vec<(String, Vec<u8>)>) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let ignore_text = files
        .iter()
        .find(|(p, _)| p == ".helmignore")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    // Helm's message names no file.
    let ignore = Ignore::parse(&ignore_text).map_err(|message| Error::Invalid { message })?;
    Ok(files.into_iter().filter(|(name, _)| !ignore.ignored(name)).collect())
}

/// Builds a chart from its files (paths relative to the chart root).
pub fn from_files(mut files: Vec<(String, Vec<u8>)>, path: &str) -> Result<Chart, Error> {
    // Helm's loader drops a UTF-8 byte order mark from every file it reads.
    for (_, data) in &mut files {
        if data.starts_with(b"\xEF\xBB\xBF") {
            data.drain(..3);
        }
    }
    let mut chart = Chart::default();
    let mut requirements = None;
    let mut sub_dirs: Vec<(String, Files)> = Vec::new();
    let mut have_meta = false;
    let mut legacy_files = Vec::new();
    let mut archives: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, data) in files {
        match name.as_str() {
            "Chart.yaml" => {
                chart.metadata = read_chart_yaml(&data, &format!("{path}/{name}"))?;
                have_meta = true;
            }
            "values.yaml" => chart.values = read_values(&data, &format!("{path}/{name}"))?,
            "values.schema.json" => chart.schema = Some(data),
            // A v1 chart's requirements files are `.Files` too (checked
            // once Chart.yaml's apiVersion is known).
            "requirements.yaml" => {
                let req = read_map(&data, &format!("{path}/{name}"), false)?;
                requirements = Some(super::metadata_types::canonical(&req));
                legacy_files.push((name, data));
            }
            "requirements.lock" => legacy_files.push((name, data)),
            "Chart.lock" => {}
            n if n.starts_with("templates/") => {
                // Go strings are bytes: a template that is not UTF-8 renders,
                // and only the YAML reader refuses what it prints.
                chart.templates.push((name, crate::gotmpl::sprig::from_go_bytes(&data)));
            }
            // Helm's loader keeps provenance files as files, skips entries
            // whose name starts with `_` or `.`, unpacks `.tgz` archives and
            // reads every other entry of `charts/` as a chart directory (a
            // plain file there is a chart without Chart.yaml).
            n if n.starts_with("charts/") && n.ends_with(".prov") => chart.files.push((name, data)),
            n if n.starts_with("charts/") => {
                let rest = &n["charts/".len()..];
                let (dir, inner) = rest.split_once('/').unwrap_or((rest, ""));
                if dir.starts_with('_') || dir.starts_with('.') {
                    continue;
                }
                if inner.is_empty() && dir.ends_with(".tgz") {
                    archives.push((dir.to_string(), data));
                    continue;
                }
                let i = match sub_dirs.iter().position(|(d, _)| d == dir) {
                    Some(i) => i,
                    None => {
                        sub_dirs.push((dir.to_string(), Vec::new()));
                        sub_dirs.len() - 1
                    }
                };
                if !inner.is_empty() {
                    sub_dirs[i].1.push((inner.to_string(), data));
                }
            }
            _ => chart.files.push((name, data)),
        }
    }
    if !have_meta {
        return Err(Error::Invalid { message: "Chart.yaml file is missing".into() });
    }
    // Helm reads requirements.yaml into the chart's metadata whatever the
    // apiVersion, with encoding/json: any field it gives replaces
    // Chart.yaml's; a null clears a list or map field and leaves a text or
    // bool field as it was. Its `dependencies` are merged below.
    for (key, v) in requirements.iter().flatten() {
        if key == "dependencies" || !super::metadata_types::is_field(key) {
            continue;
        }
        if v.is_null() && super::metadata_types::null_clears(key) {
            chart.metadata.shift_remove(key);
        } else if !(v.is_null() && chart.metadata.contains_key(key)) {
            chart.metadata.insert(key.clone(), v.clone());
        }
    }
    if chart.meta_str("apiVersion").is_empty() {
        // Helm reads a Chart.yaml without apiVersion as a v1 chart.
        chart.metadata.insert("apiVersion".into(), Value::from("v1"));
    }
    if chart.meta_str("apiVersion") == "v1" {
        chart.files.extend(legacy_files);
        chart.files.sort_by(|a, b| a.0.cmp(&b.0));
    }
    // Helm reads requirements.yaml's `dependencies`, when present (null
    // too), as the chart's, whatever the apiVersion.
    let deps = match requirements.as_ref().and_then(|req| req.get("dependencies")) {
        Some(d) => Some(decode_over(chart.metadata.get("dependencies"), d)),
        None => chart.metadata.get("dependencies").cloned(),
    };
    (chart.requirements, chart.lists_dependencies) = match deps {
        Some(Value::Seq(items)) => (items, true),
        _ => (Vec::new(), false),
    };
    sanitize(&mut chart);
    validate(&chart)
        .map_err(|message| Error::Invalid { message: format!("validation: {message}") })?;
    // Helm validates a chart before it loads its subcharts.
    for (file, data) in archives {
        let sub = from_archive(&data, &format!("{path}/charts/{file}"))
            .map_err(|e| subchart_error(&file, &chart, e))?;
        chart.dependencies.push(sub);
    }
    for (dir, files) in sub_dirs {
        let sub = from_files(files, &format!("{path}/charts/{dir}"))
            .map_err(|e| subchart_error(&dir, &chart, e))?;
        chart.dependencies.push(sub);
    }
    Ok(chart)
}

/// requirements.yaml's `dependencies` decoded, as Go's encoding/json does,
/// into the list Chart.yaml gave: the list keeps its length of the new
/// one, and an entry present in both is the old entry with the new one's
/// fields written over it (a field the new entry lacks, or gives as null
/// where Go holds a string, keeps the old value).
fn decode_over(old: Option<&Value>, new: &Value) -> Value {
    let (Some(Value::Seq(old)), Value::Seq(new)) = (old, new) else { return new.clone() };
    let merged = new.iter().enumerate().map(|(i, n)| match (old.get(i), n) {
        (Some(Value::Map(o)), Value::Map(n)) => {
            let mut m = o.clone();
            for (k, v) in n {
                let string_field =
                    matches!(k.as_str(), "name" | "version" | "repository" | "condition" | "alias");
                if !(v.is_null() && string_field) {
                    m.insert(k.clone(), v.clone());
                }
            }
            Value::Map(m)
        }
        _ => n.clone(),
    });
    Value::Seq(merged.collect())
}

/// A subchart's loading error as Helm words it, naming the entry of
/// `charts/` and the parent chart.
fn subchart_error(entry: &str, parent: &Chart, e: Error) -> Error {
    Error::Subchart {
        name: entry.to_string(),
        parent: parent.meta_str("name"),
        message: e.to_string(),
    }
}

/// The text fields that Helm's `Metadata.Validate` rewrites with its
/// `sanitizeString` before it checks anything (and so before the chart's
/// name names its templates and its dependencies are matched): every
/// Unicode space becomes a plain space, and every character that Go's
/// `unicode.IsPrint` rejects is dropped. Sets the chart's name from the
/// result.
fn sanitize(chart: &mut Chart) {
    fn clean(v: &mut Value) {
        if let Value::String(s) = v {
            *s = s
                .chars()
                .filter_map(|c| match c {
                    c if crate::gotmpl::sprig::is_go_space(c) => Some(' '),
                    c if crate::gotmpl::fmt::is_print(c) => Some(c),
                    _ => None,
                })
                .collect();
        }
    }
    fn clean_keys(m: &mut Map, keys: &[&str], lists: &[&str]) {
        for key in keys {
            if let Some(v) = m.get_mut(*key) {
                clean(v);
            }
        }
        for key in lists {
            if let Some(Value::Seq(items)) = m.get_mut(*key) {
                items.iter_mut().for_each(clean);
            }
        }
    }
    let text =
        ["name", "description", "home", "icon", "condition", "tags", "appVersion", "kubeVersion"];
    clean_keys(&mut chart.metadata, &text, &["sources", "keywords"]);
    if let Some(Value::Seq(maintainers)) = chart.metadata.get_mut("maintainers") {
        for m in maintainers {
            if let Value::Map(m) = m {
                clean_keys(m, &["name", "email", "url"], &[]);
            }
        }
    }
    // Not the alias: Helm checks its characters as they are.
    for dep in &mut chart.requirements {
        if let Value::Map(dep) = dep {
            clean_keys(dep, &["name", "version", "repository", "condition"], &["tags"]);
        }
    }
    chart.name = chart.meta_str("name");
}

/// Helm's `Metadata.Validate`, which its loader runs on every chart: the
/// required fields, a name that is a single path element other than `.`
/// and `..`, a Masterminds version, the type, alias characters and unique
/// dependency names. Its texts quote with Go's `%q`.
fn validate(chart: &Chart) -> Result<(), String> {
    use crate::gotmpl::fmt::quote;
    let name = &chart.name;
    if name.is_empty() {
        return Err("chart.metadata.name is required".into());
    }
    // Go's `filepath.Base` keeps "/" as it is and cuts any other name with a slash.
    if name.contains('/') && name != "/" {
        return Err(format!("chart.metadata.name {} is invalid", quote(name)));
    }
    if name == "." || name == ".." {
        return Err(format!("chart.metadata.name {} is not allowed", quote(name)));
    }
    let version = chart.meta_str("version");
    if version.is_empty() {
        return Err("chart.metadata.version is required".into());
    }
    if !crate::gotmpl::sprig::semver::is_version(&version) {
        return Err(format!("chart.metadata.version {} is invalid", quote(&version)));
    }
    if !matches!(chart.meta_str("type").as_str(), "" | "application" | "library") {
        return Err("chart.metadata.type must be application or library".into());
    }
    // Each maintainer is validated before the dependencies.
    if let Some(Value::Seq(maintainers)) = chart.metadata.get("maintainers") {
        if maintainers.iter().any(Value::is_null) {
            return Err("maintainers must not contain empty or null nodes".into());
        }
    }
    let mut seen = std::collections::HashSet::new();
    for dep in &chart.requirements {
        if dep.is_null() {
            return Err("dependencies must not contain empty or null nodes".into());
        }
        let field = |k: &str| dep.get_path(&[k]).map(go_string).unwrap_or_default();
        let alias = field("alias");
        let alias_ok = alias.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !alias_ok {
            return Err(format!(
                "dependency {} has disallowed characters in the alias",
                quote(&field("name"))
            ));
        }
        let key = if alias.is_empty() { field("name") } else { alias };
        if !seen.insert(key.clone()) {
            return Err(format!("more than one dependency with name or alias {}", quote(&key)));
        }
    }
    Ok(())
}

/// Reads a YAML map the way Helm does (sigs.k8s.io/yaml: YAML 1.1, through
/// JSON, so every number becomes a float64 when `floats`).
pub fn read_map(data: &[u8], file: &str, floats: bool) -> Result<Map, Error> {
    let text = go_text(data);
    let docs: Vec<Value> = first_yaml(&text, file)
        .map_err(|e| Error::Yaml { message: e.to_string() })?
        .into_iter()
        .collect();
    if let Some(e) = docs.first().and_then(super::funcs::json_unsupported) {
        return Err(Error::Yaml { message: format!("{file}: {e}") });
    }
    map_of(docs, file, floats)
}

/// A file's text as a Go string holds it (see
/// [`crate::gotmpl::sprig::from_go_bytes`]): bytes that are not UTF-8,
/// which libyaml's reader refuses, and characters of the carriers' own range
/// are carried.
fn go_text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    match std::str::from_utf8(data) {
        Ok(text) => {
            crate::gotmpl::sprig::carried_text(text).map_or(Cow::Borrowed(text), Cow::Owned)
        }
        Err(_) => Cow::Owned(crate::gotmpl::sprig::from_go_bytes(data)),
    }
}

/// The first YAML document of a file's text ([`go_text`]) as
/// sigs.k8s.io/yaml reads it.
fn first_yaml(text: &str, file: &str) -> Result<Option<Value>, crate::yaml::ParseError> {
    crate::yaml::parse_go_first_document_helm(text, file)
}

/// A chart's Chart.yaml, with Helm's words when it cannot load it: YAML
/// errors as sigs.k8s.io/yaml reports them, and values that do not fit the
/// field types of Helm's chart metadata (scalars fit a string field, Helm
/// writes them as text).
fn read_chart_yaml(data: &[u8], file: &str) -> Result<Map, Error> {
    let failed =
        |detail: String| Error::Yaml { message: format!("cannot load Chart.yaml: {detail}") };
    let text = go_text(data);
    let doc = first_yaml(&text, file).map_err(|e| {
        failed(format!("error converting YAML to JSON: {}", super::funcs::go_yaml_error(&e)))
    })?;
    let json = |problem: String| {
        failed(format!("error unmarshaling JSON: while decoding JSON: json: {problem}"))
    };
    match doc {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Map(m)) => match super::metadata_types::check(&m) {
            Some(problem) => Err(json(problem)),
            None => Ok(super::metadata_types::canonical(&m)),
        },
        Some(other) => Err(json(format!(
            "cannot unmarshal {} into Go value of type loader.chartBase",
            super::funcs::json_kind(&other)
        ))),
    }
}

/// A chart's values.yaml, with the words `helm template` uses when it
/// cannot load it.
fn read_values(data: &[u8], file: &str) -> Result<Map, Error> {
    load_values(data, file)
        .map_err(|e| Error::Yaml { message: format!("cannot load values.yaml: {e}") })
}

/// Reads a values file as Helm 4's `LoadValues` does, for a chart's
/// values.yaml and for `-f` files alike: the text splits into documents at
/// `---` lines (Kubernetes' YAML reader, which refuses content after the
/// separator), each document is read through JSON as sigs.k8s.io/yaml reads
/// it (numbers become float64) and must be a map or empty, and the maps
/// merge in order, later keys winning and maps merging key by key. Error
/// texts are Helm's, without the file (Helm's callers add it).
pub fn load_values(data: &[u8], file: &str) -> Result<Map, Error> {
    let text = go_text(data);
    let failed = |detail: String| Error::Yaml {
        message: format!("cannot unmarshal yaml document: {detail}"),
    };
    let mut values = Map::new();
    for doc in yaml_reader_documents(&text)? {
        let first = first_yaml(&doc, file).map_err(|e| {
            failed(format!("error converting YAML to JSON: {}", super::funcs::go_yaml_error(&e)))
        })?;
        if let Some(e) = first.as_ref().and_then(super::funcs::json_unsupported) {
            return Err(failed(e));
        }
        match first {
            None | Some(Value::Null) => {}
            Some(mut v @ Value::Map(_)) => {
                v.ints_to_floats();
                if let Value::Map(m) = v {
                    super::values::merge_maps(&mut values, m);
                }
            }
            Some(other) => {
                return Err(failed(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    super::funcs::json_kind(&other)
                )));
            }
        }
    }
    Ok(values)
}

/// The documents of a YAML stream as Kubernetes' `YAMLReader` splits it: at
/// lines that start with `---` followed by nothing but spaces or a comment.
/// A separator that opens a document (nothing before it since the last
/// one) stays in it.
fn yaml_reader_documents(text: &str) -> Result<Vec<std::borrow::Cow<'_, str>>, Error> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(Error::Yaml {
                    message: format!(
                        "error reading yaml document: invalid Yaml document separator: {rest}"
                    ),
                });
            }
            // A separator with nothing read before it is no end: the reader
            // keeps the line, which libyaml then reads as the document's
            // start (its lines count in the document's errors).
            if at > start {
                docs.push(text[start..at].into());
                start = at + line.len();
            }
        }
        at += line.len();
    }
    if text.len() > start {
        // The reader hands out whole lines, each ending in a line feed, the
        // last one too: a block scalar on it keeps its final newline.
        let last = &text[start..];
        docs.push(match last.ends_with('\n') {
            true => last.into(),
            false => format!("{last}\n").into(),
        });
    }
    Ok(docs)
}

/// The first document as a map (numbers as float64 when `floats`).
fn map_of(docs: Vec<Value>, file: &str, floats: bool) -> Result<Map, Error> {
    match docs.into_iter().next() {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Map(m)) => {
            let mut v = Value::Map(m);
            if floats {
                v.ints_to_floats();
            }
            match v {
                Value::Map(m) => Ok(m),
                _ => Ok(Map::new()),
            }
        }
        Some(other) => Err(Error::Yaml {
            message: format!(
                "{file}: error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                other.type_name()
            ),
        }),
    }
}

/// One `.helmignore` rule: negated (`!`), directories only (trailing `/`),
/// matched against the whole path (it has or starts with a `/`) or the base
/// name, and the pattern as Go's `filepath.Match` reads it.
#[derive(Debug)]
struct IgnoreRule {
    negate: bool,
    dir_only: bool,
    full_path: bool,
    glob: Glob,
}

/// The rules of a `.helmignore` file, plus Helm's default `templates/.?*`.
#[derive(Debug, Default)]
struct Ignore {
    rules: Vec<IgnoreRule>,
}

impl Ignore {
    fn parse(text: &str) -> Result<Ignore, String> {
        let mut rules = Vec::new();
        for line in text.lines().chain(["templates/.?*"]) {
            let mut p = line.trim();
            if p.is_empty() || p.starts_with('#') {
                continue;
            }
            if p.contains("**") {
                return Err("double-star (**) syntax is not supported".into());
            }
            // Helm checks the whole rule (`!` and slashes included) with
            // `filepath.Match` and stops loading the chart on a malformed one.
            if Glob::new(p).is_none() {
                return Err("syntax error in pattern".into());
            }
            let negate = p.starts_with('!');
            if negate {
                p = &p[1..];
            }
            let dir_only = p.ends_with('/');
            let p = p.strip_suffix('/').unwrap_or(p);
            // A leading `/` anchors the rule at the chart's root: Helm then
            // matches the whole path, as it does for a rule with a `/` inside.
            let rooted = p.starts_with('/');
            let p = p.strip_prefix('/').unwrap_or(p);
            let full_path = rooted || p.contains('/');
            let glob = Glob::new(p).ok_or_else(|| "syntax error in pattern".to_string())?;
            rules.push(IgnoreRule { negate, dir_only, full_path, glob });
        }
        Ok(Ignore { rules })
    }

    /// Whether `path` is left out: Helm skips a directory it ignores with
    /// everything in it, so each parent directory is asked first.
    fn ignored(&self, path: &str) -> bool {
        if path == ".helmignore" {
            return false;
        }
        let segments: Vec<&str> = path.split('/').collect();
        (0..segments.len()).any(|i| {
            let prefix = segments[..=i].join("/");
            self.matches(&prefix, segments[i], i + 1 < segments.len())
        })
    }

    /// Helm's `Rules.Ignore`: rules in order, the first matching rule
    /// ignores; a negated rule ignores every path it does not match (so a
    /// `!` rule hides everything else, Chart.yaml included, as in Helm).
    fn matches(&self, path: &str, base: &str, is_dir: bool) -> bool {
        for rule in &self.rules {
            let hit = rule.glob.matches(if rule.full_path { path } else { base });
            if rule.negate {
                if (rule.dir_only && !is_dir) || !hit {
                    return true;
                }
                continue;
            }
            if rule.dir_only && !is_dir {
                continue;
            }
            if hit {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    /// A chart loaded again from the same files is the one kept from the
    /// first load; a changed file loads anew, and a failed load is not kept.
    #[test]
    fn keeps_a_loaded_chart_until_a_file_changes() {
        let mut t = MemTree::new();
        t.insert("kept/c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
        t.insert("kept/c/values.yaml", "a: 1\n");
        t.insert("kept/c/templates/x.yaml", "x: {{ .Values.a }}\n");
        let a = |chart: &Chart| chart.values.get("a").cloned();
        let first = load(&t, "kept/c").unwrap();
        assert_eq!(format!("{first:?}"), format!("{:?}", load(&t, "kept/c").unwrap()));
        t.insert("kept/c/values.yaml", "a: 2\n");
        assert_eq!(a(&load(&t, "kept/c").unwrap()), Some(Value::Float(2.0)));
        t.insert("kept/c/templates/y.yaml", "y: 1\n");
        assert_eq!(load(&t, "kept/c").unwrap().templates.len(), 2);
        t.insert("kept/c/values.yaml", "a: [\n");
        assert!(load(&t, "kept/c").is_err());
        assert!(load(&t, "kept/c").is_err());
        t.insert("kept/c/values.yaml", "a: 1\n");
        assert_eq!(a(&load(&t, "kept/c").unwrap()), Some(Value::Float(1.0)));
    }
}
