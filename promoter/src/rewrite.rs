//! Byte-preserving rewrites of image references in YAML text.
//!
//! [`find`] lists every place a YAML file names an image: kustomize `images:`
//! entries, container `image:` fields, HelmRelease values and Flux setter
//! markers (`# {"$imagepolicy": "ns:policy"}`, with `:tag`, `:name` or
//! `:digest`). [`apply`] replaces the bytes of chosen values and nothing else:
//! comments, indentation, quoting, key order, anchors, `---` and line endings
//! survive. Where the fields live is the data in [`RULES`], not code.
//!
//! A value keeps its quoting style. A plain value is written plain when YAML
//! would read the new text back as the same string; otherwise (a tag like
//! `1.20` that would read as a number, or text with YAML indicators) it is
//! double-quoted, the smallest change that keeps the data right.
//!
//! Not rewritten, and so not listed: aliases (`image: *img`; the anchor's
//! own value is listed where a rule or marker finds it), block scalars and
//! empty values.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// Why a file cannot be searched or rewritten.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not YAML.
    #[error("not valid YAML at line {line} column {column}: {message}")]
    Yaml {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A Flux setter marker names no policy in the `ns:name[:field]` form.
    #[error(
        "malformed $imagepolicy marker `{marker}` at line {line}: expected `namespace:policy` with an optional `:tag`, `:name` or `:digest`"
    )]
    Marker {
        /// 1-based line.
        line: usize,
        /// The marker's policy reference as written.
        marker: String,
    },
    /// An edit's span is not a scalar value [`find`] reported for this text.
    #[error("edit span {start}..{end} is not an image value of the text")]
    Span {
        /// Start byte.
        start: usize,
        /// End byte.
        end: usize,
    },
}

/// What part of an image reference a value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// A whole reference `name[:tag][@digest]`.
    Image,
    /// The name (repository) only.
    Name,
    /// The tag only.
    Tag,
    /// The digest only.
    Digest,
}

/// One value in a YAML file that holds an image reference or part of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// What the value holds.
    pub field: Field,
    /// The image the value belongs to: the name in a whole reference, a
    /// kustomize entry's `newName` (else its `name`), a values map's
    /// `registry/repository`; `None` for a marker-only value that names no image.
    pub image: Option<String>,
    /// The value as YAML reads it.
    pub value: String,
    /// The value's bytes in the text, quotes included.
    pub span: Range<usize>,
    /// Where the value sits, e.g. `spec.template.spec.containers[0].image`.
    pub path: String,
    /// Which YAML document of the file, from 0.
    pub document: usize,
    /// The Flux policy a setter marker names (`namespace:name`).
    pub policy: Option<String>,
}

/// A replacement for one value that [`find`] reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The value's span, as in [`ImageRef::span`].
    pub span: Range<usize>,
    /// The new value, unquoted.
    pub value: String,
}

/// Which documents a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Any document.
    Any,
    /// A kustomize `Kustomization` or `Component`, or a file without `kind` (a kustomization.yaml).
    Kustomization,
    /// A Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`), which has `spec.images`.
    FluxKustomization,
    /// A Flux `HelmRelease` or Flux v1 `FluxHelmRelease`.
    HelmRelease,
}

/// How the node at a rule's path holds an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A string `name[:tag][@digest]`.
    Reference,
    /// A kustomize images entry: `name`, `newName`, `newTag`, `digest`.
    KustomizeEntry,
    /// A Helm values image: a string, or a map of `registry`, `repository` (or `name`), `tag`, `digest`.
    ValuesImage,
}

/// Where images live. Path syntax: keys separated by `.`, `[]` for any
/// sequence item, `**` for any run of keys and items.
const RULES: &[(Scope, &str, Shape)] = &[
    (Scope::Kustomization, "images[]", Shape::KustomizeEntry),
    (Scope::FluxKustomization, "spec.images[]", Shape::KustomizeEntry),
    (Scope::Any, "**.containers[].image", Shape::Reference),
    (Scope::Any, "**.initContainers[].image", Shape::Reference),
    (Scope::Any, "**.ephemeralContainers[].image", Shape::Reference),
    (Scope::HelmRelease, "spec.values.**.image", Shape::ValuesImage),
];

