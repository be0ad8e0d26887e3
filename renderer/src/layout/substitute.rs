//! Flux's post-build variable substitution (`spec.postBuild`): `${var}` forms in rendered objects.
//!
//! The grammar and functions are those of Flux's envsubst (fluxcd/pkg
//! `envsubst`, a fork of drone/envsubst), which the kustomize-controller
//! runs on each object's YAML after the kustomize build:
//!
//! - `$$` anywhere outside an expression is a literal `$` (so `$${var}`
//!   prints `${var}` and `$$HOME` prints `$HOME`); `$var` without braces and
//!   a lone `$` are text.
//! - `${var}`, `${#var}` (byte length), `${var^}`, `${var^^}`, `${var,}`,
//!   `${var,,}`, `${var:offset}`, `${var:offset:length}`, `${var#glob}`,
//!   `${var##glob}`, `${var%glob}`, `${var%%glob}`, `${var/old/new}`,
//!   `${var//old/new}`, `${var/#old/new}`, `${var/%old/new}`.
//! - The `#`, `##`, `%` and `%%` globs are Go's `path.Match` patterns, as
//!   in Flux: `*` and `?` never match `/` (`${v##*/}` of `foo/bar/baz` is
//!   `bar/baz`, where bash gives `baz`), only a non-empty prefix or suffix
//!   is trimmed, and a suffix is trimmed by reversing the value and the
//!   pattern; a malformed pattern leaves the value as it is.
//! - `${var:=default}`, `${var:-default}`, `${var=default}` (and `:?`, `:+`,
//!   which Flux parses the same way) give the default when the value is
//!   empty or unset — Flux does not tell an empty value from an unset one.
//!   A default may hold nested expressions (`${a:=${b}-x}`), up to
//!   [`MAX_DEPTH`] deep (a syntax error beyond).
//! - Anything else after `${` (`${ x }`, `${a.b}`, `${var-x}`, a missing
//!   `}`) is a syntax error that fails the object, as it fails in Flux; a
//!   variable name is letters, digits and `_` (`${1}` names a variable).
//!
//! Values come from `substituteFrom` ConfigMaps and Secrets in order, then
//! `substitute` (which wins), with every newline removed from them. An
//! object annotated or labelled `kustomize.toolkit.fluxcd.io/substitute:
//! disabled` is left as is, and nothing is substituted at all when there is
//! no variable (Flux's "at least a single variable" rule, which the
//! Kustomization's `postBuild.substituteStrategy: Always` lifts; the caller
//! applies it). Because the
//! substitution works on the text, `replicas: ${N}` with `N: "3"` becomes the
//! integer 3, read back as YAML 1.1 as Flux reads it (`yes` is a boolean).
//!
//! A variable that is unset and read without a default-giving operator
//! becomes the empty string, as in Flux by default, and is reported
//! ([`Unset::Empty`]); with Flux's `StrictPostBuildSubstitutions` feature
//! gate it fails the object instead ([`Unset::Error`], `kiln.yaml`'s
//! `strictPostBuildSubstitutions: true`).

use crate::value::Value;
use crate::yaml;
use indexmap::IndexMap;

/// The annotation or label that opts an object out.
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Variables, by name.
pub type Vars = IndexMap<String, String>;

/// A substitution that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A variable read without a default-giving operator and no value for it.
    #[error(
        "variable {name:?} is not set and has no default (line {line} of the object's built YAML)"
    )]
    Undefined {
        /// The variable.
        name: String,
        /// The 1-based line of its `${` in the object's YAML as built (the
        /// text substituted, not the source file).
        line: usize,
    },
    /// An expression Flux's envsubst cannot parse; Flux fails the object too.
    #[error("{reason}{} (line {line} of the object's built YAML)", expression.as_ref().map(|e| format!(" in {e:?}")).unwrap_or_default())]
    Syntax {
        /// What is wrong, in Flux's words.
        reason: Syntax,
        /// The 1-based line of the expression's `${` in the object's YAML as built.
        line: usize,
        /// The start of the expression (left out for Secrets).
        expression: Option<String>,
    },
    /// A variable name in `substitute` or `substituteFrom` that Flux refuses.
    #[error(
        "invalid variable name {name:?}: expected letters, digits and underscores, not starting with a digit"
    )]
    BadName {
        /// The name.
        name: String,
    },
    /// The substituted text is no longer one YAML object.
    #[error("object {object} is not valid YAML after substitution: {message}")]
    Reparse {
        /// `kind/name` of the object.
        object: String,
        /// Why.
        message: String,
    },
}

/// The syntax errors of Flux's envsubst, with its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Syntax {
    /// An operator without what must follow it, or a stray character.
    #[error("bad substitution")]
    BadSubstitution,
    /// `${name` followed by something that is no operator and no `}`.
    #[error("missing closing brace")]
    MissingClosingBrace,
    /// `${` not followed by a name (`${ x }`, `${}`).
    #[error("unable to parse variable name")]
    VariableName,
    /// An operator whose argument is missing (`${a#}`, `${a:}`).
    #[error("unable to parse substitution within function")]
    FuncSubstitution,
    /// Expressions nested in defaults and arguments deeper than kiln reads.
    #[error("expressions nested more than {MAX_DEPTH} deep")]
    TooDeep,
}

