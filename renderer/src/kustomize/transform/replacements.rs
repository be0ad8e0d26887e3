//! `replacements:`: copy a field of one object into fields of others.

use crate::kustomize::kustomization::Selector;
use crate::kustomize::select::LabelSelector;
use crate::kustomize::{build_annotations, fieldspec};
use crate::resource::{NodeNotes, ResId, Resource, Retyped, SchemaScopes, Step};
use crate::value::{Map, Value};
use crate::yaml;

/// `options` of a replacement source or target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldOptions {
    /// Split the value at this delimiter.
    pub delimiter: String,
    /// Which part of the split value to take or replace.
    pub index: i64,
    /// Create missing target fields.
    pub create: bool,
}

/// Where the value comes from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    /// The object, chosen by exact identity.
    pub select: Selector,
    /// The field, `.`-separated (default `metadata.name`).
    pub field_path: String,
    /// How to cut the value.
    pub options: FieldOptions,
}

/// Where the value goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// Objects to write to.
    pub select: Option<Selector>,
    /// Objects to leave alone.
    pub reject: Vec<Selector>,
    /// Fields to write.
    pub field_paths: Vec<String>,
    /// How to write.
    pub options: FieldOptions,
}

/// One replacement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replacement {
    /// The source.
    pub source: Source,
    /// The targets.
    pub targets: Vec<Target>,
}

const DEFAULT_FIELD_PATH: &str = "metadata.name";

fn string(v: &Value, field: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        other => Err(format!("{field}: expected a string, found a {}", other.type_name())),
    }
}

fn map<'v>(v: &'v Value, field: &str) -> Result<&'v Map, String> {
    v.as_map().ok_or_else(|| format!("{field}: expected a map, found a {}", v.type_name()))
}

fn check_keys(m: &Map, allowed: &[&str], ctx: &str) -> Result<(), String> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{ctx}: unknown field {k:?}")),
        None => Ok(()),
    }
}

fn opt(m: &Map, key: &str, ctx: &str) -> Result<Option<String>, String> {
    m.get(key)
        .map(|v| string(v, &format!("{ctx}.{key}")))
        .transpose()
        .map(|o| o.filter(|s| !s.is_empty()))
}

/// Reads a selector (`group`, `version`, `kind`, `name`, `namespace`, and
/// for targets the label and annotation selectors).
pub fn parse_selector(v: &Value, ctx: &str, with_field_path: bool) -> Result<Selector, String> {
    let m = map(v, ctx)?;
    let mut allowed = vec![
        "group",
        "version",
        "kind",
        "name",
        "namespace",
        "labelSelector",
        "annotationSelector",
    ];
    if with_field_path {
        allowed.extend(["fieldPath", "options"]);
    }
    check_keys(m, &allowed, ctx)?;
    Ok(Selector {
        group: opt(m, "group", ctx)?,
        version: opt(m, "version", ctx)?,
        kind: opt(m, "kind", ctx)?,
        name: opt(m, "name", ctx)?,
        namespace: opt(m, "namespace", ctx)?,
        label_selector: opt(m, "labelSelector", ctx)?,
        annotation_selector: opt(m, "annotationSelector", ctx)?,
    })
}

/// Go's error for an `options.index` that does not decode into an `int`
/// (`found`: what Go says it found, `number 1.5`): kustomize decodes an
/// inline replacement with the kustomization, one of a file on its own.
fn index_error(found: &str, ctx: &str, in_file: bool) -> String {
    let mut path: Vec<&str> =
        ctx.split('.').map(|seg| seg.split('[').next().unwrap_or(seg)).collect();
    let prefix = if in_file {
        path.remove(0);
        "error unmarshaling JSON: while decoding JSON: "
    } else {
        "invalid Kustomization: "
    };
    format!(
        "{prefix}json: cannot unmarshal {found} into Go struct field FieldOptions.{}.index of type int",
        path.join(".")
    )
}

fn options(v: Option<&Value>, ctx: &str, in_file: bool) -> Result<FieldOptions, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(FieldOptions::default()) };
    let m = map(v, ctx)?;
    // kustomize's FieldOptions has an `encoding` too, which its
    // replacements read and leave unused.
    check_keys(m, &["delimiter", "index", "encoding", "create"], ctx)?;
    Ok(FieldOptions {
        delimiter: opt(m, "delimiter", ctx)?.unwrap_or_default(),
        // kustomize reads the YAML as JSON, where `1.0` is written `1`.
        index: match m.get("index") {
            None | Some(Value::Null) => 0,
            Some(v) => crate::kustomize::go_decode::json_int(v)
                .map_err(|found| index_error(&found, ctx, in_file))?,
        },
        create: match m.get("create") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(format!(
                    "{ctx}.create: expected true or false, found a {}",
                    other.type_name()
                ));
            }
        },
    })
}

fn strings(v: Option<&Value>, ctx: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Seq(items)) => items.iter().map(|i| string(i, ctx)).collect(),
        Some(other) => {
            Err(format!("{ctx}: expected a list of strings, found a {}", other.type_name()))
        }
    }
}

impl Replacement {
    /// Reads one replacement (`source` and `targets`).
    pub fn parse(v: &Value, ctx: &str) -> Result<Replacement, String> {
        Replacement::parse_in(v, ctx, false)
    }

    /// [`Replacement::parse`] of a kustomization's entry, or (`in_file`)
    /// of a replacements file.
    fn parse_in(v: &Value, ctx: &str, in_file: bool) -> Result<Replacement, String> {
        // kustomize's filter refuses a replacement without a source or
        // targets, whatever the objects are; a null item of a file is
        // decoded as an empty one.
        let incomplete =
            || "replacements must specify a source and at least one target".to_string();
        if in_file && v.is_null() {
            return Err(incomplete());
        }
        let m = map(v, ctx)?;
        check_keys(m, &["source", "targets"], ctx)?;
        let source = match m.get("source") {
            None | Some(Value::Null) => return Err(incomplete()),
            Some(s) => {
                let sctx = format!("{ctx}.source");
                let sm = map(s, &sctx)?;
                Source {
                    select: parse_selector(s, &sctx, true)?,
                    field_path: opt(sm, "fieldPath", &sctx)?.unwrap_or_default(),
                    options: options(sm.get("options"), &format!("{sctx}.options"), in_file)?,
                }
            }
        };
        let mut targets = Vec::new();
        let list = match m.get("targets") {
            None | Some(Value::Null) => return Err(incomplete()),
            Some(Value::Seq(items)) if items.is_empty() => return Err(incomplete()),
            Some(Value::Seq(items)) => items.as_slice(),
            Some(other) => {
                return Err(format!(
                    "{ctx}.targets: expected a list, found a {}",
                    other.type_name()
                ));
            }
        };
        for (i, t) in list.iter().enumerate() {
            let tctx = format!("{ctx}.targets[{i}]");
            let tm = map(t, &tctx)?;
            check_keys(tm, &["select", "reject", "fieldPaths", "options"], &tctx)?;
            let reject = match tm.get("reject") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Seq(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(j, r)| parse_selector(r, &format!("{tctx}.reject[{j}]"), false))
                    .collect::<Result<_, _>>()?,
                Some(other) => {
                    return Err(format!(
                        "{tctx}.reject: expected a list, found a {}",
                        other.type_name()
                    ));
                }
            };
            targets.push(Target {
                select: tm
                    .get("select")
                    .filter(|s| !s.is_null())
                    .map(|s| parse_selector(s, &format!("{tctx}.select"), false))
                    .transpose()?,
                reject,
                field_paths: strings(tm.get("fieldPaths"), &format!("{tctx}.fieldPaths"))?,
                options: options(tm.get("options"), &format!("{tctx}.options"), in_file)?,
            });
        }
        Ok(Replacement { source, targets })
    }

    /// Reads a `path:` file: one replacement or a list of them.
    pub fn parse_file(v: &Value) -> Result<Vec<Replacement>, String> {
        match v {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, r)| Replacement::parse_in(r, &format!("replacements[{i}]"), true))
                .collect(),
            other => Ok(vec![Replacement::parse_in(other, "replacement", true)?]),
        }
    }
}

