//! Rendering a loaded chart: template data per chart, parse and execute every template, assemble `helm template`'s output.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use super::capabilities::{DEFAULT_KUBE_VERSION, capabilities};
use super::chart::{self, Chart, go_string as scalar};
use super::files::files_value;
use super::order::sort_manifests;
use super::{Error, Options, deps, funcs, values, values_type};
use crate::gotmpl::{self, Templates, Value};
use crate::tree::Tree;
use crate::value::Value as Data;

/// Renders the chart at `path` of `tree` and returns what `helm template` prints.
pub fn template(tree: &dyn Tree, path: &str, options: &Options) -> Result<String, Error> {
    crate::stack::with_room(crate::stack::ROOM, || render_chart(chart::load(tree, path)?, options))
}

/// Renders a loaded chart and returns what `helm template` prints.
///
/// The work runs on a template execution thread ([`gotmpl::with_stack`]),
/// whose stack holds templates nested as deeply as Go and Helm allow.
pub fn render_chart(chart: Chart, options: &Options) -> Result<String, Error> {
    gotmpl::with_stack(move || render_on_stack(chart, options)).map_err(|e| Error::Render {
        message: format!("cannot start the template execution thread: {e}"),
    })?
}

fn render_on_stack(mut chart: Chart, options: &Options) -> Result<String, Error> {
    // Helm's flag parser splits `--api-versions` before the command runs.
    let api_versions = super::flag_list::items("-a, --api-versions", &options.api_versions)?;
    // Then `helm template` reads `--kube-version` before anything else; an
    // empty one is not given (helm/helm `pkg/cmd/template.go`).
    let given = options.kube_version.as_deref().filter(|v| !v.is_empty());
    let given = given.unwrap_or(DEFAULT_KUBE_VERSION);
    let kube = super::capabilities::parse_kube_version(given)
        .map_err(|reason| Error::KubeVersion { version: given.to_string(), reason })?;
    let kind = chart.meta_str("type");
    if !kind.is_empty() && kind != "application" {
        return Err(Error::NotInstallable { kind: kind.to_string() });
    }
    deps::check_present(&chart)?;
    // Helm's install action checks the release name before it processes
    // the dependencies (conditions, tags, import-values).
    super::check_release_name(&options.release)?;
    deps::process(&mut chart, &options.values)?;
    let vals = values::coalesce(&chart, options.values.clone())?;
    super::schema::validate(&chart, &vals)?;
    let caps = capabilities(&kube, &api_versions);
    check_kube_version(&chart, &kube.version)?;
    let release = release_value(options);

    let mut renderables = Vec::new();
    let top_values = Value::from(&Data::Map(vals));
    for path in &options.exact_lists {
        exact_capacity(&top_values, path);
    }
    collect(&chart, &chart.name.clone(), true, top_values, &release, &caps, &mut renderables);
    // Helm keeps the templates in a map by full path: two subcharts of one
    // name (an unlisted version beside a listed one) give the same paths,
    // and the one the walk reaches last wins.
    let mut seen = HashSet::new();
    let mut renderables: Vec<Renderable> =
        renderables.into_iter().rev().filter(|r| seen.insert(r.name.clone())).collect();
    renderables.reverse();

    let funcs = funcs::helm_funcs();
    // Deepest paths first, then in reverse order of the paths; each path's
    // depth is counted once, not at every comparison.
    let mut order: Vec<usize> = (0..renderables.len()).collect();
    let depths: Vec<usize> = renderables.iter().map(|r| r.name.matches('/').count()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&renderables[a].name, &renderables[b].name);
        depths[b].cmp(&depths[a]).then_with(|| pb.cmp(pa))
    });
    let sources: Vec<(&str, &str)> = order
        .iter()
        .map(|&i| (renderables[i].name.as_str(), renderables[i].text.as_str()))
        .collect();
    let set = parsed(&sources, &funcs)?;
    // Helm parses with `missingkey=zero`: a missing key is a nil interface, so
    // a field of it fails with "nil pointer evaluating interface {}.X".
    let opts = gotmpl::Options { missing_key: gotmpl::MissingKey::Zero, ..Default::default() };
    let mut rendered = Vec::new();
    for &i in &order {
        let r = &renderables[i];
        let base = r.name.rsplit('/').next().unwrap_or(&r.name);
        if base.starts_with('_') {
            continue;
        }
        let mut t = BTreeMap::new();
        t.insert("Name".to_string(), Value::from(r.name.as_str()));
        t.insert("BasePath".to_string(), Value::from(r.base_path.as_str()));
        // The render data and `.Template` are `common.Values` too. The data
        // map is the chart's, shared by its templates: what one template
        // sets on `.` (`set . "Values" ...`) the next ones see.
        r.data.write().insert("Template".to_string(), values_type::values(&gotmpl::MapRef::new(t)));
        let out = set
            .execute(&r.name, values_type::values(&r.data), &funcs, &opts)
            .map_err(|e| exec_error(&r.name, e))?;
        if r.name.ends_with("/NOTES.txt") {
            continue;
        }
        rendered.push((r.name.clone(), out.replace("<no value>", "")));
    }
    rendered.sort_by(|a, b| a.0.cmp(&b.0));
    let (manifests, hooks) = sort_manifests(&rendered)?;

    let mut body = String::new();
    if options.include_crds {
        crds(&chart, &chart.name.clone(), &mut body);
    }
    for m in &manifests {
        body.push_str(&format!("---\n# Source: {}\n{}\n", m.source, m.content));
    }
    let mut out = String::new();
    out.push_str(body.trim());
    out.push('\n');
    // Helm trims the manifest part as a whole, then appends the hooks untrimmed.
    for h in &hooks {
        if options.skip_tests && h.is_test {
            continue;
        }
        out.push_str(&format!("---\n# Source: {}\n{}\n", h.source, h.content));
    }
    Ok(out)
}

