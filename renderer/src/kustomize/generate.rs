//! `configMapGenerator` and `secretGenerator`, and the content hash kustomize appends to their names.

use super::Error;
use super::go_dump;
use super::kustomization::{Generator, GeneratorOptions};
use crate::resource::{Resource, Step};
use crate::tree::{self, Tree};
use crate::value::{Map, Value};
use crate::yaml::{json_hop, literal_lines};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// What a generator reads its data from, resolved to key/value pairs.
struct Data {
    /// UTF-8 entries.
    text: Vec<(String, String)>,
    /// Entries that are not UTF-8 (ConfigMap `binaryData`).
    binary: Vec<(String, Vec<u8>)>,
}

pub(crate) use crate::gotmpl::sprig::encoding::base64_lines;

/// Parses `key=value`, stripping one pair of matching surrounding quotes from the value.
fn parse_literal(lit: &str, file: &str) -> Result<(String, String), Error> {
    let Some((k, v)) = lit.split_once('=').filter(|(k, _)| !k.is_empty()) else {
        return Err(Error::Invalid {
            file: file.to_string(),
            message: format!("invalid literal source {lit}, expected key=value"),
        });
    };
    let v = if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        &v[1..v.len() - 1]
    } else {
        v
    };
    Ok((k.to_string(), v.to_string()))
}

/// Parses an env file as kustomize does: lines split at `\n` (a `\r` before
/// it dropped), a byte-order mark dropped from the first line only, leading
/// white space trimmed, blank lines, `#` comments and lines with an empty
/// key skipped, the value everything after the first `=`. Every line must be
/// UTF-8, comments included.
fn parse_env(bytes: &[u8], path: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() {
        return Ok(out);
    }
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            let codes: Vec<String> = line.iter().map(u8::to_string).collect();
            return Err(Error::Invalid {
                file: path.to_string(),
                message: format!(
                    "line [{}] has invalid utf8 bytes : {}",
                    codes.join(" "),
                    String::from_utf8_lossy(line)
                ),
            });
        };
        let line = if i == 0 { line.strip_prefix('\u{feff}').unwrap_or(line) } else { line };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A line without `=` names a variable kustomize would read from its own
        // process environment; kiln never reads the environment (renders must
        // not depend on the machine), so the value is empty, as it is in
        // kustomize when the variable is unset.
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if !k.is_empty() {
            out.push((k.to_string(), v.to_string()));
        }
    }
    Ok(out)
}

/// Splits a `files` entry into its key and path: `[key=]path`, the key by
/// default the path's last segment; an empty key or path, or a second `=`,
/// is the error kustomize gives.
fn parse_file_source<'a>(source: &'a str, file: &str) -> Result<(&'a str, &'a str), Error> {
    let invalid = |message: String| Error::Invalid { file: file.to_string(), message };
    let Some((key, path)) = source.split_once('=') else {
        let trimmed = source.trim_end_matches('/');
        return Ok((tree::file_name(if trimmed.is_empty() { source } else { trimmed }), source));
    };
    if path.contains('=') {
        return Err(invalid(format!("source {source:?} key name or file path contains '='")));
    }
    if key.is_empty() {
        return Err(invalid(format!(
            "missing key name for file path {path:?} in source {source:?}"
        )));
    }
    if path.is_empty() {
        return Err(invalid(format!(
            "missing file path for key name {key:?} in source {source:?}"
        )));
    }
    Ok((key, path))
}

/// Reads a file a generator names, as kustomize's loader does: within the
/// kustomization's directory, and failing with the loader's words.
fn read_in_root(
    tree: &dyn Tree,
    dir: &str,
    rel: &str,
    file: &str,
    restrict: bool,
) -> Result<(String, Vec<u8>), Error> {
    let invalid = |message: String| Error::Invalid { file: file.to_string(), message };
    let path = tree::join(dir, rel).map_err(|e| invalid(e.to_string()))?;
    let shown = if path.is_empty() { "." } else { path.as_str() };
    if restrict && !tree::is_within(&path, dir) {
        let root = if dir.is_empty() { "." } else { dir };
        return Err(invalid(format!("security; file '{shown}' is not in or below '{root}'")));
    }
    match tree.kind(&path) {
        Some(tree::EntryKind::Dir) if !restrict => {
            return Err(invalid(format!("read {shown}: is a directory")));
        }
        Some(tree::EntryKind::Dir) => {
            return Err(invalid(format!("'{shown}' must resolve to a file")));
        }
        None if !restrict => {
            return Err(invalid(super::build::unrestricted_missing(tree, &path, shown)));
        }
        None => return Err(invalid(super::build::symlinks_failure(tree, &path, shown))),
        Some(tree::EntryKind::File) => {}
    }
    let bytes = tree.read(&path).map_err(|e| invalid(e.to_string()))?;
    Ok((path, bytes))
}

