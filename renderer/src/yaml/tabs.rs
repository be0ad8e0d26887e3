//! Tabs in the blanks that open a line with nothing else (or only a comment), which libyaml refuses where YAML 1.2 allows them.
//!
//! libyaml's scanner (yaml.v2, yaml.v3, and so every Go tool kiln stands in
//! for) eats a tab between tokens only in flow context or where no simple key
//! may start; at the start of a block-context line one may, so a tab there
//! is "found character that cannot start any token", even on a line that
//! holds nothing else. The one exception is the blank run after a plain
//! scalar, which the scalar's own scanner consumes: there a tab is refused
//! only left of the scalar's indentation (the enclosing block collection's
//! column plus one), "found a tab character that violates indentation".
//! Block and quoted scalars read their own blank lines and are left to the
//! parser; so are flow collections, where tabs are blanks.

use super::breaks::ParserText;
use super::parse::{ParseError, Source};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::ops::Range;

/// A line of blanks (or blanks and a comment) whose blanks hold a tab.
struct Candidate {
    /// Character index of the line's first character.
    start: usize,
    /// 0-based column of the first tab.
    tab_column: usize,
    /// 1-based line.
    line: usize,
}

/// What the check needs of a stream the parser read.
struct Read {
    scalars: Vec<Scalar>,
    /// The character ranges of the flow collections.
    flows: Vec<Range<usize>>,
}

/// A scalar as the parser read it.
struct Scalar {
    start: usize,
    end: usize,
    /// 1-based line where it starts.
    line: usize,
    plain: bool,
    /// The column past which a plain scalar's later lines must start: the
    /// enclosing block collection's column plus one (0 at the top level).
    indent: usize,
}

/// The error libyaml gives for the first tab it refuses in the blanks that
/// open a line of `text` with nothing else on it, if any. `yaml11` selects
/// yaml.v2's choice of line (the problem's) over yaml.v3's (the context's).
/// `text` has already been read without error by the YAML 1.2 parser.
pub(super) fn refused_tab(text: &str, file: &str, yaml11: bool) -> Option<ParseError> {
    if !text.contains('\t') {
        return None;
    }
    let parser_text = ParserText::new(text);
    let text = &*parser_text.text;
    let candidates = candidates(text);
    if candidates.is_empty() {
        return None;
    }
    let Read { scalars, flows } = read(text)?;
    let source = Source::new(text);
    for c in candidates {
        if flows.iter().any(|f| f.start < c.start && c.start < f.end)
            || scalars.iter().any(|s| !s.plain && s.start < c.start && c.start < s.end)
        {
            continue;
        }
        // The scalar whose blank run reaches this line, if any: it ends
        // before the line with only blanks and line breaks in between, or
        // spans it (a blank line inside a plain scalar of several lines).
        let before = scalars.iter().rev().find(|s| s.start < c.start);
        let continued = before.filter(|s| {
            s.plain
                && (s.end > c.start
                    || source.text[source.byte(s.end)..source.byte(c.start)]
                        .chars()
                        .all(|ch| matches!(ch, ' ' | '\t' | '\n' | '\r')))
        });
        match continued {
            Some(s) if c.tab_column >= s.indent => {}
            Some(s) => {
                // yaml.v3 names the line where the scalar started unless that
                // is the first; yaml.v2 the line of the tab.
                let line = if yaml11 || s.line == 1 { c.line } else { s.line };
                return Some(error(
                    file,
                    line,
                    c.tab_column,
                    "while scanning a plain scalar, found a tab character that violates indentation",
                ));
            }
            None => {
                return Some(error(
                    file,
                    c.line,
                    c.tab_column,
                    "while scanning for the next token, found character that cannot start any token",
                ));
            }
        }
    }
    None
}

fn error(file: &str, line: usize, tab_column: usize, message: &str) -> ParseError {
    ParseError {
        file: file.to_string(),
        line,
        column: tab_column + 1,
        message: message.to_string(),
        piece_line: 0,
    }
}

/// The lines holding only blanks, or blanks and a comment, with a tab among
/// the blanks.
fn candidates(text: &str) -> Vec<Candidate> {
    let mut found = Vec::new();
    let mut start = 0;
    for (n, line) in text.split('\n').enumerate() {
        let body = line.strip_suffix('\r').unwrap_or(line);
        let blanks = body.len() - body.trim_start_matches([' ', '\t']).len();
        let rest = &body[blanks..];
        if (rest.is_empty() || rest.starts_with('#'))
            && let Some(tab_column) = body[..blanks].find('\t')
        {
            found.push(Candidate { start, tab_column, line: n + 1 });
        }
        start += line.chars().count() + 1;
    }
    found
}

/// The scalars and flow collections of `text`, or `None` when the parser
/// fails (the caller reads only text it accepted).
fn read(text: &str) -> Option<Read> {
    let source = Source::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut scalars = Vec::new();
    let mut flows = Vec::new();
    // Open collections: whether flow, their column, where they started.
    let mut open: Vec<(bool, usize, usize)> = Vec::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        match event {
            Event::StreamEnd => break,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let flow = open.last().is_some_and(|o| o.0)
                    || matches!(source.slice(&span).trim_end().chars().last(), Some('[' | '{'));
                open.push((flow, span.start.col(), span.start.index()));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((true, _, start)) = open.pop() {
                    flows.push(start..span.end.index().max(start + 1));
                }
            }
            Event::Scalar(_, style, ..) => {
                let indent = open.iter().rev().find(|o| !o.0).map_or(0, |o| o.1 + 1);
                scalars.push(Scalar {
                    start: span.start.index(),
                    end: span.end.index(),
                    line: span.start.line(),
                    plain: style == ScalarStyle::Plain,
                    indent,
                });
            }
            _ => {}
        }
    }
    Some(Read { scalars, flows })
}

#[cfg(test)]
mod tests {
    use super::refused_tab;

    #[test]
    fn tabs_in_blank_lines_as_libyaml_sees_them() {
        let cases: &[(&str, Option<(usize, &str)>)] = &[
            ("a: 1\n", None),
            // After a plain scalar, left of its indentation.
            ("a: 1\n\t\nb: 2\n", Some((2, "violates indentation"))),
            ("m:\n  k: v\n\t\n", Some((2, "violates indentation"))),
            // Past the indentation, the plain scalar's blanks take it.
            ("m:\n  k: v\n   \t\n", None),
            // Where no plain scalar reaches, any tab in the leading blanks.
            ("\t\na: 1\n", Some((1, "cannot start any token"))),
            ("a: 1\n# c\n  \t\n", Some((3, "cannot start any token"))),
            ("a:\n\t\n  b: 1\n", Some((2, "cannot start any token"))),
            ("a: 'q'\n  \t# c\n", Some((2, "cannot start any token"))),
            // Flow collections and quoted scalars read tabs as blanks.
            ("a: [1,\n\t\n  2]\n", None),
            ("a: \"x\n\t\n  y\"\n", None),
        ];
        for (text, want) in cases {
            let got = refused_tab(text, "f", false);
            match (want, &got) {
                (None, None) => {}
                (Some((line, words)), Some(e)) => {
                    assert_eq!(e.line, *line, "{text:?}: {e}");
                    assert!(e.message.contains(words), "{text:?}: {e}");
                }
                _ => panic!("{text:?}: want {want:?}, got {got:?}"),
            }
        }
    }
}