/// The keys of a kustomize images entry and of a Helm values image map, and what each holds.
const ENTRY_FIELDS: &[(&str, Field)] =
    &[("newName", Field::Name), ("newTag", Field::Tag), ("digest", Field::Digest)];
const VALUES_FIELDS: &[(&str, Field)] = &[
    ("repository", Field::Name),
    ("name", Field::Name),
    ("tag", Field::Tag),
    ("digest", Field::Digest),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Key(&'static str),
    AnyIndex,
    AnyDepth,
}

static COMPILED: LazyLock<Vec<(Scope, Vec<Pattern>, Shape)>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|(scope, path, shape)| {
            let mut pattern = Vec::new();
            for part in path.split('.') {
                match part {
                    "**" => pattern.push(Pattern::AnyDepth),
                    _ => match part.strip_suffix("[]") {
                        Some(key) => pattern.extend([Pattern::Key(key), Pattern::AnyIndex]),
                        None => pattern.push(Pattern::Key(part)),
                    },
                }
            }
            (*scope, pattern, *shape)
        })
        .collect()
});

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\{\s*"\$imagepolicy"\s*:\s*"([^"]*)"\s*\}"#).expect("the marker regex is valid")
});

/// Lists the image values in a YAML file (one or more documents), in text order.
pub fn find(text: &str) -> Result<Vec<ImageRef>, Error> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| Error::Yaml {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_owned(),
    })?;
    let source = Source::new(text);
    let mut refs = Vec::new();
    for (document, doc) in docs.iter().enumerate() {
        let scopes = scopes_of(doc);
        let mut walk =
            Walk { source: &source, document, scopes, refs: &mut refs, path: Vec::new() };
        walk.node(doc)?;
    }
    refs.sort_by_key(|r| r.span.start);
    // A marker on a value a rule found adds its policy to that value.
    let mut merged: Vec<ImageRef> = Vec::with_capacity(refs.len());
    for r in refs {
        match merged.last_mut() {
            Some(last) if last.span == r.span => {
                last.policy = last.policy.take().or(r.policy);
                last.image = last.image.take().or(r.image);
            }
            _ => merged.push(r),
        }
    }
    Ok(merged)
}

/// Applies edits to the text, changing only the bytes of each edited value.
/// Every edit's span must be one that [`find`] reports for this text.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, Error> {
    let refs = find(text)?;
    for edit in edits {
        if refs
            .binary_search_by_key(&edit.span.start, |r| r.span.start)
            .map_or(true, |i| refs[i].span != edit.span)
        {
            return Err(Error::Span { start: edit.span.start, end: edit.span.end });
        }
    }
    splice(text, edits)
}

/// Replaces the values at the edits' spans, which are values [`find`] reported.
fn splice(text: &str, edits: &[Edit]) -> Result<String, Error> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.span.start);
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for edit in sorted {
        let Range { start, end } = edit.span;
        let bad = || Error::Span { start, end };
        if start < at
            || end <= start
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            return Err(bad());
        }
        let old = text.get(start..end).ok_or_else(bad)?;
        let style = match old.as_bytes().first() {
            Some(b'\'') if old.len() >= 2 && old.ends_with('\'') => Style::Single,
            Some(b'"') if old.len() >= 2 && old.ends_with('"') => Style::Double,
            Some(b'|' | b'>' | b'*' | b'&' | b'!' | b'#') | None => return Err(bad()),
            Some(_) => Style::Plain,
        };
        out.push_str(&text[at..start]);
        encode(&mut out, &edit.value, style);
        at = end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Sets the tag of every reference to `image` in the text: whole references
/// become `image:tag` (dropping any digest, which would pin the old build),
/// tag values become `tag`. `None` when the text holds no tag or reference of `image`.
pub fn set_tag(text: &str, image: &str, tag: &str) -> Result<Option<String>, Error> {
    let edits: Vec<Edit> = find(text)?
        .into_iter()
        .filter(|r| r.image.as_deref() == Some(image))
        .filter_map(|r| {
            let value = match r.field {
                Field::Image => format!("{image}:{tag}"),
                Field::Tag => tag.to_owned(),
                Field::Name | Field::Digest => return None,
            };
            Some(Edit { span: r.span, value })
        })
        .collect();
    if edits.is_empty() { Ok(None) } else { splice(text, &edits).map(Some) }
}