/// How many parsed template sets [`parsed`] keeps.
const PARSED_KEPT: usize = 16;

/// How many bytes of template text (names and texts) the sets [`parsed`]
/// keeps may hold together; a set of more is parsed for each render.
const PARSED_BYTES: usize = 64 << 20;

/// The templates `sources` (name and text, in Helm's parse order) parsed
/// into one set, shared by every render of the same texts: a chart's
/// templates do not change between renders, and parsing them (hundreds in
/// a library chart such as bitnami's `common`) cost as much as executing
/// them. Execution never changes a set (`tpl` parses into a layer of its
/// own), and Helm's functions are the same in every render, so a set
/// parsed once serves them all.
fn parsed(sources: &[(&str, &str)], funcs: &gotmpl::Funcs) -> Result<Templates, Error> {
    static KEPT: LazyLock<Mutex<KeptSets>> =
        LazyLock::new(|| Mutex::new(KeptSets::new(PARSED_KEPT, PARSED_BYTES)));
    let lock = || KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    let key = KeptSets::key(sources);
    if let Some(set) = lock().get(key, sources) {
        return Ok(set);
    }
    let mut set = Templates::new();
    for (name, text) in sources {
        set.parse(name, text, funcs).map_err(|e| parse_error(name, e))?;
    }
    lock().keep(key, sources, set.clone());
    Ok(set)
}

/// Parsed template sets, the least recently used dropped first, at most so
/// many and holding at most so many bytes of text. A set is found by a hash
/// of its texts and served only when the texts it kept are equal, so a
/// render copies its texts only when it parses them.
struct KeptSets {
    sets: hashlink::LruCache<u64, KeptSet>,
    bytes: usize,
    max_bytes: usize,
}

struct KeptSet {
    sources: Vec<(String, String)>,
    set: Templates,
    bytes: usize,
}

impl KeptSets {
    fn new(max_sets: usize, max_bytes: usize) -> Self {
        KeptSets { sets: hashlink::LruCache::new(max_sets.max(1)), bytes: 0, max_bytes }
    }

    /// The key a set is kept under: a hash of its names and texts, by
    /// foldhash, which goes through long texts several times faster than
    /// the standard library's SipHash (whose hash of ingress-nginx's
    /// templates took about 4% of a render's CPU).
    fn key(sources: &[(&str, &str)]) -> u64 {
        use std::hash::BuildHasher;
        foldhash::quality::FixedState::default().hash_one(sources)
    }