/// A list of sources as Go's `%v` prints a string slice.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

fn collect(
    tree: &dyn Tree,
    dir: &str,
    g: &Generator,
    file: &str,
    restrict: bool,
) -> Result<Data, Error> {
    // kustomize names the kind of source and lists them all.
    let sources = |what: &str, list: &[String]| {
        let what = format!("loading KV pairs: {what} {}", go_list(list));
        move |e: Error| e.within(what)
    };
    let mut data = Data { text: Vec::new(), binary: Vec::new() };
    for env in &g.envs {
        let read = read_in_root(tree, dir, env, file, restrict)
            .and_then(|(path, bytes)| parse_env(&bytes, &path));
        data.text.extend(read.map_err(sources("env source files:", &g.envs))?);
    }
    for lit in &g.literals {
        data.text.push(parse_literal(lit, file).map_err(sources("literal sources", &g.literals))?);
    }
    for f in &g.files {
        let read = parse_file_source(f, file).and_then(|(key, rel)| {
            Ok((key.to_string(), read_in_root(tree, dir, rel, file, restrict)?.1))
        });
        let (key, bytes) = read.map_err(sources("file sources:", &g.files))?;
        match String::from_utf8(bytes) {
            Ok(s) => data.text.push((key, s)),
            Err(e) => data.binary.push((key, e.into_bytes())),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for k in data.text.iter().map(|(k, _)| k).chain(data.binary.iter().map(|(k, _)| k)) {
        if !seen.insert(k.clone()) {
            // kustomize says configmap for Secrets too.
            return Err(Error::Invalid {
                file: file.to_string(),
                message: format!("configmap {} illegally repeats the key `{k}`", g.name),
            });
        }
    }
    Ok(data)
}

/// A character goyaml.v2 refuses to read, which Go's JSON encoder leaves raw.
fn is_refused(c: char) -> bool {
    matches!(c as u32, 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF)
}

/// The generator's arguments as its builtin plugin receives them.
///
/// kustomize configures a builtin generator by marshalling the entry (with
/// `generatorOptions` merged into its options) through `sigs.k8s.io/yaml`:
/// JSON first, then goyaml.v2 reads that JSON text back. Go's JSON encoder
/// leaves NEL (U+0085) and the other C1 controls raw; goyaml.v2 reads a raw
/// NEL inside a quoted string as a line break, which folds (with the spaces
/// around it) into one space, and refuses the other controls, DEL and
/// U+FFFE/U+FFFF. So a literal holding NEL generates (and hashes) the folded
/// text, while a file or env file, which the plugin reads itself, keeps it.
/// LS, PS, tabs, byte-order marks and the rest are escaped or read back as
/// written. The same holds for a `ConfigMapGenerator`/`SecretGenerator`
/// plugin config, which kustomize also passes on as YAML made from JSON.
fn through_plugin_config<'a>(
    g: &'a Generator,
    global: &'a GeneratorOptions,
    kind: &str,
    file: &str,
) -> Result<(Cow<'a, Generator>, Cow<'a, GeneratorOptions>), Error> {
    let pairs = |o: &'a GeneratorOptions| {
        o.labels.iter().chain(&o.annotations).flat_map(|(k, v)| [k.as_str(), v.as_str()])
    };
    let keys = g.options.labels.iter().chain(&g.options.annotations);
    let keys = keys.chain(&global.labels).chain(&global.annotations).map(|(k, _)| k);
    let strings = [g.name.as_str(), g.behavior.as_str()]
        .into_iter()
        .chain(g.namespace.as_deref())
        .chain(g.secret_type.as_deref())
        .chain(g.literals.iter().chain(&g.files).chain(&g.envs).map(String::as_str))
        .chain(pairs(&g.options))
        .chain(pairs(global));
    let fails = |message: String| Error::Invalid {
        file: file.to_string(),
        message: format!("builtin {kind} marshal: yaml: {message}"),
    };
    let mut touched = false;
    for s in strings {
        // The value may be a secret: name the character, not the text.
        if let Some(c) = s.chars().find(|c| is_refused(*c)) {
            return Err(fails(format!("control characters are not allowed (U+{:04X})", c as u32)));
        }
        touched |= s.contains('\u{85}');
    }
    // A raw line break inside a key of a JSON object is not a simple key
    // goyaml.v2 can read.
    if keys.into_iter().any(|k| k.contains('\u{85}')) {
        return Err(fails("line 1: did not find expected ',' or '}'".into()));
    }
    if !touched {
        return Ok((Cow::Borrowed(g), Cow::Borrowed(global)));
    }
    let hop = |s: &String| json_hop(s).into_owned();
    let hop_pairs = |v: &[(String, String)]| v.iter().map(|(k, v)| (k.clone(), hop(v))).collect();
    let options = |o: &GeneratorOptions| GeneratorOptions {
        labels: hop_pairs(&o.labels),
        annotations: hop_pairs(&o.annotations),
        ..o.clone()
    };
    let hopped = Generator {
        name: hop(&g.name),
        namespace: g.namespace.as_ref().map(hop),
        behavior: hop(&g.behavior),
        behavior_given: g.behavior_given,
        literals: g.literals.iter().map(hop).collect(),
        files: g.files.iter().map(hop).collect(),
        envs: g.envs.iter().map(hop).collect(),
        secret_type: g.secret_type.as_ref().map(hop),
        options: options(&g.options),
    };
    Ok((Cow::Owned(hopped), Cow::Owned(options(global))))
}

