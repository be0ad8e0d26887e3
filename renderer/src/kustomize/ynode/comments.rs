//! The comments yaml.v3 attaches to the nodes of a document it reads, which kustomize's hash of an object of another kind includes and its dumps of a node in messages print.
//!
//! yaml.v3 keeps each comment on a node as its `HeadComment` (lines before
//! it), `LineComment` (after it on its line) or `FootComment` (lines after
//! a block). kiln's parser reports no comments, so they are found here in
//! the text between the scalars' spans and placed as yaml.v3's scanner,
//! parser and decoder place them, for documents in block style:
//! - a comment after content on its line belongs to the token before it: a
//!   scalar, the key before a `:`, the outermost flow collection before a
//!   `]` or `}` (an empty one too), a block scalar after its indicator
//!   (and chomping indicator); after an anchor or a tag it goes to the
//!   first scalar of the node they stand before; after a bare `-` or a
//!   starting `---` it heads what follows (a list after a `-` included);
//! - the comment lines between two tokens are cut into records as the
//!   scanner cuts them: at the first empty line after a run that follows
//!   the previous token directly (or one left of the current indentation),
//!   and where a line (or the next token) is left of the indentation at
//!   another column: those runs are feet, the rest is a head;
//! - a foot belongs to the token before (a value's foot goes to its key),
//!   to the end of the block it closes (placed at the first record in the
//!   block's column: a map's last key, a list itself, whose key takes it),
//!   or to the next key (the key before it takes it); a head waits for the
//!   next node: a key, or the item after `-`.
//!
//! Before the first node a document without `---` keeps only the run
//! directly above it; after the last node, and before `...`, what is left is
//! the document's, which kustomize does not hash. Comments inside flow
//! collections follow the scanner's rules for flow context
//! ([`place_in_flow`]).

use super::{MAPPING, Node, SCALAR, SEQUENCE, is_item_dash};
use std::collections::HashMap;

/// A node's comments as yaml.v3 keeps them.
pub(super) use crate::yaml::Comments as Notes;

/// Which of a node's comments.
#[derive(Clone, Copy)]
enum Slot {
    Head,
    Line,
    Foot,
    /// The foot a block mapping's end gives its last key: it replaces the
    /// one the key has once yaml.v3 has read the mapping's pairs.
    EndFoot,
}

