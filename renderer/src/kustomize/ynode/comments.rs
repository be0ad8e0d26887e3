//! The comments yaml.v3 attaches to the nodes of a document it reads, which kustomize's hash of an object of another kind includes.
//!
//! yaml.v3 keeps each comment on a node as its `HeadComment` (lines before
//! it), `LineComment` (after it on its line) or `FootComment` (lines after
//! a block, before the text goes back to a shallower indentation). Its
//! scanner decides by where a comment stands between two tokens; kiln's
//! parser reports no comments, so they are found here in the text between
//! the nodes' spans and placed by the same rules, for documents in block
//! style:
//! - a comment after content on its line belongs to the node before it (a
//!   key before `:`, a flow collection before `]` or `}`, a block scalar
//!   after its indicator); after a bare `-` it is a head of what follows;
//! - comment lines deeper than the next content are feet of the innermost
//!   open block at or left of their column: a map's last key, a sequence's
//!   last item when that is a scalar, else the sequence, whose foot yaml.v3
//!   moves to the key holding it;
//! - a run of comment lines right after a value and followed by an empty
//!   line is such a foot too, unless it follows `key:`;
//! - the other comment lines are the head of the next node (the key of a
//!   map entry, or the item after `-`), runs separated by empty lines joined
//!   with one empty line. Before the first node a document without `---`
//!   keeps only the run directly above it (the rest is the document's);
//!   after the last node a run at the top level after an empty line is the
//!   document's, which kustomize does not hash.

use super::{MAPPING, Node, SCALAR, SEQUENCE};

/// A node's comments as yaml.v3 keeps them.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Notes {
    pub(super) head: String,
    pub(super) line: String,
    pub(super) foot: String,
}

/// Which of a node's comments.
#[derive(Clone, Copy)]
enum Slot {
    Head,
    Line,
    Foot,
}

/// A node of the tree in document order.
struct Entry {
    /// Child indices from the root.
    path: Vec<usize>,
    span: std::ops::Range<usize>,
    kind: u8,
    flow: bool,
    column: usize,
}

/// A comment found in the text.
struct Comment {
    /// Where its `#` is.
    at: usize,
    line: usize,
    column: usize,
    text: String,
}

/// Finds the comments of `text`, the document `root` was read from, and
/// attaches them to its nodes.
pub(super) fn attach(root: &mut Node, text: &str) {
    let mut entries = Vec::new();
    flatten(root, &mut Vec::new(), &mut entries);
    if entries.is_empty() {
        return;
    }
    let lines = LineIndex::new(text);
    let scalars: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].kind == SCALAR).collect();
    // The gaps between scalars, where comments can be; a block scalar's
    // header line is one too.
    let mut gaps: Vec<(Option<usize>, std::ops::Range<usize>)> = Vec::new();
    let mut from = 0;
    let mut prev = None;
    for &i in &scalars {
        let span = entries[i].span.clone();
        if span.start < from {
            continue;
        }
        gaps.push((prev, from..span.start));
        let body = &text[span.clone()];
        if body.starts_with(['|', '>']) {
            let header = body.find('\n').map_or(span.end, |n| span.start + n);
            gaps.push((Some(i), span.start..header));
        }
        from = span.end;
        prev = Some(i);
    }
    // After the last node, up to the document's end marker.
    let mut tail = text.len();
    let mut search = from;
    while let Some(n) = text[search..tail].find("\n...") {
        let at = search + n + 1;
        if text[at + 3..].starts_with([' ', '\t', '\r', '\n']) || at + 3 == text.len() {
            tail = at;
            break;
        }
        search = at;
    }
    gaps.push((prev, from..tail.max(from)));

    let mut placed: Vec<(Vec<usize>, Slot, String)> = Vec::new();
    for (prev, gap) in gaps {
        let found = find_comments(text, gap.clone(), &lines);
        if found.is_empty() {
            continue;
        }
        place(text, &entries, prev, gap, found, &lines, &mut placed);
    }
    for (path, slot, note) in placed {
        let Some(node) = node_at(root, &path) else { continue };
        let notes = node.notes.get_or_insert_with(Box::default);
        let field = match slot {
            Slot::Head => &mut notes.head,
            Slot::Line => &mut notes.line,
            Slot::Foot => &mut notes.foot,
        };
        if !field.is_empty() {
            field.push('\n');
        }
        field.push_str(&note);
    }
    move_value_feet(root);
}