/// The identities an object is known by: the current one and the earlier
/// ones it had before renames and kind changes.
pub fn ids(r: &Resource) -> Vec<ResId> {
    let mut out = vec![r.id()];
    out.extend(r.prev_res_ids());
    out
}

fn ns_equal(a: &str, b: &str) -> bool {
    let norm = |s: &str| if s.is_empty() { "default".to_string() } else { s.to_string() };
    norm(a) == norm(b)
}

/// kustomize's `ResId.IsSelectedBy`: every field the selector sets is equal.
pub fn is_selected_by(id: &ResId, s: &Selector) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_ref().is_none_or(|w| w == have);
    eq(&s.name, &id.name)
        && s.namespace.as_ref().is_none_or(|n| ns_equal(n, &id.namespace))
        && eq(&s.group, &id.gvk.group)
        && eq(&s.version, &id.gvk.version)
        && eq(&s.kind, &id.gvk.kind)
}

fn selector_string(s: &Selector) -> String {
    let part = |o: &Option<String>, none: &str| o.clone().unwrap_or_else(|| none.to_string());
    format!(
        "{}.{}.{}/{}.{}",
        part(&s.kind, "[noKind]"),
        part(&s.version, "[noVer]"),
        part(&s.group, "[noGrp]"),
        part(&s.name, "[noName]"),
        part(&s.namespace, "[noNs]"),
    )
}

/// A source as kustomize prints one in its errors: the id, then the field
/// path when one is written and the options when they set a delimiter or
/// `create`, joined by `:`.
fn source_string(s: &Source) -> String {
    let mut text = selector_string(&s.select);
    if !s.field_path.is_empty() {
        text.push(':');
        text.push_str(&s.field_path);
    }
    let o = &s.options;
    if !o.delimiter.is_empty() || o.create {
        text.push_str(&format!(":{}({}), create={}", o.delimiter, o.index, o.create));
    }
    text
}

fn labels_match(r: &Resource, s: &Selector) -> Result<bool, String> {
    for (sel, field) in [(&s.label_selector, "labels"), (&s.annotation_selector, "annotations")] {
        if let Some(sel) = sel {
            if !LabelSelector::parse(sel)?.matches(&r.string_map(field)) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Splits a field path as kyaml's `SmarterPathSplitter` does: at every `.`
/// (a part ending in `\` takes the next one, the `\` dropped, as
/// `metadata.labels.a\.b`); then a part that opens a bracket it does not
/// close takes the parts after it up to one ending in `]` (or the last): with
/// a `=` it stays as written (`[name=a.b]`, a list item), else it loses the
/// `[`s and `]`s at both ends (`[example.com/name]` is a map key, and so is
/// `[k` without its bracket). A part that is bracketed whole stays as it is.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut parts = path_splitter(path, '.').into_iter();
    while let Some(mut part) = parts.next() {
        if part.starts_with('[') && !part.ends_with(']') {
            for next in parts.by_ref() {
                part.push('.');
                part.push_str(&next);
                if next.ends_with(']') {
                    break;
                }
            }
            if !part.contains('=') {
                part = part.trim_matches(['[', ']']).to_string();
            }
        }
        out.push(part);
    }
    out
}

/// kyaml's `PathSplitter`: `path` split at every `delimiter`, a part ending
/// in `\` taking the next one (the `\` dropped, the delimiter kept).
pub(crate) fn path_splitter(path: &str, delimiter: char) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in path.split(delimiter) {
        match parts.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push(delimiter);
                last.push_str(part);
            }
            _ => parts.push(part.to_string()),
        }
    }
    parts
}

/// A target's field path as kustomize's `PathMatcher` follows it: split
/// as [`split_path`], an empty first part dropped when more follow (kyaml's
/// splitter allows a leading separator); an empty part left matches a
/// scalar whose text is empty and fails on a map or list.
fn target_path(fp: &str) -> Vec<String> {
    let mut segs = split_path(fp);
    if segs.len() > 1 && segs[0].is_empty() {
        segs.remove(0);
    }
    segs
}

/// A source's field path as kustomize's `PathGetter` follows it: split as
/// [`split_path`], each part trimmed of spaces and the empty ones left out.
fn source_path(fp: &str) -> Vec<String> {
    split_path(fp)
        .into_iter()
        .map(|seg| seg.trim().to_string())
        .filter(|seg| !seg.is_empty())
        .collect()
}

/// What a path found in an object.
#[derive(Default)]
struct Hits<'v> {
    /// The values at the path, each with whether it is a null the object
    /// already had there.
    slots: Vec<(&'v mut Value, bool)>,
    /// Where each of `slots` is in the object.
    paths: Vec<Vec<Step>>,
    /// Where the search is now.
    here: Vec<Step>,
    /// Places where `create` went through a null the object already had:
    /// kyaml finds the field and adds the rest under the null scalar, where
    /// it is lost, so nothing changes and nothing fails.
    lost: usize,
    /// The first list index past the end (at the end when not creating;
    /// kyaml creates only the item one past the end): the index and the
    /// list's length.
    beyond: Option<(usize, usize)>,
    /// Go's error for a `[key=value]` whose value is no regular expression,
    /// or kyaml's for a wildcard on a map or scalar.
    error: Option<Refusal>,
    /// The path reached a `*`, which kyaml's lookup of a source refuses.
    wildcard: bool,
    /// A source's path gave a list a negative index, which kyaml refuses.
    negative: Option<i64>,
    /// The path ends at the field a `[key=value]` item was just made with
    /// (or at the scalar item `[=value]` made): an untagged scalar.
    made_key: bool,
    /// The fields `[key=value]` items were made with where the path goes on
    /// past them, each with its text: untagged scalars too, which vars
    /// then take for strings.
    made_keys: Vec<(Vec<Step>, String)>,
    /// The styles the object's text wrote its nodes in, which a target's
    /// `[=value]` matches against (see [`item_text`]).
    styles: Option<crate::yaml::Styled>,
}