/// A node of the tree in document order.
struct Entry {
    /// Child indices from the root.
    path: Vec<usize>,
    span: std::ops::Range<usize>,
    kind: u8,
    flow: bool,
    column: usize,
    /// The entry of the collection holding it.
    parent: Option<usize>,
    /// How many children it has.
    children: usize,
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
    flatten(root, &mut Vec::new(), None, &mut entries);
    if entries.is_empty() {
        return;
    }
    let lines = LineIndex::new(text);
    // An empty flow collection parts the text as a scalar does.
    let scalars: Vec<usize> = (0..entries.len())
        .filter(|&i| {
            // An empty scalar (an item after a bare `-`) is no token.
            (entries[i].kind == SCALAR && !entries[i].span.is_empty())
                || (entries[i].flow && entries[i].children == 0)
        })
        .collect();
    // The gaps between scalars, where comments can be; a block scalar's
    // header line is one too.
    let mut gaps: Vec<(Option<usize>, std::ops::Range<usize>)> = Vec::new();
    let mut from = 0;
    let mut prev = None;
    for &i in &scalars {
        let mut span = entries[i].span.clone();
        // The parser's span of a quoted scalar runs on over what follows
        // it on its line.
        if let Some(end) = quoted_end(text, span.start) {
            span.end = span.end.min(end);
        }
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

    let ends = ends_at(text, &entries);
    let mut placed: Vec<(Vec<usize>, Slot, String)> = Vec::new();
    for (prev, gap) in gaps {
        let (in_flow, found): (Vec<Comment>, Vec<Comment>) =
            find_comments(text, gap.clone(), &lines)
                .into_iter()
                .partition(|c| innermost_flow(&entries, c.at).is_some());
        place_in_flow(text, &entries, &ends, in_flow, &lines, &mut placed);
        if found.is_empty() {
            continue;
        }
        place(text, &entries, prev, gap, found, &lines, &mut placed);
    }
    let mut end_feet = Vec::new();
    for (path, slot, note) in placed {
        if let Slot::EndFoot = slot {
            end_feet.push((path, note));
            continue;
        }
        let Some(node) = node_at(root, &path) else { continue };
        let notes = node.notes.get_or_insert_with(Box::default);
        let field = match slot {
            Slot::Head => &mut notes.head,
            Slot::Line => &mut notes.line,
            Slot::Foot | Slot::EndFoot => &mut notes.foot,
        };
        if !field.is_empty() {
            field.push('\n');
        }
        field.push_str(&note);
    }
    move_feet(root);
    for (path, note) in end_feet {
        if let Some(node) = node_at(root, &path) {
            node.notes.get_or_insert_with(Box::default).foot = note;
        }
    }
    copy_notes(root);
}

/// kyaml's `DeAnchor` copies an anchored node with its comments: each node
/// of a copy an alias or a merge key made takes the comments of the node it
/// copies, found where that one is in the text.
fn copy_notes(root: &mut Node) {
    fn originals(node: &Node, out: &mut HashMap<(usize, usize, u8), Notes>) {
        if node.copied {
            return;
        }
        if let Some(notes) = &node.notes {
            out.insert((node.span.start, node.span.end, node.kind), (**notes).clone());
        }
        node.content.iter().flatten().for_each(|c| originals(c, out));
    }
    fn copies(node: &mut Node, found: &HashMap<(usize, usize, u8), Notes>, in_copy: bool) {
        let in_copy = in_copy || node.copied;
        if in_copy {
            let span = node.anchored.as_ref().unwrap_or(&node.span);
            node.notes = found.get(&(span.start, span.end, node.kind)).cloned().map(Box::new);
        }
        for child in node.content.iter_mut().flatten() {
            copies(child, found, in_copy);
        }
    }
    let mut found = HashMap::new();
    originals(root, &mut found);
    if !found.is_empty() {
        copies(root, &found, false);
    }
}

/// The moves of feet yaml.v3's decoder makes as it reads a mapping's
/// pairs in order: the foot of a block mapping's key (one waiting before
/// it) replaces the foot of the key before, then a key without a foot takes
/// its value's.
fn move_feet(node: &mut Node) {
    fn take_foot(node: &mut Node) -> Option<String> {
        let notes = node.notes.as_mut()?;
        Some(std::mem::take(&mut notes.foot)).filter(|f| !f.is_empty())
    }
    fn set_foot(node: &mut Node, foot: String) {
        node.notes.get_or_insert_with(Box::default).foot = foot;
    }
    let block = node.style & super::FLOW == 0;
    let Some(content) = node.content.as_mut() else { return };
    if node.kind == MAPPING {
        for k in (0..content.len()).step_by(2) {
            if block
                && k >= 2
                && let Some(foot) = take_foot(&mut content[k])
            {
                set_foot(&mut content[k - 2], foot);
            }
            if content[k].notes.as_ref().is_none_or(|n| n.foot.is_empty())
                && let Some(foot) = content.get_mut(k + 1).and_then(take_foot)
            {
                set_foot(&mut content[k], foot);
            }
        }
    }
    for child in content.iter_mut() {
        move_feet(child);
    }
}

/// The nodes of the tree in document order, without alias copies.
fn flatten(node: &Node, path: &mut Vec<usize>, parent: Option<usize>, out: &mut Vec<Entry>) {
    // A copy an alias or a merge key made stands where the anchored node
    // is, and takes no comments here.
    if node.copied {
        return;
    }
    let me = out.len();
    out.push(Entry {
        path: path.clone(),
        span: node.span.clone(),
        kind: node.kind,
        flow: node.style & super::FLOW != 0,
        column: node.column,
        parent,
        children: node.content.as_ref().map_or(0, Vec::len),
    });
    for (i, child) in node.content.iter().flatten().enumerate() {
        path.push(i);
        flatten(child, path, Some(me), out);
        path.pop();
    }
}

fn node_at<'a>(mut node: &'a mut Node, path: &[usize]) -> Option<&'a mut Node> {
    for &i in path {
        node = node.content.as_mut()?.get_mut(i)?;
    }
    Some(node)
}

