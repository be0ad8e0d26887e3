//! Sprig's regular-expression functions, on the `regex` crate (RE2 syntax, like Go's `regexp`).
//!
//! Patterns are first rewritten from Go's dialect to the crate's: the two
//! share RE2's syntax but differ at the edges (`{` that starts no repeat is a
//! literal in Go, `\d \w \s \b` are ASCII-only in Go, `\Q...\E`, octal
//! escapes, `\<` is a literal, nested repeats such as `a**` are errors,
//! capture names may repeat or start with a digit). Named groups are renamed
//! `g<N>_<name>` for the crate, and [`replace_all`] expands a template as
//! Go's `Regexp.Expand` does, with the Go names.

use std::sync::LazyLock;

use super::{def, i, s, str_list};
use crate::gotmpl::{Elem, Funcs, List, Param, Value, growth};

use Param::{Int, String as Str};

/// How many compiled expressions [`compile`] and [`compile_native`] keep.
const COMPILED_KEPT: usize = 256;

/// A Go regular expression compiled, or Go's error for it (`error parsing regexp: ...`).
pub(crate) fn compile(re: &str) -> Result<regex::Regex, String> {
    kept(re, true, compile_uncached)
}

/// An expression in the `regex` crate's own syntax compiled (Helm's file
/// globs, rewritten into it), or the crate's error.
pub(crate) fn compile_native(re: &str) -> Result<regex::Regex, String> {
    kept(re, false, |re| regex::Regex::new(re).map_err(|e| e.to_string()))
}

/// The result of `compile_with` for `re`, kept by expression and dialect
/// (`go`): charts run the same few expressions once per include or per
/// load (bitnami's `common` library cleans every label value with
/// `regexReplaceAll`, `.helmignore` rules are globs), and compiling one
/// costs far more than matching it. A compiled `Regex` is a cheap shared
/// handle, safe to use from several threads.
fn kept(
    re: &str,
    go: bool,
    compile_with: impl FnOnce(&str) -> Result<regex::Regex, String>,
) -> Result<regex::Regex, String> {
    use std::sync::{Mutex, PoisonError};
    static KEPT: LazyLock<Mutex<Compiled>> =
        LazyLock::new(|| Mutex::new(Compiled::new(COMPILED_KEPT)));
    let lock = || KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(done) = lock().get(go, re) {
        return done;
    }
    let done = compile_with(re);
    lock().keep(go, re, done.clone());
    done
}

/// Compiled expressions (or their errors) of each dialect, at most so many
/// per dialect, the least recently used dropped first: a template that
/// builds a new expression per call cannot grow them without bound, nor
/// push out the few that every render uses.
struct Compiled {
    /// Kept by expression: the `regex` crate's dialect, then Go's.
    dialects: [hashlink::LruCache<String, Result<regex::Regex, String>>; 2],
}

impl Compiled {
    fn new(per_dialect: usize) -> Self {
        let lru = || hashlink::LruCache::new(per_dialect.max(1));
        Compiled { dialects: [lru(), lru()] }
    }

    /// The kept result for `re`; a hit makes it the most recently used.
    fn get(&mut self, go: bool, re: &str) -> Option<Result<regex::Regex, String>> {
        self.dialects[usize::from(go)].get(re).cloned()
    }

    fn keep(&mut self, go: bool, re: &str, done: Result<regex::Regex, String>) {
        // The cache drops its least recently used entry when full.
        self.dialects[usize::from(go)].insert(re.to_string(), done);
    }
}

fn compile_uncached(re: &str) -> Result<regex::Regex, String> {
    let translated = translate(re).map_err(|e| format!("error parsing regexp: {e}"))?;
    regex::Regex::new(&translated)
        .map_err(|e| format!("error parsing regexp: {}", go_message(re, &e.to_string())))
}

