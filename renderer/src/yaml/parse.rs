//! Reading YAML streams into [`Value`]s, with positions in errors and bounds on aliases.

use super::breaks::{self, Chomping, ParserText, is_extra_break};
use super::emit::{analyze, is_break};
use super::resolve::{parse_go_int, parse_go_uint, parse_timestamp, resolve_plain};
use crate::gotmpl::sprig::{go_bytes, is_raw_byte};
use crate::resource::Step;
use crate::value::{Map, Value};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};
use std::borrow::Cow;
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
    /// The line (1-based) where the piece of the file that was read on its
    /// own began, as kustomize reads each `---`-separated document of a
    /// resource file; 0 when the whole text was read at once. Go's messages
    /// count lines from there.
    pub piece_line: usize,
    /// Every mapping key given twice in the document, in the order Go's
    /// yaml.v3 lists them (`line N: mapping key "k" already defined at line
    /// M`, one line per pair of equal keys of a mapping); empty for other
    /// errors. Lines count from the start of the piece read on its own.
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// A mapping key given again, as yaml.v3's decoder reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    /// The key, as written (Go compares and names keys by their text).
    pub key: String,
    /// The key as the document's value holds it (`null` for `~`).
    pub name: String,
    /// The path of the mapping that has it twice.
    pub map: Vec<Step>,
    /// The line of the later key.
    pub line: usize,
    /// The line of the earlier key.
    pub first_line: usize,
    /// The lines of the later and the earlier key in the document as read
    /// (`line` and `first_line` may count those of another encoding).
    pub read_lines: (usize, usize),
    /// Whether yaml.v3 leaves it out when it decodes the whole document:
    /// the document's root mapping gives a key twice too, and the decoder
    /// then reads none of that mapping's values. kyaml hands on the items
    /// of a one-piece `List` as nodes, each decoded on its own, which
    /// report it.
    pub behind_root: bool,
    /// For the later and the earlier key: 0 for a key of the mapping as
    /// written, `n` for the `n`-th entry kyaml's reader appended to it (see
    /// `null_copies`), which stands after the mapping's last key.
    pub appended: (usize, usize),
    /// Whether kiln's value holds the two keys apart (a null and a string
    /// written alike) or holds one alone (an entry kyaml appended): kyaml's
    /// node keeps both whatever the build's steps do.
    pub apart: bool,
    /// The lines of the keys whose entries kyaml appended to the mapping,
    /// in order.
    pub copied: Vec<usize>,
    /// The line of the mapping's last key as written.
    pub last_key_line: usize,
    /// Whether the mapping is in flow style: kyaml writes it, and what it
    /// appended, on one line.
    pub flow: bool,
}

/// A mapping key given again in a resource, with the value it has there:
/// kiln's value holds the first, kyaml's node tree holds both, and a step
/// that removes the first makes this one the field (see
/// [`Document::shadows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Shadow {
    /// The path of the mapping that has the key again.
    pub map: Vec<Step>,
    /// The key.
    pub key: String,
    /// Its value there.
    pub value: Value,
    /// Its place among the mapping's entries as written, earlier keys
    /// given again counted.
    pub at: usize,
    /// The keys its value gives again, by paths from that value.
    pub inner: Vec<Shadow>,
}

/// Whether libyaml's words `problem` are the decoder's, which reports
/// them after the whole stream is read, without a line.
fn decoder_problem(problem: &str) -> bool {
    problem.starts_with("unknown anchor")
        || problem.starts_with("cannot decode")
        || problem == BINARY_BASE64
        || problem.starts_with("invalid map key")
        || is_merge_problem(problem)
        || problem == EXCESSIVE_ALIASING
}

impl ParseError {
    /// An error at `line` and `column` of `file`, which was read whole.
    pub fn new(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        ParseError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            piece_line: 0,
            duplicate_keys: Vec::new(),
        }
    }

    /// Whether Go reports this error after reading the whole stream (the
    /// decoder's and sigs.k8s.io/yaml's errors, duplicate keys), rather than
    /// the scanner's or parser's at a place in the text.
    fn decoder_error(&self) -> bool {
        // The decoder's words have no context before them, and may hold a
        // `, ` of their own (`invalid map key: []interface {}{1, 2}`).
        let problem = self.message.rsplit_once(", ").map_or(self.message.as_str(), |(_, p)| p);
        self.message.starts_with(UNSUPPORTED_KEY)
            || !self.duplicate_keys.is_empty()
            || self.message.contains("already defined at line")
            || decoder_problem(&self.message)
            || decoder_problem(&libyaml_words(problem))
    }

    /// The problem without its context, and whether libyaml's scanner (not
    /// its parser) reports it.
    fn problem(&self) -> (&str, bool) {
        split_problem(&self.message)
    }

    /// Whether Go's decoder reports this error once the parser has read
    /// the whole document, so that any scanner or parser error in it comes
    /// first: the decoder's errors, but an unknown anchor, which the
    /// parser refuses where it stands.
    fn after_read(&self) -> bool {
        self.decoder_error() && !self.message.starts_with("unknown anchor")
    }

    /// The line as Go counts it: from the start of the piece read on its own.
    fn go_line(&self) -> usize {
        match self.piece_line {
            0 => self.line,
            start => self.line.saturating_sub(start - 1),
        }
    }

    /// The error as Go's yaml packages (yaml.v2 and yaml.v3, both ports of
    /// libyaml) word it: `yaml: line N: problem`, with libyaml's line
    /// convention (the 0-based line for a parser error, the 1-based line for
    /// a scanner error, none on the first line) and libyaml's words.
    pub fn go_message(&self) -> String {
        // Text after a closing quote (`image: "{{ .repo }}":tag`) is a
        // scanner error here; libyaml scans it as the next token and its
        // parser then misses the mapping key, naming the 0-based line.
        if self.message.contains("invalid trailing content after") {
            return match self.go_line().saturating_sub(1) {
                0 => "yaml: did not find expected key".to_string(),
                line => format!("yaml: line {line}: did not find expected key"),
            };
        }
        if self.message == CONTROL || UTF8_PROBLEMS.contains(&self.message.as_str()) {
            // libyaml's reader refuses the character before parsing, without a line.
            return format!("yaml: {}", self.message);
        }
        if self.message.starts_with(UNSUPPORTED_KEY) {
            // sigs.k8s.io/yaml's own error, after yaml.v2 read the text.
            return self.message.clone();
        }
        if !self.duplicate_keys.is_empty() {
            let mut out = String::from("yaml: unmarshal errors:");
            for d in self.duplicate_keys.iter().filter(|d| !d.behind_root) {
                out.push_str(&format!(
                    "\n  line {}: mapping key {:?} already defined at line {}",
                    d.line, d.key, d.first_line
                ));
            }
            return out;
        }
        if self.message.contains("already defined at line") {
            return format!("yaml: unmarshal errors:\n  line {}: {}", self.go_line(), self.message);
        }
        let (problem, scanner) = self.problem();
        let problem = libyaml_words(problem);
        if decoder_problem(&problem) {
            // The decoder reports these, without a line.
            return format!("yaml: {problem}");
        }
        match self.go_line().saturating_sub(1) {
            0 => format!("yaml: {problem}"),
            zero_based => format!("yaml: line {}: {problem}", zero_based + usize::from(scanner)),
        }
    }
}

/// A message's problem without its context, and whether libyaml's scanner
/// (not its parser) reports it.
fn split_problem(message: &str) -> (&str, bool) {
    match message.rsplit_once(", ") {
        // libyaml's scanner words a few of its own contexts this way.
        Some(("while parsing a quoted scalar" | "while parsing a tag", problem)) => (problem, true),
        Some((context, problem)) if context.starts_with("while parsing") => (problem, false),
        Some((context, problem)) if context.starts_with("while ") => (problem, true),
        _ => (message, !PARSER_PROBLEMS.contains(&message)),
    }
}

/// Whether `text` starts with a quoted scalar that does not close: no
/// unescaped `"` after an opening `"`, or no lone `'` after an opening `'`
/// (two apostrophes are an escaped one).
fn unclosed_quote(text: &str) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some('"') => {
            let mut escaped = false;
            for c in chars {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return false,
                    _ => escaped = false,
                }
            }
            true
        }
        Some('\'') => {
            let mut rest = chars.peekable();
            while let Some(c) = rest.next() {
                if c == '\'' && rest.next_if_eq(&'\'').is_none() {
                    return false;
                }
            }
            true
        }
        _ => false,
    }
}

/// The first escape libyaml's scanner refuses in the double-quoted scalar
/// that `text` opens, before the scalar closes: its byte in `text` and
/// libyaml's words (an unknown escape, too few hex digits, a code point
/// that is a surrogate or past U+10FFFF).
fn bad_escape(text: &str) -> Option<(usize, &'static str)> {
    let mut chars = text.strip_prefix('"')?.char_indices().map(|(i, c)| (i + 1, c));
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return None,
            '\\' => {
                let digits = match chars.next()?.1 {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    '0' | 'a' | 'b' | 't' | '\t' | 'n' | 'v' | 'f' | 'r' | 'e' | ' ' | '"'
                    | '\'' | '\\' | 'N' | '_' | 'L' | 'P' => 0,
                    c if is_break(c) => 0,
                    _ => return Some((at, "found unknown escape character")),
                };
                let mut code = 0u32;
                for _ in 0..digits {
                    match chars.next().and_then(|(_, c)| c.to_digit(16)) {
                        Some(d) => code = code * 16 + d,
                        None => return Some((at, "did not find expected hexdecimal number")),
                    }
                }
                if (0xD800..=0xDFFF).contains(&code) || code > 0x10_FFFF {
                    return Some((at, "found invalid Unicode character escape code"));
                }
            }
            _ => {}
        }
    }
    None
}

/// The reader's words for an entry of a collection that libyaml's parser
/// cannot read, by kind of collection: yaml.v3 names the line where the
/// collection opened for them.
const BLOCK_MAPPING_ENTRY: &[&str] = &["while parsing a block mapping, did not find expected key"];
const FLOW_MAPPING_ENTRY: &[&str] =
    &["while parsing a flow mapping, did not find expected ',' or '}'"];
const BLOCK_SEQUENCE_ENTRY: &[&str] =
    &["while parsing a block collection, did not find expected '-' indicator"];
const FLOW_SEQUENCE_ENTRY: &[&str] = &["while parsing a flow sequence, expected ',' or ']'"];

/// Problems libyaml's parser (not its scanner) reports without a context.
const PARSER_PROBLEMS: &[&str] = &[
    "did not find expected <document start>",
    "duplicate version directive",
    "found duplicate %YAML directive",
    "found incompatible YAML document",
    "found duplicate %TAG directive",
    "found undefined tag handle",
    "the handle wasn't declared",
    "misplaced bracket",
];

/// libyaml's words for problems the YAML reader words its own way.
fn libyaml_words(problem: &str) -> String {
    match problem {
        "expected ',' or ']'" => "did not find expected ',' or ']'".to_string(),
        "expected ',' or '}'" => "did not find expected ',' or '}'".to_string(),
        "duplicate version directive" => "found duplicate %YAML directive".to_string(),
        // A key left without its `:`: before the next line, or at the end of the stream.
        "simple key expect ':'" | "simple key expected" => {
            "could not find expected ':'".to_string()
        }
        p if p.starts_with("tabs disallowed") || p.starts_with("unexpected character: ") => {
            "found character that cannot start any token".to_string()
        }
        // A tab in the indentation of a plain scalar's next line.
        "found a tab" => "found a tab character that violates indentation".to_string(),
        "misplaced bracket" => "did not find expected node content".to_string(),
        // libyaml's own spelling.
        "did not find expected hexadecimal number" => {
            "did not find expected hexdecimal number".to_string()
        }
        "the handle wasn't declared" => "found undefined tag handle".to_string(),
        // A `%` escape in a tag: libyaml's words.
        "found an invalid escape sequence" => "did not find URI escaped octet".to_string(),
        "found an incorrect leading UTF-8 byte" => {
            "found an incorrect leading UTF-8 octet".to_string()
        }
        "found an incorrect trailing UTF-8 byte" => {
            "found an incorrect trailing UTF-8 octet".to_string()
        }
        // The YAML scanner kiln uses counts flow levels in a byte; Go's
        // readers allow 10000 (`exceeded max depth of 10000`).
        "recursion limit exceeded" => {
            "flow collections nested deeper than 255 levels (kiln's bound)".to_string()
        }
        p => p.to_string(),
    }
}

/// Bounds on what one stream may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most value nodes all alias expansions of one stream may create.
    pub alias_nodes: usize,
    /// The most block collections libyaml lets nest (its indentation levels;
    /// yaml.v2 and yaml.v3 allow 10,000).
    pub depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { alias_nodes: 1_000_000, depth: 10_000 }
    }
}

/// Parses every document of a YAML stream. Empty documents come back as
/// `Value::Null`; callers decide whether to skip them.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<Value>, ParseError> {
    parse_documents_with(text, file, Limits::default())
}

/// One document and the source text of some of its scalars.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document.
    pub value: Value,
    /// By path, in the order they appear: every scalar that is not a
    /// string (or is a plain timestamp, read as a string of another text),
    /// with its text (`1.50`, `0x1F`, `~`, `null`; `""` for a null written
    /// as nothing at all, `key:`). Keys are not recorded; an alias counts as
    /// the texts of its anchored node.
    pub scalar_texts: Vec<(Vec<Step>, String)>,
    /// By path, in the order they appear, every scalar written in single or
    /// double quotes or as a block scalar (`|`, `>`): a string whatever
    /// node kyaml later puts there in its style (kept by the same entry
    /// points as `scalar_texts`).
    pub quoted: Vec<Vec<Step>>,
    /// By path, in the order they appear, every scalar written with a tag
    /// other than `!` (`!!str 10`): yaml.v3 gives its node the tagged
    /// style, which kyaml's setters keep and its encoder writes with the
    /// tag (kept by the same entry points as `scalar_texts`).
    pub tagged: Vec<Vec<Step>>,
    /// The first key of a nested mapping that is not a string (`1:`), kept
    /// by the same entry points as `scalar_texts`: kustomize reads such a
    /// document and fails only when a later step turns it into JSON.
    pub non_string_key: Option<Box<NonStringKey>>,
    /// Every key of a nested mapping that is not a string, by the path of
    /// its mapping and its text as kiln keeps it (`true`, `1`, a
    /// timestamp's RFC 3339 text), kept by the same entry points as
    /// `scalar_texts`: kyaml holds such a key's node, which fails where
    /// kustomize turns the object into JSON.
    pub typed_keys: Vec<(Vec<Step>, String)>,
    /// The keys given twice, for [`parse_kustomize_objects`] (the first
    /// value of each is kept): kustomize reads such a document into nodes
    /// and fails only when it turns the object into a Go map at the end.
    pub duplicates: Option<Box<ParseError>>,
    /// For [`parse_kustomize_objects`], by path: every scalar whose tag its
    /// text does not fit (`!!int abc`, `!!binary` that is not base64), as
    /// its text (a string here) and the error. kyaml holds the node as
    /// written; decoding it fails only when kustomize reads the object as
    /// data.
    pub undecodable: Vec<(Vec<Step>, String, ParseError)>,
    /// For [`parse_kustomize_objects`]: every key given again with its
    /// value, in the order written (those inside such a value with it).
    pub shadows: Vec<Shadow>,
    /// Where the document's text is in the text read: the piece kustomize
    /// cut it from, for [`parse_kustomize_documents`]; empty otherwise.
    pub piece: std::ops::Range<usize>,
}

/// A key that is not a string in a nested mapping of a resource, which
/// kustomize reads as a YAML node and cannot turn into JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct NonStringKey {
    /// Where the mapping holding the key is.
    pub map: Vec<Step>,
    /// The key as written (`1`, `true`).
    pub text: String,
    /// Its YAML tag (`!!int`, `!!bool`, `!!float`, `!!null`).
    pub tag: &'static str,
    /// The error kustomize gives when it turns the document into JSON.
    pub error: ParseError,
}

/// [`parse_kustomize_stream`] that also records [`Document::scalar_texts`]:
/// kustomize keeps the YAML text of a node, and some of its steps see it
/// (annotations are read as their text, a strategic merge drops a value
/// written as nothing but keeps `null`).
pub fn parse_kustomize_documents(
    text: &str,
    file: &str,
    limits: Limits,
) -> Result<Vec<Document>, ParseError> {
    kustomize_pieces(text, file, limits, true, false)
}

/// [`parse_kustomize_documents`] of a resource file, whose keys given
/// twice are no error yet ([`Document::duplicates`]).
pub fn parse_kustomize_objects(
    text: &str,
    file: &str,
    limits: Limits,
) -> Result<Vec<Document>, ParseError> {
    kustomize_pieces(text, file, limits, true, true)
}

/// Reads a resource file the way kustomize's kyaml `ByteReader` does: the
/// text is cut at every line that starts with `---` (after the first line),
/// such a line may carry only a comment after the marker, and each piece is
/// read on its own. Null documents are dropped. Unlike [`parse_documents`],
/// `%YAML`/`%TAG` directives therefore fail, as they do in kustomize, and so
/// do keys that are not strings (`1:`, `true:`) below the top level.
pub fn parse_kustomize_stream(
    text: &str,
    file: &str,
    limits: Limits,
) -> Result<Vec<Value>, ParseError> {
    Ok(kustomize_pieces(text, file, limits, false, false)?.into_iter().map(|d| d.value).collect())
}

fn kustomize_pieces(
    text: &str,
    file: &str,
    limits: Limits,
    scalar_texts: bool,
    keep_duplicates: bool,
) -> Result<Vec<Document>, ParseError> {
    let mut docs = Vec::new();
    // Each piece as (start, end, where the next piece starts).
    let mut pieces = Vec::new();
    let (mut piece_start, mut search) = (0, 0);
    while let Some(found) = text[search..].find("\n---") {
        let sep = search + found;
        let Some(eol) = text[sep + 1..].find('\n').map(|i| sep + 1 + i) else {
            break;
        };
        let rest = text[sep + 4..eol].trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            let (line, _) = line_column(text, sep + 1);
            return Err(ParseError::new(
                file,
                line,
                1,
                format!("invalid document separator: {}", text[sep + 1..eol].trim()),
            ));
        }
        pieces.push((piece_start, sep + 1, eol + 1));
        piece_start = eol + 1;
        search = eol + 1;
    }
    pieces.push((piece_start, text.len(), text.len()));
    let mut lines_before = 0;
    for (start, end, next) in pieces {
        let piece = &text[start..end];
        let before = lines_before;
        let in_text = move |mut e: ParseError| {
            if !e.duplicate_keys.is_empty() {
                // kustomize decodes the object from kyaml's encoding of the
                // document, whose lines Go's message counts.
                let text = ParserText::new(piece).text;
                super::kyaml_lines::place_duplicates(&text, &mut e.duplicate_keys);
            }
            e.line += before;
            e.piece_line = before + 1;
            e
        };
        let parsed = parse_stream(
            piece,
            file,
            limits,
            // kyaml decodes one document per piece: what follows a `...`
            // in the piece is never read.
            Flags {
                string_keys: true,
                scalar_texts,
                one_document: true,
                keep_duplicates,
                ..Flags::default()
            },
        )
        .map_err(in_text)?;
        lines_before += line_count(&text[start..next]);
        if let Some(mut doc) = parsed.into_iter().next().filter(|d| !d.value.is_null()) {
            doc.piece = start..end;
            doc.duplicates = doc.duplicates.map(|e| Box::new(in_text(*e)));
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// [`parse_documents`] with explicit limits.
pub fn parse_documents_with(
    text: &str,
    file: &str,
    limits: Limits,
) -> Result<Vec<Value>, ParseError> {
    parse_stream(text, file, limits, Flags::default()).map(values)
}

/// Parses a stream the way Go programs read configuration structs through
/// `sigs.k8s.io/yaml` (YAML 1.1): unquoted `yes`, `no`, `on`, `off`, `y`
/// and `n` are booleans, a mapping key must resolve to a string, and a
/// repeated key replaces the earlier one. kustomize reads kustomization
/// files this way.
pub fn parse_documents_yaml11(text: &str, file: &str) -> Result<Vec<Value>, ParseError> {
    parse_stream(text, file, Limits::default(), Flags { yaml11: true, ..Flags::default() })
        .map(values)
}

/// Parses a stream as Helm reads values (`sigs.k8s.io/yaml`, which goes
/// through JSON): like [`parse_documents_yaml11`], but a key that is not a
/// string (`true:`, `1:`) becomes its string form instead of an error.
pub fn parse_documents_helm(text: &str, file: &str) -> Result<Vec<Value>, ParseError> {
    let flags = Flags { yaml11: true, stringify_keys: true, ..Flags::default() };
    parse_stream(text, file, Limits::default(), flags).map(values)
}

/// [`parse_first_document_helm`] for text that carries Go bytes (a rendered
/// template; see [`crate::gotmpl::sprig::from_go_bytes`]): a byte that is
/// not UTF-8 is libyaml's reader error, as in Go. A real character of
/// U+10FF00..U+10FFFF reads as such a byte; one that a `\U` escape or
/// `!!binary` writes is carried as its bytes in the values read.
pub fn parse_go_first_document_helm(text: &str, file: &str) -> Result<Option<Value>, ParseError> {
    let flags = Flags {
        yaml11: true,
        stringify_keys: true,
        first_only: true,
        go_bytes: true,
        ..Flags::default()
    };
    Ok(parse_stream(text, file, Limits::default(), flags)?.into_iter().next().map(|d| d.value))
}

/// Reads the first document as Helm's `yaml.Unmarshal` (sigs.k8s.io/yaml
/// over yaml.v2) does for values files, `fromYaml` and Chart.yaml: like
/// [`parse_documents_helm`], but reading stops where the first document's
/// root node ends, so what follows it is never looked at (`{a: 1} x`,
/// `[1] [2]`, a broken second document). `None` for an empty stream.
pub fn parse_first_document_helm(text: &str, file: &str) -> Result<Option<Value>, ParseError> {
    let flags = Flags { yaml11: true, stringify_keys: true, first_only: true, ..Flags::default() };
    Ok(parse_stream(text, file, Limits::default(), flags)?.into_iter().next().map(|d| d.value))
}

/// How a stream is read.
#[derive(Clone, Copy, Default)]
struct Flags {
    /// Non-string keys of nested mappings are errors, as they are when
    /// kustomize converts objects to JSON.
    string_keys: bool,
    /// YAML 1.1 scalars and yaml.v2/v3's refusals of some input.
    yaml11: bool,
    /// A key that is not a string becomes its string form.
    stringify_keys: bool,
    /// Fill [`Document::scalar_texts`].
    scalar_texts: bool,
    /// Stop after the root node of the first document (yaml.v2's Unmarshal).
    first_only: bool,
    /// Stop after the end of the first document (yaml.v3's `Decoder.Decode`
    /// called once): what follows its end marker is never read.
    one_document: bool,
    /// The text carries bytes that are not UTF-8 (with `yaml11`).
    go_bytes: bool,
    /// The text is the part before an error, read for an earlier one
    /// ([`earlier_error`]).
    prefix: bool,
    /// With `stringify_keys`: keys stay what yaml.v2 decoded (see
    /// [`raw_key`]), for the errors that print a mapping as Go holds it.
    raw_keys: bool,
    /// Keys given twice go into [`Document::duplicates`], and scalars
    /// their tags do not fit into [`Document::undecodable`], instead of
    /// failing.
    keep_duplicates: bool,
}

fn values(docs: Vec<Document>) -> Vec<Value> {
    docs.into_iter().map(|d| d.value).collect()
}

/// Parses a stream as `flags` say.
fn parse_stream(
    text: &str,
    file: &str,
    limits: Limits,
    flags: Flags,
) -> Result<Vec<Document>, ParseError> {
    let yaml11 = flags.yaml11;
    if yaml11 && let Some((at, message)) = refused_character(text, flags.go_bytes) {
        // libyaml's reader decodes (and checks) the input a chunk at a time,
        // as the scanner needs it: a scanner or parser error on a line that
        // ends before the refused character's chunk starts comes first.
        let chunk = reader_chunk_start(text, at, flags.go_bytes);
        if chunk > 0
            && let Err(e) = parse_checked(text, file, limits, flags)
            && !e.decoder_error()
            && e.piece_line == 0
            && mark_offset(text, e.line, e.column) + MARK_LOOKAHEAD < chunk
        {
            return Err(e);
        }
        let (line, column) = line_column(text, at);
        return Err(ParseError::new(file, line, column, message));
    }
    parse_checked(text, file, limits, flags)
}

/// How much input libyaml's reader takes at a time (yaml.v2 and yaml.v3:
/// `input_raw_buffer_size`).
const READER_CHUNK: usize = 512;

/// The byte offset in `text` where the reader's chunk that holds the
/// character at `at` starts. The reader takes [`READER_CHUNK`] bytes of
/// input at a time and decodes all of them when the scanner needs a
/// character it has not decoded yet; a character cut by a chunk's end
/// starts the next chunk. `carries_bytes`: characters that carry a byte
/// count as one byte (see [`refused_character`]).
fn reader_chunk_start(text: &str, at: usize, carries_bytes: bool) -> usize {
    let (mut go, mut chunk_go, mut chunk) = (0usize, 0usize, 0usize);
    for (i, c) in text.char_indices() {
        let width = if carries_bytes && is_raw_byte(c) { 1 } else { c.len_utf8() };
        if go + width > chunk_go + READER_CHUNK {
            chunk_go = go;
            chunk = i;
        }
        if i >= at {
            break;
        }
        go += width;
    }
    chunk
}

/// How far past an error's mark the scanner has read: the four characters
/// it looks ahead (`cache(parser, 4)`) before it decides a token.
const MARK_LOOKAHEAD: usize = 4;

/// The byte offset in `text` of 1-based `line` and `column` (characters),
/// counting lines as [`line_column`] does (NEL, LS and PS end lines too).
fn mark_offset(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].char_indices().find(|&(_, c)| is_line_end(c)) {
            Some((n, c)) => start += n + c.len_utf8(),
            None => return text.len(),
        }
    }
    text[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(n, _)| start + n)
}

/// [`parse_stream`] once the reader's check of the characters is done.
fn parse_checked(
    text: &str,
    file: &str,
    limits: Limits,
    flags: Flags,
) -> Result<Vec<Document>, ParseError> {
    let yaml11 = flags.yaml11;
    if yaml11 && let Some((line, message)) = bad_directive(text) {
        return Err(ParseError::new(file, line, 2, message));
    }
    if let Some(line) = incompatible_version(text) {
        return Err(ParseError::new(file, line, 1, "found incompatible YAML document"));
    }
    // What libyaml refuses on the line of the stream's first document
    // marker: yaml.v2, and yaml.v3 for each of kustomize's pieces.
    let marker_problem = || {
        let end = leading_document_end(text)
            .map(|line| (line, "while parsing a block node, did not find expected node content"));
        end.or_else(|| {
            mapping_on_document_start(text)
                .map(|line| (line, "mapping values are not allowed in this context"))
        })
    };
    if (yaml11 || flags.one_document)
        && let Some((line, message)) = marker_problem()
    {
        return Err(ParseError::new(file, line, 1, message));
    }
    if let Some(found) = super::tabs::block_scalar_tab(text) {
        // What comes before the block scalar is read first: an error there
        // comes first, but one of the decoder, which runs once the document
        // is read. A header that is not one falls to the parser.
        let prefix = &text[..found.header_end];
        if parse_stream(prefix, file, limits, flags).map_or_else(|e| e.after_read(), |_| true)
            && let Some(e) = super::tabs::confirm_block_tab(text, prefix, &found, file, yaml11)
        {
            return Err(e);
        }
    }
    let mut text = Cow::Borrowed(text);
    let mut reparsed = 0usize;
    loop {
        match parse_once(&text, file, limits, flags) {
            Err(Failure::Rewrite { at, len, with })
                if reparsed.saturating_add(text.len()) <= REWRITE_BUDGET =>
            {
                reparsed += text.len();
                let mut owned = text.into_owned();
                owned.replace_range(at..at + len, &with);
                text = Cow::Owned(owned);
            }
            Err(Failure::Rewrite { at, .. }) => {
                let (line, column) = line_column(&text, at);
                return Err(ParseError::new(
                    file,
                    line,
                    column,
                    format!(
                        "too many tabs after ':', \\' escapes or under-indented quoted scalars \
                         (each costs a re-read; {} MiB re-read)",
                        REWRITE_BUDGET >> 20
                    ),
                ));
            }
            Err(Failure::Error(e)) => {
                // libyaml's scanner refuses a tab that opens a line when it
                // reaches it: before a later scanner or parser error, and
                // before an error of the decoder. The check reads the text
                // up to where the parser failed.
                if yaml11
                    && e.piece_line == 0
                    && let Some(tab) =
                        super::tabs::refused_tab(&text, file, yaml11, flags.first_only)
                    && (e.after_read() || (tab.line, tab.column) < (e.line, e.column))
                {
                    return Err(tab);
                }
                if flags.stringify_keys
                    && !flags.raw_keys
                    && (e.message.starts_with(UNSUPPORTED_KEY)
                        || e.message.starts_with(INVALID_MAP_KEY))
                    && let Err(Failure::Error(raw)) =
                        parse_once(&text, file, limits, Flags { raw_keys: true, ..flags })
                {
                    // The error prints a mapping as yaml.v2 decoded it:
                    // read again with its keys as they were.
                    return Err(raw);
                }
                // A `-` in a flow collection is saphyr's scanner error and
                // libyaml's parser error (yaml.v3's too), which an earlier
                // parser error in the collection comes before.
                let dash_in_flow = || {
                    let at = mark_offset(&text, e.line, e.column);
                    text[at..].starts_with('-') && open_bracket(&text, at).is_some()
                };
                let e = if (yaml11 || dash_in_flow())
                    && !flags.prefix
                    && !e.decoder_error()
                    && e.piece_line == 0
                {
                    earlier_error(&text, file, limits, flags, &e).unwrap_or(e)
                } else {
                    e
                };
                // The scanner reads on past the token the parser refuses,
                // the earlier one too (`{no:'[]', '{}', a:}`: the `[` after
                // the plain `no:'` holds a key pending over the quotes).
                return Err(scanned_past(&text, &e, flags).unwrap_or(e));
            }
            Ok(docs) => {
                return match super::tabs::refused_tab(&text, file, yaml11, flags.first_only) {
                    Some(e) => Err(e),
                    None => Ok(docs),
                };
            }
        }
    }
}

