//! Sprig's string functions: case, trimming, searching, padding, quoting, splitting and joining.

use super::{
    def, go_lower, go_title, go_upper, i, is_title_digraph, s, str_list, strslice, strslice_list,
    strval,
};
use crate::gotmpl::fmt::quote as go_quote;
use crate::gotmpl::{Elem, Funcs, Param, Value};

use Param::{Any, Int, String as Str};

pub(super) fn register(f: &mut Funcs) {
    // strings.Map, which both use, writes U+FFFD for a byte that is not UTF-8.
    let mapped = |text: &str, case: fn(char) -> char| -> String {
        let mut out = String::with_capacity(text.len());
        for c in super::go_chars(text) {
            super::push_char(&mut out, case(c));
        }
        out
    };
    def(f, "upper", &[Str], None, move |a| Ok(mapped(s(&a[0]), go_upper).into()));
    def(f, "lower", &[Str], None, move |a| Ok(mapped(s(&a[0]), go_lower).into()));
    def(f, "title", &[Str], None, |a| Ok(title(s(&a[0])).into()));
    def(f, "untitle", &[Str], None, |a| Ok(untitle(s(&a[0])).into()));
    def(f, "trim", &[Str], None, |a| Ok(s(&a[0]).trim_matches(is_go_space).into()));
    def(f, "trimAll", &[Str, Str], None, |a| {
        let cut: Vec<char> = s(&a[0]).chars().collect();
        Ok(s(&a[1]).trim_matches(|c| cut.contains(&c)).into())
    });
    def(f, "trimSuffix", &[Str, Str], None, |a| {
        Ok(s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])).into())
    });
    def(f, "trimPrefix", &[Str, Str], None, |a| {
        Ok(s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])).into())
    });
    def(f, "nospace", &[Str], None, |a| Ok(no_space(s(&a[0])).into()));
    def(f, "repeat", &[Int, Str], None, |a| {
        let n = i(&a[0]);
        if n < 0 {
            return Err("strings: negative Repeat count".into());
        }
        let out_len = (n as u128) * (s(&a[1]).len() as u128);
        if out_len > 64 << 20 {
            return Err("strings: Repeat output length overflow".into());
        }
        Ok(s(&a[1]).repeat(n as usize).into())
    });
    def(f, "substr", &[Int, Int, Str], None, |a| substr(i(&a[0]), i(&a[1]), s(&a[2])));
    def(f, "trunc", &[Int, Str], None, |a| {
        let (c, text) = (i(&a[0]), s(&a[1]));
        let len = go_len(text) as i64;
        let cut = if c < 0 && len + c > 0 {
            byte_slice(text, (len + c) as usize, go_len(text))?
        } else if c >= 0 && len > c {
            byte_slice(text, 0, c as usize)?
        } else {
            text.to_string()
        };
        Ok(cut.into())
    });
    def(f, "abbrev", &[Int, Str], None, |a| {
        let (w, text) = (i(&a[0]), s(&a[1]));
        if w < 4 || go_len(text) as i64 <= w {
            return Ok(text.into());
        }
        Ok(format!("{}...", byte_slice(text, 0, (w - 3) as usize)?).into())
    });
    def(f, "abbrevboth", &[Int, Int, Str], None, |a| {
        let (left, right) = (i(&a[0]), i(&a[1]));
        // Sprig's own check: a width below 7 with any left offset keeps the text.
        if left > 0 && right < 7 {
            return Ok(a[2].clone());
        }
        Ok(abbreviate_full(s(&a[2]), left, right).into())
    });
    def(f, "initials", &[Str], None, |a| Ok(initials(s(&a[0])).into()));
    def(f, "contains", &[Str, Str], None, |a| Ok(s(&a[1]).contains(s(&a[0])).into()));
    def(f, "hasPrefix", &[Str, Str], None, |a| Ok(s(&a[1]).starts_with(s(&a[0])).into()));
    def(f, "hasSuffix", &[Str, Str], None, |a| Ok(s(&a[1]).ends_with(s(&a[0])).into()));
    def(f, "quote", &[], Some(Any), |a| {
        let parts: Vec<String> =
            a.iter().filter(|v| !v.is_nil()).map(|v| go_quote(&strval(v))).collect();
        Ok(parts.join(" ").into())
    });
    def(f, "squote", &[], Some(Any), |a| {
        let parts: Vec<String> =
            a.iter().filter(|v| !v.is_nil()).map(|v| format!("'{}'", strval(v))).collect();
        Ok(parts.join(" ").into())
    });
    def(f, "cat", &[], Some(Any), |a| {
        // Sprig's cat prints with %v, so a `[]byte` shows its numbers.
        let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(super::display).collect();
        Ok(parts.join(" ").into())
    });
    def(f, "indent", &[Int, Str], None, |a| Ok(indent(i(&a[0]), s(&a[1]))?.into()));
    def(f, "nindent", &[Int, Str], None, |a| {
        Ok(format!("\n{}", indent(i(&a[0]), s(&a[1]))?).into())
    });
    def(f, "replace", &[Str, Str, Str], None, |a| Ok(s(&a[2]).replace(s(&a[0]), s(&a[1])).into()));
    def(f, "plural", &[Str, Str, Int], None, |a| {
        Ok(if i(&a[2]) == 1 { a[0].clone() } else { a[1].clone() })
    });
    def(f, "toString", &[Any], None, |a| Ok(strval(&a[0]).into()));
    def(f, "toStrings", &[Any], None, |a| match &a[0] {
        // strslice hands a `[]string` back as it is: the same slice.
        Value::List(l) if l.elem() == Elem::String => Ok(a[0].clone()),
        other => Ok(strslice_list(other, false)),
    });
    def(f, "join", &[Str, Any], None, |a| Ok(strslice(&a[1]).join(s(&a[0])).into()));
    def(f, "splitList", &[Str, Str], None, |a| Ok(str_list(go_split(s(&a[1]), s(&a[0]), -1))));
    def(f, "split", &[Str, Str], None, |a| Ok(indexed(go_split(s(&a[1]), s(&a[0]), -1))));
    def(f, "splitn", &[Str, Int, Str], None, |a| {
        Ok(indexed(go_split(s(&a[2]), s(&a[0]), i(&a[1]))))
    });
    def(f, "wrap", &[Int, Str], None, |a| Ok(wrap(s(&a[1]), i(&a[0]), "\n", false).into()));
    def(f, "wrapWith", &[Int, Str, Str], None, |a| {
        Ok(wrap(s(&a[2]), i(&a[0]), s(&a[1]), true).into())
    });
    def(f, "swapcase", &[Str], None, |a| {
        let mut out = String::with_capacity(s(&a[0]).len());
        // Go ranges over the text rune by rune: a byte that is not UTF-8 is
        // a U+FFFD.
        for c in super::go_chars(s(&a[0])) {
            // goutils' SwapCase: upper and title case go to lower case,
            // lower case to title case.
            let swapped = if c.is_uppercase() || is_title_digraph(c) {
                go_lower(c)
            } else if c.is_lowercase() {
                go_title(c)
            } else {
                c
            };
            super::push_char(&mut out, swapped);
        }
        Ok(out.into())
    });
}

