//! Sprig's snakecase, kebabcase and camelcase: xstrings' (v1.5.0, which Helm 4 pins) case conversions.
//!
//! A text splits into words of one kind each (connectors `-`, `_` and
//! spaces; punctuation; an upper-case run or a capitalised word; a
//! lower-case word; digits; anything else). Words are written in lower case
//! and joined with the connector, except where digits belong to the word
//! before them (`Bld4Floor` is `bld4_floor`) or start a new one (`HTTP2xx`
//! is `http_2xx`).

use std::sync::LazyLock;

use regex::Regex;

use super::{def, s};
use crate::gotmpl::{Funcs, Param};

pub(super) fn register(f: &mut Funcs) {
    // A character of the carriers' own range stands apart from the bytes
    // that are not UTF-8, which xstrings reads its own way.
    use super::with_real_chars_apart as apart;
    def(f, "snakecase", &[Param::String], None, |a| {
        Ok(apart(s(&a[0]), |t| lower_words(t, '_')).into())
    });
    def(f, "kebabcase", &[Param::String], None, |a| {
        Ok(apart(s(&a[0]), |t| lower_words(t, '-')).into())
    });
    // Sprig 3.3 maps `camelcase` to xstrings' `ToPascalCase`: the first
    // letter is upper case too.
    def(f, "camelcase", &[Param::String], None, |a| Ok(apart(s(&a[0]), pascal_case).into()));
}

/// xstrings' `ToPascalCase`. Connectors (`-`, `_`, spaces) are dropped and
/// the letter after each, like the first letter, is upper-cased. Leading
/// connectors stay, and so does every connector of a run but the last, and
/// a trailing one. A word that starts upper case has its following upper-case
/// letters lowered until its first lower-case letter (`HTTPServer` is
/// `Httpserver`, `FooBar` stays). A text of connectors only is unchanged.
fn pascal_case(text: &str) -> String {
    // Go decodes the text rune by rune: a byte that is not UTF-8 is a U+FFFD.
    let decoded: String;
    let text = if text.chars().any(super::is_raw_byte) {
        decoded =
            text.chars().map(|c| if super::is_raw_byte(c) { '\u{FFFD}' } else { c }).collect();
        decoded.as_str()
    } else {
        text
    };
    let lead = text.len() - text.trim_start_matches(is_connector).len();
    let (head, body) = text.split_at(lead);
    let mut out = String::with_capacity(text.len());
    out.push_str(head);
    let mut chars = body.chars();
    let Some(first) = chars.next() else { return out };
    // Whether the current word began with an upper-case letter and has had
    // no lower-case letter since.
    let mut upper_run = is_upper(first);
    let mut prev = super::go_upper(first);
    for c in chars {
        let next = if is_connector(prev) {
            if !is_connector(c) {
                // The connector before a word is dropped.
                upper_run = is_upper(c);
                prev = super::go_upper(c);
                continue;
            }
            c
        } else if upper_run && is_upper(c) {
            super::go_lower(c)
        } else {
            upper_run = false;
            c
        };
        out.push(prev);
        prev = next;
    }
    out.push(prev);
    out
}

/// Go's `unicode.IsUpper`, `IsLetter`, `IsNumber` and `IsPunct`, which
/// follow the general categories Lu, L, N and P.
fn category(c: char, re: &'static LazyLock<Regex>, ascii: fn(&char) -> bool) -> bool {
    if c.is_ascii() { ascii(&c) } else { re.is_match(c.encode_utf8(&mut [0; 4])) }
}

static UPPER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{Lu}$").expect("valid class"));
static LETTER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{L}$").expect("valid class"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{N}$").expect("valid class"));
static PUNCT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\p{P}$").expect("valid class"));

fn is_upper(c: char) -> bool {
    category(c, &UPPER, char::is_ascii_uppercase)
}

fn is_number(c: char) -> bool {
    category(c, &NUMBER, char::is_ascii_digit)
}

fn is_punct(c: char) -> bool {
    // ASCII punctuation in Unicode's sense: `$+<=>^`|~` are symbols.
    category(c, &PUNCT, |c| c.is_ascii_punctuation() && !"$+<=>^`|~".contains(*c))
}