/// An error libyaml meets before `e` in the text read up to `e`'s place:
/// saphyr's scanner looks further ahead at places, refuses text libyaml's
/// scanner takes (which libyaml's parser then refuses where it stands), and
/// some scalars are checked only once parsed (`\/`), so its first error can
/// lie past one libyaml reports. libyaml's scanner meets an earlier scanner
/// error first, and its parser an earlier parser error before a later one.
/// Errors that only say the shortened text ends are not such an error.
fn earlier_error(
    text: &str,
    file: &str,
    limits: Limits,
    flags: Flags,
    e: &ParseError,
) -> Option<ParseError> {
    let at = mark_offset(text, e.line, e.column);
    // yaml.v2 names the end of the stream for a quoted scalar that never
    // closes: the text to read for an earlier error ends at its quote.
    let unclosed = flags.yaml11 && e.message == UNCLOSED_QUOTE;
    let cut = if unclosed { unclosed_quote_token(text).unwrap_or(at) } else { at };
    let prefix = text[..cut].trim_end();
    let Err(first) = parse_checked(prefix, file, limits, Flags { prefix: true, ..flags }) else {
        return None;
    };
    // What a text cut short can end with (kiln names some of them at the
    // line where the unfinished collection or key opened) is no earlier
    // error: a scanner error inside a token, or a missing node.
    let (problem, scanner) = first.problem();
    // A flow collection that wants its next entry at a token before the
    // cut (a cut flow collection wants it at the end): libyaml's parser
    // stops there before its scanner reads on.
    let flow_entry = matches!(
        libyaml_words(problem).as_str(),
        "did not find expected ',' or '}'" | "did not find expected ',' or ']'"
    );
    // Before a quote that never closes, any parser error at a token of
    // the text is libyaml's first unless its scanner reads on to the quote
    // ([`scanned_past`] then names the quote).
    let kept = if scanner {
        !problem.contains("end of stream") && !problem.contains("expected ':'")
    } else {
        (libyaml_words(problem) == "did not find expected node content" && !e.problem().1)
            || flow_entry
            || (unclosed && cut < at)
    };
    let before = mark_offset(prefix, first.line, first.column) < prefix.len();
    (kept && before && !first.decoder_error()).then_some(first)
}

/// The words of a quoted scalar that runs to the end of the stream.
const UNCLOSED_QUOTE: &str = "while scanning a quoted scalar, found unexpected end of stream";

/// The quote that opens the quoted scalar which never closes, as libyaml's
/// scanner meets it: the last token [`flow_scan`] begins in the whole text.
fn unclosed_quote_token(text: &str) -> Option<usize> {
    let quote = flow_scan(text, text.len()).token;
    unclosed_quote(&text[quote..]).then_some(quote)
}

/// The scanner error yaml.v2 meets past the token its parser refuses in
/// `e` (see [`quote_scanned_first`]): it reads on while a simple key may be
/// pending there.
fn scanned_past(text: &str, e: &ParseError, flags: Flags) -> Option<ParseError> {
    if !flags.yaml11 || flags.prefix || e.decoder_error() || e.piece_line != 0 || e.problem().1 {
        return None;
    }
    let at = mark_offset(text, e.line, e.column);
    let quote = quote_scanned_first(text, at, Some(0))?;
    let (line, column) = line_column(text, quote);
    let unclosed = unclosed_quote(&text[quote..]);
    let (message, line) = quoted_scalar_error(text, quote, unclosed, line, flags.string_keys)?;
    Some(ParseError::new(&e.file, line, column, message))
}

/// How much text one stream may be re-read for the spots where yaml.v3 is
/// more lenient than the YAML 1.2 parser (each spot costs a re-read of the
/// whole stream): thousands of spots in a small file, a few in a huge one.
const REWRITE_BUDGET: usize = 64 << 20;

enum Failure {
    Error(ParseError),
    /// Input yaml.v3 accepts and saphyr refuses, with the equivalent text
    /// saphyr accepts: `len` bytes at byte offset `at` become `with`.
    Rewrite {
        at: usize,
        len: usize,
        with: Cow<'static, str>,
    },
}

impl From<ParseError> for Failure {
    fn from(e: ParseError) -> Self {
        Failure::Error(e)
    }
}

/// The offset of the first `\'` escape in the double-quoted scalar that
/// `text` starts with, if the scalar has one before any other bad escape.
fn escaped_apostrophe(text: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return None,
            '\\' => match chars.next()?.1 {
                '\'' => return Some(i),
                '0' | 'a' | 'b' | 't' | '\t' | 'n' | 'v' | 'f' | 'r' | 'e' | ' ' | '"' | '/'
                | '\\' | 'N' | '_' | 'L' | 'P' | 'x' | 'u' | 'U' | '\n' | '\r' => {}
                _ => return None,
            },
            _ => {}
        }
    }
    None
}

/// The quoted scalar that `text` starts with (up to its closing quote or
/// the end of the text) with every continuation line indented by at least
/// `column` blanks, and the length of the original; `None` when no line
/// needs it. Document markers at the start of a line stay where they are,
/// as libyaml refuses them there too.
fn indented_quoted(text: &str, column: usize) -> Option<(usize, String)> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.char_indices().peekable();
    let mut end = text.len();
    let mut changed = false;
    out.push(quote);
    chars.next();
    while let Some((i, c)) = chars.next() {
        out.push(c);
        match c {
            '\\' if quote == '"' => {
                if let Some((_, next)) = chars.next_if(|(_, n)| !is_line_end(*n)) {
                    out.push(next);
                }
            }
            '\'' if quote == '\'' && chars.peek().map(|(_, n)| *n) == Some('\'') => {
                chars.next();
                out.push('\'');
            }
            c if c == quote => {
                end = i + c.len_utf8();
                break;
            }
            c if is_line_end(c) => {
                let line = &text[i + c.len_utf8()..];
                let blanks = line.len() - line.trim_start_matches([' ', '\t']).len();
                let marker = (line.starts_with("---") || line.starts_with("..."))
                    && line[3..].chars().next().is_none_or(|c| c.is_whitespace());
                if blanks < column
                    && !marker
                    && !line.trim_start_matches([' ', '\t']).starts_with(is_line_end)
                {
                    out.extend(std::iter::repeat_n(' ', column - blanks));
                    changed = true;
                }
            }
            _ => {}
        }
    }
    changed.then_some((end, out))
}

/// Where the tag at the start of `tag` (at its `!`) ends for yaml.v2's
/// scanner and for saphyr's, and where its handle (`!`, `!!`, `!name!`)
/// ends. A verbatim tag (`!<...>`) ends after its `>` for both.
fn tag_ends(tag: &str) -> (usize, usize, usize) {
    let bytes = tag.as_bytes();
    if bytes.get(1) == Some(&b'<') {
        let end = tag.find('>').map_or(tag.len(), |i| i + 1);
        return (end, end, 2);
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let mut handle = 1 + bytes[1..].iter().take_while(|&&c| word(c)).count();
    if bytes.get(handle) == Some(&b'!') {
        handle += 1;
    } else {
        // `!suffix`: what was read as a name is the suffix's start.
        handle = 1;
    }
    let suffix_len = |extra: &[u8]| {
        bytes[handle..]
            .iter()
            .take_while(|&&c| {
                c.is_ascii_alphanumeric()
                    || b"-;/?:@&=+$_.~*'()%".contains(&c)
                    || extra.contains(&c)
            })
            .count()
    };
    // libyaml's URI characters; saphyr's tag characters add `#` and leave
    // out the flow indicators and `!`.
    (handle + suffix_len(b",[]!"), handle + suffix_len(b"#"), handle)
}

/// `raw` after the anchor and tag that open it (each up to a blank or a
/// line break, with the blanks and breaks after it).
fn skip_properties(mut raw: &str) -> &str {
    while raw.starts_with(['&', '!']) {
        let end = raw.find(|c: char| c == ' ' || c == '\t' || is_break(c)).unwrap_or(raw.len());
        raw = raw[end..].trim_start_matches(|c: char| c == ' ' || c == '\t' || is_break(c));
    }
    raw
}

/// The end of the first anchor or alias name in `text` that libyaml ends
/// at one of ``?:%@` ``, where a YAML 1.2 name reads on (see
/// `Builder::name_failure`). Only a `&` or `*` that opens a token counts: at
/// a line's start or after a blank or `[`, `{` or `,`, outside comments.
fn name_before_indicator(text: &str) -> Option<usize> {
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let code = line.find(" #").map_or(line, |c| &line[..c]);
        let opens = code.char_indices().filter(|&(i, c)| {
            matches!(c, '&' | '*')
                && (i == 0 || code[..i].ends_with([' ', '\t', '[', '{', ',']))
                && !code[..i].trim_start().starts_with('#')
        });
        for (i, _) in opens {
            let rest = &code[i + 1..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            if len > 0 && rest[len..].starts_with(['?', ':', '%', '@', '`']) {
                return Some(line_start + i + 1 + len);
            }
        }
        line_start += line.len();
    }
    None
}

/// The first `%`-escaped character of 3 or 4 octets in the tag that `tag`
/// starts with, as libyaml's URI scanner checks it (a leading octet that
/// gives the width, then continuation octets): its offset and length.
fn wide_uri_escape(tag: &str) -> Option<(usize, usize)> {
    let octet = |at: usize| {
        let hex = tag.get(at..at + 3)?.strip_prefix('%')?;
        u8::from_str_radix(hex, 16).ok()
    };
    let end = tag.find(|c: char| c == ' ' || c == '\t' || is_break(c)).unwrap_or(tag.len());
    let mut at = 0;
    while let Some(i) = tag[at..end].find('%') {
        at += i;
        let width = match octet(at)? {
            b if b & 0xF0 == 0xE0 => 3,
            b if b & 0xF8 == 0xF0 => 4,
            _ => {
                at += 3;
                continue;
            }
        };
        let continued = (1..width).all(|k| octet(at + 3 * k).is_some_and(|b| b & 0xC0 == 0x80));
        return continued.then_some((at, 3 * width));
    }
    None
}

/// The rewrite that ends an anchor or alias name at byte `end` of `text`
/// for saphyr: a blank after it; in a flow collection a `:` before `,`,
/// `]` or `}` is a value indicator to libyaml (`[*a:]` is `[{a: null}]`),
/// which saphyr reads so with a blank after it too.
fn name_split(text: &str, end: usize) -> Failure {
    let rest = &text[end..];
    let value = rest.starts_with(':') && rest[1..].starts_with([',', ']', '}']);
    if value && open_bracket(text, end).is_some() {
        return Failure::Rewrite { at: end, len: 1, with: " : ".into() };
    }
    Failure::Rewrite { at: end, len: 0, with: " ".into() }
}

/// Whether `c` ends a line for libyaml (a line feed, NEL, LS or PS; a
/// carriage return is taken with the line feed after it).
fn is_line_end(c: char) -> bool {
    c == '\n' || is_extra_break(c)
}

/// The 1-based line and column of byte `byte`, counting lines as libyaml
/// does (NEL, LS and PS end lines too).
pub(super) fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte];
    let line = line_count(before) + 1;
    let column = before[line_start(before, byte)..].chars().count() + 1;
    (line, column)
}

/// The `-` of a block entry that is the last token before byte `at` on its
/// line (blanks between).
fn block_entry_before(text: &str, at: usize) -> Option<usize> {
    let dash = text[..at].trim_end_matches([' ', '\t']).strip_suffix('-')?.len();
    let opens = text[..dash].trim_end_matches([' ', '\t']).len();
    (dash < at && (opens == line_start(text, dash) || text[..dash].ends_with(['-', '?', ':'])))
        .then_some(dash)
}

/// The byte of the closing quote of a quoted scalar that is the last token
/// before byte `at` (blanks, line breaks and comments skipped), when that
/// scalar opened on an earlier line than it closed.
fn multiline_quoted_before(text: &str, at: usize) -> Option<usize> {
    let before = text.get(..at.min(text.len()))?;
    // Drop trailing blank lines and comment-only lines, then the blanks and
    // any comment after the token on its own line.
    let mut end = before.len();
    loop {
        let line_begin = line_start(before, end);
        let line = &before[line_begin..end];
        let body =
            line.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || is_line_end(c));
        if body.is_empty() || body.starts_with('#') {
            if line_begin == 0 {
                return None;
            }
            end = line_begin - before[..line_begin].chars().next_back().map_or(1, char::len_utf8);
            continue;
        }
        break;
    }
    let mut close = before[..end].trim_end_matches([' ', '\t', '\r']).len();
    // A comment that follows the scalar on its line (`'x' # c`, `'x'#c`).
    let line_begin = line_start(before, close);
    if let Some(hash) = closing_quote_then_comment(&before[line_begin..close]) {
        close = line_begin + hash;
    }
    let quote = before[..close].chars().next_back()?;
    if quote != '\'' && quote != '"' {
        return None;
    }
    let close = close - 1;
    let open = opening_quote(&before[..close], quote)?;
    (line_column(text, open).0 < line_column(text, close).0).then_some(close)
}

/// Where the first document's root node ends when it is a quoted scalar
/// on one line that other tokens follow on that line, with or without
/// blanks between: quoted scalars and
/// plain words, none of which libyaml's scanner refuses, and no `:` that
/// would make the quoted scalar a key (`'foo' 'bar'`, `"a" b c`). `None`
/// when the line holds anything else (a flow collection, an anchor, a
/// value indicator) or nothing more.
///
/// For yaml.v2's Unmarshal (`first_only`), which parses nothing past the
/// root, the root may also be a flow collection that closes on its line,
/// and a `,`, `]` or `}` among those tokens ends the scan: libyaml's
/// scanner reads on past the root only while the root may still be a
/// simple key, and those tokens drop that key (`"a", b`, `{a: 1} "x"}`),
/// so whatever follows is never read.
fn quoted_root_then_words(text: &str, first_only: bool) -> Option<usize> {
    let mut begin = 0;
    let mut line = loop {
        let end = text[begin..].find(is_line_end).map_or(text.len(), |i| begin + i);
        let line = &text[begin..end];
        let body = line.trim_start_matches([' ', '\t']);
        if body.starts_with("--- ") || body.starts_with("---\t") {
            let rest = body[3..].trim_start_matches([' ', '\t']);
            break (end - rest.len(), rest);
        }
        if !(body.trim_end_matches('\r').is_empty() || body.starts_with('#') || body == "---") {
            break (end - body.len(), body);
        }
        if end == text.len() || text[..begin].contains("---") && body == "---" {
            return None;
        }
        begin = end + text[end..].chars().next().map_or(1, char::len_utf8);
    };
    // An anchor and a tag before the scalar on its line are its own.
    let mut quoted = line.1;
    while quoted.starts_with(['&', '!']) {
        let end = quoted.find([' ', '\t'])?;
        quoted = quoted[end..].trim_start_matches([' ', '\t']);
    }
    let root_len = match quoted_len(quoted) {
        // A `?` may swallow a `]` (`[?]}`: see `swallowed_bracket`), which
        // then closes nothing for libyaml's parser.
        None if first_only && quoted.starts_with(['[', '{']) => {
            flow_len(quoted).filter(|&len| !quoted[..len].contains('?'))?
        }
        len => len?,
    };
    let root_end = line.0 + (line.1.len() - quoted.len()) + root_len;
    line = (root_end, &text[root_end..line.0 + line.1.len()]);
    let mut rest = line.1.trim_end_matches('\r');
    let mut words = 0;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            break;
        }
        // libyaml's scanner wants no blank between the closing quote (or
        // the end of a flow collection) and the next token: `"x"{}` and
        // `'x'"y"` are a root scalar and a token never parsed.
        rest = trimmed;
        let len = match rest.chars().next() {
            Some(',' | ']' | '}') if first_only => return Some(root_end),
            Some('\'' | '"') => quoted_len(rest)?,
            // A flow collection that goes on past the line leaves the
            // quoted scalar no key either: a `:` inside is not at its level.
            Some('[' | '{') => match flow_len(rest) {
                Some(len) => len,
                None => {
                    words += 1;
                    break;
                }
            },
            Some(c) if c.is_alphanumeric() || "._/~+=$^()<;".contains(c) => {
                rest.find([' ', '\t']).unwrap_or(rest.len())
            }
            // An alias or anchor whose name libyaml's scanner takes whole
            // (`"x" *a`): a token the parser never reaches.
            Some('*' | '&') => {
                let name = rest[1..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                    .unwrap_or(rest.len() - 1);
                let end = rest[1 + name..].chars().next();
                if name == 0 || end.is_some_and(|c| c != ' ' && c != '\t') {
                    return None;
                }
                1 + name
            }
            _ => return None,
        };
        let word = &rest[..len];
        if word.ends_with(':')
            || word.contains(['{', '}', '[', ']', ',']) && !word.starts_with(['\'', '"', '[', '{'])
        {
            return None;
        }
        rest = &rest[len..];
        words += 1;
    }
    (words > 0).then_some(root_end)
}

/// The length of the flow collection that starts `line` when it closes on
/// that line (quoted scalars inside it skipped).
fn flow_len(line: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < line.len() {
        match line.as_bytes()[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'\'' | b'"'
                if i == 0 || matches!(line.as_bytes()[i - 1], b'[' | b'{' | b',' | b' ') =>
            {
                i += quoted_len(&line[i..])?;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The length of the quoted scalar that starts `line` when it closes on
/// that line.
fn quoted_len(line: &str) -> Option<usize> {
    let quote = line.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let bytes = line.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == '"' => i += 2,
            b'\'' if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote as u8 => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Whether byte `open` starts the first node of the stream's first
/// document: only blanks, comments and a `---` line before it.
fn document_root(text: &str, open: usize) -> bool {
    text[..open].split(is_line_end).all(|line| {
        let body = line.trim_matches([' ', '\t', '\r']);
        body.is_empty() || body.starts_with('#') || body == "---" || body.starts_with("--- ")
    }) && text[..open].matches("---").count() <= 1
}

/// Whether a quoted scalar or flow collection that is the first
/// document's root node closes before byte `at`, only blanks and line
/// breaks between.
fn root_closed_before(text: &str, at: usize) -> bool {
    let end = text[..at].trim_end_matches([' ', '\t', '\r', '\n']).len();
    if !text[..end].ends_with([']', '}', '"', '\'']) {
        return false;
    }
    // A `]` libyaml's parser passes over closes nothing for it (`[?]}`).
    if question_before_bracket(text, end).is_some() {
        return false;
    }
    let open = node_start(text, end);
    open < end && document_root(text, open)
}

/// A block indicator (`-`, `?` or `:` before a blank) after blanks from
/// byte `at` on its line, with libyaml's scanner's words for it: after a
/// flow collection's closing bracket or a quoted scalar no simple key is
/// allowed in block context until a line break, and the scanner refuses
/// these indicators then (yaml.v3's `yaml_parser_fetch_block_entry`,
/// `fetch_key`, `fetch_value`).
fn indicator_after_close(text: &str, at: usize) -> Option<(usize, &'static str)> {
    let rest = text[at..].trim_start_matches([' ', '\t']);
    let indicator = text.len() - rest.len();
    let message = match rest.as_bytes().first()? {
        b'-' => "block sequence entries are not allowed in this context",
        b'?' => "mapping keys are not allowed in this context",
        b':' => "mapping values are not allowed in this context",
        _ => return None,
    };
    rest[1..]
        .chars()
        .next()
        .is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
        .then_some((indicator, message))
}

/// The kind of block collection a token at a key position sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyCollection {
    Mapping,
    Sequence,
}

/// The block collection in which libyaml's scanner requires a simple key
/// that starts at byte `open` (block context), `None` where it does not (in
/// a flow collection, whatever the lines before it hold): its
/// column must be the indentation of the block collection it sits in, so
/// that it is a later key of an open mapping (or a later entry of a
/// sequence). A key that follows `- ` on its line, the first key of a deeper
/// mapping or one at the document's top before any mapping opened is only
/// possible. The collections still open are read back from the earlier
/// lines: the nearest line no deeper than the key tells whether one opened
/// at its column, and whether a `-` opened a sequence there. A sequence whose
/// `-` sits at the column of its parent mapping's keys is indentless: it ends
/// at the token, and the mapping wants a key.
fn required_key_collection(text: &str, open: usize) -> Option<KeyCollection> {
    let begin = line_start(text, open);
    let head = &text[begin..open];
    // Inside a flow collection no block collection requires a key.
    if !head.chars().all(|c| c == ' ') || !flow_scan(text, begin).open.is_empty() {
        return None;
    }
    let column = head.len();
    let content = |line: &str| {
        let body = line.trim_end_matches('\r').trim_start_matches(' ');
        !body.is_empty() && !body.starts_with('#')
    };
    let entry = |rest: &str| {
        rest.strip_prefix('-').is_some_and(|after| after.is_empty() || after.starts_with(' '))
    };
    let mut lines = text[..begin].split(is_line_end).rev().filter(|l| content(l));
    while let Some(line) = lines.next() {
        let line = line.trim_end_matches('\r');
        let body = line.trim_start_matches(' ');
        if line.starts_with("---") || line.starts_with("...") {
            return None;
        }
        let indent = line.len() - body.len();
        // The columns where this line's block collections start: its
        // indentation, and the token after each `- ` that opens it.
        let mut at = indent;
        let mut rest = body;
        loop {
            if at == column {
                if !entry(rest) {
                    return Some(KeyCollection::Mapping);
                }
                let indentless = at == indent
                    && lines
                        .map(|l| l.trim_end_matches('\r'))
                        .map(|l| (l.len() - l.trim_start_matches(' ').len(), l))
                        .find(|&(width, l)| {
                            width < column || (width == column && !entry(&l[width..]))
                        })
                        .is_some_and(|(width, _)| width == column);
                return Some(if indentless {
                    KeyCollection::Mapping
                } else {
                    KeyCollection::Sequence
                });
            }
            match rest.strip_prefix('-') {
                Some(after) if after.starts_with(' ') => {
                    let next = after.trim_start_matches(' ');
                    at += 1 + after.len() - next.len();
                    rest = next;
                }
                _ => break,
            }
        }
        if indent < column {
            return None;
        }
    }
    None
}

/// For saphyr's refusal of a key that misses its `:` before byte `at`: the
/// byte of the token at the start of the last line with content before it
/// (past the content lines of the block scalar it opens) when libyaml's
/// parser, not its scanner, refuses that token at a key position of an open
/// block collection, with the collection. libyaml saves no simple key for a
/// block scalar header (`|`, `>`), so its scanner looks for no `:` after it.
/// yaml.v2 (`yaml11`) loses the simple key it saved at an empty flow
/// collection (`[]`, `{}`): the placeholder key of the flow level it opens
/// carries the bracket's token number, and closing that level drops the
/// bracket's entry from the keys it looks up by token, so the bracket goes
/// to the parser without a look past the collection (yaml.v3 keeps the key
/// and misses the `:` as saphyr does).
fn keyless_token_before(text: &str, at: usize, yaml11: bool) -> Option<(usize, KeyCollection)> {
    let at = at.min(text.len());
    let own = line_start(text, at);
    let end = if text[own..at].trim_matches([' ', '\t']).is_empty() {
        own
    } else {
        own + text[own..].find(is_line_end).unwrap_or(text.len() - own)
    };
    // The least indentation of the block scalar content lines passed.
    let mut content: Option<usize> = None;
    for (start, line, width) in content_lines_back(text, end) {
        let body = &line[width..];
        let header = body.starts_with(['|', '>']) && block_header_problem(&body[1..]).is_none();
        let empty_flow = || {
            let close = match body.as_bytes()[0] {
                b'[' => ']',
                b'{' => '}',
                _ => return false,
            };
            body[1..].trim_start_matches([' ', '\t']).starts_with(close)
        };
        let found = match content {
            Some(least) if width >= least => None,
            Some(_) if !header => {
                content = Some(width);
                None
            }
            Some(_) => Some(start + width),
            None if header || (yaml11 && empty_flow()) => Some(start + width),
            None => {
                content = Some(width);
                None
            }
        };
        if let Some(token) = found {
            return required_key_collection(text, token).map(|kind| (token, kind));
        }
    }
    None
}

/// Where libyaml's scanner drops the simple key saved at the quoted scalar
/// opened at byte `open` (a key its block collection requires) and closed
/// right before byte `at`: at once (the line of `at`) when the scalar spans
/// lines, no key being more than one line. Else a `,`, `]`, `}` or block scalar
/// indicator at `at` drops it. Any other token on that line leaves it (no
/// key may start after a quoted scalar), and the key is dropped where the
/// scanner stands after the line's last token: at the first token of a
/// later line (comment lines skipped), or the end of the stream; a plain
/// scalar reads on over blank lines and the lines indented past the key,
/// and stops at a comment, a line that is not, or a `: ` or comment on a
/// line it goes on over. `None` for a token the scanner refuses on its own
/// (`- `, `? `, `@`, `` ` ``, `%`), and a flow collection the line leaves
/// open with a quoted scalar in it.
fn required_key_dropped(text: &str, open: usize, at: usize) -> Option<usize> {
    if text[open..at].contains(is_line_end) {
        // A key over several lines is given up as soon as it is read.
        return Some(at);
    }
    let rest = &text[at..];
    let end_of_line = rest.find(is_line_end).unwrap_or(rest.len());
    let line = &rest[..end_of_line];
    let indicator_then_blank =
        |c: char| line.strip_prefix(c).is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']));
    if line.starts_with([',', ']', '}', '|', '>']) {
        return Some(at);
    }
    if indicator_then_blank('-') || indicator_then_blank('?') || line.starts_with(['@', '`', '%']) {
        return None;
    }
    let opened = line.matches(['[', '{']).count();
    let closed = line.matches([']', '}']).count();
    if line.contains(['"', '\'']) && opened > 0 || opened < closed {
        return None;
    }
    // The line's last token, its comment cut off.
    let tokens = line.find(" #").or_else(|| line.find("\t#")).map_or(line, |c| &line[..c]);
    let last = tokens.trim_end_matches([' ', '\t']);
    let plain = !last.is_empty()
        && !last.ends_with(['"', '\'', ']', '}'])
        && !last.rsplit([' ', '\t']).next().is_some_and(|w| w.starts_with(['&', '*', '!']));
    let key_column = open - line_start(text, open);
    // The scanner reads on in a flow collection the line leaves open, to
    // the first token of a later line (comment lines skipped).
    let in_flow = opened > closed;
    let next = at + end_of_line;
    let mut pos = next + text[next..].chars().next().map_or(0, char::len_utf8);
    for l in text[pos.min(text.len())..].split_inclusive(is_line_end) {
        let body = l.trim_start_matches([' ', '\t']);
        let content = body.trim_end_matches(is_break);
        let indent = l.len() - body.len();
        if in_flow && !content.is_empty() && !content.starts_with('#') {
            return Some(pos + indent);
        }
        if !in_flow && !content.is_empty() && (!content.starts_with('#') || plain) {
            if !plain || content.starts_with('#') || indent <= key_column {
                return Some(pos + indent);
            }
            // The plain scalar goes on over this line; a `: ` or a comment
            // on it ends the scalar there, on this line.
            if content.contains(": ") || content.ends_with(':') || content.contains(" #") {
                return Some(pos + indent);
            }
        }
        pos += l.len();
    }
    Some(text.len())
}

/// The lines before byte `end` that hold more than blanks and a comment,
/// last first: each line's first byte, its text without the line break, and
/// its indentation (leading spaces).
fn content_lines_back(text: &str, mut end: usize) -> impl Iterator<Item = (usize, &str, usize)> {
    std::iter::from_fn(move || {
        while let Some((last, _)) = text[..end].char_indices().next_back() {
            let start = line_start(text, last);
            let line = text[start..end].trim_end_matches(is_break);
            end = start;
            let body = line.trim_start_matches(' ');
            if !body.trim_end_matches([' ', '\t']).is_empty() && !body.starts_with('#') {
                return Some((start, line, line.len() - body.len()));
            }
        }
        None
    })
}

/// Where the block collection whose entries start at the column of byte
/// `token` (at the start of its line) opened: the first of its entries read
/// back over the earlier lines (deeper lines are nested nodes), or the token
/// after the `- ` that opened it on a shallower line.
fn block_collection_start(text: &str, token: usize) -> usize {
    let column = token - line_start(text, token);
    let mut first = token;
    for (start, line, width) in content_lines_back(text, line_start(text, token)) {
        if line.starts_with("---") || line.starts_with("...") {
            break;
        }
        let body = &line[width..];
        if width == column {
            first = start + width;
        }
        if width >= column {
            continue;
        }
        // A shallower line: the collection opened on it after a `- `, or
        // before it.
        let mut at = width;
        let mut rest = body;
        while let Some(after) = rest.strip_prefix('-').filter(|a| a.starts_with(' ')) {
            let next = after.trim_start_matches(' ');
            at += 1 + after.len() - next.len();
            rest = next;
            if at == column {
                return start + at;
            }
        }
        break;
    }
    first
}

/// Where, in `line`, the text before a comment that follows a closing quote
/// ends: the length up to and including the quote. The first `#` after a
/// quote starts the comment (`'#'` after an open scalar closes it at its
/// first quote).
fn closing_quote_then_comment(line: &str) -> Option<usize> {
    line.match_indices('#').find_map(|(hash, _)| {
        let head = line[..hash].trim_end_matches([' ', '\t']);
        head.ends_with(['\'', '"']).then_some(head.len())
    })
}

/// The byte of the quote that opens the scalar whose content is `inner`
/// (everything before its closing `quote`): the last quote not escaped
/// (`''` in single quotes, `\"` in double quotes).
fn opening_quote(inner: &str, quote: char) -> Option<usize> {
    let bytes = inner.as_bytes();
    let q = quote as u8;
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        if bytes[i] != q {
            continue;
        }
        if quote == '\'' {
            if i > 0 && bytes[i - 1] == q {
                i -= 1;
                continue;
            }
            return Some(i);
        }
        let slashes = bytes[..i].iter().rev().take_while(|b| **b == b'\\').count();
        if slashes % 2 == 0 {
            return Some(i);
        }
    }
    None
}

/// How many lines end in `text`: its line feeds and its NEL, LS and PS.
fn line_count(text: &str) -> usize {
    text.matches(is_line_end).count()
}

/// Where the line holding byte `at` starts, after the last line break
/// (libyaml's) before it.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind(is_break).map_or(0, |i| i + text[i..].chars().next().map_or(1, char::len_utf8))
}

fn parse_once(
    text: &str,
    file: &str,
    limits: Limits,
    flags: Flags,
) -> Result<Vec<Document>, Failure> {
    let Flags {
        string_keys,
        yaml11,
        stringify_keys,
        scalar_texts,
        first_only,
        one_document,
        go_bytes,
        prefix: _,
        raw_keys,
        keep_duplicates,
    } = flags;
    if let Some(rewrite) = empty_key_rewrite(text) {
        return Err(rewrite);
    }
    let parser_text = ParserText::new(text);
    let mut builder = Builder {
        bom: parser_text.bom,
        extra_breaks: parser_text.extra_breaks,
        go_string: go_bytes,
        raw_keys,
        scalar_texts: scalar_texts.then(Vec::new),
        quoted: Vec::new(),
        tagged: Vec::new(),
        path: Vec::new(),
        seq_item_aliases: Vec::new(),
        open_anchors: Vec::new(),
        anchor_texts: HashMap::new(),
        in_key: 0,
        file,
        string_keys,
        yaml11,
        stringify_keys,
        first_only,
        one_document,
        source: Source::new(text),
        limits,
        anchors: HashMap::new(),
        alias_budget: limits.alias_nodes,
        aliasing: Aliasing::default(),
        non_string_key: None,
        kept_key: None,
        typed_keys: Vec::new(),
        decode_error: None,
        duplicate_error: None,
        duplicates: Vec::new(),
        undecodable: Vec::new(),
        shadows: Vec::new(),
        defer_decoding: keep_duplicates,
        indents: 0,
        value_of_block_map_at: None,
        indentless_parent: None,
        key_candidate_line: 0,
        last_block_scalar: std::cell::Cell::new(None),
        last_close: std::cell::Cell::new(0),
    };
    let mut parser = Parser::new_from_str(&parser_text.text);
    let mut docs = Vec::new();
    loop {
        let (event, span) = builder.next(&mut parser)?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                // Go counts the document's own node first.
                builder.aliasing = Aliasing { decodes: 1, ..Aliasing::default() };
                let (ev, sp) = builder.next(&mut parser)?;
                if matches!(ev, Event::DocumentEnd) {
                    docs.push(Document {
                        value: Value::Null,
                        scalar_texts: Vec::new(),
                        quoted: Vec::new(),
                        tagged: Vec::new(),
                        non_string_key: None,
                        typed_keys: Vec::new(),
                        duplicates: None,
                        undecodable: Vec::new(),
                        shadows: Vec::new(),
                        piece: 0..0,
                    });
                    if first_only {
                        break;
                    }
                    if one_document {
                        after_document_end(&builder, &mut parser, &sp)?;
                        break;
                    }
                    continue;
                }
                let plain_root =
                    matches!(ev, Event::Scalar(_, ScalarStyle::Plain, ..)).then(|| {
                        (builder.source.byte(sp.start.index()), builder.source.byte(sp.end.index()))
                    });
                let value = builder.node(&mut parser, ev, sp, 0, false)?;
                if first_only
                    && let Some((start, end)) = plain_root
                    && let Some(colon) = colon_after_multiline_plain(text, start, end)
                {
                    let (line, column) = line_column(text, colon);
                    let message = "mapping values are not allowed in this context";
                    return Err(ParseError::new(file, line, column, message).into());
                }
                let mut end_span = None;
                if !first_only {
                    let (end, sp) = builder.next(&mut parser)?;
                    if !matches!(end, Event::DocumentEnd) {
                        return Err(builder.err(&sp, "expected the end of the document").into());
                    }
                    end_span = Some(sp);
                }
                let mut duplicates = None;
                if let Some(mut e) = builder.duplicate_error.take() {
                    e.duplicate_keys = std::mem::take(&mut builder.duplicates);
                    if !keep_duplicates {
                        return Err(e.into());
                    }
                    duplicates = Some(Box::new(e));
                }
                if let Some(e) =
                    builder.decode_error.take().or_else(|| builder.non_string_key.take())
                {
                    return Err(e.into());
                }
                let non_string_key = builder.kept_key.take();
                let scalar_texts =
                    builder.scalar_texts.as_mut().map(std::mem::take).unwrap_or_default();
                let quoted = std::mem::take(&mut builder.quoted);
                let tagged = std::mem::take(&mut builder.tagged);
                docs.push(Document {
                    value,
                    scalar_texts,
                    quoted,
                    tagged,
                    non_string_key,
                    typed_keys: std::mem::take(&mut builder.typed_keys),
                    duplicates,
                    undecodable: std::mem::take(&mut builder.undecodable),
                    shadows: std::mem::take(&mut builder.shadows),
                    piece: 0..0,
                });
                builder.anchors.clear();
                if first_only {
                    break;
                }
                if one_document {
                    if let Some(sp) = end_span {
                        after_document_end(&builder, &mut parser, &sp)?;
                    }
                    break;
                }
            }
            Event::StreamStart | Event::Nothing => {}
            _ => return Err(builder.err(&span, "unexpected event outside a document").into()),
        }
    }
    Ok(docs)
}