/// Makes the object a generator entry describes.
pub fn generate(
    tree: &dyn Tree,
    dir: &str,
    file: &str,
    g: &Generator,
    secret: bool,
    global: &GeneratorOptions,
    restrict: bool,
) -> Result<Resource, Error> {
    if g.name.is_empty() {
        return Err(Error::Invalid {
            file: file.to_string(),
            message: "a configmap must have a name".into(),
        });
    }
    let kind = if secret { "SecretGenerator" } else { "ConfigMapGenerator" };
    let (g, global) = through_plugin_config(g, global, kind, file)?;
    let (g, global) = (g.as_ref(), global.as_ref());
    let data = collect(tree, dir, g, file, restrict)?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), "v1".into());
    obj.insert("kind".into(), if secret { "Secret" } else { "ConfigMap" }.into());
    let mut meta = Map::new();
    meta.insert("name".into(), g.name.clone().into());
    // kustomize sets the namespace only when it is not empty.
    if let Some(ns) = g.namespace.as_ref().filter(|ns| !ns.is_empty()) {
        meta.insert("namespace".into(), ns.clone().into());
    }
    let mut labels = Map::new();
    let mut annotations = Map::new();
    for (k, v) in global.labels.iter().chain(&g.options.labels) {
        labels.insert(k.clone(), v.clone().into());
    }
    for (k, v) in global.annotations.iter().chain(&g.options.annotations) {
        annotations.insert(k.clone(), v.clone().into());
    }
    // kustomize sets the labels, then the annotations, key by key in sorted
    // order with kyaml's field setter, which takes an empty key for the map
    // it stands on, just made and empty, which is no scalar. The ConfigMap
    // generator fails there; the Secret generator ignores the error: the
    // map stays empty and nothing after it is set.
    let empty_key = |m: &Map| m.contains_key("");
    if !secret && (empty_key(&labels) || empty_key(&annotations)) {
        return Err(Error::Invalid {
            file: file.to_string(),
            message: "wrong node kind: expected ScalarNode but got MappingNode: node contents:\n{}"
                .into(),
        });
    }
    if empty_key(&labels) {
        meta.insert("labels".into(), Value::Map(Map::new()));
    } else {
        if !labels.is_empty() {
            meta.insert("labels".into(), Value::Map(labels));
        }
        // An empty map of annotations is dropped at the end of the build.
        if !annotations.is_empty() && !empty_key(&annotations) {
            meta.insert("annotations".into(), Value::Map(annotations));
        }
    }
    obj.insert("metadata".into(), Value::Map(meta));
    if secret {
        let mut d = Map::new();
        for (k, v) in &data.text {
            d.insert(k.clone(), base64_lines(v.as_bytes()).into());
        }
        for (k, v) in &data.binary {
            d.insert(k.clone(), base64_lines(v).into());
        }
        // A generated Secret always has `data`, a ConfigMap only when it has entries.
        obj.insert("data".into(), Value::Map(d));
        // kustomize's secret generator takes an empty type for none.
        let t = g.secret_type.as_deref().filter(|t| !t.is_empty()).unwrap_or("Opaque");
        obj.insert("type".into(), t.into());
    } else {
        if !data.text.is_empty() {
            let d: Map = data.text.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            obj.insert("data".into(), Value::Map(d));
        }
        if !data.binary.is_empty() {
            let d: Map = data
                .binary
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(base64_lines(v))))
                .collect();
            obj.insert("binaryData".into(), Value::Map(d));
        }
    }
    // kustomize's options are Go bools: `false` on an entry cannot undo a
    // `true` of generatorOptions.
    let either = |a: Option<bool>, b: Option<bool>| a.unwrap_or(false) || b.unwrap_or(false);
    let immutable = either(g.options.immutable, global.immutable);
    if immutable {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    let mut r = Resource::new(Value::Map(obj), generated_source(file, kind, None, None));
    quote_made_strings(&mut r);
    let disable = either(g.options.disable_name_suffix_hash, global.disable_name_suffix_hash);
    r.needs_hash = !disable;
    r.tab_blocks = tab_blocks(&r.value);
    if r.needs_hash {
        r.first_tree = Some(Box::new(r.value.clone()));
    }
    let written = g.behavior == "merge"
        || g.behavior == "replace"
        || (g.behavior == "create" && g.behavior_given);
    r.generator_behavior = Some(if written { g.behavior.clone() } else { UNSPECIFIED.into() });
    r.notes_set_anew();
    Ok(r)
}

