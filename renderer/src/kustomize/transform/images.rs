//! `images:`: rewrites container images by name.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::{Image, UserFieldSpec};
use crate::resource::{NodeTexts, Resource, Step, retext};
use crate::value::Value;
use regex::Regex;

/// An image reference split into name, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Everything before the tag and digest.
    pub name: &'a str,
    /// The tag, without `:`.
    pub tag: Option<&'a str>,
    /// The digest, without `@`.
    pub digest: Option<&'a str>,
}

/// Splits `registry/repo:tag@digest` the way kustomize does: the tag and
/// digest separators are looked for from the first `/` on (so a registry
/// port is part of the name), the first `@` and the first `:` after it.
pub fn split(image: &str) -> ImageRef<'_> {
    let from = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[from..];
    let at = search.find('@').map(|i| i + from);
    let colon = search.find(':').map(|i| i + from);
    match (colon, at) {
        (None, None) => ImageRef { name: image, tag: None, digest: None },
        (Some(c), Some(a)) if c < a => ImageRef {
            name: &image[..c],
            tag: Some(&image[c + 1..a]),
            digest: Some(&image[a + 1..]),
        },
        (_, Some(a)) => ImageRef { name: &image[..a], tag: None, digest: Some(&image[a + 1..]) },
        (Some(c), None) => ImageRef { name: &image[..c], tag: Some(&image[c + 1..]), digest: None },
    }
}

/// One `images` entry ready to match: kustomize reads the entry's name as
/// the start of a regular expression, followed by an optional tag and digest.
struct Rule<'a> {
    pattern: Pattern<'a>,
    image: &'a Image,
}

/// How a rule's name matches.
enum Pattern<'a> {
    /// A name of letters, digits and `/_-:@` with `.` for any character
    /// but a line break: a fixed-length expression, matched without
    /// compiling one (compiling cost more than a small render).
    Plain(&'a str),
    /// Any other name, compiled as kustomize compiles it.
    Regex(Regex),
    /// A name that is no valid expression matches nothing.
    Invalid,
}

/// The characters of a tag or digest in kustomize's image pattern.
fn tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '{' | '}' | '-')
}

impl Pattern<'_> {
    fn is_match(&self, value: &str) -> bool {
        match self {
            Pattern::Plain(name) => {
                let mut chars = value.chars();
                for p in name.chars() {
                    match chars.next() {
                        Some(c) if c == p || (p == '.' && c != '\n') => {}
                        _ => return false,
                    }
                }
                // `(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`
                let mut rest = chars.as_str();
                if let Some(tag) = rest.strip_prefix(':') {
                    rest = &tag[tag.find(|c| !tag_char(c)).unwrap_or(tag.len())..];
                }
                match rest.strip_prefix("@sha256:") {
                    Some(digest) => digest.chars().all(tag_char),
                    None => rest.is_empty(),
                }
            }
            Pattern::Regex(re) => re.is_match(value),
            Pattern::Invalid => false,
        }
    }
}

impl<'a> Rule<'a> {
    fn new(image: &'a Image) -> Rule<'a> {
        let plain = image
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | ':' | '@' | '.'));
        let pattern = if plain {
            Pattern::Plain(&image.name)
        } else {
            Regex::new(&format!(
                "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
                image.name
            ))
            .map_or(Pattern::Invalid, Pattern::Regex)
        };
        Rule { pattern, image }
    }

    /// The new reference for `value`, or `None` when the rule does not name it.
    fn rewrite(&self, value: &str) -> Option<String> {
        if !self.pattern.is_match(value) {
            return None;
        }
        let r = split(value);
        let rule = self.image;
        // kustomize tests each new part against "": an empty one is unset.
        fn given(part: &Option<String>) -> Option<&str> {
            part.as_deref().filter(|p| !p.is_empty())
        }
        let mut out = given(&rule.new_name).unwrap_or(r.name).to_string();
        let suffixed: String;
        let (tag, digest) = match (given(&rule.new_tag), given(&rule.digest)) {
            (Some(t), Some(d)) => (Some(t), Some(d)),
            (Some(t), None) => (Some(t), None),
            (None, Some(d)) => (None, Some(d)),
            // kubectl v5.5 drops the digest when it appends a tag suffix.
            (None, None) => match rule.tag_suffix.as_deref().filter(|s| !s.is_empty()) {
                Some(suffix) => {
                    suffixed = format!("{}{suffix}", r.tag.unwrap_or(""));
                    (Some(suffixed.as_str()), None)
                }
                None => (r.tag, r.digest),
            },
        };
        if let Some(t) = tag.filter(|t| !t.is_empty()) {
            out.push(':');
            out.push_str(t);
        }
        if let Some(d) = digest.filter(|d| !d.is_empty()) {
            out.push('@');
            out.push_str(d);
        }
        Some(out)
    }
}