/// Splits `name[:tag][@digest]` into its parts.
pub fn split_reference(reference: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(colon) => (&rest[..slash + colon], Some(&rest[slash + colon + 1..]), digest),
        None => (rest, None, digest),
    }
}

/// The text with char-index to byte-offset conversion (saphyr marks chars).
struct Source<'t> {
    text: &'t str,
    /// Byte offset of each char, present only when the text is not ASCII.
    offsets: Option<Vec<usize>>,
}

impl<'t> Source<'t> {
    fn new(text: &'t str) -> Self {
        let offsets = (!text.is_ascii()).then(|| {
            text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect()
        });
        Source { text, offsets }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.text.len()),
            Some(offsets) => offsets.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    /// The bytes of a scalar's value as written, without anchor or tag, or
    /// `None` where the value cannot be rewritten (alias, block, empty).
    fn scalar_span(&self, node: &MarkedYaml) -> Option<Range<usize>> {
        let bytes = self.text.as_bytes();
        let mut start = self.byte(node.span.start.index());
        let stop = self.byte(node.span.end.index());
        // Skip node properties: `&anchor` and `!tag`, each followed by space.
        while matches!(bytes.get(start), Some(b'&' | b'!')) {
            while start < bytes.len() && !bytes[start].is_ascii_whitespace() {
                start += 1;
            }
            while start < bytes.len() && bytes[start].is_ascii_whitespace() {
                start += 1;
            }
        }
        if self.is_block(start) {
            return None;
        }
        let end = match bytes.get(start)? {
            b'*' | b'|' | b'>' => return None,
            b'"' => {
                let mut i = start + 1;
                loop {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break i + 1,
                        _ => i += 1,
                    }
                }
            }
            b'\'' => {
                let mut i = start + 1;
                loop {
                    match (bytes.get(i)?, bytes.get(i + 1)) {
                        (b'\'', Some(b'\'')) => i += 2,
                        (b'\'', _) => break i + 1,
                        _ => i += 1,
                    }
                }
            }
            _ => {
                let mut end = stop.max(start);
                while end > start && bytes[end - 1].is_ascii_whitespace() {
                    end -= 1;
                }
                end
            }
        };
        (end > start).then_some(start..end)
    }

    /// Whether the scalar starting at `start` is a block scalar: it starts
    /// its line, and the line before (blank lines aside) ends with a block
    /// header such as `|`, `>-` or `|2+`, a trailing comment aside. saphyr's
    /// spans start block scalars at their content, after the header.
    fn is_block(&self, start: usize) -> bool {
        let text = self.text;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        if !text[line_start..start].trim().is_empty() {
            return false;
        }
        let mut before = text[..line_start].trim_end_matches(['\n', '\r']);
        loop {
            let (rest, line) = before.rsplit_once('\n').unwrap_or(("", before));
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() && !rest.is_empty() {
                before = rest.trim_end_matches('\r');
                continue;
            }
            let content = line.find(" #").map_or(line, |i| &line[..i]).trim_end();
            let token = content.rsplit([' ', '\t']).next().unwrap_or("");
            return matches!(token.as_bytes().first(), Some(b'|' | b'>'))
                && token[1..].bytes().all(|b| b.is_ascii_digit() || b == b'+' || b == b'-');
        }
    }

    /// The comment after a value on the same line, without `#`.
    fn trailing_comment(&self, end: usize) -> Option<&'t str> {
        let rest = self.text.get(end..)?;
        let line = rest.split('\n').next().unwrap_or(rest).trim_end_matches('\r');
        line.trim_start_matches([' ', '\t']).strip_prefix('#').map(str::trim)
    }

    fn line_of(&self, byte: usize) -> usize {
        self.text.as_bytes()[..byte.min(self.text.len())].iter().filter(|&&b| b == b'\n').count()
            + 1
    }
}

#[derive(Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
}

struct Walk<'a, 't> {
    source: &'a Source<'t>,
    document: usize,
    scopes: [bool; 4],
    refs: &'a mut Vec<ImageRef>,
    path: Vec<Step>,
}