/// Go's `unicode.IsSpace`, which `strings.TrimSpace` uses.
pub(crate) fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{A0}')
        || (c as u32 > 0xff && c.is_whitespace())
}

/// A byte range of a string, as Go slices it; an error where Go would panic.
/// A cut inside a character keeps its bytes, as Go's string does.
fn byte_slice(text: &str, start: usize, end: usize) -> Result<String, String> {
    let bytes = super::go_bytes(text);
    if start > end || end > bytes.len() {
        return Err(format!("runtime error: slice bounds out of range [{start}:{end}]"));
    }
    Ok(super::from_go_bytes(&bytes[start..end]))
}

/// The length of a string in Go's bytes.
fn go_len(text: &str) -> usize {
    super::go_bytes(text).len()
}

/// goutils' `AbbreviateFull` as Sprig's `abbrevboth` uses it: on an error
/// (width below 4, or below 7 with an offset) the text comes back unchanged.
fn abbreviate_full(text: &str, offset: i64, width: i64) -> String {
    let len = go_len(text) as i64;
    if text.is_empty() || width < 4 || len <= width {
        return text.to_string();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return format!("{}...", byte_slice(text, 0, (width - 3) as usize).unwrap_or_default());
    }
    if width < 7 {
        return text.to_string();
    }
    if offset + width - 3 < len {
        let rest = byte_slice(text, offset as usize, go_len(text)).unwrap_or_default();
        return format!("...{}", abbreviate_full(&rest, 0, width - 3));
    }
    format!(
        "...{}",
        byte_slice(text, (len - (width - 3)) as usize, go_len(text)).unwrap_or_default()
    )
}

/// Sprig's `substring`.
fn substr(start: i64, end: i64, text: &str) -> Result<Value, String> {
    let len = go_len(text) as i64;
    let out = if start < 0 {
        // Go names the length only when the bound is not negative.
        if end < 0 {
            return Err(format!("runtime error: slice bounds out of range [:{end}]"));
        }
        if end > len {
            return Err(format!(
                "runtime error: slice bounds out of range [:{end}] with length {len}"
            ));
        }
        byte_slice(text, 0, end as usize)?
    } else if end < 0 || end > len {
        if start > len {
            return Err(format!("runtime error: slice bounds out of range [{start}:{len}]"));
        }
        byte_slice(text, start as usize, go_len(text))?
    } else {
        byte_slice(text, start as usize, end as usize)?
    };
    Ok(out.into())
}

