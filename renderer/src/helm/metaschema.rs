//! The check Helm makes of `values.schema.json` itself before it validates values: the schema against its draft's metaschema.
//!
//! Helm 4's validator (santhosh-tekuri/jsonschema v6) compiles a schema only
//! after validating it against the metaschema its `$schema` names (2020-12
//! when none or an unknown one is named), with `format` asserted (a `pattern`
//! must be a Go regular expression). Its metaschemas for drafts 4, 6 and 7
//! also ask `enum` for at least one item and unique items. The failures are
//! printed as the error tree of a values failure, after a header naming the
//! schema and the metaschema.

use std::sync::OnceLock;

use jsonschema::Draft;

use super::schema::Ctx;

/// The metaschemas as Helm's validator has them. Those of 2019-09 and
/// 2020-12 are bundled into one document each: the vocabularies under
/// `$defs`, their `$ref`s local, and `$recursiveRef`/`$dynamicRef` to the
/// metaschema a `$ref` to its root (which is what they resolve to when a
/// schema is checked against its own draft). Error paths then walk one
/// document, as the error tree needs.
const DRAFT4: &str = include_str!("metaschemas/draft4.json");
const DRAFT6: &str = include_str!("metaschemas/draft6.json");
const DRAFT7: &str = include_str!("metaschemas/draft7.json");
const DRAFT2019: &str = include_str!("metaschemas/draft2019-09.json");
const DRAFT2020: &str = include_str!("metaschemas/draft2020-12.json");

/// A compiled metaschema: the validator and the document its error paths point into.
struct Meta {
    url: &'static str,
    root: serde_json::Value,
    raw: &'static str,
    validator: Option<jsonschema::Validator>,
}

/// The draft Helm's validator reads from a schema's `$schema`: the drafts
/// it knows by URL, with or without `#` and in `http` or `https`; any other
/// (or none) is 2020-12.
pub(super) fn draft_of(schema: &serde_json::Value) -> Draft {
    let named = schema.get("$schema").and_then(serde_json::Value::as_str).unwrap_or_default();
    named_draft(named).unwrap_or(Draft::Draft202012)
}

/// The draft a `$schema` URL names as Helm's validator reads it: the
/// scheme (`http://` or `https://`) may be missing, the fragment is not
/// read (Helm loads the document the URL names).
fn named_draft(named: &str) -> Option<Draft> {
    let url = named.split('#').next().unwrap_or_default();
    let url = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")).unwrap_or(url);
    match url {
        "json-schema.org/draft-04/schema" => Some(Draft::Draft4),
        "json-schema.org/draft-06/schema" => Some(Draft::Draft6),
        "json-schema.org/draft-07/schema" => Some(Draft::Draft7),
        "json-schema.org/draft/2019-09/schema" => Some(Draft::Draft201909),
        "json-schema.org/draft/2020-12/schema" | "json-schema.org/schema" => {
            Some(Draft::Draft202012)
        }
        _ => None,
    }
}

/// Whether a `$schema` URL names a draft without being loaded.
pub(super) fn names_draft(named: &str) -> bool {
    named_draft(named).is_some()
}

/// The URL of `draft`'s metaschema.
pub(super) fn url_of(draft: Draft) -> &'static str {
    match draft {
        Draft::Draft4 => "http://json-schema.org/draft-04/schema#",
        Draft::Draft6 => "http://json-schema.org/draft-06/schema#",
        Draft::Draft7 => "http://json-schema.org/draft-07/schema#",
        Draft::Draft201909 => "https://json-schema.org/draft/2019-09/schema#",
        _ => "https://json-schema.org/draft/2020-12/schema#",
    }
}

/// The metaschema of `draft`, compiled once per process.
fn meta(draft: Draft) -> &'static Meta {
    static METAS: [OnceLock<Meta>; 5] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let url = url_of(draft);
    let (slot, raw) = match draft {
        Draft::Draft4 => (0, DRAFT4),
        Draft::Draft6 => (1, DRAFT6),
        Draft::Draft7 => (2, DRAFT7),
        Draft::Draft201909 => (3, DRAFT2019),
        _ => (4, DRAFT2020),
    };
    METAS[slot].get_or_init(|| {
        let mut root: serde_json::Value =
            serde_json::from_str(raw).expect("the embedded metaschemas are JSON");
        // Without its id, the document's `#` references reach this copy,
        // not the validator's own metaschema.
        if let Some(obj) = root.as_object_mut() {
            obj.remove("$id");
            obj.remove("id");
        }
        let validator = super::schema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .build(&root)
            .ok();
        Meta { url, root, raw, validator }
    })
}

/// The report Helm gives when `schema` breaks its draft's metaschema:
/// the header and the error tree's lines; `None` when it does not.
pub(super) fn check(schema: &serde_json::Value) -> Option<String> {
    let meta = meta(draft_of(schema));
    let validator = meta.validator.as_ref()?;
    if validator.is_valid(schema) {
        return None;
    }
    let ctx = Ctx::new(&meta.root, meta.raw, schema);
    let lines = ctx.report(validator.iter_errors(schema), false, Vec::new());
    Some(format!(
        "\"file:///values.schema.json#\" is not valid against metaschema: jsonschema validation failed with '{}'\n{}",
        meta.url,
        lines.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::{Draft, check, draft_of, meta};

    /// A bundled metaschema the validator cannot build would turn the check
    /// off without a word (`check` answers `None`), so each must build and
    /// refuse a schema that breaks it.
    #[test]
    fn every_bundled_metaschema_builds_and_checks() {
        let drafts = [
            ("http://json-schema.org/draft-04/schema#", Draft::Draft4),
            ("http://json-schema.org/draft-06/schema#", Draft::Draft6),
            ("http://json-schema.org/draft-07/schema#", Draft::Draft7),
            ("https://json-schema.org/draft/2019-09/schema", Draft::Draft201909),
            ("https://json-schema.org/draft/2020-12/schema", Draft::Draft202012),
        ];
        for (url, draft) in drafts {
            assert!(meta(draft).validator.is_some(), "{url}: the metaschema does not build");
            let good = serde_json::json!({ "$schema": url, "type": "object", "minLength": 1 });
            assert_eq!(check(&good), None, "{url}");
            let bad = serde_json::json!({ "$schema": url, "type": 5, "minLength": -1 });
            let report = check(&bad).unwrap_or_default();
            assert!(report.contains("is not valid against metaschema"), "{url}: {report}");
            assert!(report.contains(url.trim_end_matches('#')), "{url}: {report}");
        }
    }

    #[test]
    fn drafts_are_read_as_helms_validator_reads_them() {
        let cases = [
            ("http://json-schema.org/draft-07/schema#", Draft::Draft7),
            ("https://json-schema.org/draft-07/schema", Draft::Draft7),
            ("http://json-schema.org/draft-04/schema#", Draft::Draft4),
            ("http://json-schema.org/draft-06/schema", Draft::Draft6),
            ("https://json-schema.org/draft/2019-09/schema", Draft::Draft201909),
            ("https://json-schema.org/draft/2020-12/schema", Draft::Draft202012),
            ("http://json-schema.org/schema#", Draft::Draft202012),
            // Helm's validator also takes the URL without its scheme.
            ("json-schema.org/draft-07/schema", Draft::Draft7),
            ("json-schema.org/draft-04/schema#", Draft::Draft4),
        ];
        for (url, want) in cases {
            assert_eq!(draft_of(&serde_json::json!({ "$schema": url })), want, "{url}");
        }
        assert_eq!(draft_of(&serde_json::json!({})), Draft::Draft202012);
    }
}
