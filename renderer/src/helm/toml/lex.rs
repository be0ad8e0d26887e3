//! The token stream of BurntSushi/toml's lexer (TOML 1.1 enabled), with its error texts and line numbers.
//!
//! BurntSushi's lexer is a state machine whose states share one stack; the
//! wording and the line of an error depend on which state meets the bad
//! input, so this lexer keeps the same states. It stops at the first error:
//! the parser reads tokens in order and never looks past an error.

use crate::gotmpl::fmt::{quote, quote_char};

/// What the lexer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    Eof,
    /// A bare key part.
    Text,
    /// A basic string (`"..."`), its text between the quotes.
    Str,
    RawStr,
    MultiStr,
    RawMultiStr,
    Bool,
    Int,
    Float,
    Datetime,
    Array,
    ArrayEnd,
    TableStart,
    TableEnd,
    ArrayTableStart,
    ArrayTableEnd,
    KeyStart,
    KeyEnd,
    InlineStart,
    InlineEnd,
    Error,
}

/// A token: its kind, its text (the message for [`Tok::Error`]) and its line.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub tok: Tok,
    pub val: String,
    pub line: usize,
}

/// Stands for the end of input, as Go's lexer uses rune 0.
const EOF: char = '\0';
/// What `next` returns after reporting a control character.
const BAD: char = '\u{fffd}';

#[derive(Debug, Clone, Copy)]
enum State {
    Top,
    TopEnd,
    TableStart,
    TableEnd,
    ArrayTableEnd,
    TableNameStart,
    TableNameEnd,
    BareName,
    QuotedName,
    KeyStart,
    KeyNameStart,
    KeyEnd,
    Value,
    ArrayValue,
    ArrayValueEnd,
    ArrayEnd,
    InlineValue,
    InlineValueEnd,
    InlineEnd,
    String,
    MultiString,
    RawString,
    RawMultiString,
    MultiStringEscape,
    StringEscape,
    NumberOrDateStart,
    NumberOrDate,
    Datetime,
    HexInteger,
    OctalInteger,
    BinaryInteger,
    DecimalNumber,
    DecimalNumberStart,
    BaseNumberOrDate,
    Float,
    Bool,
    Comment,
}

struct Lexer<'a> {
    input: &'a str,
    start: usize,
    pos: usize,
    line: usize,
    /// Widths of the last (up to four) runes read, for `backup`.
    widths: Vec<usize>,
    at_eof: bool,
    stack: Vec<State>,
    items: Vec<Item>,
    failed: bool,
}

fn is_ws(r: char) -> bool {
    r == ' ' || r == '\t'
}

fn is_nl(r: char) -> bool {
    r == '\n' || r == '\r'
}

fn is_hex(r: char) -> bool {
    r.is_ascii_hexdigit()
}

fn is_bare(r: char) -> bool {
    r.is_ascii_alphanumeric() || r == '_' || r == '-'
}

fn is_control(r: char) -> bool {
    !matches!(r, '\t' | '\r' | '\n') && (r <= '\x1f' || r == '\x7f')
}

/// `'c'`, or `end of file`.
fn rune_or_eof(r: char) -> String {
    if r == EOF { "end of file".to_string() } else { format!("'{r}'") }
}

/// The tokens of `input`, ending with [`Tok::Eof`] or [`Tok::Error`].
pub(super) fn lex(input: &str) -> Vec<Item> {
    let mut lx = Lexer {
        input,
        start: 0,
        pos: 0,
        line: 1,
        widths: Vec::new(),
        at_eof: false,
        stack: Vec::new(),
        items: Vec::new(),
        failed: false,
    };
    let mut state = Some(State::Top);
    while let Some(s) = state {
        state = lx.step(s);
        if lx.failed {
            break;
        }
    }
    if let Some(i) = lx.items.iter().position(|i| i.tok == Tok::Error) {
        lx.items.truncate(i + 1);
    }
    lx.items
}

