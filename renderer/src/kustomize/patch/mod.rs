//! Patches: strategic merge and JSON 6902, as pure functions on [`Value`](crate::value::Value).
//!
//! Both follow what `kubectl kustomize` (kustomize v5.5) does, which is not
//! always what the Kubernetes API server does: see the module docs of
//! [`strategic_merge`] for the differences that were measured.

pub mod json6902;
mod landing;
mod schema;

pub use landing::Landing;
pub(crate) use schema::DEFINITIONS_REF;
pub(crate) use schema::scope_known_without_schema;
pub use schema::{FieldComment, OpenApi};
pub mod strategic_merge;

/// A patch that could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A strategic merge patch document is not a map.
    #[error("strategic merge patch is a {got}, not a map")]
    PatchNotMap {
        /// The type the document has.
        got: &'static str,
    },
    /// The patch and the target disagree on the shape of a field: kyaml's
    /// merge names the kinds and shows the patch's node.
    #[error(
        "wrong node kind: expected {expected}Node but got {got}Node: node contents:\n{contents}"
    )]
    WrongKind {
        /// Dotted path of the field.
        path: String,
        /// The shape the target (or the first source that has one) gives.
        expected: &'static str,
        /// The shape found in the other source.
        got: &'static str,
        /// The node, as YAML.
        contents: String,
        /// The node.
        node: Box<crate::value::Value>,
        /// Whose text wrote the node, for its styles.
        origin: Origin,
    },
    /// A map with an empty key, which kyaml's merge walk reads as the map
    /// itself where it wants the key's value.
    #[error("wrong node kind: expected ScalarNode but got MappingNode: node contents:\n{contents}")]
    EmptyKey {
        /// The map, as YAML.
        contents: String,
        /// The map.
        node: Box<crate::value::Value>,
    },
    /// A `$patch` directive with a value other than `delete`, `replace` or `merge`.
    #[error("unknown patch strategy '{strategy}' at {path}")]
    UnknownStrategy {
        /// Dotted path of the map that holds the directive.
        path: String,
        /// The value found.
        strategy: String,
    },
    /// An `openapi:` schema file that is not a schema.
    #[error("openapi schema {file}: {message}")]
    Schema {
        /// The schema file.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// A JSON 6902 patch that is not a sequence of operations.
    #[error("json patch is a {got}, not a sequence of operations")]
    OpsNotSeq {
        /// The type the document has.
        got: &'static str,
    },
    /// A JSON 6902 patch made the whole document a list, which kustomize
    /// cannot read back as an object.
    #[error("json: cannot unmarshal array into Go value of type map[string]interface {{}}")]
    DocumentIsList,
    /// A number of a patch written as JSON that float64 cannot hold
    /// (`1e400`) is in the patched object: kustomize's library copies the
    /// number's text into the object's JSON, which Go's decoder then
    /// refuses as kustomize reads the object back.
    #[error("json: cannot unmarshal number {number} into Go value of type float64")]
    NumberOutOfRange {
        /// The number as the patch writes it.
        number: String,
    },
    /// One JSON 6902 operation failed.
    #[error("{reason}")]
    Operation {
        /// 0-based position of the operation in the patch.
        index: usize,
        /// The `op` field, or `?` when missing.
        op: String,
        /// The `path` field.
        path: String,
        /// What went wrong, in the words of kustomize's JSON patch
        /// library (which name the operation and path themselves).
        reason: String,
    },
}

/// Where the node of a kind mismatch comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// The patch.
    Patch,
    /// The target.
    Target,
    /// The target's node `target` with the patch's node `patch` merged
    /// into it (kyaml merges in place, so the target's styles stay).
    Merged {
        /// The target's part.
        target: Box<crate::value::Value>,
        /// The patch's part.
        patch: Box<crate::value::Value>,
    },
}

impl Error {
    /// Shows the node of a kind mismatch (see [`Origin`]) or of an empty
    /// key (a map of the target) as kyaml prints it, in the styles its text
    /// wrote it in: `patch` and `target` are the styles of their texts.
    pub(crate) fn restyle(
        &mut self,
        patch: Option<&crate::yaml::Styled>,
        target: Option<&crate::yaml::Styled>,
    ) {
        let find = |styles: Option<&crate::yaml::Styled>, v: &crate::value::Value| {
            styles.and_then(|s| s.find(v)).cloned()
        };
        let (node, contents, found) = match self {
            Error::WrongKind { node, contents, origin: Origin::Patch, .. } => {
                let found = find(patch, node);
                (node, contents, found)
            }
            Error::WrongKind { node, contents, origin: Origin::Target, .. }
            | Error::EmptyKey { node, contents } => {
                let found = find(target, node);
                (node, contents, found)
            }
            Error::WrongKind {
                node,
                contents,
                origin: Origin::Merged { target: t, patch: p },
                ..
            } => {
                let found = match (find(target, t), find(patch, p)) {
                    (Some(mut t), Some(p)) => {
                        t.merge(&p);
                        Some(t)
                    }
                    (t, p) => t.or(p),
                };
                (node, contents, found)
            }
            _ => return,
        };
        if let Some(found) = found {
            *contents = crate::yaml::node_to_string_styled(node, Some(&found));
        }
    }
}