/// The end of a quoted scalar that starts at `at` (after its closing
/// quote); `None` when the text there is not quoted.
pub(super) fn quoted_end(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    let bytes = rest.as_bytes();
    match bytes.first()? {
        b'\'' => {
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(at + i + 1);
                }
                i += 1;
            }
            None
        }
        b'"' => {
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return Some(at + i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        _ => None,
    }
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
    // The next token starts its line.
    let from = text[..at].rfind('\n').map_or(0, |n| n + 1);
    // Entries start in document order.
    let first = entries.partition_point(|e| e.span.start < from);
    let first = (first..entries.len()).find(|&i| !entries[i].span.is_empty())?;
    let line = &text[from..entries[first].span.start];
    if line.trim_start().starts_with('-') {
        // The item after a `-`, a list of its own too (`- - c`): the
        // comment heads that list, not its first item.
        return Some(first);
    }
    if text[entries[first].span.start..].starts_with('-') {
        return Some(first + 1).filter(|&i| i < entries.len());
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
    // The gap ends at a document end marker (`...`), a token that takes no
    // head: what is left for one is the document's.
    let marker = next.is_none() && text[gap.end..].starts_with("...");
    // Comments after `---` or a bare `-`: the start of the next node's head.
    // Where each starts, and its text.
    let mut heads: Vec<(usize, String)> = Vec::new();
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
                heads.push((c.at, c.text));
            }
        } else if is_bare_dash(before) {
            heads.push((c.at, c.text));
        } else {
            let property =
                before.rsplit([' ', '\t']).next().is_some_and(|t| t.starts_with(['&', '!']));
            let target = match prev {
                // The flow collection closed there: the outermost one
                // around the last that started before the comment.
                Some(_) if before.ends_with([']', '}']) => {
                    let last =
                        entries[..started_before(entries, c.at)].iter().rposition(|e| e.flow);
                    last.map(|i| &entries[outermost_flow(entries, i).unwrap_or(i)])
                }
                // After an anchor or a tag the comment waits for the node
                // they stand before, whose first scalar takes it.
                Some(_) if property => {
                    entries[started_before(entries, gap.end)..].iter().find(|e| e.kind == SCALAR)
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
    let Some(p) = prev else {
        // An explicit `---` before the comments starts the document.
        let first = full.first().map_or(gap.end, |c| c.at);
        let start_line = start_line.or_else(|| {
            let marker = text[gap.start..first].lines().position(|l| l.trim_end() == "---")?;
            Some(lines.line(gap.start) + marker)
        });
        let heads = heads.into_iter().map(|(_, text)| text).collect();
        document_head(entries, next, heads, full, start_line, lines, placed);
        return;
    };
    // The token before the comments: a scalar, the `:` after a key, a bare
    // `-`, or the end of a flow collection.
    // The first comment the scan reads: on a line of its own or after a
    // bare `-`.
    let first_at =
        full.iter().map(|c| c.at).chain(heads.iter().map(|h| h.0)).min().unwrap_or(gap.end);
    let between = strip_line_comment(&text[gap.start..first_at]);
    let between = between.trim();
    let (before, before_at) = if between.ends_with([']', '}']) {
        let flow = outermost_flow(entries, p).unwrap_or(p);
        (Before::Node(flow), gap.start + text[gap.start..].find([']', '}']).unwrap_or(0))
    } else if between.ends_with([':', '-']) {
        (Before::Indicator, gap.start + text[gap.start..first_at].find([':', '-']).unwrap_or(0))
    } else {
        (Before::Node(p), entries[p].span.start)
    };
    // The line of the last text before the comments (a block scalar's
    // span runs on over the empty lines after it).
    let p_line = lines.line(text[..first_at].trim_end().len().saturating_sub(1));
    // The blocks open at the scalar before, innermost first, by indent
    // (0-based column); a sequence at its key's column opens none.
    let node_idx = match before {
        Before::Node(i) => i,
        Before::Indicator => p,
    };
    let blocks = open_blocks(entries, node_idx);
    let mut next_indent = blocks.first().map_or(0, |&(_, indent)| indent);
    let next_col0: isize = match next {
        Some(n) => {
            let at = entries[n].span.start;
            let body = &text[lines.start(lines.line(at))..at];
            (body.chars().count() - body.trim_start().chars().count()) as isize
        }
        // A document end marker stands at column 0.
        None if marker => 0,
        None => -1,
    };
    let next_line =
        next.map(|n| lines.line(entries[n].span.start)).or(marker.then(|| lines.line(gap.end)));
    // yaml.v3's scan of the comment lines into head and foot records.
    // The line a run must start on to be the foot of the token before it
    // (the scalar, or a bare `-` the scan passed), which is no `:`.
    let mut foot_line = p_line + 1;
    let mut after_value = between.ends_with(':');
    // Where the scan before the next token started: after the last bare
    // `-`, or the token before the gap.
    let mut scan_start = gap.start;
    // The tokens in the gap that close blocks, each with its column, where
    // the scan before it started and where it is: the bare `-`s, then the
    // next token.
    let mut closers: Vec<(isize, usize, usize)> = Vec::new();
    let row_has_comment = |line: usize| {
        let row = &text[lines.start(line)..lines.start(line + 1).max(lines.start(line))];
        strip_line_comment(row).trim() != row.trim()
    };
    // A comment after a bare `-` on its line starts the scan's text: the
    // scan reads from the `-`'s row, as it does for a `-` further on.
    let dash_row = is_bare_dash(between) && row_has_comment(p_line);
    if let Some(at) = last_bare_dash(&text[gap.start..first_at]).filter(|_| !dash_row) {
        let dash_at = gap.start + at;
        let column = text[lines.start(lines.line(dash_at))..dash_at].chars().count();
        closers.push((column as isize, scan_start, dash_at));
        scan_start = dash_at + 1;
        next_indent = column;
    }
    let mut records: Vec<Record> = Vec::new();
    let mut body = String::new();
    let mut start: Option<(usize, usize, usize)> = None; // column, byte, line
    let mut mark = Mark::Before;
    let first_line = match full.first() {
        _ if dash_row => p_line,
        Some(c) => c.line,
        None => p_line + 1,
    };
    let mut first_empty = first_line == p_line + 1;
    let mut recent_empty = false;
    let last_line =
        next_line.map_or_else(|| lines.line(gap.end.max(1) - 1).max(first_line), |l| l - 1);
    let mut comments = full.into_iter().peekable();
    let mut line = first_line;
    loop {
        let end = line > last_line;
        let comment = comments.next_if(|c| c.line == line);
        let row = &text[lines.start(line)..lines.start(line + 1).max(lines.start(line))];
        if !end && comment.is_none() && is_bare_dash(strip_line_comment(row).trim()) {
            // The `-` of an empty item, a token that takes no comments: the
            // lines before it that are no foot wait for the next node. The
            // end of a block map closed on the way takes them (and they are
            // lost); a list's end takes no comments (yaml.v3's parser sets
            // an event's comments on a block mapping's end, not a
            // sequence's).
            let dash_col = row.len() - row.trim_start().len();
            if let Some((col, at, _)) = start.filter(|_| !body.is_empty()) {
                let body = std::mem::take(&mut body);
                if dash_col < next_indent && dash_col + 1 != col {
                    // Dedented from the run: the run is a foot.
                    records.push(Record::foot(body, mark, col, at));
                } else if !blocks.iter().any(|&(b, indent)| {
                    entries[b].kind == MAPPING && indent <= dash_col && indent as isize > next_col0
                }) {
                    records.push(Record { head: true, body, mark: Mark::At(at), column: col, at });
                }
            }
            body.clear();
            start = None;
            // The scan starts again after the `-`, the token before what
            // follows.
            let dash_at = lines.start(line) + dash_col;
            // After `- -` the heads so far go to the list the second `-`
            // starts: yaml.v3's parser splits them off as its head.
            if let Some(inner) = nested_list(text, entries, dash_at) {
                let mut stem: Vec<(usize, String)> =
                    heads.extract_if(.., |(at, _)| *at < dash_at).collect();
                stem.extend(records.extract_if(.., |r| r.head).map(|r| (r.at, r.body)));
                stem.sort_by_key(|(at, _)| *at);
                let stem: Vec<String> = stem.into_iter().map(|(_, text)| text).collect();
                if !stem.is_empty() {
                    placed.push((entries[inner].path.clone(), Slot::Head, stem.join("\n")));
                }
            }
            mark = Mark::At(dash_at);
            closers.push((dash_col as isize, scan_start, dash_at));
            scan_start = dash_at + 1;
            foot_line = line + 1;
            after_value = false;
            // The blocks the `-` closed are gone; its list is open at its
            // column (an indentless one at its key's, the same).
            next_indent = dash_col;
            first_empty = true;
            recent_empty = false;
            // A comment after the `-` on its line starts the scan's run
            // (with content on the line, a foot would start two lines down).
            let row_range = lines.start(line)..lines.start(line + 1).max(lines.start(line));
            if let Some(i) = heads.iter().position(|(at, _)| row_range.contains(at)) {
                let (at, comment) = heads.remove(i);
                body = comment;
                start = Some((text[row_range.start..at].chars().count() + 1, at, line));
                foot_line = line + 2;
            }
            line += 1;
            continue;
        }
        if comment.is_none() || end {
            // An empty line, or the end of the text.
            if !end
                && comment.is_none()
                && !text[lines.start(line)..lines.start(line + 1).max(lines.start(line))]
                    .trim()
                    .is_empty()
            {
                return;
            }
            let eof = end && next.is_none() && !marker;
            if (eof || !end) && !recent_empty {
                let (col, at, l) = start.unwrap_or((0, 0, 0));
                let dedented = col.saturating_sub(1) < next_indent;
                let direct = l == foot_line && !after_value;
                if first_empty && !body.is_empty() && (direct || dedented) {
                    if dedented {
                        mark = Mark::At(at);
                    }
                    records.push(Record::foot(std::mem::take(&mut body), mark, col, at));
                    mark = Mark::At(lines.start(line));
                } else if !body.is_empty() && !eof {
                    body.push('\n');
                }
            }
            if end {
                break;
            }
            first_empty = false;
            recent_empty = true;
            line += 1;
            continue;
        }
        let Some(c) = comment else { break };
        if let Some((col, at, _)) = start
            && !body.is_empty()
            && c.column.saturating_sub(1) < next_indent
            && c.column != col
        {
            records.push(Record::foot(std::mem::take(&mut body), mark, col, at));
            mark = Mark::At(c.at);
        }
        if body.is_empty() {
            start = Some((c.column, c.at, c.line));
        } else {
            body.push('\n');
        }
        body.push_str(&c.text);
        recent_empty = false;
        line += 1;
    }
    // The line of the next token may end a foot run that is dedented.
    if let (Some((col, at, _)), true) = (start, next.is_some() || marker)
        && !body.is_empty()
        && (next_col0 as usize) < next_indent
        && next_col0 as usize + 1 != col
    {
        records.push(Record::foot(std::mem::take(&mut body), mark, col, at));
    }
    if let Some((col, at, _)) = start.filter(|_| !body.is_empty()) {
        records.push(Record { head: true, body, mark: Mark::At(at), column: col, at });
    }
    closers.push((next_col0, scan_start, gap.end));
    // The ends of the blocks the tokens close, each placed at the first
    // comment record in its column of the scan before the token that closes
    // it (yaml.v3's `unroll_indent` searches back through the records that
    // follow each other without a token between), or where the block
    // inside it ends, or at the start of that scan.
    let mut ends: Vec<(usize, usize)> = Vec::new(); // (entry, position)
    let mut closer = 0;
    let mut block_mark = gap.start;
    for &(b, indent) in &blocks {
        while closers.get(closer).is_some_and(|c| c.0 >= indent as isize) {
            closer += 1;
            if let Some(c) = closers.get(closer) {
                block_mark = c.1;
            }
        }
        let Some(&(_, from, to)) = closers.get(closer) else { break };
        let scanned = records.iter().filter(|r| r.at >= from && r.at < to);
        if let Some(r) = scanned.filter(|r| r.column == indent + 1).min_by_key(|r| r.at) {
            block_mark = r.at;
        }
        ends.push((b, block_mark));
    }
    // Each record goes to the first token at or after its mark.
    let mut tokens: Vec<(Token, usize)> = Vec::new();
    if let Before::Node(i) = before {
        tokens.push((Token::Before(i), before_at));
    }
    tokens.extend(ends.iter().map(|&(b, at)| (Token::End(b), at)));
    if let Some(n) = next {
        tokens.push((Token::Next(n), entries[n].span.start));
    }
    let mut t = 0;
    let mut taken: Vec<(usize, bool, String)> = Vec::new(); // token, head, text
    for r in records {
        let mark = match r.mark {
            Mark::Before => before_at,
            Mark::At(at) => at,
        };
        while let Some((token, at)) = tokens.get(t) {
            if *at >= mark && !(r.head && matches!(token, Token::End(_))) {
                break;
            }
            t += 1;
        }
        if r.head && matches!(tokens.get(t), Some((Token::Next(_), _))) {
            // The comments after a bare `-` on its line and the head runs
            // join in the order of the text.
            heads.push((r.at, r.body));
        } else if t < tokens.len() {
            // A block list's end takes no comments: its foot waits for the
            // token after it.
            let mut t = t;
            while matches!(tokens[t].0, Token::End(b) if entries[b].kind == SEQUENCE)
                && t + 1 < tokens.len()
            {
                t += 1;
            }
            match taken.iter_mut().find(|(tt, h, ..)| *tt == t && *h == r.head) {
                Some((.., text)) => {
                    text.push('\n');
                    text.push_str(&r.body);
                }
                None => taken.push((t, r.head, r.body)),
            }
        }
    }
    for (t, is_head, body) in taken {
        let (token, _) = &tokens[t];
        match (token, is_head) {
            (Token::Next(_), true) => {}
            (Token::Next(n), false) => {
                // The parser gives a foot waiting before a block collection
                // to the first scalar in it; a flow collection takes it at
                // its start and yaml.v3 replaces it with its end's. A key's
                // foot goes on to the key before it ([`move_feet`]).
                let mut n = *n;
                while entries[n].kind != SCALAR
                    && !entries[n].flow
                    && entries.get(n + 1).is_some_and(|c| c.parent == Some(n))
                {
                    n += 1;
                }
                if entries[n].kind != SCALAR {
                    continue;
                }
                placed.push((entries[n].path.clone(), Slot::Foot, body));
            }
            (Token::Before(i), _) => placed.push((entries[*i].path.clone(), Slot::Foot, body)),
            (Token::End(b), _) => {
                let e = &entries[*b];
                let count = e.children;
                if e.kind == MAPPING && count > 1 {
                    let mut q = e.path.clone();
                    q.push(count - 2);
                    placed.push((q, Slot::EndFoot, body));
                } else {
                    placed.push((e.path.clone(), Slot::Foot, body));
                }
            }
        }
    }
    heads.sort_by_key(|(at, _)| *at);
    let head = heads.into_iter().map(|(_, text)| text).collect::<Vec<_>>().join("\n");
    if let Some(n) = next.filter(|_| !head.is_empty()) {
        placed.push((entries[n].path.clone(), Slot::Head, head));
    }
}

/// The innermost flow collection whose text holds `at`: a node that holds
/// it starts before it, so it holds the last node that does.
fn innermost_flow(entries: &[Entry], at: usize) -> Option<usize> {
    let last = started_before(entries, at).checked_sub(1);
    std::iter::successors(last, |&i| entries[i].parent)
        .find(|&i| entries[i].flow && at < entries[i].span.end)
}

/// How many entries start before `at` (entries are in document order).
fn started_before(entries: &[Entry], at: usize) -> usize {
    entries.partition_point(|e| e.span.start < at)
}

/// For each place where the text of a node ends (a quoted scalar's at its
/// closing quote), the innermost node ending there.
fn ends_at(text: &str, entries: &[Entry]) -> HashMap<usize, usize> {
    let mut out: HashMap<usize, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate().filter(|(_, e)| !e.span.is_empty()) {
        let end = quoted_end(text, e.span.start).map_or(e.span.end, |q| q.min(e.span.end));
        let inner = out.get(&end).is_none_or(|&o| entries[o].span.start <= e.span.start);
        if inner {
            out.insert(end, i);
        }
    }
    out
}

/// Places comments inside flow collections as yaml.v3 does:
/// - a comment after content on its line belongs to the token before it
///   (past a `,`): a scalar, or the flow collection a `]` or `}` closes; after
///   a `:` the value's scalar takes it, after a `[` or `{` it is lost;
/// - comment lines between two tokens are cut as the scanner cuts them: a
///   run on the line after the last token's, followed by an empty line, is
///   the foot of that token (a scalar); the other lines are joined, an
///   empty line between them kept, and head the next node, or before a `]`
///   or `}` are the foot of the scalar before (or of the collection, past
///   an earlier foot).
fn place_in_flow(
    text: &str,
    entries: &[Entry],
    ends: &HashMap<usize, usize>,
    found: Vec<Comment>,
    lines: &LineIndex,
    placed: &mut Vec<(Vec<usize>, Slot, String)>,
) {
    // The innermost node whose text ends at `at`, past blanks and a `,`.
    let token_before = |at: usize| {
        let mut before = text[..at].trim_end();
        // Past the line comments of the lines before.
        while let Some(c) =
            find_comments(before, lines.start(lines.line(before.len()))..before.len(), lines)
                .first()
        {
            before = before[..c.at].trim_end();
        }
        let before = before.strip_suffix(',').unwrap_or(before).trim_end().len();
        ends.get(&before).copied()
    };
    let mut found = found.into_iter().peekable();
    let mut run: Vec<Comment> = Vec::new();
    while let Some(c) = found.next() {
        let line_start = lines.start(c.line);
        let before = text[line_start..c.at].trim();
        if !before.is_empty() {
            let token = before.strip_suffix(',').unwrap_or(before).trim_end();
            let target = if token.ends_with(':') {
                // The value after the `:`, if it is a scalar.
                let from = started_before(entries, c.at + 1);
                let next = (from..entries.len()).find(|&i| !entries[i].span.is_empty());
                next.filter(|&n| entries[n].kind == SCALAR)
            } else {
                token_before(line_start + text[line_start..c.at].trim_end().len())
            };
            if let Some(t) = target {
                placed.push((entries[t].path.clone(), Slot::Line, c.text));
            }
            continue;
        }
        run.push(c);
        // The comment lines up to the next token, empty lines between them.
        if found.peek().is_some_and(|n| {
            text[lines.start(n.line)..n.at].trim().is_empty()
                && text[run[run.len() - 1].at..lines.start(n.line)]
                    .lines()
                    .skip(1)
                    .all(|l| l.trim().is_empty())
        }) {
            continue;
        }
        // The next token: a node, or the end of a flow collection.
        let last = &run[run.len() - 1];
        let after = text[last.at..].find('\n').map_or(text.len(), |n| last.at + n);
        let next_at = text.len() - text[after..].trim_start().len();
        let prev = token_before(run[0].at);
        let prev_line = lines.line(text[..run[0].at].trim_end().len().saturating_sub(1));
        let mut direct = run[0].line == prev_line + 1;
        let mut footed = false;
        let mut body = String::new();
        for (i, c) in run.iter().enumerate() {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(&c.text);
            let next_line = run.get(i + 1).map_or(lines.line(next_at), |n| n.line);
            if next_line > c.line + 1 {
                if direct {
                    // The foot of the token before: after a `[` or `{` the
                    // collection's end replaces it.
                    let foot = std::mem::take(&mut body);
                    if let Some(p) = prev {
                        placed.push((entries[p].path.clone(), Slot::Foot, foot));
                    }
                    footed = true;
                } else if i + 1 < run.len() {
                    body.push('\n');
                }
                direct = false;
            }
        }
        run.clear();
        if body.is_empty() {
            continue;
        }
        if text[next_at..].starts_with([']', '}']) {
            // Before the end of a collection: the foot of the scalar
            // before, or past an earlier foot, of the collection.
            let target = if footed { innermost_flow(entries, next_at) } else { prev };
            if let Some(t) = target {
                placed.push((entries[t].path.clone(), Slot::Foot, body));
            }
        } else if let Some(n) = (started_before(entries, next_at)..entries.len())
            .take_while(|&i| entries[i].span.start == next_at)
            .filter(|&i| !entries[i].span.is_empty())
            .min_by_key(|&i| entries[i].path.len())
        {
            placed.push((entries[n].path.clone(), Slot::Head, body));
        }
    }
}

/// The comments before a document's first node: after an explicit `---`
/// all of them head it, runs parted by an empty line joined with one;
/// otherwise only the run directly above it does (the rest is the
/// document's).
fn document_head(
    entries: &[Entry],
    next: Option<usize>,
    heads: Vec<String>,
    full: Vec<Comment>,
    start_line: Option<usize>,
    lines: &LineIndex,
    placed: &mut Vec<(Vec<usize>, Slot, String)>,
) {
    let Some(n) = next else { return };
    let next_line = lines.line(entries[n].span.start);
    let mut runs: Vec<(String, bool, usize)> = Vec::new(); // text, empty line before, last line
    let mut last = start_line;
    for c in full {
        let blank = last.is_some_and(|l| c.line > l + 1);
        last = Some(c.line);
        match runs.last_mut() {
            Some((body, _, end)) if !blank => {
                body.push('\n');
                body.push_str(&c.text);
                *end = c.line;
            }
            _ => runs.push((c.text, blank, c.line)),
        }
    }
    if start_line.is_none() {
        let direct = runs.last().is_some_and(|r| next_line == r.2 + 1);
        runs =
            runs.pop().filter(|_| direct).map(|(b, _, e)| vec![(b, false, e)]).unwrap_or_default();
    }
    let mut head = heads.join("\n");
    let mut end = start_line;
    for (body, blank, last) in runs {
        if !head.is_empty() {
            head.push_str(if blank { "\n\n" } else { "\n" });
        }
        head.push_str(&body);
        end = Some(last);
    }
    // yaml.v3 keeps the empty line between a head and its node.
    if !head.is_empty() && end.is_some_and(|e| next_line > e + 1) {
        head.push('\n');
    }
    if !head.is_empty() {
        placed.push((entries[n].path.clone(), Slot::Head, head));
    }
}

/// The block list a second `-` on the line of the `-` at `dash_at` starts
/// (`- - x`), if there is one.
fn nested_list(text: &str, entries: &[Entry], dash_at: usize) -> Option<usize> {
    let after = text[dash_at + 1..].split(['\n', '\r']).next().unwrap_or("");
    let inner = after.trim_start_matches([' ', '\t']);
    if !is_item_dash(inner) {
        return None;
    }
    let at = dash_at + 1 + after.len() - inner.len();
    let i = started_before(entries, at);
    entries.get(i).filter(|e| e.kind == SEQUENCE && e.span.start == at).map(|_| i)
}

/// Whether `before`, the text before a comment on its line, ends with a
/// `-` that starts a list item (not a block scalar's `|-` or `>-`, nor
/// `---`).
fn is_bare_dash(before: &str) -> bool {
    let Some(rest) = before.strip_suffix('-') else { return false };
    rest.is_empty() || rest.ends_with([' ', '\t'])
}

/// Where the `-` is in `text` when the last token it holds is a bare `-`
/// (an item whose node comes later).
fn last_bare_dash(text: &str) -> Option<usize> {
    let mut offset = 0;
    let mut last = None;
    for line in text.split_inclusive('\n') {
        let content = strip_line_comment(line);
        let content = content.trim_end();
        if !content.trim_start().is_empty() {
            last = is_bare_dash(content.trim_start()).then(|| offset + content.len() - 1);
        }
        offset += line.len();
    }
    last
}

/// A text without a trailing line comment on each of its lines.
fn strip_line_comment(text: &str) -> String {
    text.lines()
        .map(|l| match l.find(" #").or_else(|| l.starts_with('#').then_some(0)) {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What stands before a gap's comments.
#[derive(Clone, Copy)]
enum Before {
    /// A node's token: a scalar, or a flow collection's end.
    Node(usize),
    /// A `:` or `-` with its node still to come.
    Indicator,
}

/// Where a comment record attaches: the token before the comments, or the
/// first token at or after a place.
#[derive(Clone, Copy)]
enum Mark {
    Before,
    At(usize),
}

/// A token a comment record can attach to.
#[derive(Clone, Copy, PartialEq)]
enum Token {
    Before(usize),
    End(usize),
    Next(usize),
}

/// A head or foot comment as yaml.v3's scanner records it.
struct Record {
    head: bool,
    body: String,
    mark: Mark,
    /// The column and place of its first line.
    column: usize,
    at: usize,
}

impl Record {
    fn foot(body: String, mark: Mark, column: usize, at: usize) -> Record {
        Record { head: false, body, mark, column, at }
    }
}

/// The ancestors of entry `i`, outermost first.
fn ancestors(entries: &[Entry], i: usize) -> Vec<usize> {
    let mut out: Vec<usize> =
        std::iter::successors(entries[i].parent, |&j| entries[j].parent).collect();
    out.reverse();
    out
}

/// The outermost flow collection holding entry `i`.
fn outermost_flow(entries: &[Entry], i: usize) -> Option<usize> {
    ancestors(entries, i).into_iter().find(|&j| entries[j].flow)
}

/// The block collections open at entry `i`, innermost first, with their
/// indents (0-based columns); a block sequence at its key's column (an
/// indentless one) opens no level.
fn open_blocks(entries: &[Entry], i: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut parent_col = None;
    for j in ancestors(entries, i) {
        let e = &entries[j];
        let indentless = e.kind == SEQUENCE && parent_col == Some(e.column);
        parent_col = Some(e.column);
        if !e.flow && !indentless && e.kind != SCALAR {
            out.push((j, e.column.saturating_sub(1)));
        }
    }
    out.reverse();
    out
}