/// The entries of an object's `data` that kustomize's generators write as
/// literal blocks (kyaml's `makeConfigMapValueRNode`: a value holding a
/// line break) and whose text starts with a tab: libyaml writes no
/// indentation indicator before such a block.
fn tab_blocks(obj: &Value) -> Vec<(String, String)> {
    let Some(Value::Map(data)) = obj.get_path(&["data"]) else { return Vec::new() };
    data.iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) if s.starts_with('\t') && s.contains('\n') && literal_lines(s) > 0 => {
                Some((k.clone(), s.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Where kustomize decodes an object from kyaml's text.
#[derive(Clone, Copy, PartialEq)]
pub enum Decoding {
    /// The name hash at the end of the build decodes a ConfigMap's `data`
    /// alone: lines count from the map's first key.
    Hash,
    /// A JSON patch decodes the object with its build annotations.
    JsonPatch,
    /// Printing decodes each object, and the message starts with Go's
    /// `%#v` of it.
    Output,
}

/// The error kustomize meets when it decodes an object from kyaml's text
/// (`at`) while a generator's tab block ([`Resource::tab_blocks`]) is
/// still in it: reading the block, libyaml, still finding the block's
/// indentation, meets the tab. yaml.v3 names the line of the block's
/// header, or the line after it when the header is on the first line.
/// Recorded from `kubectl kustomize`: cases 4930-4933, 4977-4982, 4987.
pub fn tab_block_error(r: &Resource, at: Decoding) -> Option<String> {
    if r.tab_blocks.is_empty() {
        return None;
    }
    let Value::Map(obj) = &r.value else { return None };
    let Some(Value::Map(data)) = obj.get("data") else { return None };
    let mut line = 1;
    if at != Decoding::Hash {
        line += obj
            .iter()
            .take_while(|(k, _)| *k != "data")
            .map(|(k, v)| encoded_lines(k, v))
            .sum::<usize>()
            + 1;
    }
    for (k, v) in data {
        if let Value::String(s) = v
            && r.tab_blocks.iter().any(|(key, text)| key == k && text == s)
        {
            let header = line + usize::from(!simple_key(k));
            let shown = if header == 1 { 2 } else { header };
            let problem = format!(
                "yaml: line {shown}: found a tab character where an indentation space is expected"
            );
            return Some(if at == Decoding::Output {
                format!("{}: {problem}", go_dump::object(&r.value, &[], Some(&r.quoted)))
            } else {
                problem
            });
        }
        line += encoded_lines(k, v);
    }
    None
}

/// The lines of kyaml's encoding that the entry `key: v` of a generated
/// object takes, its key's lines included.
fn encoded_lines(key: &str, v: &Value) -> usize {
    let value = match v {
        Value::Map(m) => 1 + m.iter().map(|(k, v)| encoded_lines(k, v)).sum::<usize>(),
        Value::String(s) if s.contains('\n') => 1 + literal_lines(s),
        _ => 1,
    };
    usize::from(!simple_key(key)) + value
}

/// Whether libyaml writes `key` as a simple key (`key: value`): one longer
/// than 128 bytes gets a `? key` line of its own, its value the next line.
fn simple_key(key: &str) -> bool {
    key.len() <= 128
}

/// The generator behavior kustomize notes on an object whose generator
/// wrote none.
pub const UNSPECIFIED: &str = "unspecified";

/// Notes the strings of a generated object's data and labels that YAML 1.1
/// reads as another type (`10`, `true`; see
/// [`crate::yaml::resolve::yaml11_non_string`]) and those of several lines
/// as quoted places ([`Resource::quoted`]). kustomize makes these fields
/// as `!!str` nodes, a block for several lines, and sets them with kyaml's
/// field setter, which double-quotes the others: a strategic merge patch
/// that writes a number or bool there keeps the quotes (recorded from
/// `kubectl kustomize`: cases 4626, 4627); other strings stay plain, and a
/// number written over one stays a number.
fn quote_made_strings(r: &mut Resource) {
    for path in [&["data"][..], &["binaryData"], &["metadata", "labels"]] {
        if let Some(Value::Map(m)) = r.value.get_path(path) {
            for (k, v) in m {
                let Value::String(s) = v else { continue };
                if s.contains('\n') || crate::yaml::resolve::yaml11_non_string(s) {
                    let mut at: Vec<Step> = path.iter().map(|k| Step::Key(k.to_string())).collect();
                    at.push(Step::Key(k.clone()));
                    r.quoted.push(at);
                }
            }
        }
    }
}

/// What made a generated object, read back from its `source`.
pub struct MadeBy<'a> {
    /// The file that configured it.
    pub file: &'a str,
    /// `ConfigMapGenerator`, `SecretGenerator` or `IAMPolicyGenerator`.
    pub kind: &'a str,
    /// A plugin config's `metadata.name`.
    pub name: Option<&'a str>,
    /// A plugin config's `metadata.namespace`.
    pub namespace: Option<&'a str>,
}

/// The `source` of an object a generator made: `file (Kind)`, or for a
/// plugin config `file (Kind name)` or `file (Kind name, namespace ns)`.
pub fn generated_source(
    file: &str,
    kind: &str,
    name: Option<&str>,
    namespace: Option<&str>,
) -> String {
    match (name, namespace) {
        (Some(n), Some(ns)) => format!("{file} ({kind} {n}, namespace {ns})"),
        (Some(n), None) => format!("{file} ({kind} {n})"),
        (None, Some(ns)) => format!("{file} ({kind} , namespace {ns})"),
        (None, None) => format!("{file} ({kind})"),
    }
}

/// For a generated object's `source` (see [`generated_source`]): what made it.
pub fn generated_by(source: &str) -> Option<MadeBy<'_>> {
    let (file, rest) = source.rsplit_once(" (")?;
    let inner = rest.strip_suffix(')')?;
    let (kind, named) = match inner.split_once(' ') {
        Some((kind, named)) => (kind, Some(named)),
        None => (inner, None),
    };
    let (name, namespace) = match named.map(|n| n.rsplit_once(", namespace ")) {
        Some(Some((name, ns))) => ((!name.is_empty()).then_some(name), Some(ns)),
        Some(None) => (named, None),
        None => (None, None),
    };
    matches!(kind, "ConfigMapGenerator" | "SecretGenerator" | "IAMPolicyGenerator")
        .then_some(MadeBy { file, kind, name, namespace })
}

/// Puts a generated object with `behavior: merge` or `replace` in the place
/// of the object it names, as kustomize does: the generated object is what
/// remains, with the base's name and namespace, the base's labels and
/// annotations under its own, and for `merge` the base's `data` and
/// `binaryData` entries (read as their text) under its own. Every other
/// field of the base is dropped.
pub fn merge_into(
    base: &mut Resource,
    generated: Resource,
    behavior: &str,
    scopes: &crate::resource::SchemaScopes,
) {
    // kustomize keeps the new object's nodes and sets the merged fields
    // over them; the build annotations are the earlier object's.
    let generated_notes = super::build_annotations::of(&generated, scopes);
    let notes = super::build_annotations::of(base, scopes);
    let first_tree = generated.first_tree.clone();
    let Value::Map(mut obj) = generated.value else { return };
    // kustomize's setters change the new object's `metadata` in its place.
    let mut meta = match obj.get("metadata") {
        Some(Value::Map(m)) => m.clone(),
        _ => Map::new(),
    };
    for field in ["labels", "annotations"] {
        base.rebuild_string_map(&[Step::Key("metadata".into()), Step::Key(field.into())]);
        crate::resource::stringify_meta_field(&mut base.value, field, &base.scalar_texts);
        let mut merged = text_entries(base, &["metadata", field]);
        if let Some(Value::Map(new)) = meta.get(field) {
            merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if merged.is_empty() {
            meta.shift_remove(field);
        } else {
            meta.insert(field.into(), Value::Map(merged));
        }
    }
    meta.insert("name".into(), base.name().into());
    match base.namespace() {
        "" => meta.shift_remove("namespace"),
        ns => meta.insert("namespace".into(), ns.into()),
    };
    obj.insert("metadata".into(), Value::Map(meta));
    if behavior == "merge" {
        // kustomize sets the merged entries anew, in key order.
        for field in ["data", "binaryData"] {
            let mut merged = text_entries(base, &[field]);
            if let Some(Value::Map(new)) = obj.get(field) {
                merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            merged.sort_keys();
            if !merged.is_empty() {
                obj.insert(field.into(), Value::Map(merged));
            }
        }
    }
    base.value = Value::Map(obj);
    base.tab_blocks = tab_blocks(&base.value);
    // Every node is new: nothing is shared and no text is left from the file.
    base.shared.clear();
    base.scalar_texts.clear();
    base.quoted.clear();
    base.tagged.clear();
    quote_made_strings(base);
    base.duplicates = None;
    base.needs_hash = base.needs_hash && generated.needs_hash;
    base.generator_merge = first_tree.is_some().then(|| {
        Box::new(crate::resource::GeneratorMerge {
            merged: base.value.clone(),
            generated_notes,
            notes,
            data: behavior == "merge",
        })
    });
    base.first_tree = first_tree;
    base.json_rebuilt = None;
    base.kept_nodes.clear();
    base.kept_note_texts.clear();
    base.merged_patches.clear();
    base.notes_set_anew();
    // A replaced object is the new one (its origin is the replacing
    // generator, in its annotations from then on); a merged one stays the
    // base's.
    if behavior == "replace" {
        base.source = generated.source;
        base.origin_held = generated.origin_held;
        base.origin_by = None;
    }
}

/// The entries of the map at `path` of `r` as kustomize reads a string map:
/// each scalar as the text it was written with, a null, a sequence or a map
/// as an empty string.
fn text_entries(r: &Resource, path: &[&str]) -> Map {
    let Some(Value::Map(entries)) = r.value.get_path(path) else { return Map::new() };
    let steps: Vec<Step> = path.iter().map(|s| Step::Key((*s).to_string())).collect();
    entries
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null | Value::Seq(_) | Value::Map(_) => String::new(),
                _ => {
                    let mut at = steps.clone();
                    at.push(Step::Key(k.clone()));
                    crate::resource::scalar_text(v, &at, &r.scalar_texts).unwrap_or_default()
                }
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}

/// Go's `json.Marshal` of a value as a string (kustomize prints objects
/// this way in some messages).
pub(crate) fn to_go_json(v: &Value) -> String {
    let mut out = String::new();
    go_json(&mut out, v);
    out
}

/// Go's `json.Marshal` of a value: map keys sorted by bytes.
fn go_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&f.to_string()),
        Value::String(s) => crate::gotmpl::sprig::json::quote(out, s, true),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(out, item);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                crate::gotmpl::sprig::json::quote(out, k, true);
                out.push(':');
                go_json(out, &m[k]);
            }
            out.push('}');
        }
    }
}