/// Why kyaml's path lookup stopped.
enum Refusal {
    /// Its own words.
    Said(String),
    /// A node of another kind than the path needs there: the kind it
    /// needs, where the node is and the node, which the message shows as
    /// the object's text wrote it.
    WrongKind(&'static str, Vec<Step>, Value),
}

impl Refusal {
    fn wrong_kind(expected: &'static str, out: &Hits<'_>, node: &Value) -> Refusal {
        Refusal::WrongKind(expected, out.here.clone(), node.clone())
    }

    fn message(&self, r: &Resource) -> String {
        match self {
            Refusal::Said(e) => e.clone(),
            Refusal::WrongKind(expected, at, node) => {
                let kind = match node {
                    Value::Map(_) => "Mapping",
                    Value::Seq(_) => "Sequence",
                    _ => "Scalar",
                };
                format!(
                    "wrong node kind: expected {expected}Node but got {kind}Node: {}",
                    fieldspec::node_contents(r, at, node)
                )
            }
        }
    }
}

/// How `[key=value]` path elements pick list items.
#[derive(Clone, Copy, PartialEq)]
enum Match {
    /// A source's path: the item's field text is `value`.
    Exact,
    /// A target's path: kyaml's path matcher compiles `value` as a Go
    /// regular expression and looks for it anywhere in the field's text
    /// (`[name=app]` also picks `app-sidecar`; `[name=^app$]` only `app`).
    Regex,
}

/// Finds the values at a path; `create` makes missing fields, with `leaf`
/// as the value of a created last field.
fn find<'v>(
    v: &'v mut Value,
    segs: &[String],
    create: Option<&Value>,
    how: Match,
    out: &mut Hits<'v>,
) {
    let Some((seg, rest)) = segs.split_first() else {
        out.slots.push((v, false));
        out.paths.push(out.here.clone());
        return;
    };
    let fresh = |rest: &[String]| -> Value {
        match rest.first() {
            // A created leaf has no type of its own: the value's text is
            // written into it and reads back as a plain scalar. So has a
            // node made before an empty part.
            None => Value::Null,
            Some(next) if next.is_empty() => Value::Null,
            Some(next)
                if (next.starts_with('[') && next.contains('='))
                    || next.parse::<usize>().is_ok() =>
            {
                Value::Seq(Vec::new())
            }
            Some(_) => Value::Map(Map::new()),
        }
    };
    // A part bracketed whole is a list matcher (the splitter has already
    // unbracketed `[a.b/c]`, a map key).
    if let Some(inner) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let Some((key, want)) = inner.split_once('=') else {
            // kyaml refuses such an element of a path wherever it gets to
            // it (`[a\.b]`, whose escaped dot kept it whole).
            out.error.get_or_insert_with(|| {
                Refusal::Said(
                    "list path element must contain fieldName=fieldValue for element to match"
                        .into(),
                )
            });
            return;
        };
        let items = match v {
            Value::Seq(items) => items,
            Value::Null => return,
            // kyaml's element matcher refuses a map or another scalar.
            other => {
                let refusal = Refusal::wrong_kind("Sequence", out, other);
                out.error.get_or_insert(refusal);
                return;
            }
        };
        let pattern = match how {
            Match::Exact => None,
            Match::Regex => match crate::gotmpl::sprig::regex::compile(want) {
                Ok(re) => Some(re),
                Err(e) => {
                    out.error.get_or_insert(Refusal::Said(e));
                    return;
                }
            },
        };
        // In a target's path, kyaml's path matcher looks for `[=value]` in
        // each item's YAML text, whatever its kind, and takes the whole
        // item: the rest of the path is not followed.
        let whole_item = key.is_empty() && how == Match::Regex;
        let matched: Vec<bool> = items
            .iter()
            .enumerate()
            .map(|(i, item)| match &pattern {
                Some(re) if whole_item => re.is_match(&item_text(out, i, item)),
                _ => {
                    let x = if key.is_empty() {
                        Some(item)
                    } else {
                        item.as_map().and_then(|m| m.get(key))
                    };
                    x.is_some_and(|x| {
                        is_scalar(x) && {
                            let text = scalar_text(x);
                            match &pattern {
                                Some(re) => re.is_match(&text),
                                None => text == want,
                            }
                        }
                    })
                }
            })
            .collect();
        let rest = if whole_item { &[] } else { rest };
        if !matched.contains(&true) {
            if create.is_none() {
                return;
            }
            // kyaml creates the item's field as an untagged scalar, which
            // reads as a number, bool or null where its text is one (`0x1F`
            // is 31), and goes on into the item it made.
            let made = crate::yaml::resolve::resolve_plain(want);
            let item = if key.is_empty() {
                made
            } else {
                let mut m = Map::new();
                m.insert(key.to_string(), made);
                Value::Map(m)
            };
            items.push(item);
            let at = items.len() - 1;
            let key_is_leaf =
                if key.is_empty() { rest.is_empty() } else { rest.len() == 1 && rest[0] == key };
            out.made_key |= key_is_leaf;
            if !key_is_leaf && !key.is_empty() {
                let mut path = out.here.clone();
                path.extend([Step::Index(at), Step::Key(key.to_string())]);
                out.made_keys.push((path, want.to_string()));
            }
            if let Some(item) = items.last_mut() {
                find_in(item, Step::Index(at), rest, create, how, out);
            }
            return;
        }
        for (i, item) in items.iter_mut().enumerate().filter(|(i, _)| matched[*i]) {
            find_item(item, i, whole_item, rest, create, how, out);
        }
        return;
    }
    if seg.is_empty() {
        // kyaml matches an empty part as a scalar's text: a scalar whose
        // text is empty goes on (as does a node just made for the part), a
        // map or list fails. Creating, it puts an empty untagged scalar (a
        // null) in the place of another scalar and writes into a node it
        // then drops: nothing else changes and nothing fails.
        match v {
            Value::Null => find(v, rest, create, how, out),
            Value::String(text) if text.is_empty() => find(v, rest, create, how, out),
            Value::Map(_) | Value::Seq(_) => {
                let refusal = Refusal::wrong_kind("Scalar", out, v);
                out.error.get_or_insert(refusal);
            }
            _ if create.is_some() => {
                *v = Value::Null;
                out.lost += 1;
            }
            _ => {}
        }
        return;
    }
    if seg == "*" {
        // kyaml's wildcard matches the items of a list only.
        out.wildcard = true;
        match v {
            Value::Seq(items) => items
                .iter_mut()
                .enumerate()
                .for_each(|(i, item)| find_in(item, Step::Index(i), rest, create, how, out)),
            Value::Null => {}
            other => {
                let refusal = Refusal::wrong_kind("Sequence", out, other);
                out.error.get_or_insert(refusal);
            }
        }
        return;
    }
    match v {
        Value::Seq(items) => {
            if let Ok(i) = seg.parse::<usize>() {
                let existed = i < items.len();
                // kyaml appends the item one past the end when it creates.
                // An index past that (or, finding only, at the end) fails
                // the whole field path, whatever other list items give.
                if i == items.len() && create.is_some() {
                    items.push(fresh(rest));
                } else if i >= items.len() {
                    out.beyond.get_or_insert((i, items.len()));
                }
                if let Some(item) = items.get_mut(i) {
                    find_item(item, i, existed && rest.is_empty(), rest, create, how, out);
                }
            } else if seg == "-" && how == Match::Exact {
                // kyaml's lookup of a source reads `-` as the last item.
                let last = items.len().checked_sub(1);
                if let (Some(at), Some(item)) = (last, items.last_mut()) {
                    find_in(item, Step::Index(at), rest, create, how, out);
                }
            } else if let Some(i) =
                seg.parse::<i64>().ok().filter(|i| *i < 0 && how == Match::Exact)
            {
                // kyaml's lookup of a source reads a number as a list
                // index and refuses a negative one.
                out.negative.get_or_insert(i);
            } else if how == Match::Regex && seg.parse::<i64>().is_err() {
                // A field name where a target's path is at a list: kyaml
                // looks for a field in a map and dumps the list it found.
                let refusal = Refusal::wrong_kind("Mapping", out, &Value::Seq(items.clone()));
                out.error.get_or_insert(refusal);
            }
        }
        Value::Map(m) => {
            let existing_null = m.get(seg.as_str()).map(Value::is_null);
            match existing_null {
                Some(true) if !rest.is_empty() => {
                    if create.is_some() {
                        out.lost += 1;
                    }
                    return;
                }
                None if create.is_none() => return,
                None => {
                    m.insert(seg.clone(), fresh(rest));
                }
                Some(_) => {}
            }
            if let Some(child) = m.get_mut(seg.as_str()) {
                if existing_null == Some(true) {
                    out.slots.push((child, true));
                    let mut at = out.here.clone();
                    at.push(Step::Key(seg.clone()));
                    out.paths.push(at);
                } else {
                    find_in(child, Step::Key(seg.clone()), rest, create, how, out);
                }
            }
        }
        Value::Null if create.is_some() => {
            *v = Value::Map(Map::new());
            find(v, segs, create, how, out);
        }
        Value::Null => {}
        scalar => {
            // kyaml's field and index lookups refuse any other scalar.
            let expected = if seg.parse::<usize>().is_ok() { "Sequence" } else { "Mapping" };
            let refusal = Refusal::wrong_kind(expected, out, scalar);
            out.error.get_or_insert(refusal);
        }
    }
}

