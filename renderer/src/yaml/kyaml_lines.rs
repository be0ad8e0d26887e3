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
use super::parse::{DuplicateKey, Source};
use crate::resource::Step;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// The lines below its key that kyaml's encoding gives a string it writes
/// as a literal block (one per line of the string), or 0 when yaml.v3's
/// analysis rules a block out and the string stays on its key's line.
pub(crate) fn literal_lines(s: &str) -> usize {
    if analyze_v3(s).block { s.lines().count() } else { 0 }
}

/// A collection being walked.
enum Frame {
    /// A mapping; `key_next` when its next node is a key; the last key
    /// that started a line of the encoding.
    Map {
        block: bool,
        key_next: bool,
        last_key: Option<LastKey>,
    },
    Seq {
        block: bool,
    },
}

/// A key of a block mapping: its line in the text, its line in the
/// encoding and its column.
#[derive(Clone, Copy)]
struct LastKey {
    line: usize,
    out: usize,
    column: usize,
}

impl Frame {
    fn block(&self) -> bool {
        match self {
            Frame::Map { block, .. } | Frame::Seq { block } => *block,
        }
    }
}

/// Where the lines of a document are in kyaml's encoding of it (all
/// 1-based): a key the walk does not reach (past a syntax error) is left
/// out.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    /// The line of each mapping key, by the key's line in the text.
    pub keys: HashMap<usize, usize>,
    /// The last line of each block mapping (with the comments after its
    /// last entry at its indentation or deeper), by the line in the text of
    /// its last key.
    pub ends: HashMap<usize, usize>,
    /// How many lines each entry of a block mapping takes (its comments
    /// left out), by the line in the text of its key.
    pub sizes: HashMap<usize, usize>,
}

/// Where kyaml's encoding of the first document of `text` puts its
/// mapping keys and ends.
pub(crate) fn key_lines(text: &str) -> Encoded {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let source = Source::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut keys = HashMap::new();
    let mut ends = HashMap::new();
    let mut sizes = HashMap::new();
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
                let frame = stack.pop();
                if let Some(Frame::Map { block: true, last_key: Some(key), .. }) = frame {
                    sizes.insert(key.line, out + 1 - key.out);
                    let feet = comments_after(&lines, read, key.column, block_indent);
                    ends.insert(key.line, out + feet);
                }
                if frame.is_some_and(|f| !f.block()) {
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
        if matches!(stack.last(), Some(Frame::Map { block: false, key_next: true, .. })) {
            keys.entry(line).or_insert(out);
        }
        let is_key = matches!(stack.last(), Some(Frame::Map { block: true, key_next: true, .. }));
        // A block collection starts no line of its own: its first entry does.
        let block_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..))
            && !starts_flow(&source, &span);
        let starts_line = !in_flow
            && !block_start
            && (is_key || matches!(stack.last(), None | Some(Frame::Seq { block: true })));
        if starts_line {
            let before_gap = out;
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
                if let Some(Frame::Map { last_key, .. }) = stack.last_mut() {
                    if let Some(before) = last_key {
                        sizes.insert(before.line, before_gap + 1 - before.out);
                    }
                    *last_key = Some(LastKey { line, out, column: span.start.col() });
                }
            }
        }
        match event {
            Event::Scalar(value, style, ..) => {
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                if !in_flow && !is_key {
                    let broken = block || (style == ScalarStyle::Plain && value.contains('\n'));
                    if broken {
                        out += literal_lines(&value);
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
                stack.push(Frame::Map { block: block_start, key_next: true, last_key: None });
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
    Encoded { keys, ends, sizes }
}

/// Moves the lines of `duplicates`, keys given twice in the first document
/// of `text`, to where kyaml's encoding of the document puts them. An entry
/// kyaml's reader appended to a mapping (see `null_copies`) stands after
/// the mapping's last line and the entries appended before it (in a flow
/// mapping, on its line), and what comes after it moves down by as many
/// lines.
pub(crate) fn place_duplicates(text: &str, duplicates: &mut [DuplicateKey]) {
    let encoded = key_lines(text);
    let size = |lines: &[usize]| -> usize {
        lines.iter().map(|l| encoded.sizes.get(l).copied().unwrap_or(1)).sum()
    };
    // Each block mapping that has entries appended: the encoded line they
    // follow, how many lines they take and how deep the mapping is (the
    // deeper first where two end on one line).
    let mut inserts: Vec<(usize, usize, usize)> = Vec::new();
    let mut seen: Vec<&[Step]> = Vec::new();
    for d in duplicates.iter().filter(|d| !d.flow && !d.copied.is_empty()) {
        if seen.contains(&d.map.as_slice()) {
            continue;
        }
        seen.push(&d.map);
        if let Some(&end) = encoded.ends.get(&d.last_key_line) {
            inserts.push((end, size(&d.copied), d.map.len()));
        }
    }
    // The lines the entries appended before a place take.
    let shift = |line: usize, depth: Option<usize>| -> usize {
        inserts
            .iter()
            .filter(|&&(end, _, deep)| {
                end < line || (end == line && depth.is_some_and(|d| deep > d))
            })
            .map(|(_, lines, _)| lines)
            .sum()
    };
    for d in duplicates.iter_mut() {
        let at = |line: usize, appended: usize| match appended {
            0 => encoded.keys.get(&line).map_or(line, |&l| l + shift(l, None)),
            _ if d.flow => encoded.keys.get(&d.last_key_line).map_or(line, |&l| l + shift(l, None)),
            n => {
                let before = size(&d.copied[..(n - 1).min(d.copied.len())]);
                encoded
                    .ends
                    .get(&d.last_key_line)
                    .map_or(line, |&end| end + 1 + before + shift(end, Some(d.map.len())))
            }
        };
        (d.line, d.first_line) = (at(d.line, d.appended.0), at(d.first_line, d.appended.1));
    }
}

/// How many comment lines follow line `read` (1-based) of `lines` before
/// the next node, at `column` or deeper: yaml.v3 writes them before the end
/// of the block at `column`. The lines of a block scalar whose content is
/// at `block_indent` are no comments.
fn comments_after(
    lines: &[&str],
    read: usize,
    column: usize,
    block_indent: Option<usize>,
) -> usize {
    let mut count = 0;
    for l in lines.iter().skip(read) {
        let trimmed = l.trim_start();
        if trimmed.is_empty() || block_indent.is_some_and(|n| indentation(l) >= n) {
            continue;
        }
        if !trimmed.starts_with('#') || indentation(l) < column {
            break;
        }
        count += 1;
    }
    count
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
        let map = key_lines(text).keys;
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