/// How deep expressions may nest (`${a:=${b:=${c}}}` is 3 deep): enough for
/// any manifest, and a bound on the recursion of the parser and evaluator.
pub const MAX_DEPTH: usize = 64;

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Checks that every variable name is one Flux accepts
/// (`^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
pub fn check_names(vars: &Vars) -> Result<(), Error> {
    match vars.keys().find(|k| !is_name(k)) {
        Some(name) => Err(Error::BadName { name: name.clone() }),
        None => Ok(()),
    }
}

/// A piece of parsed text: literal text, or one `${...}` expression.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Expr(Expr),
}

/// `${param<op>args}`; `op` is empty for a plain `${param}`.
#[derive(Debug, Clone, PartialEq)]
struct Expr {
    op: String,
    param: String,
    args: Vec<Node>,
    /// Where its `${` is in the text, in characters.
    start: usize,
}

/// A recursive-descent reader of Flux's envsubst grammar.
struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// How many expressions are open.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn at_open(&self) -> bool {
        self.peek() == Some('$') && self.peek_at(1) == Some('{')
    }

    /// Consumes up to `max` characters for which `accept` holds.
    fn take_while(&mut self, max: usize, accept: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        let mut taken = 0;
        while taken < max {
            match self.peek() {
                Some(c) if accept(c) => {
                    out.push(c);
                    self.pos += 1;
                    taken += 1;
                }
                _ => break,
            }
        }
        out
    }

    fn close(&mut self) -> Result<(), Syntax> {
        if self.peek() == Some('}') {
            self.pos += 1;
            Ok(())
        } else {
            Err(Syntax::BadSubstitution)
        }
    }

    /// The whole text: literal runs (with `$$` read as `$`) and expressions.
    fn parse_text(&mut self) -> Result<Vec<Node>, (Syntax, usize)> {
        let mut out = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_open() {
                if !text.is_empty() {
                    out.push(Node::Text(std::mem::take(&mut text)));
                }
                let start = self.pos;
                out.push(self.parse_expr().map_err(|e| (e, start))?);
            } else if c == '$' && self.peek_at(1) == Some('$') {
                text.push('$');
                self.pos += 2;
            } else {
                text.push(c);
                self.pos += 1;
            }
        }
        if !text.is_empty() {
            out.push(Node::Text(text));
        }
        Ok(out)
    }

    /// One expression, from its `${`, no deeper than [`MAX_DEPTH`].
    fn parse_expr(&mut self) -> Result<Node, Syntax> {
        if self.depth == MAX_DEPTH {
            return Err(Syntax::TooDeep);
        }
        let start = self.pos;
        self.pos += 2;
        self.depth += 1;
        let mut node = self.parse_body();
        self.depth -= 1;
        if let Ok(Node::Expr(e)) = &mut node {
            e.start = start;
        }
        node
    }

    /// One expression, after its `${`.
    fn parse_body(&mut self) -> Result<Node, Syntax> {
        let ident = |c: char| c == '_' || c.is_alphanumeric();
        if self.peek() == Some('#') {
            self.pos += 1;
            let param = self.take_while(usize::MAX, ident);
            if param.is_empty() {
                return Err(Syntax::BadSubstitution);
            }
            self.close()?;
            return Ok(expr("#", param, Vec::new()));
        }
        let param = self.take_while(usize::MAX, ident);
        if param.is_empty() {
            return Err(Syntax::VariableName);
        }
        match self.peek() {
            Some(':') if matches!(self.peek_at(1), Some('=' | '-' | '?' | '+')) => {
                let op = self.take_while(2, |_| true);
                self.parse_default(op, param)
            }
            Some(':') => self.parse_substring(param),
            Some('=') => {
                self.pos += 1;
                self.parse_default("=".into(), param)
            }
            Some(',' | '^') => {
                let op = self.take_while(2, |c| c == ',' || c == '^');
                self.close()?;
                Ok(expr(&op, param, Vec::new()))
            }
            Some('/') => self.parse_replace(param),
            Some(c @ ('#' | '%')) => {
                let op = self.take_while(2, |x| x == c);
                let arg = self.parse_arg(|c| c != '}', false)?;
                self.close()?;
                Ok(expr(&op, param, vec![arg]))
            }
            Some('}') => {
                self.pos += 1;
                Ok(expr("", param, Vec::new()))
            }
            _ => Err(Syntax::MissingClosingBrace),
        }
    }

    /// An operator's argument: a nested expression, or text of accepted
    /// characters (with `$$`, `\/` and `\\` read as escapes where `escapes`).
    fn parse_arg(&mut self, accept: impl Fn(char) -> bool, escapes: bool) -> Result<Node, Syntax> {
        if self.at_open() {
            return self.parse_expr();
        }
        let start = self.pos;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_open() {
                break;
            }
            let next = self.peek_at(1);
            if escapes
                && ((c == '$' && next == Some('$'))
                    || (c == '\\' && matches!(next, Some('/' | '\\'))))
            {
                text.extend(next);
                self.pos += 2;
                continue;
            }
            if !accept(c) {
                break;
            }
            text.push(c);
            self.pos += 1;
        }
        if self.pos == start {
            return Err(Syntax::FuncSubstitution);
        }
        Ok(Node::Text(text))
    }

    /// `${param=...}`, `${param:=...}`, `${param:-...}` and the like: the
    /// default is every argument up to `}`, joined.
    fn parse_default(&mut self, op: String, param: String) -> Result<Node, Syntax> {
        let mut args = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(expr(&op, param, args));
            }
            args.push(self.parse_arg(|c| c != '}', false)?);
        }
    }

    /// `${param:offset}` and `${param:offset:length}`.
    fn parse_substring(&mut self, param: String) -> Result<Node, Syntax> {
        self.pos += 1;
        let mut args = vec![self.parse_arg(|c| c != ':' && c != '}', false)?];
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                return Ok(expr(":", param, args));
            }
            Some(':') => {
                self.take_while(usize::MAX, |c| c == ':');
            }
            _ => return Err(Syntax::BadSubstitution),
        }
        args.push(self.parse_arg(|c| c != '}', false)?);
        self.close()?;
        Ok(expr(":", param, args))
    }

    /// `${param/old/new}`, `${param//old/new}`, `${param/#old/new}`,
    /// `${param/%old/new}`; `new` may be left out, `old` may be empty.
    fn parse_replace(&mut self, param: String) -> Result<Node, Syntax> {
        self.pos += 1;
        let mut op = "/".to_string();
        if let Some(c @ ('/' | '#' | '%')) = self.peek() {
            op.push(c);
            self.pos += 1;
        }
        let old = if self.peek() == Some('/') {
            Node::Text(String::new())
        } else {
            self.parse_arg(|c| c != '/', true)?
        };
        if self.take_while(usize::MAX, |c| c == '/').is_empty() {
            return Err(Syntax::BadSubstitution);
        }
        let mut args = vec![old];
        if self.peek() == Some('}') {
            self.pos += 1;
            return Ok(expr(&op, param, args));
        }
        args.push(self.parse_arg(|c| c != '}', true)?);
        self.close()?;
        Ok(expr(&op, param, args))
    }
}

