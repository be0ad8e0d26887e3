//! Choosing objects: patch targets (regular expressions on identity, label and annotation selectors).

use super::kustomization::Selector;
use crate::resource::{Resource, SchemaScopes};
use regex::Regex;

/// One requirement of a Kubernetes label selector.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector (`a=b,c!=d,e in (x,y),!f,g>1`).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

/// A token of the selector language, as Kubernetes' lexer reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Word,
    In,
    NotIn,
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
    End,
}

/// Splits a selector into tokens and their text as Kubernetes' lexer does:
/// blanks (space, tab, CR, LF) separate; a run of the symbols `=!()<>,` is
/// read as its longest known operators (`==`, `!=`, else one symbol); any
/// other run is a word, `in` and `notin` being keywords.
fn tokens(s: &str) -> Vec<(Tok, &str)> {
    let bytes = s.as_bytes();
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let special = |b: u8| b"=!()<>,".contains(&b);
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        while at < bytes.len() && blank(bytes[at]) {
            at += 1;
        }
        if at == bytes.len() {
            out.push((Tok::End, ""));
            return out;
        }
        let start = at;
        if special(bytes[at]) {
            let pair = bytes.get(at..at + 2);
            let (tok, len) = match (bytes[at], pair) {
                (_, Some(b"==")) => (Tok::DoubleEquals, 2),
                (_, Some(b"!=")) => (Tok::NotEquals, 2),
                (b'=', _) => (Tok::Equals, 1),
                (b'!', _) => (Tok::Bang, 1),
                (b'(', _) => (Tok::Open, 1),
                (b')', _) => (Tok::Close, 1),
                (b',', _) => (Tok::Comma, 1),
                (b'>', _) => (Tok::Greater, 1),
                _ => (Tok::Less, 1),
            };
            at += len;
            out.push((tok, &s[start..at]));
        } else {
            while at < bytes.len() && !blank(bytes[at]) && !special(bytes[at]) {
                at += 1;
            }
            let word = &s[start..at];
            let tok = match word {
                "in" => Tok::In,
                "notin" => Tok::NotIn,
                _ => Tok::Word,
            };
            out.push((tok, word));
        }
    }
}

/// The operator of a requirement being parsed.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    In,
    NotIn,
    Equals,
    NotEquals,
    Exists,
    NotExists,
    Greater,
    Less,
}

/// Kubernetes' selector parser over the tokens: a position, and whether a
/// token is read where values stand (`in` and `notin` are words there).
struct Parser<'a> {
    toks: Vec<(Tok, &'a str)>,
    at: usize,
}

impl<'a> Parser<'a> {
    fn lookahead(&self, values: bool) -> (Tok, &'a str) {
        let (tok, lit) = self.toks[self.at.min(self.toks.len() - 1)];
        match tok {
            Tok::In | Tok::NotIn if values => (Tok::Word, lit),
            _ => (tok, lit),
        }
    }

    fn consume(&mut self, values: bool) -> (Tok, &'a str) {
        let item = self.lookahead(values);
        self.at += 1;
        item
    }

