//! JSON decoding as Helm 4's `encoding/json` does it (`json.Unmarshal` into `interface{}`), with its error texts.
//!
//! Helm 4 is built on Go's JSON v2 engine in its v1 mode, whose syntax errors
//! read `invalid character 'x' in string`, `... in numeric literal`,
//! ``invalid escape sequence `\x` in string`` and v1's `after object key`,
//! `looking for beginning of value`, `unexpected end of JSON input` (checked
//! with the helm-template oracle). Numbers become float64; a number beyond
//! float64 decodes as 0 and is reported (the first such report is kept) while
//! decoding goes on. A lone UTF-16 surrogate escape becomes U+FFFD; a repeated
//! key keeps its last value. Nesting deeper than Go's 10000 levels (kiln's
//! bound on deep walks too) fails with Go's `exceeded max depth`. The decoder keeps its own stack, so nesting
//! costs no recursion.

use std::collections::BTreeMap;

use crate::gotmpl::Value;

/// The deepest nesting of arrays and objects: Go's limit, which is also
/// the bound of kiln's deep walks (copies, comparisons, encoding).
use crate::gotmpl::value::MAX_NESTING;

const END: &str = "unexpected end of JSON input";

/// A JSON text decoded: the value and the first type error, which Go
/// reports after decoding the rest.
pub(super) struct Decoded {
    /// The value; numbers beyond float64 are 0 in it.
    pub value: Value,
    /// `json: cannot unmarshal number 1e400 into ...`.
    pub error: Option<String>,
}

/// Decodes `text`, or fails with Go's syntax error text as Helm 4 words it.
pub(super) fn decode(text: &str) -> Result<Decoded, String> {
    Decoder { text, i: 0, stack: Vec::new(), error: None, v1: false, first_only: false }
        .run()
        .map(|(decoded, _)| decoded)
}

/// The first JSON value of `text` as a `json.Decoder` reads it (`Decode`
/// then `InputOffset`): the value and the byte offset where it ends, with
/// whatever follows left unread (`truex` reads `true`, `01` reads `0`). A
/// number beyond float64 fails, as Go's `Decode` does.
///
/// Its callers (`--set-json`) run on any thread: converting the decoded
/// value and dropping it recurse once per level, so both get the room of
/// a chart render ([`crate::stack::with_room`]).
pub(crate) fn decode_first(text: &str) -> Result<(crate::value::Value, usize), String> {
    crate::stack::with_room(crate::stack::ROOM, || {
        let decoder =
            Decoder { text, i: 0, stack: Vec::new(), error: None, v1: false, first_only: true };
        // A `Decoder` that meets the end of its input inside a value says so.
        let (decoded, end) =
            decoder.run().map_err(|e| if e == END { "unexpected EOF".to_string() } else { e })?;
        if let Some(e) = decoded.error {
            return Err(e);
        }
        let value = decoded.value.to_data().ok_or_else(|| "exceeded max depth".to_string())?;
        Ok((value, end))
    })
}

/// Go's syntax error for `text` as the JSON v1 engine of Go 1.23 (which
/// kustomize is built with) words it, `None` when `text` is JSON. v1 names
/// the place more closely than Helm 4's v2 engine: `in string literal`,
/// `in string escape code`, `in \u hexadecimal character escape`, `after
/// decimal point in numeric literal`, `in exponent of numeric literal`.
pub(crate) fn go_v1_syntax_error(text: &str) -> Option<String> {
    Decoder { text, i: 0, stack: Vec::new(), error: None, v1: true, first_only: false }.run().err()
}

/// The kind of a decoded value as Go's type errors name it.
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Nil | Value::Missing => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "array",
        _ => "object",
    }
}

/// An array or object being read.
enum Frame {
    Array(Vec<Value>),
    /// The entries so far and the key whose value is being read.
    Object(BTreeMap<String, Value>, String),
}

struct Decoder<'a> {
    text: &'a str,
    i: usize,
    stack: Vec<Frame>,
    error: Option<String>,
    /// Word syntax errors as Go's JSON v1 engine does.
    v1: bool,
    /// Stop after the first value, leaving the rest unread.
    first_only: bool,
}