fn indent(spaces: i64, text: &str) -> Result<String, String> {
    if spaces < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let pad = " ".repeat(spaces.min(1 << 20) as usize);
    Ok(format!("{pad}{}", text.replace('\n', &format!("\n{pad}"))))
}

/// Go's `strings.SplitN` (`n < 0`: all parts; an empty separator splits into characters).
fn go_split(text: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let parts: Vec<String> = if sep.is_empty() {
        // Go's explode: one part per character, and per byte that is not UTF-8.
        let chars: Vec<String> = super::go_runes(text)
            .map(|r| match r {
                super::GoRune::Char(c) => {
                    let mut part = String::new();
                    super::push_char(&mut part, c);
                    part
                }
                super::GoRune::Byte(b) => super::from_go_bytes(&[b]),
            })
            .collect();
        if n > 0 && chars.len() > n as usize {
            let mut head: Vec<String> = chars[..n as usize - 1].to_vec();
            head.push(chars[n as usize - 1..].concat());
            head
        } else {
            chars
        }
    } else if n > 0 {
        text.splitn(n as usize, sep).map(String::from).collect()
    } else {
        text.split(sep).map(String::from).collect()
    };
    parts
}

/// Sprig's `split` result: a `map[string]string` from `_0`, `_1`, ... to the parts.
fn indexed(parts: Vec<String>) -> Value {
    Value::string_map(
        parts.into_iter().enumerate().map(|(i, p)| (format!("_{i}"), Value::from(p))).collect(),
    )
}

/// Whether goutils takes the byte `b`, read as the rune of the same number,
/// for white space (`unicode.IsSpace`: ASCII space, tab to CR, NEL, NBSP).
fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r' | 0x85 | 0xA0)
}

/// goutils' `DeleteWhiteSpace` (Sprig's `nospace`): it walks bytes, not
/// runes, so when it removes anything, each byte of a multi-byte character
/// comes out as the Latin-1 character of that number (and UTF-8 bytes 0x85
/// and 0xA0 count as spaces).
fn no_space(text: &str) -> String {
    let bytes = super::go_bytes(text);
    if !bytes.iter().any(|&b| is_space_byte(b)) {
        return text.to_string();
    }
    bytes.iter().filter(|&&b| !is_space_byte(b)).map(|&b| char::from(b)).collect()
}

/// goutils' `Initials`: the first byte after each run of white space, read
/// as a Latin-1 character, as [`no_space`] reads bytes.
fn initials(text: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for &b in super::go_bytes(text).iter() {
        if is_space_byte(b) {
            gap = true;
        } else if gap {
            out.push(char::from(b));
            gap = false;
        }
    }
    out
}

/// Go's `strings.Title`: upper-cases the first letter of every word.
fn title(text: &str) -> String {
    let mut prev = ' ';
    let mut out = String::with_capacity(text.len());
    // Go's `strings.Map` writes a byte that is not UTF-8 as U+FFFD.
    for c in super::go_chars(text) {
        super::push_char(&mut out, if is_separator(prev) { go_title(c) } else { c });
        prev = c;
    }
    out
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// goutils' `Uncapitalize`: lower-cases the first letter of every whitespace-separated word.
fn untitle(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_start = true;
    for c in text.chars() {
        if c.is_whitespace() {
            at_start = true;
            out.push(c);
        } else if at_start {
            out.push(go_lower(c));
            at_start = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// goutils' `WrapCustom`: breaks `text` at spaces into lines of at most
/// `width` bytes; a longer word is cut (`cut_long`) or left whole. It works on
/// Go's bytes, so a cut may split a character: its bytes stay bytes (carried,
/// see [`super::from_go_bytes`]), as in Go.
fn wrap(text: &str, width: i64, newline: &str, cut_long: bool) -> String {
    if text.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let newline = super::go_bytes(newline);
    let width = width.max(1) as usize;
    let b = super::go_bytes(text);
    let b = b.as_ref();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut offset = 0;
    while b.len() - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(b.len());
        match b[offset..end].iter().rposition(|c| *c == b' ') {
            Some(space) => {
                out.extend_from_slice(&b[offset..offset + space]);
                out.extend_from_slice(&newline);
                offset += space + 1;
            }
            None if cut_long => {
                out.extend_from_slice(&b[offset..offset + width]);
                out.extend_from_slice(&newline);
                offset += width;
            }
            None => {
                let end = width + offset;
                match b[end..].iter().position(|c| *c == b' ') {
                    None => {
                        out.extend_from_slice(&b[offset..]);
                        offset = b.len();
                    }
                    Some(index) => {
                        out.extend_from_slice(&b[offset..end + index]);
                        out.extend_from_slice(&newline);
                        offset = end + index + 1;
                    }
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    super::from_go_bytes(&out)
}
