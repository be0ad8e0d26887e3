//! Where kyaml's re-encoding of a document puts its mapping keys.
//!
//! kustomize reads a resource file into yaml.v3 nodes, one per `---`
//! document, and later decodes each object again from the text kyaml encodes
//! for that node. A key given twice is reported there, so the lines of Go's
//! message (`line 7: mapping key "a" already defined at line 6`) count lines
//! of that encoding, not of the file. yaml.v3's encoder, as kyaml runs it
//! (no line width), keeps comments and the first blank line after a comment
//! that is not indented deeper than what follows it; it drops other blank
//! lines and document markers, writes a flow collection and a quoted or
//! plain scalar on one line, puts a value written on the line after its key
//! or `-` on that line, and writes a string holding line breaks as a
//! literal block when it can (one line per line of the string).

use super::emit::analyze_v3;
use super::parse::Source;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// A collection being walked.
enum Frame {
    /// A mapping; `key_next` when its next node is a key.
    Map {
        block: bool,
        key_next: bool,
    },
    Seq {
        block: bool,
    },
}

impl Frame {
    fn block(&self) -> bool {
        match self {
            Frame::Map { block, .. } | Frame::Seq { block } => *block,
        }
    }
}

/// The line of each mapping key of the first document of `text` in kyaml's
/// encoding of that document, by the key's line in `text` (both 1-based).
/// A key the walk does not reach (past a syntax error) is left out.
pub(crate) fn key_lines(text: &str) -> HashMap<usize, usize> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let source = Source::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut keys = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Lines of the encoding so far; the last line of the text read; the
    // last line of the text that began a line of the encoding.
    let (mut out, mut read, mut counted) = (0usize, 0usize, 0usize);
    // The indentation of the block scalar read last: its lines are its own.
    let mut block_indent: Option<usize> = None;
    // Whether the document opens with `---`.
    let mut explicit_start = false;
    while let Some(Ok((event, span))) = parser.next_event() {
        match event {
            Event::DocumentStart(explicit) => {
                explicit_start = explicit;
                continue;
            }
            Event::StreamStart | Event::Nothing => continue,
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::MappingEnd | Event::SequenceEnd => {
                if stack.pop().is_some_and(|f| !f.block()) {
                    read = read.max(span.end.line());
                }
                value_done(&mut stack);
                continue;
            }
            _ => {}
        }
        let line = span.start.line();
        let in_flow = stack.iter().any(|f| !f.block());
        // A flow collection is one line of the encoding, whatever lines
        // it spans in the text: its keys are on the line it started.
        if matches!(stack.last(), Some(Frame::Map { block: false, key_next: true })) {
            keys.entry(line).or_insert(out);
        }
        let is_key = matches!(stack.last(), Some(Frame::Map { block: true, key_next: true }));
        // A block collection starts no line of its own: its first entry does.
        let block_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..))
            && !starts_flow(&source, &span);
        let starts_line = !in_flow
            && !block_start
            && (is_key || matches!(stack.last(), None | Some(Frame::Seq { block: true })));
        if starts_line {
            let indent = lines.get(line - 1).map_or(0, |l| indentation(l));
            // Runs of comment lines met in the gap, the indentation of the
            // last comment line, and whether the last line was a comment.
            // yaml.v3 keeps one blank line after the first run when its
            // last line is not indented deeper than the next node (later
            // runs, and deeper ones, go with the node before, without it).
            let (mut runs, mut comment_indent) = (0usize, 0usize);
            let mut after_comment = false;
            for l in read + 1..line {
                let s = lines.get(l - 1).copied().unwrap_or("");
                let blank = s.trim().is_empty();
                if let Some(n) = block_indent {
                    if blank || indentation(s) >= n {
                        continue;
                    }
                    block_indent = None;
                }
                if s.trim_start().starts_with('#') {
                    out += 1;
                    if !after_comment {
                        runs += 1;
                    }
                    comment_indent = indentation(s);
                    after_comment = true;
                } else {
                    // After an explicit `---`, the comments before the
                    // first node keep no blank line.
                    let head_of_marked = counted == 0 && explicit_start;
                    if blank
                        && after_comment
                        && runs == 1
                        && comment_indent <= indent
                        && !head_of_marked
                    {
                        out += 1;
                    }
                    after_comment = false;
                }
            }
            block_indent = None;
            if line != counted {
                out += 1;
                counted = line;
            }
            if is_key {
                keys.insert(line, out);
            }
        }
        match event {
            Event::Scalar(value, style, ..) => {
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                if !in_flow && !is_key {
                    let broken = block || (style == ScalarStyle::Plain && value.contains('\n'));
                    if broken && analyze_v3(&value).block {
                        out += value.lines().count();
                    }
                }
                if block && !in_flow {
                    read = read.max(line);
                    block_indent = lines
                        .iter()
                        .skip(line)
                        .find(|l| !l.trim().is_empty())
                        .map(|l| indentation(l));
                } else {
                    read = read.max(span.end.line());
                }
                value_done(&mut stack);
            }
            Event::Alias(_) => {
                read = read.max(span.end.line());
                value_done(&mut stack);
            }
            Event::MappingStart(..) => {
                if !block_start {
                    read = read.max(line);
                }
                stack.push(Frame::Map { block: block_start, key_next: true });
            }
            Event::SequenceStart(..) => {
                if !block_start {
                    read = read.max(line);
                }
                stack.push(Frame::Seq { block: block_start });
            }
            _ => {}
        }
    }
    keys
}