    fn selector(&mut self) -> Result<Vec<Requirement>, String> {
        let mut reqs = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(true);
            match tok {
                Tok::Word | Tok::Bang => {
                    let req = self
                        .requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    reqs.push(req);
                    let (tok, lit) = self.consume(true);
                    match tok {
                        Tok::End => return Ok(reqs),
                        Tok::Comma => {
                            let (next, lit) = self.lookahead(true);
                            if !matches!(next, Tok::Word | Tok::Bang) {
                                return Err(format!(
                                    "found '{lit}', expected: identifier after ','"
                                ));
                            }
                        }
                        _ => {
                            return Err(format!("found '{lit}', expected: ',' or 'end of string'"));
                        }
                    }
                }
                Tok::End => return Ok(reqs),
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let (mut tok, mut key) = self.consume(true);
        let negated = tok == Tok::Bang;
        if negated {
            (tok, key) = self.consume(true);
        }
        if tok != Tok::Word {
            return Err(format!("found '{key}', expected: identifier"));
        }
        label_key_problem(key)?;
        let exists = matches!(self.lookahead(true).0, Tok::End | Tok::Comma);
        if negated || exists {
            let op = if negated { Op::NotExists } else { Op::Exists };
            return new_requirement(key, op, Vec::new());
        }
        let (tok, lit) = self.consume(false);
        let op = match tok {
            Tok::In => Op::In,
            Tok::Equals | Tok::DoubleEquals => Op::Equals,
            Tok::Greater => Op::Greater,
            Tok::Less => Op::Less,
            Tok::NotIn => Op::NotIn,
            Tok::NotEquals => Op::NotEquals,
            _ => return Err(format!("found '{lit}', expected: '=', '!=', '==', 'in', notin'")),
        };
        let values = match op {
            Op::In | Op::NotIn => self.values()?,
            _ => self.exact_value()?,
        };
        new_requirement(key, op, values)
    }

    /// The `(a, b)` set of an `in` or `notin` requirement: `()` is the set
    /// of the empty value, and an empty place between commas is one.
    fn values(&mut self) -> Result<Vec<String>, String> {
        let (tok, lit) = self.consume(true);
        if tok != Tok::Open {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(true);
        match tok {
            Tok::Word | Tok::Comma => {
                let set = self.identifiers()?;
                // Kubernetes names the token it looked at before the list.
                if self.consume(true).0 != Tok::Close {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(set)
            }
            Tok::Close => {
                self.consume(true);
                Ok(vec![String::new()])
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn identifiers(&mut self) -> Result<Vec<String>, String> {
        let mut set: Vec<String> = Vec::new();
        let insert = |set: &mut Vec<String>, v: &str| {
            if !set.iter().any(|x| x == v) {
                set.push(v.to_string());
            }
        };
        loop {
            let (tok, lit) = self.consume(true);
            match tok {
                Tok::Word => {
                    insert(&mut set, lit);
                    let (next, lit) = self.lookahead(true);
                    match next {
                        Tok::Comma => {}
                        Tok::Close => return Ok(set),
                        _ => return Err(format!("found '{lit}', expected: ',' or ')'")),
                    }
                }
                Tok::Comma => {
                    if set.is_empty() {
                        insert(&mut set, "");
                    }
                    match self.lookahead(true).0 {
                        Tok::Close => {
                            insert(&mut set, "");
                            return Ok(set);
                        }
                        Tok::Comma => {
                            self.consume(true);
                            insert(&mut set, "");
                        }
                        _ => {}
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn exact_value(&mut self) -> Result<Vec<String>, String> {
        if matches!(self.lookahead(true).0, Tok::End | Tok::Comma) {
            return Ok(vec![String::new()]);
        }
        match self.consume(true) {
            (Tok::Word, lit) => Ok(vec![lit.to_string()]),
            (_, lit) => Err(format!("found '{lit}', expected: identifier")),
        }
    }
}

/// Kubernetes' `NewRequirement`: the key and the values checked (the values
/// in sorted order, as the parser's set lists them).
fn new_requirement(key: &str, op: Op, mut values: Vec<String>) -> Result<Requirement, String> {
    label_key_problem(key)?;
    values.sort();
    if matches!(op, Op::Greater | Op::Less) && values.iter().any(|v| v.parse::<i64>().is_err()) {
        return Err("for 'Gt', 'Lt' operators, the value must be an integer".into());
    }
    for v in &values {
        let problems = label_value_problems(v);
        if !problems.is_empty() {
            return Err(format!(
                "invalid label value: {}: at key: {}: {}",
                super::build::go_quote(v),
                super::build::go_quote(key),
                problems.join("; ")
            ));
        }
    }
    let key = key.to_string();
    let one = || values.first().cloned().unwrap_or_default();
    let number = || one().parse::<i64>().unwrap_or_default();
    Ok(match op {
        Op::In => Requirement::In(key, values),
        Op::NotIn => Requirement::NotIn(key, values),
        Op::Equals => Requirement::Equals(key, one()),
        Op::NotEquals => Requirement::NotEquals(key, one()),
        Op::Exists => Requirement::Exists(key),
        Op::NotExists => Requirement::NotExists(key),
        Op::Greater => Requirement::GreaterThan(key, number()),
        Op::Less => Requirement::LessThan(key, number()),
    })
}

/// `msg` with Kubernetes' examples and pattern (`validation.RegexError`).
fn regex_error(msg: &str, pattern: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!("{msg} (e.g. {}regex used for validation is '{pattern}')", examples.join(" or "))
}

const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

/// Whether `s` is a qualified name's name part: alphanumeric at both ends,
/// `-`, `_` and `.` between.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    b.first().is_some_and(alnum)
        && b.last().is_some_and(alnum)
        && b.iter().all(|c| alnum(c) || matches!(c, b'-' | b'_' | b'.'))
}

/// Whether `s` is a DNS-1123 subdomain: dot-separated lower-case labels,
/// alphanumeric at both ends, `-` between.
fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        let b = label.as_bytes();
        let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        b.first().is_some_and(ok)
            && b.last().is_some_and(ok)
            && b.iter().all(|c| ok(c) || *c == b'-')
    })
}

/// Kubernetes' check of a label key (`validation.IsQualifiedName`), as the
/// selector parser words a failure.
fn label_key_problem(key: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                problems.push("prefix part must be non-empty".to_string());
            } else {
                if prefix.len() > 253 {
                    problems.push("prefix part must be no more than 253 characters".to_string());
                }
                if !is_dns_subdomain(prefix) {
                    problems.push(format!(
                        "prefix part {}",
                        regex_error(
                            "a DNS-1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                            r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                            &["example.com"],
                        )
                    ));
                }
            }
            name
        }
        _ => {
            problems.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            ""
        }
    };
    if parts.len() <= 2 {
        if name.is_empty() {
            problems.push("name part must be non-empty".into());
        } else if name.len() > 63 {
            problems.push("name part must be no more than 63 characters".into());
        }
        if !is_name_part(name) {
            problems.push(format!(
                "name part {}",
                regex_error(
                    QUALIFIED_NAME_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("invalid label key {}: {}", super::build::go_quote(key), problems.join("; ")))
    }
}

/// Kubernetes' check of a label value (`validation.IsValidLabelValue`).
fn label_value_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push("must be no more than 63 characters".to_string());
    }
    if !value.is_empty() && !is_name_part(value) {
        problems.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            &format!("({QUALIFIED_NAME_FMT})?"),
            &["MyValue", "my_value", "12345"],
        ));
    }
    problems
}

impl LabelSelector {
    /// Parses the string form of a label selector, with the grammar and
    /// errors of the Kubernetes parser kustomize links.
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let mut parser = Parser { toks: tokens(s), at: 0 };
        parser
            .selector()
            .map(LabelSelector)
            .map_err(|e| format!("invalid label selector {s:?}: {e}"))
    }

    /// Whether a set of labels satisfies every requirement.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| labels.iter().find(|(lk, _)| lk == k).map(|(_, v)| v.as_str());
        let number = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::GreaterThan(k, n) => number(k).is_some_and(|x| x > *n),
            Requirement::LessThan(k, n) => number(k).is_some_and(|x| x < *n),
        })
    }
}