/// `regexp.MustCompile`'s panic, which the non-`must` functions of Sprig
/// raise on a bad expression: `regexp: Compile(`(`): error parsing regexp: ...`.
fn must_compile(re: &str) -> Result<regex::Regex, String> {
    compile(re).map_err(|e| {
        let quoted = if re.contains('`') || re.chars().any(|c| c.is_control() && c != '\t') {
            crate::gotmpl::fmt::quote(re)
        } else {
            format!("`{re}`")
        };
        format!("regexp: Compile({quoted}): {e}")
    })
}

/// Go's text for a syntax error that the regex crate found in the translated
/// expression `re`: the crate's error kind named as Go's `regexp/syntax`
/// names it, with the part of the expression Go quotes.
fn go_message(re: &str, crate_error: &str) -> String {
    let lines: Vec<&str> = crate_error.lines().collect();
    let kind = lines.last().and_then(|l| l.strip_prefix("error: ")).unwrap_or_default();
    // The crate underlines the offending part of the expression with carets.
    let span = match lines.iter().position(|l| l.trim_start().starts_with('^')) {
        Some(i) if i > 0 => {
            let carets = lines[i];
            let from = carets.len() - carets.trim_start().len();
            let to = carets.trim_end().len();
            lines[i - 1].get(from..to).unwrap_or_default().to_string()
        }
        _ => String::new(),
    };
    let from = |marker: &str| re.find(marker).map_or(re, |i| &re[i..]).to_string();
    match kind {
        "unclosed group" => format!("missing closing ): `{re}`"),
        "unopened group" => format!("unexpected ): `{re}`"),
        "unclosed character class" => format!("missing closing ]: `{}`", from("[")),
        "repetition operator missing expression" => {
            format!("missing argument to repetition operator: `{span}`")
        }
        k if k.contains("capture group name") => {
            let start = re.find("(?P<").or_else(|| re.find("(?<")).unwrap_or(0);
            format!("invalid named capture: `{}`", &re[start..])
        }
        k if k.contains("backreferences") || k.contains("unrecognized escape") => {
            format!("invalid escape sequence: `{span}`")
        }
        k if k.contains("Unicode property") || k.contains("Unicode class") => {
            format!("invalid character class range: `{span}`")
        }
        k if k.contains("repetition") || k.contains("decimal") => {
            format!("invalid repeat count: `{span}`")
        }
        _ => crate_error.replace('\n', " "),
    }
}

/// Go's `\d \D \w \W \s \S` as ASCII classes: (inside brackets, as a nested class).
fn perl_class(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "[0-9]",
        'D' => "[^0-9]",
        'w' => "[0-9A-Za-z_]",
        'W' => "[^0-9A-Za-z_]",
        's' => r"[\t\n\f\r ]",
        'S' => r"[^\t\n\f\r ]",
        _ => return None,
    })
}