/// The `:` and blank right after a plain scalar (bytes `start..end`) that
/// runs over a line break, on the line where it ends. libyaml's scanner
/// reads the token after a plain scalar before it hands the scalar on (it
/// may be a key), even for yaml.v2's Unmarshal, which stops at the
/// document's root: the scalar's key went stale at the line break and no
/// other key may start right after it, so the `:` is refused there.
fn colon_after_multiline_plain(text: &str, start: usize, end: usize) -> Option<usize> {
    let rest = text.get(end..)?;
    let colon = end + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    let after = text[colon..].strip_prefix(':')?.chars().next();
    (text[start..end].contains(is_line_end)
        && after.is_none_or(|c| c == ' ' || c == '\t' || is_break(c)))
    .then_some(colon)
}

/// yaml.v3's scanner keeps two tokens queued past the one its parser looks
/// at, so a decoder that reads one document still scans the two tokens after
/// an explicit `...` end, and fails on a bad one; it never parses them. kiln
/// checks directives (`%YAML 1.2`, `%TAG`) and document markers itself, as
/// saphyr refuses a directive after `...`; for a content token it reads the
/// next document's first scalar (and one event more when that scalar runs
/// over several lines, where yaml.v3's second token is what follows it).
fn after_document_end<'a>(
    builder: &Builder<'_>,
    parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
    end: &Span,
) -> Result<(), Failure> {
    let text = builder.source.text;
    let at = builder.source.byte(end.start.index());
    if !text.get(at..).is_some_and(|t| t.starts_with("...")) {
        return Ok(());
    }
    let mut pos = at + 3;
    for token in 0..2 {
        pos = skip_blanks_and_comments(text, pos);
        let rest = &text[pos..];
        if rest.is_empty() {
            break;
        }
        let line_start = pos == 0 || text.as_bytes()[pos - 1] == b'\n';
        if line_start && rest.starts_with('%') {
            let line_end = rest.find('\n').map_or(text.len(), |i| pos + i);
            if let Some(problem) = directive_problem(&text[pos + 1..line_end]) {
                return Err(ParseError::new(
                    builder.file,
                    text[..pos].matches('\n').count() + 1,
                    1,
                    problem,
                )
                .into());
            }
            pos = line_end;
        } else if line_start && (rest.starts_with("---") || rest.starts_with("...")) {
            if rest.len() > 3 && !rest[3..].starts_with([' ', '\t', '\r', '\n']) {
                break;
            }
            pos += 3;
        } else {
            if token == 0 {
                content_lookahead(builder, parser)?;
            }
            break;
        }
    }
    Ok(())
}

/// The first byte at or after `pos` that is not a blank, a line break or
/// part of a comment.
fn skip_blanks_and_comments(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(pos) {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'#' => pos = text[pos..].find('\n').map_or(text.len(), |i| pos + i),
            _ => break,
        }
    }
    pos
}

/// The length of the directive-name word at the start of `s` (libyaml's
/// alphanumerics, `_` and `-`).
fn directive_word_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(s.len())
}

/// A directive line (without its `%`) split into its name and the rest, or
/// libyaml's words for a missing name or a name not followed by a blank or
/// the line's end (checked before the name itself).
fn directive_name(line: &str) -> Result<(&str, &str), &'static str> {
    let name_len = directive_word_len(line);
    if name_len == 0 {
        return Err("could not find expected directive name");
    }
    let (name, rest) = line.split_at(name_len);
    if rest.starts_with(|c: char| c != ' ' && c != '\t') {
        return Err("found unexpected non-alphabetical character");
    }
    Ok((name, rest))
}

/// What yaml.v3's scanner finds wrong with a directive line (without its
/// `%`), in its words.
fn directive_problem(line: &str) -> Option<&'static str> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let is_blank = |c: char| c == ' ' || c == '\t';
    let (name, rest) = match directive_name(line) {
        Ok(split) => split,
        Err(problem) => return Some(problem),
    };
    let mut rest = rest.trim_start_matches(is_blank);
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    match name {
        "YAML" => {
            let major = digits(rest);
            if major == 0 {
                return Some("did not find expected version number");
            }
            let Some(after) = rest[major..].strip_prefix('.') else {
                return Some("did not find expected digit or '.' character");
            };
            let minor = digits(after);
            if minor == 0 {
                return Some("did not find expected version number");
            }
            if major > 9 || minor > 9 {
                return Some("found extremely long version number");
            }
            rest = &after[minor..];
        }
        "TAG" => {
            let Some(handle) = rest.strip_prefix('!') else {
                return Some("did not find expected '!'");
            };
            let word = directive_word_len(handle);
            rest = match handle[word..].strip_prefix('!') {
                Some(after) => after,
                None if word == 0 => handle,
                None => return Some("did not find expected '!'"),
            };
            if !rest.starts_with(is_blank) {
                return Some("did not find expected whitespace");
            }
            rest = rest.trim_start_matches(is_blank);
            let uri = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if uri == 0 {
                return Some("did not find expected tag URI");
            }
            rest = &rest[uri..];
        }
        _ => return Some("found unknown directive name"),
    }
    let rest = rest.trim_start_matches(is_blank);
    (!rest.is_empty() && !rest.starts_with('#'))
        .then_some("did not find expected comment or line break")
}

/// Reads the start of the document after a `...` as far as yaml.v3's two
/// queued tokens reach (see [`after_document_end`]).
fn content_lookahead<'a>(
    builder: &Builder<'_>,
    parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
) -> Result<(), Failure> {
    loop {
        let (event, span) = builder.next(parser)?;
        match event {
            Event::Scalar(..) => {
                if span.end.line() > span.start.line() {
                    builder.next(parser)?;
                }
                return Ok(());
            }
            Event::DocumentStart(_)
            | Event::MappingStart(..)
            | Event::SequenceStart(..)
            | Event::Nothing
            | Event::StreamStart => {}
            _ => return Ok(()),
        }
    }
}

/// The input text with the parser's character positions turned into byte
/// offsets. Positions are looked up in increasing order, so one forward
/// cursor does the work.
pub(super) struct Source<'t> {
    pub(super) text: &'t str,
    ascii: bool,
    cursor: std::cell::Cell<(usize, usize)>,
}

impl<'t> Source<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Source { text, ascii: text.is_ascii(), cursor: std::cell::Cell::new((0, 0)) }
    }

    pub(super) fn byte(&self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        // Walk from the last answer, backward or forward: the parser asks in
        // nearly increasing order, so this stays linear in the text.
        let (mut chars, mut bytes) = self.cursor.get();
        if char_index < chars {
            for c in self.text[..bytes].chars().rev() {
                if chars == char_index {
                    break;
                }
                chars -= 1;
                bytes -= c.len_utf8();
            }
        }
        for c in self.text[bytes..].chars() {
            if chars == char_index {
                break;
            }
            chars += 1;
            bytes += c.len_utf8();
        }
        self.cursor.set((chars, bytes));
        bytes
    }

    /// The source text of a span.
    pub(super) fn slice(&self, span: &Span) -> &'t str {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index()).max(start);
        &self.text[start..end]
    }
}

struct Builder<'f> {
    file: &'f str,
    /// The character that stands for a byte order mark in the parser's
    /// copy of the text ([`ParserText`]).
    bom: Option<char>,
    /// Whether the text holds NEL, LS or PS, which the parser's copy holds
    /// as line feeds.
    extra_breaks: bool,
    /// Values are Go strings (see [`crate::gotmpl::sprig::from_go_bytes`]):
    /// a character of U+10FF00..U+10FFFF that a `\U` escape writes is
    /// carried as its bytes, as one the text holds already is.
    go_string: bool,
    /// See [`Flags::raw_keys`].
    raw_keys: bool,
    /// Refuse keys that are not strings in nested mappings.
    string_keys: bool,
    /// YAML 1.1 booleans, string keys only, last duplicate wins.
    yaml11: bool,
    /// With `yaml11`: keys that are not strings become strings instead of errors.
    stringify_keys: bool,
    /// Only the first document's root node is read (yaml.v2's Unmarshal).
    first_only: bool,
    /// Only the first document is read (yaml.v3's `Decoder.Decode` once).
    one_document: bool,
    source: Source<'f>,
    limits: Limits,
    anchors: HashMap<usize, Value>,
    alias_budget: usize,
    /// yaml.v2's decode counts of the current document (see [`Aliasing`]).
    aliasing: Aliasing,
    /// Where the current document wrote nulls other than as `null`, when asked.
    scalar_texts: Option<Vec<(Vec<Step>, String)>>,
    /// Where the current document wrote strings in quotes (kept while
    /// `scalar_texts` is on).
    quoted: Vec<Vec<Step>>,
    /// Where the current document wrote scalars with a tag (kept while
    /// `scalar_texts` is on).
    tagged: Vec<Vec<Step>>,
    /// The path of the node being built (kept while `scalar_texts` is on).
    path: Vec<Step>,
    /// Which items of the last sequence built were aliases (for a merge
    /// key's list, see [`merge_problem`]).
    seq_item_aliases: Vec<bool>,
    /// The anchored nodes being built (while `scalar_texts` is on): each
    /// anchor and the length of `path` at its node.
    open_anchors: Vec<(usize, usize)>,
    /// The texts of the scalars under each anchored node, by their path
    /// below it, which an alias of it writes again where it stands.
    anchor_texts: HashMap<usize, Vec<(Vec<Step>, String)>>,
    /// How many mapping keys are being built around the current node.
    in_key: usize,
    /// The first key that is not a string where `string_keys` refuses one:
    /// kustomize decodes the whole document (duplicate keys fail there)
    /// before JSON refuses such a key, so it is reported last.
    non_string_key: Option<ParseError>,
    /// With `scalar_texts`: the first key that is not a string where
    /// `string_keys` refuses one, kept with the document instead of failing.
    kept_key: Option<Box<NonStringKey>>,
    /// With `scalar_texts`: every key `kept_key` could be, as
    /// [`Document::typed_keys`] has them.
    typed_keys: Vec<(Vec<Step>, String)>,
    /// With `stringify_keys`: the first thing yaml.v2's decoder refuses (a
    /// mapping or sequence as key, a merge of something but mappings),
    /// reported once the document has been read whole and before
    /// `non_string_key`, which sigs.k8s.io/yaml finds later.
    decode_error: Option<ParseError>,
    /// The first mapping key of the document given twice, reported once the
    /// document is read, with every such key in `duplicates`.
    duplicate_error: Option<ParseError>,
    duplicates: Vec<DuplicateKey>,
    /// Scalars their tags do not fit, kept (see [`Document::undecodable`])
    /// when `defer_decoding`.
    undecodable: Vec<(Vec<Step>, String, ParseError)>,
    /// With `defer_decoding` and `scalar_texts`: the keys given again.
    shadows: Vec<Shadow>,
    defer_decoding: bool,
    /// How many block collections are open around the current node that
    /// moved libyaml's indentation (every one but a sequence written at its
    /// mapping key's column): libyaml bounds them by [`Limits::depth`].
    indents: usize,
    /// Where the block mapping whose value is read next starts, taken by
    /// the node that reads it: a block sequence at its column adds no
    /// indentation level.
    value_of_block_map_at: Option<Marker>,
    /// The start of the block mapping whose indentless sequence (`k:` then
    /// `- a` at `k`'s column) is read next: libyaml's parser ends such a
    /// sequence at any token but a `-`, so the mapping refuses what the
    /// sequence cannot take, naming the line where the mapping opened.
    indentless_parent: Option<Marker>,
    /// The line of the last node libyaml could have taken for a mapping key
    /// (a scalar, an alias or a flow collection outside flow collections):
    /// libyaml's scanner names it when indentation nests too deep.
    key_candidate_line: usize,
    /// The bytes of the last block scalar (`|`, `>`) the parser read: a
    /// quote in there opens no quoted scalar.
    last_block_scalar: std::cell::Cell<Option<(usize, usize)>>,
    /// The byte after the last collection end the parser gave (a flow
    /// collection's closing bracket).
    last_close: std::cell::Cell<usize>,
}