/// The field path under which a mistyped scalar found at `at` by `fp`
/// (split as `segs`) is remembered: `fp` itself, unless it picks items by
/// their text (`[=value]`), which the new text no longer matches; then the
/// path of keys and positions that led there.
fn mistyped_path(fp: &str, segs: &[String], at: &[Step]) -> String {
    if !segs.iter().any(|s| s.starts_with("[=")) {
        return fp.to_string();
    }
    let parts: Vec<String> = at
        .iter()
        .map(|step| match step {
            Step::Key(k) if k.contains('.') => format!("[{k}]"),
            Step::Key(k) => k.clone(),
            Step::Index(i) => i.to_string(),
        })
        .collect();
    parts.join(".")
}

/// The styles of `r`'s nodes when a target path matches items by their
/// text (`[=value]`, see [`item_text`]).
fn item_styles(r: &Resource, segs: &[String]) -> Option<crate::yaml::Styled> {
    segs.iter().any(|s| s.starts_with("[=")).then(|| r.styles()).flatten()
}

/// [`find_in`] item `i` of the list where the search is; with `hit_null`,
/// a null item (one the list had) is found as it is: it keeps its `!!null`
/// tag.
fn find_item<'v>(
    item: &'v mut Value,
    i: usize,
    hit_null: bool,
    segs: &[String],
    create: Option<&Value>,
    how: Match,
    out: &mut Hits<'v>,
) {
    if hit_null && item.is_null() {
        out.slots.push((item, true));
        let mut at = out.here.clone();
        at.push(Step::Index(i));
        out.paths.push(at);
    } else {
        find_in(item, Step::Index(i), segs, create, how, out);
    }
}

/// Item `i` of the list where the search is, as kyaml writes the node out
/// (in the styles its text wrote it in: `"1"` in quotes, a map as its
/// lines), without the blanks around it.
fn item_text(out: &Hits<'_>, i: usize, item: &Value) -> String {
    let mut at = out.here.clone();
    at.push(Step::Index(i));
    let styles = out.styles.as_ref().and_then(|s| s.at(&at));
    crate::yaml::node_to_string_styled(item, styles).trim().to_string()
}

/// [`find`] in `v`, the child at `step` of where the search is.
fn find_in<'v>(
    v: &'v mut Value,
    step: Step,
    segs: &[String],
    create: Option<&Value>,
    how: Match,
    out: &mut Hits<'v>,
) {
    out.here.push(step);
    find(v, segs, create, how, out);
    out.here.pop();
}

/// The YAML tag of a value's kind, as yaml.v3 names it in errors.
pub(crate) fn yaml_tag(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Uint(_) => "int",
        Value::Float(_) => "float",
        Value::String(_) => "str",
        Value::Seq(_) => "seq",
        Value::Map(_) => "map",
    }
}

/// The text of a scalar as YAML writes it (strings unquoted).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Map(_) | Value::Seq(_) => String::new(),
        other => yaml::to_string(other).trim_end().to_string(),
    }
}

/// How yaml.v3 reads a scalar's text under the tag its node keeps (a
/// replacement changes only a scalar's text): as a plain scalar reads,
/// nulls included, except that yaml.v3 tries a timestamp only for an
/// untagged scalar.
fn resolve_plain(text: &str) -> Value {
    match crate::yaml::resolve::resolve_plain(text) {
        Value::String(_) => Value::String(text.to_string()),
        v => v,
    }
}

/// How an untagged scalar with this text reads back (a field a replacement
/// created, whose node kyaml made without a tag): as a plain scalar, a
/// timestamp as the RFC 3339 text JSON carries on. kustomize turns an
/// object into data through yaml.v3's emitter, which writes an empty plain
/// scalar inside a flow collection (`{a: b}`, a JSON object) as `''`: it
/// reads back as an empty string, not a null.
fn resolve_untagged(text: &str, in_flow: bool) -> Value {
    if text.is_empty() && in_flow {
        return Value::String(String::new());
    }
    crate::yaml::resolve::resolve_plain(text)
}

/// Whether yaml.v3 reads a plain scalar that resolves to `resolved` under
/// the tag of `slot` (a node keeps its tag when a replacement sets its text):
/// the same kind, or an int read as a float.
fn tag_admits(slot: &Value, resolved: &Value) -> bool {
    matches!(
        (slot, resolved),
        (Value::Int(_) | Value::Uint(_), Value::Int(_) | Value::Uint(_))
            | (Value::Float(_), Value::Float(_) | Value::Int(_) | Value::Uint(_))
            | (Value::Bool(_), Value::Bool(_))
            | (Value::Null, _)
    )
}

