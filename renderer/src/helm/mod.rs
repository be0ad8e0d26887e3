//! Helm charts rendered as `helm template` renders them, on the [`crate::gotmpl`] engine.
//!
//! [`template`] loads a chart from a [`Tree`](crate::tree::Tree), builds its
//! values, renders every template and prints the stream `helm template`
//! prints: manifests in Helm's install order, then hooks, each under a
//! `# Source:` comment.

mod archive;
mod capabilities;
pub mod chart;
mod deps;
mod files;
pub mod flag_list;
mod formats;
mod funcs;
mod imports;
mod json_literal;
mod metadata_types;
mod metaschema;
mod order;
mod refcycle;
mod render;
mod schema;
mod strvals;
mod toml;
mod values_type;

pub mod values;

pub use chart::Chart;
pub use funcs::helm_funcs;
pub use render::{render_chart, template};

/// What to render and how: the flags of `helm template`.
#[derive(Debug, Clone)]
pub struct Options {
    /// The release name (`.Release.Name`).
    pub release: String,
    /// The namespace (`.Release.Namespace`).
    pub namespace: String,
    /// User values, already merged from `-f` files and `--set` flags (see [`values`]).
    pub values: crate::value::Map,
    /// `--kube-version`; Helm's default when `None`.
    pub kube_version: Option<String>,
    /// The values of `--api-versions` flags, each a comma-separated list as
    /// Helm's flag parser reads it (see [`flag_list`]); the items are added
    /// to Helm's default set as they are.
    pub api_versions: Vec<String>,
    /// `--include-crds`: print the files in `crds/` first.
    pub include_crds: bool,
    /// `--skip-tests`: leave out test hooks.
    pub skip_tests: bool,
    /// The paths (keys and indexes) of the lists of `values` whose Go
    /// capacity is their length, as `--set key[i]=...` leaves a list it
    /// creates or lengthens (see [`values::apply_set_tracked`]); other lists
    /// have the capacity `append` gives, as decoded YAML and JSON have. Go's
    /// `slice` reaches up to the capacity.
    pub exact_lists: Vec<Vec<String>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release: "release-name".into(),
            namespace: "default".into(),
            values: crate::value::Map::new(),
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: false,
            skip_tests: false,
            exact_lists: Vec::new(),
        }
    }
}

impl Error {
    /// Whether Helm met this error while rendering, after it made the
    /// release: `helm template` then adds a hint to use `--debug`.
    pub fn is_render_error(&self) -> bool {
        matches!(
            self,
            Error::Render { .. } | Error::Manifest { .. } | Error::KubeVersionIncompatible { .. }
        )
    }

    /// The error with the chart's path as `helm template` names it (the
    /// absolute path it located the chart at); other errors are unchanged.
    pub fn located_at(self, chart_path: &str) -> Error {
        match self {
            Error::Locate { problem, .. } => {
                Error::Locate { path: chart_path.to_string(), problem }
            }
            other => other,
        }
    }
}

/// Why Helm's loader refuses the chart `helm template` was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locate {
    /// The file does not start as gzip does; Go's sniffed content type.
    NotGzip(String),
    /// The same for a file named `.yaml`/`.yml`.
    YamlNotGzip,
    /// The gzip header is not one Go reads.
    BadGzip,
    /// The archive reads, but fails one of the archive checks (in Go's words
    /// elsewhere; Helm prints a fixed text here).
    BadArchive,
    /// The archive holds no Chart.yaml.
    NoChartYamlInArchive,
    /// The directory holds no Chart.yaml.
    NoChartYaml,
    /// Chart.yaml's apiVersion is none Helm 4 knows.
    UnsupportedVersion,
}

impl Locate {
    fn text(&self, path: &str) -> String {
        match self {
            Locate::NotGzip(ct) => {
                format!("file '{path}' does not appear to be a gzipped archive; got '{ct}'")
            }
            Locate::YamlNotGzip => {
                format!("file '{path}' seems to be a YAML file, but expected a gzipped archive")
            }
            Locate::BadGzip => format!(
                "file '{path}' does not appear to be a valid chart file (details: gzip: invalid header)"
            ),
            Locate::BadArchive => "unable to load chart archive".into(),
            Locate::NoChartYamlInArchive => {
                "unable to detect chart version, no Chart.yaml found".into()
            }
            Locate::NoChartYaml => format!(
                "unable to detect chart at {path}/Chart.yaml: open {path}/Chart.yaml: no such file or directory"
            ),
            Locate::UnsupportedVersion => "unsupported chart version".into(),
        }
    }
}

/// The absolute, cleaned path Helm locates a local chart at (Go's
/// `filepath.Abs`): `given` joined to `cwd` unless absolute.
pub fn chart_location(cwd: &str, given: &str) -> String {
    let joined = if given.starts_with('/') { given.to_string() } else { format!("{cwd}/{given}") };
    crate::gotmpl::sprig::path::clean(&joined)
}

/// What follows "failed parsing FLAG data" in Helm's error for a `--set`-family argument.
fn set_detail(flag: &str, arg: &str, message: &str) -> String {
    if flag != "--set-json" {
        format!(": {message}")
    } else if arg.trim_start().starts_with('{') {
        format!(" JSON: {arg}")
    } else {
        format!(" {arg}")
    }
}