/// A literal character in the crate's syntax, safe inside and outside brackets.
fn literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() || c == ' ' {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

/// The length of a valid Go repeat `{n}`, `{n,}` or `{n,m}` at the start of `rest`, with its bounds.
fn repeat_at(rest: &[char]) -> Option<(usize, u64, Option<u64>)> {
    let end = rest.iter().position(|&c| c == '}')?;
    let body: String = rest[1..end].iter().collect();
    let (lo, hi) = match body.split_once(',') {
        Some((lo, "")) => (lo, None),
        Some((lo, hi)) => (lo, Some(hi)),
        None => (body.as_str(), Some(body.as_str())),
    };
    // Go takes no leading zero, and any count too big to read is out of bounds.
    let num = |t: &str| {
        let digits = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        (digits && !(t.len() > 1 && t.starts_with('0'))).then(|| t.parse().unwrap_or(u64::MAX))
    };
    let lo = num(lo)?;
    let hi = match hi {
        Some(h) => Some(num(h)?),
        None => None,
    };
    Some((end + 1, lo, hi))
}

/// Rewrites a Go regular expression into the `regex` crate's syntax with the same meaning.
fn translate(re: &str) -> Result<String, String> {
    let cs: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len());
    let mut i = 0;
    // Where the last repeat operator began, while the next token would repeat it again.
    let mut last_repeat: Option<usize> = None;
    let mut lazy = false;
    let mut groups = 0;
    // Go's bound on nested counted repeats (`repeatIsValid`): along any
    // nesting the counts multiply to at most 1000. `size` is that product
    // inside the last atom, `widest` the largest inside each open group.
    let mut size: u64 = 1;
    let mut widest: Vec<u64> = vec![1];
    while i < cs.len() {
        let c = cs[i];
        let mut repeat = None;
        // The last atom is complete once something other than a repeat follows.
        let repeats = matches!(c, '*' | '+' | '?') || c == '{' && repeat_at(&cs[i..]).is_some();
        if let Some(top) = widest.last_mut().filter(|_| !repeats) {
            *top = (*top).max(size);
        }
        match c {
            '(' if let Some(begin) = named_group_at(&cs[i..]) => {
                i += named_group(&cs[i..], begin, groups, &mut out)?;
                groups += 1;
                widest.push(1);
                size = 1;
            }
            '(' if cs.get(i + 1) == Some(&'?') => {
                let len = perl_flags(&cs[i..])?;
                if cs[i + len - 1] == ':' {
                    widest.push(1);
                    size = 1;
                }
                // `(?)` sets no flag: the crate refuses it, Go reads nothing.
                if cs[i + len - 1] == ':' || len > 3 {
                    out.extend(&cs[i..i + len]);
                }
                i += len;
            }
            '(' => {
                widest.push(1);
                size = 1;
                out.push(c);
                i += 1;
            }
            ')' => {
                if widest.len() > 1 {
                    size = widest.pop().unwrap_or(1);
                }
                out.push(c);
                i += 1;
            }
            '\\' => {
                i = escape(&cs, i, false, &mut out)?;
                size = 1;
            }
            '[' => {
                i = class(&cs, i, &mut out)?;
                size = 1;
            }
            '*' | '+' | '?' => {
                if c == '?' && last_repeat.is_some() && !lazy {
                    lazy = true;
                    out.push('?');
                    i += 1;
                    continue;
                }
                repeat = Some(i);
                out.push(c);
                i += 1;
            }
            '{' => match repeat_at(&cs[i..]) {
                Some((len, lo, hi)) => {
                    if lo > 1000 || hi.is_some_and(|h| h > 1000 || h < lo) {
                        let text: String = cs[i..i + len].iter().collect();
                        return Err(format!("invalid repeat count: `{text}`"));
                    }
                    // A count of zero drops what it repeats; an unbounded
                    // one counts its minimum.
                    let count = hi.unwrap_or(lo);
                    let nested = match hi {
                        Some(0) => 1,
                        _ if count == 0 => size,
                        _ => count * size,
                    };
                    // Go reports a repeat of a repeat first.
                    if last_repeat.is_none()
                        && (lo >= 2 || hi.is_some_and(|h| h >= 2))
                        && nested > 1000
                    {
                        let text: String = cs[i..i + len].iter().collect();
                        return Err(format!("invalid repeat count: `{text}`"));
                    }
                    size = nested;
                    repeat = Some(i);
                    out.extend(&cs[i..i + len]);
                    i += len;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                    size = 1;
                }
            },
            '}' => {
                out.push_str("\\}");
                i += 1;
                size = 1;
            }
            _ => {
                out.push(c);
                i += 1;
                size = 1;
            }
        }
        if let (Some(start), Some(prev)) = (repeat, last_repeat) {
            let end = if cs[start] == '{' { repeat_at(&cs[start..]).map_or(1, |r| r.0) } else { 1 };
            let text: String = cs[prev..start + end].iter().collect();
            return Err(format!("invalid nested repetition operator: `{text}`"));
        }
        last_repeat = repeat;
        lazy = false;
    }
    Ok(out)
}

