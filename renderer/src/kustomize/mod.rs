//! A native kustomize engine: `kustomize build` over a [`Tree`](crate::tree::Tree).
//!
//! [`build`] reads the kustomization in a directory, accumulates its
//! resources (recursively building bases), components, generators and
//! transformers in kustomize's order, then appends content hashes, fixes
//! name references and sorts the result the way `kubectl kustomize` does.

mod build;
pub mod config;
pub mod fieldspec;
pub mod generate;
mod helm_charts;
pub mod kustomization;
pub mod order;
pub mod patch;
pub mod plugin;
pub mod select;
pub mod transform;
pub mod validators;
mod ynode;

pub use build::build;

/// Whether files outside a kustomization's directory may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadRestrictor {
    /// Files must be in or below the kustomization's directory (kustomize's default).
    #[default]
    RootOnly,
    /// Any file inside the tree may be read.
    None,
}

/// Knobs of a build.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--load-restrictor`.
    pub load_restrictor: LoadRestrictor,
    /// `--helm-kube-version`: the Kubernetes version of `helmCharts` entries
    /// that set no `kubeVersion`.
    pub helm_kube_version: Option<String>,
    /// `--helm-api-versions`: the API versions of `helmCharts` entries that
    /// set no `apiVersions`.
    pub helm_api_versions: Vec<String>,
}

/// A build that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error(transparent)]
    Tree(#[from] crate::tree::Error),
    /// A file is not valid YAML: its position, then the problem in the
    /// words of Go's YAML packages, as kustomize reports it (the parser's
    /// own words are not repeated as a source).
    #[error("{}:{}:{}: MalformedYAMLError: {}", .0.file, .0.line, .0.column, .0.go_message())]
    Yaml(crate::yaml::ParseError),
    /// A kustomization or resource is not what kustomize accepts.
    #[error("{file}: {message}")]
    Invalid {
        /// The file at fault.
        file: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A kustomize feature kiln does not implement yet.
    #[error("{file}: not supported yet: {field}")]
    Unsupported {
        /// The kustomization file.
        file: String,
        /// The field.
        field: String,
    },
    /// A patch could not be applied.
    #[error("{file}: patch on {target}")]
    Patch {
        /// The kustomization or patch file.
        file: String,
        /// The object being patched.
        target: String,
        /// Why it failed.
        #[source]
        source: Box<patch::Error>,
    },
}

impl From<crate::yaml::ParseError> for Error {
    fn from(e: crate::yaml::ParseError) -> Error {
        Error::Yaml(e)
    }
}
