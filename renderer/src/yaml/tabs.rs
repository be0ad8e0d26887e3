//! Tabs in the blanks that open a line, which libyaml refuses where YAML 1.2 allows them.
//!
//! libyaml's scanner (yaml.v2, yaml.v3, and so every Go tool kiln stands in
//! for) eats a tab between tokens only in flow context or where no simple key
//! may start; at the start of a block-context line one may, so a tab there
//! is "found character that cannot start any token", before a token or on
//! a line that holds nothing else. The one exception is the blank run after a plain
//! scalar, which the scalar's own scanner consumes: there a tab is refused
//! only left of the scalar's indentation (the enclosing block collection's
//! column plus one), "found a tab character that violates indentation".
//! Quoted scalars read their own blank lines and are left to the parser; so
//! are flow collections, where tabs are blanks.
//!
//! A block scalar's scanner eats the spaces that open each line after its
//! header up to the content indentation (all of them while that is still
//! being detected) and refuses a tab found there: "found a tab character
//! where an indentation space is expected", on any line the scalar's blank
//! run reaches, whatever follows the tab ([`block_scalar_tab`]).
//!
//! After a block sequence's `-`, a tab before the item on the same line
//! cannot start any token ([`tab_after_dash`]).

use super::breaks::{ParserText, break_len, is_extra_break};
use super::parse::{ParseError, Source, line_column};
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
    /// Whether a token follows the blanks.
    token: bool,
}

/// What the check needs of a stream the parser read.
struct Read {
    scalars: Vec<Scalar>,
    /// The character ranges of the flow collections.
    flows: Vec<Range<usize>>,
    /// Where the parser stopped: the end of the text, or where it failed
    /// past the part the caller read (a reader of the first document
    /// only). Lines from there on are not judged.
    until: usize,
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
    /// A literal or folded scalar.
    block: bool,
    /// Inside a flow collection.
    in_flow: bool,
    /// The innermost collection holding it: its column, whether a mapping.
    parent: Option<(usize, bool)>,
}

/// A collection the parser has opened and not yet closed.
struct Open {
    flow: bool,
    column: usize,
    start: usize,
    mapping: bool,
}