    /// The set kept for exactly these texts; a hit makes it the most
    /// recently used.
    fn get(&mut self, key: u64, sources: &[(&str, &str)]) -> Option<Templates> {
        let kept = self.sets.get(&key)?;
        let same = kept.sources.len() == sources.len()
            && kept.sources.iter().zip(sources).all(|((n, t), (m, u))| n == m && t == u);
        same.then(|| kept.set.clone())
    }

    /// Keeps `set` for `sources`, dropping the least recently used sets
    /// until both bounds hold.
    fn keep(&mut self, key: u64, sources: &[(&str, &str)], set: Templates) {
        let bytes: usize = sources.iter().map(|(n, t)| n.len() + t.len()).sum();
        if bytes > self.max_bytes {
            return;
        }
        if let Some(old) = self.sets.remove(&key) {
            self.bytes -= old.bytes;
        }
        while self.sets.len() >= self.sets.capacity() || self.bytes + bytes > self.max_bytes {
            let Some((_, old)) = self.sets.remove_lru() else { break };
            self.bytes -= old.bytes;
        }
        let sources = sources.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        self.bytes += bytes;
        self.sets.insert(key, KeptSet { sources, set, bytes });
    }
}

/// The files of `crds/` of a chart and its subcharts, as `--include-crds`
/// prints them: Helm's `CRDObjects` takes a file whose extension is `.yaml`,
/// `.yml` or `.json` in any case, and names it by the chart's path.
fn crds(chart: &Chart, full: &str, out: &mut String) {
    for (p, data) in &chart.files {
        let ext = p.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        let manifest = matches!(ext.as_deref(), Some("yaml" | "yml" | "json"));
        if p.starts_with("crds/") && manifest {
            out.push_str(&format!(
                "---\n# Source: {}\n{}\n",
                chart_path(full, p),
                String::from_utf8_lossy(data)
            ));
        }
    }
    for sub in &chart.dependencies {
        crds(sub, &format!("{full}/charts/{}", sub.name), out);
    }
}

/// The name Helm gives a file of a chart: `path.Join` of the chart's full
/// path (`ChartFullPath`, the parent's and `/charts/` and the name, so a
/// chart named `/` leaves empty segments) and the file's path in the chart,
/// which cleans it (`# Source: /templates/c.yaml` for a root chart named `/`).
fn chart_path(full: &str, file: &str) -> String {
    crate::gotmpl::sprig::path::clean(&format!("{full}/{file}"))
}

/// One template to parse and (unless a partial) execute, with its data.
struct Renderable {
    name: String,
    text: String,
    base_path: String,
    /// The chart's render data, one map shared by all its templates.
    data: gotmpl::MapRef,
}

/// Helm's `recAllTpls`: each chart's templates get that chart's values and metadata.
/// Gives the list at `path` below `v` (keys of maps, indexes of lists) a
/// capacity equal to its length, rebuilding the lists on the way (keeping
/// their capacities); nothing when the path reaches no list.
fn exact_capacity(v: &Value, path: &[String]) -> Option<Value> {
    use crate::gotmpl::List;
    let Some((first, rest)) = path.split_first() else {
        let Value::List(l) = v else { return None };
        let items: Vec<Value> = l.iter().cloned().collect();
        let len = items.len();
        return Some(Value::List(List::with_cap(l.elem(), items, len)));
    };
    match v {
        Value::Map(m) => {
            let child = m.get(first)?;
            let new = exact_capacity(&child, rest)?;
            m.write().insert(first.clone(), new);
            None
        }
        Value::List(l) => {
            let i: usize = first.parse().ok()?;
            let new = exact_capacity(l.get(i)?, rest)?;
            let mut items: Vec<Value> = l.iter().cloned().collect();
            items[i] = new;
            Some(Value::List(List::with_spare(l.elem(), items, l.spare().to_vec())))
        }
        _ => None,
    }
}