/// Where the name starts when `cs` starts a named group: `(?P<` with at
/// least one character after it, or Go 1.22's `(?<`.
fn named_group_at(cs: &[char]) -> Option<usize> {
    match cs {
        ['(', '?', 'P', '<', _, ..] => Some(4),
        ['(', '?', '<', _, ..] => Some(3),
        _ => None,
    }
}

/// Translates the named group that starts `cs`, whose name starts at
/// `begin`; returns how many characters it took. Go takes any name of ASCII
/// letters, digits and `_` (repeated names too); the crate gets the group
/// numbered `g<N>_<name>`, which [`go_name`] reads back.
fn named_group(cs: &[char], begin: usize, n: usize, out: &mut String) -> Result<usize, String> {
    let Some(end) = cs.iter().position(|&c| c == '>') else {
        return Err(format!("invalid named capture: `{}`", cs.iter().collect::<String>()));
    };
    let name: String = cs[begin..end].iter().collect();
    if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        return Err(format!("invalid named capture: `{}`", cs[..=end].iter().collect::<String>()));
    }
    out.push_str(&format!("(?P<g{n}_{name}>"));
    Ok(end + 1)
}

/// The Go name of a group that [`named_group`] renamed.
fn go_name(crate_name: &str) -> &str {
    crate_name.split_once('_').map_or(crate_name, |(_, name)| name)
}

/// Go's `Regexp.ReplaceAllString`: each match replaced by `template` with
/// `$1`, `${1}`, `$name` and `${name}` expanded as `Regexp.Expand` does (a
/// number has no leading zero, a name is the first group of that name that
/// took part in the match; `$$` is a `$`, a `$` that starts no reference
/// stays as it is).
fn replace_all(r: &regex::Regex, text: &str, template: &str) -> String {
    static NAME: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"^[\p{L}\p{Nd}_]+").expect("valid expression"));
    let names: Vec<Option<&str>> = r.capture_names().map(|n| n.map(go_name)).collect();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in r.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&text[last..whole.start()]);
        last = whole.end();
        let mut t = template;
        while let Some((before, after)) = t.split_once('$') {
            out.push_str(before);
            t = after;
            if let Some(rest) = t.strip_prefix('$') {
                out.push('$');
                t = rest;
                continue;
            }
            let (braced, body) = match t.strip_prefix('{') {
                Some(b) => (true, b),
                None => (false, t),
            };
            let Some(name) = NAME.find(body).map(|m| m.as_str()) else {
                out.push('$');
                continue;
            };
            let rest = &body[name.len()..];
            let rest = if braced {
                match rest.strip_prefix('}') {
                    Some(r) => r,
                    None => {
                        out.push('$');
                        continue;
                    }
                }
            } else {
                rest
            };
            t = rest;
            let number = (name.bytes().all(|b| b.is_ascii_digit())
                && !(name.starts_with('0') && name.len() > 1)
                && name.len() <= 9)
                .then(|| name.parse::<usize>().ok())
                .flatten();
            let group = match number {
                Some(n) => caps.get(n),
                None => {
                    (0..names.len()).filter(|&i| names[i] == Some(name)).find_map(|i| caps.get(i))
                }
            };
            if let Some(m) = group {
                out.push_str(m.as_str());
            }
        }
        out.push_str(t);
    }
    out.push_str(&text[last..]);
    out
}

