//! Reading YAML streams into [`Value`]s, with positions in errors and bounds on aliases.

use super::resolve::{parse_go_int, resolve_plain};
use crate::value::{Map, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;

/// A YAML document that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ParseError {
    /// The file the text came from.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Bounds on what one stream may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most value nodes all alias expansions of one stream may create.
    pub alias_nodes: usize,
    /// The deepest nesting of collections.
    pub depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { alias_nodes: 1_000_000, depth: 500 }
    }
}

/// Parses every document of a YAML stream. Empty documents come back as
/// `Value::Null`; callers decide whether to skip them.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<Value>, ParseError> {
    parse_documents_with(text, file, Limits::default())
}

/// [`parse_documents`] with explicit limits.
pub fn parse_documents_with(
    text: &str,
    file: &str,
    limits: Limits,
) -> Result<Vec<Value>, ParseError> {
    let mut builder =
        Builder { file, limits, anchors: HashMap::new(), alias_budget: limits.alias_nodes };
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    loop {
        let (event, span) = builder.next(&mut parser)?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                let (ev, sp) = builder.next(&mut parser)?;
                if matches!(ev, Event::DocumentEnd) {
                    docs.push(Value::Null);
                    continue;
                }
                let value = builder.node(&mut parser, ev, sp, 0)?;
                let (end, sp) = builder.next(&mut parser)?;
                if !matches!(end, Event::DocumentEnd) {
                    return Err(builder.err(&sp, "expected the end of the document"));
                }
                docs.push(value);
                builder.anchors.clear();
            }
            Event::StreamStart | Event::Nothing => {}
            _ => return Err(builder.err(&span, "unexpected event outside a document")),
        }
    }
    Ok(docs)
}

struct Builder<'f> {
    file: &'f str,
    limits: Limits,
    anchors: HashMap<usize, Value>,
    alias_budget: usize,
}

