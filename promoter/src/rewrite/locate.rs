//! Locating image values in parsed YAML: the table of where images live and the walk over documents.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use saphyr::{MarkedYaml, Scalar, YamlData};

use super::{Error, Field, ImageRef, PolicyRef, split_reference};

/// Which documents a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Any document.
    Any,
    /// A kustomize `Kustomization` or `Component`, or a file without `kind` (a kustomization.yaml).
    Kustomization,
    /// A Flux `Kustomization` (`kustomize.toolkit.fluxcd.io`), which has `spec.images`.
    FluxKustomization,
    /// A Flux `HelmRelease` (any API group) or Flux v1 `FluxHelmRelease`.
    HelmRelease,
}

/// How the mapping at a rule's path holds an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A container: `image` is a whole reference, `name` names the container.
    Container,
    /// A kustomize images entry: `name`, `newName`, `newTag`, `digest`.
    KustomizeEntry,
    /// Helm values, where Flux v1 found images: a mapping with an `image` key
    /// holding a whole reference, or a name next to `tag` (and `registry`),
    /// or a mapping of `registry`, `repository` (or `name`), `tag`, `digest`.
    Values,
}

/// Where images live. Path syntax: keys separated by `.`, `[]` for any
/// sequence item, `**` for any run of keys and items. The kustomize paths
/// are those of its images transformer (containers and init containers at
/// any depth, so pod templates of every workload kind are covered).
const RULES: &[(Scope, &str, Shape)] = &[
    (Scope::Kustomization, "images[]", Shape::KustomizeEntry),
    (Scope::FluxKustomization, "spec.images[]", Shape::KustomizeEntry),
    (Scope::Any, "**.containers[]", Shape::Container),
    (Scope::Any, "**.initContainers[]", Shape::Container),
    (Scope::Any, "**.ephemeralContainers[]", Shape::Container),
    (Scope::HelmRelease, "spec.values.**", Shape::Values),
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

/// Flux v1 annotation prefixes that give a container's tag policy
/// (`fluxcd.io/tag.<container>`, the older `flux.weave.works/tag.<container>`,
/// and the helm-operator's `filter.fluxcd.io/<container>`).
const POLICY_ANNOTATIONS: &[&str] =
    &["fluxcd.io/tag.", "flux.weave.works/tag.", "filter.fluxcd.io/"];

/// Flux v1 helm-operator annotations mapping an alias to values paths.
const ALIAS_REPOSITORY: &str = "repository.fluxcd.io/";
const ALIAS_REGISTRY: &str = "registry.fluxcd.io/";
const ALIAS_TAG: &str = "tag.fluxcd.io/";

/// The container name Flux v1 gives an image at the top of a HelmRelease's values.
const CHART_IMAGE: &str = "chart-image";

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

/// Appends the image values of one document to `refs`.
pub(super) fn document(
    source: &Source,
    document: usize,
    doc: &MarkedYaml,
    refs: &mut Vec<ImageRef>,
) -> Result<(), Error> {
    let annotations = annotations(source, doc);
    let mut walk = Walk {
        source,
        document,
        scopes: scopes_of(doc),
        policies: annotations
            .iter()
            .filter_map(|(k, v)| {
                POLICY_ANNOTATIONS
                    .iter()
                    .find_map(|p| k.strip_prefix(p))
                    .map(|c| (c.to_owned(), v.clone()))
            })
            .collect(),
        refs,
        path: Vec::new(),
    };
    walk.node(doc)?;
    if walk.scopes[Scope::HelmRelease as usize] {
        walk.aliases(doc, &annotations);
    }
    Ok(())
}

/// The text with char-index to byte-offset conversion (saphyr marks chars).
pub(super) struct Source<'t> {
    text: &'t str,
    /// Byte offset of each char, present only when the text is not ASCII.
    offsets: Option<Vec<usize>>,
}