/// Go's POSIX classes, which `[[:name:]]` and `[[:^name:]]` may name.
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// Translates the escape at `cs[i]` (a backslash); returns the index after it.
fn escape(cs: &[char], i: usize, in_class: bool, out: &mut String) -> Result<usize, String> {
    let Some(&c) = cs.get(i + 1) else {
        return Err("trailing backslash at end of expression: ``".into());
    };
    if let Some(class) = perl_class(c) {
        out.push_str(class);
        return Ok(i + 2);
    }
    match c {
        'b' | 'B' if !in_class => {
            out.push_str(if c == 'b' { r"(?-u:\b)" } else { r"(?-u:\B)" });
            Ok(i + 2)
        }
        'Q' if !in_class => {
            let mut j = i + 2;
            while j < cs.len() && !(cs[j] == '\\' && cs.get(j + 1) == Some(&'E')) {
                literal(out, cs[j]);
                j += 1;
            }
            Ok(if j < cs.len() { j + 2 } else { j })
        }
        'A' | 'z' if !in_class => {
            out.push('\\');
            out.push(c);
            Ok(i + 2)
        }
        'p' | 'P' => unicode_class(cs, i, out),
        _ => {
            let (code, end) = char_escape(cs, i)?;
            match char::from_u32(code) {
                Some(c) => literal(out, c),
                // A surrogate code point is a rune Go's text never holds: it matches nothing.
                None => out.push_str(r"[^\x00-\x{10FFFF}]"),
            }
            Ok(end)
        }
    }
}