impl Decoder<'_> {
    /// The value and the offset after it.
    fn run(mut self) -> Result<(Decoded, usize), String> {
        loop {
            let mut value = match self.value_start()? {
                Some(v) => v,
                None => continue,
            };
            // Close every container the value completes.
            loop {
                match self.stack.last_mut() {
                    None => {
                        let end = self.i;
                        if !self.first_only {
                            self.space();
                            if self.i < self.text.len() {
                                return Err(self.bad("after top-level value"));
                            }
                        }
                        return Ok((Decoded { value, error: self.error }, end));
                    }
                    Some(Frame::Array(items)) => {
                        items.push(value);
                        self.space();
                        match self.next()? {
                            b',' => break,
                            b']' => value = self.pop(),
                            _ => return Err(self.bad_prev("after array element")),
                        }
                    }
                    Some(Frame::Object(entries, key)) => {
                        entries.insert(std::mem::take(key), value);
                        self.space();
                        match self.next()? {
                            b',' => {
                                let key = self.key()?;
                                if let Some(Frame::Object(_, k)) = self.stack.last_mut() {
                                    *k = key;
                                }
                                break;
                            }
                            b'}' => value = self.pop(),
                            _ => return Err(self.bad_prev("after object key:value pair")),
                        }
                    }
                }
            }
        }
    }

    /// Reads the start of a value: a whole scalar or empty container, or
    /// `None` after opening a container whose first value comes next.
    fn value_start(&mut self) -> Result<Option<Value>, String> {
        self.space();
        match self.next()? {
            open @ (b'[' | b'{') => {
                if self.stack.len() >= MAX_NESTING {
                    return Err("exceeded max depth".into());
                }
                self.space();
                let close = if open == b'[' { b']' } else { b'}' };
                if self.peek() == Some(close) {
                    self.i += 1;
                    return Ok(Some(if open == b'[' {
                        Value::list(Vec::new())
                    } else {
                        Value::map(BTreeMap::new())
                    }));
                }
                let frame = if open == b'[' {
                    Frame::Array(Vec::new())
                } else {
                    Frame::Object(BTreeMap::new(), self.key_after_space()?)
                };
                self.stack.push(frame);
                Ok(None)
            }
            b'"' => Ok(Some(Value::from(self.string()?))),
            b'-' | b'0'..=b'9' => {
                self.i -= 1;
                Ok(Some(self.number()?))
            }
            first @ (b't' | b'f' | b'n') => {
                let word = match first {
                    b't' => "true",
                    b'f' => "false",
                    _ => "null",
                };
                for want in word.bytes().skip(1) {
                    if self.next()? != want {
                        let context = format!("in literal {word} (expecting '{}')", want as char);
                        return Err(self.bad_prev(&context));
                    }
                }
                Ok(Some(match first {
                    b't' => Value::Bool(true),
                    b'f' => Value::Bool(false),
                    _ => Value::Nil,
                }))
            }
            _ => Err(self.bad_prev("looking for beginning of value")),
        }
    }

    /// The key of an object entry after `{` or `,`, and its colon.
    fn key(&mut self) -> Result<String, String> {
        self.space();
        self.key_after_space()
    }

    fn key_after_space(&mut self) -> Result<String, String> {
        if self.next()? != b'"' {
            return Err(self.bad_prev("looking for beginning of object key string"));
        }
        let key = self.string()?;
        self.space();
        if self.next()? != b':' {
            return Err(self.bad_prev("after object key"));
        }
        Ok(key)
    }

    /// Closes the innermost container and returns it as a value.
    fn pop(&mut self) -> Value {
        match self.stack.pop() {
            // encoding/json appends the elements one by one.
            Some(Frame::Array(items)) => {
                Value::List(crate::gotmpl::List::appended(crate::gotmpl::Elem::Any, items))
            }
            Some(Frame::Object(entries, _)) => Value::map(entries),
            None => Value::Nil,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn next(&mut self) -> Result<u8, String> {
        let c = self.peek().ok_or(END)?;
        self.i += 1;
        Ok(c)
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    /// Go's error for the character at the read position.
    fn bad(&self, context: &str) -> String {
        let c = self.text.get(self.i..).and_then(|r| r.chars().next()).unwrap_or(' ');
        format!("invalid character {} {context}", quote_char(c))
    }

    /// Go's error for the character just read.
    fn bad_prev(&mut self, context: &str) -> String {
        self.i -= 1;
        // The byte read may start a longer character.
        self.bad(context)
    }

    /// The rest of a string after its opening quote.
    fn string(&mut self) -> Result<String, String> {
        let mut out = String::new();
        loop {
            let start = self.i;
            let rest = self.text.as_bytes().get(start..).unwrap_or_default();
            let plain = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(len) = plain else { return Err(END.into()) };
            out.push_str(&self.text[start..start + len]);
            self.i = start + len;
            match self.next()? {
                b'"' => return Ok(out),
                b'\\' => self.escape(&mut out)?,
                _ if self.v1 => return Err(self.bad_prev("in string literal")),
                _ => return Err(self.bad_prev("in string")),
            }
        }
    }

    /// An escape after its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let start = self.i - 1;
        let c = self.next()?;
        let simple = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4(start)?;
                let c = if (0xD800..0xDC00).contains(&unit) {
                    self.low_surrogate(unit)
                } else {
                    char::from_u32(unit).unwrap_or('\u{FFFD}')
                };
                // The decoded string is a Go string: a character of the
                // carriers' range goes in as its carried bytes.
                super::push_char(out, c);
                return Ok(());
            }
            _ if self.v1 => return Err(self.bad_prev("in string escape code")),
            _ => return Err(bad_escape(&self.text.as_bytes()[start..start + 2])),
        };
        out.push(simple);
        Ok(())
    }

    /// The four hex digits of a `\u` escape that starts at `start`.
    fn hex4(&mut self, start: usize) -> Result<u32, String> {
        if self.v1 {
            // v1 reads the digits one by one and names the first that is not one.
            for _ in 0..4 {
                if !self.next()?.is_ascii_hexdigit() {
                    return Err(self.bad_prev("in \\u hexadecimal character escape"));
                }
            }
            let digits = &self.text[self.i - 4..self.i];
            return Ok(u32::from_str_radix(digits, 16).unwrap_or(0xFFFD));
        }
        let digits = self.text.as_bytes().get(self.i..self.i + 4).ok_or(END)?;
        let text = std::str::from_utf8(digits).ok();
        match text.and_then(|t| u32::from_str_radix(t, 16).ok().filter(|_| !t.starts_with('+'))) {
            Some(unit) => {
                self.i += 4;
                Ok(unit)
            }
            None => Err(bad_escape(&self.text.as_bytes()[start..self.i + 4])),
        }
    }

    /// The character of a high surrogate `high`, joined with the low surrogate
    /// escape that follows it, or U+FFFD when none does.
    fn low_surrogate(&mut self, high: u32) -> char {
        let rest = &self.text[self.i..];
        if let Some(digits) = rest.strip_prefix("\\u").and_then(|r| r.get(..4))
            && let Ok(low) = u32::from_str_radix(digits, 16)
            && !digits.starts_with('+')
            && (0xDC00..0xE000).contains(&low)
        {
            self.i += 6;
            let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return char::from_u32(c).unwrap_or('\u{FFFD}');
        }
        '\u{FFFD}'
    }

    /// A number: Go's grammar, float64, 0 with a reported error when out of range.
    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        // Where a digit is missing: v1 names the part of the number.
        let digits = |this: &mut Self, part: &str| -> Result<(), String> {
            match this.next()? {
                b'0'..=b'9' => {}
                _ if this.v1 => return Err(this.bad_prev(part)),
                _ => return Err(this.bad_prev("in numeric literal")),
            }
            while matches!(this.peek(), Some(b'0'..=b'9')) {
                this.i += 1;
            }
            Ok(())
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else {
            digits(self, "in numeric literal")?;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            digits(self, "after decimal point in numeric literal")?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            digits(self, "in exponent of numeric literal")?;
        }
        let literal = &self.text[start..self.i];
        let f: f64 = literal.parse().unwrap_or(0.0);
        if f.is_finite() {
            return Ok(Value::Float(f));
        }
        if self.error.is_none() {
            self.error = Some(self.range_error(literal));
        }
        Ok(Value::Float(0.0))
    }

    /// Go's report of a number beyond float64, naming where it stands.
    fn range_error(&self, literal: &str) -> String {
        let path: String = self
            .stack
            .iter()
            .map(|f| match f {
                Frame::Array(items) => format!(".{}", items.len()),
                Frame::Object(_, key) => format!(".{key}"),
            })
            .collect();
        // Go's v2-backed decoder names the place by its JSON path and
        // guesses from the path's last part: all digits read as a slice
        // index (an object's key "1" too), anything else as a struct field.
        let last = &path[path.rfind('.').map_or(0, |i| i + 1)..];
        // The path joins the keys after a leading `.`: a top-level
        // object's empty key leaves Go no field to name (`{"":1e400}`).
        let place = match self.stack.last() {
            None => "Go value".to_string(),
            Some(_) if path == "." => "Go value".to_string(),
            Some(_) if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) => path,
            Some(_) => format!("Go struct field {path}"),
        };
        format!("json: cannot unmarshal number {literal} into {place} of type float64")
    }
}