fn collect(
    chart: &Chart,
    full: &str,
    is_root: bool,
    values: Value,
    release: &Value,
    caps: &Value,
    out: &mut Vec<Renderable>,
) -> Value {
    // Every chart's `.Values` is a `common.Values`, Helm's named map type
    // with methods; the maps inside it are plain maps.
    let values = match values {
        Value::Map(m) => values_type::values(&m),
        other => other,
    };
    let subcharts = gotmpl::MapRef::new(BTreeMap::new());
    let mut next = BTreeMap::new();
    next.insert("Chart".to_string(), chart_value(chart, is_root));
    next.insert("Files".to_string(), files_value(Arc::new(chart.files.clone())));
    next.insert("Release".to_string(), release.clone());
    next.insert("Capabilities".to_string(), caps.clone());
    next.insert("Values".to_string(), values.clone());
    next.insert("Subcharts".to_string(), Value::Map(subcharts.clone()));
    let next = gotmpl::MapRef::new(next);
    for sub in &chart.dependencies {
        let sub_values = match &values {
            Value::Map(m) => match m.get(&sub.name) {
                Some(v @ Value::Map(_)) => v,
                _ => Value::map(BTreeMap::new()),
            },
            _ => Value::map(BTreeMap::new()),
        };
        let sub_full = format!("{full}/charts/{}", sub.name);
        let v = collect(sub, &sub_full, false, sub_values, release, caps, out);
        subcharts.write().insert(sub.name.clone(), v);
    }
    for (path, text) in &chart.templates {
        let base = path.rsplit('/').next().unwrap_or(path);
        if chart.is_library() && !base.starts_with('_') {
            continue;
        }
        out.push(Renderable {
            name: chart_path(full, path),
            text: text.clone(),
            base_path: chart_path(full, "templates"),
            data: next.clone(),
        });
    }
    Value::Map(next)
}

/// Helm's check of Chart.yaml's `kubeVersion` constraint (`IsCompatibleRange`,
/// Masterminds syntax): a constraint that does not parse is incompatible too.
fn check_kube_version(chart: &Chart, kube: &str) -> Result<(), Error> {
    let constraint = chart.meta_str("kubeVersion");
    if constraint.is_empty() || crate::gotmpl::sprig::semver::is_compatible_range(&constraint, kube)
    {
        return Ok(());
    }
    Err(Error::KubeVersionIncompatible {
        constraint: constraint.to_string(),
        version: kube.to_string(),
    })
}

fn release_value(options: &Options) -> Value {
    let mut m = BTreeMap::new();
    m.insert("Name".to_string(), Value::from(options.release.as_str()));
    // An empty `--namespace` leaves the namespace to the kubeconfig, which
    // falls back to `default` (helm/helm `pkg/cli/environment.go`, `Namespace`).
    let namespace = if options.namespace.is_empty() { "default" } else { &options.namespace };
    m.insert("Namespace".to_string(), Value::from(namespace));
    m.insert("IsUpgrade".to_string(), Value::Bool(false));
    m.insert("IsInstall".to_string(), Value::Bool(true));
    m.insert("Revision".to_string(), Value::Int(1));
    m.insert("Service".to_string(), Value::from("Helm"));
    Value::map(m)
}

