//! Byte-preserving rewrites of image references in YAML text.
//!
//! [`find`] lists every place a YAML file names an image: kustomize `images:`
//! entries, container `image:` fields, HelmRelease values and Flux setter
//! markers (`# {"$imagepolicy": "ns:policy"}`, with `:tag`, `:name` or
//! `:digest`). [`apply`] replaces the bytes of chosen values and nothing else:
//! comments, indentation, quoting, key order, anchors, `---` and line endings
//! survive. Where the fields live is a table of paths (`RULES` in
//! `rewrite/locate.rs`), not code.
//!
//! A value keeps its quoting style. A plain value is written plain when YAML
//! would read the new text back as the same string; otherwise (a tag like
//! `1.20` that would read as a number, or text with YAML indicators) it is
//! double-quoted, the smallest change that keeps the data right.
//!
//! Not rewritten, and so not listed: aliases (`image: *img`; the anchor's
//! own value is listed where a rule or marker finds it), block scalars and
//! empty values.

mod locate;

use std::ops::Range;

use saphyr::{LoadableYamlNode, MarkedYaml};

use locate::Source;

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
    /// The policy that governs the value, where the file names one.
    pub policy: Option<PolicyRef>,
}

/// Where a file names the policy for a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRef {
    /// A Flux setter marker naming an `ImagePolicy` as `namespace:name`.
    ImagePolicy(String),
    /// A Flux v1 annotation's policy text, such as `semver:~1.0` or `glob:*`
    /// (see [`crate::Policy`]), from `fluxcd.io/tag.<container>`,
    /// `flux.weave.works/tag.<container>` or `filter.fluxcd.io/<container>`.
    Annotation(String),
}

/// A replacement for one value that [`find`] reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The value's span, as in [`ImageRef::span`].
    pub span: Range<usize>,
    /// The new value, unquoted.
    pub value: String,
}

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
        locate::document(&source, document, doc, &mut refs)?;
    }
    refs.sort_by_key(|r| r.span.start);
    // A value found twice (by a rule and a marker, or a rule and a Flux v1
    // alias) is one value; a marker's policy, on the line itself, wins.
    let mut merged: Vec<ImageRef> = Vec::with_capacity(refs.len());
    for r in refs {
        match merged.last_mut() {
            Some(last) if last.span == r.span => {
                if matches!(r.policy, Some(PolicyRef::ImagePolicy(_))) || last.policy.is_none() {
                    last.policy = r.policy;
                }
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
    // However a file writes the image, its last path component is in the
    // text; most files of a repository can be passed over without parsing.
    let last = image.rsplit('/').next().unwrap_or(image);
    if !text.contains(last) {
        return Ok(None);
    }
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

#[derive(Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
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