fn expr(op: &str, param: String, args: Vec<Node>) -> Node {
    Node::Expr(Expr { op: op.to_string(), param, args, start: 0 })
}

/// What becomes of a variable that is read without a default-giving
/// operator and has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unset {
    /// It is the empty string, as in Flux by default; the caller is told.
    #[default]
    Empty,
    /// It fails the object ([`Error::Undefined`]), as with Flux's
    /// `StrictPostBuildSubstitutions` feature gate.
    Error,
}

/// A variable that was read unset and substituted by the empty string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The variable.
    pub name: String,
    /// The 1-based line of its `${` in the text substituted.
    pub line: usize,
}

/// Substitutes the `${...}` forms in `text` (see the module documentation),
/// strictly: an unset variable without a default is an error.
pub fn substitute_text(text: &str, vars: &Vars) -> Result<String, Error> {
    substitute_text_with(text, vars, Unset::Error).map(|(out, _)| out)
}

/// [`substitute_text`], unset variables treated as `unset` says; the ones
/// that became empty are returned with the text, in order.
pub fn substitute_text_with(
    text: &str,
    vars: &Vars,
    unset: Unset,
) -> Result<(String, Vec<Missing>), Error> {
    let mut parser = Parser { chars: text.chars().collect(), pos: 0, depth: 0 };
    // Where each line break is, in characters, to name an expression's line.
    let breaks: Vec<usize> =
        parser.chars.iter().enumerate().filter(|(_, c)| **c == '\n').map(|(i, _)| i).collect();
    let line = |start: usize| breaks.partition_point(|&b| b < start) + 1;
    let nodes = parser.parse_text().map_err(|(reason, start)| {
        let snippet: String =
            parser.chars[start..].iter().take_while(|c| **c != '\n').take(40).collect();
        Error::Syntax { reason, line: line(start), expression: Some(snippet) }
    })?;
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    for node in &nodes {
        let value = eval(node, vars, unset, &mut missing).map_err(|(name, start)| {
            Error::Undefined { name: name.to_string(), line: line(start) }
        })?;
        out.push_str(&value);
    }
    let missing =
        missing.into_iter().map(|(name, start)| Missing { name, line: line(start) }).collect();
    Ok((out, missing))
}