/// The new reference for `image` under `rule`, or `None` when the rule does
/// not name this image.
pub fn rewrite(image: &str, rule: &Image) -> Option<String> {
    Rule::new(rule).rewrite(image)
}

/// Rewrites the image `slot` at `at` when the rule names it; whether it did
/// (the field is then written, see [`Resource::written`]). kyaml reads a
/// scalar's text (a number as written: `0x1F`) and sets the new text in the
/// old node's style, so a plain node may read as a number again.
fn rewrite_in_place(slot: &mut Value, at: &[Step], rule: &Rule<'_>, how: NodeTexts<'_>) -> bool {
    let new = match &*slot {
        Value::String(img) => rule.rewrite(img),
        other => how.text(other, at).and_then(|(text, _)| rule.rewrite(&text)),
    };
    let Some(new) = new else { return false };
    let quotes = slot.as_str().is_some_and(|s| how.quoted_string(at, s));
    *slot = retext(new, quotes);
    true
}

/// Notes that the field at `at` was written (once).
pub(crate) use crate::resource::record_path as record;

/// Whether kustomize's image transformers leave the object alone: a
/// CustomResourceDefinition describes containers, it holds none.
fn skipped(r: &Resource) -> bool {
    r.gvk().kind == "CustomResourceDefinition"
}

/// Applies one `images` entry to every `image` of every entry of a
/// `containers` or `initContainers` list, at any depth of every object, as
/// kustomize does. An `image` that is a list or a map there is an error, as
/// in kustomize. kustomize runs the entries one after the other, each over
/// what the ones before it wrote.
pub fn apply(resources: &mut [Resource], image: &Image) -> Result<(), String> {
    let rule = Rule::new(image);
    for r in resources.iter_mut().filter(|r| !skipped(r)) {
        let mut at = Vec::new();
        let how = NodeTexts {
            texts: &r.scalar_texts,
            quoted: &r.quoted,
            rebuilt: r.json_rebuilt.is_some(),
        };
        let mut changed = Vec::new();
        if let Err(node) = visit(&mut r.value, &rule, how, &mut at, &mut changed) {
            return Err(fieldspec::scalar_expected(r, &at, &node));
        }
        changed.iter().for_each(|at| r.note_set_scalar(at));
    }
    Ok(())
}

/// Applies one `images` entry at image fields: an ImageTagTransformer's own
/// field specs, or kustomize's merged `images` list.
pub fn apply_fields(
    resources: &mut [Resource],
    image: &Image,
    specs: &[UserFieldSpec],
) -> Result<(), String> {
    if specs.is_empty() {
        return Ok(());
    }
    let rule = Rule::new(image);
    for r in resources.iter_mut().filter(|r| !skipped(r)) {
        let gvk = r.gvk();
        for spec in specs.iter().filter(|s| s.matches(&gvk)) {
            // kustomize sets scalars only: a list or a map where the path
            // ends fails.
            let mut changed = Vec::new();
            let texts = std::mem::take(&mut r.scalar_texts);
            let quoted = std::mem::take(&mut r.quoted);
            let how =
                NodeTexts { texts: &texts, quoted: &quoted, rebuilt: r.json_rebuilt.is_some() };
            let walked = fieldspec::set_scalars(r, &spec.path, false, &mut |at, slot| {
                if rewrite_in_place(slot, at, &rule, how) {
                    changed.push(at.to_vec());
                }
            });
            r.scalar_texts = texts;
            r.quoted = quoted;
            changed.iter().for_each(|at| r.note_set_scalar(at));
            walked?;
        }
    }
    Ok(())
}

