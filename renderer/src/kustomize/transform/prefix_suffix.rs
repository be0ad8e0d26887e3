//! `namePrefix:` and `nameSuffix:`.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::UserFieldSpec;
use crate::kustomize::transform::images;
use crate::resource::{Resource, Step};
use crate::value::Value;

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
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        // kustomize skips these kinds by the kind an object was loaded with.
        let orig = &r.orig_id.gvk;
        let skip = matches!(
            (orig.group.as_str(), orig.kind.as_str()),
            (_, "CustomResourceDefinition")
                | ("apiregistration.k8s.io", "APIService")
                | (_, "Namespace")
        );
        let selected = extra
            .names
            .is_none_or(|specs| specs.iter().any(|s| s.path == "metadata/name" && s.matches(&gvk)));
        if skip {
            continue;
        }
        // Each field spec stands alone: an object whose name no spec selects
        // still gets the prefix and suffix in its other fields. A
        // `configurations` spec for `metadata/name` takes the place of the
        // built-in one, which names every kind (kustomize merges the built-in
        // specs into the user's and drops one a user spec for the same path
        // already covers).
        let renames = |specs: &[UserFieldSpec]| {
            let mut own = specs.iter().filter(|s| s.path == "metadata/name").peekable();
            own.peek().is_none() || own.any(|s| s.matches(&gvk))
        };
        let p = if selected && renames(extra.prefix) { prefix } else { "" };
        let s = if selected && renames(extra.suffix) { suffix } else { "" };
        if !p.is_empty() || !s.is_empty() {
            for (affix, key) in [(p, "prefixes"), (s, "suffixes")] {
                if !affix.is_empty() {
                    r.note_added(&format!("internal.config.kubernetes.io/{key}"));
                }
            }
            // kustomize adds the prefix, then the suffix: two renames.
            if !p.is_empty() && !s.is_empty() {
                r.set_name(format!("{p}{}", r.name()));
            }
            let name = format!("{}{s}", r.name());
            let name = if s.is_empty() { format!("{p}{name}") } else { name };
            r.set_name(name);
            // The name is a new node (see [`Resource::written`]).
            images::record(
                &mut r.written,
                &[Step::Key("metadata".into()), Step::Key("name".into())],
            );
        }
        for (specs, add) in [(extra.prefix, (prefix, "")), (extra.suffix, ("", suffix))] {
            if add == ("", "") {
                continue;
            }
            let mut written = Vec::new();
            for spec in specs.iter().filter(|s| s.matches(&gvk) && s.path != "metadata/name") {
                fieldspec::set_scalars(r, &spec.path, spec.create, &mut |at, slot| match slot {
                    Value::String(v) => {
                        *v = format!("{}{v}{}", add.0, add.1);
                        written.push(at.to_vec());
                    }
                    // A field the spec creates starts out empty.
                    Value::Null if spec.create => {
                        *slot = Value::String(format!("{}{}", add.0, add.1));
                        written.push(at.to_vec());
                    }
                    _ => {}
                })?;
            }
            for at in &written {
                images::record(&mut r.written, at);
            }
        }
    }
    Ok(())
}
