//! `namePrefix:` and `nameSuffix:`.

use crate::kustomize::kustomization::UserFieldSpec;
use crate::kustomize::transform::images;
use crate::kustomize::{config, fieldspec};
use crate::resource::{Resource, Step};
use crate::value::Value;
use crate::yaml::resolve::resolve_plain;

/// Fields besides `metadata.name` that `configurations` name: prefix fields
/// and suffix fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtraFields<'a> {
    /// `namePrefix` field specs.
    pub prefix: &'a [UserFieldSpec],
    /// `nameSuffix` field specs.
    pub suffix: &'a [UserFieldSpec],
    /// A plugin config's own field specs: only objects that one with path
    /// `metadata/name` selects are renamed (`None`: every object).
    pub names: Option<&'a [UserFieldSpec]>,
    /// Whether the specs are kustomize's merged transformer configuration,
    /// sorted by group, version and kind (see [`affix_one`]); a plugin
    /// config's own specs keep their order, the name first.
    pub sorted: bool,
}

/// Adds a prefix and a suffix to every name, except the kinds kustomize
/// leaves alone: CustomResourceDefinitions, APIServices and Namespaces, whose
/// names are fixed by the API.
///
/// A field spec that meets a list or a map where the name is, or a scalar
/// on its way, fails as in kustomize.
pub fn apply(
    resources: &mut [Resource],
    prefix: &str,
    suffix: &str,
    extra: ExtraFields<'_>,
) -> Result<(), String> {
    if prefix.is_empty() && suffix.is_empty() {
        return Ok(());
    }
    // kustomize's PrefixTransformer runs over every object, then its
    // SuffixTransformer: an error of the second pass comes after every
    // object went through the first.
    for (pass, add) in [("prefixes", (prefix, "")), ("suffixes", ("", suffix))] {
        if add == ("", "") {
            continue;
        }
        let specs = if add.0.is_empty() { extra.suffix } else { extra.prefix };
        for r in resources.iter_mut() {
            affix_one(r, add, pass, specs, extra)?;
        }
    }
    Ok(())
}

/// Where the walk of `path` in `r` finds a null the object has.
fn null_slots(r: &mut Resource, path: &str) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    // A failing walk fails again, with its words, when it writes.
    let _ = fieldspec::visit_checked_node(&mut r.value, path, false, &mut |at, slot| {
        if slot.is_null() {
            out.push(at.to_vec());
        }
    });
    out
}

/// Adds one affix (`add`: the prefix, or the suffix) to one object: its
/// name, and the fields `specs` name. With `extra.sorted`, the specs are
/// kustomize's merged configuration, which holds the built-in
/// `metadata/name` spec too and is sorted by group, version and kind
/// (`Gvk.IsLessThan`): kustomize walks them in that order, renaming the
/// object where the name's spec comes, so a spec sorted before it fails
/// with the object's old name.
fn affix_one(
    r: &mut Resource,
    add: (&str, &str),
    pass: &str,
    specs: &[UserFieldSpec],
    extra: ExtraFields<'_>,
) -> Result<(), String> {
    let gvk = r.gvk();
    // kustomize skips these kinds by the kind an object was loaded with.
    let orig = &r.orig_id.gvk;
    let skip = matches!(
        (orig.group.as_str(), orig.kind.as_str()),
        (_, "CustomResourceDefinition")
            | ("apiregistration.k8s.io", "APIService")
            | (_, "Namespace")
    );
    if skip {
        return Ok(());
    }
    let selected = extra
        .names
        .is_none_or(|specs| specs.iter().any(|s| s.path == "metadata/name" && s.matches(&gvk)));
    // Each field spec stands alone: an object whose name no spec selects
    // still gets the affix in its other fields. A `configurations` spec for
    // `metadata/name` takes the place of the built-in one, which names every
    // kind (kustomize merges the built-in specs into the user's and drops one
    // a user spec for the same path already covers).
    let renames = {
        let mut own = specs.iter().filter(|s| s.path == "metadata/name").peekable();
        own.peek().is_none() || own.any(|s| s.matches(&gvk))
    };
    let rename = selected && renames;
    // The field specs in the order kustomize walks them, `None` standing for
    // the name.
    let mut order: Vec<Option<&UserFieldSpec>> = vec![None];
    order.extend(specs.iter().filter(|s| s.matches(&gvk) && s.path != "metadata/name").map(Some));
    if extra.sorted {
        order.sort_by_cached_key(|s| match s {
            None => config::gvk_order(None, None, None),
            Some(s) => {
                config::gvk_order(s.group.as_deref(), s.version.as_deref(), s.kind.as_deref())
            }
        });
    }
    let mut written = Vec::new();
    for spec in order {
        let Some(spec) = spec else {
            if rename {
                r.note_added(&format!("internal.config.kubernetes.io/{pass}"));
                r.set_name(format!("{}{}{}", add.0, r.name(), add.1));
                if add.0.is_empty() {
                    r.affixes.1.push(add.1.to_string());
                } else {
                    r.affixes.0.push(add.0.to_string());
                }
                // The name is a new node (see [`Resource::written`]).
                images::record(
                    &mut r.written,
                    &[Step::Key("metadata".into()), Step::Key("name".into())],
                );
            }
            continue;
        };
        // kyaml puts a new node without a tag in the old one's style: the
        // affixed text of a scalar (`1`, `true`, `1.50`, `~` as written) is
        // read by its looks unless the old node was quoted (prefix `1` on
        // `2` is the number 12, on `"2"` the string "12").
        let existing_nulls = if spec.create { null_slots(r, &spec.path) } else { Vec::new() };
        let texts = std::mem::take(&mut r.scalar_texts);
        let quoted = std::mem::take(&mut r.quoted);
        let walked = fieldspec::set_scalars(r, &spec.path, spec.create, &mut |at, slot| {
            // Whether the old node was plain (a string that reads as
            // something else was quoted).
            let (text, plain) = match &mut *slot {
                Value::Seq(_) | Value::Map(_) => return,
                // A field the spec creates starts out empty.
                Value::Null if spec.create && !existing_nulls.iter().any(|n| n == at) => {
                    (String::new(), true)
                }
                Value::String(v) => {
                    let v = std::mem::take(v);
                    let plain = matches!(resolve_plain(&v), Value::String(_));
                    (v, plain)
                }
                other => {
                    (crate::resource::scalar_text(other, at, &texts).unwrap_or_default(), true)
                }
            };
            let text = format!("{}{text}{}", add.0, add.1);
            *slot = if plain && !quoted.iter().any(|q| q == at) {
                resolve_plain(&text)
            } else {
                Value::String(text)
            };
            written.push(at.to_vec());
        });
        r.quoted = quoted;
        r.scalar_texts = texts;
        for at in written.drain(..) {
            images::record(&mut r.written, &at);
        }
        walked?;
    }
    Ok(())
}