impl<'t> Source<'t> {
    pub(super) fn new(text: &'t str) -> Self {
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

struct Walk<'a, 't> {
    source: &'a Source<'t>,
    document: usize,
    scopes: [bool; 4],
    /// Tag policies from Flux v1 annotations, by container name.
    policies: HashMap<String, String>,
    refs: &'a mut Vec<ImageRef>,
    path: Vec<Step>,
}

impl Walk<'_, '_> {
    fn node(&mut self, node: &MarkedYaml) -> Result<(), Error> {
        if let YamlData::Mapping(_) = node.data {
            self.rules(node);
        }
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

    fn rules(&mut self, map: &MarkedYaml) {
        for (scope, pattern, shape) in COMPILED.iter() {
            if !self.scopes[*scope as usize] || !matches(pattern, &self.path) {
                continue;
            }
            match shape {
                Shape::Container => {
                    let container = child(self.source, map, "name");
                    if let Some(image) = entry(map, "image")
                        && let YamlData::Value(Scalar::String(s)) = &image.data
                    {
                        let name = split_reference(s).0.to_owned();
                        self.push(
                            image,
                            Field::Image,
                            Some(name),
                            Some("image"),
                            container.as_deref(),
                        );
                    }
                }
                Shape::KustomizeEntry => {
                    let name = child(self.source, map, "newName")
                        .or_else(|| child(self.source, map, "name"));
                    self.fields(map, ENTRY_FIELDS, name, None);
                }
                Shape::Values => self.values(map),
            }
        }
    }

    /// Flux v1's image detection in Helm values, on a mapping with an `image` key.
    fn values(&mut self, map: &MarkedYaml) {
        let Some(image) = entry(map, "image") else { return };
        let container = match self.path.as_slice() {
            [Step::Key(spec), Step::Key(values)] if spec == "spec" && values == "values" => {
                CHART_IMAGE.to_owned()
            }
            [.., Step::Key(key)] => key.clone(),
            _ => return,
        };
        let container = Some(container.as_str());
        match &image.data {
            YamlData::Value(Scalar::String(s)) => {
                let (name, tag, _) = split_reference(s);
                let name = prefixed(child(self.source, map, "registry"), name.to_owned());
                match entry(map, "tag") {
                    Some(sibling) if tag.is_none() => {
                        self.push(image, Field::Name, Some(name.clone()), Some("image"), container);
                        self.push(sibling, Field::Tag, Some(name), Some("tag"), container);
                    }
                    _ => self.push(image, Field::Image, Some(name), Some("image"), container),
                }
            }
            YamlData::Mapping(_) => {
                let repo = child(self.source, image, "repository")
                    .or_else(|| child(self.source, image, "name"));
                let name = repo.map(|repo| prefixed(child(self.source, image, "registry"), repo));
                self.path.push(Step::Key("image".to_owned()));
                self.fields(image, VALUES_FIELDS, name, container);
                self.path.pop();
            }
            _ => {}
        }
    }

    /// Flux v1 helm-operator aliases: `repository.fluxcd.io/<alias>: values.path`.
    fn aliases(&mut self, doc: &MarkedYaml, annotations: &[(String, String)]) {
        let Some(values) = at_path(doc, &["spec", "values"]) else { return };
        let lookup = |prefix: &str, alias: &str| {
            annotations
                .iter()
                .find(|(k, _)| k.strip_prefix(prefix) == Some(alias))
                .map(|(_, v)| v.clone())
        };
        for (key, repo_path) in annotations {
            let Some(alias) = key.strip_prefix(ALIAS_REPOSITORY) else { continue };
            let node = |path: &str| at_path(values, &path.split('.').collect::<Vec<_>>());
            let Some(repo) = node(repo_path) else { continue };
            let registry = lookup(ALIAS_REGISTRY, alias)
                .and_then(|p| node(&p).map(|n| scalar_text(self.source, n)));
            let name = prefixed(registry, scalar_text(self.source, repo));
            self.path = vec![Step::Key("spec".into()), Step::Key("values".into())];
            let tag = lookup(ALIAS_TAG, alias);
            let fields =
                [(repo_path.as_str(), Field::Name), (tag.as_deref().unwrap_or(""), Field::Tag)];
            for (path, field) in fields {
                if let Some(value) = node(path).filter(|_| !path.is_empty()) {
                    self.push(value, field, Some(name.clone()), Some(path), Some(alias));
                }
            }
            self.path.clear();
        }
    }

    fn fields(
        &mut self,
        map: &MarkedYaml,
        fields: &[(&str, Field)],
        image: Option<String>,
        container: Option<&str>,
    ) {
        let YamlData::Mapping(entries) = &map.data else { return };
        for (key, value) in entries {
            let key = scalar_text(self.source, key);
            if let Some((_, field)) = fields.iter().find(|(name, _)| *name == key)
                && matches!(value.data, YamlData::Value(_))
            {
                self.push(value, *field, image.clone(), Some(&key), container);
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
        let Some(mut r) = self.image_ref(node, field, image, None) else { return Ok(()) };
        r.policy = Some(PolicyRef::ImagePolicy(policy.to_owned()));
        self.refs.push(r);
        Ok(())
    }

    fn marker_error(&self, at: usize, reference: &str) -> Error {
        Error::Marker { line: self.source.line_of(at), marker: reference.to_owned() }
    }

    /// Records a value found by a rule; `container` picks its Flux v1 annotation policy.
    fn push(
        &mut self,
        node: &MarkedYaml,
        field: Field,
        image: Option<String>,
        key: Option<&str>,
        container: Option<&str>,
    ) {
        if let Some(mut r) = self.image_ref(node, field, image, key) {
            r.policy = container
                .and_then(|c| self.policies.get(c))
                .map(|p| PolicyRef::Annotation(p.clone()));
            self.refs.push(r);
        }
    }

    fn image_ref(
        &self,
        node: &MarkedYaml,
        field: Field,
        image: Option<String>,
        key: Option<&str>,
    ) -> Option<ImageRef> {
        let span = self.source.scalar_span(node)?;
        let mut path = render_path(&self.path);
        if let Some(key) = key {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        }
        Some(ImageRef {
            field,
            image,
            value: scalar_text(self.source, node),
            span,
            path,
            document: self.document,
            policy: None,
        })
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

/// A mapping's value for a string key.
fn entry<'n, 'i>(map: &'n MarkedYaml<'i>, key: &str) -> Option<&'n MarkedYaml<'i>> {
    let YamlData::Mapping(entries) = &map.data else { return None };
    entries
        .iter()
        .find(|(k, _)| matches!(&k.data, YamlData::Value(Scalar::String(s)) if s == key))
        .map(|(_, v)| v)
}

/// The node at a path of string keys.
fn at_path<'n, 'i>(node: &'n MarkedYaml<'i>, path: &[&str]) -> Option<&'n MarkedYaml<'i>> {
    path.iter().try_fold(node, |node, key| entry(node, key))
}

/// A mapping's scalar value for a key as text, if it has a non-null one.
fn child(source: &Source, map: &MarkedYaml, key: &str) -> Option<String> {
    entry(map, key).and_then(|v| match &v.data {
        YamlData::Value(Scalar::Null) => None,
        YamlData::Value(_) => Some(scalar_text(source, v)),
        _ => None,
    })
}

/// `registry/name`, or `name` without a registry.
fn prefixed(registry: Option<String>, name: String) -> String {
    match registry {
        Some(registry) if !registry.is_empty() => format!("{registry}/{name}"),
        _ => name,
    }
}

/// A document's `metadata.annotations` with string values.
fn annotations(source: &Source, doc: &MarkedYaml) -> Vec<(String, String)> {
    let Some(YamlData::Mapping(map)) = at_path(doc, &["metadata", "annotations"]).map(|n| &n.data)
    else {
        return Vec::new();
    };
    map.iter()
        .filter(|(_, v)| matches!(v.data, YamlData::Value(_)))
        .map(|(k, v)| (scalar_text(source, k), scalar_text(source, v)))
        .collect()
}

/// Which scopes a document is in, indexed by `Scope as usize`.
fn scopes_of(doc: &MarkedYaml) -> [bool; 4] {
    let field = |key: &str| match entry(doc, key).map(|n| &n.data) {
        Some(YamlData::Value(Scalar::String(v))) => Some(v.to_string()),
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
