//! The characters libyaml reads unlike YAML 1.2: NEL, LS and PS are line breaks, and a byte order mark past the start of the stream is text.
//!
//! go-yaml (v2 and v3, ports of libyaml) follows YAML 1.1 here: U+0085
//! (NEL), U+2028 (LS) and U+2029 (PS) end lines everywhere (in plain and
//! quoted scalars, block scalars, comments and between tokens), and a
//! scalar keeps LS and PS where it keeps a line break, while NEL becomes a
//! line feed. Its test for a byte order mark looks at the start of its
//! buffer instead of at the current character, so only the mark that opens
//! the stream is skipped and any later one is an ordinary character.
//!
//! The YAML 1.2 parser knows none of this. [`ParserText`] gives it a copy of
//! the text in which these breaks are line feeds and stray byte order marks
//! a placeholder character (each replacement is one character for one, so
//! the parser's character positions hold in the original text); the
//! scalars whose source holds such a break are then read again from the
//! original text by [`flow_scalar`] and [`block_scalar`], with libyaml's
//! rules for joining lines.

use super::emit::is_break;
use saphyr_parser::ScalarStyle;
use std::borrow::Cow;

/// Whether `c` is a line break libyaml knows and YAML 1.2 does not.
pub(super) fn is_extra_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The text the YAML 1.2 parser reads in place of a stream.
pub(super) struct ParserText<'t> {
    /// The stream with NEL, LS and PS as line feeds and every byte order
    /// mark after the first character as [`ParserText::bom`].
    pub(super) text: Cow<'t, str>,
    /// The character that stands for a byte order mark in `text`, if one
    /// had to: a noncharacter the stream does not hold.
    pub(super) bom: Option<char>,
    /// Whether the stream holds NEL, LS or PS.
    pub(super) extra_breaks: bool,
}

impl<'t> ParserText<'t> {
    /// The parser's copy of `text`, borrowed when nothing needs replacing.
    pub(super) fn new(text: &'t str) -> Self {
        let body = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let extra_breaks = body.contains(is_extra_break);
        let stray_bom = body.contains('\u{FEFF}');
        if !extra_breaks && !stray_bom {
            return ParserText { text: Cow::Borrowed(text), bom: None, extra_breaks };
        }
        // A character the stream does not hold stands for the mark; were
        // every candidate taken, the parser refuses the mark as before.
        let bom = stray_bom
            .then(|| ('\u{FDD0}'..='\u{FDEF}').chain('\u{F0000}'..='\u{FFFFD}'))
            .and_then(|mut candidates| candidates.find(|c| !text.contains(*c)));
        let start = text.len() - body.len();
        let mut out = String::with_capacity(text.len());
        out.push_str(&text[..start]);
        out.extend(body.chars().map(|c| match c {
            c if is_extra_break(c) => '\n',
            '\u{FEFF}' => bom.unwrap_or(c),
            c => c,
        }));
        ParserText { text: Cow::Owned(out), bom, extra_breaks }
    }
}

/// The line break at the start of `s` as libyaml's `read_line` keeps it in
/// a scalar (CR LF, CR, LF and NEL as a line feed, LS and PS as they are)
/// and its length in bytes; `None` when `s` does not start with a break.
fn read_break(s: &str) -> Option<(char, usize)> {
    let c = s.chars().next().filter(|c| is_break(*c))?;
    Some(match c {
        '\r' if s[1..].starts_with('\n') => ('\n', 2),
        '\u{2028}' | '\u{2029}' => (c, c.len_utf8()),
        c => ('\n', c.len_utf8()),
    })
}