/// The value of a node, or the unset variable (and where its expression
/// starts) that fails it; as deep as the parser let the nesting go. With
/// [`Unset::Empty`] an unset variable is empty and noted in `missing`.
fn eval<'a>(
    node: &'a Node,
    vars: &Vars,
    unset: Unset,
    missing: &mut Vec<(String, usize)>,
) -> Result<String, (&'a str, usize)> {
    let e = match node {
        Node::Text(t) => return Ok(t.clone()),
        Node::Expr(e) => e,
    };
    // Arguments first, as Flux evaluates them: an unset variable in a
    // default fails even when the default is not needed.
    let args =
        e.args.iter().map(|a| eval(a, vars, unset, missing)).collect::<Result<Vec<_>, _>>()?;
    let defaults = ["-", "+", "=", "?", ":-", ":+", ":=", ":?"];
    let value = match vars.get(&e.param) {
        Some(v) => v.as_str(),
        None if defaults.contains(&e.op.as_str()) => "",
        None if unset == Unset::Empty => {
            missing.push((e.param.clone(), e.start));
            ""
        }
        None => return Err((&e.param, e.start)),
    };
    Ok(apply(&e.op, value, &args))
}

/// Flux's envsubst functions, by operator.
fn apply(op: &str, s: &str, args: &[String]) -> String {
    let first = |f: fn(char) -> String| {
        let mut chars = s.chars();
        chars.next().map(|c| f(c) + chars.as_str()).unwrap_or_default()
    };
    let arg = |i: usize| args.get(i).map(String::as_str);
    match (op, arg(0), arg(1)) {
        (",", ..) => first(|c| c.to_lowercase().collect()),
        (",,", ..) => s.to_lowercase(),
        ("^", ..) => first(|c| c.to_uppercase().collect()),
        ("^^", ..) => s.to_uppercase(),
        ("#", None, _) => s.len().to_string(),
        ("#" | "##", Some(p), _) => trim_prefix(s, p, op == "##").unwrap_or_else(|| s.into()),
        ("%" | "%%", Some(p), _) => {
            let rev = |t: &str| t.chars().rev().collect::<String>();
            trim_prefix(&rev(s), &rev(p), op == "%%").map(|t| rev(&t)).unwrap_or_else(|| s.into())
        }
        (":", Some(offset), length) => substring(s, offset, length),
        ("/#", Some(old), Some(new)) if s.starts_with(old) => format!("{new}{}", &s[old.len()..]),
        ("/%", Some(old), Some(new)) if s.ends_with(old) => {
            format!("{}{new}", &s[..s.len() - old.len()])
        }
        ("/", Some(old), new) => s.replacen(old, new.unwrap_or(""), 1),
        ("//", Some(old), new) => s.replace(old, new.unwrap_or("")),
        ("/#" | "/%", ..) => s.to_string(),
        // A plain `${var}` and the default-giving operators: the value,
        // or the joined default when the value is empty.
        _ if s.is_empty() && !args.is_empty() => args.concat(),
        _ => s.to_string(),
    }
}

/// `s` without its shortest (or longest) non-empty prefix that matches the
/// glob; `None` when the glob is malformed.
fn trim_prefix(s: &str, glob: &str, longest: bool) -> Option<String> {
    let ends = super::glob::Glob::new(glob)?.matching_prefixes(s);
    let end = if longest { ends.last() } else { ends.first() };
    Some(s[end.copied().unwrap_or(0)..].to_string())
}

/// Go's `strconv.Atoi`, as Flux reads offsets and lengths.
fn atoi(s: &str) -> Option<i64> {
    crate::gotmpl::strconv::atoi(s).ok()
}

/// `${s:offset}` and `${s:offset:length}` over bytes, as Flux counts them;
/// an offset or length that is no integer gives `s` back, as bash does.
fn substring(s: &str, offset: &str, length: Option<&str>) -> String {
    let bytes = s.as_bytes();
    let len = bytes.len() as i64;
    let Some(mut pos) = atoi(offset) else { return s.to_string() };
    if pos < 0 {
        pos = (len + pos).max(0);
    }
    let range = match length.map(atoi) {
        None if pos < len => pos..len,
        None => return String::new(),
        Some(None) => return s.to_string(),
        Some(Some(n)) if n < 0 => {
            let end = len.saturating_add(n);
            if end < pos {
                return String::new();
            }
            pos..end
        }
        Some(Some(n)) if pos.saturating_add(n) >= len => {
            if pos < len {
                pos..len
            } else {
                return String::new();
            }
        }
        Some(Some(n)) => pos..pos + n,
    };
    String::from_utf8_lossy(&bytes[range.start as usize..range.end as usize]).into_owned()
}

/// The 1-based line of a source file's `text` where the expression that
/// `e` names is written: the first `${name` not followed by a name
/// character for an unset variable, the first line holding the
/// expression's start for a syntax error. `None` when the file does not
/// hold it as written (a patch or a generator brought it in) or the error
/// names no expression.
pub fn line_in_source(text: &str, e: &Error) -> Option<usize> {
    match e {
        Error::Undefined { name, .. } => line_of_variable(text, name),
        Error::Syntax { expression: Some(x), .. } => {
            text.lines().position(|l| l.contains(x.as_str())).map(|i| i + 1)
        }
        _ => None,
    }
}