impl Builder<'_> {
    /// A merge key (`<<`) as yaml.v2 decodes it where it stands: the merged
    /// entries replace those the mapping set before them (later entries
    /// replace them in turn), and of a sequence of mappings the earlier ones
    /// win. Anything but a mapping or a sequence of mappings is the
    /// decoder's error.
    fn merge_in_place(&mut self, map: &mut Map, lines: &mut Vec<usize>, value: Value, at: &Span) {
        let sources = match value {
            Value::Map(m) => vec![m],
            Value::Seq(items) if items.iter().all(|v| matches!(v, Value::Map(_))) => items
                .into_iter()
                .rev()
                .filter_map(|v| match v {
                    Value::Map(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => {
                if self.decode_error.is_none() {
                    self.decode_error = Some(self.err(at, MERGE_NOT_MAP));
                }
                return;
            }
        };
        for m in sources {
            for (k, v) in m {
                if !map.contains_key(&k) {
                    lines.push(at.start.line());
                }
                map.insert(k, v);
            }
        }
    }

    /// A tab libyaml refuses between a block `indicator` and the node at
    /// `span` ([`super::tabs::tab_after_indicator`]).
    fn tab_after(&self, indicator: char, span: &Span) -> Result<(), ParseError> {
        let start = self.source.byte(span.start.index());
        match super::tabs::tab_after_indicator(self.source.text, start, indicator, self.file) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// libyaml's scanner refuses `|` and `>` inside a flow collection, where
    /// saphyr reads a block scalar or a plain one starting with the
    /// indicator (`plain`): the error points at the indicator.
    fn block_in_flow(&self, span: &Span, plain: bool) -> ParseError {
        let start = self.source.byte(span.start.index());
        let before = &self.source.text[..start];
        let at = if plain { start } else { before.rfind(['|', '>']).unwrap_or(start) };
        let (line, column) = line_column(before, at);
        ParseError::new(self.file, line, column, "found character that cannot start any token")
    }

    /// An entry of the collection that opened at `start` that libyaml's
    /// parser could not read (`problems`: its words for this kind of
    /// collection), placed as yaml.v3 (kyaml) places it: at the context
    /// mark, the line where the collection opened, unless that is the first
    /// line (then, as yaml.v2 always does, at the problem). The message's
    /// line is then the one kustomize prints. Only errors met reading this
    /// collection's own next entry come here, not those of nested ones. A
    /// block collection a refused token sits left of is no context: libyaml
    /// closed it before the token (the error names its own line then).
    fn context_mark(&self, failure: Failure, start: Marker, problems: &[&str]) -> Failure {
        match failure {
            Failure::Error(mut e)
                if self.string_keys
                    && !self.yaml11
                    && problems.contains(&e.message.as_str())
                    && start.line() > 1
                    && !(problems[0] != FLOW_MAPPING_ENTRY[0]
                        && problems[0] != FLOW_SEQUENCE_ENTRY[0]
                        && e.column <= start.col()) =>
            {
                e.line = start.line();
                e.column = start.col() + 1;
                Failure::Error(e)
            }
            failure => failure,
        }
    }

    /// yaml.v2's (and yaml.v3's) decoder refusal of a document whose alias
    /// expansions make too much of what it decodes, checked at every node
    /// as Go checks it; sigs.k8s.io/yaml readers (`stringify_keys`) only,
    /// as kyaml's node reading expands no alias.
    fn check_aliasing(&self, span: &Span) -> Result<(), Failure> {
        if self.stringify_keys && self.aliasing.excessive() {
            return Err(self.err(span, EXCESSIVE_ALIASING).into());
        }
        Ok(())
    }

    /// Records the pairs of equal keys of a mapping as yaml.v3 lists them:
    /// for each key, every later one equal to it. `before` entries of `map`
    /// (with their `lines`) came before the first key given again; `later`
    /// holds every key read from that one on.
    fn list_duplicates(
        &mut self,
        map: &Map,
        lines: &[usize],
        before: usize,
        later: &[(String, usize)],
    ) {
        let keys: Vec<(&str, usize)> = map
            .keys()
            .take(before)
            .zip(lines)
            .map(|(k, &l)| (k.as_str(), l))
            .chain(later.iter().map(|(k, l)| (k.as_str(), *l)))
            .collect();
        // The places of each key, so that a large mapping with a key given
        // twice is not compared pair by pair.
        let mut places: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, &(key, _)) in keys.iter().enumerate() {
            places.entry(key).or_default().push(i);
        }
        for (i, &(key, first_line)) in keys.iter().enumerate() {
            let same = places.get(key).map_or(&[][..], Vec::as_slice);
            let later = same.iter().filter(|&&j| j > i);
            for &j in later {
                let line = keys[j].1;
                self.duplicates.push(DuplicateKey {
                    key: key.to_string(),
                    name: key.to_string(),
                    map: self.path.clone(),
                    line,
                    first_line,
                    read_lines: (line, first_line),
                    behind_root: false,
                    appended: (0, 0),
                    apart: false,
                    copied: Vec::new(),
                    last_key_line: 0,
                    flow: false,
                });
            }
        }
    }

    /// The pairs of equal keys of a mapping (its scalar `keys` as written,
    /// see [`null_copies`]; `flow`: its style) as yaml.v3 lists them once
    /// kyaml's reader appended its entries: keys are equal when their
    /// texts are.
    fn written_duplicates(&self, keys: &[WrittenKey], flow: bool) -> Vec<DuplicateKey> {
        let last_key_line = keys.last().map_or(0, |k| k.line);
        let copies = null_copies(keys);
        let copied: Vec<usize> = copies.iter().map(|&i| keys[i].line).collect();
        let all: Vec<(usize, usize)> = (0..keys.len())
            .map(|i| (i, 0))
            .chain(copies.into_iter().enumerate().map(|(n, i)| (i, n + 1)))
            .collect();
        // The entries of each text, in order, so that a large mapping is not
        // compared pair by pair.
        let mut by_text: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::new();
        for (a, &(i, _)) in all.iter().enumerate() {
            by_text.entry(keys[i].text.as_str()).or_default().push(a);
        }
        let mut out = Vec::new();
        for (a, &(i, copy_i)) in all.iter().enumerate() {
            let same = &by_text[keys[i].text.as_str()];
            let later = &same[same.partition_point(|&b| b <= a)..];
            for &(j, copy_j) in later.iter().map(|&b| &all[b]) {
                let (line, first_line) = (keys[j].line, keys[i].line);
                out.push(DuplicateKey {
                    key: keys[i].text.clone(),
                    name: keys[i].name.clone(),
                    map: self.path.clone(),
                    line,
                    first_line,
                    read_lines: (line, first_line),
                    behind_root: false,
                    appended: (copy_j, copy_i),
                    apart: copy_i > 0 || copy_j > 0 || keys[i].null != keys[j].null,
                    copied: copied.clone(),
                    last_key_line,
                    flow,
                });
            }
        }
        out
    }

    fn err(&self, span: &Span, message: impl Into<String>) -> ParseError {
        ParseError::new(self.file, span.start.line(), span.start.col() + 1, message)
    }

    fn next<'a>(
        &self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
    ) -> Result<(Event<'a>, Span), Failure> {
        match parser.next_event() {
            Some(Ok(ev)) => {
                if let (Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, ..), span) =
                    &ev
                {
                    let bytes =
                        (self.source.byte(span.start.index()), self.source.byte(span.end.index()));
                    self.last_block_scalar.set(Some(bytes));
                }
                if let (Event::SequenceEnd | Event::MappingEnd, span) = &ev {
                    self.last_close.set(self.source.byte(span.end.index()));
                }
                Ok(ev)
            }
            Some(Err(e)) => {
                let at = self.source.byte(e.marker().index());
                let bytes = self.source.text.as_bytes();
                if (self.first_only || self.one_document)
                    && let Some(end) = quoted_root_then_words(self.source.text, self.first_only)
                    && at >= end
                {
                    // libyaml reads a quoted scalar that opens and closes on
                    // the first document's first line as its root node when
                    // no `:` on that line makes it a key; yaml.v2's Unmarshal
                    // stops there and yaml.v3's decoder at the document's
                    // end that the next token makes, so the rest (`'foo'
                    // 'bar'`, `''...`) is never parsed.
                    return Err(Failure::Rewrite {
                        at: end,
                        len: self.source.text.len() - end,
                        with: "\n".into(),
                    });
                }
                if let Some(end) = name_before_indicator(&self.source.text[..at]) {
                    // saphyr read an anchor or alias on into an indicator
                    // and failed before giving its event (`*a: 1` as a key
                    // of a block mapping): see [`Self::name_failure`].
                    return Err(name_split(self.source.text, end));
                }
                if e.info().contains("':' must be followed by a valid YAML whitespace") {
                    // yaml.v3 accepts a tab after the `:` of a mapping value:
                    // read it as the space it stands for. The marker points at
                    // the tab or just past it.
                    for tab in [at, at.wrapping_sub(1)] {
                        if tab > 0 && bytes.get(tab) == Some(&b'\t') && bytes[tab - 1] == b':' {
                            // Not after an explicit value's `:` in the block
                            // context, where a simple key may start.
                            if open_bracket(self.source.text, tab).is_none()
                                && let Some(e) = super::tabs::tab_after_indicator(
                                    self.source.text,
                                    tab + 1,
                                    ':',
                                    self.file,
                                )
                            {
                                return Err(e.into());
                            }
                            return Err(Failure::Rewrite { at: tab, len: 1, with: " ".into() });
                        }
                    }
                }
                if self.yaml11
                    && e.info()
                        == "while scanning a tag, did not find expected whitespace or line break"
                    && let Some(failure) = self.v2_tag_failure(at)
                {
                    // saphyr refuses a tag that yaml.v2 reads on into `,`,
                    // `[`, `]` or `!`.
                    return Err(failure);
                }
                if self.yaml11
                    && e.info() == "while parsing a tag, found an invalid UTF-8 codepoint"
                    && let Some((group, len)) = wide_uri_escape(&self.source.text[at..])
                {
                    // saphyr joins the octets of a 3- or 4-octet character
                    // escaped in a tag into one number instead of decoding
                    // them; libyaml takes any octets its UTF-8 check lets
                    // through. yaml.v2 resolves no tag that holds a non-ASCII
                    // character (it is a local or unknown tag whichever it
                    // is), so a 2-octet one, which saphyr reads, stands in.
                    return Err(Failure::Rewrite { at: at + group, len, with: "%C2%80".into() });
                }
                if e.info() == "expected whitespace"
                    && let Some(found) = super::tabs::tab_after_question(
                        self.source.text,
                        at,
                        open_bracket(self.source.text, at).is_some(),
                        self.file,
                    )
                {
                    return Err(match found {
                        Ok(tab) => Failure::Rewrite { at: tab, len: 1, with: " ".into() },
                        Err(e) => e.into(),
                    });
                }
                if e.info() == "wrongly indented line in block scalar"
                    && let Some(failure) = self.short_block_scalar_line(at)
                {
                    return Err(failure);
                }
                if e.info().contains("found unknown escape character")
                    && let Some(quote) = escaped_apostrophe(&self.source.text[at..])
                {
                    // yaml.v3 knows `\'` in double quotes; an apostrophe
                    // needs no escape there.
                    return Err(Failure::Rewrite { at: at + quote, len: 2, with: "'".into() });
                }
                if e.info().starts_with("while parsing a quoted scalar, ")
                    && let Some(quote) =
                        quote_scanned_first(self.source.text, at, None).filter(|&q| q < at)
                {
                    // A quoted scalar libyaml cannot read comes first on
                    // the line.
                    let text = self.source.text;
                    let line = line_column(text, quote).0;
                    let unclosed = unclosed_quote(&text[quote..]);
                    if let Some((message, line)) =
                        quoted_scalar_error(text, quote, unclosed, line, self.string_keys)
                    {
                        let column = line_column(text, quote).1;
                        return Err(ParseError::new(self.file, line, column, message).into());
                    }
                }
                if e.info().starts_with("while parsing a quoted scalar, ")
                    && let Some((off, problem)) = bad_escape(&self.source.text[at..])
                {
                    // saphyr refuses an escape at the scalar's opening
                    // quote, and knows `\/`; libyaml refuses the first
                    // escape it does not know, on that escape's line. On
                    // the quote's line the error stays at the quote, where
                    // `earlier_error` reads the text before the scalar.
                    let text = self.source.text;
                    let escape_line = text[at..at + off].contains(is_line_end);
                    let (line, column) = line_column(text, if escape_line { at + off } else { at });
                    let message = format!("while parsing a quoted scalar, {problem}");
                    return Err(ParseError::new(self.file, line, column, message).into());
                }
                if e.info() == "invalid indentation in quoted scalar"
                    && let Some((len, with)) =
                        indented_quoted(&self.source.text[at..], e.marker().col())
                {
                    // libyaml does not check the indentation of a quoted
                    // scalar's continuation lines, whose leading blanks fold
                    // away: indent them as far as the opening quote.
                    return Err(Failure::Rewrite { at, len, with: with.into() });
                }
                if matches!(
                    e.info(),
                    "invalid indentation in flow construct" | "invalid indentation"
                ) && let Some((line_start, pad)) = flow_padding(self.source.text, at)
                {
                    // libyaml lets a flow collection's later lines start
                    // anywhere: indent this one past the line the collection
                    // opened on (leading blanks in flow content fold away).
                    return Err(Failure::Rewrite { at: line_start, len: 0, with: pad.into() });
                }
                if e.info().contains("comments must be separated from other tokens") {
                    // libyaml (yaml.v2 and yaml.v3) starts a comment at a `#`
                    // right after a quoted scalar or a flow collection
                    // (`'x'#c`, `[a]#c`): read it with the blank it lacks.
                    let hash = [at, at.wrapping_sub(1), at + 1]
                        .into_iter()
                        .find(|&i| i < bytes.len() && bytes[i] == b'#');
                    if let Some(hash) = hash {
                        return Err(Failure::Rewrite { at: hash, len: 0, with: " ".into() });
                    }
                }
                if e.info() == "tab cannot be used as indentation" {
                    // libyaml folds a tab that opens a quoted scalar's later
                    // line like any blank: indent the line past the last
                    // line that starts with a space or text, and read again.
                    let text = self.source.text;
                    let line_start = line_start(text, at);
                    let width = text[..line_start]
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty() && !l.starts_with('\t'))
                        .map_or(0, |l| l.len() - l.trim_start_matches(' ').len())
                        + 1;
                    return Err(Failure::Rewrite {
                        at: line_start,
                        len: 0,
                        with: " ".repeat(width).into(),
                    });
                }
                // saphyr failed after a swallowed `]`, where it closed the
                // sequence.
                if let Some((open, bracket)) = self.source.text[..at]
                    .rmatch_indices('?')
                    .find_map(|(question, _)| swallowed_bracket(self.source.text, question))
                    .filter(|&(_, bracket)| bracket < at)
                    && let Some(e) = self.block_end_in_swallowed_flow(open, bracket)
                {
                    return Err(e.into());
                }
                if let Some(question) = question_before_bracket(self.source.text, at)
                    && let Some(failure) = self.empty_key_before_bracket(question)
                {
                    // saphyr's scanner refused the token after a `]` that
                    // libyaml's parser passes over before giving the `?`.
                    return Err(failure);
                }
                if (self.first_only || self.one_document)
                    && matches!(bytes.get(at), Some(b']' | b'}'))
                    && root_closed_before(self.source.text, at)
                {
                    // libyaml scans a `]` or `}` after the quoted scalar or
                    // flow collection that is the first document's root (no
                    // flow collection left open) as a token that ends the
                    // document: yaml.v2's Unmarshal stops at that root, so
                    // the bracket is never parsed; yaml.v3's decoder reads
                    // no further than the document's end either, but its
                    // scanner looks at the tokens after the bracket, which
                    // saphyr reads on from a blank in its place.
                    if !self.first_only
                        && let Some((indicator, message)) =
                            indicator_after_close(self.source.text, at + 1)
                    {
                        // A scanned `]` or `}` leaves no simple key allowed
                        // in block context until the line ends.
                        let (line, column) = line_column(self.source.text, indicator);
                        return Err(ParseError::new(self.file, line, column, message).into());
                    }
                    let len = if self.first_only { self.source.text.len() - at } else { 1 };
                    let with = if self.first_only { "\n" } else { " " };
                    return Err(Failure::Rewrite { at, len, with: with.into() });
                }
                if self.first_only
                    && e.info().contains("invalid trailing content after")
                    && bytes.get(at) != Some(&b':')
                    && let Some(close) = self.quoted_close_before(at)
                    && let Some(open) = self.source.text[close..]
                        .chars()
                        .next()
                        .and_then(|quote| opening_quote(&self.source.text[..close], quote))
                    && document_root(self.source.text, open)
                {
                    // A quoted scalar over several lines is no key for
                    // yaml.v2: at the document's top it is the root node,
                    // and the token after it ends the document, which
                    // Unmarshal stops reading.
                    let end = close + 1;
                    return Err(Failure::Rewrite {
                        at: end,
                        len: self.source.text.len() - end,
                        with: "\n".into(),
                    });
                }
                if self.yaml11
                    && matches!(
                        e.info(),
                        "illegal placement of ':' indicator"
                            | "while parsing a flow mapping, did not find expected ',' or '}'"
                            | "while parsing a flow sequence, expected ',' or ']'"
                    )
                    && let Some(start) = v2_multiline_plain_before_colon(self.source.text, at)
                {
                    // yaml.v2 reads a `:` right before `,`, `]` or `}` in a
                    // flow collection into the plain scalar it ends, also one
                    // read over several lines (`[x\n  y:]` is `x y:`), where
                    // saphyr wants a key on one line: quote the scalar, which
                    // folds its lines alike.
                    return Err(quoted_through_colon(self.source.text, start, at, false));
                }
                let mut message = e.info().to_string();
                let mut line = e.marker().line();
                let mut column = e.marker().col() + 1;
                if message.ends_with("did not find expected key")
                    && let Some(dash) = block_entry_before(self.source.text, at)
                {
                    // saphyr marks the node after a `-` where a key is due;
                    // libyaml's parser refuses the `-` itself, before its
                    // scanner reads the node (`a: 1` then `- item` then an
                    // unclosed quote: no quote error).
                    column = line_column(self.source.text, dash).1;
                }
                if message.contains("invalid trailing content after")
                    && let Some(problem) = token_after_node(self.source.text, at)
                {
                    // libyaml scans what follows a closed quoted scalar as
                    // the next token: one its scanner refuses there is a
                    // scanner error on that line, before any parser error.
                    message = problem.into();
                    line = line_column(self.source.text, at).0;
                } else if message.contains("invalid trailing content after")
                    && bytes.get(at) != Some(&b':')
                {
                    let text = self.source.text;
                    let open = node_start(text, at);
                    if text[open..].starts_with(['"', '\''])
                        && required_key_collection(text, open).is_some()
                        && let Some(dropped) = required_key_dropped(text, open, at)
                    {
                        // The quoted scalar is a key its block collection
                        // requires: libyaml's scanner fails it at the token
                        // that drops it. yaml.v3 names the key's line.
                        message = "could not find expected ':'".into();
                        let at_key = self.string_keys && !self.yaml11;
                        line = line_column(text, if at_key { open } else { dropped }).0;
                    } else {
                        // A token the scanner reads: the parser refuses it
                        // where the collection wants its next entry.
                        message = entry_problem(text, at).into();
                        line = line_column(text, at).0;
                    }
                }
                if message == "comment intercepting the multiline text"
                    && let Some((scalar, token)) = comment_ended_plain(self.source.text, at)
                {
                    // libyaml ends a plain scalar at a comment; what the
                    // next line holds is the next token, which the parser
                    // refuses where the collection wants its next entry.
                    message = entry_problem(self.source.text, scalar).into();
                    line = line_column(self.source.text, token).0;
                }
                if self.yaml11
                    && message.ends_with("found a tab")
                    && let Some(tab) = tab_opening_later_line(self.source.text, at)
                {
                    // A tab left of a plain scalar's indentation on a later
                    // line: yaml.v2 names the tab's line, where saphyr marks
                    // the scalar.
                    line = line_column(self.source.text, tab).0;
                }
                if message.starts_with("':' may not precede any of")
                    && let Some(colon) = [at, at.wrapping_sub(1)].into_iter().find(|&i| {
                        bytes.get(i) == Some(&b':') && matches!(bytes.get(i + 1), Some(b'[' | b'{'))
                    })
                {
                    // libyaml's plain scalar takes the `:` (`a:`) and ends
                    // at the bracket, which opens a collection where the
                    // enclosing one wants a `,`.
                    message = entry_problem(self.source.text, colon + 1).into();
                    line = line_column(self.source.text, colon + 1).0;
                }
                if message.ends_with("found unexpected document indicator")
                    && let Some(marker) = document_indicator_after(self.source.text, at)
                {
                    // libyaml names the line of the `---` or `...` inside
                    // the quoted scalar, where saphyr marks the scalar.
                    line = line_column(self.source.text, marker).0;
                }
                if message == "misplaced bracket"
                    && let Some(problem) = bracket_after_node(self.source.text, at)
                {
                    message = problem.into();
                }
                if open_bracket(self.source.text, at).is_some()
                    && message.starts_with("plain scalar cannot start with '-'")
                    && let Some(dash) = [at, at.wrapping_sub(1)].into_iter().find(|&i| {
                        bytes.get(i) == Some(&b'-')
                            && matches!(bytes.get(i + 1), Some(b',' | b']' | b'}'))
                    })
                {
                    // libyaml starts a plain scalar with a `-` that no blank
                    // follows; a flow indicator then ends it (`{name: -}`
                    // holds the text `-`), which YAML 1.2 does not allow.
                    return Err(Failure::Rewrite { at: dash, len: 1, with: "'-'".into() });
                }
                if open_bracket(self.source.text, at).is_some() {
                    let rest = self.source.text[at..].trim_start_matches([' ', '\t']);
                    if (message.ends_with("did not find expected ',' or '}'")
                        || message.ends_with("expected ',' or ']'"))
                        && rest.starts_with(['|', '>'])
                    {
                        // libyaml's scanner starts no token with a block
                        // scalar indicator inside a flow collection.
                        message = "found character that cannot start any token".into();
                        line = line_column(self.source.text, at).0;
                    } else if message == "\"-\" is only valid inside a block"
                        || message.starts_with("plain scalar cannot start with '-'")
                    {
                        // libyaml scans a `-` and a blank there as a block
                        // entry, which its flow parser then refuses: as a
                        // node where one is due (after `[`, `{`, `,`, `?` or
                        // a `:`), else where the collection wants its next
                        // entry.
                        message = if node_due_before(self.source.text, at) {
                            "while parsing a flow node, did not find expected node content"
                        } else {
                            entry_problem(self.source.text, at)
                        }
                        .into();
                        line = line_column(self.source.text, at).0;
                    }
                }
                if (message.ends_with("did not find expected key")
                    || message.ends_with("did not find expected '-' indicator"))
                    && let Some(indicator) = block_scalar_after_flow(self.source.text, at)
                {
                    // libyaml's parser refuses the block scalar token itself,
                    // on the line of its indicator, not the entry after it.
                    line = line_column(self.source.text, indicator).0;
                }
                if message.contains("invalid trailing content after")
                    && bytes.get(at) == Some(&b':')
                    && self.source.text[at + 1..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
                {
                    // A `:` after a quoted scalar that opened on an earlier
                    // line: libyaml's scanner gives up the key, with an
                    // error only where it required one (a later key of an
                    // open block mapping), which yaml.v2 names at the `:`
                    // and yaml.v3 at the key; elsewhere the `:` is what it
                    // refuses.
                    let required = self
                        .quoted_close_before(at)
                        .and_then(|close| {
                            let quote = self.source.text[close..].chars().next()?;
                            opening_quote(&self.source.text[..close], quote)
                        })
                        .filter(|&open| required_key_collection(self.source.text, open).is_some());
                    message = match required {
                        Some(open) => {
                            if self.string_keys && !self.yaml11 {
                                line = line_column(self.source.text, open).0;
                            }
                            "while scanning a simple key, could not find expected ':'"
                        }
                        None => "mapping values are not allowed in this context",
                    }
                    .into();
                }
                if (message == FLOW_MAPPING_ENTRY[0] || message == FLOW_SEQUENCE_ENTRY[0])
                    && open_bracket(self.source.text, at).is_some()
                {
                    // libyaml's parser words a missing `,` by the innermost
                    // collection its scanner has open: a single-pair mapping
                    // in a flow sequence has no words of its own (`[a: b c:
                    // d]`, `[{a: b} c: d]` want a `,` or `]`), where saphyr
                    // words such a pair as a flow mapping.
                    message = entry_problem(self.source.text, at).into();
                }
                if (message == FLOW_MAPPING_ENTRY[0] || message == FLOW_SEQUENCE_ENTRY[0])
                    && let Some((close, open)) = flow_scan(self.source.text, at).wrong_close
                {
                    // A `}` that ends a flow sequence's single-pair mapping
                    // (`[a: b}`): saphyr reads on past it, libyaml's parser
                    // refuses it where the collection wants its next entry.
                    message = flow_entry_problem(self.source.text.as_bytes()[open]).into();
                    line = line_column(self.source.text, close).0;
                }
                if message == "illegal placement of ':' indicator" {
                    // A key over several lines in a flow sequence: libyaml
                    // parses the key as an entry and then wants a `,`.
                    // yaml.v3 names the line where the sequence opened,
                    // unless it is the first line (see `context_mark`).
                    message = "while parsing a flow sequence, expected ',' or ']'".into();
                    if !self.yaml11
                        && let Some(open) = open_bracket(self.source.text, at)
                        && line_column(self.source.text, open).0 > 1
                    {
                        line = line_column(self.source.text, open).0;
                    }
                }
                if self.yaml11
                    && !self.string_keys
                    && matches!(e.info(), "simple key expect ':'" | "simple key expected")
                    && let Some(end) = self.quoted_close_before(at)
                {
                    // A quoted scalar over several lines where a key must
                    // be: yaml.v2's scanner gives the key up as soon as the
                    // scalar ends, on the line of its closing quote.
                    message = "could not find expected ':'".into();
                    line = line_column(self.source.text, end).0;
                }
                if self.string_keys
                    && matches!(e.info(), "simple key expect ':'" | "simple key expected")
                {
                    // yaml.v3 (kyaml) names the line of the key that misses
                    // its `:` where yaml.v2 names the line where the scanner
                    // noticed: the last line before it with more than blanks
                    // and comments.
                    let text = self.source.text;
                    let before = &text[..at.min(text.len())];
                    let key_line = before
                        .split(is_line_end)
                        .enumerate()
                        .filter(|(_, l)| {
                            let l = l.trim_matches([' ', '\t', '\r']);
                            !l.is_empty() && !l.starts_with('#')
                        })
                        .last();
                    if let Some((index, _)) = key_line {
                        line = index + 1;
                    }
                }
                if matches!(e.info(), "simple key expect ':'" | "simple key expected")
                    && let Some((token, kind)) =
                        keyless_token_before(self.source.text, at, self.yaml11)
                    && !self
                        .last_block_scalar
                        .get()
                        .is_some_and(|(start, end)| (start..end).contains(&token))
                {
                    // A token libyaml's scanner makes no key of where one
                    // must be (a block scalar, or an empty flow collection
                    // for yaml.v2): its parser refuses the token itself, on
                    // its line, where the collection wants its next entry.
                    message = match kind {
                        KeyCollection::Mapping => BLOCK_MAPPING_ENTRY[0],
                        KeyCollection::Sequence => BLOCK_SEQUENCE_ENTRY[0],
                    }
                    .into();
                    (line, column) = line_column(self.source.text, token);
                    // yaml.v3 names the line where that collection opened
                    // (see `context_mark`), unless it is the first line.
                    let opened = line_column(
                        self.source.text,
                        block_collection_start(self.source.text, token),
                    )
                    .0;
                    if self.string_keys && !self.yaml11 && opened > 1 {
                        line = opened;
                    }
                }
                // libyaml scans the token at the error before its parser
                // judges it: a quoted scalar that never closes there is
                // the scanner's error first (`'' "` is no missing key), and
                // so is one it cannot read before it on its line.
                let text = self.source.text;
                let unclosed_here = message == "invalid indentation in quoted scalar"
                    || (message.contains("quoted scalar") && message.contains("end of stream"))
                    || text.get(at..).is_some_and(unclosed_quote);
                // yaml.v3's scanner reads past a token its parser refuses
                // here ([`scanned_past`] does it for yaml.v2, after looking
                // for an earlier error, which yaml.v3's context marks hide).
                let past = (!self.yaml11 && !split_problem(&message).1).then_some(2);
                let scanned =
                    quote_scanned_first(text, at, past).filter(|&q| q < at || !unclosed_here);
                let (quote, unclosed) = match scanned {
                    Some(q) => (q, unclosed_quote(&text[q..])),
                    None => (at, unclosed_here),
                };
                if (unclosed || scanned.is_some())
                    && let Some(error) = quoted_scalar_error(
                        text,
                        quote,
                        unclosed,
                        scanned.map_or(line, |q| line_column(text, q).0),
                        self.string_keys,
                    )
                {
                    (message, line) = error;
                }
                if message.contains("unknown anchor") {
                    if let Some(failure) = self.alias_name_failure(at) {
                        return Err(failure);
                    }
                    // yaml.v2 and yaml.v3 name the alias: `unknown anchor 'x' referenced`.
                    let text = &self.source.text;
                    let star = text[at.min(text.len())..].find('*').map(|i| at + i);
                    if let Some(star) = star {
                        let name: String = text[star + 1..]
                            .chars()
                            .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                            .collect();
                        message = format!("unknown anchor '{name}' referenced");
                    }
                }
                Err(Failure::Error(ParseError::new(self.file, line, column, message)))
            }
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    /// libyaml's parser after a `?` with no key in a flow sequence (`[?]`,
    /// the `?` at byte `at`) where the token after the `]` it passes over
    /// starts a node (see [`swallowed_bracket`]): the sequence wants a `,`
    /// or `]` there (yaml.v2 names that token's line, yaml.v3 the line
    /// where the sequence opened). `None` where that token is one libyaml's
    /// scanner reads otherwise outside the closed collection, or one the
    /// pair takes (`:`, `,`, `]`).
    fn empty_key_before_bracket(&self, at: usize) -> Option<Failure> {
        let text = self.source.text;
        let (open, bracket) = swallowed_bracket(text, at)?;
        if let Some(e) = self.block_end_in_swallowed_flow(open, bracket) {
            return Some(e.into());
        }
        let next = skip_blanks_and_comments(text, bracket + 1);
        let token = text[next..].chars().next();
        // A `-` that opens a line is a block entry, which libyaml's parser
        // refuses there too.
        let entry = token == Some('-') && text[..next].ends_with(['\n', ' ']) && {
            let line = &text[line_start(text, next)..next];
            line.trim_start_matches(' ').is_empty()
        };
        if token.is_some_and(|c| !(c.is_alphanumeric() || "'\"[{}&*!".contains(c))) && !entry {
            return None;
        }
        let (mut line, column) = line_column(text, next);
        if next == text.len() && !text.ends_with(is_line_end) {
            // libyaml puts the end of a stream that does not end its last
            // line on a line of its own.
            line += 1;
        }
        let e = ParseError::new(self.file, line, column, FLOW_SEQUENCE_ENTRY[0]).into();
        let (line, column) = line_column(text, open);
        Some(self.context_mark(e, Marker::new(open, line, column - 1), FLOW_SEQUENCE_ENTRY))
    }

    /// libyaml's parser error when the token after a swallowed `]` (see
    /// [`swallowed_bracket`]), with at most a `,` between, stands on a later
    /// line left of the block collection around the sequence: libyaml's scanner, in the block
    /// context there, ends that collection first with a block end token,
    /// which the sequence its parser still reads cannot take: as a node
    /// after the `,`, else as its next entry. The sequence opens at byte
    /// `open`, the `]` is at `bracket`. yaml.v2 marks the block end
    /// where the token stands; yaml.v3 at the end of the token before it
    /// (and names the line where the sequence opened past the first for a
    /// missing entry). A token libyaml's scanner may refuse itself (a
    /// quote) is left to the other rules. For yaml.v3 a plain scalar at
    /// the column of a block collection still open, with no `:` after it
    /// on its line, fails first: its scanner reads two tokens past the
    /// block end, by which the key it requires there has gone stale. A tab
    /// after the `,` or a line break, where a simple key may start in the
    /// block context, is a token the scanner refuses before that.
    fn block_end_in_swallowed_flow(&self, open: usize, bracket: usize) -> Option<ParseError> {
        let text = self.source.text;
        let (mut i, mut before, mut comma) = (bracket + 1, bracket, false);
        // Whether a simple key may start here in the block context, where
        // the scanner then refuses a tab.
        let mut key_allowed = false;
        while let Some(c) = text[i..].chars().next() {
            match c {
                '\t' if key_allowed => {
                    let (line, column) = line_column(text, i);
                    let message = "while scanning for the next token, found character that cannot start any token";
                    return Some(ParseError::new(self.file, line, column, message));
                }
                ' ' | '\t' => {}
                '#' if text[..i].ends_with([' ', '\t']) => i = line_end(text, i),
                ',' if !comma => (before, comma, key_allowed) = (i, true, true),
                c if is_break(c) => key_allowed = true,
                _ => break,
            }
            i += text[i..].chars().next().map_or(0, char::len_utf8);
        }
        let outermost = flow_scan(text, open).open.first().copied().unwrap_or(open);
        let token = text[i..].chars().next()?;
        let left = i - line_start(text, i) < block_indent_at(text, outermost);
        if !left
            || !text[bracket..i].contains(is_line_end)
            || !(token.is_alphanumeric() || "[]{}-?:".contains(token))
        {
            return None;
        }
        let v3 = self.string_keys && !self.yaml11;
        if v3 && token.is_alphanumeric() {
            let rest = &text[i..line_end(text, i)];
            let value = rest
                .match_indices(':')
                .any(|(c, _)| rest[c + 1..].chars().next().is_none_or(|c| c == ' ' || c == '\t'));
            if !value && block_columns(text, bracket).contains(&(i - line_start(text, i))) {
                let (line, column) = line_column(text, i);
                let message = "while scanning a simple key, could not find expected ':'";
                return Some(ParseError::new(self.file, line, column, message));
            }
        }
        let line = line_column(text, if v3 { before } else { i }).0;
        let column = line_column(text, i).1;
        if comma {
            let message = "while parsing a flow node, did not find expected node content";
            return Some(ParseError::new(self.file, line, column, message));
        }
        let e = ParseError::new(self.file, line, column, FLOW_SEQUENCE_ENTRY[0]);
        let (line, column) = line_column(text, open);
        match self.context_mark(e.into(), Marker::new(open, line, column - 1), FLOW_SEQUENCE_ENTRY)
        {
            Failure::Error(e) => Some(e),
            Failure::Rewrite { .. } => None,
        }
    }

    /// libyaml's reading of a block scalar whose first line (its token at
    /// byte `at`) is indented less than the scalar's indentation indicator
    /// asks (`a: |4` then ` e`), where saphyr refuses the line: the scalar
    /// ends empty before it. A comment there is then only a comment; any
    /// other token stands inside the block collection the scalar is a value
    /// of, which wants its next key or `-` there (yaml.v3 names the line
    /// where that collection opened: [`Self::context_mark`] moves it there).
    /// `None` for a scalar that is the document's root.
    fn short_block_scalar_line(&self, at: usize) -> Option<Failure> {
        let text = self.source.text;
        let start = line_start(text, at);
        if text[at..].starts_with('#') {
            return Some(Failure::Rewrite { at: start, len: at - start, with: "".into() });
        }
        // The header's line: the last one before with more than blanks
        // (NEL, LS and PS end lines too).
        let blank = |c: char| matches!(c, ' ' | '\t' | '\r') || is_line_end(c);
        let header = line_start(text, text[..start].trim_end_matches(blank).len());
        let line = &text[header..line_end(text, header)];
        let line = line.find(" #").map_or(line, |comment| &line[..comment]);
        let indicator = header + line.rfind(['|', '>'])?;
        let head = text[header..indicator].trim_start_matches(' ');
        if !(head.starts_with("- ") || head.contains(": ") || head.starts_with("? ")) {
            return None;
        }
        let (line, column) = line_column(text, at);
        Some(ParseError::new(self.file, line, column, entry_problem(text, indicator)).into())
    }

    /// How libyaml reads the alias whose `*` is at or after byte `at`
    /// where saphyr differs (see [`Self::name_failure`]).
    fn alias_name_failure(&self, at: usize) -> Option<Failure> {
        let star = at + self.source.text.get(at..)?.find('*')?;
        self.name_failure(star, "an alias")
    }

    /// How libyaml reads the anchor of the node whose event starts at byte
    /// `at` (at the `&` or after it: only a tag and blanks stand between)
    /// where saphyr differs.
    fn anchor_name_failure(&self, at: usize) -> Option<Failure> {
        let text = self.source.text;
        let end = (at + 1..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
        let amp = text[..end].rfind('&')?;
        self.name_failure(amp, "an anchor")
    }

    /// [`multiline_quoted_before`], unless the quote it takes for the
    /// opening one starts no token (it follows other text on its line, as
    /// in the plain scalar `c'`) or lies in the last block scalar read: there
    /// both quotes are text.
    fn quoted_close_before(&self, at: usize) -> Option<usize> {
        let text = self.source.text;
        let close = multiline_quoted_before(text, at)?;
        let quote = text[close..].chars().next()?;
        let open = opening_quote(&text[..close], quote)?;
        let before = text[line_start(text, open)..open].trim_end_matches([' ', '\t']);
        let starts_token = before.is_empty()
            || before.ends_with(['-', '?', ':', '[', '{', ','])
            || before.rsplit([' ', '\t']).next().is_some_and(|w| w.starts_with(['!', '&']));
        let in_block_scalar =
            self.last_block_scalar.get().is_some_and(|(start, end)| (start..end).contains(&open));
        (starts_token && !in_block_scalar).then_some(close)
    }

    /// What yaml.v2's scanner makes of the tag of the node whose event
    /// starts at byte `at` (at its anchor or its tag), where saphyr reads the
    /// tag otherwise: libyaml's tag takes `,`, `[`, `]` and `!` into its
    /// text (in flow collections too) and must then end at a blank or a line
    /// break, where saphyr stops before a flow indicator and lets one follow.
    /// `None` when both read the same tag.
    fn v2_tag_failure(&self, at: usize) -> Option<Failure> {
        let text = self.source.text;
        let mut at = at;
        if text.get(at..)?.starts_with('&') {
            at = text[at..].find(|c: char| c == ' ' || c == '\t' || is_break(c)).map(|n| at + n)?;
            at = text[at..]
                .find(|c: char| !(c == ' ' || c == '\t' || is_break(c)))
                .map_or(text.len(), |n| at + n);
        }
        let tag = text.get(at..).filter(|t| t.starts_with('!'))?;
        if let Some(uri) = tag.strip_prefix("!<") {
            // libyaml's verbatim tag takes URI characters only (no `#`,
            // unlike YAML 1.2's) and must then close with `>`.
            let uri_char =
                |c: char| c.is_ascii_alphanumeric() || "-_;/?:@&=+$,.!~*'()[]%".contains(c);
            let end = uri.find(|c: char| !uri_char(c)).unwrap_or(uri.len());
            if !uri[end..].starts_with('>') {
                let (line, column) = line_column(text, at + 2 + end);
                return Some(Failure::Error(ParseError::new(
                    self.file,
                    line,
                    column,
                    "while scanning a tag, did not find the expected '>'",
                )));
            }
        }
        let (v2_end, saphyr_end, handle) = tag_ends(tag);
        let blank_after =
            tag[v2_end..].chars().next().is_none_or(|c| c == ' ' || c == '\t' || is_break(c));
        if !blank_after {
            let (line, column) = line_column(text, at + v2_end);
            return Some(Failure::Error(ParseError::new(
                self.file,
                line,
                column,
                "while scanning a tag, did not find expected whitespace or line break",
            )));
        }
        if v2_end == saphyr_end {
            return None;
        }
        // The same text with the characters saphyr leaves out of a tag's
        // suffix as `.`: a suffix holding them names no tag either knows.
        let suffix: String = tag[handle..v2_end]
            .chars()
            .map(|c| if matches!(c, ',' | '[' | ']' | '!') { '.' } else { c })
            .collect();
        Some(Failure::Rewrite { at: at + handle, len: v2_end - handle, with: suffix.into() })
    }

    /// A plain scalar of a flow collection that opens with `:` (`[::1]`,
    /// `{a: :b}`): libyaml's scanners (yaml.v2 and yaml.v3) start a plain
    /// scalar with `:` only outside flow collections, so there the `:` is a
    /// value indicator where the collection wants a node. After an anchor or
    /// a tag, or a `?` key indicator, it is the value indicator of the
    /// empty key they stand on (`{&x :b}` is `{&x : b}`, `{? :b}` is
    /// `{? : b}`).
    fn colon_opens_flow_plain(&self, value: &str, span: &Span) -> Option<Failure> {
        let text = self.source.text;
        let (start, end) =
            (self.source.byte(span.start.index()), self.source.byte(span.end.index()));
        let raw = skip_properties(text.get(start..end)?);
        let at = end - raw.len();
        if !value.starts_with(':') || !raw.starts_with(':') {
            return None;
        }
        if at > start || text[..at].trim_end().ends_with('?') {
            return Some(Failure::Rewrite { at: at + 1, len: 0, with: " ".into() });
        }
        let (line, column) = line_column(text, at);
        Some(Failure::Error(ParseError::new(
            self.file,
            line,
            column,
            "while parsing a flow node, did not find expected node content",
        )))
    }

    /// libyaml's reading of a `?` in a plain scalar of a flow collection
    /// (yaml.v2's and yaml.v3's scanners alike): a `?` ends the scalar
    /// there, and scans as a key indicator even without a blank after it. One that opens the
    /// scalar (`[?b]`) introduces a key (`{b: null}`): read it with the
    /// blank YAML 1.2 wants. One inside it (`{u: a?b}`) follows a complete
    /// node, where the collection wants its next entry.
    fn question_in_flow_plain(&self, span: &Span) -> Option<Failure> {
        let text = self.source.text;
        let (start, end) =
            (self.source.byte(span.start.index()), self.source.byte(span.end.index()));
        let raw = skip_properties(text.get(start..end)?);
        let start = end - raw.len();
        // A `?` a blank follows is the key indicator already (saphyr read
        // it so after an anchor: `{&x ? y}`).
        let opens = raw.strip_prefix('?').and_then(|rest| rest.chars().next());
        if opens.is_some_and(|c| c != ' ' && c != '\t' && !is_break(c)) {
            return Some(Failure::Rewrite { at: start + 1, len: 0, with: " ".into() });
        }
        // A lone `?` is the key indicator too, its key empty (`{?: b}` is
        // the pair null: b): read it with a blank after it, but for the
        // flow sequence entry whose skipped `]` yaml.v2's parser refuses.
        if raw == "?" {
            return self.empty_key_before_bracket(start).or(Some(Failure::Rewrite {
                at: start + 1,
                len: 0,
                with: " ".into(),
            }));
        }
        let question = start + raw.find('?')?;
        let (line, column) = line_column(text, question);
        Some(Failure::Error(ParseError {
            file: self.file.to_string(),
            line,
            column,
            message: entry_problem(text, question).into(),
            piece_line: 0,
            duplicate_keys: Vec::new(),
        }))
    }

    /// yaml.v2's plain scalar in a flow collection runs on over a `:` that a
    /// flow indicator (`,`, `]`, `}`) follows, where YAML 1.2 (saphyr) ends
    /// the scalar there and reads the `:` as a value indicator: `{k-1:, b}`
    /// is the key `k-1:` for yaml.v2. The same scalar single-quoted, `:`
    /// included, reads alike; `None` when the scalar is not followed so, or
    /// its text is not its value (a scalar read over several lines).
    fn v2_colon_in_flow_plain(&self, value: &str, span: &Span) -> Option<Failure> {
        let text = self.source.text;
        let (start, end) =
            (self.source.byte(span.start.index()), self.source.byte(span.end.index()));
        let after = text.get(end..)?;
        if !after.starts_with(':')
            || !after[1..].starts_with([',', ']', '}'])
            || value.contains('\n')
        {
            return None;
        }
        // The span may open with the node's anchor and tag: they stay.
        let raw = skip_properties(text.get(start..end)?);
        let start = end - raw.len();
        if raw != value || raw.is_empty() {
            // Not the scalar's own text (quoted, or read over lines), or
            // the empty node saphyr puts at a value indicator (`{"a":}`).
            return None;
        }
        Some(quoted_through_colon(text, start, end, false))
    }

    /// How libyaml reads the anchor or alias whose indicator is at byte
    /// `at` where saphyr reads it otherwise. libyaml's name is made of ASCII
    /// letters, digits, `-` and `_` and must end at a blank or one of
    /// ``?:,]}%@` ``: `*a.b` and `&x;` are a scanner error, though YAML 1.2
    /// allows them. Where it ends at one of ``?:%@` `` (YAML 1.2 names
    /// carry them) that character opens the next token: `&x: b` is an
    /// anchored empty key, `*a:` an alias key; a blank after the name makes
    /// saphyr read it so.
    fn name_failure(&self, at: usize, what: &str) -> Option<Failure> {
        let text = self.source.text;
        let rest = text.get(at + 1..)?;
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        let next = rest[name_len..].chars().next();
        let end = at + 1 + name_len;
        if name_len > 0 && next.is_some_and(|c| "?:%@`".contains(c)) {
            return Some(name_split(text, end));
        }
        // libyaml ends a name at a blank or any of its line breaks (NEL,
        // LS and PS too) or at one of these indicators.
        let ends = next.is_none_or(|c| is_break(c) || " \t,]}".contains(c));
        if name_len > 0 && ends {
            return None;
        }
        let (line, column) = line_column(text, end);
        Some(Failure::Error(ParseError::new(
            self.file,
            line,
            column,
            format!("while scanning {what}, did not find expected alphabetic or numeric character"),
        )))
    }

    /// A scalar's text as libyaml reads it: where its source holds NEL, LS
    /// or PS (line feeds to the parser) it is read again from the source
    /// with libyaml's rules, and byte order marks are put back in place of
    /// their stand-in.
    fn libyaml_scalar<'a>(
        &self,
        text: Cow<'a, str>,
        style: ScalarStyle,
        span: &Span,
    ) -> Cow<'a, str> {
        let mut text = match self.reread(&text, style, span) {
            Some(read) => Cow::Owned(read),
            None => text,
        };
        if let Some(bom) = self.bom
            && text.contains(bom)
        {
            text = Cow::Owned(text.replace(bom, "\u{FEFF}"));
        }
        text
    }

    /// The scalar read again from the source where the parser's reading
    /// differs from libyaml's: its source holds NEL, LS or PS, or it is a
    /// block scalar whose last line ends the stream without a line break
    /// (libyaml then ends the value without one); or where a Go string's
    /// value differs from the parser's: an escape writes a character of
    /// the carriers' range. `parsed` is what the parser read from its copy
    /// of the text.
    fn reread(&self, parsed: &str, style: ScalarStyle, span: &Span) -> Option<String> {
        let source = self.source.text;
        let start = self.source.byte(span.start.index());
        let end = self.source.byte(span.end.index()).max(start);
        let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
        let unterminated = block && end == source.len() && !source.ends_with(is_break);
        // A `\U` escape of a character the carriers of Go bytes stand for.
        let escaped_carrier =
            self.go_string && style == ScalarStyle::DoubleQuoted && parsed.chars().any(is_raw_byte);
        if !self.extra_breaks && !unterminated && !escaped_carrier {
            return None;
        }
        // The span starts at the scalar's anchor or tag when it has one.
        let after_properties = skip_properties(&source[start..end]);
        let properties = after_properties.len() < end - start;
        if !block {
            return (escaped_carrier || after_properties.contains(is_extra_break))
                .then(|| breaks::flow_scalar(after_properties, style, self.go_string));
        }
        // A block scalar's own span starts at its first content character,
        // or where the parser stopped (the header at the end of the stream,
        // the next token otherwise) when no line holds content; either way
        // the header is the last text before it.
        let content = parsed.chars().any(|c| c != '\n');
        let header_end = if (!content || properties) && after_properties.starts_with(['|', '>']) {
            end - after_properties.len()
        } else {
            source[..start].trim_end_matches(|c| c == ' ' || c == '\t' || is_break(c)).len()
        };
        let header_break = header_end + source[header_end..].find(is_break)?;
        let body = &source[header_break..end.max(header_break)];
        let body = &body[breaks::break_len(body)..];
        if !body.contains(is_extra_break) && !unterminated {
            return None;
        }
        // The parser's value tells the chomping: with content, none of its
        // final breaks (strip), its own break (clip) or more (keep).
        let chomping = match (content, parsed.ends_with('\n'), parsed.ends_with("\n\n")) {
            (false, false, _) => return None,
            (false, true, _) | (true, _, true) => Chomping::Keep,
            (true, false, _) => Chomping::Strip,
            (true, true, false) => Chomping::Clip,
        };
        // The content's column: where the span starts, unless it starts at
        // properties; then the first line with text tells, less the spaces
        // the parser kept of it (an indentation indicator, `&a |4`, puts
        // the column left of that text).
        let first_text_spaces = |text: &str| {
            text.split(is_break)
                .find(|l| !l.trim_start_matches(' ').is_empty())
                .map_or(0, |l| l.len() - l.trim_start_matches(' ').len())
        };
        let indent = content.then(|| match properties {
            false => span.start.col(),
            true => first_text_spaces(body).saturating_sub(first_text_spaces(parsed)),
        });
        let literal = style == ScalarStyle::Literal;
        Some(breaks::block_scalar(body, indent, literal, chomping))
    }

    /// Whether a block scalar with keep chomping (`|+`, `>+`) and an empty
    /// line at its end ends its document with only comments after it. kustomize writes resources back
    /// out with yaml.v3 before it decodes them: the comments become a foot
    /// comment, which yaml.v3 writes after a line of its own when the value
    /// ends in an empty line, and the reader keeps that line too. (A value
    /// with no empty line at its end, or a node after the comments, keeps
    /// its breaks as written.)
    fn kept_breaks_then_foot_comment(&self, style: ScalarStyle, span: &Span) -> bool {
        if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            return false;
        }
        // (The caller knows the value ends in an empty line, which only
        // keep chomping gives.)
        let text = self.source.text;
        let end = self.source.byte(span.end.index()).min(text.len());
        // The column of the first comment: a later comment further left
        // belongs to an outer node, and the first is then the foot comment of
        // an inner one, which yaml.v3 writes without the extra line.
        let mut first: Option<usize> = None;
        // The scalar may end after the indentation of the line that follows.
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let from = if text[line_start..end].bytes().all(|b| b == b' ') { line_start } else { end };
        for line in text[from..].lines() {
            if line.starts_with("---") || line.starts_with("...") {
                break;
            }
            let body = line.trim_start_matches([' ', '\t', '\r']);
            let column = line.len() - body.len();
            match body {
                "" => {}
                l if l.starts_with('#') => match first {
                    None => first = Some(column),
                    Some(c) if column < c => return false,
                    Some(_) => {}
                },
                _ => return false,
            }
        }
        first.is_some()
    }

    /// Records the text of a scalar for [`Document::scalar_texts`] when asked to.
    fn record_text(&mut self, v: &Value, text: &str, span: &Span) {
        if self.scalar_texts.is_none() {
            return;
        }
        // An empty node has an empty span, whatever text the parser gives it.
        let empty = v.is_null() && self.source.slice(span).is_empty();
        let text = if empty { "" } else { text };
        self.record_at(self.path.clone(), text);
    }

    /// Records `text` as the text of the scalar at `path` (an empty one for
    /// a node written as nothing), and under every anchored node being
    /// built: kyaml keeps every scalar's text in its node, and transformers
    /// that write a field's text (prefixes, replacements, vars) read it.
    fn record_at(&mut self, path: Vec<Step>, text: &str) {
        for (anchor, at) in &self.open_anchors {
            let below = path.get(*at..).unwrap_or_default().to_vec();
            self.anchor_texts.entry(*anchor).or_default().push((below, text.to_string()));
        }
        // An entry of a merge key's mapping (`<<: {k: v}`, `<<: [{k: v}]`)
        // counts where the merge puts it; the mapping's merge moves its
        // text there or drops it (see `merged_text`).
        if let Some(texts) = self.scalar_texts.as_mut() {
            texts.push((path, text.to_string()));
        }
    }

    /// The path of the node being read among its object's own fields: from
    /// the top of the document, or from an item of a list's `items`.
    fn own_path(&self) -> &[Step] {
        own_path(&self.path)
    }

    /// Moves the texts recorded for an entry `key` of a merge key's mapping
    /// (item `item` of a sequence of mappings) of the mapping being read,
    /// and for the scalars inside it, to the entry the merge makes of it.
    fn merged_text(&mut self, item: Option<usize>, key: &str) {
        let Some(texts) = self.scalar_texts.as_mut() else { return };
        let mut from: Vec<Step> = self.path.clone();
        from.push(Step::Key("<<".into()));
        from.extend(item.map(Step::Index));
        from.push(Step::Key(key.to_string()));
        let skipped = from.len() - self.path.len() - 1;
        for (path, _) in texts.iter_mut().filter(|(p, _)| p.starts_with(&from)) {
            path.drain(self.path.len()..self.path.len() + skipped);
        }
    }

    /// Whether the node being read (with `scalar_texts` on) is the value of
    /// an object's annotation.
    fn in_annotations(&self) -> bool {
        matches!(self.own_path(), [Step::Key(m), Step::Key(a), Step::Key(_)] if m == "metadata" && a == "annotations")
    }

    /// Whether a collection's start event comes from `[` or `{`: block
    /// collections have empty spans.
    fn starts_flow(&self, span: &Span) -> bool {
        matches!(self.source.slice(span).trim_end().chars().last(), Some('[' | '{'))
    }

    /// Whether a mapping key event is the empty key the parser assumes
    /// before a `:` that starts an entry (`: x`), which YAML 1.2 allows and
    /// libyaml does not; an empty key after an explicit `?` is fine.
    fn implicit_empty_key(&self, event: &Event<'_>, span: &Span) -> bool {
        if !matches!(event, Event::Scalar(t, ScalarStyle::Plain, 0, None) if t.is_empty()) {
            return false;
        }
        let at = self.source.byte(span.start.index());
        let text = self.source.text;
        let colon = text.as_bytes().get(at) == Some(&b':');
        colon && !text[..at].trim_end().ends_with('?')
    }

    /// yaml.v2's reading of an empty flow collection as the key of a block
    /// mapping (`[]: 1`, `{ }: 1`; no anchor or tag, no `?`): its scanner
    /// saves the key at the `[` and, with no key saved inside, forgets at
    /// the `]` that one is pending there, so its parser takes the
    /// collection before the `:` makes it a key. A later key of the mapping
    /// fails at the `[`; the first one is the value or item before, and
    /// the key (and the mapping it starts) comes after it, which fails at
    /// the `:`; at the top of the first document the collection is the
    /// root node, which Unmarshal stops at. yaml.v3 keeps the key.
    fn v2_empty_flow_key(
        &self,
        event: &Event<'_>,
        span: &Span,
        first: bool,
        root: bool,
    ) -> Option<Failure> {
        if !matches!(event, Event::SequenceStart(0, None) | Event::MappingStart(0, None)) {
            return None;
        }
        let text = self.source.text;
        let open = self.source.byte(span.start.index());
        let close = match text.as_bytes().get(open) {
            Some(b'[') => b']',
            Some(b'{') => b'}',
            _ => return None,
        };
        if text[..open].trim_end().ends_with('?') {
            return None;
        }
        let end = skip_blanks_and_comments(text, open + 1);
        if text.as_bytes().get(end) != Some(&close) {
            return None;
        }
        let colon =
            end + 1 + text[end + 1..].len() - text[end + 1..].trim_start_matches([' ', '\t']).len();
        if text.as_bytes().get(colon) != Some(&b':') {
            return None;
        }
        if first && root {
            return self.first_only.then(|| Failure::Rewrite {
                at: end + 1,
                len: text.len() - end - 1,
                with: "\n".into(),
            });
        }
        let (line, column) = line_column(text, if first { colon } else { open });
        Some(ParseError::new(self.file, line, column, BLOCK_MAPPING_ENTRY[0]).into())
    }

    /// The `:` after a flow mapping's key event when it comes on a later
    /// line than the key's first token (its properties included) and no
    /// `?` came before the key. libyaml's scanner drops the simple key it
    /// saved at that token at the line break (in flow context it is never
    /// required), so the `:` introduces no key; a key with no `:` after it
    /// (`{b c\n d}`) is a key with an empty value however many lines it
    /// takes. A flow collection's key event is its start: `end` is the
    /// byte after the key's last token.
    fn colon_below_key(&self, span: &Span, end: usize) -> Option<usize> {
        let text = self.source.text;
        let start = self.source.byte(span.start.index());
        let colon = skip_blanks_and_comments(text, end);
        (!text[..start].trim_end().ends_with('?')
            && text.as_bytes().get(colon) == Some(&b':')
            && text[start..colon].contains(is_line_end))
        .then_some(colon)
    }

    /// libyaml's parser takes a flow mapping's key that [`colon_below_key`]
    /// found as one with an empty value and then refuses the `:` where it
    /// wants a `,` or `}` (`{b\n : c}`, `{b c\n d: e}`). yaml.v2 names the
    /// line of the `:`, yaml.v3 the line where the mapping (opened at
    /// `map_start`) opened past the first.
    ///
    /// [`colon_below_key`]: Self::colon_below_key
    fn refused_colon(&self, key_span: &Span, colon: usize, map_start: Marker) -> Failure {
        let mut e = self.err(key_span, FLOW_MAPPING_ENTRY[0]);
        e.line = line_column(self.source.text, colon).0;
        self.context_mark(e.into(), map_start, FLOW_MAPPING_ENTRY)
    }

    /// Whether the block sequence starting at `span`, the value of a block
    /// mapping at `column`, has its `-` at that column. The parser starts
    /// such a sequence where its first item starts, after the `-`.
    fn indentless_sequence(&self, span: &Span, column: usize) -> bool {
        let text = self.source.text;
        let start = self.source.byte(span.start.index());
        let line = &text[line_start(text, start)..start];
        let before = line.trim_end_matches([' ', '\t']);
        span.start.col() == column
            || (before.ends_with('-') && before.chars().count() == column + 1)
    }

    /// Builds the node that `event` starts; `depth` is 0 for a document's root.
    fn node<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        event: Event<'a>,
        span: Span,
        depth: usize,
        flow: bool,
    ) -> Result<Value, Failure> {
        crate::stack::grow(|| {
            let map_start = self.value_of_block_map_at.take();
            let block = !flow && !self.starts_flow(&span);
            let indents = match event {
                Event::MappingStart(..) if block => true,
                // libyaml reads a sequence at its mapping key's column
                // without a new indentation level.
                Event::SequenceStart(..) if block => {
                    let indentless =
                        map_start.filter(|start| self.indentless_sequence(&span, start.col()));
                    self.indentless_parent = indentless;
                    indentless.is_none()
                }
                _ => false,
            };
            if indents {
                if self.indents >= self.limits.depth {
                    // yaml.v3 names the line of the last possible simple
                    // key, yaml.v2 the line where the scanner stands.
                    let line = match event {
                        Event::SequenceStart(..) if self.string_keys => self.key_candidate_line,
                        _ => span.start.line(),
                    };
                    let mut e = self.err(
                        &span,
                        format!(
                            "while increasing indent level, exceeded max depth of {}",
                            self.limits.depth
                        ),
                    );
                    e.line = line;
                    return Err(e.into());
                }
                self.indents += 1;
            } else if !flow && (matches!(event, Event::Scalar(..) | Event::Alias(_)) || !block) {
                self.key_candidate_line = span.start.line();
            }
            let anchor = match &event {
                Event::Scalar(_, _, a, _)
                | Event::SequenceStart(a, _)
                | Event::MappingStart(a, _) => *a,
                _ => 0,
            };
            let texts_of_anchor = anchor > 0 && self.scalar_texts.is_some();
            if texts_of_anchor {
                self.anchor_texts.remove(&anchor);
                self.open_anchors.push((anchor, self.path.len()));
            }
            let v = self.node_here(parser, event, span, depth, flow);
            if texts_of_anchor {
                self.open_anchors.pop();
            }
            if indents {
                self.indents -= 1;
            }
            v
        })
    }

    fn node_here<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        event: Event<'a>,
        span: Span,
        depth: usize,
        flow: bool,
    ) -> Result<Value, Failure> {
        self.aliasing.decodes += 1;
        let first_decode = self.aliasing.decodes;
        self.check_aliasing(&span)?;
        let anchored = matches!(event,
            Event::Scalar(_, _, a, _) | Event::SequenceStart(a, _) | Event::MappingStart(a, _) if a > 0);
        if anchored {
            if let Some(failure) = self.anchor_name_failure(self.source.byte(span.start.index())) {
                return Err(failure);
            }
        }
        let tagged = matches!(
            event,
            Event::Scalar(_, _, _, Some(_))
                | Event::SequenceStart(_, Some(_))
                | Event::MappingStart(_, Some(_))
        );
        if tagged
            && self.yaml11
            && let Some(failure) = self.v2_tag_failure(self.source.byte(span.start.index()))
        {
            return Err(failure);
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if flow
                    && style == ScalarStyle::Plain
                    && let Some(failure) = self.colon_opens_flow_plain(&text, &span)
                {
                    return Err(failure);
                }
                if flow
                    && style == ScalarStyle::Plain
                    && let Some(failure) = self.question_in_flow_plain(&span)
                {
                    return Err(failure);
                }
                if self.yaml11
                    && flow
                    && style == ScalarStyle::Plain
                    && let Some(failure) = self.v2_colon_in_flow_plain(&text, &span)
                {
                    return Err(failure);
                }
                let text = self.libyaml_scalar(text, style, &span);
                let plain_indicator = style == ScalarStyle::Plain && text.starts_with(['|', '>']);
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                if flow && (block || plain_indicator) {
                    return Err(self.block_in_flow(&span, plain_indicator).into());
                }
                let mut v = match self.scalar(&text, style, tag.as_deref(), &span, flow) {
                    Err(e)
                        if self.defer_decoding
                            && self.in_key == 0
                            && decoder_problem(&e.message) =>
                    {
                        self.undecodable.push((self.path.clone(), text.to_string(), e));
                        Value::String(text.to_string())
                    }
                    // A key tagged `!!null` is a null key whatever its text:
                    // kyaml appends a copy of its entry, and yaml.v3 fails on
                    // the copy before it decodes the key.
                    Err(e)
                        if self.defer_decoding
                            && self.in_key > 0
                            && decoder_problem(&e.message)
                            && tag.as_ref().is_some_and(|t| {
                                matches!(t.handle.as_str(), "!!" | "tag:yaml.org,2002:")
                                    && t.suffix == "null"
                            }) =>
                    {
                        Value::Null
                    }
                    r => r?,
                };
                if let Value::String(s) = &mut v
                    && s.ends_with("\n\n")
                    && !self.yaml11
                    && self.kept_breaks_then_foot_comment(style, &span)
                {
                    s.push('\n');
                }
                // A plain timestamp (a `!!timestamp` node, whatever text it
                // has), and a `!!binary` scalar in any style, read as a
                // string of another text.
                let binary = tag.as_ref().is_some_and(|t| t.suffix == "binary");
                let retold = matches!(&v, Value::String(s)
                    if (style == ScalarStyle::Plain || binary)
                        && (*s != text || (style == ScalarStyle::Plain && tag.is_none() && parse_timestamp(&text).is_some())));
                if self.in_key == 0 && (retold || !matches!(v, Value::String(_))) {
                    self.record_text(&v, &text, &span);
                }
                // A block scalar holds its style as quotes do. A scalar with
                // a tag other than `!` gives a node kyaml sets there no quotes:
                // yaml.v3 marks its style tagged, so the new node is written
                // with its own tag (recorded from `kubectl kustomize`: case 4506).
                let tagged = tag.as_ref().is_some_and(|t| !is_non_specific(t));
                let quotes = style != ScalarStyle::Plain && !tagged;
                if self.in_key == 0 && self.scalar_texts.is_some() {
                    if quotes {
                        self.quoted.push(self.path.clone());
                    } else if tagged {
                        self.tagged.push(self.path.clone());
                    }
                }
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                    let cost = self.aliasing.decodes + 1 - first_decode;
                    self.aliasing.anchor_decodes.insert(anchor, cost);
                }
                Ok(v)
            }
            Event::Alias(id) => {
                if let Some(failure) = self.alias_name_failure(self.source.byte(span.start.index()))
                {
                    return Err(failure);
                }
                if !self.anchors.contains_key(&id) {
                    return Err(self.err(&span, "unknown anchor").into());
                }
                let decodes = self.aliasing.anchor_decodes.get(&id).copied().unwrap_or(1);
                self.aliasing.decodes += decodes;
                self.aliasing.alias_decodes += decodes;
                self.check_aliasing(&span)?;
                let Some(v) = self.anchors.get(&id) else {
                    return Err(self.err(&span, "unknown anchor").into());
                };
                let cost = count_nodes(v);
                if cost > self.alias_budget {
                    return Err(self
                        .err(
                            &span,
                            format!(
                                "alias expansion exceeds the limit of {} nodes (an alias bomb?)",
                                self.limits.alias_nodes
                            ),
                        )
                        .into());
                }
                self.alias_budget -= cost;
                let v = v.clone();
                // The alias stands for the anchored node, texts and all.
                if self.in_key == 0 && self.scalar_texts.is_some() {
                    for (below, text) in self.anchor_texts.get(&id).cloned().unwrap_or_default() {
                        self.record_at([self.path.as_slice(), &below].concat(), &text);
                    }
                }
                Ok(v)
            }
            Event::SequenceStart(anchor, _) => {
                let flow = flow || self.starts_flow(&span);
                let mut items = Vec::new();
                let mut aliases = Vec::new();
                let (context, problems) = match self.indentless_parent.take() {
                    Some(map_start) => (map_start, BLOCK_MAPPING_ENTRY),
                    None if flow => (span.start, FLOW_SEQUENCE_ENTRY),
                    None => (span.start, BLOCK_SEQUENCE_ENTRY),
                };
                loop {
                    let (ev, sp) =
                        self.next(parser).map_err(|f| self.context_mark(f, context, problems))?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    aliases.push(matches!(ev, Event::Alias(_)));
                    if !flow {
                        self.tab_after('-', &sp)?;
                    }
                    let tracking = self.scalar_texts.is_some();
                    if tracking {
                        self.path.push(Step::Index(items.len()));
                    }
                    let item = self.node(parser, ev, sp, depth + 1, flow);
                    if tracking {
                        self.path.pop();
                    }
                    items.push(item?);
                }
                self.seq_item_aliases = aliases;
                let v = Value::Seq(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                    let cost = self.aliasing.decodes + 1 - first_decode;
                    self.aliasing.anchor_decodes.insert(anchor, cost);
                }
                Ok(v)
            }
            Event::MappingStart(anchor, _) => {
                let braces = self.starts_flow(&span);
                let flow = flow || braces;
                let mut map = Map::new();
                // The line of each entry, by the entry's index in `map`.
                let mut lines: Vec<usize> = Vec::new();
                // Merge key values, each with whether it was an alias and,
                // for a list, which of its items were.
                let mut merges: Vec<(Value, bool, Vec<bool>)> = Vec::new();
                // sigs.k8s.io/yaml walks the decoded maps from the top and
                // checks a map's keys before it walks their values: a key it
                // cannot convert here comes before one inside a value. A
                // key met before this mapping (another branch: Go's map order
                // is random) stays. `error_at` is the key (as decoded) of the
                // entry whose key or value holds `non_string_key`: a later
                // entry with that key replaces it (yaml.v2 keeps the last),
                // and with it the error.
                let inherited = self.stringify_keys && self.non_string_key.is_some();
                let mut error_at: Option<Value> = None;
                // Whether a key of this mapping holds it: the first one
                // stays (Helm names it, as the oracle shows).
                let mut own_error = false;
                // Once a key comes again: how many entries came before it,
                // and every key read from it on with its line.
                let mut since_duplicate: Option<(usize, Vec<(String, usize)>)> = None;
                let nested_duplicates = self.duplicates.len();
                // Each scalar key as written (its text), whether it is a
                // null written as something, and its line.
                let mut written_keys: Vec<WrittenKey> = Vec::new();
                // Whether two keys decode alike but are written otherwise.
                let mut texts_apart = false;
                // How many keys came again so far.
                let mut given_again = 0;
                loop {
                    let problems = if flow { FLOW_MAPPING_ENTRY } else { BLOCK_MAPPING_ENTRY };
                    let (ev, key_span) = self
                        .next(parser)
                        .map_err(|f| self.context_mark(f, span.start, problems))?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    if self.implicit_empty_key(&ev, &key_span) {
                        // libyaml's parser (yaml.v2, yaml.v3) wants a key
                        // before a `:` that no `?` introduced.
                        let message = if flow {
                            "while parsing a flow node, did not find expected node content"
                        } else {
                            BLOCK_MAPPING_ENTRY[0]
                        };
                        let e = self.err(&key_span, message).into();
                        return Err(self.context_mark(e, span.start, BLOCK_MAPPING_ENTRY));
                    }
                    if self.yaml11
                        && !flow
                        && let Some(failure) =
                            self.v2_empty_flow_key(&ev, &key_span, map.is_empty(), depth == 0)
                    {
                        return Err(failure);
                    }
                    let scalar_key = matches!(ev, Event::Scalar(..));
                    let (start, end) = (
                        self.source.byte(key_span.start.index()),
                        self.source.byte(key_span.end.index()),
                    );
                    if braces
                        && scalar_key
                        && let Some(colon) = self.colon_below_key(&key_span, end)
                    {
                        if self.yaml11
                            && matches!(ev, Event::Scalar(_, ScalarStyle::Plain, _, None))
                            && v2_multiline_plain_before_colon(self.source.text, end) == Some(start)
                        {
                            // yaml.v2 reads the `:` before `,` or `}` into
                            // the scalar (`{z\n w:}` has the key `z w:`).
                            return Err(quoted_through_colon(self.source.text, start, end, true));
                        }
                        return Err(self.refused_colon(&key_span, colon, span.start));
                    }
                    // yaml.v2 and yaml.v3 take a plain `<<`, and one tagged
                    // `!!merge`, as a merge key.
                    let is_merge = match &ev {
                        Event::Scalar(t, ScalarStyle::Plain, _, None) => t == "<<",
                        Event::Scalar(t, _, _, Some(tag)) => {
                            t == "<<"
                                && (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:")
                                && tag.suffix == "merge"
                        }
                        _ => false,
                    };
                    // yaml.v3 tags a plain key that looks like a timestamp
                    // `!!timestamp`, which makes its mapping no string map.
                    let timestamp_key = matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None)
                        if parse_timestamp(t).is_some());
                    // kyaml writes a null key written as nothing as `''`,
                    // which kustomize reads back as the empty string.
                    let key_text = match &ev {
                        Event::Scalar(t, ..) => Some(t.to_string()),
                        _ => None,
                    };
                    let empty_key = self.string_keys
                        && !self.stringify_keys
                        && !self.yaml11
                        && matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t.is_empty());
                    self.in_key += 1;
                    let key = self.node(parser, ev, key_span, depth + 1, flow);
                    self.in_key -= 1;
                    let key =
                        if empty_key { key.map(|_| Value::String(String::new())) } else { key };
                    let key = key?;
                    if braces
                        && !scalar_key
                        && let Some(colon) = self.colon_below_key(&key_span, self.last_close.get())
                    {
                        // A flow collection as a key is no simple key
                        // either once it runs over a line break
                        // (`{[b,\n c]: d}`).
                        return Err(self.refused_colon(&key_span, colon, span.start));
                    }
                    let null_key =
                        key.is_null() && key_text.as_deref().is_some_and(|t| !t.is_empty());
                    if error_at.as_ref() == Some(&key) && !is_merge {
                        self.non_string_key = None;
                        error_at = None;
                        own_error = false;
                    }
                    let error_before = self.non_string_key.is_some();
                    // A value that ends before a token this mapping then
                    // refuses (a short block scalar) fails as its entry.
                    let (vev, vsp) = self
                        .next(parser)
                        .map_err(|f| self.context_mark(f, span.start, problems))?;
                    let alias = matches!(vev, Event::Alias(_));
                    if !flow {
                        self.value_of_block_map_at = Some(span.start);
                        self.tab_after(':', &vsp)?;
                    }
                    let tracking = self.scalar_texts.is_some();
                    if tracking {
                        let step = key_string(key.clone()).unwrap_or_default();
                        self.path.push(Step::Key(if is_merge { "<<".into() } else { step }));
                    }
                    let shadows_before = self.shadows.len();
                    let mut value = self.node(parser, vev, vsp, depth + 1, flow);
                    if tracking {
                        if self.in_annotations()
                            && !is_merge
                            && matches!(value, Ok(Value::Map(_) | Value::Seq(_)))
                        {
                            // kustomize reads annotations as strings; a
                            // collection has no text and becomes empty. A
                            // merge key's mapping is not an annotation: its
                            // entries are.
                            value = Ok(Value::String(String::new()));
                        }
                        self.path.pop();
                    }
                    let value = value?;
                    if self.stringify_keys && !inherited && !error_before {
                        if self.non_string_key.is_some() {
                            error_at = Some(key.clone());
                        }
                    }
                    if is_merge && self.stringify_keys {
                        self.merge_in_place(&mut map, &mut lines, value, &key_span);
                        continue;
                    }
                    if is_merge {
                        let item_aliases = match (&value, alias) {
                            (Value::Seq(_), false) => std::mem::take(&mut self.seq_item_aliases),
                            _ => Vec::new(),
                        };
                        merges.push((value, alias, item_aliases));
                        continue;
                    }
                    let typed_key = self.string_keys
                        && depth > 0
                        && (timestamp_key || !matches!(key, Value::String(_)));
                    if typed_key && self.scalar_texts.is_some() {
                        let name = key_string(key.clone()).unwrap_or_default();
                        self.typed_keys.push((self.path.clone(), name));
                    }
                    if typed_key && self.non_string_key.is_none() && self.kept_key.is_none() {
                        // yaml.v3 decodes such a mapping into
                        // map[interface{}]interface{}, which JSON cannot encode.
                        let shown = key_string(key.clone()).unwrap_or_default();
                        let error = self.err(
                            &key_span,
                            format!(
                                "json: unsupported type: map[interface {{}}]interface {{}} (mapping key {shown} is not a string)"
                            ),
                        );
                        if self.scalar_texts.is_some() {
                            let text = match &key {
                                Value::Map(_) | Value::Seq(_) => String::new(),
                                _ => self.source.slice(&key_span).trim().to_string(),
                            };
                            self.kept_key = Some(Box::new(NonStringKey {
                                map: self.path.clone(),
                                text,
                                tag: if timestamp_key { "!!timestamp" } else { yaml_tag(&key) },
                                error,
                            }));
                        } else {
                            self.non_string_key = Some(error);
                        }
                    }
                    // sigs.k8s.io/yaml cannot turn a null key into JSON, nor
                    // an integer key past int64, which yaml.v2 decodes as a
                    // uint64 (Go's `%#v` prints it in hex).
                    let unsupported = match key {
                        Value::Null => Some("%!s(<nil>), key: <nil>".to_string()),
                        Value::Uint(u) => Some(format!("uint64, key: {u:#x}")),
                        _ => None,
                    };
                    if self.stringify_keys
                        && !inherited
                        && !own_error
                        && let Some(what) = unsupported
                    {
                        own_error = true;
                        let shown = go_sharp_v(&value, true, self.raw_keys);
                        let message = format!("{UNSUPPORTED_KEY}{what}, value: {shown}");
                        self.non_string_key = Some(self.err(&key_span, message));
                        error_at = Some(key.clone());
                    }
                    if self.yaml11 && !self.stringify_keys && !matches!(key, Value::String(_)) {
                        return Err(self
                            .err(
                                &key_span,
                                format!(
                                    "mapping key {} is not a string (quote it)",
                                    key_string(key).unwrap_or_default()
                                ),
                            )
                            .into());
                    }
                    let key = if self.stringify_keys {
                        match json_key_string(key, self.raw_keys) {
                            Ok(key) => key,
                            Err(m) => {
                                // yaml.v2 refuses the key while it decodes the
                                // document it has already parsed whole: a
                                // syntax error further on is reported instead.
                                if self.decode_error.is_none() {
                                    self.decode_error = Some(self.err(&key_span, m));
                                }
                                continue;
                            }
                        }
                    } else {
                        key_string(key).map_err(|m| self.err(&key_span, m))?
                    };
                    if self.yaml11 && map.contains_key(&key) {
                        map.insert(key, value);
                        continue;
                    }
                    let line = key_span.start.line();
                    if let Some(text) = &key_text {
                        written_keys.push(WrittenKey {
                            text: text.clone(),
                            null: null_key,
                            line,
                            name: key.clone(),
                        });
                    }
                    // yaml.v3 compares keys by their text: two that decode
                    // alike written otherwise (`true` and `True`, `1` and
                    // `0x1`) are no key given twice, and Go's map keeps the
                    // later value.
                    let written_before = match &key_text {
                        Some(text)
                            if self.defer_decoding && !null_key && map.contains_key(&key) =>
                        {
                            let earlier = &written_keys[..written_keys.len().saturating_sub(1)];
                            Some(earlier.iter().find(|k| k.name == key && k.text == *text))
                        }
                        _ => None,
                    };
                    if matches!(written_before, Some(None)) {
                        texts_apart = true;
                        map.insert(key, value);
                        continue;
                    }
                    if let Some((_, keys)) = &mut since_duplicate {
                        keys.push((key.clone(), line));
                    }
                    let first = match written_before {
                        Some(Some(k)) => Some(k.line),
                        _ => map.get_index_of(&key).map(|i| lines[i]),
                    };
                    if let Some(first) = first {
                        // yaml.v3 decodes the whole document and lists every
                        // key given twice: read on, report at its end.
                        if self.duplicate_error.is_none() {
                            self.duplicate_error = Some(self.err(
                                &key_span,
                                format!("mapping key {key:?} already defined at line {first}"),
                            ));
                        }
                        if self.defer_decoding && tracking {
                            // What the value gives again is the value's own.
                            let below = self.path.len() + 1;
                            let inner = self
                                .shadows
                                .drain(shadows_before..)
                                .map(|mut s| {
                                    s.map.drain(..below.min(s.map.len()));
                                    s
                                })
                                .collect();
                            let at = map.len() + given_again;
                            self.shadows.push(Shadow {
                                map: self.path.clone(),
                                key: key.clone(),
                                value,
                                at,
                                inner,
                            });
                        }
                        given_again += 1;
                        if since_duplicate.is_none() {
                            since_duplicate = Some((map.len(), vec![(key, line)]));
                        }
                        continue;
                    }
                    lines.push(line);
                    map.insert(key, value);
                }
                // A null key makes kyaml append entries, and yaml.v3
                // compares keys by their texts (`~` and "~" alike, `true`
                // and `True` apart).
                let by_text = if self.defer_decoding
                    && !self.stringify_keys
                    && (texts_apart || written_keys.iter().any(|k| k.null))
                {
                    self.written_duplicates(&written_keys, flow)
                } else {
                    Vec::new()
                };
                if since_duplicate.is_some() || !by_text.is_empty() {
                    // yaml.v3 decodes no value of a mapping with a key
                    // given twice: what its values hold goes unreported,
                    // but for the root's (see `DuplicateKey::behind_root`).
                    if depth == 0 && self.scalar_texts.is_some() {
                        for d in &mut self.duplicates[nested_duplicates..] {
                            d.behind_root = true;
                        }
                    } else {
                        self.duplicates.truncate(nested_duplicates);
                    }
                }
                if !by_text.is_empty() {
                    if self.duplicate_error.is_none() {
                        self.duplicate_error = Some(self.err(&span, "mapping key already defined"));
                    }
                    self.duplicates.extend(by_text);
                } else if let Some((before, later)) = since_duplicate {
                    self.list_duplicates(&map, &lines, before, &later);
                }
                // Merge keys (`<<`) contribute entries the mapping does not set itself.
                let tracking_texts = self.scalar_texts.is_some();
                let tracking = tracking_texts && !merges.is_empty();
                for (merged, alias, item_aliases) in merges {
                    if let Some(problem) =
                        merge_problem(&merged, alias, &item_aliases, tracking_texts)
                    {
                        return Err(self.err(&span, problem).into());
                    }
                    let sources: Vec<(Option<usize>, Map)> = match merged {
                        Value::Map(m) => vec![(None, m)],
                        Value::Seq(items) => items
                            .into_iter()
                            .enumerate()
                            .filter_map(|(i, v)| match v {
                                Value::Map(m) => Some((Some(i), m)),
                                _ => None,
                            })
                            .collect(),
                        _ => {
                            return Err(self.err(&span, MERGE_NOT_MAP).into());
                        }
                    };
                    // kyaml's `DeAnchor` sets the fields of a list's last
                    // map first and replaces a field in place: a key stands
                    // where the last map that has it puts it, with the value
                    // of the first (which node dumps show).
                    let mut unset: std::collections::HashSet<String> = Default::default();
                    for (_, m) in sources.iter().rev() {
                        for k in m.keys() {
                            if !map.contains_key(k) {
                                unset.insert(k.clone());
                                map.insert(k.clone(), Value::Null);
                            }
                        }
                    }
                    for (item, m) in sources {
                        for (k, v) in m {
                            if !unset.remove(&k) {
                                continue;
                            }
                            if tracking {
                                self.merged_text(item, &k);
                            }
                            map.insert(k, v);
                        }
                    }
                }
                // The texts of merged entries the mapping sets itself go.
                if tracking {
                    let merge = [self.path.as_slice(), &[Step::Key("<<".into())]].concat();
                    if let Some(texts) = self.scalar_texts.as_mut() {
                        texts.retain(|(p, _)| !p.starts_with(&merge));
                    }
                }
                let v = Value::Map(map);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                    let cost = self.aliasing.decodes + 1 - first_decode;
                    self.aliasing.anchor_decodes.insert(anchor, cost);
                }
                Ok(v)
            }
            _ => Err(self.err(&span, "unexpected YAML event").into()),
        }
    }

    /// Checks what yaml.v3's scanner rejects and saphyr accepts: the `\/`
    /// escape.
    fn check_scalar_source(
        &self,
        text: &str,
        style: ScalarStyle,
        span: &Span,
    ) -> Result<(), ParseError> {
        match style {
            ScalarStyle::DoubleQuoted if text.contains('/') => {
                // The span opens with the node's anchor and tag.
                let raw = self.source.slice(span);
                let quote = self.source.byte(span.start.index()) + raw.find('"').unwrap_or(0);
                match bad_escape(&self.source.text[quote..]) {
                    Some((off, problem)) => {
                        let (line, column) = line_column(self.source.text, quote + off);
                        Err(ParseError::new(self.file, line, column, problem))
                    }
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: &Span,
        flow: bool,
    ) -> Result<Value, ParseError> {
        self.check_scalar_source(text, style, span)?;
        // yaml.v3 reads the non-specific tag `!` as no tag at all.
        let tag = tag.filter(|t| self.yaml11 || !is_non_specific(t));
        let Some(tag) = tag else {
            return Ok(match style {
                // kustomize writes flow collections back out in flow style
                // before it decodes them: a plain scalar that cannot stay
                // plain there (an empty value, a timestamp with colons) is
                // quoted and so becomes a string. yaml.v2 (Helm) decodes
                // the flow collection as read: an empty value stays null.
                ScalarStyle::Plain if flow && !self.yaml11 && !analyze(text).flow_plain => {
                    Value::String(text.to_string())
                }
                ScalarStyle::Plain if self.yaml11 => resolve_yaml11(text),
                ScalarStyle::Plain => resolve_plain(text),
                // Only kustomize writes resources back out before decoding
                // them; `sigs.k8s.io/yaml` (Helm, kustomization files)
                // takes a folded scalar as read.
                ScalarStyle::Folded if !self.yaml11 => {
                    Value::String(folded_round_trip(text).into_owned())
                }
                _ => Value::String(text.to_string()),
            });
        };
        match tagged_scalar(text, tag, self.yaml11).map_err(|m| self.err(span, m))? {
            // The bytes `!!binary` writes as a Go string holds them.
            Value::String(s) if self.go_string && tag.suffix == "binary" => {
                Ok(Value::String(crate::gotmpl::sprig::carried_text(&s).unwrap_or(s)))
            }
            v => Ok(v),
        }
    }
}

/// The string yaml.v2 and yaml.v3 decode a `!!binary` scalar's text into
/// (its base64 bytes as a Go string holds them); `None` for text that is
/// not base64.
pub(crate) fn binary_string(text: &str) -> Option<String> {
    crate::gotmpl::sprig::encoding::base64_decode(text).map(|bytes| go_string(&bytes))
}

/// Whether `tag` is the non-specific tag `!`.
pub(crate) fn is_non_specific(tag: &Tag) -> bool {
    tag.handle.is_empty() && tag.suffix == "!"
}

/// A scalar with a tag, as yaml.v3 (or, `yaml11`, yaml.v2) decodes it into
/// `interface{}`; the error is the decoder's.
pub(crate) fn tagged_scalar(text: &str, tag: &Tag, yaml11: bool) -> Result<Value, String> {
    let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
    if !core {
        // yaml.v3 leaves scalars with tags it does not know as strings.
        return Ok(Value::String(text.to_string()));
    }
    // What the text resolves to on its own names it when it does not
    // fit the tag (yaml.v2 and yaml.v3 alike, each with its own rules).
    let plain = if yaml11 { resolve_yaml11(text) } else { resolve_plain(text) };
    let rtag = match plain {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Uint(_) => "int",
        Value::Float(_) => "float",
        _ => "str",
    };
    let bad = |what: &str| format!("cannot decode !!{rtag} `{text}` as a !!{what}");
    Ok(match tag.suffix.as_str() {
        "str" => Value::String(text.to_string()),
        "binary" => match binary_string(text) {
            Some(s) => Value::String(s),
            None => return Err(BINARY_BASE64.to_string()),
        },
        // yaml.v2 decodes a timestamp into an interface as the text it
        // was written as.
        "timestamp" if yaml11 => match parse_timestamp(text) {
            Some(_) => Value::String(text.to_string()),
            None => return Err(bad("timestamp")),
        },
        "timestamp" => match parse_timestamp(text) {
            Some(t) => Value::String(t.rfc3339()),
            None => return Err(bad("timestamp")),
        },
        "null" => match plain {
            Value::Null => Value::Null,
            _ => return Err(bad("null")),
        },
        "bool" => match plain {
            Value::Bool(b) => Value::Bool(b),
            _ => return Err(bad("bool")),
        },
        "int" => {
            let plain = text.replace('_', "");
            match (parse_go_int(&plain), parse_go_uint(&plain)) {
                (Some(i), _) => Value::Int(i),
                (None, Some(u)) => Value::from_u64(u),
                (None, None) => return Err(bad("int")),
            }
        }
        // yaml.v3 turns an int into a float here, but not a uint64.
        "float" => match plain {
            Value::Int(i) => Value::Float(i as f64),
            Value::Float(f) => Value::Float(f),
            _ => return Err(bad("float")),
        },
        // yaml.v2 resolves only the tags above; a scalar under any
        // other (`!!foo`, `!!map`, `!!merge`) is its text.
        _ if yaml11 => Value::String(text.to_string()),
        _ => plain,
    })
}

/// A plain scalar as yaml.v2 decodes it into `interface{}` (Helm's values,
/// manifests and `fromYaml`; kustomization files): YAML 1.1 booleans, and a
/// timestamp kept as the string written.
fn resolve_yaml11(text: &str) -> Value {
    match text {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => Value::Bool(true),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => Value::Bool(false),
        _ if parse_timestamp(text).is_some() => Value::String(text.to_string()),
        _ => resolve_plain(text),
    }
}

/// What becomes of a folded (`>`) scalar when kyaml writes it back out with
/// yaml.v3 and reads it again, as kustomize does before it converts to JSON.
///
/// yaml.v3's folded writer decides whether to add the blank line that keeps a
/// line break by looking at the first character of the whole value instead
/// of the next line. When the value starts with a non-blank, every break
/// after an ordinary line gets one, which the reader folds away again except
/// before a more-indented line or among kept trailing breaks, where it adds
/// a newline; when the value starts with a blank, none gets one and single
/// breaks between ordinary lines fold into spaces.
fn folded_round_trip(s: &str) -> Cow<'_, str> {
    let a = analyze(s);
    let Some(first) = s.chars().find(|c| !is_break(*c)) else {
        return Cow::Borrowed(s);
    };
    if !a.block || !s.contains('\n') {
        // Not written back in folded style (or nothing to fold).
        return Cow::Borrowed(s);
    }
    let first_blank = first == ' ' || first == '\t';
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let (mut i, mut breaks, mut leading_spaces) = (0, true, true);
    while i < chars.len() {
        let c = chars[i];
        if !is_break(c) {
            if breaks {
                leading_spaces = c == ' ' || c == '\t';
            }
            out.push(c);
            breaks = false;
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && is_break(chars[j]) {
            j += 1;
        }
        let run = &chars[i..j];
        if !breaks && !leading_spaces && c == '\n' {
            let next_blank = chars.get(j).is_some_and(|c| *c == ' ' || *c == '\t');
            let at_end = j == chars.len();
            if !first_blank {
                if next_blank || (at_end && run.len() >= 2) {
                    out.push('\n');
                }
                out.extend(run);
            } else if !at_end && !next_blank {
                if run.len() == 1 {
                    out.push(' ');
                } else {
                    out.extend(&run[1..]);
                }
            } else {
                out.extend(run);
            }
        } else {
            out.extend(run);
        }
        breaks = true;
        i = j;
    }
    Cow::Owned(out)
}

/// Bytes as Go's JSON encoder writes a string: each byte that is not part of
/// valid UTF-8 becomes U+FFFD.
fn go_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                rest = &after[1..];
            }
        }
    }
}

