//! The build pipeline: resources, components, generators, transformers, then hashes, name references and order.

use super::config::Config;
use super::kustomization::{
    FILE_NAMES, Kustomization, Patch, ReplacementEntry, SortOptions, UserFieldSpec,
};
use super::select::Matcher;
use super::transform::{
    images, labels, name_reference, namespace, prefix_suffix, replacements, replicas, value_add,
    vars,
};
use super::{
    Error, LoadRestrictor, Options, build_annotations, generate, go_decode, go_dump, helm_charts,
    kustomization, order, patch, plugin, validators, ynode,
};
use crate::resource::{
    Duplicates, Gvk, MergedPatch, ResId, Resource, Retyped, SchemaScopes, SourceText, Step,
};
use crate::tree::{self, EntryKind, Tree};
use crate::value::{Map, Value};
use crate::yaml;

/// How deep bases may nest before the build gives up.
const MAX_DEPTH: usize = 64;

/// Builds the kustomization in `dir` (a path in `tree`, relative to its root:
/// `""` or `"."` for the root) into the objects `kubectl kustomize` would
/// print, in its order.
pub fn build(tree: &dyn Tree, dir: &str, options: &Options) -> Result<Vec<Resource>, Error> {
    let dir = tree::join("", dir)?;
    // Objects nest as deep as kyaml reads them; the build's walks over them recurse.
    crate::stack::with_room(crate::stack::ROOM, || build_here(tree, &dir, options))
}

fn build_here(tree: &dyn Tree, dir: &str, options: &Options) -> Result<Vec<Resource>, Error> {
    let mut b = Builder {
        tree,
        options,
        stack: Vec::new(),
        top_sort: None,
        top_meta: None,
        idents: None,
        vars: Vec::new(),
        config: Config::default(),
        go_config: Config::default(),
        schema: None,
        scopes: SchemaScopes::new(),
        schema_set: false,
        transformer_notes: false,
        track_origins: false,
        settle_notes_here: true,
        builtin_schema_read: false,
        probing: None,
    };
    check_build_dir(tree, dir)?;
    // The top kustomization's transformer configuration, as kustomize
    // merged it, names the fields of references and vars.
    let (mut acc, top) = b.kustomization(dir)?;
    for r in &mut acc {
        annotations_from_list(r)?;
    }
    add_hashes(&mut acc, &b.scopes)?;
    name_reference::apply(&mut acc, &top.name_back_refs, &b.scopes)?;
    vars::resolve(&mut acc, &b.vars, &top.var_reference).map_err(|m| invalid(dir_file(dir), m))?;
    // kustomize reads its objects back once the build is done: one that a
    // JSON patch left without a name fails there (a list kind passes, as
    // when it is read from a file).
    let nameless = |r: &Resource| r.name().is_empty() && !r.kind().ends_with("List");
    if let Some(r) = acc.iter().find(|r| r.kind().is_empty() || nameless(r)) {
        let missing = if r.kind().is_empty() { "kind" } else { "metadata.name" };
        return Err(invalid(
            &r.source,
            format!(
                "missing {missing} in object {}",
                go_resource_meta(&build_annotations::annotated(r, &b.scopes), &r.scalar_texts)
            ),
        ));
    }
    if let Some(meta) = &b.top_meta {
        build_metadata(&mut acc, dir, meta);
    }
    for r in &mut acc {
        // Whether kustomize holds annotations of its own on the object
        // (only asked where its file gave a key twice).
        let build_notes = r.duplicates.is_some() && {
            let notes = |v: &Value| {
                v.get_path(&["metadata", "annotations"]).and_then(Value::as_map).map_or(0, Map::len)
            };
            notes(&build_annotations::annotated(r, &b.scopes)) > notes(&r.value)
        };
        r.rewrite_annotations(build_notes);
        r.stringify_annotations();
    }
    // Objects marked as local configuration serve the build as sources
    // (replacements, vars, name references) and are left out of its output;
    // kustomize keeps one only when the annotation says exactly `false`.
    acc.retain(|r| {
        r.value
            .get_path(&["metadata", "annotations", LOCAL_CONFIG])
            .is_none_or(|v| v.as_str() == Some("false"))
    });
    unique_ids(&acc, dir_file(dir), &b.scopes)?;
    // kustomize checks the top kustomization's sort options once it has
    // built the objects (read back, the local ones dropped), when it sorts
    // them.
    if let Some(problem) = b.top_sort.as_ref().and_then(|so| so.problem.clone()) {
        return Err(invalid(dir_file(dir), problem));
    }
    // kustomize sorts the objects before it reads them back to print them:
    // the first in the output order that cannot be read is the one it names.
    match b.top_sort {
        Some(so) if so.fifo => {}
        Some(so) if so.order_first.is_some() || so.order_last.is_some() => order::legacy_sort_with(
            &mut acc,
            so.order_first.as_deref().unwrap_or_default(),
            so.order_last.as_deref().unwrap_or_default(),
        ),
        _ => order::legacy_sort(&mut acc),
    }
    let asked = b.top_meta.map_or((false, false), |(origin, _)| (origin, b.transformer_notes));
    let unasked: Vec<&str> = [(ORIGIN, asked.0), (TRANSFORMATIONS, asked.1)]
        .into_iter()
        .filter_map(|(key, asked)| (!asked).then_some(key))
        .collect();
    for r in &mut acc {
        if let Some(e) = duplicates_now(r) {
            return Err(duplicate_key(&e));
        }
        if let Some(error) = replacements::mistyped_error(r) {
            return Err(invalid(&r.source, format!("map[string]interface {{}}(nil): {error}")));
        }
        // kustomize rewrites the annotations at the end, and its writer
        // reads an empty key as the map itself: it panics there.
        if let Some(Value::Map(notes)) = r.value.get_path(&["metadata", "annotations"])
            && notes.contains_key("")
        {
            return Err(invalid(
                &r.source,
                format!(
                    "{}: an annotation has an empty key: wrong node kind: expected ScalarNode but got MappingNode: node contents:",
                    r.id()
                ),
            ));
        }
        drop_empty_metadata_maps(r, &unasked);
        if let Some(error) = generate::tab_block_error(r, generate::Decoding::Output) {
            return Err(invalid(&r.source, error));
        }
        // kustomize fails where its YAML writer cannot print a value, and
        // where it turns an object holding a key that is not a string into JSON.
        // A float JSON cannot hold fails kustomize's conversion of the
        // object, which it names by Go's `%#v` of the decoded map.
        yaml::validate(&r.value).map_err(|e| {
            let what = match e {
                yaml::EmitError::NonFinite { .. } | yaml::EmitError::TooDeep => {
                    go_dump::object(&r.value, &[], Some(r.quoted.as_slice()))
                }
                _ => r.id().to_string(),
            };
            invalid(&r.source, format!("{what}: {e}"))
        })?;
        // kustomize turns each object into JSON as it prints it, in the
        // output order: a key its file or a transformer wrote that YAML
        // reads as no string fails there, shown in Go's `%#v` of the
        // decoded object.
        if r.has_plain_key() {
            return Err(invalid(
                &r.source,
                format!(
                    "{}: json: unsupported type: map[interface {{}}]interface {{}}",
                    go_dump::object(&r.value, &r.plain_keys, Some(r.quoted.as_slice()))
                ),
            ));
        }
    }
    // Sorted by their text, names written as numbers or bools print as those.
    for r in &mut acc {
        r.restore_written_name();
    }
    Ok(acc)
}

/// kustomize reads an object's annotations at the end of the build (whether
/// a hash suffix is due) as [`build_annotations::list_read`] says: a list
/// there becomes the map of its items in pairs (a key or value that is no
/// scalar has no text), or fails the read.
fn annotations_from_list(r: &mut Resource) -> Result<(), Error> {
    let at = [Step::Key("metadata".into()), Step::Key("annotations".into())];
    let Some(Value::Seq(items)) = crate::resource::value_at(&r.value, &at) else { return Ok(()) };
    if let Some(panic) = build_annotations::list_read(r) {
        return Err(invalid(&r.source, panic));
    }
    // A string keeps the text it was decoded from (a plain timestamp).
    let text = |i: usize, v: &Value| {
        let path = [&at[..], &[Step::Index(i)]].concat();
        match v {
            Value::String(s) => crate::resource::written_text(v, &path, &r.scalar_texts)
                .unwrap_or_else(|| s.clone()),
            _ => crate::resource::scalar_text(v, &path, &r.scalar_texts).unwrap_or_default(),
        }
    };
    // kustomize writes the map's keys as plain scalars: one YAML reads as
    // no string (`"true"`, `0x1F`, `~`) fails where it turns the object
    // into JSON, as a label transformer's key does.
    let mut plain = Vec::new();
    let mut pairs = Map::new();
    for (i, pair) in items.chunks(2).enumerate() {
        let key = text(2 * i, &pair[0]);
        if !matches!(yaml::resolve::resolve_plain(&key), Value::String(_)) {
            plain.push((at.to_vec(), key.clone()));
        }
        pairs.insert(key, Value::String(text(2 * i + 1, &pair[1])));
    }
    if let Some(slot) = r.value.get_path_mut(&["metadata", "annotations"]) {
        *slot = Value::Map(pairs);
    }
    r.plain_keys.extend(plain);
    Ok(())
}

/// The message of the Go panic kustomize meets where it reads an object it
/// left as an empty node.
pub(super) const NIL_DEREFERENCE: &str =
    "runtime error: invalid memory address or nil pointer dereference";

/// The annotation that marks an object as local configuration.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

/// A patch once kustomize has configured its transformer.
enum Loaded {
    /// Nothing to apply (an empty `patchesStrategicMerge` path).
    Skip,
    /// A failure kustomize meets only when the transformer runs.
    Fails(Error),
    Patch(LoadedPatch),
}

struct LoadedPatch {
    /// The file holding the patch.
    source: String,
    text: String,
    docs: Vec<Value>,
    /// The written text of some scalars of each patch document, when kiln
    /// read it as kustomize reads a resource file.
    doc_texts: Vec<Vec<(Vec<Step>, String)>>,
    /// Where each document is in the text, when read as kustomize reads a
    /// resource file (for the styles of the nodes it merges).
    doc_pieces: Vec<Option<std::ops::Range<usize>>>,
    /// The keys each patch document gives again (see [`carry_shadows`]).
    doc_duplicates: Vec<Option<Box<Duplicates>>>,
    is_json6902: bool,
}

/// A kustomization's transformers as kustomize holds them once it has
/// configured them all: it configures the built-in fields' transformers,
/// then the `transformers:` entries, before it runs the first one, so a
/// failure to configure any comes before a failure to run any.
struct Configured {
    strategic_merge: Vec<Loaded>,
    patches: Vec<Loaded>,
    json6902: Vec<Loaded>,
    replacements: Vec<replacements::Replacement>,
    value_add: Option<value_add::ValueAdd>,
    /// The places of each `labels` entry ([`Config::label_set_specs`]).
    label_sets: Vec<Vec<UserFieldSpec>>,
}

/// A `generators:` or `transformers:` entry's config, configured.
enum ConfiguredPlugin {
    /// A config that is itself the object it generates.
    Object { source: String, doc: Value, object: Value },
    /// A built-in plugin, as the kustomization fields it stands for.
    Builtin { source: String, doc: Value, kustomization: Box<Kustomization> },
}

struct Builder<'a> {
    tree: &'a dyn Tree,
    options: &'a Options,
    stack: Vec<String>,
    /// `sortOptions` of the top kustomization.
    top_sort: Option<SortOptions>,
    /// `buildMetadata` of the top kustomization: (origin annotations, managed-by label).
    top_meta: Option<(bool, bool)>,

    /// Kind and name of each accumulated object, cached while patches run.
    idents: Option<Vec<(String, String)>>,
    /// Vars declared anywhere in the build, resolved at the end.
    vars: Vec<vars::BoundVar>,
    /// Field specs from `configurations:` and `crds:` met so far; like
    /// kustomize's accumulated transformer config they reach the overlays.
    config: Config,
    /// kustomize's transformer configuration of the accumulator being
    /// built, as kustomize merges it (its defaults and the `configurations:`
    /// and `crds:` reached, each list in Go's sorted order): whether a merge
    /// conflicts, and what its message prints, depend on that order.
    go_config: Config,
    /// The schema of the top kustomization's `openapi: {path: ...}`.
    schema: Option<patch::OpenApi>,
    /// The scopes the paths of the build's `openapi:` schema file give,
    /// from the moment kustomize loads it (empty before and without one).
    scopes: SchemaScopes,
    /// Whether a kustomization already chose the OpenAPI schema (a custom
    /// file or a built-in version): kustomize keeps the first choice.
    schema_set: bool,
    /// `buildMetadata: [transformerAnnotations]` of the top kustomization:
    /// every kustomization of the build then notes its transformers.
    transformer_notes: bool,
    /// Whether the top kustomization lists any `buildMetadata`: kustomize
    /// then keeps origin and transformer annotations in each object's
    /// annotations while it builds, where a patch that replaces the annotations drops
    /// them (see [`Resource::annotations_wiped_by`]).
    track_origins: bool,
    /// Whether kustomize has read its built-in schema by now: a strategic
    /// merge patch needs it, and so does an object whose scope it does not
    /// know without it. A schema file a base or component names later is
    /// then added to the built-in schema instead of replacing it.
    builtin_schema_read: bool,
    /// Whether the kustomization whose transformers run now notes them
    /// itself (not a plugin config or a validator run over it).
    settle_notes_here: bool,
    /// While a validator runs as a probe: whether one of its patches wrote.
    probing: Option<bool>,
}

/// The Kubernetes version of kustomize's built-in schema, the one
/// `openapi: {version: ...}` may name.
const BUILTIN_OPENAPI_VERSION: &str = "v1.21.2";

/// How errors of the whole build name the top kustomization.
fn dir_file(dir: &str) -> &str {
    if dir.is_empty() { "." } else { dir }
}

/// What the kustomize inside kubectl writes as its version.
const MANAGED_BY: &str = "kustomize-(devel)";

/// `buildMetadata` of the top kustomization: where each object came from
/// (relative to the top directory) and which tool made the output.
fn build_metadata(acc: &mut [Resource], dir: &str, (origin, managed_by): &(bool, bool)) {
    // Files of bases beside the top directory read `../base/file.yaml`.
    let rel = |path: &str| tree::relative(dir, path);
    for r in acc.iter_mut() {
        if *origin {
            let text = r.origin_by.clone().unwrap_or_else(|| origin_of(r, &rel));
            let meta = r.metadata_mut();
            let notes = meta
                .entry("annotations".to_string())
                .or_insert_with(|| Value::Map(Default::default()));
            if let Value::Map(m) = notes {
                m.insert(ORIGIN.into(), Value::String(text));
            }
        }
        if *managed_by {
            let meta = r.metadata_mut();
            let labels =
                meta.entry("labels".to_string()).or_insert_with(|| Value::Map(Default::default()));
            if let Value::Map(m) = labels {
                m.insert("app.kubernetes.io/managed-by".into(), Value::String(MANAGED_BY.into()));
            }
        }
    }
}

/// The origin kustomize stamps on an object as it comes into the build: the
/// file it was read from or the generator that made it, as `rel` names
/// paths.
fn origin_of(r: &Resource, rel: &dyn Fn(&str) -> String) -> String {
    match generate::generated_by(&r.source) {
        Some(by) => format!(
            "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {}\n{}{}",
            rel(by.file),
            by.kind,
            by.name.map(|n| format!("  name: {n}\n")).unwrap_or_default(),
            by.namespace.map(|n| format!("  namespace: {n}\n")).unwrap_or_default()
        ),
        None => format!("path: {}\n", rel(&r.source)),
    }
}

/// The annotation `buildMetadata: [originAnnotations]` writes.
pub(crate) const ORIGIN: &str = "config.kubernetes.io/origin";

/// The annotation `buildMetadata: [transformerAnnotations]` writes.
pub(crate) const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

/// One entry of the transformations annotation: the `configuredBy` of a
/// transformer (apiVersion, kind, and a plugin config's name and namespace).
struct Note {
    kind: String,
    name: Option<String>,
    namespace: Option<String>,
}

impl Note {
    fn builtin(kind: &str) -> Note {
        Note { kind: kind.to_string(), name: None, namespace: None }
    }

    fn plugin(doc: &Value) -> Note {
        let meta = |key: &str| {
            doc.get_path(&["metadata", key]).and_then(Value::as_str).map(str::to_string)
        };
        Note {
            kind: doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("").to_string(),
            name: meta("name"),
            namespace: meta("namespace"),
        }
    }
}

/// The built-in transformers a kustomization's fields configure, in the
/// order they run (measured with `kubectl kustomize`).
fn field_transformers(k: &Kustomization) -> Vec<&'static str> {
    let each = |n: usize, kind: &'static str| std::iter::repeat_n(kind, n);
    let labels_transformers = match k.labels.len() {
        0 if k.common_labels.is_empty() => 0,
        n => n + 1,
    };
    // All of patchesStrategicMerge is one transformer; each entry of the
    // other patch lists, images and replicas is one of its own.
    each(usize::from(!k.patches_strategic_merge.is_empty()), "PatchStrategicMergeTransformer")
        .chain(each(k.patches.len(), "PatchTransformer"))
        .chain(each(usize::from(k.namespace.is_some()), "NamespaceTransformer"))
        .chain(each(
            usize::from(k.name_prefix.as_deref().is_some_and(|p| !p.is_empty())),
            "PrefixTransformer",
        ))
        .chain(each(
            usize::from(k.name_suffix.as_deref().is_some_and(|p| !p.is_empty())),
            "SuffixTransformer",
        ))
        // kubectl lists one for commonLabels whenever any labels are set.
        .chain(each(labels_transformers, "LabelTransformer"))
        .chain(each(usize::from(!k.common_annotations.is_empty()), "AnnotationsTransformer"))
        .chain(each(k.patches_json6902.len(), "PatchJson6902Transformer"))
        .chain(each(k.replicas.len(), "ReplicaCountTransformer"))
        .chain(each(k.images.len(), "ImageTagTransformer"))
        .chain(each(usize::from(!k.replacements.is_empty()), "ReplacementTransformer"))
        .collect()
}

/// A transformer as the origin annotation names it.
fn origin_text(configured_in: &str, n: &Note) -> String {
    let mut text = format!(
        "configuredIn: {configured_in}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {}\n",
        n.kind
    );
    for (key, v) in [("name", &n.name), ("namespace", &n.namespace)] {
        if let Some(v) = v {
            text.push_str(&format!("  {key}: {v}\n"));
        }
    }
    text
}

/// `buildMetadata: [transformerAnnotations]`: appends the transformers a
/// kustomization (or plugin config) at `configured_in` ran to every object
/// it ran over, whether or not they changed it (`write`: the annotation was
/// asked for). kustomize notes each transformer when it has run; a patch
/// that replaced an object's annotations dropped the notes before it, and
/// with its origin gone the object takes that transformer as its origin
/// instead of noting it. `notes` are the transformers from index `from` on
/// (the index a wiping patch is known by).
fn note_transformations(
    acc: &mut [Resource],
    configured_in: &str,
    notes: &[Note],
    from: usize,
    write: bool,
) {
    if notes.is_empty() {
        return;
    }
    let texts: Vec<String> = notes
        .iter()
        .map(|n| {
            let mut text = String::from("- ");
            for (i, line) in origin_text(configured_in, n).lines().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(line);
                text.push('\n');
            }
            text
        })
        .collect();
    for r in acc.iter_mut() {
        let first = match r.annotations_wiped_by.take() {
            Some(i) => {
                let i = i.saturating_sub(from).min(notes.len() - 1);
                r.origin_by = Some(origin_text(configured_in, &notes[i]));
                r.transformations_held.clear();
                i + 1
            }
            None => 0,
        };
        if first >= texts.len() {
            continue;
        }
        let text = texts[first..].concat();
        if !write {
            // Held for the messages that print the object mid-build.
            r.transformations_held.push_str(&text);
            continue;
        }
        let notes = r
            .metadata_mut()
            .entry("annotations".to_string())
            .or_insert_with(|| Value::Map(Default::default()));
        if let Value::Map(m) = notes {
            // A base's transformers come first.
            let mut all = m.get(TRANSFORMATIONS).and_then(Value::as_str).unwrap_or("").to_string();
            all.push_str(&text);
            m.insert(TRANSFORMATIONS.into(), Value::String(all));
        }
    }
}