/// The length in bytes of the line break `s` starts with (CR LF is one
/// break), 0 when it starts with none.
pub(super) fn break_len(s: &str) -> usize {
    read_break(s).map_or(0, |(_, len)| len)
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// libyaml's join of two pieces of a plain or quoted scalar across line
/// breaks: a single line feed folds into a space, further breaks are kept,
/// and a first break that is LS or PS is kept with the rest. An escaped
/// line break (`\` at the end of a line in double quotes) leaves no first
/// break (`None`).
fn join(out: &mut String, leading: Option<char>, trailing: &str) {
    match leading {
        Some('\n') if trailing.is_empty() => out.push(' '),
        Some('\n') => out.push_str(trailing),
        leading => {
            out.extend(leading);
            out.push_str(trailing);
        }
    }
}

/// The value of a plain, single-quoted or double-quoted scalar whose source
/// text (from its first character, or opening quote, on) is `raw`, read
/// with libyaml's line breaks. With `go_string`, a character an escape
/// writes goes in as a Go string holds it (see
/// [`crate::gotmpl::sprig::push_char`]).
pub(super) fn flow_scalar(raw: &str, style: ScalarStyle, go_string: bool) -> String {
    let quote = match style {
        ScalarStyle::SingleQuoted => Some('\''),
        ScalarStyle::DoubleQuoted => Some('"'),
        _ => None,
    };
    let mut rest = if quote.is_some() { &raw[1..] } else { raw };
    let mut out = String::with_capacity(raw.len());
    loop {
        // A run of text up to a blank, a break or the closing quote.
        let mut escaped_break = false;
        while let Some(c) = rest.chars().next() {
            if is_blank(c) || is_break(c) {
                break;
            }
            let after = &rest[c.len_utf8()..];
            match (quote, c) {
                (Some('\''), '\'') if after.starts_with('\'') => {
                    out.push('\'');
                    rest = &after[1..];
                }
                (Some(q), c) if c == q => return out,
                (Some('"'), '\\') => {
                    if let Some((_, len)) = read_break(after) {
                        rest = &after[len..];
                        escaped_break = true;
                        break;
                    }
                    let (c, len) = unescape(after);
                    match c {
                        Some(c) if go_string => crate::gotmpl::sprig::push_char(&mut out, c),
                        c => out.extend(c),
                    }
                    rest = &after[len..];
                }
                (_, c) => {
                    out.push(c);
                    rest = after;
                }
            }
        }
        // A run of blanks and breaks.
        let mut whitespace = String::new();
        let mut leading = None;
        let mut trailing = String::new();
        let mut broken = escaped_break;
        while let Some(c) = rest.chars().next() {
            if is_blank(c) {
                if !broken {
                    whitespace.push(c);
                }
                rest = &rest[1..];
            } else if let Some((kept, len)) = read_break(rest) {
                if broken {
                    trailing.push(kept);
                } else {
                    leading = Some(kept);
                    broken = true;
                }
                rest = &rest[len..];
            } else {
                break;
            }
        }
        if rest.is_empty() {
            // A plain scalar ends at its last character; blanks after it
            // are not part of it.
            return out;
        }
        if broken {
            join(&mut out, leading, &trailing);
        } else {
            out.push_str(&whitespace);
        }
    }
}

/// The character of the escape sequence that `s` starts with (after its
/// backslash) and the sequence's length; the parser has checked the
/// sequence, so an unknown one stands for itself.
fn unescape(s: &str) -> (Option<char>, usize) {
    let Some(c) = s.chars().next() else {
        return (None, 0);
    };
    let hex = |digits: usize| {
        s.get(1..1 + digits)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .map_or((Some(c), 1), |c| (Some(c), 1 + digits))
    };
    let simple = match c {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{B}',
        'f' => '\u{C}',
        'r' => '\r',
        'e' => '\u{1B}',
        'N' => '\u{85}',
        '_' => '\u{A0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        'x' => return hex(2),
        'u' => return hex(4),
        'U' => return hex(8),
        c => c,
    };
    (Some(simple), c.len_utf8())
}

/// How a block scalar's header asked to treat its final line breaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Chomping {
    /// `-`: drop them all.
    Strip,
    /// No indicator: keep the first.
    Clip,
    /// `+`: keep them all.
    Keep,
}

