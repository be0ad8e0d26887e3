//! Writing [`Value`]s as YAML text, byte for byte as `sigs.k8s.io/yaml` does.
//!
//! That library marshals to JSON, reads the JSON back with goyaml.v2 and
//! emits it with goyaml.v2's port of libyaml: keys sorted in goyaml's
//! "natural" order, block style, sequences not indented inside mappings,
//! 80-column folding of long scalars, and libyaml's choice of plain, single
//! quoted, double quoted or literal style for each string.

use super::resolve::v2_resolves_to_non_string;
use crate::value::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

mod node_dump;
pub(crate) use node_dump::{
    Comments, Styled, document_with_duplicates, flow_node_text, node_to_string_styled,
};

const BEST_WIDTH: usize = 80;
const INDENT: usize = 2;

/// One document as YAML text, ending in a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, value);
    out
}

/// A value that `sigs.k8s.io/yaml` cannot print: `kubectl kustomize` fails on
/// it and Helm's `toYaml` prints nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmitError {
    /// JSON has no infinities or NaN.
    #[error("json: unsupported value: {value}")]
    NonFinite {
        /// The float as Go prints it.
        value: String,
    },
    /// JSON leaves this character raw and goyaml.v2's reader refuses it.
    #[error("yaml: control characters are not allowed (U+{code:04X} in {text:?})")]
    ControlCharacter {
        /// The character's code point.
        code: u32,
        /// The string that holds it.
        text: String,
    },
    /// Collections nest deeper than goyaml's reader takes them back from JSON.
    #[error("yaml: exceeded max depth of {MAX_DEPTH}")]
    TooDeep,
    /// A raw NEL is a line break to goyaml.v2, and a key cannot span lines.
    #[error("yaml: a mapping key cannot hold U+0085 (in {key:?})")]
    LineBreakInKey {
        /// The key.
        key: String,
    },
}

/// Checks that the JSON round trip inside `sigs.k8s.io/yaml` accepts the
/// value; [`to_string`] prints something for every value, so callers that
/// must fail or print nothing where the Go tools do ask this first.
pub fn validate(value: &Value) -> Result<(), EmitError> {
    // encoding/json fails on a float first, walking maps in sorted key
    // order; goyaml.v2 then reads that JSON, whose keys are sorted. Where
    // something is wrong, the walks again in that order find what Go
    // reports (sorting only then keeps the check cheap).
    validate_in(value, false, false).or_else(|_| {
        validate_in(value, true, true).and_then(|()| validate_in(value, true, false))
    })?;
    // The JSON text is one line of flow collections, whose nesting
    // libyaml's scanner bounds.
    if value.deeper_than(MAX_DEPTH) {
        return Err(EmitError::TooDeep);
    }
    Ok(())
}

/// The most flow collections libyaml (goyaml.v2 and v3) nests.
const MAX_DEPTH: usize = 10_000;

/// `floats_only` looks for non-finite floats alone.
fn validate_in(value: &Value, sorted: bool, floats_only: bool) -> Result<(), EmitError> {
    fn text(s: &str) -> Result<(), EmitError> {
        match s.chars().find(|c| matches!(*c as u32, 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF)) {
            Some(c) => Err(EmitError::ControlCharacter { code: c as u32, text: s.to_string() }),
            None => Ok(()),
        }
    }
    match value {
        Value::Float(f) if !f.is_finite() => {
            Err(EmitError::NonFinite { value: go_format_float_g(*f) })
        }
        Value::String(s) if !floats_only => text(s),
        Value::Seq(items) => crate::stack::grow(|| {
            items.iter().try_for_each(|v| validate_in(v, sorted, floats_only))
        }),
        Value::Map(m) => {
            let check = |(k, v): (&String, &Value)| {
                if !floats_only {
                    if k.contains('\u{85}') {
                        return Err(EmitError::LineBreakInKey { key: k.clone() });
                    }
                    text(k)?;
                }
                validate_in(v, sorted, floats_only)
            };
            crate::stack::grow(|| {
                if sorted {
                    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    entries.into_iter().try_for_each(check)
                } else {
                    m.iter().try_for_each(check)
                }
            })
        }
        _ => Ok(()),
    }
}