/// The error libyaml gives for the first tab it refuses in the blanks that
/// open a line of `text`, if any. `yaml11` selects
/// yaml.v2's choice of line (the problem's) over yaml.v3's (the context's).
/// `text` has already been read without error by the YAML 1.2 parser.
/// `first_only` for yaml.v2's Unmarshal, which reads no line past its first
/// document's end.
pub(super) fn refused_tab(
    text: &str,
    file: &str,
    yaml11: bool,
    first_only: bool,
) -> Option<ParseError> {
    if !text.contains('\t') {
        return None;
    }
    let parser_text = ParserText::new(text);
    let text = &*parser_text.text;
    let candidates = candidates(text);
    if candidates.is_empty() {
        return None;
    }
    let Read { scalars, flows, until } = read(text, first_only);
    let source = Source::new(text);
    for c in candidates {
        if c.start >= until {
            break;
        }
        if flows.iter().any(|f| f.start < c.start && c.start < f.end)
            || scalars.iter().any(|s| !s.plain && s.start < c.start && c.start < s.end)
        {
            continue;
        }
        // The scalar whose blank run reaches this line, if any: it ends
        // before the line with only blanks and line breaks in between, or
        // spans it (a blank line inside a plain scalar of several lines).
        let before = scalars.iter().rev().find(|s| s.start < c.start);
        // The parser may start a block scalar's span at its content.
        let here = scalars.iter().find(|s| s.start >= c.start);
        // Whether the scalar's blank run reaches this line: it spans the
        // line or only blanks and line breaks lie in between.
        let reaches = |s: &Scalar| {
            s.end > c.start
                || source.text[source.byte(s.end)..source.byte(c.start)]
                    .chars()
                    .all(|ch| matches!(ch, ' ' | '\t' | '\n' | '\r'))
        };
        if (c.token && before.is_some_and(|s| s.block))
            || (!c.token && before.is_some_and(|s| s.block && reaches(s)))
            || here.is_some_and(|s| s.block && s.line == c.line)
        {
            // A line of a block scalar's content (blanks only, such as
            // `\t` past an indentation indicator's spaces, are content
            // too), or the token after it: the block scalar's scanner
            // reads the blanks that open it (see block_scalar_tab).
            continue;
        }
        let continued = before.filter(|s| s.plain && reaches(s));
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

/// libyaml's words for a tab in a block scalar's indentation.
const BLOCK_TAB: &str =
    "while scanning a block scalar, found a tab character where an indentation space is expected";

/// A tab libyaml's block-scalar scanner would refuse, found by reading the
/// text line by line; [`confirm_block_tab`] checks it against the parser.
pub(super) struct BlockTab {
    /// Byte offset of the end of the header's line (before its break).
    pub(super) header_end: usize,
    /// 1-based line of the header.
    header_line: usize,
    /// Index of the header's line.
    header_index: usize,
    /// The header's indentation indicator, if any.
    explicit: Option<usize>,
    /// 1-based line and 0-based column of the tab.
    tab_line: usize,
    tab_column: usize,
}

/// The lines of `text` without their line breaks (LF, CR LF, and NEL, LS
/// and PS, which end lines for libyaml too).
fn lines(text: &str) -> Vec<&str> {
    text.split(|c| c == '\n' || is_extra_break(c))
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// The first tab in the indentation of a block scalar's line, by a reading
/// of the text that follows headers (`|`, `>` with their indicators at the
/// end of a line) and skips their content. Only a guess: the header may be
/// text of another scalar, and the enclosing collection's column is read
/// from the header's line; [`confirm_block_tab`] settles both.
pub(super) fn block_scalar_tab(text: &str) -> Option<BlockTab> {
    if !text.contains('\t') {
        return None;
    }
    let lines = lines(text);
    let tab_opens = |l: &str| l.trim_start_matches(' ').starts_with('\t');
    if !lines.iter().any(|l| tab_opens(l)) {
        return None;
    }
    let mut offset = 0;
    let mut ends = Vec::with_capacity(lines.len());
    for line in &lines {
        let end = offset + line.len();
        ends.push(end);
        offset = end + break_len(&text[end..]);
    }
    let mut i = 0;
    while i < lines.len() {
        let Some((parent, explicit)) = header(lines[i]) else {
            i += 1;
            continue;
        };
        match scan_block(&lines, i + 1, explicit, parent) {
            Ok(next) => i = next.max(i + 1),
            Err((at, tab_column)) => {
                let text_end = text.len();
                return Some(BlockTab {
                    header_end: ends[i].min(text_end),
                    header_line: i + 1,
                    header_index: i,
                    explicit,
                    tab_line: at + 1,
                    tab_column,
                });
            }
        }
    }
    None
}

/// The error for `found`, once the parser agrees that its header opens a
/// block scalar: `prefix` is the text up to the end of the header's line
/// and reads without error. `None` when the guess was wrong.
pub(super) fn confirm_block_tab(
    text: &str,
    prefix: &str,
    found: &BlockTab,
    file: &str,
    yaml11: bool,
) -> Option<ParseError> {
    let (parent, mapping) = block_scalar_parent(prefix)?;
    // The header's line names the collection better than the parser's
    // events, which place an indentless sequence at its first item; only
    // an indicator alone on its line needs the mapping above it.
    let lone = lines(text)[found.header_index].trim_start().starts_with(['|', '>']);
    let (tab_line, tab_column) = if lone && mapping {
        let (at, column) =
            scan_block(&lines(text), found.header_index + 1, found.explicit, parent).err()?;
        (at + 1, column)
    } else {
        (found.tab_line, found.tab_column)
    };
    // yaml.v3 names the line of the header (the context) unless that is the
    // first; yaml.v2 the line of the tab.
    let line = if yaml11 || found.header_line == 1 { tab_line } else { found.header_line };
    Some(error(file, line, tab_column, BLOCK_TAB))
}

/// If `line` ends with a block scalar's header, the column of the block
/// collection that holds the scalar as the line shows it (-1 for none) and
/// the indentation indicator.
fn header(line: &str) -> Option<(isize, Option<usize>)> {
    if line.trim_start().starts_with('#') {
        return None;
    }
    let at = line.char_indices().find_map(|(p, c)| {
        if !matches!(c, '|' | '>') || (p > 0 && !matches!(line.as_bytes()[p - 1], b' ' | b'\t')) {
            return None;
        }
        let rest = &line[p + 1..];
        let flags = rest.len()
            - rest.trim_start_matches(|c: char| matches!(c, '+' | '-' | '1'..='9')).len();
        let (indicators, tail) = rest.split_at(flags.min(2));
        let tail_ok = tail.is_empty()
            || (tail.starts_with([' ', '\t'])
                && tail.trim_start_matches([' ', '\t']).chars().next().is_none_or(|c| c == '#'));
        let signs = indicators.matches(['+', '-']).count();
        let digits = indicators.matches(|c: char| c.is_ascii_digit()).count();
        (tail_ok && signs <= 1 && digits <= 1).then_some((p, indicators))
    })?;
    let (p, indicators) = at;
    let explicit = indicators.chars().find_map(|c| c.to_digit(10)).map(|d| d as usize);
    // The node before the indicator: drop its tag and anchor.
    let mut before = line[..p].trim_end();
    while let Some(cut) = before.rfind([' ', '\t']).map(|i| i + 1).or(Some(0))
        && before[cut..].starts_with(['!', '&'])
    {
        before = before[..cut].trim_end();
    }
    let parent = if before.ends_with(':') {
        // A mapping's key: the mapping starts where the key does, past the
        // sequence entries and complex-key indicators that open the line.
        let mut key = 0;
        let bytes = before.as_bytes();
        while key < bytes.len() {
            match bytes[key] {
                b' ' => key += 1,
                b'-' | b'?' if matches!(bytes.get(key + 1), Some(b' ' | b'\t')) => key += 2,
                _ => break,
            }
        }
        key as isize
    } else if before.ends_with(['-', '?']) && before.trim() != "---" {
        (before.len() - 1) as isize
    } else {
        -1
    };
    Some((parent, explicit))
}

/// Scans a block scalar as libyaml does from line `from` (the one after
/// its header), inside a block collection at column `parent`: the index of
/// the first line past it, or the line index and column of a tab libyaml
/// refuses.
fn scan_block(
    lines: &[&str],
    from: usize,
    explicit: Option<usize>,
    parent: isize,
) -> Result<usize, (usize, usize)> {
    let mut indent = match explicit {
        Some(step) => (parent.max(0) as usize) + step,
        None => 0,
    };
    let mut max_indent = 0;
    let mut i = from;
    // The blank run before the first line of text, and after each one.
    let breaks =
        |i: &mut usize, indent: usize, max_indent: &mut usize| -> Result<bool, (usize, usize)> {
            loop {
                let Some(line) = lines.get(*i) else { return Ok(false) };
                let spaces = line.len() - line.trim_start_matches(' ').len();
                let column = if indent == 0 { spaces } else { spaces.min(indent) };
                *max_indent = (*max_indent).max(column);
                let next = line.as_bytes().get(column);
                if (indent == 0 || column < indent) && next == Some(&b'\t') {
                    return Err((*i, column));
                }
                if next.is_some() {
                    return Ok(true);
                }
                *i += 1;
            }
        };
    if !breaks(&mut i, indent, &mut max_indent)? {
        return Ok(i);
    }
    if indent == 0 {
        indent = max_indent.max((parent + 1).max(1) as usize);
    }
    loop {
        let line = lines[i];
        if line.len() - line.trim_start_matches(' ').len() < indent {
            return Ok(i);
        }
        i += 1;
        if !breaks(&mut i, indent, &mut 0)? {
            return Ok(i);
        }
    }
}

/// The column of the block collection that holds the scalar `prefix` ends
/// with (-1 at the top level) and whether it is a mapping, if the parser
/// reads that scalar as a block scalar.
fn block_scalar_parent(prefix: &str) -> Option<(isize, bool)> {
    let mut read = read(&ParserText::new(prefix).text, false);
    if read.until != usize::MAX {
        return None;
    }
    let last = read.scalars.pop()?;
    if !last.block || last.in_flow {
        return None;
    }
    Some(last.parent.map_or((-1, false), |(column, mapping)| (column as isize, mapping)))
}

/// libyaml's scanner (yaml.v2, yaml.v3) skips tabs in the block context
/// only where no simple key may start. One may start after a block
/// sequence's `-`, after a complex key's `?` and after a `:` that no simple
/// key precedes (an explicit value, first on its line): a tab between such
/// an indicator and the node that starts at byte `start` on the same line
/// cannot start any token, where saphyr reads it as a blank (or, after
/// `?`, refuses it in its own words: [`tab_after_question`]).
pub(super) fn tab_after_indicator(
    text: &str,
    start: usize,
    indicator: char,
    file: &str,
) -> Option<ParseError> {
    let before = text.get(..start.min(text.len()))?;
    let gap_start = before.trim_end_matches([' ', '\t']).len();
    let head = &before[..gap_start];
    if !head.ends_with(indicator) {
        return None;
    }
    if indicator == ':' {
        let line = &head[head.rfind('\n').map_or(0, |i| i + 1)..head.len() - 1];
        if !line.trim_start_matches([' ', '\t']).is_empty() {
            return None;
        }
    }
    let tab = gap_start + before[gap_start..].find('\t')?;
    let (line, column) = line_column(text, tab);
    Some(error(file, line, column - 1, CANNOT_START))
}

/// The complex key's `?` whose blanks hold the tab at or just before byte
/// `at`, where saphyr stopped ("expected whitespace"): libyaml skips that
/// tab in a flow collection (`Ok` with the tab's byte, to be read as a
/// space) and cannot start a token with it in the block context.
pub(super) fn tab_after_question(
    text: &str,
    at: usize,
    flow: bool,
    file: &str,
) -> Option<Result<usize, ParseError>> {
    let bytes = text.as_bytes();
    let tab = [at, at.wrapping_sub(1)].into_iter().find(|&i| bytes.get(i) == Some(&b'\t'))?;
    let gap_start = text[..tab].trim_end_matches([' ', '\t']).len();
    if !text[..gap_start].ends_with('?') {
        return None;
    }
    let first = gap_start + text[gap_start..].find('\t')?;
    if flow {
        return Some(Ok(first));
    }
    let (line, column) = line_column(text, first);
    Some(Err(error(file, line, column - 1, CANNOT_START)))
}

/// libyaml's words for a character no token starts with; Go's message
/// drops the context.
const CANNOT_START: &str =
    "while scanning for the next token, found character that cannot start any token";

fn error(file: &str, line: usize, tab_column: usize, message: &str) -> ParseError {
    ParseError::new(file, line, tab_column + 1, message)
}

/// The lines whose opening blanks hold a tab: lines with only blanks (or
/// blanks and a comment), and lines where a token follows them.
fn candidates(text: &str) -> Vec<Candidate> {
    let mut found = Vec::new();
    let mut start = 0;
    for (n, line) in text.split('\n').enumerate() {
        let body = line.strip_suffix('\r').unwrap_or(line);
        let blanks = body.len() - body.trim_start_matches([' ', '\t']).len();
        if let Some(tab_column) = body[..blanks].find('\t') {
            let rest = &body[blanks..];
            let token = !rest.is_empty() && !rest.starts_with('#');
            found.push(Candidate { start, tab_column, line: n + 1, token });
        }
        start += line.chars().count() + 1;
    }
    found
}

/// The scalars and flow collections of `text`, up to where the parser
/// fails if it does (the caller read the text before without error).
fn read(text: &str, first_only: bool) -> Read {
    let source = Source::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut scalars = Vec::new();
    let mut flows = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(next) => next,
            Err(e) => {
                let until = e.marker().index();
                return Read { scalars, flows, until };
            }
        };
        match event {
            Event::StreamEnd => break,
            Event::DocumentEnd if first_only => {
                return Read { scalars, flows, until: span.end.index() };
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let flow = open.last().is_some_and(|o| o.flow)
                    || matches!(source.slice(&span).trim_end().chars().last(), Some('[' | '{'));
                open.push(Open {
                    flow,
                    column: span.start.col(),
                    start: span.start.index(),
                    mapping: matches!(event, Event::MappingStart(..)),
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(Open { flow: true, start, .. }) = open.pop() {
                    flows.push(start..span.end.index().max(start + 1));
                }
            }
            Event::Scalar(_, style, ..) => {
                let indent = open.iter().rev().find(|o| !o.flow).map_or(0, |o| o.column + 1);
                scalars.push(Scalar {
                    start: span.start.index(),
                    end: span.end.index(),
                    line: span.start.line(),
                    plain: style == ScalarStyle::Plain,
                    indent,
                    block: matches!(style, ScalarStyle::Literal | ScalarStyle::Folded),
                    in_flow: open.last().is_some_and(|o| o.flow),
                    parent: open.last().map(|o| (o.column, o.mapping)),
                });
            }
            _ => {}
        }
    }
    Read { scalars, flows, until: usize::MAX }
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
            // Before a token, where no plain scalar goes on.
            ("\ttrue\n", Some((1, "cannot start any token"))),
            ("a:\n  \tb\n", Some((2, "cannot start any token"))),
            // A plain scalar's later line, past its indentation.
            ("a: b\n  \tc\n", None),
            // Flow collections and quoted scalars read tabs as blanks.
            ("a: [1,\n\t\n  2]\n", None),
            ("a: [1,\n\t2]\n", None),
            ("a: \"x\n\t\n  y\"\n", None),
        ];
        for (text, want) in cases {
            let got = refused_tab(text, "f", false, false);
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

#[cfg(test)]
mod block_tests {
    use super::super::parse::parse_documents_yaml11;
    use crate::yaml::parse_documents;

    #[test]
    fn tabs_in_a_block_scalars_indentation() {
        // (text, yaml.v3 line, yaml.v2 line); None: accepted.
        let cases: &[(&str, Option<(usize, usize)>)] = &[
            ("m:\n  a: |\n    x\n  \t\n  b: y\n", Some((2, 4))),
            ("m:\n  a: |\n    x\n\n\t# c\n", Some((2, 5))),
            ("m:\n  a: >\n    \t\n    x\n", Some((2, 3))),
            ("m:\n  a: |2\n      x\n   \tz\n", Some((2, 4))),
            ("a: |\n  x\n \t\n", Some((3, 3))),
            ("l:\n- |\n  x\n \t\n", Some((2, 4))),
            // At or past the content indentation a tab is content.
            ("m:\n  a: |\n    x\n    \t\n    \ty\n", None),
            ("m:\n  a: |2\n      x\n     \t\n", None),
        ];
        for (text, want) in cases {
            let v3 = parse_documents(text, "f").err();
            let v2 = parse_documents_yaml11(text, "f").err();
            match want {
                None => assert!(v3.is_none() && v2.is_none(), "{text:?}: {v3:?} {v2:?}"),
                Some((l3, l2)) => {
                    let (v3, v2) = (v3.expect(text), v2.expect(text));
                    assert!(v3.message.contains("indentation space is expected"), "{text:?}: {v3}");
                    assert_eq!((v3.line, v2.line), (*l3, *l2), "{text:?}");
                }
            }
        }
        // Text that only looks like a header (quoted, in a comment): the
        // tab is judged as the other rules judge it.
        for text in ["m: 'a |'\n  \t\n", "m: # |\n  \t\n"] {
            let e = parse_documents(text, "f").expect_err(text);
            assert!(e.message.contains("cannot start any token"), "{text:?}: {e}");
        }
    }
}