/// A compiled [`Selector`].
pub struct Matcher {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

/// A selector field compiled as kustomize compiles it: Go's regexp dialect,
/// anchored at both ends, with Go's words for a syntax error.
fn anchored(pattern: &str) -> Result<Regex, String> {
    crate::gotmpl::sprig::regex::compile(&format!("^(?:{pattern})$"))
}

impl Matcher {
    /// Compiles a selector. An empty field selects everything, as an unset
    /// one does (kustomize cannot tell them apart).
    pub fn new(s: &Selector) -> Result<Matcher, String> {
        let set = |f: &Option<String>| f.clone().filter(|v| !v.is_empty());
        let regex = |f: &Option<String>| set(f).as_deref().map(anchored).transpose();
        let labels = |f: &Option<String>| set(f).as_deref().map(LabelSelector::parse).transpose();
        Ok(Matcher {
            group: regex(&s.group)?,
            version: regex(&s.version)?,
            kind: regex(&s.kind)?,
            name: regex(&s.name)?,
            namespace: regex(&s.namespace)?,
            labels: labels(&s.label_selector)?,
            annotations: labels(&s.annotation_selector)?,
        })
    }

    /// Whether the object is selected. Names match the current name or any
    /// earlier one, as kustomize matches by original and current identity.
    pub fn matches(&self, r: &Resource, scopes: &SchemaScopes) -> bool {
        let gvk = r.gvk();
        if self.group.as_ref().is_some_and(|g| !g.is_match(&gvk.group))
            || self.version.as_ref().is_some_and(|v| !v.is_match(&gvk.version))
            || self.kind.as_ref().is_some_and(|k| !k.is_match(&gvk.kind))
        {
            return false;
        }
        if let Some(re) = &self.name {
            let any = re.is_match(r.name()) || re.is_match(&r.orig_id.name);
            if !any {
                return false;
            }
        }
        if let Some(re) = &self.namespace {
            // kustomize matches the effective namespace: `default` for an
            // object without one, and a name no selector writes for
            // cluster-scoped kinds.
            let effective = |ns| crate::resource::effective_namespace(&gvk, ns, scopes);
            if !re.is_match(effective(r.namespace()))
                && !re.is_match(effective(&r.orig_id.namespace))
            {
                return false;
            }
        }
        if let Some(l) = &self.labels {
            if !l.matches(&r.string_map("labels")) {
                return false;
            }
        }
        if let Some(a) = &self.annotations {
            if !a.matches(&r.string_map("annotations")) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors() {
        let labels =
            vec![("app".to_string(), "web".to_string()), ("tier".to_string(), "fe".to_string())];
        let cases = [
            ("app=web", true),
            ("app==web,tier=fe", true),
            ("app!=web", false),
            ("app in (web, api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier in (be)", false),
        ];
        for (sel, want) in cases {
            assert_eq!(LabelSelector::parse(sel).unwrap().matches(&labels), want, "{sel}");
        }
    }
}
