//! Writing [`Value`]s as YAML text, byte for byte as `sigs.k8s.io/yaml` does.
//!
//! That library marshals to JSON, reads the JSON back with goyaml.v2 and
//! emits it with goyaml.v2's port of libyaml: keys sorted in goyaml's
//! "natural" order, block style, sequences not indented inside mappings,
//! 80-column folding of long scalars, and libyaml's choice of plain, single
//! quoted, double quoted or literal style for each string.

use super::resolve::v2_resolves_to_non_string;
use crate::value::Value;
use std::cmp::Ordering;

const BEST_WIDTH: usize = 80;
const INDENT: usize = 2;

/// One document as YAML text, ending in a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, value);
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
    let mut e = Emitter { out, column: 0 };
    match value {
        Value::Map(m) if !m.is_empty() => e.map_body(value, 0),
        Value::Seq(s) if !s.is_empty() => e.seq_body(s, 0),
        other => {
            e.scalar_or_empty(other, 0);
            e.newline();
        }
    }
}

struct Emitter<'a> {
    out: &'a mut String,
    column: usize,
}

/// The order goyaml sorts map keys in: runs of digits compare as numbers,
/// letters before other characters unless a digit run precedes them.
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
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    block_plain: bool,
    single: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || u == 0x85
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
        || (0x10000..=0x10FFFF).contains(&u)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c) || c == '\0',
    }
}

/// libyaml's `yaml_emitter_analyze_scalar`, reduced to the block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis { block_plain: false, single: true, block: false };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = false;
    let mut flow_indicators = false;
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let _ = flow_indicators;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let (mut line_breaks, mut special) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_whitespace = is_blankz(next);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' if followed_by_whitespace => block_indicators = true,
                '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    let mut a = Analysis { block_plain: true, single: true, block: true };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks || block_indicators {
        a.block_plain = false;
    }
    a
}

fn choose_style(s: &str, key: bool) -> Style {
    let a = analyze(s);
    let requested = if v2_resolves_to_non_string(s) {
        Style::Double
    } else if s.contains('\n') {
        Style::Literal
    } else {
        Style::Plain
    };
    let mut style = requested;
    if style == Style::Plain && (!a.block_plain || s.is_empty()) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || key) {
        style = Style::Double;
    }
    style
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
pub(crate) fn go_format_float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let e = format!("{:e}", f);
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
/// whole numbers below 1e21 come back as integers.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{}", f as i128);
    }
    go_format_float_g(f)
}

impl Emitter<'_> {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn indent_to(&mut self, indent: usize) {
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.column = indent;
    }

    /// Writes the entries of a non-empty map, each on its own line at `indent`;
    /// the first entry continues the current line if the cursor is already there.
    fn map_body(&mut self, value: &Value, indent: usize) {
        let Value::Map(map) = value else { return };
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| key_order(a, b));
        for (i, key) in keys.into_iter().enumerate() {
            if i > 0 || self.column != indent {
                if self.column != 0 {
                    self.newline();
                }
                self.indent_to(indent);
            }
            self.string(key, indent, true);
            self.write(":");
            let v = &map[key];
            match v {
                Value::Map(m) if !m.is_empty() => {
                    self.newline();
                    self.indent_to(indent + INDENT);
                    self.map_body(v, indent + INDENT);
                }
                Value::Seq(s) if !s.is_empty() => {
                    self.newline();
                    self.indent_to(indent);
                    self.seq_body(s, indent);
                }
                _ => {
                    self.write(" ");
                    self.scalar_or_empty(v, indent + INDENT);
                    self.newline();
                }
            }
        }
    }

    fn seq_body(&mut self, items: &[Value], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || self.column != indent {
                if self.column != 0 {
                    self.newline();
                }
                self.indent_to(indent);
            }
            self.write("- ");
            match item {
                Value::Map(m) if !m.is_empty() => self.map_body(item, indent + INDENT),
                Value::Seq(s) if !s.is_empty() => self.seq_body(s, indent + INDENT),
                _ => {
                    self.scalar_or_empty(item, indent + INDENT);
                    self.newline();
                }
            }
        }
    }

    /// A scalar, or `{}`/`[]` for empty collections. `indent` is where
    /// continuation lines of folded or block scalars go.
    fn scalar_or_empty(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Null => self.write("null"),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Int(i) => self.write(&i.to_string()),
            Value::Float(f) => self.write(&float_text(*f)),
            Value::String(s) => self.string(s, indent, false),
            Value::Seq(_) => self.write("[]"),
            Value::Map(_) => self.write("{}"),
        }
    }

    fn string(&mut self, s: &str, indent: usize, key: bool) {
        let allow_breaks = !key;
        match choose_style(s, key) {
            Style::Plain => self.plain(s, indent, allow_breaks),
            Style::Single => self.single(s, indent, allow_breaks),
            Style::Double => self.double(s, indent, allow_breaks),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn fold_point(&self, spaces: bool, allow_breaks: bool) -> bool {
        allow_breaks && !spaces && self.column > BEST_WIDTH
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
                    self.write(" ");
                }
                spaces = true;
            } else {
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
    }

    fn single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.write("'");
        let mut spaces = false;
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
                    self.write(" ");
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.write("'");
                }
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
        self.write("'");
    }

    fn double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        self.write("\"");
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                let esc = match c {
                    '\0' => "0".to_string(),
                    '\u{7}' => "a".into(),
                    '\u{8}' => "b".into(),
                    '\t' => "t".into(),
                    '\n' => "n".into(),
                    '\u{B}' => "v".into(),
                    '\u{C}' => "f".into(),
                    '\r' => "r".into(),
                    '\u{1B}' => "e".into(),
                    '"' => "\"".into(),
                    '\\' => "\\".into(),
                    '\u{85}' => "N".into(),
                    '\u{A0}' => "_".into(),
                    '\u{2028}' => "L".into(),
                    '\u{2029}' => "P".into(),
                    c if (c as u32) <= 0xFF => format!("x{:02X}", c as u32),
                    c if (c as u32) <= 0xFFFF => format!("u{:04X}", c as u32),
                    c => format!("U{:08X}", c as u32),
                };
                self.write("\\");
                self.write(&esc);
                spaces = false;
            } else if c == ' ' {
                if self.fold_point(spaces, allow_breaks) && i != 0 && i + 1 != chars.len() {
                    self.newline();
                    self.indent_to(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.write("\\");
                    }
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
        self.write("\"");
    }

    fn literal(&mut self, s: &str, indent: usize) {
        let chars: Vec<char> = s.chars().collect();
        self.write("|");
        if chars.first().is_some_and(|c| *c == ' ' || is_break(*c)) {
            self.write(&INDENT.to_string());
        }
        let n = chars.len();
        let last = chars[n - 1];
        if !is_break(last) {
            self.write("-");
        } else if n == 1 || is_break(chars[n - 2]) {
            self.write("+");
        }
        self.newline();
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.newline();
                breaks = true;
            } else {
                if breaks {
                    self.indent_to(indent);
                    breaks = false;
                }
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
            }
        }
        // The caller ends the line; a literal always ends at column 0 after a
        // break, so undo the caller's newline by leaving the cursor mid-line.
        if self.column == 0 {
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
}
