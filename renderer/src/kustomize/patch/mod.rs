//! Patches: strategic merge and JSON 6902.

pub mod json6902;
pub mod strategic_merge;

/// A patch that could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The patch is not shaped as its kind of patch requires.
    #[error("invalid patch: {0}")]
    Invalid(String),
    /// A JSON 6902 operation failed.
    #[error("operation {index} ({op} {path}): {message}")]
    Operation {
        /// Position of the operation in the patch.
        index: usize,
        /// The op.
        op: String,
        /// The JSON pointer.
        path: String,
        /// What went wrong.
        message: String,
    },
}
