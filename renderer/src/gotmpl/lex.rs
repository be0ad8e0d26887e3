//! The lexer: splits template text into text runs and the tokens inside `{{ }}` actions.
//!
//! It follows the token rules of Go's `text/template/parse` lexer: trim
//! markers (`{{- ` and ` -}}`), comments that must fill a whole action,
//! quoted, raw and character constants, numbers in Go syntax, `$variables`
//! and `.Field` names.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain text outside actions.
    Text,
    /// `{{` (after any trim marker).
    LeftDelim,
    /// `}}` (with any trim marker).
    RightDelim,
    /// Spaces, tabs and newlines inside an action.
    Space,
    /// `=`.
    Assign,
    /// `:=`.
    Declare,
    /// `|`.
    Pipe,
    /// `(`.
    LeftParen,
    /// `)`.
    RightParen,
    /// A double-quoted string, quotes included.
    String,
    /// A back-quoted raw string, quotes included.
    RawString,
    /// A character constant such as `'a'`, quotes included.
    CharConstant,
    /// A number in Go syntax.
    Number,
    /// `true` or `false`.
    Bool,
    /// `nil`.
    Nil,
    /// `.` alone.
    Dot,
    /// `.Name`.
    Field,
    /// `$` or `$name`.
    Variable,
    /// A function name.
    Identifier,
    /// Any other printable ASCII character, such as `,`.
    Char,
    /// A lexical error; its text is the message. It is the last token.
    Error,
    /// A keyword: `block`, `break`, `continue`, `define`, `else`, `end`, `if`, `range`, `template`, `with`.
    Keyword,
    /// The end of the input.
    Eof,
}

/// One token: its kind, its text and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// What it is.
    pub kind: Kind,
    /// Its text (for `Text`, after trimming).
    pub text: String,
    /// Byte offset of its start in the template text.
    pub pos: usize,
}

/// A lexical error, with the byte offset where it was found.
#[derive(Debug, Clone)]
pub(crate) struct LexError {
    /// What is wrong, as Go words it.
    pub message: String,
    /// Byte offset in the template text.
    pub pos: usize,
    /// Whether `pos` is where Go reports the error even before the end of
    /// the last token: a comment makes no token, and Go reports its errors
    /// at the comment's start (after the delimiter and trim marker, so past
    /// any text that the marker trimmed).
    pub exact: bool,
}

