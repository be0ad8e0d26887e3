//! A Go `text/template` engine: parse a set of templates, then execute one with data.
//!
//! It knows nothing of Helm or Kubernetes. The host adds functions through
//! [`Funcs`] (Sprig, Helm's `include` and `tpl`, which call back into the
//! engine through [`Call`]) and passes data as [`Value`]s.
//!
//! ```
//! use renderer::gotmpl::{Funcs, Options, Templates, Value};
//!
//! let funcs = Funcs::new();
//! let mut set = Templates::new();
//! set.parse("t", r#"{{ range $k, $v := . }}{{ $k }}={{ printf "%v" $v }} {{ end }}"#, &funcs)?;
//! let data = Value::from(&renderer::Value::Map(
//!     [("b".to_string(), renderer::Value::Float(1e6)), ("a".to_string(), renderer::Value::Int(1))]
//!         .into_iter()
//!         .collect(),
//! ));
//! assert_eq!(set.execute("t", data, &funcs, &Options::default())?, "a=1 b=1e+06 ");
//! # Ok::<(), renderer::gotmpl::Error>(())
//! ```

mod ast;
mod exec;
pub mod fmt;
mod funcs;
pub(crate) mod growth;
mod lex;
pub(crate) mod parse;
pub mod sprig;
mod stack;
pub(crate) mod strconv;
pub(crate) mod value;

use std::collections::HashMap;
use std::sync::Arc;

pub use exec::Call;
pub use funcs::{Funcs, Function, Param, html_escape, js_escape, query_escape};
pub use stack::{STACK_SIZE, with_stack};
pub use value::{Elem, LazyMap, List, MapRef, MapType, Named, NamedType, Struct, Value};

use ast::Tree;

/// Errors of parsing and executing templates; the texts are Go's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text does not parse.
    #[error("template: {name}:{line}: {message}")]
    Parse {
        /// The name of the template being parsed.
        name: String,
        /// The 1-based line of the problem.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Execution failed; the text names template, line, column and the node, as Go's does.
    #[error("{text}")]
    Exec {
        /// The full message, `template: NAME:LINE:COL: executing "NAME" at <NODE>: ...`.
        text: String,
    },
    /// No template of that name was parsed.
    #[error("template: no template {name:?} associated with template")]
    NoTemplate {
        /// The name asked for.
        name: String,
    },
    /// Executions nested deeper than [`Options::max_nesting`] or than the stack allows.
    #[error("template: {name}: {message}")]
    Nesting {
        /// The template that would have gone deeper.
        name: String,
        /// Which bound was reached.
        message: String,
    },
    /// The system refused to start the thread that executions run on.
    #[error("cannot start the template execution thread")]
    Thread {
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The message, without copying an execution error's text.
    pub(crate) fn into_text(self) -> String {
        match self {
            Error::Exec { text } => text,
            e => e.to_string(),
        }
    }
}

/// The length past which the error of a function that runs a template
/// (`include`, `tpl`) passes up unchanged, without the `error calling NAME:`
/// of each further level: Helm's 1001 nested `include`s stay within it, and a
/// deeper chain does not cost time quadratic in its depth.
pub const MAX_ERROR_CHAIN: usize = 1 << 20;

/// Execution bounds and behaviour.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many evaluation steps (nodes and commands) one execution may take,
    /// nested `include`/`tpl` calls included.
    pub fuel: u64,
    /// How deeply `{{template}}` calls may nest in one execution (Go's
    /// bound: 100000); a template that a function such as `include` or
    /// `tpl` runs is a new execution, whose calls count from 0 again.
    pub max_depth: usize,
    /// How deeply executions may nest in all: `{{template}}` calls and
    /// templates run by functions. The execution thread's stack
    /// ([`STACK_SIZE`]) holds this many in a debug build; before the bound,
    /// a nesting that would use up the stack fails too.
    pub max_nesting: usize,
    /// How many bytes one execution may write.
    pub max_output: usize,
    /// What a missing map key gives (Go's `missingkey` option).
    pub missing_key: MissingKey,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fuel: 50_000_000,
            max_depth: 100_000,
            max_nesting: 110_000,
            max_output: 256 << 20,
            missing_key: MissingKey::Default,
        }
    }
}

/// Go's `missingkey` option: what `.key` gives when a map has no such key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default`: the invalid value, printed `<no value>`; fields of it are invalid too.
    #[default]
    Default,
    /// `missingkey=zero` (what Helm sets): the nil interface, printed `<no value>`;
    /// a field of it is a "nil pointer evaluating interface {}" error.
    Zero,
    /// `missingkey=error`: an error naming the key.
    Error,
}

/// A set of parsed templates that can call each other by name.
///
/// A set made by [`Templates::layer`] shares the templates of the set it
/// came from and keeps only what is parsed into it apart: Helm's `tpl`
/// parses its text into a copy of the whole set on every call, and a copy
/// per nesting level of a chart's hundreds of templates cost memory in
/// proportion to both.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    /// The shared templates.
    trees: Arc<HashMap<String, Arc<Tree>>>,
    /// For a layered set, the templates parsed into it (they win).
    layer: Option<HashMap<String, Arc<Tree>>>,
}

impl Templates {
    /// An empty set.
    pub fn new() -> Self {
        Templates::default()
    }

    /// A copy of the set to parse more templates into, sharing its templates.
    pub fn layer(&self) -> Templates {
        Templates { trees: self.trees.clone(), layer: Some(self.layer.clone().unwrap_or_default()) }
    }

    /// Parses `text` as the template `name` and adds it and its `define`s to
    /// the set; a later definition replaces an earlier one of the same name,
    /// unless the later one is empty.
    pub fn parse(&mut self, name: &str, text: &str, funcs: &Funcs) -> Result<(), Error> {
        let trees = parse::parse(name, text, &|f| funcs.has(f))?;
        for tree in trees {
            let empty =
                tree.root.iter().all(|n| matches!(n, ast::Node::Text(t) if t.trim().is_empty()));
            if empty && tree.name != name && self.contains(&tree.name) {
                continue;
            }
            let target = match &mut self.layer {
                Some(layer) => layer,
                None => Arc::make_mut(&mut self.trees),
            };
            target.insert(tree.name.clone(), Arc::new(tree));
        }
        Ok(())
    }

    /// Whether a template of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.layer.as_ref().is_some_and(|l| l.contains_key(name)) || self.trees.contains_key(name)
    }

    /// The names of the templates, sorted.
    pub fn names(&self) -> Vec<&str> {
        let layer = self.layer.iter().flat_map(|l| l.keys());
        let mut names: Vec<&str> = self.trees.keys().chain(layer).map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<Tree>> {
        self.layer.as_ref().and_then(|l| l.get(name)).or_else(|| self.trees.get(name)).cloned()
    }

    /// Executes the template `name` with `data` as dot and `$`, on an
    /// execution thread (see [`with_stack`]).
    pub fn execute(
        &self,
        name: &str,
        data: Value,
        funcs: &Funcs,
        options: &Options,
    ) -> Result<String, Error> {
        with_stack(|| {
            let budget = exec::Budget::new(options);
            let machine = exec::Machine { templates: self, funcs, options, budget: &budget };
            machine.run(name, data)
        })
        .map_err(|source| Error::Thread { source })?
    }
}