/// The value of a literal or folded block scalar read with libyaml's line
/// breaks. `body` is the text after the header's line break, up to where
/// the parser ended the scalar; `indent` is the column of its content
/// (`None` when it has no content line: the value is then its kept breaks).
/// A last line that ends the stream adds no line break.
pub(super) fn block_scalar(
    body: &str,
    indent: Option<usize>,
    literal: bool,
    chomping: Chomping,
) -> String {
    let mut rest = body;
    let mut out = String::with_capacity(body.len());
    let mut trailing = String::new();
    // Blanks of indentation and empty lines, with the column reached.
    let skip_breaks = |rest: &mut &str, trailing: &mut String| -> usize {
        loop {
            let mut column = 0;
            while indent.is_none_or(|n| column < n) && rest.starts_with(' ') {
                *rest = &rest[1..];
                column += 1;
            }
            match read_break(rest) {
                Some((kept, len)) => {
                    trailing.push(kept);
                    *rest = &rest[len..];
                }
                None => return column,
            }
        }
    };
    let mut column = skip_breaks(&mut rest, &mut trailing);
    let mut leading: Option<char> = None;
    let mut leading_blank = false;
    while let Some(n) = indent {
        let Some(first) = rest.chars().next() else { break };
        if column != n {
            break;
        }
        let trailing_blank = is_blank(first);
        if !literal && leading == Some('\n') && !leading_blank && !trailing_blank {
            if trailing.is_empty() {
                out.push(' ');
            }
        } else {
            out.extend(leading);
        }
        out.push_str(&trailing);
        trailing.clear();
        leading = None;
        leading_blank = trailing_blank;
        let end = rest.find(is_break).unwrap_or(rest.len());
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        let Some((kept, len)) = read_break(rest) else { break };
        leading = Some(kept);
        rest = &rest[len..];
        column = skip_breaks(&mut rest, &mut trailing);
    }
    if chomping != Chomping::Strip {
        out.extend(leading);
    }
    if chomping == Chomping::Keep {
        out.push_str(&trailing);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_scalars_join_lines_as_libyaml_does() {
        let (ls, ps, nel) = ('\u{2028}', '\u{2029}', '\u{85}');
        let cases: Vec<(String, ScalarStyle, String)> = vec![
            (format!("x{ls}  y"), ScalarStyle::Plain, format!("x{ls}y")),
            (format!("x {nel}  y"), ScalarStyle::Plain, "x y".into()),
            (format!("x{nel}{nel}y"), ScalarStyle::Plain, "x\ny".into()),
            (format!("x{ls}{nel}{ps}y"), ScalarStyle::Plain, format!("x{ls}\n{ps}y")),
            (format!("\"x {ls}\n  y\" "), ScalarStyle::DoubleQuoted, format!("x{ls}\ny")),
            (format!("\"x\\{ls}  y\""), ScalarStyle::DoubleQuoted, "xy".into()),
            (
                format!("\"a\\t\\L\\x41\\u00e9{ps}b\""),
                ScalarStyle::DoubleQuoted,
                format!("a\t{ls}Aé{ps}b"),
            ),
            (format!("'it''s{ls}  x'"), ScalarStyle::SingleQuoted, format!("it's{ls}x")),
            (format!("'{ls}'"), ScalarStyle::SingleQuoted, format!("{ls}")),
            (format!("\"a\r\n{ls}b\""), ScalarStyle::DoubleQuoted, format!("a{ls}b")),
        ];
        for (raw, style, want) in cases {
            assert_eq!(flow_scalar(&raw, style, false), want, "{raw:?}");
        }
    }

    #[test]
    fn escapes_in_go_strings_carry_the_carriers_range() {
        // `\U0010ffff` is the character, which a Go string holds as its
        // four bytes; a carrier already in the text (byte 0x41) stays one.
        let raw = "\"a\\U0010ffff\u{10FF41}\\x41\"";
        let mut want = String::from("a");
        crate::gotmpl::sprig::push_char(&mut want, '\u{10FFFF}');
        want.push_str("\u{10FF41}A");
        assert_eq!(flow_scalar(raw, ScalarStyle::DoubleQuoted, true), want);
        assert_eq!(flow_scalar(raw, ScalarStyle::DoubleQuoted, false), "a\u{10FFFF}\u{10FF41}A");
    }

    #[test]
    fn block_scalars_keep_breaks_as_libyaml_does() {
        let (ls, nel) = ('\u{2028}', '\u{85}');
        let cases: Vec<(String, Option<usize>, bool, Chomping, String)> = vec![
            (format!("  x{ls}  y"), Some(2), true, Chomping::Keep, format!("x{ls}y")),
            (format!("  x{ls}  y\n"), Some(2), true, Chomping::Clip, format!("x{ls}y\n")),
            (format!("  x{nel}  y\n"), Some(2), true, Chomping::Clip, "x\ny\n".into()),
            (format!("  x{ls}\n"), Some(2), true, Chomping::Clip, format!("x{ls}")),
            (format!("  x{ls}\n"), Some(2), true, Chomping::Strip, "x".into()),
            (format!("  x{ls}\n\n"), Some(2), true, Chomping::Keep, format!("x{ls}\n\n")),
            (format!("{ls}  x\n"), Some(2), true, Chomping::Clip, format!("{ls}x\n")),
            (format!("  x{ls}  y\n  z\n"), Some(2), false, Chomping::Clip, format!("x{ls}y z\n")),
            (format!("  x\n{ls}  y\n"), Some(2), false, Chomping::Clip, format!("x{ls}y\n")),
            (format!("  x{nel}  y\n"), Some(2), false, Chomping::Clip, "x y\n".into()),
            (format!("  x{ls}  y"), Some(2), true, Chomping::Clip, format!("x{ls}y")),
            (format!("{ls}\n"), None, true, Chomping::Keep, format!("{ls}\n")),
        ];
        for (body, indent, literal, chomping, want) in cases {
            assert_eq!(block_scalar(&body, indent, literal, chomping), want, "{body:?}");
        }
    }

    #[test]
    fn parser_text_replaces_one_character_for_one() {
        let text = "\u{FEFF}a: x\u{2028}b: \u{FEFF}y\u{85}";
        let p = ParserText::new(text);
        let bom = p.bom.expect("a stand-in for the stray mark");
        assert_eq!(p.text, format!("\u{FEFF}a: x\nb: {bom}y\n"));
        assert_eq!(p.text.chars().count(), text.chars().count());
        assert!(p.extra_breaks);
        assert!(matches!(ParserText::new("\u{FEFF}a: 1\n").text, Cow::Borrowed(_)));
    }
}