/// What a node that prints as a string but has the tag `tag` (see
/// [`Retyped`]) reads as when it holds `text`: yaml.v3's encoder writes the
/// tag only where the text alone reads as something else, so text of the
/// tag's kind stays a string and a float node with an integer's text is a
/// number; other text fails to decode, with yaml.v3's error, when kustomize
/// next reads the object.
pub(crate) fn retyped_value(tag: &str, text: &str) -> Result<Value, String> {
    let resolved = resolve_plain(text);
    let stamp = crate::yaml::resolve::parse_timestamp(text).is_some();
    let reads = if stamp { "timestamp" } else { yaml_tag(&resolved) };
    match resolved {
        _ if reads == tag => Ok(Value::String(text.to_string())),
        Value::Int(i) if tag == "float" => Ok(Value::Float(i as f64)),
        Value::Uint(u) if tag == "float" => Ok(Value::Float(u as f64)),
        _ => Err(format!("yaml: cannot decode !!{} `{text}` as a !!{tag}", yaml_tag(&resolved))),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Map(_) | Value::Seq(_))
}

/// Applies replacements in order.
pub fn apply(
    resources: &mut [Resource],
    replacements: &[Replacement],
    scopes: &SchemaScopes,
) -> Result<(), String> {
    for rep in replacements {
        let mut source = source_value(resources, &rep.source, scopes)?;
        for t in &rep.targets {
            apply_target(resources, &mut source, t, scopes)?;
        }
    }
    Ok(())
}

/// What a replacement writes: the value at the source's field, and the
/// text its file wrote for it when kiln knows it (see
/// [`crate::resource::written_text`]): kyaml copies the node, text and all.
struct SourceNode {
    value: Value,
    text: Option<String>,
    /// The object (its index) and the place of the source's node, unless a
    /// delimiter made a copy of it: kustomize holds that node itself, so a
    /// target that writes there changes what the later targets get.
    at: Option<(usize, Vec<Step>)>,
    /// What kiln knows of the scalars below a map or list source.
    below: NodeNotes,
}

/// kustomize reads the identities of every object (from their annotations)
/// when it selects a replacement's source and each target: one it cannot
/// read fails the build (see [`build_annotations::list_read`]).
fn unreadable_ids(resources: &[Resource]) -> Result<(), String> {
    resources.iter().find_map(build_annotations::list_read).map_or(Ok(()), Err)
}

/// Whether the field path `segs` reaches an object's annotations whole
/// (`metadata` or `metadata.annotations`), where kustomize keeps its build
/// state (see [`build_annotations`]) among the object's own.
fn holds_annotations(segs: &[String]) -> bool {
    matches!(segs, [m] | [m, _] if m == "metadata")
        && segs.get(1).is_none_or(|a| a == "annotations")
}

fn source_value(
    resources: &[Resource],
    s: &Source,
    scopes: &SchemaScopes,
) -> Result<SourceNode, String> {
    unreadable_ids(resources)?;
    let mut found: Option<(usize, &Resource)> = None;
    for (i, r) in resources.iter().enumerate() {
        if ids(r).iter().any(|id| is_selected_by(id, &s.select)) {
            if found.is_some() {
                return Err(format!("multiple matches for selector {}", source_string(s)));
            }
            found = Some((i, r));
        }
    }
    let Some((index, r)) = found else {
        return Err(format!("nothing selected by {}", source_string(s)));
    };
    let fp = if s.field_path.is_empty() { DEFAULT_FIELD_PATH } else { &s.field_path };
    let segs = source_path(fp);
    // The annotations kustomize reads hold its build state too.
    let mut copy = if holds_annotations(&segs) {
        build_annotations::annotated(r, scopes)
    } else {
        r.value.clone()
    };
    let mut hits = Hits::default();
    find(&mut copy, &segs, None, Match::Exact, &mut hits);
    if hits.wildcard {
        return Err(
            "error looking up replacement source: wildcard is not supported in PathGetter".into()
        );
    }
    if let Some(refusal) = &hits.error {
        return Err(format!("error looking up replacement source: {}", refusal.message(r)));
    }
    if let Some(i) = hits.negative {
        return Err(format!(
            "error looking up replacement source: array index {i} cannot be negative"
        ));
    }
    let at = hits.paths.first().cloned().unwrap_or_default();
    let v = match hits.slots.into_iter().next() {
        Some((v, _)) if !is_empty(v) => v.clone(),
        _ => {
            return Err(format!(
                "fieldPath `{fp}` is missing for replacement source {}",
                selector_string(&s.select)
            ));
        }
    };
    let written = crate::resource::written_text(&v, &at, &r.scalar_texts);
    if s.options.delimiter.is_empty() {
        let below = if is_scalar(&v) { NodeNotes::default() } else { NodeNotes::below(r, &at) };
        return Ok(SourceNode { value: v, text: written, at: Some((index, at)), below });
    }
    if !is_scalar(&v) {
        return Err("delimiter option can only be used with scalar nodes".into());
    }
    let text = written.unwrap_or_else(|| scalar_text(&v));
    let parts: Vec<&str> = text.split(s.options.delimiter.as_str()).collect();
    let idx = usize::try_from(s.options.index).ok().filter(|&i| i < parts.len());
    let Some(i) = idx else {
        return Err(format!("options.index {} is out of bounds for value {text}", s.options.index));
    };
    // The split part keeps the source's type, as kustomize copies the node
    // and gives it the part as its text (which a target's node takes: a
    // float `1e3` split at `.` is still the text `1e3`, not `1000`).
    let value = match v {
        Value::String(_) => Value::String(parts[i].to_string()),
        _ => resolve_plain(parts[i]),
    };
    Ok(SourceNode {
        value,
        text: Some(parts[i].to_string()),
        at: None,
        below: NodeNotes::default(),
    })
}

/// The steps of a field path made of map keys only (`metadata.annotations.a`).
pub(crate) fn plain_path(fp: &str) -> Option<Vec<Step>> {
    split_path(fp)
        .into_iter()
        .map(|seg| {
            let list_step = seg.starts_with(['[', '*', '-']) || seg.is_empty();
            (!list_step).then_some(Step::Key(seg))
        })
        .collect()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        Value::Seq(s) => s.is_empty(),
        _ => false,
    }
}