/// The 1-based line of the first `${name` in `text` that names `name` (not
/// one escaped as `$${name}`).
pub fn line_of_variable(text: &str, name: &str) -> Option<usize> {
    let needle = format!("${{{name}");
    text.lines()
        .position(|line| {
            line.match_indices(&needle).any(|(i, _)| {
                let next = line[i + needle.len()..].chars().next();
                // `$$` is a literal `$`, so `$${name}` is text.
                let dollars = line[..i].chars().rev().take_while(|c| *c == '$').count();
                dollars % 2 == 0 && !next.is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
            })
        })
        .map(|i| i + 1)
}

/// Whether an object opted out of substitution.
pub fn is_disabled(object: &Value) -> bool {
    ["annotations", "labels"].iter().any(|field| {
        object.get_path(&["metadata", field, DISABLE_KEY]).and_then(Value::as_str)
            == Some("disabled")
    })
}

/// Where a YAML error begins to print the value under the key it names.
const SHOWN_VALUE: &str = ", value: ";

/// Substitutes one object through its YAML text, as Flux does; an object
/// that opted out is left as it is. Returns the object and the variables
/// that were unset and became empty (see [`Unset`]).
pub fn substitute_object(
    object: &Value,
    vars: &Vars,
    unset: Unset,
) -> Result<(Value, Vec<Missing>), Error> {
    if is_disabled(object) {
        return Ok((object.clone(), Vec::new()));
    }
    let text = yaml::to_string(object);
    if !text.contains('$') {
        return Ok((object.clone(), Vec::new()));
    }
    let kind = object.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("");
    let (replaced, missing) = substitute_text_with(&text, vars, unset).map_err(|e| match e {
        // A Secret's text is not shown in errors.
        Error::Syntax { reason, line, .. } if kind == "Secret" => {
            Error::Syntax { reason, line, expression: None }
        }
        e => e,
    })?;
    let id = || {
        format!(
            "{kind}/{}",
            object.get_path(&["metadata", "name"]).and_then(Value::as_str).unwrap_or("")
        )
    };
    // Flux reads the result back with sigs.k8s.io/yaml's YAMLToJSON (YAML
    // 1.1, keys that are not strings turned into strings), as Helm reads values.
    let mut docs = yaml::parse_documents_helm(&replaced, "substituted object").map_err(|e| {
        let message = match e.message.split_once(SHOWN_VALUE) {
            // sigs.k8s.io/yaml prints the value under a key it cannot
            // convert; a Secret's value stays out of the error.
            Some((head, _)) if kind == "Secret" => {
                format!("{}:{}:{}: {head}", e.file, e.line, e.column)
            }
            _ => e.to_string(),
        };
        Error::Reparse { object: id(), message }
    })?;
    match (docs.len(), docs.pop()) {
        (1, Some(doc @ Value::Map(_))) => Ok((doc, missing)),
        _ => Err(Error::Reparse { object: id(), message: "expected one mapping".into() }),
    }
}

