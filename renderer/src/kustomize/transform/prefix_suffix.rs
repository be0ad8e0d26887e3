//! `namePrefix:` and `nameSuffix:`.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::UserFieldSpec;
use crate::kustomize::transform::images;
use crate::resource::{NodeTexts, Resource, Step, retext};

/// The fields that get the prefix and the suffix: only objects that a spec
/// with path `metadata/name` selects are renamed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtraFields<'a> {
    /// Prefix field specs.
    pub prefix: &'a [UserFieldSpec],
    /// Suffix field specs.
    pub suffix: &'a [UserFieldSpec],
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
            affix_one(r, add, pass, specs)?;
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
/// name, and the fields `specs` name, in the order of `specs` (kustomize's
/// merged configuration comes sorted by group, version and kind,
/// `Gvk.IsLessThan`; a plugin config's specs as listed).
fn affix_one(
    r: &mut Resource,
    add: (&str, &str),
    pass: &str,
    specs: &[UserFieldSpec],
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
    // The field specs in the order kustomize walks them (a plugin config's
    // as listed, the merged configuration's sorted), `None` standing for
    // the name: each spec for the name that selects the object renames it
    // again (`d-s-s` for two), and a spec before the first fails with the
    // object's old name (recorded from `kubectl kustomize`: case 4525).
    // kustomize picks the specs by the kind the object was loaded with (its
    // original id), and a spec then writes only where the object's kind now
    // matches too: a spec for the name that picked an object whose kind a
    // patch changed notes the affix and the identity but leaves the name.
    let orig = r.orig_id.gvk.clone();
    let order = specs
        .iter()
        .filter(|s| s.matches(&orig))
        .map(|s| (s.path != "metadata/name").then_some(s).ok_or(s));
    let mut written = Vec::new();
    for spec in order {
        let spec = match spec {
            Ok(spec) if spec.matches(&gvk) => spec,
            Ok(_) => continue,
            Err(name_spec) => {
                let list = if add.0.is_empty() { &mut r.affixes.1 } else { &mut r.affixes.0 };
                let first = list.is_empty();
                list.push(if add.0.is_empty() { add.1 } else { add.0 }.to_string());
                if first {
                    r.note_added(&format!("internal.config.kubernetes.io/{pass}"));
                }
                // Nor does it create a name where a patch that may change
                // names deleted it: the object stays nameless and fails at
                // the end of the build (case 4692).
                if !name_spec.matches(&gvk) || r.value.get_path(&["metadata", "name"]).is_none() {
                    r.store_previous_id();
                    continue;
                }
                r.set_name(format!("{}{}{}", add.0, r.name(), add.1));
                // The name is a new node (see [`Resource::written`]).
                images::record(
                    &mut r.written,
                    &[Step::Key("metadata".into()), Step::Key("name".into())],
                );
                continue;
            }
        };
        // kyaml puts a new node without a tag in the old one's style: the
        // affixed text of a scalar (`1`, `true`, `1.50`, `~` as written) is
        // read by its looks unless the old node was quoted (prefix `1` on
        // `2` is the number 12, on `"2"` the string "12").
        let existing_nulls = if spec.create { null_slots(r, &spec.path) } else { Vec::new() };
        let texts = std::mem::take(&mut r.scalar_texts);
        let quoted = std::mem::take(&mut r.quoted);
        let how = NodeTexts { texts: &texts, quoted: &quoted, rebuilt: r.json_rebuilt.is_some() };
        let walked = fieldspec::set_scalars(r, &spec.path, spec.create, &mut |at, slot| {
            // The old node's text, and whether it was in quotes; a field
            // the spec creates starts out empty.
            let created = slot.is_null() && spec.create && !existing_nulls.iter().any(|n| n == at);
            let old = if created { Some((String::new(), false)) } else { how.text(slot, at) };
            let Some((text, quotes)) = old else { return };
            *slot = retext(format!("{}{text}{}", add.0, add.1), quotes);
            written.push(at.to_vec());
        });
        r.quoted = quoted;
        r.scalar_texts = texts;
        for at in written.drain(..) {
            r.note_set_scalar(&at);
        }
        walked?;
    }
    Ok(())
}