/// `.Chart` as Helm 4 passes it: a map of Chart.yaml's fields under Helm's
/// capitalised names, plus `IsRoot`; absent lists are empty lists, and
/// maintainers and dependencies are maps too.
fn chart_value(chart: &Chart, is_root: bool) -> Value {
    let md = &chart.metadata;
    let text = |d: &Data, k: &str| Value::from(d.get_path(&[k]).map(scalar).unwrap_or_default());
    let s = |k: &str| Value::from(md.get(k).map(scalar).unwrap_or_default());
    let strings = |d: Option<&Data>| match d {
        Some(Data::Seq(items)) => {
            Value::list(items.iter().map(|i| Value::from(scalar(i))).collect())
        }
        _ => Value::list(Vec::new()),
    };
    let record = |fields: Vec<(&str, Value)>| {
        Value::map(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let maintainers = match md.get("maintainers") {
        Some(Data::Seq(items)) => items
            .iter()
            .map(|m| {
                record(vec![
                    ("Name", text(m, "name")),
                    ("Email", text(m, "email")),
                    ("URL", text(m, "url")),
                ])
            })
            .collect(),
        _ => Vec::new(),
    };
    let dependencies = chart
        .requirements
        .iter()
        .map(|r| {
            // Helm names an aliased dependency by its alias once its walk
            // reached the chart (see `deps`), and rewrites each
            // `import-values` string `x` to the map form of `exports.x`.
            let alias = text(r, "alias");
            let name = text(r, "name");
            let imports = match r.get_path(&["import-values"]) {
                Some(Data::Seq(items)) => items
                    .iter()
                    .map(|i| match i {
                        Data::String(x) => record(vec![
                            ("child", Value::from(format!("exports.{x}"))),
                            ("parent", Value::from(".")),
                        ]),
                        other => Value::from(other),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            record(vec![
                ("Name", name),
                ("Version", text(r, "version")),
                ("Repository", text(r, "repository")),
                ("Condition", text(r, "condition")),
                ("Tags", strings(r.get_path(&["tags"]))),
                ("Enabled", Value::Bool(chart.dependencies_enabled)),
                ("ImportValues", Value::list(imports)),
                ("Alias", alias),
            ])
        })
        .collect();
    let annotations = values_type::string_map(match md.get("annotations") {
        Some(Data::Map(m)) => {
            Some(m.iter().map(|(k, v)| (k.clone(), Value::from(scalar(v)))).collect())
        }
        _ => None,
    });
    record(vec![
        ("Name", Value::from(chart.name.as_str())),
        ("Home", s("home")),
        ("Sources", strings(md.get("sources"))),
        ("Version", s("version")),
        ("Description", s("description")),
        ("Keywords", strings(md.get("keywords"))),
        ("Maintainers", Value::list(maintainers)),
        ("Icon", s("icon")),
        ("APIVersion", s("apiVersion")),
        ("Condition", s("condition")),
        ("Tags", s("tags")),
        ("AppVersion", s("appVersion")),
        ("Deprecated", Value::Bool(matches!(md.get("deprecated"), Some(Data::Bool(true))))),
        ("Annotations", annotations),
        ("KubeVersion", s("kubeVersion")),
        ("Dependencies", Value::list(dependencies)),
        ("Type", s("type")),
        ("IsRoot", Value::Bool(is_root)),
    ])
}

/// Helm's `cleanupParseError`: `parse error at (FILE:LINE): MESSAGE`.
fn parse_error(name: &str, e: gotmpl::Error) -> Error {
    let text = e.to_string();
    let tokens: Vec<&str> = text.split(": ").collect();
    let message = if tokens.len() == 1 {
        format!("parse error in ({name}): {text}")
    } else {
        format!("parse error at ({}): {}", tokens[1], tokens[tokens.len() - 1])
    };
    Error::Render { message }
}

/// Wraps a `required` or `fail` message as Helm does, so that the report
/// of the execution error can find it however deeply it was included.
pub(super) fn warn_wrap(message: &str) -> String {
    format!("{WARN_START}{message}{WARN_END}")
}

pub(super) const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

/// Helm 4's report of an execution error. A `required` or `fail` message,
/// however deep, is `execution error at (FILE:LINE:COL): MESSAGE` with the
/// location of the outermost call. Otherwise the chain of `include` calls is
/// printed one level a block (location, then `executing "NAME" at <NODE>:`
/// and the message or `error calling include:` on indented lines), when
/// every level reads that way; anything else is Go's own text.
fn exec_error(name: &str, e: gotmpl::Error) -> Error {
    let mut text = e.to_string();
    if text.ends_with("associated with template") {
        // Helm's templates hang off a root template named "gotpl".
        text.push_str(" \"gotpl\"");
    }
    let Some(rest) = text.strip_prefix("template: ") else {
        return Error::Render { message: format!("execution error in ({name}): {text}") };
    };
    if let (Some(start), Some(end)) = (text.find(WARN_START), text.rfind(WARN_END))
        && start + WARN_START.len() <= end
    {
        let loc = rest.split_once(": ").map_or(rest, |(loc, _)| loc);
        let message = &text[start + WARN_START.len()..end];
        return Error::Render { message: format!("execution error at ({loc}): {message}") };
    }
    match include_trace(&text) {
        Some(message) => Error::Render { message },
        None => Error::Render { message: text },
    }
}

/// The multi-line trace of an error that passed through `include` calls,
/// or `None` where a level does not read as `template: LOC: executing
/// "NAME" at <NODE>` or the last message is a function's failure, and for
/// any error that passed through `tpl`.
///
/// As Helm 4 prints it, a level that repeats the one before it (the same
/// recursive `include` call at the same place) is printed once, and the
/// trace ends without the whitespace that ended the message (`range can't
/// iterate over ` of an empty string ends at `over`).
fn include_trace(text: &str) -> Option<String> {
    // An error that passed through `tpl` keeps Go's one-line chain.
    if text.contains(": error calling tpl: ") {
        return None;
    }
    let levels: Vec<&str> = text.split(": error calling include: ").collect();
    let mut out = String::new();
    let mut previous: Option<&str> = None;
    for (i, level) in levels.iter().enumerate() {
        let last = i + 1 == levels.len();
        if last && level.starts_with("template: no template ") {
            out.push_str(level);
            continue;
        }
        // Only the calls between levels can repeat: the last level carries
        // the failure, never `error calling include:`.
        if !last && previous == Some(*level) {
            continue;
        }
        previous = Some(level);
        let rest = level.strip_prefix("template: ")?;
        let (loc, rest) = rest.split_once(": executing \"")?;
        let (tpl, rest) = rest.split_once("\" at <")?;
        let (node, message) = if last {
            let (node, message) = rest.split_once(">: ")?;
            // A function's failure (`error calling f: ...`) keeps Go's one-line chain.
            if message.starts_with("error calling ") {
                return None;
            }
            (node, message)
        } else {
            (rest.strip_suffix('>')?, "error calling include:")
        };
        out.push_str(&format!("{loc}\n  executing \"{tpl}\" at <{node}>:\n    {message}"));
        if !last {
            out.push('\n');
        }
    }
    // Go's unicode.IsSpace is Unicode's White_Space, as Rust's trim_end.
    out.truncate(out.trim_end().len());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    fn chart_tree(extra: &[(&str, &str)]) -> MemTree {
        let mut t = MemTree::new();
        t.insert("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
        t.insert("c/values.yaml", "big: 1000000\n");
        for (p, text) in extra {
            t.insert(&format!("c/{p}"), *text);
        }
        t
    }

    #[test]
    fn renders_like_helm_template() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  n: \"{{ .Values.big }}\"\n  s: \"{{ .Values.s }}\"\n  t: \"{{ typeOf .Values.big }} {{ typeOf .Values.s }}\"\n";
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: w.example.com\n";
        type Case<'a> = (&'a str, bool, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case<'_>] = &[
            (
                "yaml numbers are float64, --set integers int64",
                false,
                &[("templates/cm.yaml", cm)],
                "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r\ndata:\n  n: \"1e+06\"\n  s: \"5\"\n  t: \"float64 int64\"\n",
            ),
            (
                "--include-crds prints crds/ first",
                true,
                &[("templates/cm.yaml", cm), ("crds/w.yaml", crd), ("crds/notes.txt", "x")],
                "---\n# Source: c/crds/w.yaml\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: w.example.com\n\n---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: r\ndata:\n  n: \"1e+06\"\n  s: \"5\"\n  t: \"float64 int64\"\n",
            ),
            (
                "partials, NOTES.txt and empty files print nothing",
                false,
                &[
                    ("templates/_h.tpl", "{{ define \"x\" }}kind: Secret{{ end }}"),
                    ("templates/NOTES.txt", "hello"),
                    ("templates/empty.yaml", "{{ if false }}a: 1{{ end }}\n"),
                    ("templates/s.yaml", "apiVersion: v1\n{{ include \"x\" . }}\n"),
                ],
                "---\n# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\n",
            ),
        ];
        for (what, crds, files, want) in cases {
            let tree = chart_tree(files);
            let mut values = crate::value::Map::new();
            values::apply_set(&mut values, "s=5", values::SetKind::Typed).unwrap();
            let options = Options {
                release: "r".into(),
                values,
                include_crds: *crds,
                kube_version: Some("1.31.0".into()),
                ..Options::default()
            };
            assert_eq!(template(&tree, "c", &options).unwrap(), *want, "{what}");
        }
    }

    /// Helm's `CRDObjects` names a CRD `filepath.Join(ChartFullPath, name)`
    /// and takes the manifest extensions in any case (`strings.EqualFold`),
    /// so a chart named `/` prints `/crds/a.YAML` and its subchart named `/`
    /// `/charts/crds/b.json`. The oracle has no `--include-crds`: this pins
    /// Helm's code (pkg/chart/v2 chart.go), as template names are pinned by
    /// the cases hre-chart-name-slash and hre-subchart-name-slash.
    #[test]
    fn include_crds_names_files_by_the_joined_chart_path() {
        let mut t = MemTree::new();
        t.insert("c/Chart.yaml", "apiVersion: v2\nname: /\nversion: 1.0.0\n");
        t.insert("c/crds/a.YAML", "kind: A\n");
        t.insert("c/crds/n.txt", "kind: N\n");
        t.insert("c/charts/s/Chart.yaml", "apiVersion: v2\nname: /\nversion: 1.0.0\n");
        t.insert("c/charts/s/crds/b.json", "kind: B\n");
        let options = Options { include_crds: true, ..Options::default() };
        assert_eq!(
            template(&t, "c", &options).unwrap(),
            "---\n# Source: /crds/a.YAML\nkind: A\n\n---\n# Source: /charts/crds/b.json\nkind: B\n"
        );
    }

    /// strvals' `setIndex` makes a list it creates or lengthens exactly
    /// `i + 1` long, capacity included, and an index inside a list assigns
    /// in place; `{a,b}`, `--set-json` and values files give `append`'s
    /// capacity. Go's `slice` reaches up to the capacity.
    #[test]
    fn set_index_lists_have_their_length_as_capacity() {
        let cm = "kind: ConfigMap\ndata:\n  a: {{ slice .Values.a 0 6 | toJson | quote }}\n  n: {{ slice (index .Values.n 1) 0 3 | toJson | quote }}\n";
        let tree = chart_tree(&[("templates/t.yaml", cm)]);
        let run = |sets: &[(&str, values::SetKind)]| {
            let mut values = crate::value::Map::new();
            let mut exact = Vec::new();
            for (arg, kind) in sets {
                values::apply_set_tracked(&mut values, &mut exact, arg, *kind).unwrap();
            }
            let options = Options { values, exact_lists: exact, ..Options::default() };
            template(&tree, "c", &options).map_err(|e| e.to_string())
        };
        use values::SetKind::{Json, Typed};
        // Five items by setIndex: capacity 5, `slice 0 6` fails.
        let grown = run(&[("a[4]=x,n[1][2]=y", Typed)]);
        assert!(grown.unwrap_err().contains("slice index out of bounds"));
        // The same lists from `{...}` and JSON: capacity 6 (append), and 4 for the inner one.
        let appended = run(&[("a={p,q,r,s,t}", Typed), ("n=[[],[1,2,3]]", Json)]);
        let appended = appended.unwrap();
        assert!(
            appended.contains("a: \"[\\\"p\\\",\\\"q\\\",\\\"r\\\",\\\"s\\\",\\\"t\\\",null]\""),
            "{appended}"
        );
        assert!(appended.contains("n: \"[1,2,3]\""), "{appended}");
        // An index inside an appended list keeps its capacity; a later
        // `{...}` replaces a grown list, and its mark with it.
        let kept = run(&[("n=[[],[1,2,3]]", Json), ("a[4]=x,n[1][0]=z,a={p,q,r,s,t}", Typed)]);
        assert!(kept.is_ok(), "{kept:?}");
        let regrown = run(&[("n=[[],[1,2]]", Json), ("a={p,q,r,s,t},n[1][2]=z", Typed)]);
        assert!(regrown.is_ok(), "{regrown:?}");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases: &[(&str, &str)] = &[
            (
                "{{ required \"need x\" .Values.x }}",
                "execution error at (c/templates/t.yaml:1:3): need x",
            ),
            ("{{ fail \"no\" }}", "execution error at (c/templates/t.yaml:1:3): no"),
            (
                "{{ .Values.big.x.y }}",
                "c/templates/t.yaml:1:10\n  executing \"c/templates/t.yaml\" at <.Values.big.x.y>:\n    can't evaluate field x in type interface {}",
            ),
            ("{{ if }}", "parse error at (c/templates/t.yaml:1): missing value for if"),
        ];
        for (text, want) in cases {
            let tree = chart_tree(&[("templates/t.yaml", text)]);
            let got = template(&tree, "c", &Options::default()).unwrap_err().to_string();
            assert_eq!(got, *want, "{text}");
        }
    }

    /// The kept sets drop the least recently used first: a hit refreshes
    /// a set, and neither the count nor the byte budget is exceeded.
    #[test]
    fn kept_template_sets_drop_the_least_recently_used() {
        let texts = |t: &'static str| vec![("c/templates/a.yaml", t)];
        let (a, b, c) = (texts("aaaa"), texts("bbbb"), texts("cccc"));
        let key = KeptSets::key;
        let mut kept = KeptSets::new(2, 1000);
        kept.keep(key(&a), &a, Templates::new());
        kept.keep(key(&b), &b, Templates::new());
        assert!(kept.get(key(&a), &a).is_some());
        kept.keep(key(&c), &c, Templates::new());
        assert!(kept.get(key(&b), &b).is_none(), "b was the least recently used");
        assert!(kept.get(key(&a), &a).is_some() && kept.get(key(&c), &c).is_some());
        assert_eq!(kept.sets.len(), 2);
        // Other texts under a kept key are not served.
        assert!(kept.get(key(&a), &c).is_none());
        // The byte budget: each set holds 22 bytes of names and texts.
        let mut kept = KeptSets::new(10, 50);
        for t in [&a, &b, &c, &a] {
            kept.keep(key(t), t, Templates::new());
            assert!(kept.bytes <= 50 && kept.sets.len() <= 2, "{}", kept.bytes);
        }
        assert!(kept.get(key(&a), &a).is_some() && kept.get(key(&c), &c).is_some());
        assert!(kept.get(key(&b), &b).is_none());
        // A set larger than the budget is not kept.
        let big = vec![("c/templates/big.yaml", "x".repeat(60).leak() as &str)];
        kept.keep(key(&big), &big, Templates::new());
        assert!(kept.get(key(&big), &big).is_none() && kept.bytes <= 50);
    }

    /// The parsed sets kept across renders serve only the very same texts:
    /// a new version of a chart (same template names, other texts), a
    /// template that failed to parse and was then fixed, another chart with
    /// the same texts under other names, and `tpl` texts and `regex`
    /// patterns that change from render to render all render afresh.
    #[test]
    fn kept_template_sets_never_serve_other_texts() {
        let render = |chart: &str, files: &[(&str, &str)], sets: &[&str]| {
            let mut t = MemTree::new();
            t.insert(
                &format!("{chart}/Chart.yaml"),
                format!("apiVersion: v2\nname: {chart}\nversion: 1.0.0\n"),
            );
            for (p, text) in files {
                t.insert(&format!("{chart}/{p}"), *text);
            }
            let mut values = crate::value::Map::new();
            for s in sets {
                values::apply_set(&mut values, s, values::SetKind::Literal).unwrap();
            }
            template(&t, chart, &Options { values, ..Options::default() })
                .map_err(|e| e.to_string())
        };
        let cm = "kind: ConfigMap\ndata:\n  v: {{ include \"h\" . }}\n  t: {{ tpl .Values.t . | quote }}\n  r: {{ regexReplaceAll .Values.re \"abc\" \"X\" }}\n";
        let v1 =
            [("templates/cm.yaml", cm), ("templates/_h.tpl", "{{ define \"h\" }}one{{ end }}")];
        let v2 =
            [("templates/cm.yaml", cm), ("templates/_h.tpl", "{{ define \"h\" }}two{{ end }}")];
        let one = render("k", &v1, &["t={{ .Release.Name }}", "re=a"]).unwrap();
        assert!(one.contains("v: one\n  t: \"release-name\"\n  r: Xbc"), "{one}");
        let two = render("k", &v2, &["t=x{{ .Release.Namespace }}", "re=[bc]+"]).unwrap();
        assert!(two.contains("v: two\n  t: \"xdefault\"\n  r: aX"), "{two}");
        // The first version again, from the kept set.
        assert_eq!(render("k", &v1, &["t={{ .Release.Name }}", "re=a"]).unwrap(), one);
        // The same texts in another chart are that chart's templates.
        let other = render("m", &v1, &["t=", "re=a"]).unwrap();
        assert!(other.contains("# Source: m/templates/cm.yaml"), "{other}");
        // A template that fails to parse, then the same one fixed.
        let broken = [("templates/cm.yaml", "{{ if }}"), ("templates/_h.tpl", "")];
        assert!(render("k", &broken, &[]).unwrap_err().contains("missing value for if"));
        let fixed = [("templates/cm.yaml", "{{ if 1 }}kind: A{{ end }}"), ("templates/_h.tpl", "")];
        assert!(render("k", &fixed, &[]).unwrap().contains("kind: A"));
    }
}