/// Refuses the patches kustomize can read neither as strategic merge patches
/// nor as a JSON patch, or can read as both: no document (only comments,
/// separators or `null`), an empty list, an empty map, a scalar, a list
/// after a map.
/// Whether a `patches` entry's documents read as a strategic merge patch or
/// a JSON patch, as kustomize decides; the error is in its words, with
/// whether kustomize shows it wrapped in the transformer's configuration.
fn check_patch_kind(docs: &[Value], name: &str) -> Result<(), (String, bool)> {
    let both = || (format!("illegally qualifies as both an SM and JSON patch: {name}"), true);
    let neither = || (format!("unable to parse SM or JSON patch from {name}"), true);
    match docs {
        [] => Err(both()),
        [Value::Seq(ops)] if ops.is_empty() => Err(both()),
        // A JSON patch is its first document; the others are not read. Go's
        // decoder wants each operation a map.
        [Value::Seq(ops), ..] if ops.iter().all(|op| matches!(op, Value::Map(_) | Value::Null)) => {
            Ok(())
        }
        [Value::Seq(_), ..] => Err(neither()),
        // An empty object reads as a JSON patch too, whose decoding then
        // fails when the transformer runs.
        [Value::Map(m)] if m.is_empty() => Err((
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch".to_string(),
            false,
        )),
        _ if docs.iter().all(|d| matches!(d, Value::Map(_))) => Ok(()),
        _ => Err(neither()),
    }
}

/// What kustomize's `PatchJson6902Transformer` finds wrong with its
/// operations as it is configured, before it runs: a patch file without
/// text, operations Go's JSON decoder cannot read into a list of maps (text
/// that does not start with `[` is read as YAML and shown as JSON), or no
/// operation at all.
pub(crate) fn json6902_problem(path: Option<&str>, text: &str, source: &str) -> Option<String> {
    if text.is_empty() {
        return path.map(|path| format!("patch file '{path}' empty seems to be empty"));
    }
    // Text starting with `[` goes to Go's JSON decoder as it is; only other
    // text is read as YAML first, so flow YAML in brackets is refused.
    if text.starts_with('[') {
        if let Some(e) = crate::gotmpl::sprig::go_json_syntax_error(text) {
            return Some(format!("decoding {text}: {e}"));
        }
    }
    // A text kiln cannot read fails later, with the reader's message.
    let first = yaml::parse_documents(text, source).ok()?.into_iter().next().unwrap_or(Value::Null);
    let shown = if text.starts_with('[') { text.to_string() } else { generate::to_go_json(&first) };
    let decoding = |v: &Value, go_type: &str| {
        Some(format!(
            "decoding {shown}: json: cannot unmarshal {} into Go value of type jsonpatch.{go_type}",
            kustomization::json_kind(v)
        ))
    };
    let ops = match &first {
        Value::Null => &Vec::new(),
        Value::Seq(ops) => ops,
        other => return decoding(other, "Patch"),
    };
    if let Some(op) = ops.iter().find(|op| !matches!(op, Value::Map(_) | Value::Null)) {
        return decoding(op, "Operation");
    }
    if ops.is_empty() {
        return Some(format!(
            "patch appears to be empty; file={}, JsonOp={shown}",
            path.unwrap_or("")
        ));
    }
    None
}

/// kustomize configures one transformer with every `patchesStrategicMerge`
/// entry and fails when, read together, they give no object (empty paths,
/// texts and files without objects).
fn no_patch_loaded(k: &Kustomization, loaded: &[Loaded]) -> Option<Error> {
    let empty = |l: &Loaded| match l {
        Loaded::Skip => true,
        Loaded::Patch(p) => p.docs.is_empty(),
        Loaded::Fails(_) => false,
    };
    if loaded.is_empty() || !loaded.iter().all(empty) {
        return None;
    }
    let paths: Vec<&str> = k
        .patches_strategic_merge
        .iter()
        .filter_map(|q| q.path.as_deref().or(q.patch.as_deref()))
        .collect();
    let files = format!("[{}]", paths.join(" "));
    Some(invalid(&k.file, format!("patch appears to be empty; files={files}, Patch=")))
}

/// kustomize reads a strategic merge patch as objects: each document needs a
/// kind and, unless it is a list, a name. `patchesStrategicMerge` says which
/// is missing; `patches` then tries the text as a JSON patch, which a map is
/// not, and fails on both.
fn check_patch_identity(
    docs: &[Value],
    texts: &[Vec<(Vec<Step>, String)>],
    legacy: bool,
    name: &str,
) -> Result<(), String> {
    for (n, doc) in
        docs.iter().enumerate().filter(|(_, d)| d.as_map().is_some_and(|m| !m.is_empty()))
    {
        // As for a resource, nothing of type or metadata comes first.
        let blank = |key: &str| doc.get_path(&[key]).is_none_or(nil_or_empty);
        if legacy && ["apiVersion", "kind", "metadata"].into_iter().all(blank) {
            return Err("missing Resource metadata".to_string());
        }
        let kind = doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("");
        let named = || {
            doc.get_path(&["metadata", "name"])
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty())
        };
        let missing = if kind.is_empty() {
            "kind"
        } else if !kind.ends_with("List") && !named() {
            "metadata.name"
        } else {
            continue;
        };
        return Err(if legacy {
            format!(
                "missing {missing} in object {}",
                go_resource_meta(doc, texts.get(n).map_or(&[], Vec::as_slice))
            )
        } else {
            format!("unable to parse SM or JSON patch from {name}")
        });
    }
    Ok(())
}

/// The text of a strategic merge patch whose nodes kiln can place as
/// kustomize reads them: one document, no document markers (kustomize
/// numbers lines per document), no comments (kustomize carries them into
/// the object) and not a list of patches.
fn placeable_patch(text: &str, one_document: bool) -> Option<String> {
    let marked = text.lines().any(|l| l.starts_with("---") || l.starts_with("..."));
    (one_document && !marked && !text.contains('#') && !text.starts_with('\u{feff}'))
        .then(|| text.replace("\r\n", "\n"))
}

/// Adds the annotations that `metadata.annotations` (a map, created when
/// missing) does not hold yet; returns the keys it added.
fn with_annotations(value: &mut Value, notes: &[(String, String)]) -> Vec<String> {
    let Some(Value::Map(meta)) = value.get_path_mut(&["metadata"]).filter(|_| !notes.is_empty())
    else {
        return Vec::new();
    };
    let slot = meta.entry("annotations".to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Map(Map::new());
    }
    let Value::Map(map) = slot else {
        return Vec::new();
    };
    let mut added = Vec::new();
    for (k, v) in notes {
        if !map.contains_key(k) {
            map.insert(k.clone(), Value::String(v.clone()));
            added.push(k.clone());
        }
    }
    added
}

/// Takes the given keys out of `metadata.annotations` again (wherever a
/// patch left the map); an emptied map goes at the end of the build.
fn remove_annotations(value: &mut Value, keys: &[String]) {
    if let Some(Value::Map(notes)) = value.get_path_mut(&["metadata", "annotations"]) {
        for k in keys {
            notes.shift_remove(k);
        }
    }
}

/// The annotations kyaml keeps its own bookkeeping in (file paths, indexes,
/// ids, sequence indentation) and those kustomize keeps an object's build
/// state in: kustomize takes them out of every object it prints, whoever
/// wrote them.
const BOOKKEEPING_ANNOTATIONS: [&str; 18] = [
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "config.k8s.io/id",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/id",
    "internal.config.kubernetes.io/seqindent",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "internal.config.kubernetes.io/previousNames",
    "internal.config.kubernetes.io/previousNamespaces",
    "internal.config.kubernetes.io/previousKinds",
    "internal.config.kubernetes.io/prefixes",
    "internal.config.kubernetes.io/suffixes",
    "internal.config.kubernetes.io/allowNameChange",
    "internal.config.kubernetes.io/allowKindChange",
    "internal.config.kubernetes.io/needsHashSuffix",
    "internal.config.kubernetes.io/generatorBehavior",
    "internal.config.kubernetes.io/refBy",
];

/// kustomize rewrites every object's annotations at the end of a build (to
/// take its own bookkeeping out, and the origin and transformations
/// annotations the top kustomization's `buildMetadata` did not ask for,
/// `unasked`, whoever wrote them), and leaves no annotations field that is
/// empty, null or not a map; labels stay as written.
fn drop_empty_metadata_maps(r: &mut Resource, unasked: &[&str]) {
    if let Some(Value::Map(meta)) = r.value.get_path_mut(&["metadata"]) {
        if let Some(Value::Map(notes)) = meta.get_mut("annotations") {
            notes.retain(|k, _| {
                !BOOKKEEPING_ANNOTATIONS.contains(&k.as_str()) && !unasked.contains(&k.as_str())
            });
        }
        if meta.get("annotations").is_some_and(|v| v.as_map().is_none_or(|m| m.is_empty())) {
            meta.shift_remove("annotations");
        }
    }
}

/// kustomize's loader's words for a missing file it reads without load
/// restrictions: Go's open error, where the restriction would have
/// resolved the path first.
pub(super) fn unrestricted_missing(tree: &dyn Tree, path: &str, shown: &str) -> String {
    let errno = match unresolved(tree, path) {
        Unresolved::Missing(_) => "no such file or directory",
        Unresolved::ThroughFile => "not a directory",
    };
    format!("open {shown}: {errno}")
}

/// Why Go cannot resolve a path missing from the tree.
pub(super) enum Unresolved {
    /// This part of it (the first that is missing) is not there.
    Missing(String),
    /// A part of it before the last is a file.
    ThroughFile,
}

/// Walks `path` part by part, as Go's `filepath.EvalSymlinks` does, to
/// where it stops: the first part missing, or a file with more parts after it.
pub(super) fn unresolved(tree: &dyn Tree, path: &str) -> Unresolved {
    let parts: Vec<&str> = path.split('/').collect();
    let mut at = String::new();
    for (i, part) in parts.iter().enumerate() {
        if !at.is_empty() {
            at.push('/');
        }
        at.push_str(part);
        match tree.kind(&at) {
            None => break,
            Some(EntryKind::File) if i + 1 < parts.len() => return Unresolved::ThroughFile,
            Some(_) => {}
        }
    }
    Unresolved::Missing(at)
}

/// kustomize's loader's words for a path `filepath.EvalSymlinks` cannot
/// resolve: `lstat` of the first part missing, or Go's bare `not a
/// directory` for a path through a file.
pub(super) fn symlinks_failure(tree: &dyn Tree, path: &str, shown: &str) -> String {
    let why = match unresolved(tree, path) {
        Unresolved::Missing(part) => format!("lstat {part}: no such file or directory"),
        Unresolved::ThroughFile => "not a directory".to_string(),
    };
    format!("evalsymlink failure on '{shown}' : {why}")
}

fn invalid(file: &str, message: impl Into<String>) -> Error {
    Error::Invalid { file: file.to_string(), message: message.into() }
}

/// An identity as Go's `%#v` prints kustomize's `resid.ResId`.
fn go_resid(id: &ResId) -> String {
    format!(
        "resid.ResId{{Gvk:resid.Gvk{{Group:{:?}, Version:{:?}, Kind:{:?}, isClusterScoped:{}}}, Name:{:?}, Namespace:{:?}}}",
        id.gvk.group,
        id.gvk.version,
        id.gvk.kind,
        crate::resource::is_cluster_scoped_kind(&id.gvk.group, &id.gvk.kind),
        id.name,
        id.namespace
    )
}

/// `rel` joined onto `dir` and cleaned as Go's `filepath.Join` does, keeping
/// the `..` that climb above the root.
fn lexical_join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in dir.split('/').chain(rel.split('/')) {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            seg => parts.push(seg),
        }
    }
    if parts.is_empty() { ".".to_string() } else { parts.join("/") }
}

/// `text` as Go's `%q` prints a string (`strconv.Quote`).
pub(crate) fn go_quote(text: &str) -> String {
    crate::gotmpl::fmt::quote(text)
}

fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("github.com/")
        || entry.starts_with("git@")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
}