/// yaml.v3 gives a mapping's key the foot comment of its value.
fn move_value_feet(node: &mut Node) {
    let Some(content) = node.content.as_mut() else { return };
    if node.kind == MAPPING {
        for pair in content.chunks_mut(2) {
            if let [key, value] = pair
                && key.notes.as_ref().is_none_or(|n| n.foot.is_empty())
                && let Some(notes) = value.notes.as_mut().filter(|n| !n.foot.is_empty())
            {
                let foot = std::mem::take(&mut notes.foot);
                key.notes.get_or_insert_with(Box::default).foot = foot;
            }
        }
    }
    for child in content.iter_mut() {
        move_value_feet(child);
    }
}

/// The nodes of the tree in document order, without alias copies.
fn flatten(node: &Node, path: &mut Vec<usize>, out: &mut Vec<Entry>) {
    // A copy an alias or a merge key made stands where the anchored node
    // is, and takes no comments here.
    if node.copied {
        return;
    }
    out.push(Entry {
        path: path.clone(),
        span: node.span.clone(),
        kind: node.kind,
        flow: node.style & super::FLOW != 0,
        column: node.column,
    });
    for (i, child) in node.content.iter().flatten().enumerate() {
        path.push(i);
        flatten(child, path, out);
        path.pop();
    }
}

fn node_at<'a>(mut node: &'a mut Node, path: &[usize]) -> Option<&'a mut Node> {
    for &i in path {
        node = node.content.as_mut()?.get_mut(i)?;
    }
    Some(node)
}

/// Line starts of a text, for lines and columns of comments.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts: starts.collect() }
    }

    /// The line (1-based) of a byte offset.
    fn line(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at)
    }

    fn start(&self, line: usize) -> usize {
        self.starts.get(line.saturating_sub(1)).copied().unwrap_or(0)
    }
}

/// The comments in `gap`: a `#` at a line's start or after a blank, to the
/// end of its line.
fn find_comments(text: &str, gap: std::ops::Range<usize>, lines: &LineIndex) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut from = gap.start;
    while let Some(n) = text.get(from..gap.end).and_then(|s| s.find('#')) {
        let at = from + n;
        let starts = at == 0 || text[..at].ends_with([' ', '\t', '\n', '\r']);
        let end = text[at..].find(['\n', '\r']).map_or(text.len(), |e| at + e);
        if starts {
            let line = lines.line(at);
            let column = text[lines.start(line)..at].chars().count() + 1;
            out.push(Comment { at, line, column, text: text[at..end].to_string() });
        }
        from = end.max(at + 1);
    }
    out
}

/// The entry that starts at or after `at` and takes a head comment there:
/// the item after a `-`, otherwise the innermost node starting there (the
/// key of a map entry).
fn next_entry(text: &str, entries: &[Entry], at: usize) -> Option<usize> {
    let first = entries.iter().position(|e| e.span.start >= at && !e.span.is_empty())?;
    let dash = text[at..entries[first].span.start].trim_end().ends_with('-');
    if dash {
        return Some(first);
    }
    let start = entries[first].span.start;
    let mut last = first;
    while entries.get(last + 1).is_some_and(|e| e.span.start == start) {
        last += 1;
    }
    Some(last)
}