impl Walk<'_, '_> {
    fn node(&mut self, node: &MarkedYaml) -> Result<(), Error> {
        self.rules(node);
        match &node.data {
            YamlData::Mapping(map) => {
                for (key, value) in map {
                    self.path.push(Step::Key(scalar_text(self.source, key)));
                    self.node(value)?;
                    self.path.pop();
                }
            }
            YamlData::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    self.node(item)?;
                    self.path.pop();
                }
            }
            YamlData::Tagged(_, inner) => self.node(inner)?,
            YamlData::Value(_) => self.marker(node)?,
            _ => {}
        }
        Ok(())
    }

    fn rules(&mut self, node: &MarkedYaml) {
        for (scope, pattern, shape) in COMPILED.iter() {
            if !self.scopes[*scope as usize] || !matches(pattern, &self.path) {
                continue;
            }
            match (shape, &node.data) {
                (Shape::Reference | Shape::ValuesImage, YamlData::Value(Scalar::String(s))) => {
                    let image = split_reference(s).0.to_owned();
                    self.push(node, Field::Image, Some(image), None, None);
                }
                (Shape::KustomizeEntry, YamlData::Mapping(_)) => {
                    let name = child(self.source, node, "newName")
                        .or_else(|| child(self.source, node, "name"));
                    self.children(node, ENTRY_FIELDS, name);
                }
                (Shape::ValuesImage, YamlData::Mapping(_)) => {
                    let repo = child(self.source, node, "repository")
                        .or_else(|| child(self.source, node, "name"));
                    let image = match (child(self.source, node, "registry"), repo) {
                        (Some(reg), Some(repo)) if !reg.is_empty() => Some(format!("{reg}/{repo}")),
                        (_, repo) => repo,
                    };
                    self.children(node, VALUES_FIELDS, image);
                }
                _ => {}
            }
        }
    }

    fn children(&mut self, map: &MarkedYaml, fields: &[(&str, Field)], image: Option<String>) {
        let YamlData::Mapping(entries) = &map.data else { return };
        for (key, value) in entries {
            let key = scalar_text(self.source, key);
            if let Some((_, field)) = fields.iter().find(|(name, _)| *name == key)
                && matches!(value.data, YamlData::Value(_))
            {
                self.push(value, *field, image.clone(), Some(key), None);
            }
        }
    }

    fn marker(&mut self, node: &MarkedYaml) -> Result<(), Error> {
        let Some(span) = self.source.scalar_span(node) else { return Ok(()) };
        let Some(comment) = self.source.trailing_comment(span.end) else { return Ok(()) };
        let Some(caps) = MARKER.captures(comment) else { return Ok(()) };
        let reference = caps.get(1).map_or("", |m| m.as_str());
        let parts: Vec<&str> = reference.split(':').collect();
        let (policy, field) = match parts.as_slice() {
            [ns, name] if !ns.is_empty() && !name.is_empty() => (reference, Field::Image),
            [ns, name, field] if !ns.is_empty() && !name.is_empty() => {
                let field = match *field {
                    "tag" => Field::Tag,
                    "name" => Field::Name,
                    "digest" => Field::Digest,
                    _ => return Err(self.marker_error(span.start, reference)),
                };
                (&reference[..ns.len() + 1 + name.len()], field)
            }
            _ => return Err(self.marker_error(span.start, reference)),
        };
        let image = match (&node.data, field) {
            (YamlData::Value(Scalar::String(s)), Field::Image | Field::Name) => {
                Some(split_reference(s).0.to_owned())
            }
            _ => None,
        };
        self.push(node, field, image, None, Some(policy.to_owned()));
        Ok(())
    }

    fn marker_error(&self, at: usize, reference: &str) -> Error {
        Error::Marker { line: self.source.line_of(at), marker: reference.to_owned() }
    }

    fn push(
        &mut self,
        node: &MarkedYaml,
        field: Field,
        image: Option<String>,
        key: Option<String>,
        policy: Option<String>,
    ) {
        let Some(span) = self.source.scalar_span(node) else { return };
        let mut path = render_path(&self.path);
        if let Some(key) = key {
            path.push('.');
            path.push_str(&key);
        }
        self.refs.push(ImageRef {
            field,
            image,
            value: scalar_text(self.source, node),
            span,
            path,
            document: self.document,
            policy,
        });
    }
}