/// Decodes Secret `data` as the API server does (Go's `base64.StdEncoding`,
/// which skips line breaks only); `None` when it is not base64.
pub(crate) use crate::gotmpl::sprig::encoding::base64_decode;

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn syntax(reason: Syntax, expression: &str) -> Error {
        Error::Syntax { reason, line: 1, expression: Some(expression.into()) }
    }

    fn undefined(name: &str) -> Error {
        Error::Undefined { name: name.into(), line: 1 }
    }

    /// Flux's envsubst (fluxcd/pkg `envsubst`, the kustomize-controller's
    /// post-build substitution): each form, its escapes, what fails to parse,
    /// and the strict-mode rule that only default-giving operators may read
    /// an unset variable.
    #[test]
    fn substitutes_the_flux_forms() {
        let v = vars(&[
            ("cluster", "prod"),
            ("empty", ""),
            ("region", "eu-1"),
            ("file", "bash.string.txt"),
            ("path", "/home/bozo/ideas/thoughts.for.today"),
            ("mixed", "abcDEF"),
            ("z", "abcABC123ABCabc"),
            ("slashy", "foo/bar/baz"),
            ("utf", "été"),
            ("1", "one"),
        ]);
        let bad = |r, e| Err(syntax(r, e));
        let cases: &[(&str, Result<&str, Error>)] = &[
            ("name: ${cluster}", Ok("name: prod")),
            ("a-${cluster}-${region}", Ok("a-prod-eu-1")),
            // Defaults: Flux gives the default for an empty value under
            // every operator, `=` included.
            ("${missing:=fallback}", Ok("fallback")),
            ("${missing:-fallback}", Ok("fallback")),
            ("${missing=fallback}", Ok("fallback")),
            ("${empty=fallback}", Ok("fallback")),
            ("${empty:+other}", Ok("other")),
            ("${cluster:+other}", Ok("prod")),
            ("${missing:?msg}", Ok("msg")),
            ("${cluster:=fallback}", Ok("prod")),
            ("${missing:=}", Ok("")),
            ("${missing:=a b: c}", Ok("a b: c")),
            ("${missing:=${region}-x}", Ok("eu-1-x")),
            ("${missing:=pre${region}}", Ok("preeu-1")),
            ("${missing=${mixed^^}}", Ok("ABCDEF")),
            ("${cluster:=${nope}}", Err(undefined("nope"))),
            // Escapes: `$$` is `$` everywhere outside an expression.
            ("$${cluster} stays", Ok("${cluster} stays")),
            ("echo $$HOME $$1", Ok("echo $HOME $1")),
            ("$$$${x}", Ok("$${x}")),
            ("$$${cluster}", Ok("$prod")),
            (
                "t ${cluster}$${r$${cluster}$cluster${cluster}",
                Ok("t prod${r${cluster}$clusterprod"),
            ),
            ("echo $HOME and $cluster", Ok("echo $HOME and $cluster")),
            ("cost: 5$", Ok("cost: 5$")),
            (r"\\x ${cluster}", Ok(r"\\x prod")),
            // Functions.
            ("${#file}", Ok("15")),
            ("${#utf}", Ok("5")),
            ("${mixed^}", Ok("AbcDEF")),
            ("${mixed^^}", Ok("ABCDEF")),
            ("${mixed,}", Ok("abcDEF")),
            ("${mixed,,}", Ok("abcdef")),
            ("${utf^}", Ok("Été")),
            ("${path:11}", Ok("ideas/thoughts.for.today")),
            ("${path:11:5}", Ok("ideas")),
            ("${mixed:-2}", Ok("abcDEF")),
            ("${mixed:1:-1}", Ok("bcDE")),
            ("${mixed:4:-3}", Ok("")),
            ("${mixed:9}", Ok("")),
            ("${mixed:2:100}", Ok("cDEF")),
            ("${mixed:x}", Ok("abcDEF")),
            ("${mixed:1:y}", Ok("abcDEF")),
            ("${file#*.}", Ok("string.txt")),
            ("${file##*.}", Ok("txt")),
            ("${file%.*}", Ok("bash.string")),
            ("${file%%.*}", Ok("bash")),
            // Flux matches with Go's `path.Match`, where `*` and `?` do
            // not match `/` (bash's `##*/` would give `baz`, `%%/*` `foo`),
            // and only a non-empty prefix or suffix is trimmed.
            ("${slashy##*/}", Ok("bar/baz")),
            ("${slashy#*/}", Ok("bar/baz")),
            ("${slashy%/*}", Ok("foo/bar")),
            ("${slashy%%/*}", Ok("foo/bar")),
            ("${slashy##*}", Ok("/bar/baz")),
            ("${slashy#*}", Ok("oo/bar/baz")),
            ("${slashy%%*}", Ok("foo/bar/")),
            ("${slashy%*}", Ok("foo/bar/ba")),
            ("${slashy##*/*/}", Ok("baz")),
            ("${slashy#foo?bar}", Ok("foo/bar/baz")),
            ("${slashy#foo[/]bar}", Ok("/baz")),
            ("${path##*/}", Ok("home/bozo/ideas/thoughts.for.today")),
            ("${path%%.*}", Ok("/home/bozo/ideas/thoughts")),
            ("${path%.*}", Ok("/home/bozo/ideas/thoughts.for")),
            ("${file#b?s}", Ok("h.string.txt")),
            ("${file#[a-c]}", Ok("ash.string.txt")),
            ("${file#[^a-c]}", Ok("bash.string.txt")),
            ("${file#[a-c}", Ok("bash.string.txt")),
            ("${file#zzz}", Ok("bash.string.txt")),
            ("${z/abc/xyz}", Ok("xyzABC123ABCabc")),
            ("${z//abc/xyz}", Ok("xyzABC123ABCxyz")),
            ("${z/#abc/XYZ}", Ok("XYZABC123ABCabc")),
            ("${z/%abc/XYZ}", Ok("abcABC123ABCXYZ")),
            ("${z/#ABC/XYZ}", Ok("abcABC123ABCabc")),
            ("${cluster/#/pre-}", Ok("pre-prod")),
            ("${cluster/%/-post}", Ok("prod-post")),
            ("${z/abc/}", Ok("ABC123ABCabc")),
            (r"${slashy/\//-}", Ok("foo-bar/baz")),
            (r"${slashy//\//-}", Ok("foo-bar-baz")),
            ("${1} and ${region}", Ok("one and eu-1")),
            // What Flux's parser rejects.
            ("a ${ x }", bad(Syntax::VariableName, "${ x }")),
            ("${}", bad(Syntax::VariableName, "${}")),
            ("${@}", bad(Syntax::VariableName, "${@}")),
            ("${a.b}", bad(Syntax::MissingClosingBrace, "${a.b}")),
            ("${cluster-x}", bad(Syntax::MissingClosingBrace, "${cluster-x}")),
            ("${cluster+x}", bad(Syntax::MissingClosingBrace, "${cluster+x}")),
            ("ab ${cluster\nnext", bad(Syntax::MissingClosingBrace, "${cluster")),
            ("${#}", bad(Syntax::BadSubstitution, "${#}")),
            ("${cluster#}", bad(Syntax::FuncSubstitution, "${cluster#}")),
            ("${cluster:}", bad(Syntax::FuncSubstitution, "${cluster:}")),
            ("${cluster/x}", bad(Syntax::BadSubstitution, "${cluster/x}")),
            ("${cluster^x}", bad(Syntax::BadSubstitution, "${cluster^x}")),
            ("${cluster:1:2:3}", Ok("prod")),
            ("${cluster:=x", bad(Syntax::FuncSubstitution, "${cluster:=x")),
            // Strict: only default-giving operators may read an unset variable.
            ("${missing}", Err(undefined("missing"))),
            ("${#missing}", Err(undefined("missing"))),
            ("${missing^^}", Err(undefined("missing"))),
            ("${missing:0:1}", Err(undefined("missing"))),
            ("${missing/a/b}", Err(undefined("missing"))),
            ("${missing%%.*}", Err(undefined("missing"))),
            ("${empty}", Ok("")),
        ];
        for (text, want) in cases {
            let got = substitute_text(text, &v);
            assert_eq!(got, want.clone().map(str::to_string), "{text}");
        }
    }

    #[test]
    fn substitutes_objects_through_their_text() {
        let v = vars(&[("replicas", "3"), ("env", "prod"), ("flag", "yes")]);
        let cases: &[(&str, &str)] = &[
            (
                "kind: Deployment\nmetadata:\n  name: app-${env}\nspec:\n  replicas: ${replicas}\n",
                "kind: Deployment\nmetadata:\n  name: app-prod\nspec:\n  replicas: 3\n",
            ),
            // Flux reads the result as YAML 1.1: an unquoted `yes` is true.
            (
                "kind: X\nmetadata:\n  name: a\nspec:\n  enabled: ${flag}\n  kept: \"yes\"\n",
                "kind: X\nmetadata:\n  name: a\nspec:\n  enabled: true\n  kept: \"yes\"\n",
            ),
            (
                "kind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
                "kind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
            ),
            (
                "kind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
                "kind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  x: ${nothing}\n",
            ),
        ];
        for (input, want) in cases {
            let obj = yaml::parse_documents(input, "t").unwrap().remove(0);
            let (got, _) = substitute_object(&obj, &v, Unset::Error).unwrap();
            assert_eq!(
                yaml::to_string(&got),
                yaml::to_string(&yaml::parse_documents_yaml11(want, "w").unwrap()[0]),
                "{input}"
            );
        }
        let obj =
            yaml::parse_documents("kind: A\nmetadata:\n  name: ${x}\n", "t").unwrap().remove(0);
        assert_eq!(
            substitute_object(&obj, &v, Unset::Error),
            Err(Error::Undefined { name: "x".into(), line: 3 })
        );
        // Flux's default: the unset variable is empty, and reported.
        let (got, missing) = substitute_object(&obj, &v, Unset::Empty).unwrap();
        assert_eq!(got.get_path(&["metadata", "name"]), Some(&Value::Null));
        assert_eq!(missing, vec![Missing { name: "x".into(), line: 3 }]);
        // With no variable at all (`substituteStrategy: Always`) only the
        // defaults are there.
        let obj =
            yaml::parse_documents("kind: A\nmetadata:\n  name: a\ndata:\n  x: ${x:=1} $$y\n", "t")
                .unwrap()
                .remove(0);
        let (got, missing) = substitute_object(&obj, &Vars::new(), Unset::Empty).unwrap();
        assert_eq!(got.get_path(&["data", "x"]), Some(&Value::String("1 $y".into())));
        assert_eq!(missing, vec![]);
        // A Secret's text stays out of the error.
        let secret = yaml::parse_documents(
            "kind: Secret\nmetadata:\n  name: s\nstringData:\n  p: ${ hunter2 }\n",
            "t",
        )
        .unwrap()
        .remove(0);
        assert_eq!(
            substitute_object(&secret, &v, Unset::Error).unwrap_err().to_string(),
            "unable to parse variable name (line 5 of the object's built YAML)"
        );
    }

    /// Nesting is bounded (kiln's own limit: Flux's Go stack grows where
    /// kiln's would overflow), long names read in linear time, and errors
    /// name the line of the object's text their expression starts on.
    #[test]
    fn bounds_nesting_and_names_lines() {
        let v = vars(&[("a", ""), ("cluster", "prod")]);
        let nested = |depth: usize| format!("{}x{}", "${a:=".repeat(depth), "}".repeat(depth));
        let too_deep = || Err(syntax(Syntax::TooDeep, &"${a:=".repeat(8)));
        let long = format!("${{{}:=ok}}", "n".repeat(1_000_000));
        let at =
            |reason, line, e: &str| Err(Error::Syntax { reason, line, expression: Some(e.into()) });
        let unset = |name: &str, line| Err(Error::Undefined { name: name.into(), line });
        let cases: Vec<(String, Result<&str, Error>)> = vec![
            (nested(MAX_DEPTH), Ok("x")),
            (nested(MAX_DEPTH + 1), too_deep()),
            (nested(100_000), too_deep()),
            (
                format!("k: {}", "${a:=${a}".repeat(100_000)),
                at(Syntax::TooDeep, 1, "${a:=${a}${a:=${a}${a:=${a}${a:=${a}${a:"),
            ),
            (long, Ok("ok")),
            ("a: 1\nb: ${x}\n".into(), unset("x", 2)),
            ("a: ${cluster}\n\nc: ${x:=${y}}".into(), unset("y", 3)),
            ("a\nb\nc: ${ x }\n".into(), at(Syntax::VariableName, 3, "${ x }")),
            ("a\n${cluster\n".into(), at(Syntax::MissingClosingBrace, 2, "${cluster")),
        ];
        for (text, want) in cases {
            let got = substitute_text(&text, &v);
            assert_eq!(got, want.clone().map(str::to_string), "{:.60}", text);
        }
    }

    /// Without the strict feature gate, an unset variable read without a
    /// default is empty wherever it is, defaults' arguments included, and
    /// each one is reported with its line.
    #[test]
    fn empties_unset_variables_by_default() {
        let v = vars(&[("cluster", "prod"), ("empty", "")]);
        let miss = |name: &str, line| Missing { name: name.into(), line };
        let cases: Vec<(&str, &str, Vec<Missing>)> = vec![
            ("a: ${x}", "a: ", vec![miss("x", 1)]),
            ("a: ${cluster}-${x}\nb: ${y^^}", "a: prod-\nb: ", vec![miss("x", 1), miss("y", 2)]),
            ("a: ${x:=${y}}", "a: ", vec![miss("y", 1)]),
            ("a: ${cluster:=${y}}", "a: prod", vec![miss("y", 1)]),
            ("a: ${empty}${#x}", "a: 0", vec![miss("x", 1)]),
            ("a: $${x}", "a: ${x}", vec![]),
        ];
        for (text, out, want) in cases {
            let got = substitute_text_with(text, &v, Unset::Empty).unwrap();
            assert_eq!(got, (out.to_string(), want), "{text}");
        }
    }

    /// Errors and unset variables are found in the file they came from.
    #[test]
    fn finds_expressions_in_the_source_file() {
        let text = "kind: ConfigMap\ndata:\n  a: ${name_x}\n  b: $${name}\n  c: ${name:=1}\n  d: ${ bad }\n";
        let undefined = |name: &str| Error::Undefined { name: name.into(), line: 1 };
        let cases: Vec<(Error, Option<usize>)> = vec![
            (undefined("name"), Some(5)),
            (undefined("name_x"), Some(3)),
            (undefined("other"), None),
            (syntax(Syntax::VariableName, "${ bad }"), Some(6)),
            (Error::Syntax { reason: Syntax::VariableName, line: 1, expression: None }, None),
        ];
        for (e, want) in cases {
            assert_eq!(line_in_source(text, &e), want, "{e}");
        }
    }

    /// A key sigs.k8s.io/yaml cannot convert is reported with the value
    /// under it, except in a Secret.
    #[test]
    fn keeps_secret_values_out_of_reparse_errors() {
        let v = vars(&[("key", "null")]);
        let cases: &[(&str, bool)] = &[("Secret", false), ("ConfigMap", true)];
        for (kind, shown) in cases {
            let text = format!(
                "kind: {kind}\nmetadata:\n  name: s\nstringData:\n  nested:\n    ${{key}}: hunter2\n"
            );
            let obj = yaml::parse_documents(&text, "t").unwrap().remove(0);
            let err = substitute_object(&obj, &v, Unset::Empty).unwrap_err();
            let Error::Reparse { object, message } = &err else { panic!("{err:?}") };
            assert_eq!(object, &format!("{kind}/s"));
            assert!(message.contains("unsupported map key"), "{message}");
            assert_eq!(message.contains("hunter2"), *shown, "{message}");
        }
    }

    #[test]
    fn checks_variable_names() {
        assert!(check_names(&vars(&[("ok_1", ""), ("_x", "")])).is_ok());
        for bad in ["1abc", "a-b", "", "a.b", "é"] {
            assert_eq!(check_names(&vars(&[(bad, "")])), Err(Error::BadName { name: bad.into() }));
        }
    }

    #[test]
    fn decodes_base64() {
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("", Some(b"")),
            ("YQ==", Some(b"a")),
            ("YWI=", Some(b"ab")),
            ("YWJj", Some(b"abc")),
            ("cHJv\nZA==", Some(b"prod")),
            ("cHJv\r\nZA==", Some(b"prod")),
            // Go skips line breaks only, not other white space.
            ("cHJv ZA==", None),
            ("YW", None),
            ("Y!==", None),
        ];
        for (text, want) in cases {
            assert_eq!(base64_decode(text).as_deref(), *want, "{text}");
        }
    }
}