impl Lexer<'_> {
    fn current(&self) -> &str {
        self.input.get(self.start..self.pos).unwrap_or_default()
    }

    fn emit(&mut self, tok: Tok) {
        let val = self.current().to_string();
        self.items.push(Item { tok, val, line: self.line });
        self.start = self.pos;
    }

    fn emit_trim(&mut self, tok: Tok) {
        let val = self.current().trim().to_string();
        self.items.push(Item { tok, val, line: self.line });
        self.start = self.pos;
    }

    fn next(&mut self) -> char {
        let Some(r) = self.input.get(self.pos..).and_then(|s| s.chars().next()) else {
            self.at_eof = true;
            return EOF;
        };
        if r == '\n' {
            self.line += 1;
        }
        if self.widths.len() == 4 {
            self.widths.remove(0);
        }
        let lone_cr = r == '\r' && self.input.as_bytes().get(self.pos + 1) != Some(&b'\n');
        if is_control(r) || lone_cr {
            self.error_at(
                self.line,
                format!("TOML files cannot contain control characters: '0x{:02x}'", r as u32),
            );
            return BAD;
        }
        self.widths.push(r.len_utf8());
        self.pos += r.len_utf8();
        r
    }

    fn backup(&mut self) {
        if self.at_eof {
            self.at_eof = false;
            return;
        }
        let Some(w) = self.widths.pop() else { return };
        self.pos -= w;
        if self.input.as_bytes().get(self.pos) == Some(&b'\n') {
            self.line -= 1;
        }
    }

    fn accept(&mut self, valid: char) -> bool {
        if self.next() == valid {
            return true;
        }
        self.backup();
        false
    }

    fn peek(&mut self) -> char {
        let r = self.next();
        self.backup();
        r
    }

    fn skip_ws(&mut self) {
        loop {
            let r = self.next();
            if !is_ws(r) {
                self.backup();
                self.start = self.pos;
                return;
            }
        }
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn error_at(&mut self, line: usize, message: String) {
        self.items.push(Item { tok: Tok::Error, val: message, line });
        self.failed = true;
    }

    /// An error on the current line, or at the end of input right after a
    /// newline, on the line before.
    fn errorf(&mut self, message: String) -> Option<State> {
        let after_newline = self.pos > 0 && self.input.as_bytes()[self.pos - 1] == b'\n';
        let line = if self.at_eof && after_newline { self.line - 1 } else { self.line };
        self.error_at(line, message);
        None
    }

    /// An error about the rune just read that shows on the line before when
    /// that rune is a newline (a missing value or key separator).
    fn errorf_rune(&mut self, r: char, message: String) -> Option<State> {
        if r == '\n' {
            return self.error_prev_line(&message);
        }
        self.errorf(message)
    }

    /// An error placed on the line before (a newline was just read).
    fn error_prev_line(&mut self, message: &str) -> Option<State> {
        self.error_at(self.line.saturating_sub(1), message.to_string());
        None
    }

    fn pop(&mut self) -> Option<State> {
        match self.stack.pop() {
            Some(s) => Some(s),
            None => self.errorf("BUG in lexer: no states to pop".to_string()),
        }
    }

    fn step(&mut self, state: State) -> Option<State> {
        use State as S;
        match state {
            S::Top => {
                let r = self.next();
                if is_ws(r) || is_nl(r) {
                    self.ignore();
                    return Some(S::Top);
                }
                match r {
                    '#' => {
                        self.stack.push(S::Top);
                        self.comment_start()
                    }
                    '[' => Some(S::TableStart),
                    EOF if self.pos > self.start => self.errorf("unexpected EOF".to_string()),
                    EOF => {
                        self.emit(Tok::Eof);
                        None
                    }
                    _ => {
                        self.backup();
                        self.stack.push(S::TopEnd);
                        Some(S::KeyStart)
                    }
                }
            }
            S::TopEnd => match self.next() {
                '#' => {
                    self.stack.push(S::Top);
                    self.comment_start()
                }
                r if is_ws(r) => Some(S::TopEnd),
                r if is_nl(r) => {
                    self.ignore();
                    Some(S::Top)
                }
                EOF => {
                    self.emit(Tok::Eof);
                    None
                }
                r => self.errorf(format!(
                    "expected a top-level item to end with a newline, comment, or EOF, but got {} instead",
                    quote_char(r, false)
                )),
            },
            S::TableStart => {
                if self.peek() == '[' {
                    self.next();
                    self.emit(Tok::ArrayTableStart);
                    self.stack.push(S::ArrayTableEnd);
                } else {
                    self.emit(Tok::TableStart);
                    self.stack.push(S::TableEnd);
                }
                Some(S::TableNameStart)
            }
            S::TableEnd => {
                self.emit(Tok::TableEnd);
                Some(S::TopEnd)
            }
            S::ArrayTableEnd => {
                let r = self.next();
                if r != ']' {
                    return self.errorf(format!(
                        "expected end of table array name delimiter ']', but got {} instead",
                        quote_char(r, false)
                    ));
                }
                self.emit(Tok::ArrayTableEnd);
                Some(S::TopEnd)
            }
            S::TableNameStart => {
                self.skip_ws();
                match self.peek() {
                    ']' | EOF => self.errorf(
                        "unexpected end of table name (table names cannot be empty)".to_string(),
                    ),
                    '.' => self.errorf(
                        "unexpected table separator (table names cannot be empty)".to_string(),
                    ),
                    '"' | '\'' => {
                        self.ignore();
                        self.stack.push(S::TableNameEnd);
                        Some(S::QuotedName)
                    }
                    _ => {
                        self.stack.push(S::TableNameEnd);
                        Some(S::BareName)
                    }
                }
            }
            S::TableNameEnd => {
                self.skip_ws();
                match self.next() {
                    r if is_ws(r) => Some(S::TableNameEnd),
                    '.' => {
                        self.ignore();
                        Some(S::TableNameStart)
                    }
                    ']' => self.pop(),
                    r => self.errorf(format!(
                        "expected '.' or ']' to end table name, but got {} instead",
                        quote_char(r, false)
                    )),
                }
            }
            S::BareName => {
                if is_bare(self.next()) {
                    return Some(S::BareName);
                }
                self.backup();
                self.emit(Tok::Text);
                self.pop()
            }
            S::QuotedName => match self.next() {
                r if is_ws(r) => {
                    self.ignore();
                    Some(S::Value)
                }
                '"' => {
                    self.ignore();
                    Some(S::String)
                }
                '\'' => {
                    self.ignore();
                    Some(S::RawString)
                }
                EOF => self.errorf("unexpected EOF; expected value".to_string()),
                r => self
                    .errorf(format!("expected value but found {} instead", quote_char(r, false))),
            },
            S::KeyStart => {
                self.skip_ws();
                match self.peek() {
                    '=' | EOF => self.errorf("unexpected '=': key name appears blank".to_string()),
                    '.' => self.errorf("unexpected '.': keys cannot start with a '.'".to_string()),
                    r => {
                        if r == '"' || r == '\'' {
                            self.ignore();
                        }
                        self.emit(Tok::KeyStart);
                        Some(S::KeyNameStart)
                    }
                }
            }
            S::KeyNameStart => {
                self.skip_ws();
                match self.peek() {
                    '=' | EOF => self.errorf("unexpected '='".to_string()),
                    '.' => self.errorf("unexpected '.'".to_string()),
                    '"' | '\'' => {
                        self.ignore();
                        self.stack.push(S::KeyEnd);
                        Some(S::QuotedName)
                    }
                    _ => {
                        self.stack.push(S::KeyEnd);
                        Some(S::BareName)
                    }
                }
            }
            S::KeyEnd => {
                self.skip_ws();
                match self.next() {
                    r if is_ws(r) => {
                        self.ignore();
                        Some(S::KeyEnd)
                    }
                    EOF => self.errorf("unexpected EOF; expected key separator '='".to_string()),
                    '.' => {
                        self.ignore();
                        Some(S::KeyNameStart)
                    }
                    '=' => {
                        self.emit(Tok::KeyEnd);
                        self.ignore();
                        Some(S::Value)
                    }
                    r => self.errorf_rune(
                        r,
                        format!("expected '.' or '=', but got {} instead", quote_char(r, false)),
                    ),
                }
            }
            S::Value => self.value(),
            S::ArrayValue => self.element(S::ArrayValue, ']', S::ArrayEnd, S::ArrayValueEnd, S::Value),
            S::ArrayValueEnd => match self.next() {
                r if is_ws(r) || is_nl(r) => {
                    self.ignore();
                    Some(S::ArrayValueEnd)
                }
                '#' => {
                    self.stack.push(S::ArrayValueEnd);
                    self.comment_start()
                }
                ',' => {
                    self.ignore();
                    Some(S::ArrayValue)
                }
                ']' => Some(S::ArrayEnd),
                r => self.errorf(format!(
                    "expected a comma (',') or array terminator (']'), but got {}",
                    rune_or_eof(r)
                )),
            },
            S::ArrayEnd => self.close(Tok::ArrayEnd),
            S::InlineValue => {
                self.element(S::InlineValue, '}', S::InlineEnd, S::InlineValueEnd, S::KeyStart)
            }
            S::InlineValueEnd => match self.next() {
                r if is_ws(r) || is_nl(r) => {
                    self.ignore();
                    Some(S::InlineValueEnd)
                }
                '#' => {
                    self.stack.push(S::InlineValueEnd);
                    self.comment_start()
                }
                ',' => {
                    self.ignore();
                    self.skip_ws();
                    // TOML 1.1 allows a comma before the closing brace.
                    if self.peek() == '}' {
                        return Some(S::InlineValueEnd);
                    }
                    Some(S::InlineValue)
                }
                '}' => Some(S::InlineEnd),
                r => self.errorf(format!(
                    "expected a comma or an inline table terminator '}}', but got {} instead",
                    rune_or_eof(r)
                )),
            },
            S::InlineEnd => self.close(Tok::InlineEnd),
            S::String => match self.next() {
                EOF => self.errorf("unexpected EOF; expected '\"'".to_string()),
                r if is_nl(r) => self.error_prev_line("strings cannot contain newlines"),
                '\\' => {
                    self.stack.push(S::String);
                    Some(S::StringEscape)
                }
                '"' => {
                    self.backup();
                    self.emit(Tok::Str);
                    self.next();
                    self.ignore();
                    self.pop()
                }
                _ => Some(S::String),
            },
            S::MultiString => self.multi_string('"', Tok::MultiStr),
            S::RawMultiString => self.multi_string('\'', Tok::RawMultiStr),
            S::RawString => match self.next() {
                EOF => self.errorf("unexpected EOF; expected \"'\"".to_string()),
                r if is_nl(r) => self.error_prev_line("strings cannot contain newlines"),
                '\'' => {
                    self.backup();
                    self.emit(Tok::RawStr);
                    self.next();
                    self.ignore();
                    self.pop()
                }
                _ => Some(S::RawString),
            },
            S::MultiStringEscape => {
                if is_nl(self.next()) {
                    return Some(S::MultiString);
                }
                self.backup();
                self.stack.push(S::MultiString);
                self.step(S::StringEscape)
            }
            S::StringEscape => match self.next() {
                'e' | 'b' | 't' | 'n' | 'f' | 'r' | '"' | ' ' | '\t' | '\\' => self.pop(),
                'x' => self.hex_escape(2, "two", 'x'),
                'u' => self.hex_escape(4, "four", 'u'),
                'U' => self.hex_escape(8, "eight", 'U'),
                r => {
                    let message = format!("invalid escape in string '\\{r}'");
                    if self.at_eof {
                        return self.error_prev_line(&message);
                    }
                    self.errorf(message)
                }
            },
            S::NumberOrDateStart => match self.next() {
                '0' => Some(S::BaseNumberOrDate),
                r if r.is_ascii_digit() => Some(S::NumberOrDate),
                r => self.errorf(format!("expected a digit but got {}", quote_char(r, false))),
            },
            S::NumberOrDate => match self.next() {
                r if r.is_ascii_digit() => Some(S::NumberOrDate),
                '-' | ':' => Some(S::Datetime),
                '_' => Some(S::DecimalNumber),
                '.' | 'e' | 'E' => Some(S::Float),
                _ => self.emit_back(Tok::Int),
            },
            S::Datetime => match self.next() {
                r if r.is_ascii_digit() => Some(S::Datetime),
                '-' | ':' | 'T' | 't' | ' ' | '.' | 'Z' | 'z' | '+' => Some(S::Datetime),
                _ => {
                    self.backup();
                    self.emit_trim(Tok::Datetime);
                    self.pop()
                }
            },
            S::HexInteger => self.integer_digits(is_hex, S::HexInteger),
            S::OctalInteger => self.integer_digits(|r| ('0'..='7').contains(&r), S::OctalInteger),
            S::BinaryInteger => self.integer_digits(|r| r == '0' || r == '1', S::BinaryInteger),
            S::DecimalNumber => match self.next() {
                r if r.is_ascii_digit() || r == '_' => Some(S::DecimalNumber),
                '.' | 'e' | 'E' => Some(S::Float),
                _ => self.emit_back(Tok::Int),
            },
            S::DecimalNumberStart => self.decimal_number_start(),
            S::BaseNumberOrDate => self.base_number_or_date(),
            S::Float => match self.next() {
                r if r.is_ascii_digit() => Some(S::Float),
                '_' | '.' | '-' | '+' | 'e' | 'E' => Some(S::Float),
                _ => self.emit_back(Tok::Float),
            },
            S::Bool => {
                let mut word = String::new();
                loop {
                    let r = self.next();
                    if !r.is_alphabetic() {
                        self.backup();
                        break;
                    }
                    word.push(r);
                }
                if word == "true" || word == "false" {
                    self.emit(Tok::Bool);
                    return self.pop();
                }
                self.errorf(format!("expected value but found {} instead", quote(&word)))
            }
            S::Comment => {
                let r = self.next();
                if is_nl(r) || r == EOF {
                    self.backup();
                    self.ignore();
                    return self.pop();
                }
                Some(S::Comment)
            }
        }
    }

    /// The start of an array element or inline-table entry: blank lines and
    /// comments are skipped, a comma is refused, `close` ends the container.
    fn element(
        &mut self,
        this: State,
        close: char,
        closed: State,
        end: State,
        then: State,
    ) -> Option<State> {
        match self.next() {
            r if is_ws(r) || is_nl(r) => {
                self.ignore();
                Some(this)
            }
            '#' => {
                self.stack.push(this);
                self.comment_start()
            }
            ',' => self.errorf("unexpected comma".to_string()),
            r if r == close => Some(closed),
            _ => {
                self.backup();
                self.stack.push(end);
                Some(then)
            }
        }
    }

    fn close(&mut self, tok: Tok) -> Option<State> {
        self.ignore();
        self.emit(tok);
        self.pop()
    }

    /// A comment's text is read and dropped: the parser skips comments.
    fn comment_start(&mut self) -> Option<State> {
        self.ignore();
        Some(State::Comment)
    }

    /// Backs up over the rune just read and emits the token before it.
    fn emit_back(&mut self, tok: Tok) -> Option<State> {
        self.backup();
        self.emit(tok);
        self.pop()
    }

    fn integer_digits(&mut self, digit: fn(char) -> bool, again: State) -> Option<State> {
        let r = self.next();
        if digit(r) || r == '_' {
            return Some(again);
        }
        self.emit_back(Tok::Int)
    }

    fn hex_escape(&mut self, n: usize, words: &str, letter: char) -> Option<State> {
        for _ in 0..n {
            if !is_hex(self.next()) {
                let current = quote(self.current());
                return self.errorf(format!(
                    "expected {words} hexadecimal digits after '\\{letter}', but got {current} instead"
                ));
            }
        }
        self.pop()
    }

    fn value(&mut self) -> Option<State> {
        use State as S;
        let r = self.next();
        if is_ws(r) {
            self.ignore();
            return Some(S::Value);
        }
        if r.is_ascii_digit() {
            self.backup();
            return Some(S::NumberOrDateStart);
        }
        match r {
            '[' => {
                self.ignore();
                self.emit(Tok::Array);
                return Some(S::ArrayValue);
            }
            '{' => {
                self.ignore();
                self.emit(Tok::InlineStart);
                return Some(S::InlineValue);
            }
            '"' | '\'' => {
                let multi = if r == '"' { S::MultiString } else { S::RawMultiString };
                if self.accept(r) {
                    if self.accept(r) {
                        self.ignore();
                        return Some(multi);
                    }
                    self.backup();
                }
                self.ignore();
                return Some(if r == '"' { S::String } else { S::RawString });
            }
            '.' => return self.errorf("floats must start with a digit, not '.'".to_string()),
            'i' | 'n' => {
                if (self.accept('n') && self.accept('f')) || (self.accept('a') && self.accept('n'))
                {
                    self.emit(Tok::Float);
                    return self.pop();
                }
            }
            '-' | '+' => return Some(S::DecimalNumberStart),
            _ => {}
        }
        if r.is_alphabetic() {
            self.backup();
            return Some(S::Bool);
        }
        if r == EOF {
            return self.errorf("unexpected EOF; expected value".to_string());
        }
        self.errorf_rune(r, format!("expected value but found {} instead", quote_char(r, false)))
    }

    fn multi_string(&mut self, q: char, tok: Tok) -> Option<State> {
        let again = if q == '"' { State::MultiString } else { State::RawMultiString };
        match self.next() {
            EOF => {
                let closing = if q == '"' { "'\"\"\"'" } else { "\"'''\"" };
                self.errorf(format!("unexpected EOF; expected {closing}"))
            }
            '\\' if q == '"' => Some(State::MultiStringEscape),
            r if r == q => {
                if self.accept(q) {
                    if self.accept(q) {
                        if self.peek() == q {
                            let five: String = std::iter::repeat_n(q, 5).collect();
                            let cur = self.current();
                            if cur.ends_with(&five) && !(q == '"' && cur.ends_with("\\\"\"\"\"\""))
                            {
                                let six: String = std::iter::repeat_n(q, 6).collect();
                                let shown = if q == '"' { format!("'{six}'") } else { quote(&six) };
                                return self.errorf(format!("unexpected {shown}"));
                            }
                            self.backup();
                            self.backup();
                            return Some(again);
                        }
                        self.backup();
                        self.backup();
                        self.backup();
                        self.emit(tok);
                        self.next();
                        self.next();
                        self.next();
                        self.ignore();
                        return self.pop();
                    }
                    self.backup();
                }
                Some(again)
            }
            _ => Some(again),
        }
    }

    fn decimal_number_start(&mut self) -> Option<State> {
        let r = self.next();
        match r {
            'i' | 'n' => {
                let (a, b) = if r == 'i' { ('n', 'f') } else { ('a', 'n') };
                if !self.accept(a) || !self.accept(b) {
                    let cur = self.current().to_string();
                    return self.errorf(format!("invalid float: '{cur}'"));
                }
                self.emit(Tok::Float);
                return self.pop();
            }
            '0' => {
                let p = self.peek();
                if matches!(p, 'b' | 'o' | 'x') {
                    let cur = self.current().to_string();
                    return self
                        .errorf(format!("cannot use sign with non-decimal numbers: '{cur}{p}'"));
                }
            }
            '.' => return self.errorf("floats must start with a digit, not '.'".to_string()),
            _ => {}
        }
        if r.is_ascii_digit() {
            return Some(State::DecimalNumber);
        }
        self.errorf(format!("expected a digit but got {}", quote_char(r, false)))
    }

    fn base_number_or_date(&mut self) -> Option<State> {
        use State as S;
        let r = self.next();
        if r.is_ascii_digit() {
            return Some(S::NumberOrDate);
        }
        let (next, what, ok): (State, &str, fn(char) -> bool) = match r {
            '_' => return Some(S::DecimalNumber),
            '.' | 'e' | 'E' => return Some(S::Float),
            'b' => (S::BinaryInteger, "a binary", |c| c == '0' || c == '1'),
            'o' => (S::OctalInteger, "an octal", |c| ('0'..='7').contains(&c)),
            'x' => (S::HexInteger, "a hexadecimal", is_hex),
            _ => return self.emit_back(Tok::Int),
        };
        let p = self.peek();
        if !ok(p) {
            let cur = self.current().to_string();
            return self.errorf(format!("not {what} number: '{cur}{p}'"));
        }
        Some(next)
    }
}