/// The YAML tag yaml.v3 gives a node holding `v`.
fn yaml_tag(v: &Value) -> &'static str {
    match v {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Int(_) | Value::Uint(_) => "!!int",
        Value::Float(_) => "!!float",
        Value::String(_) => "!!str",
        Value::Seq(_) => "!!seq",
        Value::Map(_) => "!!map",
    }
}

/// The entries kyaml's reader appends to a mapping whose `keys` (each as
/// written, whether it is a null written as something, and its line)
/// hold a null written as `~`, `null` or with a `!!null` tag: its walk over
/// the mapping sets each field again, by its name, on the first key of that
/// text, and a null key is one it never finds, so it appends that first
/// key's entry again (a copy, at the same line). Returns the index in
/// `keys` of each entry appended, in order.
pub(crate) fn null_copies(keys: &[WrittenKey]) -> Vec<usize> {
    if !keys.iter().any(|k| k.null) {
        return Vec::new();
    }
    let mut first: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        first.entry(k.text.as_str()).or_insert(i);
    }
    keys.iter().map(|key| first[key.text.as_str()]).filter(|&first| keys[first].null).collect()
}

/// A scalar key of a mapping as written.
#[derive(Debug, Clone, Default)]
pub(crate) struct WrittenKey {
    /// Its text.
    pub text: String,
    /// Whether it is a null written as something (`~`, `null`, `!!null x`).
    pub null: bool,
    /// Its line.
    pub line: usize,
    /// The key as the document's value holds it.
    pub name: String,
}