const KEYWORDS: &[&str] =
    &["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"];

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits `text` into tokens; the last one is `Eof`, or `Error` where the text
/// stops making sense. The parser reports an error token only when it reaches
/// it, as Go's parser does with its concurrent lexer.
pub(crate) fn lex(text: &str) -> Vec<Token> {
    let mut lexer = Lexer { src: text, pos: 0, tokens: Vec::new(), paren_depth: 0 };
    if let Err(e) = lexer.run() {
        // Go reports the error where the token being read started.
        let last_end = lexer.tokens.last().map_or(0, |t| t.pos + t.text.len());
        let pos = if e.exact { e.pos } else { last_end.min(e.pos) };
        lexer.tokens.push(Token { kind: Kind::Error, text: e.message, pos });
    }
    lexer.tokens
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    paren_depth: i32,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError { message: message.into(), pos: self.pos, exact: false })
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize) {
        self.tokens.push(Token { kind, text: self.src[start..end].to_string(), pos: start });
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn run(&mut self) -> Result<(), LexError> {
        // Whether the previous action ended with a right trim marker.
        let mut trim_next = false;
        loop {
            if trim_next {
                let skipped = self.rest().len() - self.rest().trim_start_matches(is_space_ch).len();
                self.pos += skipped;
            }
            let text_start = self.pos;
            match self.rest().find("{{") {
                None => {
                    let end = self.src.len();
                    if end > text_start {
                        self.push(Kind::Text, text_start, end);
                    }
                    self.pos = end;
                    self.tokens.push(Token { kind: Kind::Eof, text: String::new(), pos: end });
                    return Ok(());
                }
                Some(off) => {
                    let delim = text_start + off;
                    let after = &self.src[delim + 2..];
                    let left_trim = after.len() >= 2
                        && after.as_bytes()[0] == b'-'
                        && is_space(after.as_bytes()[1]);
                    let mut text_end = delim;
                    if left_trim {
                        text_end = text_start
                            + self.src[text_start..delim].trim_end_matches(is_space_ch).len();
                    }
                    if text_end > text_start {
                        self.push(Kind::Text, text_start, text_end);
                    }
                    self.pos = delim + 2 + if left_trim { 2 } else { 0 };
                    trim_next = self.lex_action(delim)?;
                }
            }
        }
    }

    /// Lexes one action from after its left delimiter (and trim marker) through
    /// its right delimiter; returns whether the right delimiter trims.
    fn lex_action(&mut self, delim: usize) -> Result<bool, LexError> {
        if self.rest().starts_with("/*") {
            return self.lex_comment();
        }
        self.tokens.push(Token { kind: Kind::LeftDelim, text: "{{".into(), pos: delim });
        self.paren_depth = 0;
        loop {
            if let Some(trim) = self.at_right_delim() {
                if self.paren_depth != 0 {
                    return self.err("unclosed left paren");
                }
                let start = self.pos;
                self.pos += if trim { 4 } else { 2 };
                self.tokens.push(Token { kind: Kind::RightDelim, text: "}}".into(), pos: start });
                return Ok(trim);
            }
            let start = self.pos;
            let Some(c) = self.peek_char() else {
                return self.err("unclosed action");
            };
            let b = c as u32;
            if b < 128 && is_space(b as u8) {
                self.lex_space();
                continue;
            }
            match c {
                '=' => {
                    self.pos += 1;
                    self.push(Kind::Assign, start, self.pos);
                }
                ':' => {
                    if !self.rest().starts_with(":=") {
                        self.pos += 1;
                        return self.err("expected :=");
                    }
                    self.pos += 2;
                    self.push(Kind::Declare, start, self.pos);
                }
                '|' => {
                    self.pos += 1;
                    self.push(Kind::Pipe, start, self.pos);
                }
                '"' => self.lex_quote()?,
                '`' => self.lex_raw_quote()?,
                '\'' => self.lex_char()?,
                '$' => {
                    self.pos += 1;
                    self.lex_field_or_variable(Kind::Variable, start)?;
                }
                '.' => {
                    let next = self.src.as_bytes().get(self.pos + 1).copied();
                    if matches!(next, Some(b'0'..=b'9')) {
                        self.lex_number()?;
                    } else {
                        self.pos += 1;
                        self.lex_field_or_variable(Kind::Field, start)?;
                    }
                }
                '+' | '-' | '0'..='9' => self.lex_number()?,
                '(' => {
                    self.pos += 1;
                    self.push(Kind::LeftParen, start, self.pos);
                    self.paren_depth += 1;
                }
                ')' => {
                    self.pos += 1;
                    self.push(Kind::RightParen, start, self.pos);
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.err("unexpected right paren U+0029 ')'");
                    }
                }
                c if is_alnum(c) => self.lex_identifier()?,
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.pos += 1;
                    self.push(Kind::Char, start, self.pos);
                }
                c => {
                    return self.err(format!(
                        "unrecognized character in action: U+{:04X}{}",
                        c as u32,
                        quote_rune(c)
                    ));
                }
            }
        }
    }

    /// At a right delimiter: `Some(true)` with a trim marker, `Some(false)` without.
    fn at_right_delim(&self) -> Option<bool> {
        let r = self.rest().as_bytes();
        if r.len() >= 4 && is_space(r[0]) && r[1] == b'-' && &r[2..4] == b"}}" {
            return Some(true);
        }
        if r.starts_with(b"}}") {
            return Some(false);
        }
        None
    }

    fn lex_space(&mut self) {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut end = start;
        while end < bytes.len() && is_space(bytes[end]) {
            end += 1;
        }
        // A trim-marked right delimiter starts with a space: leave that space to it.
        let last = end - 1;
        if bytes.len() >= last + 4 && bytes[last + 1] == b'-' && &bytes[last + 2..last + 4] == b"}}"
        {
            end = last;
        }
        self.pos = end;
        if end > start {
            self.push(Kind::Space, start, end);
        }
    }

    fn lex_comment(&mut self) -> Result<bool, LexError> {
        let start = self.pos;
        let err =
            |message: &str| Err(LexError { message: message.into(), pos: start, exact: true });
        // The closing `*/` is looked for after the opening `/*`, so `/*/` is not a comment.
        let Some(close) = self.rest().get(2..).and_then(|r| r.find("*/")) else {
            return err("unclosed comment");
        };
        self.pos += close + 4;
        match self.at_right_delim() {
            Some(trim) => {
                self.pos += if trim { 4 } else { 2 };
                Ok(trim)
            }
            None => err("comment ends before closing delimiter"),
        }
    }

    fn lex_quote(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let mut chars = self.src[start + 1..].char_indices();
        loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\n')) | None => {
                        return self.err("unterminated quoted string");
                    }
                    Some(_) => {}
                },
                Some((_, '\n')) | None => return self.err("unterminated quoted string"),
                Some((i, '"')) => {
                    self.pos = start + 1 + i + 1;
                    self.push(Kind::String, start, self.pos);
                    return Ok(());
                }
                Some(_) => {}
            }
        }
    }

    fn lex_raw_quote(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        match self.src[start + 1..].find('`') {
            Some(i) => {
                self.pos = start + 1 + i + 1;
                self.push(Kind::RawString, start, self.pos);
                Ok(())
            }
            None => self.err("unterminated raw quoted string"),
        }
    }

    fn lex_char(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let mut chars = self.src[start + 1..].char_indices();
        loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\n')) | None => return self.err("unterminated character constant"),
                    Some(_) => {}
                },
                Some((_, '\n')) | None => return self.err("unterminated character constant"),
                Some((i, '\'')) => {
                    self.pos = start + 1 + i + 1;
                    self.push(Kind::CharConstant, start, self.pos);
                    return Ok(());
                }
                Some(_) => {}
            }
        }
    }

    /// Whether the input at the current position ends an operand.
    fn at_terminator(&self) -> bool {
        match self.peek_char() {
            None => true,
            Some(c) => {
                (c.is_ascii() && is_space(c as u8))
                    || matches!(c, '.' | ',' | '|' | ':' | ')' | '(')
                    || self.rest().starts_with("}}")
            }
        }
    }

    fn take_alnum(&mut self) {
        let len = self.rest().len() - self.rest().trim_start_matches(is_alnum).len();
        self.pos += len;
    }

    fn lex_field_or_variable(&mut self, kind: Kind, start: usize) -> Result<(), LexError> {
        if self.at_terminator() {
            let kind = if kind == Kind::Field { Kind::Dot } else { Kind::Variable };
            self.push(kind, start, self.pos);
            return Ok(());
        }
        self.take_alnum();
        if !self.at_terminator() {
            return self.bad_char();
        }
        self.push(kind, start, self.pos);
        Ok(())
    }

    fn bad_char<T>(&self) -> Result<T, LexError> {
        let c = self.peek_char().unwrap_or('\0');
        self.err(format!("bad character U+{:04X}{}", c as u32, quote_rune(c)))
    }

    fn lex_identifier(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        self.take_alnum();
        if !self.at_terminator() {
            return self.bad_char();
        }
        let word = &self.src[start..self.pos];
        let kind = if KEYWORDS.contains(&word) {
            Kind::Keyword
        } else if word == "true" || word == "false" {
            Kind::Bool
        } else if word == "nil" {
            Kind::Nil
        } else {
            Kind::Identifier
        };
        self.push(kind, start, self.pos);
        Ok(())
    }

    fn lex_number(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let bad = |this: &Self, end: usize| {
            this.err(format!("bad number syntax: {}", super::fmt::quote(&this.src[start..end])))
        };
        let (end, ok) = self.scan_number(start);
        if !ok {
            return bad(self, end);
        }
        // A sign right after a number starts the imaginary part of a complex
        // constant such as `1+2i`, which must end in `i`.
        if matches!(self.src.as_bytes().get(end), Some(b'+' | b'-')) {
            let (end, ok) = self.scan_number(end);
            if !ok || !self.src[..end].ends_with('i') {
                return bad(self, end);
            }
            self.pos = end;
        } else {
            self.pos = end;
        }
        self.push(Kind::Number, start, self.pos);
        Ok(())
    }

    /// Go's `scanNumber` from `start`: the end of the number and whether no
    /// letter or digit follows it (when one does, the end includes it).
    fn scan_number(&self, start: usize) -> (usize, bool) {
        let b = self.src.as_bytes();
        let mut i = start;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let mut digits: &[u8] = b"0123456789_";
        if i < b.len() && b[i] == b'0' {
            i += 1;
            match b.get(i).map(u8::to_ascii_lowercase) {
                Some(b'x') => {
                    i += 1;
                    digits = b"0123456789abcdefABCDEF_";
                }
                Some(b'o') => {
                    i += 1;
                    digits = b"01234567_";
                }
                Some(b'b') => {
                    i += 1;
                    digits = b"01_";
                }
                _ => {}
            }
        }
        let hex = digits.len() > 12;
        let run = |i: &mut usize, set: &[u8]| {
            while *i < b.len() && set.contains(&b[*i]) {
                *i += 1;
            }
        };
        run(&mut i, digits);
        if i < b.len() && b[i] == b'.' {
            i += 1;
            run(&mut i, digits);
        }
        let exponent = if digits.len() == 11 {
            b"eE"
        } else if hex {
            b"pP"
        } else {
            b"\0\0"
        };
        if i < b.len() && exponent.contains(&b[i]) {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            run(&mut i, b"0123456789_");
        }
        if i < b.len() && b[i] == b'i' {
            i += 1;
        }
        match self.src[i..].chars().next() {
            Some(c) if is_alnum(c) => (i + c.len_utf8(), false),
            _ => (i, true),
        }
    }
}