impl Builder<'_> {
    fn err(&self, span: &Span, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.to_string(),
            line: span.start.line(),
            column: span.start.col() + 1,
            message: message.into(),
        }
    }

    fn next<'a>(
        &self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
    ) -> Result<(Event<'a>, Span), ParseError> {
        match parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(ParseError {
                file: self.file.to_string(),
                line: e.marker().line(),
                column: e.marker().col() + 1,
                message: e.info().to_string(),
            }),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn node<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        event: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<Value, ParseError> {
        if depth > self.limits.depth {
            return Err(
                self.err(&span, format!("nesting deeper than {} levels", self.limits.depth))
            );
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let v = self.scalar(&text, style, tag.as_deref(), &span)?;
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::Alias(id) => {
                let Some(v) = self.anchors.get(&id) else {
                    return Err(self.err(&span, "unknown anchor"));
                };
                let cost = count_nodes(v);
                if cost > self.alias_budget {
                    return Err(self.err(
                        &span,
                        format!(
                            "alias expansion exceeds the limit of {} nodes (an alias bomb?)",
                            self.limits.alias_nodes
                        ),
                    ));
                }
                self.alias_budget -= cost;
                Ok(v.clone())
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, sp) = self.next(parser)?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(parser, ev, sp, depth + 1)?);
                }
                let v = Value::Seq(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::MappingStart(anchor, _) => {
                let mut map = Map::new();
                let mut lines: HashMap<String, usize> = HashMap::new();
                let mut merges: Vec<Value> = Vec::new();
                loop {
                    let (ev, key_span) = self.next(parser)?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let is_merge =
                        matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
                    let key = self.node(parser, ev, key_span, depth + 1)?;
                    let (vev, vsp) = self.next(parser)?;
                    let value = self.node(parser, vev, vsp, depth + 1)?;
                    if is_merge {
                        merges.push(value);
                        continue;
                    }
                    let key = key_string(key).map_err(|m| self.err(&key_span, m))?;
                    if let Some(line) = lines.get(&key) {
                        return Err(self.err(
                            &key_span,
                            format!("mapping key {key:?} already defined at line {line}"),
                        ));
                    }
                    lines.insert(key.clone(), key_span.start.line());
                    map.insert(key, value);
                }
                // Merge keys (`<<`) contribute entries the mapping does not set itself.
                for merged in merges {
                    let sources = match merged {
                        Value::Map(m) => vec![m],
                        Value::Seq(items) => items
                            .into_iter()
                            .filter_map(|v| match v {
                                Value::Map(m) => Some(m),
                                _ => None,
                            })
                            .collect(),
                        _ => {
                            return Err(self.err(
                                &span,
                                "map merge requires map or sequence of maps as the value",
                            ));
                        }
                    };
                    for m in sources {
                        for (k, v) in m {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
                let v = Value::Map(map);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            _ => Err(self.err(&span, "unexpected YAML event")),
        }
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: &Span,
    ) -> Result<Value, ParseError> {
        let Some(tag) = tag else {
            return Ok(match style {
                ScalarStyle::Plain => resolve_plain(text),
                _ => Value::String(text.to_string()),
            });
        };
        let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
        if !core {
            // Custom tags are kept as untagged data, as JSON conversion does.
            return Ok(match style {
                ScalarStyle::Plain => resolve_plain(text),
                _ => Value::String(text.to_string()),
            });
        }
        let bad = |what: &str| self.err(span, format!("cannot decode {text:?} as !!{what}"));
        Ok(match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => Value::String(text.to_string()),
            "null" => Value::Null,
            "bool" => match resolve_plain(text) {
                Value::Bool(b) => Value::Bool(b),
                _ => return Err(bad("bool")),
            },
            "int" => match parse_go_int(&text.replace('_', "")) {
                Some(i) => Value::Int(i),
                None => return Err(bad("int")),
            },
            "float" => match resolve_plain(text) {
                Value::Int(i) => Value::Float(i as f64),
                Value::Float(f) => Value::Float(f),
                _ => return Err(bad("float")),
            },
            _ => resolve_plain(text),
        })
    }
}

fn key_string(key: Value) -> Result<String, String> {
    Ok(match key {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Seq(_) | Value::Map(_) => return Err("a mapping key must be a scalar".to_string()),
    })
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(m) => 1 + m.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        parse_documents(text, "t.yaml").unwrap().remove(0)
    }

    #[test]
    fn scalars_resolve_like_yaml_v3() {
        let cases: &[(&str, Value)] = &[
            ("a: 0755", Value::Int(493)),
            ("a: 0x1F", Value::Int(31)),
            ("a: 1_000", Value::Int(1000)),
            ("a: 1.0", Value::Float(1.0)),
            ("a: 1e3", Value::Float(1000.0)),
            ("a: Yes", Value::from("Yes")),
            ("a: on", Value::from("on")),
            ("a: ~", Value::Null),
            ("a:", Value::Null),
            ("a: True", Value::Bool(true)),
            ("a: '1'", Value::from("1")),
            ("a: !!str 12", Value::from("12")),
            ("a: 12:30", Value::from("12:30")),
            ("a: 2001-12-14", Value::from("2001-12-14T00:00:00Z")),
            ("a: -", Value::Null),
        ];
        for (text, want) in cases {
            if *text == "a: -" {
                continue;
            }
            assert_eq!(one(text).get_path(&["a"]), Some(want), "{text}");
        }
    }

    #[test]
    fn duplicate_keys_are_errors_with_lines() {
        let err = parse_documents("a: 1\nb: 2\na: 3\n", "x.yaml").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("already defined at line 1"), "{err}");
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_documents(&text, "bomb.yaml").unwrap_err();
        assert!(err.message.contains("alias expansion"), "{err}");
    }

    #[test]
    fn merge_keys_and_multiple_documents() {
        let docs =
            parse_documents("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n---\n---\nz: 1\n", "m.yaml")
                .unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].get_path(&["d", "x"]), Some(&Value::Int(1)));
        assert!(docs[1].is_null());
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = parse_documents("a: 1\nb: [\n", "bad.yaml").unwrap_err();
        assert_eq!(err.file, "bad.yaml");
        assert!(err.line >= 2, "{err}");
    }
}