pub(crate) fn key_string(key: Value) -> Result<String, String> {
    Ok(match key {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Seq(_) | Value::Map(_) => return Err(
            "wrong node kind: a mapping key must be a scalar node, not a sequence or mapping node"
                .to_string(),
        ),
    })
}

/// libyaml's reader error for a character YAML does not allow.
const CONTROL: &str = "control characters are not allowed";
/// The decoder's refusal of a `!!binary` scalar.
const BINARY_BASE64: &str = "!!binary value contains invalid base64 data";

/// The start of sigs.k8s.io/yaml's error for a key JSON cannot hold.
const UNSUPPORTED_KEY: &str = "unsupported map key of type: ";

/// A value as Go's `%#v` prints what yaml.v2 decoded (`top` for `%+#v` of
/// the value itself, where nil is `<nil>`); `raw`: its mappings' keys are
/// [`raw_key`]s.
fn go_sharp_v(v: &Value, top: bool, raw: bool) -> String {
    match v {
        Value::Null if top => "<nil>".into(),
        Value::Null => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        // `%#v` prints unsigned integers in hexadecimal.
        Value::Uint(u) => format!("{u:#x}"),
        Value::Float(f) => super::emit::go_format_float_g(*f),
        Value::String(s) => crate::gotmpl::fmt::quote(s),
        Value::Seq(items) => {
            let items: Vec<String> = items.iter().map(|i| go_sharp_v(i, false, raw)).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Map(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| {
                    let key = if raw { raw_key_text(k) } else { crate::gotmpl::fmt::quote(k) };
                    format!("{key}:{}", go_sharp_v(v, false, raw))
                })
                .collect();
            format!("map[interface {{}}]interface {{}}{{{}}}", entries.join(", "))
        }
    }
}

/// Where the line holding byte `at` starts and the blanks that indent it one
/// column past the line on which the flow collection around `at` opened;
/// None when it is indented that far already or no collection is open.
fn flow_padding(text: &str, at: usize) -> Option<(usize, String)> {
    let start = line_start(text, at);
    let scan = flow_scan(text, start);
    let (&outermost, &open) = (scan.open.first()?, scan.open.last()?);
    let open_line = &text[line_start(text, open)..];
    // Past the block collection the outermost collection stands in too
    // (`- a: [b,` then `  c]`: the mapping's column).
    let width = (open_line.len() - open_line.trim_start_matches(' ').len())
        .max(block_indent_at(text, outermost))
        + 1;
    let line = &text[start..];
    let have = line.len() - line.trim_start_matches(' ').len();
    (have < width).then(|| (start, " ".repeat(width - have)))
}

/// The decoder's words for a merge key (`<<`) whose value is not a mapping
/// or a sequence of mappings.
/// yaml.v2's and yaml.v3's words for an alias bomb.
const EXCESSIVE_ALIASING: &str = "document contains excessive aliasing";

/// What yaml.v2's decoder counts to refuse alias bombs: every node it
/// decodes (the document's node, each collection, key, value and item,
/// each alias node, and again every node of an alias's target each time
/// the alias is expanded, nested aliases included) and how many of those
/// it decodes inside an alias expansion.
#[derive(Default)]
struct Aliasing {
    decodes: usize,
    alias_decodes: usize,
    /// The decodes one expansion of each anchor's node costs.
    anchor_decodes: HashMap<usize, usize>,
}

impl Aliasing {
    /// Go's rule: past 100 alias decodes and 1000 decodes, the alias share
    /// may be 99% up to 400,000 decodes, falling evenly to 10% at 4,000,000.
    fn excessive(&self) -> bool {
        const LOW: f64 = 400_000.0;
        const HIGH: f64 = 4_000_000.0;
        if self.alias_decodes <= 100 || self.decodes <= 1000 {
            return false;
        }
        let d = self.decodes as f64;
        let allowed = if d <= LOW {
            0.99
        } else if d >= HIGH {
            0.10
        } else {
            0.99 - 0.89 * ((d - LOW) / (HIGH - LOW))
        };
        self.alias_decodes as f64 / d > allowed
    }
}

pub(crate) const MERGE_NOT_MAP: &str = "map merge requires map or sequence of maps as the value";
/// kyaml's words for a merge key whose list holds a list.
const MERGE_NESTED_LIST: &str = "invalid map merge: received a nested sequence";
/// kyaml's words for a merge key whose value is an alias of no map.
const MERGE_ALIAS_NOT_MAP: &str = "invalid map merge: received alias for a non-map value";

/// Whether `message` is kyaml's or yaml.v3's complaint about a merge key's
/// value (see [`merge_problem`]).
pub(crate) fn is_merge_problem(message: &str) -> bool {
    [MERGE_NOT_MAP, MERGE_NESTED_LIST, MERGE_ALIAS_NOT_MAP].contains(&message)
}

/// What is wrong with the value of a merge key (`alias`: written as an
/// alias; `item_aliases`: which items of a list were), if it is not a
/// mapping or a list of mappings: in kyaml's words when kustomize reads the
/// document (`kyaml`, which resolves merge keys itself before any
/// decoding), else in yaml.v3's decoder's.
fn merge_problem(
    v: &Value,
    alias: bool,
    item_aliases: &[bool],
    kyaml: bool,
) -> Option<&'static str> {
    let alias_problem = if kyaml { MERGE_ALIAS_NOT_MAP } else { MERGE_NOT_MAP };
    match v {
        Value::Map(_) => None,
        _ if alias => Some(alias_problem),
        Value::Seq(items) => items.iter().enumerate().find_map(|(i, item)| match item {
            Value::Map(_) => None,
            _ if item_aliases.get(i) == Some(&true) => Some(alias_problem),
            Value::Seq(_) if kyaml => Some(MERGE_NESTED_LIST),
            _ => Some(MERGE_NOT_MAP),
        }),
        _ => Some(MERGE_NOT_MAP),
    }
}