fn is_space_ch(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A rune quoted as Go's `%#U` shows it after the code point.
fn quote_rune(c: char) -> String {
    if c.is_control() { String::new() } else { format!(" '{c}'") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, std::string::String)> {
        lex(text).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn tokens() {
        use Kind::*;
        let cases: &[(&str, &[(Kind, &str)])] = &[
            (
                "a {{- .x -}} b",
                &[(Text, "a"), (LeftDelim, "{{"), (Field, ".x"), (RightDelim, "}}"), (Text, "b")],
            ),
            (
                "{{$x := 1}}",
                &[
                    (LeftDelim, "{{"),
                    (Variable, "$x"),
                    (Space, " "),
                    (Declare, ":="),
                    (Space, " "),
                    (Number, "1"),
                    (RightDelim, "}}"),
                ],
            ),
            ("{{/* c */}}x", &[(Text, "x")]),
            ("{{-3}}", &[(LeftDelim, "{{"), (Number, "-3"), (RightDelim, "}}")]),
            (
                "{{ . }}",
                &[(LeftDelim, "{{"), (Space, " "), (Dot, "."), (Space, " "), (RightDelim, "}}")],
            ),
            (
                "{{(.a).b}}",
                &[
                    (LeftDelim, "{{"),
                    (LeftParen, "("),
                    (Field, ".a"),
                    (RightParen, ")"),
                    (Field, ".b"),
                    (RightDelim, "}}"),
                ],
            ),
            (
                "{{ if true }}",
                &[
                    (LeftDelim, "{{"),
                    (Space, " "),
                    (Keyword, "if"),
                    (Space, " "),
                    (Bool, "true"),
                    (Space, " "),
                    (RightDelim, "}}"),
                ],
            ),
            (
                "{{ 0x1F 1e3 'a' `r` \"s\\\"\" }}",
                &[
                    (LeftDelim, "{{"),
                    (Space, " "),
                    (Number, "0x1F"),
                    (Space, " "),
                    (Number, "1e3"),
                    (Space, " "),
                    (CharConstant, "'a'"),
                    (Space, " "),
                    (RawString, "`r`"),
                    (Space, " "),
                    (String, "\"s\\\"\""),
                    (Space, " "),
                    (RightDelim, "}}"),
                ],
            ),
        ];
        for (text, want) in cases {
            let mut got = kinds(text);
            assert_eq!(got.pop().map(|t| t.0), Some(Eof), "{text}");
            let want: Vec<(Kind, std::string::String)> =
                want.iter().map(|(k, s)| (*k, s.to_string())).collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn errors() {
        let cases = [
            ("{{ \"abc }}", "unterminated quoted string"),
            ("{{/* x */ y}}", "comment ends before closing delimiter"),
            ("{{ .a", "unclosed action"),
            ("{{ (.a }}", "unclosed left paren"),
            ("{{ 3x }}", "bad number syntax: \"3x\""),
            ("{{ a:b }}", "expected :="),
        ];
        for (text, want) in cases {
            let last = lex(text).pop().filter(|t| t.kind == Kind::Error).map(|t| t.text);
            assert_eq!(last.as_deref(), Some(want), "{text}");
        }
    }
}