/// What Helm's `toYaml` template function prints: the document without its
/// final newline (Helm trims exactly one), or nothing when the value cannot
/// be marshalled (Helm swallows the error).
pub fn helm_to_yaml(value: &Value) -> String {
    if validate(value).is_err() {
        return String::new();
    }
    let mut out = String::new();
    Emitter::new(&mut out, false, false).document(value);
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Several documents as one stream, separated by `---` lines, as
/// `kubectl kustomize` prints them.
pub fn to_stream<'a>(docs: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        write_document(&mut out, doc);
    }
    out
}

/// Appends one document (without a `---` separator) to `out`.
pub fn write_document(out: &mut String, value: &Value) {
    let e = Emitter::new(out, false, false);
    e.document(value);
}

/// What Helm's `toYamlPretty` prints: goyaml.v3's encoder with an indent of
/// two, which indents sequences inside mappings, never folds long lines and
/// prints floats as Go's `%g` does (`1e+06`), since the values skip the JSON
/// round trip. The final newline is trimmed.
pub fn helm_to_yaml_pretty(value: &Value) -> String {
    let mut out = String::new();
    Emitter::new(&mut out, true, false).document(value);
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// A node as kyaml prints it in an error (`node contents:`): goyaml.v3's
/// encoder on the node, which keeps the order of its keys, does not fold
/// long lines and quotes only text YAML 1.2 would read as another type
/// (kiln does not keep the style a file gave a scalar, so a string is
/// taken to have been written plain wherever it could be).
pub fn node_to_string(value: &Value) -> String {
    let mut out = String::new();
    Emitter::new(&mut out, false, true).document(value);
    out
}

impl Emitter<'_> {
    /// Writes one document.
    fn document(mut self, value: &Value) {
        match value {
            Value::Map(m) if !m.is_empty() => self.map_body(value, 0),
            Value::Seq(s) if !s.is_empty() => self.seq_body(s, 0),
            other => {
                // libyaml indents the continuation lines of a lone scalar.
                self.scalar_or_empty(other, INDENT);
                self.newline();
            }
        }
    }
}

struct Emitter<'a> {
    out: &'a mut String,
    column: usize,
    /// The last thing written was a line break other than LF (NEL, LS, PS)
    /// inside a scalar: libyaml counts it as the end of the line and starts
    /// the next line right after it.
    raw_break: bool,
    /// goyaml.v3's layout (Helm's `toYamlPretty`) instead of goyaml.v2's.
    v3: bool,
    /// A kyaml node dump (see [`node_to_string`]).
    node: bool,
    /// The indent of the foot comment written last, until the next line is
    /// indented: libyaml parts a foot from a line at its indent with an
    /// empty line.
    foot_indent: Option<usize>,
    /// A line comment waiting for the end of the scalar it follows (a block
    /// scalar writes it after its header).
    line_comment: String,
    /// A mapping key's line comment, which the value takes (see
    /// `node_dump`).
    key_line: String,
}