fn apply_target(
    resources: &mut [Resource],
    source: &mut SourceNode,
    t: &Target,
    scopes: &SchemaScopes,
) -> Result<(), String> {
    let Some(select) = &t.select else {
        return Err("target must specify resources to select".into());
    };
    let default_paths = [DEFAULT_FIELD_PATH.to_string()];
    let paths: &[String] = if t.field_paths.is_empty() { &default_paths } else { &t.field_paths };
    unreadable_ids(resources)?;
    for (index, r) in resources.iter_mut().enumerate() {
        if !labels_match(r, select)? {
            continue;
        }
        let mut rejected = false;
        for rej in &t.reject {
            if (rej.label_selector.is_some() || rej.annotation_selector.is_some())
                && labels_match(r, rej)?
            {
                rejected = true;
            }
        }
        let ids = ids(r);
        let id_empty = |s: &Selector| {
            s.group.is_none()
                && s.version.is_none()
                && s.kind.is_none()
                && s.name.is_none()
                && s.namespace.is_none()
        };
        rejected |= t
            .reject
            .iter()
            .filter(|s| !id_empty(s))
            .any(|s| ids.iter().any(|id| is_selected_by(id, s)));
        if rejected || !ids.iter().any(|id| is_selected_by(id, select)) {
            continue;
        }
        for fp in paths {
            // A write over the annotations whole replaces kustomize's build
            // state with them (and finds them where only that state is).
            let over_notes = holds_annotations(&target_path(fp));
            if over_notes {
                r.value = build_annotations::annotated(r, scopes);
            }
            let written = write_path(r, fp, source, &t.options)?;
            // kustomize reads a name as its node's text: an untagged name
            // given `0o7` is the name `0o7` (and prints as 7).
            r.stringify_name();
            if over_notes {
                build_annotations::replaced(r);
            }
            let at = source
                .at
                .as_ref()
                .filter(|(i, at)| *i == index && written.iter().any(|w| w.starts_with(at)));
            if let Some((_, at)) = at {
                source.value = crate::resource::value_at(&r.value, at).cloned().unwrap_or_default();
                source.text = crate::resource::written_text(&source.value, at, &r.scalar_texts);
                if !is_scalar(&source.value) {
                    source.below = NodeNotes::below(r, at);
                }
            }
        }
    }
    Ok(())
}

/// Forgets the fields a transformer wrote (see [`Resource::written`]) at,
/// below or above the fields `segs` reaches, where the replacement puts a
/// copy of the source's node. Past the plain keys at its start (a list
/// item, index or wildcard) everything below is forgotten.
fn forget_written(written: &mut Vec<Vec<Step>>, segs: &[String]) {
    let plain = segs
        .iter()
        .take_while(|s| {
            let list_step = s.starts_with(['[', '*', '-']) || s.bytes().all(|b| b.is_ascii_digit());
            !list_step
        })
        .count();
    let keys = &segs[..plain];
    written.retain(|path| {
        let shared = path.len().min(keys.len());
        let same = path[..shared]
            .iter()
            .zip(keys)
            .all(|(step, key)| matches!(step, Step::Key(k) if k == key));
        !same
    });
}

/// The error kustomize meets when it reads an object whose field a
/// replacement gave text its type does not allow, or its file gave a tag
/// its text does not fit, if that text is still there (see
/// [`Resource::mistyped`], [`Resource::undecodable`]).
pub fn mistyped_error(r: &Resource) -> Option<String> {
    let from_file = r.undecodable.iter().find(|(path, text, _)| {
        crate::resource::value_at(&r.value, path).and_then(Value::as_str) == Some(text)
    });
    if let Some((_, _, error)) = from_file {
        return Some(error.clone());
    }
    r.mistyped.iter().find_map(|(fp, text, error)| {
        let mut copy = r.value.clone();
        let segs = target_path(fp);
        let mut hits = Hits { styles: item_styles(r, &segs), ..Hits::default() };
        find(&mut copy, &segs, None, Match::Regex, &mut hits);
        let still = hits.slots.iter().any(|(v, _)| v.as_str() == Some(text.as_str()));
        still.then(|| error.clone())
    })
}

/// `current` split at the delimiter of `o`, `text` put at its index (before
/// the first part when the index is negative, after the last when it is
/// past the end), joined again.
fn join_at(current: &str, text: &str, o: &FieldOptions) -> String {
    let mut parts: Vec<&str> = current.split(o.delimiter.as_str()).collect();
    match usize::try_from(o.index) {
        Err(_) => parts.insert(0, text),
        Ok(i) if i >= parts.len() => parts.push(text),
        Ok(i) => parts[i] = text,
    }
    parts.join(&o.delimiter)
}