/// The string YAML reads from a scalar; for a plain scalar that reads as a
/// number, boolean or null, the text as written.
fn scalar_text(source: &Source, node: &MarkedYaml) -> String {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => s.to_string(),
        _ => source
            .scalar_span(node)
            .and_then(|span| source.text.get(span))
            .unwrap_or_default()
            .to_owned(),
    }
}

/// The string value of a map's key, if it has one.
fn child(source: &Source, map: &MarkedYaml, key: &str) -> Option<String> {
    let YamlData::Mapping(entries) = &map.data else { return None };
    entries.iter().find(|(k, _)| scalar_text(source, k) == key).and_then(|(_, v)| match &v.data {
        YamlData::Value(Scalar::Null) => None,
        YamlData::Value(_) => Some(scalar_text(source, v)),
        _ => None,
    })
}

/// Which scopes a document is in, indexed by `Scope as usize`.
fn scopes_of(doc: &MarkedYaml) -> [bool; 4] {
    let field = |key: &str| match &doc.data {
        YamlData::Mapping(map) => map.iter().find_map(|(k, v)| match (&k.data, &v.data) {
            (YamlData::Value(Scalar::String(k)), YamlData::Value(Scalar::String(v)))
                if k == key =>
            {
                Some(v.to_string())
            }
            _ => None,
        }),
        _ => None,
    };
    let (kind, api) = (field("kind"), field("apiVersion").unwrap_or_default());
    let mut scopes = [false; 4];
    scopes[Scope::Any as usize] = true;
    scopes[Scope::Kustomization as usize] = match kind.as_deref() {
        None => true,
        Some("Kustomization" | "Component") => api.starts_with("kustomize.config.k8s.io/"),
        Some(_) => false,
    };
    scopes[Scope::FluxKustomization as usize] =
        kind.as_deref() == Some("Kustomization") && api.starts_with("kustomize.toolkit.fluxcd.io/");
    scopes[Scope::HelmRelease as usize] =
        matches!(kind.as_deref(), Some("HelmRelease" | "FluxHelmRelease"));
    scopes
}

fn matches(pattern: &[Pattern], path: &[Step]) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((Pattern::AnyDepth, rest)), _) => {
            (0..=path.len()).any(|skip| matches(rest, &path[skip..]))
        }
        (Some((Pattern::Key(k), rest)), Some((Step::Key(s), tail))) if k == s => {
            matches(rest, tail)
        }
        (Some((Pattern::AnyIndex, rest)), Some((Step::Index(_), tail))) => matches(rest, tail),
        _ => false,
    }
}

fn render_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Writes `value` as a scalar of the given style; a plain scalar becomes
/// double-quoted when YAML would not read it back as the same string.
fn encode(out: &mut String, value: &str, style: Style) {
    let printable = value.chars().all(|c| !c.is_control());
    match style {
        Style::Plain if plain_safe(value) => out.push_str(value),
        Style::Single if printable => {
            out.push('\'');
            out.push_str(&value.replace('\'', "''"));
            out.push('\'');
        }
        _ => {
            out.push('"');
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
}

/// Whether `value` reads back as the same string when written plain, in
/// block and flow context, under YAML 1.2 and the YAML 1.1 that Kubernetes
/// tools read. Conservative: anything that might look like a number, boolean
/// or null is quoted.
fn plain_safe(value: &str) -> bool {
    let Some(first) = value.chars().next() else { return false };
    let charset = value.chars().all(|c| c.is_ascii_alphanumeric() || "._/@:+-".contains(c));
    let lower = value.to_ascii_lowercase();
    let keyword = matches!(
        lower.as_str(),
        "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | ".inf" | ".nan"
    );
    let numeric_looking = (first.is_ascii_digit() || "+-.".contains(first))
        && value.chars().all(|c| c.is_ascii_hexdigit() || "xXoO._:+-".contains(c));
    charset
        && !keyword
        && !numeric_looking
        && !"-:@.".contains(first)
        && !value.ends_with(':')
        && !value.contains(": ")
}

#[cfg(test)]
mod tests;