/// A node of the collection on top of the stack is read: a mapping expects
/// a key after a value and a value after a key.
fn value_done(stack: &mut [Frame]) {
    if let Some(Frame::Map { key_next, .. }) = stack.last_mut() {
        *key_next = !*key_next;
    }
}

/// Whether a collection's start event comes from `[` or `{` (block
/// collections have empty spans).
fn starts_flow(source: &Source<'_>, span: &Span) -> bool {
    matches!(source.slice(span).trim_end().chars().last(), Some('[' | '{'))
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

#[cfg(test)]
mod tests {
    use super::key_lines;

    /// The line of the last key named `z` and of the one before it, as
    /// recorded from kubectl (kustomize v5.5) for a `z` given twice.
    fn last_two(text: &str) -> (usize, usize) {
        let map = key_lines(text);
        let mut zs: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("z:"))
            .map(|(i, _)| map[&(i + 1)])
            .collect();
        let last = zs.pop().unwrap();
        (last, zs.pop().unwrap())
    }

    const H: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";

    #[test]
    fn lines_follow_kyaml_encoding() {
        let cases: &[(String, (usize, usize))] = &[
            (format!("\n\n{H}data:\n  z: 1\n  z: 2\n"), (7, 6)),
            (format!("---\n{H}data:\n  z: 1\n  z: 2\n"), (7, 6)),
            (format!("# head\n\n{H}data:\n  z: 1\n  z: 2\n"), (9, 8)),
            (format!("# c\n\n\n\n{H}data:\n  z: 1\n  z: 2\n"), (9, 8)),
            (format!("{H}\n# mid\ndata:\n  z: 1\n  z: 2\n"), (8, 7)),
            (format!("{H}data:\n  a: {{x: 1,\n    y: 2}}\n  z: 1\n  z: 2\n"), (8, 7)),
            (format!("{H}data:\n  c: \"quoted\n    folded\"\n  z: 1\n  z: 2\n"), (8, 7)),
            (format!("{H}data:\n  d: |\n    block\n\n    scalar\n  z: 1\n  z: 2\n"), (11, 10)),
            (format!("{H}data:\n  d: |\n    # no comment\n\n    x\n  z: 1\n  z: 2\n"), (11, 10)),
            (format!("{H}data:\n  d: |+\n    x\n\n\n  z: 1\n  z: 2\n"), (11, 10)),
            (format!("{H}data:\n  d: |\n    x\n\n\n  z: 1\n  z: 2\n"), (9, 8)),
            (format!("{H}data:\n  d: |\n    x  \n    y\n  z: 1\n  z: 2\n"), (8, 7)),
            (format!("{H}data:\n  p: a\n\n    b\n  z: 1\n  z: 2\n"), (10, 9)),
            (format!("{H}data:\n  k:\n    v\n  z: 1\n  z: 2\n"), (8, 7)),
            (format!("{H}data:\n  l:\n  - a\n  -\n    b: 1\n  z: 1\n  z: 2\n"), (10, 9)),
            (format!("{H}data:\n  z: 1\n\n\n  z: 2\n"), (7, 6)),
            (format!("{H}data:\n  y:\n    q: 1\n    # c\n\n  z: 1\n  z: 2\n"), (10, 9)),
            (format!("{H}data:\n  y:\n    q: 1\n  # c\n\n  z: 1\n  z: 2\n"), (11, 10)),
            (format!("{H}data:\n  y:\n    q: 1\n\n    # c\n\n  z: 1\n  z: 2\n"), (10, 9)),
            (format!("{H}data:\n  y: 1\n  # c\n\n  # d\n  z: 1\n  z: 2\n"), (11, 10)),
            (format!("{H}data:\n  l:\n  - a\n  # c\n\n  z: 1\n  z: 2\n"), (11, 10)),
            (format!("{H}data:\n  z: 1 # x\n  # y\n  z: 2\n"), (8, 6)),
            (format!("---\n# head\n\n{H}data:\n  z: 1\n  z: 2\n"), (8, 7)),
            (format!("{H}data:\n  y:\n    q: 1\n    # a\n\n  # b\n\n  z: 1\n  z: 2\n"), (11, 10)),
            (format!("{H}data:\n  y:\n    q: 1\n    # a\n  # b\n\n  z: 1\n  z: 2\n"), (12, 11)),
        ];
        for (text, want) in cases {
            assert_eq!(last_two(text), *want, "{text}");
        }
    }
}