/// Go's quoting of a character in a syntax error.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c => {
            let q = crate::gotmpl::fmt::quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// Go's error for a bad escape sequence, shown byte by byte as Go reads
/// it: back-quoted where it can be, else quoted (a cut character shows as
/// `\xNN`).
fn bad_escape(seq: &[u8]) -> String {
    let text = std::str::from_utf8(seq).ok().filter(|t| {
        !t.chars().any(|c| c == '`' || c.is_whitespace() || c.is_control() || !is_graphic(c))
    });
    if let Some(text) = text {
        return format!("invalid escape sequence `{text}` in string");
    }
    let mut quoted = String::from("\"");
    for chunk in seq.utf8_chunks() {
        let q = crate::gotmpl::fmt::quote(chunk.valid());
        quoted.push_str(&q[1..q.len() - 1]);
        for b in chunk.invalid() {
            quoted.push_str(&format!("\\x{b:02x}"));
        }
    }
    quoted.push('"');
    format!("invalid escape sequence {quoted} in string")
}

/// Roughly Go's `unicode.IsPrint` beyond controls: format characters are not printable.
fn is_graphic(c: char) -> bool {
    !matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::decode;

    /// Syntax errors as Helm 4 reports them (helm-template oracle, case json-errors).
    #[test]
    fn syntax_errors_read_as_helm4() {
        for (text, want) in [
            ("", "unexpected end of JSON input"),
            ("{\"a\": 1", "unexpected end of JSON input"),
            ("{\"a\": 1}}", "invalid character '}' after top-level value"),
            ("{\"a\": tru}", "invalid character '}' in literal true (expecting 'e')"),
            ("{\"a\": 1,}", "invalid character '}' looking for beginning of object key string"),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            ("{\"a\": 01}", "invalid character '1' after object key:value pair"),
            ("[1 2]", "invalid character '2' after array element"),
            ("[1,]", "invalid character ']' looking for beginning of value"),
            ("{\"a\": \"\u{1}\"}", "invalid character '\\x01' in string"),
            ("{\"a\": \"\\u12\"}", "invalid escape sequence `\\u12\"}` in string"),
            ("{\"a\": \"\\u12 4\"}", "invalid escape sequence \"\\\\u12 4\" in string"),
            ("{\"a\": \"\\x\"}", "invalid escape sequence `\\x` in string"),
            ("{\"a\": \"\\é\"}", "invalid escape sequence \"\\\\\\xc3\" in string"),
            ("{\"a\": 1e}", "invalid character '}' in numeric literal"),
            ("{\"a\": 1.}", "invalid character '}' in numeric literal"),
            ("{\"a\": -a}", "invalid character 'a' in numeric literal"),
            ("\u{a0}", "invalid character '\\u00a0' looking for beginning of value"),
            ("{} é", "invalid character 'é' after top-level value"),
            ("'", "invalid character '\\'' looking for beginning of value"),
        ] {
            assert_eq!(decode(text).err().as_deref(), Some(want), "{text}");
        }
    }

    /// Syntax errors as kustomize (Go 1.23's JSON v1) reports them
    /// (recorded from kubectl: a `crds:` file that starts with `{`).
    #[test]
    fn syntax_errors_read_as_go_v1() {
        for (text, want) in [
            ("{\"a\n\": 1}", "invalid character '\\n' in string literal"),
            ("{\"a\\x\": 1}", "invalid character 'x' in string escape code"),
            ("{\"a\": \"\\u12x4\"}", "invalid character 'x' in \\u hexadecimal character escape"),
            ("{\"a\": 1.x}", "invalid character 'x' after decimal point in numeric literal"),
            ("{\"a\": 1e+}", "invalid character '}' in exponent of numeric literal"),
            ("{\"a\": -}", "invalid character '}' in numeric literal"),
            ("{\"a\": tru}", "invalid character '}' in literal true (expecting 'e')"),
            ("{\"a\": 1,}", "invalid character '}' looking for beginning of object key string"),
            ("{\"a\": 1} x", "invalid character 'x' after top-level value"),
            ("{\"a\": 1", "unexpected end of JSON input"),
        ] {
            assert_eq!(super::go_v1_syntax_error(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(super::go_v1_syntax_error("{\"a\": \"\\ud800\"}"), None);
    }

    #[test]
    fn nesting_is_bounded_without_recursion() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // Decoding does not recurse, but dropping the value does: values
        // this deep live on an execution thread.
        let ok = crate::gotmpl::with_stack(|| decode(&deep(super::MAX_NESTING)).is_ok());
        assert!(ok.expect("execution thread"));
        assert_eq!(
            decode(&deep(super::MAX_NESTING + 1)).err().as_deref(),
            Some("exceeded max depth")
        );
    }

    #[test]
    fn out_of_range_numbers_decode_as_zero_and_are_reported() {
        for (text, want) in [
            ("{\"a\":{\"b\":1e400}}", "Go struct field .a.b"),
            ("{\"a\":[1e400]}", ".a.0"),
            ("{\"1\":1e400}", ".1"),
            ("{\"a.2\":1e400}", ".a.2"),
            ("[{\"\":1e400}]", "Go struct field .0."),
            ("[1, 1e400]", ".1"),
            ("-1e400", "Go value"),
            ("{\"\":1e400}", "Go value"),
            ("{\"\":{\"\":1e400}}", "Go struct field .."),
        ] {
            let d = decode(text).expect("valid syntax");
            let want = format!(
                "json: cannot unmarshal number {} into {want} of type float64",
                if text.contains('-') { "-1e400" } else { "1e400" }
            );
            assert_eq!(d.error, Some(want), "{text}");
        }
    }
}