/// The code point that the escape at `cs[i]` (a backslash) stands for when
/// it is a single character, as Go's `parseEscape` reads it, and the index
/// after it: octal, `\x`, `\a \f \n \r \t \v` or punctuation. Go refuses
/// any other escape there, `\u` and `\U` too (the crate reads them as code points).
fn char_escape(cs: &[char], i: usize) -> Result<(u32, usize), String> {
    let refused = |end: usize| {
        format!(
            "invalid escape sequence: `{}`",
            cs[i..end.min(cs.len())].iter().collect::<String>()
        )
    };
    let Some(&c) = cs.get(i + 1) else {
        return Err("trailing backslash at end of expression: ``".into());
    };
    let simple = match c {
        'a' => Some('\x07'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Some(c),
        _ => None,
    };
    if let Some(ch) = simple {
        return Ok((ch as u32, i + 2));
    }
    match c {
        'x' => {
            let (end, code) =
                hex_escape(cs, i + 2).ok_or_else(|| refused(hex_escape_end(cs, i + 2)))?;
            Ok((code, end))
        }
        '0'..='7' => {
            let mut j = i + 1;
            let mut code = 0u32;
            while j < cs.len() && j < i + 4 && ('0'..='7').contains(&cs[j]) {
                code = code * 8 + (cs[j] as u32 - '0' as u32);
                j += 1;
            }
            // `\0` takes up to two more octal digits, `\1`-`\7` at least one.
            if c != '0' && j == i + 2 {
                return Err(refused(j));
            }
            Ok((code, j))
        }
        _ => Err(refused(i + 2)),
    }
}

/// Translates Go's Unicode class `\pN`, `\p{Name}` or `\P...` at `cs[i]`,
/// where a name led by `^` negates the class; returns the index after it.
/// Go quotes the whole class it refuses, or the rest of the expression when
/// no `}` closes the name.
fn unicode_class(cs: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let rest = &cs[i..];
    let refused = |seq: &[char]| {
        format!("invalid character class range: `{}`", seq.iter().collect::<String>())
    };
    let (len, name) = match rest.get(2) {
        Some('{') => match rest.iter().position(|&d| d == '}') {
            Some(end) => (end + 1, rest[3..end].iter().collect::<String>()),
            None => return Err(refused(rest)),
        },
        Some(c) => (3, c.to_string()),
        None => return Err(refused(rest)),
    };
    let (negated, name) = match name.strip_prefix('^') {
        Some(name) => (true, name),
        None => (false, name.as_str()),
    };
    let letter = if (rest[1] == 'P') != negated { 'P' } else { 'p' };
    let class = format!("\\{letter}{{{name}}}");
    if !go_knows_class(name) {
        return Err(refused(&rest[..len]));
    }
    out.push_str(&class);
    Ok(i + len)
}

/// Whether Go's `regexp/syntax` knows the Unicode class `name`: a general
/// category or its long alias (`L`, `Letter`, `digit`), a script by its
/// long name (`Latin`, `Old_Italic`), `Any`, `ASCII` or `Assigned`, each
/// matched loosely (any case, spaces, `_` and `-` ignored). The regex crate
/// reads more: `name=value` pairs, binary properties (`Alphabetic`,
/// `White_Space`), the four-letter script codes (`Latn`, `Zyyy`), the
/// `Unknown` script and a leading `is`, all of which Go refuses.
fn go_knows_class(name: &str) -> bool {
    /// Scripts whose long name has four letters, so it looks like a code.
    const FOUR_LETTER_SCRIPTS: [&str; 9] =
        ["ahom", "cham", "kawi", "lisu", "miao", "modi", "newa", "thai", "toto"];
    let loose: String = name
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    let crate_knows = |key: &str| regex::Regex::new(&format!("\\p{{{key}={name}}}")).is_ok();
    let script = loose.len() != 4 || FOUR_LETTER_SCRIPTS.contains(&loose.as_str());
    !name.contains(['=', ':'])
        && !loose.starts_with("is")
        && (matches!(loose.as_str(), "any" | "ascii" | "assigned")
            || crate_knows("gc")
            || (script && loose != "unknown" && crate_knows("sc")))
}

/// Go's `\x` escape whose hex digits start at `cs[from]`: two digits, or
/// one or more in braces up to U+10FFFF. Returns the index after it and
/// the code point, or None where Go refuses it.
fn hex_escape(cs: &[char], from: usize) -> Option<(usize, u32)> {
    if cs.get(from) != Some(&'{') {
        let (hi, lo) = (cs.get(from)?.to_digit(16)?, cs.get(from + 1)?.to_digit(16)?);
        return Some((from + 2, hi * 16 + lo));
    }
    let mut code = 0u32;
    for (j, c) in cs.iter().enumerate().skip(from + 1) {
        if *c == '}' {
            return (j > from + 1).then_some((j + 1, code));
        }
        code = code * 16 + c.to_digit(16)?;
        if code > 0x10FFFF {
            return None;
        }
    }
    None
}

/// Where Go stops reading a `\x` escape it refuses (the end of the text
/// its error quotes).
fn hex_escape_end(cs: &[char], from: usize) -> usize {
    if cs.get(from) != Some(&'{') {
        // Go reads both characters before it checks them.
        return (from + 2).min(cs.len());
    }
    let mut code = 0u32;
    for (j, c) in cs.iter().enumerate().skip(from + 1) {
        match c.to_digit(16) {
            Some(d) if *c != '}' => {
                code = code.saturating_mul(16).saturating_add(d);
                if code > 0x10FFFF {
                    return j + 1;
                }
            }
            _ => return j + 1,
        }
    }
    cs.len()
}

/// Checks the flags of the non-capturing group or flag group at the start
/// of `cs` (`(?` ...) as Go's `parsePerlFlags` does: only `i`, `m`, `s` and
/// `U`, once negated with `-` (which must be followed by a flag), up to `:`
/// or `)`. Returns the length of `(?flags:` or `(?flags)`; Go's error
/// quotes the text up to the character it refused.
fn perl_flags(cs: &[char]) -> Result<usize, String> {
    let (mut negated, mut flag_seen) = (false, false);
    for (j, &c) in cs.iter().enumerate().skip(2) {
        match c {
            'i' | 'm' | 's' | 'U' => flag_seen = true,
            '-' if !negated => (negated, flag_seen) = (true, false),
            ':' | ')' if !negated || flag_seen => return Ok(j + 1),
            _ => {
                let text: String = cs[..=j].iter().collect();
                return Err(format!("invalid or unsupported Perl syntax: `{text}`"));
            }
        }
    }
    Err(format!("invalid or unsupported Perl syntax: `{}`", cs.iter().collect::<String>()))
}

/// Translates the bracket class starting at `cs[i]`; returns the index after it.
fn class(cs: &[char], mut i: usize, out: &mut String) -> Result<usize, String> {
    let start = i;
    out.push('[');
    i += 1;
    if cs.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    // The last item when it was a plain character, which a `-` may make
    // the low end of a range: Go refuses a backward range as it reads it,
    // before any later error.
    let mut low: Option<char> = None;
    while i < cs.len() {
        let c = cs[i];
        let was_low = low.take();
        match c {
            ']' if !first => {
                out.push(']');
                return Ok(i + 1);
            }
            '\\' => i = escape(cs, i, true, out)?,
            '[' if cs.get(i + 1) == Some(&':') => {
                let close =
                    (i + 2..cs.len().saturating_sub(1)).find(|&j| cs[j] == ':' && cs[j + 1] == ']');
                match close {
                    Some(j) => {
                        let name: String = cs[i + 2..j].iter().collect();
                        if !POSIX_CLASSES.contains(&name.strip_prefix('^').unwrap_or(&name)) {
                            let text: String = cs[i..j + 2].iter().collect();
                            return Err(format!("invalid character class range: `{text}`"));
                        }
                        out.extend(&cs[i..j + 2]);
                        i = j + 2;
                    }
                    None => {
                        literal(out, '[');
                        i += 1;
                    }
                }
            }
            '-' if let (Some(lo), Some(&next)) = (was_low, cs.get(i + 1))
                && !matches!(next, ']' | '[') =>
            {
                // Go reads the high end as one character, escaped or not.
                let (hi, end) = match next {
                    '\\' => {
                        let (code, end) = char_escape(cs, i + 1)?;
                        (char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER), end)
                    }
                    c => (c, i + 2),
                };
                if lo > hi {
                    let text: String = cs[i + 1..end].iter().collect();
                    return Err(format!("invalid character class range: `{lo}-{text}`"));
                }
                out.push('-');
                literal(out, hi);
                i = end;
            }
            '-' => {
                out.push('-');
                i += 1;
            }
            _ => {
                literal(out, c);
                low = Some(c);
                i += 1;
            }
        }
        first = false;
    }
    let text: String = cs[start..].iter().collect();
    Err(format!("missing closing ]: `{text}`"))
}