/// Writes the source's node (its value, written as its text in its file
/// when kiln knows) at the field `fp` of `r`; returns the places written.
fn write_path(
    r: &mut Resource,
    fp: &str,
    source: &SourceNode,
    o: &FieldOptions,
) -> Result<Vec<Vec<Step>>, String> {
    let (value, source_text) = (&source.value, source.text.as_deref());
    // A node the target has takes the source node's text; a created one
    // is a copy of the source node, read back from JSON.
    let text_of = |v: &Value, fresh: bool| match source_text {
        Some(text) if !fresh => text.to_string(),
        _ => scalar_text(v),
    };
    let segs = target_path(fp);
    // The hash of a generated object of another kind depends on which
    // nodes kept their tag and place (see `ynode`); a ConfigMap or Secret
    // is hashed by its data (a later kind change after a replacement is
    // not followed).
    let followed = r.needs_hash
        && (r.first_tree.is_some() || r.json_rebuilt.is_some())
        && !matches!(r.kind(), "ConfigMap" | "Secret");
    let before = (followed && is_scalar(value)).then(|| r.value.clone());
    // The text of a null the target has, which a delimiter splits as it
    // splits any scalar's (`null`, `~` or empty as written).
    let null_text = plain_path(fp)
        .and_then(|path| crate::resource::scalar_text(&Value::Null, &path, &r.scalar_texts))
        .unwrap_or_else(|| "null".to_string());
    // The styles of the object's nodes, when an empty text may land in a
    // field without a tag (see [`resolve_untagged`]).
    let empty = source_text.map_or(value.is_null() || value.as_str() == Some(""), str::is_empty);
    let styles = if empty { r.styles() } else { None };
    let in_flow = |at: &[Step]| r.from_json || styles.as_ref().is_some_and(|s| s.in_flow(at));
    let mut hits = Hits { styles: item_styles(r, &segs), ..Hits::default() };
    let create = if o.create { Some(value) } else { None };
    find(&mut r.value, &segs, create, Match::Regex, &mut hits);
    // A scalar into a scalar the object has only changes that node's text;
    // anything else puts a copy of the source's node in place.
    let in_place = is_scalar(value)
        && hits
            .slots
            .iter()
            .all(|(slot, was_null)| is_scalar(slot) && (*was_null || !slot.is_null()));
    if !in_place {
        forget_written(&mut r.written, &segs);
    }
    let find = if o.create { "find or create" } else { "find" };
    if let Some(refusal) = hits.error.take() {
        drop(hits);
        let e = refusal.message(r);
        return Err(format!("unable to {find} field {fp:?} in replacement target: {e}"));
    }
    let beyond = |(i, n)| {
        format!(
            "unable to {find} field {fp:?} in replacement target: index {i} specified but only {n} elements found"
        )
    };
    if let Some(at) = hits.beyond.filter(|_| !hits.slots.is_empty() || hits.lost > 0) {
        return Err(beyond(at));
    }
    if hits.slots.is_empty() && hits.lost == 0 {
        // kyaml refuses a `[...]` path element that is not `name=value`
        // when it would create through it.
        let malformed =
            segs.iter().any(|s| s.starts_with('[') && s.ends_with(']') && !s.contains('='));
        return Err(if o.create && malformed {
            format!(
                "unable to find or create field {fp:?} in replacement target: list path element must contain fieldName=fieldValue for element to match"
            )
        } else if let Some(at) = hits.beyond {
            beyond(at)
        } else if o.create {
            format!("unable to find or create field {fp:?} in replacement target")
        } else {
            format!("unable to find field {fp:?} in replacement target")
        });
    }
    let mut mistyped = Vec::new();
    // The new values of retyped nodes (see [`Retyped`]).
    let mut retyped = Vec::new();
    // Where a copy of a map or list source went.
    let mut copied = Vec::new();
    let hits_made_key = hits.made_key;
    let mut made_texts = std::mem::take(&mut hits.made_keys);
    let mut made_untagged: Vec<Vec<Step>> = made_texts.iter().map(|(at, _)| at.clone()).collect();
    // kustomize stamps its own annotations on every object before the
    // replacements run, and kyaml writes the whole annotation map back as
    // string nodes when it does: an annotation's value is a `!!str` there,
    // whatever the file wrote (a number, a bool, a null), and takes any text.
    let annotation = segs.len() == 3 && segs[0] == "metadata" && segs[1] == "annotations";
    let written = hits.paths.clone();
    // The annotations created, which kyaml appends to the map.
    let mut made_notes = Vec::new();
    for ((slot, was_null), at) in hits.slots.into_iter().zip(hits.paths) {
        let fp = &mistyped_path(fp, &segs, &at);
        // A created leaf is a null the object did not have.
        let fresh = slot.is_null() && !was_null;
        // A field a replacement created has no tag, whichever path text
        // reaches it later: its text is read by its looks (an empty one
        // is a null that takes any text).
        let untagged = hits_made_key || r.untagged.contains(&at);
        let flow = in_flow(&at);
        if (fresh || hits_made_key) && !untagged {
            made_untagged.push(at.clone());
        }
        let was_null = was_null && !untagged;
        let mut v = value.clone();
        // kyaml copies only the text of a node into a scalar the object
        // has: a map's or a list's text is empty.
        if !fresh && is_scalar(slot) && !is_scalar(&v) {
            v = Value::String(String::new());
        }
        if annotation && is_scalar(slot) && is_scalar(&v) {
            if let (true, Some(Step::Key(key))) = (fresh, at.last()) {
                made_notes.push(key.clone());
            }
            // A created annotation is a copy of the source's node too, and
            // kustomize writes the annotations back from their nodes' text.
            let text = text_of(&v, false);
            *slot = if o.delimiter.is_empty() {
                Value::String(text)
            } else {
                // The annotation's node is split as its text reads (`1e3`,
                // `~`); one just created is empty.
                let current = crate::resource::scalar_text(slot, &at, &r.scalar_texts)
                    .filter(|_| !fresh)
                    .unwrap_or_else(|| scalar_text(slot));
                Value::String(join_at(&current, &text, o))
            };
            continue;
        }
        if was_null && !v.is_null() {
            // kyaml writes the text into the null scalar and keeps its
            // `!!null` tag, which kustomize then cannot turn into JSON
            // unless the text reads as a null too (`~`, `null`, empty).
            // A delimiter joins the source node's text, whatever the node.
            let text = if o.delimiter.is_empty() {
                text_of(&v, fresh)
            } else {
                join_at(&null_text, &text_of(&v, false), o)
            };
            let resolved = resolve_plain(&text);
            if resolved.is_null() {
                *slot = Value::Null;
                continue;
            }
            let error =
                format!("yaml: cannot decode !!{} `{text}` as a !!null", yaml_tag(&resolved));
            mistyped.push((fp.to_string(), text.clone(), error));
            *slot = Value::String(text);
            continue;
        }
        if !o.delimiter.is_empty() {
            // kyaml's LookupCreate makes a missing leaf of the source node's
            // kind, so a map or list source gives a created target that is
            // not a scalar either.
            if !is_scalar(slot) || (fresh && !is_scalar(&v)) {
                return Err("delimiter option can only be used with scalar nodes".into());
            }
            // The target's node is split as its text reads (`1e3`, `0x1F`
            // as written or as an earlier replacement left it; a leaf just
            // created is empty), and the source node's text joined in as
            // written (`1e3` even where the new leaf is made).
            let current = crate::resource::scalar_text(slot, &at, &r.scalar_texts)
                .filter(|_| !slot.is_null())
                .unwrap_or_else(|| scalar_text(slot));
            v = Value::String(join_at(&current, &text_of(&v, false), o));
        }
        *slot = if is_scalar(slot) && is_scalar(&v) {
            // kustomize copies only the text into a scalar target, keeping
            // its tag; yaml.v3 later fails to read text that the tag does not
            // allow (an int or bool node given a word, a float node a bool).
            // A created node is untagged and holds the source node's text
            // (`1e3` stays `1e3` for a later delimiter to split).
            let text = if o.delimiter.is_empty() { text_of(&v, false) } else { scalar_text(&v) };
            // An untagged node keeps the text it was given (`~`, `0x1F`),
            // which a later step reads (vars take it as a string).
            if untagged || fresh {
                made_texts.push((at.clone(), text.clone()));
            }
            if let Some(tag) = Retyped::tag_at(&r.retyped, &at, slot) {
                let v = retyped_value(tag, &text).unwrap_or_else(|error| {
                    mistyped.push((fp.to_string(), text.clone(), error));
                    Value::String(text.clone())
                });
                retyped.push((at.clone(), v.clone()));
                *slot = v;
                continue;
            }
            // Text an earlier replacement gave a field its tag does not
            // allow left the tag in place: it judges this text too.
            // So does a tag the file gave text it does not fit (`!!int 1.5`).
            let kept_tag = match &*slot {
                Value::String(current) => r
                    .mistyped
                    .iter()
                    .rev()
                    .find(|(f, t, _)| f == fp && t == current)
                    .map(|(_, _, e)| e)
                    .or_else(|| {
                        let file = r.undecodable.iter().find(|(p, t, _)| *p == at && t == current);
                        file.map(|(_, _, e)| e)
                    })
                    .and_then(|e| e.rsplit_once(" as a !!"))
                    .map(|(_, tag)| tag.to_string()),
                _ => None,
            };
            match &*slot {
                Value::String(_) if kept_tag.is_some() && !untagged => {
                    let slot_tag = kept_tag.unwrap_or_default();
                    let resolved = resolve_plain(&text);
                    let admitted = match slot_tag.as_str() {
                        "int" => matches!(resolved, Value::Int(_) | Value::Uint(_)),
                        "float" => {
                            matches!(resolved, Value::Float(_) | Value::Int(_) | Value::Uint(_))
                        }
                        "bool" => matches!(resolved, Value::Bool(_)),
                        "null" => resolved.is_null(),
                        _ => false,
                    };
                    if admitted {
                        made_texts.push((at.clone(), text.clone()));
                        resolved
                    } else {
                        let error = format!(
                            "yaml: cannot decode !!{} `{text}` as a !!{slot_tag}",
                            yaml_tag(&resolved),
                        );
                        mistyped.push((fp.to_string(), text.clone(), error));
                        Value::String(text)
                    }
                }
                // A field a replacement created has no tag: its text is
                // read by its looks.
                Value::String(_) if untagged => resolve_untagged(&text, flow),
                // A plain timestamp is a `!!timestamp` node: text that reads
                // as a timestamp is one (printed in RFC 3339 form), other
                // text yaml.v3 fails to read under that tag.
                Value::String(_)
                    if crate::resource::timestamp_text(slot, &at, &r.scalar_texts).is_some() =>
                {
                    match crate::yaml::resolve::parse_timestamp(&text) {
                        Some(t) => {
                            made_texts.push((at.clone(), text.clone()));
                            Value::String(t.rfc3339())
                        }
                        None => {
                            let error = format!(
                                "yaml: cannot decode !!{} `{text}` as a !!timestamp",
                                yaml_tag(&resolve_plain(&text)),
                            );
                            mistyped.push((fp.to_string(), text.clone(), error));
                            Value::String(text)
                        }
                    }
                }
                Value::String(_) => Value::String(text),
                // A leaf just created is an untagged scalar too.
                Value::Null => resolve_untagged(&text, flow),
                _ if untagged => resolve_untagged(&text, flow),
                _ => {
                    let resolved = resolve_plain(&text);
                    // A whole float64 a JSON patch left (untouched since) was
                    // written back as an integer: its node is an !!int.
                    let json_int = matches!(&*slot, Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e21)
                        && r.json_rebuilt
                            .as_deref()
                            .and_then(|j| crate::resource::value_at(j, &at))
                            == Some(&*slot);
                    let admitted = if json_int {
                        matches!(resolved, Value::Int(_) | Value::Uint(_))
                    } else {
                        tag_admits(slot, &resolved)
                    };
                    if admitted {
                        // The node keeps its tag and holds this text, which
                        // vars read with Go's strconv (`0x10` is no int).
                        made_texts.push((at.clone(), text.clone()));
                        resolved
                    } else {
                        // A whole float64 (what a JSON patch leaves) is
                        // written back as an integer: its node is an !!int.
                        let slot_tag = match &*slot {
                            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e21 => "int",
                            other => yaml_tag(other),
                        };
                        let error = format!(
                            "yaml: cannot decode !!{} `{text}` as a !!{slot_tag}",
                            yaml_tag(&resolved),
                        );
                        mistyped.push((fp.to_string(), text.clone(), error));
                        Value::String(text)
                    }
                }
            }
        } else {
            if !is_scalar(&v) {
                copied.push(at);
            }
            v
        };
    }
    for at in copied {
        source.below.put(r, &at);
    }
    r.mistyped.extend(mistyped);
    for (at, value) in retyped {
        if let Some(node) = r.retyped.iter_mut().find(|n| n.path == at) {
            node.value = value;
        }
    }
    // A node copied in replaces what was there, keys given again included.
    if !in_place {
        for at in &written {
            r.drop_shadows_under(at);
        }
    }
    if !made_texts.is_empty() {
        let made: std::collections::HashSet<&[Step]> =
            made_texts.iter().map(|(at, _)| &at[..]).collect();
        r.scalar_texts.retain(|(p, _)| !made.contains(&p[..]));
    }
    for (at, text) in made_texts {
        // The text a value gets anyway needs no entry (and an empty one
        // would read as a field written as nothing); a timestamp's does,
        // as it reads as its RFC 3339 form.
        let differs = match crate::yaml::resolve::resolve_plain(&text) {
            Value::String(s) => s != text,
            v => crate::resource::scalar_text(&v, &[], &[]).is_some_and(|p| p != text),
        };
        if !text.is_empty() && differs {
            r.scalar_texts.push((at, text));
        }
    }
    if let Some(before) = before.filter(|_| in_place) {
        let mut at = Vec::new();
        let mut changed = Vec::new();
        changed_scalars(&before, &r.value, &mut at, &mut changed);
        for path in &changed {
            if let [Step::Key(m), Step::Key(a), Step::Key(key)] = &path[..]
                && m == "metadata"
                && a == "annotations"
                && !r.kept_note_texts.iter().any(|(k, _)| k == key)
                && let Some(old) = before.get_path(&["metadata", "annotations", key])
            {
                r.kept_note_texts.push((key.clone(), scalar_text(old)));
            }
        }
        let stage = r.merged_patches.len();
        r.kept_nodes.extend(changed.into_iter().map(|p| (stage, p)));
    }
    // An annotation keeps the copied node's text (kustomize rewrites the
    // annotations from their nodes' text at the end).
    if let Some(path) = plain_path(fp).filter(|p| {
        p.len() == 3
            && p[0] == Step::Key("metadata".into())
            && p[1] == Step::Key("annotations".into())
    }) {
        r.scalar_texts.retain(|(p, _)| *p != path);
        if let Some(text) = source_text.filter(|_| o.delimiter.is_empty()) {
            r.scalar_texts.push((path, text.to_string()));
        }
    }
    r.untagged.extend(made_untagged);
    for key in made_notes {
        r.note_added(&key);
    }
    Ok(written)
}