/// `at` is the path of `v`; `written` collects the image fields rewritten.
/// An `image` that is a collection stops the walk: it is the error, and
/// `at` is left as its path.
fn visit(
    v: &mut Value,
    rule: &Rule<'_>,
    how: NodeTexts<'_>,
    at: &mut Vec<Step>,
    written: &mut Vec<Vec<Step>>,
) -> Result<(), Value> {
    match v {
        Value::Map(m) => {
            for (k, child) in m.iter_mut() {
                at.push(Step::Key(k.clone()));
                if k == "containers" || k == "initContainers" {
                    if let Value::Seq(items) = child {
                        for (i, c) in items.iter_mut().enumerate() {
                            let Some(slot) = c.get_path_mut(&["image"]) else { continue };
                            at.extend([Step::Index(i), Step::Key("image".into())]);
                            if let node @ (Value::Seq(_) | Value::Map(_)) = slot {
                                return Err(node.clone());
                            }
                            if rewrite_in_place(slot, at, rule, how) {
                                written.push(at.clone());
                            }
                            at.truncate(at.len() - 2);
                        }
                    }
                }
                visit(child, rule, how, at, written)?;
                at.pop();
            }
        }
        Value::Seq(items) => {
            for (n, i) in items.iter_mut().enumerate() {
                at.push(Step::Index(n));
                visit(i, rule, how, at, written)?;
                at.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names read without compiling an expression match exactly what the
    /// compiled expression matches.
    #[test]
    fn plain_names_match_as_their_expression_does() {
        let names = ["nginx", "registry.example.com/app", "a.b", "", "x:1", "a@b", "my-app_2", "."];
        let values = [
            "nginx",
            "nginx:1.0",
            "nginx:1.0@sha256:abc",
            "nginx@sha256:abc",
            "nginx@sha256:",
            "nginx:",
            "nginx:a:b",
            "nginx:1@sha256:a@b",
            "nginx@sha512:abc",
            "nginxx",
            "ngin",
            "registry.example.com/app:v1",
            "registryXexampleYcom/app",
            "registry\nexample.com/app",
            "aéb",
            "a\nb",
            "a.b:{x}-y_z.1",
            "",
            ":",
            "x:1:2",
            "a@b:3",
            "my-app_2@sha256:x.y",
            "nginx:1 ",
            "nginx:é",
            "é",
            "\n",
        ];
        for name in names {
            let image = Image { name: name.to_string(), ..Image::default() };
            let rule = Rule::new(&image);
            assert!(matches!(rule.pattern, Pattern::Plain(_)), "{name}");
            let re = Regex::new(&format!(
                "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$"
            ))
            .unwrap();
            for value in values {
                assert_eq!(rule.pattern.is_match(value), re.is_match(value), "{name} {value:?}");
            }
        }
        let image = Image { name: "ng(inx".to_string(), ..Image::default() };
        assert!(matches!(Rule::new(&image).pattern, Pattern::Invalid));
        let image = Image { name: "ng.*x".to_string(), ..Image::default() };
        assert!(Rule::new(&image).pattern.is_match("ngabcx:1"));
    }

    #[test]
    fn splits_references() {
        let cases = [
            ("nginx", ("nginx", None, None)),
            ("nginx:1.0", ("nginx", Some("1.0"), None)),
            ("localhost:5000/app:v1", ("localhost:5000/app", Some("v1"), None)),
            ("localhost:5000/app", ("localhost:5000/app", None, None)),
            ("app@sha256:abc", ("app", None, Some("sha256:abc"))),
            ("app:1@sha256:abc", ("app", Some("1"), Some("sha256:abc"))),
        ];
        for (input, (name, tag, digest)) in cases {
            assert_eq!(split(input), ImageRef { name, tag, digest }, "{input}");
        }
    }

    #[test]
    fn rewrites_like_kustomize() {
        let rule = |t: Option<&str>, d: Option<&str>| Image {
            name: "nginx".into(),
            new_name: None,
            new_tag: t.map(Into::into),
            digest: d.map(Into::into),
            tag_suffix: None,
        };
        // Recorded from kubectl kustomize v5.5: tag and digest together give `name:tag@digest`.
        assert_eq!(
            rewrite("nginx:1.0@sha256:abc", &rule(Some("9"), Some("sha256:fff"))).unwrap(),
            "nginx:9@sha256:fff"
        );
        assert_eq!(rewrite("nginx", &rule(Some("9"), None)).unwrap(), "nginx:9");
        assert_eq!(rewrite("docker.io/nginx", &rule(Some("9"), None)), None);
        // A tag suffix applies only without a new tag or digest, and drops the digest.
        let suffix = |t: Option<&str>| Image { tag_suffix: Some("-x".into()), ..rule(t, None) };
        let cases = [
            ("nginx:1", None, "nginx:1-x"),
            ("nginx", None, "nginx:-x"),
            ("nginx:2@sha256:abc", None, "nginx:2-x"),
            ("nginx:1", Some("7"), "nginx:7"),
        ];
        for (image, tag, want) in cases {
            assert_eq!(rewrite(image, &suffix(tag)).unwrap(), want, "{image}");
        }
    }
}
