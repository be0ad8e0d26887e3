//! A native kustomize engine: `kustomize build` over a [`Tree`](crate::tree::Tree).
//!
//! [`build`] reads the kustomization in a directory, accumulates its
//! resources (recursively building bases), components, generators and
//! transformers in kustomize's order, then appends content hashes, fixes
//! name references and sorts the result the way `kubectl kustomize` does.

mod build;
pub(crate) mod build_annotations;
pub mod config;
mod default_config;
pub mod fieldspec;
pub mod generate;
mod go_decode;
mod go_dump;
mod go_sort;
mod helm_charts;
pub mod kustomization;
pub mod order;
pub mod patch;
pub mod plugin;
pub mod select;
pub mod transform;
pub mod validators;
mod yaml_v2_decode;
pub(crate) mod ynode;

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
    #[error(
        "{}:{}:{}: MalformedYAMLError: {} in File: {}",
        .0.file, .0.line, .0.column, .0.go_message(), .0.file
    )]
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

impl Error {
    /// The error in two parts: what kiln names first (the file, with line
    /// and column where known) and the problem in kustomize's words.
    fn parts(&self) -> (String, String) {
        match self {
            Error::Tree(e) => match e {
                crate::tree::Error::NotFound { path } => {
                    (path.clone(), "no such file or directory".into())
                }
                crate::tree::Error::Escapes { path } => (
                    path.clone(),
                    "path leaves the root of the tree (no such file or directory below it)".into(),
                ),
                crate::tree::Error::Io { path, message } => (path.clone(), message.clone()),
            },
            Error::Yaml(e) => (
                if e.line == 0 {
                    e.file.clone()
                } else {
                    format!("{}:{}:{}", e.file, e.line, e.column)
                },
                format!("MalformedYAMLError: {} in File: {}", e.go_message(), e.file),
            ),
            Error::Invalid { file, message } => (file.clone(), message.clone()),
            Error::Unsupported { file, field } => {
                (file.clone(), format!("not supported yet: {field}"))
            }
            // kustomize names neither the patch nor its target here.
            Error::Patch { file, target, source } => {
                let mut message = source.to_string();
                let mut inner = std::error::Error::source(source.as_ref());
                while let Some(e) = inner {
                    message.push_str(&format!(": {e}"));
                    inner = e.source();
                }
                (format!("{file}: patch on {target}"), message)
            }
        }
    }

    /// The file kiln names first, with line and column where known.
    pub(crate) fn file(&self) -> String {
        self.parts().0
    }

    /// A YAML error's message in Go's words.
    pub(crate) fn go_message(&self) -> String {
        match self {
            Error::Yaml(e) => e.go_message(),
            other => other.kustomize_text(),
        }
    }

    /// The problem in kustomize's words, without the file kiln names first.
    pub(crate) fn kustomize_text(&self) -> String {
        self.parts().1
    }

    /// This error inside one of kustomize's layers (`accumulating
    /// resources`, `recursed accumulation of path '...'`): kustomize's
    /// text gets `layer: ` in front, and the file kiln names stays first,
    /// so kustomize's whole message reads unbroken after it.
    pub(crate) fn within(self, layer: impl std::fmt::Display) -> Error {
        let (file, message) = self.parts();
        Error::Invalid { file, message: format!("{layer}: {message}") }
    }
}

impl From<crate::yaml::ParseError> for Error {
    fn from(e: crate::yaml::ParseError) -> Error {
        Error::Yaml(e)
    }
}