impl<'a> Emitter<'a> {
    fn new(out: &'a mut String, v3: bool, node: bool) -> Emitter<'a> {
        Emitter {
            out,
            column: 0,
            raw_break: false,
            v3,
            node,
            foot_indent: None,
            line_comment: String::new(),
            key_line: String::new(),
        }
    }
}

/// The order goyaml.v2 sorts map keys in: runs of digits compare as
/// numbers, and other characters sort before letters.
pub(crate) fn key_order(a: &str, b: &str) -> Ordering {
    if key_less(a, b) {
        Ordering::Less
    } else if key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn key_less(a: &str, b: &str) -> bool {
    // Keys are nearly always ASCII: compare their bytes without collecting
    // characters.
    if a.is_ascii() && b.is_ascii() {
        return key_less_in(a.as_bytes(), b.as_bytes(), char::from);
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    key_less_in(&ar, &br, |c| c)
}

/// goyaml.v2's `keyList.Less` on two strings as sequences of characters.
fn key_less_in<C: Copy + PartialEq>(ar: &[C], br: &[C], ch: impl Fn(C) -> char) -> bool {
    let digit = |c: C| ch(c).is_ascii_digit();
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            continue;
        }
        let (ac, bc) = (ch(ar[i]), ch(br[i]));
        let al = ac.is_alphabetic();
        let bl = bc.is_alphabetic();
        if al && bl {
            return ac < bc;
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ac == '0' || bc == '0' {
            let mut j = i;
            while j > 0 && digit(ar[j - 1]) {
                j -= 1;
                if ch(ar[j]) != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(i64::from(ch(ar[ai]) as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(i64::from(ch(br[bi]) as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ac < bc;
    }
    ar.len() < br.len()
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
    Literal,
    /// Only where a node asks for it (see [`node_dump`]).
    Folded,
}

/// What libyaml's scalar analysis allows for one string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Analysis {
    /// Plain style inside flow collections.
    pub(crate) flow_plain: bool,
    /// Plain style in block context.
    pub(crate) block_plain: bool,
    /// Single-quoted style.
    pub(crate) single: bool,
    /// Literal or folded block style.
    pub(crate) block: bool,
    /// Whether the string contains a line break (LF, CR, NEL, LS or PS).
    pub(crate) multiline: bool,
}

/// goyaml.v2's `is_printable`: unlike the YAML spec it rejects NEL and every
/// character outside the Basic Multilingual Plane, which therefore end up
/// escaped in double quotes.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

pub(crate) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_blankz(c: char) -> bool {
    is_blank(c) || is_break(c) || c == '\0'
}

/// libyaml's `yaml_emitter_analyze_scalar`, as goyaml.v2 has it.
pub(crate) fn analyze(s: &str) -> Analysis {
    analyze_for(s, false)
}

/// The scalar analysis of goyaml.v3 (kyaml's encoder).
pub(crate) fn analyze_v3(s: &str) -> Analysis {
    analyze_for(s, true)
}

/// The scalar analysis of goyaml.v2, or with `v3` of goyaml.v3, which counts
/// a tab apart from other special characters: it still rules out plain and
/// single-quoted styles but no longer block styles, so a multi-line string
/// with tabs is written as a literal block.
fn analyze_for(s: &str, v3: bool) -> Analysis {
    if s.is_empty() {
        return Analysis {
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
            multiline: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = false;
    let mut flow_indicators = false;
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blank(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if v3 && c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(c);
    }
    let mut a = Analysis {
        flow_plain: true,
        block_plain: true,
        single: true,
        block: true,
        multiline: line_breaks,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || tabs || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_indicators {
        a.flow_plain = false;
    }
    if block_indicators {
        a.block_plain = false;
    }
    a
}

/// goyaml.v2's choice for a string: the encoder asks for literal style when
/// there is a newline, double quotes when plain text would read back as
/// another type, plain otherwise; the emitter then falls back to single and
/// double quotes as the analysis demands. `simple_key` is a key written
/// without the `?` indicator; `node` quotes by goyaml.v3's reading instead.
fn choose_style(s: &str, a: &Analysis, simple_key: bool, node: bool) -> Style {
    let quote = if node {
        !matches!(super::resolve::resolve_plain(s), Value::String(_))
    } else {
        v2_resolves_to_non_string(s)
    };
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if quote {
        Style::Double
    } else {
        Style::Plain
    };
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain || (s.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    style
}

/// Whether goyaml.v3's encoder writes the string value `s` in quotes or as
/// a block, not plain: the style of its node once kyaml reads the text back.
/// Besides what v3 reads as another type, its encoder quotes YAML 1.1's
/// bools (`yes`, `on`) and sexagesimal numbers, as goyaml.v2 reads them.
pub(crate) fn v3_value_not_plain(s: &str) -> bool {
    v2_resolves_to_non_string(s) || choose_style(s, &analyze_v3(s), false, true) != Style::Plain
}

/// libyaml writes a key without `?` only when it is a single line of at
/// most 128 bytes.
fn is_simple_key(key: &str, a: &Analysis) -> bool {
    !a.multiline && key.len() <= 128
}

/// Go's JSON encoder leaves NEL (U+0085) unescaped, and goyaml.v2 reads the
/// JSON text back as YAML, where a raw NEL inside double quotes is a line
/// break: it folds to a space (or to newlines when several follow each
/// other) and takes the spaces around it along.
pub(crate) fn json_hop(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c != ' ' && c != '\u{85}' {
            out.push(c);
            chars.next();
            continue;
        }
        let (mut spaces, mut breaks, mut folded) = (0usize, 0usize, false);
        while let Some(&c) = chars.peek() {
            match c {
                ' ' if !folded => spaces += 1,
                ' ' => {}
                '\u{85}' if !folded => folded = true,
                '\u{85}' => breaks += 1,
                _ => break,
            }
            chars.next();
        }
        if !folded {
            out.extend(std::iter::repeat_n(' ', spaces));
        } else if breaks == 0 {
            out.push(' ');
        } else {
            out.extend(std::iter::repeat_n('\n', breaks));
        }
    }
    Cow::Owned(out)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
pub(crate) fn go_format_float_g(f: f64) -> String {
    format_g(f, false)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest digits that
/// identify the float32 nearest `f` (how `sigs.k8s.io/yaml` turns a YAML
/// float into a Go string field, e.g. Chart.yaml's `appVersion: 1.10`).
pub(crate) fn go_format_float32_g(f: f64) -> String {
    format_g(f, true)
}

fn format_g(f: f64, single: bool) -> String {
    // Rounding to float32 may overflow to an infinity or underflow to zero.
    let f = if single { f64::from(f as f32) } else { f };
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let e = if single { format!("{:e}", f as f32) } else { format!("{:e}", f) };
    let (mant, exp) = e.split_once('e').expect("LowerExp always has an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let (es, ea) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        return format!("{sign}{m}e{es}{ea:02}");
    }
    // Plain decimal notation.
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let body = if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp >= nd {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    };
    format!("{sign}{body}")
}

/// How a float reads after Go's JSON round trip and goyaml.v2's emitter:
/// JSON writes whole numbers below 1e21 without exponent, as the shortest
/// digits that round-trip padded with zeros (Rust's `Display` does the
/// same), and goyaml.v2 reads those back as int64 or uint64 when they fit.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        let digits = f.to_string();
        if let Ok(i) = digits.parse::<i64>() {
            return i.to_string();
        }
        if digits.parse::<u64>().is_ok() {
            return digits;
        }
    }
    go_format_float_g(f)
}

impl Emitter<'_> {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
        self.raw_break = false;
    }

    fn write_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
        self.raw_break = false;
    }

    fn newline(&mut self) {
        if self.raw_break {
            self.raw_break = false;
            return;
        }
        self.out.push('\n');
        self.column = 0;
    }

    /// libyaml's `write_indent`: a new line unless the cursor is still in
    /// the indentation, then spaces up to `indent`.
    fn indent_to(&mut self, indent: usize) {
        if self.column > indent {
            self.newline();
        }
        if self.foot_indent.take() == Some(indent) {
            self.out.push('\n');
        }
        while self.column < indent {
            self.out.push(' ');
            self.column += 1;
        }
    }

    /// A string's text as the encoder sees it: goyaml.v2's after the JSON
    /// round trip, goyaml.v3's as the Go bytes a string carries (see
    /// `from_go_bytes`; where they make UTF-8, a carried character of
    /// U+10FF00..U+10FFFF is that character again), a node dump's as it is.
    fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if self.v3 {
            crate::gotmpl::sprig::plain_text(s)
        } else if self.node {
            Cow::Borrowed(s)
        } else {
            json_hop(s)
        }
    }

    /// Writes the entries of a non-empty map, each on its own line at `indent`;
    /// the first entry continues the current line if the cursor is already there.
    fn map_body(&mut self, value: &Value, indent: usize) {
        crate::stack::grow(|| self.map_entries(value, indent));
    }

    fn map_entries(&mut self, value: &Value, indent: usize) {
        let Value::Map(map) = value else { return };
        let mut keys: Vec<(Cow<'_, str>, &Value)> =
            map.iter().map(|(k, v)| (self.text(k), v)).collect();
        if !self.node {
            keys.sort_by(|a, b| key_order(&a.0, &b.0));
        }
        for (i, (text, v)) in keys.into_iter().enumerate() {
            self.entry_start(i, indent);
            let analysis = analyze_for(&text, self.v3 || self.node);
            if is_simple_key(&text, &analysis) {
                self.string(&text, &analysis, indent, true);
                self.write(":");
                self.simple_value(v, indent);
            } else {
                self.write("? ");
                self.string(&text, &analysis, indent + INDENT, false);
                if self.column != 0 {
                    self.newline();
                }
                self.indent_to(indent);
                self.write(":");
                self.compact_value(v, indent);
            }
        }
    }

    /// The value after `key:` on the key's line.
    fn simple_value(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                self.newline();
                self.indent_to(indent + INDENT);
                self.map_body(v, indent + INDENT);
            }
            Value::Seq(s) if !s.is_empty() => {
                // goyaml.v2 does not indent sequences inside mappings; v3 does.
                let at = if self.v3 { indent + INDENT } else { indent };
                self.newline();
                self.indent_to(at);
                self.seq_body(s, at);
            }
            _ => {
                self.write_char(' ');
                self.scalar_or_empty(v, indent + INDENT);
                self.newline();
            }
        }
    }

    /// The value after a `-` or after the `:` line of a `?` key:
    /// collections start on the indicator's line, indented one level.
    fn compact_value(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                self.indent_to(indent + INDENT);
                self.map_body(v, indent + INDENT);
            }
            Value::Seq(s) if !s.is_empty() => {
                self.indent_to(indent + INDENT);
                self.seq_body(s, indent + INDENT);
            }
            _ => {
                self.write_char(' ');
                self.scalar_or_empty(v, indent + INDENT);
                self.newline();
            }
        }
    }

    /// Where entry `i` of a block collection at `indent` starts: on a line
    /// of its own, unless it is the first and the cursor is already there.
    fn entry_start(&mut self, i: usize, indent: usize) {
        if i > 0 || self.column != indent {
            if self.column != 0 {
                self.newline();
            }
            self.indent_to(indent);
        }
    }

    fn seq_body(&mut self, items: &[Value], indent: usize) {
        crate::stack::grow(|| self.seq_items(items, indent));
    }

    fn seq_items(&mut self, items: &[Value], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            self.entry_start(i, indent);
            self.write("-");
            self.compact_value(item, indent);
        }
    }

    /// A scalar, or `{}`/`[]` for empty collections. `indent` is where
    /// continuation lines of folded or block scalars go.
    fn scalar_or_empty(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Null => self.write("null"),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Int(i) => self.write(&i.to_string()),
            Value::Uint(u) => self.write(&u.to_string()),
            Value::Float(f) if self.v3 || self.node => {
                self.write(&match go_format_float_g(*f).as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    g => g.to_string(),
                })
            }
            Value::Float(f) => self.write(&float_text(*f)),
            // goyaml.v3 cannot write bytes that are not UTF-8 as text: it
            // tags them `!!binary` and writes their base64, in lines of 70.
            Value::String(s) if self.v3 && crate::gotmpl::sprig::has_broken_utf8(s) => {
                let data = crate::gotmpl::sprig::encoding::base64_lines(
                    &crate::gotmpl::sprig::go_bytes(s),
                );
                self.write("!!binary ");
                if data.contains('\n') {
                    self.literal(&data, indent);
                } else {
                    self.write(&data);
                }
            }
            Value::String(s) => {
                let text = self.text(s);
                let analysis = analyze_for(&text, self.v3 || self.node);
                self.string(&text, &analysis, indent, false);
            }
            Value::Seq(_) => self.write("[]"),
            Value::Map(_) => self.write("{}"),
        }
    }