/// kustomize's name hash of a ConfigMap or Secret: SHA-256 of a JSON
/// encoding of kind, an empty name, data (and type or binaryData), its first ten hex
/// digits with the vowel-like ones swapped so the suffix can't spell words.
pub fn content_hash(r: &Resource) -> String {
    let mut m = Map::new();
    // kustomize reads each field it hashes as a map through JSON (a list
    // fails that and hashes as null), a scalar as its text, and a field that
    // is not there as an empty string.
    let get = |f: &str| match r.value.get_path(&[f]) {
        None => "".into(),
        Some(Value::Map(map)) => Value::Map(map.clone()),
        Some(Value::Seq(_)) => Value::Null,
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(v) => {
            let text = crate::resource::scalar_text(v, &[Step::Key(f.into())], &r.scalar_texts);
            Value::String(text.unwrap_or_default())
        }
    };
    let is_map = |f: &str| r.value.get_path(&[f]).is_some_and(|v| v.as_map().is_some());
    m.insert("kind".into(), r.kind().into());
    // kustomize v5 hashes generated objects with an empty name (recorded:
    // `gen` and `p-gen` both get the suffix b5g875c65k for literals a=1, b=x).
    m.insert("name".into(), "".into());
    match r.kind() {
        "ConfigMap" => {
            m.insert("data".into(), get("data"));
            if is_map("binaryData") {
                m.insert("binaryData".into(), get("binaryData"));
            }
        }
        "Secret" => {
            m.insert("data".into(), get("data"));
            m.insert("type".into(), get("type"));
            if is_map("stringData") {
                m.insert("stringData".into(), get("stringData"));
            }
        }
        _ => {
            m = r.value.as_map().cloned().unwrap_or_default();
        }
    }
    let mut json = String::new();
    go_json(&mut json, &Value::Map(m));
    hash_suffix(json.as_bytes())
}