/// The part of `path` among its object's own fields: from the top of the
/// document, or from an item of a list's `items`.
fn own_path(path: &[Step]) -> &[Step] {
    match path {
        [Step::Key(items), Step::Index(_), rest @ ..] if items == "items" => rest,
        all => all,
    }
}

/// libyaml's scanner error for the token that starts at byte `at`, right
/// after a closed quoted scalar on the same line (where no simple key may
/// start), if its scanner refuses that token: a block scalar header that is
/// not one (`|0`, `>=1`, `|2 x`), a `-` or `?` indicator in the block
/// context, or a character no token starts with. `None` when the token
/// scans and only the parser refuses it (a missing key).
fn token_after_node(text: &str, at: usize) -> Option<&'static str> {
    let rest = text.get(at..)?;
    let mut chars = rest.chars();
    let first = chars.next()?;
    let second = chars.next();
    let blank_or_end = second.is_none_or(|c| c == ' ' || c == '\t' || is_break(c));
    let in_flow = open_bracket(text, at).is_some();
    match first {
        '@' | '`' | '%' => Some("found character that cannot start any token"),
        '|' | '>' if in_flow => Some("found character that cannot start any token"),
        '|' | '>' => block_header_problem(&rest[1..]),
        '-' if !in_flow && blank_or_end => {
            Some("block sequence entries are not allowed in this context")
        }
        '?' if !in_flow && blank_or_end => Some("mapping keys are not allowed in this context"),
        _ => None,
    }
}

/// Where the first line after byte `at` that opens with a document marker
/// (`---` or `...` and a blank or the line's end) starts.
fn document_indicator_after(text: &str, at: usize) -> Option<usize> {
    let mut start = at;
    while let Some(n) = text[start..].find('\n') {
        start += n + 1;
        let line = &text[start..];
        if (line.starts_with("---") || line.starts_with("..."))
            && line[3..].chars().next().is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
        {
            return Some(start);
        }
    }
    None
}

/// libyaml's words for a block scalar header (what follows `|` or `>`)
/// that it refuses: chomping and indentation indicators in either order,
/// an indentation of 0, then only blanks and a comment up to the line end.
fn block_header_problem(header: &str) -> Option<&'static str> {
    let bytes = header.as_bytes();
    let mut i = 0;
    let chomp = |b: Option<&u8>| matches!(b, Some(b'+' | b'-'));
    if chomp(bytes.get(i)) {
        i += 1;
        if let Some(d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
            if *d == b'0' {
                return Some("found an indentation indicator equal to 0");
            }
            i += 1;
        }
    } else if let Some(d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
        if *d == b'0' {
            return Some("found an indentation indicator equal to 0");
        }
        i += 1;
        if chomp(bytes.get(i)) {
            i += 1;
        }
    }
    let rest = header[i..].trim_start_matches([' ', '\t']);
    let ends = rest.starts_with('#') || rest.chars().next().is_none_or(is_break);
    (!ends).then_some("did not find expected comment or line break")
}

/// libyaml's parser error for a `]` or `}` at byte `at` that follows, on
/// its line, a flow collection that closed outside any other flow
/// collection (see [`entry_problem`]). `None` where nothing closed before
/// it (`a: ]`, no node content).
fn bracket_after_node(text: &str, at: usize) -> Option<&'static str> {
    let start = line_start(text, at);
    let before = text[start..at].trim_end_matches([' ', '\t']);
    if !before.ends_with([']', '}']) || open_bracket(text, at).is_some() {
        return None;
    }
    Some(entry_problem(text, at))
}

/// libyaml's parser error for a token at byte `at` that follows a complete
/// node on its line: the collection the node belongs to wants its next
/// entry. In a flow collection a `,` or the closing bracket; in the block
/// context a key, or a `-` for a sequence item indented past its parent's
/// keys (an indentless sequence ends there and its mapping wants a key).
fn entry_problem(text: &str, at: usize) -> &'static str {
    if let Some(open) = open_bracket(text, at) {
        return flow_entry_problem(text.as_bytes()[open]);
    }
    // The line where the node before `at` opened (a quoted scalar or a
    // flow collection may span lines).
    let node = node_start(text, at);
    let start = line_start(text, node);
    let before = &text[start..node];
    let indent = before.len() - before.trim_start_matches(' ').len();
    let content = &before[indent..];
    // A `-` and a blank, or a `-` that ends its line (its node below it).
    let is_item = |line: &str| {
        line.strip_prefix('-').is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    };
    let item = is_item(content);
    // `- [a] ]`: the item's own node, unless a `key:` before the node
    // makes it a mapping value (`- k: [a] ]`).
    let head = content;
    let value_of_key = head.contains(": ") || head.contains(":\t");
    if !item || value_of_key {
        return BLOCK_MAPPING_ENTRY[0];
    }
    // A document marker ends the search: the collections before it are
    // another document's.
    let marker = |l: &&str| {
        (l.starts_with("---") || l.starts_with("..."))
            && l[3..].chars().next().is_none_or(|c| c == ' ' || c == '\t')
    };
    let parent = text[..start]
        .split(is_line_end)
        .rev()
        .map(|l| l.trim_end_matches('\r'))
        .take_while(|l| !marker(l))
        .filter(|l| {
            let t = l.trim_start_matches(' ');
            !t.is_empty() && !t.starts_with('#')
        })
        .find(|l| {
            let width = l.len() - l.trim_start_matches(' ').len();
            width < indent || (width == indent && !is_item(&l[width..]))
        });
    let indentless = parent.is_some_and(|l| l.len() - l.trim_start_matches(' ').len() == indent);
    if indentless { BLOCK_MAPPING_ENTRY[0] } else { BLOCK_SEQUENCE_ENTRY[0] }
}

/// The columns of the block collections open at byte `at` as the lines
/// before it indent them: each `-` entry and the content after the
/// entries on `at`'s line, then those of every earlier line indented less
/// than the lines after it (blank and comment lines aside).
fn block_columns(text: &str, at: usize) -> Vec<usize> {
    let mut columns = Vec::new();
    let mut limit = usize::MAX;
    for line in text[..line_end(text, at)].lines().rev() {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if content.is_empty() || content.starts_with('#') || indent >= limit {
            continue;
        }
        let mut rest = content;
        loop {
            columns.push(line.len() - rest.len());
            match rest.strip_prefix('-').filter(|r| r.starts_with([' ', '\t'])) {
                Some(r) => rest = r.trim_start_matches([' ', '\t']),
                None => break,
            }
        }
        limit = indent;
        if indent == 0 {
            break;
        }
    }
    columns
}

/// libyaml's parser error for a flow collection opened by `open` (a `[` or
/// `{`) that wants its next entry.
fn flow_entry_problem(open: u8) -> &'static str {
    if open == b'[' { FLOW_SEQUENCE_ENTRY[0] } else { FLOW_MAPPING_ENTRY[0] }
}

/// The `[` and the `]` of a flow sequence entry that is a `?` with no key
/// (`[?]`, `[a, ? ]`; the `?` at byte `question`), whose `]` libyaml's
/// parser (yaml.v2 and yaml.v3 alike) passes over as it would over a `:`:
/// the entry is the pair `{null: null}` (or, with a node after the `]`, an
/// error where the sequence wants its next entry), while its scanner has
/// closed the sequence there (`[?]]` is `[{null: null}]`).
fn swallowed_bracket(text: &str, question: usize) -> Option<(usize, usize)> {
    let rest = text.get(question..)?.strip_prefix('?')?;
    let bracket = question + 1 + rest.find(|c| c != ' ' && c != '\t')?;
    let before = text[..question].trim_end_matches(|c: char| c == ' ' || c == '\t' || is_break(c));
    let entry_start = before.ends_with(['[', ',']);
    if text.as_bytes().get(bracket) != Some(&b']') || !entry_start {
        return None;
    }
    let scan = flow_scan(text, question);
    let open = *scan.open.last()?;
    (scan.reached && text.as_bytes()[open] == b'[').then_some((open, bracket))
}

/// The `?` whose swallowed `]` ([`swallowed_bracket`]) is the last token
/// before byte `at` (blanks skipped).
fn question_before_bracket(text: &str, at: usize) -> Option<usize> {
    let bracket = text[..at].trim_end_matches([' ', '\t']).strip_suffix(']')?.len();
    let question = text[..bracket].trim_end_matches([' ', '\t']).len().checked_sub(1)?;
    swallowed_bracket(text, question).filter(|&(_, b)| b == bracket).map(|_| question)
}

/// The first entry [`swallowed_bracket`] finds whose pair ends at a `,` or
/// `]` after the swallowed `]`, as the rewrite that reads it alike: the `]`
/// becomes a `:` (`[? :]`), which libyaml's parser would pass over the same
/// way, where the rest scans alike ([`closes_alike`]). Checked before
/// saphyr reads the text, whose scanner may look past the `]` first.
fn empty_key_rewrite(text: &str) -> Option<Failure> {
    text.match_indices('?').find_map(|(question, _)| {
        let (open, bracket) = swallowed_bracket(text, question)?;
        let next = skip_blanks_and_comments(text, bracket + 1);
        let ends = matches!(text.as_bytes().get(next), Some(b',' | b']'));
        (ends && closes_alike(text, open, bracket + 1)).then(|| Failure::Rewrite {
            at: bracket,
            len: 1,
            with: " :".into(),
        })
    })
}

/// Whether libyaml's scanner, which a swallowed `]` at byte `from - 1` left
/// one flow level below its parser (see [`swallowed_bracket`]; the
/// sequence opened at byte `open`), reads the rest as saphyr reads it one
/// level deeper: what the scanner reads outside any flow collection while
/// its parser is still in one (the block context, where plain scalars and
/// indicators differ) holds only blanks, comments, line breaks and `,` up
/// to the `]` or `}` that ends the parser's last collection, or the end of
/// the text. In the block context a tab after a `,` or a line break starts
/// no token, and a token on a later line left of the enclosing block
/// collection's indentation ends that collection first (`[?],` then `]`
/// is one pair at the document's top, a wrong token under `- a:`).
fn closes_alike(text: &str, open: usize, from: usize) -> bool {
    let mut depth = flow_scan(text, from).open.len();
    let outermost = flow_scan(text, open).open.first().copied().unwrap_or(open);
    let indent = block_indent_at(text, outermost);
    // Whether libyaml may start a simple key here in the block context,
    // where it then refuses a tab.
    let mut key_allowed = false;
    let mut line_begins = false;
    let mut i = from;
    while let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) {
        if depth == 0 && line_begins && !matches!(c, ' ' | '\t' | '#') && !is_break(c) {
            line_begins = false;
            if i - line_start(text, i) < indent {
                return false;
            }
        }
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' if depth == 0 => return true,
            ']' | '}' => depth -= 1,
            '"' | '\'' if depth > 0 => match quoted_end(text, i) {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => return false,
            },
            '#' => {
                i = line_end(text, i);
                continue;
            }
            '\t' if depth == 0 && key_allowed => return false,
            ',' => key_allowed = true,
            ' ' | '\t' => {}
            _ if depth > 0 => {}
            c if is_break(c) => (key_allowed, line_begins) = (true, true),
            _ => return false,
        }
        i += c.len_utf8();
    }
    true
}

/// The column (0-based) that the block collection holding the token at
/// byte `at` is indented by, or a greater one: that of the last `-` of the
/// entries opening the line when the token follows them directly, else
/// where the line's content starts after them (a key's column, or the
/// token's own).
fn block_indent_at(text: &str, at: usize) -> usize {
    let start = line_start(text, at);
    let mut content = text[start..at].trim_start_matches(' ');
    let mut dash = None;
    while let Some(rest) = content.strip_prefix('-').filter(|r| r.starts_with([' ', '\t'])) {
        dash = Some(at - start - content.len());
        content = rest.trim_start_matches([' ', '\t']);
    }
    match dash {
        Some(column) if content.is_empty() => column,
        _ => at - start - content.len(),
    }
}

/// The first tab among the blanks that open a line after the one holding
/// byte `at`.
fn tab_opening_later_line(text: &str, at: usize) -> Option<usize> {
    let at = at.min(text.len());
    let next = at + text[at..].find(is_line_end)?;
    let mut pos = next + text[next..].chars().next().map_or(1, char::len_utf8);
    for l in text[pos..].split_inclusive(is_line_end) {
        let blanks = l.len() - l.trim_start_matches([' ', '\t']).len();
        if let Some(tab) = l[..blanks].find('\t') {
            return Some(pos + tab);
        }
        pos += l.len();
    }
    None
}

/// For saphyr's refusal of a plain scalar that goes on after a comment
/// (marked on the comment's line or a later one): where the comment after
/// the scalar starts (on the last line up to the marker with more than
/// blanks and a comment) and the first byte of the next token, on the
/// first such line after the marker.
fn comment_ended_plain(text: &str, at: usize) -> Option<(usize, usize)> {
    let at = at.min(text.len());
    let content = |l: &str| {
        let t = l.trim_start_matches([' ', '\t']);
        !t.is_empty() && !t.starts_with('#') && t != "\r"
    };
    // The comment's `#` follows a blank; without one, the line's end.
    let comment = |l: &str| {
        l.find(" #").or_else(|| l.find("\t#")).unwrap_or(l.trim_end_matches(is_break).len())
    };
    let start = line_start(text, at);
    let mut scalar = None;
    let mut pos = 0;
    for l in text[..start].split_inclusive(is_line_end) {
        if content(l) {
            scalar = Some(pos + comment(l));
        }
        pos += l.len();
    }
    let own = &text[start..];
    let own_line = own.split_inclusive(is_line_end).next().unwrap_or("");
    if content(own_line) {
        scalar = Some(start + comment(own_line));
    }
    let mut pos = start + own_line.len();
    for l in text[pos..].split_inclusive(is_line_end) {
        if content(l) {
            return Some((scalar?, pos + (l.len() - l.trim_start_matches([' ', '\t']).len())));
        }
        pos += l.len();
    }
    None
}

/// Where the quoted scalar or flow collection that ends right before byte
/// `at` (blanks between) opens; `at` itself for anything else.
fn node_start(text: &str, at: usize) -> usize {
    let end = text[..at].trim_end_matches([' ', '\t']).len();
    match text[..end].chars().next_back() {
        Some(quote @ ('"' | '\'')) => opening_quote(&text[..end - 1], quote).unwrap_or(at),
        Some(']' | '}') => {
            let mut depth = 0usize;
            text[..end]
                .char_indices()
                .rev()
                .find_map(|(i, c)| match c {
                    ']' | '}' => {
                        depth += 1;
                        None
                    }
                    '[' | '{' => {
                        depth -= 1;
                        (depth == 0).then_some(i)
                    }
                    _ => None,
                })
                .unwrap_or(at)
        }
        _ => at,
    }
}

/// The byte of a block scalar indicator (`|`, `>`) that follows a flow
/// collection closed on its line, when the entry at byte `at` comes after
/// that block scalar's content (lines more indented than `at`, or blank):
/// libyaml's parser refuses the block scalar token there, at its indicator.
fn block_scalar_after_flow(text: &str, at: usize) -> Option<usize> {
    let start = line_start(text, at);
    let column = text[start..at].chars().count();
    let mut end = start;
    while let Some((last, _)) = text[..end].char_indices().next_back() {
        let prev = line_start(text, last);
        let line = text[prev..end].trim_end_matches(is_break);
        end = prev;
        // The first `]` or `}` that closes every flow collection and is
        // followed by blanks and a block scalar header libyaml accepts.
        let found = line.match_indices([']', '}']).find_map(|(close, _)| {
            let after = &line[close + 1..];
            let header = after.trim_start_matches([' ', '\t']);
            let indicator = close + 1 + (after.len() - header.len());
            (header.starts_with(['|', '>'])
                && block_header_problem(&header[1..]).is_none()
                && open_bracket(text, prev + close + 1).is_none())
            .then_some(prev + indicator)
        });
        if found.is_some() {
            return found;
        }
        // Otherwise only the block scalar's content (blank, or indented
        // past the entry at `at`) may come between.
        let content = line.trim_start_matches(' ');
        let width = line.len() - content.len();
        if !(content.is_empty() || content.starts_with('#') || width > column) {
            return None;
        }
    }
    None
}

/// Whether the last token before byte `at` (blanks, line breaks and
/// comment lines skipped) leaves libyaml's flow parser wanting a node: a
/// `[`, `{`, `,`, or a `?` or `:` indicator.
fn node_due_before(text: &str, at: usize) -> bool {
    let mut end = at.min(text.len());
    loop {
        let before = text[..end].trim_end_matches([' ', '\t', '\r', '\n']);
        let start = line_start(text, before.len());
        let line = before[start..].trim_start_matches([' ', '\t']);
        if line.starts_with('#') && start > 0 {
            end = start;
            continue;
        }
        return before.ends_with(['[', '{', ',', '?', ':']);
    }
}

/// The rewrite that quotes the plain scalar from byte `start` to the `:` at
/// byte `colon` with that `:`, which yaml.v2 reads into the scalar; single
/// quotes fold the scalar's lines as reading it plain does. `one_line`: the
/// value (folded as libyaml folds a plain scalar) is quoted on one line, so
/// that it may be a flow mapping's key (`{z\n w:}` has the key `z w:`), and
/// the scalar's later lines stay, blank, so that what follows keeps its line
/// and column.
fn quoted_through_colon(text: &str, start: usize, colon: usize, one_line: bool) -> Failure {
    let raw = &text[start..colon];
    let len = colon + 1 - start;
    if !one_line {
        let with = format!("'{}:'", raw.replace('\'', "''"));
        return Failure::Rewrite { at: start, len, with: with.into() };
    }
    let value = breaks::flow_scalar(raw, ScalarStyle::Plain, false);
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    let mut with = format!("\"{escaped}:\"");
    let mut lines = raw.split(is_line_end);
    lines.next();
    let mut ends = raw.matches(is_line_end);
    for line in lines {
        with.extend(ends.next());
        with.push_str(&" ".repeat(line.trim_end_matches('\r').chars().count()));
    }
    if raw.contains(is_line_end) {
        // The colon's column.
        with.push(' ');
    }
    Failure::Rewrite { at: start, len, with: with.into() }
}

/// Where the plain scalar that a `:` at byte `at` ends begins, when yaml.v2
/// reads that `:` into it (it touches the scalar and `,`, `]` or `}`
/// follows it, in a flow collection) and the scalar spans lines: after the
/// last flow indicator, `? ` or `: ` before it. `None` for anything else
/// (a quoted scalar, node properties, a comment, one line).
fn v2_multiline_plain_before_colon(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.get(at) != Some(&b':')
        || !matches!(bytes.get(at + 1), Some(b',' | b']' | b'}'))
        || open_bracket(text, at).is_none()
    {
        return None;
    }
    let before = &text[..at];
    let mut start = 0;
    for (i, c) in before.char_indices() {
        let next = before[i + c.len_utf8()..].chars().next();
        let indicator = matches!(c, '[' | '{' | ',')
            || (matches!(c, ':' | '?')
                && next.is_none_or(|n| n == ' ' || n == '\t' || is_break(n)));
        if indicator {
            start = i + c.len_utf8();
        }
    }
    let raw = &before[start..];
    let lead = raw.len() - raw.trim_start_matches([' ', '\t', '\r', '\n']).len();
    let start = start + lead;
    let raw = &text[start..at];
    let simple = !raw.is_empty()
        && !raw.ends_with([' ', '\t'])
        && raw.contains(is_break)
        && !raw
            .starts_with(['\'', '"', '&', '*', '!', '|', '>', '%', '@', '`', '#', '-', '?', ':'])
        && !raw.contains(" #")
        && !raw.contains("\t#")
        && !raw.split(is_break).any(|l| l.trim_start_matches([' ', '\t']).starts_with('#'));
    simple.then_some(start)
}

/// The `[` or `{` of the innermost flow collection still open at byte `at`,
/// as libyaml's scanner reads the text before it token by token: a bracket
/// inside a quoted scalar, a comment, a block scalar or a plain scalar of
/// block context opens nothing (`r: "{"x` is a block mapping's value and
/// the stray `x` after it, not an entry of a flow mapping).
fn open_bracket(text: &str, at: usize) -> Option<usize> {
    flow_scan(text, at).open.pop()
}

/// What libyaml's scanner has met of flow collections before byte `at`.
struct FlowScan {
    /// The `[` and `{` still open, outermost first.
    open: Vec<usize>,
    /// The first `]` or `}` that closes a collection of the other kind, and
    /// the bracket it meets: libyaml's parser stops there, wanting a `,` or
    /// the right bracket.
    wrong_close: Option<(usize, usize)>,
    /// Whether the scan stopped at byte `at` itself, not inside a quoted
    /// scalar, a comment or a block scalar that runs past it.
    reached: bool,
    /// Where the last token begun before `at` starts.
    token: usize,
}

/// Reads the text before byte `at` as [`open_bracket`] does.
fn flow_scan(text: &str, at: usize) -> FlowScan {
    let at = at.min(text.len());
    let mut wrong_close = None;
    let bytes = text.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    let mut line_indent = 0;
    let mut line_begins = true;
    let mut token = 0;
    // Whether a plain scalar of a flow collection reached its line's end:
    // it goes on with the next line's first token, a quote or other
    // indicator that would start a token of its own included.
    let mut plain_goes_on = false;
    while i < at {
        let c = text[i..].chars().next().unwrap_or(' ');
        if is_break(c) {
            i += c.len_utf8();
            line_begins = true;
            continue;
        }
        if line_begins {
            line_begins = false;
            line_indent = text[i..].len() - text[i..].trim_start_matches(' ').len();
            let rest = &text[i..];
            if (rest.starts_with("---") || rest.starts_with("..."))
                && rest[3..].chars().next().is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
            {
                // A document marker: what came before is another document.
                open.clear();
                i += 3;
                continue;
            }
            if rest.starts_with('%') {
                i = line_end(text, i);
                continue;
            }
        }
        let blank_after = |j: usize| {
            text[j..].chars().next().is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
        };
        let mut kind = c;
        if c != ' ' && c != '\t' {
            token = i;
            if std::mem::take(&mut plain_goes_on) && "\"'!&*-?|>".contains(c) {
                kind = 'a';
            }
        }
        match kind {
            ' ' | '\t' => i += 1,
            '#' => i = line_end(text, i),
            '"' | '\'' => i = quoted_end(text, i).unwrap_or(text.len()),
            '[' | '{' => {
                open.push(i);
                i += 1;
            }
            ']' | '}' => {
                if let Some(o) = open.pop() {
                    let pair = if bytes[o] == b'[' { ']' } else { '}' };
                    if c != pair && wrong_close.is_none() {
                        wrong_close = Some((i, o));
                    }
                }
                i += 1;
            }
            ',' => i += 1,
            '-' | '?' | ':' if blank_after(i + 1) => i += 1,
            '|' | '>' if open.is_empty() => {
                // A block scalar: its header line and every later line that
                // is blank or indented deeper than the indicator's line.
                i = line_end(text, i);
                while i < text.len() {
                    let next = text[i..].chars().next().map_or(1, char::len_utf8);
                    let body = &text[i + next..];
                    let line = &body[..body.find(is_break).unwrap_or(body.len())];
                    let content = line.trim_start_matches(' ');
                    if !content.trim().is_empty() && line.len() - content.len() <= line_indent {
                        break;
                    }
                    i = line_end(text, i + next);
                }
            }
            '!' | '&' | '*' => {
                // A tag, an anchor or an alias: up to a blank, and in a flow
                // collection up to a flow indicator too.
                i += 1;
                while i < at
                    && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n')
                    && (open.is_empty() || !is_flow_indicator(bytes[i]))
                {
                    i += 1;
                }
            }
            _ => {
                // A plain scalar, to its end on this line: a `: ` or ` #`,
                // and in a flow collection a flow indicator too.
                let in_flow = !open.is_empty();
                i += c.len_utf8();
                while i < at {
                    let d = text[i..].chars().next().unwrap_or(' ');
                    let value_indicator = d == ':'
                        && (blank_after(i + 1)
                            || (in_flow
                                && bytes.get(i + 1).is_some_and(|&b| is_flow_indicator(b))));
                    let comment = d == '#' && matches!(bytes[i - 1], b' ' | b'\t');
                    let flow_end = in_flow && d.is_ascii() && is_flow_indicator(d as u8);
                    if is_break(d) || value_indicator || comment || flow_end {
                        break;
                    }
                    i += d.len_utf8();
                }
                plain_goes_on = in_flow && text[i..].starts_with(is_break);
            }
        }
    }
    FlowScan { open, wrong_close, reached: i == at, token }
}

/// Whether byte `b` is one of libyaml's flow indicators (`,`, `[`, `]`, `{`,
/// `}`), which end a plain scalar inside a flow collection.
fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

/// The byte where the line holding byte `at` ends (its break, or the end).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find(is_break).map_or(text.len(), |n| at + n)
}