/// A letter that is not a CJK ideograph.
fn is_alphabet(c: char) -> bool {
    category(c, &LETTER, char::is_ascii_alphabetic)
        && !matches!(c, '\u{4E00}'..='\u{9FCC}' | '\u{3400}'..='\u{4D85}' | '\u{20000}'..='\u{2B81D}')
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || super::strings::is_go_space(c)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// No word: the text is used up.
    End,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// The characters of `text` as xstrings reads them, each with the byte
/// where it starts: a byte that is not UTF-8 (see `from_go_bytes`) belongs
/// to the next character that is, and bytes after the last such character
/// repeat it (its `nextValidRune`). `None` when no character is UTF-8.
fn units(text: &str) -> Option<Vec<(usize, char)>> {
    let mut out = Vec::with_capacity(text.len());
    let mut raw_start = None;
    for (at, c) in text.char_indices() {
        if super::is_raw_byte(c) {
            raw_start.get_or_insert(at);
        } else {
            out.push((raw_start.take().unwrap_or(at), c));
        }
    }
    let last = out.last()?.1;
    if let Some(at) = raw_start {
        out.push((at, last));
    }
    Some(out)
}

/// The first word of the characters `units` of `text`, its kind and the
/// characters after it.
fn next_word<'a, 'u>(
    text: &'a str,
    units: &'u [(usize, char)],
) -> (Kind, &'a str, &'u [(usize, char)]) {
    let Some(&(start, first)) = units.first() else { return (Kind::End, "", units) };
    let run = |from: usize, keep: &dyn Fn(char) -> bool| {
        (from..units.len()).find(|&i| !keep(units[i].1)).unwrap_or(units.len())
    };
    let (kind, end) = if is_connector(first) {
        (Kind::Connector, run(1, &is_connector))
    } else if is_punct(first) {
        (Kind::Punct, run(1, &is_punct))
    } else if is_upper(first) {
        match units.get(1).map(|u| u.1) {
            Some(c) if is_upper(c) => {
                // An upper-case run; its last letter starts the next word
                // when a letter follows ("HTTPStatus" is "HTTP", "Status").
                let after = run(1, &is_upper);
                match units.get(after) {
                    Some(&(_, c)) if is_alphabet(c) => (Kind::Upper, after - 1),
                    _ => (Kind::Upper, after),
                }
            }
            Some(c) if is_alphabet(c) => (Kind::Upper, run(1, &|c| is_alphabet(c) && !is_upper(c))),
            Some(_) => (Kind::Upper, 1),
            None => (Kind::Upper, units.len()),
        }
    } else if is_alphabet(first) {
        (Kind::Alphabet, run(1, &|c| is_alphabet(c) && !is_upper(c)))
    } else if is_number(first) {
        (Kind::Number, run(1, &is_number))
    } else {
        let other = |c: char| !(is_connector(c) || is_alphabet(c) || is_number(c) || is_punct(c));
        (Kind::Other, run(1, &other))
    };
    let stop = units.get(end).map_or(text.len(), |u| u.0);
    (kind, &text[start..stop], &units[end..])
}

/// Writes a word: upper-case and connector words lower-cased with their
/// connectors replaced, the others as they are.
fn write_lower(out: &mut String, kind: Kind, word: &str, connector: char) {
    if kind != Kind::Upper && kind != Kind::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        // Go decodes the word rune by rune: a byte that is not UTF-8 is
        // written as U+FFFD.
        if super::is_raw_byte(c) {
            out.push('\u{FFFD}');
        } else if is_connector(c) {
            out.push(connector);
        } else if is_upper(c) {
            out.push(super::go_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `camelCaseToLowerCase`.
fn lower_words(text: &str, connector: char) -> String {
    // A text without a UTF-8 character is one word, written as it is.
    let Some(units) = units(text) else { return text.to_string() };
    let next_word = |rest| next_word(text, rest);
    let mut out = String::with_capacity(text.len() + 4);
    let (mut kind, mut word, mut rest) = next_word(&units);
    let joins = |k: Kind| !matches!(k, Kind::End | Kind::Connector | Kind::Punct);
    while !rest.is_empty() {
        if kind != Kind::Connector {
            write_lower(&mut out, kind, word, connector);
        }
        let (prev, last) = (kind, word);
        (kind, word, rest) = next_word(rest);
        match prev {
            Kind::Number => {
                while matches!(kind, Kind::Alphabet | Kind::Number) {
                    write_lower(&mut out, kind, word, connector);
                    (kind, word, rest) = next_word(rest);
                }
                if joins(kind) {
                    out.push(connector);
                }
            }
            Kind::Connector => write_lower(&mut out, prev, last, connector),
            Kind::Punct => {}
            _ => {
                if kind != Kind::Number {
                    if kind != Kind::Connector && kind != Kind::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let digits = word;
                (kind, word, rest) = next_word(rest);
                if kind != Kind::Alphabet {
                    // The digits end the word before them.
                    write_lower(&mut out, Kind::Number, digits, connector);
                    if kind != Kind::Connector && kind != Kind::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                // Letters after the digits: the digits start a new word.
                out.push(connector);
                write_lower(&mut out, Kind::Number, digits, connector);
                while matches!(kind, Kind::Alphabet | Kind::Number) {
                    write_lower(&mut out, kind, word, connector);
                    (kind, word, rest) = next_word(rest);
                }
                if joins(kind) {
                    out.push(connector);
                }
            }
        }
    }
    write_lower(&mut out, kind, word, connector);
    out
}

#[cfg(test)]
mod tests {
    use super::{lower_words, pascal_case};

    #[test]
    fn splits_like_xstrings() {
        for (text, want) in [
            ("FirstName", "first_name"),
            ("HTTPServer", "http_server"),
            ("NoHTTPS", "no_https"),
            ("GO_PATH", "go_path"),
            ("GO PATH", "go_path"),
            ("GO-PATH", "go_path"),
            ("http2xx", "http_2xx"),
            ("HTTP20xOK", "http_20x_ok"),
            ("Duration2m3s", "duration_2m3s"),
            ("Bld4Floor3rd", "bld4_floor_3rd"),
            ("", ""),
        ] {
            assert_eq!(lower_words(text, '_'), want, "{text}");
        }
    }

    /// Checked against real Helm 4 (helm-template oracle, case camelcase-default).
    #[test]
    fn camelcase_like_helm4() {
        for (text, want) in [
            ("http_server", "HttpServer"),
            ("_complex__case_", "_Complex_Case_"),
            ("HTTPServer", "Httpserver"),
            ("FooBar", "FooBar"),
            ("ABc_dEF", "AbcDEF"),
            ("aB", "AB"),
            ("AB", "Ab"),
            ("__", "__"),
            ("-_-", "-_-"),
            ("trailing  ", "Trailing  "),
            ("a__b", "A_B"),
            ("", ""),
        ] {
            assert_eq!(pascal_case(text), want, "{text}");
        }
    }
}