/// The paths of the scalars `before` had that hold other data in `after`.
fn changed_scalars(before: &Value, after: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match (before, after) {
        (Value::Map(b), Value::Map(a)) => {
            for (k, v) in b {
                if let Some(w) = a.get(k) {
                    at.push(Step::Key(k.clone()));
                    changed_scalars(v, w, at, out);
                    at.pop();
                }
            }
        }
        (Value::Seq(b), Value::Seq(a)) => {
            for (i, (v, w)) in b.iter().zip(a).enumerate() {
                at.push(Step::Index(i));
                changed_scalars(v, w, at, out);
                at.pop();
            }
        }
        (b, a) if is_scalar(b) && is_scalar(a) && !b.is_null() && b != a => out.push(at.clone()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_outside_brackets() {
        let cases = [
            ("metadata.name", vec!["metadata", "name"]),
            ("spec.containers.[name=a.b].image", vec!["spec", "containers", "[name=a.b]", "image"]),
            ("a", vec!["a"]),
            ("metadata.annotations.[a.b/c]", vec!["metadata", "annotations", "a.b/c"]),
            ("metadata.labels.a\\.b", vec!["metadata", "labels", "a.b"]),
            ("data.[k", vec!["data", "k"]),
            ("data.[k.l", vec!["data", "k.l"]),
            ("data.[k].l", vec!["data", "[k]", "l"]),
            ("a[b.c]d", vec!["a[b", "c]d"]),
            ("[a.b]c.d", vec!["a.b]c.d"]),
            ("x.[a\\.b]", vec!["x", "[a.b]"]),
        ];
        for (path, want) in cases {
            assert_eq!(split_path(path), want, "{path}");
        }
    }

    #[test]
    fn plain_scalars_resolve() {
        let cases = [
            ("9000", Value::Int(9000)),
            ("true", Value::Bool(true)),
            ("abc", Value::String("abc".into())),
            ("1.5", Value::Float(1.5)),
            // Under a kept tag a timestamp is its text; nulls are nulls.
            ("2001-01-01", Value::String("2001-01-01".into())),
            ("~", Value::Null),
            ("", Value::Null),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text}");
        }
    }
}