/// The byte after the quoted scalar that opens at byte `at` (`"` with its
/// backslash escapes, `'` with doubled quotes), if it closes.
fn quoted_end(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = bytes[at];
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            q if q == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// libyaml's scanner error for the quoted scalar that opens at byte `quote`
/// and that it cannot read, with the line Go names: the first escape it
/// refuses, else (`unclosed`) the line that opens with a document marker,
/// where libyaml ends the scalar and saphyr reads on, else the end of the
/// stream. For that end yaml.v2 (`sigs.k8s.io/yaml`: Helm, kustomization
/// files) names the end's line; yaml.v3 (`v3`: kyaml, which reads
/// kustomize's resources) the scalar's `line`, unless that is the first.
fn quoted_scalar_error(
    text: &str,
    quote: usize,
    unclosed: bool,
    line: usize,
    v3: bool,
) -> Option<(String, usize)> {
    let marker = document_indicator_after(text, quote);
    let escape = bad_escape(text.get(quote..).unwrap_or_default())
        .filter(|&(off, _)| marker.is_none_or(|m| quote + off < m));
    if let Some((off, problem)) = escape {
        let message = format!("while parsing a quoted scalar, {problem}");
        return Some((message, line_column(text, quote + off).0));
    }
    if !unclosed {
        return None;
    }
    if let Some(marker) = marker {
        let message = "while scanning a quoted scalar, found unexpected document indicator";
        return Some((message.into(), line_column(text, marker).0));
    }
    let line = if v3 && line > 1 { line } else { line_count(text) + 1 };
    Some((UNCLOSED_QUOTE.into(), line))
}

/// The opening quote of the first quoted scalar libyaml's scanner cannot
/// read (it never closes, or holds an escape libyaml refuses) among the
/// tokens it scans before its parser judges the token at byte `at`: those
/// before it on its line and, where the parser refuses that token (`past`
/// is then the tokens yaml.v3's or yaml.v2's scanner queues), those the
/// scanner reads past it. libyaml hands its
/// parser a token that may be a simple key only once it knows whether a `:`
/// follows, so it scans on while one is pending: to the `:` that resolves
/// it, the `,` or closing bracket of its flow level that removes it, or its
/// line's end and the first token after (`{'' {'` fails on the unclosed
/// `'`, not on the `{` its parser refuses). yaml.v3's scanner also keeps
/// two tokens past the one its parser looks at, for comments.
fn quote_scanned_first(text: &str, at: usize, past: Option<usize>) -> Option<usize> {
    let bytes = text.as_bytes();
    // From the start of the line, or of the token read over lines that the
    // line starts in (a quoted key holding a line break).
    let start = line_start(text, at.min(text.len()));
    let scan = flow_scan(text, start);
    let start = if scan.reached { start } else { scan.token };
    let outer_flow = !flow_scan(text, start).open.is_empty();
    // The possible simple key of each flow level opened on this line (the
    // first is the level the line starts at), by its token's byte.
    let mut keys: Vec<Option<usize>> = vec![None];
    let mut allowed = !outer_flow
        || text[..start].trim_end().ends_with(['[', '{', ',', '?'])
        || text[..start].trim_end().is_empty();
    let queued = past;
    // The keys pending once the parser reached its token, and how many
    // tokens the scanner has read past that one.
    let mut pending: Vec<usize> = Vec::new();
    let mut past: Option<usize> = None;
    // The block context's plain scalar that the line's last token is, if
    // it is one: it may go on with the next line.
    let mut last_plain = None;
    let blank_at = |j: usize| {
        text.get(j..)
            .and_then(|r| r.chars().next())
            .is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
    };
    let mut i = start;
    loop {
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let Some(c) = text.get(i..).and_then(|r| r.chars().next()) else { break };
        if is_break(c) || (c == '#' && (i == start || blank_at(i - 1))) {
            break;
        }
        let token = i;
        let flow = outer_flow || keys.len() > 1;
        let mut key = false;
        let mut bad_quote = false;
        last_plain = None;
        match c {
            '[' | '{' => {
                if allowed {
                    *keys.last_mut().expect("a level") = Some(token);
                }
                keys.push(None);
                allowed = true;
                i += 1;
            }
            ']' | '}' => {
                if keys.len() > 1 {
                    keys.pop();
                } else {
                    keys[0] = None;
                }
                allowed = false;
                i += 1;
            }
            ',' => {
                *keys.last_mut().expect("a level") = None;
                allowed = true;
                i += 1;
            }
            '?' | ':' if flow || blank_at(i + 1) => {
                // No simple key follows one a `:` resolves; after any other
                // `:` or `?` one may, in the block context.
                let resolved = keys.last_mut().expect("a level").take().is_some();
                allowed = !(flow || (c == ':' && resolved));
                i += 1;
            }
            '-' if !flow && blank_at(i + 1) => {
                allowed = true;
                i += 1;
            }
            '|' | '>' if !flow => break,
            '"' | '\'' => {
                key = allowed;
                allowed = false;
                let end = quoted_end(text, i);
                bad_quote = end.is_none() || (c == '"' && bad_escape(&text[i..]).is_some());
                i = end.unwrap_or(text.len());
            }
            '&' | '!' | '*' => {
                key = allowed;
                allowed = false;
                i += 1;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n')
                    && !(flow && is_flow_indicator(bytes[i]))
                {
                    i += 1;
                }
            }
            _ => {
                // A plain scalar, to its end on this line.
                key = allowed;
                allowed = false;
                last_plain = (!flow).then_some(token);
                i += c.len_utf8();
                while let Some(d) = text.get(i..).and_then(|r| r.chars().next()) {
                    let ends = is_break(d)
                        || (d == ':' && blank_at(i + 1))
                        || (d == '#' && blank_at(i - 1))
                        || (flow && d.is_ascii() && (is_flow_indicator(d as u8) || d == '?'));
                    if ends {
                        break;
                    }
                    i += d.len_utf8();
                }
            }
        }
        if key {
            *keys.last_mut().expect("a level") = Some(token);
        }
        if text[token..i].contains(is_break) {
            // A token read over lines (a quoted scalar) leaves every key
            // before it stale.
            keys.iter_mut().for_each(|k| *k = None);
        }
        // The loop reads only tokens the scanner reads.
        if bad_quote {
            return Some(token);
        }
        match past {
            None if token >= at => {
                // Not looking past the parser's token: done.
                queued?;
                past = Some(0);
            }
            None => continue,
            Some(n) => past = Some(n + 1),
        }
        if past == Some(0) {
            pending = keys.iter().flatten().copied().collect();
        }
        pending.retain(|k| keys.contains(&Some(*k)));
        if pending.is_empty() && past >= queued {
            return None;
        }
    }
    // A key still pending at the line's end goes stale only once the
    // scanner has read the first token after it; a queue not yet full reads
    // that token too.
    let next = skip_blanks_and_comments(text, i);
    // A plain scalar goes on with a later line indented past its block
    // collection (no comment between): a quote there is its text.
    let continued = last_plain.is_some_and(|plain| {
        !text[i..next].contains('#') && line_column(text, next).1 - 1 > block_indent_at(text, plain)
    });
    if continued {
        return None;
    }
    let quote = matches!(bytes.get(next), Some(b'"' | b'\''));
    let bad = quote
        && (quoted_end(text, next).is_none()
            || (bytes[next] == b'"' && bad_escape(&text[next..]).is_some()));
    let reads_next = past.is_some_and(|n| !pending.is_empty() || Some(n) < queued);
    (reads_next && bad).then_some(next)
}

/// A directive line (`%NAME ...`) that opens the stream with a name libyaml's
/// scanner refuses: none, or one other than `YAML` and `TAG`. The line and
/// libyaml's words. (A template's `printf` of a bad verb, `%!d(...)`, starts
/// such a line.)
fn bad_directive(text: &str) -> Option<(usize, &'static str)> {
    let (index, line) = first_content_line(text)?;
    let rest = line.strip_prefix('%')?;
    match directive_name(rest) {
        Err(problem) => Some((index + 1, problem)),
        // A `%YAML` version other than 1.1 is `incompatible_version`'s.
        Ok(("YAML" | "TAG", _)) => None,
        Ok(_) => Some((index + 1, "found unknown directive name")),
    }
}

/// The 1-based line of a `%YAML` directive opening the stream with another
/// version than 1.1: libyaml's parser (yaml.v2 and yaml.v3 alike) refuses
/// the document as it reads the directive, before anything else.
fn incompatible_version(text: &str) -> Option<usize> {
    let (index, line) = first_content_line(text)?;
    let rest = line.strip_prefix("%YAML")?;
    let version = rest.strip_prefix([' ', '\t'])?.trim_start();
    let end = version.find([' ', '\t', '#']).unwrap_or(version.len());
    let (major, minor) = version[..end].split_once('.')?;
    let number = |s: &str| (!s.is_empty() && s.len() <= 9).then(|| s.parse::<u32>().ok()).flatten();
    let (major, minor) = (number(major)?, number(minor)?);
    (major != 1 || minor != 1).then_some(index + 1)
}

/// The first line that is neither blank nor a comment, with its 0-based index.
fn first_content_line(text: &str) -> Option<(usize, &str)> {
    text.lines().enumerate().find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

/// The 1-based line of a document end marker `...` that opens the stream
/// (only blank and comment lines before it). libyaml's parser starts the
/// first document implicitly there and then finds no node, where later
/// documents skip stray end markers.
fn leading_document_end(text: &str) -> Option<usize> {
    // libyaml's reader drops a byte order mark that opens the stream.
    let (index, line) = first_content_line(text.strip_prefix('\u{feff}').unwrap_or(text))?;
    let rest = line.strip_prefix("...")?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(index + 1)
}

/// The 1-based line of a document start marker that opens the stream
/// (only blank, comment and directive lines before it) with a mapping
/// value indicator later on its line, outside quotes and flow collections
/// (`--- a: b`, `--- [a]: b`): no simple key may start after `---` in
/// libyaml, so its scanner refuses the `:` there.
fn mapping_on_document_start(text: &str) -> Option<usize> {
    let (index, line) = text.split(is_line_end).enumerate().find(|(_, l)| {
        let t = l.trim_matches([' ', '\t', '\r']);
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
    })?;
    let rest = line.trim_end_matches('\r').strip_prefix("---")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut chars = rest.chars().peekable();
    let (mut depth, mut quote, mut prev_blank) = (0usize, None::<char>, true);
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => {
                // Two apostrophes are one inside single quotes.
                if q == '\'' && chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            (Some(_), _) => {}
            (None, '\'' | '"') if prev_blank || depth > 0 => quote = Some(c),
            (None, '#') if prev_blank => return None,
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            (None, ':') if depth == 0 && chars.peek().is_none_or(|n| matches!(n, ' ' | '\t')) => {
                return Some(index + 1);
            }
            _ => {}
        }
        prev_blank = matches!(c, ' ' | '\t') || (quote.is_none() && matches!(c, '[' | '{' | ','));
    }
    None
}

/// libyaml's reader errors for bytes that are not UTF-8.
const UTF8_PROBLEMS: [&str; 5] = [
    "invalid leading UTF-8 octet",
    "incomplete UTF-8 octet sequence",
    "invalid trailing UTF-8 octet",
    "invalid length of a UTF-8 sequence",
    "invalid Unicode character",
];

/// The first character libyaml's reader refuses, with its words: C0
/// controls but tab, line feed and carriage return, DEL, C1 controls but
/// NEL, and U+FFFE, U+FFFF; or, when `carries_bytes`, a byte that is not UTF-8,
/// which the text carries as Go strings do (rendered templates,
/// `.Files.Get` of a binary file; see [`crate::gotmpl::sprig::from_go_bytes`]).
fn refused_character(text: &str, carries_bytes: bool) -> Option<(usize, &'static str)> {
    let raw = |c: char| carries_bytes && is_raw_byte(c);
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        if raw(c) {
            // A run of carried bytes: those that make UTF-8 together (a
            // character of the carriers' own range, carried as its bytes)
            // read as that character.
            let run = text[at..].find(|c| !raw(c)).map_or(text.len(), |n| at + n);
            let bytes = go_bytes(&text[at..run]);
            let mut valid = 0;
            for chunk in bytes.utf8_chunks() {
                if !chunk.invalid().is_empty() {
                    // Each carried byte is one four-byte character of `text`.
                    let start = at + 4 * (valid + chunk.valid().len());
                    return Some((start, broken_utf8(&go_bytes(&text[start..]))));
                }
                valid += chunk.valid().len();
            }
            at = run;
            continue;
        }
        if !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{FFFD}' | '\u{10000}'..)
        {
            return Some((at, CONTROL));
        }
        at += c.len_utf8();
    }
    None
}

/// Which of libyaml's UTF-8 checks `bytes` fails first, reading one
/// character from their start (a lead octet and its width, enough octets
/// before the end, trailing octets, the shortest form, the code point).
fn broken_utf8(bytes: &[u8]) -> &'static str {
    let [lead, ..] = bytes else { return UTF8_PROBLEMS[1] };
    let width = match lead {
        b if b & 0xE0 == 0xC0 => 2,
        b if b & 0xF0 == 0xE0 => 3,
        b if b & 0xF8 == 0xF0 => 4,
        _ => return UTF8_PROBLEMS[0],
    };
    if bytes.len() < width {
        return UTF8_PROBLEMS[1];
    }
    let mut value = u32::from(lead & (0x7F >> width));
    for octet in &bytes[1..width] {
        if octet & 0xC0 != 0x80 {
            return UTF8_PROBLEMS[2];
        }
        value = (value << 6) + u32::from(octet & 0x3F);
    }
    let shortest = match width {
        2 => value >= 0x80,
        3 => value >= 0x800,
        _ => value >= 0x10000,
    };
    if !shortest {
        return UTF8_PROBLEMS[3];
    }
    // What remains: a surrogate or a code point past U+10FFFF (a valid
    // sequence would not have been carried as bytes).
    UTF8_PROBLEMS[4]
}

/// The JSON key `sigs.k8s.io/yaml` makes of a non-string mapping key: Go's
/// text of a bool or integer, and of a float at float32 precision with YAML's
/// spellings of the infinities and NaN.
/// A collection as key is yaml.v2's error.
fn json_key_string(key: Value, raw: bool) -> Result<String, String> {
    match key {
        Value::Seq(_) | Value::Map(_) => {
            Err(format!("{INVALID_MAP_KEY}{}", go_sharp_v(&key, false, raw)))
        }
        _ if raw => Ok(raw_key(&key)),
        Value::Float(f) => Ok(match super::emit::go_format_float32_g(f).as_str() {
            "+Inf" => ".inf".to_string(),
            "-Inf" => "-.inf".to_string(),
            "NaN" => ".nan".to_string(),
            other => other.to_string(),
        }),
        other => key_string(other),
    }
}

/// yaml.v2's refusal of a collection as a mapping key.
const INVALID_MAP_KEY: &str = "invalid map key: ";

/// A scalar mapping key as yaml.v2 decoded it: the rank of its Go type in
/// the order Go's fmt prints the keys of a `map[interface{}]interface{}`
/// (nil first, then by type as Helm's binary orders them: string, uint64,
/// int, float64, bool), then the value written so that byte order is Go's
/// order within the type.
fn raw_key(key: &Value) -> String {
    match key {
        Value::String(s) => format!("1{s}"),
        Value::Uint(u) => format!("2{u:020}"),
        Value::Int(i) => format!("3{:020}", i128::from(*i) - i128::from(i64::MIN)),
        // NaN first, then by value: the bits of a negative float inverted,
        // of a positive one with the sign bit set.
        Value::Float(f) if f.is_nan() => "4".to_string(),
        Value::Float(f) if f.is_sign_negative() => format!("4{:020}", !f.to_bits()),
        Value::Float(f) => format!("4{:020}", f.to_bits() | 1 << 63),
        Value::Bool(b) => format!("5{}", u8::from(*b)),
        Value::Null | Value::Seq(_) | Value::Map(_) => "0".to_string(),
    }
}

/// Go's `%#v` of the key [`raw_key`] wrote.
fn raw_key_text(key: &str) -> String {
    let (rank, rest) = key.split_at(key.len().min(1));
    let number = rest.parse::<u64>().unwrap_or(0);
    match rank {
        "1" => crate::gotmpl::fmt::quote(rest),
        "2" => format!("{number:#x}"),
        "3" => (i128::from(number) + i128::from(i64::MIN)).to_string(),
        "4" if rest.is_empty() => "NaN".to_string(),
        "4" => {
            let bits = if number >> 63 == 1 { number & !(1 << 63) } else { !number };
            super::emit::go_format_float_g(f64::from_bits(bits))
        }
        "5" => (rest == "1").to_string(),
        _ => "interface {}(nil)".to_string(),
    }
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

    /// yaml.v2's alias rule, at its boundary: an anchor of 301 nodes
    /// aliased 292 times passes, 293 times is "excessive aliasing" (Helm
    /// agrees: cases hs-yaml-alias-292/293); kyaml-style readers keep the
    /// node budget only.
    #[test]
    fn alias_share_is_bounded_as_yaml_v2_bounds_it() {
        let doc = |n: usize| {
            let mut t = format!("base: &b [{}]\n", vec!["x"; 300].join(", "));
            for i in 0..n {
                t.push_str(&format!("u{i}: *b\n"));
            }
            t
        };
        assert!(parse_documents_helm(&doc(292), "v.yaml").is_ok());
        let e = parse_documents_helm(&doc(293), "v.yaml").unwrap_err();
        assert_eq!(e.go_message(), "yaml: document contains excessive aliasing");
        assert!(parse_documents(&doc(293), "v.yaml").is_ok());
    }

    /// Block nesting up to libyaml's bound reads and writes on a thread with
    /// Rust's default 2 MiB stack; one level more fails with Go's words and
    /// line.
    #[test]
    fn block_nesting_reaches_libyamls_bound_on_a_small_stack() {
        // 10,000 indentation levels: the root map, 9,996 compact sequences
        // and three maps; then one more.
        let doc = |dashes: usize| {
            let col = 3 + 2 * dashes;
            format!(
                "k:\n  {}a:\n{}b:\n{}c: 1\n",
                "- ".repeat(dashes),
                " ".repeat(col),
                " ".repeat(col + 1)
            )
        };
        // Rust's default for threads other than main.
        let small = std::thread::Builder::new().stack_size(2 << 20);
        let run = move || {
            // Reading and writing check the stack level by level; derived
            // equality and drop do not, and need the room the entry points
            // keep (`with_room`).
            let v = parse_documents(&doc(9996), "d.yaml").unwrap().remove(0);
            let text = super::super::to_string(&v);
            assert_eq!(text.matches("- ").count(), 9996);
            let again = parse_documents(&text, "d.yaml").unwrap().remove(0);
            crate::stack::with_room(crate::stack::ROOM, move || assert!(again == v));
            let e = parse_documents(&doc(9997), "d.yaml").unwrap_err();
            // yaml.v3 names the line of the key that opened the failing map.
            assert_eq!(e.go_message(), "yaml: line 4: exceeded max depth of 10000");
            let e = parse_documents_helm(&doc(9997), "d.yaml").unwrap_err();
            assert_eq!(e.go_message(), "yaml: line 4: exceeded max depth of 10000");
            // A sequence at its key's column adds no level; yaml.v3 names
            // the last key before the failing `-`, yaml.v2 the `-`'s line.
            let indentless = |n| format!("x:\n  y:\n  {}1\n", "- ".repeat(n));
            assert!(parse_documents(&indentless(9_999), "d.yaml").is_ok());
            let e = parse_kustomize_stream(&indentless(10_000), "d.yaml", Limits::default())
                .unwrap_err();
            assert_eq!(e.go_message(), "yaml: line 2: exceeded max depth of 10000");
            let e = parse_documents_helm(&indentless(10_000), "d.yaml").unwrap_err();
            assert_eq!(e.go_message(), "yaml: line 3: exceeded max depth of 10000");
        };
        small.spawn(run).unwrap().join().unwrap();
    }

    /// Go's message for `text` read as kustomize reads a resource (yaml.v3).
    fn kyaml_error(text: &str) -> String {
        parse_kustomize_stream(text, "r.yaml", Limits::default()).unwrap_err().go_message()
    }

    /// Go's message for `text` read as Helm reads a rendered template (yaml.v2).
    fn helm_error(text: &str) -> String {
        parse_documents_helm(text, "r.yaml").unwrap_err().go_message()
    }

    /// A token libyaml's scanner makes no key of at a key position of an
    /// open block collection: its parser refuses the token itself. yaml.v3
    /// texts as `kubectl kustomize` v5.5 printed them for a resource file
    /// (its context line is where the refusing collection opened), yaml.v2
    /// texts as Helm printed them for a rendered template (cases
    /// rr-key-position-*).
    #[test]
    fn keyless_token_at_a_key_position_is_refused_by_the_parser() {
        let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
        let v3 = |t: &str| kyaml_error(&format!("{head}{t}"));
        let v2 = |t: &str| helm_error(&format!("{head}{t}"));
        assert_eq!(v3("|\n  x\n"), "yaml: line 4: did not find expected key");
        assert_eq!(v3("data:\n  x: \"1\"\n  |\n   y\n"), "yaml: line 5: did not find expected key");
        assert_eq!(v3("data:\n  k: |\n  |\n"), "yaml: line 5: did not find expected key");
        assert_eq!(
            v3("data:\n  a:\n    b: \"1\"\n  |\n"),
            "yaml: line 5: did not find expected key"
        );
        assert_eq!(
            v3("data:\n  - x\n  |\n   y\n"),
            "yaml: line 5: did not find expected '-' indicator"
        );
        assert_eq!(v3("data:\n- x\n>\n  y\n"), "yaml: line 6: did not find expected key");
        assert_eq!(
            v3("data:\n  - a: 1\n    b: 2\n    |\n"),
            "yaml: line 5: did not find expected key"
        );
        assert_eq!(
            v3("data:\n  - a: 1\n  |\n"),
            "yaml: line 5: did not find expected '-' indicator"
        );
        // yaml.v3 keeps the key it saved at an empty flow collection.
        assert_eq!(v3("data:\n  x: \"1\"\n  []\n"), "yaml: line 7: could not find expected ':'");
        assert_eq!(v3("[]\n"), "yaml: line 5: could not find expected ':'");
        // yaml.v2 loses it and hands the bracket to its parser.
        assert_eq!(v2("data:\n  x: \"1\"\n  []\n"), "yaml: line 6: did not find expected key");
        assert_eq!(v2("data:\n  - x\n  {}\n"), "yaml: line 6: did not find expected '-' indicator");
        assert_eq!(v2("[ ] x\n"), "yaml: line 4: did not find expected key");
        // Not empty, it keeps the key as yaml.v3 does.
        assert_eq!(v2("data:\n  x: \"1\"\n  [a]\n"), "yaml: line 8: could not find expected ':'");
        // Text in a block scalar is no token.
        assert_eq!(v2("data:\n  k: |\n    |\n  z\n"), "yaml: line 9: could not find expected ':'");
    }

    /// A quoted scalar where its block collection requires a key, with no
    /// `:` after it: libyaml's scanner fails the key where it drops it
    /// (yaml.v2, Helm: cases rr-quoted-key-*) and names the key's line
    /// (yaml.v3: texts as `kubectl kustomize` v5.5 printed them).
    #[test]
    fn quoted_key_without_a_colon_fails_where_the_scanner_drops_it() {
        let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  a: x\n";
        let v3 = |t: &str| kyaml_error(&format!("{head}{t}"));
        let v2 = |t: &str| helm_error(&format!("{head}{t}"));
        for t in
            ["\"q\", y\n", "\"q\" y\nz: 1\n", "'q'}\n", "\"q\" [a]\nb: 1\n", "\"a\n  b\" c\nd: 1\n"]
        {
            assert_eq!(v3(t), "yaml: line 7: could not find expected ':'", "{t:?}");
        }
        assert_eq!(v2("\"q\", y\n"), "yaml: line 7: could not find expected ':'");
        assert_eq!(v2("\"q\" y\nz: 1\n"), "yaml: line 8: could not find expected ':'");
        assert_eq!(v2("\"q\" y\n   more\nb: 1\n"), "yaml: line 9: could not find expected ':'");
        assert_eq!(v2("\"q\" y\n\n# c\n  - z\n"), "yaml: line 9: could not find expected ':'");
        assert_eq!(v2("\"a\n  b\" c\nd: 1\n"), "yaml: line 8: could not find expected ':'");
        // Not a required key: the parser refuses the `,` where a key is due.
        assert_eq!(v2("- \"q\", y\n"), "yaml: line 6: did not find expected key");
    }

    /// Flow nesting beyond the scanner's byte-sized level count is refused
    /// in kiln's own words, not in words Go never prints.
    #[test]
    fn deep_flow_nesting_names_kilns_bound() {
        let text = format!("a: {}{}", "[".repeat(300), "]".repeat(300));
        let e = parse_documents_helm(&text, "v.yaml").unwrap_err();
        assert!(e.go_message().contains("nested deeper than 255 levels"), "{}", e.go_message());
    }

    /// Each under-indented multi-line quoted value costs one re-read: a
    /// ConfigMap with hundreds of them reads as libyaml reads it (a count
    /// bound of 64 refused this before), and the cost stays bounded.
    #[test]
    fn many_under_indented_quoted_values_read_as_libyaml_reads_them() {
        let mut text = String::from("data:\n");
        for i in 0..300 {
            text.push_str(&format!("  k{i}: \"one\ntwo\"\n"));
        }
        let doc = one(&text);
        assert_eq!(doc.get_path(&["data", "k299"]).and_then(Value::as_str), Some("one two"));
        // Past the budget: a clear error, not a long loop.
        let big = "#".repeat(REWRITE_BUDGET / 8) + "\n" + &text;
        let e = parse_documents(&big, "t.yaml").unwrap_err();
        assert!(e.message.contains("too many"), "{e}");
    }

    #[test]
    fn kustomize_documents_record_the_texts_of_scalars_not_strings() {
        let k = |s: &str| Step::Key(s.to_string());
        let text = "metadata:\n  annotations:\n    a: 1.50\n    b: ~\n    c:\n    d: x\n  labels:\n    e:\n    f: null\n  name: 0x10\nspec:\n  l:\n  - g:\n    h: ~\n  -\n  m: {}\n  data:\n    i: 1.0\ndata:\n  j: 1e3\n  k: s\n";
        let docs = parse_kustomize_documents(text, "t.yaml", Limits::default()).unwrap();
        let cases: Vec<(Vec<Step>, &str)> = vec![
            (vec![k("metadata"), k("annotations"), k("a")], "1.50"),
            (vec![k("metadata"), k("annotations"), k("b")], "~"),
            (vec![k("metadata"), k("annotations"), k("c")], ""),
            (vec![k("metadata"), k("labels"), k("e")], ""),
            (vec![k("metadata"), k("labels"), k("f")], "null"),
            (vec![k("metadata"), k("name")], "0x10"),
            (vec![k("spec"), k("l"), Step::Index(0), k("g")], ""),
            (vec![k("spec"), k("l"), Step::Index(0), k("h")], "~"),
            (vec![k("spec"), k("l"), Step::Index(1)], ""),
            (vec![k("spec"), k("data"), k("i")], "1.0"),
            (vec![k("data"), k("j")], "1e3"),
        ];
        let want: Vec<(Vec<Step>, String)> =
            cases.into_iter().map(|(p, t)| (p, t.to_string())).collect();
        assert_eq!(docs[0].scalar_texts, want);
        let quoted = parse_kustomize_documents(
            "a: \"x\"\nb: ['y', z]\n\"k\": 1\n",
            "t.yaml",
            Limits::default(),
        )
        .unwrap();
        assert_eq!(quoted[0].quoted, vec![vec![k("a")], vec![k("b"), Step::Index(0)]]);
        // Other entry points record nothing.
        let plain = parse_documents(text, "t.yaml").unwrap();
        assert_eq!(plain[0], docs[0].value);
    }

    #[test]
    fn scalars_resolve_like_yaml_v3() {
        let cases: &[(&str, Value)] = &[
            ("a: 0755", Value::Int(493)),
            ("a: 0x1F", Value::Int(31)),
            ("a: 1_000", Value::Int(1000)),
            ("a: 1.0", Value::Float(1.0)),
            ("a: 1e3", Value::Float(1000.0)),
            ("a: 9223372036854775807", Value::Int(i64::MAX)),
            ("a: 9223372036854775808", Value::Uint(1 << 63)),
            ("a: 0xFFFFFFFFFFFFFFFF", Value::Uint(u64::MAX)),
            ("a: !!int 12345678901234567890", Value::Uint(12345678901234567890)),
            ("a: +9223372036854775808", Value::Float(9223372036854775808.0)),
            ("a: 18446744073709551616", Value::Float(18446744073709551616.0)),
            ("a: -9223372036854775809", Value::Float(-9223372036854775809.0)),
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

    #[test]
    fn unclosed_quotes_name_the_line_each_go_yaml_names() {
        // (text, line kyaml names (yaml.v3), line sigs.k8s.io/yaml names
        // (yaml.v2)): v3 names the line the quote opened on unless it is
        // the first; v2 the line of the end of the stream.
        let cases = [
            ("a: 1\nb: \"x\n  y\n\n", 2, 5),
            ("a: 1\nb: 'x\nc: 2\n", 2, 4),
            ("a: \"x\nb: 1\n", 3, 3),
        ];
        for (text, v3, v2) in cases {
            let kyaml = parse_kustomize_stream(text, "f", Limits::default()).unwrap_err();
            let helm = parse_documents_helm(text, "f").unwrap_err();
            assert!(kyaml.message.contains("end of stream"), "{text:?}: {kyaml}");
            assert_eq!((kyaml.line, helm.line), (v3, v2), "{text:?}");
        }
    }

    #[test]
    fn yaml_v3_quirks_that_kustomize_shows() {
        let cases: &[(&str, Result<Value, &str>)] = &[
            ("a: {b: }", Ok(Value::from(""))),
            ("a: [2001-12-14 1:2:3]", Ok(Value::from("2001-12-14 1:2:3"))),
            ("a: [2001-12-14]", Ok(Value::from("2001-12-14T00:00:00Z"))),
            ("a: !!binary aGk=", Ok(Value::from("hi"))),
            ("a: !!binary /w==", Ok(Value::from("\u{FFFD}"))),
            ("a: !!binary aGk", Err("invalid base64")),
            ("a: !custom 5", Ok(Value::from("5"))),
            ("a:\tb", Ok(Value::from("b"))),
            ("a: \"x\\/y\"", Err("unknown escape")),
            ("a: \"it\\'s\"", Ok(Value::from("it's"))),
            ("a: \"\\q\\'\"", Err("unknown escape")),
            ("a: |\n  \tx\n", Err("tab character")),
            ("a: |2\n   \tx\n", Ok(Value::from(" \tx\n"))),
            ("a: >\n  x\n   y\n", Ok(Value::from("x\n\n y\n"))),
        ];
        for (text, want) in cases {
            let got = parse_documents(text, "q.yaml").map(|mut d| d.remove(0));
            match (want, got) {
                (Ok(w), Ok(doc)) => {
                    let v = doc.get_path(&["a"]).cloned();
                    let v = match v {
                        Some(Value::Seq(mut items)) => items.remove(0),
                        Some(Value::Map(m)) => m.values().next().cloned().unwrap_or_default(),
                        other => other.unwrap_or_default(),
                    };
                    assert_eq!(&v, w, "{text}");
                }
                (Err(w), Err(e)) => assert!(e.message.contains(w), "{text}: {e}"),
                (w, g) => panic!("{text}: want {w:?}, got {g:?}"),
            }
        }
    }

    /// The number of documents, or an error message part and its least line.
    type StreamOutcome = Result<usize, (&'static str, usize)>;

    #[test]
    fn kustomize_streams_split_like_kyaml() {
        let cases: &[(&str, StreamOutcome)] = &[
            ("a: 1\n---\nb: 2\n", Ok(2)),
            ("---\na: 1\n--- # c\n\n---\n", Ok(1)),
            ("%YAML 1.1\n---\na: 1\n", Err(("", 2))),
            ("%YAML 1.2\n---\na: 1\n", Err(("found incompatible YAML document", 1))),
            ("# c\n%YAML 2.0 # c\n---\na: 1\n", Err(("found incompatible YAML document", 2))),
            ("a: 1\n--- x\nb: 2\n", Err(("invalid document separator: --- x", 2))),
            ("a: 1\n---\nb: 2\nc: [\n", Err(("", 4))),
            ("a:\n  1: x\n", Err(("not a string", 2))),
            ("1: x\na:\n  \"1\": x\n", Ok(1)),
        ];
        for (text, want) in cases {
            let got = parse_kustomize_stream(text, "k.yaml", Limits::default());
            match (want, got) {
                (Ok(n), Ok(docs)) => assert_eq!(docs.len(), *n, "{text}"),
                (Err((msg, line)), Err(e)) => {
                    assert!(e.message.contains(msg), "{text}: {e}");
                    assert!(e.line >= *line, "{text}: {e}");
                }
                (w, g) => panic!("{text}: want {w:?}, got {g:?}"),
            }
        }
    }
}