impl Builder<'_> {
    /// A tree path as kustomize prints it in build metadata: relative to the
    /// directory of the top kustomization.
    fn relative_to_top(&self, path: &str) -> String {
        tree::relative(self.stack.first().map_or("", String::as_str), path)
    }

    /// While the build tracks origins: the origin kustomize stamps on each
    /// object that came into the build since the last stamp (see
    /// [`Resource::origin_held`]).
    fn hold_origins(&self, acc: &mut [Resource]) {
        if !self.track_origins {
            return;
        }
        let rel = |path: &str| self.relative_to_top(path);
        for r in acc.iter_mut().filter(|r| r.origin_held.is_none()) {
            r.origin_held = Some(origin_of(r, &rel));
        }
    }

    fn restrict(&self) -> bool {
        self.options.load_restrictor == LoadRestrictor::RootOnly
    }

    /// Whether `path` is in or below `dir`, both as written and once
    /// symlinks are followed (kustomize checks the resolved path).
    fn stays_within(&self, path: &str, dir: &str) -> bool {
        let real = |p: &str| self.tree.real_path(p).unwrap_or_else(|_| p.to_string());
        tree::is_within(path, dir) && tree::is_within(&real(path), &real(dir))
    }

    fn load(&self, dir: &str) -> Result<Kustomization, Error> {
        let found: Vec<&str> = FILE_NAMES
            .iter()
            .copied()
            .filter(|n| {
                self.tree.kind(&tree::join(dir, n).unwrap_or_default()) == Some(EntryKind::File)
            })
            .collect();
        let name = match found.as_slice() {
            [one] => *one,
            [] => {
                let shown = if dir.is_empty() { "." } else { dir };
                return Err(invalid(
                    shown,
                    format!(
                        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{shown}'"
                    ),
                ));
            }
            _ => {
                return Err(invalid(
                    dir_file(dir),
                    format!("Found multiple kustomization files under: {}\n", dir_file(dir)),
                ));
            }
        };
        let file = tree::join(dir, name)?;
        Kustomization::from_file_value(&self.kustomization_doc(&file)?, &file)
    }

    /// The document of kustomization file `file`, as kustomize reads it
    /// before it decodes the fields.
    fn kustomization_doc(&self, file: &str) -> Result<Value, Error> {
        let text = tree::read_text(self.tree, file)?;
        // sigs.k8s.io/yaml reads the file as YAML 1.1 and turns a key that is
        // a number or bool into its text (a null key it refuses).
        let docs = yaml::parse_documents_helm(&text, file)
            .map_err(|e| invalid(file, format!("invalid Kustomization: {}", e.go_message())))?;
        let doc = docs.into_iter().find(|d| !d.is_null()).unwrap_or(Value::Null);
        // kustomize turns the file into JSON before it reads the fields.
        if let Err(e @ yaml::EmitError::NonFinite { .. }) = yaml::validate(&doc) {
            return Err(invalid(file, format!("invalid Kustomization: {e}")));
        }
        Ok(doc)
    }

    fn enter(&mut self, dir: &str, from: &str) -> Result<(), Error> {
        // kustomize's loader refuses a root that is, or contains, one the
        // build is already in, naming the nearest such root.
        if let Some(visited) = self.stack.iter().rev().find(|d| tree::is_within(d, dir)) {
            return Err(invalid(
                from,
                format!(
                    "cycle detected: candidate root '{}' contains visited root '{}'",
                    dir_file(dir),
                    dir_file(visited)
                ),
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(invalid(
                from,
                format!("kustomizations nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.stack.push(dir.to_string());
        Ok(())
    }

    /// Builds a kustomization (the top one or a base). kustomize gives each
    /// its own transformer configuration, made of its `configurations`,
    /// `crds` and those of its bases (not those of a sibling base), and
    /// hands it on to the kustomization that lists it; a component adds to
    /// the configuration of the kustomization it runs in.
    /// Also returns the kustomization's transformer configuration as
    /// kustomize holds it ([`Builder::go_config`]), for the caller to merge.
    fn kustomization(&mut self, dir: &str) -> Result<(Vec<Resource>, Config), Error> {
        let outer = std::mem::take(&mut self.config);
        let outer_go = std::mem::take(&mut self.go_config);
        let built = self.kustomization_in(dir);
        let own = std::mem::replace(&mut self.config, outer);
        self.config.merge(own);
        let own_go = std::mem::replace(&mut self.go_config, outer_go);
        built.map(|acc| (acc, own_go))
    }

    /// Merges a transformer configuration into the accumulator's, as
    /// kustomize's `MergeConfig` does ([`Config::go_merge`]).
    fn merge_go_config(&mut self, other: &Config, file: &str) -> Result<(), Error> {
        self.go_config =
            std::mem::take(&mut self.go_config).go_merge(other).map_err(|m| invalid(file, m))?;
        Ok(())
    }

    fn kustomization_in(&mut self, dir: &str) -> Result<Vec<Resource>, Error> {
        let from = self.stack.last().cloned().unwrap_or_else(|| dir.to_string());
        self.enter(dir, &from)?;
        let nested = self.stack.len() > 1;
        let k = self.load(dir).map_err(|e| {
            if nested {
                e.within(format_args!("couldn't make target for path '{}'", dir_file(dir)))
            } else {
                e
            }
        })?;
        if self.stack.len() == 1 {
            self.top_sort = k.sort_options.clone();
            self.transformer_notes = k.transformer_annotations;
            self.track_origins = k.build_metadata_set;
            self.top_meta = Some((k.origin_annotations, k.managed_by_label));
        }
        self.openapi(&k, dir, self.stack.len() == 1)?;
        // A Component may be built directly, but not listed as a resource.
        if k.is_component && nested {
            return Err(invalid(
                &k.file,
                format!("expected kind != 'Component' for path '{}'", dir_file(dir)),
            ));
        }
        let mut acc = Vec::new();
        self.run(&k, dir, &mut acc).map_err(|e| {
            if nested {
                e.within(format_args!("recursed accumulation of path '{}'", dir_file(dir)))
            } else {
                e
            }
        })?;
        self.stack.pop();
        Ok(acc)
    }

    /// Reads a kustomization's `openapi:` field. kustomize holds one schema
    /// for the whole build: the top kustomization's choice (a file or a
    /// built-in version) if it makes one, else the first choice a base or
    /// component makes, from the moment it is loaded. An empty version
    /// chooses nothing (kyaml's `SetSchema`), and a base's choice is checked
    /// only while nothing is chosen.
    fn openapi(&mut self, k: &Kustomization, dir: &str, top: bool) -> Result<(), Error> {
        // kustomize reads the file a kustomization names first, even when
        // the schema is already chosen and the file is then ignored.
        let file = match &k.openapi_path {
            Some(rel) => Some(self.read_file(k, dir, rel)?),
            None => None,
        };
        if !top && self.schema_set {
            return Ok(());
        }
        if k.openapi_version.is_some() && file.is_some() {
            return Err(invalid(
                &k.file,
                "builtin version and custom schema provided, cannot use both",
            ));
        }
        if let Some(version) = k.openapi_version.as_deref().filter(|v| !v.is_empty()) {
            self.schema_set = true;
            if version != BUILTIN_OPENAPI_VERSION {
                return Err(invalid(&k.file, "the specified OpenAPI version is not built in"));
            }
        }
        let Some((path, text)) = file else { return Ok(()) };
        let doc = yaml::parse_documents(&text, &path)?.into_iter().next().unwrap_or(Value::Null);
        let schema =
            patch::OpenApi::parse(&doc, &path).map_err(|e| invalid(&k.file, e.to_string()))?;
        // kustomize takes the scope of kinds it does not know from the
        // schema's paths from now on (kyaml's `IsNamespaceScoped`).
        self.scopes = schema.scopes().clone();
        self.schema = Some(if self.builtin_schema_read { schema.over_builtin() } else { schema });
        self.schema_set = true;
        Ok(())
    }

    fn run(&mut self, k: &Kustomization, dir: &str, acc: &mut Vec<Resource>) -> Result<(), Error> {
        for entry in &k.resources {
            self.resource(k, dir, entry, acc).map_err(|e| e.within("accumulating resources"))?;
        }
        // kustomize merges the `configurations:` files in turn, each sorted,
        // then merges them into its defaults, and that into the accumulated
        // configuration; the last merge's error prints the configuration.
        let mut files = Config::default();
        let mut last = k.file.clone();
        for rel in &k.configurations {
            let (path, text) = self.read_file(k, dir, rel)?;
            // kustomize reads the file's first document through
            // sigs.k8s.io/yaml (YAML 1.1, then Go's strict JSON decoder).
            if let Some(doc) = yaml::parse_first_document_helm(&text, &path)? {
                let file = Config::parse(&doc, &path)?;
                self.config.merge(file.clone());
                files = files.go_merge(&file.go_sorted()).map_err(|m| invalid(&path, m))?;
            }
            last = path;
        }
        let mut own = Config::go_default();
        if !k.configurations.is_empty() {
            own = own.go_merge(&files).map_err(|m| invalid(&last, m))?;
        }
        self.merge_go_config(&own, &last)
            .map_err(|e| e.within(format!("merging config &{}", own.go_v())))?;
        // kustomize reads every `crds:` file into one configuration (naming
        // the whole list where a file fails to load), then merges that into
        // its own, which may conflict: it then prints what the files gave.
        let mut crds = Config::default();
        let mut last = None;
        for rel in &k.crds {
            let (path, crd) = self
                .crd_config(k, dir, rel)
                .map_err(|e| e.within(format!("loading CRDs [{}]", k.crds.join(" "))))?;
            crds.merge(crd);
            last = Some(path);
        }
        if let Some(path) = last {
            self.config.merge(crds.clone());
            self.merge_go_config(&crds, &path)
                .map_err(|e| e.within(format!("merging CRDs &{}", crds.crds_go_v())))?;
        }
        // kustomize runs a kustomization's generators before its components.
        // It configures every generator, the built-in fields' and then the
        // `generators:` entries', before it runs the first; so too with the
        // transformers.
        self.configure_generators(k)?;
        let generators = self.configure_plugins(k, dir, &k.generators, plugin::Role::Generator)?;
        self.hold_origins(acc);
        self.generators(k, dir, acc)?;
        self.run_plugins(dir, generators, acc)?;
        for entry in &k.components {
            self.component(k, dir, entry, acc).map_err(|e| e.within("accumulating components"))?;
        }
        let builtin = self.configure_transformers(k, dir)?;
        let transformers =
            self.configure_plugins(k, dir, &k.transformers, plugin::Role::Transformer)?;
        self.hold_origins(acc);
        self.transformers(k, builtin, acc)?;
        self.run_plugins(dir, transformers, acc)?;
        self.validators(k, dir, acc)?;
        vars::declare(acc, &k.vars, &mut self.vars).map_err(|m| invalid(&k.file, m))
    }

    /// Reads one `crds:` file: its path and the places its schema marks.
    /// kustomize decodes a file that starts with `{` as JSON, as it is (Go's
    /// words for its syntax and type errors), and reads any other as YAML
    /// through sigs.k8s.io/yaml (its first document, keys sorted, errors
    /// wrapped).
    fn crd_config(
        &self,
        k: &Kustomization,
        dir: &str,
        rel: &str,
    ) -> Result<(String, Config), Error> {
        let (path, text) = self.read_file(k, dir, rel)?;
        let unparsable = |e: String| {
            invalid(&path, format!("unable to parse open API definition from '{rel}': {e}"))
        };
        let (doc, source, wrap) = if text.starts_with('{') {
            if let Some(e) = crate::gotmpl::sprig::go_json_syntax_error(&text) {
                return Err(unparsable(e));
            }
            let doc = yaml::parse_documents(&text, &path)?.into_iter().next();
            (doc, go_decode::Source::Json, "")
        } else {
            let doc = yaml::parse_first_document_helm(&text, &path)?;
            (doc, go_decode::Source::Yaml, "error unmarshaling JSON: while decoding JSON: ")
        };
        let doc = doc.unwrap_or(Value::Null);
        if let Some(e) = go_decode::first_error(&doc, &go_decode::NAME_TO_API_MAP, source, false) {
            return Err(unparsable(format!("{wrap}{e}")));
        }
        let config = Config::from_crd_schema(&doc, &path)?;
        Ok((path, config))
    }

    /// Adds a component: its kustomization runs on the objects so far.
    /// kustomize quotes what went wrong inside it, Go style.
    fn component(
        &mut self,
        k: &Kustomization,
        dir: &str,
        entry: &str,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let path = tree::join(dir, entry).map_err(|e| invalid(&k.file, e.to_string()))?;
        let shown = dir_file(&path).to_string();
        let not_loaded =
            |problem: String| invalid(&k.file, format!("loader.New {}", go_quote(&problem)));
        match self.tree.kind(&path) {
            Some(EntryKind::Dir) => {}
            Some(EntryKind::File) => {
                return Err(not_loaded(format!(
                    "must build at directory: '{shown}': file is not directory"
                )));
            }
            None => {
                return Err(not_loaded(format!(
                    "must build at directory: not a valid directory: {}",
                    symlinks_failure(self.tree, &path, &shown)
                )));
            }
        }
        if entry.is_empty() {
            return Err(not_loaded("new root cannot be empty".into()));
        }
        self.enter(&path, &k.file).map_err(|e| not_loaded(e.kustomize_text()))?;
        let in_directory = |e: Error| {
            let (file, message) = (e.file(), e.kustomize_text());
            invalid(&file, format!("accumulateDirectory: {}", go_quote(&message)))
        };
        let ck = self.load(&path).map_err(|e| {
            in_directory(e.within(format_args!("couldn't make target for path '{shown}'")))
        })?;
        // kustomize reads the schema a kustomization names before it checks
        // the kind.
        self.openapi(&ck, &path, false).map_err(in_directory)?;
        if !ck.is_component {
            return Err(in_directory(invalid(
                &ck.file,
                format!("expected kind 'Component' for path '{shown}' but got 'Kustomization'"),
            )));
        }
        self.run(&ck, &path, acc).map_err(|e| {
            in_directory(e.within(format_args!("recursed accumulation of path '{shown}'")))
        })?;
        // kustomize then merges what the component left into an empty set,
        // which refuses two objects a patch left with one identity.
        // Its transformer configuration is merged into an empty one too,
        // which may conflict where merging it the other way did not.
        let go_config = std::mem::take(&mut self.go_config);
        unique_ids(acc, &ck.file, &self.scopes)
            .and_then(|()| self.merge_go_config(&go_config, &ck.file))
            .map_err(|e| {
                in_directory(e.within(format_args!("recursed merging from path '{shown}'")))
            })?;
        self.stack.pop();
        Ok(())
    }

    /// Adds the objects of one `resources:` entry, a file or a directory
    /// holding a kustomization. Like kustomize, a failure reports both
    /// readings: why the entry is no file (`accumulation err='...'`) and
    /// why it is no directory to build.
    fn resource(
        &mut self,
        k: &Kustomization,
        dir: &str,
        entry: &str,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        if is_remote(entry) {
            return Err(invalid(
                &k.file,
                format!(
                    "remote resource {entry:?} is not fetched; vendor it into the repository or use the chart cache"
                ),
            ));
        }
        let as_file = format!("accumulating resources from '{entry}'");
        let restrict = self.restrict();
        // `missing` is the loader's failure to resolve the entry, `no_file`
        // the failure to open it.
        let missing = |missing: String, no_file: String, why: &str| {
            // Without restrictions the loader opens the file unchecked.
            let no_file = if restrict { missing.clone() } else { no_file };
            invalid(
                &format!("{}{why}", k.file),
                format!(
                    "accumulation err='{as_file}: {no_file}': must build at directory: not a valid directory: {missing}"
                ),
            )
        };
        let path = match tree::join(dir, entry) {
            Ok(path) => path,
            // Nothing above the root can be read: as if it were missing.
            Err(tree::Error::Escapes { .. }) if !entry.starts_with('/') => {
                let shown = lexical_join(dir, entry);
                let absent: Vec<&str> = shown
                    .split('/')
                    .scan(false, |past, seg| {
                        let keep = !*past;
                        *past = *past || seg != "..";
                        keep.then_some(seg)
                    })
                    .collect();
                // kiln's reason goes with the file it names first.
                let why = format!(": path {entry:?} leaves the root of the tree");
                let absent = absent.join("/");
                let lstat = format!(
                    "evalsymlink failure on '{shown}' : lstat {absent}: no such file or directory"
                );
                let open = format!("open {shown}: no such file or directory");
                return Err(missing(lstat, open, &why));
            }
            Err(e) => return Err(invalid(&k.file, e.to_string())),
        };
        let shown = dir_file(&path);
        // Both readings failed: the file error, then the directory error.
        let both = |file_error: Error, dir_error: String| {
            let (file, message) = (file_error.file(), file_error.kustomize_text());
            invalid(&file, format!("accumulation err='{message}': {dir_error}"))
        };
        match self.tree.kind(&path) {
            Some(EntryKind::Dir) => {
                let no_file = invalid(&k.file, format!("{as_file}: {}", self.not_a_file(shown)));
                // kustomize's loader refuses an empty path (a null item) as a
                // root before it looks for cycles.
                if entry.is_empty() {
                    return Err(both(no_file, "new root cannot be empty".into()));
                }
                // The kustomization accumulates into a set of its own, vars
                // included, which is then merged into this one.
                let outer = std::mem::take(&mut self.vars);
                let sub = self.kustomization(&path);
                let sub_vars = std::mem::replace(&mut self.vars, outer);
                let built = sub.and_then(|(sub, sub_go)| {
                    add_all(acc, sub, &k.file, &self.scopes)
                        // The base's transformer configuration joins this
                        // one's, which may conflict.
                        .and_then(|()| self.merge_go_config(&sub_go, &k.file))
                        .and_then(|()| {
                            vars::merge(&mut self.vars, sub_vars).map_err(|m| invalid(&k.file, m))
                        })
                        .map_err(|e| e.within(format_args!("recursed merging from path '{shown}'")))
                });
                built.map_err(|e| {
                    let (file, message) = (e.file(), e.kustomize_text());
                    invalid(
                        &file,
                        format!("accumulation err='{}': {message}", no_file.kustomize_text()),
                    )
                })
            }
            Some(EntryKind::File) => {
                let not_dir = format!("must build at directory: '{shown}': file is not directory");
                if self.restrict() && !self.stays_within(&path, dir) {
                    let security = invalid(
                        &k.file,
                        format!(
                            "{as_file}: security; file '{shown}' is not in or below '{}'",
                            dir_file(dir)
                        ),
                    );
                    return Err(both(security, not_dir));
                }
                let loaded = load_objects(self.tree, &path).and_then(|loaded| {
                    // kustomize reads a file into a set of its own first.
                    unique_ids(&loaded, &k.file, &self.scopes)?;
                    Ok(loaded)
                });
                match loaded {
                    // kustomize reads the objects into Go maps only at the
                    // end, which refuse a key given twice, unwrapped.
                    Err(Error::Yaml(e)) if is_duplicate_key(&e) => Err(duplicate_key(&e)),
                    // kyaml's reader refuses a bad document separator
                    // before any YAML is parsed: not malformed YAML to
                    // kustomize, which then tries the entry as a directory.
                    Err(Error::Yaml(e)) if e.message.starts_with("invalid document separator") => {
                        let at = format!("{}:{}:{}", e.file, e.line, e.column);
                        let read = invalid(&at, format!("{as_file}: {}", e.message));
                        Err(both(read, not_dir))
                    }
                    // kyaml reads a merge of a scalar (`<<: 5`), a list or
                    // an alias of no map as a node and refuses it when it
                    // expands merge keys, in its own words: no YAML error,
                    // so the entry is tried as a directory too.
                    Err(Error::Yaml(e)) if yaml::is_merge_problem(&e.message) => {
                        let at = format!("{}:{}:{}", e.file, e.line, e.column);
                        let read = invalid(&at, format!("{as_file}: {}", e.message));
                        Err(both(read, not_dir))
                    }
                    // Malformed YAML is reported alone: the entry is a file.
                    Err(e @ Error::Yaml(_)) => Err(invalid(
                        &e.file(),
                        format!(
                            "{as_file}: MalformedYAMLError: {} in File: {entry}",
                            e.go_message()
                        ),
                    )),
                    Err(e) => Err(both(e.within(&as_file), not_dir)),
                    Ok(loaded) => {
                        self.builtin_schema_read |=
                            loaded.iter().any(|r| !patch::scope_known_without_schema(&r.gvk()));
                        add_all(acc, loaded, &k.file, &self.scopes).map_err(|e| {
                            both(
                                e.within(format_args!("merging resources from '{entry}'")),
                                not_dir,
                            )
                        })
                    }
                }
            }
            None => Err(missing(
                symlinks_failure(self.tree, &path, shown),
                unrestricted_missing(self.tree, &path, shown),
                "",
            )),
        }
    }

    /// Configures a kustomization's built-in generators as kustomize does
    /// before it runs any: only a Helm chart's entry is checked then.
    fn configure_generators(&self, k: &Kustomization) -> Result<(), Error> {
        for chart in &k.helm_charts {
            helm_charts::check_config(&k.file, chart, &k.helm_globals)?;
        }
        Ok(())
    }

    fn generators(
        &mut self,
        k: &Kustomization,
        dir: &str,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let gens =
            k.config_maps.iter().map(|g| (g, false)).chain(k.secrets.iter().map(|g| (g, true)));
        for (g, secret) in gens {
            let r = generate::generate(
                self.tree,
                dir,
                &k.file,
                g,
                secret,
                &k.generator_options,
                self.restrict(),
            )?;
            match g.behavior.as_str() {
                "merge" | "replace" => {}
                _ => {
                    // A generator that creates may not make an object the
                    // build already knows by any of its identities.
                    let id = r.id();
                    if answering_one(acc, &id, &k.file, &self.scopes)?.is_some() {
                        return Err(invalid(
                            &k.file,
                            format!(
                                "merging from generator: id {} exists; behavior must be merge or replace",
                                go_resid(&id)
                            ),
                        ));
                    }
                    add_all(acc, vec![r], &k.file, &self.scopes)?;
                    continue;
                }
            }
            let behavior = g.behavior.as_str();
            let id = r.id();
            let Some(base) = answering_one(acc, &id, &k.file, &self.scopes)?.map(|i| &mut acc[i])
            else {
                return Err(invalid(
                    &k.file,
                    format!(
                        "merging from generator: id {} does not exist; cannot merge or replace",
                        go_resid(&id)
                    ),
                ));
            };
            // kustomize finds the base by any of its identities, then puts
            // the merged object in the place of the one with the generated
            // kind and the base's name: a base whose kind a patch changed
            // is not found there.
            if base.gvk() != id.gvk {
                let at = ResId {
                    gvk: id.gvk.clone(),
                    namespace: base.namespace().to_string(),
                    name: base.name().to_string(),
                };
                return Err(invalid(
                    &k.file,
                    format!(
                        "merging from generator: cannot find resource with id {} to replace",
                        at.kustomize_form()
                    ),
                ));
            }
            base.written.clear();
            generate::merge_into(base, r, behavior, &self.scopes);
            // kustomize sets the merged object's name anew (a new node).
            let name = [Step::Key("metadata".into()), Step::Key("name".into())];
            crate::kustomize::transform::images::record(&mut base.written, &name);
        }
        // kustomize runs its Helm chart inflator after the ConfigMap and Secret generators.
        for chart in &k.helm_charts {
            let read = |rel: &str, _what: &str| self.read_file(k, dir, rel);
            let objects = helm_charts::inflate(
                self.tree,
                dir,
                &k.file,
                chart,
                &k.helm_globals,
                self.options,
                &read,
            )?;
            absorb_chart(acc, objects, &k.file, &self.scopes)?;
        }
        Ok(())
    }

    /// Configures a kustomization's built-in transformers in kustomize's
    /// order: the patches are loaded, each `labels` entry's places merged,
    /// the replacement files and a ValueAddTransformer's targets file read.
    fn configure_transformers(&self, k: &Kustomization, dir: &str) -> Result<Configured, Error> {
        let load = |patches: &[Patch]| -> Result<Vec<Loaded>, Error> {
            patches.iter().map(|p| self.load_patch(k, dir, p)).collect()
        };
        let strategic_merge = load(&k.patches_strategic_merge)?;
        if let Some(e) = no_patch_loaded(k, &strategic_merge) {
            return Err(Self::patch_configuring(k, &k.patches_strategic_merge[0], e));
        }
        let patches = load(&k.patches)?;
        let label_sets = k
            .labels
            .iter()
            .map(|set| self.go_config.label_set_specs(set).map_err(|m| invalid(&k.file, m)))
            .collect::<Result<_, _>>()?;
        let json6902 = load(&k.patches_json6902)?;
        let replacements = self.replacements(k, dir)?;
        let value_add =
            k.value_add.as_ref().map(|va| self.value_add_config(k, dir, va)).transpose()?;
        Ok(Configured { strategic_merge, patches, json6902, replacements, value_add, label_sets })
    }

    /// Runs a kustomization's built-in transformers, configured.
    fn transformers(
        &mut self,
        k: &Kustomization,
        configured: Configured,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        self.idents = None;
        // The index of each patch's transformer among field_transformers(k).
        let smp = usize::from(!k.patches_strategic_merge.is_empty());
        // kustomize notes each transformer as it runs: a patch sees the
        // patches before it noted (and a generated object's hash covers
        // them), and so does the namespace transformer's conflict message.
        for (p, loaded) in k.patches_strategic_merge.iter().zip(configured.strategic_merge) {
            self.watched_patch(k, p, loaded, acc, 0)?;
        }
        self.settle_notes(k, acc, 0..smp);
        for (i, (p, loaded)) in k.patches.iter().zip(configured.patches).enumerate() {
            self.watched_patch(k, p, loaded, acc, smp + i)?;
            self.settle_notes(k, acc, smp + i..smp + i + 1);
        }
        let patched = smp + k.patches.len();
        if let Some(ns) = &k.namespace {
            let options = namespace::NamespaceOptions {
                unset_only: k.namespace_unset_only,
                subjects: k.role_binding_subjects,
            };
            // `namespace:` writes where the merged transformer configuration
            // says, a plugin config only where its own field specs say.
            let specs = k.namespace_fields.as_ref().unwrap_or(&self.go_config.namespace);
            namespace::apply(acc, ns, options, specs, &self.scopes)
                .map_err(|m| invalid(&k.file, m))?;
        }
        prefix_suffix::apply(
            acc,
            k.name_prefix.as_deref().unwrap_or(""),
            k.name_suffix.as_deref().unwrap_or(""),
            match &k.prefix_fields {
                Some(specs) => prefix_suffix::ExtraFields { prefix: specs, suffix: specs },
                None => prefix_suffix::ExtraFields {
                    prefix: &self.go_config.name_prefix,
                    suffix: &self.go_config.name_suffix,
                },
            },
        )
        .map_err(|m| invalid(&k.file, m))?;
        let bad_key = |m| invalid(&k.file, m);
        // kustomize runs the `labels` entries first, then `commonLabels`,
        // each at the places its list of the transformer configuration
        // (merged in kustomize's order) names.
        for (set, specs) in k.labels.iter().zip(&configured.label_sets) {
            labels::apply(acc, &set.pairs, specs).map_err(bad_key)?;
        }
        let tc = &self.go_config;
        labels::apply(acc, &k.common_labels, &tc.common_labels).map_err(bad_key)?;
        labels::apply(acc, &k.common_annotations, &tc.common_annotations).map_err(bad_key)?;
        let json6902 = field_transformers(k)
            .iter()
            .position(|t| *t == "PatchJson6902Transformer")
            .unwrap_or(0);
        for (i, (p, loaded)) in k.patches_json6902.iter().zip(configured.json6902).enumerate() {
            self.watched_patch(k, p, loaded, acc, json6902 + i)?;
        }
        let specs = k.replica_fields.as_ref().unwrap_or(&self.go_config.replicas);
        replicas::apply(acc, &k.replicas, specs).map_err(|m| invalid(&k.file, m))?;
        let bad_image = |m| invalid(&k.file, m);
        // kustomize runs one ImageTagTransformer per `images` entry, in
        // order: an entry sees the references the entries before it wrote.
        // Each also runs over its image fields after its pass over every
        // container list: an image in both is rewritten twice, which a
        // tagSuffix shows.
        let specs = k.image_fields.as_ref().unwrap_or(&self.go_config.images);
        for rule in &k.images {
            images::apply(acc, rule).map_err(bad_image)?;
            images::apply_fields(acc, rule, specs).map_err(bad_image)?;
        }
        if k.hash_names {
            add_hashes(acc, &self.scopes)?;
        }
        if let Some(va) = &configured.value_add {
            acc.iter_mut().for_each(|r| r.written.clear());
            value_add::apply(acc, va, &self.scopes).map_err(|m| invalid(&k.file, m))?;
        }
        let reps = configured.replacements;
        replacements::apply(acc, &reps, &self.scopes).map_err(|m| invalid(&k.file, m))?;
        if !reps.is_empty() {
            acc.iter_mut().for_each(Resource::sync_shared);
        }
        self.settle_notes(k, acc, patched..usize::MAX);
        Ok(())
    }

    /// Notes the built-in transformers of `k` at `range` among
    /// [`field_transformers`] (see [`note_transformations`]), when the build
    /// tracks origins and this kustomization notes its own.
    fn settle_notes(&self, k: &Kustomization, acc: &mut [Resource], range: std::ops::Range<usize>) {
        if self.track_origins && self.settle_notes_here {
            let configured_in = self.relative_to_top(&k.file);
            let all = field_transformers(k);
            let range = range.start.min(all.len())..range.end.min(all.len());
            let notes: Vec<Note> = all[range.clone()].iter().copied().map(Note::builtin).collect();
            note_transformations(acc, &configured_in, &notes, range.start, self.transformer_notes);
        }
    }

    /// Configures a ValueAddTransformer: its targets file is read, an empty
    /// value becomes the name of the kustomization's directory, and the
    /// config is checked.
    fn value_add_config(
        &self,
        k: &Kustomization,
        dir: &str,
        va: &value_add::ValueAdd,
    ) -> Result<value_add::ValueAdd, Error> {
        let fails = |m: String| {
            let id = k.plugin.as_deref().unwrap_or("ValueAddTransformer");
            invalid(&k.file, format!("plugin {id} fails configuration: {m}"))
        };
        let mut va = va.clone();
        if let Some(rel) = &k.value_add_targets_file {
            let (path, text) = self.read_file(k, dir, rel)?;
            // The file is decoded as one document, leniently, as kustomize does.
            if let Some(doc) = yaml::parse_documents(&text, &path)?.into_iter().next() {
                let doc = go_decode::canonical(&doc, &go_decode::VALUE_ADD, false);
                let targets = doc.get_path(&["targets"]).cloned().unwrap_or(Value::Null);
                va.targets.extend(value_add::parse_targets(&targets).map_err(fails)?);
            }
        }
        if va.value.is_empty() {
            va.value = match tree::file_name(dir) {
                "" | "." => self.tree.root_name().unwrap_or_default(),
                name => name.to_string(),
            };
        }
        va.validate().map_err(fails)?;
        Ok(va)
    }

    /// Reads a file named in a kustomization, within the load restrictions;
    /// gives its path in the tree and its text, or the error in the words
    /// of kustomize's loader.
    fn read_file(
        &self,
        k: &Kustomization,
        dir: &str,
        rel: &str,
    ) -> Result<(String, String), Error> {
        let path = tree::join(dir, rel).map_err(|e| invalid(&k.file, e.to_string()))?;
        let shown = dir_file(&path);
        if self.restrict() && !self.stays_within(&path, dir) {
            return Err(invalid(
                &k.file,
                format!("security; file '{shown}' is not in or below '{}'", dir_file(dir)),
            ));
        }
        match self.tree.kind(&path) {
            Some(EntryKind::File) => {}
            Some(EntryKind::Dir) => return Err(invalid(&k.file, self.not_a_file(shown))),
            None if !self.restrict() => {
                return Err(invalid(&k.file, unrestricted_missing(self.tree, &path, shown)));
            }
            None => return Err(invalid(&k.file, symlinks_failure(self.tree, &path, shown))),
        }
        let text = tree::read_text(self.tree, &path)?;
        Ok((path, text))
    }

    /// kustomize's loader's words for a directory named where a file is
    /// read: its restriction refuses it, or, without one, the read fails.
    fn not_a_file(&self, shown: &str) -> String {
        if self.restrict() {
            format!("'{shown}' must resolve to a file")
        } else {
            format!("read {shown}: is a directory")
        }
    }

    /// Configures and runs the built-in plugin configs of `generators:`,
    /// `transformers:` or `validators:` entries.
    fn plugins(
        &mut self,
        k: &Kustomization,
        dir: &str,
        entries: &[String],
        role: plugin::Role,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let configured = self.configure_plugins(k, dir, entries, role)?;
        self.run_plugins(dir, configured, acc)
    }

    /// Configures the built-in plugin configs of `generators:` or
    /// `transformers:` entries: kustomize loads and configures them all
    /// before it runs the first one.
    fn configure_plugins(
        &mut self,
        k: &Kustomization,
        dir: &str,
        entries: &[String],
        role: plugin::Role,
    ) -> Result<Vec<(ConfiguredPlugin, Option<Configured>)>, Error> {
        let what = match role {
            plugin::Role::Generator => "generator",
            plugin::Role::Transformer => "transformer",
        };
        let configs = self.plugin_configs(k, dir, entries, what).map_err(|e| match role {
            plugin::Role::Generator => e.within("loading generator plugins"),
            plugin::Role::Transformer => e,
        })?;
        // kustomize asks its built-in schema for the scope of a plugin
        // config's kind (`builtin`, not in its short list of known scopes).
        self.builtin_schema_read |= configs.iter().any(|(_, _, doc)| {
            let text = |key: &str| doc.get_path(&[key]).and_then(Value::as_str).unwrap_or("");
            !patch::scope_known_without_schema(&Gvk::from_api_version(
                text("apiVersion"),
                text("kind"),
            ))
        });
        let loading = |e: Error| match role {
            plugin::Role::Generator => {
                e.within("loading generator plugins: failed to load generator")
            }
            plugin::Role::Transformer => e,
        };
        let mut out = Vec::with_capacity(configs.len());
        for (duplicates, source, doc) in configs {
            // kustomize turns the config into JSON once it knows the
            // built-in plugin, before the plugin reads it; a key given
            // twice fails there, on the lines of kyaml's encoding.
            if let Some(e) = duplicates.filter(|_| plugin::is_loadable_builtin(&doc)) {
                let id = plugin::org_id(&doc);
                let message = format!("marshalling yaml from res {id}: {}", e.go_message());
                return Err(loading(invalid(&source, message)));
            }
            let meta = |key: &str| doc.get_path(&["metadata", key]).and_then(Value::as_str);
            let (config_name, config_ns) = (meta("name"), meta("namespace"));
            // kustomize checks what a plugin is before it generates
            // anything with it.
            let not_a = |want: &str| {
                invalid(
                    &source,
                    format!(
                        "plugin {}.builtin.[noGrp]/{}.{} not a {want}",
                        doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or(""),
                        config_name.unwrap_or(""),
                        config_ns.filter(|ns| !ns.is_empty()).unwrap_or("[noNs]")
                    ),
                )
            };
            if role == plugin::Role::Transformer && plugin::is_generated_object(&doc) {
                return Err(not_a(what));
            }
            if let Some(object) = plugin::generated_object(&doc, &source)? {
                out.push((ConfiguredPlugin::Object { source, doc, object }, None));
                continue;
            }
            let (pk, got) = plugin::to_kustomization(&doc, &source).map_err(loading)?;
            if got != role {
                return Err(not_a(what));
            }
            let configured = match role {
                plugin::Role::Generator => {
                    self.configure_generators(&pk)?;
                    None
                }
                // A validator's probe run changes its patches: it is
                // configured when it runs.
                plugin::Role::Transformer if self.probing.is_some() => None,
                plugin::Role::Transformer => Some(self.configure_transformers(&pk, dir)?),
            };
            out.push((
                ConfiguredPlugin::Builtin { source, doc, kustomization: Box::new(pk) },
                configured,
            ));
        }
        Ok(out)
    }

    /// Runs configured plugins, in order.
    fn run_plugins(
        &mut self,
        dir: &str,
        configured: Vec<(ConfiguredPlugin, Option<Configured>)>,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        for (plugin, prepared) in configured {
            let (source, doc) = match &plugin {
                ConfiguredPlugin::Object { source, doc, .. }
                | ConfiguredPlugin::Builtin { source, doc, .. } => (source.clone(), doc),
            };
            let meta = |key: &str| doc.get_path(&["metadata", key]).and_then(Value::as_str);
            let (config_name, config_ns) = (meta("name"), meta("namespace"));
            let made_by =
                |kind: &str| generate::generated_source(&source, kind, config_name, config_ns);
            let pk = match &plugin {
                ConfiguredPlugin::Object { object, .. } => {
                    let mut made = Resource::new(object.clone(), made_by("IAMPolicyGenerator"));
                    made.generator_behavior = Some(generate::UNSPECIFIED.into());
                    made.notes_set_anew();
                    add_all(acc, vec![made], &source, &self.scopes)?;
                    continue;
                }
                ConfiguredPlugin::Builtin { kustomization, .. } => kustomization,
            };
            let Some(prepared) = prepared else {
                if self.probing.is_none() {
                    // A generator: the objects it makes, and those its
                    // `behavior: replace` remakes in place, have a new source.
                    let sources: Vec<String> = acc.iter().map(|r| r.source.clone()).collect();
                    self.generators(pk, dir, acc)?;
                    // kustomize names the plugin config in the origin.
                    let remade = acc
                        .iter_mut()
                        .enumerate()
                        .filter(|(i, r)| sources.get(*i).is_none_or(|s| *s != r.source));
                    for (_, r) in remade {
                        if let Some(by) = generate::generated_by(&r.source)
                            && by.name.is_none()
                            && by.namespace.is_none()
                        {
                            r.source = made_by(by.kind);
                        }
                    }
                    continue;
                }
                // A validator's probe run.
                let writes = validators::patches_write(pk, acc, &self.scopes)
                    .map_err(|m| invalid(&source, m))?;
                self.probing = self.probing.map(|wrote| wrote || writes);
                let probe = validators::probe(pk);
                let prepared = self.configure_transformers(&probe, dir)?;
                self.run_plugin_transformers(&probe, prepared, &source, doc, acc)?;
                continue;
            };
            self.run_plugin_transformers(pk, prepared, &source, doc, acc)?;
        }
        Ok(())
    }

    /// Runs a transformer plugin config's transformers; the plugin is noted
    /// as itself, not as the fields it stands for.
    fn run_plugin_transformers(
        &mut self,
        pk: &Kustomization,
        prepared: Configured,
        source: &str,
        doc: &Value,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let here = std::mem::replace(&mut self.settle_notes_here, false);
        let ran = self.transformers(pk, prepared, acc);
        self.settle_notes_here = here;
        ran?;
        if self.track_origins {
            let configured_in = self.relative_to_top(source);
            note_transformations(
                acc,
                &configured_in,
                &[Note::plugin(doc)],
                0,
                self.transformer_notes,
            );
        }
        Ok(())
    }

    /// The plugin configs of `generators:`, `transformers:` or `validators:`
    /// entries, each with the file it came from. kustomize gathers the inline
    /// configs first and then those in files and directories (a directory is
    /// a kustomization whose objects are the configs), runs them in that
    /// order, and refuses two configs with one identity.
    fn plugin_configs(
        &mut self,
        k: &Kustomization,
        dir: &str,
        entries: &[String],
        what: &str,
    ) -> Result<Vec<(Option<yaml::ParseError>, String, Value)>, Error> {
        let mut configs: Vec<Resource> = Vec::new();
        let mut elsewhere = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for entry in entries {
            // kustomize reads an entry into a set of objects of its own, so
            // one whose objects share an identity is a path too.
            let mut in_entry = std::collections::HashSet::new();
            let inline = objects_in(entry, &k.file)
                .ok()
                .filter(|rs| rs.iter().all(|r| in_entry.insert(r.id().key(&self.scopes))));
            let Some(inline) = inline else {
                elsewhere.push(entry);
                continue;
            };
            for r in inline {
                let id = r.id();
                if !ids.insert(id.key(&self.scopes)) {
                    return Err(invalid(
                        &k.file,
                        format!(
                            "configuring external {what}: may not add resource with an already registered id: {}",
                            id.kustomize_form()
                        ),
                    ));
                }
                configs.push(r);
            }
        }
        // kustomize reads the other entries as it reads `resources:`, with
        // the same errors: a missing path, a directory without a
        // kustomization, two configs with one identity in one file or
        // across entries. It reads them into a set of their own, whose vars
        // go nowhere, and whose transformer configuration goes no further.
        let vars = std::mem::take(&mut self.vars);
        let config = self.config.clone();
        let read =
            elsewhere.into_iter().try_for_each(|entry| self.resource(k, dir, entry, &mut configs));
        self.vars = vars;
        self.config = config;
        read?;
        Ok(configs.into_iter().map(|mut r| (duplicates_now(&mut r), r.source, r.value)).collect())
    }

    /// Runs `validators:` (see [`validators`]): each runs over a copy of the
    /// objects and again as a probe; it fails if either run changed them,
    /// and what it did stays when it passes, as in kustomize.
    fn validators(
        &mut self,
        k: &Kustomization,
        dir: &str,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let notes = std::mem::replace(&mut self.transformer_notes, false);
        let tracking = std::mem::replace(&mut self.track_origins, false);
        let checked = self.run_validators(k, dir, acc);
        self.transformer_notes = notes;
        self.track_origins = tracking;
        self.probing = None;
        checked
    }

    fn run_validators(
        &mut self,
        k: &Kustomization,
        dir: &str,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let fails = |m: String| {
            invalid(&k.file, format!("validator shouldn't modify the resource map: {m}"))
        };
        // Every validator config is loaded and configured before the first
        // one runs.
        self.configure_plugins(k, dir, &k.validators, plugin::Role::Transformer)?;
        for entry in &k.validators {
            let entry = std::slice::from_ref(entry);
            let mut after = acc.clone();
            self.plugins(k, dir, entry, plugin::Role::Transformer, &mut after)?;
            // An object a validator's strategic merge patch deleted stays in
            // kustomize's copy of the set as an empty node, and comparing the
            // sets reads its identity: kustomize panics there.
            if after.len() < acc.len() {
                return Err(invalid(
                    &k.file,
                    format!("a validator deleted an object: {NIL_DEREFERENCE}"),
                ));
            }
            // The probe run shows the writes of equal values; kustomize
            // names the first object, in the order of the build, that the
            // validator changed or wrote to.
            let mut probed = acc.clone();
            self.probing = Some(false);
            let probe_run = self.plugins(k, dir, entry, plugin::Role::Transformer, &mut probed);
            let patch_writes = self.probing == Some(true);
            self.probing = None;
            let probe = match probe_run {
                Err(_) => validators::Probe::None,
                Ok(()) if patch_writes => validators::Probe::PatchWrites(&probed),
                Ok(()) => {
                    validators::forgive_written(acc, &mut probed);
                    validators::Probe::Values(&probed)
                }
            };
            validators::unchanged(acc, &after, probe, &self.scopes).map_err(fails)?;
            *acc = after;
        }
        Ok(())
    }

    /// The replacements of a kustomization, with `path:` entries read.
    fn replacements(
        &self,
        k: &Kustomization,
        dir: &str,
    ) -> Result<Vec<replacements::Replacement>, Error> {
        let mut out = Vec::new();
        for entry in &k.replacements {
            match entry {
                ReplacementEntry::Inline(r) => out.push(r.as_ref().clone()),
                ReplacementEntry::Path { file: rel, inline_too } => {
                    // kustomize reads the files as it configures its
                    // transformer, and wraps what goes wrong then.
                    let configuring = |e: Error| {
                        let (file, message) = (e.file(), e.kustomize_text());
                        invalid(
                            &file,
                            match &k.plugin {
                                Some(id) => format!("plugin {id} fails configuration: {message}"),
                                // The configuration shown is needed only here:
                                // the file is read again for it.
                                None => kustomization::trouble_configuring(
                                    "ReplacementTransformer",
                                    &self
                                        .kustomization_doc(&k.file)
                                        .map(|doc| kustomization::replacements_config(&doc))
                                        .unwrap_or_default(),
                                    &message,
                                ),
                            },
                        )
                    };
                    if *inline_too {
                        return Err(configuring(invalid(
                            &k.file,
                            "cannot specify both path and inline replacement",
                        )));
                    }
                    let (path, text) = self.read_file(k, dir, rel).map_err(configuring)?;
                    // sigs.k8s.io/yaml reads the first document only, and
                    // kustomize takes a list or a map from it.
                    let doc = yaml::parse_first_document_helm(&text, &path)
                        .map_err(|e| configuring(e.into()))?;
                    let unsupported = match &doc {
                        None | Some(Value::Null) => Some("invalid"),
                        Some(Value::String(_)) => Some("string"),
                        Some(Value::Bool(_)) => Some("bool"),
                        Some(Value::Int(_) | Value::Uint(_) | Value::Float(_)) => Some("float64"),
                        _ => None,
                    };
                    if let Some(kind) = unsupported {
                        return Err(configuring(invalid(
                            &path,
                            format!(
                                "unsupported replacement type encountered within replacement path: {kind}"
                            ),
                        )));
                    }
                    if let Some(doc) = doc {
                        let doc = go_decode::replacements_in_file(&doc);
                        // kustomize decodes the file into Go values first: an
                        // item that is no map fails there, before any
                        // replacement is read (a null one is an empty
                        // replacement).
                        let ty = match doc {
                            Value::Seq(_) => &go_decode::REPLACEMENTS,
                            _ => &go_decode::REPLACEMENT,
                        };
                        if let Some(e) =
                            go_decode::first_error(&doc, ty, go_decode::Source::Yaml, false)
                        {
                            return Err(configuring(invalid(
                                &path,
                                format!("error unmarshaling JSON: while decoding JSON: {e}"),
                            )));
                        }
                        out.extend(
                            replacements::Replacement::parse_file(&doc)
                                .map_err(|m| configuring(invalid(&path, m)))?,
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// Applies a patch; while origins are tracked, notes on each object
    /// whether the patch replaced its annotations (see
    /// [`Resource::annotations_wiped_by`]), by a mark put where kustomize
    /// keeps the origin and looked for afterwards.
    fn watched_patch(
        &mut self,
        k: &Kustomization,
        p: &Patch,
        loaded: Loaded,
        acc: &mut Vec<Resource>,
        index: usize,
    ) -> Result<(), Error> {
        if !self.track_origins {
            return self.patch(k, p, loaded, acc);
        }
        // The patch sees the origin and the transformations kustomize holds
        // in the object's annotations (a JSON patch rebuilds the object with
        // them, and the hash of a generated object of another kind covers
        // them); the origin is the mark.
        for r in acc.iter_mut() {
            let held = build_annotations::held(r);
            with_annotations(&mut r.value, &held);
        }
        let patched = self.patch(k, p, loaded, acc);
        for r in acc.iter_mut() {
            let kept = matches!(
                r.value.get_path(&["metadata", "annotations"]),
                Some(Value::Map(m)) if m.contains_key(ORIGIN)
            );
            if kept {
                let held = build_annotations::held(r).into_iter().map(|(k, _)| k);
                remove_annotations(&mut r.value, &held.collect::<Vec<_>>());
            } else {
                r.annotations_wiped_by = Some(index);
            }
        }
        patched
    }

    /// Wraps what goes wrong while kustomize configures a patch's
    /// transformer: one builtin transformer per `patches` entry and one for
    /// all of `patchesStrategicMerge`, shown with its configuration.
    fn patch_configuring(k: &Kustomization, p: &Patch, e: Error) -> Error {
        {
            let (file, message) = (e.file(), e.kustomize_text());
            if let Some(id) = &k.plugin {
                return invalid(&file, format!("plugin {id} fails configuration: {message}"));
            }
            let (builtin, config) = if p.json6902_only {
                ("PatchJson6902Transformer", p.json6902_config_yaml())
            } else if p.legacy_strategic_merge {
                let paths: Vec<Value> = k
                    .patches_strategic_merge
                    .iter()
                    .filter_map(|q| q.path.clone().or_else(|| q.patch.clone()))
                    .map(Value::String)
                    .collect();
                let mut m = Map::new();
                m.insert("paths".into(), Value::Seq(paths));
                ("PatchStrategicMergeTransformer", yaml::to_string(&Value::Map(m)))
            } else {
                ("PatchTransformer", p.config_yaml())
            };
            invalid(&file, kustomization::trouble_configuring(builtin, &config, &message))
        }
    }

    /// Loads a patch as kustomize does when it configures the patch's
    /// transformer, before any transformer of the kustomization runs: the
    /// failures of that step are returned, those kustomize meets only when
    /// the transformer runs are kept for then.
    fn load_patch(&self, k: &Kustomization, dir: &str, p: &Patch) -> Result<Loaded, Error> {
        let configuring = |e: Error| Self::patch_configuring(k, p, e);
        if p.json6902_only {
            let Some(target) = &p.target else {
                return Err(invalid(&k.file, NIL_DEREFERENCE));
            };
            let (name, path, op) = (target.name.as_deref(), p.path.as_deref(), p.patch.as_deref());
            if let Some(problem) = kustomization::json6902_config_problem(name, path, op) {
                return Err(configuring(invalid(&k.file, problem)));
            }
        }
        if p.legacy_strategic_merge && p.path.as_deref() == Some("") {
            // kustomize loads no patch from an empty path (a null item), and
            // fails only when no entry gave one (see [`no_patch_loaded`]).
            return Ok(Loaded::Skip);
        }
        let (source, text) = match (&p.path, &p.patch) {
            (Some(rel), _) => self.read_file(k, dir, rel).map_err(|e| {
                if p.legacy_strategic_merge || p.json6902_only {
                    configuring(e)
                } else {
                    configuring(
                        e.within(format_args!("failed to get the patch file from path({rel})")),
                    )
                }
            })?,
            // The `patches` transformer trims the text written inline (so a
            // block scalar ending it loses its last line break); the legacy
            // fields read it as written.
            (None, Some(inline)) if p.legacy_strategic_merge || p.json6902_only => {
                (k.file.clone(), inline.clone())
            }
            (None, Some(inline)) => (k.file.clone(), inline.trim().to_string()),
            (None, None) => return Err(invalid(&k.file, "a patch needs path or patch")),
        };
        // The written text of some scalars of each patch document, when kiln
        // read it as kustomize reads a resource file.
        let mut doc_texts: Vec<Vec<(Vec<Step>, String)>> = Vec::new();
        // Where each document is in the text, when read as kustomize reads
        // a resource file (for the styles of the nodes it merges).
        let mut doc_pieces: Vec<Option<std::ops::Range<usize>>> = Vec::new();
        let mut doc_duplicates: Vec<Option<Box<Duplicates>>> = Vec::new();
        let docs: Vec<Value> = if p.legacy_strategic_merge {
            // kustomize loads these patches as objects and merges a copy of
            // each whose labels and annotations it read as the text they
            // were written with.
            let read =
                match yaml::parse_kustomize_documents(&text, &source, yaml::Limits::default()) {
                    Ok(read) => read,
                    // Keys given twice: see [`carry_shadows`].
                    Err(e) if is_duplicate_key(&e) => {
                        yaml::parse_kustomize_objects(&text, &source, yaml::Limits::default())
                            .map_err(|e| configuring(e.into()))?
                    }
                    Err(e) => {
                        return match collection_key_failure(&e, &text, &source) {
                            Some(fails) => Ok(Loaded::Fails(fails)),
                            None => Err(configuring(e.into())),
                        };
                    }
                };
            // The factory drops null and empty documents (`dropBadNodes`).
            read.into_iter()
                .filter(|d| !nil_or_empty(&d.value))
                .map(|mut d| {
                    let mut duplicates = Duplicates::of(d.duplicates, d.shadows, &d.value);
                    if let Some(dups) = duplicates.as_deref_mut() {
                        dups.settle_meta_maps(&mut d.value);
                    }
                    doc_duplicates.push(duplicates);
                    crate::resource::rebuild_meta_maps(&mut d.value, &d.scalar_texts);
                    crate::resource::stringify_name(&mut d.value, &d.scalar_texts);
                    doc_texts.push(d.scalar_texts);
                    doc_pieces.push(Some(d.piece));
                    d.value
                })
                .collect()
        } else {
            // kustomize tries the text as objects, then as a JSON patch, and
            // says so when neither reads; a key given twice fails later, when
            // the objects become Go maps.
            let read = match yaml::parse_documents(&text, &source) {
                Ok(read) => read,
                // kyaml reads the patch's objects as nodes, keys given twice
                // and all: its merge finds the first of each (see
                // [`carry_shadows`]). A JSON patch meets them when it runs.
                Err(e) if is_duplicate_key(&e) => {
                    let read =
                        yaml::parse_kustomize_objects(&text, &source, yaml::Limits::default());
                    let read = match read {
                        Ok(read) if read.iter().all(|d| matches!(d.value, Value::Map(_))) => read,
                        _ => return Ok(Loaded::Fails(duplicate_key(&e))),
                    };
                    let mut docs = Vec::with_capacity(read.len());
                    for d in read {
                        doc_duplicates.push(Duplicates::of(d.duplicates, d.shadows, &d.value));
                        doc_texts.push(d.scalar_texts);
                        doc_pieces.push(Some(d.piece));
                        docs.push(d.value);
                    }
                    docs
                }
                Err(e) => {
                    if let Some(fails) = collection_key_failure(&e, &text, &source) {
                        return Ok(Loaded::Fails(fails));
                    }
                    return Err(configuring(invalid(
                        &source,
                        format!("unable to parse SM or JSON patch from {}", p.go_name()),
                    )));
                }
            };
            let mut docs: Vec<Value> = read.into_iter().filter(|d| !d.is_null()).collect();
            // kyaml keeps the text of the patch's scalars; read as a
            // resource file, the patch gives them when it has the same
            // documents.
            if let Ok(read) =
                yaml::parse_kustomize_documents(&text, &source, yaml::Limits::default())
            {
                if read.len() == docs.len() {
                    doc_pieces = read.iter().map(|d| Some(d.piece.clone())).collect();
                    doc_texts = read.into_iter().map(|d| d.scalar_texts).collect();
                }
            }
            // A patch names its target by the text of its name.
            for (n, d) in docs.iter_mut().enumerate() {
                crate::resource::stringify_name(d, doc_texts.get(n).map_or(&[], Vec::as_slice));
            }
            docs
        };
        if p.json6902_only {
            if let Some(problem) = json6902_problem(p.path.as_deref(), &text, &source) {
                return Err(configuring(invalid(&source, problem)));
            }
        }
        // An empty patch file holds no object, and kustomize's JSON patch
        // reader refuses it, so it is a strategic merge patch without
        // objects, which kustomize then applies as a JSON patch without
        // operations (text with only comments or blanks reads as both).
        let empty_file = !p.json6902_only && !p.legacy_strategic_merge && text.is_empty();
        if !p.json6902_only && !p.legacy_strategic_merge && !empty_file {
            // Text starting with `[` is a JSON patch only if it is JSON (Go's
            // decoder reads it as it is); as objects, a list is none either.
            if text.starts_with('[') && crate::gotmpl::sprig::go_json_syntax_error(&text).is_some()
            {
                let m = format!("unable to parse SM or JSON patch from {}", p.go_name());
                return Err(configuring(invalid(&source, m)));
            }
            match check_patch_kind(&docs, &p.go_name()) {
                Ok(()) => {}
                Err((m, true)) => return Err(configuring(invalid(&source, m))),
                Err((m, false)) => return Ok(Loaded::Fails(invalid(&source, m))),
            }
        }
        // A patch whose first document is a list is a JSON patch: kustomize
        // reads that document and ignores the others.
        let is_json6902 =
            p.json6902_only || empty_file || matches!(docs.first(), Some(Value::Seq(_)));
        if !is_json6902 {
            check_patch_identity(&docs, &doc_texts, p.legacy_strategic_merge, &p.go_name())
                .map_err(|m| configuring(invalid(&source, m)))?;
        }
        // kustomize reads a JSON patch as YAML 1.1 through JSON (`value: y` is
        // true, a key `n` the string "false").
        let docs = if empty_file {
            vec![Value::Seq(Vec::new())]
        } else if is_json6902 && !p.legacy_strategic_merge {
            let read = yaml::parse_documents_helm(&text, &source);
            // Text YAML reads but sigs.k8s.io/yaml cannot turn into JSON (a
            // null or list key) is no JSON patch to a `patches` entry, nor
            // a strategic merge patch.
            let read = match read {
                Err(_) if !p.json6902_only => {
                    let m = format!("unable to parse SM or JSON patch from {}", p.go_name());
                    return Err(configuring(invalid(&source, m)));
                }
                read => read?,
            };
            read.into_iter()
                .filter(|d| !d.is_null())
                .take(if p.json6902_only { usize::MAX } else { 1 })
                .collect()
        } else {
            // kustomize reads a strategic merge patch as it reads resources:
            // a `...List` with items stands for its items.
            let mut items = Vec::with_capacity(docs.len());
            let mut item_texts = Vec::with_capacity(docs.len());
            let mut item_pieces = Vec::with_capacity(docs.len());
            for (n, doc) in docs.into_iter().enumerate() {
                let texts = doc_texts.get(n).cloned().unwrap_or_default();
                if !patch_list_items(&doc) {
                    items.push(doc);
                    item_texts.push(texts);
                    item_pieces.push(doc_pieces.get(n).cloned().flatten());
                    continue;
                }
                // kustomize expands a list through JSON, lists in it too.
                let mut lists = vec![(doc, texts)];
                while let Some((list, texts)) = lists.pop() {
                    let list = match list.get_path(&["items"]) {
                        Some(Value::Seq(list)) => list.clone(),
                        _ => Vec::new(),
                    };
                    let texts = by_item(texts, list.len(), |(p, _)| p);
                    for (item, texts) in list.into_iter().zip(texts).rev() {
                        if patch_list_items(&item) {
                            lists.push((item, texts));
                        } else {
                            items.push(item);
                            item_texts.push(texts);
                            item_pieces.push(None);
                        }
                    }
                }
            }
            // The items of a list come through JSON, which fails on a key
            // given twice.
            if items.len() != doc_duplicates.len() {
                doc_duplicates.clear();
            }
            doc_texts = item_texts;
            doc_pieces = item_pieces;
            items
        };
        // Lists without items leave no strategic merge patch: kustomize then
        // takes the entry for a JSON patch. Without a target that fails as
        // an empty file does; with one, the text (a map) is no JSON patch.
        let no_objects = docs.is_empty() && !is_json6902 && !p.legacy_strategic_merge;
        if no_objects && p.target.is_some() {
            let m = "json: cannot unmarshal object into Go value of type jsonpatch.Patch";
            return Ok(Loaded::Fails(invalid(&source, m)));
        }
        let is_json6902 = is_json6902 || no_objects;
        let docs = if no_objects { vec![Value::Seq(Vec::new())] } else { docs };
        // kustomize finds no type or metadata in a document that is not a map.
        if !is_json6902 && docs.iter().any(|d| !matches!(d, Value::Map(_))) {
            return Err(configuring(invalid(&source, "missing Resource metadata")));
        }
        Ok(Loaded::Patch(LoadedPatch {
            source,
            text,
            docs,
            doc_texts,
            doc_pieces,
            doc_duplicates,
            is_json6902,
        }))
    }

    fn patch(
        &mut self,
        k: &Kustomization,
        p: &Patch,
        loaded: Loaded,
        acc: &mut Vec<Resource>,
    ) -> Result<(), Error> {
        let LoadedPatch { source, text, docs, doc_texts, doc_pieces, doc_duplicates, is_json6902 } =
            match loaded {
                Loaded::Skip => return Ok(()),
                Loaded::Fails(e) => return Err(e),
                Loaded::Patch(patch) => patch,
            };
        if is_json6902 || p.target.is_some() || p.allow_name_change {
            // These may rename objects or change their kind.
            self.idents = None;
        }
        let matcher =
            p.target.as_ref().map(Matcher::new).transpose().map_err(|m| invalid(&k.file, m))?;
        if is_json6902 {
            let ops = match docs.as_slice() {
                [ops @ Value::Seq(_)] => ops,
                _ => {
                    return Err(invalid(
                        &source,
                        "a JSON 6902 patch must be one list of operations",
                    ));
                }
            };
            let Some(matcher) = matcher else {
                return Err(invalid(
                    &k.file,
                    format!("must specify a target for JSON patch {}", p.go_name()),
                ));
            };
            // Go's JSON decoder reads a patch whose text starts with `[` as
            // it is; other text comes through YAML, which makes `1e400` a
            // string.
            let overflows = if text.starts_with('[') {
                patch::json6902::overflow_marks(ops, &text, &source)
            } else {
                None
            };
            for r in acc.iter_mut().filter(|r| matcher.matches(r, &self.scopes)) {
                // kustomize applies a JSON patch to the object's JSON.
                if let Some(key) = &r.non_string_key {
                    return Err(key.error.clone().into());
                }
                if r.has_plain_key() {
                    let message = "json: unsupported type: map[interface {}]interface {}";
                    return Err(invalid(&r.source, message.to_string()));
                }
                // A field a replacement gave text its type cannot hold
                // fails that conversion, whatever the patch then writes.
                if let Some(error) = replacements::mistyped_error(r) {
                    return Err(invalid(&r.source, error));
                }
                if let Err(e @ yaml::EmitError::NonFinite { .. }) = yaml::validate(&r.value) {
                    return Err(invalid(&r.source, e.to_string()));
                }
                let target = r.id().kustomize_form();
                // kustomize remembers the identity before every JSON patch,
                // which may rename the object whatever the options say.
                // The legacy JSON patch transformer records no identity of
                // its own: a rename it makes leaves no trace, and an object
                // with no earlier identity is known by its new one alone
                // (kustomize's original id is the first previous one).
                let internal = if p.json6902_only {
                    build_annotations::of(r, &self.scopes)
                } else {
                    r.store_previous_id();
                    build_annotations::of(r, &self.scopes)
                };
                let added = with_annotations(&mut r.value, &internal);
                // Turning the object into JSON decodes it: a key its file
                // gave twice fails there, on the lines of the object with
                // kustomize's annotations.
                if let Some(e) = duplicates_now(r) {
                    return Err(invalid(&r.source, e.go_message()));
                }
                if let Some(e) = generate::tab_block_error(r, generate::Decoding::JsonPatch) {
                    return Err(invalid(&r.source, e));
                }
                let applied = patch::json6902::apply(&mut r.value, ops, overflows.as_ref());
                let mut rebuilt = r.value.clone();
                rebuilt.ints_to_floats();
                r.json_rebuilt = Some(Box::new(rebuilt));
                r.first_tree = None;
                r.kept_nodes.clear();
                r.kept_note_texts.clear();
                r.merged_patches.clear();
                r.notes_set_anew();
                remove_annotations(&mut r.value, &added);
                applied.map_err(|source_err| Error::Patch {
                    file: source.clone(),
                    target,
                    source: Box::new(source_err),
                })?;
                // kustomize rebuilds a JSON-patched object from JSON: nothing
                // is shared any more, every number is a float64 and every
                // scalar has its JSON text.
                r.value.ints_to_floats();
                // kustomize then writes the annotations back, making the
                // `metadata` map a patch left the object without.
                if let Value::Map(m) = &mut r.value {
                    m.entry("metadata".to_string()).or_insert_with(|| Value::Map(Map::new()));
                }
                r.shared.clear();
                r.written.clear();
                r.forget_written_texts();
                if p.json6902_only && r.prev_ids.is_empty() {
                    r.orig_id = r.id();
                }
            }
            return Ok(());
        }
        if matcher.is_some() && docs.len() > 1 {
            let what = p.go_name();
            return Err(invalid(
                &k.file,
                format!(
                    "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field: {what}"
                ),
            ));
        }
        let one_document = docs.len() == 1;
        // kustomize leaves an object a `patches` document deleted in its set
        // as an empty node until the entry is done; looking up the target of
        // a later document of the entry reads that node's kind and panics.
        let mut deleted_in_entry = false;
        // The patch's text, shared by the objects it merges into.
        let mut shared_text: Option<std::sync::Arc<str>> = None;
        for (n, doc) in docs.into_iter().enumerate() {
            if deleted_in_entry {
                return Err(invalid(
                    &source,
                    format!(
                        "a strategic merge patch after one that deleted an object in the same entry: {NIL_DEREFERENCE}"
                    ),
                ));
            }
            let texts = doc_texts.get(n).map_or(&[][..], Vec::as_slice);
            let targets: Vec<usize> = match &matcher {
                Some(m) => (0..acc.len()).filter(|&i| m.matches(&acc[i], &self.scopes)).collect(),
                None => {
                    let pr = Resource::new(doc.clone(), source.clone());
                    let pid = pr.id();
                    // Kinds and names of all objects, kept across the patches of
                    // one kustomization while no patch renames or deletes.
                    let idents = self.idents.get_or_insert_with(|| {
                        acc.iter().map(|r| (r.kind().to_string(), r.name().to_string())).collect()
                    });
                    let found: Vec<usize> = (0..acc.len())
                        .filter(|&i| {
                            // Cheap tests first: this runs for every object and patch.
                            let r = &acc[i];
                            let (kind, name) = &idents[i];
                            let by_current = (*kind == pid.gvk.kind
                                && (*name == pid.name || r.orig_id.name == pid.name))
                                || r.prev_ids
                                    .iter()
                                    .any(|p| p.kind == pid.gvk.kind && p.name == pid.name);
                            // An object whose kind a patch changed is still
                            // found by its original kind and name.
                            let by_original =
                                r.orig_id.gvk.kind == pid.gvk.kind && r.orig_id.name == pid.name;
                            if !by_current && !by_original {
                                return false;
                            }
                            r.answers_to(&pid, &self.scopes)
                        })
                        .collect();
                    if found.len() != 1 {
                        // `patchesStrategicMerge` reports the lookup alone,
                        // `patches` names the patch first.
                        let how = if found.is_empty() { "no matches" } else { "multiple matches" };
                        let lookup = format!(
                            "{how} for Id {0}; failed to find unique target for patch {0}",
                            pid.kustomize_form()
                        );
                        return Err(invalid(
                            &source,
                            if p.legacy_strategic_merge {
                                lookup
                            } else {
                                format!(
                                    "no resource matches strategic merge patch \"{}\": {lookup}",
                                    pid.kustomize_form()
                                )
                            },
                        ));
                    }
                    found
                }
            };
            // Merging into an object reads the schema.
            self.builtin_schema_read |= self.schema.is_none() && !targets.is_empty();
            let mut deleted = Vec::new();
            for i in targets {
                let r = &mut acc[i];
                let gvk: Gvk = r.gvk();
                let mut doc = doc.clone();
                // The merge takes the first schema it finds among the
                // object's type and the patch's (kyaml's walker); kustomize
                // gives a targeted patch the object's apiVersion but keeps its
                // kind, and leaves a patch found by its identity as written
                // (a kind the object lost to an earlier patch still counts).
                let schema = self.schema.as_ref().unwrap_or(patch::OpenApi::builtin());
                let patch_kind = doc.get_path(&["kind"]).and_then(Value::as_str);
                let schema_gvk = match patch_kind {
                    Some(kind) if !schema.knows(&gvk) => match matcher {
                        Some(_) => Gvk { kind: kind.to_string(), ..gvk.clone() },
                        None => Gvk::from_api_version(
                            doc.get_path(&["apiVersion"]).and_then(Value::as_str).unwrap_or(""),
                            kind,
                        ),
                    },
                    _ => gvk.clone(),
                };
                // A patch found by an earlier name keeps the object's current name.
                if matcher.is_none() && !p.allow_name_change {
                    if let Some(meta) = doc.get_path_mut(&["metadata"]).and_then(Value::as_map_mut)
                    {
                        meta.insert("name".into(), Value::String(r.name().to_string()));
                    }
                }
                // With an explicit target the patch's own identity is ignored,
                // and kustomize merges a copy whose labels and annotations it
                // read as strings and set again.
                let mut duplicates = doc_duplicates.get(n).cloned().flatten();
                if matcher.is_some() {
                    if let Some(dups) = duplicates.as_deref_mut() {
                        dups.settle_meta_maps(&mut doc);
                    }
                    crate::resource::rebuild_meta_maps(&mut doc, texts);
                    if let Some(meta) = doc.get_path_mut(&["metadata"]).and_then(Value::as_map_mut)
                    {
                        if !p.allow_name_change || !meta.contains_key("name") {
                            meta.insert("name".into(), Value::String(r.name().to_string()));
                        }
                        if !r.namespace().is_empty() {
                            meta.insert(
                                "namespace".into(),
                                Value::String(r.namespace().to_string()),
                            );
                        }
                    }
                    // The object keeps its apiVersion even when the patch
                    // may change its kind.
                    if let Some(m) = doc.as_map_mut() {
                        if !p.allow_kind_change {
                            m.insert("kind".into(), Value::String(gvk.kind.clone()));
                        }
                        m.insert("apiVersion".into(), Value::String(gvk.api_version()));
                    }
                }
                let target = r.id().kustomize_form();
                let namespace = r.namespace().to_string();
                // kustomize remembers the identity before a patch that may rename.
                let was_allowed = r.allowed_changes;
                let notes_set_anew = (r.needs_hash && build_annotations::set_anew_by_origins(r))
                    .then(|| ynode::notes_of(&r.value, &build_annotations::of(r, &self.scopes)));
                if p.allow_name_change || p.allow_kind_change {
                    r.store_previous_id();
                    r.allowed_changes.0 |= p.allow_name_change;
                    r.allowed_changes.1 |= p.allow_kind_change;
                }
                let schema = self.schema.as_ref().unwrap_or(patch::OpenApi::builtin());
                // The patch's nodes come from its file.
                r.written.clear();
                if !r.scalar_texts.is_empty() {
                    let empty: Vec<&[Step]> = r
                        .scalar_texts
                        .iter()
                        .filter(|(_, text)| text.is_empty())
                        .map(|(path, _)| path.as_slice())
                        .collect();
                    patch::strategic_merge::drop_empty_nulls(&mut r.value, &empty, &gvk, schema);
                    r.scalar_texts.retain(|(_, text)| !text.is_empty());
                }
                // The hash of a generated object of another kind depends on
                // the nodes the patch brings (see `ynode`).
                let mut merged_patch = (r.needs_hash
                    && (r.json_rebuilt.is_some() || r.first_tree.is_some()))
                .then(|| {
                    MergedPatch {
                        before: r.value.clone(),
                        // The patch brings the allow annotations it adds.
                        notes: ynode::notes_of(&r.value, &build_annotations::of(r, &self.scopes))
                            .into_iter()
                            .filter(|(k, _)| {
                                let key = k.strip_prefix(build_annotations::PREFIX).unwrap_or("");
                                (was_allowed.0 || key != "allowNameChange")
                                    && (was_allowed.1 || key != "allowKindChange")
                            })
                            .collect(),
                        notes_rebuilt: p.allow_name_change || p.allow_kind_change,
                        notes_set_anew,
                        text: (!p.legacy_strategic_merge)
                            .then(|| placeable_patch(&text, one_document))
                            .flatten(),
                        targeted: matcher.is_some(),
                        allowed: (p.allow_name_change, p.allow_kind_change),
                        by_schema: schema.knows(&gvk) || schema.knows(&schema_gvk),
                        after: Value::Null,
                    }
                });
                // kyaml's merge walk reads schemas written in comments on the
                // fields of the object's nodes, then of the patch's.
                // Only a text with a comment can hold one.
                // (The comments of an item of a `...List` are not followed.)
                let piece = |t: &SourceText| {
                    let text = t.file.get(t.range.clone()).filter(|_| t.within.is_empty());
                    text.filter(|t| t.contains('#')).map(str::to_string)
                };
                let patch_text =
                    doc_pieces.get(n).cloned().flatten().and_then(|range| text.get(range));
                let (dest_values, dest_keys) = r
                    .text
                    .as_ref()
                    .and_then(piece)
                    .map(|t| ynode::field_comments(&t))
                    .unwrap_or_default();
                let (patch_values, patch_keys) = patch_text
                    .filter(|t| t.contains('#'))
                    .map(ynode::field_comments)
                    .unwrap_or_default();
                let comments: Vec<_> = [dest_values, patch_values, dest_keys, patch_keys]
                    .into_iter()
                    .flatten()
                    .collect();
                let written_texts = patch::strategic_merge::Written {
                    target: &r.scalar_texts,
                    patch: texts,
                    quoted: &r.quoted,
                };
                let merged = if p.legacy_strategic_merge {
                    patch::strategic_merge::apply_with(
                        &r.value,
                        &doc,
                        &schema_gvk,
                        schema,
                        &comments,
                        written_texts,
                    )
                } else {
                    patch::strategic_merge::apply_verbatim_with(
                        &r.value,
                        &doc,
                        &schema_gvk,
                        schema,
                        &comments,
                        written_texts,
                    )
                };
                match merged.map_err(|mut e| {
                    let patch = doc_pieces
                        .get(n)
                        .cloned()
                        .flatten()
                        .and_then(|range| super::ynode::styles_with_comments(text.get(range)?));
                    e.restyle(patch.as_ref(), r.styles().as_ref());
                    Error::Patch { file: source.clone(), target, source: Box::new(e) }
                })? {
                    Some((v, landing)) => {
                        // A top-level `$patch: replace` leaves the object as
                        // it was: the allow annotations the options gave the
                        // patch never reach it.
                        let untouched = matches!(&doc, Value::Map(m)
                            if m.get("$patch").and_then(Value::as_str) == Some("replace"));
                        if untouched {
                            r.allowed_changes = was_allowed;
                        }
                        let before = std::mem::replace(&mut r.value, v);
                        build_annotations::note_merged(
                            r,
                            &before,
                            was_allowed,
                            matcher.is_some()
                                || p.allow_name_change
                                || p.allow_kind_change
                                || p.legacy_strategic_merge,
                        );
                        let piece = doc_pieces.get(n).cloned().flatten();
                        let written = piece.and_then(|range| text.get(range));
                        keep_quotes(r, &before, &doc, &landing, texts, written);
                        if let (Some(_), Some(Some(range))) = (&r.text, doc_pieces.get(n)) {
                            let file = shared_text
                                .get_or_insert_with(|| std::sync::Arc::from(text.as_str()))
                                .clone();
                            r.patched_by.push(crate::resource::SourceText {
                                file,
                                range: range.clone(),
                                within: Vec::new(),
                            });
                        }
                        let name = [Step::Key("metadata".into()), Step::Key("name".into())];
                        let name_text =
                            r.scalar_texts.iter().find(|(p, _)| p[..] == name[..]).cloned();
                        follow_texts(r, &doc, &landing, texts);
                        follow_file_nodes(r, &doc, &landing);
                        if let Some(d) = &duplicates {
                            carry_shadows(r, &before, &landing, d);
                        }
                        // kustomize sets the object's name back unless the
                        // patch may change it: a new node, which a validator
                        // may write again with the same value. It has the
                        // old name's text, untagged, in the style the merge
                        // kept (the object's): a name written as a number
                        // still prints as one (`31`, for `0x1F` too).
                        // Being untagged, text a replacement later gives it
                        // reads by its looks (`0o7` is 7).
                        if !p.allow_name_change {
                            r.note_set_scalar(&name);
                            r.scalar_texts.retain(|(p, _)| p[..] != name[..]);
                            r.scalar_texts.extend(name_text);
                        }
                        // kustomize puts the object's kind back unless the
                        // patch may change it.
                        if !p.allow_kind_change {
                            if let Some(m) = r.value.as_map_mut() {
                                m.insert("kind".into(), Value::String(gvk.kind.clone()));
                            }
                        }
                        // The PatchStrategicMergeTransformer, and a patch with
                        // a target, give the patch they merge the object's
                        // apiVersion as a new untagged plain scalar of its text
                        // (kyaml's `SetApiVersion`). An object without one gets
                        // an empty one, which kustomize's JSON round trip turns
                        // into `apiVersion: null`, unless the object wrote it
                        // quoted (`""`), whose style the merge keeps (merge2's
                        // `SetStyle`); one written as a number or bool (which
                        // kiln's identity reads as no apiVersion) reads by its
                        // looks (`0x10` is 16). A top-level `$patch: replace`
                        // leaves the object as it was.
                        if (p.legacy_strategic_merge || matcher.is_some())
                            && gvk.api_version().is_empty()
                            && !untouched
                        {
                            let set = match before.get_path(&["apiVersion"]) {
                                Some(Value::String(_)) => Value::String(String::new()),
                                Some(
                                    v @ (Value::Bool(_)
                                    | Value::Int(_)
                                    | Value::Uint(_)
                                    | Value::Float(_)),
                                ) => v.clone(),
                                _ => Value::Null,
                            };
                            if !matches!(set, Value::Null | Value::String(_)) {
                                let at = [Step::Key("apiVersion".into())];
                                r.scalar_texts.retain(|(p, _)| p[..] != at[..]);
                                r.note_set_scalar(&at);
                            }
                            if let Some(m) = r.value.as_map_mut() {
                                m.insert("apiVersion".into(), set);
                            }
                        }
                        // A strategic merge patch never moves an object to
                        // another namespace: kustomize puts the old one back,
                        // a new untagged node (`SetNamespace`) like the name.
                        if let Some(meta) =
                            r.value.get_path_mut(&["metadata"]).and_then(Value::as_map_mut)
                        {
                            if namespace.is_empty() {
                                meta.shift_remove("namespace");
                            } else {
                                meta.insert("namespace".into(), Value::String(namespace));
                                let at =
                                    [Step::Key("metadata".into()), Step::Key("namespace".into())];
                                crate::resource::record_path(&mut r.untagged, &at);
                            }
                        }
                        // kustomize keeps its build state in the annotations:
                        // a patch that replaces or deletes them takes it along
                        // (a hash suffix due, earlier names, affixes), and a
                        // replace leaves the patch's own, which kustomize gave
                        // the allow annotations of its options.
                        if let Some(kept) = patch::strategic_merge::annotations_replaced(&doc)
                            && !untouched
                        {
                            build_annotations::replaced(r);
                            if kept {
                                r.allowed_changes.0 |= p.allow_name_change;
                                r.allowed_changes.1 |= p.allow_kind_change;
                            }
                        }
                        r.sync_shared_after_patch(&doc);
                        if let Some(mut step) = merged_patch.take() {
                            step.after = r.value.clone();
                            r.merged_patches.push(step);
                        }
                    }
                    None => deleted.push(i),
                }
            }
            if !deleted.is_empty() {
                self.idents = None;
                deleted_in_entry |= !p.legacy_strategic_merge && matcher.is_none();
            }
            for i in deleted.into_iter().rev() {
                acc.remove(i);
            }
            // kustomize rebuilds its object set after a targeted strategic
            // merge patch: one that left two objects with one identity fails.
            if matcher.is_some() {
                unique_ids(acc, &k.file, &self.scopes)?;
            }
        }
        Ok(())
    }
}

/// Appends the content hash to the names of generated objects that want
/// one. They go on wanting it (kustomize keeps their `needsHashSuffix`
/// annotation to the end of the build, which its messages show): after a
/// HashTransformer, kustomize appends it a second time at the end.
fn add_hashes(acc: &mut [Resource], scopes: &SchemaScopes) -> Result<(), Error> {
    for r in acc.iter_mut().filter(|r| r.needs_hash) {
        // kustomize's hasher decodes a ConfigMap's `data` from its text.
        if r.kind() == "ConfigMap"
            && let Some(error) = generate::tab_block_error(r, generate::Decoding::Hash)
        {
            return Err(invalid(&r.source, error));
        }
        // kustomize hashes another kind by its YAML node tree.
        let start = match (&r.json_rebuilt, &r.first_tree, &r.text) {
            (Some(rebuilt), _, _) => Some(ynode::Start::Rebuilt(rebuilt)),
            (None, Some(first), _)
                if r.generator_merge.is_some() || generate::generated_by(&r.source).is_some() =>
            {
                Some(ynode::Start::Generated(first, r.generator_merge.as_deref()))
            }
            (None, Some(first), Some(text)) => Some(ynode::Start::Read(first, text)),
            _ => None,
        };
        let nodes = match (r.kind(), start) {
            ("ConfigMap" | "Secret", _) | (_, None) => None,
            (_, Some(start)) => {
                // The origin and transformations kustomize holds are
                // annotations the hash covers.
                let internal = build_annotations::all(r, scopes);
                ynode::hash_input(
                    start,
                    &r.value,
                    &internal,
                    &r.notes_added,
                    &r.merged_patches,
                    &ynode::Replaced {
                        kept: &r.kept_nodes,
                        kept_note_texts: &r.kept_note_texts,
                        texts: &r.scalar_texts,
                        untagged: &r.untagged,
                    },
                    build_annotations::set_anew_by_origins(r),
                )
            }
        };
        let hash = match nodes {
            Some(input) => generate::hash_suffix(input.as_bytes()),
            None => generate::content_hash(r),
        };
        let name = format!("{}-{hash}", r.name());
        r.set_name(name);
    }
    Ok(())
}

/// Whether a `generators:`/`transformers:`/`validators:` or
/// `patchesStrategicMerge` entry is written inline rather than a path:
/// kustomize reads the text as it reads a file of objects (null and empty
/// documents dropped, lists expanded, each object with a kind and, unless
/// a list kind, a name) and takes the entry for a path when that fails (a
/// malformed text or an object without a name fails as a missing path).
/// Text without objects is inline and adds nothing. A key given twice
/// fails only later, when the objects are used.
pub(super) fn reads_as_objects(entry: &str) -> bool {
    objects_in(entry, "inline").is_ok()
}

/// kustomize builds only a directory: a file, or a path whose first
/// missing component `lstat` names, fails before any kustomization is read.
fn check_build_dir(tree: &dyn Tree, dir: &str) -> Result<(), Error> {
    if dir.is_empty() {
        return Ok(());
    }
    let message = match tree.kind(dir) {
        Some(EntryKind::Dir) => return Ok(()),
        Some(EntryKind::File) => format!("must build at directory: '{dir}': file is not directory"),
        None => format!(
            "must build at directory: not a valid directory: {}",
            symlinks_failure(tree, dir, dir)
        ),
    };
    Err(invalid(dir, message))
}

/// Whether reading YAML failed on a mapping key given twice.
fn is_duplicate_key(e: &yaml::ParseError) -> bool {
    e.message.contains("already defined at line")
}

/// A key given twice: kustomize meets it when it turns objects into Go
/// maps, and reports it unwrapped.
fn duplicate_key(e: &yaml::ParseError) -> Error {
    invalid(
        &format!("{}:{}:{}", e.file, e.line, e.column),
        format!("map[string]interface {{}}(nil): {}", e.go_message()),
    )
}

/// The keys `r`'s file gave again that kyaml still holds (see
/// [`Resource::duplicates`]), as yaml.v3 reports them where kustomize
/// decodes kyaml's encoding of the object as it is now. While kyaml holds
/// every one, the lines of the error as read move by the lines the build
/// added or removed above the first of the two keys.
fn duplicates_now(r: &mut Resource) -> Option<yaml::ParseError> {
    // A step of kiln's that removed a field given again removed its first
    // node in kyaml.
    r.settle_shadows();
    let d = r.duplicates.as_deref()?;
    if d.changed {
        return duplicates_left(r, &d.shadows);
    }
    let mut error = d.error.clone();
    let styles = r.styles();
    for k in &mut error.duplicate_keys {
        let mut path = k.map.clone();
        path.push(Step::Key(k.name.clone()));
        let line = |v: &Value| key_line(v, &path, styles.as_ref());
        if let (Some(now), Some(then)) = (line(&r.value), line(&d.read)) {
            let moved = |l: usize| (l + now).saturating_sub(then);
            (k.line, k.first_line) = (moved(k.line), moved(k.first_line));
        }
    }
    Some(error)
}

/// Keeps the keys a strategic merge patch gives again (`patch`) where the
/// merge of it into `before` kept the patch's own node (see
/// [`patch::Landing::holds_patch_node`]): they are the object's now, and fail
/// it when kustomize turns it into a Go map. Elsewhere kyaml's merge read
/// only the first of each.
fn carry_shadows(r: &mut Resource, before: &Value, landing: &patch::Landing, patch: &Duplicates) {
    let kept: Vec<yaml::Shadow> = patch
        .shadows
        .iter()
        .filter(|s| landing.holds_patch_node(before, &s.map))
        .filter_map(|s| {
            Some(yaml::Shadow { map: landing.of_patch(&r.value, &s.map)?, ..s.clone() })
        })
        .collect();
    if kept.is_empty() {
        return;
    }
    let d = r.duplicates.get_or_insert_with(|| {
        Box::new(Duplicates { shadows: Vec::new(), read: r.value.clone(), ..patch.clone() })
    });
    d.shadows.extend(kept);
    d.changed = true;
}

/// [`duplicates_now`] once a step removed some of the keys given again
/// (`shadows` are those left): kiln's encoding of the object, each of them
/// written in its place, read again.
fn duplicates_left(r: &Resource, shadows: &[yaml::Shadow]) -> Option<yaml::ParseError> {
    let mut marked = r.value.clone();
    let mut styles = r.styles();
    let mut again = Vec::with_capacity(shadows.len());
    for (i, s) in shadows.iter().enumerate() {
        let Some(Value::Map(m)) = crate::resource::value_at_mut(&mut marked, &s.map) else {
            continue;
        };
        let mark = format!("kiln-key-given-again-{i}");
        m.shift_insert(s.at.min(m.len()), mark.clone(), s.value.clone());
        // Each key given again keeps the comments its own node has.
        if let Some(styles) = styles.as_mut() {
            styles.mark_given_again(&s.map, &s.key, &mark);
        }
        again.push((mark, s.key.as_str()));
    }
    let mut text = yaml::node_to_string_styled(&marked, styles.as_ref());
    for (mark, key) in again {
        let mut written = String::new();
        crate::gotmpl::sprig::json::quote(&mut written, key, false);
        text = text.replacen(&mark, &written, 1);
    }
    let docs = yaml::parse_kustomize_objects(&text, &r.source, yaml::Limits::default()).ok()?;
    docs.into_iter().next()?.duplicates.map(|e| *e)
}

/// The line (1-based) of the key at `path` in kyaml's encoding of `object`
/// in the styles of `styles`, found by a key of its own put in its place.
fn key_line(object: &Value, path: &[Step], styles: Option<&yaml::Styled>) -> Option<usize> {
    const MARK: &str = "kiln-duplicate-key-mark";
    let (Step::Key(key), parent) = path.split_last()? else { return None };
    let mut marked = object.clone();
    let Some(Value::Map(m)) = crate::resource::value_at_mut(&mut marked, parent) else {
        return None;
    };
    let at = m.get_index_of(key.as_str())?;
    let (_, v) = m.shift_remove_index(at)?;
    m.shift_insert(at, MARK.to_string(), v);
    let text = yaml::node_to_string_styled(&marked, styles);
    text.lines().position(|l| l.contains(MARK)).map(|i| i + 1)
}

/// A patch with a collection as a key, which kiln's reader refuses: kyaml
/// reads it, and its merge walk fails on the map that holds the key when it
/// lists that map's fields, printing the map (written here from its nodes,
/// where it is a flow collection).
fn collection_key_failure(e: &yaml::ParseError, text: &str, source: &str) -> Option<Error> {
    if !e.message.contains("a mapping key must be a scalar node") {
        return None;
    }
    // A list is a JSON patch, which must become JSON first.
    let node = yaml::Styled::parse(text).filter(|n| matches!(n, yaml::Styled::Map { .. }))?;
    let dump = yaml::flow_node_text(node.map_with_collection_key()?)?;
    Some(invalid(
        source,
        format!("wrong node kind: expected ScalarNode but got MappingNode: node contents:\n{dump}"),
    ))
}

/// Reads the objects of one manifest file, expanding `kind: List`.
fn load_objects(tree: &dyn Tree, path: &str) -> Result<Vec<Resource>, Error> {
    let bytes = tree.read(path)?;
    match String::from_utf8(bytes) {
        Ok(text) => objects_in(&text, path),
        // kustomize's YAML reader fails on the first bad sequence.
        Err(e) => Err(Error::Yaml(yaml::ParseError::new(path, 0, 0, utf8_problem(e.as_bytes())))),
    }
}

/// How libyaml's reader words the first invalid UTF-8 sequence of `bytes`.
fn utf8_problem(bytes: &[u8]) -> &'static str {
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        let width = match lead {
            b if b & 0x80 == 0 => 1,
            b if b & 0xE0 == 0xC0 => 2,
            b if b & 0xF0 == 0xE0 => 3,
            b if b & 0xF8 == 0xF0 => 4,
            _ => return "invalid leading UTF-8 octet",
        };
        if i + width > bytes.len() {
            return "incomplete UTF-8 octet sequence";
        }
        let mut value = u32::from(lead) & [0x7F, 0x1F, 0x0F, 0x07][width - 1];
        for &b in &bytes[i + 1..i + width] {
            if b & 0xC0 != 0x80 {
                return "invalid trailing UTF-8 octet";
            }
            value = (value << 6) | u32::from(b & 0x3F);
        }
        let shortest = match value {
            0..=0x7F => 1,
            0x80..=0x7FF => 2,
            0x800..=0xFFFF => 3,
            _ => 4,
        };
        if shortest != width {
            return "invalid length of a UTF-8 sequence";
        }
        if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
            return "invalid Unicode character";
        }
        i += width;
    }
    "invalid UTF-8"
}

/// The objects of a YAML stream that came from `path`, expanding `kind: List`.
pub(super) fn objects_in(text: &str, path: &str) -> Result<Vec<Resource>, Error> {
    let mut out = Vec::new();
    // Kept for the messages that show a node: the file's text, once.
    let mut file: Option<std::sync::Arc<str>> = None;
    // The items of lists expanded through JSON, which kustomize puts after
    // the file's other documents.
    let mut expanded = Vec::new();
    // The items of lists among those items: kustomize keeps one queue for
    // the whole file, so they come after the items of every list of the
    // file (with the piece of the file they are in).
    let mut later = std::collections::VecDeque::new();
    // Whether kyaml hands the file on whole, worked out once (a scan of the
    // file) and only for a file that holds a list.
    let mut whole: Option<bool> = None;
    for doc in yaml::parse_kustomize_objects(text, path, yaml::Limits::default())? {
        let yaml::Document {
            value: doc,
            scalar_texts,
            quoted,
            tagged,
            non_string_key,
            typed_keys,
            duplicates,
            undecodable,
            shadows,
            piece,
        } = doc;
        match doc {
            // kustomize's `dropBadNodes` drops a document that is null or an
            // empty map or list.
            _ if nil_or_empty(&doc) => {}
            Value::Map(_) => {
                // kyaml's reader splits a file at every line after the
                // first that starts with `---`; when there is none, it
                // hands kustomize the items of a `List` or `ResourceList`
                // as written (see [`kio_wrapper`]). Any other list goes
                // through JSON.
                let unwrapped = kio_wrapper(&doc) && *whole.get_or_insert_with(|| one_piece(text));
                if unwrapped || stands_for_items(&doc) {
                    let kind = doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("");
                    let from_json = !unwrapped;
                    // kustomize expands a list through JSON, which fails on
                    // a scalar its tag does not fit when it decodes the list.
                    if let Some((_, _, e)) = undecodable.first()
                        && from_json
                    {
                        let dump = text.get(piece.clone()).and_then(list_dump);
                        return Err(match dump {
                            Some(dump) => expansion_error(kind, e, &dump, path),
                            None => Error::Yaml(e.clone()),
                        });
                    }
                    let (items, unread) = match doc.get_path(&["items"]) {
                        Some(Value::Seq(items)) => {
                            let steps = (0..items.len()).map(Step::Index);
                            (steps.zip(items.iter().cloned()).collect(), None)
                        }
                        Some(Value::Map(m)) if !from_json => {
                            handed_on(m, text.get(piece.clone()).unwrap_or_default(), path)
                        }
                        _ => (Vec::new(), None),
                    };
                    let steps: Vec<Step> = items.iter().map(|(step, _)| step.clone()).collect();
                    let places = places(&steps);
                    let mut item_duplicates = Vec::new();
                    if let Some(e) = duplicates {
                        let piece_text = text.get(piece.clone());
                        item_duplicates =
                            list_duplicates(*e, from_json, piece_text, kind, &steps, path)?;
                    }
                    // kustomize expands a list through JSON, whose encoder
                    // refuses a map with a key that is not a string.
                    if let Some(key) = non_string_key.filter(|_| from_json) {
                        let e = key.error;
                        return Err(invalid(
                            &format!("{}:{}:{}", e.file, e.line, e.column),
                            "json: unsupported type: map[interface {}]interface {}".to_string(),
                        ));
                    }
                    if from_json {
                        json_list_items(&doc, &scalar_texts).map_err(|e| invalid(path, e))?;
                    }
                    if !items.is_empty() {
                        let texts = by_step(scalar_texts, &steps, |(p, _)| p);
                        let quoted = by_step(quoted, &steps, |p| p);
                        let mut tagged = by_step(tagged, &steps, |p| p).into_iter();
                        let undecodable = by_step(undecodable, &steps, |(p, ..)| p);
                        let mut typed_keys = by_step(typed_keys, &steps, |(p, _)| p);
                        let shadows = by_step(shadows, &steps, |s| &mut s.map);
                        let file = file.get_or_insert_with(|| std::sync::Arc::from(text));
                        let mut queue: std::collections::VecDeque<_> = items
                            .into_iter()
                            .zip(texts)
                            .zip(quoted)
                            .zip(undecodable)
                            .zip(shadows)
                            .map(|(((((step, item), texts), quoted), undecodable), shadows)| {
                                // An item that goes through JSON loses its tags.
                                let tagged = tagged.next().filter(|_| !from_json);
                                Pending {
                                    item,
                                    texts,
                                    quoted,
                                    tagged: tagged.unwrap_or_default(),
                                    undecodable,
                                    shadows,
                                    within: vec![Step::Key("items".into()), step],
                                    from_json,
                                }
                            })
                            .collect();
                        while let Some(Pending {
                            mut item,
                            mut texts,
                            mut quoted,
                            tagged,
                            undecodable,
                            shadows,
                            within,
                            from_json,
                        }) = queue.pop_front()
                        {
                            // kyaml's reader reads the JSON of an item of the
                            // list alone: a `List` or `ResourceList` gives
                            // its items in its place (once: not theirs).
                            if from_json && within.len() == 2 && kio_wrapper(&item) {
                                let mut inner = Waiting::new();
                                queue_unwrapped(&mut inner, item, within, &piece)
                                    .map_err(|e| invalid(path, e))?;
                                for (v, within, _) in inner.into_iter().rev() {
                                    queue.push_front(Pending::read_from_json(v, within));
                                }
                                continue;
                            }
                            if from_json {
                                through_json(&mut item, &mut texts, &mut quoted)
                                    .map_err(|e| invalid(path, e))?;
                            }
                            // kustomize expands a list among the items too,
                            // through JSON, its items after all the others.
                            if stands_for_items(&item) {
                                // An item as written is decoded first, which
                                // fails on a scalar its tag does not fit.
                                if let Some((_, _, e)) = undecodable.first() {
                                    let kind = item.get_path(&["kind"]).and_then(Value::as_str);
                                    let styles = file
                                        .get(piece.clone())
                                        .and_then(ynode::styles_with_comments)
                                        .and_then(|doc| doc.at(&within).cloned());
                                    let dump = yaml::node_to_string_styled(&item, styles.as_ref());
                                    return Err(expansion_error(
                                        kind.unwrap_or(""),
                                        e,
                                        &dump,
                                        path,
                                    ));
                                }
                                queue_items(&mut later, &item, &texts, &within, &piece)
                                    .map_err(|e| invalid(path, e))?;
                                continue;
                            }
                            // kustomize drops an item that is null or an
                            // empty map or list (`dropBadNodes`).
                            if nil_or_empty(&item) {
                                continue;
                            }
                            let mut r = check_object(item, path, texts)?;
                            r.quoted = quoted;
                            r.tagged = tagged;
                            r.undecodable = deferred(undecodable);
                            // Where in `items` an item of the list itself is.
                            let top = match within.as_slice() {
                                [_, step] => places.get(step).copied(),
                                _ => None,
                            };
                            if let Some(keys) = top.and_then(|i| typed_keys.get_mut(i)) {
                                r.plain_keys = std::mem::take(keys);
                            }
                            r.text = Some(crate::resource::SourceText {
                                file: file.clone(),
                                range: piece.clone(),
                                within,
                            });
                            r.from_json = from_json;
                            let error = top.and_then(|i| item_duplicates.get_mut(i)?.take());
                            let error = error.map(|e| Box::new(item_lines(e, &r)));
                            r.duplicates = Duplicates::of(error, shadows, &r.value);
                            expanded.push(r);
                        }
                    }
                    if let Some(e) = unread {
                        return Err(e);
                    }
                    continue;
                }
                let mut r = check_object(doc, path, scalar_texts)?;
                r.quoted = quoted;
                r.tagged = tagged;
                r.non_string_key = non_string_key;
                r.plain_keys = typed_keys;
                r.duplicates = Duplicates::of(duplicates, shadows, &r.value);
                r.undecodable = deferred(undecodable);
                let file = file.get_or_insert_with(|| std::sync::Arc::from(text)).clone();
                r.text =
                    Some(crate::resource::SourceText { file, range: piece, within: Vec::new() });
                if r.needs_hash {
                    r.first_tree = Some(Box::new(r.value.clone()));
                }
                out.push(r);
            }
            // kustomize finds no type or metadata in a document that is
            // not a map.
            _ => return Err(invalid(path, "missing Resource metadata")),
        }
    }
    out.extend(expanded);
    while let Some((mut item, within, piece)) = later.pop_front() {
        let (mut texts, mut quoted) = (Vec::new(), Vec::new());
        through_json(&mut item, &mut texts, &mut quoted).map_err(|e| invalid(path, e))?;
        if stands_for_items(&item) {
            queue_items(&mut later, &item, &texts, &within, &piece)
                .map_err(|e| invalid(path, e))?;
        } else if !nil_or_empty(&item) {
            let mut r = check_object(item, path, texts)?;
            r.quoted = quoted;
            let file = file.get_or_insert_with(|| std::sync::Arc::from(text)).clone();
            r.text = Some(crate::resource::SourceText { file, range: piece, within });
            r.from_json = true;
            r.duplicates = Duplicates::of(None, Vec::new(), &r.value);
            out.push(r);
        }
    }
    Ok(out)
}

/// An item of a `...List` on its way to an object, with what the reader
/// noted of its scalars (as [`yaml::Document`] has them) and the keys it
/// gives again; `within`: its place in the list's document; `from_json`:
/// kustomize reads it through JSON.
struct Pending {
    item: Value,
    texts: Vec<(Vec<Step>, String)>,
    quoted: Vec<Vec<Step>>,
    tagged: Vec<Vec<Step>>,
    undecodable: Vec<(Vec<Step>, String, yaml::ParseError)>,
    shadows: Vec<yaml::Shadow>,
    within: Vec<Step>,
    from_json: bool,
}

impl Pending {
    /// An item kyaml reads back from JSON: none of its texts are as written.
    fn read_from_json(item: Value, within: Vec<Step>) -> Self {
        Pending {
            item,
            texts: Vec::new(),
            quoted: Vec::new(),
            tagged: Vec::new(),
            undecodable: Vec::new(),
            shadows: Vec::new(),
            within,
            from_json: true,
        }
    }
}

/// The items of lists that wait in [`objects_in`]'s queue for the file:
/// each with where it stands in its document, and the document's piece.
type Waiting = std::collections::VecDeque<(Value, Vec<Step>, std::ops::Range<usize>)>;

/// Queues the items of `list` (at `within` of the file's `piece`, its
/// scalars written as `texts`), which kustomize expands through JSON.
fn queue_items(
    queue: &mut Waiting,
    list: &Value,
    texts: &[(Vec<Step>, String)],
    within: &[Step],
    piece: &std::ops::Range<usize>,
) -> Result<(), String> {
    for (j, v) in json_list_items(list, texts)?.iter().enumerate() {
        queue_unwrapped(queue, v.clone(), at_item(within, j), piece)?;
    }
    Ok(())
}

/// The path of item `i` of the `items` of the list at `list`.
fn at_item(list: &[Step], i: usize) -> Vec<Step> {
    [list, &[Step::Key("items".into()), Step::Index(i)]].concat()
}

/// Whether kyaml's reader, handed `doc` as the only document of a text,
/// hands on its items in its place (none without `items`): a `List` or
/// `ResourceList` with `items` or a `functionConfig`.
fn kio_wrapper(doc: &Value) -> bool {
    matches!(doc.get_path(&["kind"]).and_then(Value::as_str), Some("List" | "ResourceList"))
        && (doc.get_path(&["items"]).is_some() || doc.get_path(&["functionConfig"]).is_some())
}

/// Queues an item (at `within` of the file's `piece`) of a list kustomize
/// expands through JSON: kyaml's reader reads the item's JSON alone, so the
/// items of a `List` or `ResourceList` ([`kio_wrapper`]) take its place at
/// once, where a list of another kind waits its turn. Fails as a key of a
/// map in its `items` does, which has no metadata; a scalar there holds no
/// item.
fn queue_unwrapped(
    queue: &mut Waiting,
    item: Value,
    within: Vec<Step>,
    piece: &std::ops::Range<usize>,
) -> Result<(), &'static str> {
    if !kio_wrapper(&item) {
        queue.push_back((item, within, piece.clone()));
        return Ok(());
    }
    match item.get_path(&["items"]) {
        Some(Value::Seq(items)) => {
            for (j, v) in items.iter().enumerate() {
                queue.push_back((v.clone(), at_item(&within, j), piece.clone()));
            }
            Ok(())
        }
        Some(Value::Map(m)) if !m.is_empty() => Err("missing Resource metadata"),
        _ => Ok(()),
    }
}

/// An item of a `...List` as kustomize holds it once it expanded the list
/// through JSON: yaml.v3 decoded the item into Go values, `encoding/json`
/// wrote them out, and kyaml read that text back. Every scalar then has its
/// JSON text, which is what vars, replacements and labels read: a number its
/// shortest decimal (`0x1F` is `31`, `1_000` is `1000`, `1.0` and `1e3` are
/// the integers `1` and `1000`, `1e22` is `1e+22`), a plain timestamp its
/// RFC 3339 string, a `!!binary` scalar its decoded string, a null `null`;
/// and every string is a node in double quotes. Sets `texts` to those texts
/// of the scalars that are not strings and `strings` to the paths of the
/// strings, as [`yaml::Document`] has them; a float JSON cannot hold
/// (`.inf`, `.nan`) fails as `encoding/json` does.
fn through_json(
    item: &mut Value,
    texts: &mut Vec<(Vec<Step>, String)>,
    strings: &mut Vec<Vec<Step>>,
) -> Result<(), String> {
    fn walk(
        v: &mut Value,
        at: &mut Vec<Step>,
        texts: &mut Vec<(Vec<Step>, String)>,
        strings: &mut Vec<Vec<Step>>,
    ) -> Result<(), String> {
        crate::stack::grow(|| {
            let text = match v {
                Value::String(_) => {
                    strings.push(at.clone());
                    return Ok(());
                }
                Value::Map(m) => {
                    for (k, v) in m.iter_mut() {
                        at.push(Step::Key(k.clone()));
                        walk(v, at, texts, strings)?;
                        at.pop();
                    }
                    return Ok(());
                }
                Value::Seq(items) => {
                    for (i, v) in items.iter_mut().enumerate() {
                        at.push(Step::Index(i));
                        walk(v, at, texts, strings)?;
                        at.pop();
                    }
                    return Ok(());
                }
                Value::Null => "null".to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Int(i) => i.to_string(),
                Value::Uint(u) => u.to_string(),
                Value::Float(f) => {
                    let f = *f;
                    let text = crate::gotmpl::sprig::json::json_float(f)
                        .ok_or_else(|| crate::gotmpl::sprig::json::unsupported_float(f))?;
                    // yaml.v3 reads `1000` back as an integer.
                    *v = yaml::resolve::resolve_plain(&text);
                    text
                }
            };
            texts.push((at.clone(), text));
            Ok(())
        })
    }
    texts.clear();
    strings.clear();
    walk(item, &mut Vec::new(), texts, strings)
}

/// kyaml's `IsNilOrEmpty`: a null, an empty map or an empty list; kustomize's
/// `dropBadNodes` drops such an item of a list.
fn nil_or_empty(item: &Value) -> bool {
    match item {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        Value::Seq(s) => s.is_empty(),
        _ => false,
    }
}

/// Whether a strategic merge patch document stands for its items, as a
/// resource file's list does (see [`stands_for_items`]): items that are a
/// list, or null (then none).
fn patch_list_items(doc: &Value) -> bool {
    stands_for_items(doc) && matches!(doc.get_path(&["items"]), Some(Value::Seq(_) | Value::Null))
}

/// Whether kustomize reads a document (or an item of a list) as a list of
/// objects: a `...List` with an `items` field (even a null one) stands for
/// its items; without one it is an object of its own.
fn stands_for_items(doc: &Value) -> bool {
    doc.get_path(&["kind"])
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List") && doc.get_path(&["items"]).is_some())
}

/// The items of a list kustomize expands through JSON (see
/// [`stands_for_items`]): none for a null, else they must be a list; Go's
/// `%T` of what yaml.v3 decoded names anything else (`texts`: the list's
/// scalar texts, which tell a plain timestamp).
fn json_list_items<'a>(
    list: &'a Value,
    texts: &[(Vec<Step>, String)],
) -> Result<&'a [Value], String> {
    let items = list.get_path(&["items"]).unwrap_or(&Value::Null);
    let found = match items {
        Value::Seq(items) => return Ok(items),
        Value::Null => return Ok(&[]),
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => {
            let at = [Step::Key("items".into())];
            if crate::resource::written_text(items, &at, texts)
                .is_some_and(|t| crate::yaml::resolve::parse_timestamp(&t).is_some())
            {
                "time.Time"
            } else {
                "string"
            }
        }
        Value::Map(_) => "map[string]interface {}",
    };
    let kind = list.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("");
    Err(format!("expected array in {kind}/items, but found {found}"))
}

/// kyaml's text of a list document `text` whose expansion failed, keys it
/// gives twice and comments included; `None` where kiln cannot write it.
fn list_dump(text: &str) -> Option<String> {
    yaml::document_with_duplicates(text, &ynode::styles_with_comments(text)?)
}

/// How a key given twice in a `...List` document fails. kustomize decodes
/// a list it expands through JSON from its nodes, with their lines as read,
/// and fails there, printing the list as kyaml writes it (`piece`, its text;
/// kiln's own message where it cannot write that). A list kyaml's reader
/// hands on as written (not `from_json`) gives kustomize its items as nodes,
/// each failing only when kustomize decodes it at the end: the keys they
/// give twice, by item (at `steps` of `items`), for [`item_lines`]. `path`: the file.
fn list_duplicates(
    mut e: yaml::ParseError,
    from_json: bool,
    piece: Option<&str>,
    kind: &str,
    steps: &[Step],
    path: &str,
) -> Result<Vec<Option<yaml::ParseError>>, Error> {
    if from_json {
        let dump = piece.and_then(list_dump);
        let Some(dump) = dump else {
            return Err(Error::Yaml(e));
        };
        for d in &mut e.duplicate_keys {
            (d.line, d.first_line) = d.read_lines;
        }
        return Err(expansion_error(kind, &e, &dump, path));
    }
    // The list's own node is gone then, keys it gave twice too; an item's
    // are reported even where the list's hid them from yaml.v3.
    let mut keys = std::mem::take(&mut e.duplicate_keys);
    for d in &mut keys {
        d.behind_root = false;
    }
    Ok(by_step(keys, steps, |d| &mut d.map)
        .into_iter()
        .map(|keys| {
            (!keys.is_empty()).then(|| yaml::ParseError { duplicate_keys: keys, ..e.clone() })
        })
        .collect())
}

/// kustomize's error for a `...List` whose decoding for the expansion
/// through JSON fails with `e`, showing the list as kyaml writes it.
fn expansion_error(kind: &str, e: &yaml::ParseError, dump: &str, path: &str) -> Error {
    let message = format!(
        "trouble expanding list of {kind}; received error {} for the following resource:\n{dump}",
        e.go_message()
    );
    invalid(path, message)
}

/// The keys an item `r` of a `...List` gives twice (`e`, on the lines of
/// kyaml's encoding of the list) on the lines of its encoding of the item
/// alone, where kustomize decodes it.
fn item_lines(mut e: yaml::ParseError, r: &Resource) -> yaml::ParseError {
    let styles = r.styles();
    for d in &mut e.duplicate_keys {
        let mut at = d.map.clone();
        at.push(Step::Key(d.name.clone()));
        if let Some(now) = key_line(&r.value, &at, styles.as_ref()) {
            d.line = (d.line + now).saturating_sub(d.first_line);
            d.first_line = now;
        }
    }
    e
}

/// Whether kyaml's reader hands `text` on whole: no line after the first
/// (the last, unterminated piece aside) starts with `---`. A `\r` before a
/// line break does not change where a line starts, so the text is split as
/// it is; only a file holding a `...List` asks.
fn one_piece(text: &str) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    let inner = lines.get(1..lines.len().saturating_sub(1)).unwrap_or_default();
    !inner.iter().any(|line| line.starts_with("---"))
}

/// A document's scalars its tags do not fit, as a resource keeps them:
/// with the message yaml.v3's decoding gives when kustomize reads the
/// object as data.
fn deferred(
    undecodable: Vec<(Vec<Step>, String, yaml::ParseError)>,
) -> Vec<(Vec<Step>, String, String)> {
    undecodable.into_iter().map(|(path, text, e)| (path, text, e.go_message())).collect()
}

/// Splits `all`, things at paths of a `...List` document (`path` gives
/// each one's path), by the item of its `items` they are in, in one pass:
/// `n` lists, each with paths from its item.
fn by_item<T>(all: Vec<T>, n: usize, path: impl Fn(&mut T) -> &mut Vec<Step>) -> Vec<Vec<T>> {
    by_step(all, &(0..n).map(Step::Index).collect::<Vec<_>>(), path)
}

/// [`by_item`] for the items at `steps` of `items` (the keys of a map there).
fn by_step<T>(all: Vec<T>, steps: &[Step], path: impl Fn(&mut T) -> &mut Vec<Step>) -> Vec<Vec<T>> {
    let places = places(steps);
    let mut out: Vec<Vec<T>> = steps.iter().map(|_| Vec::new()).collect();
    for mut x in all {
        let p = path(&mut x);
        if let [Step::Key(k), step, ..] = p.as_slice()
            && k == "items"
            && let Some(item) = places.get(step).and_then(|&i| out.get_mut(i))
        {
            p.drain(..2);
            item.push(x);
        }
    }
    out
}

/// Where each of `steps` stands among them (the first of equal ones), found
/// at once: a list may have thousands of items.
fn places(steps: &[Step]) -> std::collections::HashMap<&Step, usize> {
    let mut places = std::collections::HashMap::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        places.entry(step).or_insert(i);
    }
    places
}

/// The nodes kyaml's reader hands on for a one-piece `List` whose `items`
/// is a map (`piece`: the document's text, whose nodes tell a null key):
/// each key and value in turn. kustomize drops those that are null or
/// empty (`dropBadNodes`) and reads a map as an object; a scalar or a list
/// has no metadata, which fails the file there, once the objects before it
/// are read. Returns the objects, by their key, and that failure.
fn handed_on(items: &Map, piece: &str, path: &str) -> (Vec<(Step, Value)>, Option<Error>) {
    let nulls = yaml::Styled::parse(piece).and_then(|doc| doc.null_keys_at("items"));
    let mut out = Vec::new();
    for (i, (k, v)) in items.iter().enumerate() {
        let null = nulls.as_ref().and_then(|n| n.get(i).copied()).unwrap_or(false);
        let key = if null { Value::Null } else { Value::String(k.clone()) };
        for (node, object) in [(&key, false), (v, true)] {
            match node {
                _ if nil_or_empty(node) => {}
                Value::Map(_) if object => out.push((Step::Key(k.clone()), node.clone())),
                _ => return (out, Some(invalid(path, "missing Resource metadata"))),
            }
        }
    }
    (out, None)
}

/// kyaml keeps the style of a scalar a strategic merge patch replaces: where
/// the object had a string in quotes or a block scalar (`"8080"`, `|`) and
/// the patch `patch` writes a number, bool or timestamp, the result is that
/// string with the patch's text as written (`1.50`, `2001-01-01`, `0x10`;
/// from `written`, the patch document's text, else `texts`, else the
/// value's own text); an item of a list of scalars is the patch's. `before`
/// is the object before the patch. The quoted places follow their nodes
/// where the merge put them (`landing`): an item of a list merged by key
/// may move (items the patch adds come first), and an item of a list the
/// patch replaces is gone.
fn keep_quotes(
    r: &mut Resource,
    before: &Value,
    patch: &Value,
    landing: &patch::Landing,
    texts: &[(Vec<Step>, String)],
    written: Option<&str>,
) {
    use crate::resource::{scalar_text, value_at, value_at_mut};
    let scalar =
        |v: &Value| matches!(v, Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_));
    // The patch's nodes with their texts, read only when a quoted place
    // takes a scalar from it.
    let mut styled: Option<Option<yaml::Styled>> = None;
    let mut plain_text = |path: &[Step]| -> Option<String> {
        let tree = styled.get_or_insert_with(|| written.and_then(yaml::Styled::parse));
        match tree.as_ref()?.at(path)? {
            yaml::Styled::Scalar { style: yaml::Style::Plain, text, .. } => Some(text.clone()),
            _ => None,
        }
    };
    // The styles before the patch, for the nodes it leaves alone below.
    let plain_before = plain_strings_needing_quotes(r, before);
    let retyped = std::mem::take(&mut r.retyped);
    let mut kept = Vec::with_capacity(r.quoted.len());
    for path in std::mem::take(&mut r.quoted) {
        let Some((now, in_patch)) = landing.of_target(&r.value, patch, &path) else { continue };
        kept.push(now.clone());
        // A strategic merge replaces a list of scalars with the patch's nodes.
        let in_list = matches!(path.last(), Some(Step::Index(_)));
        if in_list || !matches!(value_at(before, &path), Some(Value::String(_))) {
            continue;
        }
        // The patch's value where the path reads the same in the patch.
        let patched = in_patch
            .as_deref()
            .and_then(|at| Some((at, value_at(patch, at)?)))
            .filter(|(_, v)| scalar(v) || matches!(v, Value::String(_)));
        let Some(v) = value_at_mut(&mut r.value, &now) else { continue };
        // The text, and the tag of the patch's node (see [`Retyped`]).
        let (text, tag) = match patched {
            // The merge put the patch's value there, or its text over a
            // string that reads as another type (see strategic_merge).
            Some((at, pv))
                if scalar(pv)
                    && (*v == *pv
                        || matches!(v, Value::String(s) if *s == patch::strategic_merge::scalar_text(pv)
                            || crate::resource::reads_as(s, pv))) =>
            {
                (plain_text(at).or_else(|| scalar_text(pv, at, texts)), replacements::yaml_tag(pv))
            }
            // A plain timestamp reads as a string of another text. The
            // text must be the value's: kiln wrote the object's own name
            // and namespace into the patch where kustomize keeps them.
            Some((at, pv @ Value::String(s))) if *v == *pv => {
                let plain = plain_text(at);
                let stamp = plain.as_deref().and_then(yaml::resolve::parse_timestamp).is_some();
                let text = plain.filter(|t| t != s && crate::resource::reads_as(t, pv));
                (text, if stamp { "timestamp" } else { "str" })
            }
            _ if scalar(v) => (scalar_text(v, &path, &[]), replacements::yaml_tag(v)),
            _ => (None, "str"),
        };
        if let Some(text) = text {
            *v = Value::String(text);
        }
        if let (Value::String(text), true) = (&*v, tag != "str") {
            // The patch's text fits its tag: it prints as a string unless
            // it is a float's written as an integer.
            if let Ok(read) = replacements::retyped_value(tag, text) {
                *v = read;
            }
            r.retyped.push(Retyped { path: now.clone(), tag, value: v.clone() });
        }
    }
    // A node the patch left keeps its tag wherever the merge put it.
    for mut node in retyped {
        if let Some((now, None)) = landing.of_target(&r.value, patch, &node.path)
            && value_at(&r.value, &now) == Some(&node.value)
            && !r.retyped.iter().any(|n| n.path == now)
        {
            node.path = now;
            r.retyped.push(node);
        }
    }
    // Tagged nodes keep their style wherever the merge put them.
    let mut tagged: Vec<_> = std::mem::take(&mut r.tagged)
        .into_iter()
        .filter_map(|path| Some(landing.of_target(&r.value, patch, &path)?.0))
        .collect();
    // kyaml gives a node the patch adds the patch node's style, so a string
    // the patch writes in quotes (or as a block) where the object had no
    // node is a quoted place for later patches, and one it writes with a
    // tag a tagged one.
    let added = landing.added_strings(Some(before), &r.value, patch);
    if !added.is_empty() {
        let tree = styled.get_or_insert_with(|| written.and_then(yaml::Styled::parse));
        if let Some(tree) = tree.as_ref() {
            for (in_patch, now) in added {
                match tree.at(&in_patch) {
                    Some(yaml::Styled::Scalar { tag: Some(tag), .. }) if &**tag != "!" => {
                        tagged.push(now);
                    }
                    Some(yaml::Styled::Scalar { style, .. }) if *style != yaml::Style::Plain => {
                        kept.push(now);
                    }
                    _ => {}
                }
            }
        }
    }
    // A node of plain style can hold a string that YAML 1.1 reads as
    // another type: a patch wrote `"10"` over a plain `10`, and kyaml's
    // field setter gave the new node the old node's style. The walk of a
    // later patch sets every node it does not write to itself, and kyaml's
    // field setter double-quotes such a `!!str` node of plain style
    // (recorded from `kubectl kustomize`: a third patch writing `10` there
    // keeps the quotes, a second one right after the first does not; cases
    // 4622-4625).
    for path in plain_before {
        if let Some((now, None)) = landing.of_target(&r.value, patch, &path)
            && value_at(&r.value, &now) == value_at(before, &path)
        {
            kept.push(now);
        }
    }
    r.quoted = kept;
    r.tagged = tagged;
}

/// The strings of `before` (the object `r` before a strategic merge patch)
/// whose `!!str` nodes have the plain style and that YAML 1.1 reads as
/// another type (see [`yaml::resolve::yaml11_non_string`]): not in quotes
/// or tagged, not a node of another type read as a string (a timestamp, a
/// name written as a number), not an untagged node a setter made.
fn plain_strings_needing_quotes(r: &Resource, before: &Value) -> Vec<Vec<Step>> {
    let mut all = Vec::new();
    crate::resource::yaml11_non_strings(before, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return all;
    }
    // One set, not a search of each list per string: an object may hold
    // thousands of such strings and places.
    let texts = r.scalar_texts.iter().map(|(p, _)| p);
    let known: std::collections::HashSet<&Vec<Step>> =
        r.quoted.iter().chain(&r.tagged).chain(&r.untagged).chain(texts).collect();
    all.retain(|path| !known.contains(path));
    all
}

/// Moves the texts of `r`'s scalars (see [`Resource::scalar_texts`]) where
/// a strategic merge of `patch` (whose scalars were written as `texts`)
/// moved their nodes (`landing`), as kyaml merges nodes: a scalar the patch
/// wrote has the patch's text (`0x1F`, `1.50`), one it left has its own,
/// and one in an item the merge dropped or a list the patch replaced is gone.
fn follow_texts(
    r: &mut Resource,
    patch: &Value,
    landing: &patch::Landing,
    texts: &[(Vec<Step>, String)],
) {
    let mut kept = Vec::with_capacity(r.scalar_texts.len() + texts.len());
    for (path, text) in std::mem::take(&mut r.scalar_texts) {
        if let Some((now, None)) = landing.of_target(&r.value, patch, &path) {
            kept.push((now, text));
        }
    }
    for (in_patch, text) in texts.iter().filter(|(_, t)| !t.is_empty()) {
        let Some(now) = landing.of_patch(&r.value, in_patch) else { continue };
        let written = crate::resource::value_at(patch, in_patch);
        if written.is_some() && crate::resource::value_at(&r.value, &now) == written {
            kept.retain(|(p, _)| *p != now);
            kept.push((now, text.clone()));
        }
    }
    r.scalar_texts = kept;
}

/// Moves what kiln keeps about nodes of `r`'s file that kyaml holds until
/// it decodes the object where a strategic merge of `patch` moved them
/// (`landing`): a scalar whose tag its text does not fit (see
/// [`Resource::undecodable`]) is gone where the patch wrote the field or
/// the merge dropped it, and so are the keys given again (see
/// [`Duplicates`]) in a map the merge dropped or replaced; where the patch
/// cleared such a key, kyaml's merge removed its first node only.
fn follow_file_nodes(r: &mut Resource, patch: &Value, landing: &patch::Landing) {
    r.undecodable.retain_mut(|(path, ..)| match landing.of_target(&r.value, patch, path) {
        Some((now, None)) => {
            *path = now;
            true
        }
        _ => false,
    });
    let Some(d) = r.duplicates.as_deref_mut() else { return };
    let before = d.shadows.len();
    d.shadows.retain_mut(|s| match landing.of_target(&r.value, patch, &s.map) {
        Some((now, _)) => {
            s.map = now;
            true
        }
        None => false,
    });
    d.changed |= d.shadows.len() != before;
    r.settle_shadows();
}

/// `doc` as an object of file `path` whose scalars were written as `texts`.
fn check_object(
    mut doc: Value,
    path: &str,
    texts: Vec<(Vec<Step>, String)>,
) -> Result<Resource, Error> {
    let kind = doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("");
    let nil_or_empty = |key: &str| doc.get_path(&[key]).is_none_or(nil_or_empty);
    if ["apiVersion", "kind", "metadata"].iter().all(|k| nil_or_empty(k)) {
        return Err(invalid(path, "missing Resource metadata"));
    }
    if kind.is_empty() {
        return Err(invalid(
            path,
            format!("missing kind in object {}", go_resource_meta(&doc, &texts)),
        ));
    }
    // kustomize lets a list kind without items through with no name, and
    // prints it with an empty metadata map.
    if kind.ends_with("List") {
        if let Value::Map(m) = &mut doc {
            if !matches!(m.get("metadata"), Some(Value::Map(_))) {
                m.insert("metadata".into(), Value::Map(Map::new()));
            }
        }
        let mut r = Resource::new(doc, path);
        r.scalar_texts = texts;
        return Ok(r);
    }
    if !matches!(doc.get_path(&["metadata"]), Some(Value::Map(_))) {
        return Err(invalid(
            path,
            format!("missing metadata.name in object {}", go_resource_meta(&doc, &[])),
        ));
    }
    let mut r = Resource::new(doc, path);
    r.scalar_texts = texts;
    // kustomize reads a name written as a number or bool as its text.
    r.stringify_name();
    r.orig_id = r.id();
    if r.value.get_path(&["metadata", "name"]).and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(invalid(
            path,
            format!(
                "missing metadata.name in object {}",
                go_resource_meta(&r.value, &r.scalar_texts)
            ),
        ));
    }
    build_annotations::read(&mut r);
    Ok(r)
}

/// An object's type and metadata as kustomize prints them when one is
/// missing: Go's `%v` of its `ResourceMeta`, `{{apiVersion kind} {{name
/// namespace} map[labels] map[annotations]}}`, maps sorted by key.
pub(super) fn go_resource_meta(doc: &Value, texts: &[(Vec<Step>, String)]) -> String {
    let text = |path: &[&str]| match doc.get_path(path) {
        Some(Value::Map(_) | Value::Seq(_) | Value::Null) | None => String::new(),
        Some(v) => {
            v.as_str().map_or_else(|| yaml::to_string(v).trim_end().to_string(), str::to_string)
        }
    };
    let go_map = |key: &str| {
        // Go prints a map's entries in the order of their keys.
        let mut pairs: Vec<(&str, String)> = match doc.get_path(&["metadata", key]) {
            Some(Value::Map(m)) => m
                .iter()
                .map(|(k, v)| {
                    // Go decodes each value into a string: the text its
                    // file wrote (`0x1F`), empty for a null.
                    let at = ["metadata", key, k].map(|s| Step::Key(s.to_string()));
                    let null_text = |s: &str| {
                        texts.iter().any(|(p, t)| {
                            p[..] == at[..] && t == s && crate::resource::reads_as(t, &Value::Null)
                        })
                    };
                    let v = match v {
                        Value::Null => String::new(),
                        // A patch's null label kiln read as its text.
                        Value::String(s) if null_text(s) => String::new(),
                        Value::String(s) => s.clone(),
                        v => crate::resource::scalar_text(v, &at, texts)
                            .unwrap_or_else(|| yaml::to_string(v).trim_end().to_string()),
                    };
                    (k.as_str(), v)
                })
                .collect(),
            _ => Vec::new(),
        };
        pairs.sort();
        let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("map[{}]", pairs.join(" "))
    };
    format!(
        "{{{{{} {}}} {{{{{} {}}} {} {}}}}}",
        text(&["apiVersion"]),
        text(&["kind"]),
        text(&["metadata", "name"]),
        text(&["metadata", "namespace"]),
        go_map("labels"),
        go_map("annotations"),
    )
}

/// kustomize rebuilds its set of objects after each targeted strategic
/// merge patch and once the build is done (hashes appended, references
/// fixed, local configuration left out): two objects that a patch or a
/// replacement left with one identity are then the error it gives.
fn unique_ids(acc: &[Resource], file: &str, scopes: &SchemaScopes) -> Result<(), Error> {
    match first_repeated_id(acc, scopes) {
        Some(form) => Err(invalid(
            file,
            format!("may not add resource with an already registered id: {form}"),
        )),
        None => Ok(()),
    }
}

/// The first identity that two of `objects` share, in kustomize's form.
fn first_repeated_id(objects: &[Resource], scopes: &SchemaScopes) -> Option<String> {
    let mut ids = std::collections::HashSet::new();
    objects
        .iter()
        .map(Resource::id)
        .find(|id| !ids.insert(id.key(scopes)))
        .map(|id| id.kustomize_form())
}

/// Adds what a Helm chart rendered, as kustomize does: it reads the chart's
/// output into a resource map of its own first (two objects of one
/// identity fail there), then absorbs it as a generator's output, which may
/// not create an object the build already knows by any of its identities.
fn absorb_chart(
    acc: &mut Vec<Resource>,
    new: Vec<Resource>,
    file: &str,
    scopes: &SchemaScopes,
) -> Result<(), Error> {
    if let Some(form) = first_repeated_id(&new, scopes) {
        return Err(invalid(
            file,
            format!(
                "could not parse rnode slice into resource map: may not add resource with an already registered id: {form}"
            ),
        ));
    }
    // Names the build knows under any identity: only an object of one of
    // these names needs the full comparison.
    let known: std::collections::HashSet<String> = acc
        .iter()
        .flat_map(|b| {
            [b.name().to_string(), b.orig_id.name.clone()]
                .into_iter()
                .chain(b.prev_res_ids().map(|p| p.name))
        })
        .collect();
    for r in &new {
        let id = r.id();
        if known.contains(&id.name) && answering_one(acc, &id, file, scopes)?.is_some() {
            return Err(invalid(
                file,
                format!(
                    "merging from generator: id {} exists; behavior must be merge or replace",
                    go_resid(&id)
                ),
            ));
        }
    }
    acc.extend(new);
    Ok(())
}

/// The object of the build that answers to a generated object's identity
/// `id` by any of its identities, if one does. kustomize counts them before
/// it looks at the generator's behavior: two or more (two bases made the
/// name, in two namespaces a generator without one matches) fail whatever
/// the behavior.
fn answering_one(
    acc: &[Resource],
    id: &ResId,
    file: &str,
    scopes: &SchemaScopes,
) -> Result<Option<usize>, Error> {
    let mut found =
        acc.iter().enumerate().filter(|(_, b)| b.answers_to(id, scopes)).map(|(i, _)| i);
    let first = found.next();
    if found.next().is_some() {
        return Err(invalid(
            file,
            format!(
                "merging from generator: found multiple objects {} that could accept merge of {}",
                build_annotations::json_list(
                    acc.iter().filter(|b| b.answers_to(id, scopes)),
                    scopes
                ),
                id.kustomize_form()
            ),
        ));
    }
    Ok(first)
}

fn add_all(
    acc: &mut Vec<Resource>,
    new: Vec<Resource>,
    file: &str,
    scopes: &SchemaScopes,
) -> Result<(), Error> {
    let mut ids: std::collections::HashSet<ResId> =
        acc.iter().map(|r| r.id().key(scopes)).collect();
    for r in new {
        let id = r.id();
        if !ids.insert(id.key(scopes)) {
            return Err(invalid(
                file,
                format!(
                    "may not add resource with an already registered id: {}",
                    id.kustomize_form()
                ),
            ));
        }
        acc.push(r);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build directory is a path relative to the tree's root, and `.`
    /// names the root as `""` does (as `kustomize build .` builds the
    /// current directory); a path that climbs above the root is refused.
    #[test]
    fn build_dir_is_normalised() {
        let mut tree = crate::tree::MemTree::new();
        tree.insert("kustomization.yaml", "namePrefix: p-\nresources: [cm.yaml]\n");
        tree.insert("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        let names = |dir: &str| -> Vec<String> {
            build(&tree, dir, &Options::default())
                .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
                .iter()
                .map(|r| r.name().to_string())
                .collect()
        };
        for dir in ["", ".", "./", "a/.."] {
            assert_eq!(names(dir), ["p-c"], "{dir:?}");
        }
        assert!(build(&tree, "..", &Options::default()).is_err());
    }

    /// kustomize expands a list that is not its file's only document (or a
    /// list among items) through JSON, and refuses `items` that are not a
    /// list, naming Go's type of them (recorded from kubectl v5.5).
    #[test]
    fn lists_through_json_need_a_list_of_items() {
        let cases = [
            ("kind: List\nitems: x\n---\n", Some("expected array in List/items, but found string")),
            (
                "kind: FooList\nitems: 5\n---\n",
                Some("expected array in FooList/items, but found int"),
            ),
            ("kind: FooList\nitems: 5.5\n---\n", Some("found float64")),
            ("kind: FooList\nitems: true\n---\n", Some("found bool")),
            ("kind: FooList\nitems: 2001-12-14\n---\n", Some("found time.Time")),
            ("kind: FooList\nitems: {}\n---\n", Some("found map[string]interface {}")),
            ("kind: List\nitems:\n- {kind: List, items: x}\n", Some("found string")),
            ("kind: List\nitems: ~\n---\n", None),
            // A list kyaml hands on as written is not decoded so.
            ("kind: List\nitems: x\n", None),
        ];
        for (text, want) in cases {
            let got = objects_in(text, "list.yaml").err().map(|e| e.to_string());
            match (want, got) {
                (None, None) => {}
                (Some(want), Some(got)) => assert!(got.contains(want), "{text}: {got}"),
                (want, got) => panic!("{text}: want {want:?}, got {got:?}"),
            }
        }
    }
}
