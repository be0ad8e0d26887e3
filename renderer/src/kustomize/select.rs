//! Choosing objects: patch targets (regular expressions on identity, label and annotation selectors).

use super::kustomization::Selector;
use crate::resource::Resource;
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
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
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

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Word(w) => w,
            Token::Bang => "!",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::NotEquals => "!=",
            Token::Greater => ">",
            Token::Less => "<",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
            Token::End => "",
        }
    }
}

/// Splits a selector into tokens: runs of the symbols `=!()<>,` and words
/// between them and white space.
fn tokens(s: &str) -> Vec<Token> {
    let special = |c: char| "=!()<>,".contains(c);
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if special(c) {
            chars.next();
            let next = chars.peek().copied();
            out.push(match (c, next) {
                ('=', Some('=')) => {
                    chars.next();
                    Token::DoubleEquals
                }
                ('!', Some('=')) => {
                    chars.next();
                    Token::NotEquals
                }
                ('=', _) => Token::Equals,
                ('!', _) => Token::Bang,
                ('>', _) => Token::Greater,
                ('<', _) => Token::Less,
                ('(', _) => Token::Open,
                (')', _) => Token::Close,
                _ => Token::Comma,
            });
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || special(c) {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(Token::Word(word));
        }
    }
    out.push(Token::End);
    out
}

impl LabelSelector {
    /// Parses the string form of a label selector, with the grammar and
    /// errors of Kubernetes' parser.
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let toks = tokens(s);
        let mut at = 0;
        let fail = |found: &Token, expected: &str| {
            Err(format!(
                "invalid label selector {s:?}: found '{}', expected: {expected}",
                found.text()
            ))
        };
        let mut reqs = Vec::new();
        if toks[0] == Token::End {
            return Ok(LabelSelector(reqs));
        }
        loop {
            let negated = toks[at] == Token::Bang;
            if negated {
                at += 1;
            }
            let key = match &toks[at] {
                Token::Word(w) => w.clone(),
                other => return fail(other, "!, identifier, or 'end of string'"),
            };
            at += 1;
            let req = if negated {
                Requirement::NotExists(key)
            } else {
                match &toks[at] {
                    Token::End | Token::Comma => Requirement::Exists(key),
                    Token::Word(w) if w == "in" || w == "notin" => {
                        let notin = w == "notin";
                        at += 1;
                        let values = Self::values(&toks, &mut at, s)?;
                        if notin {
                            Requirement::NotIn(key, values)
                        } else {
                            Requirement::In(key, values)
                        }
                    }
                    op @ (Token::Equals | Token::DoubleEquals | Token::NotEquals) => {
                        let not = *op == Token::NotEquals;
                        at += 1;
                        let value = match &toks[at] {
                            Token::End | Token::Comma => String::new(),
                            Token::Word(w) => {
                                at += 1;
                                w.clone()
                            }
                            other => return fail(other, "identifier"),
                        };
                        if not {
                            Requirement::NotEquals(key, value)
                        } else {
                            Requirement::Equals(key, value)
                        }
                    }
                    op @ (Token::Greater | Token::Less) => {
                        let greater = *op == Token::Greater;
                        at += 1;
                        let Token::Word(w) = &toks[at] else {
                            return fail(&toks[at], "identifier");
                        };
                        at += 1;
                        let n: i64 = w.parse().map_err(|_| {
                            format!("invalid label selector {s:?}: for 'Gt', 'Lt' operators, the value must be an integer")
                        })?;
                        if greater {
                            Requirement::GreaterThan(key, n)
                        } else {
                            Requirement::LessThan(key, n)
                        }
                    }
                    other => return fail(other, "[!=, ==, =, >, <, in, notin]"),
                }
            };
            reqs.push(req);
            match &toks[at] {
                Token::End => break,
                Token::Comma => {
                    at += 1;
                    if !matches!(toks[at], Token::Word(_) | Token::Bang) {
                        return fail(&toks[at], "identifier after ','");
                    }
                }
                other => return fail(other, "',' or 'end of string'"),
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// The `(a, b)` set of an `in` or `notin` requirement; `()` is the set of
    /// the empty value, and empty items between commas are empty values.
    fn values(toks: &[Token], at: &mut usize, s: &str) -> Result<Vec<String>, String> {
        let fail = |found: &Token, expected: &str| {
            Err(format!(
                "invalid label selector {s:?}: unable to parse requirement: found '{}', expected: {expected}",
                found.text()
            ))
        };
        if toks[*at] != Token::Open {
            return fail(&toks[*at], "'('");
        }
        *at += 1;
        let mut values = vec![String::new()];
        loop {
            match &toks[*at] {
                Token::Word(w) => {
                    if let Some(last) = values.last_mut() {
                        last.push_str(w);
                    }
                }
                Token::Comma => values.push(String::new()),
                Token::Close => {
                    *at += 1;
                    return Ok(values);
                }
                other => return fail(other, "',' or ')'"),
            }
            *at += 1;
        }
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
    pub fn matches(&self, r: &Resource) -> bool {
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
            let effective = |ns| crate::resource::effective_namespace(&gvk, ns);
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