/// Checks a release name as Helm's `ValidateReleaseName` does before an
/// install renders anything: at most 53 bytes, and dot-separated labels of
/// lower-case letters, digits and inner hyphens (the regex
/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`).
pub fn check_release_name(name: &str) -> Result<(), Error> {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() <= 53 && name.split('.').all(label) {
        Ok(())
    } else {
        Err(Error::ReleaseName { name: name.to_string() })
    }
}

/// Why [`check_release_name`] refuses a name, in Helm's words.
fn release_name_problem(name: &str) -> &'static str {
    if name.is_empty() {
        "no name provided"
    } else {
        "invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
    }
}

/// `helm template`'s hint after an error met while rendering.
pub const DEBUG_HINT: &str = "Use --debug flag to render out invalid YAML";

/// Errors of loading and rendering a chart; texts follow Helm's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the tree failed.
    #[error("reading chart")]
    Tree {
        /// The tree's error.
        #[source]
        source: crate::tree::Error,
    },
    /// The chart is malformed.
    #[error("{path}: {message}")]
    Chart {
        /// The chart or file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The chart fails one of Helm's checks (Chart.yaml's validation, a
    /// `.helmignore` rule Helm refuses), in Helm's own words.
    #[error("{message}")]
    Invalid {
        /// Helm's text, e.g. `validation: chart.metadata.version "x" is invalid`.
        message: String,
    },
    /// An entry of a chart's `charts/` directory is not a chart.
    #[error("error unpacking subchart {name} in {parent}: {message}")]
    Subchart {
        /// The entry's name in `charts/`.
        name: String,
        /// The name of the chart whose `charts/` holds it.
        parent: String,
        /// What is wrong.
        message: String,
    },
    /// A YAML file does not parse.
    #[error("{message}")]
    Yaml {
        /// Helm-style message with the file.
        message: String,
    },
    /// A `--set`-family argument is malformed. Helm names the flag and
    /// the parser's error, except for `--set-json`, where it names the
    /// argument alone.
    #[error("failed parsing {flag} data{}", set_detail(flag, arg, message))]
    Set {
        /// The flag: `--set`, `--set-string`, `--set-json` or `--set-file`.
        flag: &'static str,
        /// The argument.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// The values break the chart's schema.
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{message}"
    )]
    Schema {
        /// One line per violation, by chart.
        message: String,
    },
    /// A template failed to parse or execute.
    #[error("{message}")]
    Render {
        /// Helm's text, naming template, line and column.
        message: String,
    },
    /// A rendered document is not YAML.
    #[error("YAML parse error on {path}: {message}")]
    Manifest {
        /// The template.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A value of a list flag (`--api-versions`) is not a CSV record, so
    /// pflag refuses it before Helm runs.
    #[error("invalid argument {} for \"{flag}\" flag: {reason}", crate::gotmpl::fmt::quote(value))]
    FlagList {
        /// The flag as pflag names it (`-a, --api-versions`).
        flag: String,
        /// The value given.
        value: String,
        /// Go's CSV reader's message.
        reason: String,
    },
    /// `--kube-version` is not a version.
    #[error("invalid kube version '{version}': {reason}")]
    KubeVersion {
        /// What was given.
        version: String,
        /// Why Kubernetes' version parser refuses it.
        reason: String,
    },
    /// The chart's `kubeVersion` constraint excludes the Kubernetes version.
    #[error(
        "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}"
    )]
    KubeVersionIncompatible {
        /// Chart.yaml's constraint.
        constraint: String,
        /// The version rendered for.
        version: String,
    },
    /// A library chart cannot be rendered on its own.
    #[error("{kind} charts are not installable")]
    NotInstallable {
        /// The chart's type.
        kind: String,
    },
    /// A dependency in Chart.yaml is not in `charts/`.
    #[error(
        "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {names}"
    )]
    MissingDependency {
        /// The missing names, comma-separated.
        names: String,
    },
    /// The release name is not one Helm's install action accepts.
    #[error(
        "release name check failed: release name {}: {}",
        crate::gotmpl::fmt::quote(name),
        release_name_problem(name)
    )]
    ReleaseName {
        /// The name given.
        name: String,
    },
    /// The values for a subchart are not a table.
    #[error("type mismatch on {name}: {value}")]
    TypeMismatch {
        /// The subchart's name (or alias).
        name: String,
        /// The value as Go's `%t` prints it.
        value: String,
    },
    /// Processing the dependencies (conditions, tags, import-values) failed.
    #[error("chart dependencies processing failed: {cause}")]
    Dependencies {
        /// What failed (part of the message, as in Helm's text).
        cause: Box<Error>,
    },
    /// The chart `helm template` was given is not a chart Helm can load,
    /// found before anything in it is read; the text names the chart's path.
    #[error("{}", problem.text(path))]
    Locate {
        /// The chart as located (the CLI gives the absolute path, as Helm does).
        path: String,
        /// What is wrong.
        problem: Locate,
    },
    /// A bug in kiln.
    #[error("internal error: {message}")]
    Internal {
        /// What failed.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Release names as Helm's `ValidateReleaseName` judges them (its own
    /// test table, plus the length limit and a trailing newline, which
    /// Go's `$` does not match before).
    #[test]
    fn release_names_as_helm_validates_them() {
        let long = format!("a{}z", "1".repeat(58));
        for (name, ok) in [
            ("", false),
            ("foo", true),
            ("foo.bar1234baz.seventyone", true),
            ("FOO", false),
            ("123baz", true),
            ("foo.BAR.baz", false),
            ("one-two", true),
            ("-two", false),
            ("two-", false),
            ("one_two", false),
            ("a..b", false),
            (".a", false),
            ("example:com", false),
            ("abc\n", false),
            ("é", false),
            (&"a".repeat(53), true),
            (&"a".repeat(54), false),
            (&long, false),
        ] {
            assert_eq!(check_release_name(name).is_ok(), ok, "{name:?}");
        }
        assert_eq!(
            check_release_name("").unwrap_err().to_string(),
            "release name check failed: release name \"\": no name provided"
        );
        assert_eq!(
            check_release_name("My_Rel").unwrap_err().to_string(),
            "release name check failed: release name \"My_Rel\": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
        );
    }
}