/// The name suffix kustomize makes of a hash input: the first ten hex
/// digits of its SHA-256, with the vowel-like ones swapped so the suffix
/// can't spell words.
pub(super) fn hash_suffix(input: &[u8]) -> String {
    let digest = Sha256::digest(input);
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    #[test]
    fn hash_matches_kustomize() {
        // `kubectl kustomize` v5.5 names this generator `p-gen-b5g875c65k`
        // (namePrefix p-, literals a=1 and b=x).
        let g = Generator {
            name: "gen".into(),
            behavior: "create".into(),
            literals: vec!["a=1".into(), "b=x".into()],
            ..Default::default()
        };
        let mut r =
            generate(&MemTree::new(), "", "k.yaml", &g, false, &GeneratorOptions::default(), true)
                .unwrap();
        r.set_name("p-gen".into());
        assert_eq!(content_hash(&r), "b5g875c65k");
    }

    #[test]
    fn base64_pads_and_breaks_at_70() {
        for (input, want) in [
            ("".to_string(), String::new()),
            ("f".to_string(), "Zg==".to_string()),
            ("foob".to_string(), "Zm9vYg==".to_string()),
            // 51 bytes are 68 characters: one line, no newline.
            ("a".repeat(51), "YWFh".repeat(17)),
            // 52 bytes are 72 characters: a line of 70 and one of 2, each ended.
            ("a".repeat(52), format!("{}YQ\n==\n", "YWFh".repeat(17))),
        ] {
            assert_eq!(base64_lines(input.as_bytes()), want, "{input}");
        }
    }
}