/// Places the comments of one gap; `prev` is the scalar before it.
fn place(
    text: &str,
    entries: &[Entry],
    prev: Option<usize>,
    gap: std::ops::Range<usize>,
    found: Vec<Comment>,
    lines: &LineIndex,
    placed: &mut Vec<(Vec<usize>, Slot, String)>,
) {
    let next = next_entry(text, entries, gap.end);
    // Comments after `---` or a bare `-`: the start of the next node's head.
    let mut heads: Vec<String> = Vec::new();
    let mut full: Vec<Comment> = Vec::new();
    let mut start_line = None;
    for c in found {
        let line_start = lines.start(c.line);
        let before = text[line_start.max(gap.start)..c.at].trim();
        if text[line_start..c.at].trim().is_empty() {
            full.push(c);
        } else if prev.is_none() {
            // A `---` that starts the document: its comment leads the
            // head; one after a directive is dropped.
            if text[line_start..c.at].trim_end() == "---" {
                start_line = Some(c.line);
                heads.push(c.text);
            }
        } else if before.ends_with('-') && !before.ends_with("--") {
            heads.push(c.text);
        } else {
            let target = match prev {
                // The flow collection closed there: the outermost one
                // around the scalar before.
                Some(p) if before.ends_with([']', '}']) => {
                    let path = &entries[p].path;
                    (0..path.len()).find_map(|depth| {
                        let holder = &path[..depth];
                        entries[..p].iter().rev().find(|e| e.path == holder).filter(|e| e.flow)
                    })
                }
                Some(p) => Some(&entries[p]),
                None => None,
            };
            if let Some(e) = target {
                placed.push((e.path.clone(), Slot::Line, c.text));
            }
        }
    }
    if full.is_empty() && heads.is_empty() {
        return;
    }
    let prev_line = prev.map(|p| lines.line(gap.start.max(entries[p].span.end.saturating_sub(1))));
    let after_colon = text[gap.start..full.first().map_or(gap.end, |c| c.at)].trim().ends_with(':');
    let next_at = next.map(|n| entries[n].span.start);
    let next_line = next_at.map(|at| lines.line(at));
    let next_col = next_at.map(|at| {
        let body = &text[lines.start(lines.line(at))..at];
        body.chars().count() - body.trim_start().chars().count() + 1
    });
    // Runs of comment lines, split at empty lines and changes of column.
    let mut runs: Vec<Run> = Vec::new();
    let mut last = prev_line.or(start_line);
    for c in full {
        let blank = last.is_some_and(|l| c.line > l + 1);
        last = Some(c.line);
        match runs.last_mut() {
            Some(run) if !blank && run.lines[0].column == c.column => run.lines.push(c),
            _ => runs.push(Run { lines: vec![c], blank_before: blank }),
        }
    }
    let end_line = |run: &Run| run.lines.last().map_or(0, |c| c.line);
    let mut head_runs: Vec<(String, bool)> = Vec::new();
    let mut seen_blank = false;
    for (i, run) in runs.iter().enumerate() {
        seen_blank |= run.blank_before;
        let column = run.lines[0].column;
        let body = run.lines.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n");
        let Some(p) = prev else {
            head_runs.push((body, run.blank_before));
            continue;
        };
        let followed_by_blank = match runs.get(i + 1) {
            Some(next_run) => next_run.lines[0].line > end_line(run) + 1,
            None => next_line.is_none_or(|l| l > end_line(run) + 1),
        };
        let foot = match next_col {
            // After the last node: a top-level run after an empty line is
            // the document's.
            None => !(seen_blank && column <= entries[0].column),
            Some(n) if column > n => true,
            Some(_) => i == 0 && !run.blank_before && !after_colon && followed_by_blank,
        };
        if !foot {
            // yaml.v3 keeps the empty line between a head and its node.
            let body = if followed_by_blank && next.is_some() { body + "\n" } else { body };
            head_runs.push((body, run.blank_before));
        } else if let Some(path) = foot_target(entries, p, column) {
            placed.push((path, Slot::Foot, body));
        }
    }
    let Some(n) = next else { return };
    if prev.is_none() && start_line.is_none() {
        // Only the run directly above the first node heads it; the rest
        // is the document's.
        let direct = runs.last().is_some_and(|r| next_line == Some(end_line(r) + 1));
        let kept = head_runs.pop().filter(|_| direct);
        head_runs = kept.map(|(body, _)| vec![(body, false)]).unwrap_or_default();
    }
    let mut head = heads.join("\n");
    for (body, blank) in head_runs {
        if !head.is_empty() {
            head.push_str(if blank { "\n\n" } else { "\n" });
        }
        head.push_str(&body);
    }
    if !head.is_empty() {
        placed.push((entries[n].path.clone(), Slot::Head, head));
    }
}

/// Comment lines in a row at one column.
struct Run {
    lines: Vec<Comment>,
    /// Whether an empty line comes before it.
    blank_before: bool,
}

/// The node that takes a foot comment at `column` after the scalar `prev`:
/// in the innermost block collection holding it whose entries start at or
/// left of the column, its last key, or its last item when that is a
/// scalar, or the sequence itself.
fn foot_target(entries: &[Entry], prev: usize, column: usize) -> Option<Vec<usize>> {
    let path = &entries[prev].path;
    for depth in (0..path.len()).rev() {
        let holder = &path[..depth];
        // An ancestor comes before the node in document order.
        let entry = entries[..prev].iter().rev().find(|e| e.path == holder)?;
        if entry.flow || entry.column > column {
            continue;
        }
        let last = path[depth];
        return Some(match entry.kind {
            MAPPING => {
                let mut p = holder.to_vec();
                p.push(last - last % 2);
                p
            }
            SEQUENCE => {
                let mut item = holder.to_vec();
                item.push(last);
                let item_entry = entries[..=prev].iter().rev().find(|e| e.path == item)?;
                if item_entry.kind == SCALAR { item } else { holder.to_vec() }
            }
            _ => return None,
        });
    }
    None
}