/// How a function compiles its expression: with `compile`'s error, or `must_compile`'s panic text.
type Compile = fn(&str) -> Result<regex::Regex, String>;

pub(super) fn register(f: &mut Funcs) {
    def(f, "regexMatch", &[Str, Str], None, |a| {
        Ok(compile(s(&a[0])).is_ok_and(|r| r.is_match(s(&a[1]))).into())
    });
    def(f, "mustRegexMatch", &[Str, Str], None, |a| {
        Ok(compile(s(&a[0]))?.is_match(s(&a[1])).into())
    });
    for (name, compile) in [("regexFind", must_compile as Compile), ("mustRegexFind", compile)] {
        def(f, name, &[Str, Str], None, move |a| {
            Ok(compile(s(&a[0]))?.find(s(&a[1])).map_or("", |m| m.as_str()).into())
        });
    }
    for (name, compile) in
        [("regexFindAll", must_compile as Compile), ("mustRegexFindAll", compile)]
    {
        def(f, name, &[Str, Str, Int], None, move |a| {
            let r = compile(s(&a[0]))?;
            let n = i(&a[2]);
            let limit = if n < 0 { usize::MAX } else { n as usize };
            let found: Vec<String> =
                r.find_iter(s(&a[1])).take(limit).map(|m| m.as_str().to_string()).collect();
            // Go's `FindAllString` answers nil when nothing matches.
            if found.is_empty() {
                return Ok(Value::List(List::nil(Elem::String)));
            }
            // Go's regexp makes the result with room for 10 matches and
            // appends the rest.
            let cap = growth::appended_cap_from(10, found.len(), Elem::String);
            let found = found.into_iter().map(Value::from).collect();
            Ok(Value::List(List::with_cap(Elem::String, found, cap)))
        });
    }
    for (name, compile) in
        [("regexReplaceAll", must_compile as Compile), ("mustRegexReplaceAll", compile)]
    {
        def(f, name, &[Str, Str, Str], None, move |a| {
            Ok(replace_all(&compile(s(&a[0]))?, s(&a[1]), s(&a[2])).into())
        });
    }
    for (name, compile) in [
        ("regexReplaceAllLiteral", must_compile as Compile),
        ("mustRegexReplaceAllLiteral", compile),
    ] {
        def(f, name, &[Str, Str, Str], None, move |a| {
            Ok(compile(s(&a[0]))?
                .replace_all(s(&a[1]), regex::NoExpand(s(&a[2])))
                .into_owned()
                .into())
        });
    }
    for (name, compile) in [("regexSplit", must_compile as Compile), ("mustRegexSplit", compile)] {
        def(f, name, &[Str, Str, Int], None, move |a| {
            Ok(split(&compile(s(&a[0]))?, s(&a[1]), i(&a[2])))
        });
    }
    def(f, "regexQuoteMeta", &[Str], None, |a| {
        // Go's `regexp.QuoteMeta` escapes exactly these.
        let mut out = String::new();
        for c in s(&a[0]).chars() {
            if r"\.+*?()|[]{}^$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        Ok(out.into())
    });
}

/// Go's `Regexp.Split`.
fn split(r: &regex::Regex, text: &str, n: i64) -> Value {
    if n == 0 {
        // Go's `Split` answers a nil slice.
        return Value::List(List::nil(Elem::String));
    }
    if !r.as_str().is_empty() && text.is_empty() {
        return str_list(vec![String::new()]);
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let matches: Vec<regex::Match> = r.find_iter(text).take(limit).collect();
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in &matches {
        if n > 0 && parts.len() == limit - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(text[beg..end].to_string());
        }
        beg = m.end();
    }
    if end != text.len() {
        parts.push(text[beg..].to_string());
    }
    // Go makes the result with room for one part a match, and the part after
    // the last match may need one more.
    let cap = growth::appended_cap_from(matches.len(), parts.len(), Elem::String);
    let parts = parts.into_iter().map(Value::from).collect();
    Value::List(List::with_cap(Elem::String, parts, cap))
}

#[cfg(test)]
mod tests {
    /// The kept expressions are kept per dialect: Go's `\d` is ASCII only,
    /// the crate's is every decimal digit, whichever compiled first.
    #[test]
    fn kept_expressions_keep_their_dialect() {
        let arabic_three = "\u{663}";
        for _ in 0..2 {
            assert!(!super::compile(r"^\d$").unwrap().is_match(arabic_three));
            assert!(super::compile_native(r"^\d$").unwrap().is_match(arabic_three));
        }
        // An error is kept as the error, for the pattern that made it.
        assert!(super::compile("a**").is_err());
        assert!(super::compile("a*").is_ok());
    }

    /// The least recently used expression is dropped first: a hit
    /// refreshes it, and each dialect keeps at most its bound.
    #[test]
    fn kept_expressions_drop_the_least_recently_used() {
        let mut kept = super::Compiled::new(2);
        let compiled = |re: &str| super::compile_uncached(re);
        kept.keep(true, "a", compiled("a"));
        kept.keep(true, "b", compiled("b"));
        kept.keep(false, "c", compiled("c"));
        assert!(kept.get(true, "a").is_some());
        kept.keep(true, "d", compiled("d"));
        assert!(kept.get(true, "b").is_none(), "b was the least recently used");
        assert!(kept.get(true, "a").is_some() && kept.get(true, "d").is_some());
        assert!(kept.get(false, "c").is_some() && kept.get(false, "a").is_none());
        for n in 0..10 {
            kept.keep(true, &n.to_string(), compiled("x"));
            assert!(kept.dialects.iter().all(|d| d.len() <= 2));
        }
    }
}