    /// A string in the style goyaml.v2 picks. A simple key never folds.
    fn string(&mut self, s: &str, a: &Analysis, indent: usize, simple_key: bool) {
        let allow_breaks = !simple_key;
        match choose_style(s, a, simple_key, self.node) {
            Style::Plain => self.plain(s, indent, allow_breaks),
            Style::Single => self.single(s, indent, allow_breaks),
            Style::Double => self.double(s, indent, allow_breaks),
            Style::Literal => self.literal(s, indent),
            Style::Folded => self.folded(s, indent),
        }
    }

    fn fold_point(&self, spaces: bool, allow_breaks: bool) -> bool {
        allow_breaks && !spaces && !self.v3 && !self.node && self.column > BEST_WIDTH
    }

    /// libyaml's `write_break` for a line break inside a quoted or plain
    /// scalar: LF as a new line, other breaks written as they are, and
    /// either way the next text starts at column 0.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.raw_break = false;
            self.newline();
        } else {
            self.out.push(c);
            self.column = 0;
            self.raw_break = true;
        }
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if self.fold_point(spaces, allow_breaks) && !next_space {
                    self.newline();
                    self.indent_to(indent);
                } else {
                    self.write_char(' ');
                }
                spaces = true;
            } else {
                self.write_char(c);
                spaces = false;
            }
        }
    }

    fn single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.write_char('\'');
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if self.fold_point(spaces, allow_breaks)
                    && i != 0
                    && i + 1 != chars.len()
                    && !next_space
                {
                    self.newline();
                    self.indent_to(indent);
                } else {
                    self.write_char(' ');
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.newline();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.indent_to(indent);
                }
                if c == '\'' {
                    self.write_char('\'');
                }
                self.write_char(c);
                spaces = false;
                breaks = false;
            }
        }
        self.write_char('\'');
    }

    fn double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        // goyaml.v2's BOM test looks at the start of the string instead of
        // the current character, so a leading BOM escapes everything.
        let bom = chars.first() == Some(&'\u{FEFF}');
        self.write_char('"');
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if bom || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.write_char('\\');
                match c {
                    '\0' => self.write_char('0'),
                    '\u{7}' => self.write_char('a'),
                    '\u{8}' => self.write_char('b'),
                    '\t' => self.write_char('t'),
                    '\n' => self.write_char('n'),
                    '\u{B}' => self.write_char('v'),
                    '\u{C}' => self.write_char('f'),
                    '\r' => self.write_char('r'),
                    '\u{1B}' => self.write_char('e'),
                    '"' => self.write_char('"'),
                    '\\' => self.write_char('\\'),
                    '\u{85}' => self.write_char('N'),
                    '\u{A0}' => self.write_char('_'),
                    '\u{2028}' => self.write_char('L'),
                    '\u{2029}' => self.write_char('P'),
                    c if (c as u32) <= 0xFF => self.write(&format!("x{:02X}", c as u32)),
                    c if (c as u32) <= 0xFFFF => self.write(&format!("u{:04X}", c as u32)),
                    c => self.write(&format!("U{:08X}", c as u32)),
                }
                spaces = false;
            } else if c == ' ' {
                if self.fold_point(spaces, allow_breaks) && i != 0 && i + 1 != chars.len() {
                    self.newline();
                    self.indent_to(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.write_char('\\');
                    }
                } else {
                    self.write_char(' ');
                }
                spaces = true;
            } else {
                self.write_char(c);
                spaces = false;
            }
        }
        self.write_char('"');
    }

    /// libyaml's `write_block_scalar_hints`: an indentation indicator when
    /// the text starts with a space or a break, `-` when it does not end
    /// with a break, `+` when it ends with more than one.
    fn block_hints(&mut self, chars: &[char]) {
        if chars.first().is_some_and(|c| *c == ' ' || is_break(*c)) {
            self.write(&INDENT.to_string());
        }
        let n = chars.len();
        let Some(&last) = chars.last() else { return };
        if !is_break(last) {
            self.write_char('-');
        } else if n == 1 || is_break(chars[n - 2]) {
            self.write_char('+');
        }
    }

    fn literal(&mut self, s: &str, indent: usize) {
        let chars: Vec<char> = s.chars().collect();
        self.write_char('|');
        self.block_hints(&chars);
        self.pending_line_comment();
        self.newline();
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.indent_to(indent);
                    breaks = false;
                }
                self.write_char(c);
            }
        }
        // The caller ends the line; a literal that ends in a break leaves the
        // cursor at column 0, so undo the caller's newline by stepping back.
        if self.column == 0 && self.out.ends_with('\n') {
            self.out.pop();
            self.column = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn roundtrip(src: &str) -> String {
        to_string(&parse_documents(src, "t").unwrap().remove(0))
    }

    #[test]
    fn matches_kubectl_on_quoting() {
        // Expected text recorded from `kubectl kustomize` (kustomize v5.5).
        let src = "b: \"x\"\nc: 'y'\ne: 1.0\nf: 0755\ng: ~\nh: Yes\ni: \"multi\\nline\"\nj: \"trailing \\n\"\nk: >\n  folded text\n  here\nl: 0x1F\np: \"with: colon\"\nq: \"  lead\"\nr: '#hash'\ns: 1e3\nu: \"-\"\nv: \"*star\"\nw: |-\n  keep\nx: \"tab\\there\"\n";
        let want = "b: x\nc: \"y\"\ne: 1\nf: 493\ng: null\nh: \"Yes\"\ni: |-\n  multi\n  line\nj: \"trailing \\n\"\nk: |\n  folded text here\nl: 31\np: 'with: colon'\nq: '  lead'\nr: '#hash'\ns: 1000\nu: '-'\nv: '*star'\nw: keep\nx: \"tab\\there\"\n";
        assert_eq!(roundtrip(src), want);
    }

    #[test]
    fn nested_layout() {
        let src = "spec:\n  containers:\n  - name: a\n    args: [x, '1']\n    env: []\n  m: {}\n";
        let want = "spec:\n  containers:\n  - args:\n    - x\n    - \"1\"\n    env: []\n    name: a\n  m: {}\n";
        assert_eq!(roundtrip(src), want);
    }

    #[test]
    fn key_order_is_natural() {
        let mut keys = vec!["a10", "a2", "B", "a", "_z", "a.b", "1"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(keys, vec!["_z", "1", "B", "a", "a.b", "a2", "a10"]);
    }

    #[test]
    fn long_plain_strings_fold_at_80_columns() {
        let words = "word ".repeat(40);
        let src = format!("long: \"{words}\"\n");
        let want = "long: 'word word word word word word word word word word word word word word word\n  word word word word word word word word word word word word word word word word\n  word word word word word word word word word '\n";
        assert_eq!(roundtrip(&src), want);
    }

    #[test]
    fn floats_print_like_go() {
        for (f, want) in [
            (1.5, "1.5"),
            (1234567.5, "1.2345675e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e21, "1e+21"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
        ] {
            assert_eq!(go_format_float_g(f), want, "{f}");
        }
    }

    #[test]
    fn numbers_above_int64_print_like_kubectl() {
        // A uint64 prints exactly; a float prints the digits Go's JSON
        // encoder wrote for it, read back as an integer while one fits.
        let cases = [
            (Value::Uint(12345678901234567890), "12345678901234567890"),
            (Value::Uint(u64::MAX), "18446744073709551615"),
            (Value::Float(12345678901234567890.0), "12345678901234567000"),
            (Value::Float(1e19), "10000000000000000000"),
            (Value::Float(18446744073709551615.0), "1.8446744073709552e+19"),
            (Value::Float(-9223372036854775809.0), "-9.223372036854776e+18"),
        ];
        for (v, want) in cases {
            assert_eq!(to_string(&v), format!("{want}\n"), "{v:?}");
            assert_eq!(helm_to_yaml(&v), want, "{v:?}");
        }
    }
}
